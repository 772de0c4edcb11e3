"""optim.train (the loop with a progress line), Minibatches."""
from __future__ import annotations

import io

import numpy as np
import pytest

import minigrad as mg
import optim
from conftest import host


def _problem(device, n=48):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    w_true = np.array([[1.0], [-2.0], [0.5]])
    y = X @ w_true + 0.3
    w = mg.Parameter(np.zeros((3, 1)), device=device)
    b = mg.Parameter(np.zeros(1), device=device)
    return X, y, w, b, w_true


def _loss(params, batch):
    w, b = params
    x, y = batch
    return mg.mse_loss(x @ w + b, y)


def test_train_fits_linear_regression_and_logs(device):
    X, y, w, b, w_true = _problem(device)
    opt = optim.SGD([w, b], lr=0.1, momentum=0.5)
    batches = optim.Minibatches(X, y, batch_size=8, device=device)
    out = io.StringIO()
    hist = optim.train((w, b), _loss, batches, opt, epochs=10, log_every=3, file=out,
                       progress="line")
    assert len(hist.losses) == 10 * 6 and len(hist.epoch_losses) == 10
    assert hist.epoch_losses[-1] < 1e-3 * hist.epoch_losses[0]
    np.testing.assert_allclose(host(w), w_true, atol=1e-2)
    assert host(b) == pytest.approx(0.3, abs=1e-2)
    text = out.getvalue()
    assert "epoch 1/10  step 3/6  loss" in text and "steps/s" in text and "lr 0.1" in text
    assert "epoch 10/10 done: mean loss" in text
    assert text.count("\n") == 10 * (2 + 1)                 # steps 3 and 6, then the summary


def test_train_is_silent_with_log_every_none(capsys):
    X, y, w, b, _ = _problem("cpu")
    optim.train((w, b), _loss, [(mg.Tensor(X), mg.Tensor(y))], optim.SGD([w, b], lr=0.1),
                epochs=2, log_every=None)
    assert capsys.readouterr().out == ""


def test_train_with_scheduler_clipping_callback_and_batches_function():
    X, y, w, b, _ = _problem("cpu")
    opt = optim.Adam([w, b], lr=0.1)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    seen = []

    def per_epoch(epoch):                 # a function epoch -> iterable works too
        seen.append(epoch)
        return [(mg.Tensor(X[:24]), mg.Tensor(y[:24])), (mg.Tensor(X[24:]), mg.Tensor(y[24:]))]

    calls = []

    def callback(info):
        calls.append(info)
        return info["global_step"] == 5   # stop after 5 steps

    hist = optim.train((w, b), _loss, per_epoch, opt, epochs=10, scheduler=sched,
                       scheduler_interval="epoch", clip_grad_norm=0.5, callback=callback,
                       start_epoch=3, log_every=None)
    assert hist.stopped_early and len(hist.losses) == 5
    assert seen == [3, 4, 5]
    assert [c["epoch"] for c in calls] == [3, 3, 4, 4, 5]
    assert hist.lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert calls[0].keys() == {"epoch", "step", "global_step", "loss", "lr"}


def test_train_calls_model_train_mode():
    class M:
        mode = None

        def train(self, mode=True):
            self.mode = mode

    p = mg.Parameter(np.ones(1))
    m = M()
    optim.train(m, lambda model, batch: (p * batch).sum(), [1.0], optim.SGD([p], lr=0.1),
                log_every=None)
    assert m.mode is True and p.item() == pytest.approx(0.9)


def test_minibatches_cover_every_example_once_per_epoch(device):
    X = np.arange(10.0).reshape(10, 1)
    y = np.arange(10)
    mb = optim.Minibatches(X, y, batch_size=4, device=device)
    assert len(mb) == 3
    for _ in range(2):
        got = [(host(xb).ravel(), host(yb)) for xb, yb in mb]
        assert [len(g[1]) for g in got] == [4, 4, 2]
        xs = np.concatenate([g[0] for g in got])
        np.testing.assert_array_equal(xs, np.concatenate([g[1] for g in got]).astype(float))
        assert sorted(xs.tolist()) == list(range(10))
    assert len(optim.Minibatches(X, batch_size=4, drop_last=True)) == 2
    in_order = optim.Minibatches(X, batch_size=5, shuffle=False)
    ordered = [host(xb).ravel().tolist() for xb in in_order]
    assert ordered == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_minibatches_shuffle_follows_manual_seed():
    X = np.arange(20.0)
    mg.manual_seed(5)
    a = [host(b).tolist() for b in optim.Minibatches(X, batch_size=20)]
    mg.manual_seed(5)
    b = [host(b).tolist() for b in optim.Minibatches(X, batch_size=20)]
    assert a == b and a[0] != list(range(20))
