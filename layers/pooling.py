"""``MaxPool2d``, ``AvgPool2d`` and ``Flatten``: the parameter-free layers of a CNN.

Pooling (F34) shrinks each feature map by summarising every kH x kW window
by its maximum (``MaxPool2d``: "is the feature there?") or its mean
(``AvgPool2d``). With the default stride = kernel size, a 2 x 2 pool halves
the height and width. ``Flatten`` turns the (N, C, H, W) maps into
(N, C H W) rows for the fully connected layer at the end.
"""
from __future__ import annotations

from typing import Any

from minigrad import ops
from minigrad.errors import ShapeError
from minigrad.tensor import Tensor

from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "Flatten"]


class _Pool2d(Module):
    _op = staticmethod(ops.max_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 4:
            shape = getattr(x, "shape", type(x).__name__)
            raise ShapeError(f"{type(self).__name__}(kernel_size={self.kernel_size}) expects a "
                             f"4-D input (N, C, H, W), got shape {shape}")
        return type(self)._op(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """y = max over each window (F34); ties: the first maximum gets the gradient."""

    _op = staticmethod(ops.max_pool2d)


class AvgPool2d(_Pool2d):
    """y = mean over each window, padded zeros included (F34)."""

    _op = staticmethod(ops.avg_pool2d)


class Flatten(Module):
    """Merge axes ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) -> (N, C H W)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Tensor) -> Tensor:
        n = x.ndim
        start, end = self.start_dim % max(n, 1), self.end_dim % max(n, 1)
        if not (-n <= self.start_dim < n and -n <= self.end_dim < n) or start > end:
            raise ShapeError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) does "
                             f"not fit an input of shape {x.shape}")
        merged = 1
        for s in x.shape[start:end + 1]:
            merged *= s
        return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
