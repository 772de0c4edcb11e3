"""Reverse-mode automatic differentiation: the tape and the backward loop.

How it works, in four sentences:

1. Every differentiable op is a :class:`Function` subclass with a ``forward``
   (arrays in, array out) and a ``backward`` (gradient of the output in,
   gradients of the inputs out), written next to each other.
2. When any input requires a gradient, ``Function.apply`` records the op on the
   output tensor (``out.grad_fn``) together with its input tensors: that chain
   of records *is* the graph.
3. ``loss.backward()`` sorts the graph so that every tensor comes after all the
   tensors computed from it (a topological order, found with an explicit stack
   so a chain of 100,000 ops cannot hit Python's recursion limit), then walks
   it once with a plain ``for`` loop: pop the finished gradient of a tensor,
   call its op's ``backward``, add the results into its inputs' gradients.
4. ``backward`` functions are written with minigrad ops themselves. Normally
   they run with recording switched off (fast); with ``create_graph=True`` they
   are recorded too, so the gradient is itself differentiable (second
   derivatives, Hessian-vector products).

Set a breakpoint in any op's ``backward`` (for example ``Mul.backward`` in
``minigrad/ops/arithmetic.py``) and step through, or pass ``trace=True`` to see
every step printed.
"""
from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .backends import backend_of
from .errors import DeviceError, DTypeError, GraphError, MinigradError, ShapeError, describe

from .tensor import Tensor
from ._checks import check_backward_result, check_hook_result, check_seed_grad

__all__ = ["Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "backward", "grad", "BackwardTrace", "trace_backward"]

# ---------------------------------------------------------------------------
# grad mode
# ---------------------------------------------------------------------------
_grad_enabled = True


def is_grad_enabled() -> bool:
    """True when new ops are recorded on the graph."""
    return _grad_enabled


@contextlib.contextmanager
def set_grad_enabled(mode: bool) -> Iterator[None]:
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(mode)
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """``with no_grad():`` -- compute without recording a graph (evaluation, updates)."""
    return set_grad_enabled(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    return set_grad_enabled(True)


# ---------------------------------------------------------------------------
# Function: one node of the graph
# ---------------------------------------------------------------------------
class Function:
    """Base class of every differentiable op.

    Subclasses implement

    * ``forward(self, *arrays, **params) -> array`` on raw backend arrays; it may
      stash what backward needs on ``self`` (``self.axis = axis``);
    * ``backward(self, grad) -> Tensor | tuple[Tensor | None, ...]``: given
      dL/d(output) as a Tensor, return dL/d(input) for each input (``None`` for
      an input that needs none). Inputs are ``self.inputs``; the output is
      ``self.output``. Build the result from minigrad ops so that it can itself
      be differentiated.

    ``self.needs_grad[i]`` says whether input ``i`` wants a gradient, so backward
    can skip work nobody asked for.
    """

    #: inputs of the recorded op (``None`` once the graph was freed)
    inputs: tuple["Tensor", ...] | None
    #: True for ops whose output is a view of input 0's memory (reshape, slice...)
    returns_view: bool = False

    def forward(self, *arrays: Any, **params: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: "Tensor") -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- bookkeeping --------------------------------------------------------
    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def output(self) -> "Tensor":
        """The tensor this op produced (held weakly to avoid a reference cycle)."""
        out = self._out_ref()
        if out is None:  # pragma: no cover - the loop keeps outputs alive
            raise GraphError(f"{self.name}: its output tensor no longer exists")
        return out

    @property
    def needs_grad(self) -> tuple[bool, ...]:
        return tuple([t.requires_grad for t in self.inputs or ()])

    @classmethod
    def apply(cls, *inputs: "Tensor", **params: Any) -> "Tensor":
        """Run ``forward`` on the inputs' arrays and record the op if needed."""
        fn = cls()
        if len(inputs) > 2 or (len(inputs) == 2 and
                               type(inputs[1].data) is not type(inputs[0].data)):
            _check_same_device(cls, inputs)  # (two arrays of one type need no more checks)
        try:
            if len(inputs) == 2:  # the common case, spelled out: no list to build and unpack
                out_data = fn.forward(inputs[0].data, inputs[1].data, **params)
            else:
                out_data = fn.forward(*[t.data for t in inputs], **params)
        except MinigradError:
            raise
        except (ValueError, TypeError, IndexError) as err:
            # Re-raise with the op and its inputs named. A TypeError stays a
            # TypeError (DTypeError subclasses it): that is what CuPy raises when
            # an op's forward calls NumPy on device data.
            args = "; ".join(describe(t) for t in inputs)
            kind = DTypeError if isinstance(err, TypeError) else ShapeError
            raise kind(f"{fn.name.lower()}: {err} (inputs: {args})") from err
        if isinstance(out_data, np.generic):  # NumPy reductions return scalars, not arrays
            out_data = np.asarray(out_data)
        record = False
        if _grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    record = True
                    break
        out = Tensor._make(out_data, record)
        if fn.returns_view:
            out._vc = inputs[0]._vc  # same memory, same version counter
        if record:
            fn.inputs = inputs
            fn._versions = tuple([t._vc[0] for t in inputs])  # the inputs' _version now
            fn._out_ref = weakref.ref(out)
            out._ctx = fn
        return out

    def _check_versions(self) -> None:
        for i, (t, v) in enumerate(zip(self.inputs, self._versions)):
            if t._vc[0] != v:
                raise GraphError(
                    f"{self.name}.backward needs input {i} ({describe(t)}) as it was in the "
                    f"forward pass, but it was modified in place afterwards (version {v} -> "
                    f"{t._version}). Use an out-of-place op, or .clone() the tensor before "
                    "modifying it.")

    def release(self) -> None:
        """Free what backward needed; a second backward then raises a clear error."""
        self.__dict__.clear()
        self.inputs = None

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _check_same_device(op: type, inputs: Sequence["Tensor"]) -> None:
    first = type(inputs[0].data)
    for t in inputs:
        # a NumPy scalar (what NumPy returns for 0-d results) and an ndarray are
        # different types on the same device: fall back to comparing backends
        if type(t.data) is not first and \
                backend_of(t.data) is not backend_of(inputs[0].data):
            devices = ", ".join(f"{t.device}" for t in inputs)
            raise DeviceError(
                f"{op.__name__.lower()}: inputs are on different devices ({devices}); move them "
                "to one device with .to(device) first")


# ---------------------------------------------------------------------------
# tracing
# ---------------------------------------------------------------------------
@dataclass
class TraceStep:
    """One step of the backward loop, as recorded by a trace."""

    step: int
    node: str          # op name or tensor name
    op: str
    out_shape: tuple[int, ...]
    grad_norm: float
    input_grads: list[tuple[str, tuple[int, ...], float | None]] = field(default_factory=list)

    def __str__(self) -> str:
        ins = ", ".join(
            f"{name} {shape}: " + ("-" if norm is None else f"|g|={norm:.3e}")
            for name, shape, norm in self.input_grads)
        return (f"[{self.step:3d}] {self.node:<18} {self.op:<14} out {str(self.out_shape):<14}"
                f" |grad|={self.grad_norm:.3e}" + (f"  ->  {ins}" if ins else ""))


class BackwardTrace:
    """Collects :class:`TraceStep` records; optionally prints them as they happen."""

    def __init__(self, echo: bool = True, printer: Callable[[str], None] = print) -> None:
        self.steps: list[TraceStep] = []
        self.echo = echo
        self.printer = printer

    def add(self, step: TraceStep) -> None:
        self.steps.append(step)
        if self.echo:
            self.printer(str(step))

    def __str__(self) -> str:
        return "\n".join(str(s) for s in self.steps)

    def __len__(self) -> int:
        return len(self.steps)


_active_trace: BackwardTrace | None = None


@contextlib.contextmanager
def trace_backward(echo: bool = True) -> Iterator[BackwardTrace]:
    """Record every backward step run inside the block::

        with trace_backward() as tr:
            loss.backward()
        tr.steps[0].op  # 'Mean'
    """
    global _active_trace
    previous, _active_trace = _active_trace, BackwardTrace(echo)
    try:
        yield _active_trace
    finally:
        _active_trace = previous


def _norm(t: "Tensor") -> float:
    xp = t.xp
    return float(xp.sqrt(xp.sum(xp.square(t.data.astype("float64")))))


# ---------------------------------------------------------------------------
# the backward loop
# ---------------------------------------------------------------------------
def _topological_order(roots: Sequence["Tensor"]) -> list["Tensor"]:
    """Tensors reachable from ``roots`` that need gradients, inputs before outputs.

    Depth-first search with an explicit stack (no recursion): a node is
    appended only after everything it was computed from.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        t, children_done = stack.pop()
        if children_done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        fn = t._ctx
        if fn is None:
            continue
        if fn.inputs is None:
            raise GraphError(
                f"backward through {fn.name} a second time: its saved tensors were freed "
                "by the first backward(). Pass retain_graph=True to the first call if you "
                "need to run backward twice.")
        for inp in fn.inputs:
            if inp.requires_grad and id(inp) not in seen:
                stack.append((inp, False))
    return order


def _run_backward(roots: Sequence["Tensor"], root_grads: Sequence["Tensor"],
                  retain_graph: bool, create_graph: bool,
                  capture: dict[int, "Tensor | None"] | None = None) -> None:
    """The heart of autograd. ``capture`` maps id(tensor) -> gradient for
    :func:`grad`; when given, no ``.grad`` attribute is touched."""
    order = _topological_order(roots)
    grads: dict[int, Tensor] = {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = grads[id(r)] + g if id(r) in grads else g
    handed_out: set[int] = {id(g.data) for g in root_grads}
    # keys of ``grads`` whose array this loop allocated itself (a sum of two
    # contributions): nobody else can see it, so later contributions are added
    # in place instead of allocating a new array each time
    owned: set[int] = set()
    trace = _active_trace
    with set_grad_enabled(create_graph):
        for step, t in enumerate(reversed(order)):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            for hook in t._hooks or ():
                replaced = check_hook_result(t, hook, hook(g))
                if replaced is not None:
                    g = replaced
            fn = t._ctx
            if capture is not None:
                if id(t) in capture:
                    capture[id(t)] = g
            elif fn is None or t._retains_grad:
                _accumulate_grad(t, g, create_graph, handed_out)
            if fn is None:
                continue
            if fn._versions != tuple([inp._vc[0] for inp in fn.inputs]):
                fn._check_versions()  # an input changed in place: raise a clear error
            in_grads = check_backward_result(fn, fn.backward(g))
            if trace is not None:
                rec = TraceStep(step, t.name or f"{fn.name}#{id(t) % 10000:04d}", fn.name,
                                tuple(t.shape), _norm(g))
            for i, (inp, ig) in enumerate(zip(fn.inputs, in_grads)):
                if trace is not None:
                    rec.input_grads.append((inp.name or f"in{i}", tuple(inp.shape),
                                            None if ig is None else _norm(ig)))
                if ig is None or not inp.requires_grad:
                    continue
                if ig.data.shape != inp.data.shape:
                    raise GraphError(
                        f"internal error in {fn.name}.backward: gradient for input {i} has "
                        f"shape {ig.shape} but the input has shape {inp.shape}")
                key = id(inp)
                have = grads.get(key)
                if have is None:
                    grads[key] = ig                  # the first contribution: just keep it
                elif key in owned:
                    have.data += ig.data             # our own sum: add in place
                else:
                    grads[key] = have + ig           # a new array (differentiable with
                    if not create_graph:             # create_graph=True) ...
                        owned.add(key)               # ... that later sums may reuse
            if trace is not None:
                trace.add(rec)
            if not retain_graph:
                fn.release()


def _accumulate_grad(t: "Tensor", g: "Tensor", create_graph: bool, handed_out: set[int]) -> None:
    """``t.grad += g`` without ever letting two ``.grad``s share memory."""
    if t.grad is None:
        data = g.data
        if not create_graph and (id(data) in handed_out or getattr(data, "base", None) is not None):
            g = type(g)._make(data.copy(), False)  # a view or shared array: own a copy
        handed_out.add(id(g.data))
        t.grad = g
    elif create_graph or t.grad.requires_grad:
        t.grad = t.grad + g
    else:
        t.grad.data += g.data  # in place: t.grad owns its array
        t.grad._version += 1


def _seed_grad(root: "Tensor", grad: Any, what: str) -> "Tensor":
    if grad is None:
        if root.size != 1:
            raise GraphError(
                f"{what} on a tensor of shape {root.shape} needs a gradient argument: "
                "only a scalar (one-element) output has an implied gradient of 1. Reduce "
                "it first (e.g. loss.sum() or loss.mean()), or pass "
                "gradient=ones_like(output).")
        return Tensor._make(root.xp.ones(root.shape, dtype=root.dtype), False)
    if not isinstance(grad, Tensor):
        grad = Tensor(grad, dtype=root.dtype, device=root.device)
    check_seed_grad(what, root, grad)
    if grad.shape != root.shape:
        raise ShapeError(f"{what}: gradient has shape {grad.shape} but the output has "
                         f"shape {root.shape}")
    return grad


def backward(tensor: "Tensor", gradient: Any = None, retain_graph: bool = False,
             create_graph: bool = False, trace: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    Calling it twice on the same graph needs ``retain_graph=True`` the first time
    (otherwise the graph's saved tensors are freed, as in PyTorch); gradients
    from successive calls *add up* in ``.grad`` -- call ``zero_grad()`` between
    optimisation steps.
    """
    if not tensor.requires_grad:
        raise GraphError(
            f"backward() on a tensor ({describe(tensor)}) that does not require grad: "
            "none of the tensors it was computed from has requires_grad=True (or it "
            "was computed under no_grad()).")
    seed = _seed_grad(tensor, gradient, "backward()")
    if trace:
        with trace_backward():
            _run_backward([tensor], [seed], retain_graph or create_graph, create_graph)
    else:
        _run_backward([tensor], [seed], retain_graph or create_graph, create_graph)


def grad(outputs: "Tensor | Sequence[Tensor]", inputs: "Tensor | Sequence[Tensor]",
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple["Tensor", ...]:
    """Functional gradient: d(sum of outputs)/d(each input), without touching ``.grad``.

    >>> x = Tensor([3.0], requires_grad=True)
    >>> (dx,) = grad((x ** 3).sum(), x, create_graph=True)   # 3x^2 = 27
    >>> (d2x,) = grad(dx.sum(), x)                             # 6x = 18
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        g_outs: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor):
        g_outs = [grad_outputs]
    else:
        g_outs = list(grad_outputs)
    for o in outs:
        if not o.requires_grad:
            raise GraphError(f"grad(): output ({describe(o)}) does not require grad")
    for i, x in enumerate(ins):
        if not x.requires_grad:
            raise GraphError(f"grad(): input {i} ({describe(x)}) does not require grad")
    seeds = [_seed_grad(o, g, "grad()") for o, g in zip(outs, g_outs)]
    capture: dict[int, Tensor | None] = {id(x): None for x in ins}
    keep = create_graph if retain_graph is None else retain_graph
    _run_backward(outs, seeds, keep or create_graph, create_graph, capture)
    result = []
    for i, x in enumerate(ins):
        g = capture[id(x)]
        if g is None:
            if not allow_unused:
                raise GraphError(f"grad(): input {i} ({describe(x)}) was not used to compute "
                                 "the outputs; pass allow_unused=True to get zeros")
            g = Tensor._make(x.xp.zeros(x.shape, dtype=x.dtype), False)
        result.append(g)
    return tuple(result)


def iter_graph(root: "Tensor") -> Iterable["Tensor"]:
    """Every tensor in the graph of ``root`` (leaves included), outputs first."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        yield t
        if t._ctx is not None and t._ctx.inputs is not None:
            stack.extend(t._ctx.inputs)

