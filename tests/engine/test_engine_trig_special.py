"""sin, cos, erf and the exact GELU (``minigrad/ops/trig.py``, ``minigrad/ops/special.py``):
forward against an independent formula (NumPy's sin/cos, Python's ``math.erf`` /
``math.erfc``), gradcheck and gradgradcheck on every device, float32 against float64,
and erf's accuracy on a dense grid, tails included."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

import layers
import minigrad as mg
from helpers import arrays, check_op, examples, host, shapes
from minigrad.ops.special import erf_array, erfc_array

_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])

#: values on both sides of every range boundary of the erf approximation (1 and 4)
BOUNDARIES = np.array([-6.0, -4.2, -3.9, -2.5, -1.05, -0.97, -0.3, 0.0, 0.4, 0.98, 1.02, 2.2,
                       3.97, 4.03, 5.5])


def _gelu_exact_ref(x):
    # x (1 + erf(x/sqrt 2)) / 2 written with erfc: 1 + erf cancels in the left tail
    return 0.5 * x * _erfc(-x / math.sqrt(2.0))


UNARY = {
    # name: (minigrad fn, independent formula)
    "sin": (mg.sin, np.sin),
    "cos": (mg.cos, np.cos),
    "sin_method": (lambda a: a.sin(), np.sin),
    "cos_method": (lambda a: a.cos(), np.cos),
    "erf": (mg.erf, _erf),
    "erf_method": (lambda a: a.erf(), _erf),
    "gelu_none": (lambda a: mg.gelu(a, approximate="none"), _gelu_exact_ref),
    "gelu_layer_none": (layers.GELU(approximate="none"), _gelu_exact_ref),
}


@pytest.mark.parametrize("name", list(UNARY))
@examples(10)
@given(x=arrays(shapes()))
def test_unary_forward_gradcheck_gradgradcheck(device, name, x):
    fn, ref = UNARY[name]
    check_op(fn, x * 2.0, device=device, ref=ref, rtol=1e-13, atol=1e-15, gradgrad=True)


@pytest.mark.parametrize("name", ["erf", "gelu_none", "sin", "cos"])
def test_gradients_across_the_range_boundaries(device, name):
    fn, ref = UNARY[name]
    check_op(fn, BOUNDARIES.reshape(3, 5), device=device, ref=ref, rtol=1e-13, atol=1e-15,
             gradgrad=True)


def test_erf_matches_math_erf_on_a_dense_grid():
    x = np.concatenate([np.linspace(-27.0, 27.0, 108_001), np.linspace(-1.5, 1.5, 30_001),
                        np.linspace(3.5, 4.5, 2001), [1.0, -1.0, 4.0, -4.0, 0.0, -0.0],
                        np.nextafter([1.0, 4.0, -1.0, -4.0], 0.0), 10.0 ** -np.arange(1, 300, 7)])
    got, want = erf_array(x), _erf(x)
    assert got.dtype == np.float64
    ulps = np.abs(got - want) / np.spacing(np.maximum(np.abs(want), np.finfo(float).tiny))
    assert ulps.max() <= 4, (x[ulps.argmax()], got[ulps.argmax()], want[ulps.argmax()])
    # erf is odd, exactly, and keeps the sign of zero
    np.testing.assert_array_equal(erf_array(-x), -got)
    assert math.copysign(1.0, float(erf_array(np.array(-0.0)))) == -1.0


def test_erfc_keeps_its_relative_accuracy_in_the_tails():
    x = np.concatenate([np.linspace(-6.0, 26.5, 65_001), np.linspace(0.9, 1.1, 2001)])
    got, want = erfc_array(x), _erfc(x)
    normal = want > np.finfo(float).tiny         # below that the reference is subnormal
    rel = np.abs(got - want)[normal] / want[normal]
    assert rel.max() < 2e-15, x[normal][rel.argmax()]
    # erfc(27) underflows below the subnormals' range in both
    assert erfc_array(np.array([30.0, np.inf]))[0] == 0.0 == math.erfc(30.0)


def test_erf_special_values_and_no_warnings():
    x = np.array([np.inf, -np.inf, np.nan, 1e300, -1e300, 5e-324])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # (underflow is fine)
        got = erf_array(x)
        gotc = erfc_array(x)
    np.testing.assert_array_equal(got[[0, 1, 3, 4]], [1.0, -1.0, 1.0, -1.0])
    assert np.isnan(got[2]) and np.isnan(gotc[2])
    np.testing.assert_array_equal(gotc[[0, 1]], [0.0, 2.0])
    assert got[5] == math.erf(5e-324)


def test_float32_erf_stays_float32_and_accurate(device):
    x = np.linspace(-5, 5, 1001).astype(np.float32)
    out = mg.erf(mg.Tensor(x, device=device))
    assert out.dtype == np.float32
    np.testing.assert_allclose(host(out), _erf(x.astype(np.float64)), rtol=0, atol=3e-7)


def test_exact_and_tanh_gelu_differ_by_the_documented_amount():
    x = np.linspace(-6, 6, 120_001)
    exact = host(mg.gelu(mg.Tensor(x), approximate="none"))
    tanh_form = host(mg.gelu(mg.Tensor(x)))               # the default stays the tanh form
    np.testing.assert_allclose(exact, _gelu_exact_ref(x), rtol=1e-14, atol=1e-16)
    gap = np.abs(exact - tanh_form)
    assert 4.6e-4 < gap.max() < 4.8e-4                      # the 4.7e-4 of the docstring
    assert 2.6 < abs(x[gap.argmax()]) < 2.8


def test_gelu_far_left_tail_is_tiny_not_zero():
    x = mg.Tensor(np.array([-10.0, -20.0, -37.0]))
    out = host(mg.gelu(x, approximate="none"))
    want = [v * 0.5 * math.erfc(-v / math.sqrt(2.0)) for v in (-10.0, -20.0, -37.0)]
    np.testing.assert_allclose(out, want, rtol=1e-13)
    assert np.all(out < 0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        mg.gelu(mg.Tensor([1.0]), approximate="exact")
    with pytest.raises(ValueError, match="GELU: approximate"):
        layers.GELU(approximate="erf")
    for fn, name in ((mg.sin, "sin"), (mg.cos, "cos"), (mg.erf, "erf")):
        with pytest.raises(mg.DTypeError, match=f"{name} needs floating-point input"):
            fn(mg.Tensor(np.array([1, 2])))
    assert repr(layers.GELU(approximate="none")) == "GELU(approximate='none')"
