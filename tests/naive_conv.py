"""Independent second methods for convolution, pooling and batch norm: the
textbook formulas as plain nested Python loops over every index, NumPy only.

Nothing here shares code with minigrad (no im2col, no strided views, no
col2im): the op under test must agree with these to round-off. Slow by
design -- keep the shapes small.
"""
from __future__ import annotations

import numpy as np


def _out(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d_forward(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """out[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] x_p[n, g(o) + c, i s + u d, j s + v d]."""
    N, C, H, W = x.shape
    Co, Cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + W] = x
    Ho, Wo = _out(H, kh, sh, ph, dh), _out(W, kw, sw, pw, dw)
    out = np.zeros((N, Co, Ho, Wo))
    per_group = Co // groups
    for n in range(N):
        for o in range(Co):
            first = (o // per_group) * Cg
            for i in range(Ho):
                for j in range(Wo):
                    acc = 0.0 if b is None else b[o]
                    for c in range(Cg):
                        for u in range(kh):
                            for v in range(kw):
                                acc += w[o, c, u, v] * xp[n, first + c, i * sh + u * dh,
                                                          j * sw + v * dw]
                    out[n, o, i, j] = acc
    return out


def conv2d_backward(x, w, g, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """(dx, dw, db) of sum(out * g): each term of the forward sum sends its factors back."""
    N, C, H, W = x.shape
    Co, Cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw_) = stride, padding, dilation
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    xp[:, :, ph:ph + H, pw:pw + W] = x
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    Ho, Wo = g.shape[2:]
    per_group = Co // groups
    for n in range(N):
        for o in range(Co):
            first = (o // per_group) * Cg
            for i in range(Ho):
                for j in range(Wo):
                    for c in range(Cg):
                        for u in range(kh):
                            for v in range(kw):
                                y, z = i * sh + u * dh, j * sw + v * dw_
                                dxp[n, first + c, y, z] += w[o, c, u, v] * g[n, o, i, j]
                                dw[o, c, u, v] += xp[n, first + c, y, z] * g[n, o, i, j]
    return dxp[:, :, ph:ph + H, pw:pw + W], dw, g.sum(axis=(0, 2, 3))


def _pool_windows(x, k, s, p, fill):
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * p[0], W + 2 * p[1]), fill)
    xp[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = x
    Ho, Wo = _out(H, k[0], s[0], p[0], 1), _out(W, k[1], s[1], p[1], 1)
    return xp, Ho, Wo


def max_pool2d_forward_backward(x, g_or_none, k, s, p):
    """Max pooling and its backward by loops; ties go to the first maximum (row-major)."""
    xp, Ho, Wo = _pool_windows(x, k, s, p, -np.inf)
    N, C = x.shape[:2]
    out = np.zeros((N, C, Ho, Wo))
    dxp = np.zeros_like(xp)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    best, where = -np.inf, None
                    for u in range(k[0]):
                        for v in range(k[1]):
                            val = xp[n, c, i * s[0] + u, j * s[1] + v]
                            if val > best:          # strict: the first maximum stays
                                best, where = val, (i * s[0] + u, j * s[1] + v)
                    out[n, c, i, j] = best
                    if g_or_none is not None:
                        dxp[n, c, where[0], where[1]] += g_or_none[n, c, i, j]
    H, W = x.shape[2:]
    return out, dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]


def avg_pool2d_forward_backward(x, g_or_none, k, s, p):
    """Average pooling (padded zeros counted) and its backward by loops."""
    xp, Ho, Wo = _pool_windows(x, k, s, p, 0.0)
    N, C = x.shape[:2]
    out = np.zeros((N, C, Ho, Wo))
    dxp = np.zeros_like(xp)
    area = k[0] * k[1]
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    total = 0.0
                    for u in range(k[0]):
                        for v in range(k[1]):
                            total += xp[n, c, i * s[0] + u, j * s[1] + v]
                            if g_or_none is not None:
                                dxp[n, c, i * s[0] + u, j * s[1] + v] += g_or_none[n, c, i, j] / area
                    out[n, c, i, j] = total / area
    H, W = x.shape[2:]
    return out, dxp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]


def batch_norm_train(x, w, b, eps=1e-5):
    """Training-mode batch norm per channel by loops over channels (biased variance);
    returns the output, the batch mean and the biased batch variance."""
    C = x.shape[1]
    out = np.empty_like(x)
    means, variances = np.empty(C), np.empty(C)
    for c in range(C):
        vals = x[:, c].ravel()
        mu = sum(vals) / len(vals)
        var = sum((v - mu) ** 2 for v in vals) / len(vals)
        means[c], variances[c] = mu, var
        out[:, c] = (x[:, c] - mu) / np.sqrt(var + eps) * w[c] + b[c]
    return out, means, variances
