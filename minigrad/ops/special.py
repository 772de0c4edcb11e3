"""Special functions: the error function erf, and the exact GELU built on it.

PyTorch's default GELU is x * Phi(x), with Phi(x) = (1 + erf(x / sqrt 2)) / 2 the
normal distribution function. NumPy has no erf, CuPy's lives in cupyx.scipy and
SciPy is not a dependency, so minigrad evaluates erf itself, with ``xp`` only, the
way W. J. Cody's classic routines do: split the real line into three ranges and
use on each a short approximation of a smooth function that is easy to fit:

====================  ====================================================  =====
range                 what is approximated                                  terms
====================  ====================================================  =====
|x| < 1               erf(x) / x, as a function of t = x^2 on [0, 1]           13
1 <= |x| < 4          erfcx(x) = e^(x^2) erfc(x) on [1, 4]                     26
|x| >= 4              sqrt(pi) x erfcx(x), as a function of t = 1/x^2 on       16
                      [0, 1/16] (it tends to 1 as x -> infinity)
====================  ====================================================  =====

Unlike Cody's rational functions these are Chebyshev series (evaluated with
Clenshaw's recurrence, which is numerically stable); their coefficients were
computed once, offline, with 50-digit arithmetic (mpmath): c_j = (2/n) sum_k
f(x_k) cos(j (k + 1/2) pi / n) over the n = 60 (90 for the middle range) Chebyshev
nodes x_k of the range, truncated where |c_j| < 1e-18 max |c|. Then

    erf(x)  = x * S(x^2)                                (|x| < 1)
    erfc(x) = e^(-x^2) * M(x)                           (1 <= x < 4)
    erfc(x) = e^(-x^2) / (sqrt(pi) x) * T(1 / x^2)      (x >= 4)
    erf(x) = sign(x) (1 - erfc(|x|)),  erfc(-x) = 2 - erfc(x).

e^(-x^2) is taken as e^(-s^2) e^(-(x - s)(x + s)) with s = x rounded down to a
multiple of 1/16, whose square is exact: computing x^2 first would lose up to
2 x^2 ulps in the far tail. The tests compare erf with ``math.erf`` and erfc with
``math.erfc`` on a dense grid out to |x| = 27 (where erfc underflows).
"""
from __future__ import annotations

import math
from typing import Any

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from ._util import require_float, xp_of

__all__ = ["erf", "erf_array", "erfc_array", "normal_cdf_array", "GELUExact", "Erf"]

# Chebyshev coefficients (see the module docstring for how they were computed)
_ERF_SMALL = (
    0.9754769393826541, -0.14226120510371365, 0.010035582187599796, -0.0005768764699767485,
    2.741993125219606e-05, -1.1043175507344507e-06, 3.8488755420345036e-08,
    -1.1808582533875466e-09, 3.2334215826050907e-11, -7.991015947004549e-13,
    1.7990725113961456e-14, -3.718635487818693e-16, 7.103599003714253e-18,
)
_ERFCX_MID = (
    0.24442575284923573, -0.13589862891594598, 0.03563511414853497, -0.00888409861822249,
    0.002118423997553177, -0.00048539876408003704, 0.00010727375453771771,
    -2.2936634481904863e-05, 4.7568746915755546e-06, -9.58994483266277e-07,
    1.8829006882958966e-07, -3.606320662143091e-08, 6.7476020519374555e-09,
    -1.234907042333986e-09, 2.213150119337267e-10, -3.887955444797815e-11,
    6.701388253274511e-12, -1.1342374261033591e-12, 1.886555920176928e-13,
    -3.0857804893548754e-14, 4.966710292058389e-15, -7.871154824211007e-16,
    1.2288878845149862e-16, -1.891087633190591e-17, 2.869742042877484e-18,
    -4.2963382895382986e-19,
)
_ERFCX_TAIL = (
    0.9853526361287724, -0.014339740271774976, 0.00029736169220261896,
    -9.803516043362372e-06, 4.3313342034728005e-07, -2.3621500262412274e-08,
    1.515496765813012e-09, -1.1084939856604327e-10, 9.042590142817653e-12,
    -8.09470541619237e-13, 7.853855739377158e-14, -8.179183400452656e-15,
    9.071473527893728e-16, -1.0646172287763947e-16, 1.3150090110649642e-17,
    -1.7018320373695294e-18,
)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _clenshaw(coeffs: tuple[float, ...], t: Any, lo: float, hi: float) -> Any:
    """sum_j c_j T_j(s) with s = (2t - lo - hi) / (hi - lo), by Clenshaw's recurrence
    b_j = c_j + 2 s b_(j+1) - b_(j+2); the sum is c_0 + s b_1 - b_2."""
    s = (t * 2.0 - (lo + hi)) * (1.0 / (hi - lo))
    two_s = s * 2.0
    b1 = t * 0.0
    b2 = t * 0.0
    for c in coeffs[:0:-1]:
        b1, b2 = two_s * b1 - b2 + c, b1
    return s * b1 - b2 + coeffs[0]


def _exp_minus_square(x: Any) -> Any:
    """e^(-x^2) for x >= 0 without rounding x^2 first (see the module docstring)."""
    xp = xp_of(x)
    s = xp.floor(x * 16.0) * (1.0 / 16.0)
    return xp.exp(-(s * s)) * xp.exp(-((x - s) * (x + s)))


def _erfc_of_magnitude(ax: Any) -> Any:
    """erfc(a) for a = |x| >= 1 (values below 1 are clamped; the caller masks them)."""
    xp = xp_of(ax)
    a = xp.minimum(xp.maximum(ax, 1.0), 30.0)   # erfc(30) = 0 in float64; avoids overflow
    mid = _clenshaw(_ERFCX_MID, xp.minimum(a, 4.0), 1.0, 4.0)
    big = xp.maximum(a, 4.0)
    tail = _clenshaw(_ERFCX_TAIL, 1.0 / (big * big), 0.0, 1.0 / 16.0) * _INV_SQRT_PI / big
    return _exp_minus_square(a) * xp.where(a < 4.0, mid, tail)


def _parts(x: Any) -> tuple[Any, Any, Any]:
    """(mask |x| < 1, erf(x) where |x| < 1, erfc(|x|) where |x| >= 1)."""
    xp = xp_of(x)
    ax = xp.abs(x)
    small = ax < 1.0
    t = xp.minimum(ax, 1.0)
    erf_small = x * _clenshaw(_ERF_SMALL, t * t, 0.0, 1.0)
    return small, erf_small, _erfc_of_magnitude(ax)


def erf_array(x: Any) -> Any:
    """erf(x) = (2 / sqrt(pi)) integral_0^x e^(-u^2) du, elementwise on a backend array."""
    xp = xp_of(x)
    small, erf_small, erfc_big = _parts(x)
    return xp.asarray(xp.where(small, erf_small, xp.sign(x) * (1.0 - erfc_big)))


def erfc_array(x: Any) -> Any:
    """erfc(x) = 1 - erf(x), accurate (relative to itself) also where erf(x) is close to 1."""
    xp = xp_of(x)
    small, erf_small, erfc_big = _parts(x)
    return xp.asarray(xp.where(small, 1.0 - erf_small,
                               xp.where(x > 0, erfc_big, 2.0 - erfc_big)))


def normal_cdf_array(x: Any) -> Any:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2 (the erfc form keeps its
    relative accuracy in the left tail, where Phi is tiny)."""
    return erfc_array(x * -_INV_SQRT_2) * 0.5


class Erf(Function):
    """out = erf(a) = (2/sqrt(pi)) int_0^a e^(-u^2) du;   da = g * (2/sqrt(pi)) e^(-a^2)."""

    def forward(self, a):
        return erf_array(a)

    def backward(self, grad):
        (a,) = self.inputs
        # minigrad ops, so the backward is differentiable again (create_graph=True)
        return grad * ((a * a * -1.0).exp() * _TWO_OVER_SQRT_PI)


class NormalCDF(Function):
    """out = Phi(a), the standard normal distribution function;
    da = g * phi(a),  phi(a) = e^(-a^2 / 2) / sqrt(2 pi)."""

    def forward(self, a):
        return normal_cdf_array(a)

    def backward(self, grad):
        (a,) = self.inputs
        return grad * _normal_pdf(a)


def _normal_pdf(a: Tensor) -> Tensor:
    """phi(a) = e^(-a^2 / 2) / sqrt(2 pi), from minigrad ops (|a| clipped at 40, where
    phi is 0 in float64 anyway, so a^2 cannot overflow)."""
    c = a.clip(-40.0, 40.0)
    return (c * c * -0.5).exp() * _INV_SQRT_2PI


class GELUExact(Function):
    """GELU(a) = a * Phi(a) = a (1 + erf(a / sqrt 2)) / 2   (PyTorch's ``approximate='none'``);

    da = g * (Phi(a) + a phi(a)),  phi(a) = e^(-a^2/2) / sqrt(2 pi)  (product rule, Phi' = phi).
    """

    def forward(self, a):
        self.cdf = normal_cdf_array(a)                    # Phi(a), kept for backward
        return a * self.cdf

    def backward(self, grad):
        (a,) = self.inputs
        # recorded (create_graph=True): Phi as the NormalCDF op, so d2/da2 exists;
        # otherwise the Phi the forward pass already computed
        cdf = NormalCDF.apply(a) if is_grad_enabled() else Tensor._make(self.cdf, False)
        return grad * (cdf + a * _normal_pdf(a))


def erf(a: Tensor) -> Tensor:
    """The error function, elementwise (``torch.erf``); accurate to a few float64 ulps."""
    require_float("erf", a)
    return Erf.apply(a)
