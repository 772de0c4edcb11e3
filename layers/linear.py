"""``Linear``: the dense layer, y = x W^T + b.

F02  z_j = sum_i W_ji x_i + b_j for every output unit j -- all of them at once
is one matrix product. With a batch of row vectors x (shape (..., in)) and a
weight W of shape (out, in) (PyTorch's layout: one row per output unit):

    y = x @ W^T + b          y: (..., out)

F01 (a dense layer with an activation, Z = sigma(W X + b)) is ``Linear``
followed by an activation module.

Backward (the formula F24 of the course, which the fused op
``minigrad.ops.linear`` implements -- one graph node instead of transpose,
matmul and add): with g = dL/dy,

    dL/dW = g^T x   (sum of outer products over the batch),
    dL/db = sum of g over the batch,
    dL/dx = g W.
"""
from __future__ import annotations

from typing import Any

from minigrad import ops
from minigrad.tensor import Tensor

from . import init
from .module import Module

__all__ = ["Linear"]


class Linear(Module):
    """y = x @ weight.T + bias   (F01, F02).

    ``weight``: (out_features, in_features); ``bias``: (out_features,).
    Default init as PyTorch: both ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None, device: str | None = None) -> None:
        super().__init__()
        from minigrad._checks import check_size
        self.in_features = check_size("Linear", in_features, "in_features")
        self.out_features = check_size("Linear", out_features, "out_features")
        self.weight = init.empty_parameter(out_features, in_features, dtype=dtype, device=device)
        if bias:
            self.bias = init.empty_parameter(out_features, dtype=dtype, device=device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.pytorch_default_(self.weight, self.bias)   # kaiming_uniform(a=sqrt 5), U(+-1/sqrt fan_in)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1:] != (self.in_features,):
            from minigrad.errors import ShapeError
            raise ShapeError(f"Linear({self.in_features}, {self.out_features}) expects inputs "
                             f"whose last dimension is {self.in_features}, got shape {x.shape}")
        # one fused graph node for x @ W^T + b (minigrad.ops.linear), with the
        # backward written above: dx = g W, dW = g^T x, db = sum of g
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
