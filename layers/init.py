"""Weight initialisation: fill a parameter, in place, with well-scaled random numbers.

Why it matters: a layer y = W x sums ``fan_in`` products, so if each w has
variance s^2 the output variance is about fan_in * s^2 * Var(x). Choosing
s^2 ~ 1/fan_in keeps activations from growing or shrinking layer after layer.

* **Xavier/Glorot** (tanh, sigmoid): Var(w) = gain^2 * 2 / (fan_in + fan_out);
  uniform bound a = gain * sqrt(6 / (fan_in + fan_out)).
* **Kaiming/He** (ReLU family): Var(w) = gain^2 / fan, gain = sqrt(2 / (1 + a^2))
  for leaky ReLU with negative slope a; uniform bound sqrt(3) * gain / sqrt(fan).

PyTorch's ``Linear`` default is ``kaiming_uniform_(w, a=sqrt(5))``: gain^2 = 2/6,
so the bound is sqrt(3 * (1/3) / fan_in) = 1/sqrt(fan_in), i.e.
w ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias uses the same bound.

Randomness comes from the tensor's backend generator (``tensor.backend.rng``),
so ``minigrad.manual_seed(0)`` makes model construction reproducible. Every
function runs under ``no_grad`` and returns the tensor it filled.
"""
from __future__ import annotations

import math
from typing import Any

from minigrad import backends
from minigrad.autograd import no_grad
from minigrad.tensor import Parameter, Tensor, get_default_dtype

__all__ = ["empty_parameter", "calculate_gain", "fan_in_and_fan_out", "pytorch_default_", "uniform_", "normal_",
           "zeros_", "ones_", "constant_", "xavier_uniform_", "xavier_normal_",
           "kaiming_uniform_", "kaiming_normal_"]


def empty_parameter(*shape: int, dtype: Any = None, device: str | None = None) -> Parameter:
    """A zero-filled Parameter of ``shape`` on ``device`` (default device and
    float dtype when not given), ready for one of the ``*_`` initialisers."""
    from minigrad._checks import check_shape
    shape = check_shape("empty_parameter", shape)
    backend = backends.get_backend(device or backends.default_device())
    data = backend.xp.zeros(shape, dtype=dtype or get_default_dtype())
    return Parameter(data)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which ``nonlinearity`` shrinks the standard deviation, undone by init."""
    linear = ("linear", "identity", "sigmoid", "conv1d", "conv2d")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """For a weight of shape (out, in, *kernel): fan_in = in * prod(kernel),
    fan_out = out * prod(kernel). A Linear weight (out, in) gives (in, out)."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in/out need a tensor with at least 2 dimensions, got shape "
                         f"{tensor.shape}")
    receptive = 1
    for n in tensor.shape[2:]:
        receptive *= n
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor: Tensor, values: Any) -> Tensor:
    with no_grad():
        tensor.copy_(Tensor._make(values.astype(tensor.dtype), False))
    return tensor


def _rng(tensor: Tensor, generator: Any) -> Any:
    return tensor.backend.rng if generator is None else generator


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """w ~ U(a, b)."""
    u = _rng(tensor, generator).random(tensor.shape)
    return _fill(tensor, u * (b - a) + a)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """w ~ N(mean, std^2)."""
    z = _rng(tensor, generator).standard_normal(tensor.shape)
    return _fill(tensor, z * std + mean)


def constant_(tensor: Tensor, value: float) -> Tensor:
    with no_grad():
        tensor.fill_(value)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """w ~ U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out))   (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """w ~ N(0, s^2),  s = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """w ~ U(-b, b),  b = sqrt(3) * gain / sqrt(fan)   (He et al., 2015).

    With the defaults of ``Linear`` (a = sqrt(5)) this is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def pytorch_default_(weight: Tensor, bias: Tensor | None = None) -> None:
    """PyTorch's default for Linear and Conv layers: weight ~ kaiming_uniform(a = sqrt 5),
    i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    with fan_in = in_features (Linear) or in_channels / groups * kH * kW (Conv)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = fan_in_and_fan_out(weight)[0]
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        uniform_(bias, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """w ~ N(0, s^2),  s = gain / sqrt(fan)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
