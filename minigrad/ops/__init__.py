"""Every differentiable op, and the Tensor methods and operators that call them.

Files, by what the ops do to the numbers:

* ``arithmetic.py`` -- + - * / **, abs, maximum/minimum, clip, where
* ``unary.py``      -- exp, log, sqrt, tanh, sigmoid, relu, leaky_relu, gelu
* ``reduce.py``     -- sum, mean, max, min, var, logsumexp
* ``shape.py``      -- reshape, transpose, broadcast, indexing, concat, stack, split
* ``linalg.py``     -- matmul
* ``nn.py``         -- softmax, log_softmax, losses, dropout, the fused linear
* ``fused.py``      -- fused ops with hand-derived backwards: layer_norm,
                       masked_softmax, lstm (each checked against its composed version)
* ``conv.py``       -- conv2d, conv1d (F33: im2col + one matmul, col2im backward)
* ``pool.py``       -- max_pool2d, avg_pool2d (F34)
* ``batchnorm.py``  -- batch_norm (training and evaluation)
* ``_windows.py``   -- the sliding windows convolution and pooling share
* ``fused_attention.py`` -- causal_attention: the causal attention core, fused,
                       skipping the blocked upper triangle
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .arithmetic import (abs, add, clip, div, masked_fill, maximum, minimum, mul, neg, pow,
                         sub, where)
from .fused import lstm, masked_softmax
from .fused_attention import causal_attention
from .linalg import matmul
from .nn import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                 dropout, half_sse, layer_norm, linear, log_softmax, mse_loss, one_hot, softmax)
from .reduce import logsumexp, max, mean, min, sum, var
from .shape import (broadcast_to, concatenate, embedding, gather, getitem, permute, reshape,
                    split, squeeze, stack, transpose, unsqueeze)
from .unary import exp, gelu, leaky_relu, log, relu, sigmoid, sqrt, tanh
from .batchnorm import batch_norm, batch_norm_reference
from .conv import conv1d, conv2d, conv2d_reference
from .pool import avg_pool2d, avg_pool2d_reference, max_pool2d, max_pool2d_reference

__all__ = [
    "abs", "add", "clip", "div", "masked_fill", "maximum", "minimum", "mul", "neg", "pow",
    "sub", "where", "matmul", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "dropout", "half_sse", "layer_norm", "linear", "log_softmax", "mse_loss", "one_hot",
    "softmax", "logsumexp", "max", "mean", "min", "sum", "var", "broadcast_to", "concatenate",
    "embedding", "gather", "getitem", "permute", "reshape", "split", "squeeze", "stack",
    "transpose", "unsqueeze", "exp", "gelu", "leaky_relu", "log", "relu", "sigmoid", "sqrt",
    "tanh", "lstm", "masked_softmax",
    "conv2d", "conv2d_reference", "conv1d", "max_pool2d", "max_pool2d_reference", "avg_pool2d",
    "avg_pool2d_reference", "batch_norm", "batch_norm_reference",
]
__all__.append("causal_attention")


def _compare(name: str):
    def method(self: Tensor, other: Any) -> Tensor:
        other_data = other.data if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and type(other.data) is not type(self.data):
            from ..errors import DeviceError
            raise DeviceError(f"{name}: tensors on {self.device} and {other.device}")
        return Tensor._make(getattr(self.data, name)(other_data), False)
    method.__name__ = name
    method.__doc__ = f"Elementwise comparison ``{name}`` (a boolean tensor, not differentiable)."
    return method


def _constant_reduction(name: str):
    def method(self: Tensor, axis: int | None = None) -> Tensor:
        return Tensor._make(self.xp.asarray(getattr(self.data, name)(axis=axis)), False)
    method.__name__ = name
    method.__doc__ = f"``{name}`` along ``axis`` (not differentiable)."
    return method


def _install_tensor_methods() -> None:
    T = Tensor
    T.__add__ = add
    T.__radd__ = lambda self, other: add(other, self)
    T.__sub__ = sub
    T.__rsub__ = lambda self, other: sub(other, self)
    T.__mul__ = mul
    T.__rmul__ = lambda self, other: mul(other, self)
    T.__truediv__ = div
    T.__rtruediv__ = lambda self, other: div(other, self)
    T.__pow__ = pow
    T.__rpow__ = lambda self, other: pow(other, self)
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__neg__ = neg
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__getitem__ = getitem
    for name in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
        setattr(T, name, _compare(name))
    T.__hash__ = object.__hash__  # tensors compare elementwise but stay usable as dict keys

    for fn in (abs, clip, exp, log, sqrt, tanh, sigmoid, relu, leaky_relu, gelu, sum, mean, max,
               min, var, logsumexp, softmax, log_softmax, reshape, permute, transpose,
               broadcast_to, squeeze, unsqueeze, matmul, maximum, minimum, masked_fill, pow,
               split, gather):
        setattr(T, fn.__name__, fn)
    T.mT = property(lambda self: transpose(self, -2, -1), doc="Transpose of the last two axes.")
    T.T = property(lambda self: permute(self, *reversed(range(self.ndim))),
                   doc="All axes reversed (the matrix transpose for 2-d tensors).")
    T.swapaxes = transpose
    T.expand = broadcast_to
    T.view = reshape
    for name in ("any", "all", "argmax", "argmin"):
        setattr(T, name, _constant_reduction(name))


_install_tensor_methods()


# trigonometric and special functions (torch.sin, torch.cos, torch.erf)
from .special import erf  # noqa: E402
from .trig import cos, sin  # noqa: E402

__all__ += ["sin", "cos", "erf"]
for _fn in (sin, cos, erf):
    setattr(Tensor, _fn.__name__, _fn)
