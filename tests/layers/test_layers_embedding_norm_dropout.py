"""Embedding, LayerNorm, Dropout and the positional encodings."""
from __future__ import annotations

import math

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host, rand, tensor


# ---------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------
def test_embedding_lookup_and_gradcheck(device):
    emb = layers.Embedding(6, 3, device=device).double()
    ids = np.array([[0, 2, 2], [5, 1, 0]])
    out = emb(ids)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(host(out), host(emb.weight)[ids])
    assert layers.gradcheck_module(emb, ids).passed


def test_embedding_gradient_accumulates_repeated_ids(device):
    emb = layers.Embedding(4, 2, device=device)
    emb(mg.Tensor(np.array([1, 1, 1, 3]), device=device)).sum().backward()
    np.testing.assert_array_equal(host(emb.weight.grad), [[0, 0], [3, 3], [0, 0], [1, 1]])


def test_embedding_rejects_out_of_range_ids():
    with pytest.raises(mg.ShapeError, match="ids must lie in"):
        layers.Embedding(4, 2)(np.array([0, 4]))


# ---------------------------------------------------------------------------
# LayerNorm
# ---------------------------------------------------------------------------
def test_layernorm_gradcheck(device):
    rng = np.random.default_rng(0)
    ln = layers.LayerNorm(4, device=device).double()
    layers.init.normal_(ln.weight)
    layers.init.normal_(ln.bias)
    x = rand(rng, 3, 4, device=device, grad=True)
    assert layers.gradcheck_module(ln, x).passed


def test_layernorm_normalises_and_matches_the_formula(device):
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((5, 6)) * 3 + 2
    y = host(layers.LayerNorm(6, device=device).double()(tensor(x_np, device)))
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), x_np.var(axis=-1) / (x_np.var(axis=-1) + 1e-5),
                               rtol=1e-12)


def test_layernorm_over_two_axes(device):
    rng = np.random.default_rng(2)
    ln = layers.LayerNorm((2, 3), eps=1e-6, device=device).double()
    layers.init.normal_(ln.weight)
    x_np = rng.standard_normal((4, 2, 3))
    flat = x_np.reshape(4, 6)
    ref = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-6)
    ref = ref.reshape(4, 2, 3) * host(ln.weight)
    np.testing.assert_allclose(host(ln(tensor(x_np, device))), ref, rtol=1e-10)
    assert layers.gradcheck_module(ln, tensor(x_np, device, grad=True)).passed
    with pytest.raises(mg.ShapeError):
        ln(tensor(np.ones((4, 3, 2)), device))


def test_layernorm_without_affine():
    ln = layers.LayerNorm(3, elementwise_affine=False)
    assert ln.num_parameters() == 0 and ln.weight is None
    assert "elementwise_affine=False" in repr(ln)


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------
def test_dropout_is_identity_in_eval(device):
    drop = layers.Dropout(0.7).eval()
    x = rand(np.random.default_rng(3), 10, 10, device=device)
    assert drop(x) is x


def test_dropout_keeps_the_expectation_in_training(device):
    mg.manual_seed(0)
    drop = layers.Dropout(0.3)
    x = tensor(np.ones((200, 500)), device, dtype="float32")
    y = host(drop(x))
    kept = y != 0
    assert np.allclose(y[kept], 1 / 0.7)                     # survivors are scaled up
    assert abs(kept.mean() - 0.7) < 0.01                     # about 1 - p survive
    assert abs(y.mean() - 1.0) < 0.015                       # E[y] = x


def test_dropout_gradient_uses_the_same_mask(device):
    mg.manual_seed(1)
    x = tensor(np.ones((4, 6)), device, grad=True, dtype="float32")
    y = layers.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(host(x.grad), host(y))    # d(x*m/(1-p))/dx = m/(1-p)


def test_dropout_gradcheck_with_a_fixed_mask(device):
    """Re-seeding before each call fixes the mask, so central differences apply."""
    drop = layers.Dropout(0.4)

    def fn(x):
        mg.manual_seed(11)
        return drop(x)

    x = rand(np.random.default_rng(5), 6, 5, device=device, grad=True)
    assert mg.gradcheck(fn, x).passed


def test_dropout_is_reproducible_under_manual_seed_and_validates_p():
    def run():
        mg.manual_seed(7)
        return host(layers.Dropout(0.5)(mg.ones(20)))

    assert np.array_equal(run(), run())
    with pytest.raises(ValueError):
        layers.Dropout(1.0)


# ---------------------------------------------------------------------------
# positional encodings
# ---------------------------------------------------------------------------
def test_sinusoidal_table_matches_the_formula(device):
    pe = host(layers.sinusoidal_table(7, 6, dtype="float64", device=device))
    for pos in range(7):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert pe[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-12)
            assert pe[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-12)
    odd = host(layers.sinusoidal_table(3, 5))
    assert odd.shape == (3, 5) and odd[1, 4] == pytest.approx(math.sin(1 / 10000 ** 0.8), 1e-6)


def test_sinusoidal_encoding_adds_the_table_and_is_not_saved(device):
    enc = layers.SinusoidalPositionalEncoding(4, max_len=10, device=device).double()
    x = tensor(np.zeros((2, 5, 4)), device, grad=True)
    y = enc(x)
    np.testing.assert_allclose(host(y)[1], layers.sinusoidal_table(10, 4).numpy()[:5], atol=1e-6)
    assert enc.state_dict() == {} and enc.num_parameters() == 0
    assert mg.gradcheck(enc, x).passed
    with pytest.raises(mg.ShapeError, match="max_len"):
        enc(tensor(np.zeros((1, 11, 4)), device))


def test_learned_positional_encoding_gradcheck(device):
    enc = layers.LearnedPositionalEncoding(6, 3, device=device).double()
    x = rand(np.random.default_rng(4), 2, 4, 3, device=device, grad=True)
    assert layers.gradcheck_module(enc, x).passed
    x.grad = None
    enc(x).sum().backward()
    g = host(enc.weight.grad)
    assert np.allclose(g[:4], 2) and not g[4:].any()        # only the used rows learn
