"""F20 -- remedies for vanishing and exploding gradients: weight penalties and
gradient clipping. (The adaptive optimisers of F18/F19 and dropout,
``minigrad.dropout``, are the other remedies F20 lists.)

Weight penalties are ordinary differentiable losses you add to the data loss::

    loss = data_loss + lam * l2_penalty(model.parameters())

* :func:`l2_penalty` = Σ θ² over all parameters ("ridge"); its gradient 2θ
  pulls every weight towards 0 in proportion to its size. The optimisers'
  ``weight_decay=λ`` adds λθ to the gradient directly, which equals adding
  (λ/2)·l2_penalty to the loss.
* :func:`l1_penalty` = Σ |θ| ("lasso"); its gradient sign(θ) pulls every
  weight towards 0 by the same amount, which drives small weights to exactly
  zero (sparsity).

Gradient clipping acts between ``backward()`` and ``step()``:

* :func:`clip_grad_norm_` treats all gradients as one long vector g and, when
  its norm ‖g‖ exceeds ``max_norm``, rescales it: g ← g · max_norm / ‖g‖. The
  direction is kept; only the length is capped. (This is what tames exploding
  gradients in RNNs.)
* :func:`clip_grad_value_` clips each component to [−c, c] (changes direction).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import minigrad
from minigrad import Tensor

__all__ = ["l1_penalty", "l2_penalty", "clip_grad_norm_", "clip_grad_value_"]


def _as_list(params: Iterable[Tensor] | Tensor) -> list[Tensor]:
    return [params] if isinstance(params, Tensor) else list(params)


def _penalty(params: Iterable[Tensor] | Tensor, term, name: str) -> Tensor:
    params = _as_list(params)
    if not params:
        raise ValueError(f"{name}: no parameters given")
    total = term(params[0])
    for p in params[1:]:
        total = total + term(p)
    return total


def l2_penalty(params: Iterable[Tensor] | Tensor) -> Tensor:
    """Σ_p Σ_i θ_i² over all parameters: a differentiable scalar (gradient 2θ)."""
    return _penalty(params, lambda p: (p * p).sum(), "l2_penalty")


def l1_penalty(params: Iterable[Tensor] | Tensor) -> Tensor:
    """Σ_p Σ_i |θ_i| over all parameters: a differentiable scalar (gradient sign(θ))."""
    return _penalty(params, lambda p: p.abs().sum(), "l1_penalty")


def _grads(params: Iterable[Tensor] | Tensor) -> list[Tensor]:
    return [p.grad for p in _as_list(params) if p.grad is not None]


def _per_grad(grads: list[Tensor], reduce: Callable[[Tensor], Any]) -> list[float]:
    """``[float(reduce(g)) for g in grads]`` with one device -> host copy per backend
    (empty gradients are skipped)."""
    by_backend: dict[str, list[Any]] = {}
    for g in grads:
        if g.size:
            by_backend.setdefault(g.device, []).append(reduce(g))
    out: list[float] = []
    for name, values in by_backend.items():
        backend = minigrad.backends.get_backend(name)
        host = backend.to_numpy(backend.xp.stack(values))
        out.extend(float(v) for v in host.tolist())
    return out


def clip_grad_norm_(params: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, eps: float = 1e-6) -> float:
    """Rescale all gradients together so their global norm is at most ``max_norm``.

    total = (Σ_p Σ_i |g_i|^q)^(1/q) over every parameter's ``.grad`` (q =
    ``norm_type``, 2 by default; ``float("inf")`` gives max |g_i|). If
    total > max_norm, every gradient is multiplied in place by
    max_norm / (total + eps). Returns ``total``, the norm *before* clipping (a
    useful thing to log: spikes mean trouble). Parameters without a gradient
    are skipped.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    if max_norm < 0.0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    grads = _grads(params)
    if not grads:
        return 0.0
    with minigrad.no_grad():
        # One number per gradient, computed on its device, then ONE host copy per
        # backend (a device -> host transfer is a synchronisation on a GPU).
        if math.isinf(norm_type):
            parts = _per_grad(grads, lambda g: g.xp.max(g.xp.abs(g.data)))
            # (Python's max() drops a NaN that is not first: keep it, as PyTorch does)
            total = math.nan if any(map(math.isnan, parts)) else max(parts, default=0.0)
        else:
            if norm_type == 2.0:
                parts = _per_grad(grads, lambda g: g.xp.sum(g.data * g.data))
            else:
                parts = _per_grad(grads, lambda g: g.xp.sum(g.xp.abs(g.data) ** norm_type))
            total = sum(parts) ** (1.0 / norm_type)
        coef = max_norm / (total + eps)
        if coef < 1.0:
            for g in grads:
                g.data *= coef
                g._version += 1
    return total


def clip_grad_value_(params: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clip every gradient component to [−clip_value, clip_value], in place."""
    c = float(clip_value)
    if c < 0.0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value}")
    for g in _grads(params):
        g.data[...] = g.xp.clip(g.data, -c, c)
        g._version += 1
