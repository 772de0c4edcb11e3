"""Sliding windows: what convolution and pooling share.

A 2-D convolution or pooling layer looks at the input through a window of
kH x kW positions that slides with a ``stride``, with taps ``dilation``
apart, over an input padded by ``padding`` on each side. This file holds the
pieces both need:

* :func:`pair`, :func:`output_size` -- argument checks and the output size
  H_out = floor((H + 2p - d (k - 1) - 1) / s) + 1, with errors that name the op;
* :func:`window_view` -- the im2col view: an array of shape
  (N, C, kH, kW, H_out, W_out) whose element [n, c, u, v, i, j] is
  x_padded[n, c, i s + u d, j s + v d]. Made with ``as_strided`` (NumPy's
  ``numpy.lib.stride_tricks.as_strided``, CuPy's ``cupy.lib.stride_tricks.as_strided``:
  the same function, strides in bytes) it costs no copy at all: the same
  input number appears in several windows, so the view reads it several times;
* :func:`col2im_add` -- the way back: add a gradient of that window shape into
  a zero array of the padded input's shape. A number that sat in several
  windows receives the sum of their gradients (a scatter-*add*). Written as
  kH * kW strided slice-adds, one per kernel offset (u, v): every slice
  touches each input position at most once, so a plain ``+=`` is exact and
  no ``add.at`` is needed -- it runs the same on NumPy, CuPy and the fake;
* :class:`Pad` / :func:`pad2d` and :func:`stacked_windows` -- the same
  windows composed from differentiable primitive ops (pad, slices, stack),
  for the ``*_reference`` twins of the fused ops.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..autograd import Function
from ..errors import ShapeError
from ..tensor import Tensor
from ._util import xp_of

__all__ = ["pair", "output_size", "window_view", "col2im_add", "offset_index", "Pad", "pad2d",
           "stacked_windows"]


def pair(op: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """``value`` (an int or a pair of ints) as a pair, each at least ``minimum``."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                  for v in items):
        raise ShapeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(items) < minimum:
        raise ShapeError(f"{op}: {name} must be at least {minimum}, got {value!r}"
                         + (" (a stride of 0 would never move the window)"
                            if name == "stride" else ""))
    return items  # type: ignore[return-value]


def output_size(op: str, shape: Sequence[int], kernel: tuple[int, int],
                stride: tuple[int, int], padding: tuple[int, int],
                dilation: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """(H_out, W_out) for an (N, C, H, W) input; an error if the window does not fit."""
    out = []
    for axis, (n, k, s, p, d) in enumerate(zip(shape[2:], kernel, stride, padding, dilation)):
        span = d * (k - 1) + 1            # how far one window reaches (dilation spreads taps)
        if span > n + 2 * p:
            what = "kernel" if d == 1 else f"dilated kernel (span {span} with dilation {d})"
            raise ShapeError(
                f"{op}: the {what} of size {tuple(kernel)} is larger than the padded input: "
                f"axis {axis + 2} has {n} + 2*{p} = {n + 2 * p} positions but the window needs "
                f"{span} (input shape {tuple(shape)})")
        out.append((n + 2 * p - span) // s + 1)
    return out[0], out[1]


def offset_index(u: int, v: int, stride: tuple[int, int], dilation: tuple[int, int],
                 out_hw: tuple[int, int]) -> tuple[Any, ...]:
    """The strided slice of the padded input seen by kernel tap (u, v) at every output
    position: x_padded[..., u d + i s, v d + j s] for i < H_out, j < W_out."""
    (sh, sw), (dh, dw), (ho, wo) = stride, dilation, out_hw
    return (Ellipsis, slice(u * dh, u * dh + sh * (ho - 1) + 1, sh),
            slice(v * dw, v * dw + sw * (wo - 1) + 1, sw))


def window_view(xpad: Any, kernel: tuple[int, int], stride: tuple[int, int],
                dilation: tuple[int, int], out_hw: tuple[int, int]) -> Any:
    """im2col as a view: shape (N, C, kH, kW, H_out, W_out), no copy.

    Read-only by convention (elements alias each other). ``xp.lib.stride_tricks.as_strided``
    is the same function in NumPy and CuPy (strides in bytes; the fake backend offers
    CuPy's), so every backend takes this one path.
    """
    xp = xp_of(xpad)
    n, c = xpad.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    bn, bc, bh, bw = xpad.strides
    return xp.lib.stride_tricks.as_strided(
        xpad, shape=(n, c, kh, kw, ho, wo),
        strides=(bn, bc, dh * bh, dw * bw, sh * bh, sw * bw))


def col2im_add(target: Any, windows: Any, stride: tuple[int, int],
               dilation: tuple[int, int]) -> Any:
    """target[..., u d + i s, v d + j s] += windows[..., u, v, i, j] for every tap (u, v).

    ``target``: (..., H_padded, W_padded); ``windows``: (..., kH, kW, H_out, W_out).
    One slice-add per tap: within one tap the positions u d + i s are distinct,
    so ``+=`` on the strided slice adds every term exactly once.
    """
    kh, kw, ho, wo = windows.shape[-4:]
    for u in range(kh):
        for v in range(kw):
            target[offset_index(u, v, stride, dilation, (ho, wo))] += windows[..., u, v, :, :]
    return target


# ---------------------------------------------------------------------------
# composed from primitive ops (for the *_reference twins)
# ---------------------------------------------------------------------------
class Pad(Function):
    """out = x with ``ph`` rows and ``pw`` columns of ``value`` added on each side of
    the last two axes;   dx = g with the border cut off (the padding had no input)."""

    def forward(self, x, ph, pw, value):
        self.ph, self.pw = ph, pw
        widths = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
        return xp_of(x).pad(x, widths, mode="constant", constant_values=value)

    def backward(self, grad):
        h, w = grad.shape[-2:]
        return grad[..., self.ph:h - self.ph, self.pw:w - self.pw]


def pad2d(x: Tensor, padding: tuple[int, int], value: float = 0.0) -> Tensor:
    """Pad the last two axes of ``x`` by ``padding`` = (ph, pw) on each side with ``value``."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return Pad.apply(x, ph=ph, pw=pw, value=value)


def stacked_windows(xpad: Tensor, kernel: tuple[int, int], stride: tuple[int, int],
                    dilation: tuple[int, int], out_hw: tuple[int, int]) -> Tensor:
    """The windows as a differentiable Tensor of shape (N, C, kH * kW, H_out, W_out),
    built from kH * kW strided slices and one ``stack`` (tap index u * kW + v)."""
    from .shape import stack
    kh, kw = kernel
    taps = [xpad[offset_index(u, v, stride, dilation, out_hw)]
            for u in range(kh) for v in range(kw)]
    return stack(taps, axis=2)
