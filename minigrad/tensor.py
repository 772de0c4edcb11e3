"""``Tensor``: an array plus what autograd needs to know about it.

A tensor holds

* ``data`` -- the numbers, as an array of its backend (NumPy on ``"cpu"``,
  CuPy on ``"cuda"``, the CuPy-like test double on ``"fake"``);
* ``requires_grad`` -- whether gradients should flow back to it;
* ``grad`` -- after ``backward()``, dL/d(this tensor) as another Tensor;
* ``grad_fn`` -- the op that produced it (``None`` for leaves you created).

Arithmetic operators, ``@``, indexing and the usual methods (``sum``, ``exp``,
``reshape``...) call the differentiable ops in :mod:`minigrad.ops`.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from . import backends
from .backends import Backend, backend_of, get_backend
from .errors import DTypeError, GraphError, describe

__all__ = ["Tensor", "Parameter", "tensor", "set_default_dtype", "get_default_dtype"]

_default_float = np.dtype("float32")


def set_default_dtype(dtype: Any) -> None:
    """Float dtype used for Python floats and lists (float32 unless changed)."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise DTypeError(f"default dtype must be a float type, got {dtype}")
    _default_float = dtype


def get_default_dtype() -> np.dtype:
    return _default_float


#: dtype kinds a Tensor can hold: bool, signed and unsigned integers, floats
_REAL_KINDS = "biuf"


def _check_dtype(dtype: Any, data: Any = None) -> None:
    """Refuse dtypes minigrad cannot compute with (strings, objects, complex)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"Tensor: {dtype!r} is not a dtype") from None
    if dt.kind in _REAL_KINDS:
        return
    if dt.kind == "c":
        raise DTypeError(f"Tensor: complex data (dtype {dt}) is not supported: minigrad is "
                         "real-valued. Keep the real and imaginary parts as two real tensors "
                         "(x.real, x.imag) if you need both")
    what = {"U": "strings", "S": "bytes", "O": "Python objects", "V": "structured records",
            "M": "dates", "m": "time deltas"}.get(dt.kind, f"dtype {dt}")
    got = "" if data is None else f" (got {type(data).__name__} of dtype {dt})"
    raise DTypeError(f"Tensor: cannot hold {what}{got}: a Tensor holds numbers (bool, int or "
                     f"float)")


def _host_probe(data: Any) -> np.ndarray:
    """``np.asarray(data)`` for Python numbers and (nested) lists, with clear errors
    for data that is not a rectangular array of numbers."""
    if data is None or isinstance(data, (str, bytes, dict, set)):
        raise DTypeError(f"Tensor: cannot make a tensor from {type(data).__name__} {data!r:.60}; "
                         "give a number, a (nested) list of numbers or an array")
    try:
        probe = np.asarray(data)
    except ValueError as err:          # ragged: [[1, 2], [3]]
        from .errors import ShapeError
        raise ShapeError(f"Tensor: the nested lists have different lengths ({data!r:.80}): a "
                         f"tensor must be rectangular. NumPy says: {err}") from None
    _check_dtype(probe.dtype, data)
    return probe


def _is_float(dtype: Any) -> bool:
    return np.dtype(dtype).kind == "f"


class _HookHandle:
    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad            # dy/dx = 2x
    Tensor([2., 4., 6.], shape=(3,), dtype=float32)
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_vc", "name", "_hooks",
                 "_retains_grad", "__weakref__")
    # Make ``ndarray + Tensor`` call Tensor.__radd__ instead of NumPy looping over it.
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 device: str | None = None, name: str | None = None) -> None:
        if isinstance(data, Tensor):
            if device is not None and get_backend(device).name != data.device:
                data = backends.to_numpy(data.data)  # an explicit copy across devices
            else:
                data = data.data
        backend = get_backend(device) if device is not None else None
        if backend is None:
            try:
                backend = backend_of(data)
            except Exception:
                backend = get_backend(backends.default_device())
        if dtype is not None:
            _check_dtype(dtype)
        if not hasattr(data, "dtype"):
            probe = _host_probe(data)  # Python numbers / lists live on the host
            if dtype is None:
                dtype = _default_float if probe.dtype.kind == "f" else probe.dtype
            data = probe
        else:
            _check_dtype(data.dtype, data)
        if isinstance(data, np.generic):
            data = np.asarray(data)
        array = backend.asarray(data, dtype=dtype)
        if requires_grad and not _is_float(array.dtype):
            raise DTypeError(
                f"requires_grad=True needs floating-point data, got dtype {array.dtype}: "
                "gradients of integer tensors are not defined. Write the numbers as floats "
                "(1.0 instead of 1) or pass dtype='float32'.")
        self.data = array
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self._ctx = None
        self._vc = [0]
        self.name = name
        self._hooks: list | None = None
        self._retains_grad = False

    @classmethod
    def _make(cls, data: Any, requires_grad: bool) -> "Tensor":
        """Wrap an array without any checks (the engine's fast path)."""
        t = object.__new__(cls)
        t.data = data
        t.requires_grad = requires_grad
        t.grad = None
        t._ctx = None
        t._vc = [0]
        t.name = None
        t._hooks = None
        t._retains_grad = False
        return t

    # -- the version counter ------------------------------------------------
    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen.

        The counter (a one-element list) is *shared* by every tensor that views
        the same memory -- ``detach()``, reshapes, transposes, basic slices --
        so modifying any of them in place is noticed by a backward pass that
        saved another.
        """
        return self._vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._vc[0] = value

    # -- what it is --------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def backend(self) -> Backend:
        return backend_of(self.data)

    @property
    def xp(self) -> Any:
        """The array module (numpy, cupy, or the fake) that holds this tensor's data."""
        return backend_of(self.data).xp

    @property
    def device(self) -> str:
        return backend_of(self.data).name

    @property
    def grad_fn(self) -> Any:
        """The op that produced this tensor (``None`` for leaves)."""
        return self._ctx

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        host = backends.to_numpy(self.data)
        body = np.array2string(host, separator=", ", precision=4, threshold=20,
                               edgeitems=2, prefix="Tensor(")
        extras = [f"shape={self.shape}", f"dtype={self.dtype}"]
        if self.device != "cpu":
            extras.append(f"device={self.device!r}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"Tensor({body}, {', '.join(extras)})"

    # -- getting numbers out ----------------------------------------------
    def numpy(self) -> np.ndarray:
        """A NumPy copy of the data (an explicit device->host copy on GPU)."""
        return backends.to_numpy(self.data).copy() if self.device == "cpu" else \
            backends.to_numpy(self.data)

    def item(self) -> float | int | bool:
        if self.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.size} elements is ambiguous; "
                "use .any() or .all()")
        return bool(self.item())

    # -- graph control -----------------------------------------------------
    def detach(self) -> "Tensor":
        """Same data, cut from the graph (no copy; shares the version counter)."""
        out = Tensor._make(self.data, False)
        out._vc = self._vc
        return out

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and not _is_float(self.dtype):
            raise DTypeError(f"requires_grad=True needs floating-point data, got {self.dtype}")
        self.requires_grad = flag
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this intermediate tensor during backward."""
        self._retains_grad = True

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is ready; it may return a
        replacement gradient. Returns a handle with ``.remove()``."""
        if not self.requires_grad:
            raise GraphError("register_hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False, trace: bool = False) -> None:
        """Backpropagate from this tensor into the ``.grad`` of every leaf.

        ``trace=True`` prints each step of the backward loop (op, shapes,
        gradient norms). See :func:`minigrad.autograd.backward`.
        """
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, trace)

    # -- devices and dtypes --------------------------------------------------
    def to(self, device: str | None = None, dtype: Any = None) -> "Tensor":
        """Copy to another device and/or dtype (differentiable for floats)."""
        out = self
        if device is not None and get_backend(device).name != self.device:
            from .ops.shape import ToDevice
            out = ToDevice.apply(out, device=device)
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = out.astype(dtype)
        return out

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def astype(self, dtype: Any) -> "Tensor":
        """A copy in another dtype; differentiable between float dtypes.

        To an integer or bool dtype the result does not require grad (as in
        PyTorch): rounding has no useful derivative, and an int64 tensor
        claiming ``requires_grad=True`` would silently never get a gradient.
        """
        from .ops.shape import Cast
        _check_dtype(dtype)
        if np.dtype(dtype) == self.dtype:
            return self
        if not _is_float(dtype):
            return Tensor._make(self.data.astype(np.dtype(dtype)), False)
        return Cast.apply(self, dtype=np.dtype(dtype))

    def float(self) -> "Tensor":
        return self.astype("float32")

    def double(self) -> "Tensor":
        return self.astype("float64")

    def long(self) -> "Tensor":
        return self.astype("int64")

    def clone(self) -> "Tensor":
        from .ops.shape import Clone
        return Clone.apply(self)

    # -- in-place ops (for optimisers and initialisation) -------------------
    def _check_inplace(self, op: str) -> None:
        if _autograd.is_grad_enabled() and (self.requires_grad or self._ctx is not None):
            raise GraphError(
                f"{op}: in-place modification of a tensor that is part of the graph "
                f"({describe(self)}, requires_grad=True). Do it under `with no_grad():` "
                "(as optimizers do) or use the out-of-place op.")

    def _other_data(self, other: Any, op: str, fit: bool = True) -> Any:
        """The array of an in-place op's operand: on this tensor's device and, when
        ``fit``, broadcastable to this tensor's shape (the result cannot grow).

        Python numbers pass through; lists become arrays of this backend; a
        NumPy array is uploaded explicitly; an array of another device (a CuPy
        array into a cpu tensor, say) is refused with a DeviceError.
        """
        from .errors import DeviceError
        if isinstance(other, Tensor):
            if other.device != self.device:
                raise DeviceError(f"{op}: this tensor is on {self.device}, the operand on "
                                  f"{other.device}; move it with .to({self.device!r})")
            other = other.data
        elif isinstance(other, (list, tuple)):
            other = self.backend.asarray(np.asarray(other), dtype=self.dtype)
        elif hasattr(other, "shape") and not isinstance(other, np.generic):
            try:
                owner = backend_of(other)
            except Exception:
                owner = None
            if owner is not self.backend:
                if isinstance(other, np.ndarray):
                    other = self.backend.asarray(other)  # an explicit upload (CuPy refuses mixing)
                else:
                    kind = owner.name if owner is not None else type(other).__name__
                    raise DeviceError(f"{op}: this tensor is on {self.device} but the operand is "
                                      f"a {kind} array; wrap it as a Tensor and move it with "
                                      f".to({self.device!r})")
        shape = getattr(other, "shape", None)
        if fit and shape is not None and tuple(shape) != self.shape:
            try:
                fits = np.broadcast_shapes(tuple(shape), self.shape) == self.shape
            except ValueError:
                fits = False
            if not fits:
                from .errors import ShapeError
                raise ShapeError(f"{op}: an operand of shape {tuple(shape)} cannot be written "
                                 f"in place into a tensor of shape {self.shape}")
        return other

    def _check_inplace_dtype(self, op: str, other: Any) -> None:
        """An in-place result keeps this tensor's dtype: float into int would have to
        truncate, so it is refused (PyTorch: "result type Float can't be cast to Long";
        PyTorch's ``fill_`` truncates 1.5 to 1 silently -- minigrad refuses that too,
        as a silent wrong answer)."""
        kind = getattr(getattr(other, "dtype", None), "kind", None)
        if kind is None:
            kind = "f" if isinstance(other, float) else ("c" if isinstance(other, complex)
                                                          else "i")
        order = "biuf"
        if self.dtype.kind in order and kind in order and \
                order.index(kind) <= order.index(self.dtype.kind):
            return
        if self.dtype.kind in "iu" and kind in "iu":
            return
        what = describe(other) if hasattr(other, "dtype") else f"{type(other).__name__} {other!r}"
        name = {"f": "float", "c": "complex", "b": "bool", "i": "integer", "u": "integer"}.get(
            kind, f"{kind}-kind")
        raise DTypeError(f"{op}: cannot write a {name} result ({what}) in place into a "
                         f"tensor of dtype {self.dtype} ({describe(self)}); convert first, "
                         f"e.g. x = x.float(), or use the out-of-place op")

    def add_(self, other: Any, alpha: float = 1.0) -> "Tensor":
        self._check_inplace("add_")
        o = self._other_data(other, "add_")
        self._check_inplace_dtype("add_", o)
        if alpha != 1.0 and alpha != -1.0:
            self._check_inplace_dtype("add_", alpha)
        if alpha == 1.0:
            self.data += o
        elif alpha == -1.0:
            self.data -= o                   # (no temporary for o * -1)
        else:
            self.data += o * alpha
        self._vc[0] += 1                     # self._version += 1
        return self

    def sub_(self, other: Any) -> "Tensor":
        return self.add_(other, alpha=-1.0)

    def mul_(self, other: Any) -> "Tensor":
        self._check_inplace("mul_")
        o = self._other_data(other, "mul_")
        self._check_inplace_dtype("mul_", o)
        self.data *= o
        self._version += 1
        return self

    def copy_(self, src: Any) -> "Tensor":
        self._check_inplace("copy_")
        src = self._other_data(src, "copy_")
        # Assignment broadcasts by itself; ``xp.broadcast_to`` would not do here
        # (CuPy's takes device arrays only, not Python numbers or lists).
        self.data[...] = src
        self._version += 1
        return self

    def fill_(self, value: float) -> "Tensor":
        self._check_inplace("fill_")
        if isinstance(value, Tensor) and value.size == 1:
            value = value.item()
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) \
                or isinstance(value, (complex, np.complexfloating)):
            if not isinstance(value, (bool, np.bool_)):
                raise DTypeError(f"fill_: the value must be a real number, got "
                                 f"{type(value).__name__} {value!r} (tensor: {describe(self)})")
        self._check_inplace_dtype("fill_", value)
        self.data.fill(value)
        self._version += 1
        return self

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value`` in place (outside the graph). Integer-array indices are
        range-checked (CuPy would wrap them around). With a *repeated* index, which
        of the writes survives is unspecified on CuPy (NumPy keeps the last, the
        fake the first): do not rely on it; use a scatter-add for accumulation."""
        from .errors import ShapeError
        from .ops.shape import check_index_range, to_index
        self._check_inplace("__setitem__")
        value = self._other_data(value, "__setitem__", fit=False)
        key = to_index(index, self.backend, "__setitem__")
        # CuPy wraps out-of-range integer indices around instead of raising, and
        # with a repeated index which write survives is unspecified on CuPy (NumPy:
        # the last). Range is checked here; repeated indices are documented.
        check_index_range("__setitem__", key, self.shape, self.backend)
        try:
            self.data[key] = value
        except (ValueError, IndexError) as err:
            raise ShapeError(f"__setitem__: cannot assign {describe(value)} at index {index!r} "
                             f"of a tensor of shape {self.shape}: {err}") from None
        self._version += 1


class Parameter(Tensor):
    """A tensor that a :class:`layers.Module` learns: ``requires_grad`` by default."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None,
                 device: str | None = None, name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, device=device,
                         name=name)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None,
           device: str | None = None) -> Tensor:
    """Shorthand for ``Tensor(...)`` in the style of ``torch.tensor``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


from . import autograd as _autograd  # noqa: E402  (at the end: autograd imports this module)
