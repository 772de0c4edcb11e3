"""Small helpers shared by the ops: broadcasting, argument coercion, axes."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import backend_of
from ..errors import DeviceError, DTypeError, ShapeError, describe
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
    stays float32. A NumPy array is uploaded explicitly; an array of
    ``like``'s own backend (a CuPy array with a cuda tensor) is used as it is;
    an array of another device is refused with a DeviceError (no silent copy).
    """
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "dtype") and hasattr(x, "shape") and not isinstance(x, (np.ndarray, np.generic)):
        try:
            owner = backend_of(x)
        except Exception:
            owner = None
        if owner is not like.backend:
            kind = owner.name if owner is not None else type(x).__name__
            raise DeviceError(f"cannot combine a {kind} array with a tensor on {like.device}: "
                              f"wrap it as a Tensor and move it with .to({like.device!r})")
        here, there = getattr(like.data, "device", None), getattr(x, "device", None)
        if here != there:   # e.g. a CuPy array on GPU 1 with a tensor on GPU 0
            raise DeviceError(f"cannot combine an array on {there} with a tensor on {here} "
                              f"({like.device}): copy it explicitly first")
        kind = x.dtype.kind
    else:
        kind = np.asarray(x).dtype.kind   # Python numbers / lists / NumPy: on the host
    dtype = like.dtype if like.dtype.kind == "f" and kind in "fiub" else None
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


def require_broadcasts_to(op: str, what: str, shape: tuple[int, ...],
                          target: tuple[int, ...], target_what: str = "the input's") -> None:
    """ShapeError naming ``op`` unless ``shape`` broadcasts to exactly ``target``
    (a mask or a weight may be smaller than the data, never larger)."""
    try:
        fits = np.broadcast_shapes(tuple(shape), tuple(target)) == tuple(target)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: {what} of shape {tuple(shape)} does not broadcast to "
                         f"{target_what} shape {tuple(target)}")


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
