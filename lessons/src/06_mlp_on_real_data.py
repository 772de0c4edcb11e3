# %% [markdown]
# # Lesson 06 — An MLP on real data: Iris, handwritten digits, fine-tuning
#
# **Experiments:** X1 (Iris, 4 → 64 → 64 → 3 with Adam, and the document's standardisation
# bug), X2 (handwritten digits, flatten → 128 → 10 with Adam), X5 (fine-tuning with momentum
# SGD). **Formula:** F32 (accuracy, macro recall, macro F1). Along the way: F01/F04 (dense
# layers), F06 (ReLU), F09/F11 (softmax cross-entropy), F19 (Adam), F17 (momentum).
#
# Up to now the data were made up. Here the MLP meets real measurements, and the usual
# chores of a real experiment appear: a train / validation / test split, feature
# standardisation (and how to get it wrong), learning curves, a confusion matrix, and
# metrics that do not let a majority class hide the others.
#
# **Data.** Everything is bundled with minigrad; nothing is downloaded. Iris is Fisher's
# 150 flowers. For X2 the documents use MNIST (70 000 images of 28×28 pixels) and report
# **96.00 %** test accuracy; offline, the **8×8 handwritten digits** bundled with minigrad
# (1 797 images, from UCI via scikit-learn) **stand in for MNIST**. The images are smaller
# and fewer, so the accuracy reached here is not comparable to the document's figure.
#
# The documents' settings (100 epochs on Iris, 5 on digits) already take well under a second
# with minigrad, so quick mode uses them too; `MINIGRAD_FULL=1` adds repeated digit runs
# with other seeds and longer fine-tuning in X5.

# %%
from matplotlib.lines import Line2D

from course import *        # QUICK, mg, np, plt, layers, optim, seeds; check() for exercises
from minigrad import metrics
from minigrad.datasets import load_digits, load_iris, train_test_split

# %% [markdown]
# ## 1. The loss and its gradient, on paper
#
# The network outputs one score (logit) $z_c$ per class; softmax (F09) turns them into
# probabilities $p_c = e^{z_c} / \sum_k e^{z_k}$ and the cross-entropy of the true class $y$
# (F11, "sparse" because $y$ is an index, not a one-hot vector) is
# $\ell = -\log p_y = -z_y + \log\sum_k e^{z_k}$. Its derivative is
#
# $$\frac{\partial \ell}{\partial z_c} = -[c = y] + \frac{e^{z_c}}{\sum_k e^{z_k}} = p_c - [c = y],$$
#
# "predicted minus true" — and for the mean over a batch of $N$ examples, divided by $N$.
# From there backward through the layers is lesson 01/02's story: for a dense layer
# $Z = A W^\top + b$ (row convention) with upstream gradient $G$,
# $\partial L/\partial W = G^\top A$, $\partial L/\partial b = \sum_\text{batch} G$,
# $\partial L/\partial A = G W$, and a ReLU passes $G$ only where its input was positive.
#
# We check the "$p - y$" formula against `backward()` and the whole network with a
# gradient check.

# %%
rng = np.random.default_rng(0)
logits = mg.Tensor(rng.standard_normal((5, 3)), dtype="float64", requires_grad=True)
labels = np.array([0, 2, 1, 1, 0])
mg.cross_entropy(logits, labels).backward()
p = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(axis=1, keepdims=True)
by_hand = (p - np.eye(3)[labels]) / len(labels)
print("max |autograd - (p - onehot)/N| =", np.abs(logits.grad.numpy() - by_hand).max())
assert np.allclose(logits.grad.numpy(), by_hand, atol=1e-15)

# the X1 network, in float64, checked along random directions (fast mode: 4 675 weights)
net64 = layers.MLP([4, 64, 64, 3]).double()
x64 = mg.Tensor(rng.standard_normal((6, 4)), dtype="float64", requires_grad=True)
gc = layers.gradcheck_module(net64, x64, fast=True, directions=5)
print(gc.report().splitlines()[0])
assert gc.passed
loss_check = mg.gradcheck(lambda z: mg.cross_entropy(z, labels),
                          mg.Tensor(rng.standard_normal((5, 3)), requires_grad=True))
assert loss_check.passed

# %% [markdown]
# ## 2. X1 — Iris with the document's settings
#
# **What the document says.** D2's hands-on project (section 2, the source code) trains
# the Iris network with this recipe: 20 % of the flowers held out for testing (seed 42); the rest
# standardised; 20 % of *that* used for validation; a 4 → 64 ReLU → 64 ReLU → 3 network;
# Adam (learning rate $10^{-3}$), sparse cross-entropy, 100 epochs of mini-batches of 32.
#
# Two details, stated because they change the numbers: the split is minigrad's own
# `train_test_split(test_size=0.2, seed=42)`, which shuffles with NumPy's generator, so the
# 30 test flowers are not the same 30 that scikit-learn's `random_state=42` picks; and the
# validation part is the **last** 20 % of the training part, which is what Keras'
# `validation_split=0.2` (the document's framework) takes.

# %%
X_iris, y_iris, feature_names, class_names = load_iris(return_names=True)
X_tr_raw, X_te_raw, y_tr_all, y_te = train_test_split(X_iris, y_iris, test_size=0.2, seed=42)
mean, std = X_tr_raw.mean(axis=0), X_tr_raw.std(axis=0)
X_tr_all = (X_tr_raw - mean) / std                 # training statistics ...
X_te = (X_te_raw - mean) / std                     # ... applied to the test set: correct
n_val = int(round(0.2 * len(X_tr_all)))
X_tr, y_tr = X_tr_all[:-n_val], y_tr_all[:-n_val]
X_val, y_val = X_tr_all[-n_val:], y_tr_all[-n_val:]
print(f"train {len(X_tr)}, validation {len(X_val)}, test {len(X_te)} flowers")
assert (len(X_tr), len(X_val), len(X_te)) == (96, 24, 30)


def predict(model, X):
    model.eval()
    with mg.no_grad():
        return model(mg.Tensor(np.asarray(X, dtype=np.float32))).numpy().argmax(axis=1)


def fit(model, X, y, optimizer, epochs, batch_size=32, track=None, ratios=None):
    """Mini-batch training; after each epoch, accuracy on each (X, y) in `track`. With a
    dict `ratios`, record every step's update-to-data ratio |dW| / |W| per weight matrix."""
    history = {name: [] for name in (track or {})}
    batches = optim.Minibatches(np.asarray(X, dtype=np.float32), y, batch_size=batch_size)
    for _ in range(epochs):
        model.train()
        for xb, yb in batches:
            optimizer.zero_grad()
            mg.cross_entropy(model(xb), yb).backward()
            if ratios is not None:
                before = {n: p.numpy().copy() for n, p in model.named_parameters()
                          if n.endswith("weight")}
            optimizer.step()
            if ratios is not None:
                for n, w in before.items():
                    now = model.get_parameter(n).numpy()
                    ratios.setdefault(n, []).append(np.linalg.norm(now - w) / np.linalg.norm(w))
        for name, (Xs, ys) in (track or {}).items():
            history[name].append(metrics.accuracy(ys, predict(model, Xs)))
    return history


mg.manual_seed(42)
iris_net = layers.MLP([4, 64, 64, 3])
iris_ratios = {}
iris_hist = fit(iris_net, X_tr, y_tr, optim.Adam(iris_net.parameters(), lr=1e-3), epochs=100,
                track={"train": (X_tr, y_tr), "validation": (X_val, y_val)}, ratios=iris_ratios)
test_acc = metrics.accuracy(y_te, predict(iris_net, X_te))
print(f"after 100 epochs: train {iris_hist['train'][-1]:.3f}, validation "
      f"{iris_hist['validation'][-1]:.3f}, test {test_acc:.3f}")
assert iris_hist["train"][-1] > 0.95 and iris_hist["validation"][-1] > 0.85
assert test_acc > 0.9
assert iris_hist["train"][0] < iris_hist["train"][-1]          # it did learn

# %% [markdown]
# ### Update-to-data ratios while training
#
# How big is each step relative to the weights it changes? `fit(..., ratios=...)` recorded
# $\lVert \Delta W \rVert / \lVert W \rVert$ for every weight matrix at every step (lesson 05
# introduced the ratio). With Adam at the document's learning rate $10^{-3}$ the first
# layer starts near $3\cdot10^{-3}$ and the two others near $10^{-2}$; as training converges
# the ratios fall about tenfold. None comes near 1 (a learning rate far too large, each step
# rewriting the weights) or below $10^{-4}$ (far too small to learn in 100 epochs).

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for name, r in iris_ratios.items():
    ax.semilogy(np.arange(1, len(r) + 1), r, lw=1, label=f"layer {name}")
ax.axhline(1e-3, color="0.4", ls=":", label="$10^{-3}$")
ax.set(xlabel="optimizer step", ylabel=r"$\|\Delta W\| / \|W\|$",
       title="X1: update-to-data ratio per weight matrix (Adam, lr 1e-3)")
ax.legend(fontsize=8)
fig.tight_layout()
early = {n: float(np.median(r[:30])) for n, r in iris_ratios.items()}
late = {n: float(np.median(r[-30:])) for n, r in iris_ratios.items()}
print("median ratio, first 30 steps:", {n: f"{v:.1e}" for n, v in early.items()})
print("median ratio, last 30 steps :", {n: f"{v:.1e}" for n, v in late.items()})
first, *others = iris_ratios
assert 1.5e-3 < early[first] < 6e-3 and all(5e-3 < early[n] < 2e-2 for n in others)
assert all(late[n] < early[n] / 4 for n in iris_ratios)            # falls ~tenfold
assert all(1e-4 < min(r) and max(r) < 0.1 for r in iris_ratios.values())

# %% [markdown]
# ## 3. X1 — the document's standardisation bug, measured
#
# **What the document says.** In the same code (its data-preprocessing step), D2
# standardises the training features in place and *then* computes the test
# set's statistics from the already-standardised training array, in effect
#
# ```python
# X_train = (X_train - X_train.mean(axis=0)) / X_train.std(axis=0)
# X_test  = (X_test  - X_train.mean(axis=0)) / X_train.std(axis=0)   # X_train is already standardised!
# ```
#
# The mean of a standardised array is 0 and its standard deviation 1, so the second line
# changes nothing: the network, trained on features centred at 0 with unit spread, is shown
# raw measurements in centimetres (petal lengths around 4, sepal lengths around 6) — many
# "standard deviations" away from anything it saw. The fix is to keep the training
# statistics and apply *those* to every split (section 2).

# %%
X_train_bug = (X_tr_raw - X_tr_raw.mean(axis=0)) / X_tr_raw.std(axis=0)
stats_mean, stats_std = X_train_bug.mean(axis=0), X_train_bug.std(axis=0)
X_te_bug = (X_te_raw - stats_mean) / stats_std
print("statistics the buggy line uses: mean", np.round(stats_mean, 12),
      "std", np.round(stats_std, 12))
assert np.allclose(X_te_bug, X_te_raw, atol=1e-12)       # i.e. the test set stays raw

bug_acc = metrics.accuracy(y_te, predict(iris_net, X_te_bug))
print(f"same network, same test flowers: correctly standardised {test_acc:.3f}, "
      f"with the bug {bug_acc:.3f}")
print("predicted classes with the bug:", np.bincount(predict(iris_net, X_te_bug), minlength=3),
      " true:", np.bincount(y_te, minlength=3))
assert bug_acc < test_acc - 0.3

# %% [markdown]
# The accuracy collapses. To see why, look at two features as the network receives them
# (middle and right; the faint dots are the standardised training flowers it learned from,
# the crosses are test flowers coloured by the predicted class): with the bug the test
# flowers sit far up and to the right of everything the network was trained on. Left: the
# learning curves of section 2.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
ax = axes[0]
epochs_axis = np.arange(1, 101)
ax.plot(epochs_axis, iris_hist["train"], label="train")
ax.plot(epochs_axis, iris_hist["validation"], label="validation")
ax.axhline(test_acc, color="k", linestyle=":", label=f"test (end) {test_acc:.2f}")
ax.set(xlabel="epoch", ylabel="accuracy", title="X1: Iris, 4-64-64-3, Adam", ylim=(0, 1.02))
ax.legend()
for ax, (Xs, title) in zip(axes[1:], [(X_te, "test set, standardised correctly"),
                                      (X_te_bug, "test set with the document's bug")]):
    ax.scatter(X_tr[:, 2], X_tr[:, 3], c=y_tr, cmap="viridis", alpha=0.25, s=15,
               label="training flowers")
    ax.scatter(Xs[:, 2], Xs[:, 3], c=predict(iris_net, Xs), cmap="viridis", marker="x", s=40,
               label="test flowers (colour = prediction)")
    ax.set(xlabel="petal length (as fed to the network)", ylabel="petal width", title=title)
    cmap = plt.get_cmap("viridis")
    handles = [Line2D([], [], marker="s", ls="", color=cmap(k / 2), label=str(name))
               for k, name in enumerate(class_names)]
    handles += [Line2D([], [], marker="o", ls="", color="0.6", alpha=0.4,
                       label="training flower (true class)"),
                Line2D([], [], marker="x", ls="", color="0.2",
                       label="test flower (predicted class)")]
    ax.legend(handles=handles, fontsize=7, loc="upper left")
fig.tight_layout()

# %% [markdown]
# ## 4. F32 — accuracy, macro recall, macro F1, on paper
#
# With the confusion matrix $M_{ij}$ = number of examples of true class $i$ predicted as $j$,
# and for each class $c$: $TP_c = M_{cc}$, $FN_c = \sum_{j\ne c} M_{cj}$,
# $FP_c = \sum_{i \ne c} M_{ic}$,
#
# $$\text{accuracy} = \frac{\sum_c M_{cc}}{\sum_{ij} M_{ij}},\qquad
#   \text{recall}_c = \frac{TP_c}{TP_c + FN_c},\qquad
#   \text{precision}_c = \frac{TP_c}{TP_c + FP_c},\qquad
#   F1_c = \frac{2\,\text{precision}_c\,\text{recall}_c}{\text{precision}_c + \text{recall}_c},$$
#
# and the *macro* versions average the per-class numbers with equal weight per class, so a
# small class counts as much as a large one. (Accuracy is dominated by the large classes; a
# model that never predicts a rare class can still have high accuracy but not high macro
# recall.) `minigrad.metrics` implements them; we recompute them from the confusion matrix
# by hand below.

# %% [markdown]
# ## 5. X2 — handwritten digits (8×8 stand-in for MNIST)
#
# **What the document says.** D3 §5 (the code example, results in §5.4) trains this
# network on MNIST: flatten → 128 ReLU → 10 softmax, Adam, 5 epochs (batch 32, Keras'
# default). The bundled digits are already flattened to 64 pixel values in $[0, 1]$. We hold
# out a stratified 20 % as the test set.

# %%
X_dig, y_dig = load_digits()
X_dtr, X_dte, y_dtr, y_dte = train_test_split(X_dig, y_dig, test_size=0.2, seed=42,
                                              stratify=True)
print(f"{len(X_dtr)} training and {len(X_dte)} test images of {X_dig.shape[1]} pixels")

mg.manual_seed(0)
digit_net = layers.MLP([64, 128, 10])
digit_hist = fit(digit_net, X_dtr, y_dtr, optim.Adam(digit_net.parameters(), lr=1e-3),
                 epochs=5, track={"test": (X_dte, y_dte)})
pred = predict(digit_net, X_dte)
report = metrics.classification_report(y_dte, pred, num_classes=10)
cm = metrics.confusion_matrix(y_dte, pred, num_classes=10)
print("test accuracy per epoch:", np.round(digit_hist["test"], 4))
print({k: round(v, 4) for k, v in report.items()})
print("(the document: 96.00 % on MNIST -- a different, larger data set)")
assert report["accuracy"] > 0.9 and report["macro_recall"] > 0.9 and report["macro_f1"] > 0.9

# the same numbers from the confusion matrix, by hand
tp = np.diag(cm).astype(float)
recall_c = tp / cm.sum(axis=1)
precision_c = tp / np.maximum(cm.sum(axis=0), 1)
f1_c = np.where(precision_c + recall_c > 0,
                2 * precision_c * recall_c / np.maximum(precision_c + recall_c, 1e-300), 0.0)
assert abs(tp.sum() / cm.sum() - report["accuracy"]) < 1e-12
assert abs(recall_c.mean() - report["macro_recall"]) < 1e-12
assert abs(f1_c.mean() - report["macro_f1"]) < 1e-12
assert cm.sum() == len(y_dte)

# %%
if not QUICK:      # full mode: the spread over seeds, so one run's figure is not over-read
    accs = []
    for seed in range(5):
        mg.manual_seed(seed)
        net = layers.MLP([64, 128, 10])
        fit(net, X_dtr, y_dtr, optim.Adam(net.parameters(), lr=1e-3), epochs=5)
        accs.append(metrics.accuracy(y_dte, predict(net, X_dte)))
    print("5 seeds: test accuracy", np.round(accs, 4), f"mean {np.mean(accs):.4f} ± "
          f"{np.std(accs):.4f}")
    assert min(accs) > 0.9

# %%
wrong = np.flatnonzero(pred != y_dte)[:8]
fig = plt.figure(figsize=(15, 4.5))
grid = fig.add_gridspec(2, 7, width_ratios=[3.2, 3.2, 0.4, 1, 1, 1, 1])
ax = fig.add_subplot(grid[:, 0])
ax.imshow(cm, cmap="Blues")
for i in range(10):
    for j in range(10):
        if cm[i, j]:
            ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10),
       title=f"X2 confusion matrix (accuracy {report['accuracy']:.3f})")
ax = fig.add_subplot(grid[:, 1])
ax.bar(np.arange(10) - 0.2, recall_c, width=0.4, label="recall")
ax.bar(np.arange(10) + 0.2, f1_c, width=0.4, label="F1")
ax.set(xlabel="digit", ylabel="score", ylim=(0, 1.15), xticks=range(10),
       title="per-class recall and F1")
ax.legend(loc="upper center", ncol=2, fontsize=8)       # above the bars, which end at 1
for k, idx in enumerate(wrong):
    sub = fig.add_subplot(grid[k // 4, 3 + k % 4])
    sub.imshow(X_dte[idx].reshape(8, 8), cmap="gray_r")
    sub.set_title(f"true {y_dte[idx]}, said {pred[idx]}", fontsize=8)
    sub.axis("off")
fig.tight_layout()

# %% [markdown]
# ## 6. X5 — fine-tuning with momentum SGD
#
# **What the document says.** D1 §3 (the model training process) fine-tunes a trained
# network with SGD, learning rate 0.001, momentum 0.9
# (F17) and cross-entropy, but does not say on what. Our stand-in task: **pretrain** on the
# digits 0–4 (Adam, 5 epochs), then teach the network the **new** digits 5–9 with the
# document's optimizer, three ways, for the same number of epochs:
#
# * **head only** — keep the pretrained hidden layer frozen (its weights are simply not given
#   to the optimizer) and train a fresh 128 → 5 output layer;
# * **all layers** — start from the pretrained hidden layer and train everything;
# * **from scratch** — the same network and optimizer, randomly initialised (the baseline).
#
# A small learning rate is the point of fine-tuning: the pretrained features are a good
# starting point, and big steps would destroy them. (With momentum 0.9 the steady-state
# step is $\alpha/(1-\mu) = 10\alpha$, so 0.001 behaves like plain SGD at 0.01.)

# %%
old_tr, old_te = y_dtr < 5, y_dte < 5
mg.manual_seed(0)
pretrained = layers.MLP([64, 128, 5])
hidden_at_init = pretrained[0].weight.numpy().copy()
fit(pretrained, X_dtr[old_tr], y_dtr[old_tr], optim.Adam(pretrained.parameters(), lr=1e-3),
    epochs=5)
old_task_acc = metrics.accuracy(y_dte[old_te], predict(pretrained, X_dte[old_te]))
print(f"pretrained on 0-4: test accuracy on 0-4 = {old_task_acc:.3f}")

ft_epochs = 10 if QUICK else 30
new_sets = {"test": (X_dte[~old_te], y_dte[~old_te] - 5)}    # classes 5..9 -> labels 0..4
finetuned, curves = {}, {}
for mode in ("head only", "all layers", "from scratch"):
    mg.manual_seed(100)
    net = layers.MLP([64, 128, 5])
    if mode != "from scratch":
        net[0].load_state_dict(pretrained[0].state_dict())       # the hidden layer
    params = list(net[2].parameters()) if mode == "head only" else list(net.parameters())
    sgd = optim.SGD(params, lr=0.001, momentum=0.9)
    curves[mode] = fit(net, X_dtr[~old_tr], y_dtr[~old_tr] - 5, sgd, ft_epochs,
                       track=new_sets)["test"]
    finetuned[mode] = net
    print(f"{mode:12s}: accuracy on 5-9 after epochs 1, 2, {ft_epochs}: "
          f"{curves[mode][0]:.3f}, {curves[mode][1]:.3f}, {curves[mode][-1]:.3f}")

# %% [markdown]
# What we can claim, and check:
#
# * the pretrained starting point learns the new classes faster than a random one (mean
#   accuracy over the first two epochs);
# * all three end up far above chance (20 %) — on this easy data, random features are not
#   much worse than pretrained ones given enough steps, so the advantage is mostly speed;
# * head-only fine-tuning cannot forget the old task: the hidden layer is bit-for-bit
#   unchanged, so the old 0–4 head still scores exactly what it did;
# * with the small learning rate, fine-tuning all layers moves the hidden layer far less
#   than pretraining moved it away from its random initialisation (less than half as
#   far), and the old head, put back on the fine-tuned hidden layer, loses at most a few
#   points of accuracy on the old task.

# %%
def early(mode):
    return float(np.mean(curves[mode][:2]))


print({mode: round(early(mode), 3) for mode in curves}, "(mean of epochs 1-2)")
assert early("all layers") > early("from scratch") + 0.05
assert min(c[-1] for c in curves.values()) > 0.7

head_only = finetuned["head only"]
assert np.array_equal(head_only[0].weight.numpy(), pretrained[0].weight.numpy())
old_again = layers.Sequential(head_only[0], head_only[1], pretrained[2])
assert metrics.accuracy(y_dte[old_te], predict(old_again, X_dte[old_te])) == old_task_acc

all_layers = finetuned["all layers"]
moved = (np.linalg.norm(all_layers[0].weight.numpy() - pretrained[0].weight.numpy())
         / np.linalg.norm(pretrained[0].weight.numpy()))
old_after = metrics.accuracy(y_dte[old_te],
                             predict(layers.Sequential(all_layers[0], all_layers[1],
                                                       pretrained[2]), X_dte[old_te]))
pretrain_moved = (np.linalg.norm(pretrained[0].weight.numpy() - hidden_at_init)
                  / np.linalg.norm(hidden_at_init))
print(f"all layers: hidden weights moved by {100 * moved:.1f} % of their norm (pretraining "
      f"moved them {100 * pretrain_moved:.1f} % from init); old task "
      f"{old_task_acc:.3f} -> {old_after:.3f}")
assert moved < 0.5 * pretrain_moved and old_after > old_task_acc - 0.05

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for mode, c in curves.items():
    ax.plot(np.arange(1, ft_epochs + 1), c, marker="o", markersize=3, label=mode)
ax.axhline(0.2, color="grey", linestyle=":", label="chance")
ax.set(xlabel="epoch", ylabel="test accuracy on digits 5-9", ylim=(0, 1),
       title="X5: fine-tuning with SGD (lr 0.001, momentum 0.9)")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# Fill in each starter cell and run the `check(...)` line under it (`solution("06.1")`
# shows the reference answer).
#
# **06.1** Write `standardise(X_train, X_test)` that standardises the test set the right
# way. Then try the test set's own mean and standard deviation instead: accuracy recovers
# on Iris — so why is it still wrong? (Think of a test set of one flower, or of a deployed
# model that sees one example at a time.)

# %%
def standardise(X_train, X_test):
    return None                   # the standardised test set


check("06.1", standardise)

# %% [markdown]
# **06.2** Write `macro_f1(y_true, y_pred, num_classes)` from the F32 definitions and
# compare it with `metrics.classification_report`. Then replace Adam by plain SGD
# (learning rate 0.01) in X2: how many epochs does it need to reach Adam's macro F1?

# %%
def macro_f1(y_true, y_pred, num_classes):
    return None                   # a number


check("06.2", macro_f1)

# %% [markdown]
# **06.3** In X5's head-only fine-tuning, what fraction of the network's parameters does
# the optimizer update? Train the head only with 10 examples per new class: does the
# pretrained hidden layer help more or less than with the full training set?

# %%
head_fraction = None              # a number between 0 and 1
check("06.3", head_fraction)
