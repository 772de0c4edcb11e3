"""End to end: a tiny GPT memorises a short string (loss < 0.05) in seconds.

Adam is written inline (bias-corrected, F19) so this test depends on nothing
but minigrad and layers.
"""
from __future__ import annotations

import time

import numpy as np

import layers
import minigrad as mg

TEXT = "hello world, hello minigrad"


class InlineAdam:
    """m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr m_hat / (sqrt(v_hat) + eps)."""

    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.m = [p.xp.zeros(p.shape, dtype=p.dtype) for p in self.params]
        self.v = [p.xp.zeros(p.shape, dtype=p.dtype) for p in self.params]
        self.t = 0

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            g = p.grad.data
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat = m / (1 - b1 ** self.t)
            v_hat = v / (1 - b2 ** self.t)
            p.data -= self.lr * m_hat / (p.xp.sqrt(v_hat) + self.eps)


def test_tiny_gpt_memorises_a_string():
    start = time.perf_counter()
    chars = sorted(set(TEXT))
    ids = np.array([[chars.index(c) for c in TEXT]])
    mg.manual_seed(0)
    model = layers.GPT(len(chars), d_model=32, num_heads=4, num_layers=2, max_len=32)
    opt = InlineAdam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(300):
        loss = mg.cross_entropy(model(ids[:, :-1]), ids[:, 1:])
        model.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if losses[-1] < 0.02:
            break
    assert losses[-1] < 0.05, losses[-10:]
    assert losses[0] > 2.0                         # it started from ~log(vocab)
    # and it can now recite the string from its first character, greedily
    out = model.generate(ids[0, :1], len(TEXT) - 1, temperature=0)
    assert "".join(chars[i] for i in out) == TEXT
    assert time.perf_counter() - start < 15
