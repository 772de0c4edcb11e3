"""Lesson 09 (attention): exercises, checkers and reference solutions."""
from __future__ import annotations

import math

import numpy as np

from exercises import register


def _softmax(s, axis=-1):
    e = np.exp(s - np.max(s, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------
# 09.1  the softmax's Jacobian, and saturation
# ---------------------------------------------------------------------------
def _softmax_jacobian(s):
    a = _softmax(np.asarray(s, dtype=float))
    return np.diag(a) - np.outer(a, a)


def _check_jacobian(answer) -> bool:
    rng = np.random.default_rng(9)
    for s in (rng.standard_normal(5), 3 * rng.standard_normal(7), np.array([0.2, -0.1])):
        h, n = 1e-6, len(s)
        numeric = np.empty((n, n))
        for col in range(n):                      # central differences, column by column
            e = np.zeros(n)
            e[col] = h
            numeric[:, col] = (_softmax(s + e) - _softmax(s - e)) / (2 * h)
        got = np.asarray(answer(s), dtype=float)
        if got.shape != (n, n) or not np.allclose(got, numeric, rtol=1e-6, atol=1e-9):
            return False
    return True


register(
    "09.1",
    "Write softmax_jacobian(s) -> the (n, n) matrix d softmax(s)_j / d s_l. Evaluate it at "
    "the scores of a saturated row (one score 30 larger than the rest): what is left?",
    _check_jacobian,
    hint="d a_j / d s_l = a_j ([j = l] - a_l): a diagonal matrix of a minus the outer "
         "product a a^T.",
    reference=lambda: _softmax_jacobian,
    wrong_answers=[lambda: (lambda s: np.diag(_softmax(s))),
                   lambda: (lambda s: np.diag(_softmax(s) * (1 - _softmax(s)))),
                   lambda: (lambda s: np.outer(_softmax(s), _softmax(s)) - np.diag(_softmax(s)))],
    solution_text="a = softmax(s); J = np.diag(a) - np.outer(a, a). When one weight is ~1 and "
                  "the others ~0, every entry of J is ~0: a saturated softmax passes (almost) "
                  "no gradient to its scores, which is why unscaled scores at d_k = 512 train "
                  "badly.",
)


# ---------------------------------------------------------------------------
# 09.2  permutation equivariance
# ---------------------------------------------------------------------------
def _is_equivariant(f, X, perm):
    return bool(np.allclose(f(X[perm]), f(X)[perm], rtol=1e-10, atol=1e-12))


def _self_attention(X):
    return _softmax(X @ X.T / math.sqrt(X.shape[1])) @ X


def _causal_attention(X):
    T = X.shape[0]
    s = X @ X.T / math.sqrt(X.shape[1])
    s = np.where(np.triu(np.ones((T, T), bool), 1), -np.inf, s)
    return _softmax(s) @ X


def _check_equivariance(answer) -> bool:
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 4))
    perm = np.array([3, 0, 5, 1, 4, 2])
    cases = [(_self_attention, True), (np.tanh, True), (_causal_attention, False),
             (lambda A: np.cumsum(A, axis=0), False),
             (lambda A: A + np.arange(A.shape[0])[:, None], False)]     # positions added
    return all(bool(answer(f, X, perm)) == want for f, want in cases)


register(
    "09.2",
    "Write is_equivariant(f, X, perm) -> True when permuting the rows of X permutes the rows "
    "of f(X) the same way: f(X[perm]) == f(X)[perm].",
    _check_equivariance,
    hint="Compare f applied to the permuted input with the permuted output (np.allclose), not "
         "with the unpermuted output (that would be invariance).",
    reference=lambda: _is_equivariant,
    wrong_answers=[lambda: (lambda f, X, perm: bool(np.allclose(f(X[perm]), f(X)))),
                   lambda: (lambda f, X, perm: True)],
    solution_text="np.allclose(f(X[perm]), f(X)[perm]). Self-attention without masks is "
                  "equivariant (P X gives P A P^T as weights and P A X as output), so it cannot "
                  "tell word order: a transformer adds positional encodings (lesson 10). A "
                  "causal mask, or added positions, break the symmetry.",
)


# ---------------------------------------------------------------------------
# 09.3  E10 with Q and K swapped
# ---------------------------------------------------------------------------
def _e10_swapped():
    q, k, v = np.array([4.0, 5.0, 6.0]), np.array([1.0, 2.0, 3.0]), np.array([7.0, 8.0, 9.0])
    return _softmax(np.outer(q, k) / math.sqrt(3)) @ v


def _check_e10_swapped(answer) -> bool:
    want = []
    for q in (4.0, 5.0, 6.0):                  # token by token, in plain Python
        scores = [q * kj / math.sqrt(3) for kj in (1.0, 2.0, 3.0)]
        top = max(scores)
        e = [math.exp(x - top) for x in scores]
        want.append(sum(w * vj for w, vj in zip(e, (7.0, 8.0, 9.0))) / sum(e))
    got = np.asarray(answer, dtype=float).ravel()
    return got.shape == (3,) and np.allclose(got, want, rtol=0, atol=1e-9)


register(
    "09.3",
    "E10 with Q and K swapped (Q = [4, 5, 6], K = [1, 2, 3], V = [7, 8, 9]; three tokens with "
    "one feature, scores q_i k_j / sqrt(3)): give the three outputs.",
    _check_e10_swapped,
    hint="Read them as lesson 09 section 5 does: tokens with 1-d features, Q pre-scaled by "
         "1/sqrt(3); every output is a weighted average of 7, 8, 9.",
    reference=_e10_swapped,
    wrong_answers=[lambda: np.array([8.3650, 8.6368, 8.8018]),        # the unswapped E10
                   lambda: _softmax(np.outer([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])) @ [7.0, 8.0, 9.0],
                   lambda: np.array([1.6303, 3.3544, 4.0356])],        # the document's
    solution_text="softmax(outer([4,5,6], [1,2,3]) / sqrt(3)) @ [7,8,9]. Every output changes "
                  "(the queries are larger, so the weights lean harder on the key 3, i.e. on "
                  "the value 9); each output stays within [7, 9] because the weights are "
                  "non-negative and sum to 1, whatever the scores.",
)
