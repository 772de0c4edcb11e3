"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay.

F14 -- gradient descent: θ_new = θ_old − α ∇_θ J(θ).

F15 -- the same step written as an increment: Δw = −η ∇_w J(w), then
w ← w **+** Δw. (Document D1 writes ``w = w − Δw`` with that Δw, a sign
slip: it would climb the loss, w ← w + η∇J. On J(w) = (w−1)², η = 0.1,
w = 2 the correct step gives 1.8, the slipped one 2.2 -- worked example E04,
checked in ``tests/optim/test_worked_examples.py``.)

F16 -- mini-batch gradient descent: w ← w − α (1/m) Σ_{i=1..m} ∇_w J(w; x_i, y_i).
Nothing special is needed in the optimiser: if the loss is the *mean* over a
batch of m examples, autograd's gradient of that mean already *is* the mean of
the per-example gradients (differentiation is linear). m = 1 is "stochastic"
GD, m = n is batch GD; the optimiser just applies F14 to whatever ``.grad``
holds.

F17 -- momentum, in PyTorch's form (used by D1's example with μ = 0.9)::

    v ← μ v + g                  (v starts as g at the first step)
    θ ← θ − α v
    Nesterov: θ ← θ − α (g + μ v)    (look ahead along the new velocity)

With ``dampening`` d the buffer update is v ← μ v + (1 − d) g (after the first
step). ``weight_decay`` λ adds the L2 penalty's gradient: g ← g + λ θ (F20;
this is ∇ of (λ/2)‖θ‖²).
"""
from __future__ import annotations

from typing import Any

from minigrad import Tensor

from .optimizer import Optimizer, ParamsArg, _float

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD (F14/F16) with optional momentum and Nesterov momentum (F17) and L2
    weight decay (F20).

    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: ParamsArg, lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0,
                 dampening: float = 0.0) -> None:
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov,
                                      weight_decay=weight_decay, dampening=dampening))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        if not 0.0 <= float(group["momentum"]):
            raise ValueError(f"momentum must be >= 0, got {group['momentum']!r}")

    def _update(self, p: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, mu = _float(group["lr"]), _float(group["momentum"])
        wd, damp = _float(group["weight_decay"]), _float(group["dampening"])
        g = grad
        if wd != 0.0:
            g = g + wd * p.data                         # F20: L2 penalty's gradient
        if mu != 0.0:
            v = state.get("momentum_buffer")
            if v is None:
                v = g.copy()                            # v_1 = g_1
            else:
                v = mu * v + (1.0 - damp) * g           # F17: v ← μ v + (1 − d) g
            state["momentum_buffer"] = v
            g = g + mu * v if group["nesterov"] else v  # Nesterov: g + μ v
        p.add_(g, alpha=-lr)                            # F14: θ ← θ − α g
