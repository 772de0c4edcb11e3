"""Switches that change how ops run, kept per thread.

Every switch of the engine lives on one per-thread object, :data:`_state`:

* ``grad``    -- record new ops on the graph (``no_grad`` / ``enable_grad`` /
  ``set_grad_enabled`` in :mod:`minigrad.autograd`);
* ``anomaly`` -- check every op for NaN/Inf (``detect_anomaly``);
* ``trace``   -- the active :class:`~minigrad.autograd.BackwardTrace` or None;
* ``fused``   -- run fused ops fused or composed (``use_fused``, below).

Per thread because a ``no_grad()`` evaluator running beside a training thread
must not switch recording off for the trainer. Each new thread starts from
the defaults (grad on, anomaly off, no trace, fused unless ``MINIGRAD_FUSED=0``),
as in PyTorch. The hot path (``Function.apply``) reads ``_state.grad`` once:
an attribute of a ``threading.local`` costs about as much as a global.

``use_fused`` chooses between a fused op (one graph node, a hand-derived
backward: fast) and its composed twin (the same formula written with primitive
ops, so the graph, the trace and the debugger show every step):

    with minigrad.use_fused(False):     # every fused op runs composed
        loss = model(x).sum()
    minigrad.use_fused(False)           # ... or switch it for this thread

``MINIGRAD_FUSED=0`` in the environment starts every thread composed. Fused
is the default because it is faster (see docs/benchmarks.md); both give the
same values and gradients (tests/engine/test_engine_fused.py).

Every fused op's public function asks :func:`fused_enabled` and calls its
``*_reference`` twin when it is off.
"""
from __future__ import annotations

import os
import threading

__all__ = ["use_fused", "fused_enabled"]


def _env_fused() -> bool:
    return os.environ.get("MINIGRAD_FUSED", "1").strip().lower() not in ("0", "false", "no", "off")


class _State(threading.local):
    """One copy per thread; a new thread starts from the environment's setting."""

    def __init__(self) -> None:
        self.fused = _env_fused()
        self.grad = True
        self.grad_saved: list[bool] = []   # modes to restore when no_grad/enable_grad exit
        self.anomaly = False
        self.in_backward = 0               # > 0 while a backward loop runs (anomaly checks)
        self.trace = None


_state = _State()


def fused_enabled() -> bool:
    """True when fused ops run fused (the default); False under ``use_fused(False)``."""
    return _state.fused


class use_fused:
    """Run fused ops fused (True, the default) or composed from primitive ops (False).

    A context manager (restores the previous setting on exit) that also works as
    a plain call setting the mode for the current thread::

        with use_fused(False): ...
        use_fused(False)
    """

    def __init__(self, enabled: bool = True) -> None:
        self.previous = _state.fused
        _state.fused = bool(enabled)

    def __enter__(self) -> "use_fused":
        return self

    def __exit__(self, *exc: object) -> None:
        _state.fused = self.previous

    def __repr__(self) -> str:
        return f"use_fused({_state.fused})"
