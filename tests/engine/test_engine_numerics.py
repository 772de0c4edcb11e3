"""Numerics at the edges of the range (issue 11): sigmoid's tails, logsumexp
with infinities, BCE near 0 and 1, d(a^b)/db at a = 0, reductions over zero
elements, max with NaN, layer_norm of huge rows.

References are independent of the code under test: exact decimal arithmetic
(``decimal`` with 60 digits) for sigmoid, float64 NumPy formulas for the
rest, and the limits the math gives for the infinite cases. Every test runs
with NumPy warnings turned into errors (minigrad computes these cases without
warning, so ``error::RuntimeWarning:minigrad.*`` in setup.cfg never fires).
"""
from __future__ import annotations

import warnings
from decimal import Decimal, getcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import examples, host


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


def _decimal_sigmoid(x: float) -> tuple[float, float]:
    """sigmoid(x) and sigmoid'(x) = e / (1 + e)^2 (e = exp(-x)) in 60-digit decimals."""
    getcontext().prec = 60
    e = (-Decimal(float(x))).exp()
    s = 1 / (1 + e)
    return float(s), float(e / ((1 + e) * (1 + e)))


def _ulps(actual: np.ndarray, expected: np.ndarray, dtype) -> np.ndarray:
    """|actual - expected| in units of the last place of ``expected`` in ``dtype``
    (the spacing at the smallest normal number for subnormal values)."""
    expected = expected.astype(dtype)
    tiny = np.finfo(dtype).tiny
    spacing = np.spacing(np.maximum(np.abs(expected), tiny)).astype(np.float64)
    return np.abs(actual.astype(np.float64) - expected.astype(np.float64)) / spacing


# ---------------------------------------------------------------------------
# sigmoid
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,lo,hi", [("float32", -103.0, 30.0), ("float64", -740.0, 60.0)])
def test_sigmoid_within_a_few_ulps_over_the_whole_range(device, dtype, lo, hi):
    grid = np.concatenate([np.linspace(lo, hi, 1501), np.linspace(-5, 5, 201)])
    grid = grid.astype(dtype)
    ref = np.array([_decimal_sigmoid(v) for v in grid])
    x = mg.Tensor(grid, dtype=dtype, device=device, requires_grad=True)
    y = mg.sigmoid(x)
    y.sum().backward()
    assert _ulps(host(y), ref[:, 0], dtype).max() <= 4
    assert _ulps(host(x.grad), ref[:, 1], dtype).max() <= 8


def test_sigmoid_tail_values_of_the_issue(device):
    f64 = mg.sigmoid(mg.Tensor([-40.0], dtype="float64", device=device))
    assert host(f64)[0] == pytest.approx(4.248354255291589e-18, rel=1e-15)
    f32 = mg.sigmoid(mg.Tensor([-20.0], dtype="float32", device=device))
    assert host(f32)[0] == pytest.approx(2.0611536e-09, rel=1e-6)
    # limits: no NaN at +-inf, NaN stays NaN
    x = mg.Tensor([-np.inf, np.inf, np.nan], device=device, requires_grad=True)
    y = mg.sigmoid(x)
    y.backward(mg.ones_like(y))
    np.testing.assert_array_equal(host(y), [0.0, 1.0, np.nan])
    np.testing.assert_array_equal(host(x.grad), [0.0, 0.0, np.nan])


def test_sigmoid_second_derivative(device):
    x = mg.Tensor(np.linspace(-6, 6, 7), dtype="float64", device=device, requires_grad=True)
    mg.gradgradcheck(mg.sigmoid, x)


# ---------------------------------------------------------------------------
# binary cross-entropy
# ---------------------------------------------------------------------------
def test_bce_of_sigmoid_in_the_tails(device):
    x = mg.Tensor([-20.0, 20.0, -200.0], dtype="float32", device=device, requires_grad=True)
    loss = mg.binary_cross_entropy(mg.sigmoid(x), [1.0, 1.0, 1.0], reduction="none")
    # exact values: -log sigmoid(x) = log(1 + e^-x): 20 + 2e-9, 2e-9, and the clamp 100
    np.testing.assert_allclose(host(loss), [20.0, 0.0, 100.0], atol=1e-6)
    loss.sum().backward()
    assert np.isfinite(host(x.grad)).all()


@examples(10)
@given(data=st.data())
def test_bce_matches_the_logit_form_and_gradchecks(device, data):
    n = data.draw(st.integers(1, 6))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    logits = rng.uniform(-8, 8, size=n)
    target = rng.uniform(0, 1, size=n)
    p = mg.Tensor(1 / (1 + np.exp(-logits)), dtype="float64", device=device,
                  requires_grad=True)
    y = mg.Tensor(target, dtype="float64", device=device, requires_grad=True)
    exact = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    np.testing.assert_allclose(host(mg.binary_cross_entropy(p, y, reduction="none")), exact,
                               rtol=1e-10)
    mg.gradcheck(lambda a, b: mg.binary_cross_entropy(a, b), p, y)


def test_bce_clamps_the_log_at_minus_100_like_pytorch(device):
    p = mg.Tensor([0.0, 1.0, 0.0, 1.0], dtype="float64", device=device, requires_grad=True)
    loss = mg.binary_cross_entropy(p, [1.0, 0.0, 0.0, 1.0], reduction="none")
    np.testing.assert_array_equal(host(loss), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    # PyTorch's gradient: (p - y) / max(p (1 - p), 1e-12)
    np.testing.assert_allclose(host(p.grad), [-1e12, 1e12, 0.0, 0.0])


def test_bce_refuses_another_float_dtype_naming_itself(device):
    p = mg.Tensor([0.5], dtype="float32", device=device)
    with pytest.raises(mg.DTypeError, match="binary_cross_entropy: input is float32 but "
                                            "target is float64"):
        mg.binary_cross_entropy(p, mg.Tensor([1.0], dtype="float64", device=device))


# ---------------------------------------------------------------------------
# logsumexp
# ---------------------------------------------------------------------------
def test_logsumexp_rows_with_infinities(device):
    inf, nan = np.inf, np.nan
    rows = np.array([[-inf, -inf, -inf], [inf, 1.0, -inf], [1.0, 2.0, 3.0],
                     [nan, 1.0, 2.0], [-inf, 3.0, -inf], [inf, inf, 0.0]])
    x = mg.Tensor(rows, dtype="float64", device=device, requires_grad=True)
    y = mg.logsumexp(x, axis=-1)
    expected = [-inf, inf, np.log(np.exp(rows[2]).sum()), nan, 3.0, inf]
    np.testing.assert_allclose(host(y), expected, rtol=1e-14)
    y.backward(mg.ones_like(y))
    g = host(x.grad)
    soft = np.exp(rows[2] - expected[2])
    np.testing.assert_allclose(g[2], soft, rtol=1e-14)
    np.testing.assert_array_equal(g[1], [1.0, 0.0, 0.0])        # all to the +inf
    np.testing.assert_array_equal(g[4], [0.0, 1.0, 0.0])        # -inf entries get 0
    np.testing.assert_array_equal(g[5], [0.5, 0.5, 0.0])        # shared by the +inf ties
    np.testing.assert_allclose(g[0], [1 / 3] * 3)               # the limit: uniform
    assert np.isnan(g[3]).all()
    assert np.allclose(g[[0, 1, 2, 4, 5]].sum(axis=1), 1.0)     # a softmax: sums to 1


@examples(10)
@given(data=st.data())
def test_logsumexp_axes_against_numpy(device, data):
    shape = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1),
                               st.lists(st.integers(0, len(shape) - 1), min_size=1,
                                        unique=True).map(tuple)))
    keepdims = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    a = rng.normal(size=shape) * 30
    x = mg.Tensor(a, dtype="float64", device=device, requires_grad=True)
    m = a.max(axis=axis, keepdims=True)
    ref = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
    if not keepdims:
        ref = ref.squeeze(axis) if axis is not None else ref.reshape(())
    np.testing.assert_allclose(host(mg.logsumexp(x, axis=axis, keepdims=keepdims)), ref,
                               rtol=1e-12)
    mg.gradcheck(lambda t: mg.logsumexp(t * 0.1, axis=axis, keepdims=keepdims), x)


def test_logsumexp_second_derivative_and_empty_reductions(device):
    x = mg.Tensor(np.random.default_rng(0).normal(size=(2, 3)), dtype="float64",
                  device=device, requires_grad=True)
    mg.gradgradcheck(lambda t: mg.logsumexp(t, axis=1), x)
    empty = mg.Tensor(np.zeros((2, 0)), device=device, requires_grad=True)
    out = mg.logsumexp(empty, axis=1)
    np.testing.assert_array_equal(host(out), [-np.inf, -np.inf])  # log of an empty sum
    out.backward(mg.ones_like(out))
    assert empty.grad.shape == (2, 0)


def test_logsumexp_axis_errors_name_logsumexp(device):
    x = mg.Tensor(np.ones((2, 3)), device=device)
    with pytest.raises(mg.ShapeError, match=r"logsumexp: axis 2 is out of range for a "
                                            r"tensor with 2 dimension"):
        mg.logsumexp(x, axis=2)
    with pytest.raises(mg.ShapeError, match=r"logsumexp: axis=\(\) names no axis.*\(2, 3\)"):
        mg.logsumexp(x, axis=())


# ---------------------------------------------------------------------------
# pow, reductions over nothing, max with NaN
# ---------------------------------------------------------------------------
def test_pow_exponent_gradient_at_zero_base(device):
    a = mg.Tensor([0.0, 0.0, 2.0, -1.0], dtype="float64", device=device, requires_grad=True)
    b = mg.Tensor([2.0, 1.5, 3.0, 2.0], dtype="float64", device=device, requires_grad=True)
    (a ** b).sum().backward()
    # d(a^b)/db = a^b ln a: 0 at a = 0 (b > 0, PyTorch's value), NaN for a < 0
    np.testing.assert_allclose(host(b.grad), [0.0, 0.0, 8.0 * np.log(2.0), np.nan])
    np.testing.assert_allclose(host(a.grad), [0.0, 0.0, 12.0, -2.0])


@pytest.mark.parametrize("op", ["mean", "var", "mse_loss", "sum_then_mean_axis"])
def test_reductions_over_zero_elements_are_nan(device, op):
    x = mg.Tensor(np.zeros((0,)), device=device, requires_grad=True)
    if op == "mean":
        out = x.mean()
    elif op == "var":
        out = x.var()
    elif op == "mse_loss":
        out = mg.mse_loss(x, np.zeros(0))
    else:
        out = mg.Tensor(np.zeros((3, 0)), device=device).mean(axis=1)
    assert np.isnan(host(out)).all() and out.shape == ((3,) if op.startswith("sum") else ())
    if out.requires_grad:
        out.backward()
        assert x.grad.shape == (0,)


def test_var_of_one_element_with_ddof_1_is_nan(device):
    x = mg.Tensor([[3.0], [4.0]], device=device)
    assert np.isnan(host(x.var(axis=1, ddof=1))).all()
    assert host(x.var(axis=0, ddof=1)) == pytest.approx([0.5])
    np.testing.assert_array_equal(host(x.var(axis=1)), [0.0, 0.0])


@examples(15)
@given(data=st.data())
def test_max_and_min_of_a_row_with_nan_send_the_gradient_to_the_nan(device, data):
    n = data.draw(st.integers(1, 6))
    nan_at = data.draw(st.lists(st.integers(0, n - 1), min_size=1, unique=True))
    a = np.random.default_rng(n).normal(size=(2, n))
    a[0, nan_at] = np.nan
    for op in (mg.max, mg.min):
        x = mg.Tensor(a, device=device, requires_grad=True)
        out = op(x, axis=1)
        assert np.isnan(host(out)[0]) and np.isfinite(host(out)[1])
        out.backward(mg.ones_like(out))
        g = host(x.grad)
        expected = np.zeros(n)
        expected[nan_at] = 1.0 / len(nan_at)
        np.testing.assert_allclose(g[0], expected)
        winner = np.argmax(a[1]) if op is mg.max else np.argmin(a[1])
        np.testing.assert_array_equal(g[1], np.eye(n)[winner])


def test_max_of_an_empty_tensor_names_max(device):
    with pytest.raises(mg.ShapeError, match=r"max: cannot reduce an empty tensor \(shape \(0,"):
        mg.Tensor(np.zeros((0, 2)), device=device).max()


# ---------------------------------------------------------------------------
# layer_norm of huge (and tiny) rows
# ---------------------------------------------------------------------------
def _layer_norm64(x, eps=1e-5):
    x = x.astype(np.float64)
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps)


@pytest.mark.parametrize("fused", [True, False])
def test_layer_norm_float32_huge_row_of_the_issue(device, fused):
    rows = np.array([[1e20, -1e20, 0.0, 1e19], [3e38, -3e38, 1e38, 0.0]], dtype=np.float32)
    with mg.use_fused(fused):
        x = mg.Tensor(rows, device=device, requires_grad=True)
        y = mg.layer_norm(x)
        y.backward(mg.Tensor(np.asarray([[1, 2, 3, 4]] * 2, np.float32), device=device))
    np.testing.assert_allclose(host(y), _layer_norm64(rows), atol=1e-5)
    assert np.isfinite(host(x.grad)).all()


@examples(15)
@given(data=st.data())
def test_layer_norm_float32_at_any_scale_matches_float64(device, data):
    d = data.draw(st.integers(2, 6))
    power = data.draw(st.integers(-35, 37))
    fused = data.draw(st.booleans())
    rng = np.random.default_rng(d * 100 + power)
    rows = (rng.normal(size=(3, d)) * 10.0 ** power).astype(np.float32)
    with mg.use_fused(fused):
        y = mg.layer_norm(mg.Tensor(rows, device=device))
    np.testing.assert_allclose(host(y), _layer_norm64(rows), rtol=1e-4, atol=1e-4)


def test_layer_norm_gradients_still_exact(device):
    x = mg.Tensor(np.random.default_rng(3).normal(size=(2, 5)) * 1e3, dtype="float64",
                  device=device, requires_grad=True)
    w = mg.Tensor(np.linspace(0.5, 1.5, 5), dtype="float64", device=device, requires_grad=True)
    for fused in (True, False):
        with mg.use_fused(fused):
            mg.gradcheck(lambda a, b: mg.layer_norm(a, b), x, w, rtol=1e-4)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_lstm_gates_are_accurate_in_the_sigmoid_tail(device, dtype):
    """The fused LSTM's in-place sigmoid has no cancellation in the negative tail
    (0.5 (1 + tanh(z / 2)) is exactly 0 at z = -40 in float64; the truth is 4.2e-18).
    Reference: 1 / (1 + exp(-z)) with Python's math, accurate there (no cancellation)."""
    import math

    from minigrad.backends import get_backend
    from minigrad.ops.fused import _sigmoid_into
    backend = get_backend(device)
    lo = -700.0 if dtype == "float64" else -80.0
    z = np.linspace(lo, 30.0, 2001).astype(dtype)
    out = backend.xp.zeros(z.shape, dtype=dtype)
    _sigmoid_into(backend.xp.asarray(z), out, backend.xp)
    got = backend.to_numpy(out).astype(np.float64)
    want = np.array([1.0 / (1.0 + math.exp(-float(v))) for v in z])
    ulp = np.finfo(dtype).eps
    assert (got > 0).all()
    np.testing.assert_array_less(np.abs(got - want) / want, 8 * ulp)
