"""Elementwise arithmetic: + - * / **, neg, abs, maximum, minimum, clip, where.

Every binary op broadcasts like NumPy. Backward therefore ends with
``unbroadcast``: an input that was stretched to a bigger shape receives the
*sum* of the gradients of all its copies.
"""
from __future__ import annotations

import math
from typing import Any

from ..autograd import Function
from ..tensor import Tensor
from ..errors import describe
from ._util import binary_operands, broadcast_shape, is_scalar, unbroadcast, xp_of


class Add(Function):
    """out = a + b;   da = g,  db = g   (each reduced to its input's shape)."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        a, b = self.inputs
        return unbroadcast(grad, a.shape), unbroadcast(grad, b.shape)


class Sub(Function):
    """out = a - b;   da = g,  db = -g."""

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        a, b = self.inputs
        return unbroadcast(grad, a.shape), unbroadcast(-grad, b.shape)


class Mul(Function):
    """out = a * b;   da = g * b,  db = g * a   (the product rule)."""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_grad
        return (unbroadcast(grad * b, a.shape) if need_a else None,
                unbroadcast(grad * a, b.shape) if need_b else None)


class Div(Function):
    """out = a / b;   da = g / b,  db = -g * a / b^2 = -g * out / b."""

    def forward(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_grad
        return (unbroadcast(grad / b, a.shape) if need_a else None,
                unbroadcast(-grad * self.output / b, b.shape) if need_b else None)


class Pow(Function):
    """out = a ** b (tensor exponent);  da = g * b * a^(b-1),  db = g * out * ln(a).

    ``db`` needs ln(a): at a = 0 with b > 0, out = 0 and the limit of
    0^b ln 0 is 0, so db = 0 there (PyTorch's value; 0 * -inf would give NaN).
    A negative base has no real logarithm: db is NaN there (as in PyTorch),
    computed without NumPy's "invalid value" warning.
    """

    def forward(self, a, b):
        return a ** b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_grad
        da = unbroadcast(grad * b * a ** (b - 1.0), a.shape) if need_a else None
        db = None
        if need_b:
            xp = a.xp
            positive = Tensor._make(a.data > 0, False)
            one = Tensor._make(xp.ones((), dtype=a.dtype), False)
            log_a = where(positive, a, one).log()            # ln a where a > 0, else 0
            # a < 0: NaN;  a = 0: 0 (the limit, for b > 0; PyTorch uses it for b >= 0)
            nan = Tensor._make(xp.full((), xp.nan, dtype=a.dtype), False)
            log_a = where(Tensor._make(a.data < 0, False), nan, log_a)
            db = unbroadcast(grad * self.output * log_a, b.shape)
        return da, db


class Neg(Function):
    """out = -a;   da = -g."""

    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class AddScalar(Function):
    """out = a + c for a Python number c;   da = g."""

    def forward(self, a, c):
        return a + c

    def backward(self, grad):
        return grad


class MulScalar(Function):
    """out = a * c for a Python number c;   da = c * g."""

    def forward(self, a, c):
        self.c = c
        return a * c

    def backward(self, grad):
        return grad * self.c


class PowScalar(Function):
    """out = a ** p for a Python number p;   da = g * p * a^(p-1)."""

    def forward(self, a, p):
        self.p = p
        return a ** p

    def backward(self, grad):
        (a,) = self.inputs
        p = self.p
        if p == 2:
            return grad * a * 2.0
        if p == 1:
            return grad
        if p == 0:  # a^0 = 1 is constant (a^-1 * 0 would give NaN at a = 0)
            return grad * 0.0
        return grad * (a ** (p - 1)) * p


class RPowScalar(Function):
    """out = c ** a for a Python number c > 0;   da = g * out * ln(c)."""

    def forward(self, a, c):
        self.log_c = math.log(c)
        return c ** a

    def backward(self, grad):
        return grad * self.output * self.log_c


class Abs(Function):
    """out = |a|;   da = g * sign(a)   (0 at a = 0, a subgradient)."""

    def forward(self, a):
        self.sign = xp_of(a).sign(a)
        return xp_of(a).abs(a)

    def backward(self, grad):
        return grad * Tensor._make(self.sign, False)


class Maximum(Function):
    """out = max(a, b) elementwise; the gradient goes to the larger input
    (split half/half on ties, so the result is symmetric)."""

    def forward(self, a, b):
        self.a_wins = (a > b).astype(a.dtype) + 0.5 * (a == b).astype(a.dtype)
        return xp_of(a).maximum(a, b)

    def backward(self, grad):
        a, b = self.inputs
        wa = Tensor._make(self.a_wins, False)
        return unbroadcast(grad * wa, a.shape), unbroadcast(grad * (1.0 - wa), b.shape)


class Minimum(Function):
    """out = min(a, b) elementwise; the gradient goes to the smaller input."""

    def forward(self, a, b):
        self.a_wins = (a < b).astype(a.dtype) + 0.5 * (a == b).astype(a.dtype)
        return xp_of(a).minimum(a, b)

    def backward(self, grad):
        a, b = self.inputs
        wa = Tensor._make(self.a_wins, False)
        return unbroadcast(grad * wa, a.shape), unbroadcast(grad * (1.0 - wa), b.shape)


class Clip(Function):
    """out = min(max(a, lo), hi);   da = g where lo <= a <= hi, else 0."""

    def forward(self, a, lo, hi):
        inside = (a >= (-float("inf") if lo is None else lo)) & \
                 (a <= (float("inf") if hi is None else hi))
        self.inside = inside.astype(a.dtype)
        return a.clip(lo, hi)

    def backward(self, grad):
        return grad * Tensor._make(self.inside, False)


class Where(Function):
    """out = a where cond else b  (cond is a constant boolean array);
    da = g where cond,  db = g where not cond."""

    def forward(self, a, b, cond):
        self.cond = cond
        return xp_of(a).where(cond, a, b)

    def backward(self, grad):
        a, b = self.inputs
        keep = Tensor._make(self.cond, False)
        zero = grad * 0.0
        return (unbroadcast(where(keep, grad, zero), a.shape),
                unbroadcast(where(keep, zero, grad), b.shape))


# ---------------------------------------------------------------------------
# functional forms (what Tensor's operators call)
# ---------------------------------------------------------------------------
def _scalar_value(x: Any) -> Any:
    return x.item() if hasattr(x, "item") else x


def _binary(op: type[Function], name: str, a: Any, b: Any) -> Tensor:
    """Apply a binary op to two tensors; the hot path skips coercion when the
    operands already agree in shape and dtype."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        a_data, b_data = a.data, b.data
        if a_data.shape == b_data.shape and (a_data.dtype is b_data.dtype or
                                             a_data.dtype == b_data.dtype):
            return op.apply(a, b)
    return op.apply(*binary_operands(name, a, b))


def add(a: Any, b: Any) -> Tensor:
    if isinstance(b, Tensor) and isinstance(a, Tensor):
        return _binary(Add, "add", a, b)
    if is_scalar(b):
        return AddScalar.apply(a, c=_scalar_value(b))
    if is_scalar(a):
        return AddScalar.apply(b, c=_scalar_value(a))
    return _binary(Add, "add", a, b)


def sub(a: Any, b: Any) -> Tensor:
    if isinstance(b, Tensor) and isinstance(a, Tensor):
        return _binary(Sub, "sub", a, b)
    if is_scalar(b):
        return AddScalar.apply(a, c=-_scalar_value(b))
    if is_scalar(a):
        return AddScalar.apply(Neg.apply(b), c=_scalar_value(a))
    return _binary(Sub, "sub", a, b)


def mul(a: Any, b: Any) -> Tensor:
    if isinstance(b, Tensor) and isinstance(a, Tensor):
        return _binary(Mul, "mul", a, b)
    if is_scalar(b):
        return MulScalar.apply(a, c=_scalar_value(b))
    if is_scalar(a):
        return MulScalar.apply(b, c=_scalar_value(a))
    return _binary(Mul, "mul", a, b)


def div(a: Any, b: Any) -> Tensor:
    if isinstance(b, Tensor) and isinstance(a, Tensor):
        return _binary(Div, "div", a, b)
    if is_scalar(b):
        if _scalar_value(b) == 0:   # x / 0 = +-inf or NaN, as x / Tensor(0.) (and PyTorch)
            return _binary(Div, "div", a, b)
        return MulScalar.apply(a, c=1.0 / _scalar_value(b))
    if is_scalar(a):
        return MulScalar.apply(PowScalar.apply(b, p=-1), c=_scalar_value(a))
    return _binary(Div, "div", a, b)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - mirrors the math name
    if isinstance(b, Tensor) and isinstance(a, Tensor):
        return _binary(Pow, "pow", a, b)
    if is_scalar(b):
        return PowScalar.apply(a, p=_scalar_value(b))
    if is_scalar(a):
        if _scalar_value(a) <= 0:
            raise ValueError(f"pow: a number raised to a tensor power needs a positive base "
                             f"(its gradient is c^x ln c), got {a}")
        return RPowScalar.apply(b, c=_scalar_value(a))
    return _binary(Pow, "pow", a, b)


def neg(a: Tensor) -> Tensor:
    return Neg.apply(a)


def abs(a: Tensor) -> Tensor:  # noqa: A001
    return Abs.apply(a)


def maximum(a: Any, b: Any) -> Tensor:
    return Maximum.apply(*binary_operands("maximum", a, b))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.apply(*binary_operands("minimum", a, b))


def clip(a: Tensor, lo: float | None = None, hi: float | None = None) -> Tensor:
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo, hi")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
    return Clip.apply(a, lo=lo, hi=hi)


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Pick from ``a`` where ``cond`` is true, else from ``b`` (differentiable in a and b)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("where: at least one of a, b must be a Tensor")
    a, b = binary_operands("where", a, b)
    cond_t = cond if isinstance(cond, Tensor) else Tensor(cond, device=a.device)
    if cond_t.device != a.device:
        from ..errors import DeviceError
        raise DeviceError(f"where: the condition is on {cond_t.device} but the values are on "
                          f"{a.device}; move it with .to({a.device!r}) (condition: "
                          f"{describe(cond_t)})")
    if cond_t.dtype.kind != "b":
        cond_t = Tensor._make(cond_t.data != 0, False)
    broadcast_shape("where", cond_t, a, b)
    return Where.apply(a, b, cond=cond_t.data)


def masked_fill(a: Tensor, mask: Any, value: float) -> Tensor:
    """``a`` with ``value`` wherever ``mask`` is true (e.g. -inf for masked attention)."""
    return where(mask, value, a)
