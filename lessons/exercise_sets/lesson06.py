"""Exercises of lesson 06 (an MLP on real data)."""
from __future__ import annotations

import numpy as np

from exercises import register


def _check_standardise(f):
    rng = np.random.default_rng(9)
    train = rng.normal(5.0, 2.0, size=(20, 3))
    test = rng.normal(6.0, 1.0, size=(4, 3))
    want = (test - train.mean(axis=0)) / train.std(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        got = np.asarray(f(train.copy(), test.copy()), dtype=float)
        one = np.asarray(f(train.copy(), test[:1].copy()), dtype=float)   # one at a time
    return np.allclose(got, want) and np.allclose(one, want[:1])


register(
    "06.1",
    "Write standardise(X_train, X_test) returning the test set standardised the right way.",
    checker=_check_standardise,
    hint="Statistics come from the training set only, and are applied to every split.",
    reference=lambda: (lambda tr, te: (te - tr.mean(axis=0)) / tr.std(axis=0)),
    wrong_answers=[lambda: (lambda tr, te: (te - te.mean(axis=0)) / te.std(axis=0)),
                   lambda: (lambda tr, te: te)],
    solution_text="With the test set's own statistics a single test flower becomes 0/0 = nan, "
                  "and a deployed model sees one example at a time: the statistics are part of "
                  "the model, learned from the training data.",
)


def _check_macro_f1(f):
    from minigrad import metrics
    rng = np.random.default_rng(10)
    for _ in range(3):
        y, p = rng.integers(0, 4, 40), rng.integers(0, 4, 40)
        want = metrics.classification_report(y, p, num_classes=4)["macro_f1"]
        if not np.isclose(float(f(y, p, 4)), want, atol=1e-12):
            return False
    return True


def _macro_f1(y, p, k):
    f1 = []
    for c in range(k):
        tp = np.sum((y == c) & (p == c))
        prec = tp / max(np.sum(p == c), 1)
        rec = tp / max(np.sum(y == c), 1)
        f1.append(0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec))
    return float(np.mean(f1))


register(
    "06.2",
    "Write macro_f1(y_true, y_pred, num_classes) from the F32 definitions.",
    checker=_check_macro_f1,
    hint="Per class: precision = TP / predicted, recall = TP / true, F1 their harmonic mean; "
         "then the plain mean over classes.",
    reference=lambda: _macro_f1,
    wrong_answers=[lambda: (lambda y, p, k: float(np.mean(y == p)))],
)


def _head_fraction():
    hidden = 64 * 128 + 128
    head = 128 * 5 + 5
    return head / (hidden + head)


register(
    "06.3",
    "In X5's head-only fine-tuning of MLP([64, 128, 5]), what fraction of the parameters does "
    "the optimizer update?",
    checker=lambda ans: np.isclose(float(ans), _head_fraction(), rtol=1e-3),
    hint="Count weights and biases: Linear(64, 128) and Linear(128, 5).",
    reference=_head_fraction,
    wrong_answers=[lambda: 0.5, lambda: 128 * 5 / (64 * 128 + 128 * 5)],
    solution_text="645 of 8 965, about 7 %: few enough to fit from a handful of examples.",
)
