"""Tests for the CuPy test double in ``minigrad.backends.fake``.

Two kinds of checks: every *implicit* route to NumPy must raise, exactly as
CuPy does, and the supported API must give the same values as NumPy.
"""
import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.backends import fake
from minigrad.backends.fake import Device, FakeArray, current_device, xp

IMPLICIT = "Implicit conversion to a NumPy array is not allowed"
NDARRAY = r"Unsupported type <class 'numpy.ndarray'>"


def up(x):
    """Explicit host -> device upload."""
    return xp.asarray(x)


def same(fake_result, expected):
    """A FakeArray result equals the NumPy one (values, shape, dtype)."""
    assert isinstance(fake_result, FakeArray), type(fake_result)
    got = fake_result.get()
    expected = np.asarray(expected)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)


@pytest.fixture
def a():
    return np.arange(12, dtype=np.float64).reshape(3, 4) - 5.0


# --------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------
class TestRefusals:
    def test_np_asarray_and_array(self, a):
        f = up(a)
        with pytest.raises(TypeError, match=IMPLICIT):
            np.asarray(f)
        with pytest.raises(TypeError, match=IMPLICIT):
            np.array(f)
        with pytest.raises(TypeError):
            np.array([f, f])

    def test_ufuncs_and_array_functions(self, a):
        """Like CuPy: NumPy's ufuncs and array functions dispatch to ``xp`` (results
        stay on the device), but nothing converts implicitly to the host, and a
        function off the allow-list finds no implementation."""
        f = up(a)
        for got, want in ((np.exp(f), np.exp(a)), (np.add(f, 1), a + 1), (np.sum(f), a.sum()),
                          (np.concatenate([f]), a), (np.mean(f), a.mean())):
            same(got, want)
        for call in (lambda: np.testing.assert_allclose(f, a), lambda: np.add(f, a),
                     lambda: np.linalg.norm(f), lambda: np.nanmean(f)):
            with pytest.raises(TypeError):
                call()

    @pytest.mark.parametrize("op", ["__add__", "__sub__", "__mul__", "__truediv__",
                                    "__pow__", "__lt__", "__eq__", "__and__", "__radd__"])
    def test_ndarray_operands(self, a, op):
        with pytest.raises(TypeError, match=NDARRAY):
            getattr(up(a), op)(a)

    def test_ndarray_on_either_side_of_an_operator(self, a):
        f = up(a)
        for call in (lambda: f + a, lambda: a + f, lambda: a * f, lambda: f @ a.T,
                     lambda: a @ f.T, lambda: a < f, lambda: f == a):
            with pytest.raises(TypeError, match=NDARRAY):
                call()

    def test_inplace_ndarray_operand(self, a):
        f = up(a)
        with pytest.raises(TypeError, match=NDARRAY):
            f += a
        with pytest.raises(TypeError):
            b = a.copy()
            b += f
        with pytest.raises(TypeError, match="Unsupported type <class 'list'>"):
            f + [1, 2, 3, 4]

    def test_ndarray_index_and_value(self, a):
        """CuPy uploads NumPy index arrays and lists (``_prepare_slice_list``), but
        refuses NumPy arrays as assigned values (gh-2079)."""
        f = up(a)
        same(f[np.array([0, 1])], a[[0, 1]])
        same(f[np.array([0, 1]), 1:], a[[0, 1], 1:])
        with pytest.raises(TypeError, match=NDARRAY):
            f[0] = np.zeros(4)
        with pytest.raises(TypeError, match=NDARRAY):
            f[[0, 1]] = [np.zeros(4), np.zeros(4)]

    def test_xp_functions_refuse_ndarray(self, a):
        f = up(a)
        with pytest.raises(TypeError, match=NDARRAY):
            xp.exp(a)
        with pytest.raises(TypeError, match=NDARRAY):
            xp.where(f > 0, f, a)
        with pytest.raises(TypeError, match=NDARRAY):
            xp.concatenate([f, a])
        with pytest.raises(TypeError, match=NDARRAY):
            xp.add(f, 1, out=a)
        with pytest.raises(TypeError, match=NDARRAY):
            f.take(np.array([0]))

    def test_device_mixing(self, a):
        f0 = up(a)
        with Device(1):
            f1 = up(a)
        msg = r"<FakeCuda Device 0> and <FakeCuda Device 1>"
        for call in (lambda: f0 + f1, lambda: f1 - f0, lambda: f0 @ f1.T,
                     lambda: xp.maximum(f0, f1), lambda: f0[f1[0].astype(xp.int64) * 0],
                     lambda: f0.__setitem__(0, f1[0]), lambda: xp.add.at(f0, 0, f1[0])):
            with pytest.raises(ValueError, match="Device 0.*Device 1|Device 1.*Device 0"):
                call()
        with pytest.raises(ValueError, match=msg):
            f0 += f1

    def test_explicit_scalar_conversions_only_for_size_one(self, a):
        f = up(a)
        with pytest.raises(ValueError, match="ambiguous"):
            bool(f)
        with pytest.raises(ValueError, match="empty"):
            bool(xp.zeros(0))
        with pytest.raises(TypeError):
            float(f)
        with pytest.raises(TypeError):
            int(f)
        with pytest.raises(TypeError):
            [0, 1][up(1.0)]          # __index__ needs an integer array
        with pytest.raises(TypeError):
            len(up(3.0))
        with pytest.raises(TypeError):
            iter(up(3.0))


# --------------------------------------------------------------------------
# Explicit conversions, attributes, devices
# --------------------------------------------------------------------------
class TestConversionsAndAttributes:
    def test_get_is_a_copy(self, a):
        f = up(a)
        host = f.get()
        assert type(host) is np.ndarray
        np.testing.assert_array_equal(host, a)
        host[0, 0] = 99
        assert f[0, 0].item() == a[0, 0]
        out = np.empty_like(a)
        assert f.get(out=out) is out and np.array_equal(out, a)
        assert xp.asnumpy(f).tolist() == a.tolist()
        assert xp.asnumpy(a) is a

    def test_upload_is_a_copy(self, a):
        host = a.copy()
        f = xp.asarray(host)
        host[0, 0] = 99
        assert f[0, 0].item() == a[0, 0]
        assert f.base is None
        assert xp.asarray(f) is f
        same(xp.array([[1, 2], [3, 4]], dtype=xp.float32), np.array([[1, 2], [3, 4]], np.float32))
        assert xp.ascontiguousarray(a.T).flags.c_contiguous
        same(FakeArray([1.0, 2.0]), [1.0, 2.0])
        f.set(np.ones_like(a))
        same(f, np.ones_like(a))

    def test_scalar_conversions(self):
        assert float(up([2.5])) == 2.5
        assert int(up(7)) == 7
        with pytest.raises(TypeError):
            [10, 20, 30][up(2)]          # cupy.ndarray has no __index__
        assert bool(up([True])) is True
        assert up(np.arange(3)).tolist() == [0, 1, 2]
        assert up(4.0).item() == 4.0
        assert f"{up(1.23456):.2f}" == "1.23"
        assert len(up(np.zeros((5, 2)))) == 5
        assert 3 in up(np.arange(5))

    def test_iteration_yields_device_arrays(self, a):
        rows = list(up(a))
        assert len(rows) == 3 and all(isinstance(r, FakeArray) for r in rows)
        same(rows[1], a[1])
        items = list(up(np.arange(3.0)))
        assert all(isinstance(x, FakeArray) and x.ndim == 0 for x in items)

    def test_attributes(self, a):
        f = up(a.astype(np.float32))
        assert f.shape == (3, 4) and f.ndim == 2 and f.size == 12
        assert f.dtype == np.float32 and f.itemsize == 4 and f.nbytes == 48
        assert f.strides == (16, 4)
        same(f.T, a.T.astype(np.float32))
        same(up(np.ones((2, 3, 4))).mT, np.ones((2, 4, 3)))
        assert f.flags.c_contiguous and not f.T.flags.c_contiguous
        assert f.flags.owndata and f.flags["C_CONTIGUOUS"] and f.flags.forc
        assert not hasattr(f.flags, "writeable")          # CuPy's Flags has none
        with pytest.raises(KeyError):
            f.flags["C"]
        assert f.device == Device(0) and f.device.id == 0
        assert repr(f.device) == "<FakeCuda Device 0>"

    def test_repr_and_str(self):
        f = up(np.array([1.0, 2.0], dtype=np.float32))
        assert repr(f) == "fakecupy.array([1., 2.], dtype=float32, device=0)"
        assert str(f) == "[1. 2.]"

    def test_devices(self):
        assert current_device() == 0
        with Device(1) as dev:
            assert current_device() == 1 and dev.id == 1
            f1 = xp.zeros(3)
            with Device(2):
                assert xp.ones(2).device_id == 2
            assert current_device() == 1
        assert current_device() == 0
        assert f1.device_id == 1 and f1.device == Device(1)
        assert (f1 + 1).device_id == 1        # results follow their inputs
        assert xp.exp(f1).device_id == 1
        f0 = xp.asarray(f1)                   # explicit transfer to device 0
        assert f0.device_id == 0 and f0 is not f1
        assert xp.cuda.Device is Device

    def test_copy_and_pickle(self, a):
        view = up(a).T
        for clone in (copy.deepcopy(view), copy.copy(view), pickle.loads(pickle.dumps(view))):
            same(clone, a.T)
            assert clone.base is None

    def test_defers_to_array_like_objects(self, a):
        class Tensor:
            __array_ufunc__ = None

            def __radd__(self, other):
                return "Tensor.__radd__"

        assert up(a) + Tensor() == "Tensor.__radd__"
        assert (up(a) == None) is False   # noqa: E711  (falls back to identity)


# --------------------------------------------------------------------------
# Values match NumPy
# --------------------------------------------------------------------------
BINARY = ["__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__",
          "__pow__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__",
          "__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rpow__"]


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4),
       op=st.sampled_from(BINARY), seed=st.integers(0, 2**16))
def test_broadcasting_arithmetic_matches_numpy(shapes, op, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, shapes.input_shapes[0])
    y = rng.uniform(0.5, 2.0, shapes.input_shapes[1])
    with np.errstate(all="ignore"):
        expected = getattr(x, op)(y)
    same(getattr(up(x), op)(up(y)), expected)


@pytest.mark.parametrize("scalar", [2, 2.5, True, np.float32(1.5), np.int64(3)])
def test_scalar_operands(scalar, a):
    f = up(a)
    same(f + scalar, a + scalar)
    same(scalar * f, scalar * a)
    same(scalar - f, scalar - a)
    same(f / scalar, a / scalar)
    same(f > scalar, a > scalar)
    same(up(np.array(3, np.int32)) + 1, np.array(3, np.int32) + 1)   # stays int32


def test_integer_and_bitwise_operators():
    x, y = np.array([5, -3, 8, 7]), np.array([2, 3, 3, 1])
    fx, fy = up(x), up(y)
    for op in ("__and__", "__or__", "__xor__", "__lshift__", "__rshift__",
               "__floordiv__", "__mod__", "__rand__", "__ror__", "__rxor__"):
        same(getattr(fx, op)(fy), getattr(x, op)(y))
    same(~fx, ~x)
    same(-fx, -x)
    same(+fx, x)
    same(abs(fx), abs(x))
    q, r = divmod(fx, fy)
    same(q, x // y)
    same(r, x % y)
    same(up(np.array([True, False])) & True, np.array([True, False]))


def test_inplace_operators_modify_in_place(a):
    f = up(a)
    alias = f
    row = f[1]                          # a view: sees in-place updates
    f += 1
    f *= up(np.full(4, 2.0))            # broadcasting in place
    f -= 0.5
    f /= 2
    f **= 2
    assert f is alias
    expected = (((a + 1) * 2 - 0.5) / 2) ** 2
    same(f, expected)
    same(row, expected[1])
    i = up(np.arange(6))
    i //= 2
    i %= 2
    i |= 4
    i &= 5
    i ^= 1
    same(i, (((np.arange(6) // 2) % 2) | 4) & 5 ^ 1)
    with pytest.raises(TypeError):      # int array cannot hold a float in place
        i += 0.5


def test_matmul_variants():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    batch, v = rng.normal(size=(5, 3, 4)), rng.normal(size=4)
    same(up(A) @ up(B), A @ B)
    same(up(batch) @ up(B), batch @ B)             # batched, broadcast
    same(up(A) @ up(v), A @ v)                     # 1-d on the right
    same(up(v) @ up(B), v @ B)                     # 1-d on the left
    same(up(v) @ up(v), v @ v)                     # 0-d result
    same(up(B).__rmatmul__(up(A)), A @ B)
    same(up(A).dot(up(B)), A.dot(B))
    same(xp.matmul(up(batch), up(batch).mT), batch @ batch.transpose(0, 2, 1))
    sq = up(np.eye(4) * 2)
    alias = sq
    sq @= up(np.eye(4) * 3)
    assert sq is alias
    same(sq, np.eye(4) * 6)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "min", "prod",
                                  "argmax", "argmin", "any", "all"])
def test_reductions_return_device_arrays(name, a):
    f = up(a)
    full = getattr(f, name)()
    assert isinstance(full, FakeArray) and full.ndim == 0
    same(full, getattr(a, name)())
    same(getattr(xp, name)(f), getattr(np, name)(a))
    for axis in (0, 1, -1):
        same(getattr(f, name)(axis=axis), getattr(a, name)(axis=axis))
    if name not in ("argmax", "argmin"):
        same(getattr(f, name)(axis=1, keepdims=True), getattr(a, name)(axis=1, keepdims=True))
        same(getattr(xp, name)(f, axis=(0, 1), keepdims=True),
             getattr(np, name)(a, axis=(0, 1), keepdims=True))


def test_other_methods(a):
    f = up(a)
    same(f.cumsum(axis=1), a.cumsum(axis=1))
    same(f.clip(-1, 2), a.clip(-1, 2))
    same(f.take(up([0, 2]), axis=1), a.take([0, 2], axis=1))
    same(f.repeat(2, axis=0), a.repeat(2, axis=0))
    for got, want in zip(f.nonzero(), a.nonzero()):
        same(got, want)
    same(f.argsort(axis=0), a.argsort(axis=0))
    g = up(np.array([3.0, 1.0, 2.0]))
    assert g.sort() is None
    same(g, [1.0, 2.0, 3.0])
    g.fill(7)
    same(g, [7.0, 7.0, 7.0])
    same(f.squeeze(), a.squeeze())
    same(up(np.ones((1, 3, 1))).squeeze(axis=0), np.ones((3, 1)))
    same(f.swapaxes(0, 1), a.swapaxes(0, 1))


def test_astype(a):
    f = up(a)
    same(f.astype(xp.float32), a.astype(np.float32))
    same(f.astype("int64"), a.astype(np.int64))
    assert f.astype(f.dtype, copy=False) is f
    c = f.astype(f.dtype)
    assert c is not f and c.base is None


def test_views_and_base(a):
    f = up(a)
    assert f.base is None
    views = [f.reshape(4, 3), f.reshape((2, 6)), f.T, f.transpose(1, 0), f[1:], f[:, ::2],
             f[None, ..., 0], f.ravel(), f[0][1:], f[1:][1:], f[0, 1], f.swapaxes(0, 1)]
    for view in views:
        assert view.base is f, view      # the owner, even for views of views
        assert not view.flags.owndata
    copies = [f.copy(), f.flatten(), f + 0, f[[0, 1]], f[f > 0], -f,
              xp.asarray(a), f.astype(xp.float32), f.sum(axis=0), f.sum()]
    for c in copies:
        assert c.base is None, c
    f.reshape(12)[0] = 100.0
    assert f[0, 0].item() == 100.0
    f.T[1, 0] = -1.0
    assert f[0, 1].item() == -1.0
    scalar_view = f[2, 3]
    f[2, 3] = 42.0
    assert scalar_view.item() == 42.0    # a 0-d *view*, like CuPy
    # NumPy sometimes returns a view of a temporary it made (a reshape that
    # had to copy): ``base`` is then a hidden owner, never the input.
    for made in (xp.arange(6).reshape(2, 3), f.T.reshape(12)):
        assert made.base is not None and made.base is not f and made.base.base is None


def test_reshape_transpose(a):
    f = up(np.arange(24.0).reshape(2, 3, 4))
    ref = np.arange(24.0).reshape(2, 3, 4)
    same(f.reshape(6, -1), ref.reshape(6, -1))
    same(f.reshape((4, 6)), ref.reshape(4, 6))
    same(f.transpose(), ref.transpose())
    same(f.transpose(2, 0, 1), ref.transpose(2, 0, 1))
    same(f.transpose((1, 2, 0)), ref.transpose(1, 2, 0))
    same(xp.reshape(f, (3, 8)), ref.reshape(3, 8))
    same(xp.transpose(f, (0, 2, 1)), ref.transpose(0, 2, 1))
    same(xp.expand_dims(f, 1), ref[:, None])


def test_fancy_indexing(a):
    f = up(a)
    idx = np.array([2, 0, 2])
    mask = a > 0
    same(f[[2, 0, 2]], a[idx])
    same(f[up(idx)], a[idx])
    same(f[up(idx), 1:3], a[idx, 1:3])
    same(f[up(idx), up(np.array([0, 1, 3]))], a[idx, [0, 1, 3]])
    same(f[up(mask)], a[mask])
    same(f[up(mask[:, 0])], a[mask[:, 0]])
    same(f[[True, False, True]], a[[True, False, True]])
    same(f[..., None, 1], a[..., None, 1])
    same(f[xp.newaxis, 1:, -1], a[np.newaxis, 1:, -1])
    same(f[up(2)], a[2])                          # 0-d integer array index
    g, h = up(a), a.copy()
    g[up(mask)] = 0.0
    h[mask] = 0.0
    same(g, h)
    g[up(idx[:2]), 0] = up(np.array([5.0, 6.0]))
    h[idx[:2], 0] = [5.0, 6.0]
    same(g, h)
    g[:, 1] = up(-1.0)
    h[:, 1] = -1.0
    same(g, h)


def test_add_at_and_scatter_add_accumulate_repeats():
    idx = np.array([0, 2, 0, 0, 3])
    vals = np.arange(5.0)
    expected = np.zeros(5)
    np.add.at(expected, idx, vals)
    target = xp.zeros(5)
    assert xp.add.at(target, up(idx), up(vals)) is None
    same(target, expected)
    with pytest.raises(AttributeError):
        xp.scatter_add                             # cupyx's, deprecated: not on xp
    with pytest.raises(NotImplementedError):
        xp.multiply.at(target, up(idx), 2.0)       # CuPy: no scatter op for multiply
    t3 = xp.zeros((4, 2))                          # row scatter with a 2-d value
    xp.add.at(t3, [1, 1, 3], up(np.ones((3, 2))))
    same(t3, [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])


def test_ufunc_methods(a):
    f = up(a)
    with pytest.raises(NotImplementedError):
        xp.maximum.reduce(f, axis=1)               # CuPy reduces only add and multiply
    same(xp.add.reduce(f), np.add.reduce(a))
    same(xp.add.reduce(f, axis=None), np.add.reduce(a, axis=None))
    same(xp.multiply.accumulate(f, axis=0), np.multiply.accumulate(a, axis=0))
    same(xp.subtract.outer(f[0], f[1]), np.subtract.outer(a[0], a[1]))
    assert xp.add.nin == 2 and xp.exp.__name__ == "exp"


def test_namespace_functions(a):
    f = up(a)
    same(xp.exp(f), np.exp(a))
    same(xp.tanh(f) * 2, np.tanh(a) * 2)
    same(xp.where(f > 0, f, 0.0), np.where(a > 0, a, 0.0))
    same(xp.concatenate([f, f], axis=1), np.concatenate([a, a], axis=1))
    same(xp.stack((f, f)), np.stack((a, a)))
    same(xp.einsum("ij,kj->ik", f, f), np.einsum("ij,kj->ik", a, a))
    same(xp.zeros((2, 3), dtype=xp.float32), np.zeros((2, 3), np.float32))
    same(xp.ones_like(f), np.ones_like(a))
    same(xp.pad(f, ((1, 1), (0, 2))), np.pad(a, ((1, 1), (0, 2))))
    out = xp.empty_like(f)
    assert xp.multiply(f, 2, out=out) is out
    same(out, a * 2)
    parts = xp.split(f, 2, axis=1)
    assert isinstance(parts, list) and len(parts) == 2
    same(parts[1], np.split(a, 2, axis=1)[1])
    rows, cols = (f > 0).nonzero()
    same(rows, np.nonzero(a > 0)[0])
    with pytest.raises(TypeError, match="where"):
        xp.sum(f, where=f > 0)                     # NumPy-only keyword: CuPy's sum has none
    with pytest.raises(TypeError, match="initial"):
        xp.max(f, initial=0.0)
    with pytest.raises(AttributeError, match="allow-list"):
        xp.linalg                                  # not used by minigrad: not allowed


def test_constants_and_types():
    assert xp.float32 is np.float32 and xp.float64 is np.float64 and xp.int64 is np.int64
    assert xp.bool_ is np.bool_ and xp.dtype is np.dtype
    assert xp.newaxis is None and xp.pi == np.pi and xp.e == np.e
    assert xp.inf == np.inf and np.isnan(xp.nan)
    assert xp.finfo(xp.float32).eps == np.finfo(np.float32).eps
    assert xp.iinfo(xp.int8).max == 127
    assert xp.ndarray is FakeArray and isinstance(xp.ones(1), xp.ndarray)
    assert xp.get_array_module(1, xp.ones(1)) is xp
    assert xp.get_array_module(np.ones(1), 2.0) is np
    assert fake.get_array_module() is np
    with pytest.raises(AttributeError):
        xp.no_such_function


class TestRandom:
    """``xp.random`` has CuPy's Generator API only (cupy/random/_generator_api.pyx)."""

    def test_default_rng_matches_numpy(self):
        for method, args in [("random", (5,)), ("standard_normal", ((2, 3),)),
                             ("uniform", (-1, 1, (3,))), ("integers", (0, 10, 6))]:
            got = getattr(xp.random.default_rng(42), method)(*args)
            same(got, getattr(np.random.default_rng(42), method)(*args))
        x = xp.random.default_rng(0).random()
        assert isinstance(x, FakeArray) and x.ndim == 0

    def test_default_rng_reproducible_and_on_current_device(self):
        r1, r2 = xp.random.default_rng(3), xp.random.default_rng(3)
        np.testing.assert_array_equal(r1.standard_normal(10).get(),
                                      r2.standard_normal(10).get())
        with Device(1):
            assert xp.random.default_rng(0).random(2).device_id == 1

    def test_no_numpy_only_methods_and_no_dict_state(self):
        gen = xp.random.default_rng(0)
        for name in ("permutation", "choice", "shuffle", "normal", "bytes"):
            with pytest.raises(AttributeError):
                getattr(gen, name)
        assert not isinstance(gen.bit_generator.state(), dict)

    def test_no_legacy_global_functions(self):
        for name in ("seed", "rand", "randn", "RandomState", "normal"):
            with pytest.raises(AttributeError):
                getattr(xp.random, name)
