"""Learning-rate schedules against their closed forms."""
from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import optim


def _opt(lr=0.1, groups=1):
    ps = [mg.Parameter(np.ones(2)) for _ in range(groups)]
    if groups == 1:
        return optim.SGD(ps, lr=lr)
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(ps)], lr=lr)


def _trace(sched, n):
    """lr after construction and after each of n steps (group 0), plus get_last_lr agreement."""
    lrs = [sched.optimizer.param_groups[0]["lr"]]
    assert sched.get_last_lr()[0] == lrs[0]
    for _ in range(n):
        sched.step()
        lrs.append(sched.optimizer.param_groups[0]["lr"])
        assert sched.get_last_lr() == [g["lr"] for g in sched.optimizer.param_groups]
    return lrs


def test_step_lr():
    lrs = _trace(optim.StepLR(_opt(0.1), step_size=3, gamma=0.5), 10)
    assert lrs == pytest.approx([0.1 * 0.5 ** (t // 3) for t in range(11)], rel=1e-15)
    assert lrs[:4] == pytest.approx([0.1, 0.1, 0.1, 0.05])


def test_exponential_lr():
    lrs = _trace(optim.ExponentialLR(_opt(0.2), gamma=0.9), 12)
    assert lrs == pytest.approx([0.2 * 0.9 ** t for t in range(13)], rel=1e-15)


def test_cosine_annealing_lr():
    T, lo, hi = 10, 0.001, 0.1
    lrs = _trace(optim.CosineAnnealingLR(_opt(hi), T_max=T, eta_min=lo), 14)
    expected = [lo + (hi - lo) * (1 + math.cos(math.pi * min(t, T) / T)) / 2 for t in range(15)]
    assert lrs == pytest.approx(expected, rel=1e-14)
    assert lrs[0] == pytest.approx(hi) and lrs[T // 2] == pytest.approx((hi + lo) / 2)
    assert lrs[T:] == pytest.approx([lo] * 5)               # stays at eta_min after T_max


def test_linear_warmup_alone():
    lrs = _trace(optim.LinearWarmup(_opt(0.1), warmup_steps=4), 7)
    assert lrs == pytest.approx([0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.1, 0.1])


def test_linear_warmup_then_cosine():
    opt = _opt(0.1)
    after = optim.CosineAnnealingLR(opt, T_max=6)
    sched = optim.LinearWarmup(opt, warmup_steps=3, after=after)
    lrs = _trace(sched, 12)
    expected = [0.1 * (t + 1) / 3 if t < 3 else
                0.05 * (1 + math.cos(math.pi * min(t - 3, 6) / 6)) for t in range(13)]
    assert lrs == pytest.approx(expected, rel=1e-14, abs=1e-17)
    assert after.last_epoch == 12 - 3 and after.get_last_lr() == sched.get_last_lr()


def test_lambda_lr_per_group():
    opt = _opt(0.1, groups=2)
    sched = optim.LambdaLR(opt, [lambda t: 1.0 / (t + 1), lambda t: 0.5 ** t])
    for t in range(6):
        assert sched.get_last_lr() == pytest.approx([0.1 / (t + 1), 0.2 * 0.5 ** t])
        sched.step()


def test_all_groups_are_scheduled_from_their_own_base():
    sched = optim.ExponentialLR(_opt(0.1, groups=3), gamma=0.5)
    sched.step()
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.025, 0.05, 0.075])


@pytest.mark.parametrize("make", [
    lambda o: optim.StepLR(o, 2, 0.3),
    lambda o: optim.ExponentialLR(o, 0.7),
    lambda o: optim.CosineAnnealingLR(o, 8, 0.01),
    lambda o: optim.LinearWarmup(o, 3),
    lambda o: optim.LinearWarmup(o, 3, after=optim.ExponentialLR(o, 0.5)),
    lambda o: optim.LambdaLR(o, lambda t: 1 / (1 + t)),
], ids=["step", "exp", "cos", "warmup", "warmup+exp", "lambda"])
def test_state_dict_round_trip(make):
    a = make(_opt(0.1))
    for _ in range(5):
        a.step()
    state = a.state_dict()
    import json
    json.dumps(state)                                       # JSON-friendly: checkpointable
    b = make(_opt(0.1))
    b.load_state_dict(state)
    assert b.last_epoch == 5 and b.get_last_lr() == a.get_last_lr()
    assert b.optimizer.param_groups[0]["lr"] == a.optimizer.param_groups[0]["lr"]
    for _ in range(4):
        a.step()
        b.step()
        assert b.get_last_lr() == a.get_last_lr()


def test_scheduled_lr_is_used_by_the_optimizer():
    p = mg.Parameter(np.array(0.0))
    opt = optim.SGD([p], lr=1.0)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = mg.Tensor(np.array(-1.0))
        opt.step()
        sched.step()
    assert p.item() == pytest.approx(1.0 + 0.5 + 0.25)


def test_invalid_schedules():
    with pytest.raises(ValueError):
        optim.StepLR(_opt(), step_size=0)
    with pytest.raises(ValueError):
        optim.CosineAnnealingLR(_opt(), T_max=0)
    with pytest.raises(ValueError):
        optim.LinearWarmup(_opt(), 3, after=optim.ExponentialLR(_opt(), 0.5))  # other optimizer
    with pytest.raises(TypeError):
        optim.StepLR(object(), 1)
