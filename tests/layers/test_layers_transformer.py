"""TransformerBlock, TransformerEncoder, TransformerClassifier and GPT (F28, F29, X4)."""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host, rand, tensor


class Causal(layers.Module):
    """Run a block with causal=True and a padding mask (for gradcheck_module)."""

    def __init__(self, block, pad=None):
        super().__init__()
        self.block = block
        self.pad = pad

    def forward(self, x):
        return self.block(x, causal=True, key_padding_mask=self.pad)


@pytest.mark.parametrize("norm_first, activation", [(True, "gelu"), (False, "relu")])
def test_transformer_block_gradcheck(device, norm_first, activation):
    rng = np.random.default_rng(0)
    block = layers.TransformerBlock(4, 2, 8, activation=activation, norm_first=norm_first,
                                    device=device).double()
    for name, p in block.named_parameters():   # LayerNorm starts at (1, 0): make it generic
        if name.startswith("norm"):
            layers.init.normal_(p)
    x = rand(rng, 2, 3, 4, device=device, grad=True)
    assert layers.gradcheck_module(block, x, fast=True).passed
    pad = np.array([[False, False, True], [False, False, False]])
    assert layers.gradcheck_module(Causal(block, pad), x, fast=True).passed


def test_pre_and_post_ln_follow_their_formulas():
    rng = np.random.default_rng(1)
    x = tensor(rng.standard_normal((2, 4, 8)), "cpu")
    for norm_first in (True, False):
        b = layers.TransformerBlock(8, 2, 16, norm_first=norm_first).double()
        if norm_first:
            h = x + b.attn(b.norm1(x))
            want = h + b.ff(b.norm2(h))
        else:
            h = b.norm1(x + b.attn(x))
            want = b.norm2(h + b.ff(h))
        np.testing.assert_allclose(host(b(x)), host(want), rtol=1e-12)


def test_encoder_stacks_blocks_and_final_norm(device):
    rng = np.random.default_rng(2)
    enc = layers.TransformerEncoder(2, 4, 2, 8, device=device).double()
    assert len(enc.layers) == 2 and isinstance(enc.norm, layers.LayerNorm)
    post = layers.TransformerEncoder(2, 4, 2, 8, norm_first=False)
    assert post.norm is None
    x = rand(rng, 2, 3, 4, device=device, grad=True)
    want = enc.norm(enc.layers[1](enc.layers[0](x)))
    np.testing.assert_allclose(host(enc(x)), host(want), rtol=1e-12)
    assert layers.gradcheck_module(enc, x, fast=True).passed


def test_dropout_in_blocks_is_off_in_eval():
    mg.manual_seed(0)
    block = layers.TransformerBlock(8, 2, 16, dropout=0.5)
    x = mg.randn(2, 5, 8)
    block.eval()
    assert np.array_equal(host(block(x)), host(block(x)))
    block.train()
    assert not np.allclose(host(block(x)), host(block(x)))


# ---------------------------------------------------------------------------
# TransformerClassifier (X4)
# ---------------------------------------------------------------------------
def test_classifier_shapes_and_gradcheck(device):
    model = layers.TransformerClassifier(vocab_size=9, d_model=4, num_heads=2, d_ff=8,
                                         num_layers=1, num_classes=3, max_len=6, dropout=0.1,
                                         device=device).double().eval()
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 8, 7, 6]])
    assert model(ids).shape == (2, 3)
    assert layers.gradcheck_module(model, ids, fast=True).passed


def test_classifier_ignores_padding(device):
    mg.manual_seed(1)
    model = layers.TransformerClassifier(9, 8, 2, 16, 2, 3, max_len=10,
                                         device=device).double().eval()
    short = np.array([[3, 4, 5]])
    padded = np.array([[3, 4, 5, 0, 0, 0]])
    np.testing.assert_allclose(host(model(short)), host(model(padded)), rtol=1e-10)
    all_pad = model(np.zeros((1, 4), dtype=np.int64))        # no real token: finite logits
    assert np.isfinite(host(all_pad)).all()


def test_classifier_learns_a_toy_task():
    """Label = whether token 1 occurs: a few SGD steps separate the two classes."""
    mg.manual_seed(2)
    rng = np.random.default_rng(2)
    ids = rng.integers(2, 6, size=(16, 5))
    labels = rng.integers(0, 2, size=16)
    ids[labels == 1, rng.integers(0, 5)] = 1
    model = layers.TransformerClassifier(6, 16, 2, 32, 1, 2, max_len=5, dropout=0.0,
                                         positional="learned")
    first = None
    for _ in range(60):
        loss = mg.cross_entropy(model(ids), labels)
        first = first if first is not None else loss.item()
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in model.parameters():
                p.sub_(p.grad * 0.1)
    assert loss.item() < 0.25 * first


# ---------------------------------------------------------------------------
# GPT
# ---------------------------------------------------------------------------
def test_gpt_gradcheck(device):
    for tie in (True, False):
        model = layers.GPT(vocab_size=7, d_model=4, num_heads=2, num_layers=2, max_len=5,
                           tie_weights=tie, device=device).double()
        ids = np.array([[1, 2, 3, 4], [6, 5, 0, 2]])
        assert model(ids).shape == (2, 4, 7)
        assert layers.gradcheck_module(model, ids, fast=True).passed


def test_gpt_is_causal(device):
    mg.manual_seed(3)
    model = layers.GPT(11, 8, 2, 2, max_len=8, device=device).double()
    ids = np.array([[1, 2, 3, 4, 5, 6]])
    logits = host(model(ids))
    for t in range(5):
        changed = ids.copy()
        changed[0, t + 1:] = (changed[0, t + 1:] + 3) % 11
        np.testing.assert_array_equal(host(model(changed))[0, : t + 1], logits[0, : t + 1])
        assert not np.allclose(host(model(changed))[0, t + 1:], logits[0, t + 1:])


def test_gpt_tied_weights_share_one_parameter():
    model = layers.GPT(10, 8, 2, 1, 4)
    assert model.lm_head is None and "lm_head.weight" not in model.state_dict()
    ids = np.array([[1, 2, 3]])
    mg.cross_entropy(model(ids[:, :-1]), ids[:, 1:]).backward()
    g_tied = host(model.tok_emb.weight.grad)
    assert np.abs(g_tied[4:]).sum() > 0       # unused tokens still learn through the head
    untied = layers.GPT(10, 8, 2, 1, 4, tie_weights=False)
    assert untied.lm_head.weight.shape == (10, 8)


def test_gpt_generate(device):
    mg.manual_seed(4)
    model = layers.GPT(12, 8, 2, 1, max_len=6, device=device)
    out = model.generate([1, 2, 3], max_new_tokens=7, seed=0)
    assert out.dtype == np.int64 and out.shape == (10,) and list(out[:3]) == [1, 2, 3]
    assert ((0 <= out) & (out < 12)).all()
    assert np.array_equal(out, model.generate([1, 2, 3], 7, seed=0))      # reproducible
    batch = model.generate(np.array([[1, 2], [3, 4]]), 3, temperature=0)
    assert batch.shape == (2, 5)
    np.testing.assert_array_equal(model.generate([[1, 2]], 3, top_k=1)[0], batch[0])
    greedy = batch[0, 2]
    assert greedy == host(model(np.array([[1, 2]])))[0, -1].argmax()
    assert model.training                                                # mode restored
    assert mg.is_grad_enabled()


def test_sample_next_respects_top_k_and_temperature():
    from layers.gpt import sample_next
    rng = np.random.default_rng(0)
    logits = np.array([[0.0, 1.0, 5.0, 2.0]] * 2000)
    picks = sample_next(logits, top_k=2, rng=rng)
    assert set(np.unique(picks)) == {2, 3}
    cold = sample_next(logits, temperature=0.05, rng=rng)
    assert (cold == 2).all()
    hot = sample_next(logits, temperature=100.0, rng=rng)
    assert len(np.unique(hot)) == 4
