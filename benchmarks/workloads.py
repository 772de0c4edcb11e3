"""Deterministic parameters and data for the benchmark workloads.

Every implementation (raw NumPy floor, PyTorch peer, minigrad) is fed the
arrays produced here, so all of them compute the same loss from the same
weights.  Each ``make_*`` function returns ``(params, data)``:

* ``params``: dict name -> float32 ndarray (the trainable parameters; updated
  in place by a training step).  Linear weights are stored as ``(in, out)``
  so the forward pass is ``x @ W + b``.
* ``data``: dict with the inputs (``"x"``: float32), the labels (``"y"``:
  int64, absent for W4) and ``"cfg"``: a dict of plain Python scalars
  (learning rate and the hyper-parameters that are not visible in the
  shapes, e.g. the number of attention heads).

Workloads (full training step = forward + backward + plain SGD, lr 0.01):

* W1 MLP: batch 256, 784-512-512-10, ReLU, softmax cross-entropy (mean).
* W2 LSTM: batch 32, seq 64, input 64, hidden 128, gates ordered i, f, g, o;
  per step ``z = x_t @ Wx + h @ Wh + b`` (one fused matmul pair for the four
  gates), ``h0 = c0 = 0``; last hidden state -> Linear -> 10 classes.
* W3 transformer block: batch 16, seq 128, d_model 128, 4 heads, FFN 512 with
  GELU (tanh approximation), pre-LayerNorm, causal self-attention with
  separate Q, K, V, O projections (with biases), LayerNorm eps 1e-5 with
  weight and bias; mean-pool over the sequence -> Linear -> 10 classes.
* W4 per-op overhead: ``h = x``; then ``n_ops`` ops alternating
  ``h = h * a`` and ``h = h + x`` on (4,)-shaped tensors; loss ``sum(h)``.
  Only ``x`` is trainable (``a`` is a constant input).  The ``h + x`` ops
  make the leaf ``x`` fan out, so an engine must accumulate its gradient.
"""

from __future__ import annotations

import numpy as np

LR = 0.01

# Full-size configurations (the benchmarked ones).
W1_CFG = dict(batch=256, sizes=(784, 512, 512, 10))
W2_CFG = dict(batch=32, seq=64, n_in=64, hidden=128, n_classes=10)
W3_CFG = dict(batch=16, seq=128, d_model=128, n_heads=4, d_ff=512, n_classes=10, eps=1e-5)
W4_CFG = dict(n_ops=1000, size=4)

# Shrunk configurations for gradient checks.
SMALL = {
    "W1": dict(batch=6, sizes=(10, 8, 7, 4)),
    "W2": dict(batch=3, seq=5, n_in=4, hidden=6, n_classes=3),
    "W3": dict(batch=2, seq=6, d_model=8, n_heads=2, d_ff=16, n_classes=3, eps=1e-5),
    "W4": dict(n_ops=40, size=4),
}

_SEED_OFFSET = {"W1": 1, "W2": 2, "W3": 3, "W4": 4}


def _rng(name: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, _SEED_OFFSET[name]])


def _normal(rng, shape, std):
    return (rng.standard_normal(shape) * std).astype(np.float32)


def _uniform(rng, shape, lo, hi):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def make_w1(seed: int = 0, batch: int = 256, sizes=(784, 512, 512, 10)):
    rng = _rng("W1", seed)
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = _normal(rng, (n_in, n_out), np.sqrt(2.0 / n_in))  # He init
        params[f"b{i}"] = _normal(rng, (n_out,), 0.01)
    data = {
        "x": _normal(rng, (batch, sizes[0]), 1.0),
        "y": rng.integers(0, sizes[-1], size=batch, dtype=np.int64),
        "cfg": {"lr": LR},
    }
    return params, data


def make_w2(seed: int = 0, batch: int = 32, seq: int = 64, n_in: int = 64,
            hidden: int = 128, n_classes: int = 10):
    rng = _rng("W2", seed)
    k = 1.0 / np.sqrt(hidden)  # PyTorch's LSTM init range
    params = {
        "Wx": _uniform(rng, (n_in, 4 * hidden), -k, k),
        "Wh": _uniform(rng, (hidden, 4 * hidden), -k, k),
        "b": _uniform(rng, (4 * hidden,), -k, k),
        "Wy": _normal(rng, (hidden, n_classes), 1.0 / np.sqrt(hidden)),
        "by": _normal(rng, (n_classes,), 0.01),
    }
    data = {
        "x": _normal(rng, (batch, seq, n_in), 1.0),  # batch-first
        "y": rng.integers(0, n_classes, size=batch, dtype=np.int64),
        "cfg": {"lr": LR},
    }
    return params, data


def make_w3(seed: int = 0, batch: int = 16, seq: int = 128, d_model: int = 128,
            n_heads: int = 4, d_ff: int = 512, n_classes: int = 10, eps: float = 1e-5):
    if d_model % n_heads:
        raise ValueError("d_model must be divisible by n_heads")
    rng = _rng("W3", seed)
    D, F = d_model, d_ff
    sd = 1.0 / np.sqrt(D)
    params = {
        # LayerNorm affine params are perturbed away from (1, 0) so that the
        # gradient checks exercise them.
        "ln1_w": (1.0 + _normal(rng, (D,), 0.1)).astype(np.float32),
        "ln1_b": _normal(rng, (D,), 0.1),
        "Wq": _normal(rng, (D, D), sd), "bq": _normal(rng, (D,), 0.02),
        "Wk": _normal(rng, (D, D), sd), "bk": _normal(rng, (D,), 0.02),
        "Wv": _normal(rng, (D, D), sd), "bv": _normal(rng, (D,), 0.02),
        "Wo": _normal(rng, (D, D), sd), "bo": _normal(rng, (D,), 0.02),
        "ln2_w": (1.0 + _normal(rng, (D,), 0.1)).astype(np.float32),
        "ln2_b": _normal(rng, (D,), 0.1),
        "W1": _normal(rng, (D, F), sd), "b1": _normal(rng, (F,), 0.02),
        "W2": _normal(rng, (F, D), 1.0 / np.sqrt(F)), "b2": _normal(rng, (D,), 0.02),
        "Wc": _normal(rng, (D, n_classes), sd), "bc": _normal(rng, (n_classes,), 0.02),
    }
    data = {
        "x": _normal(rng, (batch, seq, D), 1.0),  # input embeddings
        "y": rng.integers(0, n_classes, size=batch, dtype=np.int64),
        "cfg": {"lr": LR, "n_heads": n_heads, "eps": eps},
    }
    return params, data


def make_w4(seed: int = 0, n_ops: int = 1000, size: int = 4):
    if n_ops % 2:
        raise ValueError("n_ops must be even (ops alternate multiply and add)")
    rng = _rng("W4", seed)
    params = {"x": _normal(rng, (size,), 1.0)}
    data = {
        # |a| < 1 keeps the chain h <- h * a + x bounded (|h| <= |x| / (1 - a)).
        "a": _uniform(rng, (size,), 0.5, 0.9),
        "cfg": {"lr": LR, "n_ops": n_ops},
    }
    return params, data


MAKERS = {"W1": make_w1, "W2": make_w2, "W3": make_w3, "W4": make_w4}
FULL = {"W1": W1_CFG, "W2": W2_CFG, "W3": W3_CFG, "W4": W4_CFG}

DESCRIPTIONS = {
    "W1": "MLP 784-512-512-10, batch 256",
    "W2": "LSTM b32 T64 in64 h128",
    "W3": "transformer block b16 T128 d128 h4 ff512",
    "W4": "1000 tiny elementwise ops on (4,)",
}


def make(name: str, seed: int = 0, small: bool = False, **overrides):
    """Return ``(params, data)`` for workload ``name`` ("W1".."W4")."""
    cfg = dict(SMALL[name] if small else FULL[name])
    cfg.update(overrides)
    return MAKERS[name](seed=seed, **cfg)


def copy_params(params: dict, dtype=None) -> dict:
    """Independent copy of a parameter dict (optionally cast)."""
    return {k: (v.astype(dtype) if dtype is not None else v.copy()) for k, v in params.items()}


def cast_data(data: dict, dtype) -> dict:
    """Copy of ``data`` with floating arrays cast to ``dtype`` (labels/cfg untouched)."""
    out = {}
    for k, v in data.items():
        if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating):
            out[k] = v.astype(dtype)
        else:
            out[k] = v
    return out


# --------------------------------------------------------------------------
# W5 CNN (issue 13): batch 64 of 1x28x28 images; conv 3x3 32 -> ReLU ->
# max-pool 2 -> conv 3x3 64 -> ReLU -> max-pool 2 -> Linear 10, cross-entropy.
# Conv kernels in PyTorch's (C_out, C_in, kH, kW) layout; the Linear weight
# (in, out) like the other workloads; flattening is channel-major (C, H, W).
# --------------------------------------------------------------------------
W5_CFG = dict(batch=64, image=28, c1=32, c2=64, n_classes=10)
SMALL["W5"] = dict(batch=3, image=10, c1=3, c2=4, n_classes=3)
_SEED_OFFSET["W5"] = 5


def w5_fc_inputs(image: int, c2: int) -> int:
    """Features entering the Linear layer: (((image - 2) // 2 - 2) // 2)^2 * c2."""
    side = ((image - 2) // 2 - 2) // 2
    return side * side * c2


def make_w5(seed: int = 0, batch: int = 64, image: int = 28, c1: int = 32, c2: int = 64,
            n_classes: int = 10):
    rng = _rng("W5", seed)
    n_fc = w5_fc_inputs(image, c2)
    k1, k2, k3 = 1.0 / np.sqrt(9), 1.0 / np.sqrt(9 * c1), 1.0 / np.sqrt(n_fc)
    params = {                       # PyTorch's default init: U(+-1/sqrt(fan_in))
        "K1": _uniform(rng, (c1, 1, 3, 3), -k1, k1),
        "k1b": _uniform(rng, (c1,), -k1, k1),
        "K2": _uniform(rng, (c2, c1, 3, 3), -k2, k2),
        "k2b": _uniform(rng, (c2,), -k2, k2),
        "Wfc": _uniform(rng, (n_fc, n_classes), -k3, k3),
        "bfc": _uniform(rng, (n_classes,), -k3, k3),
    }
    data = {
        "x": _normal(rng, (batch, 1, image, image), 1.0),
        "y": rng.integers(0, n_classes, size=batch, dtype=np.int64),
        "cfg": {"lr": LR},
    }
    return params, data


MAKERS["W5"] = make_w5
FULL["W5"] = W5_CFG
DESCRIPTIONS["W5"] = "CNN b64 1x28x28: conv3x3x32, pool2, conv3x3x64, pool2, fc10"
