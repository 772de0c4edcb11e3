"""minigrad: reverse-mode autodiff you can read, on NumPy or CuPy.

>>> import minigrad as mg
>>> x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> loss = (x.tanh() ** 2).sum()
>>> loss.backward(trace=True)      # prints every step of the backward loop
>>> mg.gradcheck(lambda x: (x.tanh() ** 2).sum(), x.double().detach().requires_grad_())

Modules: ``tensor`` (the Tensor), ``autograd`` (the tape and backward loop),
``ops`` (every differentiable op, forward next to backward), ``gradcheck``,
``backends`` (NumPy / CuPy / the CuPy-like test double), ``viz`` (graph
drawing), ``ledger`` (every formula of the course, checked).
"""
from __future__ import annotations

from . import ops as functional  # noqa: F401  (minigrad.functional.relu(...), like torch.nn.functional)
from ._checks import check_shape as _check_shape
from .autograd import (Function, backward, enable_grad, grad, is_grad_enabled, no_grad,
                       set_grad_enabled, trace_backward)
from .backends import available_devices, default_device, is_available, set_default_device, \
    using_device
from .errors import AnomalyError, DeviceError, DTypeError, GraphError, MinigradError, ShapeError
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .debug import break_in, where_is
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .modes import fused_enabled, use_fused
from .ops import *  # noqa: F401,F403
from .ops import __all__ as _ops_all
from .tensor import Parameter, Tensor, get_default_dtype, set_default_dtype, tensor

__version__ = "0.1.0"


def manual_seed(seed: int) -> None:
    """Seed the random stream every backend draws from (dropout masks, random tensors,
    initialisation): two integers, see :mod:`minigrad.rng`."""
    from .rng import manual_seed as _seed
    _seed(seed)


def _creation(fill: str):
    def make(*shape, dtype=None, device=None, requires_grad=False) -> Tensor:
        from .backends import get_backend
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = _check_shape(fill, shape)
        backend = get_backend(device or default_device())
        xp = backend.xp
        dtype = dtype or get_default_dtype()
        if fill == "randn":
            data = backend.rng.standard_normal(shape).astype(dtype)
        elif fill == "rand":
            data = backend.rng.random(shape, dtype=dtype)
        else:
            data = getattr(xp, fill)(shape, dtype=dtype)
        return Tensor(data, requires_grad=requires_grad)
    make.__name__ = fill
    make.__doc__ = f"A new tensor from ``{fill}`` with the given shape (float32 by default)."
    return make


zeros = _creation("zeros")
ones = _creation("ones")
randn = _creation("randn")
rand = _creation("rand")


def zeros_like(t: Tensor) -> Tensor:
    return Tensor._make(t.xp.zeros(t.shape, dtype=t.dtype), False)


def ones_like(t: Tensor) -> Tensor:
    return Tensor._make(t.xp.ones(t.shape, dtype=t.dtype), False)


def arange(*args, dtype=None, device=None) -> Tensor:
    from .backends import get_backend
    xp = get_backend(device or default_device()).xp
    return Tensor(xp.arange(*args, dtype=dtype))


__all__ = [
    "Tensor", "Parameter", "tensor", "Function", "backward", "grad", "no_grad", "enable_grad",
    "set_grad_enabled", "is_grad_enabled", "trace_backward", "gradcheck", "gradgradcheck",
    "GradcheckError", "MinigradError", "ShapeError", "DTypeError", "DeviceError", "GraphError",
    "available_devices", "default_device", "is_available", "set_default_device", "using_device",
    "manual_seed", "zeros", "ones", "randn", "rand", "zeros_like", "ones_like", "arange",
    "get_default_dtype", "set_default_dtype", "functional", "use_fused", "fused_enabled",
    "AnomalyError", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
    "break_in", "where_is",
    *_ops_all,
]
