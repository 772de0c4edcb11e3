# %% [markdown]
# # Lesson 08 — Recurrent networks: RNN and LSTM
#
# **Formulas:** F30 (a recurrent step that uses the previous hidden state and the current
# input; the gated LSTM update), F31 (a character model: embedding → LSTM(32) → per-step
# dense → softmax, trained with Adam and categorical cross-entropy).
# **Experiment:** X3 (a character-level next-character model that generates text).
#
# A recurrent network reads a sequence one step at a time and carries a **state** from step
# to step. Training it means back-propagating *through time*, through the same weights once
# per step — which is where gradients vanish. We
#
# 1. write the RNN and LSTM cells as equations and derive their backward passes on paper;
# 2. check the derivations against minigrad's `backward()` and with `gradcheck`;
# 3. train the F31 character model on the bundled tiny corpus and sample text before and
#    after training;
# 4. measure how far back the gradient reaches in an RNN and in an LSTM.
#
# **Data.** The bundled `tiny_corpus` (about 4.5 KB of plain English prose written for
# minigrad, 46 distinct characters) stands in for the document's text.

# %%
import time

from course import *            # QUICK, mg, np, plt, layers, optim; seeds fixed (0)
from exercises import check, hint, solution
from minigrad.autograd import iter_graph
from minigrad.datasets import load_text
from minigrad.ops.fused import lstm as lstm_fused, lstm_reference

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The two cells (F30)
#
# **RNN.** With input $x_t$ and previous state $h_{t-1}$ (row vectors, as minigrad's layers
# use them):
#
# $$h_t = \tanh\big(x_t W_{ih}^\top + h_{t-1} W_{hh}^\top + b\big).$$
#
# **LSTM.** A second state, the *cell* $c_t$, is updated additively and guarded by three
# gates — input $i$, forget $f$, output $o$ — and a candidate $g$:
#
# $$\begin{aligned}
# i_t &= \sigma\big(x_t W_{ii}^\top + h_{t-1} W_{hi}^\top + b_i\big), &
# f_t &= \sigma\big(x_t W_{if}^\top + h_{t-1} W_{hf}^\top + b_f\big),\\
# g_t &= \tanh\big(x_t W_{ig}^\top + h_{t-1} W_{hg}^\top + b_g\big), &
# o_t &= \sigma\big(x_t W_{io}^\top + h_{t-1} W_{ho}^\top + b_o\big),\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t, &
# h_t &= o_t \odot \tanh(c_t).
# \end{aligned}$$
#
# The forget gate decides how much of the old memory survives, the input gate how much of
# the candidate is written, the output gate how much of the memory is shown. `layers.LSTMCell`
# stacks the four weight matrices (rows in the order $i, f, g, o$, as PyTorch does) so that
# all four pre-activations come out of one matrix product. We write the cell once more from
# the equations, with minigrad ops, and check that it agrees with `layers.LSTMCell`.

# %%
def lstm_step_from_equations(x, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[-1]
    pre = x @ W_ih.mT + h @ W_hh.mT + b_ih + b_hh            # (B, 4H): [i | f | g | o]
    i = pre[:, 0 * H:1 * H].sigmoid()
    f = pre[:, 1 * H:2 * H].sigmoid()
    g = pre[:, 2 * H:3 * H].tanh()
    o = pre[:, 3 * H:4 * H].sigmoid()
    c_new = f * c + i * g
    return o * c_new.tanh(), c_new


B, D, H = 3, 5, 4
cell = layers.LSTMCell(D, H).double()
x = mg.Tensor(rng.standard_normal((B, D)), requires_grad=True)
h0 = mg.Tensor(rng.standard_normal((B, H)), requires_grad=True)
c0 = mg.Tensor(rng.standard_normal((B, H)), requires_grad=True)
h_layer, c_layer = cell(x, (h0, c0))
h_eq, c_eq = lstm_step_from_equations(x, h0, c0, cell.weight_ih, cell.weight_hh, cell.bias_ih,
                                      cell.bias_hh)
print("max |difference|, h:", np.abs(h_layer.numpy() - h_eq.numpy()).max(),
      " c:", np.abs(c_layer.numpy() - c_eq.numpy()).max())
assert np.allclose(h_layer.numpy(), h_eq.numpy(), atol=1e-15)
assert np.allclose(c_layer.numpy(), c_eq.numpy(), atol=1e-15)

# %% [markdown]
# ## 2. The LSTM step backward, on paper
#
# Suppose the loss reaches this step through $h_t$ and (from the next step) through $c_t$:
# $\bar h = \partial L/\partial h_t$, $\bar c_\text{next} = \partial L/\partial c_t$ from the
# future. Going backward through the equations, one line each:
#
# $$\begin{aligned}
# \bar o &= \bar h \odot \tanh(c_t), &
# \bar c &= \bar c_\text{next} + \bar h \odot o_t \odot \big(1 - \tanh^2(c_t)\big),\\
# \bar f &= \bar c \odot c_{t-1}, \quad \bar i = \bar c \odot g_t, \quad \bar g = \bar c \odot i_t, &
# \bar c_{t-1} &= \bar c \odot f_t,\\
# \bar a_i &= \bar i \odot i(1-i),\ \ \bar a_f = \bar f \odot f(1-f),\ \ \bar a_g = \bar g \odot (1-g^2),\ \ \bar a_o = \bar o \odot o(1-o), &&\\
# \bar W_{ih} &= \bar a^\top x_t, \quad \bar W_{hh} = \bar a^\top h_{t-1}, \quad \bar b = \textstyle\sum_\text{batch} \bar a, &
# \bar x_t &= \bar a\, W_{ih}, \quad \bar h_{t-1} = \bar a\, W_{hh},
# \end{aligned}$$
#
# where $\bar a = [\bar a_i, \bar a_f, \bar a_g, \bar a_o]$ stacks the four pre-activation
# gradients. Note the line $\bar c_{t-1} = \bar c \odot f_t$: along the cell state the
# gradient is only multiplied by the forget gate — no weight matrix, no squashing derivative.
# That is the LSTM's "gradient highway" (section 6 measures it).
#
# We code these lines in plain NumPy and compare them with what autograd computes on the
# **composed** cell of section 1, `lstm_step_from_equations`: a matrix product, slices,
# `sigmoid`, `tanh`, products and sums, each a primitive op with its own three-line
# backward. Autograd knows nothing about LSTMs there; if it agrees with the derivation,
# the derivation is right. (`layers.LSTMCell` is no witness for this: for speed its
# backward is itself derived by hand, the same lines as below — section 2b.)

# %%
def lstm_step_backward_by_hand(x, h_prev, c_prev, W_ih, W_hh, b, dh, dc_next):
    H = h_prev.shape[1]
    pre = x @ W_ih.T + h_prev @ W_hh.T + b
    sig = lambda z: 1 / (1 + np.exp(-z))
    i, f, g, o = sig(pre[:, :H]), sig(pre[:, H:2 * H]), np.tanh(pre[:, 2 * H:3 * H]), \
        sig(pre[:, 3 * H:])
    c = f * c_prev + i * g
    do = dh * np.tanh(c)
    dc = dc_next + dh * o * (1 - np.tanh(c) ** 2)
    df, di, dg, dc_prev = dc * c_prev, dc * g, dc * i, dc * f
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)],
                        axis=1)
    return {"W_ih": da.T @ x, "W_hh": da.T @ h_prev, "b": da.sum(axis=0),
            "x": da @ W_ih, "h_prev": da @ W_hh, "c_prev": dc_prev}


dh = rng.standard_normal((B, H))
dc_next = rng.standard_normal((B, H))
manual = lstm_step_backward_by_hand(x.numpy(), h0.numpy(), c0.numpy(), cell.weight_ih.numpy(),
                                    cell.weight_hh.numpy(),
                                    cell.bias_ih.numpy() + cell.bias_hh.numpy(), dh, dc_next)


def autograd_of(step):
    """Gradients of sum(h * dh) + sum(c * dc_next) through `step`, by backward()."""
    for t in (x, h0, c0, *cell.parameters()):
        t.grad = None
    h_new, c_new = step()
    ((h_new * mg.Tensor(dh)).sum() + (c_new * mg.Tensor(dc_next)).sum()).backward()
    return {"W_ih": cell.weight_ih.grad.numpy(), "W_hh": cell.weight_hh.grad.numpy(),
            "b": cell.bias_ih.grad.numpy(), "b_hh": cell.bias_hh.grad.numpy(),
            "x": x.grad.numpy(), "h_prev": h0.grad.numpy(), "c_prev": c0.grad.numpy()}


composed = autograd_of(lambda: lstm_step_from_equations(x, h0, c0, cell.weight_ih, cell.weight_hh,
                                                        cell.bias_ih, cell.bias_hh))
fused = autograd_of(lambda: cell(x, (h0, c0)))
print(f"{'':9s} {'by hand vs autograd (composed)':>31s} {'by hand vs LSTMCell (fused)':>28s}")
for name, value in manual.items():
    d_comp = np.abs(composed[name] - value).max()
    d_fused = np.abs(fused[name] - value).max()
    print(f"d{name:7s} {d_comp:31.1e} {d_fused:28.1e}")
    assert d_comp < 1e-13 and d_fused < 1e-13, name
assert np.array_equal(composed["b"], composed["b_hh"])       # b_ih and b_hh: same gradient

# %% [markdown]
# ## 2b. Through time, and the two ways minigrad runs an LSTM
#
# Over a sequence the step backward runs from the last step to the first, each step handing
# $\bar h_{t-1}$ and $\bar c_{t-1}$ to the one before and adding its weight gradients to a
# running sum: **backpropagation through time** (BPTT). Written out in NumPy with the step
# function above:

# %%
def bptt_by_hand(xs, h0_, c0_, W_ih, W_hh, b, dhs):
    """Gradients of sum_t <h_t, dhs[t]> for an LSTM run over xs (T, B, D), by hand."""
    hs, cs = [h0_], [c0_]
    H_ = h0_.shape[1]
    for x_t in xs:                                           # forward, keeping the states
        pre = x_t @ W_ih.T + hs[-1] @ W_hh.T + b
        sig = 1 / (1 + np.exp(-pre))
        c_t = sig[:, H_:2 * H_] * cs[-1] + sig[:, :H_] * np.tanh(pre[:, 2 * H_:3 * H_])
        hs.append(sig[:, 3 * H_:] * np.tanh(c_t))
        cs.append(c_t)
    grads = {"W_ih": 0, "W_hh": 0, "b": 0, "x": np.zeros_like(xs)}
    dh_future, dc_future = np.zeros_like(h0_), np.zeros_like(c0_)
    for t in reversed(range(len(xs))):                        # backward, last step first
        g = lstm_step_backward_by_hand(xs[t], hs[t], cs[t], W_ih, W_hh, b,
                                       dhs[t] + dh_future, dc_future)
        for name in ("W_ih", "W_hh", "b"):
            grads[name] = grads[name] + g[name]
        grads["x"][t] = g["x"]
        dh_future, dc_future = g["h_prev"], g["c_prev"]
    grads["h0"], grads["c0"] = dh_future, dc_future
    return grads


T_seq = 12
xs = mg.Tensor(rng.standard_normal((T_seq, B, D)), requires_grad=True)       # time-major
dhs = rng.standard_normal((T_seq, B, H))
params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
by_hand = bptt_by_hand(xs.numpy(), h0.numpy(), c0.numpy(), cell.weight_ih.numpy(),
                       cell.weight_hh.numpy(), cell.bias_ih.numpy() + cell.bias_hh.numpy(), dhs)


def run_layer(lstm_fn):
    """Output, loss, op count and gradients of one LSTM layer over xs, run by lstm_fn."""
    for t in (xs, h0, c0, *params):
        t.grad = None
    out = lstm_fn(xs, h0, c0, *params)                         # (2, T, B, H): h's and c's
    loss = (out[0] * mg.Tensor(dhs)).sum()
    n_ops = sum(1 for t in iter_graph(loss) if t.grad_fn is not None)
    loss.backward()
    grads = {"W_ih": cell.weight_ih.grad.numpy(), "W_hh": cell.weight_hh.grad.numpy(),
             "b": cell.bias_ih.grad.numpy(), "x": xs.grad.numpy(), "h0": h0.grad.numpy(),
             "c0": c0.grad.numpy()}
    return out.numpy(), n_ops, grads


out_f, ops_fused, g_fused = run_layer(lstm_fused)
out_c, ops_composed, g_composed = run_layer(lstm_reference)
assert np.allclose(out_f, out_c, rtol=0, atol=1e-14)
for name, value in by_hand.items():
    assert np.abs(g_composed[name] - value).max() < 1e-12, name      # by hand = autograd
    assert np.abs(g_fused[name] - value).max() < 1e-12, name         # ... = the fused op
print(f"BPTT over {T_seq} steps: by hand = autograd on the composed LSTM = the fused LSTM "
      "(every gradient to 1e-12)")
print(f"graph of the loss: {ops_fused} op nodes fused, {ops_composed} composed "
      f"({ops_composed / T_seq:.0f} per time step)")
assert ops_fused <= 5 and 15 * T_seq <= ops_composed <= 30 * T_seq     # "about twenty" a step

# %% [markdown]
# `minigrad.ops.lstm` (what `layers.LSTMCell` and `layers.LSTM` call) is **one graph node**
# for the whole sequence: its forward does all $T$ steps on raw arrays, its backward is the
# BPTT loop above, written once by hand (`minigrad/ops/fused.py`, class `LSTM`; its
# docstring lists the same lines). `minigrad.ops.fused.lstm_reference` is its composed twin:
# the equations of section 1 with primitive ops, about twenty graph nodes per time step,
# differentiated by autograd alone. Both give the same numbers (just asserted); they differ
# in what you can see and in speed:

# %%
T_big, B_big, H_big = (32, 8, 32) if QUICK else (64, 32, 128)      # full: W2's size
big = [mg.Tensor(rng.standard_normal(shape).astype("float32"), requires_grad=True)
       for shape in ((T_big, B_big, H_big), (B_big, H_big), (B_big, H_big), (4 * H_big, H_big),
                     (4 * H_big, H_big), (4 * H_big,), (4 * H_big,))]


def seconds_per_step(lstm_fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        lstm_fn(*big)[0].sum().backward()
        times.append(time.perf_counter() - start)
    return min(times)


t_fused, t_composed = seconds_per_step(lstm_fused), seconds_per_step(lstm_reference)
print(f"forward + backward, T = {T_big}, batch {B_big}, H = {H_big} (float32): "
      f"fused {1000 * t_fused:.1f} ms, composed {1000 * t_composed:.1f} ms "
      f"({t_composed / t_fused:.1f}x; timings vary with the machine and its load)")

# %% [markdown]
# The fused op runs **by default**, because it is faster: one node instead of twenty per
# step means fewer temporaries and far less bookkeeping in the backward loop. In the
# project's benchmark (`docs/benchmarks.md`, workload W2: a one-layer LSTM, batch 32, 64
# steps, 128 units, a whole training step) fusing the LSTM took a step from about 38 ms to
# about 14 ms. The ratio printed above is measured here and now; it varies with the sizes,
# the machine and whatever else runs on it, so the lesson prints it and asserts only what
# cannot vary: the same gradients, and one node against hundreds.
# To *see* backpropagation through time instead, switch every fused op of the library to its
# composed twin:
#
# ```python
# with mg.use_fused(False):          # or MINIGRAD_FUSED=0 in the environment
#     h, c = cell(x, (h0, c0))       # now twenty primitive ops per step
#     loss.backward(trace=True)      # one block of trace lines per time step
# ```
#
# Then `backward(trace=True)`, `minigrad.viz.draw_graph` and a debugger show every
# primitive op of every step. (This lesson calls `lstm_reference` directly, which is
# exactly what `use_fused(False)` makes the layers do.)

# %% [markdown]
# ## 3. Gradient checks
#
# The independent witness: central differences in float64, for every weight and input of
# an `LSTMCell` and an `RNNCell` (full Jacobians: these cells are small), and for a whole
# `LSTM` layer run over 6 time steps (random directions: `fast=True`).

# %%
for module, state in [(layers.LSTMCell(D, H).double(),
                       (mg.Tensor(rng.standard_normal((B, H)), requires_grad=True),
                        mg.Tensor(rng.standard_normal((B, H)), requires_grad=True))),
                      (layers.RNNCell(D, H).double(),
                       mg.Tensor(rng.standard_normal((B, H)), requires_grad=True))]:
    xin = mg.Tensor(rng.standard_normal((B, D)), requires_grad=True)
    result = layers.gradcheck_module(module, xin, state)
    print(result.report().splitlines()[0], f"max rel err {result.max_rel_error:.1e}")
    assert result.passed

seq_layer = layers.LSTM(D, H, num_layers=2).double()
xs = mg.Tensor(rng.standard_normal((2, 6, D)), requires_grad=True)
result = layers.gradcheck_module(seq_layer, xs, fast=True, directions=4)
print(result.report().splitlines()[0])
assert result.passed

# %% [markdown]
# ## 4. X3 — the document's code, and why it cannot run
#
# **What the document does.** D0 §5.2 builds the model in Keras (an embedding of 16, LSTM
# layers of 32 units returning full sequences with per-step dense layers, a softmax over the
# vocabulary, Adam, categorical cross-entropy) and trains it on one sentence of 43
# characters. It cuts that text into windows of 100 characters, each paired with the
# character that follows, so the number of training examples is `len(text) - 100`:
# $43 - 100 < 0$ windows, so the training set is **empty** and training fails before the
# first step. Here is the same construction on a 43-character string (our own, of the same
# length):

# %%
def windows(text, seq_len):
    return [(text[k:k + seq_len], text[k + seq_len]) for k in range(len(text) - seq_len)]


short_text = "a small model learns which letter comes nex"
print(len(short_text), "characters ->", len(windows(short_text, 100)), "windows of length 100")
assert len(short_text) == 43 and windows(short_text, 100) == []

corpus = load_text("tiny_corpus")
print(len(corpus), "characters in the bundled corpus ->", len(windows(corpus, 100)),
      "windows of length 100")
assert len(windows(corpus, 100)) > 4000

# %% [markdown]
# ## 5. F31 — the character model, trained
#
# `layers.CharLSTM` is F31: an embedding of each character id, an LSTM with 32 units that
# returns its state at every step ("full sequence"), and a dense layer at every step that
# scores each of the 46 characters; the softmax is inside the cross-entropy loss. The target
# at each position is the next character. We hold out the last 10 % of the corpus to
# measure the loss on text the model has not seen.
#
# A model that knows nothing predicts every character with probability $1/46$: loss
# $\ln 46 \approx 3.83$ nats per character. The document's sequence length (100) is used in
# full mode; quick mode uses shorter windows (and a larger learning rate than Keras' default
# $10^{-3}$, so that a few hundred steps suffice): 300 Adam steps in quick mode, 600 in full
# mode (printed below). Neither trains longer: the corpus is so small that the model would
# start memorising it (exercise 08.2).

# %%
chars = sorted(set(corpus))
stoi = {ch: k for k, ch in enumerate(chars)}
ids = np.array([stoi[ch] for ch in corpus])
split = int(0.9 * len(ids))
train_ids, val_ids = ids[:split], ids[split:]
V = len(chars)
# On 4.5 KB of text the model begins to memorise after ~600 steps at these settings: the
# training loss keeps falling, the validation loss rises again. Full mode stops there.
seq_len, batch, steps, lr = (48, 32, 300, 1e-2) if QUICK else (100, 32, 600, 3e-3)
print(f"vocabulary {V}, train {len(train_ids)} / validation {len(val_ids)} characters; "
      f"windows of {seq_len}, batches of {batch}, {steps} Adam steps at lr {lr}")
assert V == 46 and steps == (300 if QUICK else 600) and seq_len == (48 if QUICK else 100)


def random_windows(data, n, length, rng):
    start = rng.integers(0, len(data) - length - 1, n)
    x = np.stack([data[s:s + length] for s in start])
    y = np.stack([data[s + 1:s + length + 1] for s in start])
    return x, y


def validation_loss(model):
    model.eval()
    with mg.no_grad():
        length = min(seq_len, len(val_ids) - 1)
        starts = range(0, len(val_ids) - length - 1, length)
        x = np.stack([val_ids[s:s + length] for s in starts])
        y = np.stack([val_ids[s + 1:s + length + 1] for s in starts])
        return mg.cross_entropy(model(x), y).item()


def sample(model, prompt="The ", n=160, seed=1):
    out = model.generate([stoi[ch] for ch in prompt], n, temperature=0.7, seed=seed)
    return "".join(chars[k] for k in out)


mg.manual_seed(0)
model = layers.CharLSTM(V, embed_dim=16, hidden_size=32)
print(model)
print("parameters:", model.num_parameters())
before_text = sample(model)
before_val = validation_loss(model)
print(f"\nbefore training (validation loss {before_val:.3f}):\n{before_text}\n")

opt = optim.Adam(model.parameters(), lr=lr)
data_rng = np.random.default_rng(0)
history = optim.train(
    model, lambda m, b: mg.cross_entropy(m(b[0]), b[1]),
    lambda epoch: [random_windows(train_ids, batch, seq_len, data_rng) for _ in range(steps)],
    opt, epochs=1, clip_grad_norm=1.0, log_every=None)
after_val = validation_loss(model)
after_text = sample(model)
print(f"after {steps} steps (train loss {np.mean(history.losses[-20:]):.3f}, validation loss "
      f"{after_val:.3f}):\n{after_text}")

# %% [markdown]
# Is the sampled text better, measurably? One crude but honest score: the fraction of the
# generated words that are real words of the corpus.

# %%
vocabulary = set(corpus.lower().replace(".", " ").replace(",", " ").split())


def real_word_fraction(text):
    words = text.lower().replace(".", " ").replace(",", " ").split()[1:]   # skip the prompt
    return sum(w in vocabulary for w in words) / max(len(words), 1)


print(f"real words: before {real_word_fraction(before_text):.2f}, "
      f"after {real_word_fraction(after_text):.2f}")
assert len(history.losses) == steps
assert abs(before_val - np.log(V)) < 0.2            # untrained: about ln 46
assert history.losses[0] > 3.5 and np.mean(history.losses[-20:]) < (2.2 if QUICK else 1.6)
assert after_val < before_val - 1.3                  # the loss drops a lot, on unseen text too
assert real_word_fraction(after_text) > real_word_fraction(before_text) + 0.2

# %% [markdown]
# ## 6. How far back does the gradient reach? RNN vs LSTM
#
# Back-propagating from a loss at the last step $T$ to the state at step $t$ multiplies one
# Jacobian per step in between:
#
# $$\frac{\partial L}{\partial h_t} = \frac{\partial L}{\partial h_T}\,
#   \prod_{k=t+1}^{T} \frac{\partial h_k}{\partial h_{k-1}}, \qquad
#   \text{RNN: } \frac{\partial h_k}{\partial h_{k-1}} = \mathrm{diag}\big(1 - h_k^2\big)\, W_{hh}.$$
#
# With $\|W_{hh}\| < 1$ and $|1 - h^2| \le 1$ the product shrinks geometrically: the RNN
# cannot learn from events more than a few dozen steps back. Along the LSTM's cell state the
# factor is just $\mathrm{diag}(f_k)$ (section 2), so the gradient survives as long as the
# forget gate stays near 1. At initialisation, though, the forget gate's pre-activation is
# near 0, so $f \approx \sigma(0) = 0.5$ — no better than the RNN. The common remedy
# (Gers et al., 2000; Jozefowicz et al., 2015) is to initialise the forget-gate bias to a
# positive value, so that the cell *starts out* remembering.
#
# We run 60 steps of random input through an RNN cell and LSTM cells (32 units) and plot
# $\|\partial L/\partial h_t\|$ for a loss on the last state only. To get the gradient of every
# intermediate state we call `retain_grad()` on each $h_t$.

# %%
T_flow, D_flow, H_flow, B_flow = 60, 8, 32, 4
x_flow = mg.Tensor(rng.standard_normal((B_flow, T_flow, D_flow)))
readout = mg.Tensor(rng.standard_normal((B_flow, H_flow)))


def gradient_norms(cell, kind):
    states, h, hc = [], None, None
    for t in range(T_flow):
        if kind == "rnn":
            h = cell(x_flow[:, t], h)
        else:
            hc = cell(x_flow[:, t], hc)
            h = hc[0]
        h.retain_grad()
        states.append(h)
    (states[-1] * readout).sum().backward()
    return np.array([np.linalg.norm(s.grad.numpy()) for s in states])


def lstm_with_forget_bias(value):
    mg.manual_seed(0)
    cell = layers.LSTMCell(D_flow, H_flow).double()
    with mg.no_grad():
        cell.bias_ih.data[H_flow:2 * H_flow] += value          # rows H..2H are the forget gate
    return cell


mg.manual_seed(0)
flows = {"RNN (tanh)": gradient_norms(layers.RNNCell(D_flow, H_flow).double(), "rnn")}
for fb in (0.0, 1.0, 3.0):
    flows[f"LSTM, forget bias +{fb:g}"] = gradient_norms(lstm_with_forget_bias(fb), "lstm")
for name, g in flows.items():
    print(f"{name:24s} |dL/dh_t| / |dL/dh_T| at t = T-10: {g[-11] / g[-1]:.1e}, "
          f"at t = 0: {g[0] / g[-1]:.1e}")

rel = {name: g[0] / g[-1] for name, g in flows.items()}
assert rel["RNN (tanh)"] < 1e-8                       # vanished after 60 steps
assert rel["LSTM, forget bias +0"] < 1e-6             # the default LSTM is no better at init
assert rel["LSTM, forget bias +3"] > 1e-3             # the remembering LSTM still has signal
assert rel["LSTM, forget bias +1"] > 100 * rel["LSTM, forget bias +0"]

# %% [markdown]
# ## 7. Pictures
#
# Left: the training loss of the character model (and the $\ln 46$ line of a model that
# knows nothing). Right: the gradient reaching each time step, relative to the last one, on
# a log scale — straight lines are geometric decay.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
ax = axes[0]
losses = np.array(history.losses)
ax.plot(losses, alpha=0.35, label="per step")
k = 20
ax.plot(np.arange(k - 1, len(losses)), np.convolve(losses, np.ones(k) / k, mode="valid"),
        label=f"mean of {k} steps")
ax.axhline(np.log(V), color="grey", linestyle=":", label=r"$\ln 46$ (uniform guess)")
ax.axhline(after_val, color="k", linestyle="--", linewidth=0.8,
           label=f"validation after training {after_val:.2f}")
ax.set(xlabel="Adam step", ylabel="cross-entropy (nats / character)",
       title="F31 / X3: embedding -> LSTM(32) -> dense")
ax.legend()
ax = axes[1]
for name, g in flows.items():
    ax.semilogy(np.arange(T_flow), g / g[-1], label=name)
ax.set(xlabel="time step t",
       ylabel=r"$\|\partial L/\partial h_t\| \,/\, \|\partial L/\partial h_T\|$ (log scale)",
       title=f"gradient through time (loss on step {T_flow - 1} only)")
ax.legend(title="cell at initialisation")
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# Each exercise has a starter cell and a check cell: `check("08.1", answer)` prints
# *correct* or a hint; `solution("08.1")` shows a solution when you ask for it.
#
# **08.1** Section 6 uses untrained cells. To repeat the measurement with the trained
# `CharLSTM`, you need its forget gates. Write `forget_gate(x, h, W_ih, W_hh, b_ih, b_hh)`
# (NumPy arrays, PyTorch's gate order $i, f, g, o$) returning $f_t$ for one step; then apply
# it to `model.lstm.layer_parameters(0)` along the validation text. How large did the
# forget gates become during training?

# %%
def forget_gate(x, h, W_ih, W_hh, b_ih, b_hh):
    raise NotImplementedError("your code here")


# %%
check("08.1", forget_gate)

# %% [markdown]
# **08.2** Train the character model for 1 500 steps and record the validation loss every
# 100 steps. When does it start to rise while the training loss keeps falling? Repeat with
# `hidden_size=8` and `hidden_size=128`: which one memorises first? To decide where to stop,
# write `early_stop(val_losses, patience)`: the index of the best (lowest) validation loss
# seen before `patience` evaluations in a row fail to improve on it (or before the end).

# %%
def early_stop(val_losses, patience=3):
    raise NotImplementedError("your code here")


# %%
check("08.2", early_stop)

# %% [markdown]
# **08.3** Derive the backward pass of the RNN cell $h = \tanh(x W_{ih}^\top + h_{-1} W_{hh}^\top
# + b)$ on paper (as in section 2) and code it: `rnn_step_backward(x, h_prev, W_ih, W_hh, b,
# dh)` returning a dict with the gradients `"W_ih"`, `"W_hh"`, `"b"`, `"x"`, `"h_prev"`.

# %%
def rnn_step_backward(x, h_prev, W_ih, W_hh, b, dh):
    raise NotImplementedError("your code here")


# %%
check("08.3", rnn_step_backward)
