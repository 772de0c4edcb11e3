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
``minigrad/ops/arithmetic.py``; ``minigrad.where_is("Mul")`` gives its line, and
``with minigrad.break_in("Mul"):`` stops there in pdb) and step through, or pass
``trace=True`` to see every step printed (:mod:`minigrad.trace`).
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .backends import backend_of
from .errors import DeviceError, DTypeError, GraphError, MinigradError, ShapeError, describe

from . import anomaly
from .modes import _state
from .tensor import Tensor
from .trace import BackwardTrace, TraceStep, label_nodes, norm as _norm, trace_backward
from ._checks import check_backward_result, check_hook_result, check_seed_grad

__all__ = ["Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "backward", "grad", "BackwardTrace", "trace_backward"]

# ---------------------------------------------------------------------------
# grad mode (per thread: see minigrad/modes.py)
# ---------------------------------------------------------------------------
def is_grad_enabled() -> bool:
    """True when new ops are recorded on the graph (in this thread)."""
    return _state.grad


class _GradMode:
    """Base of the grad-mode switches: a context manager and a function decorator."""

    mode: bool

    def __enter__(self) -> None:
        # the previous mode goes on a per-thread stack (not on self), so one
        # instance may be shared by threads or entered twice
        _state.grad_saved.append(_state.grad)
        _state.grad = self.mode

    def __exit__(self, *exc: object) -> None:
        _state.grad = _state.grad_saved.pop()

    def __call__(self, fn: Callable) -> Callable:
        """``@no_grad()`` on a function runs every call of it in this mode."""
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """``with no_grad():`` -- compute without recording a graph (evaluation, updates).

    Per thread: an evaluator thread inside ``no_grad()`` leaves a training
    thread next to it recording.
    """

    mode = False


class enable_grad(_GradMode):
    """``with enable_grad():`` -- record again inside a ``no_grad()`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches recording for this thread now; as
    ``with set_grad_enabled(mode):`` it restores the previous mode on exit
    (PyTorch's behaviour)."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous = _state.grad
        _state.grad = self.mode

    def __enter__(self) -> None:  # (already switched in __init__)
        pass

    def __exit__(self, *exc: object) -> None:
        _state.grad = self.previous

    def __call__(self, fn: Callable) -> Callable:
        """``@set_grad_enabled(False)`` decorates without switching anything now."""
        _state.grad = self.previous
        return super().__call__(fn)


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

    # The engine's own per-node fields live in slots (fewer allocations per op);
    # an op's forward may still stash anything on ``self`` (subclasses have a
    # ``__dict__``).
    __slots__ = ("inputs", "needs_grad", "_versions", "_out_ref", "__dict__")

    #: inputs of the recorded op (``None`` once the graph was freed)
    inputs: tuple["Tensor", ...] | None
    #: True for ops whose output is a view of input 0's memory (reshape, slice...)
    returns_view: bool = False
    #: True for fused ops (several primitive ops in one node, a hand-derived
    #: backward); each has a composed twin that runs under ``use_fused(False)``
    fused: bool = False

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

    #: ``needs_grad[i]``: does input i want a gradient? (set when the op is recorded)
    needs_grad: tuple[bool, ...]

    @classmethod
    def apply(cls, *inputs: "Tensor", **params: Any) -> "Tensor":
        """Run ``forward`` on the inputs' arrays and record the op if needed.

        This runs for every op of every forward pass (and for the ops inside
        every backward), so it is written for speed: each tensor attribute is
        read once, and the two-input case (most ops) builds no lists.
        """
        fn = cls()
        if len(inputs) == 2:
            a, b = inputs
            arrays = (a.data, b.data)
            if type(arrays[0]) is not type(arrays[1]):
                _check_same_device(cls, inputs)  # (two arrays of one type need no check)
            needs = (a.requires_grad, b.requires_grad)
        else:
            if len(inputs) > 2:
                _check_same_device(cls, inputs)
            arrays = [t.data for t in inputs]
            needs = tuple([t.requires_grad for t in inputs])
        try:
            out_data = fn.forward(*arrays, **params)
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
        state = _state          # this thread's modes (grad, anomaly): read once
        record = state.grad and True in needs
        out = Tensor._make(out_data, record)
        if fn.returns_view:
            out._vc = inputs[0]._vc  # same memory, same version counter
        if record:
            fn.inputs = inputs
            fn.needs_grad = needs
            # the inputs' _version now: backward checks nobody modified them since
            fn._versions = (a._vc[0], b._vc[0]) if len(inputs) == 2 else \
                tuple([t._vc[0] for t in inputs])
            fn._out_ref = weakref.ref(out)
            out._ctx = fn
        if state.anomaly:
            anomaly.check_forward(fn, inputs, out_data)
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
        self.inputs = self._versions = self._out_ref = None
        self.needs_grad = ()

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
# the backward loop
# ---------------------------------------------------------------------------
def _topological_order(roots: Sequence["Tensor"]) -> list["Tensor"]:
    """Tensors reachable from ``roots`` that need gradients, inputs before outputs.

    Depth-first search with an explicit stack (no recursion): a node is
    appended only after everything it was computed from.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list = list(reversed(roots))
    while stack:
        t = stack.pop()
        if t is _DONE:                       # everything t was computed from is in order
            order.append(stack.pop())
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        fn = t._ctx
        if fn is None:
            order.append(t)                  # a leaf: nothing to wait for
            continue
        stack.append(t)                      # t goes in after its inputs ...
        stack.append(_DONE)                  # ... once the marker above it is popped
        if fn.inputs is None:
            raise GraphError(
                f"backward through {fn.name} a second time: its saved tensors were freed "
                "by the first backward(). Pass retain_graph=True to the first call if you "
                "need to run backward twice.")
        for inp in fn.inputs:
            if inp.requires_grad and id(inp) not in seen:
                stack.append(inp)
    return order


_DONE = object()   # stack marker of _topological_order


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
    trace = _state.trace
    if trace is not None:
        labels = label_nodes(order)
        step = -1                            # the trace numbers op nodes 0, 1, 2...
    check_anomaly = _state.anomaly
    if check_anomaly:
        _state.in_backward += 1              # ops run by backward: checked as its results
    try:
        with set_grad_enabled(create_graph):
            for t in reversed(order):
                if trace is not None and t._ctx is not None:
                    step += 1
                g = grads.pop(id(t), None)
                if g is None:
                    if trace is not None and t._ctx is not None:
                        trace.add(_trace_skipped(step, labels, t))
                    continue
                if t._hooks:
                    for hook in t._hooks:
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
                inputs = fn.inputs
                for inp, version in zip(inputs, fn._versions):
                    if inp._vc[0] != version:
                        fn._check_versions()     # an input changed in place: a clear error
                in_grads = check_backward_result(fn, fn.backward(g))
                if check_anomaly:
                    anomaly.check_backward(fn, g, in_grads)
                if trace is not None:
                    trace.add(_trace_step(step, labels, t, fn, g, in_grads))
                for inp, ig in zip(inputs, in_grads):
                    if ig is None or not inp.requires_grad:
                        continue
                    if ig.data.shape != inp.data.shape:
                        _wrong_gradient_shape(fn, in_grads, inp, ig)
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
                if not retain_graph:
                    fn.release()
    finally:
        if check_anomaly:
            _state.in_backward -= 1


def _wrong_gradient_shape(fn: Function, in_grads: tuple, inp: "Tensor", ig: "Tensor") -> None:
    # found by the gradient, not the input: x * x has one input tensor twice
    i = next(k for k, g in enumerate(in_grads) if g is ig)
    raise GraphError(
        f"internal error in {fn.name}.backward: gradient for input {i} has "
        f"shape {ig.shape} but the input has shape {inp.shape}")


def _trace_skipped(step: int, labels: dict[int, str], t: "Tensor") -> TraceStep:
    return TraceStep(step, labels[id(t)], t._ctx.name, tuple(t.shape), None,
                     skipped="no gradient reached it (every op using it returned None for it)")


def _trace_step(step: int, labels: dict[int, str], t: "Tensor", fn: Function, g: "Tensor",
                in_grads: tuple) -> TraceStep:
    rec = TraceStep(step, labels[id(t)], fn.name, tuple(t.shape), _norm(g),
                    named=t.name is not None)
    for inp, ig in zip(fn.inputs, in_grads):
        wanted = ig is not None and inp.requires_grad
        rec.input_grads.append((labels.get(id(inp)) or inp.name or "const", tuple(inp.shape),
                                _norm(ig) if wanted else None))
    return rec


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
    check_seed_grad(what, root, grad)            # kind, dtype, device and shape
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

