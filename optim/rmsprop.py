"""RMSprop, exactly as formula F18 writes it::

    v_t = β v_{t−1} + (1 − β) g²          (v_0 = 0, g² elementwise)
    θ  ← θ − α g / (√v_t + ε)

Each coordinate's step is divided by a running root-mean-square of its own
recent gradients, so coordinates with large, noisy gradients take smaller
steps and flat directions larger ones. (PyTorch calls β ``alpha`` and
defaults it to 0.99; F18 and this class use β = 0.9; ``alpha=0.99`` is accepted
as PyTorch's name for β.) ``weight_decay`` λ adds λθ to g first (L2, F20).

PyTorch's two options (``torch.optim.RMSprop``), off by default as there:

* ``centered=True`` divides by an estimate of the gradient's *variance* instead of
  its mean square: ḡ_t = β ḡ_{t−1} + (1 − β) g and ṽ_t = v_t − ḡ_t²;
* ``momentum`` μ > 0 accumulates the scaled steps, b_t = μ b_{t−1} + g / (√ṽ_t + ε),
  and moves θ ← θ − α b_t.
"""
from __future__ import annotations

from typing import Any

from minigrad import Tensor

from .optimizer import Optimizer, ParamsArg, _float

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (F18): θ ← θ − α g / (√v + ε), v a running mean of g²."""

    def __init__(self, params: ParamsArg, lr: float = 0.01, beta: float = 0.9,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, alpha: float | None = None) -> None:
        if alpha is not None:        # PyTorch's name for the smoothing constant
            beta = alpha
        super().__init__(params, dict(lr=lr, beta=beta, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=bool(centered)))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if not 0.0 <= float(group["beta"]) < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {group['beta']!r}")
        if float(group["eps"]) < 0.0:
            raise ValueError(f"eps must be >= 0, got {group['eps']!r}")
        if float(group.get("momentum", 0.0)) < 0.0:
            raise ValueError(f"momentum must be >= 0, got {group['momentum']!r}")

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
        momentum = _float(group.get("momentum", 0.0))
        if not group.get("centered", False) and momentum == 0.0:
            p.sub_(lr * g / (xp.sqrt(v) + eps))                 # θ ← θ − α g / (√v_t + ε)
            return
        if group.get("centered", False):
            g_avg = state.get("grad_avg")
            g_avg = (1.0 - beta) * g if g_avg is None else beta * g_avg + (1.0 - beta) * g
            state["grad_avg"] = g_avg                           # ḡ_t = β ḡ + (1 − β) g
            v = v - g_avg * g_avg                               # ṽ_t = v_t − ḡ_t²
        step = g / (xp.sqrt(v) + eps)
        if momentum > 0.0:
            buf = state.get("momentum_buffer")
            step = step if buf is None else momentum * buf + step   # b_t = μ b + g/(√ṽ + ε)
            state["momentum_buffer"] = step
        p.sub_(lr * step)                                       # θ ← θ − α b_t
