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
one. :class:`FakeArray` keeps its data in a private ``numpy.ndarray`` but
behaves like a ``cupy.ndarray`` wherever the difference matters (each point
checked against CuPy's source, tag v14.2.0):

* it refuses every implicit conversion to NumPy (``np.asarray(fake)``,
  ``ndarray + fake``, ``np.testing`` on it) and NumPy arrays as operands and
  assigned values; NumPy *index* arrays and lists are uploaded, as CuPy does;
* like CuPy it implements ``__array_ufunc__`` / ``__array_function__``:
  ``np.exp(fake)`` and ``np.sum(fake)`` run ``xp.exp`` / ``xp.sum`` on the
  device -- but only for names on the allow-list;
* ``xp`` exposes **only** the allow-listed CuPy API (:data:`ALLOWED`: name ->
  CuPy signature and the CuPy file it was checked against), and every call is
  bound to CuPy's signature, so ``indices(..., sparse=True)``,
  ``sum(where=...)`` or ``max(initial=...)`` fail here as on a GPU;
* out-of-range integer-array indices **wrap around** (CuPy does not raise),
  and with repeated indices in an assignment the *first* write survives (CuPy
  leaves it unspecified; NumPy keeps the last);
* ``broadcast_to`` takes device arrays only; ``item()`` takes no arguments;
  there is no ``__index__``; ``flags`` has CuPy's fields only;
* ``xp.random`` has CuPy's Generator methods only, and a generator's state is
  a method returning a "device pointer", not a dict;
* every result is again a FakeArray (reductions give 0-d arrays, never NumPy
  scalars), arrays on different fake devices never mix, and device -> host
  transfers are counted (:data:`host_transfers`) so tests can keep host
  synchronisations off hot paths.

If the engine passes the whole test suite with ``xp`` from this module, it
uses nothing of NumPy that CuPy lacks. :func:`record` lists the names the
engine looks up (``tests/backends/test_allow_list.py``).
"""
from __future__ import annotations

import functools
import inspect
import operator
import threading
import types

import numpy as np

__all__ = [
    "FakeArray", "Device", "current_device", "xp", "asarray", "array",
    "asanyarray", "ascontiguousarray", "asnumpy", "get_array_module",
    "Generator",
]

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")
# Python and NumPy scalars live on the host but are tiny; CuPy accepts them.
_SCALARS = (bool, int, float, complex, np.generic)


#: device -> host transfers so far (``get``, ``item``, ``tolist``, ``float()``,
#: ``int()``, ``bool()``): each one is a synchronisation on a real GPU, so tests
#: count them to keep host syncs off the hot paths.
host_transfers = 0


def _count_transfer() -> None:
    global host_transfers
    host_transfers += 1


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


def _unwrap_index(key, gather: _Gather):
    """An index as CuPy takes it (``cupy/_core/_routines_indexing.pyx``,
    ``_prepare_slice_list``): FakeArrays unwrapped; NumPy arrays and lists are
    *accepted* and uploaded (CuPy converts them with ``core.array``)."""
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for part in parts:
        if isinstance(part, FakeArray):
            out.append(gather.add(part))
        elif isinstance(part, (np.ndarray, list)):
            out.append(np.array(_unwrap(part, gather, host_ok=True)))
        else:
            out.append(part)
    return tuple(out) if isinstance(key, tuple) else out[0]


def _is_int_array(part) -> bool:
    return isinstance(part, np.ndarray) and part.dtype.kind in "iu"


def _has_array(key) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return any(isinstance(p, np.ndarray) for p in parts)


def _wrap_key(key, shape):
    """Make out-of-range integer-array indices wrap around, as CuPy does.

    CuPy's "Differences between CuPy and NumPy" page: out-of-bounds indices of
    integer arrays are wrapped (``i % n``) instead of raising IndexError. So
    an engine that relies on NumPy raising gets a silent wrong answer on a
    GPU -- and now on the fake too; minigrad's own range checks must raise.
    (Python ints out of range still raise IndexError, in CuPy as in NumPy.)
    """
    parts = list(key) if isinstance(key, tuple) else [key]
    if not any(_is_int_array(p) for p in parts):
        return key
    n_ellipsis_axes = len(shape) - sum(
        p.ndim if isinstance(p, np.ndarray) and p.dtype.kind == "b" else 1
        for p in parts if p is not None and p is not Ellipsis)
    axis = 0
    for i, part in enumerate(parts):
        if part is None:
            continue
        if part is Ellipsis:
            axis += n_ellipsis_axes
            continue
        if _is_int_array(part):
            n = shape[axis] if axis < len(shape) else 0
            if n:
                parts[i] = np.mod(part, n)
            axis += 1
        elif isinstance(part, np.ndarray) and part.dtype.kind == "b":
            axis += part.ndim
        else:
            axis += 1
    return tuple(parts) if isinstance(key, tuple) else parts[0]


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
    while True:
        base = root.base
        if isinstance(base, np.ndarray):
            root = base
        elif isinstance(getattr(base, "base", None), np.ndarray):
            root = base.base       # a stride-trick view: NumPy puts a holder object between
        else:
            break
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


def _signature_checker(qualname: str, signature: str, source: str):
    """A function ``check(args, kwargs)`` raising TypeError unless the call binds to
    CuPy's ``signature`` -- so a NumPy-only keyword (``where=``, ``initial=``,
    ``sparse=``) fails on CPU exactly as it would on a GPU."""
    namespace: dict = {}
    exec(f"def _stub{signature}: pass", {}, namespace)   # trusted: our own literals
    sig = inspect.signature(namespace["_stub"])

    def check(args, kwargs):
        try:
            sig.bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{qualname}{signature}: {err} -- CuPy's signature "
                            f"({source}) does not allow this call") from None
    return check


# --------------------------------------------------------------------------
# The array
# --------------------------------------------------------------------------
class _Flags:
    """``ndarray.flags`` as CuPy has it (``cupy/_core/flags.pyx``): a snapshot with
    ``c_contiguous``, ``f_contiguous``, ``owndata``, ``fnc``, ``forc`` and the
    upper-case keys ``"C_CONTIGUOUS"``, ``"F_CONTIGUOUS"``, ``"OWNDATA"`` --
    no ``writeable``, no ``"C"`` / ``"F"`` shorthands."""

    _NAMES = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, nd_flags):
        self.c_contiguous = bool(nd_flags.c_contiguous)
        self.f_contiguous = bool(nd_flags.f_contiguous)
        self.owndata = bool(nd_flags.owndata)

    @property
    def fnc(self):
        return self.f_contiguous and not self.c_contiguous

    @property
    def forc(self):
        return self.f_contiguous or self.c_contiguous

    def __getitem__(self, name):
        if name in ("C_CONTIGUOUS", "F_CONTIGUOUS", "OWNDATA"):
            return getattr(self, name.lower())
        raise KeyError(f"{name} is not defined for cupy.ndarray.flags")

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

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(fake)`` runs ``xp.exp`` -- as CuPy does (``cupy/_core/core.pyx``).

        Only ufuncs on the allow-list dispatch (anything else is recorded as a
        missing name and refused); NumPy arrays among the operands are refused
        with CuPy's ``Unsupported type`` (no implicit host -> device copy).
        """
        if "out" in kwargs:
            out = kwargs["out"]
            if len(out) != 1:
                raise ValueError("The 'out' parameter must have exactly one array value")
            kwargs["out"] = out[0]
        for x in inputs + ((kwargs["out"],) if "out" in kwargs else ()):
            if isinstance(x, np.ndarray):
                raise _unsupported(x)
            if not isinstance(x, (FakeArray,) + _SCALARS):
                return NotImplemented
        func = getattr(xp, ufunc.__name__)           # checks the allow-list
        if method != "__call__":
            func = getattr(func, method)
        return func(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(fake)`` runs ``xp.sum`` when the allow-list has it (CuPy dispatches
        to ``cupy.<name>``); otherwise NumPy's own "no implementation" TypeError."""
        if func.__module__ not in ("numpy", "numpy.linalg") or func.__name__ not in ALLOWED:
            _note_missing(func.__name__)
            return NotImplemented
        if not all(issubclass(t, (FakeArray, np.ndarray)) for t in types):
            return NotImplemented
        return getattr(xp, func.__name__)(*args, **kwargs)

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
        _count_transfer()
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

    def item(self):
        """The one element as a Python scalar (CuPy's ``item()`` takes no arguments)."""
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        _count_transfer()
        return self._a.item()

    def tolist(self):
        _count_transfer()
        return self._a.tolist()

    def _size_one(self, kind):
        if self.size != 1:
            raise TypeError(f"only length-1 arrays can be converted to Python {kind}")
        _count_transfer()
        return self._a.item()

    def __float__(self):
        return float(self._size_one("scalars"))

    def __int__(self):
        return int(self._size_one("scalars"))

    def __complex__(self):
        return complex(self._size_one("scalars"))

    # No ``__index__``: ``cupy.ndarray`` has none, so ``range(a)``, ``[0, 1][a]`` and
    # ``operator.index(a)`` raise TypeError on CuPy and here.

    def __bool__(self):
        if self.size == 0:
            raise ValueError("The truth value of an empty array is ambiguous.")
        if self.size > 1:
            raise ValueError("The truth value of an array with more than one element "
                             "is ambiguous. Use a.any() or a.all()")
        _count_transfer()
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
        key = _wrap_key(_unwrap_index(key, gather), self.shape)
        res = self._a[key]
        if isinstance(res, np.generic):
            # NumPy returns a scalar here; CuPy returns a 0-d *view*.  A
            # trailing Ellipsis makes NumPy do the same.
            res = self._a[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
        return _wrap(res, self.device_id, gather.arrays)

    def __setitem__(self, key, value):
        """``a[key] = value``. Integer-array keys wrap out-of-range values (as CuPy);
        where a key names one element twice, CuPy leaves *which* write survives
        unspecified -- here the first one does, so code relying on NumPy's
        last-write-wins fails on CPU too."""
        gather = _Gather(self)
        key = _wrap_key(_unwrap_index(key, gather), self.shape)
        value = _unwrap(value, gather)
        if not _has_array(key):
            self._a[key] = value
            return
        where = np.arange(self.size).reshape(self.shape)[key]
        values = np.broadcast_to(np.asarray(value, dtype=self.dtype), where.shape)
        self._a.flat[where.reshape(-1)[::-1]] = values.reshape(-1)[::-1]  # first write wins

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


# name -> CuPy signature (without ``self``), checked against cupy/_core/core.pyx (v14.2.0)
NDARRAY_METHODS = {
    "astype": "(dtype, order='K', casting=None, subok=None, copy=True)",
    "reshape": "(*shape, order='C', copy=None)",
    "transpose": "(*axes)",
    "swapaxes": "(axis1, axis2)",
    "squeeze": "(axis=None)",
    "ravel": "(order='C')",
    "flatten": "(order='C')",
    "copy": "(order='C')",
    "fill": "(value)",
    "sum": "(axis=None, dtype=None, out=None, keepdims=False)",
    "mean": "(axis=None, dtype=None, out=None, keepdims=False)",
    "var": "(axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
    "std": "(axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
    "max": "(axis=None, out=None, keepdims=False)",
    "min": "(axis=None, out=None, keepdims=False)",
    "argmax": "(axis=None, out=None, dtype=None, keepdims=False)",
    "argmin": "(axis=None, out=None, dtype=None, keepdims=False)",
    "prod": "(axis=None, dtype=None, out=None, keepdims=None)",
    "cumsum": "(axis=None, dtype=None, out=None)",
    "cumprod": "(axis=None, dtype=None, out=None)",
    "clip": "(min=None, max=None, out=None)",
    "any": "(axis=None, out=None, keepdims=False)",
    "all": "(axis=None, out=None, keepdims=False)",
    "dot": "(b, out=None)",
    "repeat": "(repeats, axis=None)",
    "nonzero": "()",
    "sort": "(axis=-1, kind=None)",
    "argsort": "(axis=-1, kind=None)",
    "round": "(decimals=0, out=None)",
    "conj": "()",
    "diagonal": "(offset=0, axis1=0, axis2=1)",
    "trace": "(offset=0, axis1=0, axis2=1, dtype=None, out=None)",
}


def _ndarray_method(name, signature):
    """Build a FakeArray method with CuPy's signature that runs ``ndarray.<name>``."""
    check = _signature_checker(f"cupy.ndarray.{name}", signature, "cupy/_core/core.pyx")

    def method(self, *args, **kwargs):
        check(args, kwargs)
        gather = _Gather(self)
        res = getattr(self._a, name)(*_unwrap(args, gather), **_unwrap(kwargs, gather))
        return _wrap(res, self.device_id, gather.arrays)
    method.__name__, method.__qualname__ = name, f"FakeArray.{name}"
    method.__doc__ = f"``cupy.ndarray.{name}{signature}``, run by NumPy on the fake device."
    return method


def _take(self, indices, axis=None, out=None):
    """``cupy.ndarray.take``: out-of-range indices wrap (CuPy's take has mode 'wrap')."""
    gather = _Gather(self)
    idx = _unwrap(indices, gather)
    return _wrap(np.take(self._a, idx, axis=axis, mode="wrap"), self.device_id, gather.arrays)


for _name, _sig in NDARRAY_METHODS.items():
    setattr(FakeArray, _name, _ndarray_method(_name, _sig))
FakeArray.take = _take
del _name, _sig, _fn, _ifn


# --------------------------------------------------------------------------
# Explicit host <-> device transfers and CuPy-only helpers
# --------------------------------------------------------------------------
def _upload(obj, dtype=None, order="K", ndmin=0):
    """Copy host data (ndarray, list, scalar) onto the current device."""
    host = _unwrap(obj, _Gather(), host_ok=True)
    data = np.array(host, dtype=dtype, order=order or "K", copy=True, ndmin=ndmin)
    return FakeArray._make(data, current_device())


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    """``cupy.array``: uploads host data; copies FakeArrays unless ``copy=False``."""
    if isinstance(obj, FakeArray) and obj.device_id == current_device():
        res = np.array(obj._a, dtype=dtype, copy=True if copy else None, order=order, ndmin=ndmin)
        return _wrap(res, obj.device_id, (obj,))
    return _upload(obj, dtype, order, ndmin)   # host data or another device: always a copy


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """``cupy.asarray``: the explicit host -> device path; a no-op for arrays already here."""
    if isinstance(a, FakeArray) and a.device_id == current_device():
        res = np.asarray(a._a, dtype=dtype, order=order)
        if copy and res is a._a:          # (NumPy < 2 has no ``copy=`` in asarray)
            res = res.copy()
        return _wrap(res, a.device_id, (a,))
    return _upload(a, dtype, order)


asanyarray = asarray


def ascontiguousarray(a, dtype=None):
    """``cupy.ascontiguousarray``: like :func:`asarray`, but C-contiguous."""
    if isinstance(a, FakeArray) and a.device_id == current_device():
        return _wrap(np.ascontiguousarray(a._a, dtype=dtype), a.device_id, (a,))
    return _upload(a, dtype, "C")


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """``cupy.asnumpy``: explicit download; NumPy input is returned as is."""
    if isinstance(a, FakeArray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    """``cupy.get_array_module``: ``xp`` if any argument is a FakeArray, else ``numpy``."""
    return xp if any(isinstance(arg, FakeArray) for arg in args) else np


def broadcast_to(array, shape):
    """``cupy.broadcast_to(array, shape)`` is ``array._broadcast_to(shape)``
    (``cupy/_manipulation/dims.py``): device arrays only -- a Python scalar or
    list fails with AttributeError on CuPy, so it does here."""
    if not isinstance(array, FakeArray):
        raise AttributeError(f"'{type(array).__name__}' object has no attribute '_broadcast_to'"
                             " (cupy.broadcast_to takes a cupy.ndarray only)")
    return array._new(np.broadcast_to(array._a, shape))


def take_along_axis(a, indices, axis):
    """``cupy.take_along_axis``: built on fancy indexing, so out-of-range indices wrap."""
    gather = _Gather(a)
    arr, idx = _unwrap(a, gather), _unwrap(indices, gather)
    if axis is None:
        arr, axis = arr.reshape(-1), 0
    n = arr.shape[axis]
    return _wrap(np.take_along_axis(arr, np.mod(idx, n) if n else idx, axis), gather.device_id)


def take(a, indices, axis=None, out=None):
    """``cupy.take``: mode 'wrap' (CuPy's only mode)."""
    if out is not None:
        raise NotImplementedError("the fake does not implement take(out=...)")
    return FakeArray.take(a, indices, axis)


def einsum(*operands, **kwargs):
    """``cupy.einsum(*operands, **kwargs)``: CuPy pops ``dtype`` and ``optimize``
    and refuses any other keyword (``cupy/linalg/_einsum.py``)."""
    unknown = set(kwargs) - {"dtype", "optimize"}
    if unknown:
        raise TypeError(f"Did not understand the following kwargs: {sorted(unknown)}")
    return _call(np.einsum, operands, kwargs)


# --------------------------------------------------------------------------
# The allow-list: every name of ``xp`` the engine may use, with CuPy's signature
# --------------------------------------------------------------------------
_UFUNC = "(*args, out=None, dtype=None, casting='same_kind')"
_KERNEL = "cupy/_core/_kernel.pyx (ufunc.__call__)"
_LIKE = "(a, dtype=None, order='K', subok=None, shape=None)"

#: name -> (CuPy signature, CuPy source file it was checked against, tag v14.2.0).
#: ``"type"`` / ``"constant"`` / ``"module"`` entries are NumPy objects CuPy
#: re-exports (``from numpy import ...`` in cupy/__init__.py) or sub-namespaces.
ALLOWED: dict[str, tuple[str, str]] = {
    # creation
    "array": ("(obj, dtype=None, copy=True, order='K', subok=False, ndmin=0, *, blocking=False)",
              "cupy/_creation/from_data.py"),
    "asarray": ("(a, dtype=None, order=None, *, copy=None, blocking=False)",
                "cupy/_creation/from_data.py"),
    "asanyarray": ("(a, dtype=None, order=None, *, blocking=False)", "cupy/_creation/from_data.py"),
    "ascontiguousarray": ("(a, dtype=None)", "cupy/_creation/from_data.py"),
    "asnumpy": ("(a, stream=None, order='C', out=None, *, blocking=True)", "cupy/__init__.py"),
    "get_array_module": ("(*args)", "cupy/__init__.py"),
    "arange": ("(start, stop=None, step=1, dtype=None)", "cupy/_creation/ranges.py"),
    "zeros": ("(shape, dtype=float, order='C')", "cupy/_creation/basic.py"),
    "ones": ("(shape, dtype=float, order='C')", "cupy/_creation/basic.py"),
    "empty": ("(shape, dtype=float, order='C')", "cupy/_creation/basic.py"),
    "full": ("(shape, fill_value, dtype=None, order='C')", "cupy/_creation/basic.py"),
    "zeros_like": (_LIKE, "cupy/_creation/basic.py"),
    "ones_like": (_LIKE, "cupy/_creation/basic.py"),
    "empty_like": ("(prototype, dtype=None, order='K', subok=None, shape=None)",
                   "cupy/_creation/basic.py"),
    "full_like": ("(a, fill_value, dtype=None, order='K', subok=None, shape=None)",
                  "cupy/_creation/basic.py"),
    "eye": ("(N, M=None, k=0, dtype=float, order='C')", "cupy/_creation/basic.py"),
    "tril": ("(m, k=0)", "cupy/_creation/matrix.py"),
    "triu": ("(m, k=0)", "cupy/_creation/matrix.py"),
    "indices": ("(dimensions, dtype=int)", "cupy/_indexing/generate.py"),
    # shape and joining
    "broadcast_to": ("(array, shape)", "cupy/_manipulation/dims.py"),
    "expand_dims": ("(a, axis)", "cupy/_manipulation/dims.py"),
    "squeeze": ("(a, axis=None)", "cupy/_manipulation/dims.py"),
    "reshape": ("(a, newshape, order='C', *, copy=None)", "cupy/_manipulation/shape.py"),
    "ravel": ("(a, order='C')", "cupy/_manipulation/shape.py"),
    "transpose": ("(a, axes=None)", "cupy/_manipulation/transpose.py"),
    "moveaxis": ("(a, source, destination)", "cupy/_manipulation/transpose.py"),
    "swapaxes": ("(a, axis1, axis2)", "cupy/_manipulation/transpose.py"),
    "concatenate": ("(tup, axis=0, out=None, *, dtype=None, casting='same_kind')",
                    "cupy/_manipulation/join.py"),
    "stack": ("(tup, axis=0, out=None, *, dtype=None, casting='same_kind')",
              "cupy/_manipulation/join.py"),
    "split": ("(ary, indices_or_sections, axis=0)", "cupy/_manipulation/split.py"),
    "tile": ("(A, reps)", "cupy/_manipulation/tiling.py"),
    "repeat": ("(a, repeats, axis=None)", "cupy/_manipulation/tiling.py"),
    "flip": ("(a, axis=None)", "cupy/_manipulation/rearrange.py"),
    "roll": ("(a, shift, axis=None)", "cupy/_manipulation/rearrange.py"),
    "pad": ("(array, pad_width, mode='constant', **kwargs)", "cupy/_padding/pad.py"),
    "copyto": ("(dst, src, casting='same_kind', where=None)", "cupy/_manipulation/basic.py"),
    # indexing and searching (integer-array indices WRAP in CuPy)
    "take": ("(a, indices, axis=None, out=None)", "cupy/_indexing/indexing.py"),
    "take_along_axis": ("(a, indices, axis)", "cupy/_indexing/indexing.py"),
    "where": ("(condition, x=None, y=None)", "cupy/_sorting/search.py"),
    "argmax": ("(a, axis=None, dtype=None, out=None, keepdims=False)", "cupy/_sorting/search.py"),
    "argmin": ("(a, axis=None, dtype=None, out=None, keepdims=False)", "cupy/_sorting/search.py"),
    "argsort": ("(a, axis=-1, kind=None)", "cupy/_sorting/sort.py"),
    "sort": ("(a, axis=-1, kind=None)", "cupy/_sorting/sort.py"),
    # reductions
    "sum": ("(a, axis=None, dtype=None, out=None, keepdims=False)", "cupy/_math/sumprod.py"),
    "prod": ("(a, axis=None, dtype=None, out=None, keepdims=False)", "cupy/_math/sumprod.py"),
    "cumsum": ("(a, axis=None, dtype=None, out=None)", "cupy/_math/sumprod.py"),
    "mean": ("(a, axis=None, dtype=None, out=None, keepdims=False)",
             "cupy/_statistics/meanvar.py"),
    "var": ("(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
            "cupy/_statistics/meanvar.py"),
    "std": ("(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False)",
            "cupy/_statistics/meanvar.py"),
    "max": ("(a, axis=None, out=None, keepdims=False)", "cupy/_statistics/order.py"),
    "min": ("(a, axis=None, out=None, keepdims=False)", "cupy/_statistics/order.py"),
    "amax": ("(a, axis=None, out=None, keepdims=False)", "cupy/_statistics/order.py"),
    "amin": ("(a, axis=None, out=None, keepdims=False)", "cupy/_statistics/order.py"),
    "any": ("(a, axis=None, out=None, keepdims=False)", "cupy/_logic/truth.py"),
    "all": ("(a, axis=None, out=None, keepdims=False)", "cupy/_logic/truth.py"),
    # products
    "einsum": ("(*operands, **kwargs)", "cupy/linalg/_einsum.py (kwargs: dtype, optimize)"),
    "tensordot": ("(a, b, axes=2)", "cupy/linalg/_product.py"),
    "dot": ("(a, b, out=None)", "cupy/linalg/_product.py"),
    "outer": ("(a, b, out=None)", "cupy/linalg/_product.py"),
    "matmul": ("(*args, out=None, **kwargs)", "cupy/linalg/_product.py (a _GUFunc)"),
    # elementwise functions that are not ufuncs
    "clip": ("(a, a_min, a_max, out=None)", "cupy/_math/misc.py"),
    "nan_to_num": ("(x, copy=True, nan=0.0, posinf=None, neginf=None)", "cupy/_math/misc.py"),
    "isclose": ("(a, b, rtol=1e-05, atol=1e-08, equal_nan=False)", "cupy/_logic/comparison.py"),
    "allclose": ("(a, b, rtol=1e-05, atol=1e-08, equal_nan=False)",
                 "cupy/_logic/comparison.py"),
    "array_equal": ("(a1, a2, equal_nan=False)", "cupy/_logic/comparison.py"),
    # types, constants and namespaces (NumPy's own objects, re-exported by CuPy)
    **{name: ("type", "cupy/__init__.py (from numpy import ...)") for name in (
        "dtype", "finfo", "iinfo", "float16", "float32", "float64", "int8", "int16", "int32",
        "int64", "uint8", "uint16", "uint32", "uint64", "bool_", "intp", "integer", "floating",
        "number", "generic", "promote_types")},
    **{name: ("constant", "cupy/__init__.py (from numpy import ...)") for name in (
        "newaxis", "pi", "inf", "nan", "e")},
    "ndarray": ("type", "cupy/_core/core.pyx"),
    "random": ("module", "cupy/random/__init__.py"),
    "lib": ("module", "cupy/lib/__init__.py (stride_tricks.as_strided only: cupy/lib/stride_tricks.py)"),
    "cuda": ("module", "cupy/cuda/__init__.py (Device only)"),
}
#: the ufuncs (``_UFUNC`` signature; methods ``at``, ``reduce``, ``outer``)
UFUNCS = (
    "abs", "absolute", "negative", "add", "subtract", "multiply", "divide", "true_divide",
    "floor_divide", "power", "square", "sqrt", "cbrt", "exp", "expm1", "log", "log1p", "log2",
    "log10", "logaddexp", "sin", "cos", "tan", "arctan", "arctan2", "tanh", "sinh", "cosh",
    "sign", "maximum", "minimum", "fmax", "fmin", "floor", "ceil", "rint", "reciprocal",
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "logical_and",
    "logical_or", "logical_not", "logical_xor", "isfinite", "isnan", "isinf", "signbit",
    "copysign", "hypot", "right_shift", "left_shift", "bitwise_and", "bitwise_or",
    "bitwise_xor", "invert", "fmod", "remainder", "mod",
)
ALLOWED.update({name: (_UFUNC, _KERNEL) for name in UFUNCS})
_UFUNC_METHODS = {"at": "(a, indices, b=None)",
                  "reduce": "(array, axis=0, dtype=None, out=None, keepdims=False)",
                  "accumulate": "(array, axis=0, dtype=None, out=None)",
                  "outer": "(A, B, **kwargs)"}
#: ufuncs with a ``scatter_op`` (so ``.at``): cupy/_core/_routines_math.pyx,
#: _routines_binary.pyx, cupy/_math/misc.py
_SCATTER_UFUNCS = ("add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or",
                   "bitwise_xor")

# -- recording which names the engine touches ----------------------------------
_recorders: list[set] = []
_missing: set = set()


def _note(name: str) -> None:
    for rec in _recorders:
        rec.add(name)


def _note_missing(name: str) -> None:
    _missing.add(name)
    _note("!" + name)


class record:
    """``with fake.record() as names: ...`` collects every ``xp`` attribute looked up
    (``"!name"`` for a refused one) -- the allow-list test runs the op suite in it."""

    def __enter__(self) -> set:
        self.names = set()
        _recorders.append(self.names)
        return self.names

    def __exit__(self, *exc_info):
        _recorders.remove(self.names)
        return False


# --------------------------------------------------------------------------
# Module-like namespaces
# --------------------------------------------------------------------------
class _Ufunc:
    """A NumPy ufunc speaking FakeArray with CuPy's call signature and methods."""

    def __init__(self, name):
        self._ufunc = getattr(np, name)
        self.__name__ = name
        self._check = _signature_checker(f"cupy.{name}", _UFUNC, _KERNEL)

    def __call__(self, *args, **kwargs):
        self._check(args, kwargs)
        return _call(self._ufunc, args, kwargs)

    def at(self, a, indices, b=None):
        """``cupy.<ufunc>.at``: unbuffered in-place op; out-of-range indices wrap.
        Only ufuncs with a scatter op have it (add, subtract, maximum, minimum,
        bitwise and/or/xor); others raise NotImplementedError, as on CuPy."""
        if self.__name__ not in _SCATTER_UFUNCS:
            raise NotImplementedError(f"`{self.__name__}.at` is not supported yet")
        if not isinstance(a, FakeArray):
            raise TypeError(f"{self.__name__}.at needs a device array, got {type(a)}")
        gather = _Gather(a)
        key = _wrap_key(_unwrap_index(indices, gather), a.shape)
        self._ufunc.at(a._a, key, *(() if b is None else (_unwrap(b, gather),)))

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        """Only ``add.reduce`` and ``multiply.reduce`` exist on CuPy (sum / prod)."""
        if self.__name__ not in ("add", "multiply"):
            raise NotImplementedError(f"`{self.__name__}.reduce` is not supported yet")
        return _call(self._ufunc.reduce, (array,),
                     dict(axis=axis, dtype=dtype, out=out, keepdims=keepdims))

    def accumulate(self, array, axis=0, dtype=None, out=None):
        if self.__name__ not in ("add", "multiply"):
            raise NotImplementedError(f"`{self.__name__}.accumulate` is not supported yet")
        return _call(self._ufunc.accumulate, (array,), dict(axis=axis, dtype=dtype, out=out))

    def outer(self, A, B, **kwargs):
        return _call(self._ufunc.outer, (A, B), kwargs)

    def __getattr__(self, name):
        if name in ("nin", "nout", "nargs", "types", "ntypes", "identity"):
            return getattr(self._ufunc, name)
        raise AttributeError(f"cupy ufunc {self.__name__!r}: the fake allows only "
                             f"{sorted(_UFUNC_METHODS)} as methods, not {name!r}")

    def __repr__(self):
        return f"<fakecupy ufunc {self.__name__!r}>"


_OVERRIDES = {
    "array": array, "asarray": asarray, "asanyarray": asanyarray,
    "ascontiguousarray": ascontiguousarray, "asnumpy": asnumpy,
    "get_array_module": get_array_module, "broadcast_to": broadcast_to,
    "take_along_axis": take_along_axis, "take": take, "einsum": einsum,
}


def _checked_function(name: str, signature: str, source: str):
    check = _signature_checker(f"cupy.{name}", signature, source)
    impl = _OVERRIDES.get(name)
    if impl is None:
        func = getattr(np, name)

        def impl(*args, **kwargs):
            return _call(func, args, kwargs)

    @functools.wraps(impl)
    def wrapper(*args, **kwargs):
        check(args, kwargs)
        return impl(*args, **kwargs)
    wrapper.__doc__ = f"``cupy.{name}{signature}`` (checked against {source}), on the fake."
    return wrapper


# -- xp.random: CuPy's Generator API only --------------------------------------
class BitGenerator:
    """``cupy.random.BitGenerator`` look-alike: its state lives "on the device".

    ``state()`` is a *method* returning a device pointer (an int), as in
    ``cupy/random/_bit_generator.pyx`` -- there is no dict to save.
    """

    def __init__(self, seed=None):
        self._np = np.random.default_rng(seed)

    def state(self):
        return id(self._np)          # an opaque "device pointer"

    def random_raw(self, size=None, output=True):
        raw = self._np.bit_generator.random_raw(size)
        return FakeArray._make(np.asarray(raw), current_device()) if output else None


#: the methods of ``cupy.random.Generator`` (``cupy/random/_generator_api.pyx``)
GENERATOR_METHODS = (
    "random", "uniform", "integers", "beta", "chisquare", "dirichlet", "exponential", "f",
    "geometric", "hypergeometric", "logseries", "standard_exponential", "poisson", "power",
    "standard_normal", "gamma", "standard_gamma", "binomial",
)


class Generator:
    """``cupy.random.Generator``: CuPy's methods only -- no ``permutation``,
    ``choice``, ``shuffle`` or ``normal`` -- and no dict ``bit_generator.state``."""

    def __init__(self, bit_generator):
        if not isinstance(bit_generator, BitGenerator):
            raise TypeError("Generator needs a BitGenerator (use xp.random.default_rng)")
        self.bit_generator = bit_generator

    def __getattr__(self, name):
        if name not in GENERATOR_METHODS:
            raise AttributeError(f"'cupy.random.Generator' object has no attribute {name!r}")
        method = getattr(self.bit_generator._np, name)
        return _wrap_function(method, scalars_to_0d=True)

    def __repr__(self):
        return "<fake cupy.random.Generator>"


class _RandomNamespace:
    """``xp.random``: ``default_rng``, ``Generator`` and ``BitGenerator`` (the legacy
    global-state functions are left out: minigrad uses ``minigrad.rng``)."""

    Generator = Generator
    BitGenerator = BitGenerator
    __name__ = "fakecupy.random"

    def default_rng(self, seed=None):
        if isinstance(seed, Generator):
            return seed
        return Generator(seed if isinstance(seed, BitGenerator) else BitGenerator(seed))

    def __getattr__(self, name):
        raise AttributeError(f"the fake's xp.random has only default_rng, Generator and "
                             f"BitGenerator, not {name!r}")


class _StrideTricksNamespace:
    """``xp.lib.stride_tricks``: only ``as_strided(x, shape=None, strides=None)``
    (cupy/lib/stride_tricks.py; CuPy has no ``subok``/``writeable`` keywords).
    The result views ``x``'s memory, as on a GPU."""

    __name__ = "fakecupy.lib.stride_tricks"

    def __init__(self):
        self._check = _signature_checker("cupy.lib.stride_tricks.as_strided",
                                         "(x, shape=None, strides=None)",
                                         "cupy/lib/stride_tricks.py")

    def as_strided(self, *args, **kwargs):
        self._check(args, kwargs)
        return _call(np.lib.stride_tricks.as_strided, args, kwargs)   # a view of x's memory

    def __getattr__(self, name):
        raise AttributeError(f"the fake's xp.lib.stride_tricks has only as_strided, not {name!r}")


class _LibNamespace:
    """``xp.lib``: only ``stride_tricks`` (cupy/lib/__init__.py)."""

    __name__ = "fakecupy.lib"

    def __init__(self):
        self.stride_tricks = _StrideTricksNamespace()

    def __getattr__(self, name):
        raise AttributeError(f"the fake's xp.lib has only stride_tricks, not {name!r}")


class _FakeCupy:
    """The ``xp`` object: the allow-listed part of CuPy's API, over FakeArrays.

    Every attribute lookup goes through :data:`ALLOWED`; a name missing from it
    raises AttributeError (and is recorded), so engine code that reaches for a
    NumPy-only function fails on CPU before it ever fails on a GPU.
    """

    __name__ = "fakecupy"

    def __init__(self):
        self._cache = {"random": _RandomNamespace(), "ndarray": FakeArray, "lib": _LibNamespace(),
                       "cuda": types.SimpleNamespace(Device=Device)}

    def __getattr__(self, name):
        if name.startswith("_"):   # private names and protocol probes (pickle, pytest)
            raise AttributeError(name)
        if name not in ALLOWED:
            _note_missing(name)
            raise AttributeError(
                f"fakecupy has no attribute {name!r}: it is not on the allow-list of CuPy "
                "functions minigrad may use (minigrad/backends/fake.py ALLOWED). Check that "
                "CuPy has it, with which signature, and add it there with its source file.")
        _note(name)
        try:
            return self._cache[name]
        except KeyError:
            pass
        signature, source = ALLOWED[name]
        if name in UFUNCS:
            attr = _Ufunc(name)
        elif signature in ("type", "constant"):
            attr = getattr(np, name)
        else:
            attr = _checked_function(name, signature, source)
        self._cache[name] = attr
        return attr

    def __dir__(self):
        return sorted(ALLOWED)

    def __repr__(self):
        return "<fake module 'fakecupy' (CuPy's API, allow-listed)>"


xp = _FakeCupy()
