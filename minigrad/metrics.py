"""Classification metrics (catalogue F32): accuracy, macro recall, macro F1.

All three compare true class labels with predicted ones. Predictions may be
given as class labels (same shape as the targets) or as scores/logits/
probabilities with one more trailing axis (the predicted class is the arg-max).
Tensors, NumPy arrays and lists are accepted; results are Python floats.

Definitions, for classes c = 1..C (C = the classes that occur in the targets
or the predictions, unless ``num_classes`` is given):

* accuracy = (number of samples with prediction == target) / N
* recall_c = TP_c / (TP_c + FN_c): of the samples whose true class is c, the
  fraction predicted as c
* precision_c = TP_c / (TP_c + FP_c): of the samples predicted as c, the
  fraction truly c
* F1_c = 2 precision_c recall_c / (precision_c + recall_c)
* macro recall = (1/C) sum_c recall_c and macro F1 = (1/C) sum_c F1_c: every
  class counts equally however many samples it has (unlike accuracy, which a
  majority class dominates).

A ratio with a zero denominator (a class never predicted has no precision) is
counted as 0, as scikit-learn does with ``zero_division=0``.

>>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
0.75
>>> macro_recall([0, 0, 0, 1], [0, 0, 0, 0])     # class 1 never found
0.5
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["accuracy", "macro_recall", "macro_precision", "macro_f1", "confusion_matrix",
           "classification_report"]


def _labels(x: Any) -> np.ndarray:
    """Host NumPy copy of labels given as a Tensor, a device array, or a sequence."""
    from . import backends
    from .tensor import Tensor
    if isinstance(x, Tensor):
        return backends.to_numpy(x.data)
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int)):
        return np.asarray(x)
    try:
        return backends.to_numpy(x)  # a CuPy (or test-double) array: explicit copy
    except Exception:
        return np.asarray(x)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true), _labels(y_pred)
    if p.ndim == t.ndim + 1:  # scores / logits / probabilities: take the arg-max
        p = p.argmax(axis=-1)
    if t.shape != p.shape:
        raise ValueError(f"targets of shape {t.shape} and predictions of shape {p.shape} do "
                         "not match (predictions may also be scores with one extra last axis)")
    if t.size == 0:
        raise ValueError("metrics of an empty set of samples are undefined")
    return t.reshape(-1).astype(np.int64), p.reshape(-1).astype(np.int64)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """``M[i, j]`` = number of samples of true class i predicted as class j."""
    t, p = _pair(y_true, y_pred)
    if t.min() < 0 or p.min() < 0:
        raise ValueError("class labels must be non-negative integers")
    n = int(max(t.max(), p.max())) + 1 if num_classes is None else int(num_classes)
    if t.max() >= n or p.max() >= n:
        raise ValueError(f"labels must lie in [0, {n}) for num_classes={n}")
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (t, p), 1)
    return m


def _per_class(y_true: Any, y_pred: Any, num_classes: int | None):
    t, p = _pair(y_true, y_pred)
    m = confusion_matrix(t, p, num_classes)
    present = np.union1d(t, p) if num_classes is None else np.arange(m.shape[0])
    tp = np.diag(m).astype(np.float64)
    actual = m.sum(axis=1).astype(np.float64)      # TP + FN
    predicted = m.sum(axis=0).astype(np.float64)   # TP + FP
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(actual > 0, tp / np.maximum(actual, 1), 0.0)
        precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
        denom = precision + recall
        f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    return precision[present], recall[present], f1[present]


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted class equals the true class."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def macro_recall(y_true: Any, y_pred: Any, num_classes: int | None = None) -> float:
    """Unweighted mean over classes of TP_c / (TP_c + FN_c) (balanced accuracy)."""
    return float(np.mean(_per_class(y_true, y_pred, num_classes)[1]))


def macro_precision(y_true: Any, y_pred: Any, num_classes: int | None = None) -> float:
    """Unweighted mean over classes of TP_c / (TP_c + FP_c)."""
    return float(np.mean(_per_class(y_true, y_pred, num_classes)[0]))


def macro_f1(y_true: Any, y_pred: Any, num_classes: int | None = None) -> float:
    """Unweighted mean over classes of F1_c = 2 P_c R_c / (P_c + R_c).

    (The mean of the per-class F1 scores, as scikit-learn's
    ``f1_score(average="macro")`` -- not the F1 of macro precision and recall.)
    """
    return float(np.mean(_per_class(y_true, y_pred, num_classes)[2]))


def classification_report(y_true: Any, y_pred: Any,
                          num_classes: int | None = None) -> dict[str, float]:
    """``{"accuracy", "macro_recall", "macro_precision", "macro_f1"}`` in one call."""
    precision, recall, f1 = _per_class(y_true, y_pred, num_classes)
    return {"accuracy": accuracy(y_true, y_pred), "macro_recall": float(np.mean(recall)),
            "macro_precision": float(np.mean(precision)), "macro_f1": float(np.mean(f1))}
