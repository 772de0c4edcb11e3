"""Lesson 08 (RNN and LSTM): exercises, checkers and reference solutions."""
from __future__ import annotations

import numpy as np

from exercises import register


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------------------
# 08.1  the forget gate of one step
# ---------------------------------------------------------------------------
def _forget_gate(x, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[-1]
    pre = x @ W_ih.T + h @ W_hh.T + b_ih + b_hh
    return _sigmoid(pre[..., H:2 * H])


def _gate_rows(k, with_hh_bias=True):
    def gate(x, h, W_ih, W_hh, b_ih, b_hh):
        H = h.shape[-1]
        pre = x @ W_ih.T + h @ W_hh.T + b_ih + (b_hh if with_hh_bias else 0)
        return _sigmoid(pre[..., k * H:(k + 1) * H])
    return gate


def _check_forget_gate(answer) -> bool:
    rng = np.random.default_rng(11)
    B, D, H = 3, 5, 4
    x, h = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    W_ih, W_hh = rng.standard_normal((4 * H, D)), rng.standard_normal((4 * H, H))
    b_ih, b_hh = rng.standard_normal(4 * H), rng.standard_normal(4 * H)
    expected = np.empty((B, H))
    for row in range(B):                     # unit by unit, the forget rows H..2H-1
        for j in range(H):
            k = H + j
            z = x[row] @ W_ih[k] + h[row] @ W_hh[k] + b_ih[k] + b_hh[k]
            expected[row, j] = 1 / (1 + np.exp(-z))
    got = np.asarray(answer(x, h, W_ih, W_hh, b_ih, b_hh), dtype=float)
    return got.shape == (B, H) and np.allclose(got, expected, rtol=1e-12, atol=1e-14)


register(
    "08.1",
    "Write forget_gate(x, h, W_ih, W_hh, b_ih, b_hh) -> f_t (B, H) for one LSTM step, gate "
    "rows in the order i, f, g, o.",
    _check_forget_gate,
    hint="The forget gate's pre-activation is the second block of H columns of "
         "x W_ih^T + h W_hh^T + b_ih + b_hh (columns H..2H); then a sigmoid.",
    reference=lambda: _forget_gate,
    wrong_answers=[lambda: _gate_rows(0),                      # the input gate
                   lambda: _gate_rows(2),                      # the candidate's rows
                   lambda: _gate_rows(1, with_hh_bias=False)],  # b_hh forgotten
    solution_text="pre = x @ W_ih.T + h @ W_hh.T + b_ih + b_hh; "
                  "return 1 / (1 + np.exp(-pre[:, H:2*H]))  # H = h.shape[-1]",
)


# ---------------------------------------------------------------------------
# 08.2  early stopping
# ---------------------------------------------------------------------------
def _early_stop(val_losses, patience=3):
    best, since = 0, 0
    for k in range(1, len(val_losses)):
        if val_losses[k] < val_losses[best]:
            best, since = k, 0
        else:
            since += 1
            if since >= patience:
                break
    return best


def _check_early_stop(answer) -> bool:
    cases = [
        # falls, rises for good: best at 3
        ([3.0, 2.0, 1.5, 1.4, 1.45, 1.5, 1.6, 1.7], 3, 3),
        # a bump shorter than the patience, then a new best at 5
        ([3.0, 2.0, 2.1, 2.05, 1.9, 1.8, 1.85, 1.9, 2.0], 3, 5),
        # a lower value after patience ran out must not count: stop at 1
        ([2.0, 1.0, 1.2, 1.3, 0.5], 2, 1),
        # never stops improving: the last index
        ([5.0, 4.0, 3.0], 3, 2),
    ]
    return all(int(answer(list(v), p)) == want for v, p, want in cases)


register(
    "08.2",
    "Write early_stop(val_losses, patience): the index of the best validation loss seen "
    "before `patience` evaluations in a row fail to improve on it.",
    _check_early_stop,
    hint="Walk the list keeping the index of the best value so far and a counter of "
         "evaluations since it improved; stop (and return the best index) when the counter "
         "reaches patience. A later, lower value after stopping does not count.",
    reference=lambda: _early_stop,
    wrong_answers=[lambda: (lambda v, patience=3: int(np.argmin(v))),      # ignores patience
                   lambda: (lambda v, patience=3: next((k - 1 for k in range(1, len(v))
                                                        if v[k] > v[k - 1]), len(v) - 1))],
    solution_text="best, since = 0, 0\nfor k in range(1, len(v)):\n"
                  "    if v[k] < v[best]: best, since = k, 0\n"
                  "    else:\n        since += 1\n        if since >= patience: break\n"
                  "return best",
)


# ---------------------------------------------------------------------------
# 08.3  the RNN step's backward by hand
# ---------------------------------------------------------------------------
def _rnn_step_backward(x, h_prev, W_ih, W_hh, b, dh):
    h = np.tanh(x @ W_ih.T + h_prev @ W_hh.T + b)
    da = dh * (1 - h ** 2)
    return {"W_ih": da.T @ x, "W_hh": da.T @ h_prev, "b": da.sum(axis=0),
            "x": da @ W_ih, "h_prev": da @ W_hh}


def _rnn_no_tanh_derivative(x, h_prev, W_ih, W_hh, b, dh):
    return {"W_ih": dh.T @ x, "W_hh": dh.T @ h_prev, "b": dh.sum(axis=0),
            "x": dh @ W_ih, "h_prev": dh @ W_hh}


def _rnn_derivative_of_pre(x, h_prev, W_ih, W_hh, b, dh):   # 1 - a^2 of the pre-activation
    a = x @ W_ih.T + h_prev @ W_hh.T + b
    da = dh * (1 - a ** 2)
    return {"W_ih": da.T @ x, "W_hh": da.T @ h_prev, "b": da.sum(axis=0),
            "x": da @ W_ih, "h_prev": da @ W_hh}


def _check_rnn_backward(answer) -> bool:
    import minigrad as mg
    rng = np.random.default_rng(5)
    B, D, H = 3, 4, 5
    arrays = {"x": rng.standard_normal((B, D)), "h_prev": rng.standard_normal((B, H)),
              "W_ih": rng.standard_normal((H, D)) * 0.5, "W_hh": rng.standard_normal((H, H)) * 0.5,
              "b": rng.standard_normal(H)}
    dh = rng.standard_normal((B, H))
    t = {k: mg.Tensor(v, requires_grad=True) for k, v in arrays.items()}
    h = (t["x"] @ t["W_ih"].mT + t["h_prev"] @ t["W_hh"].mT + t["b"]).tanh()   # composed
    (h * mg.Tensor(dh)).sum().backward()
    got = answer(arrays["x"], arrays["h_prev"], arrays["W_ih"], arrays["W_hh"], arrays["b"], dh)
    return all(np.allclose(np.asarray(got[k]), t[k].grad.numpy(), rtol=1e-10, atol=1e-12)
               for k in arrays)


register(
    "08.3",
    "Write rnn_step_backward(x, h_prev, W_ih, W_hh, b, dh) -> dict of the gradients W_ih, "
    "W_hh, b, x, h_prev for h = tanh(x W_ih^T + h_prev W_hh^T + b).",
    _check_rnn_backward,
    hint="First back through tanh: da = dh * (1 - h**2), with h the cell's *output*. Then the "
         "same lines as the LSTM's last row: da^T x, da^T h_prev, the batch sum, da W_ih, da W_hh.",
    reference=lambda: _rnn_step_backward,
    wrong_answers=[lambda: _rnn_no_tanh_derivative, lambda: _rnn_derivative_of_pre],
    solution_text="h = tanh(x W_ih^T + h_prev W_hh^T + b); da = dh (1 - h^2);\n"
                  "dW_ih = da^T x, dW_hh = da^T h_prev, db = sum_batch da, dx = da W_ih, "
                  "dh_prev = da W_hh",
)
