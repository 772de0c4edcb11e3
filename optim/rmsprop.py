"""RMSprop, exactly as formula F18 writes it::

    v_t = β v_{t−1} + (1 − β) g²          (v_0 = 0, g² elementwise)
    θ  ← θ − α g / (√v_t + ε)

Each coordinate's step is divided by a running root-mean-square of its own
recent gradients, so coordinates with large, noisy gradients take smaller
steps and flat directions larger ones. (PyTorch calls β ``alpha`` and
defaults it to 0.99; F18 and this class use β = 0.9.) ``weight_decay`` λ adds
λθ to g first (L2, F20).
"""
from __future__ import annotations

from typing import Any

from minigrad import Tensor

from .optimizer import Optimizer, ParamsArg, _float

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (F18): θ ← θ − α g / (√v + ε), v a running mean of g²."""

    def __init__(self, params: ParamsArg, lr: float = 0.01, beta: float = 0.9,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, beta=beta, eps=eps, weight_decay=weight_decay))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if not 0.0 <= float(group["beta"]) < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {group['beta']!r}")
        if float(group["eps"]) < 0.0:
            raise ValueError(f"eps must be >= 0, got {group['eps']!r}")

    def _update(self, p: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = p.xp
        lr, beta = _float(group["lr"]), _float(group["beta"])
        eps, wd = _float(group["eps"]), _float(group["weight_decay"])
        g = grad + wd * p.data if wd != 0.0 else grad
        v = state.get("square_avg")
        if v is None:
            v = xp.zeros_like(p.data)                          # v_0 = 0
        v = beta * v + (1.0 - beta) * (g * g)                   # v_t = β v + (1 − β) g²
        state["square_avg"] = v
        p.sub_(lr * g / (xp.sqrt(v) + eps))                     # θ ← θ − α g / (√v_t + ε)
