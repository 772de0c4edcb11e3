"""The formula ledger: every ID of the course catalogue, checked against minigrad.

``python -m minigrad.ledger`` reads the catalogue (``docs/formulas.md``), runs
one row per ID and prints one table:

* **F rows** (formulas): the minigrad function or module that implements the
  formula, a float64 gradient check of it, and the formula evaluated
  independently in NumPy next to it;
* **E rows** (worked examples): the document's figure, minigrad's figure and a
  verdict (document right / wrong) with the reason;
* **X rows** (experiments): the experiment run in a quick setting (``--full``
  for the documents' lengths) and the metric it reached.

A catalogue ID without a row is reported MISSING, and the command exits with
status 1 when any row fails.

Programmatic use::

    from minigrad.ledger import run_ledger
    result = run_ledger(only=["F07", "E02"])
    result.rows[0].status          # 'PASS'
    result.exit_code               # 0

Rows live in ``rows_formulas.py``, ``rows_examples.py`` and
``rows_experiments.py``; each is a small function registered with
``@row("F07", impl="minigrad.ops.unary.Sigmoid")`` (see :mod:`.core`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .catalogue import Entry, load_catalogue
from .core import REGISTRY, Row, resolve, row, run_row

__all__ = ["run_ledger", "LedgerResult", "Row", "row", "REGISTRY", "load_catalogue", "resolve",
           "load_rows"]


def load_rows() -> dict:
    """Import the row modules (which register their rows) and return the registry."""
    from . import rows_examples, rows_experiments, rows_formulas  # noqa: F401
    from . import rows_conv  # noqa: F401  (F33, F34, X6)
    return REGISTRY


@dataclass
class LedgerResult:
    """All rows of one ledger run, in catalogue order (extra rows last)."""

    rows: list[Row] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)   # registered rows the catalogue lacks
    seconds: float = 0.0
    full: bool = False
    catalogue: str = ""

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if not r.passed]

    @property
    def exit_code(self) -> int:
        """0 when every row passed, 1 otherwise (a FAIL, ERROR or MISSING row)."""
        return 1 if self.failed else 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def _select(ids: Iterable[str] | None, entries: list[Entry], registry: dict) -> list[str]:
    """The IDs to run: the catalogue's, in its order (``ids`` may also name a
    registered row that the catalogue lacks)."""
    catalogue_ids = [e.id for e in entries]
    if not ids:
        return catalogue_ids
    known = catalogue_ids + [i for i in registry if i not in set(catalogue_ids)]
    wanted = []
    for item in ids:
        for part in str(item).split(","):
            part = part.strip().upper()
            if not part:
                continue
            if part not in known:
                raise KeyError(f"unknown ledger ID {part!r}: not in the catalogue and no row "
                               "is registered for it")
            if part not in wanted:
                wanted.append(part)
    return wanted


def run_ledger(only: Iterable[str] | None = None, full: bool = False,
               catalogue: str | Path | None = None,
               progress: Callable[[Row], None] | None = None) -> LedgerResult:
    """Run the rows for ``only`` (IDs; default: the whole catalogue).

    ``full=True`` runs the experiments at the documents' lengths. ``catalogue``
    overrides the path of ``docs/formulas.md``. ``progress(row)`` is called as
    each row finishes.
    """
    registry = load_rows()
    entries = load_catalogue(catalogue)
    titles = {e.id: e.title for e in entries}
    start = time.perf_counter()
    result = LedgerResult(full=full, catalogue=str(catalogue or ""),
                          orphans=[i for i in registry if i not in titles])
    for rid in _select(only, entries, registry):
        spec = registry.get(rid)
        if spec is None:
            r = Row(id=rid, title=titles.get(rid, ""), kind=rid[0], status="MISSING",
                    verdict="no ledger row checks this catalogue ID")
            r.finish()
        else:
            r = run_row(spec, titles.get(rid, ""), full=full)
            if rid not in titles:
                r.in_catalogue = False
                r.verdict = (r.verdict + " " if r.verdict else "") + "(not in the catalogue)"
        result.rows.append(r)
        if progress is not None:
            progress(r)
    result.seconds = time.perf_counter() - start
    return result
