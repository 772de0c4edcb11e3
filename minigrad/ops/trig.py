"""Trigonometric functions: sin and cos (``torch.sin`` / ``torch.cos``).

Each backward is written with minigrad ops, so it can be differentiated again
(sin'' = -sin, cos'' = -cos: what ``gradgradcheck`` checks).
"""
from __future__ import annotations

from ..autograd import Function
from ..tensor import Tensor
from ._util import require_float, xp_of

__all__ = ["sin", "cos"]


class Sin(Function):
    """out = sin(a);   da = g * cos(a)."""

    def forward(self, a):
        return xp_of(a).sin(a)

    def backward(self, grad):
        (a,) = self.inputs
        return grad * cos(a)


class Cos(Function):
    """out = cos(a);   da = -g * sin(a)."""

    def forward(self, a):
        return xp_of(a).cos(a)

    def backward(self, grad):
        (a,) = self.inputs
        return grad * -sin(a)


def sin(a: Tensor) -> Tensor:
    """Elementwise sine (radians)."""
    require_float("sin", a)
    return Sin.apply(a)


def cos(a: Tensor) -> Tensor:
    """Elementwise cosine (radians)."""
    require_float("cos", a)
    return Cos.apply(a)
