"""Attention (F26-F28): every position looks at every other and takes a weighted average.

F26  Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

For queries Q (..., T_q, d_k), keys K (..., T_k, d_k), values V (..., T_k, d_v):
the score S[i, j] = q_i . k_j / sqrt(d_k) says how well query i matches key
j; a softmax along j turns each row of scores into weights that sum to 1; the
output for query i is the weighted average of the values. Dividing by
sqrt(d_k) keeps the scores' variance near 1 however wide the heads are, so the
softmax does not saturate.

Masks remove pairs (i, j) before the softmax: their score is replaced by a
huge negative number, so e^score underflows to exactly 0 and the remaining
weights renormalise among themselves; afterwards blocked weights are set to
exactly 0 (which also turns a row with *every* key blocked into zeros rather
than NaN). Three kinds, combined with "or":

* ``mask``: boolean, True = blocked, broadcastable to (..., T_q, T_k);
* ``causal=True``: query i may not see keys j > i (a language model must not
  peek at the tokens it is predicting);
* ``key_padding_mask``: boolean (B, T_k), True = that key is padding.

Everything is two batched matrix products, (T_q x d)(d x T_k) and
(T_q x T_k)(T_k x d_v) per batch and head -- never a broadcast over
B * H * T^2 * d elements.

F27  Q = X W_q^T + b_q,  K = X W_k^T + b_k,  V = X W_v^T + b_v   (``Linear`` layers)
F28  multi-head: split d_model into h heads of d_model / h features, attend in
     each head separately, concatenate the heads, mix them with ``out_proj``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.errors import DeviceError, DTypeError, ShapeError
from minigrad.ops.fused_attention import causal_attention
from minigrad.tensor import Tensor

from .linear import Linear
from .module import Module

__all__ = ["scaled_dot_product_attention", "causal_mask", "MultiHeadAttention"]


def _device_bool(mask: Any, like: Tensor, what: str) -> Any:
    """A mask as a boolean array on ``like``'s device."""
    t = mask if isinstance(mask, Tensor) else Tensor(mask, device=like.device)
    if t.device != like.device:
        raise DeviceError(f"attention: {what} is on {t.device}, the queries on {like.device}")
    if t.dtype.kind != "b":
        raise DTypeError(f"attention: {what} must be boolean (True = blocked), got dtype "
                         f"{t.dtype}; for a 0/1 mask write `mask == 0` or `mask.astype(bool)`")
    return t.data


def causal_mask(t_q: int, t_k: int, like: Tensor) -> Any:
    """Boolean (t_q, t_k) array on ``like``'s device: True where key j > query i."""
    xp = like.xp
    return xp.arange(t_k)[None, :] > xp.arange(t_q)[:, None]


def _blocked(scores_shape: tuple[int, ...], like: Tensor, mask: Any, causal: bool,
             key_padding_mask: Any) -> Any:
    """The combined boolean mask (True = blocked), or None when nothing is blocked."""
    t_q, t_k = scores_shape[-2], scores_shape[-1]
    blocked = None
    if mask is not None:
        blocked = _device_bool(mask, like, "mask")
        try:
            np.broadcast_shapes(blocked.shape, scores_shape)
        except ValueError:
            raise ShapeError(f"attention: mask of shape {blocked.shape} does not broadcast to "
                             f"the scores' shape {scores_shape} (..., T_q, T_k)") from None
    if causal:
        c = causal_mask(t_q, t_k, like)
        blocked = c if blocked is None else (blocked | c)
    if key_padding_mask is not None:
        kpm = _device_bool(key_padding_mask, like, "key_padding_mask")
        if kpm.ndim != 2 or kpm.shape != (scores_shape[0], t_k):
            raise ShapeError(f"attention: key_padding_mask must have shape (batch, T_k) = "
                             f"{(scores_shape[0], t_k)}, got {kpm.shape}")
        kpm = kpm.reshape((kpm.shape[0],) + (1,) * (len(scores_shape) - 2) + (t_k,))
        blocked = kpm if blocked is None else (blocked | kpm)
    return blocked


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Any = None,
                                 causal: bool = False, key_padding_mask: Any = None,
                                 dropout_p: float = 0.0, training: bool = False
                                 ) -> tuple[Tensor, Tensor]:
    """F26  out = softmax(q k^T / sqrt(d_k) [masked]) v.

    ``q``: (..., T_q, d_k), ``k``: (..., T_k, d_k), ``v``: (..., T_k, d_v).
    Returns ``(out (..., T_q, d_v), weights (..., T_q, T_k))``; the weights are
    those before attention dropout (``dropout_p`` is applied only when
    ``training``).
    """
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(f"attention: q, k, v need shape (..., T, d), got {q.shape}, "
                         f"{k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"attention: q {q.shape} and k {k.shape} need the same d_k; k and v "
                         f"{v.shape} the same number of keys T_k")
    scale = 1.0 / math.sqrt(q.shape[-1])
    scores = (q * scale) @ k.mT                                  # (..., T_q, T_k)
    blocked = _blocked(scores.shape, q, mask, causal, key_padding_mask)
    if blocked is None:
        weights = scores.softmax(axis=-1)
    else:
        # one fused node for: masked_fill(scores, blocked, min/2) -> softmax ->
        # masked_fill(weights, blocked, 0) (blocked weights exactly 0; a row with
        # every key blocked gives zeros, not 1/T) -- see minigrad/ops/fused.py
        weights = ops.masked_softmax(scores, blocked)
    attended = ops.dropout(weights, dropout_p, training) if dropout_p > 0.0 else weights
    return attended @ v, weights


class MultiHeadAttention(Module):
    """F27/F28  Multi-head attention with ``q_proj``, ``k_proj``, ``v_proj``, ``out_proj``.

    ``forward(query, key=None, value=None, *, causal=False, key_padding_mask=None,
    mask=None, return_weights=False)``: self-attention when only ``query`` (B, T, d)
    is given; cross-attention with separate ``key``/``value`` (B, T_k, d).
    ``mask`` may be (T_q, T_k), (B, T_q, T_k) or (B, H, T_q, T_k). Returns
    (B, T_q, d), or ``(out, weights (B, H, T_q, T_k))`` with ``return_weights``.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 dtype: Any = None, device: str | None = None) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"MultiHeadAttention: d_model={d_model} is not divisible by "
                             f"num_heads={num_heads}")
        self.d_model, self.num_heads = int(d_model), int(num_heads)
        self.head_dim = self.d_model // self.num_heads
        self.dropout = float(dropout)
        kw = dict(bias=bias, dtype=dtype, device=device)
        self.q_proj = Linear(d_model, d_model, **kw)
        self.k_proj = Linear(d_model, d_model, **kw)
        self.v_proj = Linear(d_model, d_model, **kw)
        self.out_proj = Linear(d_model, d_model, **kw)

    def _split(self, x: Tensor) -> Tensor:
        b, t, _ = x.shape                                      # (B, T, d) -> (B, H, T, d/H)
        return x.reshape(b, t, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None,
                *, causal: bool = False, key_padding_mask: Any = None, mask: Any = None,
                return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        if isinstance(key, bool):
            raise TypeError("MultiHeadAttention.forward(query, key, value, ...): pass "
                            "causal=... as a keyword")
        key = query if key is None else key
        value = key if value is None else value
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != 3 or t.shape[-1] != self.d_model:
                raise ShapeError(f"MultiHeadAttention: {name} must have shape (batch, time, "
                                 f"{self.d_model}), got {t.shape}")
        if not query.shape[0] == key.shape[0] == value.shape[0]:
            raise ShapeError(f"MultiHeadAttention: query, key and value must have the same "
                             f"batch size, got query {query.shape}, key {key.shape}, value "
                             f"{value.shape}")
        if key.shape[1] != value.shape[1]:
            raise ShapeError(f"MultiHeadAttention: key and value must have the same length "
                             f"(one value per key), got key {key.shape}, value {value.shape}")
        for name, t in (("key", key), ("value", value)):
            if t.device != query.device:
                raise DeviceError(f"MultiHeadAttention: {name} is on {t.device} but query is "
                                  f"on {query.device}")
            if t.dtype != query.dtype:
                raise DTypeError(f"MultiHeadAttention: {name} is {t.dtype} but query is "
                                 f"{query.dtype}")
        if mask is not None:
            m = mask if isinstance(mask, Tensor) else Tensor(mask, device=query.device)
            mask = m.unsqueeze(1) if m.ndim == 3 else m       # (B, Tq, Tk) -> (B, 1, Tq, Tk)
        q = self._split(self.q_proj(query))
        k = self._split(self.k_proj(key))
        v = self._split(self.v_proj(value))
        plain_causal = (causal and mask is None and key_padding_mask is None
                        and not return_weights and not (self.dropout and self.training))
        if plain_causal:
            # one fused node that never computes the blocked upper triangle (about
            # 5/8 of the work at T = 128); composed under use_fused(False) -- see
            # minigrad/ops/fused_attention.py
            out, weights = causal_attention(q, k, v), None
        else:
            out, weights = scaled_dot_product_attention(
                q, k, v, mask=mask, causal=causal, key_padding_mask=key_padding_mask,
                dropout_p=self.dropout, training=self.training)
        b, t_q = query.shape[0], query.shape[1]
        merged = out.transpose(1, 2).reshape(b, t_q, self.d_model)   # concatenate the heads
        y = self.out_proj(merged)
        return (y, weights) if return_weights else y

    def extra_repr(self) -> str:
        extra = f", dropout={self.dropout}" if self.dropout else ""
        return f"d_model={self.d_model}, num_heads={self.num_heads}{extra}"
