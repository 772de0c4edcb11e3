"""The engine uses only the CuPy API on the fake's allow-list.

Every case of :mod:`minigrad.backends.opsuite` (each public op) runs forward
and backward on ``"fake"`` -- plus the layers, optimisers, gradcheck and a
dropout draw -- while :func:`fake.record` collects every ``xp`` name looked up.
A NumPy-only function (or one missing from the list) shows up as ``"!name"``
and fails here on CPU, long before it would fail on a GPU. The list itself
cites the CuPy source file each signature was checked against.
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.backends import fake
from minigrad.backends.opsuite import CASES, run_case


def _layer_and_optimizer_suite():
    import layers
    import optim
    mg.manual_seed(0)
    model = layers.MLP([4, 8, 3]).to("fake")
    lstm = layers.LSTM(4, 5).to("fake") if hasattr(layers, "LSTM") else None
    gpt = layers.GPT(vocab_size=11, d_model=16, num_heads=2, num_layers=1, max_len=8,
                     dropout=0.1).to("fake")
    drop = layers.Dropout(0.3)
    x = mg.Tensor(np.random.default_rng(0).standard_normal((5, 4)), dtype="float32",
                  device="fake")
    loss = mg.cross_entropy(drop(model(x)), mg.Tensor([0, 1, 2, 0, 1], device="fake"))
    ids = mg.Tensor(np.random.default_rng(1).integers(0, 11, (2, 8)), device="fake")
    logits = gpt(ids)
    loss = loss + mg.cross_entropy(logits.reshape(-1, 11), ids.reshape(-1))
    if lstm is not None:
        out = lstm(mg.Tensor(np.ones((2, 3, 4)), dtype="float32", device="fake"))
        loss = loss + (out[0] if isinstance(out, tuple) else out).sum()
    loss.backward()
    params = list(model.parameters()) + list(gpt.parameters())
    optim.clip_grad_norm_(params, 1.0)
    for opt in (optim.SGD(params, lr=0.1, momentum=0.9), optim.Adam(params, lr=1e-3),
                optim.RMSprop(params, lr=1e-3)):
        opt.step()
        opt.zero_grad()
    mg.rand(3, device="fake"), mg.randn(3, device="fake")
    t = mg.Tensor([0.3, -0.2], dtype="float64", device="fake", requires_grad=True)
    assert mg.gradcheck(lambda a: (a.tanh() * a).sum(), t).passed


def test_every_xp_name_the_engine_touches_is_allow_listed():
    with fake.record() as names:
        for case in CASES:
            run_case(case, "fake", np.float64)
        _layer_and_optimizer_suite()
    refused = sorted(n[1:] for n in names if n.startswith("!"))
    assert not refused, f"engine used xp names not on the CuPy allow-list: {refused}"
    assert names <= set(fake.ALLOWED), sorted(names - set(fake.ALLOWED))
    # the recorder sees the engine at all (else this test would prove nothing)
    assert {"exp", "zeros", "arange", "add", "stack"} <= names, sorted(names)


def test_the_recorder_catches_a_numpy_only_name():
    with fake.record() as names:
        with pytest.raises(AttributeError, match="allow-list"):
            fake.xp.nanmean
        with pytest.raises(TypeError):
            np.nanmean(fake.xp.asarray(np.ones(2)))      # NumPy finds no implementation
    assert "!nanmean" in names


def test_every_allow_list_entry_cites_a_cupy_source_and_exists_in_numpy():
    for name, (signature, source) in fake.ALLOWED.items():
        assert source.startswith("cupy/"), (name, source)
        assert signature in ("type", "constant", "module") or signature.startswith("("), name
        if signature.startswith("(") and name not in ("asnumpy", "get_array_module"):
            assert hasattr(np, name), name           # the fake runs NumPy's function


def test_the_fake_enforces_cupy_signatures():
    x = fake.xp.asarray(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match="sparse"):
        fake.xp.indices((2, 3), sparse=True)
    with pytest.raises(TypeError, match="where"):
        fake.xp.sum(x, where=x > 1)
    with pytest.raises(TypeError, match="casting"):
        fake.xp.einsum("ij->i", x, casting="unsafe")
    with pytest.raises(TypeError, match="initial"):
        x.max(initial=0.0)
    with pytest.raises(TypeError):
        x.item(0)                                      # CuPy's item() takes no index
    with pytest.raises(TypeError):
        import operator
        operator.index(fake.xp.asarray(3))             # no __index__
