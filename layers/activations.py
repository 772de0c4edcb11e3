"""Activation functions as modules, so they can sit inside ``Sequential``.

Each one is a thin wrapper over a differentiable minigrad op:

* ``ReLU``      F06  max(0, x)
* ``Sigmoid``   F07  1 / (1 + e^-x)
* ``Tanh``      F08  (e^x - e^-x) / (e^x + e^-x)
* ``GELU``           0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (GPT-2's form)
* ``LeakyReLU``      x if x > 0 else slope * x
* ``Softmax``   F09  e^(x_i) / sum_j e^(x_j) along ``axis``
* ``Identity``       x
"""
from __future__ import annotations

from typing import Any

from minigrad import ops
from minigrad.tensor import Tensor

from .module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh", "GELU", "LeakyReLU", "Softmax", "Identity",
           "get_activation", "ACTIVATIONS"]


class ReLU(Module):
    """F06  ReLU(x) = max(0, x)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.relu(x)


class Sigmoid(Module):
    """F07  sigmoid(x) = 1 / (1 + e^-x)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(x)


class Tanh(Module):
    """F08  tanh(x) = (e^x - e^-x) / (e^x + e^-x)."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.tanh(x)


class GELU(Module):
    """GELU(x) = x Phi(x).  ``approximate="tanh"`` (the default, GPT-2's form):
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); ``approximate="none"`` (PyTorch's
    default): the exact x (1 + erf(x / sqrt 2)) / 2. See :func:`minigrad.gelu` for
    why minigrad's default is the tanh form."""

    def __init__(self, approximate: str = "tanh") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return ops.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    """LeakyReLU(x) = x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        return ops.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    """F09  softmax(x)_i = e^(x_i - max x) / sum_j e^(x_j - max x) along ``axis``."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def forward(self, x: Tensor) -> Tensor:
        return ops.softmax(x, axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Identity(Module):
    """Identity(x) = x (a placeholder where a layer is optional)."""

    def forward(self, x: Any) -> Any:
        return x


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "gelu": GELU, "leaky_relu": LeakyReLU,
    "softmax": Softmax, "identity": Identity, "linear": Identity,
}


def get_activation(activation: "str | Module | None") -> Module:
    """A fresh activation module from a name (``"relu"``...), a Module (returned
    as is), or ``None`` (Identity)."""
    if activation is None:
        return Identity()
    if isinstance(activation, Module):
        return activation
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation()
    key = str(activation).lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of "
                         f"{sorted(ACTIVATIONS)} or a Module")
    return ACTIVATIONS[key]()
