"""Exercises of lesson 03 (activations and gradient flow)."""
from __future__ import annotations

import numpy as np

from exercises import register

register(
    "03.1",
    "The rescaled sigmoid 2 sigma(x) - 1 has derivative at most 1/2. With gain-1 weights, "
    "what upper bound does that put on |dL/dh_1| / |dL/dh_20| (19 layers of factors)?",
    checker=lambda ans: np.isclose(float(ans), 0.5 ** 19, rtol=0.02),
    hint="Each layer multiplies by at most max f' (times about `gain` = 1 for W^T).",
    reference=lambda: 0.5 ** 19,
    wrong_answers=[lambda: 0.25 ** 19, lambda: 0.5 ** 20, lambda: 0.5],
    solution_text="0.5**19 = 1.9e-6: better than the sigmoid's 4**-19 = 3.6e-12 but still "
                  "vanishing. (2 sigma(x) - 1 = tanh(x/2).)",
)


class _P:
    """A stand-in parameter: only .grad.data is touched."""

    def __init__(self, g):
        self.grad = type("G", (), {"data": g})()


def _check_clip_entries(fn):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((4, 3)) * 5, rng.standard_normal(6) * 0.3]
    params = [_P(g.copy()) for g in grads]
    fn(params, 1.0)
    return all(np.array_equal(p.grad.data, np.clip(g, -1.0, 1.0))
               for p, g in zip(params, grads))


def _clip_entries(params, c):
    for p in params:
        np.clip(p.grad.data, -c, c, out=p.grad.data)


def _clip_global(params, c):
    total = np.sqrt(sum((p.grad.data ** 2).sum() for p in params))
    for p in params:
        p.grad.data *= min(1.0, c / total)


register(
    "03.2",
    "Write clip_entries_(params, c): clip every gradient entry to [-c, c] in place.",
    checker=_check_clip_entries,
    hint="np.clip(p.grad.data, -c, c, out=p.grad.data) for each parameter.",
    reference=lambda: _clip_entries,
    wrong_answers=[lambda: _clip_global, lambda: (lambda params, c: None)],
    solution_text="Per-entry clipping changes the direction (the cosine with the original "
                  "gradient drops below 1); global-norm clipping only shortens it.",
)


def _relu_ratio(gain, depth=20, width=32, batch=64):
    """|dL/dh_1| / |dL/dh_20| of the lesson's 20-layer ReLU net, computed in plain NumPy."""
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((width, width)) * gain / np.sqrt(width) for _ in range(depth)]
    x = np.random.default_rng(1).standard_normal((batch, width))
    target = np.random.default_rng(2).standard_normal((batch, width))
    hs, zs = [], []
    h = x
    for W in Ws:
        z = h @ W
        h = np.maximum(z, 0)
        zs.append(z)
        hs.append(h)
    g = 2 * (hs[-1] - target) / hs[-1].size          # dL/dh_20 for L = mean((h - t)^2)
    norms = [np.linalg.norm(g)]
    for l in range(depth - 1, 0, -1):
        g = (g * (zs[l] > 0)) @ Ws[l].T              # dL/dh_{l}
        norms.append(np.linalg.norm(g))
    return norms[-1] / norms[0]


def _balanced_gain():
    lo, hi = 1.0, 2.5
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _relu_ratio(mid) < 1 else (lo, mid)
    return 0.5 * (lo + hi)


register(
    "03.3",
    "Find the gain at which |dL/dh_1| = |dL/dh_20| in the 20-layer ReLU net of section 3 "
    "(quick-mode width 32, batch 64; to about 2 decimals).",
    checker=lambda ans: abs(float(ans) - _balanced_gain()) < 0.02,
    hint="Bisect: compute the ratio for a gain, go up when it is below 1, down when above.",
    reference=_balanced_gain,
    wrong_answers=[lambda: 1.0, lambda: 1.5 * np.sqrt(2.0), lambda: _balanced_gain() + 0.1],
    solution_text="Close to sqrt(2) but not equal: at width 32 the fraction of active units and "
                  "the norm of W^T fluctuate, and the last layer's gradient also depends on "
                  "the loss.",
)
