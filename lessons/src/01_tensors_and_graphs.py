# %% [markdown]
# # Lesson 01 — Tensors and the computation graph
#
# **Formulas:** F01 (dense layer $Z = \sigma(W X + b)$), F02 (pre-activation per unit
# $z_j = \sum_i W_{ji} x_i + b_j$), F03 (activation per unit $a_i = \sigma(z_i)$).
# **Worked example:** E01 (a dense ReLU layer whose printed answer is wrong).
#
# A `minigrad.Tensor` is an array plus a note of *how it was computed*. Every
# operation on tensors that require gradients appends a node to a graph; `backward()`
# walks that graph from the output back to the inputs, applying the chain rule once
# per node. In this lesson we
#
# 1. build a dense layer by hand from minigrad ops, twice: unit by unit (F02, F03) and
#    as one matrix product (F01);
# 2. recompute the documents' worked example E01;
# 3. look at the graph (`minigrad.viz.to_dot`, `minigrad.viz.draw_graph`);
# 4. derive the layer's gradients on paper, run `backward()` and read its trace;
# 5. confirm everything with a numerical gradient check.
#
# Set `MINIGRAD_FULL=1` in the environment for the full-size settings; the default
# (quick) settings run in a few seconds.

# %%
from course import *        # QUICK, mg, np, plt, seeds fixed; check() for the exercises
from minigrad import viz

# %% [markdown]
# ## 1. Tensors
#
# A tensor has `data` (a NumPy array here), a `dtype`, a `shape`, and a flag
# `requires_grad`. Python floats become **float32** by default, as in most deep-learning
# frameworks; for checking gradients we ask for **float64** explicitly, because the
# numerical check needs the extra digits (lesson 07 explains why).

# %%
x = mg.Tensor([1.0, 2.0, 3.0])
w = mg.Tensor([0.5, -1.0, 2.0], requires_grad=True, name="w")
print(x)
print(w)
print("dtype:", x.dtype, "| shape:", x.shape, "| leaf:", w.is_leaf, "| grad so far:", w.grad)

y = (w * x).sum()          # an op on a tensor that requires grad is recorded...
print(y, "<- produced by", y.grad_fn)
y.backward()               # ...so we can ask for dy/dw = x
print("dy/dw =", w.grad)
assert np.allclose(w.grad.numpy(), x.numpy())

# %% [markdown]
# ## 2. A dense layer, unit by unit (F02, F03) and as a matrix product (F01)
#
# The documents write a layer with the inputs as a **column** $X \in \mathbb{R}^{n}$
# (or a batch of columns, $X \in \mathbb{R}^{n \times m}$), weights
# $W \in \mathbb{R}^{k \times n}$ and bias $b \in \mathbb{R}^{k}$:
#
# $$z_j = \sum_{i=1}^{n} W_{ji}\, x_i + b_j \quad (\text{F02}), \qquad
#   a_j = \sigma(z_j) \quad (\text{F03}), \qquad
#   Z = \sigma(W X + b) \quad (\text{F01}).$$
#
# F01 is just F02 and F03 for all $j$ at once. We build the layer both ways with the
# same tensors and check that values *and* gradients agree. (minigrad's own layers use
# the row convention `X @ W.T` that PyTorch uses; here we follow the documents.)

# %%
rng = np.random.default_rng(0)
n_in, n_out, batch = 3, 4, 5
W = mg.Tensor(rng.standard_normal((n_out, n_in)), dtype="float64", requires_grad=True, name="W")
b = mg.Tensor(rng.standard_normal((n_out, 1)), dtype="float64", requires_grad=True, name="b")
X = mg.Tensor(rng.standard_normal((n_in, batch)), dtype="float64", requires_grad=True, name="X")


def dense_per_unit(W, b, X, act):
    """F02 + F03 literally: one scalar-weight multiply-add per (unit j, input i)."""
    rows = []
    for j in range(W.shape[0]):
        z_j = b[j]                              # shape (1,) broadcasts over the batch
        for i in range(W.shape[1]):
            z_j = z_j + W[j, i] * X[i]          # z_j += W_ji x_i
        rows.append(act(z_j))                   # a_j = sigma(z_j)
    return mg.stack(rows, axis=0)


def dense(W, b, X, act):
    """F01: the same layer as one matrix product."""
    return act(W @ X + b)


Z_units = dense_per_unit(W, b, X, mg.sigmoid)
Z_matrix = dense(W, b, X, mg.sigmoid)
print("max |difference| of the two forward passes:",
      np.abs(Z_units.numpy() - Z_matrix.numpy()).max())
assert np.allclose(Z_units.numpy(), Z_matrix.numpy(), rtol=0, atol=1e-14)

# the same gradients, too
grads = {}
for name, Z in [("per unit", Z_units), ("matrix", Z_matrix)]:
    W.grad = b.grad = X.grad = None
    Z.sum().backward()
    grads[name] = [t.grad.numpy() for t in (W, b, X)]
for g_units, g_matrix, name in zip(grads["per unit"], grads["matrix"], "WbX"):
    assert np.allclose(g_units, g_matrix, rtol=0, atol=1e-14), name
print("gradients of W, b, X agree between the two constructions")

# %% [markdown]
# ## 3. Worked example E01, recomputed
#
# **What the document says.** D0 §4.3.1 (the forward pass of a neural network) feeds
# $X = [1, 2]^\top$ through a ReLU layer with
# $W_1 = \begin{bmatrix}1&2\\3&4\\5&6\end{bmatrix}$ and $b = [1,1,1]^\top$, and gives the
# pre-activations as 6, 11 and 17, so that $H = [6, 11, 17]$. By hand:
#
# $$W_1 X + b = \begin{bmatrix}1\cdot1+2\cdot2+1\\ 3\cdot1+4\cdot2+1\\ 5\cdot1+6\cdot2+1\end{bmatrix}
#   = \begin{bmatrix}6\\12\\18\end{bmatrix}, \qquad H = \mathrm{ReLU}(\cdot) = [6, 12, 18].$$
#
# The second and third entries of the document are each one short (it looks as if the
# bias was added only to the first row).

# %%
X_e01 = mg.Tensor([[1.0], [2.0]], dtype="float64", name="X")
W_e01 = mg.Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype="float64", requires_grad=True,
                  name="W1")
b_e01 = mg.Tensor([[1.0], [1.0], [1.0]], dtype="float64", requires_grad=True, name="b")
H = dense(W_e01, b_e01, X_e01, mg.relu)
H.name = "H"
document_says = [6.0, 11.0, 17.0]
print("H =", H.numpy().ravel(), "  (document says", document_says, ")")
assert H.numpy().ravel().tolist() == [6.0, 12.0, 18.0]
assert H.numpy().ravel().tolist() != document_says

# %% [markdown]
# ## 4. The graph
#
# `H` remembers the op that produced it (`H.grad_fn`), that op remembers its inputs, and
# so on down to the *leaves* — the tensors we created ourselves. `to_dot` writes the
# graph as Graphviz text (paste it into any Graphviz viewer); `draw_graph` draws it with
# matplotlib, no Graphviz needed. Boxes are tensors (shaded: requires grad), rounded
# boxes are ops. A box shows the tensor's name (a layer's parameters are called by their
# qualified names, such as `fc1.weight`; a leaf you made yourself is an `input`, one
# without `requires_grad` a `constant`), its shape, and for a one-element tensor its
# value, the way micrograd draws scalar graphs. We give tensors names so the picture is
# readable.

# %%
pre = W_e01 @ X_e01
pre.name = "W1·X"
H = (pre + b_e01).relu()
H.name = "H"
L = H.sum()
L.name = "L"

node = H.grad_fn
print("H.grad_fn =", node, "-> its input was produced by", node.inputs[0].grad_fn,
      "-> whose inputs came from", [t.grad_fn or t.name for t in node.inputs[0].grad_fn.inputs])
dot = viz.to_dot(L)
print(dot)
assert dot.count("shape=ellipse") == 4          # MatMul, Add, ReLU, Sum
assert "W1" in dot and "shape (3, 2)" in dot and "leaf" not in dot
fig = viz.draw_graph(L, title="E01 as a graph, before backward()")

# %% [markdown]
# A network made of layers has many more nodes. `viz.track_modules(model)` notes which
# layer ran each op while the forward pass runs; `draw_graph(..., modules=...)` then draws
# one box per layer (its class, how many ops and parameters it holds and, after backward,
# the norm of its parameters' gradients) — the way to fit a transformer block on a page
# (lesson 10). `depth=2` would cut one level deeper into nested modules.

# %%
seed_everything(0)
mlp = layers.MLP([3, 8, 8, 2])
x_mlp = mg.Tensor(np.random.default_rng(0).standard_normal((4, 3)), dtype="float32")
with viz.track_modules(mlp) as tracked:
    loss_mlp = (mlp(x_mlp) ** 2).mean()
loss_mlp.name = "loss"
loss_mlp.backward(retain_graph=True)
nodes_full, _ = viz.graph_nodes(loss_mlp)
nodes_boxed, _ = viz.graph_nodes(loss_mlp, modules=tracked)
print(f"{len(nodes_full)} nodes drawn one by one, {len(nodes_boxed)} with one box per layer")
assert len(nodes_boxed) < len(nodes_full)
assert sum(n["kind"] == "module" for n in nodes_boxed) == 5     # Linear, ReLU, Linear, ReLU, Linear
fig = viz.draw_graph(loss_mlp, modules=tracked, title="MLP([3, 8, 8, 2]): one box per layer")

# %% [markdown]
# ## 5. The backward pass on paper
#
# Take any scalar loss $L$ of the layer output, and write $G = \partial L / \partial Z$
# (same shape as $Z$). With $A = W X + b$ and $Z = \sigma(A)$ elementwise, the chain
# rule gives, one op at a time from the output back:
#
# $$\frac{\partial L}{\partial A} = G \odot \sigma'(A), \qquad
#   \frac{\partial L}{\partial W} = \frac{\partial L}{\partial A}\, X^\top, \qquad
#   \frac{\partial L}{\partial b} = \sum_{\text{batch}} \frac{\partial L}{\partial A}, \qquad
#   \frac{\partial L}{\partial X} = W^\top \frac{\partial L}{\partial A}.$$
#
# Entry by entry, $\partial L/\partial W_{ji} = \sum_m (\partial L/\partial A_{jm})\, X_{im}$:
# weight $W_{ji}$ connects input $i$ to unit $j$, so its gradient is "the unit's error
# times the input it saw", summed over the examples of the batch. The bias is broadcast
# over the batch, so its gradient is summed over the batch (broadcasting forward =
# summing backward). For ReLU, $\sigma'(a) = [a > 0]$; for the sigmoid,
# $\sigma'(a) = \sigma(a)(1 - \sigma(a))$.
#
# For E01 with $L = \sum_j H_j$: $G = 1$, every pre-activation is positive, so
# $\partial L/\partial A = [1,1,1]^\top$, $\partial L/\partial W_1 = [1,1,1]^\top [1, 2]$
# (every row is $X^\top$) and $\partial L/\partial b = [1,1,1]^\top$.
#
# Now let `backward(trace=True)` do it and print each step of its loop: which node it
# visits, the norm of the gradient arriving there, and the norms of the gradients it
# sends to the node's inputs (`-` stands for an input that needs no gradient). We keep
# the graph (`retain_graph=True`) so we can draw it again with the gradients filled in —
# every box that has a gradient now shows its norm — and ask `H` to keep its own gradient.

# %%
H.retain_grad()
L.backward(retain_graph=True, trace=True)
print("dL/dW1 =\n", W_e01.grad.numpy())
print("dL/db  =", b_e01.grad.numpy().ravel())
assert np.array_equal(W_e01.grad.numpy(), np.array([[1.0, 2.0]] * 3))
assert np.array_equal(b_e01.grad.numpy(), np.ones((3, 1)))
# the norms the text below reads off the trace
assert np.isclose(np.linalg.norm(H.grad.numpy()), np.sqrt(3))          # ones, norm sqrt 3
assert np.isclose(np.linalg.norm(W_e01.grad.numpy()), np.sqrt(3 * 5))  # G X^T, norm sqrt 15
fig = viz.draw_graph(L, title="E01 after backward(): gradient norms filled in")
assert "grad norm" in viz.to_dot(L)

# %% [markdown]
# Reading the trace: step 0 is the `Sum` (gradient 1 arrives, a vector of ones of norm
# $\sqrt 3$ leaves), then `ReLU` (passes it through because every entry is positive),
# `Add` (copies it to both inputs), `MatMul` (sends $G X^\top$ to $W_1$, norm
# $\sqrt{3 \cdot 5}$). The `trace_backward` context manager records the same steps
# without printing, so a program (or a test) can inspect them.

# %%
with mg.trace_backward(echo=False) as trace:
    W.grad = b.grad = X.grad = None
    dense(W, b, X, mg.sigmoid).sum().backward()
ops_visited = [step.op for step in trace.steps]
print(ops_visited)
assert ops_visited == ["Sum", "Sigmoid", "Add", "MatMul"]

# compare the hand-derived formulas above with what backward() produced
A = W.numpy() @ X.numpy() + b.numpy()
s = 1 / (1 + np.exp(-A))
dA = 1.0 * s * (1 - s)                      # G = 1 because L = sum(Z)
manual = {"W": dA @ X.numpy().T, "b": dA.sum(axis=1, keepdims=True), "X": W.numpy().T @ dA}
for name, t in zip("WbX", (W, b, X)):
    diff = np.abs(manual[name] - t.grad.numpy()).max()
    print(f"max |manual - autograd| for d{name}: {diff:.1e}")
    assert diff < 1e-12

# %% [markdown]
# ### Backprop, one step at a time
#
# The backward loop visits the graph from the output back. Each time it finishes a
# tensor's gradient (every op that used the tensor has sent its share), that gradient is
# final and the tensor's own op can pass it on. `viz.record_backward(L)` runs
# `L.backward()` once and remembers, for every tensor, its gradient and the moment it was
# finished; `draw_graph(L, record=rec, step=k)` draws the graph as the loop knows it after
# `k` finished tensors. Green boxes are finished, the yellow one is next. With
# `ipywidgets` installed, `viz.backward_slider(L, rec)` gives a slider over the same
# frames; without it we draw them all, side by side. We use a one-number version of E01
# (the first unit only) so that every box shows a value and a gradient.

# %%
x_s = mg.Tensor([1.0, 2.0], dtype="float64", name="x")
w_s = mg.Tensor([1.0, 2.0], dtype="float64", requires_grad=True, name="w")
b_s = mg.Tensor([1.0], dtype="float64", requires_grad=True, name="b")
wx = (w_s * x_s).sum()
wx.name = "w·x"
z_s = wx + b_s
z_s.name = "z"
h_s = z_s.relu()
h_s.name = "h"
L_s = h_s * h_s
L_s.name = "L = h²"
rec = viz.record_backward(L_s)
print("order in which the loop finished the gradients:", rec.names)
# dL/dh = 2h = 12; the ReLU passes it (z = 6 > 0); so dL/db = 12 and dL/dw = 12 x
assert rec.names[0] == "L = h²" and rec.names[1] == "h"
assert b_s.grad.item() == 12.0 and w_s.grad.numpy().tolist() == [12.0, 24.0]
assert len(rec) == 7          # L, h, z, w·x, w*x, w, b (x needs no gradient)
slider = viz.backward_slider(L_s, rec)
if slider is None:            # no ipywidgets: the static frames
    fig = viz.draw_backward_steps(L_s, rec)

# %% [markdown]
# ## 6. Gradient check
#
# An independent witness: `minigrad.gradcheck` perturbs every input entry by
# $\pm\varepsilon$, recomputes the forward pass, and compares the central difference
# $\big(L(x+\varepsilon) - L(x-\varepsilon)\big)/2\varepsilon$ with the gradient from
# `backward()`. It folds a non-scalar output into a scalar with fixed random weights,
# so the upstream gradient $G$ is not all ones. A correct backward in float64 shows
# relative errors around $10^{-8}$ or smaller; a wrong one is off by order one.

# %%
for act in (mg.sigmoid, mg.tanh, mg.relu):
    result = mg.gradcheck(lambda W, b, X: dense(W, b, X, act), W, b, X, name=act.__name__)
    print(result.report().splitlines()[0], f"max rel err {result.max_rel_error:.1e}")
    assert result.passed and result.max_rel_error < 1e-6

# the per-unit construction is checked the same way
result = mg.gradcheck(lambda W, b, X: dense_per_unit(W, b, X, mg.sigmoid), W, b, X)
assert result.passed

# %% [markdown]
# ## 7. Picture: what the gradient of one neuron looks like
#
# A single sigmoid neuron with two inputs, $z = \sigma(w_1 x_1 + w_2 x_2 + b)$. We
# evaluate it on a grid of inputs (one grid point per column of $X$, F01's batch
# convention) and call `backward()` once on $\sum z$: since each output depends only on
# its own column, $\partial(\sum z)/\partial X$ holds the gradient $\nabla_x z$ at every
# grid point. The arrows point uphill and are longest on the ridge where
# $\sigma' = \sigma(1-\sigma)$ peaks, at $z = 0.5$.

# %%
n_grid = 15 if QUICK else 41
g1, g2 = np.meshgrid(np.linspace(-3, 3, n_grid), np.linspace(-3, 3, n_grid))
X_grid = mg.Tensor(np.stack([g1.ravel(), g2.ravel()]), dtype="float64", requires_grad=True)
w_neuron = mg.Tensor([[1.5, -1.0]], dtype="float64")
b_neuron = mg.Tensor([[0.5]], dtype="float64")
z = dense(w_neuron, b_neuron, X_grid, mg.sigmoid)
z.sum().backward()
dz = X_grid.grad.numpy()

# the gradient of a sigmoid neuron is sigma'(a) * w: check it at every grid point
zz = z.numpy().ravel()
assert np.allclose(dz, (zz * (1 - zz))[None, :] * w_neuron.numpy().T)

fig, ax = plt.subplots(figsize=(5.5, 4.5))
im = ax.contourf(g1, g2, zz.reshape(g1.shape), levels=20, cmap="viridis")
every = max(1, n_grid // 13)          # at most ~15 arrows a side, however fine the grid
sub = (slice(None, None, every), slice(None, None, every))
ax.quiver(g1[sub], g2[sub], dz[0].reshape(g1.shape)[sub], dz[1].reshape(g1.shape)[sub],
          color="white")
ax.contour(g1, g2, zz.reshape(g1.shape), levels=[0.5], colors="red", linewidths=1)
fig.colorbar(im, ax=ax, label=r"$z=\sigma(w\cdot x+b)$")
ax.set(xlabel="$x_1$", ylabel="$x_2$",
       title=r"one sigmoid neuron and $\nabla_x z$ from backward()")
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# Each exercise has a starter cell: fill in your answer and run the `check(...)` line
# below it. It says whether the answer is right and, if not, gives a hint;
# `solution("01.1")` shows the reference answer when you want it.
#
# **01.1** Change E01's activation to the sigmoid and compute $H$ and
# $\partial L/\partial W_1$ (for $L = \sum_j H_j$) by hand with the formulas of section 5,
# then compare with `backward()`.

# %%
H_sigmoid = None      # your H, a (3, 1) array
dW1_sigmoid = None    # your dL/dW1, a (3, 2) array
check("01.1", (H_sigmoid, dW1_sigmoid))

# %% [markdown]
# **01.2** In section 4, replace `L = H.sum()` by `L = (H * H).sum()`. Predict
# $\partial L / \partial b$ before running it. How does the trace change?

# %%
dL_db_squared = None  # your prediction, a (3, 1) array
check("01.2", dL_db_squared)

# %% [markdown]
# **01.3** Use one tensor twice: `L = (W_e01 @ X_e01 + W_e01 @ X_e01).sum()`. What is
# `W_e01.grad` now, and why twice as large? Find the place in `minigrad/autograd.py`
# where the two contributions are added.

# %%
W1_grad_twice = None  # your answer, a (3, 2) array
check("01.3", W1_grad_twice)
