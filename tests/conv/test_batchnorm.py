"""batch_norm (op) and BatchNorm1d / BatchNorm2d (layers): training mode
(the gradient through the batch statistics), evaluation mode, the running
estimates (unbiased variance, momentum, num_batches_tracked), the fused
backward against the composed twin, PyTorch when installed, and bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import layers
import minigrad as mg
import naive_conv as naive
from helpers import check_op, examples, host
from minigrad.ops import batchnorm

shapes_nc = st.one_of(
    st.tuples(st.integers(2, 5), st.integers(1, 3)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(2, 4)),
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(2, 3)))


def _t(a, device, grad=False):
    return mg.Tensor(a, dtype="float64", device=device, requires_grad=grad)


# The gradient through the batch statistics subtracts two means of g: with as few as two
# values per channel it cancels to ~1e-8 of its terms, which float32 resolves only to
# about 5e-5 relative (seen with N=1, H*W=2).
F32_TOL = 2e-4


@examples(10)
@given(shape=shapes_nc, seed=st.integers(0, 999))
def test_training_mode_against_loops_and_gradcheck_through_batch_statistics(device, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    check_op(lambda a, m, s: mg.batch_norm(a, None, None, m, s, training=True), x, w, b,
             device=device, ref=lambda a, m, s: naive.batch_norm_train(a, m, s)[0],
             rtol=1e-9, atol=1e-10, gradgrad=True, f32_tol=F32_TOL)
    check_op(lambda a: mg.batch_norm(a, None, None, training=True, eps=1e-3), x,
             device=device, ref=lambda a: naive.batch_norm_train(a, np.ones(c), np.zeros(c),
                                                                 eps=1e-3)[0],
             rtol=1e-9, atol=1e-10, f32_tol=F32_TOL)


@examples(10)
@given(shape=shapes_nc, seed=st.integers(0, 999))
def test_evaluation_mode_uses_the_running_statistics(device, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    c = shape[1]
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    bshape = (1, c) + (1,) * (len(shape) - 2)

    def ref(a, m, s):
        return (a - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5) \
            * m.reshape(bshape) + s.reshape(bshape)
    rm, rv = _t(mean.copy(), device), _t(var.copy(), device)
    check_op(lambda a, m, s: mg.batch_norm(a, rm, rv, m, s), x, w, b, device=device, ref=ref,
             rtol=1e-10, atol=1e-12, gradgrad=True, float32=False)
    np.testing.assert_array_equal(host(rm), mean)        # evaluation never updates them


def test_running_estimates_move_with_momentum_and_unbiased_variance(device):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2, 2)) * 3 + 2
    rm, rv = _t(np.zeros(3), device), _t(np.ones(3), device)
    mg.batch_norm(_t(x, device), rm, rv, training=True, momentum=0.25)
    _, mu, var_biased = naive.batch_norm_train(x, np.ones(3), np.zeros(3))
    m = 4 * 2 * 2
    np.testing.assert_allclose(host(rm), 0.25 * mu, rtol=1e-12)
    np.testing.assert_allclose(host(rv), 0.75 + 0.25 * var_biased * m / (m - 1), rtol=1e-12)


@examples(8)
@given(shape=shapes_nc, seed=st.integers(0, 999), training=st.booleans())
def test_fused_equals_composed_with_second_derivatives(device, shape, seed, training):
    rng = np.random.default_rng(seed)
    c = shape[1]
    arrays_ = [rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c)]
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    results = []
    for fn in (batchnorm.batch_norm, batchnorm.batch_norm_reference):
        rm, rv = _t(mean.copy(), device), _t(var.copy(), device)   # (updated in place)
        xs = [_t(a, device, True) for a in arrays_]
        out = fn(xs[0], rm, rv, xs[1], xs[2], training)
        up = _t(np.random.default_rng(1).standard_normal(out.shape), device)
        grads = mg.grad(out, xs, up, create_graph=True)
        v = [_t(np.random.default_rng(9 + i).standard_normal(a.shape), device)
             for i, a in enumerate(arrays_)]
        dot = sum(((g * vi).sum() for g, vi in zip(grads, v)), _t(0.0, device))
        hvp = mg.grad(dot, xs, allow_unused=True)
        results.append([host(out), host(rm), host(rv)] + [host(g) for g in grads]
                       + [host(h) for h in hvp])
    for k, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-11, err_msg=f"item {k}")


def test_batch_norm_bad_input(device):
    x = _t(np.zeros((4, 3, 2, 2)), device)
    with pytest.raises(mg.ShapeError, match=r"batch_norm: weight must have shape \(3,\)"):
        mg.batch_norm(x, None, None, _t(np.ones(2), device), training=True)
    with pytest.raises(mg.ShapeError, match="more than one value per channel"):
        mg.batch_norm(_t(np.zeros((1, 3)), device), None, None, training=True)
    with pytest.raises(mg.ShapeError, match="evaluation mode"):
        mg.batch_norm(x, None, None)
    with pytest.raises(mg.ShapeError, match=r"\(N, C\) or \(N, C, \.\.\.\)"):
        mg.batch_norm(_t(np.zeros(3), device), None, None, training=True)


# ---------------------------------------------------------------------------
# the layers
# ---------------------------------------------------------------------------
def test_batchnorm2d_train_then_eval_and_state_dict(device):
    bn = layers.BatchNorm2d(3).to(device).double()
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((4, 3, 2, 3)) * 2 + 1 for _ in range(3)]
    mean, var = np.zeros(3), np.ones(3)
    for x in batches:
        out = bn(_t(x, device))
        expected, mu, v = naive.batch_norm_train(x, np.ones(3), np.zeros(3))
        np.testing.assert_allclose(host(out), expected, rtol=1e-9, atol=1e-10)
        m = x.size // 3
        mean, var = 0.9 * mean + 0.1 * mu, 0.9 * var + 0.1 * v * m / (m - 1)
    state = bn.state_dict()
    np.testing.assert_allclose(state["running_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(state["running_var"], var, rtol=1e-12)
    assert state["num_batches_tracked"] == 3 and state["num_batches_tracked"].dtype == np.int64
    bn.eval()
    x = batches[0]
    out = bn(_t(x, device))
    np.testing.assert_allclose(host(out), (x - mean.reshape(1, 3, 1, 1))
                               / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5), rtol=1e-10)
    assert bn.state_dict()["num_batches_tracked"] == 3       # eval does not count
    fresh = layers.BatchNorm2d(3).double().to(device)
    fresh.load_state_dict(state)
    fresh.eval()
    np.testing.assert_allclose(host(fresh(_t(x, device))), host(out), rtol=1e-12)


def test_batchnorm_momentum_none_is_a_cumulative_average(device):
    bn = layers.BatchNorm1d(2, momentum=None).double().to(device)
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((5, 2)) + i for i in range(3)]
    for x in xs:
        bn(_t(x, device))
    np.testing.assert_allclose(host(bn.running_mean), np.mean([x.mean(0) for x in xs], axis=0),
                               rtol=1e-12)


def test_batchnorm_without_running_stats_always_uses_the_batch(device):
    bn = layers.BatchNorm1d(2, affine=False, track_running_stats=False).double()
    assert bn.state_dict() == {} and bn.running_mean is None
    x = np.random.default_rng(2).standard_normal((6, 2, 3))
    bn.eval()
    np.testing.assert_allclose(host(bn(_t(x, "cpu"))),
                               naive.batch_norm_train(x, np.ones(2), np.zeros(2))[0], rtol=1e-10)


@pytest.mark.parametrize("cls, shape", [(layers.BatchNorm1d, (4, 3)),
                                        (layers.BatchNorm1d, (4, 3, 5)),
                                        (layers.BatchNorm2d, (3, 3, 2, 2))])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_layers_gradcheck(device, cls, shape, train):
    bn = cls(3).double()
    bn.load_state_dict({**bn.state_dict(), "weight": np.array([0.5, -1.5, 2.0]),
                        "bias": np.array([0.1, 0.2, -0.3])})
    bn.to(device).train(train)
    bn.running_var.data[...] = 2.0
    x = _t(np.random.default_rng(3).standard_normal(shape), device)
    assert layers.gradcheck_module(bn, x).passed


def test_batchnorm_layer_errors_name_the_layer(device):
    with pytest.raises(mg.ShapeError, match=r"BatchNorm2d\(3\) expects an input \(N, C, H, W\), "
                                            r"got shape \(4, 3\)"):
        layers.BatchNorm2d(3).to(device)(_t(np.zeros((4, 3)), device).float())
    with pytest.raises(mg.ShapeError, match=r"BatchNorm2d\(3\) expects 3 channels on axis 1, "
                                            r"got input shape \(4, 2, 2, 2\)"):
        layers.BatchNorm2d(3).to(device)(_t(np.zeros((4, 2, 2, 2)), device).float())
    with pytest.raises(mg.ShapeError, match=r"BatchNorm1d\(3\).*more than one value"):
        layers.BatchNorm1d(3).to(device)(_t(np.zeros((1, 3)), device).float())


def test_batchnorm2d_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ref = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    bn = layers.BatchNorm2d(3).double()
    for _ in range(2):
        x = rng.standard_normal((4, 3, 2, 3))
        tx = torch.tensor(x, requires_grad=True)
        xt = _t(x, "cpu", True)
        g = rng.standard_normal(x.shape)
        ref(tx).backward(torch.tensor(g))
        bn(xt).backward(_t(g, "cpu"))
        np.testing.assert_allclose(host(xt.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(bn.state_dict()[k], v.numpy(), rtol=1e-12)
