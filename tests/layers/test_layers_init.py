"""layers.init: PyTorch's conventions, reproducibility under manual_seed, statistics."""
from __future__ import annotations

import math

import numpy as np
import pytest

import layers
import minigrad as mg
from layers import init
from layers_util import host


def test_linear_default_init_bounds_follow_pytorch():
    mg.manual_seed(0)
    lin = layers.Linear(50, 400)
    bound = 1 / math.sqrt(50)
    w, b = host(lin.weight), host(lin.bias)
    assert w.shape == (400, 50) and b.shape == (400,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound          # the whole interval is used
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound   # U(-a, a) has std a/sqrt(3)


def test_manual_seed_makes_models_reproducible_on_every_device(device):
    def build():
        mg.manual_seed(123)
        return layers.GPT(13, 8, 2, 1, 6, device=device).state_dict()

    first, second = build(), build()
    assert all(np.array_equal(first[k], second[k]) for k in first)
    mg.manual_seed(123)
    cpu = layers.GPT(13, 8, 2, 1, 6).state_dict()
    assert all(np.array_equal(first[k], cpu[k]) for k in first)  # same stream on cpu and fake
    mg.manual_seed(124)
    other = layers.GPT(13, 8, 2, 1, 6, device=device).state_dict()
    assert not np.array_equal(first["tok_emb.weight"], other["tok_emb.weight"])


def test_fan_in_fan_out_and_gain():
    w = init.empty_parameter(6, 4)
    assert init.fan_in_and_fan_out(w) == (4, 6)
    conv = init.empty_parameter(8, 3, 5, 5)
    assert init.fan_in_and_fan_out(conv) == (75, 200)
    with pytest.raises(ValueError):
        init.fan_in_and_fan_out(init.empty_parameter(5))
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError):
        init.calculate_gain("swishy")


@pytest.mark.parametrize("fn, expected_std", [
    (lambda w: init.xavier_uniform_(w), math.sqrt(2 / (300 + 200))),
    (lambda w: init.xavier_normal_(w, gain=2.0), 2 * math.sqrt(2 / (300 + 200))),
    (lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda w: init.normal_(w, 1.0, 0.5), 0.5),
    (lambda w: init.uniform_(w, -2.0, 2.0), 2 / math.sqrt(3)),
])
def test_initialisers_have_the_documented_spread(fn, expected_std, device):
    mg.manual_seed(0)
    w = init.empty_parameter(300, 200, device=device)
    assert fn(w) is w and w.requires_grad and w.device == device
    values = host(w)
    assert abs(values.std() - expected_std) < 0.02 * expected_std
    assert values.dtype == np.float32


def test_constant_initialisers_work_in_place_on_parameters(device):
    w = init.empty_parameter(3, 2, device=device)
    ident = id(w.data)
    init.ones_(w)
    assert np.array_equal(host(w), np.ones((3, 2))) and id(w.data) == ident
    init.zeros_(w)
    assert not host(w).any()
    init.constant_(w, 2.5)
    assert np.all(host(w) == 2.5)
    assert mg.is_grad_enabled()


def test_explicit_generator():
    a = init.normal_(init.empty_parameter(4, 4), generator=np.random.default_rng(5))
    b = init.normal_(init.empty_parameter(4, 4), generator=np.random.default_rng(5))
    assert np.array_equal(host(a), host(b))


def test_recurrent_and_norm_defaults():
    lstm = layers.LSTM(3, 16)
    bound = 1 / math.sqrt(16)
    assert all(np.abs(host(p)).max() <= bound for p in lstm.parameters())
    ln = layers.LayerNorm(5)
    assert np.array_equal(host(ln.weight), np.ones(5)) and not host(ln.bias).any()
