"""``CharLSTM`` (F31, X3): a character-level next-character model.

    ids (B, T) -> Embedding(vocab, embed_dim) -> LSTM(hidden_size, full sequence)
               -> per-step Linear(hidden_size, vocab) -> logits (B, T, vocab)

The softmax over the vocabulary lives inside the loss: train with
``minigrad.cross_entropy(logits, next_ids)`` (classes on the last axis) and an
Adam optimiser, as the source document does with "categorical cross-entropy".
"""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import no_grad
from minigrad.tensor import Tensor

from .embedding import Embedding, as_ids
from .gpt import sample_next
from .linear import Linear
from .module import Module
from .recurrent import LSTM

__all__ = ["CharLSTM"]


class CharLSTM(Module):
    """``forward(ids, state=None, return_state=False) -> logits`` (or ``(logits, state)``)."""

    def __init__(self, vocab_size: int, embed_dim: int = 16, hidden_size: int = 32,
                 num_layers: int = 1, dropout: float = 0.0, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        kw = dict(dtype=dtype, device=device)
        self.vocab_size = int(vocab_size)
        self.embed = Embedding(vocab_size, embed_dim, **kw)
        self.lstm = LSTM(embed_dim, hidden_size, num_layers, batch_first=True, dropout=dropout,
                         **kw)
        self.head = Linear(hidden_size, vocab_size, **kw)

    def forward(self, ids: Any, state: tuple[Tensor, Tensor] | None = None,
                return_state: bool = False) -> Tensor | tuple[Tensor, tuple[Tensor, Tensor]]:
        x = self.embed(as_ids(ids, self.embed.weight.device))     # (B, T, embed_dim)
        out, state = self.lstm(x, state)                         # (B, T, hidden)
        logits = self.head(out)                                  # (B, T, vocab)
        return (logits, state) if return_state else logits

    def generate(self, ids: Any, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, seed: int | None = None) -> np.ndarray:
        """Feed ``ids`` ((T,) or (B, T)), then sample ``max_new_tokens`` characters one
        at a time, carrying the LSTM state. Returns host int64 ids (input + new)."""
        seq = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids, dtype=np.int64)
        single = seq.ndim == 1
        seq = seq[None, :] if single else seq
        rng = np.random.default_rng(seed) if seed is not None else None
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                logits, state = self(seq, return_state=True)
                for _ in range(int(max_new_tokens)):
                    nxt = sample_next(logits[:, -1].numpy(), temperature, top_k, rng)
                    seq = np.concatenate([seq, nxt[:, None].astype(np.int64)], axis=1)
                    logits, state = self(nxt[:, None], state, return_state=True)
        finally:
            self.train(was_training)
        return seq[0] if single else seq
