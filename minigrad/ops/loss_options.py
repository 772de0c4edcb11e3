"""The PyTorch options of the classification losses, composed from primitive ops.

:func:`minigrad.cross_entropy` keeps its fused op (``nn.CrossEntropy``) for the
plain case; with ``weight``, ``ignore_index`` (when a target equals it) or
``label_smoothing`` it calls :func:`cross_entropy_options` here. The formulas are
PyTorch's (``torch.nn.functional.cross_entropy``), classes on the last axis:

index targets y_n (N rows, C classes, class weights w, default all 1,
smoothing eps, ignored rows contribute 0 and do not count)::

    nll_n    = -w[y_n] log p_n[y_n]
    smooth_n = -sum_c w_c log p_n[c]
    loss_n   = (1 - eps) nll_n + (eps / C) smooth_n
    'mean'   = sum_n loss_n / sum_(n not ignored) w[y_n]     (a weighted mean)

probability targets t_n (same shape as the logits; ``ignore_index`` does not
apply)::

    t'_n   = (1 - eps) t_n + eps / C
    loss_n = -sum_c w_c t'_n[c] log p_n[c]
    'mean' = sum_n loss_n / N                                 (a plain mean)

:class:`BCEWithLogitsWeighted` is ``binary_cross_entropy_with_logits`` with
``weight`` and ``pos_weight``.
"""
from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..errors import ShapeError, describe
from ..tensor import Tensor
from ._util import xp_of
from .reduce import _reciprocal_count

__all__ = ["cross_entropy_options", "probability_cross_entropy", "BCEWithLogitsWeighted",
           "class_weights"]


def class_weights(weight: Any, logits: Tensor, op: str = "cross_entropy") -> Tensor | None:
    """``weight`` as a constant tensor of shape (C,) on the logits' device and dtype."""
    if weight is None:
        return None
    if isinstance(weight, Tensor):
        if weight.device != logits.device:
            from ..errors import DeviceError
            raise DeviceError(f"{op}: weight is on {weight.device} but the logits are on "
                              f"{logits.device}")
        w = weight.detach().astype(logits.dtype)
    else:
        w = Tensor(weight, dtype=logits.dtype, device=logits.device)
    if w.shape != (logits.shape[-1],):
        raise ShapeError(f"{op}: weight must have one entry per class, shape "
                         f"({logits.shape[-1]},), got {describe(w)}")
    return w


def _reduce(per: Tensor, reduction: str, denominator: Any) -> Tensor:
    if reduction == "none":
        return per
    total = per.sum()
    return total / denominator if reduction == "mean" else total


def cross_entropy_options(logits: Tensor, idx: Any, reduction: str, weight: Tensor | None,
                          ignore_index: int, label_smoothing: float) -> Tensor:
    """Index targets ``idx`` (a backend integer array of shape logits.shape[:-1]) with
    the options; composed from log_softmax, gather and elementwise ops."""
    from .nn import log_softmax
    xp = xp_of(logits.data)
    n_classes = logits.shape[-1]
    ignored = idx == ignore_index
    safe = xp.where(ignored, 0, idx)                       # any valid class; masked below
    keep = Tensor._make((~ignored).astype(logits.dtype), False)
    log_p = log_softmax(logits, axis=-1)
    picked = log_p.gather(-1, safe[..., None]).squeeze(-1)
    if weight is None:
        w_target = keep
    else:
        w_target = Tensor._make(weight.data[safe], False) * keep
    per = -(picked * w_target)
    if label_smoothing:
        weighted = log_p if weight is None else log_p * weight
        smooth = -(weighted.sum(axis=-1) * keep)
        per = per * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)
    # PyTorch divides by the total weight of the rows that count (0/0 = nan when none do)
    denominator = w_target.data.sum() if reduction == "mean" else None
    if reduction == "mean" and float(denominator) == 0.0:
        return per.sum() * float("nan")
    return _reduce(per, reduction, Tensor._make(xp.asarray(denominator), False)
                   if denominator is not None else None)


def probability_cross_entropy(logits: Tensor, target: Tensor, reduction: str,
                              weight: Tensor | None, label_smoothing: float) -> Tensor:
    """Probability targets of the logits' shape; 'mean' divides by the number of rows."""
    from .nn import log_softmax
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / logits.shape[-1]
    log_p = log_softmax(logits, axis=-1)
    if weight is not None:
        log_p = log_p * weight
    per = -(target * log_p).sum(axis=-1)
    rows = max(per.size, 1) if per.ndim else 1
    return _reduce(per, reduction, float(rows))


class BCEWithLogitsWeighted(Function):
    """Binary cross-entropy on logits x, targets y, with a positive-class weight p and
    an element weight w (both constants, broadcast against x), written stably:

    loss = w [p y softplus(-x) + (1 - y) softplus(x)]
         (= -w [p y log s + (1 - y) log(1 - s)] with s = sigmoid(x), since
          -log s = softplus(-x) and -log(1 - s) = softplus(x)),
    softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|)   (no overflow, no cancellation);

    dx = w [(1 - y) sigmoid(x) - p y sigmoid(-x)] g,
    dy = w [p softplus(-x) - softplus(x)] g.
    """

    def forward(self, x, y, weight, pos_weight, reduction):
        xp = xp_of(x)
        self.weight, self.pos_weight, self.reduction = weight, pos_weight, reduction
        tail = xp.log1p(xp.exp(-xp.abs(x)))
        sp_pos, sp_neg = xp.maximum(x, 0) + tail, xp.maximum(-x, 0) + tail
        pos = y * sp_neg if pos_weight is None else (pos_weight * y) * sp_neg
        per = pos + (1.0 - y) * sp_pos
        if weight is not None:
            per = per * weight
        self.count = per.size
        if reduction == "none":
            return per
        return per.sum() * _reciprocal_count(self.count) if reduction == "mean" else per.sum()

    def backward(self, grad):
        x, y = self.inputs
        p = 1.0 if self.pos_weight is None else Tensor._make(self.pos_weight, False)
        w = None if self.weight is None else Tensor._make(self.weight, False)
        if self.reduction == "mean":
            grad = grad * _reciprocal_count(self.count)
        # minigrad ops, so the backward is differentiable again
        dx = (1.0 - y) * x.sigmoid() - p * y * (-x).sigmoid()
        tail = ((-x.abs()).exp() + 1.0).log()
        dy = p * ((-x).relu() + tail) - (x.relu() + tail)
        if w is not None:
            dx, dy = dx * w, dy * w
        return dx * grad, dy * grad
