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
from matplotlib.ticker import MaxNLocator

from course import *        # QUICK, mg, np, plt, layers, optim, seeds fixed; check()

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
axes[0].set(title="activation", xlabel="x", ylabel="f(x)", ylim=(-1.2, 3))
axes[1].set(title="derivative (from backward())", xlabel="x", ylabel="f'(x)")
axes[0].legend()
axes[1].legend()
fig.tight_layout()

# %% [markdown]
# ## 2. E09 — activations of $x = [-2, 0, 2]$
#
# **What the document says.** D4 §4.3 (activation functions) applies ReLU and the
# sigmoid to $x = [-2, 0, 2]$ and gives ReLU $[0, 0, 2]$ (right) and sigmoid
# $[0.1192, 0.5190, 0.8808]$. The middle value is wrong: $\sigma(0) = 1/(1 + e^0) = \tfrac12$. (The outer two are
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
# **What the document says.** D2 §4 (vanishing and exploding gradients) describes
# vanishing gradients as typical of sigmoid and tanh, whose derivatives are close to zero
# for extreme inputs, and blames exploding gradients on ReLU, whose derivative is 1 for
# positive inputs; as cures it names clipping the gradients into a range and L1/L2 weight
# regularisation (F20). The first half is right; the second half is not the whole story:
# a ReLU network whose weights have the right size (He initialisation, below) neither
# vanishes nor explodes — it is the **weight scale** that makes ReLU gradients explode.
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
    ("ReLU, gain √2 (He)", mg.relu, np.sqrt(2.0)),
    ("ReLU, gain 1.5·√2", mg.relu, 1.5 * np.sqrt(2.0)),
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
                   "act_std": np.array([h.numpy().std() for h in hs]),
                   "acts": [h.numpy().ravel() for h in hs],          # for the histograms
                   "grads": [h.grad.numpy().ravel() for h in hs]}
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
layer_ids = np.arange(1, depth + 1)
for label, _, _ in configs:
    axes[0].semilogy(layer_ids, flow[label]["dh"], "o-", ms=3, label=label)
    axes[1].semilogy(layer_ids, flow[label]["dW"], "o-", ms=3, label=label)
    axes[2].semilogy(layer_ids, flow[label]["act_std"], "o-", ms=3, label=label)
axes[0].set(title=r"$\|\partial L/\partial h_l\|$ (between layers)", xlabel="layer $l$",
            ylabel="norm")
axes[1].set(title=r"$\|\partial L/\partial W_l\|$ (what the optimiser sees)",
            xlabel="layer $l$", ylabel="norm")
axes[2].set(title="std of activations $h_l$ (forward)", xlabel="layer $l$", ylabel="std")
for ax in axes:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))       # layers are whole numbers
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
#   flat (within a factor 10) — and all some $10^{6}$–$10^{7}$ times larger than with He
#   initialisation. One gradient step with a normal learning rate throws the network far
#   away.

# %%
# the claims just made about the four networks
per_layer_sig = (sig["dh"][-1] / sig["dh"][0]) ** (1 / 19)
per_layer_big = (big["dh"][0] / big["dh"][-1]) ** (1 / 19)
print(f"sigmoid: shrinks {per_layer_sig:.2f}x per layer, dW_1/dW_20 = "
      f"{sig['dW'][0] / sig['dW'][-1]:.1e}; gain 1.5·√2: grows {per_layer_big:.2f}x per layer, "
      f"dW / dW(He) between {(big['dW'] / he['dW']).min():.1e} and "
      f"{(big['dW'] / he['dW']).max():.1e}")
assert 3.5 < per_layer_sig < 5 and 1e-13 < sig["dW"][0] / sig["dW"][-1] < 1e-11
assert tanh_["dh"].max() / tanh_["dh"].min() < 10                 # within one order
assert 1.4 < per_layer_big < 1.9                                   # ~1.5, a little more
assert big["dW"].max() / big["dW"].min() < 10                      # flat...
assert np.all((1e5 < big["dW"] / he["dW"]) & (big["dW"] / he["dW"] < 1e8))  # ...and huge

# %% [markdown]
# ### The same networks, one histogram per layer
#
# A norm hides the shape of the distribution. Below, for five layers of each network, the
# histogram of the activations $h_l$ (top row) and of the gradients
# $\partial L/\partial h_l$ on a log scale, $\log_{10}|\cdot|$ (bottom row; exact zeros —
# ReLU units that are off — are left out). Read the bottom row from the last layer (dark)
# to the first (light): for the sigmoid the whole distribution slides to the left, by
# about twelve decades over 19 layers; with He initialisation it stays put (within one
# decade); with gain $1.5\sqrt2$ it slides to the right. In the top row the sigmoid's
# activations stay in a narrow band around 0.5 (standard deviation about 0.1), and the
# too-large ReLU's spread grows layer by layer, by three orders of magnitude.

# %%
shown = [1, 5, 10, 15, 20]
colours = plt.cm.viridis(np.linspace(0.9, 0.1, len(shown)))
fig, axes = plt.subplots(2, len(configs), figsize=(16, 6.5))
medians = {}
for col, (label, _, _) in enumerate(configs):
    for l, colour in zip(shown, colours):
        acts = flow[label]["acts"][l - 1]
        g = np.abs(flow[label]["grads"][l - 1])
        logs = np.log10(g[g > 0])
        medians[(label, l)] = np.median(logs)
        axes[0, col].hist(acts, bins=40, histtype="step", color=colour, density=True,
                          label=f"layer {l}")
        axes[1, col].hist(logs, bins=40, histtype="step", color=colour, density=True,
                          label=f"layer {l}")
    axes[0, col].set(title=label, xlabel="activation $h_l$", ylabel="density")
    if flow[label]["act_std"].max() > 100:      # values up to ~10^4: a log-like axis
        axes[0, col].set_xscale("symlog", linthresh=1)
        axes[0, col].set_yscale("log")
        axes[0, col].set_xlabel("activation $h_l$ (symmetric log scale)")
    axes[1, col].set(xlabel=r"$\log_{10} |\partial L/\partial h_l|$", ylabel="density")
axes[0, 0].legend(fontsize=8)
axes[1, 0].legend(fontsize=8)
fig.suptitle("per-layer activations (top) and gradients (bottom), 20-layer networks at init")
fig.tight_layout()

sig_l, he_l, big_l = configs[0][0], configs[2][0], configs[3][0]
print({label: round(medians[(label, 1)] - medians[(label, 20)], 2) for label, _, _ in configs},
      "(decades between layer 1 and layer 20, median |dL/dh|)")
assert -13 < medians[(sig_l, 1)] - medians[(sig_l, 20)] < -10  # about twelve decades left
assert abs(medians[(he_l, 1)] - medians[(he_l, 20)]) < 1         # He: stays put
assert medians[(big_l, 1)] > medians[(big_l, 20)] + 1            # too large: slides right
deep_sig = flow[sig_l]["acts"][-1]
assert 0.4 < np.median(deep_sig) < 0.6 and 0.05 < deep_sig.std() < 0.15  # around 0.5, ~0.1
assert 300 < flow[big_l]["act_std"][-1] / flow[big_l]["act_std"][0] < 10_000  # ~3 decades

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
# The `optim` package provides it as `optim.clip_grad_norm_(params, max_norm)`. Here is
# the same thing in five lines, to see that there is nothing more to it; we check that the
# two agree and then train with the library's.

# %%
def clip_grad_norm(params, max_norm):
    """Scale all .grad in place so their global norm is at most max_norm; return the old norm."""
    total = float(np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params)))
    if total > max_norm:
        with mg.no_grad():
            for p in params:
                p.grad.mul_(max_norm / (total + 1e-6))
    return total


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

for p, g in zip(Ws + bs, before):  # the same gradients, clipped by the library
    p.grad = mg.Tensor(g.copy())
optim.clip_grad_norm_(Ws + bs, 1.0)
assert all(np.allclose(p.grad.numpy(), g, rtol=1e-6, atol=1e-12)
           for p, g in zip(Ws + bs, after))
print("optim.clip_grad_norm_ agrees with the inline version")
clip = optim.clip_grad_norm_       # used for training below

# %% [markdown]
# ### Training an exploding network, with and without clipping
#
# A 10-layer ReLU regression network ($y = \sin(x_1 + \dots + x_4)$), initialised with the
# too-large gain $1.5\sqrt2$, trained by plain gradient descent with $\eta = 0.01$. Its
# first loss is about 1600 — predicting 0 everywhere would score the variance of $y$,
# about 0.48. Without clipping, the first step is so large that the loss jumps to about
# $10^{20}$ and training is over. Clipped to $\lVert g\rVert \le 10$, every step is at most
# $\eta \cdot 10 = 0.1$ long: the same network **descends steadily instead of blowing up** —
# but from that far away it needs many steps. In quick mode (60 steps) it is still far
# above the zero predictor; in full mode (400 steps) it gets below it. The same network
# with He initialisation needs no clipping and beats the zero predictor within 60 steps:
# a good initialisation is the first remedy, clipping the safety net. (The other remedies
# of F20 — L2 weight decay, adaptive optimisers such as Adam, dropout — appear in later
# lessons.)

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
    "gain 1.5·√2, no clipping": regression_run(1.5 * np.sqrt(2), np.inf, steps),
    "gain 1.5·√2, clipped to 10": regression_run(1.5 * np.sqrt(2), 10.0, steps),
    "gain √2 (He), no clipping": regression_run(np.sqrt(2), np.inf, steps),
}
y_reg = np.sin(np.random.default_rng(0).standard_normal((128, 4)).sum(axis=1))
zero_mse = float(np.mean(y_reg ** 2))          # the MSE of predicting 0 everywhere
print(f"predicting zero: MSE {zero_mse:.3f}")
for label, (losses, norms) in runs.items():
    print(f"{label:28s} steps run {len(losses):3d}  loss {losses[0]:.3g} -> {losses[-1]:.3g}")
no_clip, clipped, he_run = (runs[k][0] for k in runs)
assert 0.4 < zero_mse < 0.55 and 1000 < clipped[0] < 2500        # "about 0.48", "about 1600"
assert len(no_clip) < 5 and no_clip[-1] > 1e15                  # diverges within a few steps
assert len(clipped) == steps and np.all(np.isfinite(clipped))   # clipped: no blow-up ...
assert clipped[-1] < clipped[0] / 50                            # ... and a steady descent
if QUICK:
    assert clipped[-1] > zero_mse                               # 60 steps: not there yet
else:
    assert clipped[-1] < zero_mse                               # 400 steps: below it
assert he_run[-1] < zero_mse                                    # good init: trains anyway

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for label, (losses, norms) in runs.items():
    short = len(losses) < 5                    # the diverged run: big markers, or it hides
    axes[0].semilogy(losses, "o-", ms=7 if short else 2, label=label)
    axes[1].semilogy(norms, "o-", ms=7 if short else 2, label=label)
axes[0].axhline(zero_mse, color="0.4", ls=":", label=f"predicting 0 (MSE {zero_mse:.2f})")
axes[0].annotate(f"no clipping: {no_clip[-1]:.0e}\nafter one step", (len(no_clip) - 1,
                 no_clip[-1]), xytext=(8, 1e17), arrowprops=dict(arrowstyle="->"), fontsize=8)
axes[0].set(title="training loss (MSE)", xlabel="step", ylabel="MSE", ylim=(1e-3, 1e22))
axes[1].set(title="global gradient norm before clipping", xlabel="step",
            ylabel=r"$\|g\|$")
axes[1].axhline(10.0, color="tab:orange", ls=":", label="clipping threshold 10")
axes[0].legend(fontsize=8, loc="upper right")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# Fill in each starter cell and run the `check(...)` line under it (`solution("03.1")`
# shows the reference answer).
#
# **03.1** Replace the sigmoid in section 3 by $2\sigma(x) - 1$ (a rescaled sigmoid with
# derivative up to $\tfrac12$). Before measuring: what upper bound does that derivative put
# on $\|\partial L/\partial h_1\| / \|\partial L/\partial h_{20}\|$ with gain-1 weights?
# Then measure it.

# %%
bound_rescaled_sigmoid = None     # a number
check("03.1", bound_rescaled_sigmoid)

# %% [markdown]
# **03.2** Clip each gradient entry to $[-c, c]$ instead of the global norm: write
# `clip_entries_(params, c)` (in place, on `p.grad.data`). Does training still work?
# Compute the cosine between the clipped and the original gradient.

# %%
def clip_entries_(params, c):
    ...                           # your code


check("03.2", clip_entries_)

# %% [markdown]
# **03.3** Find, for the 20-layer ReLU network of section 3 (quick-mode sizes), the gain at
# which $\|\partial L/\partial h_1\|$ and $\|\partial L/\partial h_{20}\|$ are equal. How
# close is it to $\sqrt 2$, and why not exactly?

# %%
balanced_gain = None              # a number, about two decimals
check("03.3", balanced_gain)
