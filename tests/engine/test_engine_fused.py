"""Fused ops (``minigrad/ops/fused.py``, the fused ``linear``, GELU's in-place
backward) and the engine's in-place gradient accumulation.

Every fused op is checked three ways, on "cpu" and on the CuPy-like "fake":

* :func:`check_op`: forward against an independent NumPy formula, float64
  gradcheck (full Jacobian), gradgradcheck (the fused backward falls back to
  differentiating the composed version when ``create_graph=True``), the
  float32 path, and the invariants (no mutation, no aliasing, graph freed);
* against the *same computation composed from primitive ops* (the
  ``*_reference`` functions, which autograd differentiates on its own):
  forward values and gradients equal to ~1e-12 in float64;
* second derivatives (Hessian-vector products) equal to the composed ones.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import arrays, check_op, examples, host, shapes
from minigrad.ops import fused

RTOL, ATOL = 1e-12, 1e-12


@pytest.fixture(autouse=True)
def _fused_mode():
    """These tests are about the fused ops: run them fused even under MINIGRAD_FUSED=0."""
    with mg.use_fused(True):
        yield


def _leaves(arrays_, device, grad=True):
    return [mg.Tensor(a, dtype="float64", device=device, requires_grad=grad) for a in arrays_]


def _assert_same_as_composed(fused_fn, composed_fn, arrays_, device, rtol=RTOL, atol=ATOL,
                             second_order=True):
    """Forward values, gradients and (optionally) one Hessian-vector product of the
    fused op equal those of the composed version, on the same float64 inputs."""
    results = []
    for fn in (fused_fn, composed_fn):
        xs = _leaves(arrays_, device)
        out = fn(*xs)
        up = mg.Tensor(np.random.default_rng(42).standard_normal(out.shape), dtype="float64",
                       device=device)               # the same upstream gradient for both
        grads = mg.grad(out, xs, up, create_graph=second_order, allow_unused=True)
        entry = [host(out)] + [host(g) for g in grads]
        if second_order:
            v = [mg.Tensor(np.random.default_rng(7 + i).standard_normal(x.shape),
                           dtype="float64", device=device) for i, x in enumerate(xs)]
            dot = sum(((g * vi).sum() for g, vi in zip(grads, v)), mg.Tensor(0.0, dtype="float64",
                                                                               device=device))
            hvp = mg.grad(dot, xs, allow_unused=True)
            entry += [host(h) for h in hvp]
        results.append(entry)
    for k, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                   err_msg=f"fused vs composed, item {k}")


# ---------------------------------------------------------------------------
# layer_norm
# ---------------------------------------------------------------------------
def _layer_norm_np(x, w=None, b=None, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    out = (x - mu) / np.sqrt(var + eps)
    return out * (1.0 if w is None else w) + (0.0 if b is None else b)


@examples(10)
@given(data=st.data(), lead=shapes(max_dims=2), dim=st.integers(1, 5))
def test_layer_norm_fused_checks(device, data, lead, dim):
    x = data.draw(arrays(lead + (dim,)))
    w, b = data.draw(arrays((dim,))), data.draw(arrays((dim,)))
    check_op(lambda t, wt, bt: fused.layer_norm(t, wt, bt), x, w, b, device=device,
             ref=_layer_norm_np, rtol=1e-9, atol=1e-12, gradgrad=True)
    check_op(lambda t, wt: fused.layer_norm(t, wt), x, w, device=device,
             ref=lambda a, m: _layer_norm_np(a, m), rtol=1e-9, atol=1e-12, gradgrad=True)
    check_op(lambda t: fused.layer_norm(t, eps=1e-3), x, device=device,
             ref=lambda a: _layer_norm_np(a, eps=1e-3), rtol=1e-9, atol=1e-12, gradgrad=True)


@pytest.mark.parametrize("affine", ["weight+bias", "weight", "none"])
def test_layer_norm_fused_equals_composed(device, affine):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 4, 6)), rng.standard_normal(6), rng.standard_normal(6)
    arrays_ = {"weight+bias": [x, w, b], "weight": [x, w], "none": [x]}[affine]
    _assert_same_as_composed(lambda *ts: fused.layer_norm(*ts, eps=1e-4),
                             lambda *ts: fused.layer_norm_reference(*ts, eps=1e-4),
                             arrays_, device)


def test_layer_norm_is_one_node_and_falls_back_when_it_must(device):
    x = mg.Tensor(np.ones((2, 3)), dtype="float64", device=device, requires_grad=True)
    w = mg.Tensor(np.ones(3), dtype="float64", device=device, requires_grad=True)
    assert isinstance(fused.layer_norm(x, w, w).grad_fn, fused.LayerNorm)
    # a broadcasting (1,) weight, or a bias without a weight: the composed version
    assert not isinstance(fused.layer_norm(x, w[:1]).grad_fn, fused.LayerNorm)
    assert not isinstance(fused.layer_norm(x, None, w).grad_fn, fused.LayerNorm)
    with pytest.raises(mg.DTypeError):  # mixed dtypes fail as the primitive ops do
        fused.layer_norm(x, w.float())


def test_layer_norm_float32_gradient_of_a_nearly_constant_row(device):
    """Variance barely above eps: the float32 gradient stays close to float64
    (the backward re-centres dx, see LayerNorm.backward)."""
    x = np.array([[0.57176424, 0.55451255], [0.11060107, 1.53485983]])
    w, g = np.array([0.12573022, -0.13210486]), np.array([[0.3, -1.2], [0.7, 0.1]])
    grads = []
    for dtype in ("float64", "float32"):
        xt = mg.Tensor(x, dtype=dtype, device=device, requires_grad=True)
        out = fused.layer_norm(xt, mg.Tensor(w, dtype=dtype, device=device))
        out.backward(mg.Tensor(g, dtype=dtype, device=device))
        grads.append(host(xt.grad).astype(np.float64))
        assert xt.grad.dtype == np.dtype(dtype)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-5 * np.abs(grads[0]).max())
    np.testing.assert_allclose(grads[1].sum(axis=-1), 0.0, atol=1e-6)


# ---------------------------------------------------------------------------
# masked_softmax
# ---------------------------------------------------------------------------
def _masked_softmax_np(a, blocked):
    s = np.where(blocked, -np.inf, a)
    m = np.max(np.where(blocked, -np.inf, a), axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.where(blocked, 0.0, np.exp(s - m))
    total = e.sum(axis=-1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def _causal(t):
    return np.arange(t)[None, :] > np.arange(t)[:, None]


@examples(10)
@given(data=st.data(), lead=shapes(max_dims=2), t=st.integers(1, 4), kind=st.sampled_from(
    ["causal", "random", "full-shape random", "one row all blocked"]))
def test_masked_softmax_fused_checks(device, data, lead, t, kind):
    x = data.draw(arrays(lead + (t, t)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    if kind == "causal":
        blocked = _causal(t)
    elif kind == "random":
        blocked = rng.random((t, t)) < 0.4
    elif kind == "full-shape random":
        blocked = rng.random(x.shape) < 0.4
    else:
        blocked = _causal(t)
        blocked[0] = True                       # nothing to attend to: a row of zeros
    mask = mg.Tensor(blocked, device=device)
    check_op(lambda a: fused.masked_softmax(a, mask), x, device=device,
             ref=lambda a: _masked_softmax_np(a, blocked), rtol=1e-9, atol=1e-12,
             gradgrad=True)


@pytest.mark.parametrize("kind", ["causal", "random with an all-blocked row"])
def test_masked_softmax_fused_equals_composed(device, kind):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 5))
    blocked = _causal(5) if kind == "causal" else rng.random((2, 1, 5, 5)) < 0.5
    if kind != "causal":
        blocked[1, 0, 2] = True
    mask = mg.Tensor(blocked, device=device)
    _assert_same_as_composed(lambda a: fused.masked_softmax(a, mask),
                             lambda a: fused.masked_softmax_reference(a, mask.data), [x], device)


def test_masked_softmax_refuses_a_mask_that_is_not_boolean_or_does_not_fit(device):
    a = mg.Tensor(np.zeros((2, 3, 3)), device=device)
    with pytest.raises(mg.DTypeError, match="boolean"):
        fused.masked_softmax(a, mg.Tensor(np.ones((3, 3)), device=device))
    with pytest.raises(mg.ShapeError, match="does not broadcast"):
        fused.masked_softmax(a, mg.Tensor(np.ones((4, 3), dtype=bool), device=device))


def test_attention_uses_the_fused_masked_softmax(device):
    import layers
    rng = np.random.default_rng(3)
    q, k, v = _leaves([rng.standard_normal((2, 2, 4, 3)) for _ in range(3)], device)
    out, weights = layers.scaled_dot_product_attention(q, k, v, causal=True)
    assert isinstance(weights.grad_fn, fused.MaskedSoftmax)
    assert np.all(host(weights)[..., _causal(4)] == 0.0)
    np.testing.assert_allclose(host(weights).sum(axis=-1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------------------
# lstm
# ---------------------------------------------------------------------------
def _lstm_np(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """The LSTM formulas in plain NumPy (gate rows i, f, g, o)."""
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    h, c, hs, cs = h0, c0, [], []
    H = h0.shape[-1]
    for t in range(x.shape[0]):
        z = x[t] @ w_ih.T + h @ w_hh.T + (0.0 if b_ih is None else b_ih + b_hh)
        i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack([np.stack(hs), np.stack(cs)])


def _lstm_arrays(rng, T=3, B=2, n_in=3, H=2, bias=True):
    arrays_ = [rng.standard_normal((T, B, n_in)), rng.standard_normal((B, H)) * 0.5,
               rng.standard_normal((B, H)) * 0.5, rng.standard_normal((4 * H, n_in)) * 0.6,
               rng.standard_normal((4 * H, H)) * 0.6]
    if bias:
        arrays_ += [rng.standard_normal(4 * H) * 0.3, rng.standard_normal(4 * H) * 0.3]
    return arrays_


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_fused_checks(device, bias):
    arrays_ = _lstm_arrays(np.random.default_rng(4), bias=bias)
    check_op(fused.lstm, *arrays_, device=device, ref=_lstm_np, rtol=1e-9, atol=1e-12,
             gradgrad=True)


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_fused_equals_composed(device, bias):
    arrays_ = _lstm_arrays(np.random.default_rng(5), T=4, B=3, n_in=2, H=3, bias=bias)
    _assert_same_as_composed(fused.lstm, fused.lstm_reference, arrays_, device)


def test_lstm_only_some_inputs_need_gradients(device):
    rng = np.random.default_rng(6)
    arrays_ = _lstm_arrays(rng)
    grads = {}
    for fn in (fused.lstm, fused.lstm_reference):
        xs = [mg.Tensor(a, dtype="float64", device=device, requires_grad=k in (3, 6))
              for k, a in enumerate(arrays_)]
        out = fn(*xs)
        out[0, -1].sum().backward()            # only the last hidden state is used
        grads[fn] = [xs[3].grad, xs[6].grad]
        assert all(x.grad is None for k, x in enumerate(xs) if k not in (3, 6))
    for a, b in zip(grads[fused.lstm], grads[fused.lstm_reference]):
        np.testing.assert_allclose(host(a), host(b), rtol=RTOL, atol=ATOL)


def test_lstm_layers_use_the_fused_op_and_match_the_composed_cell(device):
    import layers
    rng = np.random.default_rng(7)
    lstm = layers.LSTM(3, 4, num_layers=2, device=device).double()
    x = mg.Tensor(rng.standard_normal((2, 5, 3)), dtype="float64", device=device)
    out, (h_n, c_n) = lstm(x)
    seq, finals = x.transpose(0, 1), []
    for k in range(2):                                        # composed, layer by layer
        w_ih, w_hh, b_ih, b_hh = lstm.layer_parameters(k)
        zero = mg.zeros(2, 4, dtype="float64", device=device)
        ref = fused.lstm_reference(seq, zero, zero, w_ih, w_hh, b_ih, b_hh)
        finals.append((host(ref[0, -1]), host(ref[1, -1])))
        seq = ref[0]
    np.testing.assert_allclose(host(out), host(seq.transpose(0, 1)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(host(h_n), np.stack([f[0] for f in finals]), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(host(c_n), np.stack([f[1] for f in finals]), rtol=RTOL, atol=ATOL)
    cell = layers.LSTMCell(3, 4, device=device).double()
    h, c = cell(x[:, 0])                                      # a sequence of length 1
    assert any(isinstance(t.grad_fn, fused.LSTM) for t in mg.autograd.iter_graph(h))


# ---------------------------------------------------------------------------
# linear (x W^T + b as one node) and GELU's in-place backward
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_fused_equals_composed(device, shape, bias):
    rng = np.random.default_rng(8)
    arrays_ = [rng.standard_normal(shape), rng.standard_normal((5, 4))]
    if bias:
        arrays_.append(rng.standard_normal(5))
    composed = (lambda x, w, b: x @ w.mT + b) if bias else (lambda x, w: x @ w.mT)
    _assert_same_as_composed(mg.linear, composed, arrays_, device)


def test_linear_on_a_non_contiguous_batch(device):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 3, 2)).transpose(1, 0, 2)     # (3, 4, 2), not contiguous
    check_op(mg.linear, x, rng.standard_normal((5, 2)), rng.standard_normal(5), device=device,
             ref=lambda a, m, c: a @ m.T + c, rtol=1e-9, atol=1e-12, gradgrad=True)


def test_gelu_in_place_backward_equals_the_differentiable_formula(device):
    x = np.linspace(-4.0, 4.0, 41).reshape(41)
    g = np.random.default_rng(10).standard_normal(41)
    xt = mg.Tensor(x, dtype="float64", device=device, requires_grad=True)
    up = mg.Tensor(g, dtype="float64", device=device)
    (fast,) = mg.grad(mg.gelu(xt), xt, up)                     # raw arrays, in place
    (graph,) = mg.grad(mg.gelu(xt), xt, up, create_graph=True)  # minigrad ops
    np.testing.assert_allclose(host(fast), host(graph), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------
# in-place gradient accumulation in the backward loop
# ---------------------------------------------------------------------------
def test_many_contributions_accumulate_in_place_without_touching_anyone_elses_array(device):
    x = mg.Tensor(np.array([1.0, 2.0]), dtype="float64", device=device, requires_grad=True)
    seen = []
    h = x * 1.0
    h.register_hook(lambda g: seen.append((g, host(g))))       # keep the array itself
    total = h
    for k in range(2, 6):                                       # x and h fan out
        total = total + x * float(k) + h
    up = mg.Tensor(np.array([1.0, -1.0]), dtype="float64", device=device)
    up_before = host(up)
    total.backward(up, retain_graph=True)
    np.testing.assert_allclose(host(x.grad), (1.0 + 2 + 3 + 4 + 5 + 4) * up_before)
    g_seen, value_then = seen[0]
    np.testing.assert_allclose(host(g_seen), value_then)        # not modified afterwards
    np.testing.assert_allclose(host(g_seen), 5.0 * up_before)
    np.testing.assert_array_equal(host(up), up_before)         # the seed is untouched
    first = host(x.grad)
    total.backward(up)                                          # .grad adds up
    np.testing.assert_allclose(host(x.grad), 2 * first)


def test_accumulation_stays_differentiable_with_create_graph(device):
    x = mg.Tensor(np.array([0.5, -1.5]), dtype="float64", device=device, requires_grad=True)
    y = x * x + x * x + x * x * x                              # x used five times
    (dx,) = mg.grad(y.sum(), x, create_graph=True)              # 4x + 3x^2
    np.testing.assert_allclose(host(dx), 4 * host(x) + 3 * host(x) ** 2, rtol=1e-12)
    (d2x,) = mg.grad(dx.sum(), x)                               # 4 + 6x
    np.testing.assert_allclose(host(d2x), 4 + 6 * host(x), rtol=1e-12)
