"""Every optimiser actually optimises: an ill-conditioned quadratic and the
Rosenbrock valley. Plus Adam's bias correction seen in its first steps (F19)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import optim
from conftest import host

OPTIMIZERS = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.1), lambda ps: optim.SGD(ps, lr=1e-3)),
    "momentum": (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
                 lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9)),
    "nesterov": (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
                 lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9, nesterov=True)),
    "rmsprop": (lambda ps: optim.RMSprop(ps, lr=0.01), lambda ps: optim.RMSprop(ps, lr=3e-3)),
    "adam": (lambda ps: optim.Adam(ps, lr=0.05), lambda ps: optim.Adam(ps, lr=2e-2)),
    "adam-uncorrected": (lambda ps: optim.Adam(ps, lr=0.05, bias_correction=False),
                         lambda ps: optim.Adam(ps, lr=2e-2, bias_correction=False)),
    "adamw": (lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=1e-4),
              lambda ps: optim.AdamW(ps, lr=2e-2, weight_decay=1e-5)),
}
# Rosenbrock after 2000 steps from (-1.5, 2), where f = 12.5 (plain SGD crawls along the valley)
ROSEN_MAX = {"sgd": 0.5, "rmsprop": 0.05}


def _quadratic(d=6, seed=0):
    """J(θ) = ½ θᵀAθ − bᵀθ, eigenvalues of A from 1 to 10 (condition number 10)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    A = q @ np.diag(np.linspace(1.0, 10.0, d)) @ q.T
    b = rng.normal(size=d)
    theta_star = np.linalg.solve(A, b)
    J_star = -0.5 * b @ theta_star
    return A, b, theta_star, J_star


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_reduces_an_ill_conditioned_quadratic(device, name):
    A, b, theta_star, J_star = _quadratic()
    At, bt = mg.Tensor(A, device=device), mg.Tensor(b, device=device)
    theta = mg.Parameter(np.zeros(len(b)), device=device)
    opt = OPTIMIZERS[name][0]([theta])

    def J():
        return 0.5 * (theta * (At @ theta)).sum() - (bt * theta).sum()

    gap0 = J().item() - J_star
    for _ in range(400):
        opt.zero_grad()
        J().backward()
        opt.step()
    gap = J().item() - J_star
    assert gap < 1e-3 * gap0, f"{name}: J − J* went from {gap0:.3g} to {gap:.3g}"
    assert np.linalg.norm(host(theta) - theta_star) < 0.05 * np.linalg.norm(theta_star)


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_reduces_rosenbrock(name):
    p = mg.Parameter(np.array([-1.5, 2.0]))
    opt = OPTIMIZERS[name][1]([p])
    f0 = rosenbrock(p).item()
    assert f0 == pytest.approx(12.5)
    for _ in range(2000):
        opt.zero_grad()
        rosenbrock(p).backward()
        opt.step()
    f = rosenbrock(p).item()
    assert f < ROSEN_MAX.get(name, 1e-3), f"{name}: f went from {f0} to {f}"


# -- F19: what bias correction does to the first steps -------------------------------------
G = np.array([3.0, -0.02, 1e-3, -50.0, 0.7])


def _adam_steps(bias_correction, grads, lr=1e-3):
    p = mg.Parameter(np.zeros_like(grads[0]))
    opt = optim.Adam([p], lr=lr, bias_correction=bias_correction)
    steps, prev = [], host(p).copy()
    for g in grads:
        p.grad = mg.Tensor(g.copy())
        opt.step()
        now = host(p).copy()
        steps.append(now - prev)
        prev = now
    return steps


def test_first_corrected_adam_step_is_lr_times_sign():
    """m̂_1 = g, v̂_1 = g²  ⇒  Δθ = −α g/(|g| + ε) ≈ −α sign(g), whatever the scale of g."""
    lr = 1e-3
    (step,) = _adam_steps(True, [G], lr)
    np.testing.assert_allclose(step, -lr * np.sign(G), rtol=1e-4)
    np.testing.assert_allclose(step, -lr * G / (np.abs(G) + 1e-8), rtol=1e-12)


def test_first_uncorrected_adam_step_is_scaled_by_the_betas():
    """m_1 = (1−β1) g, v_1 = (1−β2) g²  ⇒  Δθ ≈ −α (1−β1)/√(1−β2) sign(g) ≈ −3.16 α sign(g)."""
    lr, b1, b2 = 1e-3, 0.9, 0.999
    (step,) = _adam_steps(False, [G], lr)
    factor = (1 - b1) / math.sqrt(1 - b2)
    assert factor == pytest.approx(3.1623, abs=1e-4)
    np.testing.assert_allclose(step, -lr * factor * np.sign(G), rtol=1e-3)  # ε/(√(1−β2)|g|) ≤ 3e-4
    exact = -lr * (1 - b1) * G / (math.sqrt(1 - b2) * np.abs(G) + 1e-8)
    np.testing.assert_allclose(step, exact, rtol=1e-12)


def test_with_a_constant_gradient_only_the_uncorrected_steps_drift():
    """Constant g: corrected steps are α·sign(g) every time; uncorrected ones are
    α (1−β1^t)/√(1−β2^t) · sign(g) -- different early, converging to α as t → ∞."""
    lr, b1, b2, T = 1e-3, 0.9, 0.999, 6
    corrected = _adam_steps(True, [G] * T, lr)
    uncorrected = _adam_steps(False, [G] * T, lr)
    for t in range(1, T + 1):
        np.testing.assert_allclose(corrected[t - 1], -lr * np.sign(G), rtol=1e-4)
        ratio = (1 - b1 ** t) / math.sqrt(1 - b2 ** t)
        np.testing.assert_allclose(uncorrected[t - 1], -lr * ratio * np.sign(G), rtol=1e-3)
        assert abs(ratio - 1.0) > 0.5                       # clearly different early on
    assert (1 - b1 ** 20000) / math.sqrt(1 - b2 ** 20000) == pytest.approx(1.0, abs=1e-8)
