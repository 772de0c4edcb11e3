"""The minigrad benchmark column computes what the raw-NumPy floor computes.

* float64, shrunk workloads: the same loss and gradients as the floor's
  hand-written backward (to 1e-9), and the same training trajectory where the
  parameters map one to one (W1, W3, W4; W2 trains PyTorch's two LSTM biases
  where the floor has one);
* float32, full size: the same loss and gradients, float32 throughout, to
  float32 accuracy.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import floor_numpy, impl_minigrad, workloads  # noqa: E402

WORKLOADS = ("W1", "W2", "W3", "W4", "W5")


def _small64(name):
    params, data = workloads.make(name, small=True)
    return workloads.copy_params(params, np.float64), workloads.cast_data(data, np.float64)


def _assert_same(loss_a, grads_a, loss_b, grads_b, rtol, atol_scale):
    assert loss_a == pytest.approx(loss_b, rel=rtol)
    assert set(grads_a) == set(grads_b)
    scale = max(float(np.abs(g).max()) for g in grads_b.values())
    for key in grads_a:
        assert grads_a[key].shape == grads_b[key].shape, key
        assert grads_a[key].dtype == grads_b[key].dtype, key
        np.testing.assert_allclose(grads_a[key], grads_b[key], rtol=rtol,
                                   atol=atol_scale * scale, err_msg=key)


@pytest.mark.parametrize("name", WORKLOADS)
def test_minigrad_matches_floor_float64(name):
    params, data = _small64(name)
    lf, gf = floor_numpy.WORKLOADS[name].loss_and_grads(workloads.copy_params(params), data)
    lm, gm = impl_minigrad.WORKLOADS[name].loss_and_grads(params, data)
    _assert_same(lm, gm, lf, gf, rtol=1e-9, atol_scale=1e-9)


@pytest.mark.parametrize("name", WORKLOADS)
def test_minigrad_matches_floor_float32_full_size(name):
    params, data = workloads.make(name)
    lf, gf = floor_numpy.WORKLOADS[name].loss_and_grads(workloads.copy_params(params), data)
    lm, gm = impl_minigrad.WORKLOADS[name].loss_and_grads(params, data)
    _assert_same(lm, gm, lf, gf, rtol=2e-3, atol_scale=1e-5)


@pytest.mark.parametrize("name", WORKLOADS)
def test_minigrad_training_trajectory_matches_floor(name):
    params, data = _small64(name)
    floor_step = floor_numpy.WORKLOADS[name].make_step(workloads.copy_params(params), data)
    untouched = workloads.copy_params(params)
    step = impl_minigrad.WORKLOADS[name].make_step(params, data)
    steps = 1 if name == "W2" else 3
    for _ in range(steps):
        assert step() == pytest.approx(floor_step(), rel=1e-9)
    for k in params:  # minigrad trains its own copies
        np.testing.assert_array_equal(params[k], untouched[k])

