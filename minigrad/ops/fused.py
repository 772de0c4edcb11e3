"""Fused ops: one graph node, a hand-derived backward, checked against the same
computation composed from primitive ops.

A layer norm written with primitive ops is about ten graph nodes, and each
node allocates its own full-size temporary in forward and again in backward.
A fused op does the whole formula in one ``forward`` on raw arrays and the
whole derivative in one ``backward`` -- the "backprop ninja" exercise of
deriving the gradient by hand, turned into a speed-up. Every op here has

* the fused ``Function`` (what the library uses);
* a ``*_reference`` function computing the same thing from primitive ops
  (what autograd would differentiate on its own). The tests
  (``tests/engine/test_engine_fused.py``) check that both give the same
  values, gradients and second derivatives;
* second derivatives through the reference: the hand-written backward works
  on raw arrays, so it is not itself differentiable. When ``backward`` runs
  with recording on (``create_graph=True``), it differentiates the reference
  with autograd instead (:func:`_differentiable_backward`) -- slower, but exact.

Ops: ``layer_norm`` (F28's LayerNorm), ``masked_softmax`` (attention weights,
F26), ``lstm`` (F30: a whole LSTM layer over a sequence, backpropagation
through time by hand).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd import Function, enable_grad, grad as autograd_grad, is_grad_enabled
from ..errors import DTypeError, ShapeError, describe
from ..modes import fused_enabled
from .._checks import check_mask_device
from ..tensor import Tensor
from ._util import require_broadcasts_to, require_float, xp_of

__all__ = ["layer_norm", "layer_norm_reference", "masked_softmax", "masked_softmax_reference",
           "lstm", "lstm_reference", "LayerNorm", "MaskedSoftmax", "LSTM"]


def _differentiable_backward(fn: Function, reference: Callable[..., Tensor],
                             grad: Tensor) -> tuple[Tensor | None, ...]:
    """The gradients of ``reference(*fn.inputs)`` -- the fused op written with
    primitive ops -- for the upstream ``grad``, recorded on the graph.

    Used by the fused ops' ``backward`` when it runs with ``create_graph=True``:
    the result is differentiable with respect to the inputs *and* ``grad``.
    """
    inputs = fn.inputs
    wanted = [t for t in inputs if t.requires_grad]
    with enable_grad():
        out = reference(*inputs)
        grads = iter(autograd_grad(out, wanted, grad, create_graph=True, allow_unused=True))
    return tuple(next(grads) if t.requires_grad else None for t in inputs)


def _wrap(array: Any) -> Tensor:
    return Tensor._make(array, False)


# ---------------------------------------------------------------------------
# LayerNorm
# ---------------------------------------------------------------------------
class LayerNorm(Function):
    """y = x_hat * w + b,  x_hat = (x - mu) * r,  r = 1 / sqrt(var + eps), over the last axis
    (D features; ``w`` and ``b`` optional).

    Backward, with g = dL/dy and the means taken over the D features of a row:

        dx_hat = g * w
        dx = r * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))
        dw = sum over rows of g * x_hat,     db = sum over rows of g.

    (x_hat has mean 0 and variance 1 whatever x was, so moving x along 1 or
    along x_hat changes nothing: dx is dx_hat with those two directions
    projected out, scaled by r.) The code removes the mean of dx_hat first,
    which loses less to float32 round-off when var is not much larger than eps.
    """

    fused = True

    def forward(self, x, weight=None, bias=None, eps=1e-5):
        xp = xp_of(x)
        self.eps = eps
        if x.shape[-1] == 0:
            raise ShapeError(f"layer_norm: the input has zero features (shape {x.shape}); "
                             "a mean over no numbers is undefined")
        x_hat, rstd_scaled, scale = _row_statistics(x, eps, xp)
        self.rstd = rstd_scaled / scale             # 1 / sqrt(var + eps), in x's units
        x_hat *= rstd_scaled                        # (x - mu) * r, in place
        self.x_hat = x_hat
        if weight is None:
            return x_hat.copy()                     # (x_hat is saved for backward)
        out = x_hat * weight
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        if is_grad_enabled():  # create_graph=True: differentiate the composed version
            return _differentiable_backward(
                self, lambda *ts: layer_norm_reference(*ts, eps=self.eps), grad)
        inputs = self.inputs
        xp, g, x_hat, rstd = grad.xp, grad.data, self.x_hat, self.rstd
        weight = inputs[1] if len(inputs) > 1 else None
        d = x_hat.shape[-1]
        dx = dw = db = None
        if inputs[0].requires_grad:
            dx_hat = g * weight.data if weight is not None else g.copy()
            dx_hat -= dx_hat.sum(axis=-1, keepdims=True) * (1.0 / d)   # - mean(dx_hat)
            # per-row dot products (einsum: without a full-size temporary)
            mean_dot = xp.einsum("...i,...i->...", dx_hat, x_hat)[..., None] * (1.0 / d)
            dx_hat -= x_hat * mean_dot
            dx_hat *= rstd
            # the exact dx sums to 0 over a row (shifting x changes nothing), but
            # float32 round-off in the mean leaves x_hat slightly off-centre, and
            # the line above amplifies that when var is small: centre dx again
            dx_hat -= dx_hat.sum(axis=-1, keepdims=True) * (1.0 / d)
            dx = _wrap(dx_hat)
        if weight is not None and weight.requires_grad:
            dw = _wrap(xp.einsum("ni,ni->i", g.reshape(-1, d), x_hat.reshape(-1, d)))
        if len(inputs) > 2 and inputs[2].requires_grad:
            db = _wrap(g.reshape(-1, d).sum(axis=0))
        return (dx, dw, db)[:len(inputs)]


def _row_scale(x: Any, xp: Any) -> Any:
    """Per row (last axis): max |x| where it is finite and >= 1, else 1.

    LayerNorm is scale-invariant except for eps: (x - mu) / sqrt(var + eps)
    equals (y - mean y) / sqrt(var_y + eps / s^2) with y = x / s, for *any*
    s > 0. Computing with y = x / s keeps every square inside [0, 4]: float32
    overflows x^2 already at |x| > 1.8e19, so a row like [1e20, -1e20, 0, 1e19]
    would otherwise get var = inf and come out as zeros. (Rows with |x| < 1
    are left unscaled: there eps / s^2 could overflow instead, and nothing
    else can.) The scale depends on x, but the result does not depend on the
    scale, so the gradient may treat it as a constant.
    """
    s = xp.abs(x).max(axis=-1, keepdims=True)
    return xp.where(xp.isfinite(s) & (s >= 1), s, 1).astype(x.dtype)


def _row_statistics(x: Any, eps: float, xp: Any) -> tuple[Any, Any, Any]:
    """(x/s - mean(x/s)), 1 / sqrt(var(x/s) + eps/s^2), s -- see :func:`_row_scale`."""
    scale = _row_scale(x, xp)
    y = x / scale
    centered = y - y.mean(axis=-1, keepdims=True)
    var = xp.einsum("...i,...i->...", centered, centered)[..., None] * (1.0 / x.shape[-1])
    eps_scaled = (eps / scale) / scale             # eps / s^2 without forming s^2
    return centered, 1.0 / xp.sqrt(var + eps_scaled), scale


def layer_norm_reference(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None,
                         eps: float = 1e-5) -> Tensor:
    """LayerNorm composed from primitive ops (what autograd differentiates on its own).

    Statistics of x / s with s = the row's max |x| (see :func:`_row_scale`):
    the same value as with x itself, without overflowing float32's squares.
    """
    _check_layer_norm("layer_norm", x, weight, bias)
    scale = _wrap(_row_scale(x.data, x.xp))        # a constant: the result is invariant to it
    y = x / scale
    mu = y.mean(axis=-1, keepdims=True)
    centered = y - mu
    var = (centered * centered).mean(axis=-1, keepdims=True)
    out = centered * (var + (eps / scale) / scale) ** -0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _check_layer_norm(op: str, x: Tensor, weight: Tensor | None, bias: Tensor | None) -> None:
    """Errors named after layer_norm, not after the mul/add inside it."""
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: the input must be a Tensor, got {type(x).__name__}")
    require_float(op, x)
    if x.ndim == 0:
        raise ShapeError(f"{op}: a 0-d input has no feature axis to normalise")
    if x.shape[-1] == 0:
        raise ShapeError(f"{op}: the input has zero features (shape {x.shape}); a mean over "
                         "no numbers is undefined")
    for what, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise DTypeError(f"{op}: {what} must be a Tensor, got {type(t).__name__}")
        if t.device != x.device:
            from ..errors import DeviceError
            raise DeviceError(f"{op}: input is on {x.device} but {what} is on {t.device}")
        if t.dtype != x.dtype:
            raise DTypeError(f"{op}: input is {x.dtype} but {what} is {t.dtype} "
                             f"(input: {describe(x)}; {what}: {describe(t)})")
        try:
            fits = np.broadcast_shapes(t.shape, x.shape[-1:]) == x.shape[-1:]
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"{op}: {what} of shape {t.shape} does not fit the input's "
                             f"{x.shape[-1]} features (input shape {x.shape}); expected "
                             f"({x.shape[-1]},)")


def layer_norm(x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) over the last axis, then * weight + bias (one fused
    node; composed from primitive ops under ``minigrad.use_fused(False)``)."""
    inputs = [t for t in (x, weight, bias) if t is not None]
    fits = x.ndim > 0 and all(t.shape == x.shape[-1:] and t.dtype == x.dtype for t in inputs[1:])
    if not fits or (weight is None and bias is not None) or not fused_enabled():
        # broadcasting affine parameters, mixed dtypes (an error the primitive ops
        # report), or a shift without a scale: the composed version handles them
        return layer_norm_reference(x, weight, bias, eps)
    return LayerNorm.apply(*inputs, eps=eps)


# ---------------------------------------------------------------------------
# masked softmax (attention weights)
# ---------------------------------------------------------------------------
class MaskedSoftmax(Function):
    """out = softmax(a) along the last axis, except that positions where the
    boolean ``blocked`` (broadcastable to a's shape) is True get weight exactly
    0; a row with every position blocked becomes all zeros (not 1/n each).

    Forward adds a huge negative number (half the dtype's minimum) at the
    blocked positions, so e^(a - max) underflows to exactly 0 there -- an add
    with a small precomputed mask, much cheaper than a full-size ``where``.

    Backward is the softmax's, da = out * (g - sum(g * out)); blocked
    positions have out = 0, so they get no gradient.
    """

    fused = True

    def forward(self, a, blocked):
        xp = xp_of(a)
        very_negative = float(np.finfo(a.dtype).min) / 2
        self.blocked = blocked
        penalty = xp.where(blocked, a.dtype.type(very_negative), a.dtype.type(0))
        e = a + penalty                             # (broadcast: the mask is usually small)
        e -= e.max(axis=-1, keepdims=True)
        xp.exp(e, out=e)
        e /= e.sum(axis=-1, keepdims=True)
        every = blocked.all(axis=-1, keepdims=True)  # rows with nothing to attend to
        # On a GPU, asking whether any row is fully blocked would stop the device to
        # copy one bool to the host: there the zeroing is simply always applied.
        if xp is not np or bool(every.any()):
            e *= ~xp.broadcast_to(every, e.shape)
        return e

    def backward(self, grad):
        if is_grad_enabled():
            return (_differentiable_backward(
                self, lambda t: masked_softmax_reference(t, self.blocked), grad)[0],)
        xp, out, g = grad.xp, self.output.data, grad.data
        row_dot = xp.einsum("...i,...i->...", g, out)[..., None]   # sum(g * out) per row
        da = g - row_dot
        da *= out
        return _wrap(da)


def masked_softmax_reference(a: Tensor, blocked: Any) -> Tensor:
    """The masked softmax composed from primitive ops: masked_fill, softmax, masked_fill."""
    very_negative = float(np.finfo(a.dtype).min) / 2
    weights = a.masked_fill(blocked, very_negative).softmax(axis=-1)
    return weights.masked_fill(blocked, 0.0)


def masked_softmax(a: Tensor, blocked: Any) -> Tensor:
    """Softmax along the last axis with ``blocked`` positions (True) given weight 0.

    ``blocked``: a boolean array (or Tensor) broadcastable to ``a.shape`` on a's device.
    """
    check_mask_device("masked_softmax", blocked, a)
    if isinstance(blocked, Tensor):
        blocked = blocked.data
    if getattr(blocked, "dtype", None) is None or blocked.dtype.kind != "b":
        raise DTypeError(f"masked_softmax: the mask must be a boolean array (True = blocked), "
                         f"got {describe(blocked)}")
    require_broadcasts_to("masked_softmax", "a mask", blocked.shape, a.shape)
    if not fused_enabled():                     # use_fused(False): the primitive ops
        return masked_softmax_reference(a, blocked)
    return MaskedSoftmax.apply(a, blocked=blocked)


# ---------------------------------------------------------------------------
# LSTM: a whole layer over a sequence
# ---------------------------------------------------------------------------
def _sigmoid_into(z: Any, out: Any, xp: Any) -> None:
    """out = sigmoid(z), as :func:`minigrad.sigmoid` computes it: with e = exp(-|z|)
    (never overflows), 1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0 -- no
    cancellation in the negative tail (0.5 * (1 + tanh(z / 2)) gives 0 there)."""
    e = xp.exp(-xp.abs(z))
    xp.divide(xp.where(z >= 0, z.dtype.type(1), e), e + z.dtype.type(1), out=out)


class LSTM(Function):
    """F30 over T time steps in one node (gate rows i, f, g, o as in PyTorch).

    Inputs: x (T, B, I) time-major, h0 and c0 (B, H), weight_ih (4H, I),
    weight_hh (4H, H), and optionally bias_ih, bias_hh (4H,). Output: one
    array (2, T, B, H) -- ``[0]`` holds h_1..h_T, ``[1]`` holds c_1..c_T
    (a graph node has one output, so the two states travel together).

    Forward, for t = 1..T (the input projection of all steps is one matrix
    product up front; each step adds one product with the previous h):

        z = x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T            (B, 4H)
        i, f, o = sigmoid(z_i, z_f, z_o),  g = tanh(z_g)
        c_t = f * c_{t-1} + i * g,         h_t = o * tanh(c_t)

    Backward through time (BPTT), from t = T down to 1. Names: ``dX`` is always
    dL/dX for the quantity X of the forward formulas (``d_i`` for the gate value
    i, ``dz_i`` for its pre-activation z_i); the numbers in brackets tag the
    lines of :meth:`backward` that implement each formula.

        [1] dh = dL/dh_t = (gradient from the output at t) + dh_next
            (dh_next = dL/dh_t through step t+1, dc_next likewise; 0 at t = T)
        [2] h_t = o * tanh(c_t):           d_o = dh * tanh(c_t)
            dc = dL/dc_t = (gradient from the output at t) + dc_next
                           + dh * o * (1 - tanh(c_t)^2)      (c_t reaches L directly,
                                                               through c_{t+1} and through h_t)
        [3] c_t = f * c_{t-1} + i * g:     d_i = dc * g,  d_f = dc * c_{t-1},  d_g = dc * i
                                           dc_next = dc * f          (dL/dc_{t-1})
        [4] through the nonlinearities:    dz_i = d_i * i (1 - i),   dz_f = d_f * f (1 - f)
            (sigmoid' = s (1 - s),         dz_g = d_g * (1 - g^2),   dz_o = d_o * o (1 - o)
             tanh' = 1 - t^2)
        [5] z = ... + h_{t-1} W_hh^T:      dh_next = dz W_hh         (dL/dh_{t-1})

    and, once for all steps (dz of every step is kept in ``dz_all``):

        [6] dx_t = dz_t W_ih,   dW_ih = sum_t dz_t^T x_t,   dW_hh = sum_t dz_t^T h_{t-1},
            db_ih = db_hh = sum over t and batch of dz_t,
            dh0 = dh_next, dc0 = dc_next after the last step (t = 1).

    Every buffer starts as zeros and each name keeps its one meaning, so in a
    debugger ``p dz_all[t]`` shows either zeros (not reached yet: BPTT runs
    backwards) or that step's finished dL/dz.
    """

    fused = True

    def forward(self, x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
        xp = xp_of(x)
        T, B, n_in = x.shape
        H = weight_hh.shape[1]
        # all input projections at once: (T*B, I) @ (I, 4H)
        xw = (x.reshape(T * B, n_in) @ weight_ih.T).reshape(T, B, 4 * H)
        if bias_ih is not None:
            xw += bias_ih + bias_hh
        # (zeros, not empty: a debugger never shows leftover memory)
        hc = xp.zeros((2, T + 1, B, H), dtype=x.dtype)  # h and c, with h0, c0 at t = 0
        hc[0, 0], hc[1, 0] = h0, c0
        acts = xp.zeros((T, B, 4 * H), dtype=x.dtype)   # gate activations i, f, g, o
        tanh_c = xp.zeros((T, B, H), dtype=x.dtype)
        w_hh_t = weight_hh.T
        # (``out=`` writes each result straight into its slot of the saved arrays)
        for t in range(T):
            z = xw[t]
            z += hc[0, t] @ w_hh_t                   # the four gates in one product
            a = acts[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            _sigmoid_into(z[:, :2 * H], a[:, :2 * H], xp)     # i and f
            xp.tanh(z[:, 2 * H:3 * H], out=g)
            _sigmoid_into(z[:, 3 * H:], o, xp)
            c = hc[1, t + 1]
            xp.multiply(f, hc[1, t], out=c)          # c_t = f * c_{t-1} + i * g
            c += i * g
            xp.tanh(c, out=tanh_c[t])
            xp.multiply(o, tanh_c[t], out=hc[0, t + 1])    # h_t = o * tanh(c_t)
        self.hc, self.acts, self.tanh_c = hc, acts, tanh_c
        return hc[:, 1:]

    def backward(self, grad):
        if is_grad_enabled():   # create_graph=True: differentiate the composed version
            return _differentiable_backward(self, lstm_reference, grad)
        inputs = self.inputs
        x, h0, c0, weight_ih, weight_hh = inputs[:5]
        xp = x.xp
        hc, acts, tanh_cs = self.hc, self.acts, self.tanh_c   # saved by forward
        g_out = grad.data                          # (2, T, B, H): dL/dh_t, dL/dc_t from outside
        T, B, H = tanh_cs.shape
        w_hh = weight_hh.data
        dh_next = xp.zeros((B, H), dtype=g_out.dtype)   # dL/dh_t through step t+1 (none at T)
        dc_next = xp.zeros((B, H), dtype=g_out.dtype)
        dz_all = xp.zeros((T, B, 4 * H), dtype=g_out.dtype)   # dL/dz of every step
        for t in range(T - 1, -1, -1):
            a = acts[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            tanh_c, c_prev = tanh_cs[t], hc[1, t]
            dh = g_out[0, t] + dh_next                             # [1]
            d_o = dh * tanh_c                                      # [2]
            dc = g_out[1, t] + dc_next + dh * o * (1.0 - tanh_c * tanh_c)
            d_i = dc * g                                           # [3]
            d_f = dc * c_prev
            d_g = dc * i
            dc_next = dc * f
            dz = dz_all[t]                                         # [4] (a view: fills dz_all)
            dz[:, :H] = d_i * i * (1.0 - i)
            dz[:, H:2 * H] = d_f * f * (1.0 - f)
            dz[:, 2 * H:3 * H] = d_g * (1.0 - g * g)
            dz[:, 3 * H:] = d_o * o * (1.0 - o)
            dh_next = dz @ w_hh                                    # [5]
        dz_rows = dz_all.reshape(T * B, 4 * H)                     # [6]
        n_in = x.shape[2]
        grads: list[Tensor | None] = [None] * len(inputs)
        if x.requires_grad:
            grads[0] = _wrap((dz_rows @ weight_ih.data).reshape(T, B, n_in))
        if h0.requires_grad:
            grads[1] = _wrap(dh_next)
        if c0.requires_grad:
            grads[2] = _wrap(dc_next)
        if weight_ih.requires_grad:
            grads[3] = _wrap(dz_rows.T @ x.data.reshape(T * B, n_in))
        if weight_hh.requires_grad:
            grads[4] = _wrap(dz_rows.T @ hc[0, :T].reshape(T * B, H))
        if len(inputs) > 5:
            db = dz_rows.sum(axis=0)
            grads[5] = _wrap(db) if inputs[5].requires_grad else None
            grads[6] = _wrap(db.copy()) if inputs[6].requires_grad else None
        return tuple(grads)


def lstm_reference(x: Tensor, h0: Tensor, c0: Tensor, weight_ih: Tensor, weight_hh: Tensor,
                   bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> Tensor:
    """The LSTM layer composed from primitive ops, step by step (same output layout
    as :class:`LSTM`: (2, T, B, H) with h's in [0] and c's in [1])."""
    from .shape import stack
    h, c = h0, c0
    hs, cs = [], []
    for t in range(x.shape[0]):
        z = x[t] @ weight_ih.mT + h @ weight_hh.mT
        if bias_ih is not None:
            z = z + (bias_ih + bias_hh)
        a_i, a_f, a_g, a_o = z.split(4, axis=-1)
        i, f, g, o = a_i.sigmoid(), a_f.sigmoid(), a_g.tanh(), a_o.sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        h.name, c.name = f"h_{t + 1}", f"c_{t + 1}"   # the backward trace: a block per step
        hs.append(h)
        cs.append(c)
    return stack([stack(hs), stack(cs)])


def lstm(x: Tensor, h0: Tensor, c0: Tensor, weight_ih: Tensor, weight_hh: Tensor,
         bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> Tensor:
    """One LSTM layer over a time-major sequence x (T, B, I), from state (h0, c0).

    Returns (2, T, B, H): ``out[0]`` the hidden states h_1..h_T, ``out[1]`` the
    cell states c_1..c_T. One fused node (see :class:`LSTM`); under
    ``minigrad.use_fused(False)`` the primitive ops of :func:`lstm_reference`,
    one block of them per time step.
    """
    if (bias_ih is None) != (bias_hh is None):
        raise ValueError("lstm: give both bias_ih and bias_hh, or neither")
    if not fused_enabled():
        return lstm_reference(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)
    biases = () if bias_ih is None else (bias_ih, bias_hh)
    return LSTM.apply(x, h0, c0, weight_ih, weight_hh, *biases)
