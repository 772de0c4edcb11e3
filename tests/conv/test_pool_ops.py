"""max_pool2d / avg_pool2d (F34): against nested loops (forward and backward),
central differences (second derivatives for the average), the composed twins,
the tie rule, PyTorch when installed, and bad input; on "cpu" and "fake"."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import naive_conv as naive
from helpers import check_op, examples, host
from minigrad.ops import pool

TOL = dict(rtol=1e-12, atol=1e-12)


@st.composite
def pool_cases(draw):
    """Kernels 1-3 (non-square), strides 1-3 (below the kernel: overlapping windows,
    None: the default), padding up to half the kernel, odd sizes, window == padded input."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    hw = [draw(st.integers(max(1, kk - 2 * pp), kk - 2 * pp + 4)) for kk, pp in zip(k, p)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw)
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    # all values distinct and far apart (gaps >> the gradcheck's eps): no ties
    n = int(np.prod(shape))
    x = (rng.permutation(n) * 0.25 - 0.125 * n + rng.uniform(-0.05, 0.05, n)).reshape(shape)
    return x, k, s, p


def _leaf(a, device):
    return mg.Tensor(a, dtype="float64", device=device, requires_grad=True)


@pytest.mark.parametrize("kind", ["max", "avg"])
@examples(12)
@given(case=pool_cases())
def test_pool_matches_nested_loops_forward_and_backward(device, kind, case):
    x, k, s, p = case
    op = mg.max_pool2d if kind == "max" else mg.avg_pool2d
    loops = naive.max_pool2d_forward_backward if kind == "max" else \
        naive.avg_pool2d_forward_backward
    xt = _leaf(x, device)
    out = op(xt, k, s, p)
    g = np.random.default_rng(2).standard_normal(out.shape)
    expected_out, expected_dx = loops(x, g, k, s if s is not None else k, p)
    np.testing.assert_allclose(host(out), expected_out, **TOL)
    out.backward(mg.Tensor(g, dtype="float64", device=device))
    np.testing.assert_allclose(host(xt.grad), expected_dx, **TOL)


@pytest.mark.parametrize("kind", ["max", "avg"])
@examples(6)
@given(case=pool_cases())
def test_pool_gradcheck_and_invariants(device, kind, case):
    x, k, s, p = case
    op = mg.max_pool2d if kind == "max" else mg.avg_pool2d
    loops = naive.max_pool2d_forward_backward if kind == "max" else \
        naive.avg_pool2d_forward_backward
    check_op(lambda t: op(t, k, s, p), x, device=device,
             ref=lambda a: loops(a, None, k, s if s is not None else k, p)[0],
             gradgrad=kind == "avg", rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
@examples(6)
@given(case=pool_cases())
def test_pool_fused_equals_composed_with_second_derivatives(device, kind, case):
    x, k, s, p = case
    fused = mg.max_pool2d if kind == "max" else mg.avg_pool2d
    composed = pool.max_pool2d_reference if kind == "max" else pool.avg_pool2d_reference
    results = []
    for fn in (fused, composed):
        xt = _leaf(x, device)
        out = fn(xt, k, s, p)
        up = mg.Tensor(np.random.default_rng(4).standard_normal(out.shape), dtype="float64",
                       device=device, requires_grad=True)
        (gx,) = mg.grad(out, xt, up, create_graph=True)
        v = mg.Tensor(np.random.default_rng(5).standard_normal(x.shape), dtype="float64",
                      device=device)
        (d_up,) = mg.grad((gx * v).sum(), up)       # the backward is linear in the gradient
        results.append([host(out), host(gx), host(d_up)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, **TOL)
    with mg.use_fused(False):
        assert type(fused(_leaf(x, device), k, s, p).grad_fn).__name__ not in ("MaxPool2d",
                                                                             "AvgPool2d")


def test_max_pool_ties_give_the_whole_gradient_to_the_first_maximum(device):
    """The documented rule: in each window the first maximal element (row-major) wins."""
    x = _leaf(np.array([[[[1.0, 1.0, 0.0, 2.0],
                          [1.0, 1.0, 2.0, 2.0]]]]), device)
    out = mg.max_pool2d(x, 2)
    out.backward(mg.Tensor(np.array([[[[10.0, 20.0]]]]), dtype="float64", device=device))
    np.testing.assert_array_equal(host(out), [[[[1.0, 2.0]]]])
    np.testing.assert_array_equal(host(x.grad), [[[[10.0, 0.0, 0.0, 20.0],
                                                    [0.0, 0.0, 0.0, 0.0]]]])
    # the composed twin follows the same rule
    x2 = _leaf(host(x), device)
    pool.max_pool2d_reference(x2, 2).backward(
        mg.Tensor(np.array([[[[10.0, 20.0]]]]), dtype="float64", device=device))
    np.testing.assert_array_equal(host(x2.grad), host(x.grad))


def test_max_pool_padding_never_wins(device):
    x = _leaf(-np.ones((1, 1, 2, 2)) * 5, device)       # all negative: zeros would win
    np.testing.assert_array_equal(host(mg.max_pool2d(x, 3, 1, 1)), -5 * np.ones((1, 1, 2, 2)))


def test_avg_pool_counts_padded_zeros(device):
    x = _leaf(np.ones((1, 1, 2, 2)), device)
    np.testing.assert_allclose(host(mg.avg_pool2d(x, 2, 2, 1)), np.full((1, 1, 2, 2), 0.25))


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("shape, args, words", [
    ((1, 1, 4, 4), (3, 1, 2), ["padding", "at most half", "(1, 1, 4, 4)"]),
    ((1, 4, 4), (2,), ["4-D input", "(1, 4, 4)"]),
    ((1, 1, 4, 4), (2, 0), ["stride", "at least 1"]),
    ((1, 1, 2, 5), (3,), ["larger than the padded input", "(1, 1, 2, 5)"]),
    ((1, 1, 4, 4), (0,), ["kernel_size", "at least 1"]),
])
def test_pool_bad_input_names_op_and_shapes(device, op, shape, args, words):
    x = mg.Tensor(np.zeros(shape), dtype="float64", device=device)
    with pytest.raises(mg.ShapeError) as info:
        getattr(mg, op)(x, *args)
    for word in [op] + words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("kind", ["max", "avg"])
@examples(5)
@given(case=pool_cases())
def test_pool_matches_torch(kind, case):
    torch = pytest.importorskip("torch")
    x, k, s, p = case
    tx = torch.tensor(x, requires_grad=True)
    fn = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    ref = fn(tx, k, s, p)
    g = np.random.default_rng(0).standard_normal(tuple(ref.shape))
    ref.backward(torch.tensor(g))
    xt = _leaf(x, "cpu")
    out = (mg.max_pool2d if kind == "max" else mg.avg_pool2d)(xt, k, s, p)
    out.backward(mg.Tensor(g, dtype="float64"))
    np.testing.assert_allclose(host(out), ref.detach().numpy(), **TOL)
    np.testing.assert_allclose(host(xt.grad), tx.grad.numpy(), **TOL)
