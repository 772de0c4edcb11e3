"""Positional encodings: attention is order-blind, so positions are added to the inputs.

Sinusoidal (Vaswani et al., 2017), fixed, no parameters:

    PE[pos, 2i]   = sin(pos / 10000^(2i / d_model))
    PE[pos, 2i+1] = cos(pos / 10000^(2i / d_model))

Each pair of features is a clock with its own period (2 pi up to 2 pi * 10000),
so every position gets a distinct pattern and PE[pos + k] is a fixed rotation
of PE[pos].

Learned: a table ``weight`` (max_len, d_model) trained like an embedding of
the position index (GPT-2's choice).

Both modules take x of shape (B, T, d_model) and return x + PE[:T].
"""
from __future__ import annotations

import math
from typing import Any

from minigrad import backends
from minigrad.errors import ShapeError
from minigrad.tensor import Tensor, get_default_dtype

from . import init
from .module import Module

__all__ = ["sinusoidal_table", "SinusoidalPositionalEncoding", "LearnedPositionalEncoding"]


def sinusoidal_table(max_len: int, d_model: int, dtype: Any = None,
                     device: str | None = None) -> Tensor:
    """The (max_len, d_model) table of sines and cosines defined above."""
    xp = backends.get_backend(device or backends.default_device()).xp
    pos = xp.arange(max_len, dtype="float64")[:, None]                  # (L, 1)
    two_i = xp.arange(0, d_model, 2, dtype="float64")                   # (ceil(d/2),)
    angle = pos * xp.exp(two_i * (-math.log(10000.0) / d_model))        # pos / 10000^(2i/d)
    table = xp.zeros((max_len, d_model), dtype="float64")
    table[:, 0::2] = xp.sin(angle)
    table[:, 1::2] = xp.cos(angle[:, : d_model // 2])
    return Tensor(table.astype(dtype or get_default_dtype()))


def _check(x: Tensor, max_len: int, d_model: int, who: str) -> None:
    if x.ndim < 2 or x.shape[-1] != d_model:
        raise ShapeError(f"{who}: input must have shape (..., time, {d_model}), got {x.shape}")
    if x.shape[-2] > max_len:
        raise ShapeError(f"{who}: sequence length {x.shape[-2]} exceeds max_len={max_len}")


class SinusoidalPositionalEncoding(Module):
    """x -> x + PE[:T]; the table is a non-persistent buffer (moves with ``to``,
    not saved in ``state_dict``)."""

    def __init__(self, d_model: int, max_len: int = 5000, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        self.d_model, self.max_len = int(d_model), int(max_len)
        self.register_buffer("pe", sinusoidal_table(max_len, d_model, dtype, device),
                             persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        _check(x, self.max_len, self.d_model, "SinusoidalPositionalEncoding")
        pe = self.pe[: x.shape[-2]]
        return x + (pe if pe.dtype == x.dtype else pe.astype(x.dtype))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


class LearnedPositionalEncoding(Module):
    """x -> x + weight[:T], ``weight`` (max_len, d_model) ~ N(0, 0.02^2)."""

    def __init__(self, max_len: int, d_model: int, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        self.max_len, self.d_model = int(max_len), int(d_model)
        self.weight = init.normal_(init.empty_parameter(max_len, d_model, dtype=dtype,
                                                        device=device), std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        _check(x, self.max_len, self.d_model, "LearnedPositionalEncoding")
        return x + self.weight[: x.shape[-2]]

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}"
