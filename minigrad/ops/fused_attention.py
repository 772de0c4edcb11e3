"""Fused causal attention: softmax(q k^T / sqrt(d) + causal mask) v in one graph node,
without computing the blocked upper triangle (F26 with a causal mask).

With a causal mask, query i may only look at keys j <= i: above the diagonal
the scores are thrown away by the softmax (their weight is exactly 0). The
composed version (:func:`causal_attention_reference`, what autograd would
differentiate on its own) still computes every score, masks half of them,
and runs the softmax and both matrix products over the whole (T, T) square.
The fused op cuts the queries into blocks of rows; rows r0..r1 need only
the keys 0..r1, so each block computes a (rows x r1) strip instead of a
(rows x T) one and only the strip's diagonal corner needs a mask. With four
blocks that is 10 of 16 tiles -- about 5/8 of the arithmetic of the full square
(n blocks: (n + 1) / 2n), forward and backward.

Forward, for each block of query rows (s = 1 / sqrt(d)):

    S = (s q_blk) k[:r1]^T          (+ a huge negative number where j > i)
    P = softmax(S) along the keys   (saved for backward)
    out_blk = P v[:r1]

Backward, with G = dL/d(out) and per query row the scalar D = sum(G * out)
(= sum over keys of dP * P, computed once from two (T, d) arrays instead of
the (T, T) ones):

    dP = G_blk v[:r1]^T
    dS = P * (dP - D)                       (the softmax's backward; 0 where P = 0)
    dq_blk = s dS k[:r1],   dk[:r1] += s dS^T q_blk,   dv[:r1] += P^T G_blk

Like the other fused ops (``fused.py``) it has a composed twin, runs composed
under ``minigrad.use_fused(False)``, and differentiates the twin when its
backward runs with ``create_graph=True`` (second derivatives); the tests
(``tests/engine/test_fused_attention.py``) check the two against each other.

Layout: the output and the gradients are allocated with the memory layout of
``q`` (``empty_like``). ``MultiHeadAttention`` hands in (B, H, T, d) views of
(B, T, H, d) arrays, so the result's ``transpose(1, 2).reshape(B, T, d_model)``
(concatenating the heads) is a free view instead of a copy, and so are the
gradients flowing back into the projections.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, ShapeError, describe
from ..modes import fused_enabled
from ..tensor import Tensor
from ._util import xp_of
from .fused import _differentiable_backward

__all__ = ["causal_attention", "causal_attention_reference", "CausalAttention",
           "DEFAULT_BLOCK"]

#: rows of queries per block (T = 128 gives four blocks: 5/8 of the full square)
DEFAULT_BLOCK = 32


def _row_blocks(t_q: int, t_k: int, block: int) -> list[tuple[int, int, int]]:
    """(r0, r1, e) per block of query rows r0..r1-1: keys 0..e-1 are the ones they may see."""
    return [(r0, min(r0 + block, t_q), min(r0 + block, t_q, t_k))
            for r0 in range(0, t_q, block)]


def _very_negative(dtype: Any) -> float:
    # half the dtype's minimum: e^(score + this - max) underflows to exactly 0,
    # and adding it to a finite score cannot overflow to -inf (no inf - inf = NaN)
    return float(np.finfo(dtype).min) / 2


class CausalAttention(Function):
    """out = softmax(q k^T / sqrt(d), keys j > query i blocked) v, over the last two axes.

    q (..., T_q, d), k (..., T_k, d), v (..., T_k, d_v), the same leading shape.
    Query i sees keys 0..i (query i of a sequence attends to its own past).
    See the module docstring for the block-wise forward and backward.
    """

    fused = True

    def forward(self, q, k, v, block=DEFAULT_BLOCK):
        xp = xp_of(q)
        t_q, d = q.shape[-2], q.shape[-1]
        t_k, d_v = k.shape[-2], v.shape[-1]
        self.scale = scale = 1.0 / math.sqrt(d)
        self.blocks = _row_blocks(t_q, t_k, block)
        neg = q.dtype.type(_very_negative(q.dtype))
        zero = q.dtype.type(0)
        # q's layout when the shapes agree: see "Layout" in the module docstring
        out = xp.empty_like(q) if d_v == d else xp.empty(q.shape[:-1] + (d_v,), dtype=q.dtype)
        penalties: dict = {}                         # (rows, cols) -> additive triangular mask
        self.probs = probs = []
        k_t = k.swapaxes(-1, -2)
        for r0, r1, e in self.blocks:
            s = (q[..., r0:r1, :] * scale) @ k_t[..., :e]          # (..., rows, e) scores
            if e > r0 + 1:                           # the strip's corner right of the diagonal
                shape = (r1 - r0, e - r0)
                pen = penalties.get(shape)
                if pen is None:
                    above = xp.arange(shape[1])[None, :] > xp.arange(shape[0])[:, None]
                    pen = penalties[shape] = xp.where(above, neg, zero)
                s[..., r0:e] += pen
            s -= s.max(axis=-1, keepdims=True)       # the softmax, in place
            xp.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            # (assigned, not matmul(out=...): ``out=`` into a strided view is not
            # something every backend's matmul takes)
            out[..., r0:r1, :] = s @ v[..., :e, :]
            probs.append(s)
        return out

    def backward(self, grad):
        if is_grad_enabled():  # create_graph=True: differentiate the composed version
            return _differentiable_backward(self, causal_attention_reference, grad)
        q_t, k_t, v_t = self.inputs
        q, k, v = q_t.data, k_t.data, v_t.data
        xp, g, out = grad.xp, grad.data, self.output.data
        need_q, need_k, need_v = q_t.requires_grad, k_t.requires_grad, v_t.requires_grad
        dq = xp.empty_like(q) if need_q else None
        dk = xp.zeros_like(k) if need_k else None
        dv = xp.zeros_like(v) if need_v else None
        if need_q or need_k:
            row_dot = xp.einsum("...i,...i->...", g, out)[..., None]   # D = sum(G * out)
        v_t_ = v.swapaxes(-1, -2)
        for (r0, r1, e), p in zip(self.blocks, self.probs):
            g_blk = g[..., r0:r1, :]
            if need_v:
                dv[..., :e, :] += p.swapaxes(-1, -2) @ g_blk
            if not (need_q or need_k):
                continue
            ds = g_blk @ v_t_[..., :e]               # dP
            ds -= row_dot[..., r0:r1, :]
            ds *= p                                  # dS = P * (dP - D)
            if need_q:
                dq[..., r0:r1, :] = ds @ k[..., :e, :]
            if need_k:
                dk[..., :e, :] += ds.swapaxes(-1, -2) @ q[..., r0:r1, :]
        if need_q:
            dq *= self.scale
        if need_k:
            dk *= self.scale
        wrap = Tensor._make
        return (None if dq is None else wrap(dq, False), None if dk is None else wrap(dk, False),
                None if dv is None else wrap(dv, False))


def causal_attention_reference(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """The causal attention core composed from primitive ops over the full (T_q, T_k) square:
    scale, matmul, masked_fill, softmax, matmul."""
    xp = q.xp
    t_q, t_k = q.shape[-2], k.shape[-2]
    blocked = xp.arange(t_k)[None, :] > xp.arange(t_q)[:, None]      # key j > query i
    scores = (q * (1.0 / math.sqrt(q.shape[-1]))) @ k.mT
    weights = scores.masked_fill(blocked, _very_negative(q.dtype)).softmax(axis=-1)
    return weights @ v


def causal_attention(q: Tensor, k: Tensor, v: Tensor, block: int = DEFAULT_BLOCK) -> Tensor:
    """softmax(q k^T / sqrt(d) + causal mask) v: query i attends to keys 0..i (F26).

    ``q`` (..., T_q, d), ``k`` (..., T_k, d), ``v`` (..., T_k, d_v). One fused node
    that skips the blocked upper triangle (``block`` query rows at a time); under
    ``minigrad.use_fused(False)`` the composed :func:`causal_attention_reference`.
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, Tensor):
            raise TypeError(f"causal_attention: {name} must be a Tensor, got {describe(t)}")
        if t.ndim < 2:
            raise ShapeError(f"causal_attention: {name} needs shape (..., T, d), got {t.shape}")
        if t.dtype.kind != "f":
            raise DTypeError(f"causal_attention: {name} must be floating point, got {t.dtype}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2] or k.shape[-2] == 0:
        raise ShapeError(f"causal_attention: q {q.shape} and k {k.shape} need the same d, and "
                         f"k and v {v.shape} the same (non-zero) number of keys T_k")
    if int(block) < 1:
        raise ValueError(f"causal_attention: block must be a positive number of rows, got {block}")
    same_lead = q.shape[:-2] == k.shape[:-2] == v.shape[:-2]
    if not fused_enabled() or not same_lead or not q.dtype == k.dtype == v.dtype:
        # composed: also the broadcasting and mixed-dtype cases (errors the primitive ops report)
        return causal_attention_reference(q, k, v)
    return CausalAttention.apply(q, k, v, block=int(block))
