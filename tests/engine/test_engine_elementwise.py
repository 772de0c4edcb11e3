"""Elementwise ops: forward against the NumPy formula, gradcheck, invariants,
second derivatives for the smooth ones, float32 against float64.

Every test runs once per device (cpu, fake, cuda when present)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import arrays, broadcastable_shapes, check_op, distinct_arrays, examples, shapes


def _gelu_ref(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


# ---------------------------------------------------------------------------
# binary ops with broadcasting
# ---------------------------------------------------------------------------
BINARY = {
    # name: (minigrad fn, numpy formula, domain of a, domain of b, smooth)
    "add": (lambda a, b: a + b, lambda a, b: a + b, "real", "real", False),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, "real", "real", False),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, "real", "real", True),
    "div": (lambda a, b: a / b, lambda a, b: a / b, "real", "positive", True),
    "pow": (lambda a, b: a ** b, lambda a, b: np.exp(b * np.log(a)), "positive", "real", True),
    "functional_add": (mg.add, lambda a, b: a + b, "real", "real", False),
    "functional_pow": (mg.pow, lambda a, b: np.exp(b * np.log(a)), "positive", "real", True),
}


@pytest.mark.parametrize("name", list(BINARY))
@examples(12)
@given(data=st.data(), pair=broadcastable_shapes())
def test_binary_broadcasting(device, name, data, pair):
    fn, ref, dom_a, dom_b, smooth = BINARY[name]
    a = data.draw(arrays(pair[0], dom_a), label="a")
    b = data.draw(arrays(pair[1], dom_b), label="b")
    check_op(fn, a, b, device=device, ref=ref, gradgrad=smooth)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@examples(12)
@given(data=st.data(), pair=broadcastable_shapes())
def test_maximum_minimum(device, name, data, pair):
    a, b = data.draw(distinct_arrays(pair))
    fn = getattr(mg, name)
    check_op(fn, a, b, device=device, ref=getattr(np, name))


def test_maximum_splits_ties_evenly(device):
    a = mg.Tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    b = mg.Tensor([1.0, 0.0, 5.0], device=device, requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0.0, 1.0])


# ---------------------------------------------------------------------------
# a tensor with a Python number
# ---------------------------------------------------------------------------
SCALAR_FORMS = {
    "x + c": (lambda x: x + 1.5, lambda x: x + 1.5, "real"),
    "c + x": (lambda x: 1.5 + x, lambda x: 1.5 + x, "real"),
    "x - c": (lambda x: x - 1.5, lambda x: x - 1.5, "real"),
    "c - x": (lambda x: 1.5 - x, lambda x: 1.5 - x, "real"),
    "x * c": (lambda x: x * -2.5, lambda x: x * -2.5, "real"),
    "c * x": (lambda x: -2.5 * x, lambda x: -2.5 * x, "real"),
    "x / c": (lambda x: x / 4.0, lambda x: x / 4.0, "real"),
    "c / x": (lambda x: 3.0 / x, lambda x: 3.0 / x, "positive"),
    "x ** 2": (lambda x: x ** 2, lambda x: x * x, "real"),
    "x ** 3": (lambda x: x ** 3, lambda x: x * x * x, "real"),
    "x ** 1": (lambda x: x ** 1, lambda x: x, "real"),
    "x ** 0": (lambda x: x ** 0, lambda x: np.ones_like(x), "real"),
    "x ** -1": (lambda x: x ** -1, lambda x: 1.0 / x, "positive"),
    "x ** 0.5": (lambda x: x ** 0.5, np.sqrt, "positive"),
    "x ** -2.5": (lambda x: x ** -2.5, lambda x: np.exp(-2.5 * np.log(x)), "positive"),
    "2 ** x": (lambda x: 2.0 ** x, lambda x: np.exp(x * math.log(2.0)), "real"),
    "0.5 ** x": (lambda x: 0.5 ** x, lambda x: np.exp(x * math.log(0.5)), "real"),
    "x * int": (lambda x: x * 3, lambda x: 3.0 * x, "real"),
    "x + np.float64": (lambda x: x + np.float64(0.25), lambda x: x + 0.25, "real"),
    "-x": (lambda x: -x, lambda x: -x, "real"),
    "neg": (mg.neg, lambda x: -x, "real"),
}


@pytest.mark.parametrize("form", list(SCALAR_FORMS))
@examples(6)
@given(data=st.data(), shape=shapes())
def test_scalar_forms(device, form, data, shape):
    fn, ref, domain = SCALAR_FORMS[form]
    x = data.draw(arrays(shape, domain))
    smooth = "**" in form or "/" in form or "*" in form
    check_op(fn, x, device=device, ref=ref, gradgrad=smooth)


def test_scalar_forms_keep_float32(device):
    x = mg.Tensor([1.0, 2.0], dtype="float32", device=device)
    for y in (x + 1.0, 2.0 * x, x / 3.0, 3.0 / x, x ** 2.5, 2.0 ** x, 1.0 - x,
              x * np.float64(2.0), x + np.int64(2)):
        assert y.dtype == np.float32, y


# ---------------------------------------------------------------------------
# unary functions
# ---------------------------------------------------------------------------
def _sigmoid_ref(x):
    return 1.0 / (1.0 + np.exp(-x))


UNARY = {
    # name: (minigrad fn, numpy formula, domain, smooth)
    "exp": (mg.exp, np.exp, "real", True),
    "log": (mg.log, np.log, "positive", True),
    "sqrt": (mg.sqrt, np.sqrt, "positive", True),
    "abs": (mg.abs, np.abs, "kink", False),
    "tanh": (mg.tanh, lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)), "real", True),
    "sigmoid": (mg.sigmoid, _sigmoid_ref, "real", True),
    "relu": (mg.relu, lambda x: np.where(x > 0, x, 0.0), "kink", False),
    "leaky_relu": (mg.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), "kink", False),
    "leaky_relu(0.2)": (lambda x: mg.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                        "kink", False),
    "gelu": (mg.gelu, _gelu_ref, "real", True),
    "clip(-0.5, 0.5)": (lambda x: x.clip(-0.5, 0.5), lambda x: np.minimum(np.maximum(x, -0.5), 0.5),
                        "clip", False),
    "clip(lo=-0.5)": (lambda x: mg.clip(x, lo=-0.5), lambda x: np.maximum(x, -0.5), "clip", False),
    "clip(hi=0.5)": (lambda x: mg.clip(x, hi=0.5), lambda x: np.minimum(x, 0.5), "clip", False),
    "abs()": (abs, np.abs, "kink", False),
    "method exp": (lambda x: x.exp(), np.exp, "real", True),
}


@pytest.mark.parametrize("name", list(UNARY))
@examples(10)
@given(data=st.data(), shape=shapes())
def test_unary(device, name, data, shape):
    fn, ref, domain, smooth = UNARY[name]
    x = data.draw(arrays(shape, domain))
    check_op(fn, x, device=device, ref=ref, rtol=1e-9, gradgrad=smooth)


def test_kinks_follow_the_documented_subgradient(device):
    """At exactly 0, relu' = 0, leaky_relu' = slope, abs' = 0 (as PyTorch); clip
    passes the gradient at its edges."""
    x = mg.Tensor([0.0, -0.5, 0.5], device=device, requires_grad=True)
    for fn, expected in [(mg.relu, [0.0, 0.0, 1.0]), (lambda t: mg.leaky_relu(t, 0.1), [0.1, 0.1, 1.0]),
                         (mg.abs, [0.0, -1.0, 1.0]), (lambda t: t.clip(-0.5, 0.5), [1.0, 1.0, 1.0])]:
        x.grad = None
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), expected)


def test_sigmoid_and_tanh_saturate_without_overflow(device):
    x = mg.Tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype="float32", device=device,
                  requires_grad=True)
    # (underflow is allowed: e^-1000 = 0 and the subnormal e^-100 are the
    # accurate answers of the tail; overflow and invalid operations are not)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        s = mg.sigmoid(x)
        s.sum().backward()
    np.testing.assert_allclose(s.numpy(), [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-30)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.25, 0.0, 0.0], atol=1e-30)
    assert np.all(np.isfinite(mg.tanh(x).numpy()))


@examples(10)
@given(data=st.data(), shape=shapes(min_dims=1))
def test_where_and_masked_fill(device, data, shape):
    a = data.draw(arrays(shape))
    b = data.draw(arrays(shape[-1:]))
    cond = data.draw(arrays(shape)) > 0

    def fn(x, y):
        return mg.where(mg.Tensor(cond, device=x.device), x, y)
    check_op(fn, a, b, device=device, ref=lambda x, y: np.where(cond, x, y))

    def filled(x):
        return x.masked_fill(mg.Tensor(cond, device=x.device), -7.0)
    check_op(filled, a, device=device, ref=lambda x: np.where(cond, -7.0, x))


def test_masked_fill_with_minus_inf_softmax(device):
    """The attention idiom: masked positions get probability exactly 0, gradient 0."""
    x = mg.Tensor(np.arange(6.0).reshape(2, 3), device=device, requires_grad=True)
    mask = mg.Tensor(np.array([[False, True, True], [False, False, True]]), device=device)
    p = x.masked_fill(mask, -np.inf).softmax(axis=-1)
    (p * mg.Tensor(np.arange(6.0).reshape(2, 3), device=device)).sum().backward()
    got = p.numpy()
    np.testing.assert_allclose(got[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(got[1, :2], np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum())
    assert np.all(np.isfinite(x.grad.numpy()))
    assert x.grad.numpy()[0, 1] == 0.0 and x.grad.numpy()[1, 2] == 0.0


def test_x_to_the_power_0_has_zero_gradient_even_at_0(device):
    x = mg.Tensor([0.0, 2.0, -1.0], dtype="float64", device=device, requires_grad=True)
    y = x ** 0
    np.testing.assert_array_equal(y.numpy(), [1.0, 1.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("op", [mg.maximum, mg.minimum, lambda a, b: a * b,
                                lambda a, b: mg.where(True, a, b)])
def test_zero_dimensional_operands(device, op):
    """NumPy returns scalars, not arrays, for many 0-d results: the engine must still
    treat them as living on the tensor's device."""
    a = mg.Tensor(1.5, dtype="float64", device=device, requires_grad=True)
    b = mg.Tensor(-0.5, dtype="float64", device=device, requires_grad=True)
    out = op(a, b)
    assert out.shape == () and out.device == device
    out.backward()
    assert a.grad.shape == () and a.grad.device == device
    mg.gradcheck(op, a, b)
