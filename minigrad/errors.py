"""Errors a learner can read.

Every error minigrad raises names the op and the shapes, dtypes or devices
involved, so a mistake surfaces where it was made instead of as a NumPy
traceback three frames deep. Each class also subclasses the built-in error a
Python programmer would expect (``ValueError`` for shapes, ``TypeError`` for
dtypes), so ``except ValueError`` keeps working.
"""
from __future__ import annotations


class MinigradError(Exception):
    """Base class of every error minigrad raises on purpose."""


class ShapeError(MinigradError, ValueError):
    """Shapes that do not fit the op (broadcasting, matmul, reshape...)."""


class DTypeError(MinigradError, TypeError):
    """A dtype the op cannot use (integer data asked for gradients, mixed floats...)."""


class DeviceError(MinigradError, RuntimeError):
    """Tensors on different devices, or a device that is not available."""


class GraphError(MinigradError, RuntimeError):
    """Misuse of the autograd graph: freed graph, in-place modification, non-scalar backward."""


def describe(x: object) -> str:
    """Short description of an op argument for error messages: shape, dtype, device."""
    shape = getattr(x, "shape", None)
    if shape is None:
        return f"{type(x).__name__} {x!r}"
    dtype = getattr(x, "dtype", "?")
    device = getattr(x, "device", None)
    where = f", device={device}" if isinstance(device, str) else ""
    return f"shape {tuple(shape)}, dtype {dtype}{where}"


class AnomalyError(MinigradError, FloatingPointError):
    """Anomaly mode (``minigrad.detect_anomaly()``) found a NaN or Inf: the message
    names the op that produced it first and the line of your code that created it."""
