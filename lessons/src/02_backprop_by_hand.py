# %% [markdown]
# # Lesson 02 — Backprop by hand vs autograd
#
# **Formulas:** F05 (two-layer sigmoid net), F12 (half sum of squares), F21 (chain rule for
# one weight and the update $\Delta w = -\eta\, \partial J/\partial w$), F22 (output delta),
# F23 (hidden delta), F24 (weight and bias gradients), F25 (the tanh backward, and the
# documents' wrong one).
# **Worked examples:** E03, E05, E06.
#
# Backpropagation is the chain rule applied in a clever order. Here we do it by hand for a
# two-layer sigmoid network — the "deltas" of the textbooks — and check every number
# against minigrad's `backward()`, to the last bit that float64 can hold. Then we train the
# documents' tiny network for ten steps to see what its trajectory really is, recompute two
# more worked examples, catch a wrong derivative with a gradient check, and finish with how
# to step through a backward pass in a debugger.

# %%
import inspect
import subprocess
import sys
import tempfile
from pathlib import Path

from course import *        # QUICK, mg, np, plt, seeds fixed; check() for the exercises


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# %% [markdown]
# ## 1. The network and its deltas, on paper
#
# F05, with the input as a column $x \in \mathbb{R}^{n}$, a hidden layer of $h$ units and
# $k$ outputs:
#
# $$z_2 = W_1 x + b_1,\quad a_2 = \sigma(z_2),\qquad z_3 = W_2 a_2 + b_2,\quad a_3 = \sigma(z_3),
#   \qquad J = \tfrac12 \sum_k (y_k - a_{3,k})^2 \quad (\text{F12}).$$
#
# Work backwards, one link of the chain at a time (F21), using
# $\sigma'(z) = \sigma(z)(1-\sigma(z)) = a(1-a)$:
#
# * $\partial J/\partial a_3 = -(y - a_3)$, so
#   $\partial J/\partial z_3 = -a_3(1-a_3)(y-a_3)$. The documents name the negative of this
#   the **output delta** (F22):
#   $$\delta_3 = a_3 \odot (1-a_3) \odot (y - a_3) = -\frac{\partial J}{\partial z_3}.$$
# * $z_3$ depends on $a_2$ through $W_2$: $\partial J/\partial a_2 = W_2^\top\,\partial J/\partial z_3
#   = -W_2^\top \delta_3$, and through the sigmoid once more, the **hidden delta** (F23):
#   $$\delta_2 = a_2 \odot (1-a_2) \odot (W_2^\top \delta_3) = -\frac{\partial J}{\partial z_2}.$$
# * $z_{3,k} = \sum_j W_{2,kj}\, a_{2,j} + b_{2,k}$, so $\partial z_{3,k}/\partial W_{2,kj} = a_{2,j}$
#   and (F24)
#   $$\frac{\partial J}{\partial W_2} = -\delta_3\, a_2^\top,\quad \frac{\partial J}{\partial b_2} = -\delta_3,\qquad
#     \frac{\partial J}{\partial W_1} = -\delta_2\, x^\top,\quad \frac{\partial J}{\partial b_1} = -\delta_2.$$
#   Each weight's gradient is "delta of the unit it feeds" times "the input it carries"
#   (an outer product). For a batch of columns the products $\delta\, a^\top$ sum over the
#   batch automatically and the bias gradients are summed over the batch.
# * The update (F21) is $\Delta w = -\eta\,\partial J/\partial w$, i.e. $W_2 \mathrel{+}= \eta\,\delta_3 a_2^\top$.
#   Mind the sign: with the documents' $\delta = -\partial J/\partial z$, the update *adds*
#   $\eta\,\delta \otimes \text{input}$.

# %%
def forward_numpy(params, x):
    W1, b1, W2, b2 = params
    a2 = sigmoid(W1 @ x + b1)
    a3 = sigmoid(W2 @ a2 + b2)
    return a2, a3


def backprop_by_hand(params, x, y):
    """F22-F24 literally. Returns dJ/dW1, dJ/db1, dJ/dW2, dJ/db2 for J = 1/2 sum (y - a3)^2."""
    W1, b1, W2, b2 = params
    a2, a3 = forward_numpy(params, x)
    delta3 = a3 * (1 - a3) * (y - a3)                 # F22
    delta2 = a2 * (1 - a2) * (W2.T @ delta3)          # F23
    return (-delta2 @ x.T, -delta2.sum(axis=1, keepdims=True),     # F24
            -delta3 @ a2.T, -delta3.sum(axis=1, keepdims=True))


def forward_minigrad(params, x, y):
    W1, b1, W2, b2 = params
    a2 = (W1 @ x + b1).sigmoid()
    a3 = (W2 @ a2 + b2).sigmoid()
    return mg.half_sse(a3, y)                         # F12: 1/2 sum (y - a3)^2


# %% [markdown]
# ## 2. By hand vs `backward()`, to machine precision
#
# A network with 4 inputs, 5 hidden units, 3 outputs and a batch of 8 examples, all in
# float64. The hand-written deltas and autograd perform the same arithmetic in a slightly
# different order, so they can differ only by rounding: we demand agreement to $10^{-12}$.

# %%
rng = np.random.default_rng(42)
n_in, n_hidden, n_out, batch = 4, 5, 3, 8
params_np = [rng.standard_normal((n_hidden, n_in)), rng.standard_normal((n_hidden, 1)),
             rng.standard_normal((n_out, n_hidden)), rng.standard_normal((n_out, 1))]
x_np = rng.standard_normal((n_in, batch))
y_np = rng.random((n_out, batch))

params = [mg.Tensor(p, requires_grad=True, name=n)
          for p, n in zip(params_np, ["W1", "b1", "W2", "b2"])]
J = forward_minigrad(params, mg.Tensor(x_np), mg.Tensor(y_np))
J.backward()

manual = backprop_by_hand(params_np, x_np, y_np)
differences = {}
for p, m in zip(params, manual):
    differences[p.name] = np.abs(p.grad.numpy() - m).max()
    print(f"d J / d {p.name}: max |autograd - by hand| = {differences[p.name]:.2e}")
assert all(d < 1e-12 for d in differences.values())
assert all(p.dtype == np.float64 for p in params)

# %% [markdown]
# And the independent check, which trusts neither: central differences of $J$ itself.

# %%
x_t, y_t = mg.Tensor(x_np), mg.Tensor(y_np)
leaves = [mg.Tensor(p, requires_grad=True) for p in params_np]
gc = mg.gradcheck(lambda W1, b1, W2, b2: forward_minigrad([W1, b1, W2, b2], x_t, y_t), *leaves)
print(gc.report())
assert gc.passed and gc.max_rel_error < 1e-6

# %% [markdown]
# ## 3. E06 — the documents' ten training steps, actually run
#
# **What the document says.** D3 §4.3.2 (training the model) sets up a small sigmoid net
# with every weight 0.5, biases 0, target $y = 0$ and learning rate $\eta = 0.01$; its
# forward pass gives $a_2 = a_3 = 0.5$, the loss $L = 0.25$ and the output delta
# $\delta_3 = -0.125$. D3 §4.3.3 (iterating) then lists $a_3$ falling
# $0.5 \to 0.49 \to 0.48875 \to \dots \to 0.48096875$ over 10 iterations.
#
# It does not give the input. A hidden activation $a_2 = \sigma(0.5\,x) = 0.5$ forces
# **$x = 0$**, so that is the input we use, with one unit per layer (1 → 1 → 1) and the loss
# $J = \frac12 (y - a_3)^2$ (F12). Then:
#
# * $a_2 = \sigma(0) = 0.5$ as the document says, but $a_3 = \sigma(0.5 \cdot 0.5) = \sigma(0.25)
#   \approx 0.5622$, not 0.5: no input makes $a_3 = 0.5$, since that needs
#   $W_2 a_2 + b_2 = 0$ with $W_2 = 0.5$, $a_2 > 0$, $b_2 = 0$.
# * The document's $\delta_3 = 0.5 \cdot 0.5 \cdot (0 - 0.5) = -0.125$ is the right formula
#   applied to its $a_3 = 0.5$ — so as *arithmetic* the document's $-0.125$ is right
#   (the errata table of lesson 12 records it so) — but with the true $a_3$ the same formula
#   gives $\approx -0.1384$. Its $L = 0.25$ sums $(0 - 0.5)^2$ over two outputs, while the
#   network has one: $\frac12 (y - a_3)^2$ is $0.125$ at its $a_3 = 0.5$.
# * With $x = 0$, $\partial J/\partial W_1 = -\delta_2 x = 0$: the first weight never moves.
#
# How far can $a_3$ move in one step? Roughly
# $\Delta z_3 \approx \eta\,\delta_3\,(a_2^2 + 1) \approx -0.0017$, so
# $\Delta a_3 \approx a_3(1-a_3)\,\Delta z_3 \approx -0.0004$: the document's first drop of
# 0.01 is more than 20 times too large. We train with minigrad (gradients from `backward()`,
# plain gradient descent, F14/F21) and check each step against the hand-written deltas.

# %%
x_e06, y_e06, eta, steps = 0.0, 0.0, 0.01, 10
w = {name: mg.Tensor([[0.5 if name.startswith("W") else 0.0]], dtype="float64",
                      requires_grad=True, name=name)
     for name in ["W1", "b1", "W2", "b2"]}
hand = {name: t.numpy().copy() for name, t in w.items()}      # a parallel run with F22-F24

a3_trajectory, hand_trajectory, losses = [], [], []
for step in range(steps + 1):
    a2 = (w["W1"] @ mg.Tensor([[x_e06]], dtype="float64") + w["b1"]).sigmoid()
    a3 = (w["W2"] @ a2 + w["b2"]).sigmoid()
    J = mg.half_sse(a3, mg.Tensor([[y_e06]], dtype="float64"))
    a3_trajectory.append(a3.item())
    losses.append(J.item())
    p = [hand[n] for n in ["W1", "b1", "W2", "b2"]]
    hand_trajectory.append(forward_numpy(p, np.array([[x_e06]]))[1].item())
    if step == 0:
        delta3_start = (a3.item() * (1 - a3.item()) * (y_e06 - a3.item()))
    if step == steps:
        break                                   # 10 updates -> 11 recorded values
    J.backward()
    with mg.no_grad():
        for t in w.values():                    # theta <- theta - eta * dJ/dtheta
            t.sub_(t.grad * eta)
            t.grad = None
    for name, g in zip(["W1", "b1", "W2", "b2"], backprop_by_hand(p, np.array([[x_e06]]),
                                                                    np.array([[y_e06]]))):
        hand[name] = hand[name] - eta * g

a3_trajectory = np.array(a3_trajectory)
print("x used:", x_e06)
print("delta3 at the start:", round(delta3_start, 4), "(document: -0.125)")
print("a3 over 10 steps:", np.round(a3_trajectory, 6))
print("first drop:", a3_trajectory[0] - a3_trajectory[1], "(document: 0.01)")
assert abs(a3_trajectory[0] - sigmoid(0.25)) < 1e-12
assert abs(delta3_start - (-0.13844)) < 1e-4
assert 0.5 * (1 - 0.5) * (0 - 0.5) == -0.125 and 0.5 * (0 - 0.5) ** 2 == 0.125  # at a3 = 0.5
assert 0.48096875 - 0.5 < -0.019 < a3_trajectory[-1] - a3_trajectory[0] < 0  # ten real steps
assert np.all(np.diff(a3_trajectory) < 0)                         # it does fall...
assert 3e-4 < a3_trajectory[0] - a3_trajectory[1] < 6e-4          # ...but ~0.0004 per step
assert np.allclose(a3_trajectory, hand_trajectory, rtol=0, atol=1e-14)
assert w["W1"].item() == 0.5                                       # x = 0: W1 never moves
document = {0: 0.5, 1: 0.49, 2: 0.48875, 10: 0.48096875}

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
ax.plot(range(steps + 1), a3_trajectory, "o-", label="trained with minigrad (x = 0)")
ax.plot(list(document), list(document.values()), "s--", color="tab:red",
        label="document (steps 3-9 not given)")
ax.set(xlabel="iteration", ylabel="$a_3$", title="E06: output over 10 gradient steps")
ax.legend()
ax = axes[1]
ax.plot(range(steps + 1), a3_trajectory, "o-")
ax.set(xlabel="iteration", ylabel="$a_3$", title="the true trajectory, zoomed in")
ax.ticklabel_format(useOffset=False)
fig.tight_layout()

# %% [markdown]
# ## 4. E05 — the derivative of the sigmoid output
#
# **What the document says.** D1 §3 (the backpropagation algorithm) writes, for a sigmoid
# output $a = \sigma(z)$ with squared error, $\partial J/\partial z = (1-a)(a-y)$, and
# builds its table of weight updates on it. The sigmoid's derivative is $a(1-a)$, so for
# $J = \frac12 (y-a)^2$
#
# $$\frac{\partial J}{\partial z} = \frac{\partial J}{\partial a}\,\frac{\partial a}{\partial z}
#   = (a - y)\; a(1-a),$$
#
# while for binary cross-entropy $J = -[y\log a + (1-y)\log(1-a)]$ the $a(1-a)$ cancels
# and $\partial J/\partial z = a - y$. The document's expression is off by a factor $a$.
# We let autograd decide, for a few values of $z$:

# %%
z = mg.Tensor([-2.0, -0.5, 0.0, 1.0, 3.0], dtype="float64", requires_grad=True)
y_e05 = mg.Tensor([1.0, 0.0, 1.0, 0.0, 1.0], dtype="float64")
a = z.sigmoid()
mg.half_sse(a, y_e05).backward()
dz_sq = z.grad.numpy()
z.grad = None
mg.binary_cross_entropy(z.sigmoid(), y_e05, reduction="sum").backward()
dz_bce = z.grad.numpy()
a_, y_ = a.numpy(), y_e05.numpy()
print("autograd, squared error :", np.round(dz_sq, 5))
print("a(1-a)(a-y)             :", np.round(a_ * (1 - a_) * (a_ - y_), 5))
print("document's (1-a)(a-y)   :", np.round((1 - a_) * (a_ - y_), 5))
print("autograd, cross-entropy :", np.round(dz_bce, 5), " = a - y:", np.round(a_ - y_, 5))
assert np.allclose(dz_sq, a_ * (1 - a_) * (a_ - y_), atol=1e-14)
assert np.allclose(dz_bce, a_ - y_, atol=1e-12)
assert not np.allclose(dz_sq, (1 - a_) * (a_ - y_))

# %% [markdown]
# ## 5. E03 — a sigmoid layer whose shapes do not fit
#
# **What the document says.** D1 §1 (the multilayer perceptron) gives $x = [1,2,3]$,
# $W = \begin{bmatrix}0.1&0.2\\0.3&0.4\end{bmatrix}$, $b = [0.1, 0.2]$ and reports
# $z = [1.2, 1.6]$, $a = [0.8788, 0.8614]$. A $2\times2$ matrix
# cannot multiply a 3-vector — minigrad says so — and the document's own written-out sums
# give $z = [1.5, 1.9]$ instead. Whichever $z$ one takes, the printed $a$ is not its
# sigmoid: $\sigma(1.2) = 0.7685$, $\sigma(1.6) = 0.8320$, $\sigma(1.5) = 0.8176$,
# $\sigma(1.9) = 0.8699$.

# %%
x_e03 = mg.Tensor([1.0, 2.0, 3.0])
W_e03 = mg.Tensor([[0.1, 0.2], [0.3, 0.4]])
try:
    W_e03 @ x_e03
    raise AssertionError("a 2x2 matrix times a 3-vector should not work")
except mg.ShapeError as err:
    print("ShapeError:", err)

for z_read, label in [([1.2, 1.6], "document's z"), ([1.5, 1.9], "document's own sums")]:
    a_read = mg.sigmoid(mg.Tensor(z_read, dtype="float64")).numpy()
    print(f"{label:20s} z = {z_read} -> sigma(z) = {np.round(a_read, 4)}")
assert np.allclose(mg.sigmoid(mg.Tensor([1.2, 1.6, 1.5, 1.9], dtype="float64")).numpy(),
                   [0.7685, 0.8320, 0.8176, 0.8699], atol=5e-5)
assert not np.allclose(sigmoid(np.array([1.2, 1.6])), [0.8788, 0.8614], atol=1e-3)

# %% [markdown]
# ## 6. F25 — a wrong tanh derivative, caught
#
# $\tanh'(z) = 1 - \tanh^2(z)$. **What the document says:** the NumPy network of D2
# (section "operating steps" of its code example) back-propagates through its tanh hidden
# layer by multiplying with `1 - tanh(z)` instead (and then updates the weights with the gradient with
# respect to the layer's *input*, a vector of the input's shape, rather than with respect
# to the weights, an outer product of the weights' shape — two different quantities).
#
# A custom op is a `minigrad.Function` subclass with a `forward` on arrays and a
# `backward` that maps the output's gradient to the input's. We write the document's
# version and let `gradcheck` judge both.

# %%
class TanhAsInTheDocument(mg.Function):
    """forward: tanh;  backward: g * (1 - tanh)   <- wrong, should be 1 - tanh**2."""

    def forward(self, a):
        return np.tanh(a)

    def backward(self, grad):
        return grad * (1.0 - self.output)


z = mg.Tensor(np.linspace(-2, 2, 7), requires_grad=True)
good = mg.gradcheck(mg.tanh, z, name="tanh (1 - tanh^2)")
bad = mg.gradcheck(TanhAsInTheDocument.apply, z, raise_exception=False, name="tanh (1 - tanh)")
print(good.report(), "\n")
print(bad.report())
assert good.passed and not bad.passed
assert bad.max_rel_error > 0.1

# the second slip: the gradient w.r.t. the input is not the gradient w.r.t. the weights
W_t = mg.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
x_t = mg.Tensor(rng.standard_normal((4, 1)), requires_grad=True)
(W_t @ x_t).tanh().sum().backward()
print("dJ/dW has shape", W_t.grad.shape, "; dJ/dx has shape", x_t.grad.shape)
assert W_t.grad.shape != x_t.grad.shape

# %% [markdown]
# ## 7. Stepping through a backward pass in a debugger
#
# Reading the trace (lesson 01) tells you *what* happened; a debugger lets you stop inside
# an op's backward and look at the actual arrays: `grad` (the gradient arriving from
# above), `self.inputs` and `self.output`. Two places are worth a breakpoint:
# `minigrad/autograd.py`, function `_run_backward` (the loop that visits each node in
# reverse topological order and calls `fn.backward(g)`), and the `backward` of the op you
# care about — here `Mul.backward`, the product rule `grad * b`, `grad * a`.
#
# **What works after `pip install -e .`** (the editable install the README and
# `make lessons` use). That install puts a *finder hook* on `sys.path`, not the checkout's
# folder, so `b minigrad/ops/arithmetic.py:NN` — a path relative to `sys.path` — is **not
# found** by pdb. What works everywhere:
#
# 1. `b /absolute/path/to/minigrad/ops/arithmetic.py:NN` — an absolute `path:line`, which
#    `minigrad.where_is("Mul")` prints for you (any op name, fused or composed); it also
#    works in VS Code and PyCharm;
# 2. `b minigrad.ops.arithmetic.Mul.backward` — pdb also accepts a function by its dotted
#    name once the module is imported;
# 3. in a notebook or script, no breakpoint to set at all:
#
#    ```python
#    with minigrad.break_in("Mul"):     # the first Mul.backward inside stops in pdb,
#        loss.backward()                # on its first line: p grad, p self.inputs, u, n, c
#    ```
#
#    (not run here: the notebook runs in CI, where a prompt would wait forever);
# 4. after an exception, `%debug` (Jupyter) or `python -m pdb -c continue script.py` opens
#    the debugger where it failed.
#
# **Which ops you will meet.** minigrad's layers are *fused* by default: a
# `layers.Linear` is one `Linear` node with a hand-derived backward, because that is
# faster. Under `minigrad.use_fused(False)` (or `MINIGRAD_FUSED=0` in the environment)
# every fused op runs its composed twin made of primitive ops, so the graph, the trace and
# the debugger show each step — the mode to learn in. A model made only of `layers.MLP`
# never calls `Mul.backward` in either mode (a dense layer is `MatMul` and `Add`); our
# example below multiplies two tensors on purpose.

# %%
from minigrad.ops.arithmetic import Mul

def first_statement(fn):
    """Absolute 'path:line' of the first statement of fn's body (after its docstring)."""
    lines, start = inspect.getsourcelines(fn)
    body = next(i for i, line in enumerate(lines)
                if i > 0 and line.strip() and not line.strip().startswith(('"""', "#"))
                and '"""' not in line)
    return f"{Path(inspect.getsourcefile(fn)).resolve()}:{start + body}"


mul_line = mg.where_is("Mul")
path, line = mul_line.rsplit(":", 1)
print("b", mul_line)
assert Path(path).is_absolute() and Path(path).name == "arithmetic.py"
source_line = Path(path).read_text().splitlines()[int(line) - 1]
print("   that line reads:", source_line.strip())
body, first = inspect.getsourcelines(Mul.backward)
assert first <= int(line) < first + len(body)          # a line of Mul.backward itself

# which ops does a small MLP's backward visit, fused and composed?
seed_everything(0)
mlp = layers.MLP([3, 4, 2])
x_dbg = mg.Tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype="float32")
ops_seen = {}
for fused in (True, False):
    with mg.use_fused(fused), mg.trace_backward(echo=False) as tr:
        mlp(x_dbg).sum().backward()
    ops_seen[fused] = [s.op for s in tr.steps]
    print("fused" if fused else "composed", "mode:", ops_seen[fused])
assert "Mul" not in ops_seen[True] + ops_seen[False]        # no Mul.backward in an MLP
assert "Linear" in ops_seen[True] and "Linear" not in ops_seen[False]   # composed: primitives
assert "MatMul" in ops_seen[False]

# %% [markdown]
# A real pdb session, driven by a script so that it runs without a person: `python -m pdb`
# on a six-line program, with the breakpoint `where_is` printed, then `c` (run to it),
# `p grad.shape`, `p [t.shape for t in self.inputs]`, `u` (up into the backward loop),
# `p fn.name`, `q`. The output is what you would see at the `(Pdb)` prompt.

# %%
program = """
import minigrad as mg
a = mg.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
b = mg.Tensor([[4.0], [5.0]], requires_grad=True)
(a * b).sum().backward()
print("dL/da =", a.grad.numpy())
"""
# (a breakpoint on the `def` line itself would fire when the class is created, at import:
# we make sure it is a line of the body)
first_body = int(first_statement(Mul.backward).rsplit(":", 1)[1])
pdb_line = f"{path}:{max(int(line), first_body)}"
commands = ["b " + pdb_line, "c", "p grad.shape", "p [t.shape for t in self.inputs]",
            "u", "p fn.name", "q"]
with tempfile.TemporaryDirectory() as tmp:
    script = Path(tmp) / "mul_backward.py"
    script.write_text(program)
    repo_root = Path(inspect.getsourcefile(mg)).resolve().parent.parent
    env = {**__import__("os").environ, "PYTHONPATH": str(repo_root)}
    session = subprocess.run([sys.executable, "-m", "pdb", str(script)],
                             input="\n".join(commands) + "\n", capture_output=True,
                             text=True, timeout=60, env=env, cwd=tmp)
transcript = session.stdout
print(transcript[-1500:])
assert "Breakpoint 1 at" in transcript
assert "backward()" in transcript and "arithmetic.py" in transcript   # stopped in Mul.backward
assert "(2, 3)" in transcript            # grad.shape: a (1, 3) times b (2, 1) broadcasts
assert "[(1, 3), (2, 1)]" in transcript
assert "'Mul'" in transcript             # one frame up: the loop, about to use Mul's result

# %% [markdown]
# **Without stopping.** Record what you would have looked at and print it afterwards: a
# `Function` subclass whose `backward` keeps a copy of what it saw.

# %%
class InspectedMul(Mul):
    """Mul whose backward records what it saw (put `breakpoint()` here to stop instead)."""

    seen = []

    def backward(self, grad):
        a, b = self.inputs
        da, db = super().backward(grad)
        InspectedMul.seen.append({"grad": grad.numpy(), "a": a.numpy(), "b": b.numpy(),
                                  "da": da.numpy(), "db": db.numpy()})
        return da, db


p = mg.Tensor([2.0, -1.0], requires_grad=True)
q = mg.Tensor([3.0, 4.0], requires_grad=True)
(InspectedMul.apply(p, q) * 10.0).sum().backward()
record = InspectedMul.seen[-1]
for key, value in record.items():
    print(f"{key:>4} = {value}")
assert np.array_equal(record["da"], record["grad"] * record["b"])   # product rule
assert np.array_equal(p.grad.numpy(), [30.0, 40.0])

# %% [markdown]
# ## Exercises
#
# Fill in each starter cell and run the `check(...)` line under it (`solution("02.1")`
# shows the reference answer).
#
# **02.1** Give the network a second hidden sigmoid layer (three weight matrices): write
# `backprop_by_hand3(params, x, y)` with `params = [W1, b1, W2, b2, W3, b3]`. The new delta
# comes from the one above it by F23 again. (Then add the layer to `forward_minigrad` and
# keep the `< 1e-12` agreement.)

# %%
def backprop_by_hand3(params, x, y):
    W1, b1, W2, b2, W3, b3 = params
    ...                     # your deltas here
    return None


check("02.1", backprop_by_hand3)

# %% [markdown]
# **02.2** Rerun E06 with $x = 1$. How much does $a_3$ fall in the first step? Which weights
# move now, and does any input reproduce the document's $0.5 \to 0.49$?

# %%
first_drop_x1 = None        # a3 before minus a3 after the first step
check("02.2", first_drop_x1)

# %% [markdown]
# **02.3** Replace the half sum of squares by binary cross-entropy in section 2. Write the
# output delta $\delta_3 = -\partial J/\partial z_3$ as a function of $a_3$ and $y$. Why does
# the $a_3(1-a_3)$ factor disappear (E05)?

# %%
def output_delta_bce(a3, y):
    return None             # your formula


check("02.3", output_delta_bce)
