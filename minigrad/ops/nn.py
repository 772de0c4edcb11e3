"""Neural-network ops: softmax, log-softmax, losses, dropout (layer norm: ``fused.py``).

The losses here are the formulas F09-F13 of the catalogue. Softmax and
cross-entropy subtract the row maximum first, so logits of +-1000 neither
overflow nor produce NaN.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..errors import DTypeError, ShapeError, describe
from ..modes import fused_enabled
from ..tensor import Tensor
from ._util import normalize_axes, require_broadcasts_to, require_float, xp_of
from .fused import layer_norm  # noqa: F401  (a fused op; re-exported here with the other nn ops)
from .reduce import _reciprocal_count
from .shape import to_index


class Linear(Function):
    """F01/F02  out = x W^T + b  (weight W of shape (out, in), as in PyTorch;
    x may have any number of leading batch axes);

    dx = g W,   dW = sum over batch of g^T x,   db = sum over batch of g.

    One fused op instead of transpose + matmul + add: fewer graph nodes, and
    dW comes out contiguous in W's own layout.
    """

    fused = True

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

    fused = True

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
    if not fused_enabled():                     # use_fused(False): the primitive ops
        return linear_reference(x, weight, bias)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


def linear_reference(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The fused :class:`Linear` composed from primitive ops: x @ W^T (+ b)."""
    out = x @ weight.mT
    return out if bias is None else out + bias


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


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean", weight: Any = None,
                  ignore_index: int = -100, label_smoothing: float = 0.0) -> Tensor:
    """F11  Cross-entropy between ``softmax(logits)`` and ``target``, with PyTorch's options.

    * integer ``target`` of shape ``logits.shape[:-1]``: class indices
      (classes along the **last** axis, so (batch, time, vocab) logits work
      directly -- PyTorch puts classes on axis 1 instead);
    * float ``target`` of the same shape as ``logits``: class probabilities,
      loss = -sum_c target_c log softmax(logits)_c.

    ``weight`` (C,) scales each class's loss; targets equal to ``ignore_index``
    contribute nothing and are left out of the mean; ``label_smoothing`` eps mixes
    the target with the uniform distribution ((1 - eps) target + eps / C). With
    ``reduction="mean"`` and index targets the mean is PyTorch's *weighted* one:
    sum_n w[y_n] loss_n / sum_n w[y_n] over the rows that are not ignored (nan if
    every row is ignored); with probability targets it divides by the number of
    rows. The formulas are in :mod:`minigrad.ops.loss_options`. The plain case
    (no weight, no smoothing, no ignored target) runs the fused op; the options run
    a composition of primitive ops.
    """
    _check_reduction("cross_entropy", reduction)
    require_float("cross_entropy", logits)
    if logits.ndim == 0:
        raise ShapeError("cross_entropy: logits need a class axis, got a 0-d tensor")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got {label_smoothing}")
    from .loss_options import class_weights, cross_entropy_options, probability_cross_entropy
    w = class_weights(weight, logits)
    if isinstance(target, Tensor) and target.dtype.kind == "f" or (
            not isinstance(target, Tensor) and getattr(target, "dtype", None) is not None
            and target.dtype.kind == "f"):
        target = target if isinstance(target, Tensor) else Tensor(target, dtype=logits.dtype,
                                                                   device=logits.device)
        if target.shape != logits.shape:
            raise ShapeError(f"cross_entropy: probability targets ({describe(target)}) must have "
                             f"the shape of the logits {logits.shape}")
        if w is not None or label_smoothing:
            return probability_cross_entropy(logits, target, reduction, w, label_smoothing)
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
    ignored = idx == ignore_index
    any_ignored = False
    if idx.size:
        # CuPy would wrap an out-of-range target around silently, so check it here;
        # the range and the count of ignored targets reach the host in one transfer
        # (one device synchronisation per call, not three)
        xp = logits.xp
        valid = xp.where(ignored, 0, idx).astype(xp.int64)   # an ignored target is in range
        lo, hi, n_ignored = logits.backend.to_numpy(xp.stack(
            [valid.min(), valid.max(), ignored.sum().astype(xp.int64)])).tolist()
        any_ignored = n_ignored > 0
        if lo < 0 or hi >= n_classes:
            raise ShapeError(f"cross_entropy: targets must lie in [0, {n_classes}) for "
                             f"{n_classes} classes (or equal ignore_index={ignore_index}); got "
                             f"values in [{lo}, {hi}]")
    if w is not None or any_ignored or label_smoothing:
        return cross_entropy_options(logits, idx, reduction, w, ignore_index, label_smoothing)
    if not fused_enabled():                     # use_fused(False): the primitive ops
        return cross_entropy_reference(logits, idx, reduction)
    return CrossEntropy.apply(logits, target=idx, reduction=reduction)


def cross_entropy_reference(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The fused :class:`CrossEntropy` composed from primitive ops (integer targets
    already checked): log_softmax, pick each row's target class, negate, reduce."""
    from .shape import gather
    idx = to_index(target, logits.backend, "cross_entropy")
    picked = gather(log_softmax(logits, axis=-1), -1, idx[..., None]).squeeze(-1)
    if reduction == "none":
        return -picked
    return -picked.mean() if reduction == "mean" else -picked.sum()


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """F10  MSE = (1/n) sum (y_i - yhat_i)^2   (shapes must match exactly; NaN for
    n = 0, as NumPy and PyTorch)."""
    _check_reduction("mse_loss", reduction)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=pred.dtype,
                                                              device=pred.device)
    require_float("mse_loss", pred)
    if pred.shape != target.shape:
        raise ShapeError(f"mse_loss: prediction shape {pred.shape} and target shape "
                         f"{target.shape} differ (broadcasting here is almost always a bug)")
    target = _same_float("mse_loss", pred, target, "target")
    diff = pred - target
    sq = diff * diff
    return sq if reduction == "none" else (sq.mean() if reduction == "mean" else sq.sum())


def half_sse(pred: Tensor, target: Any) -> Tensor:
    """F12  L = 1/2 sum (y_i - a_i)^2  (the loss of the documents' backprop example)."""
    return mse_loss(pred, target, reduction="sum") * 0.5


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean",
                                     weight: Any = None, pos_weight: Any = None) -> Tensor:
    """Stable binary cross-entropy from logits (see :class:`BCEWithLogits`).

    ``weight`` rescales each element's loss and ``pos_weight`` the loss of the positive
    targets (-[p y log s + (1 - y) log(1 - s)]; shape (C,) for C classes on the last
    axis, as in PyTorch); both are constants that broadcast to the logits' shape. With
    either, :class:`minigrad.ops.loss_options.BCEWithLogitsWeighted` runs. (PyTorch's
    third positional argument is ``weight``; here it is ``reduction``: pass them by name.)
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=logits.dtype,
                                                              device=logits.device)
    if logits.shape != target.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: logits {logits.shape} and "
                         f"target {target.shape} must have the same shape")
    if weight is None and pos_weight is None:
        return BCEWithLogits.apply(logits, target.astype(logits.dtype), reduction=reduction)
    from .loss_options import BCEWithLogitsWeighted
    consts = {}
    for name, value in (("weight", weight), ("pos_weight", pos_weight)):
        if value is None:
            consts[name] = None
            continue
        t = value.detach() if isinstance(value, Tensor) else Tensor(value, dtype=logits.dtype,
                                                                     device=logits.device)
        if t.device != logits.device:
            from ..errors import DeviceError
            raise DeviceError(f"binary_cross_entropy_with_logits: {name} is on {t.device} "
                              f"but the logits are on {logits.device}")
        require_broadcasts_to("binary_cross_entropy_with_logits", name, t.shape,
                              logits.shape, "the logits'")
        consts[name] = t.astype(logits.dtype).data
    return BCEWithLogitsWeighted.apply(logits, target.astype(logits.dtype),
                                       reduction=reduction, **consts)


class BinaryCrossEntropy(Function):
    """F13 on probabilities p with targets y, with PyTorch's clamp:

    loss = -[y max(ln p, -100) + (1 - y) max(ln(1 - p), -100)]
    dp = g (p - y) / max(p (1 - p), 1e-12),    dy = g [max(ln(1-p), -100) - max(ln p, -100)]

    Why a clamp on the *log* rather than clipping p to [eps, 1 - eps]: in
    float32, 1 - 1e-12 is exactly 1, so a clipped p = 1 still gives ln 0 and
    y ln p + (1 - y) ln(1 - p) = 0 * -inf = NaN (sigmoid(20) is 1.0 in float32).
    Clamping ln at -100 works the same in every dtype, costs at most 100 per
    element for a confidently wrong prediction, and gives PyTorch's numbers.
    For logits, :func:`binary_cross_entropy_with_logits` is exact and needs no clamp.
    """

    def forward(self, p, y, reduction):
        xp = xp_of(p)
        self.reduction = reduction
        self.log_p, self.log_q = _clamped_log(p, xp), _clamped_log(1 - p, xp)
        per = -(y * self.log_p + (1 - y) * self.log_q)
        self.count = per.size
        if reduction == "none":
            return per
        total = per.sum()
        if reduction == "sum":
            return total
        return total * _reciprocal_count(self.count)

    def backward(self, grad):
        p, y = self.inputs
        if self.reduction == "mean":
            grad = grad * _reciprocal_count(self.count)
        dp = dy = None
        if p.requires_grad:
            dp = grad * (p - y) / (p * (1.0 - p)).clip(1e-12, None)
        if y.requires_grad:
            dy = grad * Tensor._make(self.log_q - self.log_p, False)
        return dp, dy


def _clamped_log(x: Any, xp: Any) -> Any:
    """max(ln x, -100) for x in [0, 1], without NumPy's divide-by-zero warning at 0."""
    positive = x > 0
    logs = xp.log(xp.where(positive, x, 1))
    return xp.where(positive, xp.maximum(logs, -100), -100).astype(x.dtype)


def binary_cross_entropy(probs: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] on probabilities p, each log clamped at -100
    as in PyTorch (see :class:`BinaryCrossEntropy`)."""
    _check_reduction("binary_cross_entropy", reduction)
    require_float("binary_cross_entropy", probs)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=probs.dtype,
                                                              device=probs.device)
    if probs.shape != target.shape:
        raise ShapeError(f"binary_cross_entropy: probabilities {probs.shape} and target "
                         f"{target.shape} must have the same shape")
    target = _same_float("binary_cross_entropy", probs, target, "target")
    return BinaryCrossEntropy.apply(probs, target, reduction=reduction)


def _same_float(op: str, pred: Tensor, target: Tensor, what: str) -> Tensor:
    """``target`` in ``pred``'s float dtype: integers and bools are converted, another
    float dtype is refused (minigrad never promotes float32 to float64 silently)."""
    if target.device != pred.device:
        from ..errors import DeviceError
        raise DeviceError(f"{op}: input is on {pred.device} but {what} is on {target.device}; "
                          f"move it with .to({pred.device!r})")
    if target.dtype == pred.dtype:
        return target
    if target.dtype.kind == "f":
        raise DTypeError(f"{op}: input is {pred.dtype} but {what} is {target.dtype}; convert "
                         f"one with .float() or .double() (input: {describe(pred)}, {what}: "
                         f"{describe(target)})")
    return target.astype(pred.dtype)


def dropout(a: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """F20 (dropout as a regulariser), *inverted* dropout: zero each element with
    probability p and scale survivors by 1/(1-p), so the expectation is
    unchanged and evaluation needs no rescaling. Identity when not training.

    The uniforms are drawn in the tensor's own dtype (float32 stays float32 on
    a GPU) from :mod:`minigrad.rng`, so one seed gives the same mask on every
    backend."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return a
    dtype = a.dtype if a.dtype.kind == "f" else np.dtype("float32")
    keep = a.backend.rng.random(a.shape, dtype=dtype) >= dtype.type(p)
    mask = keep.astype(a.dtype) * (1.0 / (1.0 - p))
    return a * Tensor._make(mask, False)


def one_hot(ids: Any, num_classes: int, like: Tensor | None = None) -> Tensor:
    """Float one-hot encoding of integer ``ids`` (a constant, not differentiable)."""
    from .._checks import check_size
    num_classes = check_size("one_hot", num_classes, "num_classes")
    device = like.device if like is not None else (ids.device if isinstance(ids, Tensor) else None)
    ids_t = ids if isinstance(ids, Tensor) else Tensor(ids, device=device)
    if ids_t.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: ids must be integers, got {describe(ids_t)}")
    if ids_t.size:
        lo, hi = int(ids_t.data.min()), int(ids_t.data.max())   # two scalars to the host
        if lo < 0 or hi >= num_classes:
            raise ShapeError(f"one_hot: ids must lie in [0, {num_classes}) for num_classes="
                             f"{num_classes}; got values in [{lo}, {hi}] (an out-of-range id "
                             "would silently give an all-zero row)")
    xp = ids_t.xp
    dtype = like.dtype if like is not None else "float32"
    out = (xp.arange(num_classes) == ids_t.data[..., None]).astype(dtype)
    return Tensor._make(out, False)
