"""Learning-rate schedules: change each group's ``lr`` as training goes on.

Usage (one scheduler step per optimiser step, or per epoch -- your choice)::

    opt = SGD(model.parameters(), lr=0.1)
    sched = CosineAnnealingLR(opt, T_max=1000)
    for batch in batches:
        opt.zero_grad(); loss_fn(model, batch).backward(); opt.step()
        sched.step()

Every schedule here is a *closed form* lr_t = f(base_lr, t), where t =
``last_epoch`` counts the ``step()`` calls made so far (0 right after
construction, which already sets lr_0). Closed forms make the values exact,
easy to test, and make ``state_dict`` trivially small: ``t`` plus the settings.

====================  ================================================================
StepLR                lr_t = base · γ^⌊t / step_size⌋
ExponentialLR         lr_t = base · γ^t
CosineAnnealingLR     lr_t = η_min + (base − η_min) · (1 + cos(π · min(t, T_max) / T_max)) / 2
LinearWarmup          lr_t = base · (t + 1) / W  for t < W, then ``after``'s lr at t − W (or base)
LambdaLR              lr_t = base · λ(t)
====================  ================================================================

``base`` is the group's lr when the first scheduler was attached (kept in the
group as ``"initial_lr"``, as PyTorch does, so a second scheduler on the same
optimiser agrees on it).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup",
           "LambdaLR"]


class LRScheduler:
    """Base class: subclasses implement :meth:`lr_at` (the closed form)."""

    #: attributes that are not saved by :meth:`state_dict`
    _not_saved: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__} needs an optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lrs: list[float] = [float(g.setdefault("initial_lr", g["lr"]))
                                      for g in optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr: list[float] = []
        self._apply()

    def lr_at(self, base_lr: float, t: int) -> float:  # pragma: no cover - abstract
        """The learning rate after ``t`` scheduler steps for a group whose base is ``base_lr``."""
        raise NotImplementedError

    def _lrs(self, t: int) -> list[float]:
        return [float(self.lr_at(base, t)) for base in self.base_lrs]

    def _apply(self) -> None:
        self._last_lr = self._lrs(self.last_epoch)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def step(self) -> None:
        """Advance t by one and write the new lr into every parameter group."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The lr of each group set by the latest ``step()`` (or the constructor)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """``t`` (``last_epoch``), the base lrs and the settings (JSON-friendly)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()
                if k not in self._not_saved and not callable(v)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``t`` and the settings, and write the matching lr into the groups."""
        for key, value in state_dict.items():
            if key not in self._not_saved:
                setattr(self, key, value)
        self.last_epoch = int(self.last_epoch)
        self.base_lrs = [float(b) for b in self.base_lrs]
        self._apply()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(t={self.last_epoch}, lr={self._last_lr})"


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` steps: base · γ^⌊t/step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if int(step_size) < 1:
            raise ValueError(f"step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every step: base · γ^t."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * self.gamma ** t


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from base down to ``eta_min`` over ``T_max`` steps, then stay at
    ``eta_min``: η_min + (base − η_min)(1 + cos(π min(t, T_max)/T_max))/2.

    (PyTorch's version keeps following the cosine back up after T_max; here the
    schedule simply ends at η_min, which is what a single annealing run wants.)
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        if int(T_max) < 1:
            raise ValueError(f"T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, t: int) -> float:
        frac = min(t, self.T_max) / self.T_max
        return self.eta_min + (base_lr - self.eta_min) * (1.0 + math.cos(math.pi * frac)) / 2.0


class LinearWarmup(LRScheduler):
    """Linear warm-up over ``warmup_steps`` = W steps: lr_t = base·(t+1)/W for t < W
    (so base/W, 2·base/W, ..., base), then hand over to ``after``.

    ``after`` is another scheduler built on the *same* optimiser (e.g.
    ``LinearWarmup(opt, 100, after=CosineAnnealingLR(opt, T_max=900))``); from
    step W on, the lr is ``after``'s lr at t − W. Step only the warm-up
    scheduler: it keeps ``after`` in sync. Without ``after`` the lr stays at base.

    Why warm up: adaptive optimisers' first steps use poorly estimated second
    moments (and large models have unsettled activations), so starting with
    small steps avoids an early blow-up.
    """

    _not_saved = ("optimizer", "after")

    def __init__(self, optimizer: Optimizer, warmup_steps: int,
                 after: LRScheduler | None = None) -> None:
        if int(warmup_steps) < 1:
            raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")
        if after is not None and after.optimizer is not optimizer:
            raise ValueError("LinearWarmup: `after` must schedule the same optimizer")
        self.warmup_steps = int(warmup_steps)
        self.after = after
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, t: int) -> float:
        if t < self.warmup_steps:
            return base_lr * (t + 1) / self.warmup_steps
        if self.after is None:
            return base_lr
        return self.after.lr_at(base_lr, t - self.warmup_steps)

    def _lrs(self, t: int) -> list[float]:
        if t >= self.warmup_steps and self.after is not None:
            return self.after._lrs(t - self.warmup_steps)   # per-group rules of `after`
        return super()._lrs(t)

    def _apply(self) -> None:
        super()._apply()
        if self.after is not None:  # keep the chained schedule's own view consistent
            self.after.last_epoch = max(0, self.last_epoch - self.warmup_steps)
            self.after._last_lr = list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["after"] = None if self.after is None else self.after.state_dict()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        after = state.pop("after", None)
        if (after is None) != (self.after is None):
            raise ValueError("LinearWarmup.load_state_dict: the saved schedule and this one "
                             "disagree on whether there is an `after` schedule")
        if after is not None:
            for key, value in after.items():  # settings only; _apply below syncs it
                if key not in self.after._not_saved:
                    setattr(self.after, key, value)
        super().load_state_dict(state)


class LambdaLR(LRScheduler):
    """lr_t = base · λ(t) for a function λ of the step count (one per group, or one
    for all). The function itself is not saved by ``state_dict`` -- rebuild the
    scheduler with it, then load the state."""

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer,
                 lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]) -> None:
        n = len(optimizer.param_groups)
        if callable(lr_lambda):
            self.lr_lambdas = [lr_lambda] * n
        else:
            self.lr_lambdas = list(lr_lambda)
            if len(self.lr_lambdas) != n:
                raise ValueError(f"LambdaLR: {len(self.lr_lambdas)} functions for {n} groups")
        super().__init__(optimizer)

    def _lrs(self, t: int) -> list[float]:
        return [float(base * fn(t)) for base, fn in zip(self.base_lrs, self.lr_lambdas)]

    def lr_at(self, base_lr: float, t: int) -> float:
        return base_lr * self.lr_lambdas[0](t)
