"""Checkpoint files: validate-then-load, and the one atomic writer (issue 11, "Files")."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import layers
import minigrad as mg
import optim
from minigrad import atomic


def _trained(seed=0, sizes=(3, 4, 2), cls=optim.Adam):
    mg.manual_seed(seed)
    model = layers.MLP(list(sizes))
    opt = cls(model.parameters(), lr=0.01)
    model(mg.randn(5, sizes[0])).sum().backward()
    opt.step()
    return model, opt


def _snapshot(model, opt):
    return ({k: v.copy() for k, v in model.state_dict().items()}, json.dumps(
        {k: v for k, v in opt.state_dict()["param_groups"][0].items() if k != "params"}),
        {i: {k: np.array(v) for k, v in s.items()} for i, s in opt.state_dict()["state"].items()})


def _unchanged(a, b):
    assert a[0].keys() == b[0].keys() and all(np.array_equal(a[0][k], b[0][k]) for k in a[0])
    assert a[1] == b[1]
    for i in a[2]:
        for k in a[2][i]:
            np.testing.assert_array_equal(a[2][i][k], b[2][i][k])


BAD_FILES = {
    "empty": b"",
    "garbage": b"not a zip at all",
    "truncated": None,          # filled in below: half of a real checkpoint
}


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated", "bad_json", "no_meta",
                                  "wrong_format", "single_array"])
def test_unreadable_files_raise_checkpoint_error_naming_the_path(tmp_path, kind):
    model, opt = _trained()
    good = tmp_path / "good.npz"
    optim.save_checkpoint(good, model, opt)
    path = tmp_path / f"{kind}.npz"
    if kind == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "bad_json":
        np.savez(path, __meta__=np.array("{not json"))
    elif kind == "no_meta":
        layers.save(model, path)
    elif kind == "wrong_format":
        np.savez(path, __meta__=np.array(json.dumps({"format": "other"})))
    elif kind == "single_array":
        with open(path, "wb") as f:
            np.save(f, np.ones(3))
    else:
        path.write_bytes(BAD_FILES[kind])
    before = _snapshot(model, opt)
    with pytest.raises(optim.CheckpointError, match=str(path).replace("\\", "\\\\")):
        optim.load_checkpoint(path, model, opt)
    _unchanged(before, _snapshot(model, opt))


@pytest.mark.parametrize("case,match", [
    ("other_model", "does not fit MLP.*mis-shaped"),
    ("optimizer_class", "holds Adam state, not SGD"),
    ("param_count", "parameter groups|parameters, the optimizer"),
    ("no_optimizer", "holds no optimizer state"),
    ("rngs", "no state for generator"),
    ("scheduler", "holds no scheduler state"),
])
def test_a_checkpoint_that_does_not_fit_changes_nothing(tmp_path, case, match):
    model, opt = _trained(seed=1)
    path = tmp_path / "ck.npz"
    optim.save_checkpoint(path, model, None if case == "no_optimizer" else opt)
    target, target_opt = _trained(seed=2)
    sched = None
    rngs = None
    if case == "other_model":
        target, target_opt = _trained(seed=2, sizes=(3, 5, 2))
    elif case == "optimizer_class":
        target, target_opt = _trained(seed=2, cls=optim.SGD)
    elif case == "param_count":
        target_opt = optim.Adam(list(target.parameters())[:2], lr=0.01)
    elif case == "rngs":
        rngs = {"mine": np.random.default_rng(0)}
    elif case == "scheduler":
        sched = optim.StepLR(target_opt, step_size=1)
    before = _snapshot(target, target_opt)
    with pytest.raises(optim.CheckpointError) as info:
        optim.load_checkpoint(path, target, target_opt, sched, rngs=rngs)
    assert str(path) in str(info.value)
    import re
    assert re.search(match, str(info.value)), str(info.value)
    _unchanged(before, _snapshot(target, target_opt))


def test_round_trip_still_exact(tmp_path):
    model, opt = _trained(seed=3)
    path = tmp_path / "ck.npz"
    optim.save_checkpoint(path, model, opt, extra={"epoch": 4})
    other, other_opt = _trained(seed=4)
    assert optim.load_checkpoint(path, other, other_opt) == {"epoch": 4}
    _unchanged(_snapshot(model, opt), _snapshot(other, other_opt))


# -- the atomic writer --------------------------------------------------------
@pytest.mark.parametrize("save", ["layers", "checkpoint"])
def test_save_errors_name_the_target_path(tmp_path, save):
    model, opt = _trained()
    target = tmp_path / "missing_folder" / "model.npz"
    with pytest.raises(FileNotFoundError, match=str(target)):
        layers.save(model, target) if save == "layers" else \
            optim.save_checkpoint(target, model, opt)
    folder = tmp_path / "a_folder.npz"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=str(folder)):
        layers.save(model, folder) if save == "layers" else \
            optim.save_checkpoint(folder, model, opt)


def test_stale_temporaries_of_the_same_target_are_removed(tmp_path):
    model, _ = _trained()
    target = tmp_path / "model.npz"
    # a save killed mid-write: a process that has exited left its temporary behind
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    prefix = atomic.temporary_name_prefix(str(target))
    stale = f"{prefix}{dead}-deadbeef"
    live = f"{prefix}{os.getpid()}-cafe0000"               # a save in progress: kept
    other = atomic.temporary_name_prefix(str(tmp_path / "other.npz")) + f"{dead}-00000000"
    for name in (stale, live, other):
        with open(name, "wb") as f:
            f.write(b"x" * 100)
    layers.save(model, target)
    assert not os.path.exists(stale)
    assert os.path.exists(live) and os.path.exists(other)   # not stale / another target
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == \
        ["model.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_files_follow_the_umask_like_np_save(tmp_path, umask):
    model, opt = _trained()
    old = os.umask(umask)
    try:
        layers.save(model, tmp_path / "a.npz")
        optim.save_checkpoint(tmp_path / "b.npz", model, opt)
        np.save(tmp_path / "c.npy", np.ones(2))
    finally:
        os.umask(old)
    modes = {n: stat.S_IMODE(os.stat(tmp_path / n).st_mode) for n in ("a.npz", "b.npz", "c.npy")}
    assert modes["a.npz"] == modes["b.npz"] == modes["c.npy"] == 0o666 & ~umask


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_saving_onto_a_symlink_writes_the_file_it_points_to(tmp_path):
    model, opt = _trained()
    real = tmp_path / "store" / "weights.npz"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    optim.save_checkpoint(link, model, opt)
    assert link.is_symlink() and os.readlink(link) == str(real)
    other, other_opt = _trained(seed=9)
    optim.load_checkpoint(real, other, other_opt)
    _unchanged(_snapshot(model, opt), _snapshot(other, other_opt))
    assert [p.name for p in real.parent.iterdir()] == ["weights.npz"]   # no temporaries left
