"""``python -m minigrad.demo``: a short training demo (well under 20 seconds on 2 cores).

1. an MLP (64 → 128 ReLU → 10) learns the bundled 8×8 handwritten digits with
   Adam: loss and test accuracy after each of two epochs;
2. a tiny GPT (character level, 2 layers) trains for a few hundred steps on the
   bundled prose corpus and writes a sample;
3. a gradient check of the LSTM cell, the kind of proof the ledger runs for
   every formula.

Everything is seeded, so the numbers repeat from run to run. Uses the
``layers`` and ``optim`` packages on top of the engine.
"""
from __future__ import annotations

import sys
import time

import numpy as np

import minigrad
from minigrad import Tensor, cross_entropy, no_grad
from minigrad.datasets import load_digits, load_text, train_test_split
from minigrad.metrics import accuracy, macro_f1


def _say(line: str) -> None:
    print(line, flush=True)


def digits_mlp(epochs: int = 2) -> float:
    """Train the X2 model for ``epochs`` epochs; returns the final test accuracy."""
    from layers import MLP
    from optim import Adam, Minibatches

    X, y = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=42, stratify=True)
    model = MLP([64, 128, 10])
    opt = Adam(model.parameters(), lr=1e-3)
    batches = Minibatches(X_tr, y_tr, batch_size=32)
    _say(f"[1] MLP 64-128-10 on 8x8 digits ({len(y_tr)} train / {len(y_te)} test), Adam lr 1e-3")
    acc = 0.0
    for epoch in range(1, epochs + 1):
        start, total, n = time.perf_counter(), 0.0, 0
        model.train()
        for xb, yb in batches:
            opt.zero_grad()
            loss = cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total, n = total + loss.item(), n + 1
        model.eval()
        with no_grad():
            pred = model(Tensor(X_te)).numpy()
        acc = accuracy(y_te, pred)
        _say(f"    epoch {epoch}: mean loss {total / n:.3f}, test accuracy {100 * acc:.1f}% "
             f"(macro F1 {100 * macro_f1(y_te, pred):.1f}%), {time.perf_counter() - start:.2f} s")
    return acc


def tiny_gpt(steps: int = 500) -> str:
    """Train a character-level GPT briefly; returns a generated sample."""
    from layers import GPT
    from optim import Adam

    text = load_text("tiny_corpus")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    block, batch = 32, 16
    model = GPT(vocab_size=len(chars), d_model=48, num_heads=4, num_layers=2, max_len=block)
    opt = Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    _say(f"[2] char-level GPT (2 layers, d_model 48, {model.num_parameters():,} parameters) on "
         f"the bundled corpus ({len(text)} chars), {steps} Adam steps")
    start, first, losses = time.perf_counter(), None, []
    for _ in range(steps):
        starts = rng.integers(0, len(ids) - block - 1, batch)
        chunk = np.stack([ids[s:s + block + 1] for s in starts])
        opt.zero_grad()
        loss = cross_entropy(model(chunk[:, :-1]), chunk[:, 1:])
        loss.backward()
        opt.step()
        losses.append(loss.item())
        first = losses[0] if first is None else first
    prompt = "the river "
    out = model.generate(np.array([stoi[c] for c in prompt]), 70, temperature=0.7, seed=1)
    sample = "".join(chars[i] for i in out)
    _say(f"    loss {first:.3f} -> {np.mean(losses[-20:]):.3f} nats/char "
         f"(uniform guess {np.log(len(chars)):.3f}), {time.perf_counter() - start:.1f} s")
    _say(f"    sample: {sample!r}")
    return sample


def lstm_gradcheck() -> bool:
    """Gradient-check an LSTM cell in float64 (every weight, input and state)."""
    from layers import LSTMCell, gradcheck_module

    cell = LSTMCell(3, 4).double()
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    res = gradcheck_module(cell, x, raise_exception=False)
    _say(f"[3] gradcheck LSTMCell (float64, full Jacobian): max relative error "
         f"{res.max_rel_error:.1e} -> {'PASS' if res.passed else 'FAIL'}  "
         "(every formula: python -m minigrad.ledger)")
    return bool(res.passed)


def main(argv: list[str] | None = None) -> int:
    minigrad.manual_seed(0)
    start = time.perf_counter()
    _say("minigrad demo")
    digits_mlp()
    tiny_gpt()
    ok = lstm_gradcheck()
    _say(f"done in {time.perf_counter() - start:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
