"""state_dict / load_state_dict and .npz checkpoints: exact round trips, strict
checks with one readable error, no pickle, atomic writes."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host


def gpt(seed: int, device: str = "cpu") -> layers.GPT:
    mg.manual_seed(seed)
    return layers.GPT(10, 8, 2, 2, max_len=6, tie_weights=False, device=device)


def test_state_dict_is_host_copies():
    model = layers.Linear(3, 2)
    state = model.state_dict()
    assert list(state) == ["weight", "bias"]
    assert all(type(v) is np.ndarray for v in state.values())
    state["weight"][:] = 0                 # a copy: the model is untouched
    assert host(model.weight).any()


def test_round_trip_through_a_file_into_a_fresh_model(tmp_path, device):
    src, dst = gpt(0, device), gpt(1, device)
    path = tmp_path / "gpt.npz"
    layers.save(src, path)
    assert set(layers.load(path)) == set(src.state_dict())
    dst.load_state_dict(layers.load(path))
    for (name, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    ids = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(host(src(ids)), host(dst(ids)))
    assert all(p.device == device for p in dst.parameters())


def test_module_save_and_load_convenience(tmp_path):
    src = layers.CharLSTM(12, 4, 6, num_layers=2)
    src.save(str(tmp_path / "char.npz"))
    dst = layers.CharLSTM(12, 4, 6, num_layers=2).load(str(tmp_path / "char.npz"))
    assert all(np.array_equal(a, b) for a, b in zip(src.state_dict().values(),
                                                     dst.state_dict().values()))


def test_load_keeps_parameter_identity_and_dtype():
    model = layers.Linear(2, 2).double()
    weight = model.weight
    model.load_state_dict({"weight": np.ones((2, 2), np.float32), "bias": [1, 2]})
    assert model.weight is weight and weight.dtype == np.float64
    assert host(model.bias).tolist() == [1.0, 2.0]


def test_load_from_tensors_and_device_arrays(device):
    src = layers.MLP([2, 3, 1], device=device)
    dst = layers.MLP([2, 3, 1])
    dst.load_state_dict(dict(src.named_parameters()))                # Tensors on any device
    assert all(np.array_equal(a, b) for a, b in zip(src.state_dict().values(),
                                                     dst.state_dict().values()))
    arrays = {n: p.data for n, p in layers.MLP([2, 3, 1]).named_parameters()}
    src.load_state_dict({n: mg.Tensor(a).to(device).data for n, a in arrays.items()})
    assert all(np.array_equal(host(arrays[n]), host(p)) for n, p in src.named_parameters())


def test_strict_errors_list_every_offending_key():
    model = layers.MLP([3, 4, 2])
    state = model.state_dict()
    del state["0.bias"]
    state["2.weight"] = np.zeros((5, 4))
    state["extra.weight"] = np.zeros(1)
    before = model.state_dict()
    with pytest.raises(layers.StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: 0.bias" in message
    assert "unexpected keys: extra.weight" in message
    assert "2.weight: checkpoint (5, 4) vs model (2, 4)" in message
    assert "nothing was loaded" in message
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_non_strict_loading_reports_but_still_rejects_bad_shapes():
    model = layers.MLP([3, 4, 2])
    partial = {"0.weight": np.zeros((4, 3)), "head.bias": np.zeros(2)}
    result = model.load_state_dict(partial, strict=False)
    assert result.unexpected_keys == ["head.bias"] and "0.bias" in result.missing_keys
    assert not host(model[0].weight).any()
    with pytest.raises(layers.StateDictError, match="mis-shaped"):
        model.load_state_dict({"0.weight": np.zeros((3, 4))}, strict=False)


def test_tampered_files_give_clear_errors(tmp_path):
    model = layers.MLP([3, 4, 2])
    good = tmp_path / "good.npz"
    model.save(str(good))
    # a mis-shaped array written into an otherwise valid checkpoint
    state = layers.load(good)
    state["2.weight"] = np.zeros((2, 5))
    layers.save(state, tmp_path / "shape.npz")
    with pytest.raises(layers.StateDictError, match="2.weight"):
        model.load(str(tmp_path / "shape.npz"))
    # a renamed key
    state = layers.load(good)
    state["0.weights"] = state.pop("0.weight")
    layers.save(state, tmp_path / "renamed.npz")
    with pytest.raises(layers.StateDictError, match="missing keys: 0.weight") as info:
        model.load(str(tmp_path / "renamed.npz"))
    assert "unexpected keys: 0.weights" in str(info.value)
    # flipped bytes inside the archive: zip's CRC catches them
    raw = bytearray(good.read_bytes())
    start = raw.find(b"\x93NUMPY") + 200
    raw[start:start + 8] = b"\xff" * 8
    (tmp_path / "flipped.npz").write_bytes(bytes(raw))
    with pytest.raises(layers.StateDictError, match="not a readable .npz"):
        layers.load(tmp_path / "flipped.npz")
    # truncated file, and not a zip at all
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:100])
    (tmp_path / "text.npz").write_text("hello")
    for name in ("cut.npz", "text.npz"):
        with pytest.raises(layers.StateDictError):
            layers.load(tmp_path / name)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"0.weight": np.array([{"not": "numbers"}], dtype=object)})
    with pytest.raises(layers.StateDictError, match="pickled"):
        layers.load(path)
    with pytest.raises(layers.StateDictError, match="non-numeric"):
        layers.save({"w": np.array([object()])}, tmp_path / "x.npz")


def test_load_uses_allow_pickle_false(tmp_path, monkeypatch):
    seen = {}
    real = np.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    layers.save(layers.Linear(2, 2), tmp_path / "l.npz")
    layers.load(tmp_path / "l.npz")
    assert seen.get("allow_pickle") is False


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    model = layers.Linear(3, 3)
    model.save(str(path))
    original = path.read_bytes()

    def crash(f, arrays):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(layers.serialization, "_write_npz", crash)
    with pytest.raises(KeyboardInterrupt):
        layers.Linear(3, 3).save(str(path))
    assert path.read_bytes() == original                 # the old file survives intact
    assert os.listdir(tmp_path) == ["model.npz"]         # and no temporary file is left


def test_file_is_a_plain_npz(tmp_path):
    path = tmp_path / "plain.npz"
    layers.save({"a.b": np.arange(3.0), "file": np.ones(2)}, path)   # 'file' is no problem
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["a.b.npy", "file.npy"]
    with np.load(path, allow_pickle=False) as f:
        assert f["a.b"].tolist() == [0.0, 1.0, 2.0]


def test_buffers_follow_the_persistent_flag():
    class WithStats(layers.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("running", mg.Tensor(np.zeros(2)))
            self.register_buffer("table", mg.Tensor(np.ones(2)), persistent=False)

    m = WithStats()
    assert list(m.state_dict()) == ["running"]
    m.load_state_dict({"running": np.array([3.0, 4.0])})
    assert host(m.running).tolist() == [3.0, 4.0]
