"""The composed mode (issue 12): under ``minigrad.use_fused(False)`` every layer
runs the composed twins of its fused ops -- and gives the same outputs,
gradients and second derivatives (float64, 1e-10) as the fused default, while
its graph (and the graph of its gradients) holds no fused node at all.

For each layer: one module (float64, on the device), one input; in each mode
the output, the gradients of a fixed random projection of it with respect to
every parameter (and the input, when it is float), and one Hessian-vector
product through those gradients (create_graph=True).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import minigrad as mg
import layers
from minigrad.autograd import iter_graph
from layers_util import host

TOL = dict(rtol=1e-10, atol=1e-10)


def _ids(rng, shape, vocab):
    return rng.integers(0, vocab, size=shape)


def _cases() -> dict[str, tuple[Callable[..., Any], Callable[..., Any], bool]]:
    """name -> (make_module(device), make_input(rng, device), has_fused_node)."""
    f64 = dict(dtype="float64")

    def floats(*shape):
        return lambda rng, device: mg.Tensor(rng.standard_normal(shape), dtype="float64",
                                             device=device, requires_grad=True)

    def ids(*shape, vocab=7):
        return lambda rng, device: mg.Tensor(_ids(rng, shape, vocab), device=device)

    return {
        "Linear": (lambda d: layers.Linear(4, 3, device=d, **f64), floats(2, 5, 4), True),
        "MLP": (lambda d: layers.MLP([4, 6, 3], activation="gelu", device=d, **f64),
                floats(5, 4), True),
        "LayerNorm": (lambda d: layers.LayerNorm(6, device=d, **f64), floats(3, 6), True),
        "LSTMCell": (lambda d: layers.LSTMCell(3, 4, device=d, **f64), floats(2, 3), True),
        "LSTM": (lambda d: layers.LSTM(3, 4, num_layers=2, device=d, **f64), floats(2, 5, 3), True),
        "RNN": (lambda d: layers.RNN(3, 4, device=d, **f64), floats(2, 5, 3), False),
        "MultiHeadAttention": (lambda d: layers.MultiHeadAttention(8, 2, device=d, **f64),
                               floats(2, 5, 8), True),
        "TransformerBlock": (lambda d: layers.TransformerBlock(8, 2, 16, device=d, **f64),
                             floats(2, 5, 8), True),
        "GPT": (lambda d: layers.GPT(7, 8, 2, 2, max_len=6, device=d, **f64), ids(2, 5), True),
        "CharLSTM": (lambda d: layers.CharLSTM(7, 4, 5, device=d, **f64), ids(2, 5), True),
        "TransformerClassifier": (
            lambda d: layers.TransformerClassifier(7, 8, 2, 16, 1, 3, max_len=6, dropout=0.0,
                                                   device=d, **f64), ids(2, 5), True),
    }


CASES = _cases()


def _output(module, name, x):
    if name == "MultiHeadAttention":
        return module(x, causal=True)
    if name == "TransformerBlock":
        return module(x, causal=True)
    out = module(x)
    if isinstance(out, tuple):                      # recurrent layers: (output, state)
        out = out[0]
    return out


def _fused_nodes(roots) -> set[str]:
    names = set()
    for r in roots:
        for t in iter_graph(r):
            if t.grad_fn is not None and t.grad_fn.fused:
                names.add(t.grad_fn.name)
    return names


def _run(name, device, fused: bool):
    make_module, make_input, _ = CASES[name]
    mg.manual_seed(0)
    rng = np.random.default_rng(3)
    module = make_module(device)
    x = make_input(rng, device)
    with mg.use_fused(fused):
        out = _output(module, name, x)
        up = mg.Tensor(np.random.default_rng(4).standard_normal(out.shape), dtype="float64",
                       device=device)
        wrt = [p for _, p in module.named_parameters()]
        if x.requires_grad:
            wrt.append(x)
        loss = (out * up).sum()
        if name == "GPT":                           # the fused cross-entropy as well
            target = mg.Tensor(_ids(rng, out.shape[:-1], out.shape[-1]), device=device)
            loss = loss + mg.cross_entropy(out, target)
        grads = mg.grad(loss, wrt, create_graph=True, allow_unused=True)
        v = [mg.Tensor(np.random.default_rng(10 + i).standard_normal(w.shape), dtype="float64",
                       device=device) for i, w in enumerate(wrt)]
        dot = sum(((g * vi).sum() for g, vi in zip(grads, v)),
                  mg.Tensor(0.0, dtype="float64", device=device))
        hvp = mg.grad(dot, wrt, allow_unused=True)
        nodes = _fused_nodes([loss, *grads])
    return [host(out)] + [host(g) for g in grads] + [host(h) for h in hvp], nodes


@pytest.mark.parametrize("name", list(CASES))
def test_layer_is_the_same_fused_and_composed(device, name):
    fused_values, fused_nodes = _run(name, device, True)
    composed_values, composed_nodes = _run(name, device, False)
    assert composed_nodes == set(), f"{name} composed still has fused nodes {composed_nodes}"
    if CASES[name][2]:
        assert fused_nodes, f"{name}: expected fused nodes by default (else this test is empty)"
    assert len(fused_values) == len(composed_values)
    for k, (a, b) in enumerate(zip(fused_values, composed_values)):
        np.testing.assert_allclose(a, b, err_msg=f"{name}: fused vs composed, item {k}", **TOL)


def test_composed_lstm_has_one_block_per_time_step():
    """Composed, an LSTM over T steps shows T sigmoid/tanh blocks (no single LSTM node)."""
    lstm = layers.LSTM(2, 3, dtype="float64")
    x = mg.Tensor(np.random.default_rng(0).standard_normal((1, 4, 2)), dtype="float64")
    with mg.use_fused(False):
        out, _ = lstm(x)
    ops = [t.grad_fn.name for t in iter_graph(out) if t.grad_fn is not None]
    assert "LSTM" not in ops
    assert ops.count("Sigmoid") == 3 * 4 and ops.count("Tanh") == 2 * 4


@pytest.mark.parametrize("fn, args", [
    ("linear", lambda rng: (rng.standard_normal((2, 3)), rng.standard_normal((4, 3)),
                            rng.standard_normal(4))),
    ("layer_norm", lambda rng: (rng.standard_normal((2, 5)), rng.standard_normal(5),
                                rng.standard_normal(5))),
    ("gelu", lambda rng: (rng.standard_normal((3, 4)),)),
])
def test_public_functions_switch_with_the_mode(fn, args):
    arrays = args(np.random.default_rng(0))
    ts = [mg.Tensor(a, requires_grad=True) for a in arrays]
    with mg.use_fused(True):
        assert getattr(mg, fn)(*ts).grad_fn.fused
    with mg.use_fused(False):
        assert not getattr(mg, fn)(*ts).grad_fn.fused


def test_masked_softmax_lstm_and_cross_entropy_switch_with_the_mode():
    rng = np.random.default_rng(0)
    a = mg.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    blocked = np.triu(np.ones((3, 3), bool), 1)
    x = mg.Tensor(rng.standard_normal((2, 1, 2)), requires_grad=True)
    h = mg.Tensor(np.zeros((1, 3)))
    w_ih = mg.Tensor(rng.standard_normal((12, 2)), requires_grad=True)
    w_hh = mg.Tensor(rng.standard_normal((12, 3)), requires_grad=True)
    for mode in (True, False):
        with mg.use_fused(mode):
            outs = [mg.masked_softmax(a, blocked), mg.lstm(x, h, h, w_ih, w_hh),
                    mg.cross_entropy(a, np.array([0, 2, 1]))]
        assert [o.grad_fn.fused for o in outs] == [mode] * 3


def test_fused_lstm_backward_allocates_no_uninitialised_buffer():
    """Issue 12: ``p dz`` in the LSTM's backward never shows leftover memory."""
    import inspect
    from minigrad.ops import fused
    source = inspect.getsource(fused.LSTM)
    assert "xp.empty" not in source and "empty_like" not in source


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_fused_backward_equals_composed(device, reduction):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((2, 3, 5))
    target = rng.integers(0, 5, size=(2, 3))
    upstream = rng.standard_normal((2, 3)) if reduction == "none" else np.array(1.3)
    results = []
    for fused in (True, False):
        x = mg.Tensor(logits, dtype="float64", device=device, requires_grad=True)
        with mg.use_fused(fused):
            out = mg.cross_entropy(x, mg.Tensor(target, device=device), reduction=reduction)
            assert out.grad_fn.fused is fused
            up = mg.Tensor(upstream, dtype="float64", device=device)
            (g,) = mg.grad(out, x, up, create_graph=True)
            (hvp,) = mg.grad((g * g).sum(), x)
        results.append([host(out), host(g), host(hvp)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, **TOL)
