"""The fused causal attention core (``minigrad/ops/fused_attention.py``).

Checked like the other fused ops (``test_engine_fused.py``), on "cpu" and "fake":

* :func:`check_op`: forward against an independent NumPy formula (the full
  masked square, written without minigrad), float64 gradcheck, gradgradcheck,
  float32, and the invariants (no mutation, no aliasing, graph freed);
* against its composed twin ``causal_attention_reference``: values, gradients and
  a Hessian-vector product equal to 1e-10, for block sizes that cut the rows
  unevenly, T_q != T_k, and inputs in the (B, H, T, d)-view layout of
  ``MultiHeadAttention``;
* ``use_fused(False)`` runs the twin; ``MultiHeadAttention`` uses the fused op
  exactly when it may (causal, no other mask, no weights asked for).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import arrays, check_op, examples, host, shapes
from minigrad.ops import fused_attention as fa

TOL = 1e-10


def _attention_np(q, k, v):
    """softmax(q k^T / sqrt(d), j > i blocked) v in plain NumPy, over the full square."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    t_q, t_k = s.shape[-2:]
    s = np.where(np.arange(t_k)[None, :] > np.arange(t_q)[:, None], -np.inf, s)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v


def _leaves(arrays_, device):
    return [mg.Tensor(a, dtype="float64", device=device, requires_grad=True) for a in arrays_]


def _values_grads_hvp(fn, arrays_, device, upstream_seed=42):
    xs = _leaves(arrays_, device)
    out = fn(*xs)
    up = mg.Tensor(np.random.default_rng(upstream_seed).standard_normal(out.shape),
                   dtype="float64", device=device)
    grads = mg.grad(out, xs, up, create_graph=True)
    v = [mg.Tensor(np.random.default_rng(7 + i).standard_normal(x.shape), dtype="float64",
                   device=device) for i, x in enumerate(xs)]
    dot = sum(((g * vi).sum() for g, vi in zip(grads, v)),
              mg.Tensor(0.0, dtype="float64", device=device))
    hvp = mg.grad(dot, xs)
    return [host(out)] + [host(g) for g in grads] + [host(h) for h in hvp]


def _assert_same_as_composed(arrays_, device, block):
    fused = _values_grads_hvp(lambda q, k, v: fa.causal_attention(q, k, v, block=block),
                              arrays_, device)
    composed = _values_grads_hvp(fa.causal_attention_reference, arrays_, device)
    names = ["out", "dq", "dk", "dv", "hvp q", "hvp k", "hvp v"]
    for name, a, b in zip(names, fused, composed):
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL, err_msg=f"fused vs composed: {name}")


def _qkv(rng, lead, t_q, t_k, d, d_v):
    return [rng.standard_normal(lead + (t_q, d)), rng.standard_normal(lead + (t_k, d)),
            rng.standard_normal(lead + (t_k, d_v))]


@examples(8)
@given(data=st.data(), lead=shapes(max_dims=2, max_side=2), t_q=st.integers(1, 5),
       t_k=st.integers(1, 5), d=st.integers(1, 3), block=st.integers(1, 4))
def test_causal_attention_checks(device, data, lead, t_q, t_k, d, block):
    q = data.draw(arrays(lead + (t_q, d)))
    k = data.draw(arrays(lead + (t_k, d)))
    v = data.draw(arrays(lead + (t_k, d + 1)))
    check_op(lambda a, b, c: fa.causal_attention(a, b, c, block=block), q, k, v, device=device,
             ref=_attention_np, rtol=1e-9, atol=1e-12, gradgrad=True)


@pytest.mark.parametrize("t_q,t_k,block", [(7, 7, 3), (8, 8, 4), (8, 8, 8), (8, 8, 32),
                                           (6, 9, 2), (9, 4, 2), (5, 5, 1)])
def test_causal_attention_equals_composed(device, t_q, t_k, block):
    rng = np.random.default_rng(t_q * 100 + t_k * 10 + block)
    _assert_same_as_composed(_qkv(rng, (2, 3), t_q, t_k, 4, 5), device, block)


def test_causal_attention_equals_composed_in_the_head_split_layout(device):
    """(B, H, T, d) views of (B, T, H, d) arrays, as MultiHeadAttention passes them;
    the output keeps that layout, so merging the heads back is a view."""
    rng = np.random.default_rng(5)
    B, T, H, d = 2, 9, 3, 4
    views = [rng.standard_normal((B, T, H, d)).transpose(0, 2, 1, 3) for _ in range(3)]
    _assert_same_as_composed(views, device, block=4)
    q, k, v = _leaves(views, device)
    out = fa.causal_attention(q, k, v, block=4)
    merged = host(out.transpose(1, 2))
    np.testing.assert_allclose(merged.transpose(0, 2, 1, 3), _attention_np(*views), rtol=1e-12)
    if device == "cpu":  # the buffer is laid out as (B, T, H, d): merging is free
        assert out.transpose(1, 2).data.flags["C_CONTIGUOUS"]


def test_causal_attention_float32_matches_float64(device):
    rng = np.random.default_rng(11)
    arrays_ = _qkv(rng, (2, 2), 70, 70, 8, 8)      # several blocks of the default size
    outs, grads = [], []
    for dtype in ("float64", "float32"):
        xs = [mg.Tensor(a, dtype=dtype, device=device, requires_grad=True) for a in arrays_]
        out = fa.causal_attention(*xs)
        assert out.dtype == np.dtype(dtype)
        (out * out).sum().backward()
        outs.append(host(out).astype(np.float64))
        grads.append([host(x.grad).astype(np.float64) for x in xs])
        assert all(x.grad.dtype == np.dtype(dtype) for x in xs)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-4, atol=1e-5)
    for g32, g64 in zip(*grads):
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4 * np.abs(g64).max())


def test_causal_attention_only_the_inputs_that_need_a_gradient(device):
    rng = np.random.default_rng(3)
    arrays_ = _qkv(rng, (2,), 6, 6, 3, 3)
    for wanted in ([0], [1], [2], [0, 2]):
        xs = [mg.Tensor(a, dtype="float64", device=device, requires_grad=i in wanted)
              for i, a in enumerate(arrays_)]
        ref = [mg.Tensor(a, dtype="float64", device=device, requires_grad=i in wanted)
               for i, a in enumerate(arrays_)]
        fa.causal_attention(*xs, block=4).sum().backward()
        fa.causal_attention_reference(*ref).sum().backward()
        for x, r in zip(xs, ref):
            assert (x.grad is None) == (r.grad is None)
            if x.grad is not None:
                np.testing.assert_allclose(host(x.grad), host(r.grad), rtol=TOL, atol=TOL)


def test_causal_attention_is_one_node_and_use_fused_false_runs_the_twin(device):
    rng = np.random.default_rng(4)
    xs = _leaves(_qkv(rng, (1,), 4, 4, 2, 2), device)
    assert isinstance(fa.causal_attention(*xs).grad_fn, fa.CausalAttention)
    with mg.use_fused(False):
        composed = fa.causal_attention(*xs)
    assert not isinstance(composed.grad_fn, fa.CausalAttention)
    assert type(composed.grad_fn).__name__ == "MatMul"


def test_causal_attention_errors(device):
    t = lambda *s: mg.Tensor(np.zeros(s), dtype="float64", device=device)  # noqa: E731
    with pytest.raises(mg.ShapeError, match="causal_attention"):
        fa.causal_attention(t(2, 3, 4), t(2, 3, 5), t(2, 3, 4))
    with pytest.raises(mg.ShapeError, match="causal_attention"):
        fa.causal_attention(t(2, 3, 4), t(2, 3, 4), t(2, 2, 4))
    with pytest.raises(mg.ShapeError, match="causal_attention"):
        fa.causal_attention(t(4), t(2, 4), t(2, 4))
    with pytest.raises(mg.DTypeError, match="causal_attention"):
        fa.causal_attention(mg.Tensor(np.zeros((2, 2), dtype=np.int64), device=device),
                            t(2, 2), t(2, 2))
    with pytest.raises(ValueError, match="block"):
        fa.causal_attention(t(2, 2), t(2, 2), t(2, 2), block=0)


# ---------------------------------------------------------------------------
# MultiHeadAttention / TransformerBlock use it where they may
# ---------------------------------------------------------------------------
def _nodes(out):
    seen, stack, kinds = set(), [out.grad_fn], []
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        kinds.append(type(fn).__name__)
        stack.extend(t.grad_fn for t in fn.inputs)
    return kinds


def test_multi_head_attention_uses_the_fused_core_when_causal(device):
    import layers
    mg.manual_seed(0)
    mha = layers.MultiHeadAttention(8, 2, dtype="float64", device=device)
    x = mg.Tensor(np.random.default_rng(0).standard_normal((2, 5, 8)), dtype="float64",
                  device=device, requires_grad=True)
    assert "CausalAttention" in _nodes(mha(x, causal=True))
    # anything the fused core does not do: the general path
    assert "CausalAttention" not in _nodes(mha(x))
    assert "CausalAttention" not in _nodes(mha(x, causal=True, return_weights=True)[0])
    pad = np.zeros((2, 5), dtype=bool)
    pad[0, -1] = True
    assert "CausalAttention" not in _nodes(mha(x, causal=True, key_padding_mask=pad))


def test_multi_head_attention_fused_equals_composed(device):
    """The whole layer, fused core against use_fused(False): output and every gradient."""
    import layers
    mg.manual_seed(1)
    mha = layers.MultiHeadAttention(12, 3, dtype="float64", device=device)
    x_np = np.random.default_rng(1).standard_normal((2, 7, 12))
    results = []
    for fused_on in (True, False):
        mha.zero_grad()
        x = mg.Tensor(x_np, dtype="float64", device=device, requires_grad=True)
        with mg.use_fused(fused_on):
            out = mha(x, causal=True)
            (out * out).sum().backward()
        results.append([host(out), host(x.grad)] + [host(p.grad) for p in mha.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL)
    # and against the general path (explicit mask, weights returned): the same numbers
    mha.zero_grad()
    x = mg.Tensor(x_np, dtype="float64", device=device, requires_grad=True)
    out, _ = mha(x, causal=True, return_weights=True)
    np.testing.assert_allclose(host(out), results[0][0], rtol=TOL, atol=TOL)
