"""F rows: each catalogue formula, its minigrad implementation, a float64 gradient
check of that implementation, and (where there is a closed form) the formula
evaluated independently in plain NumPy or plain Python next to it.

Conventions: ``r.randn(...)`` draws float64 tensors from a generator seeded by
the row ID; ``r.gradcheck`` runs :func:`minigrad.gradcheck`; ``r.compare``
records ``max |minigrad - formula|``; ``r.expect`` records an assertion.
Every implementation is looked up through ``r.impl(path)`` at run time, so the
table's "implementation" column names exactly what was checked.
"""
from __future__ import annotations

import math

import numpy as np

from .core import Row, row
from .helpers import (away_from_zero, double_module, module_fn, np_attention, np_gelu,
                      np_layer_norm, np_linear, np_mha, np_sigmoid, np_softmax, sgd_quadratic)

# --------------------------------------------------------------------------- #
# Dense layers and MLP
# --------------------------------------------------------------------------- #


@row("F01", impl="layers.Linear + minigrad.ops.unary.ReLU")
def f01_dense_layer(r: Row) -> None:
    Linear, ReLU = r.impl("layers.Linear"), r.impl("minigrad.ops.unary.ReLU")
    layer = double_module(Linear(4, 3))
    x = away_from_zero(r, 5, 4)
    fn, params = module_fn(layer, lambda m, x: ReLU.apply(m(x)))
    r.gradcheck(fn, x, *params, name="gradcheck relu(Linear(x)) wrt x, W, b")
    W, b = (p.numpy() for p in params)
    z = fn(x, *params).numpy()
    r.compare("Z vs max(0, W·X + b) in NumPy", z, np.maximum(0.0, x.numpy() @ W.T + b), 1e-12)
    r.figure("shape", f"X {x.shape} -> Z {z.shape}")
    r.verdict = "minigrad matches the formula (σ = ReLU)"


@row("F02", impl="minigrad.ops.linalg.MatMul")
def f02_preactivation(r: Row) -> None:
    MatMul = r.impl()
    W, x, b = r.randn(3, 4), r.randn(4), r.randn(3)
    fn = lambda W, x, b: MatMul.apply(W, x) + b  # noqa: E731
    r.gradcheck(fn, W, x, b, name="gradcheck W·x + b wrt W, x, b")
    Wn, xn, bn = W.numpy().tolist(), x.numpy().tolist(), b.numpy().tolist()
    by_hand = [sum(Wn[j][i] * xn[i] for i in range(4)) + bn[j] for j in range(3)]
    r.compare("z_j vs Σ_i W_ji x_i + b_j (Python loops)", fn(W, x, b), by_hand, 1e-12)
    X = r.randn(6, 4)
    r.gradcheck(lambda X, W: MatMul.apply(X, W.T), X, W, name="gradcheck batched X·Wᵀ")
    r.figure("z", fn(W, x, b))
    r.verdict = "minigrad matches the formula"


@row("F03", impl="minigrad.ops.unary.Sigmoid, minigrad.ops.unary.ReLU")
def f03_activation(r: Row) -> None:
    Sigmoid, ReLU = r.impl("minigrad.ops.unary.Sigmoid"), r.impl("minigrad.ops.unary.ReLU")
    z = away_from_zero(r, 6)
    r.gradcheck(lambda z: Sigmoid.apply(z), z, name="gradcheck σ=sigmoid")
    r.gradcheck(lambda z: ReLU.apply(z), z, name="gradcheck σ=ReLU (z away from 0)")
    zs = z.numpy().tolist()
    r.compare("a_i = sigmoid(z_i) vs 1/(1+math.exp(-z_i)) unit by unit",
              Sigmoid.apply(z), [1 / (1 + math.exp(-v)) for v in zs], 1e-15)
    r.compare("a_i = relu(z_i) vs max(0, z_i) unit by unit", ReLU.apply(z),
              [max(0.0, v) for v in zs], 0.0)
    r.verdict = "minigrad matches the formula (each unit independently)"


@row("F04", impl="layers.MLP")
def f04_three_layer(r: Row) -> None:
    MLP = r.impl()
    net = double_module(MLP([4, 5, 6, 3], activation="sigmoid", output_activation="sigmoid"))
    x = r.randn(7, 4)
    fn, params = module_fn(net, lambda m, x: m(x))
    r.gradcheck(fn, x, *params, name="gradcheck MLP 4-5-6-3 wrt x and all W, b")
    W1, b1, W2, b2, W3, b3 = (p.numpy() for p in params)
    Z1 = np_sigmoid(x.numpy() @ W1.T + b1)
    H = np_sigmoid(Z1 @ W2.T + b2)
    Y = np_sigmoid(H @ W3.T + b3)
    r.compare("Y vs σ(W3·σ(W2·Z1 + b2) + b3) in NumPy", fn(x, *params), Y, 1e-12)
    r.figure("layers", "4 -> 5 -> 6 -> 3, σ = sigmoid")
    r.verdict = "minigrad matches the formula"


@row("F05", impl="layers.MLP")
def f05_two_layer_sigmoid(r: Row) -> None:
    MLP = r.impl()
    net = double_module(MLP([3, 4, 2], activation="sigmoid", output_activation="sigmoid"))
    x = r.randn(5, 3)
    fn, params = module_fn(net, lambda m, x: m(x))
    r.gradcheck(fn, x, *params, name="gradcheck 2-layer sigmoid net")
    W1, b1, W2, b2 = (p.numpy() for p in params)
    a2 = np_sigmoid(x.numpy() @ W1.T + b1)
    a3 = np_sigmoid(a2 @ W2.T + b2)
    r.compare("a3 vs σ(W2·σ(W1·x + b1) + b2) in NumPy", fn(x, *params), a3, 1e-12)
    r.verdict = "minigrad matches the formula"


# --------------------------------------------------------------------------- #
# Activations
# --------------------------------------------------------------------------- #


@row("F06", impl="minigrad.ops.unary.ReLU")
def f06_relu(r: Row) -> None:
    ReLU = r.impl()
    x = away_from_zero(r, 4, 5)
    r.gradcheck(lambda x: ReLU.apply(x), x, name="gradcheck (inputs kept ≥0.1 from the kink)")
    r.compare("relu(x) vs max(0, x)", ReLU.apply(x), np.maximum(0.0, x.numpy()), 0.0)
    from minigrad import Tensor
    k = Tensor([0.0], requires_grad=True, dtype="float64")
    ReLU.apply(k).sum().backward()
    r.expect("subgradient at the kink is 0 (PyTorch's convention)", k.grad.item() == 0.0,
             f"d relu/dx at 0 = {k.grad.item():g}")
    r.verdict = "minigrad matches the formula"


@row("F07", impl="minigrad.ops.unary.Sigmoid")
def f07_sigmoid(r: Row) -> None:
    Sigmoid = r.impl()
    x = r.randn(4, 5, scale=2.0)
    r.gradcheck(lambda x: Sigmoid.apply(x), x)
    r.compare("sigmoid(x) vs 1/(1+e^−x) in NumPy", Sigmoid.apply(x),
              1.0 / (1.0 + np.exp(-x.numpy())), 1e-15)
    from minigrad import Tensor
    big = Sigmoid.apply(Tensor([-1000.0, 1000.0], dtype="float64")).numpy()
    r.expect("no overflow at ±1000", np.all(np.isfinite(big)), f"sigmoid(±1000) = {big}")
    r.verdict = "minigrad matches the formula"


@row("F08", impl="minigrad.ops.unary.Tanh")
def f08_tanh(r: Row) -> None:
    Tanh = r.impl()
    x = r.randn(4, 5, scale=1.5)
    r.gradcheck(lambda x: Tanh.apply(x), x)
    e, em = np.exp(x.numpy()), np.exp(-x.numpy())
    r.compare("tanh(x) vs (e^x − e^−x)/(e^x + e^−x) in NumPy", Tanh.apply(x), (e - em) / (e + em),
              1e-15)
    r.verdict = "minigrad matches the formula"


@row("F09", impl="minigrad.ops.nn.Softmax")
def f09_softmax(r: Row) -> None:
    Softmax = r.impl()
    x = r.randn(3, 5, scale=2.0)
    r.gradcheck(lambda x: Softmax.apply(x, axis=1), x)
    s = Softmax.apply(x, axis=1).numpy()
    e = np.exp(x.numpy())
    r.compare("softmax vs e^x_i / Σ_j e^x_j in NumPy", s, e / e.sum(axis=1, keepdims=True), 1e-15)
    r.compare("each row sums to 1", s.sum(axis=1), np.ones(3), 1e-15)
    from minigrad import Tensor
    big = Softmax.apply(Tensor([[1000.0, 1001.0]], dtype="float64"), axis=1).numpy()
    r.compare("stable at logits 1000, 1001 (max subtracted)", big, np_softmax(np.array([[0., 1.]])),
              1e-15)
    r.verdict = "minigrad matches the formula"


# --------------------------------------------------------------------------- #
# Losses
# --------------------------------------------------------------------------- #


@row("F10", impl="minigrad.ops.nn.mse_loss")
def f10_mse(r: Row) -> None:
    mse = r.impl()
    yhat, y = r.randn(8), r.randn(8)
    r.gradcheck(lambda a, b: mse(a, b), yhat, y, name="gradcheck wrt ŷ and y")
    n = 8
    by_hand = sum((yi - pi) ** 2 for yi, pi in zip(y.numpy(), yhat.numpy())) / n
    r.compare("MSE vs (1/n) Σ (y_i − ŷ_i)²", mse(yhat, y), by_hand, 1e-15)
    r.verdict = "minigrad matches the formula"


@row("F11", impl="minigrad.ops.nn.CrossEntropy")
def f11_cross_entropy(r: Row) -> None:
    cross_entropy = r.impl("minigrad.ops.nn.cross_entropy")
    logits = r.randn(6, 4)
    target = r.rng.integers(0, 4, size=6)
    r.gradcheck(lambda z: cross_entropy(z, target), logits, name="gradcheck (class targets)")
    yhat = np_softmax(logits.numpy())
    onehot = np.eye(4)[target]
    per_sample = -(onehot * np.log(yhat)).sum(axis=1)            # CE = −Σ_i y_i log ŷ_i
    r.compare("CE vs (1/n) Σ_n −Σ_i y_i log ŷ_i (D4's mean)", cross_entropy(logits, target),
              per_sample.mean(), 1e-14)
    r.compare("reduction='sum' vs Σ_n −Σ_i y_i log ŷ_i", cross_entropy(logits, target,
                                                                       reduction="sum"),
              per_sample.sum(), 1e-13)
    soft = np_softmax(r.rng.standard_normal((6, 4)))
    r.gradcheck(lambda z: cross_entropy(z, soft), logits, name="gradcheck (probability targets)")
    r.compare("probability targets vs −Σ y log ŷ", cross_entropy(logits, soft),
              -(soft * np.log(yhat)).sum(axis=1).mean(), 1e-14)
    r.verdict = "minigrad matches the formula (mean over samples by default, sum on request)"


@row("F12", impl="minigrad.ops.nn.half_sse")
def f12_half_sse(r: Row) -> None:
    half_sse = r.impl()
    a, y = r.randn(5), r.randn(5, requires_grad=False)
    r.gradcheck(lambda a: half_sse(a, y), a)
    r.compare("L vs ½ Σ (y_i − a_i)²", half_sse(a, y),
              0.5 * sum((yi - ai) ** 2 for yi, ai in zip(y.numpy(), a.numpy())), 1e-15)
    a.grad = None
    half_sse(a, y).backward()
    r.compare("∂L/∂a = a − y (why the ½ is there)", a.grad, a.numpy() - y.numpy(), 1e-15)
    r.verdict = "minigrad matches the formula"


@row("F13", impl="minigrad.ops.nn.binary_cross_entropy_with_logits")
def f13_gan_loss(r: Row) -> None:
    bce = r.impl()
    from minigrad import Tensor
    # a 1-d toy: real data x ~ N(2, 0.5), noise z ~ N(0, 1), G(z) = g1 z + g0,
    # D(u) = sigmoid(d1 u + d0)
    x = Tensor(2.0 + 0.5 * r.rng.standard_normal(16), dtype="float64")
    z = Tensor(r.rng.standard_normal(16), dtype="float64")
    gp = Tensor([0.8, 0.3], dtype="float64", requires_grad=True)   # g1, g0
    dp = Tensor([1.2, -0.5], dtype="float64", requires_grad=True)  # d1, d0

    def d_logit(u, dp):
        return u * dp[0] + dp[1]

    def G(z, gp):
        return z * gp[0] + gp[1]

    ones, zeros = np.ones(16), np.zeros(16)

    def loss_D(dp, gp):   # standard discriminator loss: −log D(x) − log(1 − D(G(z)))
        return bce(d_logit(x, dp), ones) + bce(d_logit(G(z, gp), dp), zeros)

    def loss_G(gp, dp):   # standard (non-saturating) generator loss: −log D(G(z))
        return bce(d_logit(G(z, gp), dp), ones)

    def printed(dp, gp):  # F13 as printed: −log D(G(z)) − log(1 − D(z))
        return bce(d_logit(G(z, gp), dp), ones) + bce(d_logit(z, dp), zeros)

    r.gradcheck(loss_D, dp, gp, name="gradcheck L_D wrt D and G parameters")
    r.gradcheck(loss_G, gp, dp, name="gradcheck L_G")
    xs, zs = x.numpy(), z.numpy()
    d1, d0 = dp.numpy()
    g1, g0 = gp.numpy()
    D = lambda u: np_sigmoid(d1 * u + d0)  # noqa: E731
    Gz = g1 * zs + g0
    ld = np.mean(-np.log(D(xs))) + np.mean(-np.log(1 - D(Gz)))
    lg = np.mean(-np.log(D(Gz)))
    lp = np.mean(-np.log(D(Gz)) - np.log(1 - D(zs)))
    r.compare("L_D vs −E log D(x) − E log(1−D(G(z))) in NumPy", loss_D(dp, gp), ld, 1e-13)
    r.compare("L_G vs −E log D(G(z)) in NumPy", loss_G(gp, dp), lg, 1e-13)
    r.compare("printed form evaluated as written", printed(dp, gp), lp, 1e-13)
    r.expect("printed form differs from the discriminator loss", abs(lp - ld) > 1e-3,
             f"|printed − L_D| = {abs(lp - ld):.4f}")
    r.figure("printed −log D(G(z)) − log(1−D(z))", lp)
    r.figure("L_D", ld)
    r.figure("L_G", lg)
    r.verdict = ("document wrong as printed: D is applied to the noise z instead of the real data "
                 "x, and the real-data term −log D(x) is missing; minigrad implements the standard "
                 "L_D = −log D(x) − log(1−D(G(z))) and L_G = −log D(G(z))")


# --------------------------------------------------------------------------- #
# Gradient descent and optimisers
# --------------------------------------------------------------------------- #


def _least_squares(r: Row, n: int = 8, d: int = 3):
    A = r.rng.standard_normal((n, d))
    y = r.rng.standard_normal(n)
    return A, y


@row("F14", impl="optim.SGD")
def f14_gradient_descent(r: Row) -> None:
    SGD = r.impl()
    from minigrad import Parameter, Tensor
    A, y = _least_squares(r)
    At, yt = Tensor(A, dtype="float64"), Tensor(y, dtype="float64")
    J = lambda th: (((At @ th) - yt) ** 2).mean()  # noqa: E731
    theta = Parameter(r.rng.standard_normal(3), dtype="float64")
    r.gradcheck(J, theta.detach().requires_grad_(), name="gradcheck J(θ) = mean (Aθ − y)²")
    alpha, th = 0.1, theta.numpy()
    opt = SGD([theta], lr=alpha)
    opt.zero_grad()
    J(theta).backward()
    opt.step()
    grad_np = 2.0 / len(y) * A.T @ (A @ th - y)                   # ∇J in closed form
    r.compare("one SGD step vs θ − α ∇J (∇J in NumPy)", theta, th - alpha * grad_np, 1e-14)
    for _ in range(300):
        opt.zero_grad()
        J(theta).backward()
        opt.step()
    best = np.linalg.lstsq(A, y, rcond=None)[0]
    j_best = float(np.mean((A @ best - y) ** 2))
    r.compare("J after 300 steps vs the least-squares minimum", J(theta).item(), j_best, 1e-9)
    r.verdict = "minigrad matches the formula"


@row("F15", impl="optim.SGD")
def f15_update_sign(r: Row) -> None:
    SGD = r.impl()
    from minigrad import Tensor
    r.gradcheck(lambda w: (w - 1.0) ** 2, Tensor([2.0], dtype="float64", requires_grad=True),
                name="gradcheck J(w) = (w−1)²")
    w_new = sgd_quadratic(SGD, w0=2.0, lr=0.1)
    eta, w, grad = 0.1, 2.0, 2 * (2.0 - 1.0)
    dw = -eta * grad                                              # Δw = −η ∇J
    r.compare("SGD step vs w + Δw", w_new, w + dw, 1e-15)
    slipped = w - dw
    r.expect("D1's w − Δw climbs the loss", (slipped - 1) ** 2 > (w - 1) ** 2,
             f"J goes {(w - 1) ** 2:g} -> {(slipped - 1) ** 2:.2f}")
    r.figure("w + Δw (correct)", w_new)
    r.figure("w − Δw (D1)", slipped)
    r.verdict = "document wrong (sign slip): with Δw = −η∇J the update is w + Δw; w − Δw ascends"


@row("F16", impl="optim.SGD")
def f16_minibatch(r: Row) -> None:
    SGD = r.impl()
    from minigrad import Parameter, Tensor
    A, y = _least_squares(r, n=8)
    w0 = r.rng.standard_normal(3)

    def per_example_grad(w, i):  # ∇_w (x_i·w − y_i)² in closed form
        return 2.0 * (A[i] @ w - y[i]) * A[i]

    def J(w, idx):
        return ((Tensor(A[idx], dtype="float64") @ w - Tensor(y[idx], dtype="float64")) ** 2).mean()

    r.gradcheck(lambda w: J(w, np.arange(4)), Tensor(w0, dtype="float64", requires_grad=True),
                name="gradcheck batch loss (m = 4)")
    alpha = 0.05
    for m, label in ((1, "SGD, m = 1"), (4, "mini-batch, m = 4"), (8, "batch GD, m = n")):
        idx = np.arange(m)
        w = Parameter(w0.copy(), dtype="float64")
        opt = SGD([w], lr=alpha)
        J(w, idx).backward()
        opt.step()
        want = w0 - alpha * np.mean([per_example_grad(w0, i) for i in idx], axis=0)
        r.compare(f"{label}: step vs w − α (1/m) Σ ∇J(w; x_i, y_i)", w, want, 1e-14)
    r.verdict = "minigrad matches the formula (mean loss ⇒ mean of per-example gradients)"


def _run_steps(opt_cls, kwargs, w0, grads_of, steps=4):
    from minigrad import Parameter
    w = Parameter(w0.copy(), dtype="float64")
    opt = opt_cls([w], **kwargs)
    for t in range(steps):
        w.grad = None
        g = grads_of(w.numpy(), t)
        from minigrad import Tensor
        w.grad = Tensor(g, dtype="float64")
        opt.step()
    return w.numpy()


def _grads_of(w, t):  # a gradient that changes with the weights and the step
    return 2.0 * (w - np.array([1.0, -2.0, 0.5])) + 0.3 * np.sin(t + np.arange(3.0))


@row("F17", impl="optim.SGD")
def f17_momentum(r: Row) -> None:
    SGD = r.impl()
    from minigrad import Tensor
    r.gradcheck(lambda w: ((w - Tensor([1.0, -2.0, 0.5], dtype="float64")) ** 2).sum(),
                r.randn(3), name="gradcheck the quadratic loss")
    w0, lr, mu = r.rng.standard_normal(3), 0.1, 0.9
    for nesterov in (False, True):
        got = _run_steps(SGD, dict(lr=lr, momentum=mu, nesterov=nesterov), w0, _grads_of)
        w, v = w0.copy(), None
        for t in range(4):
            g = _grads_of(w, t)
            v = g.copy() if v is None else mu * v + g                # v ← μ v + g
            w = w - lr * ((g + mu * v) if nesterov else v)           # θ ← θ − α v
        r.compare(f"4 steps, {'Nesterov' if nesterov else 'momentum 0.9'} vs v ← μv + g, "
                  f"θ ← θ − α{'(g + μv)' if nesterov else 'v'}", got, w, 1e-14)
    r.verdict = "minigrad matches the formula (PyTorch's convention, μ = 0.9 as in D1)"


@row("F18", impl="optim.RMSprop")
def f18_rmsprop(r: Row) -> None:
    RMSprop = r.impl()
    from minigrad import Tensor
    r.gradcheck(lambda w: ((w - Tensor([1.0, -2.0, 0.5], dtype="float64")) ** 2).sum(),
                r.randn(3), name="gradcheck the quadratic loss")
    w0, lr, beta, eps = r.rng.standard_normal(3), 0.01, 0.9, 1e-8
    got = _run_steps(RMSprop, dict(lr=lr, beta=beta, eps=eps), w0, _grads_of)
    w, v = w0.copy(), np.zeros(3)
    for t in range(4):
        g = _grads_of(w, t)
        v = beta * v + (1 - beta) * g ** 2
        w = w - lr * g / (np.sqrt(v) + eps)
    r.compare("4 steps vs v ← βv + (1−β)g², θ ← θ − αg/(√v + ε)", got, w, 1e-14)
    r.verdict = "minigrad matches the formula exactly (β = 0.9)"


@row("F19", impl="optim.Adam")
def f19_adam(r: Row) -> None:
    Adam = r.impl()
    from minigrad import Tensor
    r.gradcheck(lambda w: ((w - Tensor([1.0, -2.0, 0.5], dtype="float64")) ** 2).sum(),
                r.randn(3), name="gradcheck the quadratic loss")
    w0, lr, b1, b2, eps = r.rng.standard_normal(3), 0.01, 0.9, 0.999, 1e-8
    for corrected in (False, True):
        got = _run_steps(Adam, dict(lr=lr, betas=(b1, b2), eps=eps, bias_correction=corrected),
                         w0, _grads_of)
        w, m, v = w0.copy(), np.zeros(3), np.zeros(3)
        for t in range(1, 5):
            g = _grads_of(w, t - 1)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g ** 2
            mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if corrected else (m, v)
            w = w - lr * mh / (np.sqrt(vh) + eps)
        r.compare("4 steps, " + ("bias-corrected m̂, v̂ (default)" if corrected
                                 else "as written (bias_correction=False)"), got, w, 1e-14)
    grad_one = lambda w, t: np.array([5.0, -0.5, 1.0])  # noqa: E731
    first_raw = np.abs(_run_steps(Adam, dict(lr=lr, bias_correction=False), np.zeros(3),
                                  grad_one, steps=1)) / lr
    first_cor = np.abs(_run_steps(Adam, dict(lr=lr), np.zeros(3), grad_one, steps=1)) / lr
    r.compare("first step / α as written = (1−β1)/√(1−β2) ≈ 3.16", first_raw,
              np.full(3, (1 - b1) / math.sqrt(1 - b2)), 1e-5)
    r.compare("first step / α bias-corrected = 1", first_cor, np.ones(3), 1e-5)
    r.figure("first step / α (as written)", first_raw[0])
    r.figure("first step / α (corrected)", first_cor[0])
    r.verdict = ("both variants match their formulas; the documents omit the bias correction, "
                 "which makes early steps ~3.16× too large; minigrad corrects by default")


@row("F20", impl="optim.clip_grad_norm_, optim.clip_grad_value_, optim.l1_penalty, "
                 "optim.l2_penalty, minigrad.ops.nn.dropout")
def f20_remedies(r: Row) -> None:
    clip_norm, clip_value = r.impl("optim.clip_grad_norm_"), r.impl("optim.clip_grad_value_")
    l1, l2 = r.impl("optim.l1_penalty"), r.impl("optim.l2_penalty")
    dropout = r.impl("minigrad.ops.nn.dropout")
    import minigrad
    from minigrad import Parameter, Tensor
    a, b = away_from_zero(r, 3, 4), away_from_zero(r, 5)
    r.gradcheck(lambda a, b: l2(a) + l2([b]), a, b, name="gradcheck l2_penalty")
    r.gradcheck(lambda a, b: l1([a, b]), a, b, name="gradcheck l1_penalty (θ away from 0)")
    r.compare("l2 = Σθ², l1 = Σ|θ|", [l2([a, b]).item(), l1([a, b]).item()],
              [(a.numpy() ** 2).sum() + (b.numpy() ** 2).sum(),
               np.abs(a.numpy()).sum() + np.abs(b.numpy()).sum()], 1e-12)
    # clipping: big gradients on two parameters
    g1, g2 = 10 * r.rng.standard_normal((3, 4)), 10 * r.rng.standard_normal(5)
    p1, p2 = Parameter(np.zeros((3, 4)), dtype="float64"), Parameter(np.zeros(5), dtype="float64")
    p1.grad, p2.grad = Tensor(g1.copy(), dtype="float64"), Tensor(g2.copy(), dtype="float64")
    total = clip_norm([p1, p2], max_norm=1.0)
    norm = math.sqrt((g1 ** 2).sum() + (g2 ** 2).sum())
    r.compare("clip_grad_norm_: returned ‖g‖", total, norm, 1e-10)
    r.compare("clip_grad_norm_: g ← g · c/‖g‖ (c = 1)",
              np.concatenate([p1.grad.numpy().ravel(), p2.grad.numpy()]),
              np.concatenate([g1.ravel(), g2]) * 1.0 / norm, 1e-7)
    p1.grad = Tensor(g1.copy(), dtype="float64")
    clip_value([p1], 0.5)
    r.compare("clip_grad_value_ vs clip(g, −c, c)", p1.grad, np.clip(g1, -0.5, 0.5), 0.0)
    # inverted dropout: a fixed mask (re-seeded per call) is a linear map
    x = r.randn(200)

    def drop(x):
        minigrad.manual_seed(7)
        return dropout(x, p=0.25, training=True)

    r.gradcheck(drop, x, name="gradcheck dropout (fixed mask)")
    out, xn = drop(x).numpy(), x.numpy()
    kept = out != 0
    r.compare("dropout: survivors scaled by 1/(1−p)", out[kept], xn[kept] / 0.75, 1e-15)
    r.expect("dropout: about p of the units dropped", 0.15 < 1 - kept.mean() < 0.35,
             f"dropped {1 - kept.mean():.2f} (p = 0.25)")
    r.compare("dropout at evaluation is the identity", dropout(x, p=0.25, training=False), xn, 0.0)
    r.verdict = ("minigrad matches the formulas (clipping, L1/L2, dropout; adaptive optimisers: "
                 "F18, F19)")


# --------------------------------------------------------------------------- #
# Backpropagation
# --------------------------------------------------------------------------- #


@row("F21", impl="minigrad.autograd.backward")
def f21_chain_rule(r: Row) -> None:
    backward = r.impl()
    x = r.randn(4, requires_grad=False)
    W = r.randn(4, 3)                   # w_ij connects input i to unit j: z_j = Σ_i w_ij x_i
    y = r.randn(3, requires_grad=False)
    J = lambda W: 0.5 * ((x @ W).tanh() - y) ** 2  # noqa: E731
    r.gradcheck(lambda W: J(W).sum(), W, name="gradcheck J wrt W")
    z = x @ W
    z.retain_grad()
    backward((0.5 * (z.tanh() - y) ** 2).sum())
    dJ_dz = z.grad.numpy()
    chain = np.outer(x.numpy(), dJ_dz)   # ∂J/∂w_ij = ∂J/∂z_j · ∂z_j/∂w_ij = ∂J/∂z_j · x_i
    r.compare("autograd ∂J/∂w_ij vs ∂J/∂z_j · x_i", W.grad, chain, 1e-15)
    eta = 0.1
    r.compare("Δw_ij = −η ∂J/∂w_ij", -eta * W.grad.numpy(), -eta * chain, 1e-15)
    r.verdict = "minigrad matches the formula"


def _two_layer(r: Row, batch: int = 1):
    """x -> a2 = σ(W1 x + b1) -> a3 = σ(W2 a2 + b2), J = ½ Σ (y − a3)² (D3's notation)."""
    Sigmoid = r.impl("minigrad.ops.unary.Sigmoid")
    half_sse = r.impl("minigrad.ops.nn.half_sse")
    x = r.randn(batch, 3, requires_grad=False)
    y = Sigmoid.apply(r.randn(batch, 2, requires_grad=False))
    W1, b1, W2, b2 = r.randn(4, 3), r.randn(4), r.randn(2, 4), r.randn(2)

    def loss(W1, b1, W2, b2, keep=None):
        z2 = x @ W1.T + b1
        a2 = Sigmoid.apply(z2)
        z3 = a2 @ W2.T + b2
        a3 = Sigmoid.apply(z3)
        if keep is not None:
            for t in (z2, z3):
                t.retain_grad()
            keep.update(z2=z2, a2=a2, z3=z3, a3=a3)
        return half_sse(a3, y)

    r.gradcheck(loss, W1, b1, W2, b2, name="gradcheck the 2-layer net wrt W1, b1, W2, b2")
    kept: dict = {}
    loss(W1, b1, W2, b2, keep=kept).backward()
    n = {k: v.numpy() for k, v in kept.items()}
    return x.numpy(), y.numpy(), (W1, b1, W2, b2), n, kept


@row("F22", impl="minigrad.ops.unary.Sigmoid + minigrad.ops.nn.half_sse (autograd)")
def f22_output_delta(r: Row) -> None:
    x, y, params, n, kept = _two_layer(r)
    a3 = n["a3"]
    delta3 = a3 * (1 - a3) * (y - a3)
    r.compare("δ3 = a3(1−a3)(y−a3) vs −∂J/∂z3 from autograd", delta3, -kept["z3"].grad.numpy(),
              1e-15)
    r.figure("δ3", delta3[0])
    r.verdict = "minigrad matches the formula (δ3 is −∂J/∂z3)"


@row("F23", impl="minigrad.ops.unary.Sigmoid + minigrad.ops.linalg.MatMul (autograd)")
def f23_hidden_delta(r: Row) -> None:
    x, y, (W1, b1, W2, b2), n, kept = _two_layer(r)
    a2, a3 = n["a2"], n["a3"]
    delta3 = a3 * (1 - a3) * (y - a3)
    delta2 = a2 * (1 - a2) * (delta3 @ W2.numpy())               # Σ_k W2_kj δ3_k
    r.compare("δ2 = a2(1−a2) Σ_k W2_kj δ3_k vs −∂J/∂z2 from autograd", delta2,
              -kept["z2"].grad.numpy(), 1e-15)
    r.figure("δ2", delta2[0])
    r.verdict = "minigrad matches the formula"


@row("F24", impl="minigrad.ops.linalg.MatMul")
def f24_weight_gradients(r: Row) -> None:
    x, y, (W1, b1, W2, b2), n, kept = _two_layer(r, batch=3)
    a2, a3 = n["a2"], n["a3"]
    d3 = -(a3 * (1 - a3) * (y - a3))                # ∂J/∂z3 (= −δ3 of F22)
    d2 = a2 * (1 - a2) * (d3 @ W2.numpy())          # ∂J/∂z2
    r.compare("∂J/∂W2 = Σ_n ∂J/∂z3 ⊗ a2 (outer products)", W2.grad,
              sum(np.outer(d3[i], a2[i]) for i in range(3)), 1e-14)
    r.compare("∂J/∂b2 = Σ_n ∂J/∂z3", b2.grad, d3.sum(axis=0), 1e-14)
    r.compare("∂J/∂W1 = Σ_n ∂J/∂z2 ⊗ x", W1.grad, sum(np.outer(d2[i], x[i]) for i in range(3)),
              1e-14)
    r.compare("∂J/∂b1 = Σ_n ∂J/∂z2", b1.grad, d2.sum(axis=0), 1e-14)
    r.verdict = ("minigrad matches the formula (δ ⊗ input, summed over a batch; the document's "
                 "index notation is muddled, the shapes here are W: out × in)")


@row("F25", impl="minigrad.ops.unary.Tanh")
def f25_tanh_backward(r: Row) -> None:
    Tanh = r.impl()
    from minigrad import gradcheck

    class DocumentTanh(Tanh):
        """The document's backward: d tanh/dx = 1 − tanh (wrong)."""

        def backward(self, grad):
            return grad * (1.0 - self.output)

    x = r.randn(4, 3)
    r.gradcheck(lambda x: Tanh.apply(x), x, name="gradcheck 1 − tanh² (minigrad)")
    doc = gradcheck(lambda x: DocumentTanh.apply(x), x, raise_exception=False)
    r.expect("the document's 1 − tanh FAILS the gradcheck", not doc.passed,
             f"max rel err {doc.max_rel_error:.2f}")
    # the document's second slip: updating W1 with the gradient w.r.t. the layer's input
    X = r.randn(5, 3, requires_grad=False)
    W1 = r.randn(3, 4)
    W2 = r.randn(4, 1, requires_grad=False)
    y = r.randn(5, 1, requires_grad=False)
    h = Tanh.apply(X @ W1)
    loss = (((h @ W2) - y) ** 2).mean()
    loss.backward()
    Xn, W1n, W2n, hn = X.numpy(), W1.numpy(), W2.numpy(), h.numpy()
    d_out = 2 * ((hn @ W2n) - y.numpy()) / 5
    d_h = (d_out @ W2n.T) * (1 - hn ** 2)          # through tanh: 1 − tanh²
    r.compare("∂J/∂W1 = Xᵀ[(∂J/∂h)(1 − tanh²)] vs autograd", W1.grad, Xn.T @ d_h, 1e-14)
    d_input = d_h @ W1n.T                          # ∂J/∂X: what the document's code steps W1 with
    r.expect("∂J/∂X cannot update W1 (shape differs)", d_input.shape != W1n.shape,
             f"∂J/∂X {d_input.shape} vs W1 {W1n.shape}")
    r.figure("1 − tanh: max rel err", doc.max_rel_error)
    r.verdict = ("document wrong: d tanh/dx = 1 − tanh² (the document's 1 − tanh fails the "
                 "gradcheck) and W1's gradient is Xᵀδ, not the gradient w.r.t. the input")


# --------------------------------------------------------------------------- #
# Evaluation
# --------------------------------------------------------------------------- #


@row("F32", impl="minigrad.metrics.accuracy, minigrad.metrics.macro_recall, "
                 "minigrad.metrics.macro_f1")
def f32_metrics(r: Row) -> None:
    acc, rec, f1 = (r.impl(f"minigrad.metrics.{n}") for n in ("accuracy", "macro_recall",
                                                             "macro_f1"))
    # case 1: three classes, two samples each
    t, p = [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]
    # recall: c0 1/2, c1 2/2, c2 1/2; precision: c0 1/2, c1 2/3, c2 1/1
    # F1: c0 1/2, c1 2·(2/3)·1/(5/3) = 4/5, c2 2·1·(1/2)/(3/2) = 2/3
    r.compare("3 classes: accuracy 4/6", acc(t, p), 4 / 6, 1e-15)
    r.compare("3 classes: macro recall (1/2 + 1 + 1/2)/3", rec(t, p), 2 / 3, 1e-15)
    r.compare("3 classes: macro F1 (1/2 + 4/5 + 2/3)/3", f1(t, p), (1 / 2 + 4 / 5 + 2 / 3) / 3,
              1e-15)
    # case 2: imbalanced, the minority class never predicted
    t2, p2 = [0] * 9 + [1], [0] * 10
    r.compare("9:1 all-majority: accuracy 0.9", acc(t2, p2), 0.9, 1e-15)
    r.compare("9:1 all-majority: macro recall (1 + 0)/2", rec(t2, p2), 0.5, 1e-15)
    # F1_0 = 2·0.9·1/1.9, F1_1 = 0 (never predicted: precision 0/0 counted as 0)
    r.compare("9:1 all-majority: macro F1 (18/19 + 0)/2", f1(t2, p2), (18 / 19) / 2, 1e-15)
    # case 3: predictions given as scores (arg-max)
    scores = np.array([[2.0, 1.0], [0.1, 0.3], [5.0, -1.0], [0.0, 1.0]])
    r.compare("scores -> arg-max: accuracy 3/4", acc([0, 1, 1, 1], scores), 0.75, 1e-15)
    r.verdict = ("minigrad matches hand-computed values (no gradient: metrics are not "
                 "differentiable)")


# --------------------------------------------------------------------------- #
# Attention and the transformer
# --------------------------------------------------------------------------- #


@row("F26", impl="layers.scaled_dot_product_attention")
def f26_attention(r: Row) -> None:
    attention = r.impl()
    q, k, v = r.randn(2, 4, 3), r.randn(2, 5, 3), r.randn(2, 5, 2)
    r.gradcheck(lambda q, k, v: attention(q, k, v)[0], q, k, v, name="gradcheck wrt Q, K, V")
    out, weights = attention(q, k, v)
    want, want_w = np_attention(q.numpy(), k.numpy(), v.numpy())
    r.compare("output vs softmax(QKᵀ/√d_k)V in NumPy", out, want, 1e-14)
    r.compare("weights vs softmax(QKᵀ/√d_k); rows sum to 1", weights, want_w, 1e-14)
    qs, ks, vs = r.randn(2, 4, 3), r.randn(2, 4, 3), r.randn(2, 4, 2)
    r.gradcheck(lambda q, k, v: attention(q, k, v, causal=True)[0], qs, ks, vs,
                name="gradcheck causal attention")
    r.compare("causal: vs NumPy with keys j > i set to −∞",
              attention(qs, ks, vs, causal=True)[0],
              np_attention(qs.numpy(), ks.numpy(), vs.numpy(), causal=True)[0], 1e-14)
    scores_shape, v_shape = want_w.shape[1:], v.shape[1:]
    r.expect("D4's misprint softmax(·)/V has no meaning: shapes differ", scores_shape != v_shape,
             f"weights {scores_shape} vs V {v_shape}")
    r.verdict = ("minigrad matches the formula; D4's 'softmax(QKᵀ/√d_k) / V' is a misprint for "
                 "the product with V")


@row("F27", impl="layers.MultiHeadAttention (q_proj, k_proj, v_proj: layers.Linear)")
def f27_projections(r: Row) -> None:
    MHA = r.impl("layers.MultiHeadAttention")
    mha = double_module(MHA(6, 2))
    X = r.randn(2, 3, 6)
    for name in ("q_proj", "k_proj", "v_proj"):
        lin = getattr(mha, name)
        fn, params = module_fn(lin)
        r.gradcheck(fn, X, *params, name=f"gradcheck {name} wrt X, W, b")
        r.compare(f"{name[0].upper()} = X W_{name[0]}ᵀ + b_{name[0]} in NumPy", lin(X),
                  X.numpy() @ lin.weight.numpy().T + lin.bias.numpy(), 1e-14)
    r.verdict = "minigrad matches the formula (three separate Linear layers of the same X)"


@row("F28", impl="layers.MultiHeadAttention, layers.TransformerBlock")
def f28_mha_ffn(r: Row) -> None:
    MHA, Block = r.impl("layers.MultiHeadAttention"), r.impl("layers.TransformerBlock")
    mha = double_module(MHA(8, 2))
    x = r.randn(2, 3, 8)
    fn, params = module_fn(mha)
    r.gradcheck(fn, x, *params, name="gradcheck MultiHeadAttention (2 heads)", fast=True)
    r.compare("multi-head attention vs NumPy (split heads, attend, concat, out_proj)", mha(x),
              np_mha(x.numpy(), mha), 1e-13)
    block = double_module(Block(8, 2, 16, activation="gelu", norm_first=True)).eval()
    fn, params = module_fn(block)
    r.gradcheck(fn, x, *params, name="gradcheck TransformerBlock (attention + FFN)", fast=True)
    xn = x.numpy()
    n1, n2, ff = block.norm1, block.norm2, block.ff
    h = xn + np_mha(np_layer_norm(xn, n1.weight.numpy(), n1.bias.numpy()), block.attn)
    ffn = np_linear(np_gelu(np_linear(np_layer_norm(h, n2.weight.numpy(), n2.bias.numpy()),
                                      ff.fc1)), ff.fc2)
    r.compare("block vs NumPy x + MHA(LN(x)), then + FFN(LN(·))", block(x), h + ffn, 1e-13)
    r.verdict = "minigrad matches the formula (pre-LN block: attention, then a feed-forward net)"


@row("F29", impl="layers.Embedding, layers.TransformerEncoder, layers.TransformerBlock, "
                 "layers.MultiHeadAttention, layers.Linear, layers.GPT")
def f29_encoder_decoder(r: Row) -> None:
    L = r.impl("layers")

    class EncoderDecoder(L.Module):
        """Embedding -> self-attention encoder; embedding -> causal self-attention
        decoder block -> cross-attention to the encoder -> linear output layer."""

        def __init__(self, vocab: int, d: int) -> None:
            super().__init__()
            self.src_emb, self.tgt_emb = L.Embedding(vocab, d), L.Embedding(vocab, d)
            self.encoder = L.TransformerEncoder(1, d, 2, 2 * d)
            self.decoder = L.TransformerBlock(d, 2, 2 * d)
            self.cross = L.MultiHeadAttention(d, 2)
            self.out = L.Linear(d, vocab)

        def forward(self, src, tgt):
            memory = self.encoder(self.src_emb(src))
            h = self.decoder(self.tgt_emb(tgt), causal=True)
            h = h + self.cross(h, memory, memory)
            return self.out(h)

    model = double_module(EncoderDecoder(7, 8)).eval()
    src, tgt = r.rng.integers(0, 7, (2, 5)), r.rng.integers(0, 7, (2, 4))
    fn, params = module_fn(model, lambda m: m(src, tgt))
    r.gradcheck(fn, *params, name="gradcheck encoder–decoder, all parameters", fast=True)
    emb = model.src_emb
    r.compare("embedding layer = row lookup of the table", emb(src), emb.weight.numpy()[src], 0.0)
    logits = model(src, tgt).numpy()
    tgt2 = tgt.copy()
    tgt2[:, -1] = (tgt2[:, -1] + 1) % 7
    r.compare("decoder is causal: changing the last target token leaves earlier steps",
              model(src, tgt2).numpy()[:, :-1], logits[:, :-1], 1e-12)
    src2 = src.copy()
    src2[:, -1] = (src2[:, -1] + 1) % 7
    memory = model.encoder(model.src_emb(src)).numpy()
    memory2 = model.encoder(model.src_emb(src2)).numpy()
    r.expect("encoder self-attention looks both ways: the last source token changes the first "
             "position's encoding", np.all(np.abs(memory2[:, 0] - memory[:, 0]) > 0))
    gpt = double_module(L.GPT(vocab_size=7, d_model=8, num_heads=2, num_layers=1, max_len=6))
    fn, params = module_fn(gpt, lambda m: m(tgt))
    r.gradcheck(fn, *params, name="gradcheck GPT (decoder-only)", fast=True)
    r.figure("logits", f"(batch, target steps, vocab) = {logits.shape}")
    r.verdict = "minigrad's pieces compose into an encoder–decoder; gradients check"


# --------------------------------------------------------------------------- #
# Recurrent networks
# --------------------------------------------------------------------------- #


@row("F30", impl="layers.RNNCell, layers.LSTMCell, layers.LSTM")
def f30_rnn_lstm(r: Row) -> None:
    RNNCell, LSTMCell, LSTM = (r.impl(f"layers.{n}") for n in ("RNNCell", "LSTMCell", "LSTM"))
    x, h, c = r.randn(2, 3), r.randn(2, 4), r.randn(2, 4)
    rnn = double_module(RNNCell(3, 4))
    fn, params = module_fn(rnn)
    r.gradcheck(fn, x, h, *params, name="gradcheck RNNCell wrt x, h and weights")
    Wih, Whh, bih, bhh = (p.numpy() for p in params)
    xn, hn, cn = x.numpy(), h.numpy(), c.numpy()
    r.compare("RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh)", rnn(x, h),
              np.tanh(xn @ Wih.T + bih + hn @ Whh.T + bhh), 1e-14)
    cell = double_module(LSTMCell(3, 4))
    fn, params = module_fn(cell, lambda m, x, h, c: m(x, (h, c)))
    r.gradcheck(fn, x, h, c, *params, name="gradcheck LSTMCell wrt x, h, c and weights")
    Wih, Whh, bih, bhh = (p.numpy() for p in params)
    a = xn @ Wih.T + bih + hn @ Whh.T + bhh
    i, f, g, o = (a[:, k * 4:(k + 1) * 4] for k in range(4))
    c_new = np_sigmoid(f) * cn + np_sigmoid(i) * np.tanh(g)       # forget old, write new
    h_new = np_sigmoid(o) * np.tanh(c_new)                         # output gate
    h_got, c_got = cell(x, (h, c))
    r.compare("LSTM: c' = σ(f)c + σ(i)tanh(g), h' = σ(o)tanh(c')", [h_got.numpy(), c_got.numpy()],
              [h_new, c_new], 1e-14)
    seq = double_module(LSTM(3, 4))
    xs = r.randn(2, 5, 3)
    fn, params = module_fn(seq, lambda m, xs: m(xs)[0])
    r.gradcheck(fn, xs, *params, name="gradcheck LSTM over 5 steps", fast=True)
    Wih, Whh, bih, bhh = (p.numpy() for p in params)
    hh, cc, outs = np.zeros((2, 4)), np.zeros((2, 4)), []
    for t in range(5):
        a = xs.numpy()[:, t] @ Wih.T + bih + hh @ Whh.T + bhh
        i, f, g, o = (a[:, k * 4:(k + 1) * 4] for k in range(4))
        cc = np_sigmoid(f) * cc + np_sigmoid(i) * np.tanh(g)
        hh = np_sigmoid(o) * np.tanh(cc)
        outs.append(hh)
    r.compare("LSTM sequence vs a NumPy loop over time", seq(xs)[0], np.stack(outs, axis=1), 1e-14)
    r.verdict = "minigrad matches the formulas (gate order i, f, g, o as PyTorch)"


@row("F31", impl="layers.CharLSTM")
def f31_char_lstm(r: Row) -> None:
    CharLSTM = r.impl()
    from minigrad import cross_entropy
    from optim import Adam
    vocab = 11
    model = double_module(CharLSTM(vocab, embed_dim=6, hidden_size=32))
    ids = r.rng.integers(0, vocab, (2, 6))
    fn, params = module_fn(model, lambda m: cross_entropy(m(ids[:, :-1]), ids[:, 1:]))
    r.gradcheck(fn, *params, name="gradcheck CharLSTM + categorical CE, all parameters",
                fast=True)
    logits = model(ids)
    r.expect("per-step dense over the vocabulary", logits.shape == (2, 6, vocab),
             f"logits {logits.shape}")
    p = np_softmax(logits.numpy())
    r.compare("softmax over the vocabulary sums to 1 at every step", p.sum(-1), np.ones((2, 6)),
              1e-14)
    text = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 3)
    opt = Adam(model.parameters(), lr=0.02)
    x, y = text[None, :-1], text[None, 1:]
    first = None
    for _ in range(40):
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    r.expect("Adam + CE learns next-character prediction of a periodic text",
             loss.item() < 0.5 * first, f"loss {first:.3f} -> {loss.item():.3f} in 40 steps")
    r.figure("loss", f"{first:.3f} -> {loss.item():.3f}")
    r.verdict = "minigrad's CharLSTM has the described structure; gradients check"
