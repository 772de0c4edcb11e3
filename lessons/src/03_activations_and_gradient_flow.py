# %% [markdown]
# # Lesson 03 — Activations and gradient flow
#
# **Formulas:** F06 (ReLU), F07 (sigmoid), F08 (tanh), F20 (remedies for vanishing and
# exploding gradients: gradient clipping, weight regularisation, adaptive optimisers,
# dropout). **Worked example:** E09.
#
# Backpropagation multiplies one local derivative per layer. Twenty layers means twenty
# factors: if they are typically below one, the gradient that reaches the first layers
# *vanishes*; above one, it *explodes*. The activation function and the size of the initial
# weights decide which. We look at the three activations and their derivatives, measure
# the gradient norm layer by layer in 20-layer networks, and then tame an exploding network
# with gradient clipping by global norm.

# %%
import os
import sys
from pathlib import Path

QUICK = os.environ.get("MINIGRAD_FULL") != "1"
try:
    import minigrad as mg
except ImportError:  # not installed: use the checkout this notebook lives in
    sys.path.insert(0, str(next(p for p in [Path.cwd(), *Path.cwd().parents]
                                if (p / "minigrad" / "__init__.py").exists())))
    import minigrad as mg

import matplotlib.pyplot as plt
import numpy as np

np.random.seed(0)
mg.manual_seed(0)

# %% [markdown]
# ## 1. Three activations and their derivatives
#
# $$\mathrm{ReLU}(x) = \max(0, x) \;(\text{F06}), \qquad
#   \sigma(x) = \frac{1}{1+e^{-x}} \;(\text{F07}), \qquad
#   \tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}} \;(\text{F08}).$$
#
# Their derivatives, written with the output so that backward can reuse it:
#
# * $\sigma'(x) = \dfrac{e^{-x}}{(1+e^{-x})^2} = \sigma(x)\,(1-\sigma(x))$, at most $\tfrac14$ (at $x=0$);
# * $\tanh'(x) = 1 - \tanh^2(x)$, at most $1$ (at $x = 0$);
# * $\mathrm{ReLU}'(x) = 1$ for $x > 0$, $0$ for $x < 0$ (minigrad, like PyTorch, uses 0 at the kink).
#
# Both sigmoid and tanh *saturate*: for large $|x|$ their derivative is nearly zero. We get
# the derivative curves from `backward()` (one call on $\sum_i f(x_i)$ gives $f'(x_i)$ at
# every point) and compare them with these formulas.

# %%
xs = np.linspace(-5, 5, 201)
activations = {"ReLU (F06)": mg.relu, "sigmoid (F07)": mg.sigmoid, "tanh (F08)": mg.tanh}
closed_form = {"ReLU (F06)": lambda y, x: (x > 0).astype(float),
               "sigmoid (F07)": lambda y, x: y * (1 - y),
               "tanh (F08)": lambda y, x: 1 - y ** 2}
curves = {}
for name, f in activations.items():
    x = mg.Tensor(xs, requires_grad=True)
    y = f(x)
    y.sum().backward()
    curves[name] = (y.numpy(), x.grad.numpy())
    assert np.allclose(x.grad.numpy(), closed_form[name](y.numpy(), xs), atol=1e-15), name

print("max of sigmoid' =", curves["sigmoid (F07)"][1].max(), "| max of tanh' =",
      curves["tanh (F08)"][1].max())
assert abs(curves["sigmoid (F07)"][1].max() - 0.25) < 1e-12

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for name, (y, dy) in curves.items():
    axes[0].plot(xs, y, label=name)
    axes[1].plot(xs, dy, label=name)
axes[0].set(title="activation", xlabel="x", ylim=(-1.2, 3))
axes[1].set(title="derivative (from backward())", xlabel="x")
axes[0].legend()
fig.tight_layout()

# %% [markdown]
# ## 2. E09 — activations of $x = [-2, 0, 2]$
#
# The document gives ReLU $[0, 0, 2]$ (right) and sigmoid $[0.1192, 0.5190, 0.8808]$.
# The middle value is wrong: $\sigma(0) = 1/(1 + e^0) = \tfrac12$. (The outer two are
# right, and they must sum to one because $\sigma(-x) = 1 - \sigma(x)$.)

# %%
x_e09 = mg.Tensor([-2.0, 0.0, 2.0], dtype="float64")
relu_e09, sigmoid_e09, tanh_e09 = (f(x_e09).numpy() for f in (mg.relu, mg.sigmoid, mg.tanh))
print("ReLU   :", relu_e09)
print("sigmoid:", np.round(sigmoid_e09, 4), " (document: [0.1192, 0.5190, 0.8808])")
print("tanh   :", np.round(tanh_e09, 4))
assert relu_e09.tolist() == [0.0, 0.0, 2.0]
assert np.allclose(sigmoid_e09, [0.1192, 0.5, 0.8808], atol=5e-5)
assert sigmoid_e09[1] == 0.5 and abs(sigmoid_e09[1] - 0.5190) > 0.01
assert abs(sigmoid_e09[0] + sigmoid_e09[2] - 1.0) < 1e-15

# %% [markdown]
# ## 3. Why deep gradients vanish or explode, on paper
#
# Take a stack of layers $h_l = f(z_l)$, $z_l = h_{l-1} W_l + b_l$ (rows are examples, the
# convention minigrad's layers use). Writing $g_l = \partial L/\partial h_l$, one step of
# backprop is
#
# $$g_{l-1} = \big(g_l \odot f'(z_l)\big)\, W_l^\top, \qquad
#   \frac{\partial L}{\partial W_l} = h_{l-1}^\top \big(g_l \odot f'(z_l)\big).$$
#
# So going down one layer multiplies the gradient by $W_l^\top$ and by $f'$. With $n$ units
# and weights of standard deviation $\text{gain}/\sqrt{n}$, multiplying by $W^\top$ scales a
# vector's norm by about `gain`, and $f'$ scales it by a typical derivative:
#
# * sigmoid: $f' \le \tfrac14$, so each layer shrinks the gradient at least fourfold
#   (for gain 1): after 19 layers, $4^{-19} \approx 10^{-11.4}$ — **vanishing**;
# * tanh near 0: $f' \approx 1$, the gradient roughly keeps its size (it saturates and shrinks
#   when the weights are large);
# * ReLU: $f'$ is 1 for about half the units, 0 for the rest, which halves the squared
#   norm; gain $\sqrt2$ ("He" initialisation) exactly compensates. Gain $1.5\sqrt2$ makes
#   every layer $1.5\times$ larger: $1.5^{19} \approx 2200$ — **exploding**.
#
# We measure both $\lVert \partial L/\partial h_l \rVert$ (the gradient flowing *between*
# layers) and $\lVert \partial L/\partial W_l \rVert$ (what the optimiser sees) in
# 20-layer networks.

# %%
depth, width, batch = 20, (32 if QUICK else 128), (64 if QUICK else 256)
configs = [  # (label, activation, gain)
    ("sigmoid, gain 1", mg.sigmoid, 1.0),
    ("tanh, gain 1", mg.tanh, 1.0),
    (r"ReLU, gain $\sqrt{2}$ (He)", mg.relu, np.sqrt(2.0)),
    (r"ReLU, gain $1.5\sqrt{2}$", mg.relu, 1.5 * np.sqrt(2.0)),
]


def deep_net(activation, gain, depth, width, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [mg.Tensor(rng.standard_normal((width, width)) * gain / np.sqrt(width),
                    requires_grad=True, name=f"W{l + 1}") for l in range(depth)]
    bs = [mg.Tensor(np.zeros(width), requires_grad=True, name=f"b{l + 1}") for l in range(depth)]
    return Ws, bs


def forward(Ws, bs, x, activation, keep=None):
    h = x
    for W, b in zip(Ws, bs):
        h = activation(h @ W + b)
        if keep is not None:
            h.retain_grad()              # keep dL/dh_l so we can measure it
            keep.append(h)
    return h


x_in = mg.Tensor(np.random.default_rng(1).standard_normal((batch, width)))
target = mg.Tensor(np.random.default_rng(2).standard_normal((batch, width)))
flow = {}
for label, act, gain in configs:
    Ws, bs = deep_net(act, gain, depth, width)
    hs = []
    out = forward(Ws, bs, x_in, act, keep=hs)
    loss = ((out - target) ** 2).mean()
    loss.backward()
    flow[label] = {"dW": np.array([np.linalg.norm(W.grad.numpy()) for W in Ws]),
                   "dh": np.array([np.linalg.norm(h.grad.numpy()) for h in hs]),
                   "act_std": np.array([h.numpy().std() for h in hs])}
    print(f"{label:28s} |dL/dW_1| = {flow[label]['dW'][0]:.1e}   |dL/dW_20| = "
          f"{flow[label]['dW'][-1]:.1e}   |dL/dh_1| / |dL/dh_20| = "
          f"{flow[label]['dh'][0] / flow[label]['dh'][-1]:.1e}")

sig, tanh_, he, big = (flow[c[0]] for c in configs)
assert sig["dW"][0] / sig["dW"][-1] < 1e-6            # sigmoid: vanishing
assert 1e-2 < he["dh"][0] / he["dh"][-1] < 1e2          # He-initialised ReLU: stays in range
assert big["dh"][0] / big["dh"][-1] > 1e2               # too-large ReLU: explodes downwards
assert big["dW"].min() > 1e3 * he["dW"].max()           # ...and every weight gradient is huge

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
layers = np.arange(1, depth + 1)
for label, _, _ in configs:
    axes[0].semilogy(layers, flow[label]["dh"], "o-", ms=3, label=label)
    axes[1].semilogy(layers, flow[label]["dW"], "o-", ms=3, label=label)
    axes[2].semilogy(layers, flow[label]["act_std"], "o-", ms=3, label=label)
axes[0].set(title=r"$\|\partial L/\partial h_l\|$ (between layers)", xlabel="layer $l$")
axes[1].set(title=r"$\|\partial L/\partial W_l\|$ (what the optimiser sees)", xlabel="layer $l$")
axes[2].set(title="std of activations $h_l$ (forward)", xlabel="layer $l$")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# Reading the plots, from the output (right end) back to the input (left end):
#
# * **sigmoid**: the gradient between layers shrinks by about 4 per layer; the first
#   layer's weights get a gradient some $10^{11}$–$10^{13}$ times smaller than the last
#   layer's. Those layers do not learn.
# * **tanh, gain 1**: the gradient stays within one order of magnitude.
# * **ReLU with He initialisation**: flat, as designed.
# * **ReLU with gain $1.5\sqrt2$**: the gradient between layers grows by roughly 1.5 per
#   layer going down (a little more at this small width), and the activations grow by a
#   similar factor going up. In $\partial L/\partial W_l = h_{l-1}^\top(\dots)$ the two
#   growths multiply to about the same total in every layer, so the weight gradients are
#   flat — and all some $10^{6}$–$10^{7}$ times larger than with He initialisation. One gradient step with a normal learning rate throws the network far away.

# %% [markdown]
# ## 4. Gradient check of a deep network
#
# The measurements above are only worth something if the gradients are right. A 6-layer
# tanh network (small, so the full Jacobian check is quick) and the 20-layer ReLU network
# along random directions ($v^\top J u$, `fast=True`):

# %%
Ws, bs = deep_net(mg.tanh, 1.0, 6, 5, seed=3)
x_small = mg.Tensor(np.random.default_rng(4).standard_normal((3, 5)))
gc = mg.gradcheck(lambda *p: forward(list(p[:6]), list(p[6:]), x_small, mg.tanh), *Ws, *bs)
print("6-layer tanh net, full check: max rel err %.1e" % gc.max_rel_error)
assert gc.passed and gc.max_rel_error < 1e-6

Ws, bs = deep_net(mg.relu, np.sqrt(2.0), depth, 8, seed=5)
x_small = mg.Tensor(np.random.default_rng(6).standard_normal((4, 8)))
gc = mg.gradcheck(lambda *p: forward(list(p[:depth]), list(p[depth:]), x_small, mg.relu),
                     *Ws, *bs, fast=True, directions=5)
print("20-layer ReLU net, 5 random directions: max rel err %.1e" % gc.max_rel_error)
assert gc.passed

# %% [markdown]
# ## 5. Remedy: gradient clipping by global norm (F20)
#
# Treat all parameter gradients as one long vector $g = (g_1, \dots, g_P)$ with norm
# $\lVert g \rVert = \sqrt{\sum_p \lVert g_p \rVert^2}$. If it exceeds a threshold $c$,
# rescale *every* gradient by the same factor:
#
# $$g_p \leftarrow g_p \cdot \min\!\Big(1, \frac{c}{\lVert g \rVert}\Big).$$
#
# The direction of the step is unchanged (all $g_p$ shrink together, unlike clipping each
# entry separately), only its length is capped at $\eta c$. It is applied after
# `backward()` and before the optimiser step.
#
# The `optim` package of this project provides `clip_grad_norm_`; in case it is not there
# (it is being written alongside these lessons), here is the five-line version; when
# `optim.clip_grad_norm_` exists we check that the two agree and train with the library's.

# %%
def clip_grad_norm(params, max_norm):
    """Scale all .grad in place so their global norm is at most max_norm; return the old norm."""
    total = float(np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params)))
    if total > max_norm:
        with mg.no_grad():
            for p in params:
                p.grad.mul_(max_norm / (total + 1e-6))
    return total


try:
    from optim import clip_grad_norm_ as library_clip
except ImportError:
    library_clip = None
print("optim.clip_grad_norm_ available:", library_clip is not None)

# clip the huge gradients of the exploding network from section 3
Ws, bs = deep_net(mg.relu, 1.5 * np.sqrt(2.0), depth, width)
(((forward(Ws, bs, x_in, mg.relu) - target) ** 2).mean()).backward()
before = [p.grad.numpy().copy() for p in Ws + bs]
norm_before = clip_grad_norm(Ws + bs, max_norm=1.0)
after = [p.grad.numpy() for p in Ws + bs]
norm_after = np.sqrt(sum((g ** 2).sum() for g in after))
flat_before, flat_after = np.concatenate([g.ravel() for g in before]), \
    np.concatenate([g.ravel() for g in after])
cosine = flat_before @ flat_after / (np.linalg.norm(flat_before) * np.linalg.norm(flat_after))
print(f"global norm {norm_before:.3e} -> {norm_after:.6f}; cosine(before, after) = {cosine:.12f}")
assert abs(norm_after - 1.0) < 1e-6 and abs(cosine - 1.0) < 1e-12

if library_clip is not None:       # same gradients, clipped by the library
    for p, g in zip(Ws + bs, before):
        p.grad = mg.Tensor(g.copy())
    library_clip(Ws + bs, 1.0)
    assert all(np.allclose(p.grad.numpy(), g, rtol=1e-6, atol=1e-12)
               for p, g in zip(Ws + bs, after))
    print("optim.clip_grad_norm_ agrees with the inline version")

clip = library_clip if library_clip is not None else clip_grad_norm   # used for training below

# %% [markdown]
# ### Training an exploding network, with and without clipping
#
# A 10-layer ReLU regression network ($y = \sin(x_1 + \dots + x_4)$), initialised with the
# too-large gain $1.5\sqrt2$, trained by plain gradient descent with $\eta = 0.01$.
# Without clipping, the first step is so large that the loss jumps to about $10^{20}$ and
# training is over. Clipped to $\lVert g\rVert \le 1$, the same network trains. For
# comparison: the same network with He initialisation needs no clipping at all — a good
# initialisation is the first remedy, clipping the safety net. (The other remedies of F20
# — L2 weight decay, adaptive optimisers such as Adam, dropout — appear in later lessons.)

# %%
def regression_run(gain, max_norm, steps, lr=0.01, depth=10, width=32, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [4] + [width] * (depth - 1) + [1]
    Ws = [mg.Tensor(rng.standard_normal((m, n)) * gain / np.sqrt(m), requires_grad=True)
          for m, n in zip(sizes[:-1], sizes[1:])]
    bs = [mg.Tensor(np.zeros(n), requires_grad=True) for n in sizes[1:]]
    X = rng.standard_normal((128, 4))
    X, Y = mg.Tensor(X), mg.Tensor(np.sin(X.sum(axis=1, keepdims=True)))
    losses, norms = [], []
    for step in range(steps):
        h = X
        for i, (W, b) in enumerate(zip(Ws, bs)):
            h = h @ W + b
            if i < len(Ws) - 1:
                h = h.relu()
        loss = mg.mse_loss(h, Y)
        losses.append(loss.item())
        if not np.isfinite(losses[-1]) or losses[-1] > 1e15:
            break                                   # diverged: stop before overflowing
        for p in Ws + bs:
            p.grad = None
        loss.backward()
        norms.append(clip(Ws + bs, max_norm))          # the global norm before clipping
        with mg.no_grad():
            for p in Ws + bs:
                p.sub_(p.grad * lr)
    return np.array(losses), np.array(norms)


steps = 60 if QUICK else 400
runs = {
    r"gain $1.5\sqrt{2}$, no clipping": regression_run(1.5 * np.sqrt(2), np.inf, steps),
    r"gain $1.5\sqrt{2}$, clipped to 1": regression_run(1.5 * np.sqrt(2), 1.0, steps),
    r"gain $\sqrt{2}$ (He), no clipping": regression_run(np.sqrt(2), np.inf, steps),
}
for label, (losses, norms) in runs.items():
    print(f"{label:32s} steps run {len(losses):3d}  loss {losses[0]:.3g} -> {losses[-1]:.3g}")
no_clip, clipped, he_run = (runs[k][0] for k in runs)
assert len(no_clip) < 5 and no_clip[-1] > 1e15                 # diverges within a few steps
assert len(clipped) == steps and clipped[-1] < 0.05 * clipped[0]  # clipping: trains
assert he_run[-1] < 1.0                                          # good init: trains anyway

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for label, (losses, norms) in runs.items():
    axes[0].semilogy(losses, "o-", ms=2, label=label)
    axes[1].semilogy(norms, "o-", ms=2, label=label)
axes[0].set(title="training loss (MSE)", xlabel="step", ylim=(1e-2, 1e21))
axes[1].set(title="global gradient norm before clipping", xlabel="step")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# 1. Replace the sigmoid in section 3 by $2\sigma(x) - 1$ (a rescaled sigmoid with
#    derivative up to $\tfrac12$) and predict the first-to-last gradient ratio before
#    measuring it.
# 2. Clip each gradient entry to $[-1, 1]$ (`p.grad.data.clip(-1, 1, out=...)`) instead of
#    the global norm. Does training still work? Compute the cosine between the clipped and
#    the original gradient.
# 3. Find, for the 20-layer ReLU network, the gain at which $\|\partial L/\partial h_1\|$ and
#    $\|\partial L/\partial h_{20}\|$ are equal. How close is it to $\sqrt 2$, and why not
#    exactly?
