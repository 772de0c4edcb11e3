"""Regenerate ``sentiment.tsv``: a tiny synthetic sentiment data set.

Every sentence is produced from the templates and word lists below, which
were written for minigrad; no external text is used.  Each output line is::

    <label>\t<sentence>

with label ``1`` for positive and ``0`` for negative.  There is no header.

The generator is fully deterministic: it uses its own small linear
congruential generator instead of :mod:`random`, so the output does not
depend on the Python version.  Run it from anywhere::

    python minigrad/data/make_sentiment.py          # rewrites sentiment.tsv
    python minigrad/data/make_sentiment.py --check  # exit 1 if the file differs

The sentences contain no negations ("not good"), so a bag-of-words model
can in principle reach 100% accuracy; the point is a small, quick, honest
first text-classification exercise.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

N_PER_CLASS = 150
SEED = 20240601
OUT = Path(__file__).with_name("sentiment.tsv")

NOUNS = [
    "movie", "book", "meal", "song", "game", "trip", "class", "lesson",
    "story", "show", "coffee", "hotel", "park", "phone", "concert", "garden",
]

POS_ADJ = [
    "good", "great", "wonderful", "lovely", "excellent", "delightful",
    "pleasant", "fun", "brilliant", "charming", "cheerful", "amazing",
]
NEG_ADJ = [
    "bad", "awful", "terrible", "boring", "dull", "poor",
    "horrible", "sad", "disappointing", "annoying", "messy", "weak",
]

POS_VERB = ["loved", "enjoyed", "liked", "adored", "recommend", "admired"]
NEG_VERB = ["hated", "disliked", "regret", "avoided", "resented", "dreaded"]

POS_FEEL = ["happy", "glad", "pleased", "delighted", "thrilled", "grateful"]
NEG_FEEL = ["unhappy", "angry", "upset", "annoyed", "bored", "tired"]

ADVERBS = ["really", "very", "truly", "quite", "so", "rather"]
ATTR_ADVERBS = ["really", "very", "truly"]  # read well before "adjective noun"

# {n}=noun {a}=adjective {v}=verb {f}=feeling {r}=adverb {q}=attributive adverb
TEMPLATES = [
    "the {n} was {a}.",
    "what a {a} {n}.",
    "this {n} is {r} {a}.",
    "i {v} the {n}.",
    "we {v} this {n}.",
    "the {n} made me {f}.",
    "i felt {f} after the {n}.",
    "such a {q} {a} {n}.",
    "honestly, the {n} was {r} {a}.",
    "my friends {v} the {n}.",
]


class _LCG:
    """Tiny deterministic pseudo-random generator (Numerical Recipes LCG)."""

    def __init__(self, seed: int) -> None:
        self.state = seed & 0xFFFFFFFF

    def next(self) -> int:
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state

    def below(self, n: int) -> int:
        return (self.next() >> 8) % n

    def shuffle(self, items: list) -> None:
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def _sentences(rng: _LCG, adj: list[str], verb: list[str], feel: list[str]) -> list[str]:
    """Draw N_PER_CLASS distinct sentences for one class."""
    seen: set[str] = set()
    out: list[str] = []
    for _ in itertools.count():
        t = TEMPLATES[rng.below(len(TEMPLATES))]
        s = t.format(
            n=NOUNS[rng.below(len(NOUNS))],
            a=adj[rng.below(len(adj))],
            v=verb[rng.below(len(verb))],
            f=feel[rng.below(len(feel))],
            r=ADVERBS[rng.below(len(ADVERBS))],
            q=ATTR_ADVERBS[rng.below(len(ATTR_ADVERBS))],
        )
        s = s.replace(" a a", " an a").replace(" a e", " an e")  # an amazing, an excellent
        if s not in seen:
            seen.add(s)
            out.append(s)
            if len(out) == N_PER_CLASS:
                return out
    raise AssertionError("unreachable")


def generate() -> str:
    """Return the full TSV text (labels interleaved after a seeded shuffle)."""
    rng = _LCG(SEED)
    rows = [(1, s) for s in _sentences(rng, POS_ADJ, POS_VERB, POS_FEEL)]
    rows += [(0, s) for s in _sentences(rng, NEG_ADJ, NEG_VERB, NEG_FEEL)]
    rng.shuffle(rows)
    return "".join(f"{label}\t{s}\n" for label, s in rows)


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        ok = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.name}: {'up to date' if ok else 'DIFFERS'}")
        return 0 if ok else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
