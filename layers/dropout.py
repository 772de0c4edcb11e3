"""``Dropout``: randomly silence units while training (F20, a regulariser).

Inverted dropout: in training each element is kept with probability 1 - p and
then divided by 1 - p, so E[output] = input; in evaluation the layer is the
identity and needs no rescaling. The mask comes from the tensor's backend
generator (``minigrad.manual_seed`` makes it reproducible).
"""
from __future__ import annotations

from minigrad import ops
from minigrad.tensor import Tensor

from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """y = x * m / (1 - p),  m_i ~ Bernoulli(1 - p)  in training;  y = x in eval."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return ops.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
