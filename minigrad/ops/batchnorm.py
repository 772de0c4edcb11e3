"""Batch normalisation: ``batch_norm``, as ``torch.nn.functional.batch_norm``.

For an input (N, C) or (N, C, d1, d2, ...), each channel c is normalised over
the m = N * d1 * d2 * ... numbers it has in the batch:

    mu_c = mean(x[:, c]),   var_c = mean((x[:, c] - mu_c)^2)      (biased: / m)
    x_hat = (x - mu_c) * r_c,   r_c = 1 / sqrt(var_c + eps)
    y = x_hat * weight[c] + bias[c]

* training: mu and var are the batch's own statistics, and the running
  estimates move towards them: running_mean <- (1 - momentum) running_mean
  + momentum mu, running_var likewise with the *unbiased* variance
  var * m / (m - 1) (an estimate of the population's variance);
* evaluation: mu and var are the running estimates: a fixed affine map.

Backward in training -- the classic by-hand derivation. Every x in a
channel moves mu and var, so x_i reaches the loss three ways: directly, via
mu and via var. With g = dL/dy, dx_hat = g * weight and the sums over the m
positions of a channel:

    dL/dvar = sum(dx_hat * (x - mu)) * (-1/2) r^3
    dL/dmu  = -r sum(dx_hat)                 (+ dL/dvar * mean(-2 (x - mu)), which is 0)
    dx      = dx_hat r + dL/dvar * 2 (x - mu) / m + dL/dmu / m
            = (r / m) * (m dx_hat - sum(dx_hat) - x_hat sum(dx_hat x_hat))

(the gradient with the "shift everything" and "scale everything" directions
projected out, because x_hat cannot change under either), and
dweight = sum(g x_hat), dbias = sum(g). In evaluation mu and var are
constants: dx = dx_hat r.

``batch_norm`` is fused (one node, the backward above); ``batch_norm_reference``
composes it from primitive ops (mean, subtract, power...) and runs under
``minigrad.use_fused(False)``; second derivatives go through it.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, ShapeError
from ..modes import fused_enabled
from ..tensor import Tensor
from ._util import require_float, xp_of

__all__ = ["batch_norm", "batch_norm_reference", "BatchNorm"]


def _layout(x_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """The axes to reduce, the broadcast shape (1, C, 1, ...) and m, the count per channel."""
    axes = (0,) + tuple(range(2, len(x_shape)))
    m = 1
    for a in axes:
        m *= x_shape[a]
    return axes, (1, x_shape[1]) + (1,) * (len(x_shape) - 2), m


class BatchNorm(Function):
    """y = x_hat * w + b with batch statistics (training) or given ones (evaluation)."""

    fused = True

    def forward(self, x, *affine, training, eps, mean, var, has_weight, has_bias, stats):
        xp = xp_of(x)
        axes, bshape, m = _layout(x.shape)
        self.training, self.eps, self.has_weight, self.has_bias = training, eps, has_weight, \
            has_bias
        if training:
            mu = x.mean(axis=axes, keepdims=True)
            xc = x - mu
            v = (xc * xc).mean(axis=axes, keepdims=True)
            stats["mean"], stats["var"] = mu.reshape(-1), v.reshape(-1)
        else:
            mu, v = mean.reshape(bshape), var.reshape(bshape)
            xc = x - mu
        self.mean, self.var = mu, v
        self.rstd = 1.0 / xp.sqrt(v + eps)
        xc *= self.rstd                                 # x_hat, in place
        self.x_hat = xc
        out = xc * affine[0].reshape(bshape) if has_weight else xc.copy()
        if has_bias:
            out += affine[-1].reshape(bshape)
        return out

    def backward(self, grad):
        if is_grad_enabled():       # create_graph=True: differentiate the composed version
            from .fused import _differentiable_backward
            return _differentiable_backward(self, self._reference, grad)
        inputs = self.inputs
        g, x_hat, rstd = grad.data, self.x_hat, self.rstd
        axes, bshape, m = _layout(g.shape)
        weight = inputs[1] if self.has_weight else None
        dx = dw = db = None
        if inputs[0].requires_grad:
            dx_hat = g * weight.data.reshape(bshape) if weight is not None else g
            if self.training:
                dx = dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                dx -= x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)
                dx *= rstd
            else:
                dx = dx_hat * rstd
            dx = Tensor._make(dx, False)
        if weight is not None and weight.requires_grad:
            dw = Tensor._make((g * x_hat).sum(axis=axes), False)
        if self.has_bias and inputs[-1].requires_grad:
            db = Tensor._make(g.sum(axis=axes), False)
        grads = [dx]
        if self.has_weight:
            grads.append(dw)
        if self.has_bias:
            grads.append(db)
        return tuple(grads)

    def _reference(self, x: Tensor, *affine: Tensor) -> Tensor:
        weight = affine[0] if self.has_weight else None
        bias = affine[-1] if self.has_bias else None
        if self.training:
            return batch_norm_reference(x, None, None, weight, bias, True, eps=self.eps)
        mean = Tensor._make(self.mean.reshape(-1), False)
        var = Tensor._make(self.var.reshape(-1), False)
        return batch_norm_reference(x, mean, var, weight, bias, False, eps=self.eps)


def _check(op: str, x: Tensor, running_mean: Any, running_var: Any, weight: Any, bias: Any,
           training: bool) -> int:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a minigrad Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ShapeError(f"{op}: expects an input (N, C) or (N, C, ...), got shape {x.shape}")
    require_float(op, x)
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a minigrad Tensor or None, got "
                            f"{type(t).__name__}")
        if t.shape != (c,):
            raise ShapeError(f"{op}: {name} must have shape ({c},) -- one number per channel "
                             f"of the input of shape {x.shape} (channels on axis 1) -- got "
                             f"{t.shape}")
        if t.dtype != x.dtype:
            raise DTypeError(f"{op}: {name} is {t.dtype} but the input is {x.dtype}; convert "
                             "one with .float() or .double()")
    if not training and (running_mean is None or running_var is None):
        raise ShapeError(f"{op}: evaluation mode (training=False) needs running_mean and "
                         "running_var")
    _, _, m = _layout(x.shape)
    if training and m < 2:
        raise ShapeError(f"{op}: training needs more than one value per channel to compute "
                         f"batch statistics, got input shape {x.shape} ({m} per channel); "
                         "use a larger batch, or evaluation mode")
    return m


def _update_running(running_mean: Tensor | None, running_var: Tensor | None, mean: Any,
                    var: Any, m: int, momentum: float) -> None:
    """running <- (1 - momentum) running + momentum batch (unbiased variance), in place."""
    if running_mean is not None:
        running_mean.data *= 1.0 - momentum
        running_mean.data += momentum * mean
        running_mean._version += 1
    if running_var is not None:
        running_var.data *= 1.0 - momentum
        running_var.data += (momentum * m / (m - 1)) * var
        running_var._version += 1


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5, *, _op: str = "batch_norm") -> Tensor:
    """Normalise each channel (axis 1) of x, then scale by ``weight`` and shift by ``bias``.

    ``training=True``: batch statistics, and ``running_mean`` / ``running_var``
    (when given) are updated in place with ``momentum``; ``training=False``:
    the running statistics are used. See the module docstring for the formulas.
    """
    m = _check(_op, x, running_mean, running_var, weight, bias, training)
    if not fused_enabled():
        return batch_norm_reference(x, running_mean, running_var, weight, bias, training,
                                    momentum, eps)
    stats: dict[str, Any] = {}
    inputs = [x] + [t for t in (weight, bias) if t is not None]
    out = BatchNorm.apply(*inputs, training=training, eps=eps,
                          mean=None if training else running_mean.data,
                          var=None if training else running_var.data,
                          has_weight=weight is not None, has_bias=bias is not None, stats=stats)
    if training:
        _update_running(running_mean, running_var, stats["mean"], stats["var"], m, momentum)
    return out


def batch_norm_reference(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                         weight: Tensor | None = None, bias: Tensor | None = None,
                         training: bool = False, momentum: float = 0.1,
                         eps: float = 1e-5) -> Tensor:
    """Batch norm composed from primitive ops (autograd finds the backward on its own)."""
    m = _check("batch_norm", x, running_mean, running_var, weight, bias, training)
    axes, bshape, _ = _layout(x.shape)
    if training:
        mu = x.mean(axis=axes, keepdims=True)
        centered = x - mu
        var = (centered * centered).mean(axis=axes, keepdims=True)
        _update_running(running_mean, running_var, mu.data.reshape(-1), var.data.reshape(-1),
                        m, momentum)
    else:
        mu = Tensor._make(running_mean.data.reshape(bshape), False)
        var = Tensor._make(running_var.data.reshape(bshape), False)
        centered = x - mu
    out = centered * (var + eps) ** -0.5
    if weight is not None:
        out = out * weight.reshape(bshape)
    if bias is not None:
        out = out + bias.reshape(bshape)
    return out
