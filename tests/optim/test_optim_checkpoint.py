"""Optimiser state_dict round trips, the pickle-free checkpoint file, and
bit-for-bit resume of a training run in a fresh process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import optim
from conftest import host

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

FACTORIES = {
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]),
}


def _make_params(device):
    rng = np.random.default_rng(0)
    return [mg.Parameter(rng.normal(size=s).astype(np.float32), device=device)
            for s in [(), (3,), (2, 3)]]


def _grads(k, shapes):
    rng = np.random.default_rng(100 + k)
    return [rng.normal(size=s).astype(np.float32) for s in shapes]


def _step(opt, ps, k, device):
    for p, g in zip(ps, _grads(k, [p.shape for p in ps])):
        p.grad = mg.Tensor(g, device=device)
    opt.step()


@pytest.mark.parametrize("name", list(FACTORIES))
def test_optimizer_state_dict_round_trip(device, name):
    ps = _make_params(device)
    opt = FACTORIES[name](ps)
    for k in range(3):
        _step(opt, ps, k, device)
    sd = opt.state_dict()
    # host data only: NumPy arrays and plain numbers
    for s in sd["state"].values():
        assert s["step"] == 3
        for v in s.values():
            assert isinstance(v, (int, float, np.ndarray)), type(v)
    # a fresh copy of the parameters + a fresh optimiser, loaded, continues identically
    qs = [mg.Parameter(host(p).copy(), device=device) for p in ps]
    opt2 = FACTORIES[name](qs)
    opt2.load_state_dict(sd)
    for p in qs:
        for v in opt2.state[p].values():
            if not isinstance(v, (int, float)):
                assert type(v) is type(p.data) and v.dtype == np.float32
    for k in range(3, 6):
        _step(opt, ps, k, device)
        _step(opt2, qs, k, device)
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(host(p), host(q))
    # loading copied the arrays: later steps did not touch the saved dict
    assert sd["state"][0]["step"] == 3


def test_state_dict_rejects_a_mismatch():
    ps = _make_params("cpu")
    sd = optim.Adam(ps).state_dict()
    with pytest.raises(ValueError):
        optim.Adam(ps[:2]).load_state_dict(sd)
    with pytest.raises(ValueError):
        optim.Adam([{"params": ps[:1]}, {"params": ps[1:]}]).load_state_dict(sd)


class _Model:
    def __init__(self, ps):
        self.ps = ps

    def state_dict(self):
        return {f"p{i}": p.numpy() for i, p in enumerate(self.ps)}

    def load_state_dict(self, state):
        with mg.no_grad():
            for i, p in enumerate(self.ps):
                p.copy_(mg.Tensor(state[f"p{i}"], device=p.device))


def test_checkpoint_file_is_pickle_free_and_complete(tmp_path, device):
    ps = _make_params(device)
    opt = FACTORIES["adamw"](ps)
    sched = optim.LinearWarmup(opt, 2, after=optim.StepLR(opt, 2, 0.5))
    for k in range(4):
        _step(opt, ps, k, device)
        sched.step()
    shuffle_rng = np.random.default_rng(7)
    shuffle_rng.random(5)
    path = tmp_path / "run.npz"
    optim.save_checkpoint(path, _Model(ps), opt, sched, rng={"shuffle": shuffle_rng},
                          extra={"epoch": 4, "tags": ("a", "b"), "curve": np.arange(3.0)})
    assert os.listdir(tmp_path) == ["run.npz"], "no temporary file left behind"
    with np.load(path, allow_pickle=False) as z:                 # readable without pickle
        assert "__meta__" in z.files and all(z[k].dtype != object for k in z.files)
    expected_next = np.random.default_rng(7)
    expected_next.random(5)
    want_dropout = mg.backends.get_backend(device).rng.random(4)
    want_shuffle = expected_next.random(3)

    qs = [mg.Parameter(np.zeros(p.shape, np.float32), device=device) for p in ps]
    opt2 = FACTORIES["adamw"](qs)
    sched2 = optim.LinearWarmup(opt2, 2, after=optim.StepLR(opt2, 2, 0.5))
    fresh = np.random.default_rng(999)
    mg.manual_seed(31337)
    extra = optim.load_checkpoint(path, _Model(qs), opt2, sched2, rngs={"shuffle": fresh})
    assert extra["epoch"] == 4 and extra["tags"] == ("a", "b")
    np.testing.assert_array_equal(extra["curve"], np.arange(3.0))
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(host(p), host(q))
    assert sched2.last_epoch == 4 and sched2.get_last_lr() == sched.get_last_lr()
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    assert opt2.state[qs[2]]["step"] == 4
    np.testing.assert_array_equal(host(opt2.state[qs[2]]["exp_avg"]),
                                  host(opt.state[ps[2]]["exp_avg"]))
    # the generators continue exactly where they were when saved
    np.testing.assert_array_equal(fresh.random(3), want_shuffle)
    got_dropout = mg.backends.get_backend(device).rng.random(4)
    np.testing.assert_array_equal(host(mg.Tensor(got_dropout)), host(mg.Tensor(want_dropout)))


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    ps = _make_params("cpu")
    opt = optim.SGD(ps, lr=0.1)
    path = tmp_path / "ckpt.npz"
    optim.save_checkpoint(path, _Model(ps), opt)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        optim.save_checkpoint(path, _Model(ps), opt, extra={"epoch": 2})
    assert path.read_bytes() == before, "the old checkpoint must survive a failed save"
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_checkpoint_refuses_the_wrong_optimizer(tmp_path):
    ps = _make_params("cpu")
    path = tmp_path / "c.npz"
    optim.save_checkpoint(path, _Model(ps), optim.SGD(ps, lr=0.1))
    with pytest.raises(ValueError, match="SGD"):
        optim.load_checkpoint(path, _Model(ps), optim.Adam(ps))


# -- exact resume in a fresh process ------------------------------------------------------
def _run_script(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, str(HERE / "resume_script.py"), *map(str, args)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("opt_name", ["adamw", "sgd", "rmsprop"])
def test_resume_in_a_fresh_process_is_bit_for_bit(tmp_path, device, opt_name):
    if device == "cuda":
        pytest.skip("CuPy generators keep their state on the GPU; resume is exact on cpu/fake")
    n, m = 2, 3
    ckpt = tmp_path / "mid.npz"
    _run_script("full", device, opt_name, ckpt, tmp_path / "full.npz", n, m)
    _run_script("resume", device, opt_name, ckpt, tmp_path / "resumed.npz", n, m)
    _run_script("resume-no-rng", device, opt_name, ckpt, tmp_path / "no_rng.npz", n, m)
    with np.load(tmp_path / "full.npz") as a, np.load(tmp_path / "resumed.npz") as b, \
            np.load(tmp_path / "no_rng.npz") as c:
        assert len(a["losses"]) == m * 5                      # 40 examples / batch 8, M epochs
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)   # bit for bit
        # control: without the RNG state, dropout masks and shuffles differ
        assert not np.array_equal(a["losses"], c["losses"])
        np.testing.assert_array_equal(a["lrs"], c["lrs"])   # (the schedule itself is restored)


def _layers_available() -> bool:
    try:
        import layers
        return hasattr(layers, "MLP") and hasattr(layers, "Module")
    except Exception:
        return False


@pytest.mark.skipif(not _layers_available(), reason="the layers package is not there yet")
def test_resume_with_a_layers_module(tmp_path, device):
    """The same bit-for-bit resume with layers.MLP (state_dict/load_state_dict of Module)."""
    if device == "cuda":
        pytest.skip("CuPy generators keep their state on the GPU")
    ckpt = tmp_path / "mid.npz"
    _run_script("full", device, "adamw", ckpt, tmp_path / "full.npz", 2, 2, "mlp")
    _run_script("resume", device, "adamw", ckpt, tmp_path / "resumed.npz", 2, 2, "mlp")
    with np.load(tmp_path / "full.npz") as a, np.load(tmp_path / "resumed.npz") as b:
        assert len(a.files) > 3
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
