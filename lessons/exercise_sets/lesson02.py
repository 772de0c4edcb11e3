"""Exercises of lesson 02 (backprop by hand vs autograd)."""
from __future__ import annotations

import numpy as np

from exercises import register


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _backprop3(params, x, y):
    """Reference: three sigmoid layers, J = 1/2 sum (y - a4)^2; returns dJ/d(each param)."""
    W1, b1, W2, b2, W3, b3 = params
    a2 = _sigmoid(W1 @ x + b1)
    a3 = _sigmoid(W2 @ a2 + b2)
    a4 = _sigmoid(W3 @ a3 + b3)
    d4 = a4 * (1 - a4) * (y - a4)
    d3 = a3 * (1 - a3) * (W3.T @ d4)
    d2 = a2 * (1 - a2) * (W2.T @ d3)
    return (-d2 @ x.T, -d2.sum(1, keepdims=True), -d3 @ a2.T, -d3.sum(1, keepdims=True),
            -d4 @ a3.T, -d4.sum(1, keepdims=True))


def _numerical(params, x, y, eps=1e-6):
    """Central differences of J: the checker's independent witness."""
    def J(ps):
        W1, b1, W2, b2, W3, b3 = ps
        a4 = _sigmoid(W3 @ _sigmoid(W2 @ _sigmoid(W1 @ x + b1) + b2) + b3)
        return 0.5 * np.sum((y - a4) ** 2)
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            plus = [q.copy() for q in params]
            minus = [q.copy() for q in params]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (J(plus) - J(minus)) / (2 * eps)
        grads.append(g)
    return grads


def _check_backprop3(fn):
    rng = np.random.default_rng(7)
    sizes = [3, 4, 4, 2]
    params = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        params += [rng.standard_normal((n, m)), rng.standard_normal((n, 1))]
    x, y = rng.standard_normal((3, 5)), rng.random((2, 5))
    got = fn([p.copy() for p in params], x, y)
    want = _numerical(params, x, y)
    return len(got) == 6 and all(np.allclose(g, w, rtol=1e-5, atol=1e-8)
                                 for g, w in zip(got, want))


def _forgot_sigmoid_derivative(params, x, y):
    W1, b1, W2, b2, W3, b3 = params
    a2 = _sigmoid(W1 @ x + b1)
    a3 = _sigmoid(W2 @ a2 + b2)
    a4 = _sigmoid(W3 @ a3 + b3)
    d4 = a4 * (1 - a4) * (y - a4)
    d3 = W3.T @ d4                              # missing a3 (1 - a3)
    d2 = W2.T @ d3
    return (-d2 @ x.T, -d2.sum(1, keepdims=True), -d3 @ a2.T, -d3.sum(1, keepdims=True),
            -d4 @ a3.T, -d4.sum(1, keepdims=True))


register(
    "02.1",
    "Write backprop_by_hand3(params, x, y) for three sigmoid layers "
    "(params = [W1, b1, W2, b2, W3, b3], columns are examples, J = 1/2 sum (y - a4)^2); "
    "return dJ/dW1, dJ/db1, dJ/dW2, dJ/db2, dJ/dW3, dJ/db3.",
    checker=_check_backprop3,
    hint="delta4 = a4(1-a4)(y-a4); each lower delta is a(1-a) * (W_above^T delta_above) (F23).",
    reference=lambda: _backprop3,
    wrong_answers=[lambda: _forgot_sigmoid_derivative],
)


def _e06_first_drop(x=1.0, eta=0.01):
    W1 = W2 = 0.5
    b1 = b2 = 0.0
    a2 = _sigmoid(W1 * x + b1)
    a3 = _sigmoid(W2 * a2 + b2)
    d3 = a3 * (1 - a3) * (0.0 - a3)
    d2 = a2 * (1 - a2) * W2 * d3
    W2n, b2n = W2 + eta * d3 * a2, b2 + eta * d3
    W1n, b1n = W1 + eta * d2 * x, b1 + eta * d2
    return a3 - _sigmoid(W2n * _sigmoid(W1n * x + b1n) + b2n)


register(
    "02.2",
    "Rerun E06 with x = 1: how much does a3 fall in the first step (a3 before minus a3 after)?",
    checker=lambda ans: abs(float(ans) - _e06_first_drop()) < 1e-3 * abs(_e06_first_drop()),
    hint="Same loop as section 3 with x_e06 = 1.0: a3_trajectory[0] - a3_trajectory[1].",
    reference=_e06_first_drop,
    wrong_answers=[lambda: 0.01, lambda: _e06_first_drop(x=0.0)],
    solution_text="About 4.9e-4 (4.3e-4 with x = 0): now W1 and b1 move too, but the drop is still some 20 times "
                  "smaller than the document's 0.01, so no input reproduces 0.5 -> 0.49.",
)


register(
    "02.3",
    "With binary cross-entropy J = -sum[y log a3 + (1-y) log(1-a3)] instead of the half sum "
    "of squares, write output_delta(a3, y) = -dJ/dz3.",
    checker=lambda f: all(np.allclose(f(a, y), y - a) for a, y in
                          [(np.array([[0.2, 0.7]]), np.array([[1.0, 0.0]])),
                           (np.array([[0.9], [0.4]]), np.array([[0.0], [1.0]]))]),
    hint="dJ/da3 = (a3 - y) / (a3 (1 - a3)); multiply by sigma'(z3) = a3 (1 - a3) (E05).",
    reference=lambda: (lambda a3, y: y - a3),
    wrong_answers=[lambda: (lambda a3, y: a3 * (1 - a3) * (y - a3)),
                   lambda: (lambda a3, y: (1 - a3) * (y - a3))],
    solution_text="delta3 = y - a3: the a3(1 - a3) of the sigmoid cancels against the "
                  "denominator of dJ/da3; delta2 keeps its a2(1 - a2) factor.",
)
