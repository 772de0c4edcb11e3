# %% [markdown]
# # Lesson 12 — Errata: the documents' worked examples, recomputed
#
# **Worked examples:** E01–E10, all of them. **Tool:** the formula ledger,
# `python -m minigrad.ledger` (`minigrad.ledger` in Python), which runs one row per ID of
# the course's catalogue (`docs/formulas.md`): for a formula it gradient-checks minigrad's
# implementation, for a worked example it recomputes the example with minigrad, checks that
# figure against an independent computation, and states a verdict.
#
# The source documents explain their formulas with small numerical examples, and most of
# those examples are wrong — some by a slip of arithmetic, some because the numbers cannot
# fit the formula at all. Earlier lessons met them one at a time (E01 in lesson 01, E03/E05/E06
# in 02, E07 in 04, E04/E08 in 05, E09 in 03, E02/E10 in 09). Here they are side by side:
#
# 1. run the ledger's ten E rows and print them as one table — the document's figure,
#    the correct figure, and why they differ;
# 2. check that every row reproduces the figures that the catalogue's "correct" column
#    states, and recompute each of those figures once more in plain Python;
# 3. draw the document's figures against the correct ones.

# %%
import math

from course import *            # QUICK, mg, np, plt, layers, optim; seeds fixed (0)
from exercises import check, hint, solution
from minigrad.ledger import load_catalogue, run_ledger
from minigrad.ledger.catalogue import numbers_in

try:
    from IPython import get_ipython
    from IPython.display import Markdown, display
    IN_NOTEBOOK = get_ipython() is not None
except ImportError:  # running as a plain script without IPython
    IN_NOTEBOOK = False


def show_markdown(text):
    """A rendered table in a notebook, the Markdown text in a terminal."""
    if IN_NOTEBOOK:
        display(Markdown(text))
    else:
        print(text)


# %% [markdown]
# ## 0. What the documents say
#
# You do not need the source documents (five short articles in Chinese, D0–D4, catalogued
# in `../shared/FORMULAS.md`) to follow this lesson; here is, in our words, what each worked
# example claims and where:
#
# | ID | where | what the document works out |
# |---|---|---|
# | E01 | D0 §4.3.1 (forward pass of a network) | a dense ReLU layer with $X = [1, 2]$, $W_1 = [[1,2],[3,4],[5,6]]$, $b = [1,1,1]$, by hand; it reports $H = [6, 11, 17]$ |
# | E02 | D0 §4.3.2 (self-attention) | attention with $Q = [1,1,1]$, $K = [1,2,3]$, $V = [4,5,6]$, $d_k = 3$; it finds uniform weights $1/3$, an output $[1.5, 1.5, 1.5]$, then multiplies by $V$ once more to get $[6, 7.5, 9]$ |
# | E03 | D1, mathematical models §1 (MLP) | a sigmoid layer on $x = [1,2,3]$ with a 2×2 $W$ and $b = [0.1, 0.2]$; it reports $z = [1.2, 1.6]$ and $a = [0.8788, 0.8614]$ |
# | E04 | D1, §2 (gradient descent) | one step on $J(w) = (w-1)^2$ from $w = 2$ with $\eta = 0.1$: gradient 2, $w \to 1.8$, written as $w - \Delta w$ with $\Delta w = -\eta\nabla J$ |
# | E05 | D1, §3 (backpropagation) | the output unit's gradient written as $(1-a)(a-y)$, followed by a table of weight updates |
# | E06 | D3 §4.3.2–4.3.3 (a worked training run) | a two-layer sigmoid net, all weights 0.5, biases 0, target 0, $\eta = 0.01$: both layers output 0.5, $L = 0.25$, $\delta_3 = -0.125$, and ten iterations in which $a_3$ goes $0.5 \to 0.49 \to 0.48875 \to \dots \to 0.48096875$ |
# | E07 | D4 §4.1 (loss functions) | the cross-entropy of $y = [1,0,1,0]$ against $\hat y = [0.3, 0.7, 0.6, 0.4]$ is about 0.613 |
# | E08 | D4 §4.2 (gradient descent) | one step from $\theta = [1, 2]$ on $(\theta_1-1)^2 + (\theta_2-2)^2$ with $\alpha = 0.1$: gradient $[-2, -2]$, $\theta \to [1.2, 1.8]$ |
# | E09 | D4 §4.3 (activations) | at $x = [-2, 0, 2]$: ReLU $[0, 0, 2]$, sigmoid $[0.1192, 0.5190, 0.8808]$ |
# | E10 | D4 §4.4 (self-attention) | attention on $Q = [1,2,3]$, $K = [4,5,6]$, $V = [7,8,9]$: scores $[4, 6, 10]$, "scaled" $[2.3094, 3.9373, 6.5222]$, "softmax" $[0.2319, 0.4198, 0.4484]$, and an output $[1.6303, 3.3544, 4.0356]$ from a formula that divides by $V$ |
#
# The ledger's `document` field (the third column of the table below) carries the same
# figures; the next cell checks that this paraphrase and the ledger quote the same numbers.

# %%
PARAPHRASED = {   # the document's figures as this lesson's table above states them
    "E01": [6, 11, 17], "E06": [0.5, 0.25, -0.125, 0.49, 0.48875, 0.48096875],
    "E07": [0.613], "E08": [-2, 1.2, 1.8], "E09": [0.1192, 0.5190, 0.8808],
    "E10": [2.3094, 3.9373, 6.5222, 0.2319, 0.4198, 0.4484, 1.6303, 3.3544, 4.0356],
}

# %% [markdown]
# ## 1. The ledger's E rows
#
# `run_ledger(only=[...])` runs the rows for the given IDs and returns a `LedgerResult`
# whose `rows` carry, for an E row: `document` (what the document says), `computed`
# (minigrad's figures), `verdict` (right or wrong, and why), `interpretation` (the reading
# used where the document is ambiguous), `claims` (the figures the catalogue's "correct"
# column states, as this run reproduced them) and `status` (PASS when every check of the row
# passed). The `checks` of each row are the independent computations it compared with.

# %%
E_IDS = [f"E{k:02d}" for k in range(1, 11)]
result = run_ledger(only=E_IDS)
rows = {r.id: r for r in result.rows}
for rid, figures in PARAPHRASED.items():
    quoted = [v for v, _ in numbers_in(rows[rid].document)]
    assert all(any(abs(q - f) < 1e-9 for q in quoted) for f in figures), (rid, quoted)
print(f"{len(result.rows)} rows in {result.seconds:.2f} s:", result.counts())
assert [r.id for r in result.rows] == E_IDS
assert all(r.status == "PASS" for r in result.rows), [(r.id, r.status, r.error)
                                                      for r in result.rows if not r.passed]
assert result.exit_code == 0


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


table = ["| ID | example | document says | correct (minigrad) | why |", "|---|---|---|---|---|"]
for r in result.rows:
    why = r.verdict + (f" *(reading: {r.interpretation})*" if r.interpretation else "")
    table.append(f"| {r.id} | {cell(r.title)} | {cell(r.document)} | {cell(r.computed)} | "
                 f"{cell(why)} |")
show_markdown("\n".join(table))

# %% [markdown]
# Nine of the ten examples are wrong. The one that is right, E04, is right in spite of its
# document: its printed update rule ($w = w - \Delta w$ with $\Delta w = -\eta\nabla J$) would
# have given 2.2, not the 1.8 it prints (the F15 sign slip of lesson 05).
#
# What each row checked, in one line per check:

# %%
for r in result.rows:
    print(f"{r.id}: " + "; ".join(c.detail for c in r.checks))
verdicts = {r.id: r.verdict.split(":")[0] for r in result.rows}
assert verdicts["E04"].startswith("document right")
assert all(v.startswith("document wrong") for k, v in verdicts.items() if k != "E04")

# %% [markdown]
# ## 2. Do the rows reproduce the catalogue's "correct" figures?
#
# The catalogue's correct column, for the examples that state numbers:
#
# | ID | correct figures (catalogue) |
# |---|---|
# | E01 | $H = [6, 12, 18]$ |
# | E02 | weights $[0.1679, 0.2992, 0.5329]$, output $5.3650$ (scale 1: $5.5752$); one score → weight 1; uniform weights → 5 |
# | E03 | $\sigma(1.2)=0.7685$, $\sigma(1.6)=0.8320$, $\sigma(1.5)=0.8176$, $\sigma(1.9)=0.8699$ |
# | E04 | $w \to 1.8$; the document's own rule gives $2.2$ |
# | E05 | $\partial J/\partial z = a(1-a)(a-y)$ (squared error), $a - y$ (binary cross-entropy) — no numbers |
# | E06 | $a_2 = 0.5$; $a_3 = \sigma(0.5\cdot0.5) = 0.5622$; $\delta_3 = a_3(1-a_3)(y-a_3) = -0.1384$ ($-0.125$ is that formula at the document's wrong $a_3 = 0.5$); the trajectory recomputed by training |
# | E07 | mean of $-y\log\hat y$: $0.4287$; binary cross-entropy $0.8574$ |
# | E08 | $\nabla J = [0, 0]$, $\theta$ stays $[1, 2]$ |
# | E09 | $\mathrm{sigmoid}(0) = 0.5$ |
# | E10 | $q\cdot k = 32$; output $[8.3650, 8.6368, 8.8018]$; $6/\sqrt3 = 3.4641$, $10/\sqrt3 = 5.7735$ |
#
# We compare each row's claims with these figures at the precision the catalogue prints
# them (half a unit in the fourth decimal; integers exactly), and also check that every
# figure appears in the catalogue file itself, so this table cannot drift from it.
#
# **E06, reconciled.** An earlier version of the catalogue called the document's
# $\delta_3 = -0.125$ "right", while lesson 02, which runs the network, finds $\approx -0.1384$.
# Lesson 02 is right. The formula $\delta_3 = a_3(1-a_3)(y-a_3)$ is correct, and
# $0.5\cdot0.5\cdot(-0.5) = -0.125$ is correct arithmetic, but it is evaluated at the
# document's $a_3 = 0.5$, and $a_3$ is not 0.5: with $a_2 = 0.5$ and $w_2 = 0.5$ the output
# unit sees $z_3 = 0.25$, so $a_3 = \sigma(0.25) = 0.5622$ and
# $\delta_3 = 0.5622 \cdot 0.4378 \cdot (-0.5622) = -0.1384$. The ledger row now claims
# both figures, each with its label, and the cell after next computes $\delta_3$ a third
# way, as a central difference of $J$.

# %%
CATALOGUE_CORRECT = {
    "E01": [6, 12, 18],
    "E02": [0.1679, 0.2992, 0.5329, 5.3650, 5.5752, 1, 5],
    "E03": [0.7685, 0.8320, 0.8176, 0.8699],
    "E04": [1.8, 2.2],
    "E05": [],
    "E06": [0.5, 0.5622, -0.1384, -0.125],
    "E07": [0.4287, 0.8574],
    "E08": [0, 0, 1, 2],
    "E09": [0.5],
    "E10": [32, 8.3650, 8.6368, 8.8018, 3.4641, 5.7735, 1],
}


entries = {e.id: e for e in load_catalogue()}
for rid in E_IDS:
    claimed = [v for _, v in rows[rid].claims]
    expected = CATALOGUE_CORRECT[rid]
    assert len(claimed) == len(expected), (rid, claimed, expected)
    for got, want in zip(claimed, expected):
        tol = 0.5e-4 if isinstance(want, float) else 1e-12     # 4 decimals, or exact
        assert abs(got - want) <= tol, (rid, got, want)
    in_catalogue = {v for v, _ in numbers_in(entries[rid].columns.get("correct", ""))}
    for want in expected:
        if want not in (0, 1, 2, 5):                         # small integers appear as words too
            assert float(want) in in_catalogue or -float(want) in in_catalogue, (rid, want)
    print(f"{rid}: {len(claimed)} figure(s) reproduced:",
          ", ".join(f"{v:.4f}".rstrip("0").rstrip(".") for v in claimed) or "(none stated)")

# %% [markdown]
# And once more without minigrad or the ledger: each catalogue figure from its definition,
# in a line or two of plain Python.

# %%
def softmax(v):
    e = np.exp(np.asarray(v, dtype=float) - np.max(v))
    return e / e.sum()


def sigma(z):
    return 1 / (1 + math.exp(-z))


w02 = softmax(np.array([1, 2, 3]) / math.sqrt(3))
w10 = np.array([softmax(q * np.array([4, 5, 6]) / math.sqrt(3)) for q in (1, 2, 3)])
a3_start = sigma(0.5 * sigma(0.0))
plain = {
    "E01": [max(0, 1 * 1 + 2 * 2 + 1), max(0, 3 * 1 + 4 * 2 + 1), max(0, 5 * 1 + 6 * 2 + 1)],
    "E02": [*w02, w02 @ [4, 5, 6], softmax([1, 2, 3]) @ [4, 5, 6], softmax([2.0])[0],
            np.mean([4, 5, 6])],
    "E03": [sigma(1.2), sigma(1.6), sigma(1.5), sigma(1.9)],
    "E04": [2 - 0.1 * 2 * (2 - 1), 2 + 0.1 * 2 * (2 - 1)],
    "E05": [],
    "E06": [sigma(0.0), a3_start, a3_start * (1 - a3_start) * (0 - a3_start),
            0.5 * (1 - 0.5) * (0 - 0.5)],
    "E07": [(-math.log(0.3) - math.log(0.6)) / 4,
            (-math.log(0.3) - math.log(0.3) - math.log(0.6) - math.log(0.6)) / 4],
    "E08": [2 * (1 - 1), 2 * (2 - 2), 1 - 0.1 * 0, 2 - 0.1 * 0],
    "E09": [sigma(0.0)],
    "E10": [1 * 4 + 2 * 5 + 3 * 6, *(w10 @ [7, 8, 9]), 6 / math.sqrt(3), 10 / math.sqrt(3),
            w10.sum(axis=1)[0]],
}
for rid in E_IDS:
    ledger_values = [v for _, v in rows[rid].claims]
    assert np.allclose(plain[rid], ledger_values, rtol=0, atol=1e-12), rid
print("every ledger figure equals its plain-Python recomputation (to 1e-12)")

# E05 states a formula, not a number: the ledger row checks it with autograd; check it here
# by a central difference of J = 1/2 (sigma(z) - y)^2 at z = 0.5, y = 1
z0, y0, h = 0.5, 1.0, 1e-6
numeric = (0.5 * (sigma(z0 + h) - y0) ** 2 - 0.5 * (sigma(z0 - h) - y0) ** 2) / (2 * h)
a0 = sigma(z0)
assert abs(numeric - a0 * (1 - a0) * (a0 - y0)) < 1e-9
assert abs(numeric - (1 - a0) * (a0 - y0)) > 1e-2                     # the document's form
# E06: 10 gradient steps, trajectory from the ledger row; a3 starts at sigma(0.25), not 0.5
trajectory = np.array(rows["E06"].metrics["trajectory"])
assert abs(trajectory[0] - a3_start) < 1e-15 and len(trajectory) == 11
assert np.all(np.diff(trajectory) < 0) and trajectory[0] - trajectory[1] < 1e-3
# E06: delta3 = -dJ/dz3 at the true z3 = 0.25, as a central difference of J = 1/2 (0 - a3)^2
delta3_numeric = -(0.5 * sigma(0.25 + h) ** 2 - 0.5 * sigma(0.25 - h) ** 2) / (2 * h)
delta3_true = dict(rows["E06"].claims)["δ3"]
print(f"E06: delta3 = {delta3_true:.4f} (central difference {delta3_numeric:.4f}); "
      "document: -0.125")
assert abs(delta3_numeric - delta3_true) < 1e-9 and round(delta3_true, 4) == -0.1384

# %% [markdown]
# ## 3. Picture: the document's figures against the correct ones
#
# Each point is one printed number: its correct value across, the document's value up.
# Points on the diagonal are right. The axes are logarithmic away from zero (and linear
# within ±0.1 of it), so small and large numbers both show. (For E06 the points are the
# trajectory's first two values and its last, and $\delta_3$; for E02 the three weights
# and the output.) Right: the largest discrepancy of each example, on a log scale; E04's
# is exactly zero, which a log scale cannot show, so it is written in instead of drawn.

# %%
pairs = {   # example: (correct values, document's values)
    "E01": ([6, 12, 18], [6, 11, 17]),
    "E02": ([*w02, w02 @ [4, 5, 6]], [1 / 3, 1 / 3, 1 / 3, 1.5]),
    "E03": ([sigma(1.2), sigma(1.6)], [0.8788, 0.8614]),
    "E04": ([1.8], [1.8]),
    "E06": ([trajectory[0], trajectory[1], trajectory[-1], delta3_true],
            [0.5, 0.49, 0.48096875, -0.125]),
    "E07": ([plain["E07"][0]], [0.613]),
    "E08": ([0, 0, 1, 2], [-2, -2, 1.2, 1.8]),
    "E09": ([sigma(-2), sigma(0), sigma(2)], [0.1192, 0.5190, 0.8808]),
    "E10": (list(w10 @ [7, 8, 9]), [1.6303, 3.3544, 4.0356]),
}
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
ax = axes[0]
for name, (right, printed) in pairs.items():
    ax.scatter(right, printed, s=40, label=name)
lim = np.linspace(-3, 20, 500)
ax.plot(lim, lim, "k--", linewidth=0.8)
ax.set_xscale("symlog", linthresh=0.1)
ax.set_yscale("symlog", linthresh=0.1)
ax.set(xlim=(-3, 20), ylim=(-3, 20), xlabel="correct value", ylabel="document's value",
       title="E01-E10: every printed number (diagonal = right; symlog axes)")
ax.legend(fontsize=8, ncol=2, title="example")
ax = axes[1]
worst = {name: max(abs(a - b) for a, b in zip(*vals)) for name, vals in pairs.items()}
names = list(worst)
nonzero = [v if v > 0 else np.nan for v in worst.values()]        # log scale: no bar for 0
ax.bar(names, nonzero, color="tab:red", label="document wrong")
for k, (name, v) in enumerate(worst.items()):
    if v == 0:
        ax.annotate("0: exactly right", (k, 0), xycoords=("data", "axes fraction"),
                    xytext=(0, 6), textcoords="offset points", ha="center", color="tab:green",
                    rotation=90, va="bottom")
ax.set(yscale="log", xlabel="example", ylabel="largest |document - correct| (log scale)",
       title="size of each example's largest error")
ax.legend(loc="upper left")
fig.tight_layout()
assert worst["E04"] < 1e-12 and all(v > 1e-3 for k, v in worst.items() if k != "E04")

# %% [markdown]
# ## Exercises
#
# Each exercise has a starter cell and a check cell: `check("12.1", answer)` prints
# *correct* or a hint; `solution("12.1")` shows a solution when you ask for it.
#
# **12.1** Run `python -m minigrad.ledger --only E02,E10 --verbose` in a terminal (or
# `run_ledger(only=["E02", "E10"])` here) and match each printed check to a line of
# section 2. How many independent checks do the two rows run together?

# %%
n_checks_e02_e10 = None          # an int

# %%
check("12.1", n_checks_e02_e10)

# %% [markdown]
# **12.2** E03's matrix $W$ is $2\times2$ but $x$ has three entries. Find a $W$ of the right
# shape (2×3) that makes the document's $z = [1.2, 1.6]$ come out for $x = [1,2,3]$,
# $b = [0.1, 0.2]$. Is it unique?

# %%
W_e03 = None                     # a 2x3 array

# %%
check("12.2", W_e03)

# %% [markdown]
# **12.3** E07's "cross-entropy" has two readings. Write `e07_readings(y, y_hat)` that returns
# both as a pair of floats: the mean over the entries of $-y\log\hat y$, and the binary
# cross-entropy (with the $(1-y)\log(1-\hat y)$ terms), and check that neither gives the
# document's 0.613. Then write the ledger row you would add for it (look at
# `minigrad/ledger/rows_examples.py`: compute with minigrad, `r.compare` with an independent
# computation, `r.claim` the catalogue's figures).

# %%
def e07_readings(y, y_hat):
    raise NotImplementedError("your code here")


# %%
check("12.3", e07_readings)
