"""Anomaly mode: find the first op that turned finite numbers into NaN or Inf.

A NaN spreads: one ``log(0)`` early in the forward pass and every number after
it, the loss and every gradient, is NaN, and nothing says where it began.
Inside ``with minigrad.detect_anomaly():`` (or after
``minigrad.set_detect_anomaly(True)``) the engine checks every op:

* forward: the first op whose output holds NaN/Inf although its inputs were
  all finite raises :class:`~minigrad.errors.AnomalyError` naming the op, its
  inputs' shapes and dtypes, and the line of *your* code that called it;
* backward: the first op whose ``backward`` returns a NaN/Inf gradient raises
  naming the op and the line of your code that created it in the forward pass
  (recorded only while anomaly mode is on).

Like ``torch.autograd.detect_anomaly``: it checks every array, so it is slow;
switch it on to hunt a NaN, off to train. Off, it costs one attribute read per
op (see the per-op benchmark, ``python -m benchmarks.overhead``). The mode is
per thread (see :mod:`minigrad.modes`).
"""
from __future__ import annotations

import linecache
import os
import sys
from typing import Any, Sequence

from .errors import AnomalyError, describe
from .modes import _state

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread)."""
    return _state.anomaly


class set_detect_anomaly:
    """``set_detect_anomaly(True)`` switches anomaly mode on for this thread now;
    as ``with set_detect_anomaly(mode):`` it restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.previous = _state.anomaly
        _state.anomaly = bool(mode)

    def __enter__(self) -> "set_detect_anomaly":
        return self

    def __exit__(self, *exc: object) -> None:
        _state.anomaly = self.previous


class detect_anomaly:
    """``with detect_anomaly():`` -- check every op for NaN/Inf (see the module docstring)::

        with minigrad.detect_anomaly():
            loss = model(x).log().sum()   # AnomalyError: Log produced NaN/Inf ... at train.py:12
            loss.backward()
    """

    def __enter__(self) -> "detect_anomaly":
        self.previous = _state.anomaly
        _state.anomaly = True
        return self

    def __exit__(self, *exc: object) -> None:
        _state.anomaly = self.previous


# ---------------------------------------------------------------------------
# where the user's code called us
# ---------------------------------------------------------------------------
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple(os.path.join(_ROOT, pkg) + os.sep for pkg in ("minigrad", "layers", "optim"))


def user_site(skip: int = 1) -> str:
    """``"path:line in function: source"`` of the innermost frame outside the
    minigrad, layers and optim packages (the line of the learner's code)."""
    frame = sys._getframe(skip)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_LIBRARY_DIRS):
            line = linecache.getline(filename, frame.f_lineno).strip()
            where = f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}"
            return f"{where}: {line}" if line else where
        frame = frame.f_back
    return "<inside minigrad: no caller outside the library>"


# ---------------------------------------------------------------------------
# the checks (called by the engine only when anomaly mode is on)
# ---------------------------------------------------------------------------
def _finite(array: Any) -> bool:
    dtype = getattr(array, "dtype", None)
    if dtype is None or dtype.kind not in "fc":
        return True                     # integers and booleans cannot hold NaN
    xp = _xp(array)
    return bool(xp.isfinite(array).all())


def _xp(array: Any) -> Any:
    from .backends import backend_of
    return backend_of(array).xp


def _count_bad(array: Any) -> str:
    xp = _xp(array)
    n_nan = int(xp.isnan(array).sum())
    n_inf = int(xp.isinf(array).sum())
    return f"{n_nan} NaN and {n_inf} Inf of {array.size} values"


def check_forward(fn: Any, inputs: Sequence[Any], out_data: Any) -> None:
    """Raise if ``fn`` made NaN/Inf from finite inputs; otherwise, when the op was
    recorded, remember where the user created it (for the backward check)."""
    site = None
    # (ops run by a backward are checked as that backward's result, by check_backward)
    if not _state.in_backward and not _finite(out_data) and \
            all(_finite(t.data) for t in inputs):
        site = user_site()
        args = "; ".join(f"input {i}: {describe(t)}" for i, t in enumerate(inputs))
        raise AnomalyError(
            f"anomaly detected in the forward pass: {fn.name} produced {_count_bad(out_data)} "
            f"from finite inputs ({args or 'no inputs'}).\n  created at {site}")
    if getattr(fn, "inputs", None) is not None:
        fn._anomaly_site = user_site() if site is None else site


def check_backward(fn: Any, grad: Any, in_grads: Sequence[Any]) -> None:
    """Raise if ``fn.backward`` returned a NaN/Inf gradient."""
    site = getattr(fn, "_anomaly_site", None) or \
        "<not recorded: the forward pass ran outside detect_anomaly()>"
    if not _finite(grad.data):
        raise AnomalyError(
            f"anomaly detected in the backward pass: the gradient reaching {fn.name} "
            f"already holds {_count_bad(grad.data)} (it came from backward(gradient=...) "
            f"or a hook, not from an op).\n  {fn.name} was created at {site}")
    for i, ig in enumerate(in_grads):
        if ig is not None and not _finite(ig.data):
            inp = fn.inputs[i]
            raise AnomalyError(
                f"anomaly detected in the backward pass: {fn.name}.backward returned a "
                f"gradient holding {_count_bad(ig.data)} for input {i} ({describe(inp)}); "
                f"the gradient it received was finite.\n  {fn.name} was created at {site}")
