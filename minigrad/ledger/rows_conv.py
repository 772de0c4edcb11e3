"""Rows for convolutional networks: F33 (convolution), F34 (pooling), X6 (the CNN
of D4 §3.1 on the bundled digits, beside the X2 MLP).

The F rows check minigrad against two independent witnesses: central
differences (``r.gradcheck``) and the textbook formulas written as plain
nested loops over every index (below), for the forward *and* the backward.
"""
from __future__ import annotations

import time

import numpy as np

from .core import Row, row


# --------------------------------------------------------------------------- #
# the formulas as nested loops (NumPy only, nothing shared with minigrad)
# --------------------------------------------------------------------------- #
def _loop_conv2d(x, w, b, s, p, d, g=None):
    """F33: out[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] x_p[n,c,i s+u d,j s+v d];
    with ``g`` (an output gradient) also returns (dx, dw) by the same loops."""
    N, C, H, W = x.shape
    Co, _, kh, kw = w.shape
    xp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    xp[:, :, p:p + H, p:p + W] = x
    Ho, Wo = (H + 2 * p - d * (kh - 1) - 1) // s + 1, (W + 2 * p - d * (kw - 1) - 1) // s + 1
    out = np.zeros((N, Co, Ho, Wo))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(N):
        for o in range(Co):
            for i in range(Ho):
                for j in range(Wo):
                    total = b[o]
                    for c in range(C):
                        for u in range(kh):
                            for v in range(kw):
                                yy, zz = i * s + u * d, j * s + v * d
                                total += w[o, c, u, v] * xp[n, c, yy, zz]
                                if g is not None:
                                    dxp[n, c, yy, zz] += w[o, c, u, v] * g[n, o, i, j]
                                    dw[o, c, u, v] += xp[n, c, yy, zz] * g[n, o, i, j]
                    out[n, o, i, j] = total
    return out, dxp[:, :, p:p + H, p:p + W], dw


def _loop_pool(x, k, s, kind, g):
    """F34 by loops (no padding): max or mean of each window, and the gradient."""
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    out, dx = np.zeros((N, C, Ho, Wo)), np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = [(i * s + u, j * s + v) for u in range(k) for v in range(k)]
                    if kind == "max":
                        best = max(window, key=lambda yz: x[n, c, yz[0], yz[1]])
                        out[n, c, i, j] = x[n, c, best[0], best[1]]
                        dx[n, c, best[0], best[1]] += g[n, c, i, j]
                    else:
                        out[n, c, i, j] = sum(x[n, c, a, e] for a, e in window) / (k * k)
                        for a, e in window:
                            dx[n, c, a, e] += g[n, c, i, j] / (k * k)
    return out, dx


# --------------------------------------------------------------------------- #
@row("F33", impl="minigrad.ops.conv.conv2d (fused Conv2d: im2col + matmul, col2im backward)")
def f33_conv2d(r: Row) -> None:
    conv2d = r.impl("minigrad.ops.conv.conv2d")
    from minigrad import Tensor, grad
    x, w, b = r.randn(2, 3, 6, 5), r.randn(4, 3, 3, 2), r.randn(4)
    for s, p, d in ((1, 0, 1), (2, 1, 1), (1, 2, 2)):
        r.gradcheck(lambda x, w, b: conv2d(x, w, b, stride=s, padding=p, dilation=d), x, w, b,
                    name=f"gradcheck conv2d(stride {s}, padding {p}, dilation {d}) wrt x, W, b")
        out = conv2d(x, w, b, stride=s, padding=p, dilation=d)
        g = r.rng.standard_normal(out.shape)
        dx, dw, db = grad(out, [x, w, b], Tensor(g, dtype="float64"))
        want, want_dx, want_dw = _loop_conv2d(x.numpy(), w.numpy(), b.numpy(), s, p, d, g)
        tag = f"s={s}, p={p}, d={d}"
        r.compare(f"out vs nested loops ({tag})", out, want, 1e-12)
        r.compare(f"dx vs nested loops ({tag})", dx, want_dx, 1e-12)
        r.compare(f"dW vs nested loops ({tag})", dw, want_dw, 1e-12)
        r.compare(f"db = sum of g ({tag})", db, g.sum(axis=(0, 2, 3)), 1e-12)
    # stride 1: dx is the full correlation of g with the flipped, channel-swapped kernel
    out = conv2d(x, w)
    g = r.rng.standard_normal(out.shape)
    (dx,) = grad(out, [x], Tensor(g, dtype="float64"))
    flipped = Tensor(np.ascontiguousarray(w.numpy()[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)),
                     dtype="float64")
    full = conv2d(Tensor(g, dtype="float64"), flipped, padding=(2, 1))   # padding k - 1
    r.compare("dx = full correlation of g with the flipped kernel", dx, full, 1e-12)
    r.figure("shapes", f"x {x.shape}, W {w.shape} -> out {out.shape}")
    r.verdict = ("minigrad matches the formula: forward and both gradients agree with nested "
                 "loops and central differences; dx is the full correlation with the flipped "
                 "kernel")


@row("F34", impl="minigrad.ops.pool.max_pool2d, minigrad.ops.pool.avg_pool2d")
def f34_pooling(r: Row) -> None:
    max_pool2d = r.impl("minigrad.ops.pool.max_pool2d")
    avg_pool2d = r.impl("minigrad.ops.pool.avg_pool2d")
    from minigrad import Tensor, grad
    n = 2 * 2 * 5 * 5            # distinct values, far apart: no ties in any window
    x = Tensor((r.rng.permutation(n) * 0.1 - 2.5).reshape(2, 2, 5, 5), dtype="float64",
               requires_grad=True)
    for name, op in (("max", max_pool2d), ("avg", avg_pool2d)):
        for k, s in ((2, 2), (3, 1)):                # tiling, and overlapping windows
            r.gradcheck(lambda t: op(t, k, s), x,
                        name=f"gradcheck {name}_pool2d(kernel {k}, stride {s})")
            out = op(x, k, s)
            g = r.rng.standard_normal(out.shape)
            (dx,) = grad(out, [x], Tensor(g, dtype="float64"))
            want, want_dx = _loop_pool(x.numpy(), k, s, name, g)
            r.compare(f"{name} pool out vs loops (k={k}, s={s})", out, want, 1e-12)
            r.compare(f"{name} pool dx vs loops (k={k}, s={s})", dx, want_dx, 1e-12)
    out = max_pool2d(x, 2)
    (dx,) = grad(out.sum(), [x])
    r.expect("max pooling: each window sends its gradient to exactly one input",
             float(dx.numpy().sum()) == out.size, f"{int(dx.numpy().sum())} of {out.size}")
    r.verdict = ("minigrad matches the formula: the max's gradient goes to each window's "
                 "arg-max, the average's is spread evenly (ties: the first maximum wins)")


# --------------------------------------------------------------------------- #
def _x6_cnn():
    import layers as L
    return L.Sequential(L.Conv2d(1, 16, 3, padding=1), L.ReLU(), L.MaxPool2d(2),
                        L.Conv2d(16, 32, 3, padding=1), L.ReLU(), L.MaxPool2d(2),
                        L.Flatten(), L.Linear(32 * 2 * 2, 10))


@row("X6", impl="layers.Conv2d + layers.MaxPool2d + layers.Linear + optim.Adam")
def x6_cnn_digits(r: Row) -> None:
    import minigrad as mg
    MLP, Adam = r.impl("layers.MLP"), r.impl("optim.Adam")
    from minigrad.datasets import load_digits, train_test_split
    from minigrad.metrics import accuracy
    from .rows_experiments import _fit, _predict
    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=42, stratify=True)
    epochs, lr = (30, 1e-3) if r.full else (10, 3e-3)
    seeds = (0, 1, 2)      # one seed can land badly (92.8% once): compare medians of three
    runs: dict[str, list[dict]] = {"cnn": [], "mlp": []}
    for name, make, shape in (("cnn", _x6_cnn, (-1, 1, 8, 8)),
                              ("mlp", lambda: MLP([64, 128, 10]), (-1, 64))):
        for seed in seeds:
            mg.manual_seed(seed)
            model = make()
            start = time.perf_counter()
            losses = _fit(model, Adam(model.parameters(), lr=lr), X_tr.reshape(shape), y_tr,
                          epochs, 32)
            seconds = time.perf_counter() - start
            runs[name].append(dict(test_accuracy=accuracy(y_te, _predict(model,
                                                                          X_te.reshape(shape))),
                                   parameters=model.num_parameters(), seconds=seconds,
                                   loss=losses[-1]))
    results = {}
    for name, rs in runs.items():
        results[name] = dict(
            test_accuracy=float(np.median([x["test_accuracy"] for x in rs])),
            accuracies=[x["test_accuracy"] for x in rs], parameters=rs[0]["parameters"],
            seconds=round(float(np.median([x["seconds"] for x in rs])), 2))
    cnn, mlp = results["cnn"], results["mlp"]
    r.expect("the CNN trains: median test accuracy ≥ 95% (chance 10%)",
             cnn["test_accuracy"] >= 0.95, f"{100 * cnn['test_accuracy']:.2f}%")
    r.expect("the CNN beats the MLP on the same split and budget (medians of 3 seeds)",
             cnn["test_accuracy"] > mlp["test_accuracy"],
             f"{100 * cnn['test_accuracy']:.2f}% > {100 * mlp['test_accuracy']:.2f}%")
    r.expect("... with fewer parameters", cnn["parameters"] < mlp["parameters"],
             f"{cnn['parameters']} < {mlp['parameters']}")
    r.metrics.update(cnn=cnn, mlp=mlp)
    r.interpretation = (
        "the bundled 8×8 digits (1797 images) stand in for the document's images (offline); "
        "the X2 split (20% stratified test, seed 42, "
        f"{len(y_te)} images); CNN conv3×3·16 → ReLU → maxpool2 → conv3×3·32 → ReLU → maxpool2 "
        f"→ FC 10 → softmax/cross-entropy vs the X2 MLP 64-128-10, both Adam lr {lr:g}, batch "
        f"32, {epochs} epochs, seeds 0, 1, 2 (medians); times measured on a shared machine")
    r.document = "no figure (D4 §3.1 describes the steps only)"
    each = lambda d: "/".join(f"{100 * a:.1f}" for a in d["accuracies"])  # noqa: E731
    r.computed = (f"CNN {100 * cnn['test_accuracy']:.2f}% (seeds: {each(cnn)}) with "
                  f"{cnn['parameters']} parameters in {cnn['seconds']:.1f} s; MLP "
                  f"{100 * mlp['test_accuracy']:.2f}% ({each(mlp)}) with {mlp['parameters']} "
                  f"parameters in {mlp['seconds']:.1f} s (median time per run)")
    r.verdict = ("reproduced: the convolutional network is more accurate with fewer "
                 "parameters (weights shared across positions), and slower per epoch")
