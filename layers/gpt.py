"""``GPT``: a decoder-only language model (F26-F29 put together).

    ids (B, T) -> token embedding + learned position embedding -> dropout
              -> num_layers x pre-LN TransformerBlock with *causal* attention
              -> final LayerNorm -> logits = h W_vocab^T   (B, T, vocab)

Trained with next-token cross-entropy: ``cross_entropy(model(ids[:, :-1]),
ids[:, 1:])`` (classes on the last axis). With ``tie_weights=True`` the output
layer reuses the token-embedding matrix (W_vocab = embedding weight), which
saves vocab * d_model parameters and usually helps small models.

Initialisation follows GPT-2: weights ~ N(0, 0.02^2), biases 0, and the two
projections that write into the residual stream (attention ``out_proj`` and
``ff.fc2``) scaled down by 1/sqrt(2 * num_layers), so the stream's variance
does not grow with depth.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import backends
from minigrad.autograd import no_grad
from minigrad.tensor import Tensor

from . import init
from .dropout import Dropout
from .embedding import Embedding, as_ids
from .linear import Linear
from .module import Module, ModuleList
from .norm import LayerNorm
from .positional import LearnedPositionalEncoding
from .transformer import TransformerBlock

__all__ = ["GPT", "sample_next"]


def sample_next(logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None,
                rng: np.random.Generator | None = None) -> np.ndarray:
    """One token id per row of host ``logits`` (B, V): softmax(logits / T) restricted
    to the ``top_k`` largest, sampled; ``temperature=0`` picks the argmax."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return logits.argmax(axis=-1)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    z = logits / temperature
    if top_k is not None and 0 < top_k < z.shape[-1]:
        kth = np.sort(z, axis=-1)[:, -top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    rng = rng if rng is not None else backends.get_backend("cpu").rng
    u = rng.random((p.shape[0], 1))
    return np.minimum((np.cumsum(p, axis=-1) < u).sum(axis=-1), p.shape[-1] - 1)


class GPT(Module):
    """``forward(ids (B, T)) -> logits (B, T, vocab_size)``; T <= max_len."""

    def __init__(self, vocab_size: int, d_model: int, num_heads: int, num_layers: int,
                 max_len: int, d_ff: int | None = None, dropout: float = 0.0,
                 tie_weights: bool = True, activation: str = "gelu", dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        kw = dict(dtype=dtype, device=device)
        self.vocab_size, self.max_len = int(vocab_size), int(max_len)
        self.tie_weights = bool(tie_weights)
        d_ff = 4 * d_model if d_ff is None else d_ff
        self.tok_emb = Embedding(vocab_size, d_model, **kw)
        self.pos_emb = LearnedPositionalEncoding(max_len, d_model, **kw)
        self.drop = Dropout(dropout)
        self.blocks = ModuleList(
            TransformerBlock(d_model, num_heads, d_ff, dropout, activation, norm_first=True,
                             **kw) for _ in range(num_layers))
        self.ln_f = LayerNorm(d_model, **kw)
        self.lm_head = None if tie_weights else Linear(d_model, vocab_size, bias=False, **kw)
        self._init_weights(num_layers)

    def _init_weights(self, num_layers: int) -> None:
        for m in self.modules():
            if isinstance(m, Linear):
                init.normal_(m.weight, std=0.02)
                if m.bias is not None:
                    init.zeros_(m.bias)
        init.normal_(self.tok_emb.weight, std=0.02)
        residual_std = 0.02 / math.sqrt(2 * max(num_layers, 1))
        for block in self.blocks:
            init.normal_(block.attn.out_proj.weight, std=residual_std)
            init.normal_(block.ff.fc2.weight, std=residual_std)

    def hidden(self, ids: Any) -> Tensor:
        """The final-LayerNorm features (B, T, d_model) before the output layer."""
        ids_t = as_ids(ids, self.tok_emb.weight.device)
        if ids_t.ndim != 2:
            raise ValueError(f"GPT: ids must have shape (batch, time), got {ids_t.shape}")
        if ids_t.shape[1] == 0:
            from minigrad.errors import ShapeError
            raise ShapeError(f"GPT: the sequence is empty (ids of shape {ids_t.shape}): give "
                             "at least one token per row")
        x = self.drop(self.pos_emb(self.tok_emb(ids_t)))
        for block in self.blocks:
            x = block(x, causal=True)
        return self.ln_f(x)

    def head(self, h: Tensor) -> Tensor:
        """Logits from features: h @ W_emb^T when tied, else ``lm_head(h)``."""
        return h @ self.tok_emb.weight.mT if self.lm_head is None else self.lm_head(h)

    def forward(self, ids: Any) -> Tensor:
        return self.head(self.hidden(ids))

    def generate(self, ids: Any, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, seed: int | None = None) -> np.ndarray:
        """Append ``max_new_tokens`` sampled tokens to ``ids`` ((T,) or (B, T) ints).

        Each step feeds the last ``max_len`` tokens, samples from
        softmax(logits_last / temperature) (top-k if given; argmax when
        temperature is 0) and appends. Returns a host int64 array of the input's
        rank. ``seed`` makes sampling reproducible (else the cpu generator that
        ``minigrad.manual_seed`` seeds is used). Runs in eval mode, without a graph.
        """
        if isinstance(ids, Tensor):
            ids = ids.numpy()
        seq = np.asarray(ids, dtype=np.int64)
        single = seq.ndim == 1
        seq = seq[None, :] if single else seq
        if seq.ndim != 2 or seq.shape[1] == 0:
            raise ValueError(f"generate: ids must be a non-empty (T,) or (B, T) array, got "
                             f"shape {seq.shape}")
        rng = np.random.default_rng(seed) if seed is not None else None
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(int(max_new_tokens)):
                    h = self.hidden(seq[:, -self.max_len:])
                    logits = self.head(h[:, -1])                       # (B, vocab)
                    nxt = sample_next(logits.numpy(), temperature, top_k, rng)
                    seq = np.concatenate([seq, nxt[:, None].astype(np.int64)], axis=1)
        finally:
            self.train(was_training)
        return seq[0] if single else seq

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, max_len={self.max_len}, " \
               f"tie_weights={self.tie_weights}"
