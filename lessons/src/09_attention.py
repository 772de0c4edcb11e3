# %% [markdown]
# # Lesson 09 — Attention
#
# **Formulas:** F26 (scaled dot-product attention, $\mathrm{softmax}(QK^\top/\sqrt{d_k})\,V$, and
# D4's misprint that *divides* by $V$), F27 (the projections $Q, K, V = \mathrm{Linear}(X)$).
# **Worked examples:** E02 and E10 (two small attention computations whose printed figures
# are wrong).
#
# Attention lets every position of a sequence look at every other position and take a
# weighted average of what it finds there, with weights computed from the data. We
#
# 1. write attention from scratch with minigrad ops and compare it with
#    `layers.scaled_dot_product_attention`;
# 2. see why D4's version (a division by $V$) cannot be right;
# 3. derive the backward pass on paper and check it, then gradient-check everything;
# 4. add masks (causal and padding) and look at the weights as heatmaps;
# 5. recompute the worked examples E02 and E10;
# 6. put projections in front (F27) and check `MultiHeadAttention`.

# %%
import math
import time

from course import *            # QUICK, mg, np, plt, layers, optim; seeds fixed (0)
from exercises import check, hint, solution
from minigrad.autograd import iter_graph
from minigrad.ops.fused import masked_softmax, masked_softmax_reference

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. F26 from scratch
#
# Queries $Q \in \mathbb{R}^{T_q \times d_k}$, keys $K \in \mathbb{R}^{T_k \times d_k}$, values
# $V \in \mathbb{R}^{T_k \times d_v}$ (one row per position):
#
# $$S = \frac{Q K^\top}{\sqrt{d_k}} \in \mathbb{R}^{T_q\times T_k}, \qquad
#   A = \mathrm{softmax}_\text{rows}(S), \qquad O = A\,V \in \mathbb{R}^{T_q \times d_v}.$$
#
# $S_{ij}$ says how well query $i$ matches key $j$; each row of $A$ is a probability
# distribution over the keys; row $i$ of the output is the $A_{i\cdot}$-weighted average of
# the value rows. Why $\sqrt{d_k}$: if the entries of $q$ and $k$ are independent with
# variance 1, $q\cdot k$ is a sum of $d_k$ such products and has variance $d_k$; dividing by
# $\sqrt{d_k}$ brings it back to 1, so the softmax does not saturate as the heads get wider.

# %%
def attention_from_scratch(Q, K, V, blocked=None):
    """softmax(Q K^T / sqrt(d_k)) V, with optional boolean `blocked` (True = not allowed)."""
    scores = (Q @ K.mT) * (1.0 / math.sqrt(Q.shape[-1]))
    if blocked is not None:
        scores = mg.masked_fill(scores, blocked, -1e30)     # e^(-1e30 - max) == 0 exactly
    weights = scores.softmax(axis=-1)
    return weights @ V, weights


T_q, T_k, d_k, d_v = 4, 6, 8, 5
Q = mg.Tensor(rng.standard_normal((T_q, d_k)), requires_grad=True)
K = mg.Tensor(rng.standard_normal((T_k, d_k)), requires_grad=True)
V = mg.Tensor(rng.standard_normal((T_k, d_v)), requires_grad=True)
out_ours, w_ours = attention_from_scratch(Q, K, V)
out_lib, w_lib = layers.scaled_dot_product_attention(Q, K, V)
print("output shape", out_ours.shape, "| weights' row sums", np.round(w_ours.numpy().sum(1), 12))
print("max |ours - layers|:", np.abs(out_ours.numpy() - out_lib.numpy()).max())
assert np.allclose(out_ours.numpy(), out_lib.numpy(), atol=1e-14)
assert np.allclose(w_ours.numpy().sum(axis=1), 1.0, atol=1e-14)

# the variance argument, measured: q.k over d_k random features has variance d_k
for d in (4, 64, 512):
    qk = (rng.standard_normal((20000, d)) * rng.standard_normal((20000, d))).sum(axis=1)
    print(f"d_k = {d:3d}: var(q.k) = {qk.var():7.1f},  var(q.k / sqrt(d_k)) = "
          f"{(qk / math.sqrt(d)).var():.3f}")
    assert abs((qk / math.sqrt(d)).var() - 1) < 0.05

# %% [markdown]
# ## 2. D4's misprint: dividing by $V$
#
# **What the document says.** D4 §4.4 (self-attention) writes the attention formula with
# the last product replaced by a division, $\mathrm{softmax}(QK^\top/\sqrt{d_k}) / V$ — and
# then, in its worked example (E10, section 5), multiplies after all. D0 §4.1.2 has the
# usual product. Two reasons the division cannot be meant:
#
# * **shapes**: $A$ is $T_q\times T_k$ and $V$ is $T_k\times d_v$; an elementwise division
#   needs them to have the same shape (or broadcast), which in general they do not;
# * **meaning**: attention returns weighted *averages* of the values. If every value row is
#   the same vector $v$, any average of them is $v$. With the division it is not.

# %%
try:
    w_ours / V
    raise AssertionError("a 4x6 array divided by a 6x5 array should not work")
except (mg.ShapeError, ValueError) as err:
    print(type(err).__name__, "->", str(err)[:110])

V_const = mg.Tensor(np.full((T_k, T_k), 5.0))            # every value row is [5, 5, ...]
K_sq = mg.Tensor(rng.standard_normal((T_k, d_k)))
Q_sq = mg.Tensor(rng.standard_normal((T_k, d_k)))
right, w_sq = attention_from_scratch(Q_sq, K_sq, V_const)
misprint = w_sq / V_const                                  # shapes fit when T_k = d_v = T_q
print("A V          (first row):", np.round(right.numpy()[0], 4))
print("A / V, as D4 (first row):", np.round(misprint.numpy()[0], 4))
assert np.allclose(right.numpy(), 5.0, atol=1e-12)
assert not np.allclose(misprint.numpy(), 5.0)

# %% [markdown]
# ## 3. The backward pass, on paper
#
# Given the upstream gradient $\bar O = \partial L/\partial O$, one step back per line:
#
# $$\bar V = A^\top \bar O, \qquad \bar A = \bar O\, V^\top,$$
#
# then through the row-wise softmax. For one row $a = \mathrm{softmax}(s)$ the Jacobian is
# $\partial a_j/\partial s_l = a_j([j = l] - a_l)$, so
#
# $$\bar s_l = \sum_j \bar a_j\, a_j([j=l] - a_l) = a_l\Big(\bar a_l - \sum_j \bar a_j a_j\Big),
#   \qquad \bar S = A \odot \big(\bar A - \mathrm{rowsum}(\bar A \odot A)\big),$$
#
# and finally through $S = QK^\top/\sqrt{d_k}$:
#
# $$\bar Q = \frac{\bar S\, K}{\sqrt{d_k}}, \qquad \bar K = \frac{\bar S^\top Q}{\sqrt{d_k}}.$$
#
# We compare these lines with two things autograd computes: attention **composed from
# elementary ops** (matrix products, `exp`, `sum`, a division: the softmax written out, so
# no op in the graph has a softmax-specific backward), and the library's
# `scaled_dot_product_attention`, whose softmax is one op with the backward derived above
# (and, with a mask, one fused node: section 3b).

# %%
G = rng.standard_normal((T_q, d_v))                         # an upstream gradient
A = w_lib.numpy()
dV = A.T @ G
dA = G @ V.numpy().T
dS = A * (dA - (dA * A).sum(axis=1, keepdims=True))
dQ = dS @ K.numpy() / math.sqrt(d_k)
dK = dS.T @ Q.numpy() / math.sqrt(d_k)


def softmax_composed(s):
    """softmax from elementary ops: shift, exp, sum, divide."""
    e = (s - s.max(axis=-1, keepdims=True).detach()).exp()
    return e / e.sum(axis=-1, keepdims=True)


def attention_composed(q, k, v):
    return softmax_composed((q @ k.mT) * (1.0 / math.sqrt(q.shape[-1]))) @ v


def grads_of(attention):
    for t in (Q, K, V):
        t.grad = None
    (attention(Q, K, V) * mg.Tensor(G)).sum().backward()
    return {"Q": Q.grad.numpy(), "K": K.grad.numpy(), "V": V.grad.numpy()}


by_autograd = grads_of(attention_composed)
by_library = grads_of(lambda q, k, v: layers.scaled_dot_product_attention(q, k, v)[0])
for name, mine in [("Q", dQ), ("K", dK), ("V", dV)]:
    d_comp = np.abs(mine - by_autograd[name]).max()
    d_lib = np.abs(mine - by_library[name]).max()
    print(f"d{name}: max |by hand - autograd (composed)| = {d_comp:.1e}, "
          f"|by hand - library| = {d_lib:.1e}")
    assert d_comp < 1e-13 and d_lib < 1e-13

# %% [markdown]
# And the independent check: central differences in float64 for the library function (full
# Jacobian, also with a batch and a causal mask) and for our from-scratch version.

# %%
def fresh(*shape):
    return mg.Tensor(rng.standard_normal(shape), requires_grad=True)


checks = {
    "layers.scaled_dot_product_attention": mg.gradcheck(
        lambda q, k, v: layers.scaled_dot_product_attention(q, k, v)[0],
        fresh(T_q, d_k), fresh(T_k, d_k), fresh(T_k, d_v)),
    "... batched (2, 3 heads), causal": mg.gradcheck(
        lambda q, k, v: layers.scaled_dot_product_attention(q, k, v, causal=True),
        fresh(2, 3, 5, 4), fresh(2, 3, 5, 4), fresh(2, 3, 5, 4)),
    "from scratch": mg.gradcheck(lambda q, k, v: attention_from_scratch(q, k, v)[0],
                                 fresh(T_q, d_k), fresh(T_k, d_k), fresh(T_k, d_v)),
}
for name, res in checks.items():
    print(f"{name:38s} {'PASS' if res.passed else 'FAIL'}  max rel err {res.max_rel_error:.1e}")
    assert res.passed

# %% [markdown]
# ## 3b. The masked softmax: fused by default, composed on request
#
# With a mask, the library computes the weights with `minigrad.ops.masked_softmax`: **one
# fused node** that adds a huge negative number at the blocked positions, takes the
# softmax, and whose backward is the line $\bar S = A \odot (\bar A - \mathrm{rowsum}(\bar A
# \odot A))$ on raw arrays. Its composed twin `masked_softmax_reference` is three primitive
# ops (`masked_fill` → `softmax` → `masked_fill`), each with a full-size temporary in forward
# and backward. Same values and gradients; different graphs and speed:

# %%
B_m, T_m = (8, 32) if QUICK else (32, 128)
scores_m = mg.Tensor(rng.standard_normal((B_m, 4, T_m, T_m)), requires_grad=True)
causal_m = np.triu(np.ones((T_m, T_m), dtype=bool), k=1)
G_m = mg.Tensor(rng.standard_normal(scores_m.shape))


def run_softmax(fn):
    scores_m.grad = None
    weights = fn(scores_m, causal_m)
    n_ops = sum(1 for t in iter_graph(weights) if t.grad_fn is not None)
    (weights * G_m).sum().backward()
    return weights.numpy(), scores_m.grad.numpy(), n_ops


w_f, g_f, ops_f = run_softmax(masked_softmax)
w_r, g_r, ops_r = run_softmax(masked_softmax_reference)
assert np.allclose(w_f, w_r, rtol=0, atol=1e-15) and np.allclose(g_f, g_r, rtol=0, atol=1e-13)
assert ops_f == 1 and ops_r >= 3


def best_time(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_softmax(fn)
        times.append(time.perf_counter() - start)
    return min(times)


t_f, t_r = best_time(masked_softmax), best_time(masked_softmax_reference)
print(f"causal softmax over {scores_m.shape}: {ops_f} node fused, {ops_r} composed; "
      f"forward + backward {1000 * t_f:.1f} ms fused, {1000 * t_r:.1f} ms composed "
      f"({t_r / t_f:.1f}x; timings vary with the machine and its load)")

# %% [markdown]
# The fused op runs by default because it is faster — in the project's benchmark
# (`docs/benchmarks.md`, workload W3: a transformer block's training step) it took a step
# from about 45 ms to about 38 ms; the ratio printed above is measured here and now, and
# only printed. To see the three primitive ops in the graph, the trace and the debugger,
# switch the library to the composed twins: `with mg.use_fused(False): ...` (or
# `MINIGRAD_FUSED=0` in the environment). This lesson calls `masked_softmax_reference`
# directly, which is what the switch makes attention do.

# %% [markdown]
# ## 4. Masks
#
# A mask removes some (query, key) pairs *before* the softmax: their score becomes a huge
# negative number, $e^{\text{score}}$ underflows to exactly 0, and the remaining weights
# renormalise among themselves.
#
# * **Causal** (a language model must not see the future): query $i$ may only look at keys
#   $j \le i$ — an upper-triangular mask.
# * **Padding** (sequences of different lengths in one batch are padded to the same length):
#   no query may look at a padding key.
#
# We check what each mask promises: the blocked weights are exactly zero, every row still
# sums to 1, and — the real point — blocked positions have no influence at all: the gradient
# of output $i$ with respect to a blocked value is exactly zero, and changing the padding
# changes nothing.

# %%
T = 6
X_seq = fresh(1, T, d_k)
out_causal, w_causal = layers.scaled_dot_product_attention(X_seq, X_seq, X_seq, causal=True)
w_c = w_causal.numpy()[0]
assert np.all(w_c[np.triu_indices(T, k=1)] == 0.0)
assert np.allclose(w_c.sum(axis=1), 1.0, atol=1e-14)

# output at position 2 must not depend on positions 3, 4, 5 (inputs enter as q, k and v)
out_causal[0, 2].sum().backward()
influence = np.abs(X_seq.grad.numpy()[0]).sum(axis=1)
print("causal: |d out_2 / d x_t| for t = 0..5:", np.round(influence, 4))
assert np.all(influence[3:] == 0.0) and np.all(influence[:3] > 0)

# padding: batch of two sequences, the second has only 4 real tokens
lengths = np.array([6, 4])
pad = np.arange(T)[None, :] >= lengths[:, None]                   # (B, T) True = padding
Xb = rng.standard_normal((2, T, d_k))
out_pad, w_pad = layers.scaled_dot_product_attention(
    mg.Tensor(Xb), mg.Tensor(Xb), mg.Tensor(Xb), key_padding_mask=pad)
assert np.all(w_pad.numpy()[1][:, 4:] == 0.0)
Xb_changed = Xb.copy()
Xb_changed[1, 4:] = 100 * rng.standard_normal((2, d_k))           # different padding content
out_pad2, _ = layers.scaled_dot_product_attention(
    mg.Tensor(Xb_changed), mg.Tensor(Xb_changed), mg.Tensor(Xb_changed), key_padding_mask=pad)
print("padding: change in the real tokens' outputs after changing the padding:",
      np.abs(out_pad2.numpy()[1, :4] - out_pad.numpy()[1, :4]).max())
assert np.array_equal(out_pad2.numpy()[1, :4], out_pad.numpy()[1, :4])

# %% [markdown]
# ## 5. Worked examples E02 and E10, recomputed
#
# **What the documents say.** D0 §4.3.2 (self-attention, E02) takes $Q = [1,1,1]$,
# $K = [1,2,3]$, $V = [4,5,6]$ and $d_k = 3$, finds equal weights of $1/3$, reports the output
# $[1.5, 1.5, 1.5]$, and then multiplies by $V$ once more to reach $[6, 7.5, 9]$. D4 §4.4
# (E10) takes $Q = [1,2,3]$, $K = [4,5,6]$, $V = [7,8,9]$: scores $[4, 6, 10]$, "scaled"
# $[2.3094, 3.9373, 6.5222]$, "softmax" $[0.2319, 0.4198, 0.4484]$ and output
# $[1.6303, 3.3544, 4.0356]$.
#
# Both examples give $Q$, $K$, $V$ as three numbers each and say $d_k = 3$. A single query
# vector against a single key vector would give one score, and a softmax over one score is
# always 1 — so no reading with one query produces the printed weights. The reading that
# makes sense (and that the ledger uses): **three tokens with one-dimensional features**
# ($Q, K, V \in \mathbb{R}^{3\times1}$), scaled by $\sqrt 3$ as the document's $d_k = 3$ asks.
# Since `scaled_dot_product_attention` divides by the square root of the actual feature
# size ($\sqrt1$), we pre-scale $Q$ by $1/\sqrt3$.
#
# **E02**: $Q = [1,1,1]$, $K = [1,2,3]$, $V = [4,5,6]$. Every query is 1, so every row of
# scores is $[1,2,3]/\sqrt3$ and the weights are $\mathrm{softmax}([0.577, 1.155, 1.732]) =
# [0.1679, 0.2992, 0.5329]$; each output is $0.1679\cdot4 + 0.2992\cdot5 + 0.5329\cdot6 =
# 5.3650$ (with scale 1 instead: $5.5752$). The document's uniform weights $[1/3,1/3,1/3]$
# would give 5, yet it prints $[1.5, 1.5, 1.5]$ and then $[6, 7.5, 9]$ — no reading fits.
#
# **E10**: $Q = [1,2,3]$, $K = [4,5,6]$, $V = [7,8,9]$. As vectors $q\cdot k = 32$. Read as
# tokens, the score matrix is $q k^\top/\sqrt3$ and the outputs are $[8.3650, 8.6368, 8.8018]$.
# The document's "scaled" scores $[2.3094, 3.9373, 6.5222]$ are not $[4,6,10]/\sqrt3 =
# [2.3094, 3.4641, 5.7735]$, its "softmax" $[0.2319, 0.4198, 0.4484]$ sums to 1.1001, and its
# output $[1.6303, 3.3544, 4.0356]$ lies outside the range $[7, 9]$ of the values — impossible
# for a weighted average.

# %%
def as_tokens(values):
    return mg.Tensor(np.array(values, dtype=np.float64)[:, None])      # (3 tokens, 1 feature)


s3 = 1 / math.sqrt(3)
out_e02, w_e02 = layers.scaled_dot_product_attention(as_tokens([1, 1, 1]) * s3,
                                                      as_tokens([1, 2, 3]), as_tokens([4, 5, 6]))
out_e02_s1, _ = layers.scaled_dot_product_attention(as_tokens([1, 1, 1]), as_tokens([1, 2, 3]),
                                                     as_tokens([4, 5, 6]))
print("E02 weights (every row):", np.round(w_e02.numpy()[0], 4), " output:",
      np.round(out_e02.numpy().ravel(), 4), " scale 1:", np.round(out_e02_s1.numpy().ravel(), 4))
assert np.allclose(w_e02.numpy(), [[0.1679, 0.2992, 0.5329]] * 3, atol=5e-5)
assert np.allclose(out_e02.numpy(), 5.3650, atol=5e-5)
assert np.allclose(out_e02_s1.numpy(), 5.5752, atol=5e-5)
# the document's figures fit no reading
_, w_single = layers.scaled_dot_product_attention(as_tokens([1]), as_tokens([2]), as_tokens([5]))
assert w_single.item() == 1.0                                # one score -> weight 1
assert np.mean([4, 5, 6]) == 5.0 != 1.5                      # uniform weights give 5

out_e10, w_e10 = layers.scaled_dot_product_attention(as_tokens([1, 2, 3]) * s3,
                                                      as_tokens([4, 5, 6]), as_tokens([7, 8, 9]))
print("E10 output:", np.round(out_e10.numpy().ravel(), 4), " (document: [1.6303, 3.3544, 4.0356])")
print("E10 weights:\n", np.round(w_e10.numpy(), 4))
assert np.allclose(out_e10.numpy().ravel(), [8.3650, 8.6368, 8.8018], atol=5e-5)
assert np.dot([1, 2, 3], [4, 5, 6]) == 32
assert np.allclose(np.array([4, 6, 10]) / math.sqrt(3), [2.3094, 3.4641, 5.7735], atol=5e-5)
assert abs(sum([0.2319, 0.4198, 0.4484]) - 1.1001) < 1e-12
assert all(v < 7 for v in [1.6303, 3.3544, 4.0356])          # outside [min V, max V]

# %% [markdown]
# ## 6. F27 — projections, and multi-head attention
#
# In a transformer, $Q$, $K$ and $V$ are not the input itself but three learned linear maps
# of it (F27): $Q = XW_q^\top + b_q$, $K = XW_k^\top + b_k$, $V = XW_v^\top + b_v$, so the model
# can learn *what to look for* (queries), *what to be found by* (keys) and *what to hand over*
# (values) separately. `layers.MultiHeadAttention` does this with `q_proj`, `k_proj`,
# `v_proj`, splits the features into heads that attend independently, concatenates the
# heads and mixes them with `out_proj` (lesson 10 looks at the heads). With one head it is
# exactly the four lines below; we check that, then gradient-check the module with respect
# to all its weights and its input.

# %%
d_model = 8
mha1 = layers.MultiHeadAttention(d_model, num_heads=1).double()
X = mg.Tensor(rng.standard_normal((2, 5, d_model)), requires_grad=True)
Qp, Kp, Vp = mha1.q_proj(X), mha1.k_proj(X), mha1.v_proj(X)          # F27
manual_out = mha1.out_proj(attention_from_scratch(Qp, Kp, Vp)[0])
assert np.allclose(manual_out.numpy(), mha1(X).numpy(), atol=1e-14)

mha = layers.MultiHeadAttention(d_model, num_heads=2).double()
res = layers.gradcheck_module(mha, X, fast=True, directions=5)
print(res.report().splitlines()[0])
assert res.passed
res_causal = mg.gradcheck(lambda x: mha(x, causal=True), X)   # input gradient, full Jacobian
assert res_causal.passed

# %% [markdown]
# ## 7. Pictures: attention weights as heatmaps
#
# A toy sentence whose tokens get fixed random embeddings (the same word, the same vector).
# With $Q = K = V = $ the embeddings and no projections, a token's score is largest for keys
# that look like it — itself and any repetition of the same word — so the weights
# concentrate there. Then the same weights under a causal mask, and under a padding mask
# (the sentence padded to 8 positions with all-zero embeddings).
#
# In the padding panel the two `<pad>` **rows** are uniform, $1/6$ on each real word. A
# padding mask blocks padding *keys* (columns), not queries: the padding positions still
# ask their question, and a zero query scores 0 against every key, so its softmax is flat.
# Those rows are computed and thrown away — the model's loss ignores padding positions (the
# X4 classifier of lesson 10 averages only the real ones). The last panel is E10, with
# each weight written in its cell.

# %%
words = "the cat sat on the mat".split()
vocab = sorted(set(words))
emb_table = rng.standard_normal((len(vocab), 16))
E_sent = mg.Tensor(emb_table[[vocab.index(w) for w in words]])
_, w_plain = layers.scaled_dot_product_attention(E_sent, E_sent, E_sent)
_, w_causal_s = layers.scaled_dot_product_attention(E_sent, E_sent, E_sent, causal=True)
E_pad = mg.Tensor(np.concatenate([emb_table[[vocab.index(w) for w in words]],
                                  np.zeros((2, 16))])[None])
pad_mask = np.array([[False] * 6 + [True] * 2])
_, w_padded = layers.scaled_dot_product_attention(E_pad, E_pad, E_pad, key_padding_mask=pad_mask)

wp = w_plain.numpy()
# "the" (position 0) attends to both occurrences of "the" (0 and 4) more than to anything else
assert set(np.argsort(wp[0])[-2:]) == {0, 4}
assert np.all(w_padded.numpy()[0][:, 6:] == 0)
assert np.allclose(w_padded.numpy()[0][6:, :6], 1 / 6, rtol=0, atol=1e-15)   # the <pad> rows

fig, axes = plt.subplots(1, 4, figsize=(17, 4.3), constrained_layout=True)
panels = [(wp, words, words, "no mask"),
          (w_causal_s.numpy(), words, words, "causal mask"),
          (w_padded.numpy()[0], words + ["<pad>"] * 2, words + ["<pad>"] * 2, "padding mask"),
          (w_e10.numpy(), ["q=1", "q=2", "q=3"], ["k=4", "k=5", "k=6"], "E10 (scale √3)")]
for ax, (w, rows, cols, title) in zip(axes, panels):
    im = ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=45)
    ax.set_yticks(range(len(rows)), rows)
    ax.set(title=title, xlabel="key", ylabel="query")
    ax.grid(False)                                            # no grid lines over the cells
for (i, j), value in np.ndenumerate(w_e10.numpy()):          # E10: the numbers in the cells
    axes[3].text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=10,
                 color="white" if value < 0.5 else "black")
colorbar = fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight (each row sums to 1)")

# %% [markdown]
# ## Exercises
#
# Each exercise has a starter cell and a check cell: `check("09.1", answer)` prints
# *correct* or a hint; `solution("09.1")` shows a solution when you ask for it.
#
# **09.1** Remove the $1/\sqrt{d_k}$ scaling in `attention_from_scratch` and feed it random
# $Q, K$ with $d_k = 512$. Plot a histogram of the largest weight in each row, with and
# without the scaling. What happens to the gradient of the softmax when it saturates? To
# answer, write `softmax_jacobian(s)`, the matrix $\partial a_j/\partial s_l$ of section 3,
# and evaluate it on a saturated row.

# %%
def softmax_jacobian(s):
    raise NotImplementedError("your code here")


# %%
check("09.1", softmax_jacobian)

# %% [markdown]
# **09.2** Show on paper that attention is *permutation-equivariant*: permuting the rows of
# $X$ (in self-attention without masks) permutes the rows of the output the same way. Check
# it numerically with `is_equivariant(f, X, perm)`. Why does a transformer therefore need
# positional encodings (lesson 10)?

# %%
def is_equivariant(f, X, perm):
    raise NotImplementedError("your code here")


# %%
check("09.2", is_equivariant)

# %% [markdown]
# **09.3** E10 with the document's $Q$ and $K$ swapped ($Q = [4,5,6]$, $K = [1,2,3]$,
# $V = [7,8,9]$, read as in section 5): which outputs change, and why does the output stay
# between 7 and 9 whatever the scores are? Give the three outputs.

# %%
e10_swapped = None          # an array of 3 numbers

# %%
check("09.3", e10_swapped)
