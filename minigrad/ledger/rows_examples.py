"""E rows: the documents' worked examples, recomputed with minigrad.

Each row shows the inputs, the document's figure, minigrad's figure and a
verdict with a one-line reason; it asserts minigrad's figure against an
independent computation (by hand in Python, or NumPy), and records with
``r.claim`` the figures that the catalogue's "correct" column states (the
tests check those against the catalogue text). Where the document is
ambiguous, ``r.interpretation`` says which reading is used.
"""
from __future__ import annotations

import math

import numpy as np

from .core import Row, fmt, row
from .helpers import np_softmax

_SQRT3 = math.sqrt(3.0)


def _t(values, requires_grad: bool = False):
    from minigrad import Tensor
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _f(values, digits: int = 4) -> str:
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    body = ", ".join(f"{v:.{digits}f}" for v in arr)
    return f"[{body}]" if arr.size > 1 else body


@row("E01", impl="layers.Linear + minigrad.ops.unary.ReLU")
def e01_dense(r: Row) -> None:
    Linear, ReLU = r.impl("layers.Linear"), r.impl("minigrad.ops.unary.ReLU")
    x, W, b = [1.0, 2.0], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [1.0, 1.0, 1.0]
    layer = Linear(2, 3).to(dtype="float64")
    layer.load_state_dict({"weight": np.array(W), "bias": np.array(b)})
    H = ReLU.apply(layer(_t([x]))).numpy()[0]
    by_hand = [max(0.0, W[j][0] * x[0] + W[j][1] * x[1] + b[j]) for j in range(3)]
    r.compare("H vs max(0, Σ_i W_ji x_i + b_j) by hand", H, by_hand, 0.0)
    for v in H:
        r.claim("H", v)
    r.document = "H = [6, 11, 17]"
    r.computed = f"H = {fmt(H)}"
    r.verdict = "document wrong: 3·1 + 4·2 + 1 = 12 and 5·1 + 6·2 + 1 = 18"


@row("E02", impl="layers.scaled_dot_product_attention")
def e02_attention_uniform(r: Row) -> None:
    attention = r.impl()
    q, k, v = _t([[1.0], [1.0], [1.0]]), _t([[1.0], [2.0], [3.0]]), _t([[4.0], [5.0], [6.0]])
    # the layer divides by √(feature size) = 1; the document's d_k = 3 asks for √3
    out, w = attention(q * (1.0 / _SQRT3), k, v)
    out1, _ = attention(q, k, v)                                     # scale 1
    scores = np.array([1.0, 2.0, 3.0]) / _SQRT3
    w_hand = np.exp(scores) / np.exp(scores).sum()
    r.compare("weights vs softmax([1,2,3]/√3) by hand, every query", w.numpy(),
              np.tile(w_hand, (3, 1)), 1e-15)
    r.compare("output vs Σ_j w_j v_j", out.numpy()[:, 0], np.full(3, w_hand @ [4, 5, 6]), 1e-14)
    w1 = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    r.compare("scale 1 output vs softmax([1,2,3])·[4,5,6]", out1.numpy()[:, 0],
              np.full(3, w1 @ [4, 5, 6]), 1e-14)
    single, _ = attention(_t([[1.0]]), _t([[2.0]]), _t([[5.0]]))
    _, w_single = attention(_t([[1.0]]), _t([[2.0]]), _t([[5.0]]))
    uniform = np.mean([4.0, 5.0, 6.0])
    for value in (*w.numpy()[0], out.numpy()[0, 0], out1.numpy()[0, 0], w_single.item(), uniform):
        r.claim("E02", value)
    r.interpretation = ("Q, K, V are 3 tokens with 1-d features; scores q_i k_j / √3 (the "
                        "document's d_k = 3); the layer's own scale is √1, so Q is pre-scaled "
                        "by 1/√3")
    r.document = "weights [1/3, 1/3, 1/3], output [1.5, 1.5, 1.5], then [6, 7.5, 9]"
    r.computed = (f"weights {_f(w.numpy()[0])} for every query, output {out.numpy()[0, 0]:.4f} "
                  f"at each position (scale 1: {out1.numpy()[0, 0]:.4f})")
    r.verdict = ("document wrong: a softmax over one score is 1 and uniform weights would give "
                 f"{uniform:g}, so its figures fit no reading")


@row("E03", impl="minigrad.ops.unary.Sigmoid, minigrad.ops.linalg.MatMul")
def e03_sigmoid_mlp(r: Row) -> None:
    Sigmoid = r.impl("minigrad.ops.unary.Sigmoid")
    from minigrad import ShapeError
    W, x = _t([[0.1, 0.2], [0.3, 0.4]]), _t([1.0, 2.0, 3.0])
    try:
        W @ x
        refused = ""
    except ShapeError as err:
        refused = str(err).split(":")[0] + ": " + str(err).split(":")[1].strip()
    r.expect("W (2×2) · x (3) is refused", refused, refused or "no error")
    z_doc, z_sums = np.array([1.2, 1.6]), np.array([1.5, 1.9])
    a_doc = Sigmoid.apply(_t(z_doc)).numpy()
    a_sums = Sigmoid.apply(_t(z_sums)).numpy()
    r.compare("σ(z) vs 1/(1+math.exp(−z)) by hand",
              np.concatenate([a_doc, a_sums]),
              [1 / (1 + math.exp(-v)) for v in (1.2, 1.6, 1.5, 1.9)], 1e-15)
    printed = np.array([0.8788, 0.8614])
    r.expect("the document's a is not σ of its z (σ is increasing, its a decreases)",
             np.all(np.abs(printed - a_doc) > 0.02) and printed[0] > printed[1],
             f"σ(z) = {_f(a_doc)} vs {_f(printed)}")
    for v in (*a_doc, *a_sums):
        r.claim("σ", v)
    r.interpretation = "W is 2×2 and x has 3 entries; both of the document's z are evaluated"
    r.document = "z = [1.2, 1.6], a = [0.8788, 0.8614]"
    r.computed = (f"W·x refused ({refused}); σ(1.2) = {a_doc[0]:.4f}, σ(1.6) = {a_doc[1]:.4f}, "
                  f"σ(1.5) = {a_sums[0]:.4f}, σ(1.9) = {a_sums[1]:.4f}")
    r.verdict = ("document wrong: W does not fit x, its sums give z = [1.5, 1.9], and its "
                 "activations are σ of neither z")


@row("E04", impl="optim.SGD")
def e04_gd_step(r: Row) -> None:
    SGD = r.impl()
    from .helpers import sgd_quadratic
    w_new = sgd_quadratic(SGD, w0=2.0, lr=0.1)
    r.compare("w − η·2(w−1) by hand", w_new, 2.0 - 0.1 * 2 * (2.0 - 1.0), 1e-15)
    dw = -0.1 * 2 * (2.0 - 1.0)
    own_rule = 2.0 - dw                      # the document's w = w − Δw
    r.claim("w", w_new)
    r.claim("w − Δw", own_rule)
    r.document = "grad 2, w → 1.8"
    r.computed = f"grad 2, w → {w_new:g}; the document's rule w − Δw gives {own_rule:g}"
    r.verdict = "document right (1.8), though its own update rule (w = w − Δw) would give 2.2"


@row("E05", impl="minigrad.ops.nn.half_sse, minigrad.ops.nn.binary_cross_entropy_with_logits")
def e05_sigmoid_delta(r: Row) -> None:
    half_sse = r.impl("minigrad.ops.nn.half_sse")
    bce = r.impl("minigrad.ops.nn.binary_cross_entropy_with_logits")
    z0, y = 0.5, 1.0
    z = _t([z0], requires_grad=True)
    half_sse(z.sigmoid(), _t([y])).backward()
    g_sse = z.grad.item()
    z.grad = None
    bce(z, _t([y])).backward()
    g_bce = z.grad.item()
    a = 1 / (1 + math.exp(-z0))
    r.compare("squared error: ∂J/∂z vs a(1 − a)(a − y)", g_sse, a * (1 - a) * (a - y), 1e-15)
    r.compare("binary cross-entropy: ∂J/∂z vs a − y", g_bce, a - y, 1e-15)
    doc = (1 - a) * (a - y)
    r.expect("the document's (1 − a)(a − y) is neither", abs(doc - g_sse) > 1e-3 and
             abs(doc - g_bce) > 1e-3, f"{doc:.4f}")
    r.interpretation = "the catalogue gives no inputs; z = 0.5 (a = σ(0.5)), y = 1 is used"
    r.document = f"∂J/∂z = (1 − a)(a − y) = {doc:.4f} here, and a table of updates"
    r.computed = (f"a = {a:.4f}: squared error a(1 − a)(a − y) = {g_sse:.4f}; "
                  f"binary cross-entropy a − y = {g_bce:.4f}")
    r.verdict = ("document wrong: the sigmoid's derivative is a(1 − a), the factor a is missing; "
                 "its update table is not reproducible from its inputs")


@row("E06", impl="layers.MLP + optim.SGD + minigrad.ops.nn.half_sse")
def e06_training_trajectory(r: Row) -> None:
    MLP, SGD = r.impl("layers.MLP"), r.impl("optim.SGD")
    half_sse = r.impl("minigrad.ops.nn.half_sse")
    x0, y0, eta, steps = 0.0, 0.0, 0.01, 10
    net = MLP([1, 1, 1], activation="sigmoid", output_activation="sigmoid").to(dtype="float64")
    net.load_state_dict({k: np.full(p.shape, 0.5 if k.endswith("weight") else 0.0)
                         for k, p in net.named_parameters()})
    opt = SGD(net.parameters(), lr=eta)
    x, y = _t([[x0]]), _t([[y0]])
    a2_first = net[1](net[0](x)).item()
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        a3 = net(x)
        trajectory.append(a3.item())
        half_sse(a3, y).backward()
        opt.step()
    trajectory.append(net(x).item())
    # independently: the same training written with the deltas of F22/F23 in plain Python
    w1, b1, w2, b2, by_hand = 0.5, 0.0, 0.5, 0.0, []
    for _ in range(steps + 1):
        a2 = 1 / (1 + math.exp(-(w1 * x0 + b1)))
        a3 = 1 / (1 + math.exp(-(w2 * a2 + b2)))
        by_hand.append(a3)
        d3 = a3 * (1 - a3) * (y0 - a3)             # δ3 = −∂J/∂z3
        d2 = a2 * (1 - a2) * w2 * d3               # δ2 = −∂J/∂z2
        w2, b2 = w2 + eta * d3 * a2, b2 + eta * d3
        w1, b1 = w1 + eta * d2 * x0, b1 + eta * d2
    r.compare("a3 trajectory vs the same training with F22/F23 deltas by hand", trajectory,
              by_hand, 1e-15)
    # δ3 = −∂J/∂z3 by autograd: at the true z3 = 0.5·a2 = 0.25, and at the document's
    # a3 = 0.5 (z3 = 0), where its −0.125 comes from
    a3_true = trajectory[0]
    delta3 = {}
    for name, z in (("true", 0.5 * a2_first), ("doc", 0.0)):
        z3 = _t([z], requires_grad=True)
        half_sse(z3.sigmoid(), _t([y0])).backward()
        delta3[name] = -z3.grad.item()
    r.compare("δ3 at the true a3 = σ(0.25) vs a3·(1−a3)·(y−a3) by hand", delta3["true"],
              a3_true * (1 - a3_true) * (y0 - a3_true), 1e-15)
    r.compare("δ3 at the document's a3 = 0.5 vs 0.5·(1−0.5)·(0−0.5)", delta3["doc"],
              0.5 * 0.5 * -0.5, 1e-15)
    r.claim("a2", a2_first)
    r.claim("a3", a3_true)
    r.claim("δ3", delta3["true"])
    r.claim("δ3 at the document's a3 = 0.5", delta3["doc"])
    r.metrics["trajectory"] = trajectory
    r.interpretation = (f"one input, one hidden and one output unit, x = {x0:g} (the only input "
                        "giving a2 = 0.5), all weights 0.5, biases 0, J = ½(y − a3)², plain SGD")
    r.document = ("a2 = a3 = 0.5, L = 0.25, δ3 = −0.125; a3: 0.5 → 0.49 → 0.48875 → … → "
                  "0.48096875")
    r.computed = (f"a2 = {a2_first:g}, a3 = σ(0.5·0.5) = {a3_true:.4f}, "
                  f"L = {0.5 * a3_true ** 2:.4f}, δ3 = a3(1−a3)(y−a3) = {delta3['true']:.4f} "
                  f"({delta3['doc']:g} only at the document's a3 = 0.5); "
                  "a3 over 10 iterations: " + " → ".join(f"{v:.5f}" for v in trajectory))
    r.verdict = ("document wrong: a3 = σ(0.25) ≠ 0.5, so δ3 = "
                 f"{delta3['true']:.4f}, not −0.125 (its formula is right, applied to the wrong "
                 "a3); L = 0.25 is (y − a3)² without J's ½; and with η = 0.01 "
                 f"a3 falls by ~{trajectory[0] - trajectory[1]:.0e} per step, not 0.01")


@row("E07", impl="minigrad.ops.nn.binary_cross_entropy, minigrad.ops.unary.Log")
def e07_cross_entropy(r: Row) -> None:
    bce = r.impl("minigrad.ops.nn.binary_cross_entropy")
    y, yhat = [1.0, 0.0, 1.0, 0.0], [0.3, 0.7, 0.6, 0.4]
    ce = (-(_t(y) * _t(yhat).log())).mean().item()
    b = bce(_t(yhat), _t(y)).item()
    hand_ce = (-math.log(0.3) - math.log(0.6)) / 4
    hand_b = (-math.log(0.3) - math.log(1 - 0.7) - math.log(0.6) - math.log(1 - 0.4)) / 4
    r.compare("mean of −y log ŷ by hand", ce, hand_ce, 1e-15)
    r.compare("binary cross-entropy by hand", b, hand_b, 1e-12)
    r.expect("0.613 is neither", abs(ce - 0.613) > 0.05 and abs(b - 0.613) > 0.05)
    r.claim("CE", ce)
    r.claim("BCE", b)
    r.interpretation = "both readings of 'cross-entropy' are computed (mean over the 4 entries)"
    r.document = "0.613"
    r.computed = f"mean of −y log ŷ = {ce:.4f}; binary cross-entropy = {b:.4f}"
    r.verdict = "document wrong: 0.613 matches neither reading"


@row("E08", impl="optim.SGD")
def e08_sgd_at_minimum(r: Row) -> None:
    SGD = r.impl()
    from minigrad import Parameter
    theta = Parameter([1.0, 2.0], dtype="float64")
    opt = SGD([theta], lr=0.1)
    target = _t([1.0, 2.0])
    (((theta - target) ** 2).sum()).backward()
    grad = theta.grad.numpy().copy()
    opt.step()
    r.compare("∇J = [2(θ1 − 1), 2(θ2 − 2)] by hand", grad, [2 * (1 - 1), 2 * (2 - 2)], 0.0)
    r.compare("θ − α∇J", theta, [1.0, 2.0], 0.0)
    r.expect("the document's own step is inconsistent: θ − 0.1·[−2, −2] = [1.2, 2.2]",
             not np.allclose(np.array([1.0, 2.0]) - 0.1 * np.array([-2.0, -2.0]), [1.2, 1.8]))
    for v in (*grad, *theta.numpy()):
        r.claim("E08", v)
    r.document = "∇J = [−2, −2], θ → [1.2, 1.8]"
    r.computed = f"∇J = {fmt(grad)}, θ stays {fmt(theta.numpy())}"
    r.verdict = ("document wrong: θ = [1, 2] is the minimum, the gradient is 0 (and its own "
                 "step would give [1.2, 2.2])")


@row("E09", impl="minigrad.ops.unary.ReLU, minigrad.ops.unary.Sigmoid")
def e09_activations(r: Row) -> None:
    ReLU, Sigmoid = r.impl("minigrad.ops.unary.ReLU"), r.impl("minigrad.ops.unary.Sigmoid")
    x = _t([-2.0, 0.0, 2.0])
    relu, sig = ReLU.apply(x).numpy(), Sigmoid.apply(x).numpy()
    r.compare("ReLU vs max(0, x)", relu, [0.0, 0.0, 2.0], 0.0)
    r.compare("sigmoid vs 1/(1+e^−x) by hand", sig, [1 / (1 + math.exp(2)), 0.5,
                                                     1 / (1 + math.exp(-2))], 1e-15)
    r.claim("sigmoid(0)", sig[1])
    r.document = "ReLU [0, 0, 2]; sigmoid [0.1192, 0.5190, 0.8808]"
    r.computed = f"ReLU {fmt(relu)}; sigmoid {_f(sig)}"
    r.verdict = "document wrong in one figure: ReLU right, but sigmoid(0) = 1/(1 + 1) = 0.5"


@row("E10", impl="layers.scaled_dot_product_attention")
def e10_attention(r: Row) -> None:
    attention = r.impl()
    qv, kv, vv = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), np.array([7.0, 8.0, 9.0])
    out, w = attention(_t(qv[:, None]) * (1.0 / _SQRT3), _t(kv[:, None]), _t(vv[:, None]))
    s = np.outer(qv, kv) / _SQRT3
    w_np = np_softmax(s)
    r.compare("weights vs softmax(q kᵀ/√3) in NumPy", w, w_np, 1e-15)
    r.compare("output vs weights · v in NumPy", out.numpy()[:, 0], w_np @ vv, 1e-14)
    doc_softmax = np.array([0.2319, 0.4198, 0.4484])
    dot = float(qv @ kv)
    r.expect("the document's 'softmax' does not sum to 1", abs(doc_softmax.sum() - 1) > 0.05,
             f"sums to {doc_softmax.sum():.4f}")
    for v in (dot, *out.numpy()[:, 0], 6 / _SQRT3, 10 / _SQRT3, w.numpy().sum(axis=1)[0]):
        r.claim("E10", v)
    r.interpretation = ("3 tokens with 1-d features, scores q_i k_j / √3 (Q pre-scaled by 1/√3, "
                        "the layer's own scale being √1)")
    r.document = ("QKᵀ = [4, 6, 10], scaled [2.3094, 3.9373, 6.5222], softmax [0.2319, 0.4198, "
                  "0.4484], output [1.6303, 3.3544, 4.0356]")
    r.computed = (f"q·k = {dot:g} as vectors; weights rows of softmax(q kᵀ/√3), e.g. "
                  f"{_f(w.numpy()[0])}; output {_f(out.numpy()[:, 0])}; "
                  f"6/√3 = {6 / _SQRT3:.4f}, 10/√3 = {10 / _SQRT3:.4f}")
    r.verdict = "document wrong: its scores, softmax (sums to 1.1001) and output are inconsistent"
