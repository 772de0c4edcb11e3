"""Reductions over axes: sum, mean, max, min, var, logsumexp.

The backward of a reduction *spreads* the gradient back over the reduced
axes: for a sum every element gets the full gradient; for a max only the
winners do.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Function, is_grad_enabled
from ..errors import ShapeError
from ..tensor import Tensor
from .arithmetic import where
from ._util import normalize_axes, require_float, xp_of


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """out = sum of a over ``axes``;   da = g broadcast back to a's shape."""

    def forward(self, a, axes, keepdims):
        self.axes, self.keepdims = axes, keepdims
        return a.sum(axis=axes, keepdims=keepdims)

    def backward(self, grad):
        (a,) = self.inputs
        if not self.keepdims:
            grad = grad.reshape(_kept_shape(a.shape, self.axes))
        return grad.broadcast_to(a.shape)


class Extremum(Function):
    """out = max (or min) of a over ``axes``;
    da = g at the positions that attain it (shared equally among ties), 0 elsewhere.

    A NaN wins (NumPy's and PyTorch's max/min propagate it), so a row holding
    NaN sends its whole gradient to its NaN position(s) -- not NaN to every
    position, which ``a == max`` (false everywhere when max is NaN) would give.
    """

    def forward(self, a, axes, keepdims, largest):
        if a.size == 0:
            raise ShapeError(f"{'max' if largest else 'min'}: cannot reduce an empty tensor "
                             f"(shape {a.shape}): a maximum of no numbers is undefined")
        xp = xp_of(a)
        self.axes, self.keepdims = axes, keepdims
        kept = a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True)
        winners = (a == kept) | (xp.isnan(a) & xp.isnan(kept))
        winners = winners.astype(a.dtype)
        self.share = winners / winners.sum(axis=axes, keepdims=True)  # >= 1 winner per row
        return kept if keepdims else kept.reshape(
            tuple(n for i, n in enumerate(a.shape) if i not in axes))

    def backward(self, grad):
        (a,) = self.inputs
        if not self.keepdims:
            grad = grad.reshape(_kept_shape(a.shape, self.axes))
        return grad * Tensor._make(self.share, False)


class LogSumExp(Function):
    """out = log sum_i e^(a_i) over ``axes``, computed as m + log sum_i e^(a_i - m),
    m = max_i a_i (no overflow);   da = g * softmax(a) = g * e^(a - out).

    Rows that are not finite follow the limits (and PyTorch's values): a row
    with +inf gives +inf, a row that is all -inf gives -inf (log 0), a row
    with NaN gives NaN; there the shift m cannot be subtracted (inf - inf), so
    the shifted row is 0 at the positions equal to m and -inf elsewhere. The
    gradient there is the softmax's limit: shared equally among the +inf
    positions (or among all positions of an all -inf row) -- where PyTorch's
    e^(a - out) gives NaN. A reduction over zero elements is log 0 = -inf.
    """

    def forward(self, a, axes, keepdims):
        xp = xp_of(a)
        self.axes, self.keepdims = axes, keepdims
        if a.size == 0:
            shape = _kept_shape(a.shape, axes)
            self.weights = xp.zeros(a.shape, dtype=a.dtype)
            out = xp.full(shape, -xp.inf, dtype=a.dtype)
            return out if keepdims else out.reshape(
                tuple(n for i, n in enumerate(a.shape) if i not in axes))
        m = a.max(axis=axes, keepdims=True)
        finite = xp.isfinite(m)
        m0 = xp.where(finite, m, 0).astype(a.dtype)
        shifted = xp.where(finite, a - m0, xp.where(a == m, 0, -xp.inf).astype(a.dtype))
        e = xp.exp(shifted)                          # <= 1: no overflow
        total = e.sum(axis=axes, keepdims=True)      # >= 1 except in NaN rows (0)
        has_sum = total > 0
        safe = xp.where(has_sum, total, 1).astype(a.dtype)
        self.weights = xp.where(has_sum, e / safe, xp.nan).astype(a.dtype)
        out = xp.where(finite, m0 + xp.log(safe), m).astype(a.dtype)
        return out if keepdims else out.reshape(
            tuple(n for i, n in enumerate(a.shape) if i not in axes))

    def backward(self, grad):
        (a,) = self.inputs
        if not self.keepdims:
            grad = grad.reshape(_kept_shape(a.shape, self.axes))
        if is_grad_enabled():  # create_graph=True: e^(a - out) from recorded ops
            out = self.output if self.keepdims else self.output.reshape(grad.shape)
            fine = Tensor._make(a.xp.isfinite(out.data), False)
            zero = Tensor._make(a.xp.zeros((), dtype=a.dtype), False)
            soft = (where(fine, a, zero) - where(fine, out, zero)).exp()
            return grad * where(fine, soft, Tensor._make(self.weights, False))
        return grad * Tensor._make(self.weights, False)


def sum(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(a, axes=normalize_axes("sum", axis, a.ndim), keepdims=keepdims)


def _reciprocal_count(count: int) -> float:
    """1 / count, and NaN for count <= 0: the mean of no numbers is undefined
    (NumPy and PyTorch say NaN; a silent 0.0 would hide an empty batch).
    Multiplying by NaN raises no NumPy warning, unlike 0 / 0."""
    return 1.0 / count if count > 0 else float("nan")


def mean(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum divided by the number of elements reduced (NaN over zero elements)."""
    require_float("mean", a)
    axes = normalize_axes("mean", axis, a.ndim)
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    return Sum.apply(a, axes=axes, keepdims=keepdims) * _reciprocal_count(count)


def max(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Extremum.apply(a, axes=normalize_axes("max", axis, a.ndim), keepdims=keepdims,
                          largest=True)


def min(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Extremum.apply(a, axes=normalize_axes("min", axis, a.ndim), keepdims=keepdims,
                          largest=False)


def var(a: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance (1/(n - ddof)) sum (a - mean)^2, built from differentiable ops
    (NaN when n - ddof <= 0)."""
    require_float("var", a)
    axes = normalize_axes("var", axis, a.ndim)
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    centered = a - mean(a, axis=axes, keepdims=True)
    # n - ddof <= 0 (one element with ddof=1, or none): NaN, as NumPy and PyTorch
    return sum(centered * centered, axis=axes, keepdims=keepdims) * _reciprocal_count(count - ddof)


def logsumexp(a: Tensor, axis: Any = -1, keepdims: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``axis`` (an int, a tuple, or None for all), computed
    stably as m + log(sum(exp(a - m))), m = max(a); see :class:`LogSumExp`."""
    require_float("logsumexp", a)
    if isinstance(axis, (tuple, list)) and len(axis) == 0:
        raise ShapeError(f"logsumexp: axis=() names no axis to reduce (tensor of shape "
                         f"{a.shape}); give an axis, a tuple of axes, or None for all")
    if a.ndim == 0 and axis in (-1, 0):
        axis = None                      # a 0-d tensor: logsumexp of one number is itself
    return LogSumExp.apply(a, axes=normalize_axes("logsumexp", axis, a.ndim),
                           keepdims=keepdims)
