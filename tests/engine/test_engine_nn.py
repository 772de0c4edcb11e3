"""Neural-network ops: softmax, log_softmax, cross_entropy, mse_loss, the two
binary cross-entropies, dropout, layer_norm and the fused linear op."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from helpers import arrays, check_op, examples, host, shapes


def _softmax_naive(x, axis=-1):
    """The textbook formula, e^x / sum e^x, with no max shift (fine for |x| < 700)."""
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@st.composite
def shape_and_class_axis(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


# ---------------------------------------------------------------------------
# softmax / log_softmax
# ---------------------------------------------------------------------------
@examples(15)
@given(data=st.data(), sa=shape_and_class_axis())
def test_softmax(device, data, sa):
    shape, axis = sa
    x = data.draw(arrays(shape))
    check_op(lambda t: t.softmax(axis=axis), x, device=device,
             ref=lambda a: _softmax_naive(a, axis), rtol=1e-9, gradgrad=True)


@examples(15)
@given(data=st.data(), sa=shape_and_class_axis())
def test_log_softmax(device, data, sa):
    shape, axis = sa
    x = data.draw(arrays(shape))
    check_op(lambda t: mg.log_softmax(t, axis=axis), x, device=device,
             ref=lambda a: np.log(_softmax_naive(a, axis)), rtol=1e-9, atol=1e-12,
             gradgrad=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shift", [1000.0, -1000.0])
def test_softmax_family_is_stable_at_1000(device, dtype, shift):
    """Softmax is shift invariant: softmax(v + 1000) must equal the naive softmax(v)."""
    v = np.array([[0.5, -1.0, 2.0, 0.0], [3.0, 3.0, -2.0, 1.0]])
    tol = 1e-6 if dtype == "float32" else 1e-12
    x = mg.Tensor(v + shift, dtype=dtype, device=device, requires_grad=True)
    p = x.softmax(axis=-1)
    lp = x.log_softmax(axis=-1)
    ce = mg.cross_entropy(x, np.array([2, 0]))
    got = host(p)
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(host(lp)))
    np.testing.assert_allclose(got.sum(-1), 1.0, rtol=tol)
    np.testing.assert_allclose(got, _softmax_naive(v), rtol=tol, atol=tol)
    np.testing.assert_allclose(host(lp), np.log(_softmax_naive(v)), rtol=tol, atol=tol)
    expected_ce = -np.mean(np.log(_softmax_naive(v))[[0, 1], [2, 0]])
    np.testing.assert_allclose(host(ce), expected_ce, rtol=tol)
    (p[:, 0].sum() + lp.sum() + ce).backward()
    assert np.all(np.isfinite(host(x.grad)))


def test_softmax_of_plus_and_minus_1000_in_one_row(device):
    x = mg.Tensor([[1000.0, -1000.0, 0.0]], dtype="float64", device=device, requires_grad=True)
    p = x.softmax()
    np.testing.assert_allclose(host(p), [[1.0, 0.0, 0.0]], atol=1e-300)
    np.testing.assert_allclose(host(x.log_softmax()), [[0.0, -2000.0, -1000.0]], rtol=1e-15)
    mg.cross_entropy(x, [1]).backward()
    np.testing.assert_allclose(host(x.grad), [[1.0, -1.0, 0.0]], atol=1e-300)


# ---------------------------------------------------------------------------
# cross-entropy
# ---------------------------------------------------------------------------
def _ce_ref(logits, target, reduction):
    per = -np.log(np.take_along_axis(_softmax_naive(logits), target[..., None], -1)[..., 0])
    return {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@examples(12)
@given(data=st.data(), lead=shapes(min_dims=0, max_dims=2), classes=st.integers(1, 4))
def test_cross_entropy_integer_targets(device, reduction, data, lead, classes):
    """Logits (..., C): (C,), (B, C) and (B, T, C) all work, classes on the last axis."""
    logits = data.draw(arrays(lead + (classes,)))
    target = data.draw(hnp.arrays(np.int64, lead, elements=st.integers(0, classes - 1)))
    check_op(lambda t: mg.cross_entropy(t, mg.Tensor(target, device=t.device), reduction),
             logits, device=device, ref=lambda a: _ce_ref(a, target, reduction), rtol=1e-9,
             gradgrad=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@examples(12)
@given(data=st.data(), lead=shapes(min_dims=0, max_dims=2), classes=st.integers(1, 4))
def test_cross_entropy_probability_targets(device, reduction, data, lead, classes):
    logits = data.draw(arrays(lead + (classes,)))
    probs = _softmax_naive(data.draw(arrays(lead + (classes,))))

    def fn(t):
        return mg.cross_entropy(t, mg.Tensor(probs, dtype=t.dtype, device=t.device), reduction)

    def ref(a):
        per = -(probs * np.log(_softmax_naive(a))).sum(-1)
        return {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
    check_op(fn, logits, device=device, ref=ref, rtol=1e-9, gradgrad=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_matches_its_composition(device, reduction):
    """The fused CrossEntropy op against log_softmax + picking, built from primitives."""
    rng = np.random.default_rng(3)
    logits, target = rng.standard_normal((2, 3, 5)), rng.integers(0, 5, (2, 3))
    onehot = np.eye(5)[target]
    fused = mg.Tensor(logits, device=device, requires_grad=True)
    composed = mg.Tensor(logits, device=device, requires_grad=True)
    a = mg.cross_entropy(fused, mg.Tensor(target, device=device), reduction)
    per = -(composed.log_softmax(-1) * mg.Tensor(onehot, device=device)).sum(-1)
    b = {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
    np.testing.assert_allclose(host(a), host(b), rtol=1e-12)
    up = rng.standard_normal(a.shape)
    a.backward(mg.Tensor(up, device=device))
    b.backward(mg.Tensor(up, device=device))
    np.testing.assert_allclose(host(fused.grad), host(composed.grad), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------
# regression and binary losses
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@examples(10)
@given(data=st.data(), shape=shapes())
def test_mse_loss(device, reduction, data, shape):
    p, y = data.draw(arrays(shape)), data.draw(arrays(shape))

    def ref(a, b):
        sq = (a - b) ** 2
        return {"none": sq, "sum": sq.sum(), "mean": sq.mean()}[reduction]
    check_op(lambda a, b: mg.mse_loss(a, b, reduction), p, y, device=device, ref=ref,
             gradgrad=True)
    check_op(lambda a: mg.half_sse(a, mg.Tensor(y, dtype=a.dtype, device=a.device)), p,
             device=device, ref=lambda a: 0.5 * ((a - y) ** 2).sum(), float32=False)


def _bce_ref(s, y, reduction):
    per = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    return {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@examples(10)
@given(data=st.data(), shape=shapes())
def test_bce_with_logits(device, reduction, data, shape):
    x, y = data.draw(arrays(shape)), data.draw(arrays(shape, "unit"))
    check_op(lambda a, b: mg.binary_cross_entropy_with_logits(a, b, reduction), x, y,
             device=device, ref=lambda a, b: _bce_ref(_sigmoid(a), b, reduction), rtol=1e-9,
             gradgrad=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_is_stable_at_1000(device, dtype):
    x = mg.Tensor([1000.0, 1000.0, -1000.0, -1000.0, 0.0], dtype=dtype, device=device,
                  requires_grad=True)
    y = mg.Tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype, device=device)
    loss = mg.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(host(loss), [0.0, 1000.0, 0.0, 1000.0, np.log(2.0)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(host(x.grad), [0.0, 1.0, 0.0, -1.0, -0.5], atol=1e-7)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@examples(10)
@given(data=st.data(), shape=shapes())
def test_binary_cross_entropy(device, reduction, data, shape):
    s, y = data.draw(arrays(shape, "unit")), data.draw(arrays(shape, "unit"))
    check_op(lambda a: mg.binary_cross_entropy(a, mg.Tensor(y, dtype=a.dtype, device=a.device),
                                               reduction),
             s, device=device, ref=lambda a: _bce_ref(a, y, reduction), rtol=1e-9, gradgrad=True)


def test_binary_cross_entropy_clips_certain_wrong_answers(device):
    p = mg.Tensor([0.0, 1.0], dtype="float64", device=device, requires_grad=True)
    loss = mg.binary_cross_entropy(p, mg.Tensor([1.0, 0.0], dtype="float64", device=device))
    assert np.isfinite(host(loss)) and host(loss) > 20


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_gradient_is_the_scaled_mask(device, p):
    mg.manual_seed(123)
    x = mg.Tensor(np.full((40, 30), 2.0), device=device, requires_grad=True)
    y = mg.dropout(x, p)
    kept = host(y) != 0
    scale = 1.0 / (1.0 - p)
    np.testing.assert_allclose(host(y), np.where(kept, 2.0 * scale, 0.0), rtol=1e-15)
    assert 0 < kept.sum() < kept.size
    up = np.random.default_rng(0).standard_normal(y.shape)
    y.backward(mg.Tensor(up, device=device))
    np.testing.assert_allclose(host(x.grad), up * kept * scale, rtol=1e-15)
    mg.manual_seed(123)  # the same seed gives the same mask
    again = host(mg.dropout(mg.Tensor(np.full((40, 30), 2.0), device=device), p)) != 0
    np.testing.assert_array_equal(again, kept)


def test_dropout_gradcheck_with_a_fixed_mask(device):
    def fn(t):
        mg.manual_seed(7)  # reseed on every call: the numerical gradient sees one mask
        return mg.dropout(t, 0.4)
    x = np.random.default_rng(1).standard_normal((3, 4))
    check_op(fn, x, device=device, float32=False)


def test_dropout_eval_mode_and_p0_are_the_identity(device):
    x = mg.Tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    assert mg.dropout(x, 0.5, training=False) is x
    assert mg.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="dropout"):
        mg.dropout(x, 1.0)


def test_dropout_preserves_the_expectation(device):
    """E[dropout(x)] = x: over 200,000 elements the mean of dropout(1) is 1 within
    6 standard errors (sd of one element is sqrt(p / (1 - p)))."""
    mg.manual_seed(2024)
    p, n = 0.3, 200_000
    y = host(mg.dropout(mg.ones(n, dtype="float64", device=device), p))
    stderr = np.sqrt(p / (1 - p) / n)
    assert abs(y.mean() - 1.0) < 6 * stderr
    assert abs((y == 0).mean() - p) < 6 * np.sqrt(p * (1 - p) / n)


# ---------------------------------------------------------------------------
# layer norm and the fused linear op
# ---------------------------------------------------------------------------
def _layer_norm_ref(x, w=None, b=None, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    out = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        out = out * w
    if b is not None:
        out = out + b
    return out


@examples(12)
@given(data=st.data(), lead=shapes(max_dims=2), dim=st.integers(2, 4))
def test_layer_norm(device, data, lead, dim):
    x = data.draw(arrays(lead + (dim,)))
    w, b = data.draw(arrays((dim,))), data.draw(arrays((dim,)))
    check_op(lambda t, wt, bt: mg.layer_norm(t, wt, bt), x, w, b, device=device,
             ref=_layer_norm_ref, rtol=1e-9, atol=1e-12, gradgrad=True)
    check_op(lambda t: mg.layer_norm(t, eps=1e-3), x, device=device,
             ref=lambda a: _layer_norm_ref(a, eps=1e-3), rtol=1e-9, atol=1e-12, float32=False)


@examples(12)
@given(data=st.data(), lead=shapes(max_dims=2), n_in=st.integers(1, 3),
       n_out=st.integers(1, 3), with_bias=st.booleans())
def test_linear(device, data, lead, n_in, n_out, with_bias):
    x, w = data.draw(arrays(lead + (n_in,))), data.draw(arrays((n_out, n_in)))
    if with_bias:
        b = data.draw(arrays((n_out,)))
        check_op(mg.linear, x, w, b, device=device, ref=lambda a, m, c: a @ m.T + c,
                 rtol=1e-9, atol=1e-12, gradgrad=True)
    else:
        check_op(mg.linear, x, w, device=device, ref=lambda a, m: a @ m.T, rtol=1e-9,
                 atol=1e-12, gradgrad=True)


def test_cross_entropy_of_one_row_with_a_python_int_target(device):
    v = np.array([0.5, -1.0, 2.0])
    x = mg.Tensor(v, dtype="float64", device=device, requires_grad=True)
    loss = mg.cross_entropy(x, 2)
    np.testing.assert_allclose(loss.item(), -np.log(_softmax_naive(v)[2]), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(host(x.grad), _softmax_naive(v) - np.eye(3)[2], rtol=1e-12)
