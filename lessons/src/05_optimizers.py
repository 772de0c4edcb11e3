# %% [markdown]
# # Lesson 05 — Optimizers: from gradient descent to Adam
#
# **Formulas:** F14 (gradient descent $\theta \leftarrow \theta - \alpha\nabla_\theta J$), F15 (the
# same update written as a step $\Delta w$, and one document's sign slip), F16 (mini-batch
# gradient descent), F17 (momentum, and Nesterov's variant), F18 (RMSprop), F19 (Adam, as the
# documents print it — without bias correction — and as Kingma & Ba define it).
# **Worked examples:** E04 (one step on $J(w) = (w-1)^2$) and E08 (one step that starts at the
# minimum).
#
# Backpropagation gives the gradient; an *optimizer* decides what to do with it. We
#
# 1. check the two worked examples and the sign slip of F15;
# 2. see that mini-batch gradients are averages of per-example gradients (F16);
# 3. write each update rule on paper, compute its first steps by hand, and check that the
#    classes in `optim` take exactly those steps;
# 4. race SGD, momentum, Nesterov, RMSprop and Adam across a long, narrow valley and draw
#    their paths;
# 5. measure what Adam's bias correction changes — and confirm it is what the algebra says.
#
# Set `MINIGRAD_FULL=1` for longer runs and finer plots; the default settings take seconds.

# %%
from course import *        # QUICK, mg, np, plt, optim, seeds fixed; check() for the exercises

# %% [markdown]
# ## 1. Gradient descent (F14), the step form (F15) and worked example E04
#
# Gradient descent moves the parameters a little against the gradient (F14):
#
# $$\theta_\text{new} = \theta_\text{old} - \alpha\, \nabla_\theta J(\theta).$$
#
# **What the document says.** D1 §2 (gradient descent) writes the same thing as a *step*,
# $\Delta w = -\eta\,\nabla_w J(w)$, and then updates $w = w - \Delta w$. That is a sign slip: with the minus already inside $\Delta w$, the
# update must **add** the step, $w = w + \Delta w$ (F15). Subtracting it gives
# $w + \eta\nabla J$ — gradient *ascent*.
#
# E04: $J(w) = (w-1)^2$, $\eta = 0.1$, $w = 2$. On paper $J'(w) = 2(w - 1) = 2$, so
# $\Delta w = -0.2$ and $w + \Delta w = 1.8$ — the document's answer, which is right. Its own
# printed rule $w - \Delta w$ would give $2.2$, one step *up* the parabola.

# %%
w = mg.Parameter([2.0], dtype="float64")
opt = optim.SGD([w], lr=0.1)
J = ((w - 1.0) ** 2).sum()
J.backward()
print("dJ/dw at w = 2:", w.grad.item())
assert w.grad.item() == 2.0
opt.step()
print("optim.SGD step:", w.item(), "(document: 1.8)")
assert abs(w.item() - 1.8) < 1e-15

dw = -0.1 * 2.0                 # F15: the step, with its minus sign
print("w + dw =", 2.0 + dw, "  w - dw (as printed in D1) =", 2.0 - dw)
assert abs((2.0 + dw) - 1.8) < 1e-15 and abs((2.0 - dw) - 2.2) < 1e-15

# iterate both rules: the right one converges to the minimum w = 1, the slipped one runs away
w_good, w_slip = [2.0], [2.0]
for _ in range(15):
    w_good.append(w_good[-1] - 0.1 * 2 * (w_good[-1] - 1))
    w_slip.append(w_slip[-1] + 0.1 * 2 * (w_slip[-1] - 1))
print("correct  :", np.round(w_good[:6], 4), "...", round(w_good[-1], 4))
print("slipped  :", np.round(w_slip[:6], 4), "...", round(w_slip[-1], 4))
assert abs(w_good[-1] - 1) < 0.05 and w_slip[-1] > 10

# %% [markdown]
# ## 2. Worked example E08 — a step from the minimum
#
# **What the document says.** D4 §4.2 (gradient descent) takes
# $J(\theta) = (\theta_1 - 1)^2 + (\theta_2 - 2)^2$ at $\theta = [1, 2]$ with $\alpha = 0.1$,
# and prints $\nabla J = [-2, -2]$ and the new $\theta = [1.2, 1.8]$. On paper
# $\nabla J = [2(\theta_1 - 1),\ 2(\theta_2 - 2)] = [0, 0]$: the starting point *is* the
# minimum, and gradient descent stays put. The printed figures do not even agree with each
# other: $[1, 2] - 0.1\cdot[-2, -2] = [1.2, 2.2]$. (A gradient of $[-2, -2]$ belongs to the
# point $[0, 1]$.)

# %%
theta = mg.Parameter([1.0, 2.0], dtype="float64")
target = mg.Tensor([1.0, 2.0], dtype="float64")
opt = optim.SGD([theta], lr=0.1)
J = ((theta - target) ** 2).sum()
J.backward()
grad_e08 = theta.grad.numpy().copy()
opt.step()
print("grad J =", grad_e08, "(document: [-2, -2])   theta ->", theta.numpy(),
      "(document: [1.2, 1.8])")
assert np.array_equal(grad_e08, [0.0, 0.0]) and np.array_equal(theta.numpy(), [1.0, 2.0])
document_step = np.array([1.0, 2.0]) - 0.1 * np.array([-2.0, -2.0])
print("the document's own gradient would give", document_step)
assert np.allclose(document_step, [1.2, 2.2]) and not np.allclose(document_step, [1.2, 1.8])

# %% [markdown]
# ## 3. Mini-batches (F16)
#
# With a loss that is a *mean* over $m$ examples,
# $J_B(w) = \frac1m \sum_{i \in B} J(w; x_i, y_i)$, linearity of the derivative gives
#
# $$\nabla_w J_B = \frac1m \sum_{i\in B} \nabla_w J(w; x_i, y_i),$$
#
# so F16's update $w \leftarrow w - \alpha\,\frac1m\sum_i \nabla_w J(w;x_i,y_i)$ is F14
# applied to the mean loss of the batch — nothing new is needed in the optimizer. $m = 1$ is
# "stochastic" gradient descent, $m = n$ is full-batch gradient descent. We check the identity
# on a linear model, per example vs. one batch.

# %%
rng = np.random.default_rng(0)
n_ex, n_feat = 16, 3
X_lin = rng.standard_normal((n_ex, n_feat))
y_lin = X_lin @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.standard_normal(n_ex)
w_lin = mg.Parameter(np.zeros(n_feat), dtype="float64")


def mse(w, X, y):
    return (((mg.Tensor(X) @ w) - mg.Tensor(y)) ** 2).mean()


per_example = []
for i in range(n_ex):
    w_lin.grad = None
    mse(w_lin, X_lin[i:i + 1], y_lin[i:i + 1]).backward()
    per_example.append(w_lin.grad.numpy().copy())
w_lin.grad = None
mse(w_lin, X_lin, y_lin).backward()
print("mean of 16 per-example gradients:", np.round(np.mean(per_example, axis=0), 6))
print("gradient of the batch mean      :", np.round(w_lin.grad.numpy(), 6))
assert np.allclose(np.mean(per_example, axis=0), w_lin.grad.numpy(), atol=1e-14)

# and the gradient of the model's loss is right (float64, central differences)
gc = mg.gradcheck(lambda w: mse(w, X_lin, y_lin), mg.Tensor(rng.standard_normal(n_feat),
                                                              requires_grad=True))
print(gc.report().splitlines()[0])
assert gc.passed

# %% [markdown]
# Smaller batches take more, noisier steps per pass over the data. One epoch each, with
# the same learning rate:

# %%
def epochs_of_minibatch_gd(batch_size, epochs, lr=0.05, seed=0):
    w = mg.Parameter(np.zeros(n_feat), dtype="float64")
    opt = optim.SGD([w], lr=lr)
    order_rng = np.random.default_rng(seed)
    losses = [mse(w, X_lin, y_lin).item()]
    for _ in range(epochs):
        order = order_rng.permutation(n_ex)
        for k in range(0, n_ex, batch_size):
            idx = order[k:k + batch_size]
            opt.zero_grad()
            mse(w, X_lin[idx], y_lin[idx]).backward()
            opt.step()
        losses.append(mse(w, X_lin, y_lin).item())
    return np.array(losses)


n_epochs = 10 if QUICK else 40
curves = {m: epochs_of_minibatch_gd(m, n_epochs) for m in (1, 4, n_ex)}
for m, c in curves.items():
    print(f"m = {m:2d}: {n_ex // m:2d} steps per epoch, loss after 1 epoch {c[1]:.3f}, "
          f"after {n_epochs}: {c[-1]:.4f}")
# one pass with m = 1 takes 16 steps, full batch takes 1: the small batches get further
assert curves[1][1] < curves[4][1] < curves[n_ex][1]

# %% [markdown]
# ## 4. The update rules, on paper, and checked step by step
#
# Write $g_t = \nabla_\theta J(\theta_{t-1})$ for the gradient at step $t$ (all operations
# elementwise).
#
# **Momentum (F17)**, in the form PyTorch and `optim.SGD` use (D1's example takes
# $\mu = 0.9$):
#
# $$v_t = \mu\, v_{t-1} + g_t \quad (v_1 = g_1), \qquad \theta_t = \theta_{t-1} - \alpha\, v_t .$$
#
# $v$ is a running sum of past gradients with decay $\mu$: directions where the gradient keeps
# its sign build up speed (up to $1/(1-\mu)$ times the plain step), directions where it flips
# cancel out.
#
# **Nesterov momentum** evaluates the step as if already moved along the new velocity:
# $\theta_t = \theta_{t-1} - \alpha\,(g_t + \mu v_t)$.
#
# **RMSprop (F18)** divides each coordinate by a running root-mean-square of its gradients:
#
# $$v_t = \beta v_{t-1} + (1-\beta)\, g_t^2, \qquad
#   \theta_t = \theta_{t-1} - \alpha\, \frac{g_t}{\sqrt{v_t} + \varepsilon}.$$
#
# **Adam (F19)** keeps both running averages, of $g$ (momentum) and of $g^2$ (RMSprop):
#
# $$m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2,$$
# D2 §3 (optimisation algorithms) prints RMSprop and Adam without the bias correction:
#
# $$\text{as printed in the documents:}\quad \theta_t = \theta_{t-1} - \alpha\,\frac{m_t}{\sqrt{v_t}+\varepsilon};
#   \qquad
#   \text{Kingma \& Ba:}\quad \hat m_t = \frac{m_t}{1-\beta_1^t},\ \hat v_t = \frac{v_t}{1-\beta_2^t},\
#   \theta_t = \theta_{t-1} - \alpha\,\frac{\hat m_t}{\sqrt{\hat v_t}+\varepsilon}.$$
#
# `optim.Adam(..., bias_correction=True)` (the default) is Kingma & Ba's;
# `bias_correction=False` is F19 exactly as printed. Below, each rule is written out in plain
# NumPy next to the `optim` class, on the same sequence of gradients (a fixed quadratic), for
# five steps: the parameters must agree to the last few bits.

# %%
H = np.array([[3.0, 0.5], [0.5, 1.0]])          # J(θ) = ½ θᵀ H θ, so ∇J = H θ
theta0 = np.array([1.0, -2.0])


def grad_np(theta):
    return H @ theta


def by_hand(rule, steps=5, lr=0.1, mu=0.9, beta=0.9, b1=0.9, b2=0.999, eps=1e-8):
    th, v, m, vv = theta0.copy(), None, np.zeros(2), np.zeros(2)
    out = []
    for t in range(1, steps + 1):
        g = grad_np(th)
        if rule == "sgd":
            th = th - lr * g
        elif rule in ("momentum", "nesterov"):
            v = g.copy() if v is None else mu * v + g
            th = th - lr * (g + mu * v if rule == "nesterov" else v)
        elif rule == "rmsprop":
            vv = beta * vv + (1 - beta) * g * g
            th = th - lr * g / (np.sqrt(vv) + eps)
        else:
            m = b1 * m + (1 - b1) * g
            vv = b2 * vv + (1 - b2) * g * g
            if rule == "adam":
                m_hat, v_hat = m / (1 - b1 ** t), vv / (1 - b2 ** t)
            else:                                   # "adam as printed" (F19, no correction)
                m_hat, v_hat = m, vv
            th = th - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(th.copy())
    return np.array(out)


def with_optim(make, steps=5):
    p = mg.Parameter(theta0.copy(), dtype="float64")
    opt = make([p])
    Hm = mg.Tensor(H)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (p @ (Hm @ p))).backward()
        opt.step()
        out.append(p.numpy().copy())
    return np.array(out)


rules = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.1, beta=0.9),
    "adam": lambda ps: optim.Adam(ps, lr=0.1),
    "adam as printed": lambda ps: optim.Adam(ps, lr=0.1, bias_correction=False),
}
for name, make in rules.items():
    ours, theirs = by_hand(name), with_optim(make)
    diff = np.abs(ours - theirs).max()
    print(f"{name:16s} theta after 5 steps {np.round(theirs[-1], 5)}   max |by hand - optim| "
          f"= {diff:.1e}")
    assert diff < 1e-14, name

# the gradient backward() computes for the quadratic is H θ (checked numerically, too)
quad = mg.gradcheck(lambda p: 0.5 * (p @ (mg.Tensor(H) @ p)),
                    mg.Tensor(theta0, requires_grad=True))
assert quad.passed

# %% [markdown]
# ## 5. A race across a narrow valley
#
# The test surface is a long, narrow, axis-aligned valley
#
# $$f(x, y) = \tfrac12\,(0.04\,x^2 + 4\,y^2), \qquad \nabla f = [0.04\,x,\ 4\,y], \qquad
#   \nabla^2 f = \mathrm{diag}(0.04,\ 4).$$
#
# Gradient descent on a quadratic is a linear recurrence, $\theta_t = (I - \alpha\nabla^2 f)\,
# \theta_{t-1}$: each coordinate is multiplied by $1 - \alpha\lambda$ per step. Stability in
# the steep direction needs $\alpha < 2/4 = 0.5$; at $\alpha = 0.3$ the $y$-factor is
# $1 - 1.2 = -0.2$ (a zig-zag that dies out) while the $x$-factor is $1 - 0.012 = 0.988$: plain
# gradient descent crawls along the valley floor. The ratio of curvatures, $100$ here, is the
# **condition number**; it is what momentum and the adaptive methods attack:
#
# * momentum ($\mu = 0.8$) lets the consistent $x$-gradient build up speed. For a quadratic,
#   each coordinate follows $\theta_t = (1 + \mu - \alpha\lambda)\,\theta_{t-1} - \mu\,\theta_{t-2}$,
#   whose characteristic roots are complex with modulus $\sqrt{\mu} \approx 0.894$ whenever
#   $(1 + \mu - \alpha\lambda)^2 < 4\mu$ — true for both curvatures here, so both coordinates
#   shrink like $0.894^t$ (while plain GD's $x$ shrinks like $0.988^t$);
# * Nesterov's step puts weight $1 + \mu$ on the newest gradient, which damps the overshoot
#   but also lowers the largest stable $\alpha$ (at $\alpha = 0.4$ it diverges on this valley;
#   momentum and SGD do not);
# * RMSprop and Adam divide by $\sqrt{v} \approx |g|$, so every coordinate moves about
#   $\alpha$ per step whatever its curvature. For RMSprop that is also its weakness: as the
#   gradient shrinks near the minimum, $\sqrt v$ shrinks with it, the step stays of order
#   $\alpha$, and with $\alpha$ constant it ends up **hovering** — zig-zagging across the
#   valley with steps of about $1.4\,\alpha$ while $f$ stalls near $5\cdot10^{-3}$, after
#   having been far lower. Adam does not hover here: its first moment $m$ averages the
#   alternating gradients of the zig-zag towards zero, so its steps do shrink and $f$ keeps
#   falling (below $10^{-8}$).
#
# First, minigrad's gradient of the surface against the formula and against central
# differences:

# %%
CURV = np.array([0.04, 4.0])


def surface(p):
    """f(x, y) = ½ (0.04 x² + 4 y²) for a Tensor p = [x, y]."""
    return 0.5 * (mg.Tensor(CURV, dtype=p.dtype) * p * p).sum()


p = mg.Tensor([-3.0, 1.2], dtype="float64", requires_grad=True)
surface(p).backward()
print("grad f at (-3, 1.2):", p.grad.numpy(), " formula:", CURV * np.array([-3.0, 1.2]))
assert np.allclose(p.grad.numpy(), CURV * np.array([-3.0, 1.2]), atol=1e-15)
assert mg.gradcheck(surface, mg.Tensor([-3.0, 1.2], dtype="float64", requires_grad=True)).passed

# %%
start = np.array([-4.5, 1.5])
n_steps = 200 if QUICK else 400
racers = {
    "SGD  (α=0.3)": lambda ps: optim.SGD(ps, lr=0.3),
    "momentum (α=0.3, μ=0.8)": lambda ps: optim.SGD(ps, lr=0.3, momentum=0.8),
    "Nesterov (α=0.3, μ=0.8)": lambda ps: optim.SGD(ps, lr=0.3, momentum=0.8, nesterov=True),
    "RMSprop (α=0.1)": lambda ps: optim.RMSprop(ps, lr=0.1),
    "Adam (α=0.1)": lambda ps: optim.Adam(ps, lr=0.1),
    "Adam as printed, F19 (α=0.1)": lambda ps: optim.Adam(ps, lr=0.1, bias_correction=False),
}


def race(make, steps=n_steps):
    p = mg.Parameter(start.copy(), dtype="float64")
    opt = make([p])
    path, losses = [p.numpy().copy()], []
    for _ in range(steps):
        opt.zero_grad()
        loss = surface(p)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        path.append(p.numpy().copy())
    losses.append(surface(p).item())
    return np.array(path), np.array(losses)


results = {name: race(make) for name, make in racers.items()}
print(f"{'optimizer':30s} {'f after 10':>11s} {'f after ' + str(n_steps):>12s}")
for name, (path, losses) in results.items():
    print(f"{name:30s} {losses[10]:11.2e} {losses[-1]:12.2e}")

# %% [markdown]
# The claims of the text, checked:

# %%
sgd_path, sgd_loss = results["SGD  (α=0.3)"]
mom_path, mom_loss = results["momentum (α=0.3, μ=0.8)"]
nes_path, nes_loss = results["Nesterov (α=0.3, μ=0.8)"]
rms_path, rms_loss = results["RMSprop (α=0.1)"]
adam_path, adam_loss = results["Adam (α=0.1)"]

# plain GD is exactly the linear recurrence theta_t = (1 - alpha * lambda)^t theta_0
t = np.arange(n_steps + 1)[:, None]
assert np.allclose(sgd_path, start * (1 - 0.3 * CURV) ** t, rtol=1e-12, atol=1e-300)
# ... so it zig-zags in y (sign flips every step) and crawls in x
assert np.all(np.sign(sgd_path[1:6, 1]) == [-1, 1, -1, 1, -1])
assert sgd_path[-1, 0] < -0.1 * (1 if QUICK else 0.001)
# momentum and Nesterov reach a far lower loss in the same number of steps
assert mom_loss[-1] < 1e-3 * sgd_loss[-1] and nes_loss[-1] < 1e-3 * sgd_loss[-1]
# the momentum rate: |theta_t| shrinks like sqrt(mu)^t (up to a constant factor)
rate = (np.linalg.norm(mom_path[-1]) / np.linalg.norm(mom_path[n_steps // 2])) ** (
    1 / (n_steps - n_steps // 2))
print(f"momentum: measured contraction per step {rate:.3f}, theory sqrt(0.8) = {0.8 ** 0.5:.3f}")
assert abs(rate - 0.8 ** 0.5) < 0.02
# Nesterov overshoots the valley floor less than heavy-ball momentum
assert np.abs(nes_path[:, 0]).max() <= np.abs(mom_path[:, 0]).max()
assert nes_path[:, 0].max() < mom_path[:, 0].max()
# ... but at alpha = 0.4 Nesterov diverges on this valley, while momentum and SGD do not
at_04 = {name: race(make)[1][-1] for name, make in [
    ("SGD", lambda ps: optim.SGD(ps, lr=0.4)),
    ("momentum", lambda ps: optim.SGD(ps, lr=0.4, momentum=0.8)),
    ("Nesterov", lambda ps: optim.SGD(ps, lr=0.4, momentum=0.8, nesterov=True))]}
print("f after", n_steps, "steps at alpha = 0.4:", {k: f"{v:.1e}" for k, v in at_04.items()})
assert at_04["Nesterov"] > 1e10 and at_04["SGD"] < 0.1 and at_04["momentum"] < 1e-4
# RMSprop hovers: steps of order alpha near the minimum, f stalls well above its best
rms_steps = np.linalg.norm(np.diff(rms_path, axis=0), axis=1)
adam_steps = np.linalg.norm(np.diff(adam_path, axis=0), axis=1)
print(f"last 20 steps (median length): RMSprop {np.median(rms_steps[-20:]):.3f} "
      f"(= {np.median(rms_steps[-20:]) / 0.1:.2f} alpha), Adam {np.median(adam_steps[-20:]):.1e}; "
      f"final f: RMSprop {rms_loss[-1]:.1e} (best {rms_loss.min():.1e}), Adam {adam_loss[-1]:.1e}")
assert 1.2 * 0.1 < np.median(rms_steps[-20:]) < 1.6 * 0.1                 # about 1.4 alpha
assert 3e-3 < rms_loss[-1] < 7e-3 and rms_loss.min() < 1e-6 * rms_loss[-1]  # stalls at ~5e-3
assert adam_loss[-1] < 1e-8 and np.median(adam_steps[-20:]) < 1e-3 * 0.1    # Adam settles
# RMSprop's first step: alpha * g / sqrt((1-beta) g^2) = alpha / sqrt(0.1) = 3.16 alpha per
# coordinate, in the direction -sign(g) -- whatever the curvature
first = rms_path[1] - rms_path[0]
print("RMSprop first step:", first, " = alpha * sign(-g) / sqrt(1 - beta)")
assert np.allclose(np.abs(first), 0.1 / np.sqrt(0.1), rtol=1e-6)
# Adam's first step is alpha * sign(-g) in every coordinate
assert np.allclose(adam_path[1] - adam_path[0], 0.1 * np.sign(-(CURV * start)), rtol=1e-6)

# %% [markdown]
# ## 6. Adam's bias correction (F19), measured
#
# $m$ and $v$ start at zero, so early on they are averages of too few gradients *and* of the
# zeros they started from. If the gradient were a constant $g$,
#
# $$m_t = (1-\beta_1)\sum_{k<t} \beta_1^k\, g = (1-\beta_1^t)\, g, \qquad v_t = (1-\beta_2^t)\, g^2 .$$
#
# Dividing by $1-\beta_1^t$ and $1-\beta_2^t$ removes exactly that shrinkage, so the corrected
# step is $\alpha\, g/|g| = \alpha$ from the first step on. Without the correction (F19 as
# printed) the step is
#
# $$\alpha\,\frac{1-\beta_1^t}{\sqrt{1-\beta_2^t}} \qquad (\varepsilon \text{ neglected}),$$
#
# which is $\alpha\cdot 0.1/\sqrt{0.001} = 3.16\,\alpha$ at $t = 1$, rises to about
# $6.6\,\alpha$ near $t \approx 12$ (the $m$ average fills up in $\sim 10$ steps, the $v$
# average in $\sim 1000$), and only settles to $\alpha$ after thousands of steps. The
# uncorrected optimizer is not broken — it takes too-large steps in the beginning, exactly when
# the gradients are largest and least reliable. We measure it with a loss whose gradient is
# constant, $J(\theta) = g\,\theta$, at two very different gradient scales.

# %%
beta1, beta2, alpha = 0.9, 0.999, 1e-3
n_adam = 3000 if QUICK else 10000
ts = np.arange(1, n_adam + 1)
theory_uncorrected = alpha * (1 - beta1 ** ts) / np.sqrt(1 - beta2 ** ts)

steps_measured = {}
for g_scale in (1.0, 1e-3):
    for corrected in (True, False):
        th = mg.Parameter([0.0], dtype="float64")
        opt = optim.Adam([th], lr=alpha, betas=(beta1, beta2), eps=1e-12,
                         bias_correction=corrected)
        prev, sizes = 0.0, []
        for _ in range(n_adam):
            opt.zero_grad()
            (th * g_scale).sum().backward()
            opt.step()
            sizes.append(prev - th.item())
            prev = th.item()
        steps_measured[(g_scale, corrected)] = np.array(sizes)

for g_scale in (1.0, 1e-3):
    corr, unc = steps_measured[(g_scale, True)], steps_measured[(g_scale, False)]
    print(f"g = {g_scale:g}: first step corrected {corr[0]:.3e}, uncorrected {unc[0]:.3e} "
          f"(ratio {unc[0] / corr[0]:.3f}); largest uncorrected step {unc.max():.3e} at t = "
          f"{unc.argmax() + 1}")
    # the corrected step is alpha at every t, whatever the gradient's scale
    assert np.allclose(corr, alpha, rtol=1e-6)
    # the uncorrected one follows alpha (1 - b1^t) / sqrt(1 - b2^t) exactly
    assert np.allclose(unc, theory_uncorrected, rtol=1e-6)
    assert abs(unc[0] / corr[0] - 0.1 / np.sqrt(0.001)) < 1e-4       # 3.162 at t = 1
    assert 10 <= unc.argmax() + 1 <= 14 and 6.4 * alpha < unc.max() < 6.7 * alpha

# the two trajectories of section 5 differ from the first step on, by the same factor
adam_bc, adam_nobc = results["Adam (α=0.1)"][0], results["Adam as printed, F19 (α=0.1)"][0]
ratio_first = (adam_nobc[1] - adam_nobc[0]) / (adam_bc[1] - adam_bc[0])
print("Adam on the valley, first step uncorrected / corrected:", np.round(ratio_first, 4))
assert np.allclose(ratio_first, 0.1 / np.sqrt(0.001), rtol=1e-5)      # eps shifts the 6th digit
# ... and the too-large early steps carry the uncorrected Adam far past the minimum
print(f"largest x reached: corrected {adam_bc[:, 0].max():.2f}, "
      f"as printed {adam_nobc[:, 0].max():.2f}")
assert adam_nobc[:, 0].max() > 1.0 > 0.5 > adam_bc[:, 0].max()

# %% [markdown]
# ## 7. Pictures
#
# Left: the paths on the contour plot of $f$ (the minimum is the star), with equal scales on
# both axes so the valley looks as narrow as it is. Middle: $f$ against the step number on a
# log scale. Right: Adam's step size with and without bias correction, for a constant
# gradient, against the formula above — the curves for $g = 1$ and $g = 10^{-3}$ lie exactly
# on top of each other (Adam's step does not depend on the gradient's scale), so the second
# is drawn dashed over the first.

# %%
grid_n = 120 if QUICK else 400
gx, gy = np.meshgrid(np.linspace(-5, 2, grid_n), np.linspace(-2, 2, grid_n))
gz = 0.5 * (CURV[0] * gx ** 2 + CURV[1] * gy ** 2)
levels = np.geomspace(0.005, 8, 10)
colour_of = dict(zip(results, plt.cm.tab10.colors))
style_of = dict(zip(results, ["-", "-", "-", "-", "-", "--"]))

fig, axes = plt.subplots(1, 3, figsize=(18, 5), gridspec_kw={"width_ratios": [1.6, 1, 1]})
ax = axes[0]
cs = ax.contour(gx, gy, gz, levels=levels, colors="0.45", linewidths=0.9)
ax.clabel(cs, fmt="%.2g", fontsize=7)
for name, (path, _) in results.items():
    ax.plot(path[:, 0], path[:, 1], style_of[name], color=colour_of[name], marker=".",
            markersize=3, linewidth=1.1, label=name)
ax.plot(*start, "ko", label="start")
ax.plot(0, 0, "k*", markersize=12, label="minimum")
ax.set_aspect("equal")
ax.set(xlabel="x", ylabel="y", title=f"{n_steps} steps on f = ½(0.04x² + 4y²)",
       xlim=(-5, 2), ylim=(-2, 2))
ax.legend(fontsize=7, loc="lower right", ncol=2)

ax = axes[1]
for name, (_, losses) in results.items():
    ax.semilogy(losses, style_of[name], color=colour_of[name], label=name)
ax.set(xlabel="step", ylabel="f", title="loss per step")
ax.legend(fontsize=7)

ax = axes[2]
for corrected, colour in ((False, "tab:red"), (True, "tab:blue")):
    name = "bias-corrected" if corrected else "as printed (F19)"
    ax.semilogx(ts, steps_measured[(1.0, corrected)] / alpha, "-", color=colour, lw=5,
                alpha=0.35, label=f"{name}, g = 1")
    ax.semilogx(ts, steps_measured[(1e-3, corrected)] / alpha, "--", color=colour, lw=1.2,
                label=f"{name}, g = 0.001 (same curve)")
ax.semilogx(ts, theory_uncorrected / alpha, "k:", linewidth=1,
            label=r"$(1-\beta_1^t)/\sqrt{1-\beta_2^t}$")
ax.set(xlabel="step t", ylabel="step size / α", title="Adam, constant gradient")
ax.legend(fontsize=7)
fig.tight_layout()
assert np.allclose(steps_measured[(1.0, False)], steps_measured[(1e-3, False)], rtol=1e-6)

# %% [markdown]
# ### The race, frame by frame
#
# The same six runs as small multiples: where each optimizer is after 5, 20 and 60 steps
# and at the end. After 5 steps the uncorrected Adam is furthest along (its early steps
# are several times $\alpha$, section 6); by step 60 momentum and Nesterov have passed
# every adaptive method, while plain SGD is still crawling along the valley floor, the
# furthest from the minimum of all.

# %%
frames = [5, 20, 60, n_steps]
fig, axes = plt.subplots(1, len(frames), figsize=(18, 3.6), sharey=True)
for ax, t_frame in zip(axes, frames):
    ax.contour(gx, gy, gz, levels=levels, colors="0.7", linewidths=0.7)
    for name, (path, _) in results.items():
        ax.plot(path[:t_frame + 1, 0], path[:t_frame + 1, 1], style_of[name],
                color=colour_of[name], lw=0.9, alpha=0.7)
        ax.plot(*path[t_frame], "o", color=colour_of[name], ms=6, label=name)
    ax.plot(0, 0, "k*", markersize=10)
    ax.set_aspect("equal")
    ax.set(title=f"after {t_frame} steps", xlabel="x", xlim=(-5, 2), ylim=(-2, 2))
axes[0].set_ylabel("y")
axes[0].legend(fontsize=6, loc="lower right")
fig.suptitle("the optimizer race on the narrow valley")
fig.tight_layout()
dist = {name: np.linalg.norm(path, axis=1) for name, (path, _) in results.items()}
assert min(dist, key=lambda k: dist[k][5]) == "Adam as printed, F19 (α=0.1)"
assert max(dist["momentum (α=0.3, μ=0.8)"][60], dist["Nesterov (α=0.3, μ=0.8)"][60]) < \
    min(dist["RMSprop (α=0.1)"][60], dist["Adam (α=0.1)"][60],
        dist["Adam as printed, F19 (α=0.1)"][60])
assert dist["SGD  (α=0.3)"][60] == max(d[60] for d in dist.values())

# %% [markdown]
# ### Update-to-data ratio
#
# A number practitioners watch while training: the size of a step relative to the size of
# what it changes, $\lVert \Delta\theta_t \rVert / \lVert \theta_{t-1} \rVert$ (here the
# "data" is the distance to the minimum, which sits at the origin). Plain SGD's ratio
# settles at $\alpha\lambda_\text{min} = 0.3 \cdot 0.04 = 0.012$: once the zig-zag has died,
# only the slow direction is left. RMSprop's climbs above 1 — its steps are larger than
# the distance left, the hovering seen above. In a real network (lesson 06) the same
# ratio, per layer, tells whether the learning rate is too small (ratios far below
# $10^{-3}$), about right, or too large (near 1).

# %%
fig, ax = plt.subplots(figsize=(7, 4))
ratios = {}
for name, (path, _) in results.items():
    ratios[name] = (np.linalg.norm(np.diff(path, axis=0), axis=1)
                    / np.linalg.norm(path[:-1], axis=1))
    ax.semilogy(np.arange(1, n_steps + 1), ratios[name], style_of[name],
                color=colour_of[name], lw=1, label=name)
ax.axhline(0.3 * 0.04, color="0.4", ls=":", label=r"$\alpha\lambda_\min = 0.012$")
ax.set(xlabel="step t", ylabel=r"$\|\Delta\theta_t\| \,/\, \|\theta_{t-1}\|$",
       title="update-to-data ratio on the valley")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
print({name: f"{r[-1]:.3g}" for name, r in ratios.items()}, "(last step)")
assert np.isclose(ratios["SGD  (α=0.3)"][-1], 0.012, rtol=0.01)
assert ratios["RMSprop (α=0.1)"][-1] > 1

# %% [markdown]
# ## Exercises
#
# Fill in each starter cell and run the `check(...)` line under it (`solution("05.1")`
# shows the reference answer).
#
# **05.1** Rotate the valley by 45°: write `rotated_surface(p)` for
# $f = \frac12\theta^\top R^\top \mathrm{diag}(0.04, 4) R\,\theta$. Then race the optimizers on
# it. Momentum does not care; RMSprop and Adam lose much of their advantage. Why? (Hint:
# they rescale *coordinates*, not directions.)

# %%
def rotated_surface(p):
    return None                   # a minigrad expression of the Tensor p = [x, y]


check("05.1", rotated_surface)

# %% [markdown]
# **05.2** Show that for SGD on a quadratic the best constant learning rate is
# $\alpha^* = 2/(\lambda_\text{min} + \lambda_\text{max})$ and that the contraction per step is
# then $(\kappa - 1)/(\kappa + 1)$. Give both numbers for the valley, and check them with
# `race`.

# %%
alpha_star, rate_star = None, None
check("05.2", (alpha_star, rate_star))

# %% [markdown]
# **05.3** Replace Adam's $\varepsilon = 10^{-8}$ by $\varepsilon = 1$ in section 6 with
# $g = 10^{-3}$. What step size does Adam settle to, what happens to the "scale-free" step,
# and which optimizer of this lesson does Adam now resemble?

# %%
settled_step_eps1 = None          # a number
check("05.3", settled_step_eps1)
