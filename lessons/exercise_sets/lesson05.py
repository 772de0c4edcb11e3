"""Exercises of lesson 05 (optimizers)."""
from __future__ import annotations

import numpy as np

from exercises import register

CURV = np.array([0.04, 4.0])
_c, _s = np.cos(np.pi / 4), np.sin(np.pi / 4)
R = np.array([[_c, -_s], [_s, _c]])


def _f_rot(theta):
    v = R @ np.asarray(theta, dtype=float)
    return 0.5 * float(CURV @ (v * v))


def _check_rotated(f):
    import minigrad as mg
    rng = np.random.default_rng(8)
    for _ in range(4):
        th = rng.standard_normal(2) * 3
        value = f(mg.Tensor(th, dtype="float64"))
        value = value.item() if hasattr(value, "item") else float(value)
        if not np.isclose(value, _f_rot(th), rtol=1e-10):
            return False
    return True


def _rotated_reference(p):
    import minigrad as mg
    v = mg.Tensor(R, dtype=p.dtype) @ p
    return 0.5 * (mg.Tensor(CURV, dtype=p.dtype) * v * v).sum()


def _unrotated(p):
    import minigrad as mg
    return 0.5 * (mg.Tensor(CURV, dtype=p.dtype) * p * p).sum()


register(
    "05.1",
    "Write rotated_surface(p) = 1/2 (R p)^T diag(0.04, 4) (R p) with R the rotation by 45 "
    "degrees, for a Tensor p = [x, y] (it must work with backward()).",
    checker=_check_rotated,
    hint="v = R @ p with R = [[cos, -sin], [sin, cos]] at pi/4; then as `surface` with v.",
    reference=lambda: _rotated_reference,
    wrong_answers=[lambda: _unrotated],
    solution_text="Race the optimizers on it: momentum keeps its rate sqrt(mu), RMSprop and "
                  "Adam lose most of their advantage because they rescale coordinates, and the "
                  "valley's axes are no longer the coordinate axes.",
)

register(
    "05.2",
    "For SGD on the valley (curvatures 0.04 and 4), give (alpha_star, rate): the best "
    "constant learning rate and the contraction per step it gives.",
    checker=lambda ans: np.allclose(np.asarray(ans, dtype=float),
                                    [2 / (0.04 + 4.0), (100 - 1) / (100 + 1)], rtol=1e-3),
    hint="Balance |1 - alpha lambda_min| = |1 - alpha lambda_max|; kappa = 4 / 0.04.",
    reference=lambda: (2 / 4.04, 99 / 101),
    wrong_answers=[lambda: (0.5, 0.98), lambda: (0.3, 0.988), lambda: (2 / 4.04, 0.988)],
)


def _adam_eps1_step(g=1e-3, alpha=1e-3, eps=1.0):
    return alpha * g / (g + eps)          # steady state: m -> g, sqrt(v) -> |g|


register(
    "05.3",
    "Adam with eps = 1, g = 1e-3, alpha = 1e-3: the step size once the averages have settled.",
    checker=lambda ans: np.isclose(float(ans), _adam_eps1_step(), rtol=0.01),
    hint="The step is alpha * m_hat / (sqrt(v_hat) + eps) with m_hat -> g and sqrt(v_hat) -> |g|.",
    reference=_adam_eps1_step,
    wrong_answers=[lambda: 1e-3, lambda: 1e-3 * 1e-3 / 1e-3],
    solution_text="About alpha * g = 1e-6: with eps much larger than |g| Adam is plain SGD "
                  "with learning rate alpha / eps; the step is no longer scale-free.",
)
