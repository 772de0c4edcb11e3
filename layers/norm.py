"""``LayerNorm``: normalise each example's features to mean 0, variance 1,
then rescale with learned gain and shift.

    mu = mean(x),  var = mean((x - mu)^2)      over the last len(normalized_shape) axes
    y = (x - mu) / sqrt(var + eps) * weight + bias

Unlike batch norm it needs no batch statistics, so it behaves the same in
training and evaluation and for any batch size -- which is why transformers
use it (F28: around each attention and feed-forward sub-layer).
"""
from __future__ import annotations

from typing import Any, Sequence

from minigrad import ops
from minigrad.errors import ShapeError
from minigrad.tensor import Tensor

from . import init
from .module import Module

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    """``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape``."""

    def __init__(self, normalized_shape: "int | Sequence[int]", eps: float = 1e-5,
                 elementwise_affine: bool = True, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = float(eps)
        if elementwise_affine:
            self.weight = init.ones_(init.empty_parameter(*self.normalized_shape, dtype=dtype,
                                                          device=device))
            self.bias = init.empty_parameter(*self.normalized_shape, dtype=dtype, device=device)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape:
            raise ShapeError(f"LayerNorm{self.normalized_shape}: input of shape {x.shape} does "
                             f"not end with {self.normalized_shape}")
        if k == 1:
            return ops.layer_norm(x, self.weight, self.bias, self.eps)
        flat = x.reshape(x.shape[:x.ndim - k] + (-1,))     # normalise over one merged axis
        w = None if self.weight is None else self.weight.reshape(-1)
        b = None if self.bias is None else self.bias.reshape(-1)
        return ops.layer_norm(flat, w, b, self.eps).reshape(x.shape)

    def extra_repr(self) -> str:
        affine = "" if self.weight is not None else ", elementwise_affine=False"
        return f"{self.normalized_shape}, eps={self.eps}{affine}"
