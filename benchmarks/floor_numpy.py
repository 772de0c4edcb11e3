"""Raw NumPy floor: hand-written forward and manual backward for W1..W4.

This is the "no framework" reference: what a careful NumPy programmer would
write by hand for one training step.  No autograd, no graph, no Python
objects per op; activations needed by the backward pass are kept in local
arrays, and in-place ufuncs are used where that saves a temporary.

Each workload is exposed as a module attribute (``W1`` .. ``W4``) with

* ``make_step(params, data) -> step``: ``step()`` runs forward + backward +
  plain SGD (``p -= lr * g``), updates ``params`` in place and returns the
  loss as a Python float (the loss of the parameters *before* the update);
* ``loss_and_grads(params, data) -> (loss, grads)``: ``grads`` has the same
  keys as ``params``.

The code is dtype-generic: it computes in the dtype of the parameters
(float32 for benchmarking, float64 for the numerical gradient checks).
Constants are Python floats so NumPy 2 (NEP 50) never promotes float32
arrays to float64.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["W1", "W2", "W3", "W4", "make_step", "loss_and_grads", "WORKLOADS"]


# --------------------------------------------------------------------------
# shared pieces
# --------------------------------------------------------------------------

def _cross_entropy(logits: np.ndarray, y: np.ndarray):
    """Mean softmax cross-entropy. Returns (loss: float, dlogits). Overwrites nothing."""
    B = logits.shape[0]
    rows = np.arange(B)
    z = logits - logits.max(axis=1, keepdims=True)  # stable softmax
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.log(s[:, 0]).sum() - z[rows, y].sum()) / B
    e /= s                      # softmax probabilities
    e[rows, y] -= 1.0           # p - onehot
    e *= 1.0 / B                # mean over the batch
    return loss, e


def _sgd(params: dict, grads: dict, lr: float) -> None:
    for k, g in grads.items():
        g *= lr                 # grads are fresh arrays owned by this step
        params[k] -= g


class _Workload:
    """Namespace object: ``loss_and_grads`` plus a generic SGD ``make_step``."""

    def __init__(self, name: str, loss_and_grads):
        self.name = name
        self.loss_and_grads = loss_and_grads

    def make_step(self, params: dict, data: dict):
        lr = float(data["cfg"]["lr"])
        lag = self.loss_and_grads

        def step() -> float:
            loss, grads = lag(params, data)
            _sgd(params, grads, lr)
            return loss

        return step

    def __repr__(self):
        return f"<floor_numpy.{self.name}>"


# --------------------------------------------------------------------------
# W1: MLP 784-512-512-10, ReLU, softmax cross-entropy
# --------------------------------------------------------------------------

def _w1_loss_and_grads(params, data):
    x, y = data["x"], data["y"]
    W1, b1, W2, b2, W3, b3 = (params[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    x = x.astype(W1.dtype, copy=False)

    h1 = x @ W1
    h1 += b1
    np.maximum(h1, 0.0, out=h1)         # ReLU in place; mask recovered from h1 > 0
    h2 = h1 @ W2
    h2 += b2
    np.maximum(h2, 0.0, out=h2)
    logits = h2 @ W3
    logits += b3
    loss, dl = _cross_entropy(logits, y)

    dW3 = h2.T @ dl
    db3 = dl.sum(axis=0)
    dh2 = dl @ W3.T
    np.multiply(dh2, h2 > 0, out=dh2)
    dW2 = h1.T @ dh2
    db2 = dh2.sum(axis=0)
    dh1 = dh2 @ W2.T
    np.multiply(dh1, h1 > 0, out=dh1)
    dW1 = x.T @ dh1
    db1 = dh1.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}


# --------------------------------------------------------------------------
# W2: single-layer LSTM (gates i, f, g, o), last hidden -> Linear -> CE
# --------------------------------------------------------------------------

def _sigmoid_into(z: np.ndarray, out: np.ndarray) -> None:
    """out = sigmoid(z), computed as 0.5 * (1 + tanh(z / 2)): stable, no overflow."""
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5


def _w2_loss_and_grads(params, data):
    Wx, Wh, b, Wy, by = (params[k] for k in ("Wx", "Wh", "b", "Wy", "by"))
    dt = Wx.dtype
    x, y = data["x"], data["y"]
    B, T, _ = x.shape
    H = Wh.shape[0]
    H2, H3 = 2 * H, 3 * H
    # time-major contiguous copy of the input: xs[t] is a contiguous (B, I) block
    xs = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dt)

    hs = np.empty((T + 1, B, H), dtype=dt)      # hs[t] = h_{t-1}; hs[0] = h0 = 0
    cs = np.empty((T + 1, B, H), dtype=dt)      # same for the cell state
    hs[0] = 0.0
    cs[0] = 0.0
    acts = np.empty((T, B, 4 * H), dtype=dt)    # gate activations i, f, g, o
    tcs = np.empty((T, B, H), dtype=dt)         # tanh(c_t)

    for t in range(T):
        z = xs[t] @ Wx                           # one fused matmul pair for 4 gates
        z += hs[t] @ Wh
        z += b
        a = acts[t]
        _sigmoid_into(z[:, :H2], a[:, :H2])      # i, f
        np.tanh(z[:, H2:H3], out=a[:, H2:H3])    # g
        _sigmoid_into(z[:, H3:], a[:, H3:])      # o
        c = cs[t + 1]
        np.multiply(a[:, H:H2], cs[t], out=c)    # f * c_prev
        c += a[:, :H] * a[:, H2:H3]              # + i * g
        np.tanh(c, out=tcs[t])
        np.multiply(a[:, H3:], tcs[t], out=hs[t + 1])

    h_last = hs[T]
    logits = h_last @ Wy
    logits += by
    loss, dl = _cross_entropy(logits, y)
    dWy = h_last.T @ dl
    dby = dl.sum(axis=0)

    dh = dl @ Wy.T
    dc = np.zeros((B, H), dtype=dt)
    dzs = np.empty((T, B, 4 * H), dtype=dt)
    WhT = Wh.T
    for t in range(T - 1, -1, -1):
        a = acts[t]
        i, f, g, o = a[:, :H], a[:, H:H2], a[:, H2:H3], a[:, H3:]
        tc = tcs[t]
        dz = dzs[t]
        di, df, dg, do = dz[:, :H], dz[:, H:H2], dz[:, H2:H3], dz[:, H3:]
        # h = o * tanh(c)
        np.multiply(dh, tc, out=do)              # dL/do
        tmp = tc * tc                             # 1 - tanh^2 ...
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp                                 # dL/dc_t (incl. path from c_{t+1})
        # c = f * c_prev + i * g
        np.multiply(dc, g, out=di)
        np.multiply(dc, cs[t], out=df)
        np.multiply(dc, i, out=dg)
        dc *= f                                   # dL/dc_{t-1}
        # through the gate nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - t^2
        s = a[:, :H2]
        dz[:, :H2] *= s
        dz[:, :H2] *= 1.0 - s
        dg *= 1.0 - g * g
        do *= o
        do *= 1.0 - o
        dh = dz @ WhT                             # dL/dh_{t-1}

    # weight gradients for all steps at once (same sums as per-step accumulation)
    dz2 = dzs.reshape(T * B, 4 * H)
    dWx = xs.reshape(T * B, -1).T @ dz2
    dWh = hs[:T].reshape(T * B, H).T @ dz2
    db = dz2.sum(axis=0)
    return loss, {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}


# --------------------------------------------------------------------------
# W3: pre-LN transformer block, causal MHA, GELU(tanh) FFN, mean-pool, CE
# --------------------------------------------------------------------------

_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715


def _layernorm(x2d, w, b, eps):
    """Row-wise LayerNorm of a 2-D array. Returns (y, xhat, rstd)."""
    mu = x2d.mean(axis=1, keepdims=True)
    xc = x2d - mu
    var = np.einsum("ij,ij->i", xc, xc)[:, None]
    var *= 1.0 / x2d.shape[1]
    var += eps
    rstd = np.sqrt(var, out=var)
    np.divide(1.0, rstd, out=rstd)
    xhat = xc
    xhat *= rstd
    y = xhat * w
    y += b
    return y, xhat, rstd


def _layernorm_backward(dy, xhat, rstd, w, need_dx=True):
    dw = np.einsum("ij,ij->j", dy, xhat)
    db = dy.sum(axis=0)
    if not need_dx:
        return None, dw, db
    D = dy.shape[1]
    dxhat = dy * w
    m1 = dxhat.sum(axis=1, keepdims=True)
    m1 *= 1.0 / D
    m2 = np.einsum("ij,ij->i", dxhat, xhat)[:, None]
    m2 *= 1.0 / D
    dxhat -= m1
    dxhat -= xhat * m2
    dxhat *= rstd
    return dxhat, dw, db


_MASKS: dict = {}


def _causal_mask(T: int, dtype) -> np.ndarray:
    """Additive (T, T) mask: 0 on and below the diagonal, -inf above."""
    key = (T, np.dtype(dtype))
    m = _MASKS.get(key)
    if m is None:
        m = np.triu(np.full((T, T), -np.inf, dtype=dtype), k=1)
        m.flags.writeable = False
        _MASKS[key] = m
    return m


def _w3_loss_and_grads(params, data):
    p = params
    dt = p["Wq"].dtype
    x, y = data["x"], data["y"]
    nh = int(data["cfg"]["n_heads"])
    eps = float(data["cfg"]["eps"])
    B, T, D = x.shape
    dh = D // nh
    N = B * T
    scale = 1.0 / math.sqrt(dh)
    x2d = x.reshape(N, D).astype(dt, copy=False)

    # ---- attention sub-block: x1 = x + MHA(LN1(x)) ----
    a_in, xhat1, rstd1 = _layernorm(x2d, p["ln1_w"], p["ln1_b"], eps)
    q = a_in @ p["Wq"]
    q += p["bq"]
    q *= scale                                   # fold 1/sqrt(dh) into q
    k = a_in @ p["Wk"]
    k += p["bk"]
    v = a_in @ p["Wv"]
    v += p["bv"]
    # (N, D) -> (B, nh, T, dh) views (no copies; BLAS handles the strides)
    q4 = q.reshape(B, T, nh, dh).transpose(0, 2, 1, 3)
    k4 = k.reshape(B, T, nh, dh).transpose(0, 2, 1, 3)
    v4 = v.reshape(B, T, nh, dh).transpose(0, 2, 1, 3)
    P = q4 @ k4.transpose(0, 1, 3, 2)           # (B, nh, T, T) scores
    P += _causal_mask(T, dt)
    P -= P.max(axis=-1, keepdims=True)           # stable softmax
    np.exp(P, out=P)
    P /= P.sum(axis=-1, keepdims=True)
    att = P @ v4                                 # (B, nh, T, dh)
    att2d = att.transpose(0, 2, 1, 3).reshape(N, D)   # merge heads (copy)
    x1 = att2d @ p["Wo"]
    x1 += p["bo"]
    x1 += x2d

    # ---- FFN sub-block: x2 = x1 + W2 gelu(W1 LN2(x1)) ----
    f_in, xhat2, rstd2 = _layernorm(x1, p["ln2_w"], p["ln2_b"], eps)
    u = f_in @ p["W1"]
    u += p["b1"]
    th = u * u                                   # tanh(c (u + k u^3))
    th *= _GELU_K
    th += 1.0
    th *= u
    th *= _GELU_C
    np.tanh(th, out=th)
    g = th + 1.0
    g *= u
    g *= 0.5                                     # gelu(u) = 0.5 u (1 + tanh(.))
    x2 = g @ p["W2"]
    x2 += p["b2"]
    x2 += x1

    # ---- head: mean over the sequence -> Linear -> CE ----
    pooled = x2.reshape(B, T, D).mean(axis=1)
    logits = pooled @ p["Wc"]
    logits += p["bc"]
    loss, dl = _cross_entropy(logits, y)

    grads = {}
    grads["Wc"] = pooled.T @ dl
    grads["bc"] = dl.sum(axis=0)
    dpooled = dl @ p["Wc"].T
    dpooled *= 1.0 / T
    dx2 = np.empty((B, T, D), dtype=dt)
    dx2[...] = dpooled[:, None, :]
    dx2 = dx2.reshape(N, D)

    # FFN backward
    grads["W2"] = g.T @ dx2
    grads["b2"] = dx2.sum(axis=0)
    du = dx2 @ p["W2"].T
    # gelu'(u) = 0.5 (1 + t) + 0.5 u (1 - t^2) c (1 + 3 k u^2)
    dgelu = u * u
    dgelu *= 3.0 * _GELU_K
    dgelu += 1.0
    dgelu *= u
    dgelu *= _GELU_C
    t2 = np.multiply(th, th, out=u)              # u is dead now: reuse its buffer
    np.subtract(1.0, t2, out=t2)
    dgelu *= t2
    dgelu += th
    dgelu += 1.0
    dgelu *= 0.5
    du *= dgelu
    grads["W1"] = f_in.T @ du
    grads["b1"] = du.sum(axis=0)
    df_in = du @ p["W1"].T
    dx1, grads["ln2_w"], grads["ln2_b"] = _layernorm_backward(df_in, xhat2, rstd2, p["ln2_w"])
    dx1 += dx2                                   # residual

    # attention backward
    grads["Wo"] = att2d.T @ dx1
    grads["bo"] = dx1.sum(axis=0)
    datt2d = dx1 @ p["Wo"].T
    datt = datt2d.reshape(B, T, nh, dh).transpose(0, 2, 1, 3)
    dP = datt @ v4.transpose(0, 1, 3, 2)         # (B, nh, T, T)
    dv4 = P.transpose(0, 1, 3, 2) @ datt         # (B, nh, T, dh)
    # softmax backward: dS = P * (dP - sum(dP * P))
    rowdot = np.einsum("bhij,bhij->bhi", dP, P)[..., None]
    dP -= rowdot
    dP *= P                                      # masked entries have P == 0
    dq4 = dP @ k4                                # grad wrt the scaled q
    dk4 = dP.transpose(0, 1, 3, 2) @ q4
    dq = dq4.transpose(0, 2, 1, 3).reshape(N, D)
    dq *= scale
    dk = dk4.transpose(0, 2, 1, 3).reshape(N, D)
    dv = dv4.transpose(0, 2, 1, 3).reshape(N, D)
    grads["Wq"] = a_in.T @ dq
    grads["bq"] = dq.sum(axis=0)
    grads["Wk"] = a_in.T @ dk
    grads["bk"] = dk.sum(axis=0)
    grads["Wv"] = a_in.T @ dv
    grads["bv"] = dv.sum(axis=0)
    da_in = dq @ p["Wq"].T
    da_in += dk @ p["Wk"].T
    da_in += dv @ p["Wv"].T
    # x is data: only LN1's affine grads are needed
    _, grads["ln1_w"], grads["ln1_b"] = _layernorm_backward(
        da_in, xhat1, rstd1, p["ln1_w"], need_dx=False)
    return loss, grads


# --------------------------------------------------------------------------
# W4: per-op overhead chain
# --------------------------------------------------------------------------

def _w4_loss_and_grads(params, data):
    """1000 ufunc calls forward (alternating multiply / add) and 1000 backward.

    Forward:  h = x; repeat n_ops/2 times: h = h * a; h = h + x.  loss = sum(h).
    Backward: each multiply needs g = g * a; each add passes g through to h and
    accumulates it into dx (the leaf x fans out) -- one np.multiply or np.add
    per forward op, which is the minimum an autograd engine has to do.
    """
    x = params["x"]
    a = data["a"].astype(x.dtype, copy=False)
    half = int(data["cfg"]["n_ops"]) // 2
    mul, add = np.multiply, np.add

    h = x
    for _ in range(half):
        h = mul(h, a)
        h = add(h, x)
    loss = float(h.sum())

    g = np.ones_like(h)
    dx = np.zeros_like(x)
    for _ in range(half):
        dx = add(dx, g)        # backward of h + x (the h-branch gets g unchanged)
        g = mul(g, a)          # backward of h * a
    dx = add(dx, g)            # the chain's start h_0 = x
    return loss, {"x": dx}


# --------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------

W1 = _Workload("W1", _w1_loss_and_grads)
W2 = _Workload("W2", _w2_loss_and_grads)
W3 = _Workload("W3", _w3_loss_and_grads)
W4 = _Workload("W4", _w4_loss_and_grads)
WORKLOADS = {"W1": W1, "W2": W2, "W3": W3, "W4": W4}


def make_step(workload: str, params: dict, data: dict):
    """``make_step("W1", params, data)`` -- dispatching convenience."""
    return WORKLOADS[workload].make_step(params, data)


def loss_and_grads(workload: str, params: dict, data: dict):
    """``loss_and_grads("W1", params, data)`` -- dispatching convenience."""
    return WORKLOADS[workload].loss_and_grads(params, data)


# --------------------------------------------------------------------------
# W5: CNN -- im2col (an as_strided view, one copy) + one matmul per conv,
# col2im by kH*kW slice-adds, 2x2 max pooling by reshape (first maximum wins)
# --------------------------------------------------------------------------

def _conv3x3_forward(x, K, b):
    """Valid 3x3 convolution, stride 1: returns (out, cols) with cols (N, C*9, Ho*Wo)."""
    N, C, H, W = x.shape
    Co, _, kh, kw = K.shape
    Ho, Wo = H - kh + 1, W - kw + 1
    sN, sC, sH, sW = x.strides
    view = np.lib.stride_tricks.as_strided(x, (N, C, kh, kw, Ho, Wo), (sN, sC, sH, sW, sH, sW))
    cols = view.reshape(N, C * kh * kw, Ho * Wo)          # the im2col copy
    out = K.reshape(Co, -1) @ cols                        # (N, Co, Ho*Wo)
    out += b[:, None]
    return out.reshape(N, Co, Ho, Wo), cols


def _conv3x3_backward(g, cols, K, x_shape, need_dx=True):
    N, Co, Ho, Wo = g.shape
    _, C, kh, kw = K.shape
    gm = g.reshape(N, Co, Ho * Wo)
    dK = (gm @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(K.shape)
    db = g.sum(axis=(0, 2, 3))
    dx = None
    if need_dx:
        dcols = (K.reshape(Co, -1).T @ gm).reshape(N, C, kh, kw, Ho, Wo)
        dx = np.zeros(x_shape, dtype=g.dtype)
        for u in range(kh):
            for v in range(kw):
                dx[:, :, u:u + Ho, v:v + Wo] += dcols[:, :, u, v]
    return dx, dK, db


def _maxpool2_forward(x):
    """2x2 max pooling, stride 2 (an odd last row/column is dropped). Returns (out, argmax)."""
    N, C, H, W = x.shape
    Ho, Wo = H // 2, W // 2
    win = x[:, :, :2 * Ho, :2 * Wo].reshape(N, C, Ho, 2, Wo, 2).transpose(0, 1, 2, 4, 3, 5)
    win = win.reshape(N, C, Ho, Wo, 4)
    arg = win.argmax(axis=-1)
    return np.take_along_axis(win, arg[..., None], axis=-1)[..., 0], arg


def _maxpool2_backward(g, arg, x_shape):
    N, C, H, W = x_shape
    Ho, Wo = g.shape[2:]
    dwin = (np.arange(4) == arg[..., None]) * g[..., None]           # (N, C, Ho, Wo, 4)
    dwin = dwin.reshape(N, C, Ho, Wo, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, 2 * Ho,
                                                                            2 * Wo)
    dx = np.zeros(x_shape, dtype=g.dtype)
    dx[:, :, :2 * Ho, :2 * Wo] = dwin
    return dx


def _w5_loss_and_grads(params, data):
    x, y = data["x"].astype(params["K1"].dtype, copy=False), data["y"]
    z1, cols1 = _conv3x3_forward(x, params["K1"], params["k1b"])
    a1 = np.maximum(z1, 0.0)
    p1, arg1 = _maxpool2_forward(a1)
    z2, cols2 = _conv3x3_forward(np.ascontiguousarray(p1), params["K2"], params["k2b"])
    a2 = np.maximum(z2, 0.0)
    p2, arg2 = _maxpool2_forward(a2)
    N = x.shape[0]
    flat = p2.reshape(N, -1)
    logits = flat @ params["Wfc"] + params["bfc"]
    loss, dlogits = _cross_entropy(logits, y)
    grads = {"Wfc": flat.T @ dlogits, "bfc": dlogits.sum(axis=0)}
    dp2 = (dlogits @ params["Wfc"].T).reshape(p2.shape)
    dz2 = _maxpool2_backward(dp2, arg2, a2.shape)
    dz2 *= z2 > 0
    dp1, grads["K2"], grads["k2b"] = _conv3x3_backward(dz2, cols2, params["K2"], p1.shape)
    dz1 = _maxpool2_backward(dp1, arg1, a1.shape)
    dz1 *= z1 > 0
    _, grads["K1"], grads["k1b"] = _conv3x3_backward(dz1, cols1, params["K1"], x.shape,
                                                     need_dx=False)
    return loss, grads


W5 = _Workload("W5", _w5_loss_and_grads)
WORKLOADS["W5"] = W5
__all__.append("W5")
