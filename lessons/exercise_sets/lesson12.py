"""Lesson 12 (errata): exercises, checkers and reference solutions."""
from __future__ import annotations

import math

import numpy as np

from exercises import register


# ---------------------------------------------------------------------------
# 12.1  reading the ledger's checks
# ---------------------------------------------------------------------------
def _checks_e02_e10() -> int:
    from minigrad.ledger import run_ledger
    return sum(len(r.checks) for r in run_ledger(only=["E02", "E10"]).rows)


def _claims_e02_e10() -> int:
    from minigrad.ledger import run_ledger
    return sum(len(r.claims) for r in run_ledger(only=["E02", "E10"]).rows)


register(
    "12.1",
    "How many independent checks (result.rows[k].checks) do the ledger rows E02 and E10 run "
    "together? Give an int.",
    lambda answer: isinstance(answer, (int, np.integer)) and int(answer) == _checks_e02_e10(),
    hint="Each row's `checks` is a list; one line per check in the --verbose output "
         "(the lines with a tick). The `claims` are figures, not checks.",
    reference=_checks_e02_e10,
    wrong_answers=[lambda: 2,                    # the number of rows
                   _claims_e02_e10,              # figures claimed, not checks run
                   lambda: float(_checks_e02_e10())],
    solution_text="sum(len(r.checks) for r in run_ledger(only=['E02', 'E10']).rows)",
)


# ---------------------------------------------------------------------------
# 12.2  a W that fits E03
# ---------------------------------------------------------------------------
X_E03, B_E03, Z_E03 = np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.2]), np.array([1.2, 1.6])


def _check_w(answer) -> bool:
    W = np.asarray(answer, dtype=float)
    return W.shape == (2, 3) and np.allclose(W @ X_E03 + B_E03, Z_E03, rtol=0, atol=1e-9)


register(
    "12.2",
    "Give a 2x3 W with W @ [1, 2, 3] + [0.1, 0.2] = [1.2, 1.6] (E03's z).",
    _check_w,
    hint="Each row of W only has to satisfy one equation, w1 + 2 w2 + 3 w3 = z_j - b_j: keep "
         "the document's first two entries of each row and solve for the third. Mind the bias.",
    reference=lambda: np.array([[0.1, 0.2, 0.2], [0.3, 0.4, 0.1]]),
    wrong_answers=[lambda: np.array([[0.1, 0.2, 0.0], [0.3, 0.4, 0.0]]),       # zero-padded
                   lambda: np.array([[0.2, 0.2, 0.2], [1.6 / 6] * 3]),        # bias forgotten
                   lambda: np.array([[0.1, 0.2], [0.3, 0.4]])],               # the document's
    solution_text="W = [[0.1, 0.2, 0.2], [0.3, 0.4, 0.1]]: each row needs w1 + 2 w2 + 3 w3 = "
                  "z_j - b_j (1.1 and 1.4). Not unique: each row can move in the 2-D plane of "
                  "vectors orthogonal to x, so the solutions form a 4-dimensional family.",
)


# ---------------------------------------------------------------------------
# 12.3  E07's two readings
# ---------------------------------------------------------------------------
def _e07_readings(y, y_hat):
    y, p = np.asarray(y, dtype=float), np.asarray(y_hat, dtype=float)
    ce = float(np.mean(-y * np.log(p)))
    bce = float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    return ce, bce


def _check_e07(answer) -> bool:
    cases = [([1, 0, 1, 0], [0.3, 0.7, 0.6, 0.4]), ([0, 1, 1], [0.2, 0.9, 0.55])]
    for y, p in cases:
        ce = sum(-yi * math.log(pi) for yi, pi in zip(y, p)) / len(y)
        bce = sum(-(yi * math.log(pi) + (1 - yi) * math.log(1 - pi)) for yi, pi in zip(y, p)) \
            / len(y)
        got = answer(y, p)
        if len(got) != 2 or not np.allclose([float(got[0]), float(got[1])], [ce, bce],
                                            rtol=1e-12, atol=0):
            return False
    return True


register(
    "12.3",
    "Write e07_readings(y, y_hat) -> (mean of -y log y_hat, binary cross-entropy), natural "
    "logarithms, averaged over the entries.",
    _check_e07,
    hint="Both are means over the entries (divide by len(y)); the binary one adds "
         "(1 - y) log(1 - y_hat) to y log y_hat before the minus sign. Natural log (np.log).",
    reference=lambda: _e07_readings,
    wrong_answers=[
        lambda: (lambda y, p: (float(np.sum(-np.asarray(y) * np.log(p))),       # sums
                               float(np.sum(-(np.asarray(y) * np.log(p)
                                              + (1 - np.asarray(y)) * np.log(1 - np.asarray(p))))))),
        lambda: (lambda y, p: (float(np.mean(-np.asarray(y) * np.log10(p))),    # log10
                               float(np.mean(-(np.asarray(y) * np.log10(p) + (1 - np.asarray(y))
                                               * np.log10(1 - np.asarray(p))))))),
        lambda: (lambda y, p: (float(np.mean(-np.asarray(y) * np.log(p))),) * 2),
    ],
    solution_text="ce = mean(-y * log(p)); bce = mean(-(y log p + (1 - y) log(1 - p))). On E07's "
                  "data: 0.4287 and 0.8574; neither is 0.613.",
)
