"""``Module``: the base class of every layer, and the containers built on it.

A module is an object that owns **parameters** (the numbers training
changes) and **sub-modules** (smaller layers it is made of). Assigning one to
an attribute registers it, exactly as in PyTorch::

    class Affine(Module):
        def __init__(self):
            super().__init__()
            self.weight = Parameter(...)    # -> self._parameters["weight"]
            self.inner = Linear(3, 4)       # -> self._modules["inner"]

so ``parameters()`` can find every learnable tensor by walking the tree, and
``state_dict()`` can name each one with a dotted path (``"inner.weight"``).

Also here: :class:`Sequential` (apply modules one after another),
:class:`ModuleList` (a list whose entries are registered), and
:func:`functional_call` (run a module with some of its parameters swapped for
other tensors -- what :func:`layers.gradcheck_module` needs to perturb them).
"""
from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import numpy as np

from minigrad import backends
from minigrad.autograd import no_grad
from minigrad.errors import MinigradError
from minigrad.tensor import Parameter, Tensor

__all__ = ["Module", "Sequential", "ModuleList", "functional_call", "LoadResult",
           "StateDictError"]

_DEVICE_NAMES = ("cpu", "cuda", "fake", "gpu", "numpy", "cupy")


class StateDictError(MinigradError, ValueError):
    """A state dict (or checkpoint file) does not fit the module it is loaded into."""


class LoadResult(NamedTuple):
    """What :meth:`Module.load_state_dict` did not match (empty lists when strict)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of all layers: registration, traversal, modes, devices, state.

    Subclasses call ``super().__init__()`` first, assign parameters and
    sub-modules as attributes, and implement ``forward``. Calling the module
    (``layer(x)``) runs ``forward(x)``.
    """

    training: bool
    #: True for layers whose input is integer ids (Embedding): every other layer
    #: with float parameters refuses integer input with an error naming it
    _takes_integer_input: bool = False

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)

    # -- registration ---------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran: call "
                f"super().__init__() first in {type(self).__name__}.__init__")
        params, modules, buffers = self._parameters, self._modules, self._buffers
        slots = self.__dict__.setdefault("_parameter_slots", set())
        if name in slots and not isinstance(value, Parameter):
            if value is None:            # declares the parameter absent (PyTorch: same)
                params.pop(name, None)
                object.__setattr__(self, name, None)
                return
            raise TypeError(_slot_message(self, name, value))
        if isinstance(value, Parameter):
            slots.add(name)
        is_buffer = name in buffers and isinstance(value, Tensor)
        for store in (params, modules, buffers):
            store.pop(name, None)
        self.__dict__.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
            _name_parameters({name: value}, "")
        elif isinstance(value, Module):
            modules[name] = value
            _name_parameters(dict(value.named_parameters()), name + ".")
        elif is_buffer:  # re-assigning a buffer keeps it a buffer
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        self.__dict__.get("_parameter_slots", set()).discard(name)
        for store in (self._parameters, self._modules, self._buffers):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Same as ``self.name = param``; ``None`` declares an absent parameter
        (e.g. ``bias=False``) that ``self.name`` still answers with ``None``."""
        where = f"{type(self).__name__}.register_parameter"
        if not isinstance(name, str):
            raise TypeError(f"{where}: the name must be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{where}: the name must be non-empty and contain no '.', got "
                           f"{name!r}")
        if param is None:
            self._parameters.pop(name, None)
            self.__dict__.setdefault("_parameter_slots", set()).add(name)
            object.__setattr__(self, name, None)
        elif not isinstance(param, Parameter):
            raise TypeError(_slot_message(self, name, param))
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor, persistent: bool = True) -> None:
        """A tensor that belongs to the module but is not learned (a fixed table,
        a running statistic). It moves with :meth:`to`; a persistent buffer is
        also saved in :meth:`state_dict`."""
        if not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor, got "
                            f"{type(tensor).__name__}")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    # -- the forward pass -----------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            first = args[0]
            if isinstance(first, np.ndarray) or (isinstance(first, list) and not any(
                    isinstance(e, Tensor) for e in first)):
                args = (self._input_tensor(first),) + args[1:]
            elif isinstance(first, Tensor) and (first.dtype.kind == "f" or
                                                not self._takes_integer_input):
                self._check_input_dtype(first)
        return self.forward(*args, **kwargs)

    def _own_float_parameter(self) -> Parameter | None:
        """The first float parameter of this module itself (not of its children:
        each child checks its own inputs, and a container would otherwise walk
        its whole tree on every call)."""
        for p in self._parameters.values():
            if p is not None and p.dtype.kind == "f":
                return p
        return None

    def _check_input_dtype(self, x: Tensor) -> None:
        """One dtype rule for every layer: a float input must have the dtype of the
        layer's float parameters -- minigrad never promotes float32 to float64
        silently (that would also turn the gradients and optimiser state float64)."""
        p = self._own_float_parameter()
        if p is not None and x.dtype.kind != "f" and not self._takes_integer_input:
            from minigrad.errors import DTypeError
            raise DTypeError(
                f"{type(self).__name__}: input must be floating point, got dtype {x.dtype} "
                f"(shape {x.shape}, device={x.device}); convert it: x.to(dtype="
                f"{str(p.dtype)!r})")
        if p is not None and x.dtype.kind == "f" and x.dtype != p.dtype:
            from minigrad.errors import DTypeError
            raise DTypeError(
                f"{type(self).__name__}: input is {x.dtype} but the layer's parameters are "
                f"{p.dtype} (input: shape {x.shape}, dtype {x.dtype}, device={x.device}); "
                f"convert one: x.to(dtype={str(p.dtype)!r}) or model.to({str(x.dtype)!r})")

    def _input_tensor(self, data: Any) -> Tensor:
        """A NumPy array or a (nested) list given to a layer, as a Tensor on the
        layer's device. A list of floats takes the layer's float dtype; an array
        keeps its own (so a float64 array fed to a float32 layer is an error that
        names the layer, not a silent cast)."""
        p = self._own_float_parameter()
        if p is None:
            p = next((q for q in self.parameters() if q.dtype.kind == "f"), None)
        device = p.device if p is not None else None
        try:
            if isinstance(data, np.ndarray):
                t = Tensor(data, device=device)
            else:
                probe = np.asarray(data) if data else np.zeros(0)
                dtype = p.dtype if p is not None and probe.dtype.kind == "f" else None
                t = Tensor(data, dtype=dtype, device=device)
        except MinigradError as err:
            raise type(err)(f"{type(self).__name__}: cannot use the input as a tensor: "
                            f"{err}") from None
        if t.dtype.kind == "f":
            self._check_input_dtype(t)
        return t

    # -- traversal ------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        yield from self._modules.items()

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "",
                      _seen: set[int] | None = None) -> Iterator[tuple[str, "Module"]]:
        """This module and every descendant (each once), depth first, with dotted names."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, seen)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "",
                         recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``("block.0.weight", Parameter)`` pairs. A parameter shared by two
        modules (tied weights) is listed once, under the first name met."""
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, mod in mods:
            for name, p in mod._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def get_parameter(self, name: str) -> Parameter:
        """The parameter with dotted name ``name`` (as in ``named_parameters``)."""
        mod_name, _, leaf = name.rpartition(".")
        owner: Module = self
        for part in mod_name.split(".") if mod_name else ():
            owner = owner._modules[part] if part in owner._modules else None
            if owner is None:
                break
        if owner is None or leaf not in owner._parameters:
            raise KeyError(f"{type(self).__name__} has no parameter {name!r}")
        return owner._parameters[leaf]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for mod_name, mod in self.named_modules(prefix):
            for name, b in mod._buffers.items():
                yield (f"{mod_name}.{name}" if mod_name else name), b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the module learns (shared parameters counted once)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call ``fn`` on every sub-module (children first) and on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- training helpers -----------------------------------------------------
    def zero_grad(self) -> None:
        """Forget accumulated gradients (``p.grad = None`` for every parameter)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active) for this module and all below it."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode: same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, flag: bool = True) -> "Module":
        """Freeze (``False``) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    # -- devices and dtypes ---------------------------------------------------
    def to(self, device: Any = None, dtype: Any = None) -> "Module":
        """Move every parameter and buffer to ``device`` and/or cast it to
        ``dtype``, **in place**: each Parameter object stays the same object (so
        an optimizer built earlier still holds the right tensors); only its
        array is replaced. ``to("float64")`` is read as a dtype."""
        if isinstance(device, str) and device.split(":")[0] not in _DEVICE_NAMES:
            device, dtype = None, device
        elif device is not None and not isinstance(device, (str, backends.Backend)):
            device, dtype = None, device
        target = backends.get_backend(device) if device is not None else None
        np_dtype = np.dtype(dtype) if dtype is not None else None

        def convert(t: Tensor, cast: bool) -> None:
            data = t.data
            if target is not None and backends.backend_of(data).name != target.name:
                data = target.asarray(backends.to_numpy(data))
            if cast and np_dtype is not None and data.dtype.kind == "f" and data.dtype != np_dtype:
                data = data.astype(np_dtype)
            t.data = data

        with no_grad():
            for p in self.parameters():
                convert(p, True)
                if p.grad is not None:
                    convert(p.grad, True)
            for _, b in self.named_buffers():
                convert(b, True)
        return self

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64 (for gradcheck)."""
        return self.to(dtype="float64")

    def float(self) -> "Module":
        return self.to(dtype="float32")

    # -- state ----------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Every parameter and persistent buffer as a **host NumPy copy**, by dotted name."""
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, p in self.named_parameters():
            state[name] = np.array(backends.to_numpy(p.data), copy=True)
        for mod_name, mod in self.named_modules():
            for name, b in mod._buffers.items():
                if name not in mod._non_persistent:
                    key = f"{mod_name}.{name}" if mod_name else name
                    state[key] = np.array(backends.to_numpy(b.data), copy=True)
        return state

    def _state_tensors(self) -> "OrderedDict[str, Tensor]":
        out: OrderedDict[str, Tensor] = OrderedDict(self.named_parameters())
        for mod_name, mod in self.named_modules():
            for name, b in mod._buffers.items():
                if name not in mod._non_persistent:
                    out[f"{mod_name}.{name}" if mod_name else name] = b
        return out

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> LoadResult:
        """Copy values from ``state`` into the parameters, in place.

        Checks first, copies after: nothing changes if anything is wrong. A
        mis-shaped entry is always an error; with ``strict=True`` so are
        missing and unexpected keys. The one error message lists every
        offending key. Values are cast to each parameter's dtype and device.
        """
        own = self._state_tensors()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        mis_shaped, bad_type = [], []
        for k, t in own.items():
            if k not in state:
                continue
            value = state[k]
            shape = tuple(value.shape) if hasattr(value, "shape") else np.shape(value)
            if shape != t.shape:
                mis_shaped.append(f"{k}: checkpoint {shape} vs model {t.shape}")
            dtype = np.dtype(value.dtype) if hasattr(value, "dtype") else np.asarray(value).dtype
            if dtype.kind not in "fiub":
                bad_type.append(f"{k}: dtype {dtype}")
        problems = []
        if mis_shaped:
            problems.append("mis-shaped keys: " + "; ".join(mis_shaped))
        if bad_type:
            problems.append("non-numeric keys: " + "; ".join(bad_type))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise StateDictError(
                f"load_state_dict into {type(self).__name__} failed (nothing was loaded):\n  "
                + "\n  ".join(problems))
        with no_grad():
            for k, t in own.items():
                if k in state:
                    value = state[k]
                    if isinstance(value, Tensor):
                        value = backends.to_numpy(value.data)
                    elif not isinstance(value, np.ndarray):
                        value = backends.to_numpy(value) if _is_device_array(value) \
                            else np.asarray(value)
                    t.data[...] = t.backend.asarray(np.asarray(value, dtype=t.dtype))
                    t._version += 1
        return LoadResult(missing, unexpected)

    def save(self, path: str) -> None:
        """Write ``state_dict()`` to an ``.npz`` file (see :func:`layers.save`)."""
        from .serialization import save
        save(self, path)

    def load(self, path: str, strict: bool = True) -> "Module":
        """Load parameters saved with :meth:`save`; returns ``self``."""
        from .serialization import load
        self.load_state_dict(load(path), strict=strict)
        return self

    # -- printing -------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's line (override it)."""
        return ""

    def __repr__(self) -> str:
        """A PyTorch-style tree; each line with parameters ends in ``# N params``
        (the module's total, children included). Runs of identical children are
        shown once as ``(0-3): 4 x Block(...)``
        (numbered children only, as in ModuleList and Sequential)."""
        count = self.num_parameters()
        note = f"  # {_count_text(count)}" if count else ""
        extra = self.extra_repr()
        if not self._modules:
            return f"{type(self).__name__}({extra}){note}"
        lines = [f"  {extra}"] if extra else []
        children = [(name, repr(child)) for name, child in self._modules.items()]
        i = 0
        while i < len(children):
            j = i
            while (j + 1 < len(children) and children[j + 1][1] == children[i][1]
                   and children[i][0].isdigit() and children[j + 1][0].isdigit()):
                j += 1
            name, body = children[i]
            body = body.replace("\n", "\n  ")
            if j > i:
                lines.append(f"  ({name}-{children[j][0]}): {j - i + 1} x {body}")
            else:
                lines.append(f"  ({name}): {body}")
            i = j + 1
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)" + note


def _name_parameters(named: dict[str, Parameter], prefix: str) -> None:
    """Give parameters their qualified module names (``fc1.weight``,
    ``blocks.0.attn.q_proj.bias``) in ``Tensor.name``, which the backward trace
    and the graph drawing show. Each assignment into a parent prefixes the
    names once more; a name the user chose (anything but the module's own
    relative name) is kept."""
    for rel, p in named.items():
        if p.name is None or p.name == rel:
            p.name = prefix + rel


def _count_text(n: int) -> str:
    return f"{n:,} param" + ("" if n == 1 else "s")


def _is_device_array(value: Any) -> bool:
    try:
        backends.backend_of(value)
        return True
    except Exception:
        return False


def _slot_message(module: Module, name: str, value: Any) -> str:
    kind = type(value).__name__
    hint = ("a Tensor with requires_grad=True is not learned unless it is a Parameter: "
            f"wrap it, module.{name} = Parameter(t)" if isinstance(value, Tensor) else
            f"wrap the numbers, module.{name} = Parameter(...), or change the values in "
            f"place: with no_grad(): module.{name}.copy_(...)")
    return (f"cannot assign {kind} to parameter {name!r} of {type(module).__name__}: a "
            f"parameter slot takes a Parameter or None (as in PyTorch); {hint}")


class Sequential(Module):
    """Apply modules one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Children are named ``"0"``, ``"1"``, ... (so parameters are ``"0.weight"``).
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> "Sequential":
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} holds Modules, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*items[index])
        return items[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class ModuleList(Module):
    """A Python list of modules whose entries are registered as children
    (``"0"``, ``"1"``, ...); it has no forward of its own."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(): iterate over it instead")


@contextlib.contextmanager
def _swapped(module: Module, tensors: dict[str, Tensor]) -> Iterator[None]:
    known = dict(module.named_parameters())
    known.update(module.named_buffers())
    by_id: dict[int, Tensor] = {}
    for name, t in tensors.items():
        if name not in known:
            raise KeyError(f"functional_call: {type(module).__name__} has no parameter or "
                           f"buffer named {name!r}")
        by_id[id(known[name])] = t
    saved = []
    for mod in module.modules():  # swap by identity, so tied weights follow
        for store in (mod._parameters, mod._buffers):
            saved.extend((store, leaf, t) for leaf, t in store.items() if id(t) in by_id)
    try:
        for store, leaf, original in saved:
            store[leaf] = by_id[id(original)]
        yield
    finally:
        for store, leaf, original in reversed(saved):
            store[leaf] = original


def functional_call(module: Module, tensors: dict[str, Tensor], *args: Any,
                    **kwargs: Any) -> Any:
    """Run ``module(*args, **kwargs)`` with the named parameters replaced by
    ``tensors`` (dotted names as in ``named_parameters``), then put the
    originals back. A tied parameter is replaced everywhere it is used.

    This is how a whole layer becomes a plain function of its weights, which
    :func:`minigrad.gradcheck` can perturb.
    """
    with _swapped(module, tensors):
        return module(*args, **kwargs)
