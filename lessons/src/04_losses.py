# %% [markdown]
# # Lesson 04 — Losses
#
# **Formulas:** F09 (softmax), F10 (mean squared error), F11 (cross-entropy), F12 (half sum
# of squares), F13 (the adversarial loss as the document prints it). **Worked example:** E07.
#
# A loss turns a prediction into one number to minimise, and its gradient is where every
# backward pass starts. We derive each loss's gradient on paper, check it with autograd
# and with a numerical gradient check, see why softmax and cross-entropy must be computed
# with a shift to survive logits of $\pm 1000$, recompute E07, and untangle the GAN loss
# that one document prints.

# %%
from course import *        # QUICK, mg, np, plt, seeds fixed; check() for the exercises

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Softmax (F09), and why the naive formula overflows
#
# $$\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}.$$
#
# Written like that, $e^{1000}$ is already infinite in float64 (the largest float64 is
# about $1.8\cdot 10^{308} \approx e^{709.8}$; in float32 the limit is $e^{88.7}$), and
# $\infty / \infty$ is NaN. The cure costs nothing: multiplying numerator and denominator
# by $e^{-m}$ with $m = \max_j z_j$ does not change the value,
#
# $$\mathrm{softmax}(z)_i = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}},$$
#
# and now every exponent is $\le 0$ and the largest term is exactly 1, so the sum is at
# least 1 — no overflow, no division by zero. minigrad's `softmax` does this.

# %%
def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


logits = np.array([[1000.0, 999.0, -1000.0],
                   [-1000.0, -1001.0, -1002.0],
                   [1.0, 2.0, 3.0]])
with np.errstate(over="ignore", invalid="ignore", under="ignore"):
    naive = naive_softmax(logits)
stable = mg.softmax(mg.Tensor(logits), axis=-1).numpy()
print("naive :\n", naive)
print("stable:\n", np.round(stable, 6))
assert np.isnan(naive[0]).any() and np.isnan(naive[1]).all()     # inf/inf and 0/0
assert np.allclose(naive[2], stable[2])                           # fine for small logits
assert np.all(np.isfinite(stable)) and np.allclose(stable.sum(axis=-1), 1.0)
assert np.allclose(stable[0], [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1)), 0.0])
assert np.allclose(stable[1], stable[2][::-1])                    # only differences matter

# %% [markdown]
# **Softmax's gradient.** With $p = \mathrm{softmax}(z)$,
# $\partial p_i / \partial z_j = p_i(\delta_{ij} - p_j)$, i.e. the Jacobian is
# $\mathrm{diag}(p) - p p^\top$. Backward never builds that matrix: for an upstream
# gradient $g = \partial L / \partial p$,
#
# $$\frac{\partial L}{\partial z_j} = \sum_i g_i\, p_i(\delta_{ij} - p_j)
#   = p_j\Big(g_j - \sum_i g_i p_i\Big).$$
#
# We compare this formula with `backward()` and with central differences.

# %%
z = mg.Tensor(rng.standard_normal((4, 5)), requires_grad=True)
g = rng.standard_normal((4, 5))
p = mg.softmax(z, axis=-1)
(p * mg.Tensor(g)).sum().backward()
pn = p.numpy()
by_hand = pn * (g - (g * pn).sum(axis=-1, keepdims=True))
assert np.abs(z.grad.numpy() - by_hand).max() < 1e-15
print("softmax: max |autograd - formula| =", np.abs(z.grad.numpy() - by_hand).max())
gc = mg.gradcheck(lambda z: mg.softmax(z, axis=-1), mg.Tensor(z.numpy(), requires_grad=True))
print("softmax gradcheck: max rel err %.1e" % gc.max_rel_error)
assert gc.passed

# %% [markdown]
# ## 2. Cross-entropy (F11), from logits
#
# For one example with class probabilities $\hat y = \mathrm{softmax}(z)$ and a one-hot
# target $y$ (class $c$), $\mathrm{CE} = -\sum_i y_i \log \hat y_i = -\log \hat y_c$. Using the
# shifted form,
#
# $$-\log \hat y_c = -(z_c - m) + \log \sum_j e^{z_j - m}$$
#
# is a difference of two finite numbers even at $z = \pm 1000$ ("log-sum-exp"), while
# `-log(naive_softmax(z)[c])` is $-\log 0 = \infty$ or NaN. The gradient is famously simple:
#
# $$\frac{\partial\, \mathrm{CE}}{\partial z_j} = \hat y_j - y_j,$$
#
# bounded by 1 in absolute value however extreme the logits. minigrad's `cross_entropy`
# takes logits and integer class labels and averages over the batch (the $1/n$ of D4's
# version), so its gradient is $(\hat y - y)/n$.

# %%
targets = np.array([1, 0, 2])                     # classes of the three rows above
with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
    naive_ce = -np.log(naive_softmax(logits)[np.arange(3), targets])
z = mg.Tensor(logits, requires_grad=True)
ce = mg.cross_entropy(z, targets, reduction="none")
ce.sum().backward()
onehot = np.eye(3)[targets]
print("naive CE per row :", naive_ce)
print("stable CE per row:", ce.numpy())
print("gradient (softmax - onehot):\n", np.round(z.grad.numpy(), 6))
assert not np.isfinite(naive_ce[:2]).any()
assert np.allclose(ce.numpy(), [1 + np.log1p(np.exp(-1)), np.log1p(np.exp(-1) + np.exp(-2)),
                                np.log(np.exp(-2) + np.exp(-1) + 1)])
assert np.allclose(z.grad.numpy(), stable - onehot, atol=1e-15)
assert np.all(np.abs(z.grad.numpy()) <= 1)

# gradient check at moderate logits, for the mean-reduced loss on a batch
z_small = mg.Tensor(rng.standard_normal((6, 4)) * 3, requires_grad=True)
labels = rng.integers(0, 4, size=6)
gc = mg.gradcheck(lambda z: mg.cross_entropy(z, labels), z_small)
print("cross_entropy gradcheck: max abs err %.1e, max rel err %.1e" % (gc.max_abs_error,
                                                                      gc.max_rel_error))
# (the relative error is largest on the tiniest gradient entries; lesson 07 explains why)
assert gc.passed

# %% [markdown]
# ## 3. E07 — cross-entropy of $y = [1, 0, 1, 0]$, $\hat y = [0.3, 0.7, 0.6, 0.4]$
#
# **What the document says.** D4 §4.1 (loss functions) computes the cross-entropy of the
# labels $y = [1, 0, 1, 0]$ against the predictions $\hat y = [0.3, 0.7, 0.6, 0.4]$ with its
# formula $-\frac1n\sum_i y_i \log \hat y_i$ and prints $0.613$. The readings that make
# sense:
#
# * F11 with D4's mean, $-\frac14 \sum_i y_i \log \hat y_i = \frac{-\log 0.3 - \log 0.6}{4} = 0.4287$;
# * binary cross-entropy (four independent yes/no predictions),
#   $-\frac14 \sum_i \big[y_i \log \hat y_i + (1-y_i)\log(1-\hat y_i)\big] = 0.8574$.
#
# Neither gives 0.613; we also try sums, other log bases and averaging over the positive
# entries, and none of those gives it either (base-2 logs come closest, at 0.6185).

# %%
y_e07 = np.array([1.0, 0.0, 1.0, 0.0])
p_e07 = np.array([0.3, 0.7, 0.6, 0.4])
yt, pt = mg.Tensor(y_e07), mg.Tensor(p_e07, requires_grad=True)
ce_mean = -(yt * pt.log()).mean()                                   # F11 with 1/n
bce = mg.binary_cross_entropy(pt, yt)                               # with the (1-y) terms
print(f"mean of -y log p        = {ce_mean.item():.4f}")
print(f"binary cross-entropy    = {bce.item():.4f}")
assert round(ce_mean.item(), 4) == 0.4287 and round(bce.item(), 4) == 0.8574

readings = {
    "sum, ln": -(y_e07 * np.log(p_e07)).sum(),
    "mean, ln": -(y_e07 * np.log(p_e07)).mean(),
    "mean over positives, ln": -np.log(p_e07[y_e07 == 1]).mean(),
    "binary, mean, ln": bce.item(),
    "binary, sum, ln": 4 * bce.item(),
    "mean, log10": -(y_e07 * np.log10(p_e07)).mean(),
    "sum, log10": -(y_e07 * np.log10(p_e07)).sum(),
    "mean, log2": -(y_e07 * np.log2(p_e07)).mean(),
    "binary, mean, log2": bce.item() / np.log(2),
    "binary, mean, log10": bce.item() / np.log(10),
}
for name, value in readings.items():
    print(f"  {name:26s} {value:.4f}")
assert all(abs(v - 0.613) > 0.005 for v in readings.values())

# and its gradient: d/dp of the binary CE is (p - y) / (p (1 - p)) / n
bce.backward()
assert np.allclose(pt.grad.numpy(), (p_e07 - y_e07) / (p_e07 * (1 - p_e07)) / 4)
gc = mg.gradcheck(lambda p: mg.binary_cross_entropy(p, yt), mg.Tensor(p_e07, requires_grad=True))
assert gc.passed

# %% [markdown]
# ## 4. MSE (F10) and the half sum of squares (F12)
#
# $$\mathrm{MSE} = \frac1n \sum_i (y_i - \hat y_i)^2, \qquad
#   \frac{\partial\, \mathrm{MSE}}{\partial \hat y_i} = \frac{2}{n}(\hat y_i - y_i);$$
#
# $$L = \tfrac12 \sum_i (y_i - a_i)^2, \qquad \frac{\partial L}{\partial a_i} = a_i - y_i.$$
#
# The $\tfrac12$ of F12 exists only to cancel the 2 of the derivative (it is the loss of the
# backprop example in lesson 02). The two differ by a constant factor, $L = \tfrac n2
# \mathrm{MSE}$, so they have the same minimiser; only the effective learning rate changes.

# %%
y_reg = rng.standard_normal(10)
pred = mg.Tensor(rng.standard_normal(10), requires_grad=True)
mse = mg.mse_loss(pred, mg.Tensor(y_reg))
mse.backward()
assert np.allclose(pred.grad.numpy(), 2 * (pred.numpy() - y_reg) / 10)
pred.grad = None
half = mg.half_sse(pred, mg.Tensor(y_reg))
half.backward()
assert np.allclose(pred.grad.numpy(), pred.numpy() - y_reg)
assert np.isclose(half.item(), 10 / 2 * mse.item())
print(f"MSE = {mse.item():.4f}, half-SSE = {half.item():.4f} = n/2 * MSE")
for loss_fn in (mg.mse_loss, mg.half_sse):
    r = mg.gradcheck(lambda p: loss_fn(p, mg.Tensor(y_reg)),
                     mg.Tensor(pred.numpy(), requires_grad=True), name=loss_fn.__name__)
    print(r.report().splitlines()[0])

# %% [markdown]
# ## 5. The adversarial loss (F13), as printed and as intended
#
# A GAN has a discriminator $D$ that outputs the probability that its input is real, and a
# generator $G$ that turns noise $z$ into fake samples $G(z)$. **What the document says:**
# D2 §2 (loss functions) gives the adversarial loss of a GAN as
#
# $$\mathcal L_{\text{printed}} = -\log D(G(z)) - \log\big(1 - D(z)\big).$$
#
# That mixes up the two players: it feeds the **noise** $z$ to the discriminator (which is
# never trained on noise) and has no term for real data $x$ at all. The standard losses are
#
# $$\mathcal L_D = -\log D(x) - \log\big(1 - D(G(z))\big)
#   \quad \text{(discriminator: real} \to 1\text{, fake} \to 0),$$
#
# $$\mathcal L_G^{\text{minimax}} = \log\big(1 - D(G(z))\big), \qquad
#   \mathcal L_G^{\text{non-sat}} = -\log D(G(z))
#   \quad \text{(generator: make } D(G(z)) \to 1).$$
#
# The first term of the printed loss is the usual *non-saturating* generator loss; the
# second term is the discriminator's fake-sample term applied to noise.
#
# **Why "non-saturating".** Write $D = \sigma(s)$ with $s$ the discriminator's logit. Early
# in training $D$ easily spots fakes, $D(G(z)) \approx 0$, i.e. $s \ll 0$. Then
#
# $$\frac{\partial}{\partial s}\log(1 - \sigma(s)) = -\sigma(s) \to 0, \qquad
#   \frac{\partial}{\partial s}\big(-\log \sigma(s)\big) = -(1 - \sigma(s)) \to -1:$$
#
# the minimax loss gives the generator almost no gradient exactly when it most needs one,
# the non-saturating loss gives a gradient of full size. We compute both with minigrad
# and plot each loss against $D$'s output, with the gradients with respect to the logit
# taken from `backward()`.

# %%
d = np.linspace(0.005, 0.995, 199)
s = mg.Tensor(np.log(d / (1 - d)), requires_grad=True)       # logits with sigmoid(s) = d


def curve(loss_of_D):
    """Loss values and d loss / d logit for every point of the grid."""
    s.grad = None
    D = s.sigmoid()
    values = loss_of_D(D)
    values.sum().backward()          # each loss depends on its own logit only
    return values.numpy(), s.grad.numpy()


losses = {
    r"$D$ on real $x$: $-\log D$": curve(lambda D: -D.log()),
    r"$D$ on fake: $-\log(1-D)$": curve(lambda D: -(1 - D).log()),
    r"$G$ minimax: $\log(1-D(G(z)))$": curve(lambda D: (1 - D).log()),
    r"$G$ non-saturating: $-\log D(G(z))$": curve(lambda D: -D.log()),
}
keys = list(losses)
d_minimax, d_nonsat = losses[keys[2]][1], losses[keys[3]][1]
assert np.allclose(d_minimax, -d, atol=1e-12)                 # -sigma(s)
assert np.allclose(d_nonsat, -(1 - d), atol=1e-12)            # -(1 - sigma(s))
print("gradient w.r.t. the logit when D(G(z)) = 0.005: minimax %.4f, non-saturating %.4f"
      % (d_minimax[0], d_nonsat[0]))
assert abs(d_minimax[0]) < 0.01 and abs(d_nonsat[0]) > 0.99

# the printed loss is a function of two discriminator outputs: D(G(z)) and D(z)
def printed_gan_loss(D_fake, D_noise):
    return -D_fake.log() - (1 - D_noise).log()


def standard_d_loss(D_real, D_fake):
    return -D_real.log() - (1 - D_fake).log()


args = [mg.Tensor(rng.uniform(0.1, 0.9, size=5), requires_grad=True) for _ in range(2)]
for fn in (printed_gan_loss, standard_d_loss):
    r = mg.gradcheck(lambda a, b: fn(a.sigmoid(), b.sigmoid()), *args, name=fn.__name__)
    print(r.report().splitlines()[0])

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
styles = [dict(lw=5, alpha=0.35), dict(), dict(ls="--"), dict()]   # curves 1 and 4 coincide
for (label, (vals, grads)), style in zip(losses.items(), styles):
    axes[0].plot(d, vals, label=label, **style)
    axes[1].plot(d, grads, label=label, **style)
axes[0].set(title="losses as a function of D's output", xlabel="D(input)", ylabel="loss",
            ylim=(-5.5, 5.5))
axes[1].set(title="gradient w.r.t. D's logit $s$ (from backward())", xlabel="D(input)",
            ylabel=r"$\partial\,\mathrm{loss} / \partial s$")
axes[0].legend(fontsize=8)
axes[1].legend(fontsize=8)
axes[1].axhline(0, color="0.7", lw=0.8)

# the printed loss over its two arguments
grid = np.linspace(0.01, 0.99, 60)
dg, dz = np.meshgrid(grid, grid)
printed = printed_gan_loss(mg.Tensor(dg), mg.Tensor(dz)).numpy()
im = axes[2].contourf(dg, dz, printed, levels=30, cmap="magma")
fig.colorbar(im, ax=axes[2], label=r"printed loss $\mathcal{L}_\mathrm{printed}$")
axes[2].set(title=r"printed F13: $-\log D(G(z)) - \log(1-D(z))$",
            xlabel="D(G(z))  (on a fake sample)", ylabel="D(z)  (on raw noise!)")
fig.tight_layout()

# %% [markdown]
# Left: each loss against $D$'s output (the discriminator's real-data term and the
# non-saturating generator loss are the same function, $-\log D$, applied to different
# inputs, so their curves coincide). Middle: the gradients that actually drive learning,
# with respect to $D$'s logit. The dashed minimax generator loss is flat near
# $D(G(z)) = 0$ — the saturation — while the non-saturating loss has slope $-1$ there.
# Right: the printed F13 decreases when $D$ calls fakes real *and* when $D$ calls noise
# fake; no term involves real data, so no discriminator could learn the data distribution
# from it.
#
# ## Exercises
#
# Fill in each starter cell and run the `check(...)` line under it (`solution("04.1")`
# shows the reference answer).
#
# **04.1** Show that $-\log \mathrm{softmax}(z)_c = \log\sum_j e^{z_j} - z_c$ and derive
# $\partial/\partial z_j$ from that form. Write it as `grad_ce(z, c)` (NumPy, one vector
# $z$) and compare with `backward()` at `logits` row 0.

# %%
def grad_ce(z, c):
    return None                   # your formula, a vector like z


check("04.1", grad_ce)

# %% [markdown]
# **04.2** For float32, find the smallest integer $z$ at which the naive softmax of
# $[z, 0]$ returns `nan`. What does the stable one return there?

# %%
first_nan_logit = None            # an integer
check("04.2", first_nan_logit)

# %% [markdown]
# **04.3** Implement `my_mse(pred, target)` from minigrad primitives (`-`, `**`, `mean`),
# gradcheck it, and compare its gradient with `mg.mse_loss` at the same inputs.

# %%
def my_mse(pred, target):
    return None                   # your minigrad expression


check("04.3", my_mse)
