"""cross_entropy(weight, ignore_index, label_smoothing) and
binary_cross_entropy_with_logits(weight, pos_weight): forward against a
row-by-row NumPy transcription of PyTorch's documented formulas, gradcheck on
every device, and agreement with the fused op where the options are neutral."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import check_op, examples, host


def _log_softmax_row(z):
    m = max(z)
    return [v - m - np.log(sum(np.exp(u - m) for u in z)) for v in z]


def ce_reference(logits, target, reduction="mean", weight=None, ignore_index=-100, eps=0.0):
    """PyTorch's cross_entropy, one row at a time (torch.nn.CrossEntropyLoss docs)."""
    C = logits.shape[-1]
    rows = logits.reshape(-1, C)
    w = np.ones(C) if weight is None else np.asarray(weight, dtype=float)
    if np.asarray(target).dtype.kind == "f":            # probability targets
        t_rows = np.asarray(target).reshape(-1, C)
        per = []
        for z, t in zip(rows, t_rows):
            lp = _log_softmax_row(z)
            per.append(-sum(w[c] * ((1 - eps) * t[c] + eps / C) * lp[c] for c in range(C)))
        per = np.array(per).reshape(logits.shape[:-1])
        if reduction == "none":
            return per
        return per.sum() / max(per.size, 1) if reduction == "mean" else per.sum()
    ys = np.asarray(target).reshape(-1)
    per, total_w = [], 0.0
    for z, y in zip(rows, ys):
        if y == ignore_index:
            per.append(0.0)
            continue
        lp = _log_softmax_row(z)
        nll = -w[y] * lp[y]
        smooth = -sum(w[c] * lp[c] for c in range(C))
        per.append((1 - eps) * nll + eps / C * smooth)
        total_w += w[y]
    per = np.array(per).reshape(logits.shape[:-1])
    if reduction == "none":
        return per
    return per.sum() / total_w if reduction == "mean" else per.sum()


def _targets(rng, shape, C, ignore_index, frac_ignored=0.3):
    y = rng.integers(0, C, size=shape)
    y[rng.random(shape) < frac_ignored] = ignore_index
    if y.size and np.all(y == ignore_index):
        y.flat[0] = 0 if ignore_index != 0 else 1
    return y


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 0, 2])
@examples(3)
@given(seed=st.integers(0, 2**31), lead=st.sampled_from([(5,), (2, 3), (1,), (2, 1, 2)]),
       C=st.integers(3, 5), eps=st.sampled_from([0.0, 0.1, 0.35]), weighted=st.booleans())
def test_cross_entropy_index_targets_with_options(device, reduction, ignore_index, seed, lead, C,
                                                  eps, weighted):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(lead + (C,)) * 2
    y = _targets(rng, lead, C, ignore_index)
    weight = rng.uniform(0.2, 3.0, size=C) if weighted else None

    def fn(z):
        return mg.cross_entropy(z, mg.Tensor(y, device=device), reduction=reduction,
                                weight=None if weight is None else mg.Tensor(weight, device=device),
                                ignore_index=ignore_index, label_smoothing=eps)
    check_op(fn, logits, device=device, rtol=1e-12, atol=1e-13,
             ref=lambda z: ce_reference(z, y, reduction, weight, ignore_index, eps),
             gradgrad=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@examples(3)
@given(seed=st.integers(0, 2**31), lead=st.sampled_from([(4,), (2, 3)]),
       eps=st.sampled_from([0.0, 0.2]), weighted=st.booleans())
def test_cross_entropy_probability_targets_with_options(device, reduction, seed, lead, eps,
                                                        weighted):
    rng = np.random.default_rng(seed)
    C = 4
    logits = rng.standard_normal(lead + (C,))
    t = rng.dirichlet(np.ones(C), size=lead)
    weight = rng.uniform(0.2, 3.0, size=C) if weighted else None
    check_op(lambda z, tt: mg.cross_entropy(z, tt, reduction=reduction, weight=weight,
                                            label_smoothing=eps),
             logits, t, device=device, rtol=1e-12, atol=1e-13,
             ref=lambda z, tt: ce_reference(z, tt, reduction, weight, eps=eps))


def test_neutral_options_agree_with_the_fused_op(device):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, size=6)
    x = mg.Tensor(z, device=device, requires_grad=True)
    fused = mg.cross_entropy(x, y)
    (g_fused,) = mg.grad(fused, x)
    composed = mg.cross_entropy(x, y, weight=np.ones(5))      # all-ones weight: composed path
    assert composed.grad_fn is not fused.grad_fn and type(composed.grad_fn) is not \
        type(fused.grad_fn)
    (g_comp,) = mg.grad(composed, x)
    np.testing.assert_allclose(host(composed), host(fused), rtol=1e-14)
    np.testing.assert_allclose(host(g_comp), host(g_fused), rtol=1e-12, atol=1e-15)


def test_ignored_rows_get_no_gradient_and_all_ignored_mean_is_nan(device):
    z = mg.Tensor(np.random.default_rng(0).standard_normal((3, 4)), device=device,
                  requires_grad=True)
    y = np.array([1, -100, 3])
    mg.cross_entropy(z, y).backward()
    assert np.all(host(z.grad)[1] == 0) and np.all(host(z.grad)[[0, 2]] != 0)
    # PyTorch: the mean over no rows is 0/0 = nan; the sum is 0
    assert np.isnan(host(mg.cross_entropy(z, np.array([-100, -100, -100]))))
    assert host(mg.cross_entropy(z, np.array([-100, -100, -100]), reduction="sum")) == 0.0


def test_cross_entropy_option_errors_are_named():
    z = mg.Tensor(np.zeros((2, 3)))
    with pytest.raises(mg.ShapeError, match=r"weight must have one entry per class, shape \(3,\)"):
        mg.cross_entropy(z, [0, 1], weight=[1.0, 2.0])
    with pytest.raises(mg.ShapeError, match=r"or equal ignore_index=-1"):
        mg.cross_entropy(z, [0, 5], ignore_index=-1)
    with pytest.raises(mg.ShapeError, match="targets must lie in"):
        mg.cross_entropy(z, [0, -100], ignore_index=-1)
    with pytest.raises(ValueError, match="label_smoothing must lie in"):
        mg.cross_entropy(z, [0, 1], label_smoothing=1.5)


def bce_reference(x, y, weight=None, pos_weight=None, reduction="mean"):
    """-w [p y log s + (1 - y) log(1 - s)], s = sigmoid(x) (torch.nn.BCEWithLogitsLoss docs),
    computed with logaddexp so that it is exact in the tails."""
    log_s, log_1ms = -np.logaddexp(0, -x), -np.logaddexp(0, x)
    p = 1.0 if pos_weight is None else pos_weight
    w = 1.0 if weight is None else weight
    per = -w * (p * y * log_s + (1 - y) * log_1ms)
    if reduction == "none":
        return per
    return per.mean() if reduction == "mean" else per.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("which", ["pos_weight", "weight", "both"])
@examples(3)
@given(seed=st.integers(0, 2**31), shape=st.sampled_from([(5,), (2, 3), (3, 1, 4)]))
def test_bce_with_logits_weights(device, reduction, which, seed, shape):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3
    y = rng.uniform(0, 1, size=shape)
    pw = rng.uniform(0.3, 4.0, size=shape[-1:]) if which != "weight" else None
    w = rng.uniform(0.3, 2.0, size=shape[-2:] if len(shape) > 1 else shape) \
        if which != "pos_weight" else None
    check_op(lambda a, b: mg.binary_cross_entropy_with_logits(a, b, reduction, weight=w,
                                                              pos_weight=pw),
             x, y, device=device, rtol=1e-12, atol=1e-13,
             ref=lambda a, b: bce_reference(a, b, w, pw, reduction), gradgrad=True)


def test_bce_pos_weight_of_one_is_the_plain_loss_and_tails_are_finite(device):
    x = mg.Tensor(np.array([-800.0, -30.0, 0.0, 30.0, 800.0]), device=device, requires_grad=True)
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    a = mg.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=[1.0])
    b = mg.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(host(a), host(b), rtol=1e-15)
    np.testing.assert_allclose(host(a), bce_reference(host(x), y, pos_weight=1.0, reduction="none"),
                               rtol=1e-13)
    a.sum().backward()
    assert np.all(np.isfinite(host(x.grad)))


def test_bce_weight_shape_errors_are_named():
    x = mg.Tensor(np.zeros((2, 3)))
    with pytest.raises(mg.ShapeError, match=r"pos_weight of shape \(4,\) does not broadcast"):
        mg.binary_cross_entropy_with_logits(x, np.zeros((2, 3)), pos_weight=np.ones(4))
    with pytest.raises(mg.ShapeError, match=r"weight of shape \(5, 2, 3\) does not broadcast"):
        mg.binary_cross_entropy_with_logits(x, np.zeros((2, 3)), weight=np.ones((5, 2, 3)))
