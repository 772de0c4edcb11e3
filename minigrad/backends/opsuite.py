"""A catalogue of every public op, with inputs, for cross-backend checks.

Each :class:`Case` builds its inputs from a seed (host NumPy arrays, so the
same numbers can be put on any device) and calls one op. Two users:

* ``tests/backends/test_allow_list.py`` runs every case forward and backward
  on ``"fake"`` while recording which ``xp`` names the engine looks up, and
  asserts each is on the fake's CuPy allow-list;
* ``minigrad.gpucheck`` compares every case on ``"cpu"`` and ``"cuda"``, in
  float64 and float32, forward values and gradients.

Inputs are drawn away from kinks (relu, abs, clip, max) and from the edges of
domains (log, sqrt, pow), so gradients are well defined and comparable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["Case", "CASES", "run_case"]


@dataclass
class Case:
    """One op call: ``fn(*tensors, *constants)`` with tensors made from ``make(rng)``."""

    name: str
    make: Callable[[np.random.Generator], tuple[list[np.ndarray], list[Any]]]
    fn: Callable[..., Any]
    differentiable: bool = True
    gradcheck: bool = True                 # cheap enough for a float64 gradcheck


def _away(rng: np.random.Generator, shape: Sequence[int], lo: float = -2.0, hi: float = 2.0,
          gap: float = 0.1) -> np.ndarray:
    """Uniform in [lo, hi] but at least ``gap`` away from 0 (the kink of relu/abs)."""
    x = rng.uniform(lo, hi, shape)
    return np.where(np.abs(x) < gap, np.sign(x + 1e-12) * gap + x, x)


def _distinct(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    """All-distinct values (max/min have a unique argmax), well separated."""
    n = int(np.prod(shape))
    return (rng.permutation(n).astype(np.float64) * 0.37 - n * 0.18).reshape(shape)


def _pos(rng: np.random.Generator, shape: Sequence[int]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def _n(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def _mg():
    import minigrad as mg
    return mg


def _cases() -> list[Case]:
    mg = _mg()
    F = mg.functional
    C: list[Case] = []

    def add(name, make, fn, **kw):
        C.append(Case(name, make, fn, **kw))

    # elementwise, unary
    add("neg", lambda r: ([_n(r, 3, 4)], []), lambda a: -a)
    add("abs", lambda r: ([_away(r, (3, 4))], []), F.abs)
    add("exp", lambda r: ([_n(r, 3, 4)], []), F.exp)
    add("log", lambda r: ([_pos(r, (3, 4))], []), F.log)
    add("sqrt", lambda r: ([_pos(r, (3, 4))], []), F.sqrt)
    add("tanh", lambda r: ([_n(r, 3, 4)], []), F.tanh)
    add("sigmoid", lambda r: ([_n(r, 3, 4)], []), F.sigmoid)
    add("relu", lambda r: ([_away(r, (3, 4))], []), F.relu)
    add("leaky_relu", lambda r: ([_away(r, (3, 4))], []), lambda a: F.leaky_relu(a, 0.1))
    add("gelu", lambda r: ([_n(r, 3, 4)], []), F.gelu)
    add("clip", lambda r: ([_away(r, (3, 4), -2, 2) * 1.3 + 0.05], []),
        lambda a: F.clip(a, -1.0, 1.0))
    # elementwise, binary (with broadcasting)
    add("add", lambda r: ([_n(r, 2, 3, 4), _n(r, 3, 1)], []), F.add)
    add("sub", lambda r: ([_n(r, 3, 4), _n(r, 4)], []), F.sub)
    add("mul", lambda r: ([_n(r, 3, 4), _n(r, 1, 4)], []), F.mul)
    add("div", lambda r: ([_n(r, 3, 4), _pos(r, (3, 1))], []), F.div)
    add("pow", lambda r: ([_pos(r, (3, 4)), _n(r, 4) * 0.5], []), F.pow)
    add("pow_scalar", lambda r: ([_n(r, 3, 4)], []), lambda a: a ** 2)
    add("maximum", lambda r: ([_distinct(r, (3, 4)), _distinct(r, (3, 4)) + 0.11], []),
        F.maximum)
    add("minimum", lambda r: ([_distinct(r, (3, 4)), _distinct(r, (3, 4)) + 0.11], []),
        F.minimum)
    add("where", lambda r: ([_n(r, 3, 4), _n(r, 3, 4)], [r.random((3, 4)) > 0.5]),
        lambda a, b, cond: F.where(mg.Tensor(cond, device=a.device), a, b))
    add("masked_fill", lambda r: ([_n(r, 3, 4)], [r.random((3, 4)) > 0.5]),
        lambda a, m: F.masked_fill(a, mg.Tensor(m, device=a.device), -1.5))
    # reductions
    add("sum", lambda r: ([_n(r, 3, 4, 5)], []), lambda a: F.sum(a, axis=(0, 2)))
    add("mean", lambda r: ([_n(r, 3, 4)], []), lambda a: F.mean(a, axis=1, keepdims=True))
    add("var", lambda r: ([_n(r, 3, 4)], []), lambda a: F.var(a, axis=0))
    add("max", lambda r: ([_distinct(r, (3, 4))], []), lambda a: F.max(a, axis=1))
    add("min", lambda r: ([_distinct(r, (3, 4))], []), lambda a: F.min(a))
    add("logsumexp", lambda r: ([_n(r, 3, 4)], []), lambda a: F.logsumexp(a, axis=-1))
    # linear algebra
    add("matmul", lambda r: ([_n(r, 3, 4), _n(r, 4, 2)], []), F.matmul)
    add("matmul_batched", lambda r: ([_n(r, 2, 3, 4), _n(r, 4, 5)], []), lambda a, b: a @ b)
    add("linear", lambda r: ([_n(r, 5, 4), _n(r, 3, 4), _n(r, 3)], []), F.linear)
    # shape and indexing
    add("reshape", lambda r: ([_n(r, 3, 4)], []), lambda a: F.reshape(a, (2, 6)))
    add("permute", lambda r: ([_n(r, 2, 3, 4)], []), lambda a: F.permute(a, 2, 0, 1))
    add("transpose", lambda r: ([_n(r, 3, 4)], []), F.transpose)
    add("broadcast_to", lambda r: ([_n(r, 3, 1)], []), lambda a: F.broadcast_to(a, (2, 3, 4)))
    add("squeeze", lambda r: ([_n(r, 3, 1, 4)], []), lambda a: F.squeeze(a, 1))
    add("unsqueeze", lambda r: ([_n(r, 3, 4)], []), lambda a: F.unsqueeze(a, 1))
    add("concatenate", lambda r: ([_n(r, 2, 4), _n(r, 3, 4)], []),
        lambda a, b: F.concatenate([a, b], axis=0))
    add("stack", lambda r: ([_n(r, 3, 4), _n(r, 3, 4)], []), lambda a, b: F.stack([a, b], 1))
    add("split", lambda r: ([_n(r, 6, 2)], []),
        lambda a: F.split(a, [1, 2, 3])[1] * 2 + F.split(a, [1, 2, 3])[2][:2])
    add("getitem_basic", lambda r: ([_n(r, 4, 5)], []), lambda a: a[1:3, ::2])
    add("getitem_int_array", lambda r: ([_n(r, 4, 5)], [np.array([3, 0, 3, -1])]),
        lambda a, i: a[i])
    add("getitem_two_arrays", lambda r: ([_n(r, 4, 5)], [np.array([0, 2, 2]),
                                                         np.array([4, -5, 1])]),
        lambda a, i, j: a[i, j])
    add("getitem_mask", lambda r: ([_n(r, 4, 5)], [np.arange(20).reshape(4, 5) % 3 == 0]),
        lambda a, m: a[mg.Tensor(m, device=a.device)])
    add("gather", lambda r: ([_n(r, 3, 5)], [r.integers(0, 5, (3, 4))]),
        lambda a, i: F.gather(a, 1, mg.Tensor(i, device=a.device)))
    add("embedding", lambda r: ([_n(r, 6, 3)], [r.integers(0, 6, (2, 4))]),
        lambda w, i: F.embedding(w, mg.Tensor(i, device=w.device)))
    add("astype", lambda r: ([_n(r, 3, 4)], []),
        lambda a: a.astype("float32" if a.dtype == np.float64 else "float64"),
        gradcheck=False)
    # neural-network ops and losses
    add("softmax", lambda r: ([_n(r, 3, 5)], []), F.softmax)
    add("log_softmax", lambda r: ([_n(r, 3, 5)], []), lambda a: F.log_softmax(a, axis=0))
    add("masked_softmax", lambda r: ([_n(r, 2, 3, 4)], [np.triu(np.ones((3, 4), bool), 1)]),
        lambda a, m: F.masked_softmax(a, mg.Tensor(m, device=a.device)))
    add("cross_entropy", lambda r: ([_n(r, 4, 5)], [r.integers(0, 5, 4)]),
        lambda a, t: F.cross_entropy(a, mg.Tensor(t, device=a.device)))
    add("mse_loss", lambda r: ([_n(r, 3, 4), _n(r, 3, 4)], []), F.mse_loss)
    add("half_sse", lambda r: ([_n(r, 3, 4), _n(r, 3, 4)], []), F.half_sse)
    add("binary_cross_entropy_with_logits", lambda r: ([_n(r, 3, 4)], [(r.random((3, 4)) > 0.5) * 1.0]),
        lambda a, t: F.binary_cross_entropy_with_logits(a, t))
    add("binary_cross_entropy", lambda r: ([r.uniform(0.1, 0.9, (3, 4))], [(r.random((3, 4)) > 0.5) * 1.0]),
        lambda p, t: F.binary_cross_entropy(p, t))
    add("one_hot", lambda r: ([_n(r, 4, 3)], [r.integers(0, 3, 4)]),
        lambda a, i: a * F.one_hot(mg.Tensor(i, device=a.device), 3, like=a))
    add("layer_norm", lambda r: ([_n(r, 2, 3, 6), 1 + 0.1 * _n(r, 6), _n(r, 6)], []),
        lambda x, w, b: F.layer_norm(x, w, b))
    add("lstm", lambda r: ([_n(r, 3, 2, 4) * 0.5, _n(r, 2, 5) * 0.5, _n(r, 2, 5) * 0.5,
                            _n(r, 20, 4) * 0.3, _n(r, 20, 5) * 0.3, _n(r, 20) * 0.1,
                            _n(r, 20) * 0.1], []),
        F.lstm)
    add("dropout_eval", lambda r: ([_n(r, 3, 4)], []),
        lambda a: F.dropout(a, 0.5, training=False))
    add("sin", lambda r: ([_n(r, 3, 4)], []), F.sin)
    add("cos", lambda r: ([_n(r, 3, 4)], []), F.cos)
    add("erf", lambda r: ([_n(r, 3, 4)], []), F.erf)
    add("gelu_exact", lambda r: ([_n(r, 3, 4)], []), lambda a: F.gelu(a, approximate="none"))
    add("causal_attention", lambda r: ([_n(r, 2, 5, 3), _n(r, 2, 5, 3), _n(r, 2, 5, 4)], []),
        lambda q, k, v: F.causal_attention(q, k, v, block=2))
    # convolution, pooling, batch norm (fused and composed)
    add("conv2d", lambda r: ([_n(r, 2, 4, 6, 5), _n(r, 6, 2, 3, 2) * 0.3, _n(r, 6)], []),
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2))
    add("conv2d_reference", lambda r: ([_n(r, 2, 2, 5, 5), _n(r, 3, 2, 3, 3) * 0.3], []),
        lambda x, w: F.conv2d_reference(x, w, stride=2, padding=1))
    add("conv1d", lambda r: ([_n(r, 2, 3, 7), _n(r, 4, 3, 3) * 0.3, _n(r, 4)], []),
        lambda x, w, b: F.conv1d(x, w, b, padding=1))
    add("max_pool2d", lambda r: ([_distinct(r, (2, 2, 5, 5))], []),
        lambda x: F.max_pool2d(x, 3, stride=2, padding=1))
    add("max_pool2d_reference", lambda r: ([_distinct(r, (2, 2, 4, 4))], []),
        lambda x: F.max_pool2d_reference(x, 2))
    add("avg_pool2d", lambda r: ([_n(r, 2, 2, 5, 5)], []),
        lambda x: F.avg_pool2d(x, 3, stride=2, padding=1))
    add("avg_pool2d_reference", lambda r: ([_n(r, 2, 2, 4, 4)], []),
        lambda x: F.avg_pool2d_reference(x, 2))
    add("batch_norm", lambda r: ([_n(r, 4, 3, 2, 2), 1 + 0.1 * _n(r, 3), _n(r, 3)], []),
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True))
    add("batch_norm_reference", lambda r: ([_n(r, 5, 3), 1 + 0.1 * _n(r, 3), _n(r, 3)], []),
        lambda x, w, b: F.batch_norm_reference(x, None, None, w, b, training=True))
    # the counter-based stream gives the same mask on every backend for one seed
    add("dropout_train", lambda r: ([_n(r, 6, 7)], []),
        lambda a: (mg.manual_seed(3), F.dropout(a, 0.3))[1], gradcheck=False)
    return C


CASES: list[Case] = _cases()


def run_case(case: Case, device: str, dtype: Any, seed: int = 0,
             backward: bool = True) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Run ``case`` on ``device`` in ``dtype``; return the output and the gradients
    of a fixed random weighting of it, all copied to the host."""
    mg = _mg()
    from . import to_numpy
    rng = np.random.default_rng(seed)
    arrays, constants = case.make(rng)
    tensors = [mg.Tensor(a.astype(dtype), device=device, requires_grad=case.differentiable)
               for a in arrays]
    out = case.fn(*tensors, *constants)
    host_out = to_numpy(out.data).astype(np.float64)
    grads: list[np.ndarray | None] = []
    if backward and case.differentiable:
        w = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(out.dtype)
        (out * mg.Tensor(w, device=device)).sum().backward()
        grads = [None if t.grad is None else to_numpy(t.grad.data).astype(np.float64)
                 for t in tensors]
    return host_out, grads
