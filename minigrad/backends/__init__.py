"""Array backends: which array library holds a tensor's numbers.

A minigrad ``Tensor`` wraps one array. Every op asks the *backend of its
inputs* for the array module (``xp``) to compute with, so the same op code runs
on:

* ``"cpu"``  -- NumPy arrays;
* ``"cuda"`` -- CuPy arrays on an NVIDIA GPU (only when CuPy is installed);
* ``"fake"`` -- a CPU test double that behaves like CuPy where it matters
  (it refuses implicit conversion to NumPy), so the test suite can prove that
  no engine code quietly assumes NumPy.

Why not just ``import numpy as np`` everywhere? Because ``np.exp(cupy_array)``
raises (CuPy refuses to be copied to the host behind your back), and worse,
``np.asarray`` on a GPU array would silently move data off the device. The
engine therefore never names NumPy when touching tensor data: it writes
``xp = backend_of(array).xp`` and calls ``xp.exp``.

The default device for new tensors is ``"cpu"``; set the environment variable
``MINIGRAD_DEVICE`` or call :func:`set_default_device` to change it (per
thread: each new thread starts from ``MINIGRAD_DEVICE``).
"""
from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import DeviceError

__all__ = [
    "Backend", "backend_of", "get_backend", "available_devices", "is_available",
    "default_device", "set_default_device", "using_device", "to_numpy",
]


@dataclass
class Backend:
    """One array library, seen through the handful of things the engine needs.

    ``xp`` is the NumPy-compatible module; everything else exists because
    NumPy and CuPy spell it differently.
    """

    name: str
    xp: ModuleType | Any
    array_type: type
    _to_numpy: Callable[[Any], np.ndarray]
    _from_numpy: Callable[[np.ndarray], Any]
    _scatter_add: Callable[[Any, Any, Any], None]
    _rng_factory: Callable[[int | None], Any]
    _rng: Any = field(default=None, repr=False)

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        """Put ``data`` (Python numbers, lists, host arrays) on this backend."""
        if isinstance(data, np.ndarray) and self.name != "cpu":
            return self._from_numpy(data if dtype is None else data.astype(dtype, copy=False))
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        """Explicit device -> host copy (the only sanctioned way to reach NumPy)."""
        return self._to_numpy(array)

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        """``target[index] += values`` where repeated indices accumulate."""
        self._scatter_add(target, index, values)

    @property
    def rng(self) -> Any:
        """This backend's random generator (seeded by :func:`minigrad.manual_seed`)."""
        if self._rng is None:  # a backend first used after manual_seed gets that seed too
            self._rng = self._rng_factory(_last_seed)
        return self._rng

    def seed(self, seed: int | None) -> None:
        global _last_seed
        _last_seed = seed
        self._rng = self._rng_factory(seed)

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"


_BACKENDS: dict[str, Backend] = {}
_last_seed: int | None = None  # the latest manual_seed, for backends registered later
_BY_TYPE: dict[type, Backend] = {}


def _register(backend: Backend) -> None:
    _BACKENDS[backend.name] = backend
    _BY_TYPE[backend.array_type] = backend


def _numpy_rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


_register(Backend(
    name="cpu", xp=np, array_type=np.ndarray,
    _to_numpy=lambda a: a,
    _from_numpy=lambda a: a,
    _scatter_add=lambda t, i, v: np.add.at(t, i, v),
    _rng_factory=_numpy_rng,
))


def _register_fake() -> None:
    from . import fake

    _register(Backend(
        name="fake", xp=fake.xp, array_type=fake.FakeArray,
        _to_numpy=lambda a: a.get(),
        _from_numpy=lambda a: fake.xp.asarray(a),
        _scatter_add=lambda t, i, v: fake.xp.scatter_add(t, i, v),
        _rng_factory=lambda seed: fake.xp.random.default_rng(seed),
    ))


def _register_cupy() -> bool:
    try:
        import cupy  # type: ignore[import-not-found]
        import cupyx  # type: ignore[import-not-found]
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False
    except Exception:  # ImportError, or CUDA present but unusable
        return False
    _register(Backend(
        name="cuda", xp=cupy, array_type=cupy.ndarray,
        _to_numpy=lambda a: cupy.asnumpy(a),
        _from_numpy=lambda a: cupy.asarray(a),
        _scatter_add=lambda t, i, v: cupyx.scatter_add(t, i, v),
        _rng_factory=lambda seed: cupy.random.default_rng(seed),
    ))
    return True


_LAZY = {"fake": _register_fake, "cuda": _register_cupy}


def get_backend(device: str | Backend) -> Backend:
    """The backend for a device name: ``"cpu"``, ``"cuda"`` or ``"fake"``."""
    if isinstance(device, Backend):
        return device
    name = {"numpy": "cpu", "cupy": "cuda", "gpu": "cuda"}.get(device, device)
    if name.startswith("cuda:"):
        name = "cuda"
    if name not in _BACKENDS and name in _LAZY:
        _LAZY[name]()
    if name not in _BACKENDS:
        if name == "cuda":
            raise DeviceError(
                "device 'cuda' is not available: CuPy is not installed or no GPU is "
                "visible. Install the extra with `pip install .[gpu]` on a machine "
                "with an NVIDIA GPU, or use device='cpu'.")
        raise DeviceError(f"unknown device {device!r}; expected one of 'cpu', 'cuda', 'fake'")
    return _BACKENDS[name]


def is_available(device: str) -> bool:
    """True when ``device`` can be used on this machine."""
    try:
        get_backend(device)
        return True
    except DeviceError:
        return False


def available_devices() -> list[str]:
    return [d for d in ("cpu", "fake", "cuda") if is_available(d)]


def backend_of(array: Any) -> Backend:
    """The backend whose array type ``array`` is (NumPy scalars count as cpu)."""
    backend = _BY_TYPE.get(type(array))
    if backend is not None:
        return backend
    for kind, b in _BY_TYPE.items():  # subclasses, e.g. np.matrix or memmap
        if isinstance(array, kind):
            return b
    if isinstance(array, np.generic):
        return _BACKENDS["cpu"]
    raise DeviceError(f"minigrad cannot hold data of type {type(array).__name__}")


def to_numpy(array: Any) -> np.ndarray:
    """Copy any backend's array to a NumPy array (explicitly)."""
    return backend_of(array).to_numpy(array)


class _DeviceState(threading.local):
    """The default device, one per thread (a new thread starts from MINIGRAD_DEVICE)."""

    def __init__(self) -> None:
        self.device = os.environ.get("MINIGRAD_DEVICE", "cpu")


_device_state = _DeviceState()


def default_device() -> str:
    """Device that new tensors land on when none is given (in this thread)."""
    return _device_state.device


def set_default_device(device: str) -> None:
    """Change the default device for this thread (other threads keep theirs)."""
    _device_state.device = get_backend(device).name


@contextlib.contextmanager
def using_device(device: str) -> Iterator[Backend]:
    """``with using_device("fake"): ...`` -- temporarily change this thread's default device."""
    previous = _device_state.device
    set_default_device(device)
    try:
        yield get_backend(device)
    finally:
        _device_state.device = previous
