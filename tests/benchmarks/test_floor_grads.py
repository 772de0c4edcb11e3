"""Correctness of the benchmark reference implementations.

* The raw-NumPy floor's manual backward (W1, W2, W3, W4 at shrunk sizes) is
  checked against float64 central differences on random coordinates of every
  parameter.
* At full size the floor stays float32 end to end.
* If torch is installed, the PyTorch peer (and its nn.LSTM variant) gives the
  same loss and gradients as the floor on the same weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import floor_numpy, workloads  # noqa: E402

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")


def _small64(name, seed=0):
    params, data = workloads.make(name, seed=seed, small=True)
    return workloads.copy_params(params, np.float64), workloads.cast_data(data, np.float64)


def _numerical_check(name, n_coords=6, eps=1e-6, rtol=1e-6, atol=1e-9):
    params, data = _small64(name)
    impl = floor_numpy.WORKLOADS[name]
    loss, grads = impl.loss_and_grads(params, data)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert set(grads) == set(params)
    rng = np.random.default_rng(123)
    for key, p in params.items():
        g = grads[key]
        assert g.shape == p.shape, key
        assert g.dtype == np.float64, key
        flat_p = p.reshape(-1)  # view: perturbations write through to params[key]
        idx = rng.choice(flat_p.size, size=min(n_coords, flat_p.size), replace=False)
        for i in idx:
            old = flat_p[i]
            flat_p[i] = old + eps
            lp, _ = impl.loss_and_grads(params, data)
            flat_p[i] = old - eps
            lm, _ = impl.loss_and_grads(params, data)
            flat_p[i] = old
            num = (lp - lm) / (2 * eps)
            ana = g.reshape(-1)[i]
            assert abs(num - ana) <= atol + rtol * abs(num) + 1e-7 * max(1.0, abs(loss)), (
                f"{name}.{key}[{i}]: numerical {num:.10g} vs analytic {ana:.10g}")


@pytest.mark.parametrize("name", WORKLOADS)
def test_floor_gradients_match_central_differences(name):
    _numerical_check(name)


@pytest.mark.parametrize("name", WORKLOADS)
def test_floor_step_is_float32_and_sgd(name):
    params, data = workloads.make(name)
    assert all(v.dtype == np.float32 for v in params.values())
    before = workloads.copy_params(params)
    loss, grads = floor_numpy.WORKLOADS[name].loss_and_grads(workloads.copy_params(params), data)
    for key, g in grads.items():
        assert g.dtype == np.float32, key
        assert np.all(np.isfinite(g)), key
    step = floor_numpy.WORKLOADS[name].make_step(params, data)
    first = step()
    assert isinstance(first, float)
    assert first == pytest.approx(loss, rel=1e-6)
    lr = data["cfg"]["lr"]
    for key in params:
        assert params[key].dtype == np.float32, key
        np.testing.assert_allclose(params[key], before[key] - lr * grads[key], rtol=1e-5, atol=1e-7)
    if name != "W4":  # W4's loss is linear in x: it just keeps falling
        losses = [step() for _ in range(3)]
        assert losses[-1] < first


def test_softmax_is_stable_for_huge_logits():
    params, data = workloads.make("W1", small=True)
    params["b3"] = params["b3"] + np.float32(1e4)  # shift all logits: loss unchanged
    params["b3"][0] += np.float32(50.0)
    loss, grads = floor_numpy.W1.loss_and_grads(params, data)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_workloads_are_deterministic():
    for name in WORKLOADS:
        p1, d1 = workloads.make(name)
        p2, d2 = workloads.make(name)
        for k in p1:
            np.testing.assert_array_equal(p1[k], p2[k])
        if "y" in d1:
            assert d1["y"].dtype == np.int64
            np.testing.assert_array_equal(d1["y"], d2["y"])
        p3, _ = workloads.make(name, seed=1)
        assert any(not np.array_equal(p1[k], p3[k]) for k in p1)


# --------------------------------------------------------------------------
# torch peer (skipped when torch is not installed)
# --------------------------------------------------------------------------

def _assert_same(loss_a, grads_a, loss_b, grads_b, rtol, atol_scale):
    assert loss_a == pytest.approx(loss_b, rel=rtol)
    assert set(grads_a) == set(grads_b)
    # absolute tolerance relative to the largest gradient entry of the model:
    # W3's bk gradient is exactly zero in theory (softmax is shift invariant),
    # so both sides hold pure rounding noise there
    scale = max(float(np.abs(g).max()) for g in grads_b.values())
    for key in grads_a:
        a, b = grads_a[key], grads_b[key]
        assert a.shape == b.shape, key
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol_scale * scale, err_msg=key)


@pytest.mark.parametrize("name", WORKLOADS)
def test_torch_matches_floor_float64(name):
    pytest.importorskip("torch")
    from benchmarks import peer_torch
    params, data = _small64(name)
    lf, gf = floor_numpy.WORKLOADS[name].loss_and_grads(workloads.copy_params(params), data)
    lt, gt = peer_torch.WORKLOADS[name].loss_and_grads(params, data)
    _assert_same(lt, gt, lf, gf, rtol=1e-9, atol_scale=1e-8)


@pytest.mark.parametrize("name", WORKLOADS)
def test_torch_matches_floor_float32_full_size(name):
    pytest.importorskip("torch")
    from benchmarks import peer_torch
    params, data = workloads.make(name)
    lf, gf = floor_numpy.WORKLOADS[name].loss_and_grads(workloads.copy_params(params), data)
    lt, gt = peer_torch.WORKLOADS[name].loss_and_grads(params, data)
    _assert_same(lt, gt, lf, gf, rtol=2e-3, atol_scale=1e-5)


def test_torch_nn_lstm_matches_floor():
    pytest.importorskip("torch")
    from benchmarks import peer_torch
    params, data = _small64("W2")
    lf, gf = floor_numpy.W2.loss_and_grads(workloads.copy_params(params), data)
    lt, gt = peer_torch.W2_NN_LSTM.loss_and_grads(params, data)
    _assert_same(lt, gt, lf, gf, rtol=1e-9, atol_scale=1e-8)


@pytest.mark.parametrize("name", WORKLOADS)
def test_torch_training_trajectory_matches_floor(name):
    pytest.importorskip("torch")
    from benchmarks import peer_torch
    params, data = _small64(name)
    floor_params = workloads.copy_params(params)
    floor_step = floor_numpy.WORKLOADS[name].make_step(floor_params, data)
    torch_step = peer_torch.WORKLOADS[name].make_step(params, data)
    untouched = workloads.copy_params(params)
    for _ in range(3):
        assert torch_step() == pytest.approx(floor_step(), rel=1e-9)
    for k in params:  # the torch peer trains its own copies
        np.testing.assert_array_equal(params[k], untouched[k])


# --------------------------------------------------------------------------
# runner smoke test (no timing precision needed)
# --------------------------------------------------------------------------

def test_runner_smoke(tmp_path, capsys):
    from benchmarks import run
    md = tmp_path / "bench.md"
    rc = run.main(["--workloads", "W4", "--impls", "numpy-floor,minigrad", "--no-isolate",
                   "--warmup", "0", "--repeats", "2", "--min-time", "0", "--growth-steps", "1",
                   "--markdown", str(md)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "numpy-floor" in out and "us/op" in out
    text = md.read_text()
    assert "| W4 | numpy-floor |" in text
    assert "minigrad" in text  # skipped (or measured, once it exists) -- never a crash
