"""Reductions over axes: sum, mean, max, min, var, logsumexp.

The backward of a reduction *spreads* the gradient back over the reduced
axes: for a sum every element gets the full gradient; for a max only the
winners do.
"""
from __future__ import annotations

import builtins
from typing import Any

from ..autograd import Function
from ..tensor import Tensor
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
    da = g at the positions that attain it (shared equally among ties), 0 elsewhere."""

    def forward(self, a, axes, keepdims, largest):
        if a.size == 0:
            raise ValueError("max/min of an empty tensor")
        self.axes, self.keepdims = axes, keepdims
        kept = a.max(axis=axes, keepdims=True) if largest else a.min(axis=axes, keepdims=True)
        winners = (a == kept).astype(a.dtype)
        self.share = winners / winners.sum(axis=axes, keepdims=True)
        return kept if keepdims else kept.reshape(
            tuple(n for i, n in enumerate(a.shape) if i not in axes))

    def backward(self, grad):
        (a,) = self.inputs
        if not self.keepdims:
            grad = grad.reshape(_kept_shape(a.shape, self.axes))
        return grad * Tensor._make(self.share, False)


def sum(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(a, axes=normalize_axes("sum", axis, a.ndim), keepdims=keepdims)


def mean(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum divided by the number of elements reduced."""
    require_float("mean", a)
    axes = normalize_axes("mean", axis, a.ndim)
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    return Sum.apply(a, axes=axes, keepdims=keepdims) * (1.0 / builtins.max(count, 1))


def max(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Extremum.apply(a, axes=normalize_axes("max", axis, a.ndim), keepdims=keepdims,
                          largest=True)


def min(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Extremum.apply(a, axes=normalize_axes("min", axis, a.ndim), keepdims=keepdims,
                          largest=False)


def var(a: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance (1/(n - ddof)) sum (a - mean)^2, built from differentiable ops."""
    require_float("var", a)
    axes = normalize_axes("var", axis, a.ndim)
    count = 1
    for ax in axes:
        count *= a.shape[ax]
    centered = a - mean(a, axis=axes, keepdims=True)
    return sum(centered * centered, axis=axes, keepdims=keepdims) * (1.0 / builtins.max(count - ddof, 1))


def logsumexp(a: Tensor, axis: Any = -1, keepdims: bool = False) -> Tensor:
    """log(sum(exp(a))) computed stably as m + log(sum(exp(a - m))), m = max(a)."""
    require_float("logsumexp", a)
    m = Tensor._make(xp_of(a.data).max(a.data, axis=axis, keepdims=True), False)
    out = (a - m).exp().sum(axis=axis, keepdims=True).log() + m
    return out if keepdims else out.squeeze(axis)
