"""docs/coming-from-pytorch.md exists, README links it, and the one-liners it gives for
PyTorch's behaviour do what the page says (each checked against an independent
formula here, not against minigrad)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import layers
import minigrad as mg
import optim

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "coming-from-pytorch.md"


def test_page_exists_and_readme_links_it():
    assert "(docs/coming-from-pytorch.md)" in (REPO / "README.md").read_text(encoding="utf-8")
    text = PAGE.read_text(encoding="utf-8")
    for topic in ("batch_first", "ddof", "last** axis", "norm_first", "approximate", "per-head",
                  "fully masked", "binary_cross_entropy", "alpha=0.99", "CosineAnnealingLR",
                  "to_torch_state_dict"):
        assert topic in text, topic


def test_var_ddof_one_is_the_unbiased_variance():
    x = np.random.default_rng(0).standard_normal(7)
    got = mg.Tensor(x).var(ddof=1).item()
    assert math.isclose(got, sum((v - x.mean()) ** 2 for v in x) / 6, rel_tol=1e-12)


def test_class_axis_one_liner_moves_classes_last():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((2, 3, 4, 5))                    # (N, C, H, W), PyTorch's layout
    y = rng.integers(0, 3, size=(2, 4, 5))
    t = mg.Tensor(z)
    got = mg.cross_entropy(t.permute(0, *range(2, t.ndim), 1), y).item()
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    want = -np.mean(np.take_along_axis(logp, y[:, None], axis=1))
    assert math.isclose(got, want, rel_tol=1e-6)


def test_lambda_lr_one_liner_is_pytorchs_cosine_past_t_max():
    T_max, base = 4, 0.1
    p = mg.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=base)
    sched = optim.LambdaLR(opt, lambda t: (1 + math.cos(math.pi * t / T_max)) / 2)
    lrs = []
    for _ in range(9):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    want = [base * (1 + math.cos(math.pi * t / T_max)) / 2 for t in range(9)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12, atol=1e-15)
    assert lrs[8] == max(lrs)                                # back up at 2 T_max


def test_head_average_one_liner_gives_pytorchs_weight_shape():
    mha = layers.MultiHeadAttention(8, 2)
    _, w = mha(mg.randn(3, 5, 8), return_weights=True)
    assert w.shape == (3, 2, 5, 5) and w.mean(axis=1).shape == (3, 5, 5)
