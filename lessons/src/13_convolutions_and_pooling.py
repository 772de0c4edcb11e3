# %% [markdown]
# # Lesson 13 — Convolutions and pooling
#
# **Covers:** F33 (2-D convolution and its two gradients), F34 (max and average pooling),
# batch normalisation and its hand-derived backward, and X6 (a small CNN against the MLP of
# X2 on the bundled digits).
#
# **What the source document says (D4 §3.1, in our words).** The document presents the
# convolutional network as *the* classic model for images and lists its recipe in eight
# steps: turn the image into numbers the model accepts (grey or colour intensities); slide
# small kernels over it to pick up local features; pass the result through a non-linearity
# such as ReLU; shrink the feature maps by pooling (taking the maximum or the mean of small
# blocks); feed the pooled maps to a fully connected layer that classifies (or regresses);
# measure the error with a loss such as cross-entropy; backpropagate; and let an optimiser
# such as Adam update the parameters. It prints pseudocode (`forward`, `compute_loss`,
# `backward`, `update_params`) but no formula — this lesson supplies the formulas, derives
# the backward passes and checks every one of them.

# %%
from course import *  # noqa: F401,F403  (QUICK, mg, np, plt, layers, optim; seeds fixed)

import time

from exercises import check, solution
from minigrad.datasets import load_digits, train_test_split
from minigrad.metrics import accuracy

X, y = load_digits()                       # 1797 images of 8 x 8 pixels in [0, 1]
images = X.reshape(-1, 1, 8, 8)
print(images.shape, images.dtype)

# %% [markdown]
# ## 1. A hand-made edge filter
#
# A convolution layer computes, at every position of the image, the dot product of a small
# kernel with the patch under it (F33; frameworks do not flip the kernel, so strictly it is a
# *cross-correlation*):
#
# $$\text{out}[i, j] = b + \sum_{u}\sum_{v} W[u, v]\; x[i + u,\, j + v].$$
#
# Choose the kernel by hand: a Sobel filter $[-1, 0, 1]$ (smoothed over three rows) is large
# where the intensity grows from left to right — a vertical edge — and near 0 on flat areas.
# Its transpose finds horizontal edges.

# %%
sobel_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
kernels = mg.Tensor(np.stack([sobel_x, sobel_x.T])[:, None], dtype="float64")   # (2, 1, 3, 3)
digit = mg.Tensor(images[0:1], dtype="float64")                                # a "0"
edges = mg.conv2d(digit, kernels, padding=1)                                   # (1, 2, 8, 8)

# the same numbers by the definition, as a double loop over positions
padded = np.pad(images[0, 0].astype(np.float64), 1)
by_hand = np.array([[(sobel_x * padded[i:i + 3, j:j + 3]).sum() for j in range(8)]
                    for i in range(8)])
assert np.allclose(edges.numpy()[0, 0], by_hand)

fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, img, title in zip(axes, [images[0, 0], edges.numpy()[0, 0], edges.numpy()[0, 1]],
                          ["digit (8 x 8)", "vertical edges (Sobel x)", "horizontal edges (Sobel y)"]):
    im = ax.imshow(img, cmap="gray" if title.startswith("digit") else "RdBu")
    ax.set_title(title)
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    fig.colorbar(im, ax=ax, shrink=0.8)
fig.suptitle("A hand-made filter applied with minigrad.conv2d")
plt.tight_layout()

# %% [markdown]
# On a synthetic vertical bar the vertical filter responds and the horizontal one is exactly
# 0 away from the bar's ends — the claim, asserted:

# %%
bar = np.zeros((1, 1, 8, 8))
bar[0, 0, :, 3:5] = 1.0
bar_edges = mg.conv2d(mg.Tensor(bar, dtype="float64"), kernels).numpy()[0]     # (2, 6, 6)
print("max |vertical response| =", np.abs(bar_edges[0]).max(),
      " max |horizontal response| =", np.abs(bar_edges[1]).max())
assert np.abs(bar_edges[0]).max() == 4.0 and np.abs(bar_edges[1]).max() == 0.0

# %% [markdown]
# **Output size.** With kernel $k$, stride $s$, padding $p$ and dilation $d$ (taps $d$ apart,
# so the kernel spans $d(k-1)+1$ positions):
# $\;n_\text{out} = \lfloor (n + 2p - d(k-1) - 1)/s \rfloor + 1$. Exercise 13.2 asks for it as
# code; its checker compares your formula with `conv2d`'s output shapes.

# %%
def out_size(n, k, s, p, d):
    return None          # your formula here


check("13.2", out_size)          # prints a hint until the formula is right
assert check("13.2", solution("13.2"))

# %% [markdown]
# ## 2. im2col: a convolution is one matrix product
#
# Copy every patch under the kernel into a column: an image of $H \times W$ becomes a matrix
# `cols` with $k_H k_W$ rows (C k_H k_W with C channels) and one column per output position.
# Then the whole convolution is `W.reshape(C_out, -1) @ cols` — one matrix product, which is
# where BLAS is fast. minigrad builds `cols` from a *strided view* of the padded input (no
# copy: `as_strided` in NumPy and CuPy), and one `reshape` copies it into the matrix. The
# picture: a 4 x 4 image numbered 0..15, a 2 x 2 kernel, 9 output positions.

# %%
tiny = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
view = np.lib.stride_tricks.as_strided(
    tiny, shape=(1, 1, 2, 2, 3, 3), strides=tiny.strides[:2] + tiny.strides[2:] * 2)
cols = view.reshape(4, 9)                          # row = kernel tap (u, v), column = position
w2 = np.array([[1.0, 2.0], [3.0, 4.0]])
assert np.allclose((w2.reshape(1, 4) @ cols).reshape(3, 3),
                   mg.conv2d(mg.Tensor(tiny), mg.Tensor(w2[None, None])).numpy()[0, 0])

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 2.2]})
axes[0].imshow(tiny[0, 0], cmap="viridis")
for (i, j), v in np.ndenumerate(tiny[0, 0]):
    axes[0].text(j, i, int(v), ha="center", va="center", color="w")
axes[0].set_title("input image (4 x 4)")
axes[0].set_xlabel("column")
axes[0].set_ylabel("row")
axes[1].imshow(cols, cmap="viridis", aspect="auto")
for (i, j), v in np.ndenumerate(cols):
    axes[1].text(j, i, int(v), ha="center", va="center", color="w")
axes[1].set_title("cols: one column per output position, one row per kernel tap")
axes[1].set_xlabel("output position (i, j), row-major")
axes[1].set_ylabel("kernel tap (u, v)")
axes[1].set_yticks(range(4), ["(0,0)", "(0,1)", "(1,0)", "(1,1)"])
fig.suptitle("im2col of a 2 x 2 kernel: pixel 5 appears in 4 columns")
plt.tight_layout()
assert (cols == 5).sum() == 4          # an inner pixel sits in k_H k_W = 4 windows

# %% [markdown]
# The price is memory: `cols` holds about $k_H k_W$ times the input. For a batch of
# 64 x 1 x 28 x 28 through a 3 x 3 convolution that is 64 · 9 · 26 · 26 = 389,376 numbers,
# 1.6 MB in float32 — small; a 3 x 3 layer over 32 channels of 13 x 13 needs 8.9 MB per batch.

# %%
big_x = mg.zeros(64, 1, 28, 28, requires_grad=True)
big_w = mg.zeros(32, 1, 3, 3, requires_grad=True)
saved = mg.conv2d(big_x, big_w).grad_fn.cols
print(f"im2col buffer: {saved.size:,} numbers, {saved.nbytes / 1e6:.2f} MB")
assert saved.size == 389_376 and round(saved.nbytes / 1e6, 1) == 1.6
del big_x, big_w, saved

# %% [markdown]
# ## 3. The backward pass, derived
#
# Take one channel, stride 1, no padding: $o[i,j] = \sum_{u,v} W[u,v]\,x[i+u, j+v]$, and
# $g = \partial L/\partial o$.
#
# * **Weight.** $W[u,v]$ multiplies $x[i+u, j+v]$ in every output, so
#   $\partial L/\partial W[u,v] = \sum_{i,j} g[i,j]\, x[i+u, j+v]$ — the *correlation of the
#   input with the output gradient* (slide $g$ over $x$ as if it were the kernel).
# * **Input.** $x[a, b]$ appears in $o[i,j]$ whenever $i + u = a$, $j + v = b$, so
#   $\partial L/\partial x[a,b] = \sum_{u,v} g[a-u, b-v]\, W[u, v]$ (terms outside $g$ are 0).
#   Substituting $u' = k - 1 - u$ turns it into a correlation of $g$ **padded by $k-1$** with
#   the **kernel flipped** in both axes: a "full" correlation. With many channels the in and
#   out channels of the kernel swap places (this is the *transposed convolution*).
#
# Both claims, checked against what `backward()` computed:

# %%
rng = np.random.default_rng(0)
x = mg.Tensor(rng.standard_normal((2, 3, 7, 6)), dtype="float64", requires_grad=True)
W = mg.Tensor(rng.standard_normal((4, 3, 3, 3)), dtype="float64", requires_grad=True)
out = mg.conv2d(x, W)
g = mg.Tensor(rng.standard_normal(out.shape), dtype="float64")
out.backward(g)

flipped = mg.Tensor(np.ascontiguousarray(W.numpy()[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)),
                    dtype="float64")
dx_full = mg.conv2d(g, flipped, padding=2)                   # pad by k - 1 = 2
dW_corr = np.stack([[mg.conv2d(mg.Tensor(x.numpy()[:, c][None]), mg.Tensor(g.numpy()[:, o][None]))
                     .numpy()[0, 0] for c in range(3)] for o in range(4)])
err_dx = np.abs(x.grad.numpy() - dx_full.numpy()).max()
err_dw = np.abs(W.grad.numpy() - dW_corr).max()
print(f"dx vs full correlation with the flipped kernel: {err_dx:.1e}")
print(f"dW vs correlation of the input with g:          {err_dw:.1e}")
assert err_dx < 1e-12 and err_dw < 1e-12

# %% [markdown]
# And the independent witness of lesson 7, central differences, with stride, padding,
# dilation and groups all switched on:

# %%
xs = mg.Tensor(rng.standard_normal((2, 4, 7, 6)), dtype="float64", requires_grad=True)
Ws = mg.Tensor(rng.standard_normal((6, 2, 3, 2)), dtype="float64", requires_grad=True)
bs = mg.Tensor(rng.standard_normal(6), dtype="float64", requires_grad=True)
result = mg.gradcheck(lambda a, w, b: mg.conv2d(a, w, b, stride=2, padding=1, dilation=(1, 2),
                                                groups=2), xs, Ws, bs)
print("gradcheck passed:", result.passed, f"(max rel err {result.max_rel_error:.1e})")
assert result.passed and result.max_rel_error < 1e-5

# %% [markdown]
# ## 4. Pooling (F34)
#
# Max pooling keeps the largest number of each window, so its gradient goes to that one
# element (the **arg-max**); average pooling spreads the gradient evenly, $g / (k_H k_W)$
# to each tap. When two elements tie for the maximum, minigrad (like PyTorch's CPU kernel)
# gives the whole gradient to the *first* one in row-major order.

# %%
block = mg.Tensor(np.array([[[[1.0, 3.0, 2.0, 2.0],
                              [0.0, 2.0, 2.0, 1.0]]]]), requires_grad=True)
mg.max_pool2d(block, 2).sum().backward()
print("max-pool gradient:\n", block.grad.numpy()[0, 0])
assert block.grad.numpy()[0, 0].tolist() == [[0, 1, 1, 0], [0, 0, 0, 0]]   # 3 wins; the tie: first 2
block.grad = None
mg.avg_pool2d(block, 2).sum().backward()
assert np.allclose(block.grad.numpy(), 0.25)

# %% [markdown]
# ## 5. Receptive fields
#
# One number deep in a CNN depends on a patch of the input, its **receptive field**. Each
# layer with kernel $k$ widens it by $(k - 1)$ times the product $J$ of the strides below it:
# $r \leftarrow r + (k-1) J$, $J \leftarrow J s$. For conv 3 → pool 2 → conv 3 → pool 2:
# $r = 1 + 2\cdot1 + 1\cdot1 + 2\cdot2 + 1\cdot2 = 10$ pixels. Let the formula count, then measure it: the
# gradient of one output number with respect to the input is non-zero exactly on its
# receptive field (with positive weights and average pooling, so no gradient is cut off).

# %%
def receptive_field(stack):
    r, jump = 1, 1
    for k, s in stack:
        r, jump = r + (k - 1) * jump, jump * s
    return r


stack = [(3, 1), (2, 2), (3, 1), (2, 2)]                  # (kernel, stride) per layer
predicted = receptive_field(stack)
probe = mg.Tensor(np.ones((1, 1, 32, 32)), dtype="float64", requires_grad=True)
h = mg.conv2d(probe, mg.Tensor(np.ones((1, 1, 3, 3)), dtype="float64"))
h = mg.avg_pool2d(h, 2)
h = mg.conv2d(h, mg.Tensor(np.ones((1, 1, 3, 3)), dtype="float64"))
h = mg.avg_pool2d(h, 2)
h[0, 0, 2, 2].backward()
support = probe.grad.numpy()[0, 0] != 0
rows, cols_ = np.nonzero(support)
measured = (int(rows.max() - rows.min() + 1), int(cols_.max() - cols_.min() + 1))
print("receptive field: predicted", predicted, "measured", measured)
assert measured == (predicted, predicted) == (10, 10)

fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(probe.grad.numpy()[0, 0], cmap="magma")
ax.set_title(f"d out[2, 2] / d input: a {predicted} x {predicted} receptive field")
ax.set_xlabel("input column")
ax.set_ylabel("input row")
plt.tight_layout()

# %% [markdown]
# ## 6. Batch normalisation and its backward, by hand
#
# Batch norm normalises every channel over the batch (and the positions):
# $\mu = \text{mean}(x)$, $\sigma^2 = \text{mean}((x-\mu)^2)$,
# $\hat x = (x - \mu)\, r$ with $r = 1/\sqrt{\sigma^2 + \epsilon}$, and $y = \gamma \hat x + \beta$.
# In training $\mu$ and $\sigma^2$ are the batch's own statistics, so each $x_i$ reaches the
# loss three ways — directly, through $\mu$ and through $\sigma^2$. With
# $\hat g = \partial L / \partial \hat x = \gamma\, g$ and $m$ numbers per channel:
#
# $$\frac{\partial L}{\partial \sigma^2} = -\tfrac12 r^3 \sum_i \hat g_i (x_i - \mu), \qquad
#   \frac{\partial L}{\partial \mu} = -r \sum_i \hat g_i
#   \;\;(+\,\tfrac{\partial L}{\partial \sigma^2}\cdot \text{mean}(-2(x-\mu)) = 0),$$
# $$\frac{\partial L}{\partial x_i} = \hat g_i r + \frac{\partial L}{\partial \sigma^2}\,\frac{2 (x_i-\mu)}{m}
#   + \frac{1}{m}\frac{\partial L}{\partial \mu}
#   = r\Big(\hat g_i - \text{mean}(\hat g) - \hat x_i\, \text{mean}(\hat g\, \hat x)\Big).$$
#
# The last form says: take $\hat g$, remove its component along "shift every $x$" and along
# "scale every $x$" (neither changes $\hat x$), and multiply by $r$. **Exercise 13.1**: write
# it in NumPy; the checker compares it with autograd differentiating the composed formula.

# %%
def batch_norm_backward(g, x, weight, eps=1e-5):
    """dx of training-mode batch norm; x (N, C) or (N, C, H, W), weight (C,)."""
    return None          # your derivation here


check("13.1", batch_norm_backward)     # prints a hint until it is right
reference = solution("13.1")
assert check("13.1", reference)

# %% [markdown]
# minigrad's `batch_norm` uses exactly that formula in its fused backward; the same
# computation composed from primitive ops (what `use_fused(False)` runs) must agree:

# %%
xb = rng.standard_normal((8, 3, 4, 4)) * 2 + 1
gb = rng.standard_normal(xb.shape)
wb = np.array([0.5, 1.0, 2.0])
grads = {}
for fused in (True, False):
    xt = mg.Tensor(xb, dtype="float64", requires_grad=True)
    with mg.use_fused(fused):
        yb = mg.batch_norm(xt, None, None, mg.Tensor(wb, dtype="float64"), None, training=True)
    yb.backward(mg.Tensor(gb, dtype="float64"))
    grads[fused] = xt.grad.numpy()
assert np.allclose(grads[True], grads[False], rtol=1e-10, atol=1e-12)
assert np.allclose(grads[True], reference(gb, xb, wb), rtol=1e-10, atol=1e-12)
print("fused backward = composed = the hand formula")

# %% [markdown]
# In evaluation mode the layer uses running estimates instead (updated in training with
# momentum 0.1 and the *unbiased* variance), so an example's output no longer depends on
# the rest of its batch:

# %%
bn = layers.BatchNorm2d(3).double()
for _ in range(50):
    bn(mg.Tensor(rng.standard_normal((16, 3, 4, 4)) * 2 + 1, dtype="float64"))
bn.eval()
one = mg.Tensor(xb[:1], dtype="float64")
alone, in_batch = bn(one).numpy(), bn(mg.Tensor(xb, dtype="float64")).numpy()[:1]
print("running mean", bn.running_mean.numpy().round(2), "running var", bn.running_var.numpy().round(2))
assert np.allclose(alone, in_batch)                       # eval: independent of the batch
assert np.allclose(bn.running_mean.numpy(), 1.0, atol=0.3)
assert np.allclose(bn.running_var.numpy(), 4.0, atol=1.0)

# %% [markdown]
# ## 7. Train the CNN of D4 §3.1 and compare it with the MLP
#
# Conv 3 x 3 (16 channels) → ReLU → max-pool 2 → conv 3 x 3 (32) → ReLU → max-pool 2 →
# fully connected 10 → softmax cross-entropy, Adam — against the 64-128-10 MLP of lesson 6,
# on the same split and with the same budget (the ledger's row X6 runs the same experiment).

# %%
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=42, stratify=True)
epochs, lr = (10, 3e-3) if QUICK else (30, 1e-3)


def make_cnn():
    return layers.Sequential(
        layers.Conv2d(1, 16, 3, padding=1), layers.ReLU(), layers.MaxPool2d(2),
        layers.Conv2d(16, 32, 3, padding=1), layers.ReLU(), layers.MaxPool2d(2),
        layers.Flatten(), layers.Linear(32 * 2 * 2, 10))


def train(model, Xa, Xb):
    opt = optim.Adam(model.parameters(), lr=lr)
    batches = optim.Minibatches(Xa, y_tr, batch_size=32)
    start = time.perf_counter()
    hist = optim.train(model, lambda m, b: mg.cross_entropy(m(b[0]), b[1]), batches, opt,
                       epochs=epochs, log_every=None)
    seconds = time.perf_counter() - start
    model.eval()
    with mg.no_grad():
        acc = accuracy(y_te, model(mg.Tensor(Xb)).numpy().argmax(axis=1))
    return dict(model=model, acc=acc, seconds=seconds, losses=hist.epoch_losses,
                params=model.num_parameters())


seeds = (0, 1, 2)          # one training run can land badly: compare the medians of three
cnn_runs, mlp_runs = [], []
for seed in seeds:
    mg.manual_seed(seed)
    cnn_runs.append(train(make_cnn(), X_tr.reshape(-1, 1, 8, 8), X_te.reshape(-1, 1, 8, 8)))
    mg.manual_seed(seed)
    mlp_runs.append(train(layers.MLP([64, 128, 10]), X_tr, X_te))
cnn, mlp = cnn_runs[0], mlp_runs[0]
for name, runs in (("CNN", cnn_runs), ("MLP", mlp_runs)):
    accs = [r["acc"] for r in runs]
    print(f"{name}: median test accuracy {100 * np.median(accs):.2f}% "
          f"(seeds {', '.join(f'{100 * a:.1f}%' for a in accs)}), {runs[0]['params']} "
          f"parameters, {np.median([r['seconds'] for r in runs]):.1f} s per run of {epochs} epochs")
cnn_median = np.median([r["acc"] for r in cnn_runs])
mlp_median = np.median([r["acc"] for r in mlp_runs])
assert cnn_median > mlp_median and cnn["params"] < mlp["params"]
assert cnn_median >= 0.95

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, epochs + 1), cnn["losses"], marker="o", label="CNN")
ax.plot(range(1, epochs + 1), mlp["losses"], marker="s", label="MLP")
ax.set_title("training loss per epoch (seed 0)")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy")
ax.legend()
plt.tight_layout()

# %% [markdown]
# The CNN is more accurate with fewer parameters: each 3 x 3 filter is one set of 9 weights
# reused at all 64 positions, where the MLP learns a separate weight for every pixel and
# unit. It is slower per epoch (the im2col copies and small matrix products). Finally,
# what it learned: the 16 first-layer filters and the feature maps they produce on a digit.

# %%
conv1 = cnn["model"][0]
filters = conv1.weight.numpy()[:, 0]
with mg.no_grad():
    maps = layers.ReLU()(conv1(mg.Tensor(images[:1]))).numpy()[0]
fig, axes = plt.subplots(2, 16, figsize=(14, 2.4))
for k in range(16):
    axes[0, k].imshow(filters[k], cmap="RdBu")
    axes[1, k].imshow(maps[k], cmap="gray")
    axes[0, k].set_title(f"f{k}", fontsize=8)
    for a in axes[:, k]:
        a.set_xticks([])
        a.set_yticks([])
axes[0, 0].set_ylabel("filter")
axes[1, 0].set_ylabel("ReLU map")
fig.suptitle("learned 3 x 3 filters of the first layer (top) and their feature maps on a '0'")
assert filters.shape == (16, 3, 3) and maps.shape == (16, 8, 8)
