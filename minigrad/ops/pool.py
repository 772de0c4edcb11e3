"""Pooling (F34): ``max_pool2d`` and ``avg_pool2d``, PyTorch's signatures.

Both slide a kH x kW window with stride s (default: the kernel size, so the
windows tile the image) over an (N, C, H, W) input padded by p on each side,
and reduce each window to one number, channel by channel:

* max pooling: out[n, c, i, j] = max over the window of x_p; its gradient goes
  to the arg-max of each window: dx_p[n, c, i s + u*, j s + v*] += g[n, c, i, j].
  Tied maxima: the **first** maximal element of the window in row-major order
  (the top-most, then left-most tap) receives the whole gradient, the others
  none -- the rule of PyTorch's CPU kernel, and of ``argmax``. (Splitting it
  among the ties would also be a valid subgradient; one winner keeps the sum
  of the gradients equal to the sum of g, as it must be for a max.)
  Padding is -inf, so a padded position never wins.
* average pooling: out = (sum over the window of x_p) / (kH kW) -- the padded
  zeros *are* counted (PyTorch's default ``count_include_pad=True``); its
  gradient is spread evenly: every tap of a window receives g / (kH kW).

Overlapping windows (stride < kernel) make one input position a member of
several windows; its gradient is the sum over them (col2im's scatter-add).
``padding`` may be at most half the kernel (as in PyTorch), so that every
window holds at least one real input.

Each op is fused (one graph node, the backward above by hand, the windows an
``as_strided`` view: see ``_windows.py``) with a composed twin
(``max_pool2d_reference``, ``avg_pool2d_reference``) run under
``minigrad.use_fused(False)`` and differentiated for second derivatives.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Function, is_grad_enabled
from ..errors import ShapeError
from ..modes import fused_enabled
from ..tensor import Tensor
from ._util import require_float, xp_of
from ._windows import offset_index, output_size, pad2d, pair, stacked_windows, \
    window_view

__all__ = ["max_pool2d", "avg_pool2d", "max_pool2d_reference", "avg_pool2d_reference",
           "MaxPool2d", "AvgPool2d"]

_ONE = (1, 1)


def _pool_args(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a minigrad Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ShapeError(f"{op}: expects a 4-D input (N, C, H, W), got shape {x.shape}"
                         + (" (add a batch axis with x.unsqueeze(0))" if x.ndim == 3 else ""))
    require_float(op, x)
    k = pair(op, "kernel_size", kernel_size, 1)
    s = k if stride is None else pair(op, "stride", stride, 1)
    p = pair(op, "padding", padding, 0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ShapeError(f"{op}: padding {padding!r} must be at most half the kernel size "
                         f"{kernel_size!r} (else a window could hold nothing but padding); "
                         f"input shape {x.shape}")
    return k, s, p, output_size(op, x.shape, k, s, p)


def _unpad(xp: Any, dxpad: Any, p: tuple[int, int]) -> Any:
    ph, pw = p
    if not (ph or pw):
        return dxpad
    hp, wp = dxpad.shape[2:]
    return dxpad[:, :, ph:hp - ph, pw:wp - pw]


# ---------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------
class MaxPool2d(Function):
    """out = max of each window;  dx = g scattered to each window's (first) arg-max."""

    fused = True

    def forward(self, x, kernel, stride, padding, out_hw):
        xp = xp_of(x)
        n, c = x.shape[:2]
        ph, pw = padding
        self.params = dict(kernel_size=kernel, stride=stride, padding=padding)
        xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant",
                      constant_values=-xp.inf) if ph or pw else x
        self.padded_shape = xpad.shape
        view = window_view(xpad, kernel, stride, _ONE, out_hw)         # (N, C, kH, kW, Ho, Wo)
        flat = view.reshape(n, c, kernel[0] * kernel[1], *out_hw)     # tap u kW + v on axis 2
        self.argmax = flat.argmax(axis=2)        # the first maximum wins ties
        return flat.max(axis=2)

    def backward(self, grad):
        if is_grad_enabled():
            from .fused import _differentiable_backward
            return _differentiable_backward(
                self, lambda t: max_pool2d_reference(t, **self.params), grad)
        xp, g = grad.xp, grad.data
        kh, kw = self.params["kernel_size"]
        stride, out_hw = self.params["stride"], g.shape[2:]
        dxpad = xp.zeros(self.padded_shape, dtype=g.dtype)
        for u in range(kh):
            for v in range(kw):        # every output sends g to the tap that won
                won = self.argmax == (u * kw + v)
                dxpad[offset_index(u, v, stride, _ONE, out_hw)] += g * won
        return Tensor._make(_unpad(xp, dxpad, self.params["padding"]), False)


def max_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Max over each kH x kW window (F34), as ``torch.nn.functional.max_pool2d``.

    ``stride`` defaults to ``kernel_size``; ``padding`` (at most half the
    kernel) pads with -inf. Ties: the first maximum (row-major) gets the gradient.
    """
    k, s, p, out_hw = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    if not fused_enabled():
        return max_pool2d_reference(x, k, s, p)
    return MaxPool2d.apply(x, kernel=k, stride=s, padding=p, out_hw=out_hw)


def max_pool2d_reference(x: Tensor, kernel_size: Any, stride: Any = None,
                         padding: Any = 0) -> Tensor:
    """Max pooling composed from primitive ops: pad with -inf, stack the kH kW strided
    slices, pick each window's first arg-max with ``gather`` (so ties follow the same rule)."""
    from .shape import gather
    k, s, p, out_hw = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    windows = stacked_windows(pad2d(x, p, float("-inf")), k, s, _ONE, out_hw)  # (N,C,kk,Ho,Wo)
    first_max = windows.data.argmax(axis=2)[:, :, None]          # a constant index
    return gather(windows, 2, first_max).squeeze(2)


# ---------------------------------------------------------------------------
# average pooling
# ---------------------------------------------------------------------------
class AvgPool2d(Function):
    """out = mean of each window (padded zeros counted);  every tap gets g / (kH kW)."""

    fused = True

    def forward(self, x, kernel, stride, padding, out_hw):
        xp = xp_of(x)
        ph, pw = padding
        self.params = dict(kernel_size=kernel, stride=stride, padding=padding)
        xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        self.padded_shape = xpad.shape
        view = window_view(xpad, kernel, stride, _ONE, out_hw)
        out = view.sum(axis=(2, 3))
        out *= 1.0 / (kernel[0] * kernel[1])
        return out

    def backward(self, grad):
        if is_grad_enabled():
            from .fused import _differentiable_backward
            return _differentiable_backward(
                self, lambda t: avg_pool2d_reference(t, **self.params), grad)
        xp, g = grad.xp, grad.data
        kh, kw = self.params["kernel_size"]
        share = g * (1.0 / (kh * kw))
        stride, out_hw = self.params["stride"], g.shape[2:]
        dxpad = xp.zeros(self.padded_shape, dtype=g.dtype)
        for u in range(kh):
            for v in range(kw):        # col2im of a window gradient that is g / (kH kW) everywhere
                dxpad[offset_index(u, v, stride, _ONE, out_hw)] += share
        return Tensor._make(_unpad(xp, dxpad, self.params["padding"]), False)


def avg_pool2d(x: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """Mean over each kH x kW window (F34), as ``torch.nn.functional.avg_pool2d``
    (``stride`` defaults to ``kernel_size``; padded zeros count in the mean)."""
    k, s, p, out_hw = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    if not fused_enabled():
        return avg_pool2d_reference(x, k, s, p)
    return AvgPool2d.apply(x, kernel=k, stride=s, padding=p, out_hw=out_hw)


def avg_pool2d_reference(x: Tensor, kernel_size: Any, stride: Any = None,
                         padding: Any = 0) -> Tensor:
    """Average pooling composed from primitive ops: pad, stack the strided slices, mean."""
    k, s, p, out_hw = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    return stacked_windows(pad2d(x, p), k, s, _ONE, out_hw).mean(axis=2)
