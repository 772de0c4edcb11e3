"""The "op by op" minigrad column: W1..W4 written from Tensor methods, as a learner writes them.

No ``layers``, no fused ops called by name: every model is the formula typed
out with ``@``, ``+``, slices, ``relu``/``sigmoid``/``tanh``/``gelu``,
``mean``/``var``, ``masked_fill`` and ``softmax`` -- the code of the lessons
(``lessons/src/08_rnn_and_lstm.py``, ``09_attention.py``), at benchmark size.
The loss is ``minigrad.cross_entropy`` and the update ``optim.SGD(lr=0.01)``,
as in the ``layers`` column (``impl_minigrad.py``), so the two columns differ
only in how the model is written.

The parameters are ``minigrad.Parameter`` copies of the workload's arrays in
the workload's own layout (Linear weights ``(in, out)``, so ``x @ W + b``; the
LSTM's four gates in one ``(in, 4H)`` matrix and one bias ``b``), so the
gradients come out under the floor's names and every step equals the floor's
(``tests/benchmarks/test_impl_opbyop.py``).

* W1: ``relu(x @ W1 + b1)``, twice, then ``@ W3 + b3``.
* W2: per time step ``z = x[:, t] @ Wx + h @ Wh + b``; ``i, f, o`` the
  sigmoids and ``g`` the tanh of the four slices of ``z``;
  ``c = f * c + i * g``; ``h = o * tanh(c)``.
* W3: LayerNorm as ``(x - mean) / sqrt(var + eps) * w + b``; attention as
  ``softmax(masked_fill(q @ k^T / sqrt(d), causal, -1e30)) @ v`` over a
  ``(B, heads, T, d)`` view; GELU FFN; residual sums; mean over time.
* W4: the per-op chain (the same code as the ``layers`` column: it has no layers).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # layers/ and optim/ are top-level packages of the repository
    sys.path.insert(0, _ROOT)

import minigrad as mg  # noqa: E402

from . import impl_minigrad  # noqa: E402

__all__ = ["W1", "W2", "W3", "W4", "WORKLOADS", "available", "make_step"]


def available() -> bool:
    return True


class _OpByOp(impl_minigrad._Workload):
    """``build`` makes one Parameter per workload array; ``model(p, x)`` is the formula."""

    def model(self, p: dict, x: mg.Tensor, cfg: dict) -> mg.Tensor:
        raise NotImplementedError

    def build(self, params, data):
        p = {k: mg.Parameter(v.copy()) for k, v in params.items()}
        x, y, cfg = mg.Tensor(data["x"]), data["y"], data["cfg"]

        def loss_fn():
            return mg.cross_entropy(self.model(p, x, cfg), y)

        def grads():
            return {k: t.grad.numpy() for k, t in p.items()}

        return list(p.values()), loss_fn, grads

    def __repr__(self) -> str:
        return f"<impl_opbyop.{self.name}>"


class _W1(_OpByOp):
    """MLP: two ReLU layers and a linear head, each ``x @ W + b``."""

    name = "W1"

    def model(self, p, x, cfg):
        h = (x @ p["W1"] + p["b1"]).relu()
        h = (h @ p["W2"] + p["b2"]).relu()
        return h @ p["W3"] + p["b3"]


class _W2(_OpByOp):
    """LSTM cell over 64 time steps, gates i, f, g, o sliced out of one product pair."""

    name = "W2"

    def model(self, p, x, cfg):
        Wx, Wh, b = p["Wx"], p["Wh"], p["b"]
        B, T, _ = x.shape
        H = Wh.shape[0]
        h = mg.zeros(B, H, dtype=x.dtype)
        c = mg.zeros(B, H, dtype=x.dtype)
        for t in range(T):
            z = x[:, t] @ Wx + h @ Wh + b                    # (B, 4H): [i | f | g | o]
            i = z[:, 0 * H:1 * H].sigmoid()
            f = z[:, 1 * H:2 * H].sigmoid()
            g = z[:, 2 * H:3 * H].tanh()
            o = z[:, 3 * H:4 * H].sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
        return h @ p["Wy"] + p["by"]


def _layer_norm(x, w, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / (var + eps).sqrt() * w + b


_CAUSAL: dict = {}


def _causal_blocked(T: int) -> np.ndarray:
    """(T, T) boolean: True where key j > query i (the future is blocked)."""
    m = _CAUSAL.get(T)
    if m is None:
        m = _CAUSAL[T] = np.triu(np.ones((T, T), dtype=bool), k=1)
    return m


class _W3(_OpByOp):
    """Pre-LN causal transformer block from matmul, softmax, masks, mean/var."""

    name = "W3"

    def model(self, p, x, cfg):
        nh, eps = int(cfg["n_heads"]), float(cfg["eps"])
        B, T, D = x.shape
        dh = D // nh

        def heads(t):                                        # (B, T, D) -> (B, nh, T, dh)
            return t.reshape(B, T, nh, dh).transpose(1, 2)

        a = _layer_norm(x, p["ln1_w"], p["ln1_b"], eps)
        q = heads(a @ p["Wq"] + p["bq"])
        k = heads(a @ p["Wk"] + p["bk"])
        v = heads(a @ p["Wv"] + p["bv"])
        scores = (q @ k.mT) * (1.0 / math.sqrt(dh))
        scores = scores.masked_fill(_causal_blocked(T), -1e30)   # e^(-1e30 - max) == 0
        att = scores.softmax(axis=-1) @ v                    # (B, nh, T, dh)
        att = att.transpose(1, 2).reshape(B, T, D)           # concatenate the heads
        x = x + (att @ p["Wo"] + p["bo"])
        f = _layer_norm(x, p["ln2_w"], p["ln2_b"], eps)
        f = (f @ p["W1"] + p["b1"]).gelu() @ p["W2"] + p["b2"]
        x = x + f
        return x.mean(axis=1) @ p["Wc"] + p["bc"]


W1, W2, W3 = _W1(), _W2(), _W3()
W4 = impl_minigrad.W4        # the per-op chain is op by op already
WORKLOADS = {"W1": W1, "W2": W2, "W3": W3, "W4": W4}


def make_step(workload: str, params: dict, data: dict):
    return WORKLOADS[workload].make_step(params, data)
