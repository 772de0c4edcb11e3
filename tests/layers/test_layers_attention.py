"""Attention (F26-F28): scaled_dot_product_attention and MultiHeadAttention.

Witnesses: central differences, a single-head attention forward *and
backward* derived by hand in NumPy, the worked examples E02 and E10, and
properties (causality, padding, no look-ahead in gradients, no B*H*T^2*D
intermediate).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import layers
import minigrad as mg
from layers_util import host, rand, tensor
from minigrad.autograd import iter_graph


# ---------------------------------------------------------------------------
# the function
# ---------------------------------------------------------------------------
def numpy_attention(Q, K, V, G, blocked=None):
    """Forward and hand-derived backward of softmax(Q K^T / sqrt(d)) V, pure NumPy.

    S = Q K^T / sqrt(d);  P = softmax_rows(S) (blocked entries -> 0);  O = P V.
    With G = dL/dO:  dV = P^T G,  dP = G V^T,
    dS = P * (dP - rowsum(dP * P))  (softmax's Jacobian),
    dQ = dS K / sqrt(d),  dK = dS^T Q / sqrt(d).
    """
    d = Q.shape[-1]
    S = Q @ K.swapaxes(-1, -2) / math.sqrt(d)
    if blocked is not None:
        S = np.where(blocked, -np.inf, S)
    E = np.exp(S - S.max(axis=-1, keepdims=True))
    P = E / E.sum(axis=-1, keepdims=True)
    O = P @ V
    dV = P.swapaxes(-1, -2) @ G
    dP = G @ V.swapaxes(-1, -2)
    dS = P * (dP - (dP * P).sum(axis=-1, keepdims=True))
    dQ = dS @ K / math.sqrt(d)
    dK = dS.swapaxes(-1, -2) @ Q / math.sqrt(d)
    return O, P, dQ, dK, dV


@pytest.mark.parametrize("causal", [False, True])
def test_single_head_attention_matches_hand_derived_numpy_backward(device, causal):
    rng = np.random.default_rng(0)
    B, T, d = 2, 5, 4
    arrays = {k: rng.standard_normal((B, T, d)) for k in "qkvg"}
    q, k, v = (tensor(arrays[n], device, grad=True) for n in "qkv")
    out, weights = layers.scaled_dot_product_attention(q, k, v, causal=causal)
    out.backward(tensor(arrays["g"], device))
    blocked = np.triu(np.ones((T, T), bool), 1) if causal else None
    O, P, dQ, dK, dV = numpy_attention(arrays["q"], arrays["k"], arrays["v"], arrays["g"],
                                       blocked)
    np.testing.assert_allclose(host(out), O, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(weights), P, rtol=1e-12, atol=1e-14)
    for got, want in ((q.grad, dQ), (k.grad, dK), (v.grad, dV)):
        np.testing.assert_allclose(host(got), want, rtol=1e-10, atol=1e-12)


def test_attention_gradcheck_with_masks(device):
    rng = np.random.default_rng(1)
    q = rand(rng, 2, 3, 4, device=device, grad=True)
    k = rand(rng, 2, 5, 4, device=device, grad=True)
    v = rand(rng, 2, 5, 2, device=device, grad=True)
    pad = np.array([[False, False, False, True, True], [False] * 5])
    mask = np.zeros((3, 5), bool)
    mask[0, 1] = True

    def fn(q, k, v):
        return layers.scaled_dot_product_attention(q, k, v, mask=mask, key_padding_mask=pad)[0]

    assert mg.gradcheck(fn, q, k, v).passed


def test_worked_examples_E02_and_E10():
    """Three tokens with 1-d features (the ledger's reading of the documents)."""
    col = lambda xs: mg.Tensor(np.array(xs, dtype=np.float64)[:, None])  # noqa: E731
    # E02, scale 1 (d_k = 1): weights softmax([1, 2, 3]) for every query, output 5.5752
    out, w = layers.scaled_dot_product_attention(col([1, 1, 1]), col([1, 2, 3]), col([4, 5, 6]))
    np.testing.assert_allclose(host(out).ravel(), [5.5752] * 3, atol=1e-4)
    # E02 with the documents' scale sqrt(3): fold 1/sqrt(3) into q
    out, w = layers.scaled_dot_product_attention(col([1, 1, 1]) / math.sqrt(3), col([1, 2, 3]),
                                                 col([4, 5, 6]))
    np.testing.assert_allclose(host(w)[0], [0.1679, 0.2992, 0.5329], atol=1e-4)
    np.testing.assert_allclose(host(out).ravel(), [5.3650] * 3, atol=1e-4)
    # E10: Q=[1,2,3], K=[4,5,6], V=[7,8,9], scale sqrt(3)
    out, _ = layers.scaled_dot_product_attention(col([1, 2, 3]) / math.sqrt(3), col([4, 5, 6]),
                                                 col([7, 8, 9]))
    np.testing.assert_allclose(host(out).ravel(), [8.3650, 8.6368, 8.8018], atol=1e-4)


def test_padding_keys_get_exactly_zero_weight(device):
    rng = np.random.default_rng(2)
    q, k, v = (rand(rng, 2, 4, 3, device=device) for _ in range(3))
    pad = np.array([[False, False, True, True], [False, True, False, True]])
    out, w = layers.scaled_dot_product_attention(q, k, v, key_padding_mask=pad)
    w = host(w)
    assert np.all(w[0][:, 2:] == 0.0) and np.all(w[1][:, [1, 3]] == 0.0)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-12)
    # whatever sits in the padded keys and values cannot change the output
    k2, v2 = host(k), host(v)
    k2[0, 2:] = 1e3
    v2[1, 3] = -7.0
    out2, _ = layers.scaled_dot_product_attention(q, tensor(k2, device), tensor(v2, device),
                                                  key_padding_mask=pad)
    np.testing.assert_allclose(host(out2), host(out), rtol=1e-12)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_masks_against_numpy(device, data):
    """Any combination of mask, causal flag and padding (fully blocked rows included)."""
    B = data.draw(st.integers(1, 3))
    Tq, Tk, d = (data.draw(st.integers(1, 5)) for _ in range(3))
    causal = data.draw(st.booleans())
    bools = lambda shape: np.array(data.draw(st.lists(  # noqa: E731
        st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    ).reshape(shape).astype(bool)
    mask, pad = bools((Tq, Tk)), bools((B, Tk))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    Q, K, V = (rng.standard_normal((B, n, d)) for n in (Tq, Tk, Tk))
    blocked = mask | pad[:, None, :]
    if causal:
        blocked = blocked | np.triu(np.ones((Tq, Tk), bool), 1)
    out, w = layers.scaled_dot_product_attention(
        *(tensor(a, device) for a in (Q, K, V)), mask=mask, causal=causal, key_padding_mask=pad)
    w = host(w)
    assert np.all(w[np.broadcast_to(blocked, w.shape)] == 0.0)
    alive = ~blocked.all(axis=-1)
    np.testing.assert_allclose(w.sum(-1), np.where(alive, 1.0, 0.0), atol=1e-12)
    S = Q @ K.swapaxes(1, 2) / np.sqrt(d)
    E = np.where(blocked, 0.0, np.exp(S - S.max(-1, keepdims=True)))
    P = E / np.maximum(E.sum(-1, keepdims=True), 1e-300)
    np.testing.assert_allclose(host(out), P @ V, rtol=1e-10, atol=1e-12)


def test_fully_masked_rows_give_zeros_not_nan(device):
    rng = np.random.default_rng(3)
    q, k, v = (rand(rng, 1, 3, 2, device=device, grad=True) for _ in range(3))
    mask = np.array([[True, True, True], [False, True, True], [False, False, False]])
    out, w = layers.scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.all(host(w)[0, 0] == 0) and np.all(host(out)[0, 0] == 0)
    out.sum().backward()
    assert all(np.isfinite(host(t.grad)).all() for t in (q, k, v))


def test_causal_attention_never_looks_ahead(device):
    rng = np.random.default_rng(4)
    T = 6
    q, k, v = (rng.standard_normal((1, T, 3)) for _ in range(3))
    out, w = layers.scaled_dot_product_attention(*(tensor(a, device) for a in (q, k, v)),
                                                 causal=True)
    assert np.all(np.triu(host(w)[0], 1) == 0)
    for t in range(T - 1):
        k2, v2 = k.copy(), v.copy()
        k2[:, t + 1:] += 5 * rng.standard_normal(k2[:, t + 1:].shape)
        v2[:, t + 1:] += 5
        out2, _ = layers.scaled_dot_product_attention(
            *(tensor(a, device) for a in (q, k2, v2)), causal=True)
        np.testing.assert_array_equal(host(out2)[:, : t + 1], host(out)[:, : t + 1])


def test_mask_validation():
    q = mg.randn(2, 3, 4)
    with pytest.raises(mg.DTypeError, match="boolean"):
        layers.scaled_dot_product_attention(q, q, q, mask=np.zeros((3, 3)))
    with pytest.raises(mg.ShapeError, match="does not broadcast"):
        layers.scaled_dot_product_attention(q, q, q, mask=np.zeros((2, 2), bool))
    with pytest.raises(mg.ShapeError, match="key_padding_mask"):
        layers.scaled_dot_product_attention(q, q, q, key_padding_mask=np.zeros((3, 3), bool))
    with pytest.raises(mg.ShapeError):
        layers.scaled_dot_product_attention(q, mg.randn(2, 3, 5), q)


def test_no_b_h_t2_d_intermediate_is_ever_built():
    """Batched matmuls only: no tensor of the graph reaches B*H*T^2*D elements."""
    B, H, T, D = 2, 3, 6, 4
    q, k, v = (mg.randn(B, H, T, D, requires_grad=True) for _ in range(3))
    out, _ = layers.scaled_dot_product_attention(q, k, v, causal=True,
                                                 key_padding_mask=np.zeros((B, T), bool))
    sizes = [t.size for t in iter_graph(out)]
    assert max(sizes) == B * H * T * T < B * H * T * T * D
    assert all(t.ndim <= 4 for t in iter_graph(out))


def test_attention_dropout_only_in_training():
    mg.manual_seed(0)
    q = mg.randn(1, 8, 4)
    eval_out, w = layers.scaled_dot_product_attention(q, q, q, dropout_p=0.5, training=False)
    train_out, w2 = layers.scaled_dot_product_attention(q, q, q, dropout_p=0.5, training=True)
    assert not np.allclose(host(eval_out), host(train_out))
    np.testing.assert_allclose(host(w), host(w2))      # returned weights are pre-dropout


# ---------------------------------------------------------------------------
# the module
# ---------------------------------------------------------------------------
def test_mha_gradcheck(device):
    rng = np.random.default_rng(5)
    mha = layers.MultiHeadAttention(4, 2, device=device).double()
    x = rand(rng, 2, 3, 4, device=device, grad=True)
    assert layers.gradcheck_module(mha, x).passed

    def causal(m, x):
        return m(x, causal=True, key_padding_mask=np.array([[False, False, True]] * 2))

    wrapper = Wrap(mha, causal)
    assert layers.gradcheck_module(wrapper, x, fast=True).passed


class Wrap(layers.Module):
    """Turn ``fn(module, *args)`` into a module so gradcheck_module sees its parameters."""

    def __init__(self, module, fn):
        super().__init__()
        self.inner = module
        self.fn = fn

    def forward(self, *args):
        return self.fn(self.inner, *args)


def test_mha_cross_attention_gradcheck(device):
    rng = np.random.default_rng(6)
    mha = layers.MultiHeadAttention(4, 2, device=device).double()
    query = rand(rng, 2, 3, 4, device=device, grad=True)
    memory = rand(rng, 2, 5, 4, device=device, grad=True)
    out, w = mha(query, memory, return_weights=True)
    assert out.shape == (2, 3, 4) and w.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(host(w).sum(-1), 1.0, rtol=1e-12)
    assert layers.gradcheck_module(mha, query, memory, fast=True).passed


def test_single_head_mha_is_projections_around_attention(device):
    """F27: Q = X W_q^T + b_q etc., then F26, then the output projection."""
    rng = np.random.default_rng(7)
    mha = layers.MultiHeadAttention(4, 1, device=device).double()
    x = rng.standard_normal((2, 5, 4))
    s = mha.state_dict()
    proj = lambda name, a: a @ s[f"{name}.weight"].T + s[f"{name}.bias"]  # noqa: E731
    O, P, *_ = numpy_attention(proj("q_proj", x), proj("k_proj", x), proj("v_proj", x),
                               np.zeros((2, 5, 4)))
    out, w = mha(tensor(x, device), return_weights=True)
    np.testing.assert_allclose(host(out), proj("out_proj", O), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(host(w)[:, 0], P, rtol=1e-11)


def test_mha_heads_are_independent_slices(device):
    """Two heads = two single-head attentions on halves of the projected features."""
    rng = np.random.default_rng(8)
    mha = layers.MultiHeadAttention(6, 2, device=device).double()
    x = rng.standard_normal((1, 4, 6))
    s = mha.state_dict()
    proj = {n: x @ s[f"{n}.weight"].T + s[f"{n}.bias"] for n in ("q_proj", "k_proj", "v_proj")}
    heads = [numpy_attention(proj["q_proj"][..., h * 3:(h + 1) * 3],
                             proj["k_proj"][..., h * 3:(h + 1) * 3],
                             proj["v_proj"][..., h * 3:(h + 1) * 3], np.zeros((1, 4, 3)),
                             np.triu(np.ones((4, 4), bool), 1))[0] for h in range(2)]
    merged = np.concatenate(heads, axis=-1)
    want = merged @ s["out_proj.weight"].T + s["out_proj.bias"]
    np.testing.assert_allclose(host(mha(tensor(x, device), causal=True)), want, rtol=1e-11)


def test_mha_causal_and_padding_properties(device):
    rng = np.random.default_rng(9)
    mha = layers.MultiHeadAttention(8, 4, device=device).double()
    x = rng.standard_normal((2, 6, 8))
    out = host(mha(tensor(x, device), causal=True))
    x2 = x.copy()
    x2[:, 4:] = rng.standard_normal((2, 2, 8))
    out2 = host(mha(tensor(x2, device), causal=True))
    np.testing.assert_array_equal(out2[:, :4], out[:, :4])
    pad = np.zeros((2, 6), bool)
    pad[:, 5] = True
    _, w = mha(tensor(x, device), key_padding_mask=pad, return_weights=True)
    assert np.all(host(w)[..., 5] == 0.0)
    # a (B, T, T) mask is broadcast over heads
    mask = np.zeros((2, 6, 6), bool)
    mask[1, :, 0] = True
    _, w = mha(tensor(x, device), mask=mask, return_weights=True)
    assert np.all(host(w)[1, :, :, 0] == 0.0) and np.all(host(w)[0, :, :, 0] > 0)


def test_mha_validates_its_arguments():
    with pytest.raises(ValueError, match="divisible"):
        layers.MultiHeadAttention(6, 4)
    mha = layers.MultiHeadAttention(4, 2)
    with pytest.raises(mg.ShapeError, match="query"):
        mha(mg.randn(3, 4))
    with pytest.raises(TypeError, match="keyword"):
        mha(mg.randn(1, 3, 4), True)
    assert repr(mha).startswith("MultiHeadAttention(\n  d_model=4, num_heads=2")
