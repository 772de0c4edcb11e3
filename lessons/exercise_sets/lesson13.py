"""Exercises of lesson 13 (convolutions and pooling)."""
from __future__ import annotations

import numpy as np

from exercises import register


# -- 13.1: batch norm backward by hand ----------------------------------------
def _bn_reference(g, x, weight, eps=1e-5):
    """dx of y = x_hat * weight, statistics over every axis but the channel axis 1."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * rstd
    dx_hat = g * weight.reshape(shape)
    return rstd * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                   - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))


def _bn_autograd(g, x, weight, eps):
    import minigrad as mg
    xt = mg.Tensor(x, dtype="float64", requires_grad=True)
    wt = mg.Tensor(weight, dtype="float64")
    with mg.use_fused(False):      # autograd differentiates the formula on its own
        out = mg.batch_norm(xt, None, None, wt, None, training=True, eps=eps)
    out.backward(mg.Tensor(g, dtype="float64"))
    return xt.grad.numpy()


def _check_bn(fn) -> bool:
    rng = np.random.default_rng(13)
    for shape in ((6, 3), (4, 2, 3, 3)):
        x = rng.standard_normal(shape) * 2 + 0.5
        g = rng.standard_normal(shape)
        w = rng.uniform(0.5, 2.0, shape[1])
        got = np.asarray(fn(g, x, w, 1e-5), dtype=np.float64)
        if got.shape != x.shape or not np.allclose(got, _bn_autograd(g, x, w, 1e-5),
                                                   rtol=1e-7, atol=1e-10):
            return False
    return True


def _bn_eval_formula(g, x, weight, eps=1e-5):
    """A plausible mistake: treat the batch statistics as constants."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return g * weight.reshape(shape) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def _bn_mean_only(g, x, weight, eps=1e-5):
    """Another: the path through the mean, but not the one through the variance."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    dx_hat = g * weight.reshape(shape)
    return (dx_hat - dx_hat.mean(axis=axes, keepdims=True)) \
        / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


register(
    "13.1",
    "Write batch_norm_backward(g, x, weight, eps) -> dx for training-mode batch norm "
    "y = (x - mu) / sqrt(var + eps) * weight (+ bias), statistics per channel (axis 1) over "
    "every other axis, NumPy arrays in and out.",
    _check_bn,
    "x reaches the loss three ways: directly, through mu and through var. With "
    "dx_hat = g * weight and means over a channel: dx = r (dx_hat - mean(dx_hat) - "
    "x_hat mean(dx_hat x_hat)), r = 1 / sqrt(var + eps).",
    lambda: _bn_reference,
    [lambda: _bn_eval_formula, lambda: _bn_mean_only],
    "dx = r * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)), the means taken over "
    "the N * H * W positions of each channel.",
)


# -- 13.2: the output size of a convolution -----------------------------------
def _check_size(fn) -> bool:
    import minigrad as mg
    for n, k, s, p, d in ((28, 3, 1, 0, 1), (28, 3, 2, 1, 1), (7, 3, 2, 0, 2), (10, 1, 3, 0, 1),
                          (9, 4, 1, 2, 2), (5, 5, 1, 0, 1)):
        x = mg.zeros(1, 1, n, n, dtype="float64")
        w = mg.zeros(1, 1, k, k, dtype="float64")
        if fn(n, k, s, p, d) != mg.conv2d(x, w, stride=s, padding=p, dilation=d).shape[2]:
            return False
    return True


register(
    "13.2",
    "Write out_size(n, k, s, p, d): the output length of a convolution with kernel k, "
    "stride s, padding p and dilation d over an input of length n.",
    _check_size,
    "A dilated kernel spans d (k - 1) + 1 positions; count the window positions that fit "
    "into the n + 2p padded positions, moving s at a time.",
    lambda: (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 1),
    [lambda: (lambda n, k, s, p, d: (n + 2 * p - k) // s + 1),          # forgets dilation
     lambda: (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) / s + 1)],   # no floor
    "out = floor((n + 2p - d (k - 1) - 1) / s) + 1",
)
