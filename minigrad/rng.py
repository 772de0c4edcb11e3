"""Counter-based random numbers: one stream, two integers of state, every backend alike.

Why not NumPy's / CuPy's own generators? Three reasons, all about the GPU:

* **State you can save.** ``numpy.random.Generator`` keeps a dict state, but
  CuPy's ``BitGenerator.state()`` is a *method returning a device pointer*
  (``cupy/random/_bit_generator.pyx``): nothing a checkpoint can store. Here
  the whole state is ``(seed, counter)`` -- two Python ints, saved in JSON and
  restored bit for bit on cpu, fake and cuda.
* **The same numbers everywhere.** Draw ``i`` of the stream is a pure
  function of ``(seed, counter + i)``, computed with the backend's own
  ``uint64`` arithmetic (exact, wrapping mod 2**64 on NumPy and CUDA alike),
  so one seed gives the *same* dropout masks and ``rand`` tensors on cpu, on
  the fake and on a GPU. (Normals go through ``log``/``cos``/``sqrt``, whose
  last bit can differ between NumPy's and CUDA's maths libraries.)
* **Cheap seeding.** :func:`manual_seed` sets two integers; it builds nothing
  on the device.

The hash is SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom
number generators", OOPSLA 2014): word ``i`` is ``mix(key + i * GOLDEN)``,
where ``mix`` is the xor-shift-multiply finaliser. Its sequence passes
BigCrush; dropout and weight initialisation need far less.

>>> import minigrad as mg
>>> mg.manual_seed(0); a = mg.rand(3)
>>> mg.manual_seed(0); b = mg.rand(3, device="fake")
>>> (a.numpy() == b.numpy()).all()
True
"""
from __future__ import annotations

import math
import secrets
import threading
from typing import Any

import numpy as np

__all__ = ["Generator", "BackendGenerator", "default_generator", "manual_seed", "get_state",
           "set_state"]

_MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15          # 2**64 / golden ratio: SplitMix64's increment
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def _mix_int(z: int) -> int:
    """SplitMix64's finaliser on one Python int (host; used to derive the key)."""
    z &= _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mix_array(z: Any) -> Any:
    """The same finaliser on a ``uint64`` array of any backend, in place (returns ``z``).

    Constants are ``numpy.uint64`` scalars, so neither NumPy nor CuPy ever
    promotes to a signed or float type; products wrap mod 2**64 on both.
    """
    z ^= z >> np.uint64(30)
    z *= np.uint64(_M1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(_M2)
    z ^= z >> np.uint64(31)
    return z


def _size_of(size: Any) -> tuple[tuple[int, ...], int]:
    if size is None:
        return (), 1
    shape = (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)
    return shape, math.prod(shape)


class Generator:
    """The process-wide stream: a seed and a counter of 64-bit words drawn so far."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> None:
        """Restart the stream at ``seed`` (any int; ``None`` picks a fresh random one)."""
        seed = secrets.randbits(64) if seed is None else int(seed)
        with self._lock:
            self.seed, self.counter = seed, 0
            self._key = _mix_int(seed & _MASK ^ (seed >> 64))

    # -- state: two integers -------------------------------------------------
    def get_state(self) -> dict[str, int]:
        return {"seed": self.seed, "counter": self.counter}

    def set_state(self, state: dict[str, Any]) -> None:
        try:
            seed, counter = int(state["seed"]), int(state["counter"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"not a minigrad random state: {state!r} (expected a dict with "
                             "integer 'seed' and 'counter')") from None
        if counter < 0:
            raise ValueError(f"random state counter must be >= 0, got {counter}")
        self.manual_seed(seed)
        self.counter = counter

    # -- the raw words ---------------------------------------------------------
    def _reserve(self, n: int) -> int:
        with self._lock:
            start = self.counter
            self.counter += n
        return start

    def words(self, xp: Any, n: int) -> Any:
        """The next ``n`` 64-bit words as a ``uint64`` array of module ``xp``."""
        start = self._reserve(n)
        base = (self._key + start * GOLDEN) & _MASK
        z = xp.arange(n, dtype=xp.uint64)
        z *= np.uint64(GOLDEN)
        z += np.uint64(base)
        return _mix_array(z)

    def for_backend(self, backend: Any) -> "BackendGenerator":
        return BackendGenerator(self, backend)


class BackendGenerator:
    """The stream seen from one backend: methods named like NumPy's ``Generator``
    (``random``, ``standard_normal``, ``integers``, ``uniform``, ``permutation``),
    returning arrays of that backend."""

    def __init__(self, stream: Generator, backend: Any) -> None:
        self.stream, self.backend = stream, backend

    @property
    def xp(self) -> Any:
        return self.backend.xp

    def random(self, size: Any = None, dtype: Any = np.float64) -> Any:
        """Uniform floats in [0, 1) of ``dtype``, exact multiples of 2**-(mantissa+1).

        The top ``nmant + 1`` bits of each word become the float, so the value
        is the same on every backend (integer -> float of a number below
        2**(nmant+1) is exact) and a float32 draw never touches float64.
        """
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"random: dtype must be a float type, got {dtype}")
        shape, n = _size_of(size)
        bits = np.finfo(dtype).nmant + 1
        w = self.stream.words(self.xp, n) >> np.uint64(64 - bits)
        out = w.astype(dtype)
        out *= dtype.type(2.0 ** -bits)
        return out.reshape(shape)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None,
                dtype: Any = np.float64) -> Any:
        out = self.random(size, dtype)
        out *= np.dtype(dtype).type(high - low)
        out += np.dtype(dtype).type(low)
        return out

    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> Any:
        """N(0, 1) by Box-Muller, ``sqrt(-2 ln u1) cos(2 pi u2)``, computed in float64."""
        shape, n = _size_of(size)
        u = self.random(2 * n, np.float64)
        xp = self.xp
        u1 = 1.0 - u[:n]                  # in (0, 1]: log is finite
        z = xp.sqrt(-2.0 * xp.log(u1)) * xp.cos((2.0 * math.pi) * u[n:])
        return z.astype(dtype).reshape(shape)

    def integers(self, low: int, high: int | None = None, size: Any = None,
                 dtype: Any = np.int64) -> Any:
        """Integers in [low, high) (``[0, low)`` with one argument)."""
        if high is None:
            low, high = 0, low
        span = int(high) - int(low)
        if span <= 0:
            raise ValueError(f"integers: high ({high}) must be greater than low ({low})")
        shape, n = _size_of(size)
        w = self.stream.words(self.xp, n) % np.uint64(span)   # bias <= span / 2**64
        return (w.astype(np.int64) + int(low)).astype(dtype).reshape(shape)

    def permutation(self, n: int) -> Any:
        """A random permutation of ``range(n)`` (the argsort of ``n`` random words)."""
        return self.xp.argsort(self.stream.words(self.xp, int(n)))

    def __repr__(self) -> str:
        s = self.stream
        return f"<minigrad generator on {self.backend.name!r}: seed={s.seed}, counter={s.counter}>"


default_generator = Generator()


def manual_seed(seed: int) -> None:
    """Seed the stream every backend draws from (cheap: two integers)."""
    default_generator.manual_seed(seed)


def get_state() -> dict[str, int]:
    """``{"seed": ..., "counter": ...}``: everything needed to continue the stream exactly."""
    return default_generator.get_state()


def set_state(state: dict[str, Any]) -> None:
    default_generator.set_state(state)
