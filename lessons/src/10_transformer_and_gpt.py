# %% [markdown]
# # Lesson 10 — The transformer: blocks, a tiny GPT, and a text classifier
#
# **Formulas:** F28 (multi-head attention, then a feed-forward network after each attention
# layer), F29 (embedding layer, self-attention stack, linear output layer; the documents
# describe the encoder–decoder, we build its two halves' most common uses: a decoder-only
# language model and an encoder classifier). Uses F26/F27 from lesson 09.
# **Experiment:** X4 (transformer encoder → dropout 0.1 → linear head, Adam, cross-entropy;
# accuracy, macro recall, macro F1), with the document's learning rate $10^{-5}$ and a
# workable one.
#
# We
#
# 1. split attention into heads and check `MultiHeadAttention` against a head-by-head
#    computation;
# 2. assemble a block — attention and feed-forward, each with a residual connection and a
#    LayerNorm — in its two arrangements, pre-LN and post-LN, and gradient-check both;
# 3. train a tiny GPT on the bundled text and let it write;
# 4. train the X4 classifier on the bundled sentiment sentences, at two learning rates.
#
# **Data.** The bundled `tiny_corpus` (4.5 KB of plain English written for minigrad) and the
# bundled `sentiment.tsv` (300 short synthetic sentences, 150 positive, 150 negative,
# generated for minigrad) stand in for the documents' data, which is not available offline.

# %%
import math
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

import layers
import matplotlib.pyplot as plt
import numpy as np
import optim
from minigrad import metrics
from minigrad.datasets import load_sentiment, load_text, train_test_split

np.random.seed(0)
mg.manual_seed(0)
rng = np.random.default_rng(0)
print("minigrad", mg.__version__, "| quick mode" if QUICK else "| full mode")

# %% [markdown]
# ## 1. Multi-head attention (F28)
#
# With model width $d$ and $h$ heads of width $d_h = d/h$: project the input $X$ ($T\times d$)
# to $Q, K, V$ (F27), cut each into $h$ slices of $d_h$ columns, attend in every slice
# separately, concatenate the $h$ results and mix them with one more linear map:
#
# $$\mathrm{head}_j = \mathrm{softmax}\Big(\frac{Q_j K_j^\top}{\sqrt{d_h}}\Big) V_j, \qquad
#   \mathrm{MHA}(X) = [\mathrm{head}_1, \dots, \mathrm{head}_h]\, W_o^\top + b_o.$$
#
# The cost is that of one head of width $d$, but each head has its own attention pattern —
# one can follow the previous character while another looks for the start of the word.
# Backward needs nothing new: slicing and concatenation pass gradients through unchanged
# (to the slice they came from), and attention's backward is lesson 09's.

# %%
d_model, n_heads = 12, 3
d_head = d_model // n_heads
mha = layers.MultiHeadAttention(d_model, n_heads).double()
X = mg.Tensor(rng.standard_normal((2, 5, d_model)), requires_grad=True)
Qf, Kf, Vf = mha.q_proj(X), mha.k_proj(X), mha.v_proj(X)
heads = []
for j in range(n_heads):
    cols = slice(j * d_head, (j + 1) * d_head)
    out_j, _ = layers.scaled_dot_product_attention(Qf[:, :, cols], Kf[:, :, cols], Vf[:, :, cols],
                                                   causal=True)
    heads.append(out_j)
by_heads = mha.out_proj(mg.concatenate(heads, axis=-1))
print("max |head by head - MultiHeadAttention|:",
      np.abs(by_heads.numpy() - mha(X, causal=True).numpy()).max())
assert np.allclose(by_heads.numpy(), mha(X, causal=True).numpy(), atol=1e-14)

# %% [markdown]
# ## 2. The block: pre-LN and post-LN
#
# A transformer block is attention followed by a position-wise feed-forward network
# $\mathrm{FFN}(x) = \mathrm{GELU}(x W_1^\top + b_1) W_2^\top + b_2$ (F28: "a feed-forward network
# after each attention layer"), each wrapped in a residual connection and a LayerNorm. The
# two common arrangements:
#
# $$\text{post-LN (2017):}\quad x \leftarrow \mathrm{LN}\big(x + \mathrm{MHA}(x)\big),\quad
#   x \leftarrow \mathrm{LN}\big(x + \mathrm{FFN}(x)\big)$$
# $$\text{pre-LN (GPT-2 onward):}\quad x \leftarrow x + \mathrm{MHA}(\mathrm{LN}(x)),\quad
#   x \leftarrow x + \mathrm{FFN}(\mathrm{LN}(x)),\quad \text{and one final LN at the top}.$$
#
# In pre-LN the residual stream runs from the embedding to the top untouched: $x_L = x_0 +
# \sum_l F_l(\cdot)$, so $\partial x_L/\partial x_0 = I + \dots$ — every layer has a direct,
# un-normalised gradient path to the output. In post-LN the stream passes through a
# LayerNorm twice per block, and each LayerNorm's Jacobian rescales the gradient on the
# way down. Two consequences we can measure at initialisation (8 blocks, width 32):
#
# * **forward**: post-LN re-normalises the stream after every block (per position: mean 0,
#   standard deviation 1); in pre-LN nothing does, and the stream grows with depth;
# * **backward**: the gradient reaching the stream at block $l$ — in post-LN it shrinks
#   towards the input, in pre-LN it does not (here it even grows slightly). Xiong et al.
#   (2020) show that this is why post-LN needs a learning-rate warm-up and pre-LN does not.
#   At this small depth the effect is mild; it compounds with more layers.
#
# First the gradient checks (float64, random directions, all weights and the input).

# %%
for norm_first in (True, False):
    block = layers.TransformerBlock(d_model, n_heads, d_ff=24, norm_first=norm_first).double()
    res = layers.gradcheck_module(block, X, fast=True, directions=4,
                                  name=f"TransformerBlock(norm_first={norm_first})")
    print(res.report().splitlines()[0], f"max rel err {res.max_rel_error:.1e}")
    assert res.passed

# %%
depth, width = 8, 32
x0 = mg.Tensor(rng.standard_normal((4, 16, width)), requires_grad=True)
upstream = mg.Tensor(rng.standard_normal((4, 16, width)))
stream_rms, stream_grad = {}, {}
for norm_first, label in ((True, "pre-LN"), (False, "post-LN")):
    mg.manual_seed(1)
    encoder = layers.TransformerEncoder(depth, width, 4, 4 * width, norm_first=norm_first).double()
    h, states = x0, []
    for block in encoder.layers:
        h = block(h)
        h.retain_grad()
        states.append(h)
    top = encoder.norm(h) if encoder.norm is not None else h
    (top * upstream).sum().backward()
    stream_rms[label] = np.array([np.sqrt((s.numpy() ** 2).mean()) for s in states])
    stream_grad[label] = np.array([np.linalg.norm(s.grad.numpy()) for s in states])
    print(f"{label:8s} stream RMS per block: {np.round(stream_rms[label], 2)}")
    print(f"{'':8s} |dL/dstream| per block: {np.round(stream_grad[label], 1)}")

assert np.allclose(stream_rms["post-LN"], 1.0, atol=1e-3)             # renormalised every block
assert np.all(np.diff(stream_rms["pre-LN"]) > 0)                        # grows with depth
assert stream_grad["post-LN"][0] < stream_grad["post-LN"][-1]           # shrinks towards input
assert stream_grad["pre-LN"][0] >= stream_grad["pre-LN"][-1]            # does not

# %% [markdown]
# ## 3. A tiny GPT on the bundled text
#
# `layers.GPT` is the decoder-only transformer (F29 without the encoder): token embedding +
# learned position embedding → pre-LN blocks with **causal** self-attention → final LayerNorm
# → a linear output layer that reuses the embedding matrix (weight tying). Trained with
# next-character cross-entropy: the logits at position $t$ are scored against the character at
# $t + 1$. A model that knows nothing scores $\ln 46 \approx 3.83$ nats per character.
#
# The gradient check first (a small copy in float64; the token ids are integers and are not
# checked, every weight is), then training.

# %%
corpus = load_text("tiny_corpus")
chars = sorted(set(corpus))
stoi = {ch: k for k, ch in enumerate(chars)}
ids = np.array([stoi[ch] for ch in corpus])
split = int(0.9 * len(ids))
train_ids, val_ids = ids[:split], ids[split:]
V = len(chars)

small = layers.GPT(V, d_model=8, num_heads=2, num_layers=1, max_len=6).double()
res = layers.gradcheck_module(small, ids[None, :6], fast=True, directions=4)
print(res.report().splitlines()[0])
assert res.passed

# 4.5 KB of text is tiny: past ~600 steps of this size (or with a bigger model) the GPT starts
# to memorise the training part -- its training loss keeps falling while the validation loss
# climbs again. So full mode trains to that point, not further (exercise 2).
block_size, batch, steps, lr = (32, 16, 300, 3e-3) if QUICK else (32, 16, 600, 3e-3)
d_gpt, layers_gpt = 32, 2


def batch_of_windows(data, n, length, rng):
    start = rng.integers(0, len(data) - length - 1, n)
    return (np.stack([data[s:s + length] for s in start]),
            np.stack([data[s + 1:s + length + 1] for s in start]))


def validation_loss(model):
    model.eval()
    with mg.no_grad():
        starts = range(0, len(val_ids) - block_size - 1, block_size)
        x = np.stack([val_ids[s:s + block_size] for s in starts])
        y = np.stack([val_ids[s + 1:s + block_size + 1] for s in starts])
        return mg.cross_entropy(model(x), y).item()


def write(model, prompt="The river ", n=150, seed=3):
    out = model.generate([stoi[ch] for ch in prompt], n, temperature=0.7, seed=seed)
    return "".join(chars[k] for k in out)


mg.manual_seed(0)
gpt = layers.GPT(V, d_model=d_gpt, num_heads=4, num_layers=layers_gpt, max_len=block_size)
print(f"GPT: {gpt.num_parameters():,} parameters; {steps} Adam steps (lr {lr}) on batches of "
      f"{batch} windows of {block_size} characters")
before_val, before_text = validation_loss(gpt), write(gpt)
print(f"\nbefore training (validation loss {before_val:.3f}):\n{before_text}\n")
data_rng = np.random.default_rng(0)
gpt_hist = optim.train(
    gpt, lambda m, b: mg.cross_entropy(m(b[0]), b[1]),
    lambda epoch: [batch_of_windows(train_ids, batch, block_size, data_rng) for _ in range(steps)],
    optim.Adam(gpt.parameters(), lr=lr), epochs=1, clip_grad_norm=1.0, log_every=None)
after_val, after_text = validation_loss(gpt), write(gpt)
print(f"after training (train loss {np.mean(gpt_hist.losses[-20:]):.3f}, validation loss "
      f"{after_val:.3f}):\n{after_text}")
assert abs(before_val - math.log(V)) < 0.2
assert np.mean(gpt_hist.losses[-20:]) < (2.3 if QUICK else 1.7)
assert after_val < before_val - 1.2

# %% [markdown]
# What does a head look at? The attention weights of the first block for a line of text
# (we run the first block's pieces by hand to get them; `return_weights=True` asks
# `MultiHeadAttention` for the weights). Every row is causal: nothing to the right of the
# diagonal.

# %%
snippet = corpus[:24]
snippet_ids = np.array([[stoi[ch] for ch in snippet]])
gpt.eval()
with mg.no_grad():
    x_in = gpt.pos_emb(gpt.tok_emb(mg.Tensor(snippet_ids)))
    first = gpt.blocks[0]
    _, head_weights = first.attn(first.norm1(x_in), causal=True, return_weights=True)
head_weights = head_weights.numpy()[0]                          # (heads, T, T)
assert head_weights.shape == (4, len(snippet), len(snippet))
assert np.all(np.triu(head_weights, k=1) == 0)
assert np.allclose(head_weights.sum(axis=-1), 1.0, atol=1e-5)

# %% [markdown]
# ## 4. X4 — a transformer text classifier
#
# `layers.TransformerClassifier`: word embedding + sinusoidal positions → a transformer
# encoder (pre-LN, padding masked out of the attention) → the mean of the real (non-padding)
# positions → dropout 0.1 → a linear head with one logit per class; cross-entropy loss. The
# sentences are split into words; the vocabulary comes from the training sentences only
# (test words never seen in training map to `<unk>`), and shorter sentences are padded.
#
# The document trains with Adam at learning rate $10^{-5}$. That is a typical rate for
# *fine-tuning* a pretrained transformer, whose weights should only move a little; for a
# model trained from scratch it is far too small. Adam moves each weight by roughly the
# learning rate per step, whatever the gradient's size (lesson 05), so after $n$ steps no
# weight can have moved more than about $n \cdot \alpha$ (a few times that at most): with
# $\alpha = 10^{-5}$ and 600 steps, a few hundredths at the very most — while the weights
# start at sizes around 0.1–1. We train both ways for the same number of epochs.

# %%
texts, labels = load_sentiment()
tr_texts, te_texts, y_train, y_test = train_test_split(texts, labels, test_size=0.2, seed=42,
                                                       stratify=True)


def words(sentence):
    return sentence.replace(".", " .").replace(",", " ,").split()


vocab = ["<pad>", "<unk>"] + sorted({w for s in tr_texts for w in words(s)})
word_id = {w: k for k, w in enumerate(vocab)}
max_len = max(len(words(s)) for s in texts)


def encode(sentences):
    out = np.zeros((len(sentences), max_len), dtype=np.int64)          # 0 = <pad>
    for row, s in enumerate(sentences):
        toks = [word_id.get(w, 1) for w in words(s)]
        out[row, :len(toks)] = toks
    return out


E_train, E_test = encode(tr_texts), encode(te_texts)
print(f"{len(tr_texts)} training / {len(te_texts)} test sentences, vocabulary {len(vocab)}, "
      f"at most {max_len} words; e.g. {tr_texts[0]!r} -> {E_train[0].tolist()}")


def make_classifier(dtype=None):
    return layers.TransformerClassifier(len(vocab), d_model=32, num_heads=2, d_ff=64,
                                        num_layers=1, num_classes=2, max_len=max_len,
                                        dropout=0.1, dtype=dtype)


clf64 = make_classifier("float64")
clf64.eval()                                     # dropout off: a fixed function to check
res = layers.gradcheck_module(clf64, E_test[:4], fast=True, directions=4)
print(res.report().splitlines()[0])
assert res.passed

# %%
clf_epochs = 40 if QUICK else 100
runs = {}
for clf_lr in (1e-5, 1e-3):
    mg.manual_seed(0)
    clf = make_classifier()
    start_weights = {n: p.numpy().copy() for n, p in clf.named_parameters()}
    batches = optim.Minibatches(E_train, y_train, batch_size=16)
    hist = optim.train(clf, lambda m, b: mg.cross_entropy(m(b[0]), b[1]), batches,
                       optim.Adam(clf.parameters(), lr=clf_lr), epochs=clf_epochs,
                       log_every=None)
    clf.eval()
    with mg.no_grad():
        pred = clf(E_test).numpy().argmax(axis=1)
    moved = max(np.abs(p.numpy() - start_weights[n]).max() for n, p in clf.named_parameters())
    runs[clf_lr] = dict(report=metrics.classification_report(y_test, pred), hist=hist,
                        moved=moved, steps=len(hist.losses), pred=pred)
    r = runs[clf_lr]["report"]
    print(f"lr {clf_lr:g}: {len(hist.losses)} steps, final epoch loss {hist.epoch_losses[-1]:.3f}, "
          f"largest weight change {moved:.4f} | test accuracy {r['accuracy']:.3f}, macro "
          f"recall {r['macro_recall']:.3f}, macro F1 {r['macro_f1']:.3f}")

slow, good = runs[1e-5], runs[1e-3]
assert good["report"]["accuracy"] >= 0.9 and good["report"]["macro_f1"] >= 0.9
assert slow["report"]["accuracy"] <= 0.7 and slow["hist"].epoch_losses[-1] > 0.6
assert slow["moved"] < 3.2 * slow["steps"] * 1e-5          # Adam: about lr per step, at most
print("lr 1e-5 predictions on the test set, per class:", np.bincount(slow["pred"], minlength=2),
      "(true: ", np.bincount(y_test, minlength=2), ")")

# %% [markdown]
# With $10^{-5}$ the weights have barely moved from their random start (the largest change is
# printed above: thousandths to a hundredth), so the classifier is no better than a coin:
# accuracy and macro F1 near 50 %. Macro F1 is the one to watch: when such a model leans
# towards one class, its accuracy can still look like 50 % while the F1 of the neglected
# class, and with it the macro average, drops (F32, lesson 06).

# %% [markdown]
# ## 5. Pictures
#
# Top left: the residual stream at initialisation, pre-LN vs post-LN. Top right: the GPT's
# training loss. Bottom: the four heads of the GPT's first block on a line of text (rows:
# query character, columns: key character), and X4's loss curves at the two learning rates.

# %%
fig = plt.figure(figsize=(16, 8))
grid = fig.add_gridspec(2, 4)
ax = fig.add_subplot(grid[0, :2])
for label in stream_rms:
    ax.plot(range(1, depth + 1), stream_grad[label] / stream_grad[label][-1], "o-",
            label=f"{label}: |dL/d stream| (relative to the top)")
    ax.plot(range(1, depth + 1), stream_rms[label], "s--", label=f"{label}: stream RMS")
ax.set(xlabel="block", title="residual stream at initialisation, 8 blocks")
ax.legend(fontsize=8)
ax = fig.add_subplot(grid[0, 2:])
gl = np.array(gpt_hist.losses)
ax.plot(gl, alpha=0.4, label="per step")
ax.plot(np.arange(19, len(gl)), np.convolve(gl, np.ones(20) / 20, mode="valid"),
        label="mean of 20 steps")
ax.axhline(math.log(V), color="grey", linestyle=":", label=r"$\ln 46$")
ax.axhline(after_val, color="k", linestyle="--", linewidth=0.8, label="validation, end")
ax.set(xlabel="Adam step", ylabel="cross-entropy (nats/char)", title="tiny GPT on tiny_corpus")
ax.legend(fontsize=8)
sub = grid[1, :3].subgridspec(1, 4)
labels_ = [ch if ch != " " else "␣" for ch in snippet]
for j in range(4):
    ax = fig.add_subplot(sub[0, j])
    ax.imshow(head_weights[j], cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(snippet)), labels_, fontsize=6)
    ax.set_yticks(range(len(snippet)), labels_, fontsize=6)
    ax.set_title(f"head {j + 1}", fontsize=9)
ax = fig.add_subplot(grid[1, 3])
for clf_lr, run in runs.items():
    ax.plot(run["hist"].epoch_losses, label=f"Adam lr {clf_lr:g}")
ax.axhline(math.log(2), color="grey", linestyle=":", label="ln 2 (chance)")
ax.set(xlabel="epoch", ylabel="training loss", title="X4 classifier")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# 1. Make the X4 classifier post-LN (`norm_first=False`) and train it with Adam at
#    $3\cdot10^{-3}$, with and without `optim.LinearWarmup`. Which one trains reliably over a
#    few seeds?
# 2. Train the GPT for 1 500 steps and record the validation loss every 100 steps. Where does
#    it start to rise while the training loss still falls (memorisation)? Does
#    `dropout=0.1` move that point?
# 3. In X4, how many epochs at $10^{-5}$ would the bound "at most a few times $\alpha$ per
#    step" require before a weight *could* move by 0.1? Check your estimate by training
#    longer.
