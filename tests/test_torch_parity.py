"""The PyTorch-parity APIs against PyTorch itself (float64): sin, cos, erf, both GELUs,
cross_entropy's options, BCE-with-logits' weights, bidirectional LSTM/RNN, and the
RMSprop / Adam / AdamW options over 25 steps. Skipped when torch is not installed
(it is never a dependency); see tests/layers/test_layers_torch.py for how to run it.
"""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
import optim
from conftest import host

torch = pytest.importorskip("torch")


def t64(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _close(ours, theirs, rtol=1e-10, atol=1e-12, msg=""):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(host(ours), theirs, rtol=rtol, atol=atol, err_msg=msg)


@pytest.mark.parametrize("name", ["sin", "cos", "erf", "gelu_none", "gelu_tanh"])
def test_elementwise_values_and_gradients(device, name):
    x_np = np.concatenate([np.linspace(-8, 8, 401), [-30.0, -5.5, 0.0, 4.5, 30.0]])
    g_np = np.random.default_rng(0).standard_normal(x_np.shape)
    ours_fn, torch_fn = {
        "sin": (mg.sin, torch.sin), "cos": (mg.cos, torch.cos), "erf": (mg.erf, torch.erf),
        "gelu_none": (lambda x: mg.gelu(x, approximate="none"),
                      lambda x: torch.nn.functional.gelu(x, approximate="none")),
        "gelu_tanh": (lambda x: mg.gelu(x, approximate="tanh"),
                      lambda x: torch.nn.functional.gelu(x, approximate="tanh")),
    }[name]
    x = mg.Tensor(x_np, device=device, requires_grad=True)
    out = ours_fn(x)
    (out * mg.Tensor(g_np, device=device)).sum().backward()
    xt = t64(x_np, grad=True)
    out_t = torch_fn(xt)
    (out_t * t64(g_np)).sum().backward()
    _close(out, out_t, rtol=1e-13, atol=1e-15)
    _close(x.grad, xt.grad, rtol=1e-12, atol=1e-14)


def test_gelu_layer_matches_torch():
    x_np = np.linspace(-4, 4, 33)
    for approximate in ("none", "tanh"):
        _close(layers.GELU(approximate=approximate)(mg.Tensor(x_np)),
               torch.nn.GELU(approximate=approximate)(t64(x_np)), rtol=1e-13, atol=1e-15)


CE_OPTIONS = [
    dict(),
    dict(weight=True),
    dict(ignore_index=1),
    dict(label_smoothing=0.2),
    dict(weight=True, ignore_index=0, label_smoothing=0.1),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=str)
@pytest.mark.parametrize("lead", [(6,), (3, 4)], ids=str)
def test_cross_entropy_index_targets_match_torch(device, reduction, opts, lead):
    rng = np.random.default_rng(1)
    C = 5
    z_np = rng.standard_normal(lead + (C,)) * 2
    y_np = rng.integers(0, C, size=lead)
    y_np.flat[0] = opts.get("ignore_index", -100) if "ignore_index" in opts else y_np.flat[0]
    w_np = rng.uniform(0.3, 2.0, size=C) if opts.get("weight") else None
    kw = dict(reduction=reduction, ignore_index=opts.get("ignore_index", -100),
              label_smoothing=opts.get("label_smoothing", 0.0))
    z = mg.Tensor(z_np, device=device, requires_grad=True)
    loss = mg.cross_entropy(z, mg.Tensor(y_np, device=device), weight=w_np, **kw)
    loss.sum().backward()
    zt = t64(z_np, grad=True)
    # PyTorch wants the classes on axis 1: (N, C) or (N, C, d1)
    zt_torch = zt if zt.ndim == 2 else zt.permute(0, 2, 1)
    lt = torch.nn.functional.cross_entropy(zt_torch, torch.from_numpy(y_np),
                                           weight=None if w_np is None else t64(w_np), **kw)
    lt.sum().backward()
    _close(loss, lt, rtol=1e-12, atol=1e-13)
    _close(z.grad, zt.grad, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,eps", [(False, 0.0), (True, 0.0), (True, 0.3), (False, 0.1)])
def test_cross_entropy_probability_targets_match_torch(device, reduction, weighted, eps):
    rng = np.random.default_rng(2)
    z_np = rng.standard_normal((7, 4))
    p_np = rng.dirichlet(np.ones(4), size=7)
    w_np = rng.uniform(0.3, 2.0, size=4) if weighted else None
    z = mg.Tensor(z_np, device=device, requires_grad=True)
    loss = mg.cross_entropy(z, p_np, reduction=reduction, weight=w_np, label_smoothing=eps)
    loss.sum().backward()
    zt = t64(z_np, grad=True)
    lt = torch.nn.functional.cross_entropy(zt, t64(p_np), reduction=reduction,
                                           weight=None if w_np is None else t64(w_np),
                                           label_smoothing=eps)
    lt.sum().backward()
    _close(loss, lt, rtol=1e-12, atol=1e-13)
    _close(z.grad, zt.grad, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("which", ["pos_weight", "weight", "both"])
def test_bce_with_logits_weights_match_torch(device, reduction, which):
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((4, 3)) * 4
    y_np = rng.uniform(0, 1, size=(4, 3))
    pw = rng.uniform(0.3, 4.0, size=3) if which != "weight" else None
    w = rng.uniform(0.3, 2.0, size=(4, 3)) if which != "pos_weight" else None
    x = mg.Tensor(x_np, device=device, requires_grad=True)
    y = mg.Tensor(y_np, device=device, requires_grad=True)
    loss = mg.binary_cross_entropy_with_logits(x, y, reduction, weight=w, pos_weight=pw)
    loss.sum().backward()
    xt, yt = t64(x_np, grad=True), t64(y_np, grad=True)
    lt = torch.nn.functional.binary_cross_entropy_with_logits(
        xt, yt, weight=None if w is None else t64(w), reduction=reduction,
        pos_weight=None if pw is None else t64(pw))
    lt.sum().backward()
    _close(loss, lt, rtol=1e-12, atol=1e-13)
    _close(x.grad, xt.grad, rtol=1e-11, atol=1e-13)
    _close(y.grad, yt.grad, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("kind", ["LSTM", "RNN"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [True, False])
def test_bidirectional_recurrent_matches_torch(device, kind, num_layers, batch_first):
    rng = np.random.default_rng(4)
    B, T, I, H = 2, 5, 3, 4
    ours = getattr(layers, kind)(I, H, num_layers=num_layers, batch_first=batch_first,
                                 bidirectional=True, device=device).double()
    ref = getattr(torch.nn, kind)(I, H, num_layers=num_layers, batch_first=batch_first,
                                  bidirectional=True, dtype=torch.float64)
    assert list(ours.state_dict()) == list(ref.state_dict())        # same names, same order
    with torch.no_grad():
        for name, value in ours.state_dict().items():
            assert tuple(getattr(ref, name).shape) == value.shape, name
            getattr(ref, name).copy_(torch.from_numpy(value))
    shape = (B, T, I) if batch_first else (T, B, I)
    x_np = rng.standard_normal(shape)
    h0_np, c0_np = rng.standard_normal((2, 2 * num_layers, B, H))
    g_np = rng.standard_normal(shape[:2] + (2 * H,))
    x, h0, c0 = (mg.Tensor(a, device=device, requires_grad=True) for a in (x_np, h0_np, c0_np))
    xt, h0t, c0t = (t64(a, grad=True) for a in (x_np, h0_np, c0_np))
    if kind == "LSTM":
        out, (h_n, c_n) = ours(x, (h0, c0))
        out_t, (h_t, c_t) = ref(xt, (h0t, c0t))
        extra, extra_t = c_n.sum(), c_t.sum()
    else:
        out, h_n = ours(x, h0)
        out_t, h_t = ref(xt, h0t)
        extra, extra_t = 0.0, 0.0
    ((out * mg.Tensor(g_np, device=device)).sum() + h_n.sum() + extra).backward()
    ((out_t * t64(g_np)).sum() + h_t.sum() + extra_t).backward()
    _close(out, out_t)
    _close(h_n, h_t)
    _close(x.grad, xt.grad)
    _close(h0.grad, h0t.grad)
    for name, p in ours.named_parameters():
        _close(p.grad, getattr(ref, name).grad, msg=name)


OPTIMISERS = [
    ("RMSprop", dict(lr=0.01, alpha=0.99, momentum=0.9), dict(lr=0.01, alpha=0.99, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.99, centered=True), dict(lr=0.01, alpha=0.99, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
     dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, amsgrad=True), dict(lr=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.1), dict(lr=1e-2, amsgrad=True,
                                                                 weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, amsgrad=True), dict(lr=1e-2, amsgrad=True)),
]


@pytest.mark.parametrize("name,ours_kw,torch_kw", OPTIMISERS, ids=lambda v: str(v))
def test_optimiser_options_match_torch_over_25_steps(device, name, ours_kw, torch_kw):
    rng = np.random.default_rng(5)
    theta0 = rng.standard_normal((3, 2))
    p = mg.Parameter(theta0.copy(), device=device)
    pt = torch.nn.Parameter(t64(theta0))
    opt = getattr(optim, name)([p], **ours_kw)
    opt_t = getattr(torch.optim, name)([pt], **torch_kw)
    for step in range(25):
        g = rng.standard_normal((3, 2)) * (10.0 if step % 7 == 2 else 0.3) + 0.1
        p.grad = mg.Tensor(g, device=device)
        pt.grad = t64(g)
        opt.step()
        opt_t.step()
        _close(p, pt, rtol=1e-11, atol=1e-13, msg=f"step {step + 1}")
