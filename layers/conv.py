"""``Conv2d`` and ``Conv1d``: learned convolution layers (F33), PyTorch's layout.

A ``Conv2d(C_in, C_out, k)`` holds ``weight`` (C_out, C_in / groups, kH, kW)
-- one small kH x kW filter per (output channel, input channel) pair -- and
``bias`` (C_out,). Its output at every position is the dot product of the
filters with the input patch under them (``minigrad.conv2d``). The same
filter is used at every position, so a 3 x 3 layer from 1 to 32 channels has
only 32 * 9 + 32 = 320 parameters whatever the image size -- the reason a
CNN needs far fewer parameters than an MLP on images.

Default init as PyTorch: ``kaiming_uniform_(weight, a=sqrt(5))``, i.e.
U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_in / groups * kH * kW, and
the bias from the same U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""
from __future__ import annotations

from typing import Any

from minigrad import ops
from minigrad.errors import ShapeError
from minigrad.tensor import Tensor

from . import init
from .module import Module

__all__ = ["Conv2d", "Conv1d"]


def _tuple(value: Any, n: int, name: str, layer: str) -> tuple[int, ...]:
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(items) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise ShapeError(f"{layer}: {name} must be an int or a {n}-tuple of ints, got {value!r}")
    return items


class _ConvNd(Module):
    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 dtype: Any = None, device: str | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        n = self._dims
        if not isinstance(groups, int) or groups < 1 or in_channels % groups \
                or out_channels % groups:
            raise ShapeError(f"{name}: groups={groups!r} must be a positive int dividing both "
                             f"in_channels={in_channels} and out_channels={out_channels}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name)
        self.stride = _tuple(stride, n, "stride", name)
        self.padding = _tuple(padding, n, "padding", name)
        self.dilation = _tuple(dilation, n, "dilation", name)
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1 \
                or min(self.padding) < 0:
            raise ShapeError(f"{name}: kernel_size, stride and dilation must be >= 1 and "
                             f"padding >= 0, got kernel_size={kernel_size!r}, "
                             f"stride={stride!r}, padding={padding!r}, dilation={dilation!r}")
        self.groups = groups
        self.weight = init.empty_parameter(out_channels, in_channels // groups,
                                           *self.kernel_size, dtype=dtype, device=device)
        if bias:
            self.bias = init.empty_parameter(out_channels, dtype=dtype, device=device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.pytorch_default_(self.weight, self.bias)   # kaiming_uniform(a=sqrt 5), U(+-1/sqrt fan_in)

    def _check_input(self, x: Tensor) -> None:
        want = self._dims + 2
        layout = "(N, C, H, W)" if self._dims == 2 else "(N, C, L)"
        if not isinstance(x, Tensor) or x.ndim != want or x.shape[1] != self.in_channels:
            shape = getattr(x, "shape", type(x).__name__)
            raise ShapeError(f"{self._signature()} expects a {want}-D input {layout} with "
                             f"C = {self.in_channels} channels, got shape {shape}")

    def _signature(self) -> str:
        k = self.kernel_size if self._dims == 2 else self.kernel_size[0]
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={k})"

    def extra_repr(self) -> str:
        one = lambda t: t[0] if self._dims == 1 else t  # noqa: E731
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={one(self.kernel_size)}"
        if any(v != 1 for v in self.stride):
            s += f", stride={one(self.stride)}"
        if any(self.padding):
            s += f", padding={one(self.padding)}"
        if any(v != 1 for v in self.dilation):
            s += f", dilation={one(self.dilation)}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """y = conv2d(x, weight, bias, stride, padding, dilation, groups)   (F33).

    x (N, C_in, H, W) -> y (N, C_out, H_out, W_out),
    H_out = floor((H + 2 padding - dilation (kH - 1) - 1) / stride) + 1.
    """

    _dims = 2

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return ops.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                          self.groups)


class Conv1d(_ConvNd):
    """y = conv1d(x, weight, bias, ...): x (N, C_in, L) -> y (N, C_out, L_out); weight
    (C_out, C_in / groups, k). (F33 with a height of 1.)"""

    _dims = 1

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return ops.conv1d(x, self.weight, self.bias, self.stride[0], self.padding[0],
                          self.dilation[0], self.groups)
