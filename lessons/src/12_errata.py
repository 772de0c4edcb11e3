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

import matplotlib.pyplot as plt
import numpy as np
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

np.random.seed(0)
mg.manual_seed(0)
print("minigrad", mg.__version__, "| quick mode" if QUICK else "| full mode")

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
# | E06 | $a_2 = 0.5$, $\delta_3 = -0.125$; the trajectory recomputed by training |
# | E07 | mean of $-y\log\hat y$: $0.4287$; binary cross-entropy $0.8574$ |
# | E08 | $\nabla J = [0, 0]$, $\theta$ stays $[1, 2]$ |
# | E09 | $\mathrm{sigmoid}(0) = 0.5$ |
# | E10 | $q\cdot k = 32$; output $[8.3650, 8.6368, 8.8018]$; $6/\sqrt3 = 3.4641$, $10/\sqrt3 = 5.7735$ |
#
# We compare each row's claims with these figures at the precision the catalogue prints
# them (half a unit in the fourth decimal; integers exactly), and also check that every figure appears in the
# catalogue file itself, so this table cannot drift from it.

# %%
CATALOGUE_CORRECT = {
    "E01": [6, 12, 18],
    "E02": [0.1679, 0.2992, 0.5329, 5.3650, 5.5752, 1, 5],
    "E03": [0.7685, 0.8320, 0.8176, 0.8699],
    "E04": [1.8, 2.2],
    "E05": [],
    "E06": [0.5, -0.125],
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
    "E06": [sigma(0.5 * 0.0), 0.5 * (1 - 0.5) * (0 - 0.5)],
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

# %% [markdown]
# ## 3. Picture: the document's figures against the correct ones
#
# Each point is one printed number: its correct value across, the document's value up.
# Points on the diagonal are right. The axes are logarithmic away from zero (and linear
# within ±0.1 of it), so small and large numbers both show. (For E06 the points are the
# trajectory's first two values and its last; for E02 the three weights and the output.)
# Right: the largest discrepancy of each example.

# %%
pairs = {   # example: (correct values, document's values)
    "E01": ([6, 12, 18], [6, 11, 17]),
    "E02": ([*w02, w02 @ [4, 5, 6]], [1 / 3, 1 / 3, 1 / 3, 1.5]),
    "E03": ([sigma(1.2), sigma(1.6)], [0.8788, 0.8614]),
    "E04": ([1.8], [1.8]),
    "E06": ([trajectory[0], trajectory[1], trajectory[-1]], [0.5, 0.49, 0.48096875]),
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
ax.legend(fontsize=8, ncol=2)
ax = axes[1]
worst = {name: max(abs(a - b) for a, b in zip(*vals)) for name, vals in pairs.items()}
ax.bar(list(worst), [max(v, 1e-3) for v in worst.values()],
       color=["tab:green" if v < 1e-9 else "tab:red" for v in worst.values()])
ax.set(yscale="log", ylabel="largest |document - correct|",
       title="size of each example's error (green: none)")
fig.tight_layout()
assert worst["E04"] < 1e-12 and all(v > 1e-3 for k, v in worst.items() if k != "E04")

# %% [markdown]
# ## Exercises
#
# 1. Run `python -m minigrad.ledger --only E02,E10 --verbose` in a terminal and match each
#    printed check to a line of section 2.
# 2. E03's matrix $W$ is $2\times2$ but $x$ has three entries. Find a $W$ of the right shape
#    (2×3) that makes the document's $z = [1.2, 1.6]$ come out for $x = [1,2,3]$, $b = [0.1,
#    0.2]$. Is it unique?
# 3. Pick one wrong example and write the ledger row you would add if the catalogue gained a
#    new one (look at `minigrad/ledger/rows_examples.py` for the pattern: compute with
#    minigrad, `r.compare` with an independent computation, `r.claim` the catalogue's
#    figures).
