"""Stop in the backward pass where you ask: ``break_in`` and ``where_is``.

Reading a trace tells you *what* the backward loop did; a debugger lets you
stop inside one op's ``backward`` and look at the numbers::

    with minigrad.break_in("Mul"):       # the first Mul.backward stops in pdb
        loss.backward()
    # (Pdb) p grad.shape                 # dL/d(output of this Mul)
    # (Pdb) p self.inputs[0].shape       # its inputs, and self.output
    # (Pdb) c                            # run on (later calls do not stop)

    minigrad.where_is("Mul")             # '/.../minigrad/ops/arithmetic.py:97'
    # -> `b /.../minigrad/ops/arithmetic.py:97` in pdb, or a breakpoint in an IDE

Any op works, fused (``LSTM``, ``LayerNorm``, ``Linear``) or primitive
(``Sigmoid``, ``MatMul``); run under ``minigrad.use_fused(False)`` to stop in
the primitive ops a fused op is made of. An unknown name raises an error that
lists the closest op names.
"""
from __future__ import annotations

import ast
import difflib
import functools
import inspect
import os
import pdb
import textwrap
from typing import Any, Callable

from .autograd import Function
from .errors import MinigradError

__all__ = ["break_in", "where_is", "find_op", "op_names"]


def _all_ops() -> list[type[Function]]:
    seen, stack, found = set(), list(Function.__subclasses__()), []
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def op_names() -> list[str]:
    """Every op (Function subclass) name known now, sorted."""
    return sorted({cls.__name__ for cls in _all_ops()})


def find_op(name: "str | type[Function]") -> type[Function]:
    """The Function class called ``name`` (``"Mul"``, ``"LSTM"``...)."""
    if isinstance(name, type) and issubclass(name, Function):
        return name
    from . import ops  # noqa: F401  (every built-in op is defined once ops is imported)
    matches = [cls for cls in _all_ops() if cls.__name__ == name]
    if not matches:
        lowered = {n.lower(): n for n in op_names()}
        if isinstance(name, str) and name.lower() in lowered:
            return find_op(lowered[name.lower()])
        close = difflib.get_close_matches(str(name), op_names(), n=5, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise MinigradError(
            f"no op named {name!r}.{hint} Op names are Function classes, as the trace "
            f"prints them (minigrad.debug.op_names() lists all {len(op_names())}).")
    # a subclass that does not override backward uses its parent's: take the definer
    return matches[0]


def _first_body_line(fn: Callable) -> tuple[str, int]:
    """(absolute file, line of the first statement after the docstring)."""
    fn = inspect.unwrap(fn)
    lines, start = inspect.getsourcelines(fn)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    body = tree.body[0].body
    first = body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str) and len(body) > 1):
        first = body[1]                       # skip the docstring
    return os.path.abspath(inspect.getsourcefile(fn)), start + first.lineno - 1


def where_is(name: "str | type[Function]") -> str:
    """``"path:line"`` of the first line of op ``name``'s backward (absolute path),
    for ``b path:line`` in pdb or a breakpoint in an IDE."""
    cls = find_op(name)
    path, line = _first_body_line(cls.backward)
    return f"{path}:{line}"


class break_in:
    """``with break_in("Mul"): loss.backward()`` -- the first call of ``Mul.backward``
    inside the block stops in pdb on the backward's first line, with ``grad``,
    ``self.inputs`` and ``self.output`` at hand. Later calls run normally."""

    def __init__(self, name: "str | type[Function]", debugger: Callable[[], Any] | None = None
                 ) -> None:
        self.op = find_op(name)
        self.debugger = debugger or pdb.Pdb
        self.stopped = False

    def __enter__(self) -> "break_in":
        cls = self.op
        self._had_own = "backward" in cls.__dict__   # (else it inherits its parent's)
        original = cls.backward
        block = self

        @functools.wraps(original)
        def backward(fn_self: Function, grad: Any) -> Any:
            block._restore()                  # only the first call stops
            block.stopped = True
            print(f"minigrad.break_in: stopped in {type(fn_self).__name__}.backward "
                  f"({where_is(cls)}); grad, self.inputs and self.output are at hand")
            return block.debugger().runcall(original, fn_self, grad)

        self._original = original
        cls.backward = backward
        return self

    def _restore(self) -> None:
        cls = self.op
        if self._had_own:
            cls.backward = self._original
        elif "backward" in cls.__dict__:
            del cls.backward

    def __exit__(self, *exc: object) -> None:
        if not self.stopped:
            self._restore()
