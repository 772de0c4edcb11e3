"""``python -m minigrad.ledger.sync_catalogue [--check]``: keep the packaged copy of
the catalogue (``minigrad/data/formulas.md``, shipped in the wheel) identical to
``docs/formulas.md`` (the copy people edit). Run it after every catalogue edit;
``tests/test_packaging.py`` fails while the two differ."""
from __future__ import annotations

from .catalogue import PACKAGED_CATALOGUE, REPO_CATALOGUE

__all__ = ["sync"]


def sync(check: bool = False) -> int:
    """Copy docs/formulas.md over the packaged copy (or, with ``check``, compare them)."""
    if not REPO_CATALOGUE.exists():
        print(f"no checkout catalogue at {REPO_CATALOGUE} (run this from a checkout)")
        return 2
    want = REPO_CATALOGUE.read_bytes()
    have = PACKAGED_CATALOGUE.read_bytes() if PACKAGED_CATALOGUE.exists() else None
    if check:
        if have == want:
            print(f"{PACKAGED_CATALOGUE} is up to date")
            return 0
        print(f"{PACKAGED_CATALOGUE} differs from {REPO_CATALOGUE}; run "
              "`python -m minigrad.ledger.sync_catalogue`")
        return 1
    if have != want:
        PACKAGED_CATALOGUE.write_bytes(want)
        print(f"copied {REPO_CATALOGUE} -> {PACKAGED_CATALOGUE}")
    else:
        print(f"{PACKAGED_CATALOGUE} already up to date")
    return 0


if __name__ == "__main__":
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m minigrad.ledger.sync_catalogue",
        description="Keep the packaged catalogue (minigrad/data/formulas.md) identical to "
                    "docs/formulas.md.")
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if the packaged copy is stale")
    sys.exit(sync(check=parser.parse_args().check))
