"""Read the formula catalogue (``docs/formulas.md``): every ID with its title.

``docs/formulas.md`` is the one copy people edit. The package ships a generated
copy, ``minigrad/data/formulas.md``, so that an installed minigrad (``pip
install .``, a wheel) runs its ledger from any folder. After editing the
catalogue, refresh the copy with::

    python -m minigrad.ledger.sync_catalogue          # copy docs/ -> minigrad/data/
    python -m minigrad.ledger.sync_catalogue --check   # exit 1 if the copy is stale

(a test runs the check, so a stale copy fails the suite rather than shipping).

The catalogue is a Markdown file whose tables start each line with an ID
(``| F07 | Sigmoid(x) = ... | D2 §4.1 |``). The ledger reads it instead of
keeping its own list, so an ID added to the catalogue without a row shows up
as MISSING (and fails the ledger).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Entry", "load_catalogue", "catalogue_path", "numbers_in", "REPO_CATALOGUE",
           "PACKAGED_CATALOGUE"]

#: the catalogue people edit (exists only in a checkout of the repository)
REPO_CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "formulas.md"
#: the copy shipped inside the package (generated from REPO_CATALOGUE by ``--sync``)
PACKAGED_CATALOGUE = Path(__file__).resolve().parents[1] / "data" / "formulas.md"

_ID = re.compile(r"^[FEX]\d+$")


@dataclass
class Entry:
    """One catalogue line: ``id``, ``title`` (the formula / example / experiment
    text), the section heading, and the remaining columns by header name."""

    id: str
    title: str
    section: str
    columns: dict[str, str] = field(default_factory=dict)


def catalogue_path() -> Path:
    """``$MINIGRAD_CATALOGUE`` if set; else ``docs/formulas.md`` of the checkout this
    package lives in (an editable install, or running from the repository); else the
    copy shipped inside the package (an installed wheel)."""
    env = os.environ.get("MINIGRAD_CATALOGUE")
    if env:
        return Path(env)
    return REPO_CATALOGUE if REPO_CATALOGUE.exists() else PACKAGED_CATALOGUE


def _cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [c.strip() for c in body.split("|")]


def load_catalogue(path: str | os.PathLike[str] | None = None) -> list[Entry]:
    """Every ID in the catalogue, in file order (F rows, then E, then X as written)."""
    path = Path(path) if path is not None else catalogue_path()
    if not path.exists():
        raise FileNotFoundError(
            f"formula catalogue not found at {path}; the package should ship it as "
            f"{PACKAGED_CATALOGUE} (reinstall minigrad) or set MINIGRAD_CATALOGUE to the "
            "path of docs/formulas.md")
    entries: list[Entry] = []
    seen: set[str] = set()
    section, header = "", []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            section, header = line.lstrip("#").strip(), []
            continue
        if not line.lstrip().startswith("|"):
            continue
        cells = _cells(line)
        if all(set(c) <= set("-: ") for c in cells):
            continue  # the |---|---| separator
        if cells and _ID.match(cells[0]):
            if cells[0] in seen:
                raise ValueError(f"{path}: ID {cells[0]} appears twice")
            seen.add(cells[0])
            names = header[2:] if len(header) >= 2 else []
            extra = {name: value for name, value in zip(names, cells[2:])}
            entries.append(Entry(cells[0], cells[1] if len(cells) > 1 else "", section, extra))
        else:
            header = [c.lower() for c in cells]
    return entries


_NUMBER = re.compile(r"(?<![\w.])[−-]?\d+(?:\.\d+)?")


def numbers_in(text: str) -> list[tuple[float, int]]:
    """Every number written in ``text`` with its count of decimals (``−`` is a minus)."""
    out = []
    for m in _NUMBER.finditer(text):
        s = m.group().replace("−", "-")
        decimals = len(s.split(".")[1]) if "." in s else 0
        out.append((float(s), decimals))
    return out

