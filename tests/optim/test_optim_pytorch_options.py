"""PyTorch's optimiser options -- RMSprop(momentum, centered, alpha), Adam/AdamW(amsgrad)
-- step by step against independent NumPy transcriptions of the algorithms in the
``torch.optim`` documentation, on every device, with gradients whose scale jumps
(so the running maximum of amsgrad and the centring both matter)."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import optim
from conftest import host

STEPS = 25


def _gradients(shape, seed):
    rng = np.random.default_rng(seed)
    scale = np.where(np.arange(STEPS) % 7 == 2, 10.0, 0.3)     # bursts of large gradients
    return [rng.normal(size=shape) * s + 0.1 for s in scale]


def _run(factory, shape, device, seed=0):
    rng = np.random.default_rng(seed + 100)
    theta0 = rng.normal(size=shape)
    grads = _gradients(shape, seed)
    p = mg.Parameter(theta0.copy(), device=device)
    opt = factory([p])
    history = []
    for g in grads:
        p.grad = mg.Tensor(g.copy(), device=device)
        opt.step()
        history.append(host(p).copy())
    return theta0, grads, history


def ref_rmsprop_torch(theta, grads, lr, alpha, eps, weight_decay=0.0, momentum=0.0,
                      centered=False):
    """torch.optim.RMSprop's documented algorithm."""
    theta = theta.copy()
    v, b, g_ave, out = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta), []
    for g in grads:
        if weight_decay:
            g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v - g_ave ** 2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(theta)
    return out


def ref_adam_torch(theta, grads, lr, betas, eps, weight_decay=0.0, amsgrad=False,
                   decoupled=False):
    """torch.optim.Adam / AdamW's documented algorithm (with v_max for amsgrad)."""
    b1, b2 = betas
    theta = theta.copy()
    m, v, v_max, out = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta), []
    for t, g in enumerate(grads, start=1):
        if decoupled:
            theta = theta - lr * weight_decay * theta
        elif weight_decay:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - b2 ** t)
        else:
            v_hat = v / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


def _assert_trajectory(history, expected):
    for step, (got, want) in enumerate(zip(history, expected), start=1):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13, err_msg=f"step {step}")


RMS = [
    dict(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.9),
    dict(lr=0.01, alpha=0.99, eps=1e-8, centered=True),
    dict(lr=0.005, alpha=0.9, eps=1e-6, momentum=0.5, centered=True, weight_decay=0.1),
    dict(lr=0.01, alpha=0.99, eps=1e-8),                    # PyTorch's defaults
]


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=str)
@pytest.mark.parametrize("kw", RMS, ids=str)
def test_rmsprop_options_match_torch_algorithm(device, shape, kw):
    theta0, grads, history = _run(lambda ps: optim.RMSprop(ps, **kw), shape, device)
    _assert_trajectory(history, ref_rmsprop_torch(theta0, grads, **kw))


def test_rmsprop_alpha_is_beta_and_options_change_the_path():
    a = _run(lambda ps: optim.RMSprop(ps, alpha=0.99), (4,), "cpu")[2]
    b = _run(lambda ps: optim.RMSprop(ps, beta=0.99), (4,), "cpu")[2]
    np.testing.assert_array_equal(a[-1], b[-1])
    plain = _run(lambda ps: optim.RMSprop(ps), (4,), "cpu")[2][-1]
    for kw in (dict(momentum=0.9), dict(centered=True)):
        assert not np.allclose(_run(lambda ps: optim.RMSprop(ps, **kw), (4,), "cpu")[2][-1],
                               plain)


ADAM = [
    dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, amsgrad=True),
    dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, amsgrad=True, weight_decay=0.1),
    dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, amsgrad=False),
]


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)], ids=str)
@pytest.mark.parametrize("kw", ADAM, ids=str)
@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam", "AdamW"])
def test_adam_amsgrad_matches_torch_algorithm(device, shape, kw, decoupled):
    cls = optim.AdamW if decoupled else optim.Adam
    kw = dict(kw, weight_decay=kw.get("weight_decay", 0.0) or (0.01 if decoupled else 0.0))
    theta0, grads, history = _run(lambda ps: cls(ps, **kw), shape, device)
    _assert_trajectory(history, ref_adam_torch(theta0, grads, decoupled=decoupled, **kw))


def test_amsgrad_changes_the_path_and_keeps_its_state():
    p = mg.Parameter(np.zeros(3))
    opt = optim.Adam([p], lr=1e-2, amsgrad=True)
    for g in _gradients((3,), 0)[:5]:
        p.grad = mg.Tensor(g)
        opt.step()
    state = opt.state[p]
    assert np.all(state["max_exp_avg_sq"] >= state["exp_avg_sq"])
    assert np.any(state["max_exp_avg_sq"] > state["exp_avg_sq"])   # the burst at step 3
    plain = _run(lambda ps: optim.Adam(ps, lr=1e-2), (3,), "cpu")[2][-1]
    ams = _run(lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True), (3,), "cpu")[2][-1]
    assert not np.allclose(plain, ams)


def test_option_defaults_are_pytorchs_and_bad_momentum_is_refused():
    p = [mg.Parameter(np.zeros(2))]
    g = optim.RMSprop(p).param_groups[0]
    assert (g["momentum"], g["centered"]) == (0.0, False)
    assert optim.Adam(p).param_groups[0]["amsgrad"] is False
    assert optim.AdamW(p).param_groups[0]["amsgrad"] is False
    with pytest.raises(ValueError, match="momentum must be >= 0"):
        optim.RMSprop(p, momentum=-0.1)


def test_old_checkpoints_without_the_new_keys_still_step():
    """A state dict saved before these options existed has no momentum/centered/amsgrad."""
    for cls, keys in ((optim.RMSprop, ("momentum", "centered")), (optim.Adam, ("amsgrad",))):
        p = mg.Parameter(np.ones(2))
        opt = cls([p])
        sd = opt.state_dict()
        for group in sd["param_groups"]:
            for k in keys:
                group.pop(k)
        opt.load_state_dict(sd)
        p.grad = mg.Tensor(np.ones(2))
        opt.step()
        assert np.all(host(p) < 1.0)
