"""Every optimiser against its formula (F14, F17, F18, F19, AdamW, F20's weight
decay), recomputed independently here in plain NumPy float64 arithmetic.

Each test runs several steps with a *different* random gradient each step, on
0-d, 1-element, odd and 3-d parameter shapes, on every backend (``device``).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
import optim
from conftest import host

SHAPES = [(), (1,), (5,), (3, 1), (2, 3, 5)]
STEPS = 4


def _run(opt_factory, shape, device, dtype="float64", seed=0):
    """Run STEPS optimiser steps with random gradients; return (thetas, grads) on the host."""
    rng = np.random.default_rng(seed)
    theta0 = rng.normal(size=shape).astype(dtype)
    grads = [rng.normal(size=shape).astype(dtype) for _ in range(STEPS)]
    p = mg.Parameter(theta0.copy(), device=device)
    opt = opt_factory([p])
    history = []
    for g in grads:
        p.grad = mg.Tensor(g.copy(), device=device)
        opt.step()
        history.append(host(p).copy())
    return theta0, grads, history, p


# -- independent references (float64 NumPy, straight from the formulas) ----------------
def ref_sgd(theta, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0):
    theta, v, out = theta.astype(np.float64).copy(), None, []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        if momentum:
            v = g.copy() if v is None else momentum * v + (1 - dampening) * g
            d = g + momentum * v if nesterov else v
        else:
            d = g
        theta = theta - lr * d
        out.append(theta)
    return out


def ref_rmsprop(theta, grads, lr, beta, eps, weight_decay=0.0):
    theta, v, out = theta.astype(np.float64).copy(), np.zeros_like(theta, dtype=np.float64), []
    for g in grads:
        g = g + weight_decay * theta
        v = beta * v + (1 - beta) * g ** 2
        theta = theta - lr * g / (np.sqrt(v) + eps)
        out.append(theta)
    return out


def ref_adam(theta, grads, lr, b1, b2, eps, weight_decay=0.0, correct=True, decoupled=False):
    theta = theta.astype(np.float64).copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            theta = theta - lr * weight_decay * theta
        else:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
        theta = theta - lr * mh / (np.sqrt(vh) + eps)
        out.append(theta)
    return out


def _assert_trajectory(history, expected, rtol=1e-12, atol=1e-13):
    for step, (got, want) in enumerate(zip(history, expected), start=1):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"step {step}")


# -- SGD --------------------------------------------------------------------------
SGD_VARIANTS = [
    dict(lr=0.1),                                          # F14
    dict(lr=0.05, weight_decay=0.1),                       # F14 + L2 (F20)
    dict(lr=0.1, momentum=0.9),                            # F17
    dict(lr=0.1, momentum=0.9, dampening=0.3),
    dict(lr=0.1, momentum=0.9, nesterov=True),             # Nesterov
    dict(lr=0.02, momentum=0.5, nesterov=True, weight_decay=0.01),
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", SGD_VARIANTS,
                         ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
def test_sgd_matches_formula(device, shape, kw):
    theta0, grads, history, _ = _run(lambda ps: optim.SGD(ps, **kw), shape, device)
    _assert_trajectory(history, ref_sgd(theta0, grads, **kw))


def test_sgd_momentum_by_hand():
    """F17 spelled out on numbers: v1 = g1, v2 = 0.9 v1 + g2, θ -= 0.1 v."""
    p = mg.Parameter(np.array([1.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = mg.Tensor(np.array([1.0]))
    opt.step()
    assert p.item() == pytest.approx(1.0 - 0.1 * 1.0)
    p.grad = mg.Tensor(np.array([2.0]))
    opt.step()                                   # v2 = 0.9 * 1 + 2 = 2.9
    assert p.item() == pytest.approx(0.9 - 0.1 * 2.9)
    assert opt.state[p]["momentum_buffer"].tolist() == pytest.approx([2.9])


# -- RMSprop ----------------------------------------------------------------------
RMS_VARIANTS = [dict(lr=0.01, beta=0.9, eps=1e-8), dict(lr=0.1, beta=0.5, eps=1e-3),
                dict(lr=0.01, beta=0.9, eps=1e-8, weight_decay=0.1)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", RMS_VARIANTS, ids=str)
def test_rmsprop_matches_f18(device, shape, kw):
    theta0, grads, history, _ = _run(lambda ps: optim.RMSprop(ps, **kw), shape, device)
    _assert_trajectory(history, ref_rmsprop(theta0, grads, **kw))


def test_rmsprop_defaults_are_f18():
    p = mg.Parameter(np.zeros(2))
    opt = optim.RMSprop([p])
    g = opt.param_groups[0]
    assert (g["lr"], g["beta"], g["eps"], g["weight_decay"]) == (0.01, 0.9, 1e-8, 0.0)


# -- Adam / AdamW -------------------------------------------------------------------
ADAM_VARIANTS = [
    dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, bias_correction=True),
    dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, bias_correction=False),   # F19 as printed
    dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, bias_correction=True),
    dict(lr=1e-2, betas=(0.5, 0.9), eps=1e-8, weight_decay=0.1, bias_correction=False),
]


def _ref_kw(kw):
    b1, b2 = kw["betas"]
    return dict(lr=kw["lr"], b1=b1, b2=b2, eps=kw["eps"], weight_decay=kw.get("weight_decay", 0.0),
                correct=kw["bias_correction"])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", ADAM_VARIANTS, ids=str)
def test_adam_matches_f19(device, shape, kw):
    theta0, grads, history, _ = _run(lambda ps: optim.Adam(ps, **kw), shape, device)
    _assert_trajectory(history, ref_adam(theta0, grads, **_ref_kw(kw)))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", ADAM_VARIANTS, ids=str)
def test_adamw_matches_decoupled_formula(device, shape, kw):
    kw = dict(kw, weight_decay=kw.get("weight_decay", 0.0) or 0.05)
    theta0, grads, history, _ = _run(lambda ps: optim.AdamW(ps, **kw), shape, device)
    _assert_trajectory(history, ref_adam(theta0, grads, decoupled=True, **_ref_kw(kw)))


def test_adam_defaults():
    p = mg.Parameter(np.zeros(2))
    g = optim.Adam([p]).param_groups[0]
    assert (g["lr"], g["betas"], g["eps"], g["weight_decay"], g["bias_correction"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 0.0, True)
    assert optim.AdamW([mg.Parameter(np.zeros(2))]).param_groups[0]["weight_decay"] == 0.01


def test_adamw_differs_from_adam_with_l2():
    """Decoupled decay is not the same as L2 in the gradient (Adam rescales the latter)."""
    theta0, grads, h_w, _ = _run(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5), (4,), "cpu")
    _, _, h_l2, _ = _run(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5), (4,), "cpu")
    assert not np.allclose(h_w[-1], h_l2[-1])


# -- shared behaviour ---------------------------------------------------------------------
ALL = [
    lambda ps: optim.SGD(ps, lr=0.1),
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    lambda ps: optim.RMSprop(ps, weight_decay=1e-2),
    lambda ps: optim.Adam(ps, weight_decay=1e-2),
    lambda ps: optim.Adam(ps, bias_correction=False),
    lambda ps: optim.AdamW(ps),
]
NAMES = ["sgd", "nesterov", "rmsprop", "adam", "adam-uncorrected", "adamw"]


@pytest.mark.parametrize("factory", ALL, ids=NAMES)
def test_float32_stays_float32_and_updates_in_place(device, factory):
    theta0, grads, history, p = _run(factory, (3, 2), device, dtype="float32")
    data = p.data
    assert p.dtype == np.float32 and p.device == device
    opt = factory([p])
    p.grad = mg.Tensor(np.ones((3, 2), np.float32), device=device)
    opt.step()
    assert p.data is data, "the update must be in place"
    assert p.dtype == np.float32
    for value in opt.state[p].values():
        if hasattr(value, "dtype"):
            assert value.dtype == np.float32
            assert type(value) is type(p.data), "state must live on the parameter's device"


@pytest.mark.parametrize("factory", ALL, ids=NAMES)
def test_version_counter_bumped_and_no_grad_inside_step(device, factory):
    p = mg.Parameter(np.ones(3, np.float32), device=device)
    opt = factory([p])
    y = (p * p).sum()                       # the graph saved p (version 0)
    y.backward(retain_graph=True)
    v0 = p._version
    opt.step()                              # would raise if step recorded a graph
    assert p._version > v0
    with pytest.raises(mg.GraphError):      # autograd notices p changed after it was saved
        y.backward()


def test_zero_grad_and_skip_missing_grads():
    a, b = mg.Parameter(np.ones(2)), mg.Parameter(np.ones(2))
    opt = optim.SGD([a, b], lr=1.0)
    (a * 3.0).sum().backward()
    opt.step()                               # b has no grad: untouched, no state
    assert a.tolist() == [-2.0, -2.0] and b.tolist() == [1.0, 1.0]
    assert b not in opt.state
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


def test_param_groups_have_their_own_settings():
    a, b = mg.Parameter(np.ones(2)), mg.Parameter(np.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad, b.grad = mg.Tensor(np.ones(2)), mg.Tensor(np.ones(2))
    opt.step()
    assert a.tolist() == pytest.approx([0.9, 0.9]) and b.tolist() == pytest.approx([0.5, 0.5])


def test_closure_is_called_and_returned():
    p = mg.Parameter(np.array(2.0))
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p - 1.0) ** 2
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(1.0) and p.item() == pytest.approx(1.8)


@pytest.mark.parametrize("bad", [
    lambda p: optim.SGD(p, lr=-1.0),
    lambda p: optim.SGD(p, lr=0.1, nesterov=True),
    lambda p: optim.SGD(p, lr=0.1, momentum=-0.5),
    lambda p: optim.RMSprop(p, beta=1.0),
    lambda p: optim.Adam(p, betas=(0.9, 1.0)),
    lambda p: optim.Adam(p, weight_decay=-1.0),
    lambda p: optim.Adam([]),
])
def test_invalid_settings_are_refused(bad):
    with pytest.raises(ValueError):
        bad([mg.Parameter(np.ones(2))])


def test_bad_params_are_refused():
    p = mg.Parameter(np.ones(2))
    with pytest.raises(TypeError):
        optim.SGD(p, lr=0.1)                               # a single tensor, not a list
    with pytest.raises(ValueError):
        optim.SGD([p, p], lr=0.1)                          # duplicates
    with pytest.raises(ValueError):
        optim.SGD([mg.Tensor(np.ones(2))], lr=0.1)         # never gets a gradient


def test_step_never_calls_numpy_on_fake_device():
    """The "fake" device refuses implicit NumPy conversion: a step using np.* on the
    parameter's data would raise. (Covered by every device-parametrised test;
    this one names the property.)"""
    p = mg.Parameter(np.ones((2, 2), np.float32), device="fake")
    for opt in (optim.SGD([p], lr=0.1, momentum=0.9), optim.RMSprop([p]), optim.AdamW([p])):
        p.grad = mg.Tensor(np.full((2, 2), 0.5, np.float32), device="fake")
        opt.step()
    assert p.device == "fake" and p.dtype == np.float32


def test_numpy_float64_hyperparameters_do_not_promote_float32():
    """NumPy 2: float32_array * np.float64(x) is float64. Hyper-parameters are turned
    into Python floats first, so the update (and the state) stays float32."""
    p = mg.Parameter(np.ones(3, np.float32))
    f64 = np.float64
    for opt in (optim.SGD([p], lr=f64(0.1), momentum=f64(0.9), weight_decay=f64(0.01)),
                optim.RMSprop([p], lr=f64(0.01), beta=f64(0.9), eps=f64(1e-8)),
                optim.Adam([p], lr=f64(0.01), betas=(f64(0.9), f64(0.999)), weight_decay=f64(0.1))):
        p.grad = mg.Tensor(np.ones(3, np.float32))
        opt.step()
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if hasattr(v, "dtype"))


# -- property-based: random shapes and hyper-parameters ---------------------------------------
_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
_unit = st.floats(0.0, 0.99)


@given(shape=_shapes, lr=st.floats(1e-4, 1.0), mu=_unit, nesterov=st.booleans(),
       wd=st.floats(0.0, 0.5), seed=st.integers(0, 2 ** 16))
def test_sgd_property(shape, lr, mu, nesterov, wd, seed):
    kw = dict(lr=lr, momentum=mu, nesterov=nesterov and mu > 0, weight_decay=wd)
    theta0, grads, history, _ = _run(lambda ps: optim.SGD(ps, **kw), shape, "cpu", seed=seed)
    _assert_trajectory(history, ref_sgd(theta0, grads, **kw), rtol=1e-10, atol=1e-12)


@given(shape=_shapes, lr=st.floats(1e-4, 1.0), b1=_unit, b2=_unit, eps=st.floats(1e-8, 1e-2),
       wd=st.floats(0.0, 0.5), correct=st.booleans(), decoupled=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_adam_property(shape, lr, b1, b2, eps, wd, correct, decoupled, seed):
    cls = optim.AdamW if decoupled else optim.Adam
    kw = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, bias_correction=correct)
    theta0, grads, history, _ = _run(lambda ps: cls(ps, **kw), shape, "cpu", seed=seed)
    ref = ref_adam(theta0, grads, lr, b1, b2, eps, wd, correct, decoupled)
    _assert_trajectory(history, ref, rtol=1e-10, atol=1e-12)


@given(shape=_shapes, lr=st.floats(1e-4, 1.0), beta=_unit, eps=st.floats(1e-8, 1e-2),
       wd=st.floats(0.0, 0.5), seed=st.integers(0, 2 ** 16))
def test_rmsprop_property(shape, lr, beta, eps, wd, seed):
    kw = dict(lr=lr, beta=beta, eps=eps, weight_decay=wd)
    theta0, grads, history, _ = _run(lambda ps: optim.RMSprop(ps, **kw), shape, "cpu", seed=seed)
    _assert_trajectory(history, ref_rmsprop(theta0, grads, **kw), rtol=1e-10, atol=1e-12)
