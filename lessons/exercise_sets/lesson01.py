"""Exercises of lesson 01 (tensors and the computation graph)."""
from __future__ import annotations

import numpy as np

from exercises import register

X = np.array([[1.0], [2.0]])
W1 = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
b = np.ones((3, 1))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _e01_sigmoid():
    H = _sigmoid(W1 @ X + b)
    return H, (H * (1 - H)) @ X.T          # dL/dW1 = (dL/dA) X^T with dL/dA = s(1-s)


def _close_pair(answer, expected):
    H, dW = (np.asarray(a, dtype=float) for a in answer)
    return (H.shape == (3, 1) and dW.shape == (3, 2)
            and np.allclose(H, expected[0], rtol=1e-6, atol=1e-9)
            and np.allclose(dW, expected[1], rtol=1e-6, atol=1e-9))


register(
    "01.1",
    "E01 with the sigmoid instead of ReLU, L = sum(H): give (H, dL/dW1) as arrays of "
    "shapes (3, 1) and (3, 2).",
    checker=lambda ans: _close_pair(ans, _e01_sigmoid()),
    hint="A = W1 X + b = [6, 12, 18]^T; dL/dA = sigma(A)(1 - sigma(A)); dL/dW1 = (dL/dA) X^T.",
    reference=_e01_sigmoid,
    wrong_answers=[lambda: (np.array([[6.0], [12.0], [18.0]]), np.array([[1.0, 2.0]] * 3)),
                   lambda: (_e01_sigmoid()[0], _e01_sigmoid()[1].T.reshape(3, 2) * 0 + 1)],
    solution_text="H = sigma(W1 X + b); dL/dW1 = (H * (1 - H)) @ X.T -- almost zero, because "
                  "the sigmoid is saturated at 6, 12 and 18.",
)


def _db_squared():
    H = np.maximum(W1 @ X + b, 0)
    return 2 * H                             # d(sum H^2)/db = 2 H * [A > 0]


register(
    "01.2",
    "In section 4 use L = (H * H).sum(): give dL/db (a (3, 1) array).",
    checker=lambda ans: np.asarray(ans, dtype=float).shape == (3, 1)
    and np.allclose(np.asarray(ans, dtype=float), _db_squared()),
    hint="dL/dH = 2H; ReLU passes it where A > 0 (everywhere here); the bias gets dL/dA.",
    reference=_db_squared,
    wrong_answers=[lambda: np.ones((3, 1)), lambda: np.array([[6.0], [12.0], [18.0]])],
    solution_text="dL/db = 2H = [12, 24, 36]^T.",
)


def _w_used_twice():
    return 2 * np.ones((3, 1)) @ X.T


register(
    "01.3",
    "L = (W1 @ X + W1 @ X).sum(): give W1.grad (a (3, 2) array).",
    checker=lambda ans: np.asarray(ans, dtype=float).shape == (3, 2)
    and np.allclose(np.asarray(ans, dtype=float), _w_used_twice()),
    hint="Each use of W1 sends its own gradient; the backward loop adds the two "
         "(look for `grads[key] = have + ig` in _run_backward).",
    reference=_w_used_twice,
    wrong_answers=[lambda: np.ones((3, 1)) @ X.T, lambda: np.ones((3, 2))],
    solution_text="Every row is 2 X^T = [2, 4]: two contributions of [1, 2] each, summed in "
                  "minigrad/autograd.py, _run_backward.",
)
