"""Adam and AdamW.

F19 -- Adam *as the documents write it* (``bias_correction=False``)::

    m_t = β1 m_{t−1} + (1 − β1) g          (first moment, m_0 = 0)
    v_t = β2 v_{t−1} + (1 − β2) g²         (second moment, v_0 = 0)
    θ  ← θ − α m_t / (√v_t + ε)

The documents leave out Adam's bias correction. Because m and v start at 0,
early on they are shrunk towards 0: after t steps of a constant gradient g,
m_t = (1 − β1^t) g and v_t = (1 − β2^t) g². Dividing by those factors undoes
the shrinkage (the default, ``bias_correction=True``, as in Kingma & Ba)::

    m̂_t = m_t / (1 − β1^t),   v̂_t = v_t / (1 − β2^t)
    θ  ← θ − α m̂_t / (√v̂_t + ε)

Consequence worth seeing once: the very first corrected step is
α g/(|g| + ε) ≈ α·sign(g), whatever the gradient's scale; the uncorrected
first step is α (1−β1) g / (√(1−β2)|g| + ε) ≈ α (1−β1)/√(1−β2) · sign(g),
about 3.16 α with the default betas (larger, because v is shrunk more than m).
``tests/optim/test_convergence.py`` checks both numbers.

``weight_decay`` λ in :class:`Adam` is L2 added to the gradient (g ← g + λθ,
F20), which the adaptive denominator then rescales. :class:`AdamW` instead
*decouples* it (Loshchilov & Hutter): θ ← θ − α λ θ, applied to the weights
directly, then the Adam step on the plain gradient.

``amsgrad=True`` (Reddi et al.; PyTorch's option, off by default) divides by the
largest second moment seen so far, v_max,t = max(v_max,t−1, v_t), instead of v_t
(bias-corrected as v is), so a coordinate's step size never grows back after a
burst of large gradients.
"""
from __future__ import annotations

from typing import Any

from minigrad import Tensor

from .optimizer import Optimizer, ParamsArg, _float

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (F19), bias-corrected by default; ``bias_correction=False`` is F19
    exactly as printed in the documents."""

    _decoupled = False

    def __init__(self, params: ParamsArg, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, bias_correction: bool = True,
                 amsgrad: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      bias_correction=bias_correction, amsgrad=bool(amsgrad)))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        group["betas"] = tuple(group["betas"])
        if len(group["betas"]) != 2 or not all(0.0 <= float(b) < 1.0 for b in group["betas"]):
            raise ValueError(f"betas must be two numbers in [0, 1), got {group['betas']!r}")
        if float(group["eps"]) < 0.0:
            raise ValueError(f"eps must be >= 0, got {group['eps']!r}")

    def _update(self, p: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = p.xp
        lr, eps, wd = _float(group["lr"]), _float(group["eps"]), _float(group["weight_decay"])
        beta1, beta2 = (_float(b) for b in group["betas"])
        t = state["step"]
        g = grad
        if wd != 0.0:
            if self._decoupled:
                p.mul_(1.0 - lr * wd)                    # AdamW: θ ← θ − α λ θ
            else:
                g = g + wd * p.data                      # Adam + L2: g ← g + λ θ
        m = state.get("exp_avg")
        v = state.get("exp_avg_sq")
        if m is None:
            m, v = xp.zeros_like(p.data), xp.zeros_like(p.data)
        m = beta1 * m + (1.0 - beta1) * g                # m_t = β1 m + (1 − β1) g
        v = beta2 * v + (1.0 - beta2) * (g * g)          # v_t = β2 v + (1 − β2) g²
        state["exp_avg"], state["exp_avg_sq"] = m, v
        if group.get("amsgrad", False):
            v_max = state.get("max_exp_avg_sq")
            v = v if v_max is None else xp.maximum(v_max, v)   # v_max,t = max(v_max, v_t)
            state["max_exp_avg_sq"] = v
        if group["bias_correction"]:
            m = m / (1.0 - beta1 ** t)                   # m̂_t = m_t / (1 − β1^t)
            v = v / (1.0 - beta2 ** t)                   # v̂_t = v_t / (1 − β2^t)
        p.sub_(lr * m / (xp.sqrt(v) + eps))              # θ ← θ − α m̂ / (√v̂ + ε)


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ − α λ θ, then the Adam step (F19)
    on the unmodified gradient. Default λ = 0.01."""

    _decoupled = True

    def __init__(self, params: ParamsArg, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, bias_correction: bool = True,
                 amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         bias_correction=bias_correction, amsgrad=amsgrad)
