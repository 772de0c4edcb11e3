"""Neural-network ops: softmax, log-softmax, losses, dropout (layer norm: ``fused.py``).

The losses here are the formulas F09-F13 of the catalogue. Softmax and
cross-entropy subtract the row maximum first, so logits of +-1000 neither
overflow nor produce NaN.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, ShapeError, describe
from ..tensor import Tensor
from ._util import normalize_axes, require_float, xp_of
from .fused import layer_norm  # noqa: F401  (a fused op; re-exported here with the other nn ops)
from .shape import to_index


class Linear(Function):
    """F01/F02  out = x W^T + b  (weight W of shape (out, in), as in PyTorch;
    x may have any number of leading batch axes);

    dx = g W,   dW = sum over batch of g^T x,   db = sum over batch of g.

    One fused op instead of transpose + matmul + add: fewer graph nodes, and
    dW comes out contiguous in W's own layout.
    """

    def forward(self, x, weight, bias=None):
        # batch axes folded into one: a single (N, in) @ (in, out) product
        out = x.reshape(-1, x.shape[-1]) @ weight.T
        if bias is not None:
            out += bias
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, grad):
        x, weight = self.inputs[0], self.inputs[1]
        needs = self.needs_grad
        if not is_grad_enabled():
            return self._backward_arrays(grad.data, x.data, weight.data, needs)
        # create_graph=True: the same formulas from minigrad ops, so they can be
        # differentiated again
        g2 = grad.reshape(-1, weight.shape[0])
        dx = (g2 @ weight).reshape(x.shape) if needs[0] else None
        dw = g2.transpose() @ x.reshape(-1, weight.shape[1]) if needs[1] else None
        if len(self.inputs) == 2:
            return dx, dw
        return dx, dw, (g2.sum(axis=0) if needs[2] else None)

    def _backward_arrays(self, grad, x, weight, needs):
        """The usual case (recording off): the three formulas on raw arrays, without
        the bookkeeping of a graph node for every reshape and transpose."""
        g2 = grad.reshape(-1, weight.shape[0])
        dx = Tensor._make((g2 @ weight).reshape(x.shape), False) if needs[0] else None
        dw = Tensor._make(g2.T @ x.reshape(-1, weight.shape[1]), False) if needs[1] else None
        if len(needs) == 2:
            return dx, dw
        return dx, dw, (Tensor._make(g2.sum(axis=0), False) if needs[2] else None)


class Softmax(Function):
    """F09  out_i = e^(a_i - m) / sum_j e^(a_j - m),  m = max_j a_j  (along ``axis``);

    da = out * (g - sum(g * out))   (the Jacobian diag(out) - out out^T applied to g).
    """

    def forward(self, a, axis):
        self.axis = axis
        xp = xp_of(a)
        e = xp.asarray(a - a.max(axis=axis, keepdims=True))   # one new array, then in place
        xp.exp(e, out=e)
        e /= e.sum(axis=axis, keepdims=True)
        return e

    def backward(self, grad):
        out = self.output
        if is_grad_enabled():  # create_graph=True: minigrad ops, differentiable again
            return out * (grad - (grad * out).sum(axis=self.axis, keepdims=True))
        # recording off: the same formula on raw arrays, one new array instead of four
        xp, g, p = grad.xp, grad.data, out.data
        da = xp.asarray(g * p)
        row = da.sum(axis=self.axis, keepdims=True)            # sum(g * out) per row
        xp.subtract(g, row, out=da)
        da *= p                                                # out * (g - sum(g * out))
        return Tensor._make(da, False)


class LogSoftmax(Function):
    """out = a - m - log(sum_j e^(a_j - m));   da = g - softmax(a) * sum(g)."""

    def forward(self, a, axis):
        self.axis = axis
        xp = xp_of(a)
        shifted = a - a.max(axis=axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(self, grad):
        probs = self.output.exp()
        return grad - probs * grad.sum(axis=self.axis, keepdims=True)


class CrossEntropy(Function):
    """F11 with integer class targets, fused with log-softmax:

    loss = -(1/N) sum_n log softmax(logits_n)[y_n]     (reduction='mean')
    dlogits = (softmax(logits) - onehot(y)) * g / N

    The fused backward is both faster and better conditioned than chaining
    log_softmax and indexing; the tests check it against that composition.
    """

    def forward(self, logits, target, reduction):
        xp = xp_of(logits)
        self.target, self.reduction = target, reduction
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
        self.log_probs = log_probs
        picked = xp.take_along_axis(log_probs, target[..., None], axis=-1)[..., 0]
        self.count = picked.size
        if reduction == "none":
            return -picked
        total = -picked.sum()
        return total / self.count if reduction == "mean" else total

    def backward(self, grad):
        (logits,) = self.inputs
        xp = logits.xp
        if not is_grad_enabled():  # the usual case: on raw arrays, in place
            delta = xp.exp(self.log_probs)                   # softmax(logits)
            delta -= (xp.arange(logits.shape[-1]) == self.target[..., None])  # - onehot
            if self.reduction == "none":
                delta *= grad.data[..., None]
            else:
                delta *= grad.data * (1.0 / self.count) if self.reduction == "mean" \
                    else grad.data
            return Tensor._make(delta, False)
        # create_graph=True: from minigrad ops, differentiable again
        probs = logits.softmax(axis=-1)
        classes = xp.arange(logits.shape[-1])
        onehot = (classes == self.target[..., None]).astype(logits.dtype)
        delta = probs - Tensor._make(onehot, False)
        if self.reduction == "none":
            return delta * grad.unsqueeze(-1)
        scale = grad * (1.0 / self.count) if self.reduction == "mean" else grad
        return delta * scale


class BCEWithLogits(Function):
    """Binary cross-entropy on logits x with targets y in [0, 1], written stably:

    loss = max(x, 0) - x y + log(1 + e^-|x|)      (= -[y log s + (1-y) log(1-s)], s = sigmoid(x))
    dx = (sigmoid(x) - y) * g,   dy = -x * g.
    """

    def forward(self, x, y, reduction):
        xp = xp_of(x)
        self.reduction = reduction
        per = xp.maximum(x, 0) - x * y + xp.log1p(xp.exp(-xp.abs(x)))
        self.count = per.size
        if reduction == "none":
            return per
        return per.sum() / self.count if reduction == "mean" else per.sum()

    def backward(self, grad):
        x, y = self.inputs
        if self.reduction == "mean":
            grad = grad * (1.0 / self.count)
        return (x.sigmoid() - y) * grad, -x * grad


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """F01/F02  x W^T + b with PyTorch's weight layout (out_features, in_features)."""
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-d (out_features, in_features), got {describe(weight)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input of shape {x.shape} does not fit weight of shape "
                         f"{weight.shape}: the input's last dimension must be in_features = "
                         f"{weight.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {bias.shape} does not fit weight of shape "
                         f"{weight.shape}; expected ({weight.shape[0]},)")
    if x.dtype != weight.dtype:
        raise DTypeError(f"linear: input is {x.dtype} but weight is {weight.dtype}")
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


def softmax(a: Tensor, axis: int = -1) -> Tensor:
    require_float("softmax", a)
    return Softmax.apply(a, axis=normalize_axes("softmax", axis, a.ndim)[0])


def log_softmax(a: Tensor, axis: int = -1) -> Tensor:
    require_float("log_softmax", a)
    return LogSoftmax.apply(a, axis=normalize_axes("log_softmax", axis, a.ndim)[0])


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """F11  Cross-entropy between ``softmax(logits)`` and ``target``.

    * integer ``target`` of shape ``logits.shape[:-1]``: class indices
      (classes along the **last** axis, so (batch, time, vocab) logits work
      directly -- PyTorch puts classes on axis 1 instead);
    * float ``target`` of the same shape as ``logits``: class probabilities,
      loss = -sum_c target_c log softmax(logits)_c.
    """
    _check_reduction("cross_entropy", reduction)
    require_float("cross_entropy", logits)
    if logits.ndim == 0:
        raise ShapeError("cross_entropy: logits need a class axis, got a 0-d tensor")
    if isinstance(target, Tensor) and target.dtype.kind == "f" or (
            not isinstance(target, Tensor) and getattr(target, "dtype", None) is not None
            and target.dtype.kind == "f"):
        target = target if isinstance(target, Tensor) else Tensor(target, dtype=logits.dtype,
                                                                   device=logits.device)
        if target.shape != logits.shape:
            raise ShapeError(f"cross_entropy: probability targets ({describe(target)}) must have "
                             f"the shape of the logits {logits.shape}")
        per = -(target * log_softmax(logits, axis=-1)).sum(axis=-1)
        return per if reduction == "none" else (per.mean() if reduction == "mean" else per.sum())
    if isinstance(target, int):  # one class index for a single row of logits
        target = logits.backend.asarray(target)
    idx = to_index(target, logits.backend, "cross_entropy")
    if getattr(idx, "dtype", None) is None or idx.dtype.kind not in "iu":
        raise DTypeError(f"cross_entropy: class targets must be integers, got {describe(idx)}")
    if idx.shape != logits.shape[:-1]:
        raise ShapeError(f"cross_entropy: logits of shape {logits.shape} need integer targets of "
                         f"shape {logits.shape[:-1]}, got {idx.shape}")
    n_classes = logits.shape[-1]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n_classes):
        raise ShapeError(f"cross_entropy: targets must lie in [0, {n_classes}) for "
                         f"{n_classes} classes; got values in [{int(idx.min())}, {int(idx.max())}]")
    return CrossEntropy.apply(logits, target=idx, reduction=reduction)


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """F10  MSE = (1/n) sum (y_i - yhat_i)^2   (shapes must match exactly)."""
    _check_reduction("mse_loss", reduction)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=pred.dtype,
                                                              device=pred.device)
    if pred.shape != target.shape:
        raise ShapeError(f"mse_loss: prediction shape {pred.shape} and target shape "
                         f"{target.shape} differ (broadcasting here is almost always a bug)")
    diff = pred - target
    sq = diff * diff
    return sq if reduction == "none" else (sq.mean() if reduction == "mean" else sq.sum())


def half_sse(pred: Tensor, target: Any) -> Tensor:
    """F12  L = 1/2 sum (y_i - a_i)^2  (the loss of the documents' backprop example)."""
    return mse_loss(pred, target, reduction="sum") * 0.5


def binary_cross_entropy_with_logits(logits: Tensor, target: Any,
                                     reduction: str = "mean") -> Tensor:
    """Stable binary cross-entropy from logits (see :class:`BCEWithLogits`)."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=logits.dtype,
                                                              device=logits.device)
    if logits.shape != target.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: logits {logits.shape} and "
                         f"target {target.shape} must have the same shape")
    return BCEWithLogits.apply(logits, target.astype(logits.dtype), reduction=reduction)


def binary_cross_entropy(probs: Tensor, target: Any, reduction: str = "mean",
                         eps: float = 1e-12) -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] on probabilities p (clipped to [eps, 1-eps])."""
    _check_reduction("binary_cross_entropy", reduction)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=probs.dtype,
                                                              device=probs.device)
    if probs.shape != target.shape:
        raise ShapeError(f"binary_cross_entropy: probabilities {probs.shape} and target "
                         f"{target.shape} must have the same shape")
    p = probs.clip(eps, 1.0 - eps)
    per = -(target * p.log() + (1.0 - target) * (1.0 - p).log())
    return per if reduction == "none" else (per.mean() if reduction == "mean" else per.sum())


def dropout(a: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """F20 (dropout as a regulariser), *inverted* dropout: zero each element with
    probability p and scale survivors by 1/(1-p), so the expectation is
    unchanged and evaluation needs no rescaling. Identity when not training."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return a
    keep = a.backend.rng.random(a.shape) >= p
    mask = keep.astype(a.dtype) * (1.0 / (1.0 - p))
    return a * Tensor._make(mask, False)


def one_hot(ids: Any, num_classes: int, like: Tensor | None = None) -> Tensor:
    """Float one-hot encoding of integer ``ids`` (a constant, not differentiable)."""
    device = like.device if like is not None else (ids.device if isinstance(ids, Tensor) else None)
    ids_t = ids if isinstance(ids, Tensor) else Tensor(ids, device=device)
    xp = ids_t.xp
    dtype = like.dtype if like is not None else "float32"
    out = (xp.arange(num_classes) == ids_t.data[..., None]).astype(dtype)
    return Tensor._make(out, False)
