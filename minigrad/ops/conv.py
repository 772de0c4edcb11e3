"""Convolution (F33): ``conv2d`` and ``conv1d``, PyTorch's signatures and layouts.

F33, the 2-D convolution every framework computes (a cross-correlation: the
kernel is not flipped), for an input x (N, C_in, H, W), a weight W
(C_out, C_in / groups, kH, kW), stride s, padding p, dilation d:

    out[n, o, i, j] = b[o] + sum_c sum_u sum_v W[o, c, u, v] * x_p[n, g(o) + c, i s + u d, j s + v d]

where x_p is x with p zeros around each image and g(o) the first input
channel of o's group. Its two gradients, with g = dL/d(out):

    dW[o, c, u, v] = sum_n sum_i sum_j g[n, o, i, j] * x_p[n, c, i s + u d, j s + v d]
        -- the correlation of the input with the output gradient;
    dx_p[n, c, y, z] = sum_o sum_u sum_v W[o, c, u, v] * g[n, o, (y - u d) / s, (z - v d) / s]
        (terms with a non-integer or out-of-range index are 0)
        -- for s = 1 this is the "full" correlation of the output gradient
        (padded by d (k - 1) on each side) with the kernel flipped in both
        axes and its in/out channels swapped: the "transposed convolution";
    db[o] = sum of g over n, i, j.

How it is computed (im2col + one matmul):

1. pad x, then view it as windows (N, G, C_in/G, kH, kW, H_out, W_out)
   without copying (``as_strided``, see ``_windows.py``);
2. reshape that view to the im2col matrix ``cols`` (N, G, K, L) with
   K = (C_in/G) kH kW and L = H_out W_out -- this is the one copy;
3. out = W (G, C_out/G, K) @ cols -> (N, G, C_out/G, L), which *is* the
   (N, C_out, H_out, W_out) output in memory (no transpose afterwards).

Backward reuses ``cols``: dW = sum over n of g @ cols^T; the column gradient
dcols = W^T @ g goes back to the input by col2im (kH kW strided slice-adds).

Memory: ``cols`` holds N * C_in * kH * kW * H_out * W_out numbers -- about
kH kW times the input. A batch of 64 x 1 x 28 x 28 through a 3 x 3
convolution (26 x 26 outputs) gives 64 * 9 * 676 = 389,376 numbers, 1.6 MB in
float32 (3.1 MB in float64), whatever C_out is (32 or 64 output channels
share it); the second layer of the W5 benchmark (64 x 32 x 13 x 13 through
3 x 3) needs 64 * 288 * 121 = 2.2 M numbers, 8.9 MB. It is kept for backward.

``conv2d`` is a fused op (one graph node, the backward above by hand);
``conv2d_reference`` computes the same thing composed from primitive ops
(pad, slices, stack, matmul), and runs instead under
``minigrad.use_fused(False)``. With ``create_graph=True`` the fused backward
differentiates the reference, so second derivatives are exact.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, ShapeError, describe
from ..modes import fused_enabled
from ..tensor import Tensor
from ._util import require_float, xp_of
from ._windows import col2im_add, output_size, pad2d, pair, stacked_windows, window_view

__all__ = ["conv2d", "conv2d_reference", "conv1d", "Conv2d"]

IntPair = "int | tuple[int, int]"


class Conv2d(Function):
    """F33 in one node: out = W @ im2col(x) + b; dW = g @ cols^T, dx = col2im(W^T @ g),
    db = sum of g (see the module docstring for the formulas)."""

    fused = True

    def forward(self, x, weight, bias=None, *, stride, padding, dilation, groups, out_hw):
        xp = xp_of(x)
        n, c = x.shape[:2]
        c_out, c_g, kh, kw = weight.shape
        ho, wo = out_hw
        ph, pw = padding
        self.params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        self.padded_shape = xpad.shape
        view = window_view(xpad, (kh, kw), stride, dilation, out_hw)   # (N, C, kH, kW, Ho, Wo)
        cols = view.reshape(n, groups, c_g * kh * kw, ho * wo)          # the im2col copy
        w = weight.reshape(groups, c_out // groups, c_g * kh * kw)
        out = w @ cols                                  # (N, G, C_out/G, L) = (N, C_out, Ho, Wo)
        out = out.reshape(n, c_out, ho, wo)
        if bias is not None:
            out += bias.reshape(1, c_out, 1, 1)
        self.cols = cols
        return out

    def backward(self, grad):
        if is_grad_enabled():      # create_graph=True: differentiate the composed version
            from .fused import _differentiable_backward
            return _differentiable_backward(
                self, lambda *ts: conv2d_reference(*ts, **self.params), grad)
        inputs = self.inputs
        x, weight = inputs[0], inputs[1]
        xp = grad.xp
        groups, stride, dilation = self.params["groups"], self.params["stride"], \
            self.params["dilation"]
        ph, pw = self.params["padding"]
        n, c_out, ho, wo = grad.shape
        _, c_g, kh, kw = weight.shape
        g = grad.data.reshape(n, groups, c_out // groups, ho * wo)
        dx = dw = db = None
        if weight.requires_grad:
            dw = (g @ self.cols.swapaxes(-1, -2)).sum(axis=0)          # (G, C_out/G, K)
            dw = Tensor._make(dw.reshape(weight.shape), False)
        if x.requires_grad:
            w = weight.data.reshape(groups, c_out // groups, c_g * kh * kw)
            dcols = w.swapaxes(-1, -2) @ g                              # (N, G, K, L)
            dcols = dcols.reshape(n, groups * c_g, kh, kw, ho, wo)
            dxpad = xp.zeros(self.padded_shape, dtype=grad.dtype)
            col2im_add(dxpad, dcols, stride, dilation)
            hp, wp = self.padded_shape[2:]
            dx = Tensor._make(dxpad[:, :, ph:hp - ph, pw:wp - pw], False) if ph or pw \
                else Tensor._make(dxpad, False)
        if len(inputs) > 2 and inputs[2].requires_grad:
            db = Tensor._make(grad.data.sum(axis=(0, 2, 3)), False)
        return (dx, dw, db)[:len(inputs)]


def _check_conv(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: Any,
                spatial: int) -> None:
    layout = "(N, C, H, W)" if spatial == 2 else "(N, C, L)"
    wlayout = "(C_out, C_in/groups, kH, kW)" if spatial == 2 else "(C_out, C_in/groups, k)"
    for name, t in (("input", x), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a minigrad Tensor, got {type(t).__name__}")
    if x.ndim != spatial + 2:
        raise ShapeError(f"{op}: expects a {spatial + 2}-D input {layout}, got shape {x.shape}"
                         + (" (add a batch axis with x.unsqueeze(0))"
                            if x.ndim == spatial + 1 else ""))
    if weight.ndim != spatial + 2:
        raise ShapeError(f"{op}: expects a {spatial + 2}-D weight {wlayout}, got shape "
                         f"{weight.shape}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ShapeError(f"{op}: groups must be a positive int, got {groups!r}")
    c_in, c_out, c_g = x.shape[1], weight.shape[0], weight.shape[1]
    if c_in % groups or c_out % groups:
        raise ShapeError(f"{op}: groups={groups} must divide both the input channels ({c_in}) "
                         f"and the output channels ({c_out}); input shape {x.shape}, weight "
                         f"shape {weight.shape}")
    if c_g * groups != c_in:
        raise ShapeError(
            f"{op}: channel mismatch: the input has {c_in} channels (shape {x.shape}) but the "
            f"weight {weight.shape} with groups={groups} expects {c_g} x {groups} = "
            f"{c_g * groups}")
    if bias is not None and bias.shape != (c_out,):
        raise ShapeError(f"{op}: bias must have shape ({c_out},) for a weight of shape "
                         f"{weight.shape}, got {bias.shape}")
    for t in (weight, bias):
        if t is not None and t.dtype != x.dtype:
            raise DTypeError(f"{op}: input, weight and bias must share one dtype, got "
                             f"{describe(x)} and {describe(t)}")
    require_float(op, x)


def _conv2d(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, stride: Any,
            padding: Any, dilation: Any, groups: int) -> Tensor:
    s, p, d = pair(op, "stride", stride, 1), pair(op, "padding", padding, 0), \
        pair(op, "dilation", dilation, 1)
    out_hw = output_size(op, x.shape, weight.shape[2:], s, p, d)
    if not fused_enabled():
        return conv2d_reference(x, weight, bias, s, p, d, groups)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return Conv2d.apply(*inputs, stride=s, padding=p, dilation=d, groups=groups, out_hw=out_hw)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (F33), as ``torch.nn.functional.conv2d``.

    x (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), bias (C_out,);
    ``stride``, ``padding`` (zeros on each side), ``dilation``: an int or a pair
    (along H, along W). Output (N, C_out, H_out, W_out) with
    H_out = floor((H + 2 p - d (kH - 1) - 1) / s) + 1.
    """
    _check_conv("conv2d", x, weight, bias, groups, 2)
    return _conv2d("conv2d", x, weight, bias, stride, padding, dilation, groups)


def conv2d_reference(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
                     padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """F33 composed from primitive ops: pad, kH kW strided slices, stack, matmul, add.

    Autograd differentiates it on its own (GetItem's backward is the
    scatter-add of col2im, Stack's is the split); the fused ``Conv2d`` must
    agree with it to round-off, first and second derivatives included.
    """
    op = "conv2d"
    s, p, d = pair(op, "stride", stride, 1), pair(op, "padding", padding, 0), \
        pair(op, "dilation", dilation, 1)
    kh, kw = weight.shape[2:]
    out_hw = output_size(op, x.shape, (kh, kw), s, p, d)
    n, c_out, c_g = x.shape[0], weight.shape[0], weight.shape[1]
    windows = stacked_windows(pad2d(x, p), (kh, kw), s, d, out_hw)      # (N, C, kH kW, Ho, Wo)
    cols = windows.reshape(n, groups, c_g * kh * kw, out_hw[0] * out_hw[1])
    out = weight.reshape(groups, c_out // groups, c_g * kh * kw) @ cols
    out = out.reshape(n, c_out, *out_hw)
    if bias is not None:
        out = out + bias.reshape(1, c_out, 1, 1)
    return out


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1,
           padding: int = 0, dilation: int = 1, groups: int = 1) -> Tensor:
    """1-D convolution, as ``torch.nn.functional.conv1d``: x (N, C_in, L),
    weight (C_out, C_in / groups, k). It is F33 with a height of 1 (the same
    op on x (N, C, 1, L) and a 1 x k kernel)."""
    op = "conv1d"
    _check_conv(op, x, weight, bias, groups, 1)
    for name, v in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if isinstance(v, (tuple, list)):
            if len(v) != 1:
                raise ShapeError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
    one = lambda v: v[0] if isinstance(v, (tuple, list)) else v  # noqa: E731
    stride, padding, dilation = one(stride), one(padding), one(dilation)
    if isinstance(padding, int) and padding >= 0 and isinstance(dilation, int) and dilation >= 1 \
            and dilation * (weight.shape[2] - 1) + 1 > x.shape[2] + 2 * padding:
        raise ShapeError(
            f"{op}: the kernel of size {weight.shape[2]} (dilation {dilation}) is larger than the "
            f"padded input: {x.shape[2]} + 2*{padding} = {x.shape[2] + 2 * padding} positions "
            f"(input shape {x.shape})")
    out = _conv2d(op, x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride), (0, padding),
                  (1, dilation), groups)
    return out.squeeze(2)
