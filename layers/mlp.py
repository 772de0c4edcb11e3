"""``MLP``: a stack of dense layers with an activation between them.

F04  H = sigma(W2 Z1 + b2),  Y = sigma(W3 H + b3)      (a three-layer forward pass)
F05  a2 = sigma(W1 x + b1),  a3 = sigma(W2 a2 + b2)    (the two-layer sigmoid net)

``MLP([n0, n1, ..., nk])`` is exactly these formulas for k layers:

    a_0 = x,   a_l = sigma(a_{l-1} W_l^T + b_l)  for l < k,   y = out(a_{k-1} W_k^T + b_k)

with ``activation`` as sigma on the hidden layers, optional dropout after each
hidden activation, and ``output_activation`` (default none: raw logits, which
is what the cross-entropy loss wants) on the last.
"""
from __future__ import annotations

from typing import Sequence

from .activations import get_activation
from .dropout import Dropout
from .linear import Linear
from .module import Module, Sequential

__all__ = ["MLP"]


class MLP(Sequential):
    """Linear -> activation [-> Dropout] -> ... -> Linear [-> output activation].

    >>> MLP([4, 64, 64, 3])        # X1: 4 -> 64 ReLU -> 64 ReLU -> 3 logits
    """

    def __init__(self, sizes: Sequence[int], activation: "str | Module" = "relu",
                 output_activation: "str | Module | None" = None, dropout: float = 0.0,
                 dtype=None, device: str | None = None) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        if isinstance(activation, Module):
            raise TypeError("MLP: pass the activation by name ('relu', 'tanh', ...) so each "
                            "layer gets its own module")
        modules: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            modules.append(Linear(n_in, n_out, dtype=dtype, device=device))
            if i < len(sizes) - 2:
                modules.append(get_activation(activation))
                if dropout > 0.0:
                    modules.append(Dropout(dropout))
        if output_activation is not None:
            modules.append(get_activation(output_activation))
        super().__init__(*modules)
        self.sizes = sizes
