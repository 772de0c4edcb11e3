"""State-dict interop with PyTorch itself, both ways, for every documented pair:
minigrad -> ``to_torch_state_dict`` -> the PyTorch counterpart, and a PyTorch module's
``state_dict()`` -> ``from_torch_state_dict`` -> minigrad; the outputs must agree
(float64). Skipped when torch is not installed (it is never a dependency)."""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional

D, H, FF, V, T = 8, 2, 12, 11, 5


def _gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


class TorchGPT(nn.Module):
    """The PyTorch counterpart of ``layers.GPT`` documented in ``layers/interop.py``."""

    def __init__(self, vocab, d, heads, num_layers, max_len, d_ff, tie_weights=True):
        super().__init__()
        kw = dict(dtype=torch.float64)
        self.tok_emb = nn.Embedding(vocab, d, **kw)
        self.pos_emb = nn.Embedding(max_len, d, **kw)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, d_ff, dropout=0.0, activation=_gelu_tanh,
                                       batch_first=True, norm_first=True, **kw)
            for _ in range(num_layers))
        self.ln_f = nn.LayerNorm(d, **kw)
        self.lm_head = None if tie_weights else nn.Linear(d, vocab, bias=False, **kw)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.tok_emb(ids) + self.pos_emb(torch.arange(t))
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        for block in self.blocks:
            x = block(x, src_mask=causal)
        h = self.ln_f(x)
        return h @ self.tok_emb.weight.T if self.lm_head is None else self.lm_head(h)


def _pairs():
    """name -> (minigrad factory, torch factory, input kind)."""
    f64 = dict(dtype=torch.float64)
    return {
        "Linear": (lambda: layers.Linear(5, 3), lambda: nn.Linear(5, 3, **f64), "x5"),
        "MLP": (lambda: layers.MLP([5, 6, 4, 3], activation="tanh"),
                lambda: nn.Sequential(nn.Linear(5, 6, **f64), nn.Tanh(), nn.Linear(6, 4, **f64),
                                      nn.Tanh(), nn.Linear(4, 3, **f64)), "x5"),
        "Embedding": (lambda: layers.Embedding(V, D), lambda: nn.Embedding(V, D, **f64), "ids"),
        "LayerNorm": (lambda: layers.LayerNorm(5), lambda: nn.LayerNorm(5, **f64), "x5"),
        "LSTM": (lambda: layers.LSTM(5, 4, num_layers=2, bidirectional=True),
                 lambda: nn.LSTM(5, 4, num_layers=2, bidirectional=True, batch_first=True, **f64),
                 "seq5"),
        "RNN": (lambda: layers.RNN(5, 4, num_layers=2, bidirectional=True),
                lambda: nn.RNN(5, 4, num_layers=2, bidirectional=True, batch_first=True, **f64),
                "seq5"),
        "LSTM_time_first": (lambda: layers.LSTM(5, 4, batch_first=False),
                            lambda: nn.LSTM(5, 4, **f64), "seq5"),
        "MultiHeadAttention": (lambda: layers.MultiHeadAttention(D, H),
                               lambda: nn.MultiheadAttention(D, H, batch_first=True, **f64),
                               "mha"),
        "TransformerBlock_preLN_gelu": (
            lambda: layers.TransformerBlock(D, H, FF),
            lambda: nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation=_gelu_tanh,
                                               batch_first=True, norm_first=True, **f64), "seqD"),
        "TransformerBlock_postLN_relu": (
            lambda: layers.TransformerBlock(D, H, FF, activation="relu", norm_first=False),
            lambda: nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation="relu",
                                               batch_first=True, norm_first=False, **f64),
            "seqD"),
        "TransformerBlock_exact_gelu": (
            lambda: layers.TransformerBlock(D, H, FF, activation=layers.GELU("none")),
            lambda: nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True, **f64),
            "seqD"),
        "GPT": (lambda: layers.GPT(V, D, H, 2, T, d_ff=FF),
                lambda: TorchGPT(V, D, H, 2, T, FF), "ids"),
        "GPT_untied": (lambda: layers.GPT(V, D, H, 2, T, d_ff=FF, tie_weights=False),
                       lambda: TorchGPT(V, D, H, 2, T, FF, tie_weights=False), "ids"),
    }


def _run(kind, ours, theirs, rng):
    if kind == "ids":
        ids = rng.integers(0, V, size=(2, T))
        return host(ours(ids)), theirs(torch.from_numpy(ids)).detach().numpy()
    shape = {"x5": (3, 5), "seq5": (2, T, 5), "mha": (2, T, D), "seqD": (2, T, D)}[kind]
    x = rng.standard_normal(shape)
    a, b = ours(mg.Tensor(x)), theirs(*((torch.from_numpy(x),) * (3 if kind == "mha" else 1)))
    a = a[0] if isinstance(a, tuple) else a
    b = b[0] if isinstance(b, tuple) else b
    return host(a), b.detach().numpy()


@pytest.mark.parametrize("name", list(_pairs()))
def test_minigrad_to_torch(name):
    make_ours, make_theirs, kind = _pairs()[name]
    ours, theirs = make_ours().double().eval(), make_theirs().eval()
    sd = layers.to_torch_state_dict(ours)
    result = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    a, b = _run(kind, ours, theirs, np.random.default_rng(0))
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(_pairs()))
def test_torch_to_minigrad(name):
    make_ours, make_theirs, kind = _pairs()[name]
    torch.manual_seed(0)
    theirs = make_theirs().eval()
    with torch.no_grad():                 # LayerNorm starts at ones/zeros: make it random
        for p in theirs.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    ours = make_ours().double().eval()
    layers.from_torch_state_dict(ours, theirs.state_dict())   # torch tensors go in directly
    a, b = _run(kind, ours, theirs, np.random.default_rng(1))
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_causal_attention_matches_after_transfer():
    ours = layers.MultiHeadAttention(D, H).double()
    theirs = nn.MultiheadAttention(D, H, batch_first=True, dtype=torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v)
                            for k, v in layers.to_torch_state_dict(ours).items()})
    x = np.random.default_rng(2).standard_normal((2, T, D))
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)   # True = blocked
    want = theirs(*(torch.from_numpy(x),) * 3, attn_mask=mask, need_weights=False)[0]
    np.testing.assert_allclose(host(ours(mg.Tensor(x), causal=True)), want.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
