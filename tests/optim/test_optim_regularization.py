"""F20: L1/L2 penalties (differentiable), weight decay = L2, gradient clipping."""
from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import optim
from conftest import host


def _params(device, dtype="float64"):
    rng = np.random.default_rng(1)
    return [mg.Parameter(rng.normal(size=s).astype(dtype), device=device)
            for s in [(), (3,), (2, 5)]]


def test_penalties_values_and_gradients(device):
    ps = _params(device)
    values = [host(p) for p in ps]
    l2 = optim.l2_penalty(ps)
    l1 = optim.l1_penalty(ps)
    assert l2.item() == pytest.approx(sum(float((v ** 2).sum()) for v in values), rel=1e-12)
    assert l1.item() == pytest.approx(sum(float(np.abs(v).sum()) for v in values), rel=1e-12)
    (0.5 * l2 + 3.0 * l1).backward()
    for p, v in zip(ps, values):
        np.testing.assert_allclose(host(p.grad), v + 3.0 * np.sign(v), rtol=1e-12)


def test_penalties_pass_gradcheck():
    ps = _params("cpu")
    for fn in (optim.l1_penalty, optim.l2_penalty):
        mg.gradcheck(lambda *xs: fn(list(xs)), *ps)


def test_weight_decay_equals_half_l2_penalty_in_the_loss(device):
    """SGD(weight_decay=λ) on J gives the same step as plain SGD on J + (λ/2)·Σθ²."""
    lam, lr = 0.3, 0.1
    a, b = _params(device), _params(device)
    opt_a = optim.SGD(a, lr=lr, weight_decay=lam)
    opt_b = optim.SGD(b, lr=lr)
    for _ in range(3):
        for ps, opt, extra in ((a, opt_a, False), (b, opt_b, True)):
            opt.zero_grad()
            loss = sum(((p - 1.0) ** 2).sum() for p in ps)
            if extra:
                loss = loss + (lam / 2) * optim.l2_penalty(ps)
            loss.backward()
            opt.step()
    for pa, pb in zip(a, b):
        np.testing.assert_allclose(host(pa), host(pb), rtol=1e-12)


def _set_grads(ps, grads, device):
    for p, g in zip(ps, grads):
        p.grad = mg.Tensor(g.copy(), device=device)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_clip_grad_norm_clips_to_max_norm(device, dtype):
    ps = _params(device, dtype)
    rng = np.random.default_rng(2)
    grads = [(10 * rng.normal(size=p.shape)).astype(dtype) for p in ps]
    _set_grads(ps, grads, device)
    norm = math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))
    returned = optim.clip_grad_norm_(ps, max_norm=1.5)
    assert isinstance(returned, float)
    assert returned == pytest.approx(norm, rel=1e-6)                       # pre-clip norm
    clipped = [host(p.grad) for p in ps]
    new_norm = math.sqrt(sum(float((c.astype(np.float64) ** 2).sum()) for c in clipped))
    assert new_norm == pytest.approx(1.5, rel=1e-5)
    for c, g in zip(clipped, grads):                                      # direction kept
        np.testing.assert_allclose(c, g * (1.5 / norm), rtol=1e-5)
        assert c.dtype == np.dtype(dtype)


def test_clip_grad_norm_leaves_small_gradients_alone(device):
    ps = _params(device)
    grads = [np.full(p.shape, 0.01) for p in ps]
    _set_grads(ps, grads, device)
    before = [p.grad.data for p in ps]
    total = optim.clip_grad_norm_(ps, max_norm=1.0)
    assert total == pytest.approx(0.01 * math.sqrt(1 + 3 + 10))
    for p, g, arr in zip(ps, grads, before):
        assert p.grad.data is arr
        np.testing.assert_array_equal(host(p.grad), g)


def test_clip_grad_norm_inf_norm_and_missing_grads():
    ps = _params("cpu")
    ps[0].grad = None
    ps[1].grad = mg.Tensor(np.array([1.0, -4.0, 2.0]))
    ps[2].grad = mg.Tensor(np.ones((2, 5)))
    assert optim.clip_grad_norm_(ps, 2.0, norm_type=float("inf")) == 4.0
    assert np.abs(host(ps[1].grad)).max() == pytest.approx(2.0, rel=1e-6)
    assert optim.clip_grad_norm_([mg.Parameter(np.ones(1))], 1.0) == 0.0


def test_clip_grad_value(device):
    ps = _params(device)
    rng = np.random.default_rng(4)
    grads = [rng.normal(size=p.shape) * 3 for p in ps]
    _set_grads(ps, grads, device)
    optim.clip_grad_value_(ps, 0.5)
    for p, g in zip(ps, grads):
        np.testing.assert_array_equal(host(p.grad), np.clip(g, -0.5, 0.5))


def test_clipping_validates_arguments():
    with pytest.raises(ValueError):
        optim.clip_grad_norm_(_params("cpu"), -1.0)
    with pytest.raises(ValueError):
        optim.clip_grad_value_(_params("cpu"), -1.0)


@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_clip_grad_norm_reports_a_nan_gradient_wherever_it_sits(norm_type):
    """PyTorch's clip_grad_norm_ returns nan when any gradient holds one; the inf-norm
    used to drop it when the NaN was not in the first gradient (Python's max)."""
    a, b = mg.Tensor(np.ones(3), requires_grad=True), mg.Tensor(np.ones(2), requires_grad=True)
    a.grad = mg.Tensor(np.array([1.0, 2.0, 3.0]))
    b.grad = mg.Tensor(np.array([np.nan, 0.5]))
    assert math.isnan(optim.clip_grad_norm_([a, b], 1.0, norm_type=norm_type))
