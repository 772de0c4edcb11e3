"""Lesson 10 (transformer and GPT): exercises, checkers and reference solutions."""
from __future__ import annotations

import math

from exercises import register


# ---------------------------------------------------------------------------
# 10.1  the linear warm-up factor
# ---------------------------------------------------------------------------
def _warmup_factor(step, warmup_steps):
    return min(1.0, (step + 1) / warmup_steps)


def _check_warmup(answer) -> bool:
    cases = [(0, 10, 0.1), (4, 10, 0.5), (9, 10, 1.0), (10, 10, 1.0), (250, 10, 1.0),
             (0, 1, 1.0), (2, 4, 0.75)]
    return all(abs(float(answer(step, w)) - want) < 1e-12 for step, w, want in cases)


register(
    "10.1",
    "Write warmup_factor(step, warmup_steps): (step + 1) / warmup_steps during the warm-up "
    "(0-based steps), 1 afterwards.",
    _check_warmup,
    hint="A linear ramp that reaches exactly 1 at the last warm-up step (step = warmup_steps "
         "- 1) and stays there: min(1, (step + 1) / warmup_steps).",
    reference=lambda: _warmup_factor,
    wrong_answers=[lambda: (lambda step, w: step / w),                     # never capped
                   lambda: (lambda step, w: min(1.0, step / w)),           # starts at 0
                   lambda: (lambda step, w: 1.0)],                         # no warm-up
    solution_text="def warmup_factor(step, warmup_steps):\n"
                  "    return min(1.0, (step + 1) / warmup_steps)\n"
                  "Post-LN without warm-up diverges or stalls on some seeds at 3e-3; with a "
                  "warm-up of a few epochs it trains on all of them (Xiong et al., 2020).",
)


# ---------------------------------------------------------------------------
# 10.2  the GPT's parameter count
# ---------------------------------------------------------------------------
def _gpt_parameters(V, d, n_layers, max_len, d_ff):
    embeddings = V * d + max_len * d
    block = 2 * (2 * d) + 4 * (d * d + d) + (d * d_ff + d_ff) + (d_ff * d + d)
    return embeddings + n_layers * block + 2 * d           # + final LayerNorm; head tied


def _untied(V, d, n_layers, max_len, d_ff):
    return _gpt_parameters(V, d, n_layers, max_len, d_ff) + V * d


def _no_positions(V, d, n_layers, max_len, d_ff):
    return _gpt_parameters(V, d, n_layers, max_len, d_ff) - max_len * d


def _check_gpt(answer) -> bool:
    import layers
    if int(answer(46, 32, 2, 32, 128)) != 27968:              # the lesson's GPT
        return False
    for V, d, heads, n, T, d_ff in [(11, 8, 2, 1, 6, 20), (30, 16, 4, 3, 10, 64)]:
        model = layers.GPT(V, d_model=d, num_heads=heads, num_layers=n, max_len=T, d_ff=d_ff)
        if int(answer(V, d, n, T, d_ff)) != model.num_parameters():
            return False
    return True


register(
    "10.2",
    "Write gpt_parameters(V, d, n_layers, max_len, d_ff): the parameter count of layers.GPT "
    "with tied output weights.",
    _check_gpt,
    hint="Token embedding V*d, position embedding max_len*d; per block 2 LayerNorms (2d each), "
         "4 projections (d*d + d each), FFN d*d_ff + d_ff + d_ff*d + d; a final LayerNorm 2d; "
         "the output layer reuses the token embedding (no new weights).",
    reference=lambda: _gpt_parameters,
    wrong_answers=[lambda: _untied, lambda: _no_positions],
    solution_text="V*d + max_len*d + n_layers*(4d + 4(d^2 + d) + 2 d d_ff + d_ff + d) + 2d",
)


# ---------------------------------------------------------------------------
# 10.3  how long 1e-5 would take
# ---------------------------------------------------------------------------
def _epochs_needed() -> int:
    return math.ceil(0.1 / (3.2 * 1e-5 * 15))


register(
    "10.3",
    "The smallest whole number of epochs (15 Adam steps each) at lr 1e-5 before a weight "
    "could move by 0.1, if each step moves it by at most 3.2 * lr.",
    lambda answer: float(answer) == float(int(answer)) and int(answer) == _epochs_needed(),
    hint="0.1 / (3.2 * 1e-5) steps, divided by 15 steps per epoch, rounded up.",
    reference=_epochs_needed,
    wrong_answers=[lambda: math.ceil(0.1 / (1e-5 * 15)),       # bound of 1 lr per step
                   lambda: math.ceil(0.1 / (3.2e-5)),          # steps, not epochs
                   lambda: int(0.1 / (3.2e-5 * 15))],          # rounded down
    solution_text="0.1 / (3.2e-5) = 3125 steps = 208.3 epochs, so at least 209 epochs (about "
                  "5x the lesson's 40).",
)
