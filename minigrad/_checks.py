"""Argument checks shared by the engine: sizes, and gradients of the right kind.

Each function here either returns its (normalised) argument or raises an
error that names what the user called -- the op, the hook, the custom
``Function`` -- with the shapes, dtypes and devices involved. They are kept
out of the hot loops' files so those stay readable; the backward loop calls
the gradient checks once per node, which costs a few attribute lookups.
"""
from __future__ import annotations

import operator
from typing import Any, Callable, Sequence

import numpy as np

from .errors import DeviceError, DTypeError, GraphError, ShapeError, describe
from .tensor import Tensor

__all__ = ["check_size", "check_shape", "check_seed_grad", "check_hook_result", "check_mask_device",
           "check_backward_result"]


def check_size(op: str, value: Any, what: str = "size", minimum: int = 0) -> int:
    """``value`` as a Python int >= ``minimum``; refuses floats (6.9 would be
    truncated), strings ('6'), bools and negative numbers, naming ``op``."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (float, np.floating)):
        raise DTypeError(f"{op}: {what} must be an integer, got {type(value).__name__} "
                         f"{value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise DTypeError(f"{op}: {what} must be an integer, got {type(value).__name__} "
                         f"{value!r}") from None
    if n < minimum:
        raise ShapeError(f"{op}: {what} must be >= {minimum}, got {n}")
    return n


def check_shape(op: str, shape: Sequence[Any], allow_minus_one: bool = False) -> tuple[int, ...]:
    """A shape as a tuple of non-negative ints (one -1 allowed for reshape)."""
    dims = tuple(check_size(op, d, "every dimension", minimum=-1 if allow_minus_one else 0)
                 for d in shape)
    if allow_minus_one and sum(d == -1 for d in dims) > 1:
        raise ShapeError(f"{op}: only one dimension can be -1 (inferred), got {dims}")
    return dims


def _kind(x: Any) -> str:
    return "Tensor" if isinstance(x, Tensor) else type(x).__name__


def _check_grad_like(where: str, g: Any, like: Any, shape: bool = True) -> None:
    """``g`` must be a Tensor with ``like``'s shape, float dtype and device."""
    if not isinstance(g, Tensor):   # an ndarray, a number, a list...
        raise GraphError(f"{where} must be a Tensor, got {_kind(g)}"
                         + (f" of shape {tuple(g.shape)}" if hasattr(g, "shape") else "")
                         + f"; wrap an array with minigrad.Tensor(...) (expected "
                           f"{describe(like)})")
    if g.device != like.device:
        raise DeviceError(f"{where} is on {g.device} but the tensor it is for is on "
                          f"{like.device} (expected {describe(like)}, got {describe(g)})")
    if g.dtype != like.dtype:
        raise DTypeError(f"{where} has dtype {g.dtype} but the tensor it is for has dtype "
                         f"{like.dtype} (expected {describe(like)}, got {describe(g)})")
    if shape and g.shape != like.shape:
        raise ShapeError(f"{where} has shape {g.shape} but the tensor it is for has shape "
                         f"{like.shape}")


def check_seed_grad(what: str, root: Any, grad: Any) -> None:
    """``backward(gradient=...)``: the seed must match the output it starts from."""
    _check_grad_like(f"{what}: gradient", grad, root)


def check_hook_result(tensor: Any, hook: Callable[..., Any], result: Any) -> Any:
    """A hook may return None (keep the gradient) or a replacement of the same kind."""
    if result is None:
        return None
    name = getattr(hook, "__qualname__", None) or repr(hook)
    _check_grad_like(f"the hook {name} registered on a tensor of shape {tensor.shape} "
                     "returned a gradient that", result, tensor)
    return result


#: Function classes whose backward results are (not) checked, filled on first sight
_TRUSTED: set[type] = set()
_UNTRUSTED: set[type] = set()


def check_backward_result(fn: Any, in_grads: Any) -> tuple[Any, ...]:
    """``Function.backward`` returns one gradient (or None) per input, each a Tensor
    of the input's shape, dtype and device. Returns the gradients as a tuple."""
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    cls = type(fn)
    if cls in _TRUSTED:
        return in_grads
    if cls not in _UNTRUSTED:
        # minigrad's own ops are checked by the test harness (tests/helpers.py
        # check_op): skip them, so the backward loop pays one set lookup per node
        (_TRUSTED if cls.__module__.startswith("minigrad.") else _UNTRUSTED).add(cls)
        return check_backward_result(fn, in_grads)
    inputs = fn.inputs
    if len(in_grads) != len(inputs):
        raise GraphError(f"{fn.name}.backward returned {len(in_grads)} gradient(s) for "
                         f"{len(inputs)} input(s): return one per input of forward, None "
                         "for an input that needs no gradient")
    i = 0
    for inp, g in zip(inputs, in_grads):
        # the fast path (every built-in op): a Tensor of the input's array type and
        # dtype -- dtype objects of one kind are shared, so ``is`` usually decides
        if g is not None and inp.requires_grad:
            gd, xd = getattr(g, "data", None), inp.data
            if not (type(gd) is type(xd) and (gd.dtype is xd.dtype or gd.dtype == xd.dtype)
                    and isinstance(g, Tensor)):
                # (a wrong shape is reported by the backward loop itself)
                _check_grad_like(f"{fn.name}.backward: the gradient for input {i}", g, inp,
                                 shape=False)
        i += 1
    return in_grads


def check_mask_device(op: str, mask: Any, like: Any) -> None:
    """A mask (a Tensor or a backend array) must live on the device of the data it
    masks: a cpu mask next to "fake"/"cuda" data is a DeviceError naming ``op``,
    not the backend's TypeError about an unsupported array type."""
    from .backends import backend_of
    data = mask.data if isinstance(mask, Tensor) else mask
    try:
        where = backend_of(data).name
    except DeviceError:
        return                       # not an array at all: the op's own check reports it
    if where != like.device:
        raise DeviceError(f"{op}: the mask is on {where} but the input is on {like.device}; "
                          f"move it with .to({like.device!r}) (mask: shape "
                          f"{tuple(getattr(data, 'shape', ()))}, input: {describe(like)})")
