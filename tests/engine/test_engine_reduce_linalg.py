"""Reductions (sum, mean, max, min, var, logsumexp) over every kind of axis
argument, with and without keepdims, and matmul in all of NumPy's shape cases."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from helpers import arrays, check_op, examples, matmul_shapes, shapes


@st.composite
def shape_and_axis(draw, min_dims=0, max_dims=3):
    """A shape and an axis argument valid for it: None, an int (negatives too) or a tuple."""
    shape = draw(shapes(min_dims=min_dims, max_dims=max_dims))
    ndim = len(shape)
    if ndim == 0:
        return shape, draw(st.sampled_from([None, ()]))
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          hnp.valid_tuple_axes(ndim, min_size=1)))
    return shape, axis


def _as_np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# name: (minigrad fn(x, axis, keepdims), numpy formula, domain, smooth)
REDUCTIONS = {
    "sum": (lambda x, ax, kd: x.sum(axis=ax, keepdims=kd),
            lambda x, ax, kd: np.add.reduce(x, axis=ax, keepdims=kd), "real", True),
    "mean": (lambda x, ax, kd: x.mean(axis=ax, keepdims=kd),
             lambda x, ax, kd: np.add.reduce(x, axis=ax, keepdims=kd) / (
                 x.size / max(np.add.reduce(x, axis=ax, keepdims=kd).size, 1)), "real", True),
    "max": (lambda x, ax, kd: x.max(axis=ax, keepdims=kd),
            lambda x, ax, kd: np.max(x, axis=ax, keepdims=kd), "distinct", False),
    "min": (lambda x, ax, kd: mg.min(x, axis=ax, keepdims=kd),
            lambda x, ax, kd: np.min(x, axis=ax, keepdims=kd), "distinct", False),
    "var": (lambda x, ax, kd: x.var(axis=ax, keepdims=kd),
            lambda x, ax, kd: np.mean((x - np.mean(x, axis=ax, keepdims=True)) ** 2, axis=ax,
                                      keepdims=kd), "real", True),
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", list(REDUCTIONS))
@examples(15)
@given(data=st.data(), sa=shape_and_axis())
def test_reductions(device, name, keepdims, data, sa):
    shape, axis = sa
    fn, ref, domain, smooth = REDUCTIONS[name]
    x = data.draw(arrays(shape, domain))
    check_op(lambda t: fn(t, axis, keepdims), x, device=device,
             ref=lambda a: ref(a, _as_np_axis(axis), keepdims), gradgrad=smooth)


@examples(10)
@given(data=st.data(), sa=shape_and_axis(min_dims=1))
def test_var_with_ddof(device, data, sa):
    shape, axis = sa
    x = data.draw(arrays(shape))
    count = x.size // max(np.sum(x, axis=axis).size, 1)
    if count < 2:
        return
    check_op(lambda t: mg.var(t, axis=axis, ddof=1), x, device=device,
             ref=lambda a: np.sum((a - a.mean(axis=axis, keepdims=True)) ** 2, axis=axis)
             / (count - 1), gradgrad=True)


def test_max_shares_the_gradient_among_ties(device):
    x = mg.Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], device=device, requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


@pytest.mark.parametrize("keepdims", [False, True])
@examples(12)
@given(data=st.data(), sa=shape_and_axis(min_dims=1))
def test_logsumexp(device, keepdims, data, sa):
    shape, axis = sa
    x = data.draw(arrays(shape))
    check_op(lambda t: mg.logsumexp(t, axis=axis, keepdims=keepdims), x, device=device,
             ref=lambda a: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
             rtol=1e-9, gradgrad=True)


@pytest.mark.parametrize("shift", [1000.0, -1000.0])
def test_logsumexp_is_stable(device, shift):
    v = np.array([[0.3, -1.2, 2.0], [0.0, 0.0, 0.0]])
    x = mg.Tensor(v + shift, device=device, requires_grad=True)
    out = mg.logsumexp(x, axis=-1)
    out.sum().backward()
    np.testing.assert_allclose(out.numpy(), np.log(np.exp(v).sum(-1)) + shift, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(v) / np.exp(v).sum(-1, keepdims=True),
                               rtol=1e-12)


# ---------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------
def _matmul_ref(a, b):
    """Matrix product from its definition, sum_k a[..., i, k] b[..., k, j], via einsum."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    out = np.einsum("...ik,...kj->...ij", a2, b2)
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


@examples(25)
@given(data=st.data(), pair=matmul_shapes())
def test_matmul_shapes(device, data, pair):
    a = data.draw(arrays(pair[0]))
    b = data.draw(arrays(pair[1]))
    check_op(lambda x, y: x @ y, a, b, device=device, ref=_matmul_ref, rtol=1e-9,
             gradgrad=True)


@pytest.mark.parametrize("sa,sb", [
    ((2, 3), (3, 4)),            # 2-d
    ((2, 1, 2, 3), (4, 3, 2)),   # batched, batch axes broadcast (2,1) with (4,)
    ((3,), (3, 2)),              # 1-d @ 2-d
    ((2, 3), (3,)),              # 2-d @ 1-d
    ((3,), (3,)),                # 1-d @ 1-d: a 0-d result
    ((3,), (2, 3, 4)),           # 1-d @ batched
    ((2, 2, 3), (3,)),           # batched @ 1-d
])
def test_matmul_cases(device, sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    out = check_op(mg.matmul, a, b, device=device, ref=np.matmul, rtol=1e-9, gradgrad=True)
    assert out[0].shape == np.matmul(a, b).shape


def test_matmul_with_one_constant_operand(device):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    check_op(mg.matmul, a, b, device=device, ref=np.matmul, requires_grad=[False, True])
    check_op(mg.matmul, a, b, device=device, ref=np.matmul, requires_grad=[True, False])
