"""The backward trace: one record per step of the backward loop.

``loss.backward(trace=True)`` prints, and ``with trace_backward() as tr:``
records, every op the loop runs, outputs first::

    [step] node             op        out shape   |grad|      ->  input shape: |g|
    [   0] Sum#0            Sum       out ()      |grad|=1.000e+00  ->  Tanh#1 (3,): |g|=1.732e+00

* ``node`` names the tensor whose gradient the step uses: a parameter by its
  module name (``fc1.weight``, given when it is assigned in a Module), a
  tensor you named (``x.name = "x"``) by that name, any other op output as
  ``Op#k`` where k is the step that handles it, a leaf you created as
  ``leaf#k``; ``const`` is an input that needs no gradient. The numbering
  follows the loop's (topological) order, so identical runs print identical
  traces.
* ``|grad|`` is the L2 norm of dL/d(node); after ``->`` each input of the op
  with its shape and the norm of the gradient the op sends it (``-``: the
  input needs no gradient, nothing is sent).

Step numbers are contiguous; a node no gradient reached is still shown, with
the reason. ``tr.steps`` is a list of :class:`TraceStep` records (``.step``,
``.node``, ``.op``, ``.out_shape``, ``.grad_norm``, ``.input_grads``);
``tr.table()`` and ``tr.to_markdown()`` render them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .modes import _state

__all__ = ["TraceStep", "BackwardTrace", "trace_backward", "HEADER"]

HEADER = ("[step] node               op             out shape          |grad| = norm of dL/d(node)"
          "  ->  input (shape): |g| = norm of the gradient sent to it\n"
          "       '-': the input needs no gradient; Op#k: output of the op handled at step k;"
          " leaf#k: a tensor you created")

#: rows longer than this put each input on a line of its own
WIDTH = 110


@dataclass
class TraceStep:
    """One step of the backward loop, as recorded by a trace."""

    step: int
    node: str          # the tensor's label (parameter name, your name, or Op#k)
    op: str
    out_shape: tuple[int, ...]
    grad_norm: float | None
    input_grads: list[tuple[str, tuple[int, ...], float | None]] = field(default_factory=list)
    #: why the step did nothing ("" for a normal step)
    skipped: str = ""
    #: True when ``node`` is a tensor someone named (a new block starts there)
    named: bool = False

    def _inputs(self) -> list[str]:
        return [f"{name} {shape}: " + ("-" if norm is None else f"|g|={norm:.3e}")
                for name, shape, norm in self.input_grads]

    def __str__(self) -> str:
        head = f"[{self.step:4d}] {self.node:<18} {self.op:<14} out {str(self.out_shape):<14}"
        if self.skipped:
            return f"{head} skipped: {self.skipped}"
        head += f" |grad|={self.grad_norm:.3e}"
        ins = self._inputs()
        one_line = head + ("  ->  " + ", ".join(ins) if ins else "")
        if len(one_line) <= WIDTH or len(ins) < 2:
            return one_line
        return "\n".join([head] + [f"{'':7}->  {s}" for s in ins])


class BackwardTrace:
    """Collects :class:`TraceStep` records; optionally prints them as they happen."""

    def __init__(self, echo: bool = True, printer: Callable[[str], None] = print) -> None:
        self.steps: list[TraceStep] = []
        self.echo = echo
        self.printer = printer

    def add(self, step: TraceStep) -> None:
        if self.echo:
            if not self.steps:
                self.printer(HEADER)
            elif step.named:
                self.printer("")
            self.printer(str(step))
        self.steps.append(step)

    def __str__(self) -> str:
        lines = [HEADER]
        for k, s in enumerate(self.steps):
            if k and s.named:
                lines.append("")             # a block per named tensor (h_t, c_t of an LSTM)
            lines.append(str(s))
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def _rows(self) -> list[tuple[str, ...]]:
        rows = []
        for s in self.steps:
            norm = "" if s.grad_norm is None else f"{s.grad_norm:.3e}"
            ins = s.input_grads or [("", (), None)]
            for k, (name, shape, g) in enumerate(ins):
                first = k == 0
                rows.append((str(s.step) if first else "", s.node if first else "",
                             s.op if first else "", str(s.out_shape) if first else "",
                             (norm or s.skipped) if first else "", name,
                             str(shape) if name else "",
                             ("-" if g is None else f"{g:.3e}") if name else ""))
        return rows

    _COLUMNS = ("step", "node", "op", "out shape", "|grad|", "input", "input shape", "|g| sent")

    def table(self) -> str:
        """A plain-text table, one line per (step, input), columns aligned."""
        rows = [self._COLUMNS] + self._rows()
        widths = [max(len(r[c]) for r in rows) for c in range(len(self._COLUMNS))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines) + "\n('-' in |g| sent: the input needs no gradient)"

    def to_markdown(self) -> str:
        """A Markdown table (one row per step and input) for notebooks and docs."""
        def esc(cell: str) -> str:
            return cell.replace("|", "\\|")
        lines = ["| " + " | ".join(esc(c) for c in self._COLUMNS) + " |",
                 "|" + "---|" * len(self._COLUMNS)]
        lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in self._rows()]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def trace_backward(echo: bool = True) -> "_TraceBlock":
    """Record every backward step run inside the block (in this thread)::

        with trace_backward(echo=False) as tr:
            loss.backward()
        tr.steps[0].op  # 'Mean'
    """
    return _TraceBlock(echo)


class _TraceBlock:
    def __init__(self, echo: bool) -> None:
        self.trace = BackwardTrace(echo)

    def __enter__(self) -> BackwardTrace:
        self.previous, _state.trace = _state.trace, self.trace
        return self.trace

    def __exit__(self, *exc: object) -> None:
        _state.trace = self.previous


def label_nodes(order: Sequence[Any]) -> dict[int, str]:
    """id(tensor) -> its label in the trace, numbered in the loop's order."""
    labels: dict[int, str] = {}
    step = leaf = 0
    for t in reversed(order):
        if t._ctx is not None:
            labels[id(t)] = t.name or f"{t._ctx.name}#{step}"
            step += 1
        else:
            labels[id(t)] = t.name or f"leaf#{leaf}"
            leaf += 1
    return labels


def norm(t: Any) -> float:
    xp = t.xp
    return float(xp.sqrt(xp.sum(xp.square(t.data.astype("float64")))))
