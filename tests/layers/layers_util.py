"""Small helpers shared by the layer tests (imported as ``layers_util``)."""
from __future__ import annotations

from typing import Any

import numpy as np

import minigrad as mg
from minigrad import backends


def host(x: Any) -> np.ndarray:
    """A tensor's (or backend array's) values as a NumPy array -- an explicit copy."""
    data = x.data if isinstance(x, mg.Tensor) else x
    return np.array(backends.to_numpy(data))


def tensor(array: Any, device: str, grad: bool = False, dtype: str = "float64") -> mg.Tensor:
    """A float tensor on ``device`` built from host numbers."""
    return mg.Tensor(np.asarray(array, dtype=dtype), device=device, requires_grad=grad)


def rand(rng: np.random.Generator, *shape: int, device: str = "cpu", grad: bool = False,
         scale: float = 1.0) -> mg.Tensor:
    return tensor(rng.standard_normal(shape) * scale, device, grad)


def grads(module: Any) -> dict[str, np.ndarray]:
    """Each parameter's gradient on the host, by dotted name."""
    return {n: host(p.grad) for n, p in module.named_parameters()}


def copy_params(dst: Any, src: Any) -> None:
    """Copy parameter values from ``src`` to ``dst`` by name (same architecture)."""
    dst.load_state_dict(src.state_dict())
