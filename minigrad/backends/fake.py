"""A CPU stand-in for CuPy, used to prove the engine never assumes NumPy.

CuPy arrays live in GPU memory.  NumPy can only read host (CPU) memory, so
every time data crosses from the GPU to the host it is a real copy over the
PCIe bus, and it forces the CPU to wait until all queued GPU work is done.
That is expensive, and a hidden copy inside a training loop can make a GPU
model slower than the CPU version.  CuPy therefore *refuses* implicit
conversion: ``numpy.asarray(cupy_array)`` raises ``TypeError`` and tells you
to call ``.get()``.  Mixing a ``numpy.ndarray`` into a CuPy expression fails
for the same reason in the other direction (``Unsupported type``).

Most of us do not have a GPU while running unit tests, so this module fakes
one.  :class:`FakeArray` keeps its data in a private ``numpy.ndarray`` but
behaves like a ``cupy.ndarray`` wherever the difference matters:

* it refuses every implicit conversion to NumPy (``np.asarray``,
  ``np.exp(fake)``, ``np.sum(fake)``, ``ndarray + fake``);
* it refuses NumPy arrays as operands, indices and assigned values;
* every result is again a FakeArray (reductions give 0-d arrays, never NumPy
  scalars), remembering which fake device it lives on;
* arrays on different devices never mix.

``xp`` is the matching module object: ``xp.exp``, ``xp.sum``, ``xp.random``,
``xp.linalg``... mirror NumPy's API but take and return FakeArrays.  If the
engine passes the whole test suite with ``xp`` from this module, it will not
accidentally fall back to NumPy on a real GPU either.

One deliberate difference: real CuPy implements NumPy's dispatch protocols,
so ``np.sum(cupy_array)`` quietly *works* there (it is forwarded to
``cupy.sum``).  We refuse it instead, so engine code must spell ``xp.sum``
and stays readable and honest about which library does the work.
"""
from __future__ import annotations

import functools
import operator
import threading
import types

import numpy as np

__all__ = [
    "FakeArray", "Device", "current_device", "xp", "asarray", "array",
    "asanyarray", "ascontiguousarray", "asnumpy", "get_array_module",
    "scatter_add", "Generator", "RandomState",
]

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")
# Python and NumPy scalars live on the host but are tiny; CuPy accepts them.
_SCALARS = (bool, int, float, complex, np.generic)


def _unsupported(obj):
    return TypeError(f"Unsupported type {type(obj)}")


# --------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------
_local = threading.local()


def _device_stack():
    """Per-thread stack of active device ids (CuPy's current device is per thread)."""
    if not hasattr(_local, "stack"):
        _local.stack = [0]
    return _local.stack


def current_device() -> int:
    """Id of the device new arrays are created on (0 unless inside ``with Device(i)``)."""
    return _device_stack()[-1]


class Device:
    """A fake GPU, used like ``cupy.cuda.Device``.

    ``with Device(1): a = xp.zeros(3)`` creates ``a`` on device 1.  Any
    non-negative id is valid; the devices are only labels.
    """

    def __init__(self, device=None):
        if device is None:
            device = current_device()
        elif isinstance(device, Device):
            device = device.id
        self.id = operator.index(device)
        if self.id < 0:
            raise ValueError(f"Invalid device id {self.id}")

    def __enter__(self):
        _device_stack().append(self.id)
        return self

    def __exit__(self, *exc_info):
        _device_stack().pop()
        return False

    def use(self):
        """Make this the current device (until the enclosing ``with`` ends)."""
        _device_stack()[-1] = self.id

    def synchronize(self):
        """No-op: a fake GPU has no asynchronous work queue."""

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(("FakeCuda", self.id))

    def __repr__(self):
        return f"<FakeCuda Device {self.id}>"


def _mixed_devices(a: int, b: int) -> ValueError:
    return ValueError(
        f"Cannot mix arrays on different devices: {Device(a)!r} and {Device(b)!r}. "
        "Copy one of them explicitly with xp.asarray(...) inside `with Device(i):`.")


# --------------------------------------------------------------------------
# Unwrapping arguments and wrapping results
# --------------------------------------------------------------------------
class _Gather:
    """Collects the FakeArrays met while unwrapping arguments.

    It checks they all live on one device and remembers them so results that
    alias an input (``out=``, views) can be matched back to it.
    """

    def __init__(self, *arrays):
        self.arrays = []
        self.device_id = None
        for arr in arrays:
            self.add(arr)

    def add(self, arr: "FakeArray") -> np.ndarray:
        if self.device_id is None:
            self.device_id = arr.device_id
        elif arr.device_id != self.device_id:
            raise _mixed_devices(self.device_id, arr.device_id)
        self.arrays.append(arr)
        return arr._a


def _unwrap(obj, gather: _Gather, host_ok: bool = False):
    """Replace FakeArrays by their NumPy data, recursing into lists, tuples, dicts.

    A ``numpy.ndarray`` is refused unless ``host_ok`` (the explicit upload
    functions ``xp.asarray`` and friends).
    """
    if isinstance(obj, FakeArray):
        return gather.add(obj)
    if isinstance(obj, np.ndarray):
        if host_ok:
            return obj
        raise _unsupported(obj)
    if type(obj) in (list, tuple):
        return type(obj)(_unwrap(item, gather, host_ok) for item in obj)
    if type(obj) is dict:
        return {key: _unwrap(val, gather, host_ok) for key, val in obj.items()}
    return obj


def _wrap(res, device_id: int, inputs=()):
    """Turn a NumPy result into FakeArrays on ``device_id``.

    NumPy scalars become 0-d arrays (CuPy never returns NumPy scalars);
    tuples and lists are wrapped item by item; anything else passes through.
    """
    if isinstance(res, np.ndarray):
        return _wrap_array(res, device_id, inputs)
    if isinstance(res, np.generic):
        return FakeArray._make(np.asarray(res), device_id)
    if isinstance(res, tuple):
        items = [_wrap(item, device_id, inputs) for item in res]
        return type(res)(*items) if hasattr(res, "_fields") else tuple(items)
    if isinstance(res, list):
        return [_wrap(item, device_id, inputs) for item in res]
    return res


def _wrap_array(nd: np.ndarray, device_id: int, inputs) -> "FakeArray":
    """Wrap one ndarray, keeping ``base`` meaningful.

    * the very ndarray of an input (``out=``, ``astype(copy=False)``) gives
      back that input FakeArray;
    * an array owning its memory gets ``base = None``;
    * a view gets as ``base`` the FakeArray owning the memory: an input's
      owner when it views an input, else a new owner wrapping NumPy's base.
    """
    for arr in inputs:
        if nd is arr._a:
            return arr
    if nd.base is None:
        return FakeArray._make(nd, device_id)
    root = nd
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root.base is not None:      # memory of a foreign buffer: keep a copy
        return FakeArray._make(nd.copy(), device_id)
    for arr in inputs:
        owner = arr._base if arr._base is not None else arr
        if owner._a is root:
            return FakeArray._make(nd, device_id, owner)
    return FakeArray._make(nd, device_id, FakeArray._make(root, device_id))


def _call(func, args, kwargs, host_ok=False, scalars_to_0d=False):
    """Call a NumPy callable on unwrapped arguments and wrap the result.

    The result lives on the device of the FakeArray arguments, or on the
    current device when there are none (creation functions).
    """
    gather = _Gather()
    res = func(*_unwrap(args, gather, host_ok), **_unwrap(kwargs, gather, host_ok))
    if scalars_to_0d and isinstance(res, (bool, int, float, complex)):
        res = np.asarray(res)
    device_id = current_device() if gather.device_id is None else gather.device_id
    return _wrap(res, device_id, gather.arrays)


def _wrap_function(func, **options):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _call(func, args, kwargs, **options)
    return wrapper


# --------------------------------------------------------------------------
# The array
# --------------------------------------------------------------------------
class _Flags:
    """The part of ``ndarray.flags`` CuPy exposes (a snapshot)."""

    _NAMES = ("c_contiguous", "f_contiguous", "owndata", "writeable")

    def __init__(self, nd_flags):
        for name in self._NAMES:
            setattr(self, name, bool(getattr(nd_flags, name)))

    def __getitem__(self, key):
        key = {"C": "c_contiguous", "F": "f_contiguous"}.get(key, key)
        return getattr(self, key.lower())

    def __repr__(self):
        return "\n".join(f"  {n.upper()} : {getattr(self, n)}" for n in self._NAMES)


def _rebuild(data, device_id):
    """Unpickling helper."""
    return FakeArray._make(data, device_id)


class FakeArray:
    """A "GPU" array: NumPy data in ``_a``, tagged with a fake ``device_id``.

    ``FakeArray(data, device_id=None)`` uploads (copies) host data; engine
    code should prefer ``xp.asarray``.  Results of every operation are new
    FakeArrays on the same device; views stay views, so ``base`` works.
    """

    __slots__ = ("_a", "device_id", "_base", "__weakref__")
    __array_priority__ = 100    # like cupy.ndarray
    __hash__ = None             # arrays are mutable, hence unhashable

    def __init__(self, data, device_id=None):
        host = data._a if isinstance(data, FakeArray) else _unwrap(data, _Gather(), True)
        self._a = np.array(host, copy=True)
        self.device_id = current_device() if device_id is None else operator.index(device_id)
        self._base = None

    @classmethod
    def _make(cls, nd: np.ndarray, device_id: int, base: "FakeArray | None" = None):
        """Wrap ``nd`` without copying (internal; ``base`` owns the memory of a view)."""
        self = object.__new__(cls)
        self._a, self.device_id, self._base = nd, device_id, base
        return self

    def _new(self, res):
        return _wrap(res, self.device_id, (self,))

    # ---- the refusals ---------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        """Called by ``np.asarray`` / ``np.array``: refused, exactly like CuPy."""
        raise TypeError(_IMPLICIT)

    # NumPy sees ``None`` and gives up: ``np.exp(fake)`` raises TypeError and
    # ``ndarray + fake`` falls through to ``fake.__radd__``, which refuses.
    # (Real CuPy would run ``np.exp(cupy_array)`` on the GPU; we are stricter
    # so that engine code has to say ``xp.exp``.)
    __array_ufunc__ = None

    def __array_function__(self, func, types, args, kwargs):
        """Refuse ``np.sum(fake)``, ``np.concatenate([fake])``, ... (stricter than CuPy)."""
        name = getattr(func, "__name__", "function")
        raise TypeError(f"numpy.{name} was called on a FakeArray. Use xp.{name}(...) "
                        "so the work stays on the device, or download with .get().")

    def _operand(self, other, none_defers=False):
        """Validate the other operand of an operator; return its NumPy value.

        ``NotImplemented`` hands the operation to the other object: an
        autograd Tensor (``__array_ufunc__ = None`` or a higher
        ``__array_priority__``), or ``None`` in ``a == None``.
        """
        if isinstance(other, FakeArray):
            if other.device_id != self.device_id:
                raise _mixed_devices(self.device_id, other.device_id)
            return other._a
        if isinstance(other, _SCALARS):
            return other
        if isinstance(other, np.ndarray):
            raise _unsupported(other)
        if ((none_defers and other is None) or getattr(other, "__array_ufunc__", 0) is None
                or getattr(other, "__array_priority__", 0) > self.__array_priority__):
            return NotImplemented
        raise _unsupported(other)

    # ---- explicit conversions to the host -------------------------------
    def get(self, stream=None, order="C", out=None, blocking=True):
        """Download to a new ``numpy.ndarray`` (or into ``out``): the explicit path."""
        if out is None:
            return np.array(self._a, order=order, copy=True)
        if not isinstance(out, np.ndarray) or out.shape != self.shape:
            raise ValueError("out must be a numpy.ndarray of the same shape")
        np.copyto(out, self._a)
        return out

    def set(self, arr, stream=None):
        """Upload ``arr`` (same shape and dtype) into this array, like ``cupy.ndarray.set``."""
        if not isinstance(arr, np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to FakeArray")
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError(f"Cannot set {arr.dtype}{arr.shape} into {self.dtype}{self.shape}")
        np.copyto(self._a, arr)

    def item(self, *args):
        return self._a.item(*args)

    def tolist(self):
        return self._a.tolist()

    def _size_one(self, kind):
        if self.size != 1:
            raise TypeError(f"only length-1 arrays can be converted to Python {kind}")
        return self._a.item()

    def __float__(self):
        return float(self._size_one("scalars"))

    def __int__(self):
        return int(self._size_one("scalars"))

    def __complex__(self):
        return complex(self._size_one("scalars"))

    def __index__(self):
        if self.dtype.kind not in "iu" or self.size != 1:
            raise TypeError("only integer scalar arrays can be converted to a scalar index")
        return int(self._a.item())

    def __bool__(self):
        if self.size == 0:
            raise ValueError("The truth value of an empty array is ambiguous.")
        if self.size > 1:
            raise ValueError("The truth value of an array with more than one element "
                             "is ambiguous. Use a.any() or a.all()")
        return bool(self._a.item())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __contains__(self, value):
        return bool((self._a == _unwrap(value, _Gather(self))).any())

    def __repr__(self):
        prefix = "fakecupy.array("
        body = np.array2string(self._a, separator=", ", prefix=prefix)
        return f"{prefix}{body}, dtype={self.dtype}, device={self.device_id})"

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a, spec)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        return _rebuild, (np.array(self._a), self.device_id)

    # ---- attributes -----------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: self._new(self._a.T), doc="Transposed view.")
    mT = property(lambda self: self._new(self._a.mT), doc="View transposing the last two axes.")
    real = property(lambda self: self._new(self._a.real))
    imag = property(lambda self: self._new(self._a.imag))
    flags = property(lambda self: _Flags(self._a.flags))
    device = property(lambda self: Device(self.device_id))

    @property
    def base(self):
        """``None`` if this array owns its memory, else the FakeArray that does."""
        return self._base

    # ---- indexing -------------------------------------------------------
    def __getitem__(self, key):
        gather = _Gather(self)
        key = _unwrap(key, gather)
        res = self._a[key]
        if isinstance(res, np.generic):
            # NumPy returns a scalar here; CuPy returns a 0-d *view*.  A
            # trailing Ellipsis makes NumPy do the same.
            res = self._a[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
        return _wrap(res, self.device_id, gather.arrays)

    def __setitem__(self, key, value):
        gather = _Gather(self)
        self._a[_unwrap(key, gather)] = _unwrap(value, gather)

    # ---- unary operators --------------------------------------------------
    def __neg__(self):
        return self._new(-self._a)

    def __pos__(self):
        return self._new(+self._a)

    def __abs__(self):
        return self._new(abs(self._a))

    def __invert__(self):
        return self._new(~self._a)


def _binary(fn, reflected=False, none_defers=False):
    """Build ``__op__`` (or ``__rop__``) of FakeArray from a function of two NumPy values."""
    def method(self, other):
        value = self._operand(other, none_defers)
        if value is NotImplemented:
            return NotImplemented
        return self._new(fn(value, self._a) if reflected else fn(self._a, value))
    return method


def _inplace(fn):
    """Build ``__iop__``: NumPy updates ``self._a`` in place, so we return ``self``."""
    def method(self, other):
        value = self._operand(other)
        if value is NotImplemented:
            return NotImplemented
        fn(self._a, value)
        return self
    return method


# name -> (operator, in-place operator or None)
_OPERATORS = {
    "add": (operator.add, operator.iadd), "sub": (operator.sub, operator.isub),
    "mul": (operator.mul, operator.imul), "truediv": (operator.truediv, operator.itruediv),
    "floordiv": (operator.floordiv, operator.ifloordiv), "mod": (operator.mod, operator.imod),
    "pow": (operator.pow, operator.ipow), "matmul": (operator.matmul, operator.imatmul),
    "and": (operator.and_, operator.iand), "or": (operator.or_, operator.ior),
    "xor": (operator.xor, operator.ixor), "lshift": (operator.lshift, operator.ilshift),
    "rshift": (operator.rshift, operator.irshift), "divmod": (divmod, None),
}
for _name, (_fn, _ifn) in _OPERATORS.items():
    setattr(FakeArray, f"__{_name}__", _binary(_fn))
    setattr(FakeArray, f"__r{_name}__", _binary(_fn, reflected=True))
    if _ifn is not None:
        setattr(FakeArray, f"__i{_name}__", _inplace(_ifn))
# Python reflects comparisons itself (``3 < a`` calls ``a.__gt__(3)``).
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(FakeArray, f"__{_name}__",
            _binary(getattr(operator, _name), none_defers=_name in ("eq", "ne")))


def _ndarray_method(name):
    """Build a FakeArray method that forwards to ``ndarray.<name>`` on the device."""
    def method(self, *args, **kwargs):
        gather = _Gather(self)
        res = getattr(self._a, name)(*_unwrap(args, gather), **_unwrap(kwargs, gather))
        return _wrap(res, self.device_id, gather.arrays)
    method.__name__, method.__qualname__ = name, f"FakeArray.{name}"
    method.__doc__ = (f"Like ``numpy.ndarray.{name}``; FakeArray arguments are unwrapped, "
                      "NumPy arrays refused, and results stay on this device.")
    return method


for _name in ("astype", "reshape", "transpose", "swapaxes", "squeeze", "ravel", "flatten",
              "copy", "fill", "sum", "mean", "var", "std", "max", "min", "argmax", "argmin",
              "prod", "cumsum", "cumprod", "clip", "any", "all", "dot", "take", "repeat",
              "nonzero", "sort", "argsort", "round", "conj", "diagonal", "trace"):
    setattr(FakeArray, _name, _ndarray_method(_name))
del _name, _fn, _ifn


# --------------------------------------------------------------------------
# Explicit host <-> device transfers and CuPy-only helpers
# --------------------------------------------------------------------------
def _upload(obj, dtype=None, order="K", ndmin=0):
    """Copy host data (ndarray, list, scalar) onto the current device."""
    host = _unwrap(obj, _Gather(), host_ok=True)
    data = np.array(host, dtype=dtype, order=order or "K", copy=True, ndmin=ndmin)
    return FakeArray._make(data, current_device())


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0):
    """``cupy.array``: uploads host data; copies FakeArrays unless ``copy=False``."""
    if isinstance(obj, FakeArray) and obj.device_id == current_device():
        res = np.array(obj._a, dtype=dtype, copy=True if copy else None, order=order, ndmin=ndmin)
        return _wrap(res, obj.device_id, (obj,))
    return _upload(obj, dtype, order, ndmin)   # host data or another device: always a copy


def asarray(a, dtype=None, order=None, *, blocking=False):
    """``cupy.asarray``: the explicit host -> device path; a no-op for arrays already here."""
    if isinstance(a, FakeArray) and a.device_id == current_device():
        return _wrap(np.asarray(a._a, dtype=dtype, order=order), a.device_id, (a,))
    return _upload(a, dtype, order)


asanyarray = asarray


def ascontiguousarray(a, dtype=None):
    """``cupy.ascontiguousarray``: like :func:`asarray`, but C-contiguous."""
    if isinstance(a, FakeArray) and a.device_id == current_device():
        return _wrap(np.ascontiguousarray(a._a, dtype=dtype), a.device_id, (a,))
    return _upload(a, dtype, "C")


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    """``cupy.asnumpy``: explicit download; NumPy input is returned as is."""
    if isinstance(a, FakeArray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    """``cupy.get_array_module``: ``xp`` if any argument is a FakeArray, else ``numpy``."""
    return xp if any(isinstance(arg, FakeArray) for arg in args) else np


def scatter_add(a, slices, value):
    """``cupyx.scatter_add``: unbuffered ``a[slices] += value``; repeated indices add up."""
    if not isinstance(a, FakeArray):
        raise TypeError(f"scatter_add needs a FakeArray target, got {type(a)}")
    gather = _Gather(a)
    np.add.at(a._a, _unwrap(slices, gather), _unwrap(value, gather))


# --------------------------------------------------------------------------
# Module-like namespaces
# --------------------------------------------------------------------------
class _Ufunc:
    """A NumPy ufunc speaking FakeArray, methods included (``xp.add.at``, ``.reduce``)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, args, kwargs)

    def __getattr__(self, name):
        if name.startswith("_") and name != "__name__":
            raise AttributeError(name)
        attr = getattr(self._ufunc, name)
        return _wrap_function(attr) if callable(attr) else attr

    def __repr__(self):
        return f"<fakecupy ufunc {self._ufunc.__name__!r}>"


class _Namespace:
    """Mirror a NumPy module: functions are wrapped to speak FakeArray.

    Types (``float32``, ``dtype``, ``finfo``) and constants (``pi``,
    ``newaxis``) pass through; submodules (``linalg``, ``fft``) are mirrored.
    """

    def __init__(self, module, name):
        self._module = module
        self._cache = {}
        self.__name__ = name

    def __getattr__(self, name):
        if name.startswith("_"):   # private names and protocol probes (pickle, pytest)
            raise AttributeError(name)
        if name not in self._cache:
            try:
                attr = getattr(self._module, name)
            except AttributeError:
                msg = f"module {self.__name__!r} has no attribute {name!r}"
                raise AttributeError(msg) from None
            if isinstance(attr, np.ufunc):
                attr = _Ufunc(attr)
            elif isinstance(attr, types.ModuleType):
                attr = _Namespace(attr, f"{self.__name__}.{name}")
            elif callable(attr) and not isinstance(attr, type):
                attr = _wrap_function(attr)
            self._cache[name] = attr
        return self._cache[name]

    def __dir__(self):
        return sorted(set(dir(self._module)) | set(dir(type(self))) | set(vars(self)))

    def __repr__(self):
        return f"<fake module {self.__name__!r}>"


class _RandomWrapper:
    """Forward every method of a NumPy random object; results become FakeArrays.

    Python scalars from e.g. ``rng.random()`` become 0-d arrays, as in CuPy.
    """

    def __init__(self, rng):
        self._rng = rng

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        attr = getattr(self._rng, name)
        return _wrap_function(attr, scalars_to_0d=True) if callable(attr) else attr


class Generator(_RandomWrapper):
    """``cupy.random.Generator`` look-alike around a ``numpy.random.Generator``."""

    def __init__(self, rng=None):
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)   # a seed, a BitGenerator or None
        super().__init__(rng)

    def __repr__(self):
        return f"<fake Generator({type(self._rng.bit_generator).__name__})>"


class RandomState(_RandomWrapper):
    """``cupy.random.RandomState`` look-alike (``rand``, ``randn``, ``randint``, ...)."""

    def __init__(self, seed=None):
        super().__init__(np.random.RandomState(seed))


class _RandomNamespace:
    """``xp.random``: ``default_rng``, ``RandomState``, and global-state functions.

    The global state is our own, so ``xp.random.seed`` never disturbs
    ``numpy.random`` (as with CuPy).
    """

    Generator = Generator
    RandomState = RandomState
    __name__ = "fakecupy.random"

    def __init__(self):
        self._global = RandomState()

    def default_rng(self, seed=None):
        return Generator(np.random.default_rng(seed))

    def seed(self, seed=None):
        self._global._rng.seed(seed)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._global, name)   # rand, randn, normal, randint, ...


class _FakeCupy(_Namespace):
    """The ``xp`` object: NumPy's API over FakeArrays, plus CuPy's own extras."""

    ndarray = FakeArray
    cuda = types.SimpleNamespace(Device=Device)
    array = staticmethod(array)
    asarray = staticmethod(asarray)
    asanyarray = staticmethod(asanyarray)
    ascontiguousarray = staticmethod(ascontiguousarray)
    asnumpy = staticmethod(asnumpy)
    get_array_module = staticmethod(get_array_module)
    scatter_add = staticmethod(scatter_add)

    def __init__(self):
        super().__init__(np, "fakecupy")
        self.random = _RandomNamespace()


xp = _FakeCupy()
