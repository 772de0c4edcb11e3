"""optim: the optimisers, schedules and training helpers of minigrad.

=========================  ================================================  =========
name                       what it does                                      formula
=========================  ================================================  =========
SGD                        θ ← θ − α g; momentum v ← μv + g; Nesterov        F14-F17
RMSprop                    v ← βv + (1−β)g²; θ ← θ − α g/(√v + ε)            F18
Adam / AdamW               moments m, v (+ bias correction); AdamW decoupled F19
weight_decay, l1/l2_penalty, clip_grad_norm_/value_                          F20
StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup, LambdaLR             schedules
train, Minibatches, save_checkpoint, load_checkpoint                         loop, resume
=========================  ================================================  =========

>>> import optim
>>> opt = optim.Adam(model.parameters(), lr=1e-3)
>>> for x, y in batches:
...     opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()
"""
from __future__ import annotations

from .adam import Adam, AdamW
from .lr_scheduler import (CosineAnnealingLR, ExponentialLR, LambdaLR, LinearWarmup,
                           LRScheduler, StepLR)
from .optimizer import Optimizer
from .regularization import clip_grad_norm_, clip_grad_value_, l1_penalty, l2_penalty
from .rmsprop import RMSprop
from .sgd import SGD
from .training import (History, Minibatches, load_checkpoint, rng_state, save_checkpoint,
                       set_rng_state, train)
from .training import CheckpointError, NonFiniteError, NonFiniteWarning

__all__ = [
    "Optimizer", "SGD", "RMSprop", "Adam", "AdamW",
    "l1_penalty", "l2_penalty", "clip_grad_norm_", "clip_grad_value_",
    "LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup", "LambdaLR",
    "train", "History", "Minibatches", "save_checkpoint", "load_checkpoint", "rng_state",
    "set_rng_state",
    "CheckpointError", "NonFiniteError", "NonFiniteWarning",
]
