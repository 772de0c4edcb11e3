"""Exercises of lesson 04 (losses)."""
from __future__ import annotations

import numpy as np

from exercises import register


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _check_ce_grad(f):
    rng = np.random.default_rng(5)
    for _ in range(3):
        z, c = rng.standard_normal(4) * 3, int(rng.integers(4))
        ell = lambda v: np.log(np.exp(v - v.max()).sum()) + v.max() - v[c]
        num = np.array([(ell(z + 1e-6 * e) - ell(z - 1e-6 * e)) / 2e-6 for e in np.eye(4)])
        if not np.allclose(np.asarray(f(z.copy(), c), dtype=float), num, atol=1e-7):
            return False
    return True


register(
    "04.1",
    "Write grad_ce(z, c): the gradient of -log softmax(z)_c with respect to the vector z.",
    checker=_check_ce_grad,
    hint="From log sum_j e^{z_j} - z_c: the first term gives softmax(z)_j, the second -[j = c].",
    reference=lambda: (lambda z, c: _softmax(z) - np.eye(len(z))[c]),
    wrong_answers=[lambda: _softmax, lambda: (lambda z, c: np.eye(len(z))[c] - _softmax(z))],
)


def _first_nan_logit():
    with np.errstate(over="ignore", invalid="ignore"):
        for z in range(1, 1000):
            e = np.exp(np.float32([z, 0.0]))
            if np.isnan((e / e.sum())[0]):
                return z
    return None


register(
    "04.2",
    "In float32, the smallest integer z for which the naive softmax of [z, 0] returns nan.",
    checker=lambda ans: int(ans) == _first_nan_logit() and float(ans) == int(ans),
    hint="e^z overflows to inf when z > log(largest float32) = log(3.4e38); inf / inf = nan.",
    reference=_first_nan_logit,
    wrong_answers=[lambda: 710, lambda: 88],
    solution_text="89 (e^88.72 is the largest float32); the stable softmax returns [1, 0].",
)


def _check_mse(f):
    import minigrad as mg
    rng = np.random.default_rng(6)
    p, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    pred = mg.Tensor(p, dtype="float64", requires_grad=True)
    loss = f(pred, mg.Tensor(t, dtype="float64"))
    loss.backward()
    return (np.isclose(loss.item(), np.mean((p - t) ** 2))
            and np.allclose(pred.grad.numpy(), 2 * (p - t) / p.size))


register(
    "04.3",
    "Write my_mse(pred, target) from minigrad primitives (-, **, mean).",
    checker=_check_mse,
    hint="((pred - target) ** 2).mean(); its gradient is 2 (pred - target) / N.",
    reference=lambda: (lambda pred, target: ((pred - target) ** 2).mean()),
    wrong_answers=[lambda: (lambda pred, target: ((pred - target) ** 2).sum()),
                   lambda: (lambda pred, target: 0.5 * ((pred - target) ** 2).mean())],
)
