"""Printing the ledger: a plain-text table for the terminal, Markdown for
``docs/ledger.md``, and JSON for machines. Nothing here computes anything."""
from __future__ import annotations

import json
import shutil
import textwrap
from typing import Any

from .core import Row

__all__ = ["text_table", "markdown_table", "json_report", "check_summary", "result_text"]

_KIND_HEADINGS = {"F": "Formulas", "E": "Worked examples (errata)", "X": "Experiments"}


def _fmt_err(v: float | None) -> str:
    return "-" if v is None else ("0" if v == 0 else f"{v:.1e}")


def check_summary(r: Row) -> str:
    """One short phrase for the check column: counts and worst errors, or what failed."""
    if r.status == "MISSING":
        return "no row"
    if r.status == "ERROR":
        return f"raised {r.error.split(':')[0]}"
    failed = [c for c in r.checks if not c.passed]
    if failed:
        return "FAILED: " + "; ".join(c.detail for c in failed)
    parts = []
    grads = [c for c in r.checks if c.kind == "gradcheck"]
    forms = [c for c in r.checks if c.kind == "formula"]
    asserts = [c for c in r.checks if c.kind == "assert"]
    if grads:
        fast = sum("fast" in c.detail for c in grads)
        how = "" if not fast else (" (fast)" if fast == len(grads) else f" ({fast} fast)")
        worst = max(c.value or 0.0 for c in grads)
        parts.append(f"gradcheck ×{len(grads)}{how}: rel err ≤ {_fmt_err(worst)} (tol 1e-3)")
    if forms:
        worst = max(c.value or 0.0 for c in forms)
        parts.append(f"vs formula ×{len(forms)}: |Δ| ≤ {_fmt_err(worst)}")
    if asserts:
        parts.append(f"assert ×{len(asserts)}")
    return "; ".join(parts)


def result_text(r: Row, sep: str = "\n") -> str:
    """Figures and verdict: one line each for the reading used, the document's
    figure, minigrad's figure, other figures, and the verdict."""
    bits = []
    if r.interpretation:
        bits.append(f"reading: {r.interpretation}")
    if r.document:
        bits.append(f"document: {r.document}")
    if r.computed:
        bits.append(f"minigrad: {r.computed}")
    if r.figures:
        bits.append("; ".join(f"{k} = {v}" for k, v in r.figures))
    if r.verdict:
        bits.append(f"→ {r.verdict}")
    if r.error:
        bits.append(f"error: {r.error}")
    return sep.join(bits)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for para in str(text).split("\n"):
        lines.extend(textwrap.wrap(para, width, break_long_words=True,
                                   break_on_hyphens=False) or [""])
    return lines or [""]


def _wrap_path(text: str, width: int) -> list[str]:
    """Wrap dotted paths at dots and list separators, never mid-name."""
    lines: list[str] = []
    for item in text.replace(" + ", " +, ").split(", "):
        pieces, cur = item.replace(".", ".\0").split("\0"), ""
        for piece in pieces:
            if cur and len(cur) + len(piece) > width:
                lines.append(cur)
                cur = "  " + piece
            else:
                cur += piece
        lines.append(cur)
    out = []
    for ln in (ln.replace(" +,", " +") for ln in lines):
        while len(ln) > width:
            out.append(ln[:width])
            ln = "  " + ln[width:]
        out.append(ln)
    return out or [""]


def text_table(rows: list[Row], *, width: int | None = None, verbose: bool = False,
               header: str = "", footer: str = "") -> str:
    """The terminal table: ID, status, formula, implementation, check, result."""
    if width is None:
        width = shutil.get_terminal_size((160, 40)).columns
    width = max(120, min(width, 220))
    fixed = {"id": 4, "status": 7}
    flexible = width - sum(fixed.values()) - 5 * 2
    cols = [("ID", fixed["id"]), ("STATUS", fixed["status"]),
            ("CATALOGUE ENTRY", int(flexible * 0.22)),
            ("IMPLEMENTATION", max(30, int(flexible * 0.20))), ("CHECK", int(flexible * 0.21))]
    cols.append(("FIGURES AND VERDICT", flexible - sum(w for _, w in cols[2:])))
    out = []
    if header:
        out.append(header)
    rule = "-" * (sum(w for _, w in cols) + 2 * (len(cols) - 1))
    kind = None
    for r in rows:
        if r.kind != kind:
            kind = r.kind
            out.extend(["", f"== {_KIND_HEADINGS.get(kind, kind)} ==",
                        "  ".join(name.ljust(w) for name, w in cols), rule])
        cells = [r.id, r.status, r.title, r.implementation or "-", check_summary(r),
                 result_text(r)]
        wrapped = [_wrap_path(c, w) if k == 3 else _wrap(c, w)
                   for k, (c, (_, w)) in enumerate(zip(cells, cols))]
        for i in range(max(len(w) for w in wrapped)):
            line = "  ".join((w[i] if i < len(w) else "").ljust(cw)
                             for w, (_, cw) in zip(wrapped, cols))
            out.append(line.rstrip())
        if verbose or not r.passed:
            for c in r.checks:
                if verbose or not c.passed:
                    out.append(f"{'':13}{'✓' if c.passed else '✗'} {c.detail}")
            if verbose and r.status == "ERROR" and "traceback" in r.metrics:
                out.extend(f"{'':13}{line}" for line in r.metrics["traceback"].splitlines())
        out.append("")
    if footer:
        out.append(footer)
    return "\n".join(out)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", "<br>")


def _check_lines(r: Row) -> str:
    if r.status == "MISSING":
        return "no row registered"
    lines = [("✓ " if c.passed else "✗ ") + c.detail for c in r.checks]
    if r.error:
        lines.append("error: " + r.error)
    return "<br>".join(_md(line) for line in lines)


_MD_COLUMNS = {
    "F": ("formula", ["figures and verdict"]),
    "E": ("worked example (inputs)", ["reading", "document says", "minigrad", "verdict"]),
    "X": ("experiment", ["setting", "document", "minigrad", "verdict"]),
}


def _md_cells(r: Row) -> list[str]:
    if r.kind == "F" or r.kind not in _MD_COLUMNS:
        return [result_text(r, sep="<br>")]
    figures = "; ".join(f"{k} = {v}" for k, v in r.figures)
    computed = r.computed + (("; " if r.computed else "") + figures if figures else "")
    verdict = r.verdict + (f" (error: {r.error})" if r.error else "")
    return [r.interpretation or "-", r.document or "-", computed or "-", verdict or "-"]


def markdown_table(rows: list[Row], *, header: str = "", footer: str = "") -> str:
    """The same table as Markdown (one table per section), every check listed."""
    out = [header] if header else []
    kind = None
    for r in rows:
        if r.kind != kind:
            kind = r.kind
            what, extra = _MD_COLUMNS.get(kind, ("entry", ["figures and verdict"]))
            names = ["ID", what, "implementation", *extra, "checks", "status"]
            out += ["", f"## {_KIND_HEADINGS.get(kind, kind)}", "",
                    "| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
        cells = [r.id, _md(r.title), _md(r.implementation or "-"),
                 *(_md(c) for c in _md_cells(r)),
                 _check_lines(r), f"**{r.status}**"]
        out.append("| " + " | ".join(cells) + " |")
    if footer:
        out += ["", footer]
    return "\n".join(out) + "\n"


def json_report(rows: list[Row], **meta: Any) -> str:
    """Every row as a dict (checks, figures, verdict, passed) plus a summary."""
    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if k != "traceback" or x}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, float) and v != v:
            return None
        if hasattr(v, "item") and callable(v.item):
            return v.item()
        return v
    return json.dumps({**meta, "rows": [clean(r.to_dict()) for r in rows]}, indent=2,
                      ensure_ascii=False)

