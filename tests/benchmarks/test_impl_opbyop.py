"""The op-by-op minigrad column (``benchmarks/impl_opbyop.py``) computes what the
floor and the ``layers`` column compute.

* float64, shrunk workloads: the same loss and gradients as the floor's
  hand-written backward and as the ``layers`` column (to 1e-9), and the same
  training trajectory as the floor (the op-by-op W2 has the floor's single
  bias, so unlike the ``layers`` column it follows the floor for several steps);
* float32, full size: the same loss and gradients as the floor, to float32 accuracy;
* the PyTorch op-by-op rows (``peer_torch.OPBYOP``) against the floor, when
  torch is installed (skipped otherwise).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import floor_numpy, impl_minigrad, impl_opbyop, peer_torch, workloads  # noqa: E402

WORKLOADS = ("W1", "W2", "W3", "W4")


def _small64(name, seed=0):
    params, data = workloads.make(name, seed=seed, small=True)
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


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", WORKLOADS)
def test_opbyop_matches_floor_float64(name, seed):
    params, data = _small64(name, seed)
    lf, gf = floor_numpy.WORKLOADS[name].loss_and_grads(workloads.copy_params(params), data)
    lo, go = impl_opbyop.WORKLOADS[name].loss_and_grads(params, data)
    _assert_same(lo, go, lf, gf, rtol=1e-9, atol_scale=1e-9)


@pytest.mark.parametrize("name", WORKLOADS)
def test_opbyop_matches_layers_column_float64(name):
    params, data = _small64(name)
    lo, go = impl_opbyop.WORKLOADS[name].loss_and_grads(params, data)
    ll, gl = impl_minigrad.WORKLOADS[name].loss_and_grads(params, data)
    _assert_same(lo, go, ll, gl, rtol=1e-9, atol_scale=1e-9)


@pytest.mark.parametrize("name", WORKLOADS)
def test_opbyop_matches_floor_float32_full_size(name):
    params, data = workloads.make(name)
    lf, gf = floor_numpy.WORKLOADS[name].loss_and_grads(workloads.copy_params(params), data)
    lo, go = impl_opbyop.WORKLOADS[name].loss_and_grads(params, data)
    for g in go.values():
        assert g.dtype == np.float32
    _assert_same(lo, go, lf, gf, rtol=2e-3, atol_scale=1e-5)


@pytest.mark.parametrize("name", WORKLOADS)
def test_opbyop_training_trajectory_matches_floor(name):
    params, data = _small64(name)
    floor_step = floor_numpy.WORKLOADS[name].make_step(workloads.copy_params(params), data)
    untouched = workloads.copy_params(params)
    step = impl_opbyop.WORKLOADS[name].make_step(params, data)
    losses = []
    for _ in range(3):
        loss, ref = step(), floor_step()
        assert loss == pytest.approx(ref, rel=1e-9)
        losses.append(loss)
    assert losses[0] != losses[2]                     # the parameters did move
    for k in params:                                  # the column trains its own copies
        np.testing.assert_array_equal(params[k], untouched[k])


def test_opbyop_records_one_node_per_op():
    """The op-by-op W2 really is op by op: its graph holds the cell's ops for every
    time step (no fused LSTM node), unlike the layers column's single LSTM node."""
    params, data = _small64("W2")
    _, loss_fn, _ = impl_opbyop.W2.build(params, data)
    loss = loss_fn()
    seen, stack, kinds = set(), [loss.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        kinds.add(type(fn).__name__)
        stack.extend(getattr(t, "grad_fn", None) for t in fn.inputs)
    assert "LSTM" not in kinds
    assert {"Sigmoid", "Tanh"} <= kinds
    assert len(seen) > 10 * data["x"].shape[1]       # at least 10 nodes per time step


@pytest.mark.skipif(not peer_torch.available(), reason="torch not installed")
@pytest.mark.parametrize("name", ("W1", "W2", "W3"))
def test_torch_opbyop_matches_floor_float64(name):
    params, data = _small64(name)
    lf, gf = floor_numpy.WORKLOADS[name].loss_and_grads(workloads.copy_params(params), data)
    lt, gt = peer_torch.OPBYOP[name].loss_and_grads(params, data)
    _assert_same(lt, gt, lf, gf, rtol=1e-9, atol_scale=1e-9)
