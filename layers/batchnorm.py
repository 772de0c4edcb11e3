"""``BatchNorm1d`` and ``BatchNorm2d``: normalise each channel over the batch.

In training, every channel of the batch is shifted and scaled to mean 0 and
variance 1 (the batch's own statistics, biased variance), then multiplied by
a learned ``weight`` (ones) and shifted by a learned ``bias`` (zeros); the
running estimates ``running_mean`` (zeros) and ``running_var`` (ones) move
towards the batch statistics by ``momentum`` (the unbiased variance), and
``num_batches_tracked`` counts the batches. In evaluation (``model.eval()``)
the running estimates are used instead, so one example's output no longer
depends on the rest of its batch. ``momentum=None`` makes the running
estimates the plain average of all batches seen.

The state_dict names and layouts are PyTorch's: ``weight``, ``bias``,
``running_mean``, ``running_var`` (C,) and ``num_batches_tracked`` (a 0-d
int64). The math and its hand-derived backward: ``minigrad/ops/batchnorm.py``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backends, ops
from minigrad.errors import ShapeError
from minigrad.tensor import Tensor, get_default_dtype

from . import init
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    _ndims: tuple[int, ...] = (2, 3)
    _layout = "(N, C) or (N, C, L)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if affine:
            self.weight = init.ones_(init.empty_parameter(num_features, dtype=dtype,
                                                          device=device))
            self.bias = init.empty_parameter(num_features, dtype=dtype, device=device)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            xp = backends.get_backend(device or backends.default_device()).xp
            dtype = dtype or get_default_dtype()
            self.register_buffer("running_mean", Tensor(xp.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(xp.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked",
                                 Tensor(xp.zeros((), dtype=np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        name = f"{type(self).__name__}({self.num_features})"
        if not isinstance(x, Tensor) or x.ndim not in self._ndims:
            shape = getattr(x, "shape", type(x).__name__)
            raise ShapeError(f"{name} expects an input {self._layout}, got shape {shape}")
        if x.shape[1] != self.num_features:
            raise ShapeError(f"{name} expects {self.num_features} channels on axis 1, got "
                             f"input shape {x.shape}")
        use_batch_stats = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:   # a cumulative average: the k-th batch gets weight 1/k
                momentum = 1.0 / float(self.num_batches_tracked.data)
        update = self.training and self.track_running_stats
        return ops.batch_norm(x, self.running_mean if update or not use_batch_stats else None,
                              self.running_var if update or not use_batch_stats else None,
                              self.weight, self.bias, use_batch_stats, momentum, self.eps,
                              _op=name)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm for (N, C) features or (N, C, L) sequences (statistics per channel C)."""

    _ndims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm for (N, C, H, W) feature maps (statistics per channel over N, H, W)."""

    _ndims = (4,)
    _layout = "(N, C, H, W)"
