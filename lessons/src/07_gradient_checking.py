# %% [markdown]
# # Lesson 07 — Gradient checking
#
# **Covers:** the numerical check that every other lesson relies on —
# `minigrad.gradcheck`, which the other lessons, the test suite and the formula ledger
# (`python -m minigrad.ledger`) use to check the implementations of the catalogue's formulas.
#
# A backward pass can be wrong in ways that still train a little, so "the loss went down"
# proves nothing. The independent witness is the definition of the derivative: nudge an
# input, rerun the *forward* pass, and divide. This lesson works out how large the nudge
# should be (there is a best size, and it depends on the float type), why the central
# difference beats the forward difference, what relative error a correct implementation
# shows in float64 and in float32, and how `gradcheck` catches a planted bug — including
# one that a naive check would miss.

# %%
from course import *            # QUICK, mg, np, plt, layers, optim; seeds fixed (0)
from exercises import check, hint, solution

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Two finite differences and their errors, on paper
#
# Taylor's theorem around $x$:
# $f(x \pm h) = f(x) \pm h f'(x) + \tfrac{h^2}{2} f''(x) \pm \tfrac{h^3}{6} f'''(x) + \dots$ So
#
# $$\underbrace{\frac{f(x+h) - f(x)}{h}}_{\text{forward}} = f'(x) + \frac h2 f''(x) + O(h^2),
#   \qquad
#   \underbrace{\frac{f(x+h) - f(x-h)}{2h}}_{\text{central}} = f'(x) + \frac{h^2}{6} f'''(x) + O(h^4).$$
#
# In the central difference the even terms cancel: its **truncation error** shrinks like
# $h^2$, the forward one only like $h$. Shrinking $h$ is not free, though. Each evaluation
# of $f$ carries a rounding error of about $u\,|f|$, where $u$ is the unit roundoff
# ($u \approx 1.1\cdot10^{-16}$ in float64, $6\cdot10^{-8}$ in float32). Dividing the difference
# by $h$ amplifies it to a **roundoff error** of about $u|f|/h$. The total,
#
# $$E_\text{fwd}(h) \approx \frac h2 |f''| + \frac{2u|f|}{h}, \qquad
#   E_\text{cen}(h) \approx \frac{h^2}{6} |f'''| + \frac{u|f|}{h},$$
#
# is V-shaped in a log-log plot, and is smallest where the two terms balance:
#
# | | best $h$ | best error |
# |---|---|---|
# | forward | $\sim\sqrt u$: $10^{-8}$ (float64), $3\cdot10^{-4}$ (float32) | $\sim\sqrt u$ |
# | central | $\sim u^{1/3}$: $5\cdot10^{-6}$ (float64), $4\cdot10^{-3}$ (float32) | $\sim u^{2/3}$: $10^{-11}$, $10^{-5}$ |
#
# (up to factors that depend on $f$). That is why `gradcheck` uses central differences
# with $\varepsilon = 10^{-6}$ in float64, and why it refuses float32 unless told otherwise.

# %% [markdown]
# ## 2. The V, measured
#
# Take the elementwise function $f(x) = \sigma\big(x \tanh x\big)$ at 200 random points
# in $[-2, 2]$. The reference derivative comes from `backward()` in float64 (checked
# itself in section 4). For each step size $h$ we evaluate the forward and central
# differences in float64 and in float32 and record the median relative error.

# %%
def f(t):
    return (t.tanh() * t).sigmoid()


x0 = rng.uniform(-2, 2, size=200)
x_ref = mg.Tensor(x0, requires_grad=True)
f(x_ref).sum().backward()               # elementwise f, so d(sum)/dx_i = f'(x_i)
exact = x_ref.grad.numpy()

hs = np.logspace(-12, 0, 49 if QUICK else 97)
errors = {}
for dtype in ("float64", "float32"):
    x = x0.astype(dtype)
    f0 = f(mg.Tensor(x)).numpy().astype(np.float64)
    fwd, cen = [], []
    for h in hs:
        step = np.asarray(h, dtype=dtype)
        fp = f(mg.Tensor(x + step)).numpy().astype(np.float64)
        fm = f(mg.Tensor(x - step)).numpy().astype(np.float64)
        scale = np.maximum(np.abs(exact), 1e-3)
        fwd.append(np.median(np.abs((fp - f0) / h - exact) / scale))
        cen.append(np.median(np.abs((fp - fm) / (2 * h) - exact) / scale))
    errors[dtype] = {"forward": np.array(fwd), "central": np.array(cen)}

best = {}
for dtype, by_kind in errors.items():
    for kind, err in by_kind.items():
        i = int(np.argmin(err))
        best[dtype, kind] = (hs[i], err[i])
        print(f"{dtype} {kind:8s}: best h = {hs[i]:.1e}, median relative error there {err[i]:.1e}")

# %% [markdown]
# (In float32 the left end is flat at 1: below $h \approx 10^{-7}|x|$ the step is lost
# entirely, $x + h$ rounds to $x$, and the difference is exactly zero.)
#
# The claims of the table, asserted: the central difference's best step is near
# $10^{-5}$–$10^{-6}$ in float64 and near $10^{-3}$–$10^{-2}$ in float32; it beats the
# forward difference; and the curve really is a V, with the slopes the Taylor analysis
# predicts (+1 and +2 on the right, −1 on the left).

# %%
flat = hs < 1e-9                                      # steps far below 1e-7 |x|
assert np.all(errors["float32"]["central"][flat] == 1.0)   # x + h == x: the difference is 0
h64, e64 = best["float64", "central"]
h32, e32 = best["float32", "central"]
assert 1e-7 <= h64 <= 1e-4, h64
assert 1e-4 <= h32 <= 1e-1, h32
assert e64 < 1e-9 and e32 < 1e-3
for dtype in ("float64", "float32"):
    assert best[dtype, "central"][1] < best[dtype, "forward"][1]
    assert best[dtype, "forward"][0] < best[dtype, "central"][0]      # forward wants smaller h


def slope(kind, dtype, lo, hi):
    sel = (hs >= lo) & (hs <= hi)
    return np.polyfit(np.log10(hs[sel]), np.log10(errors[dtype][kind][sel]), 1)[0]


slopes = {"forward, right branch": slope("forward", "float64", 1e-4, 1e-2),
          "central, right branch": slope("central", "float64", 1e-3, 1e-1),
          "central, left branch": slope("central", "float64", 1e-12, 1e-9)}
for name, value in slopes.items():
    print(f"float64 {name}: slope {value:+.2f}")
assert abs(slopes["forward, right branch"] - 1) < 0.2
assert abs(slopes["central, right branch"] - 2) < 0.3
assert abs(slopes["central, left branch"] + 1) < 0.3

# %%
fig, ax = plt.subplots(figsize=(7.5, 5))
colors = {"float64": "tab:blue", "float32": "tab:orange"}
for dtype, by_kind in errors.items():
    for kind, err in by_kind.items():
        ax.loglog(hs, err, "-" if kind == "central" else ":", color=colors[dtype],
                  label=f"{kind}, {dtype}")
    h_best, e_best = best[dtype, "central"]
    ax.plot(h_best, e_best, "o", color=colors[dtype])
ax.set(xlabel="step $h$", ylabel="median relative error of the derivative",
       title="finite-difference error vs step: truncation (right) vs roundoff (left)")
ax.axvspan(1e-6, 1e-5, color="tab:blue", alpha=0.08)
ax.axvspan(1e-3, 1e-2, color="tab:orange", alpha=0.08)
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## 3. How `gradcheck` works, and what a correct implementation shows
#
# `mg.gradcheck(fn, *inputs)` (see `minigrad/gradcheck.py`):
#
# 1. folds the output into a scalar $L = \sum_k v_k\, \mathrm{fn}(x)_k$ with **fixed random
#    weights** $v$ (section 5 shows why not just the sum);
# 2. gets $\partial L/\partial x$ from `backward()`;
# 3. perturbs a *copy* of each input entry by $\pm\varepsilon$ and forms the central
#    difference of $L$;
# 4. passes an entry when $|a - n| \le \text{atol} + \text{rtol}\,|n|$ ($a$ analytic,
#    $n$ numeric; defaults $\varepsilon = 10^{-6}$, atol $= 10^{-5}$, rtol $= 10^{-3}$) and
#    reports the **relative error** $|a - n| / \max(|a|, |n|)$.
#
# What to expect from a **correct** backward:
#
# * float64, $\varepsilon = 10^{-6}$: relative errors around $10^{-7}$ to $10^{-11}$ (larger only
#   on entries whose gradient is itself tiny, where the *absolute* error is what counts);
# * float32, $\varepsilon = 10^{-3}$: around $10^{-3}$ to $10^{-5}$ — the bottom of the orange V
#   (typical entries; the worst single entry can be far worse, see below);
# * float32 with the float64 step $\varepsilon = 10^{-6}$: errors of order $10^{-1}$,
#   a *false alarm* caused by roundoff alone.
#
# A **wrong** backward is typically off by $10^{-1}$ or more, whatever the dtype.

# %%
x64 = mg.Tensor(rng.uniform(-2, 2, size=(4, 3)), requires_grad=True)
x32 = mg.Tensor(x64.numpy().astype("float32"), requires_grad=True)

r64 = mg.gradcheck(f, x64, name="float64, eps=1e-6")
try:
    mg.gradcheck(f, x32)
    raise AssertionError("gradcheck should refuse float32 by default")
except mg.DTypeError as err:
    print("DTypeError:", err, "\n")
r32_tiny = mg.gradcheck(f, x32, allow_float32=True, raise_exception=False,
                        name="float32, eps=1e-6")
r32 = mg.gradcheck(f, x32, allow_float32=True, eps=1e-3, atol=1e-3, rtol=1e-2,
                   name="float32, eps=1e-3")
for r in (r64, r32_tiny, r32):
    print(r.report().splitlines()[0])
assert r64.passed and r32.passed and not r32_tiny.passed      # the middle one: a false alarm

# %% [markdown]
# ### Reading relative errors
#
# The report's relative error is taken entry by entry, and its maximum is at the mercy of
# the *smallest* entries: where the true gradient is $10^{-5}$, an absolute error of
# $10^{-9}$ is already a relative error of $10^{-4}$. A steadier summary is the
# **norm-wise** relative error $\lVert a - n\rVert / \max(\lVert a\rVert, \lVert n\rVert)$.
# We compute both, with the same weights $v$ that `gradcheck` uses, through its helper
# `numerical_grad`.
#
# Also note that the check differentiates the scalar $L = \sum_k v_k\,\mathrm{fn}(x)_k$, whose
# rounding error grows with $|L|$: the bigger the tensor, the bigger the roundoff term
# $u|L|/\varepsilon$. In float32 that pushes the best $\varepsilon$ up, towards $10^{-2}$.

# %%
from minigrad.gradcheck import numerical_grad


def measured(fn, x, eps):
    """(worst entry-wise, norm-wise) relative error of fn's gradient at x, as gradcheck sees it."""
    weights = []
    numeric = numerical_grad(fn, [x], 0, eps, weights)       # fills in the random weights v
    probe = mg.Tensor(x.numpy(), requires_grad=True)
    (fn(probe) * weights[0]).sum().backward()
    analytic = probe.grad.numpy().astype(np.float64)
    entrywise = np.abs(analytic - numeric) / np.maximum(
        np.maximum(np.abs(analytic), np.abs(numeric)), 1e-12)
    normwise = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic),
                                                        np.linalg.norm(numeric))
    return entrywise.max(), normwise


table = {
    "float64, eps 1e-6": measured(f, x64, 1e-6),
    "float32, eps 1e-2": measured(f, x32, 1e-2),
    "float32, eps 1e-3": measured(f, x32, 1e-3),
    "float32, eps 1e-6": measured(f, x32, 1e-6),
    "float64, eps 1e-1": measured(f, x64, 1e-1),
    "float64, eps 1e-12": measured(f, x64, 1e-12),
    "float64, eps 1e-14": measured(f, x64, 1e-14),
}
print(f"{'correct backward, checked in':24s} {'worst entry':>12s} {'norm-wise':>10s}")
for name, (worst, normwise) in table.items():
    print(f"{name:24s} {worst:12.1e} {normwise:10.1e}")

assert table["float64, eps 1e-6"][1] < 1e-8                      # float64: ~1e-9..1e-11
assert table["float32, eps 1e-3"][1] < 1e-2                      # float32: ~1e-3..1e-5
assert table["float32, eps 1e-2"][1] < 1e-3
assert table["float32, eps 1e-6"][1] > 1e-2                      # wrong eps for float32
good = table["float64, eps 1e-6"][1]
for silly in ("float64, eps 1e-1", "float64, eps 1e-12", "float64, eps 1e-14"):
    assert table[silly][1] > 1e3 * good                          # both sides of the V
assert not mg.gradcheck(f, x64, eps=1e-14, raise_exception=False).passed

# %% [markdown]
# Why is the worst entry so much worse than the norm-wise figure? Look at where it sits:

# %%
def worst_entry(fn, x, eps):
    """(index, true gradient there, absolute error there) of the worst relative error."""
    weights = []
    numeric = numerical_grad(fn, [x], 0, eps, weights)
    probe = mg.Tensor(x.numpy(), requires_grad=True)
    (fn(probe) * weights[0]).sum().backward()
    analytic = probe.grad.numpy().astype(np.float64)
    rel = np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)),
                                                  1e-12)
    i = np.unravel_index(rel.argmax(), rel.shape)
    return i, analytic[i], abs(analytic[i] - numeric[i]), np.median(np.abs(analytic))


where, g_there, abs_err, typical = worst_entry(f, x32, 1e-3)
print(f"float32, eps 1e-3: worst entry {tuple(int(k) for k in where)}: gradient there "
      f"{g_there:.1e} (typical entry {typical:.2f}), absolute error {abs_err:.1e}")
assert abs(g_there) < 1e-3 * typical            # a gradient ~1000x smaller than the others
assert abs_err < 1e-3 * typical                 # ... with an ordinary absolute error

# %% [markdown]
# The worst float32 entry is one whose true gradient is about a thousand times smaller than
# the typical one: its *absolute* error is as small as everybody else's, but divided by a
# tiny gradient it becomes a relative error of tenths, or even 1. So, for a **correct** backward
# (the numbers of the table above, asserted below):
#
# | dtype, step | norm-wise relative error | worst entry |
# |---|---|---|
# | float64, $\varepsilon = 10^{-6}$ | $10^{-9}$ – $10^{-11}$ | up to $\sim10^{-6}$, on entries whose gradient is tiny |
# | float32, $\varepsilon = 10^{-2}$ – $10^{-3}$ | $10^{-3}$ – $10^{-5}$ | from a few hundredths up to 1, on the same tiny entry ($5\cdot10^{-2}$ at $\varepsilon = 10^{-2}$ here; at $10^{-3}$ the estimate of that entry can round to exactly 0, which is a relative error of 1) |
# | float32, $\varepsilon = 10^{-6}$ | $\sim10^{-1}$: a false alarm | $\sim 1$ |
#
# and a **wrong** backward shows $10^{-1}$ or more in both measures, whatever the dtype
# (section 4). In float32, trust the norm-wise figure; `gradcheck`'s tolerance
# $\text{atol} + \text{rtol}\,|n|$ does the same by letting tiny entries pass on their
# absolute error.

# %%
assert 1e-11 <= table["float64, eps 1e-6"][1] <= 1e-9 and table["float64, eps 1e-6"][0] <= 1e-5
for eps in ("1e-2", "1e-3"):
    worst, normwise = table[f"float32, eps {eps}"]
    assert 1e-5 <= normwise <= 1e-3, (eps, normwise)
    assert 1e-2 <= worst <= 1.0, (eps, worst)                     # "a few hundredths up to 1"
assert table["float32, eps 1e-6"][1] > 3e-2 and table["float32, eps 1e-6"][0] > 0.5

# %% [markdown]
# ## 4. A planted bug, caught
#
# SiLU (also called swish), $s(x) = x\,\sigma(x)$, has the product-rule derivative
#
# $$s'(x) = \sigma(x) + x\,\sigma(x)\big(1 - \sigma(x)\big).$$
#
# A classic slip is to forget the second term, treating $\sigma(x)$ as a constant. We write
# the op as a `minigrad.Function` twice, once right and once with the slip, and let
# `gradcheck` judge. The report names the worst entry and prints both numbers.

# %%
def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


class SiLU(mg.Function):
    def forward(self, a):
        return a * _sig(a)

    def backward(self, grad):
        (x,) = self.inputs
        s = x.sigmoid()
        return grad * (s + x * s * (1.0 - s))


class SiLUForgotProductRule(mg.Function):
    def forward(self, a):
        return a * _sig(a)

    def backward(self, grad):
        (x,) = self.inputs
        return grad * x.sigmoid()                      # <- the planted bug


x = mg.Tensor(rng.uniform(-3, 3, size=(3, 4)), requires_grad=True)
right = mg.gradcheck(SiLU.apply, x, name="SiLU")
wrong = mg.gradcheck(SiLUForgotProductRule.apply, x, raise_exception=False,
                     name="SiLU, product rule forgotten")
print(right.report(), "\n")
print(wrong.report())
assert right.passed and measured(SiLU.apply, x, 1e-6)[1] < 1e-8
assert not wrong.passed and measured(SiLUForgotProductRule.apply, x, 1e-6)[1] > 0.1

try:                                                   # the default: raise with the report
    mg.gradcheck(SiLUForgotProductRule.apply, x)
    raise AssertionError("the planted bug was not caught")
except mg.GradcheckError:
    print("\nGradcheckError raised, as it should be")

# %% [markdown]
# ## 5. Why the random weights: a bug that `sum()` cannot see
#
# The tempting shortcut checks $\partial\big(\sum_k \mathrm{fn}(x)_k\big)/\partial x$. Then
# the upstream gradient is all ones, and a backward that **ignores its upstream gradient**
# (returns $s'(x)$ instead of $g \cdot s'(x)$) gives exactly the right answer. The same bug
# breaks every real network, where $g$ is anything but ones. Weighting the outputs with
# random $v$ makes $g = v$, and the bug shows.

# %%
class SiLUIgnoresUpstream(mg.Function):
    def forward(self, a):
        return a * _sig(a)

    def backward(self, grad):
        (x,) = self.inputs
        s = x.sigmoid()
        return s + x * s * (1.0 - s)                   # <- forgot "grad *"


def naive_check(op, x, eps=1e-6):
    """Central differences of sum(op(x)) -- the shortcut."""
    x = mg.Tensor(x.numpy(), requires_grad=True)
    op(x).sum().backward()
    numeric = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        xp, xm = x.numpy(), x.numpy()
        xp[i] += eps
        xm[i] -= eps
        numeric[i] = (op(mg.Tensor(xp)).sum().item() - op(mg.Tensor(xm)).sum().item()) / (2 * eps)
    return np.abs(x.grad.numpy() - numeric).max()


print("naive sum() check, max abs error:", f"{naive_check(SiLUIgnoresUpstream.apply, x):.1e}")
hidden = mg.gradcheck(SiLUIgnoresUpstream.apply, x, raise_exception=False)
print("mg.gradcheck:", hidden.report().splitlines()[1])
assert naive_check(SiLUIgnoresUpstream.apply, x) < 1e-8          # the shortcut is fooled
assert not hidden.passed                                          # gradcheck is not

# %% [markdown]
# ## 6. Kinks: a false alarm of a different kind
#
# At a kink the derivative does not exist, and the central difference straddles it: for
# ReLU at $x = 10^{-8}$ with $\varepsilon = 10^{-6}$ it returns about $0.5$, while backward
# says 1. Nothing is wrong with ReLU; the check is invalid there. Test points should keep
# a distance of many $\varepsilon$ from kinks (ReLU and abs at 0, max at ties), as the
# project's op tests do.

# %%
near_kink = mg.Tensor([1e-8, -0.7, 0.9], dtype="float64", requires_grad=True)
kink = mg.gradcheck(mg.relu, near_kink, raise_exception=False)
print(kink.report().splitlines()[1])
assert not kink.passed and kink.inputs[0].worst_index == (0,)
relu = lambda v: max(v, 0.0)
straddle = (relu(1e-8 + 1e-6) - relu(1e-8 - 1e-6)) / 2e-6
print(f"central difference of ReLU at 1e-8: {straddle:.3f} (backward says 1)")
assert abs(straddle - 0.5) < 0.01
assert mg.gradcheck(mg.relu, mg.Tensor([0.3, -0.7, 0.9], dtype="float64",
                                       requires_grad=True)).passed

# %% [markdown]
# ## 7. Summary picture: relative errors you will meet
#
# The norm-wise relative errors of this lesson's checks, on one axis. The shaded bands are
# the expectations of section 3.

# %%
cases = [
    ("correct, float64, eps 1e-6", table["float64, eps 1e-6"][1], "tab:green"),
    ("correct SiLU, float64, eps 1e-6", measured(SiLU.apply, x, 1e-6)[1], "tab:green"),
    ("correct, float32, eps 1e-3", table["float32, eps 1e-3"][1], "tab:olive"),
    ("correct, float32, eps 1e-6 (false alarm)", table["float32, eps 1e-6"][1], "tab:orange"),
    ("correct, float64, eps 1e-14 (false alarm)", table["float64, eps 1e-14"][1], "tab:orange"),
    ("ReLU at its kink (false alarm)", measured(mg.relu, near_kink, 1e-6)[1], "tab:orange"),
    ("product rule forgotten (bug)", measured(SiLUForgotProductRule.apply, x, 1e-6)[1],
     "tab:red"),
    ("upstream gradient ignored (bug)", measured(SiLUIgnoresUpstream.apply, x, 1e-6)[1],
     "tab:red"),
]
fig, ax = plt.subplots(figsize=(10, 4))
names, values, cols = zip(*cases)
ax.barh(range(len(cases)), values, color=cols)
ax.set_xscale("log")
ax.set_yticks(range(len(cases)), names)
ax.invert_yaxis()
ax.axvspan(1e-11, 1e-7, color="tab:green", alpha=0.1, label="correct, float64")
ax.axvspan(1e-5, 1e-3, color="tab:olive", alpha=0.1, label="correct, float32")
ax.axvspan(1e-1, 1e1, color="tab:red", alpha=0.1, label="a real bug")
ax.set(xlabel="norm-wise relative error (log scale)", xlim=(1e-12, 10),
       title="what gradcheck shows: correct backwards, false alarms, real bugs")
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# Each exercise has a starter cell (fill it in) and a check cell: `check("07.1", answer)`
# prints *correct* or a hint, and never the solution; `solution("07.1")` shows it when you
# ask for it.
#
# **07.1** Repeat section 2 with $f(x) = e^{x}$ at 200 points of $[5, 6]$ (float64, central
# differences, `hs = np.logspace(-12, 0, 97)`, median relative error). The function values
# are large now: how does the roundoff branch move, and does the best $h$ change? Give the
# best step as a float.

# %%
best_h_exp = None        # your measured best step, e.g. hs[np.argmin(median_errors)]

# %%
check("07.1", best_h_exp)

# %% [markdown]
# **07.2** The *complex-step* derivative $\operatorname{Im} f(x + ih)/h$ has no subtraction,
# hence no roundoff branch. Write `complex_step(f, x, h)` in NumPy, try it for
# $f(x) = \sigma(x\tanh x)$ with $h = 10^{-20}$ and compare with `exact`. Why can minigrad's
# gradcheck not use it directly?

# %%
def complex_step(f, x, h=1e-20):
    raise NotImplementedError("your code here")


# %%
check("07.2", complex_step)

# %% [markdown]
# **07.3** Plant a bug in broadcasting: a `Function` computing `a + b` whose backward returns
# `grad` for `b` without summing over the broadcast axis. What does `gradcheck` say when `b`
# has shape `(1, 4)` and `a` shape `(3, 4)`? Then fix the backward and check the fixed class.

# %%
class AddBroadcast(mg.Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad                  # the planted bug: fix it


# %%
check("07.3", AddBroadcast)
