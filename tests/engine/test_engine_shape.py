"""Ops that move numbers without changing them: reshape, permute, broadcast,
squeeze, concatenate, stack, split, indexing, gather, embedding, device and
dtype changes. Their backward scatters the gradient back where each number
came from (adding where a number was used twice)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from helpers import arrays, check_op, examples, host, shapes


@examples(12)
@given(data=st.data(), shape=shapes())
def test_reshape(device, data, shape):
    x = data.draw(arrays(shape))
    size = x.size
    target = data.draw(st.sampled_from([(size,), (-1,), (1, size), (size, 1, 1), (-1, 1),
                                        tuple(reversed(shape)), ()] if size == 1 else
                                       [(size,), (-1,), (1, size), (size, 1, 1), (-1, 1),
                                        tuple(reversed(shape))]))
    check_op(lambda t: t.reshape(target), x, device=device, ref=lambda a: a.reshape(target),
             atol=0, rtol=0)
    check_op(lambda t: t.reshape(*target) if target else t.reshape(()), x, device=device,
             ref=lambda a: a.reshape(target), float32=False)


@examples(12)
@given(data=st.data(), shape=shapes(min_dims=1, max_dims=4))
def test_permute_and_transpose(device, data, shape):
    x = data.draw(arrays(shape))
    perm = data.draw(st.permutations(range(len(shape))))
    check_op(lambda t: t.permute(*perm), x, device=device,
             ref=lambda a: np.transpose(a, perm), atol=0, rtol=0)
    i = data.draw(st.integers(-len(shape), len(shape) - 1))
    j = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda t: t.transpose(i, j), x, device=device,
             ref=lambda a: np.swapaxes(a, i, j), atol=0, rtol=0, float32=False)
    check_op(lambda t: t.T, x, device=device, ref=lambda a: a.T, float32=False)


@examples(15)
@given(data=st.data(), shape=shapes())
def test_broadcast_to(device, data, shape):
    other = data.draw(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=4, max_side=3))
    target = np.broadcast_shapes(shape, other)
    x = data.draw(arrays(shape))
    check_op(lambda t: t.broadcast_to(target), x, device=device,
             ref=lambda a: np.broadcast_to(a, target), atol=0, rtol=0)


@examples(12)
@given(data=st.data(), shape=shapes(max_side=2))
def test_squeeze_unsqueeze(device, data, shape):
    x = data.draw(arrays(shape))
    check_op(lambda t: t.squeeze(), x, device=device, ref=np.squeeze, float32=False)
    ones = [i for i, n in enumerate(shape) if n == 1]
    if ones:
        ax = data.draw(st.sampled_from(ones))
        neg = ax - len(shape)
        check_op(lambda t: t.squeeze(neg), x, device=device,
                 ref=lambda a: np.squeeze(a, axis=ax), float32=False)
    ax = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_op(lambda t: t.unsqueeze(ax), x, device=device,
             ref=lambda a: np.expand_dims(a, ax), float32=False)


@examples(12)
@given(data=st.data(), shape=shapes(min_dims=1), n=st.integers(1, 3))
def test_concatenate(device, data, shape, n):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    parts = []
    for _ in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(1, 3))
        parts.append(data.draw(arrays(tuple(s))))
    check_op(lambda *ts: mg.concatenate(ts, axis=axis), *parts, device=device,
             ref=lambda *a: np.concatenate(a, axis=axis), atol=0, rtol=0)


@examples(12)
@given(data=st.data(), shape=shapes(), n=st.integers(1, 3))
def test_stack(device, data, shape, n):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [data.draw(arrays(shape)) for _ in range(n)]
    check_op(lambda *ts: mg.stack(ts, axis=axis), *parts, device=device,
             ref=lambda *a: np.stack(a, axis=axis), atol=0, rtol=0)


@examples(12)
@given(data=st.data(), shape=shapes(min_dims=1, max_side=4))
def test_split(device, data, shape):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    x = data.draw(arrays(shape))
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    sections = data.draw(st.sampled_from(divisors))
    check_op(lambda t: tuple(mg.split(t, sections, axis=axis)), x, device=device,
             ref=lambda a: np.split(a, sections, axis=axis), atol=0, rtol=0)
    cut = data.draw(st.integers(0, n))
    sizes = [cut, n - cut]
    check_op(lambda t: tuple(t.split(sizes, axis=axis)), x, device=device,
             ref=lambda a: np.split(a, [cut], axis=axis), atol=0, rtol=0, float32=False)


# ---------------------------------------------------------------------------
# indexing
# ---------------------------------------------------------------------------
@examples(25)
@given(data=st.data(), shape=shapes(max_dims=3, max_side=4))
def test_getitem_basic(device, data, shape):
    """Slices (negative steps included), integers, None and Ellipsis."""
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    x = data.draw(arrays(shape))
    check_op(lambda t: t[index], x, device=device, ref=lambda a: a[index], atol=0, rtol=0)


@pytest.mark.parametrize("index", [
    (slice(None, None, -1),), (slice(3, 0, -2), Ellipsis), (None, Ellipsis, 1),
    (Ellipsis, None), (-1, slice(None), None), (slice(-2, None), 0),
])
def test_getitem_named_basic_cases(device, index):
    x = np.arange(20.0).reshape(4, 5) / 7
    check_op(lambda t: t[index], x, device=device, ref=lambda a: a[index], atol=0, rtol=0)


@examples(20)
@given(data=st.data(), shape=shapes(min_dims=1, max_dims=3, max_side=4))
def test_getitem_integer_arrays(device, data, shape):
    """Advanced indexing; repeated indices must add up their gradients."""
    index = data.draw(hnp.integer_array_indices(
        shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)))
    x = data.draw(arrays(shape))
    check_op(lambda t: t[index], x, device=device, ref=lambda a: a[index], atol=0, rtol=0)


def test_getitem_repeated_indices_accumulate(device):
    x = mg.Tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])
    y = mg.Tensor(np.ones((3, 2)), device=device, requires_grad=True)
    rows = mg.Tensor(np.array([2, 2]), device=device)
    (y[rows, 1] * mg.Tensor([1.0, 10.0], dtype="float64", device=device)).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 0], [0, 0], [0, 11.0]])


@pytest.mark.parametrize("index_kind", ["list", "numpy", "tensor", "mixed"])
def test_getitem_index_forms(device, index_kind):
    x = np.arange(12.0).reshape(3, 4)
    rows = [2, 0, 2]
    index = {"list": rows, "numpy": np.array(rows),
             "tensor": mg.Tensor(np.array(rows), device=device),
             "mixed": (np.array(rows), slice(1, 3))}[index_kind]
    np_index = (np.array(rows), slice(1, 3)) if index_kind == "mixed" else np.array(rows)
    check_op(lambda t: t[index], x, device=device, ref=lambda a: a[np_index], atol=0, rtol=0)


@examples(15)
@given(data=st.data(), shape=shapes(min_dims=1, max_dims=3))
def test_getitem_boolean_mask(device, data, shape):
    x = data.draw(arrays(shape))
    mask = data.draw(hnp.arrays(bool, shape))
    check_op(lambda t: t[mg.Tensor(mask, device=t.device)], x, device=device,
             ref=lambda a: a[mask], atol=0, rtol=0)
    check_op(lambda t: t[mask], x, device=device, ref=lambda a: a[mask], atol=0, rtol=0,
             float32=False)
    row_mask = mask.reshape(mask.shape[0], -1)[:, 0]
    check_op(lambda t: t[row_mask], x, device=device, ref=lambda a: a[row_mask], atol=0,
             rtol=0, float32=False)


@examples(15)
@given(data=st.data(), shape=shapes(min_dims=1, max_dims=3))
def test_gather(device, data, shape):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    idx_shape = list(shape)
    idx_shape[axis] = data.draw(st.integers(1, 4))
    idx = data.draw(hnp.arrays(np.int64, tuple(idx_shape),
                               elements=st.integers(0, shape[axis] - 1)))
    x = data.draw(arrays(shape))
    check_op(lambda t: t.gather(axis, mg.Tensor(idx, device=t.device)), x, device=device,
             ref=lambda a: np.take_along_axis(a, idx, axis=axis), atol=0, rtol=0)


@examples(15)
@given(data=st.data(), vocab=st.integers(1, 5), dim=st.integers(1, 3),
       ids_shape=shapes(max_dims=2, max_side=4))
def test_embedding(device, data, vocab, dim, ids_shape):
    ids = data.draw(hnp.arrays(np.int64, ids_shape, elements=st.integers(0, vocab - 1)))
    w = data.draw(arrays((vocab, dim)))
    check_op(lambda t: mg.embedding(t, mg.Tensor(ids, device=t.device)), w, device=device,
             ref=lambda a: a[ids], atol=0, rtol=0)
    check_op(lambda t: mg.embedding(t, ids), w, device=device, ref=lambda a: a[ids],
             atol=0, rtol=0, float32=False)


def test_embedding_gradient_counts_repeated_tokens(device):
    w = mg.Tensor(np.zeros((4, 2)), device=device, requires_grad=True)
    mg.embedding(w, np.array([[1, 3, 1], [1, 0, 3]])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [3, 3], [0, 0], [2, 2]])


# ---------------------------------------------------------------------------
# devices and dtypes
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("other", ["cpu", "fake"])
@examples(6)
@given(data=st.data(), shape=shapes())
def test_to_device_round_trip(device, other, data, shape):
    x = data.draw(arrays(shape))

    def there_and_back(t):
        moved = t.to(other)
        assert moved.device == other
        return (moved * 3.0).to(t.device)
    check_op(there_and_back, x, device=device, ref=lambda a: 3.0 * a, atol=0, rtol=0,
             gradgrad=True)


def test_to_device_gradient_lands_on_the_source_device(device):
    for other in ("cpu", "fake"):
        x = mg.Tensor([1.0, -2.0], device=device, requires_grad=True)
        y = x.to(other)
        assert y.device == other and (y.grad_fn is None) == (other == device)
        (y * y).sum().backward()
        assert x.grad.device == device
        np.testing.assert_array_equal(host(x.grad), [2.0, -4.0])
        assert mg.Tensor(host(y), device=other).to(device).device == device


def test_astype(device):
    x = mg.Tensor([1.5, -2.25, 1e-9], dtype="float64", device=device, requires_grad=True)
    y = x.astype("float32")
    assert y.dtype == np.float32 and y.device == device
    np.testing.assert_array_equal(host(y), np.array([1.5, -2.25, 1e-9], dtype=np.float32))
    (y * mg.Tensor([1.0, 2.0, 3.0], dtype="float32", device=device)).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(host(x.grad), [1.0, 2.0, 3.0])
    assert x.astype("float64") is x
    z = mg.Tensor([1.0, 2.0], dtype="float32", device=device, requires_grad=True)
    w = z.to(dtype="float64")
    assert w.dtype == np.float64
    (w * w).sum().backward()
    assert z.grad.dtype == np.float32
    np.testing.assert_array_equal(host(z.grad), [2.0, 4.0])
    assert z.double().dtype == np.float64 and w.float().dtype == np.float32
    ints = mg.Tensor([1.7, -2.2], device=device).long()
    assert ints.dtype == np.int64 and list(host(ints)) == [1, -2]
    check_op(lambda t: t.astype("float64") * 1.0, np.array([0.5, 2.0]), device=device,
             ref=lambda a: a, atol=0, rtol=0, float32=False)


def test_clone_is_a_differentiable_copy(device):
    x = data = np.array([1.0, 2.0])
    check_op(lambda t: t.clone(), data, device=device, ref=lambda a: a, atol=0, rtol=0)
    t = mg.Tensor(x, device=device)
    c = t.clone()
    with mg.no_grad():
        c.add_(1.0)
    np.testing.assert_array_equal(host(t), [1.0, 2.0])


def test_squeeze_of_a_0d_tensor(device):
    x = mg.Tensor(2.0, device=device, requires_grad=True)
    assert x.squeeze().shape == () and x.squeeze(0).shape == ()


def test_tensor_constructor_copies_across_devices(device):
    for other in ("cpu", "fake"):
        src = mg.Tensor([1.0, 2.0], device=other)
        t = mg.Tensor(src, device=device)
        assert t.device == device and host(t).tolist() == [1.0, 2.0]
