"""The documents' worked examples on gradient descent (E04, E08) and the
mini-batch formula F16, recomputed with minigrad autograd + optim.SGD."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import optim
from conftest import host


def test_e04_one_gd_step(device):
    """E04: J(w) = (w − 1)², η = 0.1, w = 2: ∇J = 2(w − 1) = 2 and w → 1.8."""
    w = mg.Parameter(np.array(2.0), device=device)
    opt = optim.SGD([w], lr=0.1)
    loss = (w - 1.0) ** 2
    loss.backward()
    assert w.grad.item() == pytest.approx(2.0)
    opt.step()
    assert w.item() == pytest.approx(1.8, abs=1e-12)


def test_e04_the_documents_sign_slip_would_climb():
    """F15 as D1 writes it: Δw = −η∇J, then w = w − Δw = w + η∇J = 2.2 (uphill).
    The correct increment form is w = w + Δw = 1.8, the same as SGD."""
    w = mg.Parameter(np.array(2.0))
    ((w - 1.0) ** 2).backward()
    eta, g = 0.1, w.grad.item()
    delta = -eta * g
    assert 2.0 - delta == pytest.approx(2.2)          # the document's rule
    assert 2.0 + delta == pytest.approx(1.8)          # F15 fixed
    loss_before = (2.0 - 1.0) ** 2
    assert (2.2 - 1.0) ** 2 > loss_before > (1.8 - 1.0) ** 2


def test_e04_many_steps_converge_to_the_minimum():
    w = mg.Parameter(np.array(2.0))
    opt = optim.SGD([w], lr=0.1)
    for k in range(1, 51):
        opt.zero_grad()
        ((w - 1.0) ** 2).backward()
        opt.step()
        # closed form: w_k − 1 = (1 − 2η)^k (w_0 − 1) = 0.8^k
        assert w.item() - 1.0 == pytest.approx(0.8 ** k, rel=1e-9)


def test_e08_theta_at_the_minimum_stays_put(device):
    """E08: θ = [1, 2], J = (θ1 − 1)² + (θ2 − 2)², α = 0.1. θ is J's minimum, so
    ∇J = [0, 0] and the step leaves θ = [1, 2]. The document's ∇J = [−2, −2]
    and θ → [1.2, 1.8] are wrong."""
    theta = mg.Parameter(np.array([1.0, 2.0]), device=device)
    target = mg.Tensor(np.array([1.0, 2.0]), device=device)
    opt = optim.SGD([theta], lr=0.1)
    J = ((theta - target) ** 2).sum()
    J.backward()
    np.testing.assert_array_equal(host(theta.grad), [0.0, 0.0])
    opt.step()
    np.testing.assert_array_equal(host(theta), [1.0, 2.0])
    assert not np.allclose(host(theta), [1.2, 1.8])


def test_e08_the_documents_numbers_need_a_different_start():
    """Where [1.2, 1.8] *would* come from: ∇J = [−2, −2] needs θ = [0, 1], and
    then θ − 0.1·∇J = [0.2, 1.2], still not [1.2, 1.8]. No single reading fits."""
    theta = mg.Parameter(np.array([0.0, 1.0]))
    J = ((theta - mg.Tensor(np.array([1.0, 2.0]))) ** 2).sum()
    J.backward()
    np.testing.assert_allclose(host(theta.grad), [-2.0, -2.0])
    optim.SGD([theta], lr=0.1).step()
    np.testing.assert_allclose(host(theta), [0.2, 1.2])


def test_f16_batch_mean_gradient_is_mean_of_example_gradients(device):
    """F16: the gradient of the mean loss over m examples equals (1/m) Σ_i ∇J(w; x_i, y_i),
    so one SGD step on the batch mean is the F16 mini-batch step."""
    rng = np.random.default_rng(3)
    m, d = 7, 4
    X, y = rng.normal(size=(m, d)), rng.normal(size=m)
    w0 = rng.normal(size=d)

    def loss(w, xs, ys):
        r = xs @ w - ys
        return (r * r).mean()

    w = mg.Parameter(w0.copy(), device=device)
    loss(w, mg.Tensor(X, device=device), mg.Tensor(y, device=device)).backward()
    batch_grad = host(w.grad)
    per_example = []
    for i in range(m):
        wi = mg.Parameter(w0.copy(), device=device)
        xi, yi = mg.Tensor(X[i:i + 1], device=device), mg.Tensor(y[i:i + 1], device=device)
        loss(wi, xi, yi).backward()
        per_example.append(host(wi.grad))
    np.testing.assert_allclose(batch_grad, np.mean(per_example, axis=0), rtol=1e-12, atol=1e-14)
    # and against the analytic gradient (2/m) Xᵀ(Xw − y)
    np.testing.assert_allclose(batch_grad, 2.0 / m * X.T @ (X @ w0 - y), rtol=1e-12)
    # the step is w ← w − α (1/m) Σ ∇J_i
    optim.SGD([w], lr=0.05).step()
    np.testing.assert_allclose(host(w), w0 - 0.05 * np.mean(per_example, axis=0), rtol=1e-12)
