"""optim.train meeting a NaN (on_nonfinite), learning-rate validation, the progress bar."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import optim
from conftest import host
from optim import training


def _problem(device, n=32, bad_batch=None, batch_size=8):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    if bad_batch is not None:
        X[bad_batch * batch_size + 1, 2] = np.nan      # one NaN input -> that batch's loss is NaN
    batches = [(mg.Tensor(X[i:i + batch_size], device=device),
                mg.Tensor(y[i:i + batch_size], device=device)) for i in range(0, n, batch_size)]
    w = mg.Parameter(np.zeros((3, 1)), device=device, name="w")
    b = mg.Parameter(np.zeros(1), device=device, name="b")
    return batches, w, b


def _loss(params, batch):
    w, b = params
    x, y = batch
    return mg.mse_loss(x @ w + b, y)


def _snapshot(params, opt):
    return [host(p).copy() for p in params], opt.state_dict()


def _same_state(a, b):
    pa, sa = a
    pb, sb = b
    assert all(np.array_equal(x, y) for x, y in zip(pa, pb))
    assert sa["param_groups"] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys()
    for k in sa["state"]:
        for key, v in sa["state"][k].items():
            np.testing.assert_array_equal(v, sb["state"][k][key])


@pytest.mark.parametrize("make_opt", [lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
                                      lambda ps: optim.Adam(ps, lr=0.01)])
def test_nan_loss_raises_naming_epoch_and_step_and_leaves_state_untouched(device, make_opt):
    batches, w, b = _problem(device, bad_batch=2)
    opt = make_opt([w, b])
    with pytest.raises(training.NonFiniteError) as info:
        optim.train((w, b), _loss, batches, opt, epochs=3, log_every=None)
    err = info.value
    assert "epoch 1, step 3" in str(err) and "loss nan" in str(err)
    assert (err.epoch, err.step, err.global_step, err.what) == (1, 3, 3, "loss")
    assert isinstance(err, mg.MinigradError) and isinstance(err, FloatingPointError)
    # model and optimizer hold exactly steps 1-2: compare with a second run that
    # only ever saw the two good batches
    ref_batches2, rw2, rb2 = _problem(device, bad_batch=2)
    ref_opt2 = make_opt([rw2, rb2])
    optim.train((rw2, rb2), _loss, ref_batches2[:2], ref_opt2, epochs=1, log_every=None)
    _same_state(_snapshot((w, b), opt), _snapshot((rw2, rb2), ref_opt2))
    assert np.isfinite(host(w)).all()


def test_nonfinite_gradient_with_finite_loss_raises_naming_the_parameter(device):
    batches, w, b = _problem(device)
    opt = optim.SGD([w, b], lr=0.05)
    calls = {"n": 0}

    def poison(g):                       # the 2nd backward gives b a NaN gradient
        calls["n"] += 1
        return g * float("nan") if calls["n"] == 2 else g

    b.register_hook(poison)
    before = None

    def callback(info):
        nonlocal before
        before = _snapshot((w, b), opt)

    with pytest.raises(training.NonFiniteError, match=r"gradient of parameter 1 \('b'\).*"
                       r"loss .* was finite.*epoch 1, step 2"):
        optim.train((w, b), _loss, batches, opt, log_every=None, callback=callback)
    _same_state(_snapshot((w, b), opt), before)


def test_skip_leaves_bad_batches_out_and_warn_updates_anyway():
    batches, w, b = _problem("cpu", bad_batch=1)
    opt = optim.SGD([w, b], lr=0.05)
    with pytest.warns(training.NonFiniteWarning, match="step 2.*skipped") as caught:
        hist = optim.train((w, b), _loss, batches, opt, epochs=2, log_every=None,
                           on_nonfinite="skip")
    assert ["epoch 1, step 2" in str(c.message) for c in caught] == [True, False]
    assert hist.skipped == [(1, 2), (2, 2)]
    assert len(hist.losses) == 8 and np.isnan(hist.losses[1])
    assert np.isfinite(hist.epoch_losses).all() and np.isfinite(host(w)).all()
    # the same as training on the good batches only
    good, w2, b2 = _problem("cpu", bad_batch=1)
    opt2 = optim.SGD([w2, b2], lr=0.05)
    optim.train((w2, b2), _loss, [good[0]] + good[2:], opt2, epochs=2, log_every=None)
    np.testing.assert_array_equal(host(w), host(w2))

    batches, w, b = _problem("cpu", bad_batch=1)
    with pytest.warns(training.NonFiniteWarning, match="updating anyway"):
        hist = optim.train((w, b), _loss, batches, optim.SGD([w, b], lr=0.05),
                           log_every=None, on_nonfinite="warn")
    assert np.isnan(host(w)).all() and hist.skipped == []


def test_on_nonfinite_and_progress_are_validated():
    batches, w, b = _problem("cpu")
    with pytest.raises(ValueError, match="on_nonfinite must be"):
        optim.train((w, b), _loss, batches, optim.SGD([w, b], lr=0.1), on_nonfinite="ignore")
    with pytest.raises(ValueError, match="progress must be"):
        optim.train((w, b), _loss, batches, optim.SGD([w, b], lr=0.1), progress="fancy")


# ---------------------------------------------------------------------------
# learning rates
# ---------------------------------------------------------------------------
BAD_LRS = [-1e-3, -0.0 - 1.0, float("nan"), float("inf"), -float("inf"), "0.1x", None]


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop])
@pytest.mark.parametrize("lr", BAD_LRS)
def test_optimizers_refuse_bad_learning_rates(cls, lr):
    p = mg.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="learning rate"):
        cls([p], lr=lr)
    with pytest.raises(ValueError, match="learning rate"):
        cls([{"params": [p], "lr": lr}], lr=0.1)


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not 1e6 < abs(v) < float("inf")))
def test_lr_set_on_a_group_later_is_checked_at_step(lr):
    p = mg.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1)
    opt.param_groups[0]["lr"] = lr
    (p * p).sum().backward()
    if 0 <= lr < float("inf"):
        opt.step()
        np.testing.assert_allclose(host(p), 1 - 2 * lr)
    else:
        with pytest.raises(ValueError, match=r"SGD.step: learning rate must be a finite"):
            opt.step()
        np.testing.assert_array_equal(host(p), [1.0, 1.0])


# ---------------------------------------------------------------------------
# progress: a tqdm bar when installed, the plain line otherwise
# ---------------------------------------------------------------------------
class _FakeBar:
    made: list["_FakeBar"] = []

    def __init__(self, total=None, desc="", file=None, **kwargs):
        self.total, self.desc, self.n, self.updates, self.postfix = total, desc, 0, 0, ""
        self.closed = False
        self.kwargs = kwargs
        _FakeBar.made.append(self)

    def update(self, k):
        self.n += k
        self.updates += 1

    def set_postfix_str(self, s, refresh=True):
        self.postfix = s

    def close(self):
        self.closed = True


def test_bar_shows_step_loss_lr_and_updates_a_few_times_a_second(monkeypatch):
    _FakeBar.made = []
    monkeypatch.setattr(training, "_tqdm", lambda: _FakeBar)
    X = np.random.default_rng(0).normal(size=(400, 3))
    w = mg.Parameter(np.zeros((3, 1)))
    batches = optim.Minibatches(X, X[:, :1], batch_size=1)        # 400 fast steps
    out = io.StringIO()
    optim.train([w], lambda m, bt: mg.mse_loss(bt[0] @ m[0], bt[1]), batches,
                optim.SGD([w], lr=0.01), epochs=2, file=out)
    assert out.getvalue() == ""                                   # no plain lines
    assert [bar.desc for bar in _FakeBar.made] == ["epoch 1/2", "epoch 2/2"]
    for bar in _FakeBar.made:
        assert bar.total == 400 and bar.n == 400 and bar.closed
        assert bar.updates <= 10          # 400 steps in well under 2 s: a few refreshes
        assert "loss" in bar.postfix and "lr 0.01" in bar.postfix


def test_plain_line_without_tqdm(monkeypatch):
    monkeypatch.setattr(training, "_tqdm", lambda: None)
    batches, w, b = _problem("cpu")
    out = io.StringIO()
    optim.train((w, b), _loss, batches, optim.SGD([w, b], lr=0.1), log_every=2, file=out)
    text = out.getvalue()
    assert "epoch 1/1  step 2/4  loss" in text and "lr 0.1" in text and "done" in text
    with pytest.raises(ImportError, match="needs tqdm"):
        optim.train((w, b), _loss, batches, optim.SGD([w, b], lr=0.1), progress="bar")


def test_real_tqdm_bar_in_text():
    pytest.importorskip("tqdm")
    batches, w, b = _problem("cpu")
    out = io.StringIO()
    optim.train((w, b), _loss, batches, optim.SGD([w, b], lr=0.1), file=out)
    text = out.getvalue()
    assert "epoch 1/1" in text and "4/4" in text and "lr 0.1" in text and "loss" in text
