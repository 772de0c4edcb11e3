"""Global modes are per thread (issue 11): grad mode, the default device, the
active backward trace, anomaly mode and use_fused.

Two threads step through a fixed interleaving (each step waits for the
previous one with events), so the orders "A enters, B enters, A leaves, B
leaves" and the nested "A enters, B enters, B leaves, A leaves" really happen
in that order; afterwards each thread and the main thread must see their own
setting.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np
import pytest

import minigrad as mg
from minigrad import backends

ORDERS = {
    "interleaved": ["A enter", "B enter", "A leave", "B leave"],
    "nested": ["A enter", "B enter", "B leave", "A leave"],
}


def _run_in_order(order: list[str], make_ctx: Callable[[], object],
                  probe: Callable[[], object]) -> dict[str, list[object]]:
    """Two threads A and B enter/leave ``make_ctx()`` in ``order``; after each step
    every thread records ``probe()``. Returns what each thread saw, step by step."""
    steps = [threading.Event() for _ in order]
    seen: dict[str, list[object]] = {"A": [], "B": []}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            ctx = None
            for k, action in enumerate(order):
                if k:
                    steps[k - 1].wait(5)
                who, what = action.split()
                if who == name:
                    if what == "enter":
                        ctx = make_ctx()
                        ctx.__enter__()
                    else:
                        ctx.__exit__(None, None, None)
                    seen[name].append((action, probe()))
                    steps[k].set()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)
            for e in steps:
                e.set()

    threads = [threading.Thread(target=worker, args=(n,)) for n in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors, errors
    return seen


@pytest.mark.parametrize("order", list(ORDERS))
def test_no_grad_is_per_thread_in_both_orders(order):
    seen = _run_in_order(ORDERS[order], mg.no_grad, mg.is_grad_enabled)
    for name in "AB":
        (enter, on_inside), (leave, on_after) = seen[name]
        assert on_inside is False, f"{name} inside no_grad sees grad mode on"
        assert on_after is True, f"{name} after leaving no_grad sees grad mode off ({order})"
    assert mg.is_grad_enabled()


@pytest.mark.parametrize("order", list(ORDERS))
def test_using_device_is_per_thread_in_both_orders(order):
    seen = _run_in_order(ORDERS[order], lambda: mg.using_device("fake"), backends.default_device)
    for name in "AB":
        assert [dev for _, dev in seen[name]] == ["fake", "cpu"], (name, order)
    assert backends.default_device() == "cpu"


@pytest.mark.parametrize("order", list(ORDERS))
def test_anomaly_mode_is_per_thread_in_both_orders(order):
    seen = _run_in_order(ORDERS[order], mg.detect_anomaly, mg.is_anomaly_enabled)
    for name in "AB":
        assert [on for _, on in seen[name]] == [True, False], (name, order)
    assert not mg.is_anomaly_enabled()


@pytest.mark.parametrize("order", list(ORDERS))
def test_use_fused_is_per_thread_in_both_orders(order):
    default = mg.modes._env_fused()          # what a new thread starts with
    seen = _run_in_order(ORDERS[order], lambda: mg.use_fused(not default), mg.fused_enabled)
    for name in "AB":
        assert [on for _, on in seen[name]] == [not default, default], (name, order)
    assert mg.fused_enabled() == default


def test_a_mode_set_in_one_thread_is_not_seen_by_another():
    """The mode is only ever changed in the worker; the main thread must not see it."""
    inside, release = threading.Event(), threading.Event()

    def worker():
        with mg.no_grad(), mg.using_device("fake"), mg.detect_anomaly(), \
                mg.use_fused(not mg.modes._env_fused()):
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(5)
    try:
        assert mg.is_grad_enabled() and backends.default_device() == "cpu"
        assert not mg.is_anomaly_enabled() and mg.fused_enabled() == mg.modes._env_fused()
        x = mg.Tensor([1.0, 2.0], requires_grad=True)
        assert (x * x).requires_grad, "the worker's no_grad switched recording off here"
    finally:
        release.set()
        t.join(5)


def test_set_grad_enabled_as_a_call_only_changes_this_thread():
    result = {}

    def worker():
        mg.set_grad_enabled(False)          # a plain call: stays off in this thread
        result["worker"] = mg.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    t.join(5)
    assert result["worker"] is False
    assert mg.is_grad_enabled()


def test_trace_is_per_thread():
    """A trace opened in one thread records only that thread's backward steps."""
    ready, done = threading.Event(), threading.Event()

    def other():
        ready.wait(5)
        x = mg.Tensor([1.0, 2.0], requires_grad=True)
        (x.exp() * 3.0).sum().backward()   # three ops, none of them traced here
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with mg.trace_backward(echo=False) as tr:
        ready.set()
        assert done.wait(5)
        y = mg.Tensor([3.0], requires_grad=True)
        (y * y).sum().backward()
    t.join(5)
    assert [s.op for s in tr.steps] == ["Sum", "Mul"]


def test_trainer_beside_a_no_grad_evaluator():
    """The failure of issue 11: a no_grad evaluator in one thread made a trainer
    in another lose its graph (GraphError in 973 of 1,000 steps). Both loop
    together here; the trainer must record every step and converge."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    w = mg.Tensor(np.zeros(3), requires_grad=True)
    stop = threading.Event()
    evaluated = [0]
    failures: list[str] = []

    def evaluator():
        Xe = mg.Tensor(X)
        while not stop.is_set():
            with mg.no_grad():
                loss = ((Xe @ w - mg.Tensor(y)) ** 2).mean()
                if loss.requires_grad:
                    failures.append("evaluator recorded a graph under no_grad")
            evaluated[0] += 1

    t = threading.Thread(target=evaluator)
    t.start()
    try:
        Xt, yt = mg.Tensor(X), mg.Tensor(y)
        for step in range(300):
            loss = ((Xt @ w - yt) ** 2).mean()
            assert loss.requires_grad, f"step {step}: the trainer's graph was not recorded"
            loss.backward()
            with mg.no_grad():
                w.sub_(w.grad * 0.1)
            w.grad = None
    finally:
        stop.set()
        t.join(5)
    assert not failures, failures[:1]
    assert evaluated[0] > 0
    np.testing.assert_allclose(w.numpy(), [1.0, -2.0, 0.5], atol=1e-6)


def test_new_threads_start_from_the_defaults():
    seen = {}

    def worker():
        seen["state"] = (mg.is_grad_enabled(), backends.default_device(),
                         mg.is_anomaly_enabled(), mg.fused_enabled())

    with mg.no_grad(), mg.using_device("fake"), mg.detect_anomaly():
        t = threading.Thread(target=worker)
        t.start()
        t.join(5)
    assert seen["state"] == (True, "cpu", False, mg.modes._env_fused())


def test_no_grad_decorator_and_shared_instance():
    ctx = mg.no_grad()

    @mg.no_grad()
    def f():
        return mg.is_grad_enabled()

    assert f() is False and mg.is_grad_enabled()
    with ctx:
        with ctx:                           # the same instance entered twice
            assert not mg.is_grad_enabled()
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_switches_only_inside():
    @mg.set_grad_enabled(False)
    def f():
        return mg.is_grad_enabled()

    assert mg.is_grad_enabled()
    assert f() is False and mg.is_grad_enabled()
