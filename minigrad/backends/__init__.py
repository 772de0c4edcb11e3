"""Array backends: which array library holds a tensor's numbers.

A minigrad ``Tensor`` wraps one array. Every op asks the *backend of its
inputs* for the array module (``xp``) to compute with, so the same op code runs
on:

* ``"cpu"``  -- NumPy arrays;
* ``"cuda"`` -- CuPy arrays on an NVIDIA GPU (only when CuPy is installed);
* ``"fake"`` -- a CPU test double that behaves like CuPy where it matters
  (it refuses implicit conversion to NumPy), so the test suite can prove that
  no engine code quietly assumes NumPy.

Why not just ``import numpy as np`` everywhere? Not because ``np.exp(cupy_array)``
fails -- it does not: CuPy implements NumPy's ``__array_ufunc__`` /
``__array_function__`` protocols, so ``np.exp`` and ``np.sum`` of a CuPy array
are quietly dispatched to ``cupy.exp`` / ``cupy.sum`` and run on the GPU. The
real hazards are elsewhere:

* implicit host conversion: ``np.asarray(cupy_array)`` (and anything that
  calls it, such as ``np.testing`` or ``float()`` in a loop) raises or forces
  a device -> host copy and a synchronisation;
* NumPy-only functions and keywords (``np.indices(..., sparse=True)``,
  ``np.max(..., initial=...)``) that CuPy does not have;
* different semantics: out-of-range integer-array indices *wrap around* on
  CuPy instead of raising, and repeated indices in an assignment keep an
  unspecified write.

The engine therefore never names NumPy when touching tensor data: it writes
``xp = backend_of(array).xp`` and calls ``xp.exp``; the ``fake`` backend
allows exactly the CuPy API listed in ``fake.ALLOWED``.

Random numbers come from :mod:`minigrad.rng`: one counter-based stream
(seed + counter) that every backend draws from, so a seed gives the same
dropout masks on cpu, fake and cuda and checkpoints store two integers.

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
        """The random stream of :mod:`minigrad.rng`, producing this backend's arrays
        (seeded by :func:`minigrad.manual_seed`; the same numbers on every backend)."""
        if self._rng is None:
            from ..rng import default_generator
            self._rng = default_generator.for_backend(self)
        return self._rng

    def seed(self, seed: int | None) -> None:
        """Seed the (shared) stream; kept for old callers of ``backend.seed``."""
        from ..rng import manual_seed
        manual_seed(seed)

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"


_BACKENDS: dict[str, Backend] = {}
_BY_TYPE: dict[type, Backend] = {}


def _register(backend: Backend) -> None:
    _BACKENDS[backend.name] = backend
    _BY_TYPE[backend.array_type] = backend


_register(Backend(
    name="cpu", xp=np, array_type=np.ndarray,
    _to_numpy=lambda a: a,
    _from_numpy=lambda a: a,
    _scatter_add=lambda t, i, v: np.add.at(t, i, v),
))


def _register_fake() -> None:
    from . import fake

    _register(Backend(
        name="fake", xp=fake.xp, array_type=fake.FakeArray,
        _to_numpy=lambda a: a.get(),
        _from_numpy=lambda a: fake.xp.asarray(a),
        _scatter_add=lambda t, i, v: fake.xp.add.at(t, i, v),
    ))


def _register_cupy() -> bool:
    try:
        import cupy  # type: ignore[import-not-found]
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False
    except Exception:  # ImportError, or CUDA present but unusable
        return False
    _register(Backend(
        name="cuda", xp=cupy, array_type=cupy.ndarray,
        _to_numpy=lambda a: cupy.asnumpy(a),
        _from_numpy=lambda a: cupy.asarray(a),
        # cupy.add.at (CuPy >= 13): unbuffered, repeated indices accumulate.
        # (cupyx.scatter_add does the same but warns DeprecationWarning per call.)
        _scatter_add=lambda t, i, v: cupy.add.at(t, i, v),
    ))
    return True


def _check_cuda_index(device: str) -> None:
    """``cuda:0`` is the GPU minigrad uses; ``cuda:N`` for N > 0 is refused clearly.

    minigrad runs every CuPy call on CuPy's *current* device and has no
    per-tensor device placement, so silently mapping ``cuda:1`` to GPU 0
    would be a lie. To run on another GPU, make it the only visible one.
    """
    index = device.partition(":")[2]
    if not index.isdigit():
        raise DeviceError(f"device {device!r}: expected 'cuda' or 'cuda:0'")
    if int(index) != 0:
        raise DeviceError(
            f"device {device!r}: minigrad uses one GPU, 'cuda' (= 'cuda:0', CuPy's current "
            f"device). To run on GPU {index}, start Python with CUDA_VISIBLE_DEVICES={index} "
            "and use device='cuda'.")


_LAZY = {"fake": _register_fake, "cuda": _register_cupy}


def get_backend(device: str | Backend) -> Backend:
    """The backend for a device name: ``"cpu"``, ``"cuda"`` or ``"fake"``."""
    if isinstance(device, Backend):
        return device
    name = {"numpy": "cpu", "cupy": "cuda", "gpu": "cuda"}.get(device, device)
    if name.startswith("cuda:"):
        _check_cuda_index(name)
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
