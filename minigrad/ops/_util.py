"""Small helpers shared by the ops: broadcasting, argument coercion, axes."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import backend_of
from ..errors import DTypeError, ShapeError, describe
from ..tensor import Tensor

Scalar = (int, float, bool, np.number, np.bool_)


def xp_of(array: Any) -> Any:
    """The array module (numpy / cupy / fake) that ``array`` belongs to."""
    return backend_of(array).xp


def is_scalar(x: Any) -> bool:
    return isinstance(x, Scalar)


def as_tensor(x: Any, like: Tensor) -> Tensor:
    """Turn a number, list or array into a constant Tensor on ``like``'s device.

    Floats adopt ``like``'s float dtype, so ``float32_tensor * numpy_array``
    stays float32.
    """
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if like.dtype.kind == "f" and np.asarray(x).dtype.kind in "fiub" \
        else None
    return Tensor(x, dtype=dtype, device=like.device)


def binary_operands(op: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Coerce both operands to Tensors and check dtypes and broadcasting.

    minigrad does not silently promote float32 to float64 (NumPy would): mixing
    float dtypes is an error so models stay in the precision you chose.
    Integer or bool operands are converted to the float operand's dtype.
    """
    if not isinstance(a, Tensor):
        a = as_tensor(a, b)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a)
    da, db = a.dtype, b.dtype
    if da != db:
        if da.kind == "f" and db.kind == "f":
            raise DTypeError(
                f"{op}: operands have different float dtypes ({da} and {db}); convert one "
                "explicitly with .float() or .double()")
        if da.kind == "f":
            b = b.astype(da)
        elif db.kind == "f":
            a = a.astype(db)
    broadcast_shape(op, a, b)
    return a, b


def broadcast_shape(op: str, *tensors: Tensor) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        shapes = " and ".join(str(t.shape) for t in tensors)
        raise ShapeError(
            f"{op}: cannot broadcast shapes {shapes}: trailing dimensions must be equal "
            "or 1") from None


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``grad`` back down to ``shape`` -- the backward of broadcasting.

    If an input of shape (3, 1) was broadcast to (2, 3, 4), each of its
    elements was used 2*4 times, so its gradient is the sum over those copies:
    sum over the new leading axis and over the axis where it had size 1.
    """
    if grad.data.shape == shape:   # the usual case: nothing was broadcast
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def normalize_axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple, negatives allowed) as sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for ax in axes:
        if not isinstance(ax, (int, np.integer)) or not -ndim <= ax < max(ndim, 1):
            raise ShapeError(f"{op}: axis {ax} is out of range for a tensor with {ndim} "
                             "dimension(s)")
        out.append(int(ax) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def require_float(op: str, *tensors: Tensor) -> None:
    for t in tensors:
        if t.dtype.kind != "f":
            raise DTypeError(f"{op} needs floating-point input, got {describe(t)}")
