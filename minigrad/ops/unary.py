"""Elementwise functions and activations: exp, log, sqrt, tanh, sigmoid, relu,
leaky_relu, gelu.

Where the derivative is easiest to write in terms of the *output* (exp,
sqrt, tanh, sigmoid) backward uses ``self.output`` instead of recomputing.
"""
from __future__ import annotations

import math

from ..autograd import Function, is_grad_enabled
from ..modes import fused_enabled
from ..tensor import Tensor
from ._util import require_float, xp_of


class Exp(Function):
    """out = e^a;   da = g * out."""

    def forward(self, a):
        return xp_of(a).exp(a)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """out = ln(a);   da = g / a."""

    def forward(self, a):
        return xp_of(a).log(a)

    def backward(self, grad):
        (a,) = self.inputs
        return grad / a


class Sqrt(Function):
    """out = sqrt(a);   da = g / (2 out)."""

    def forward(self, a):
        return xp_of(a).sqrt(a)

    def backward(self, grad):
        return grad / (self.output * 2.0)


class Tanh(Function):
    """F08  out = (e^a - e^-a) / (e^a + e^-a);   da = g * (1 - out^2).

    (One source document's code uses 1 - tanh instead of 1 - tanh^2: F25.)
    """

    def forward(self, a):
        return xp_of(a).tanh(a)

    def backward(self, grad):
        out = self.output
        return grad * (1.0 - out * out)


class Sigmoid(Function):
    """F07  out = 1 / (1 + e^-a);   da = g * out * (1 - out) = g * sigmoid(a) * sigmoid(-a).

    Computed from e = e^-|a| (never overflows, and never cancels) in two
    branches::

        a >= 0:  out = 1 / (1 + e)         (e <= 1: no overflow)
        a <  0:  out = e / (1 + e)         (= e^a / (1 + e^a), tiny values kept)

    which is within a few ulps everywhere: sigmoid(-40) = 4.25e-18 in float64
    and sigmoid(-20) = 2.06e-9 in float32. (The tempting 0.5 (1 + tanh(a/2))
    never overflows either, but it *cancels* in the negative tail --
    1 + tanh(-20) is 0 in float64 -- and so returns exactly 0 there.) The
    derivative is taken as sigmoid(a) * sigmoid(-a) with the complementary
    branch e / (1 + e) or 1 / (1 + e) -- not out * (1 - out), whose 1 - out
    is 0 for a > 17 in float64 although the true slope is e^-a.
    """

    def forward(self, a):
        xp = xp_of(a)
        e = xp.exp(-xp.abs(a))
        one = a.dtype.type(1)
        big = one / (one + e)                       # sigmoid(|a|) in [1/2, 1]
        small = e * big                             # sigmoid(-|a|) = e / (1 + e)
        positive = a >= 0
        self.other = xp.where(positive, small, big)  # sigmoid(-a), for backward
        return xp.where(positive, big, small)

    def backward(self, grad):
        if is_grad_enabled():  # create_graph=True: sigmoid(-a) as a recorded op
            (a,) = self.inputs
            return grad * self.output * sigmoid(-a)
        return grad * Tensor._make(self.output.data * self.other, False)


class ReLU(Function):
    """F06  out = max(0, a);   da = g where a > 0, else 0 (0 at the kink, as PyTorch)."""

    def forward(self, a):
        self.mask = a > 0
        # maximum, not a * mask (that gives -0.0 for negative inputs and NaN for
        # -inf), nor where(mask, a, 0) (several times slower on random signs)
        return xp_of(a).maximum(a, a.dtype.type(0))

    def backward(self, grad):
        return grad * Tensor._make(self.mask.astype(grad.dtype), False)


class LeakyReLU(Function):
    """out = a if a > 0 else slope * a;   da = g * (1 if a > 0 else slope)."""

    def forward(self, a, slope):
        positive = a > 0
        self.scale = positive + (~positive) * a.dtype.type(slope)
        return a * self.scale

    def backward(self, grad):
        return grad * Tensor._make(self.scale.astype(grad.dtype), False)


_GELU_C = math.sqrt(2.0 / math.pi)


class GELU(Function):
    """out = 0.5 a (1 + tanh(u)),  u = sqrt(2/pi) (a + 0.044715 a^3)   (the tanh form
    used by GPT-2, ``approximate='tanh'`` in PyTorch);

    da = g * [0.5 (1 + t) + 0.5 a (1 - t^2) du/da],  t = tanh(u),
    du/da = sqrt(2/pi) (1 + 3 * 0.044715 a^2).
    """

    fused = True

    def forward(self, a):
        xp = xp_of(a)
        # (xp.asarray: NumPy turns 0-d results into scalars, which have no ``out=``)
        tp = xp.asarray(a * a)                      # u = C a (1 + 0.044715 a^2), in place
        tp *= _GELU_C * 0.044715
        tp += _GELU_C
        tp *= a
        xp.tanh(tp, out=tp)
        tp += 1.0                                   # 1 + t, t = tanh(u): what backward needs
        self.tp = tp
        out = a * tp
        out *= 0.5                                  # 0.5 a (1 + t)
        return out

    def backward(self, grad):
        (a,) = self.inputs
        if is_grad_enabled():
            # create_graph=True: rebuild t from differentiable ops so d2/da2 exists
            t = tanh(_GELU_C * (a + 0.044715 * a * a * a))
            du = _GELU_C * (1.0 + 3 * 0.044715 * a * a)
            return grad * (0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * du)
        # the same formula on raw arrays, in place, rearranged with 1 - t^2 = (1 - t)(1 + t):
        #     da = g (1 + t) (0.5 + w (1 - t)),   w = 0.5 a du/da = 0.5 C a (1 + 3k a^2)
        # nine passes over the array and two temporaries (recording is off, so
        # nothing needs the graph)
        xp, x, tp = a.xp, a.data, self.tp
        d = xp.asarray(x * x)
        d *= 1.5 * _GELU_C * 0.044715
        d += 0.5 * _GELU_C
        d *= x                                      # w
        one_minus_t = xp.asarray(xp.subtract(2.0, tp))
        d *= one_minus_t
        d += 0.5
        d *= tp
        d *= grad.data
        return Tensor._make(d, False)


def exp(a: Tensor) -> Tensor:
    require_float("exp", a)
    return Exp.apply(a)


def log(a: Tensor) -> Tensor:
    require_float("log", a)
    return Log.apply(a)


def sqrt(a: Tensor) -> Tensor:
    require_float("sqrt", a)
    return Sqrt.apply(a)


def tanh(a: Tensor) -> Tensor:
    require_float("tanh", a)
    return Tanh.apply(a)


def sigmoid(a: Tensor) -> Tensor:
    require_float("sigmoid", a)
    return Sigmoid.apply(a)


def relu(a: Tensor) -> Tensor:
    return ReLU.apply(a)


def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(a, slope=negative_slope)


def gelu(a: Tensor, approximate: str = "tanh") -> Tensor:
    """GELU(a) = a * Phi(a), Phi the standard normal distribution function.

    * ``approximate="tanh"`` (minigrad's default): 0.5 a (1 + tanh(sqrt(2/pi) (a +
      0.044715 a^3))), the form GPT-2 uses (:class:`GELU`);
    * ``approximate="none"`` (PyTorch's default): the exact a (1 + erf(a / sqrt 2)) / 2,
      with an erf of float64 accuracy written for every backend
      (:class:`minigrad.ops.special.GELUExact`).

    The two differ by at most 4.7e-4 (near a = +-2.7). minigrad keeps the tanh form
    as its default because the course's transformer and GPT (like GPT-2) use it, its
    derivative is made of functions a learner has already differentiated (tanh and a
    cubic; every step is in :class:`GELU`), and every figure of the lessons was
    produced with it. For PyTorch's numbers pass ``approximate="none"``.
    """
    require_float("gelu", a)
    if approximate == "tanh":
        if not fused_enabled():                 # use_fused(False): the primitive ops
            return gelu_reference(a)
        return GELU.apply(a)
    if approximate == "none":
        from .special import GELUExact
        return GELUExact.apply(a)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu_reference(a: Tensor) -> Tensor:
    """GELU (tanh form) composed from primitive ops: 0.5 a (1 + tanh(C (a + 0.044715 a^3)))."""
    return 0.5 * a * (1.0 + tanh(_GELU_C * (a + 0.044715 * a * a * a)))
