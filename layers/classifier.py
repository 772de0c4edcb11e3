"""``TransformerClassifier`` (X4): a sequence of token ids -> class logits.

    ids (B, T) -> token embedding + positional encoding -> dropout
               -> TransformerEncoder (padding keys masked out)
               -> mean over the non-pad positions  h = sum_t m_t x_t / sum_t m_t
               -> dropout -> Linear(d_model, num_classes)

(F29: embedding layer, self-attention encoder, linear output layer.) Train it
with ``minigrad.cross_entropy(logits, labels)``.
"""
from __future__ import annotations

from typing import Any

from minigrad.tensor import Tensor

from .dropout import Dropout
from .embedding import Embedding, as_ids
from .linear import Linear
from .module import Module
from .positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding
from .transformer import TransformerEncoder

__all__ = ["TransformerClassifier"]


class TransformerClassifier(Module):
    """``forward(ids (B, T) ints) -> logits (B, num_classes)``; ``pad_id`` marks padding."""

    def __init__(self, vocab_size: int, d_model: int, num_heads: int, d_ff: int,
                 num_layers: int, num_classes: int, max_len: int, dropout: float = 0.1,
                 pad_id: int = 0, activation: str = "gelu", norm_first: bool = True,
                 positional: str = "sinusoidal", dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        kw = dict(dtype=dtype, device=device)
        self.pad_id, self.d_model = int(pad_id), int(d_model)
        self.embed = Embedding(vocab_size, d_model, **kw)
        if positional == "sinusoidal":
            self.pos = SinusoidalPositionalEncoding(d_model, max_len, **kw)
        elif positional == "learned":
            self.pos = LearnedPositionalEncoding(max_len, d_model, **kw)
        else:
            raise ValueError(f"positional must be 'sinusoidal' or 'learned', got {positional!r}")
        self.drop_in = Dropout(dropout)
        self.encoder = TransformerEncoder(num_layers, d_model, num_heads, d_ff, dropout,
                                          activation, norm_first, **kw)
        self.drop_out = Dropout(dropout)
        self.head = Linear(d_model, num_classes, **kw)

    def forward(self, ids: Any) -> Tensor:
        ids_t = as_ids(ids, self.embed.weight.device)
        if ids_t.ndim != 2:
            raise ValueError(f"TransformerClassifier: ids must have shape (batch, time), got "
                             f"{ids_t.shape}")
        pad = ids_t.data == self.pad_id                                   # (B, T) True = pad
        x = self.pos(self.embed(ids_t))
        x = self.encoder(self.drop_in(x), key_padding_mask=pad)
        keep = Tensor._make((~pad).astype(x.dtype)[..., None], False)     # (B, T, 1)
        count = Tensor._make(x.xp.maximum(keep.data.sum(axis=1), 1.0), False)
        pooled = (x * keep).sum(axis=1) / count                           # mean of real tokens
        return self.head(self.drop_out(pooled))
