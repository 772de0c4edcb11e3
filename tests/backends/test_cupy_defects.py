"""The ten CuPy defects of issue 10, one test group each.

Every test here runs on cpu and on the faithful fake (and on cuda when a GPU is
present). Each one failed on the faithful fake before its fix: the fake now
has CuPy's signatures (no ``indices(sparse=)``, ``broadcast_to`` of device
arrays only), CuPy's wrap-around of out-of-range integer indices, CuPy's
random API without a dict state, and it counts device -> host transfers.
"""
from __future__ import annotations

import configparser
import math
import os
import re
import time

import numpy as np
import pytest

import minigrad as mg
import minigrad.rng
from minigrad import backends
from minigrad.backends import fake

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def host(t):
    return backends.to_numpy(t.data if isinstance(t, mg.Tensor) else t)


def raw(device, array):
    """A raw array of ``device``'s backend."""
    return backends.get_backend(device).asarray(np.asarray(array))


# 1. gather: CuPy's indices(dimensions, dtype=int) has no ``sparse`` ---------------
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_gather_values_and_gradient(device, axis):
    rng = np.random.default_rng(axis + 5)
    a = rng.standard_normal((3, 4, 5))
    ax = axis % 3
    idx_shape = list(a.shape)
    idx_shape[ax] = 6                          # more picks than the axis has: repeats
    idx = rng.integers(0, a.shape[ax], idx_shape)
    x = mg.Tensor(a, dtype="float64", device=device, requires_grad=True)
    out = mg.gather(x, axis, mg.Tensor(idx, device=device))
    np.testing.assert_array_equal(host(out), np.take_along_axis(a, idx, ax))
    w = rng.standard_normal(out.shape)
    (out * mg.Tensor(w, dtype="float64", device=device)).sum().backward()
    expected = np.zeros_like(a)                # independent: NumPy's unbuffered add.at
    grids = list(np.ix_(*[np.arange(n) for n in idx.shape]))
    grids[ax] = idx
    np.add.at(expected, tuple(grids), w)
    np.testing.assert_allclose(host(x.grad), expected, rtol=1e-12, atol=1e-12)


def test_fake_indices_has_no_sparse():
    with pytest.raises(TypeError, match="sparse"):
        fake.xp.indices((2, 3), sparse=True)
    assert fake.xp.indices((2, 3)).shape == (2, 2, 3)


# 2. integer-array indices out of range: CuPy wraps, minigrad must raise --------
def _expect_range_error(fn, *words):
    with pytest.raises(mg.ShapeError) as info:
        fn()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_getitem_out_of_range_integer_arrays(device):
    x = mg.Tensor(np.arange(12.0).reshape(3, 4), device=device)
    _expect_range_error(lambda: x[[0, 3]], "getitem", "[-3, 3)", "axis 0", "size 3", "[0, 3]")
    _expect_range_error(lambda: x[[-4]], "getitem", "[-3, 3)", "[-4, -4]")
    _expect_range_error(lambda: x[:, mg.Tensor([1, 4], device=device)], "getitem", "axis 1",
                        "size 4")
    _expect_range_error(lambda: x[..., np.array([9])], "getitem", "axis 1", "[9, 9]")
    _expect_range_error(lambda: x[None, [0, 1], [0, 7]], "getitem", "axis 1", "size 4")
    # in range, negatives included, still works (and agrees with NumPy)
    np.testing.assert_array_equal(host(x[[-1, 0], [3, -4]]),
                                  np.arange(12.0).reshape(3, 4)[[-1, 0], [3, -4]])


def test_setitem_out_of_range_and_in_range(device):
    x = mg.Tensor(np.zeros((2, 3)), dtype="float64", device=device)
    _expect_range_error(lambda: x.__setitem__([2], 1.0), "__setitem__", "[-2, 2)", "size 2")
    _expect_range_error(lambda: x.__setitem__((slice(None), [0, 3]), 1.0), "__setitem__",
                        "axis 1", "size 3")
    assert not host(x).any()                   # nothing was written, not even wrapped
    x[[0, -1], [2, 0]] = 5.0
    np.testing.assert_array_equal(host(x), [[0, 0, 5], [5, 0, 0]])


def test_embedding_and_gather_range_errors(device):
    w = mg.Tensor(np.ones((4, 2)), device=device)
    _expect_range_error(lambda: mg.embedding(w, mg.Tensor([[0, 4]], device=device)),
                        "embedding", "[0, 4)", "[0, 4]")
    _expect_range_error(lambda: mg.embedding(w, mg.Tensor([-1], device=device)), "embedding",
                        "[0, 4)")
    a = mg.Tensor(np.ones((2, 3)), device=device)
    _expect_range_error(lambda: mg.gather(a, 1, mg.Tensor([[0], [3]], device=device)),
                        "gather", "axis 1", "size 3", "[0, 3]")


def test_backward_scatter_add_with_repeated_and_negative_indices(device):
    """The backward of integer-array getitem is a scatter-*add* (xp.add.at): repeated
    picks accumulate, negative picks land on the right element."""
    x = mg.Tensor(np.zeros(5), dtype="float64", device=device, requires_grad=True)
    idx = [0, -1, 4, 0, 2, -5]
    y = x[idx]
    (y * mg.Tensor(np.arange(1.0, 7.0), dtype="float64", device=device)).sum().backward()
    expected = np.zeros(5)
    np.add.at(expected, np.array(idx), np.arange(1.0, 7.0))
    np.testing.assert_array_equal(host(x.grad), expected)


def test_the_fake_wraps_like_cupy_so_the_checks_above_are_real():
    a = fake.xp.asarray(np.arange(5.0))
    assert a[fake.xp.asarray([7])].get().tolist() == [2.0]      # 7 % 5, no IndexError
    b = fake.xp.zeros(3)
    b[fake.xp.asarray([4])] = 1.0
    assert b.get().tolist() == [0.0, 1.0, 0.0]
    fake.xp.add.at(b, fake.xp.asarray([-1, 5]), 2.0)
    assert b.get().tolist() == [0.0, 1.0, 4.0]


def test_fake_duplicate_assignment_is_not_last_write_wins():
    """CuPy leaves which of several writes to one element survives unspecified; the
    fake keeps the *first*, so code relying on NumPy's last-write-wins fails on CPU."""
    b = fake.xp.zeros(2)
    b[fake.xp.asarray([0, 0, 1])] = fake.xp.asarray([1.0, 2.0, 3.0])
    assert b.get().tolist() == [1.0, 3.0]


# 3. copy_ with Python numbers and lists ------------------------------------------
def test_copy_from_scalars_lists_and_arrays(device):
    t = mg.Tensor(np.zeros((3, 2)), dtype="float32", device=device)
    t.copy_(3.0)
    np.testing.assert_array_equal(host(t), np.full((3, 2), 3.0))
    t.copy_([1.0, 2.0])                                          # broadcast row
    np.testing.assert_array_equal(host(t), [[1, 2]] * 3)
    t.copy_([[1], [2], [3]])
    np.testing.assert_array_equal(host(t), [[1, 1], [2, 2], [3, 3]])
    t.copy_(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(host(t), np.arange(6.0).reshape(3, 2))
    assert t.dtype == np.float32
    with pytest.raises(mg.ShapeError, match="copy_"):
        t.copy_([1.0, 2.0, 3.0])


def test_fake_broadcast_to_takes_device_arrays_only():
    with pytest.raises(AttributeError, match="_broadcast_to"):
        fake.xp.broadcast_to(3.0, (2,))
    with pytest.raises(AttributeError):
        fake.xp.broadcast_to([1.0, 2.0], (2, 2))
    assert fake.xp.broadcast_to(fake.xp.asarray([1.0, 2.0]), (3, 2)).shape == (3, 2)


# 4. counter-based random numbers: same on every backend, two-integer state ------
def _splitmix64_words(seed: int, start: int, n: int) -> list[int]:
    """SplitMix64 written out with Python ints (an independent implementation)."""
    m = (1 << 64) - 1

    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
        return z ^ (z >> 31)
    key = mix(seed & m)
    return [mix((key + (start + i) * 0x9E3779B97F4A7C15) & m) for i in range(n)]


def test_stream_matches_an_independent_splitmix64(device):
    mg.manual_seed(2024)
    backend = backends.get_backend(device)
    first = host(backend.rng.stream.words(backend.xp, 3)).tolist()
    nxt = host(backend.rng.stream.words(backend.xp, 4)).tolist()
    assert first == _splitmix64_words(2024, 0, 3)
    assert nxt == _splitmix64_words(2024, 3, 4)
    mg.manual_seed(2024)
    u = host(backend.rng.random(5, dtype="float64"))
    assert u.tolist() == [(w >> 11) * 2.0 ** -53 for w in _splitmix64_words(2024, 0, 5)]
    u32 = backend.rng.random((2, 3), dtype="float32")
    assert u32.dtype == np.float32 and u32.shape == (2, 3)
    assert host(u32).ravel().tolist() == [np.float32((w >> 40) * 2.0 ** -24)
                                         for w in _splitmix64_words(2024, 5, 6)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_same_dropout_mask_and_rand_on_cpu_and_fake(dtype):
    results = {}
    for device in ("cpu", "fake"):
        mg.manual_seed(11)
        a = mg.dropout(mg.ones(7, 9, dtype=dtype, device=device), 0.3)
        b = mg.rand(4, dtype=dtype, device=device)
        c = mg.randn(3, dtype="float64", device=device)
        results[device] = (host(a), host(b), host(c))
    for x, y in zip(results["cpu"], results["fake"]):
        np.testing.assert_array_equal(x, y)
    assert results["cpu"][0].dtype == np.dtype(dtype)


def test_dropout_draws_uniforms_in_the_tensor_dtype(device):
    """float32 dropout keeps exactly the elements whose float32 uniform is >= p."""
    mg.manual_seed(5)
    u = host(backends.get_backend(device).rng.random((50, 40), dtype="float32"))
    mg.manual_seed(5)
    out = host(mg.dropout(mg.ones(50, 40, dtype="float32", device=device), 0.25))
    np.testing.assert_array_equal(out != 0, u >= np.float32(0.25))
    np.testing.assert_allclose(out[out != 0], 1 / 0.75, rtol=1e-6)


def test_stream_statistics(device):
    mg.manual_seed(0)
    rng = backends.get_backend(device).rng
    u = host(rng.random(200_000))
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    z = host(rng.standard_normal(200_000))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    k = host(rng.integers(3, 10, size=70_000))
    assert k.min() == 3 and k.max() == 9
    assert np.all(np.abs(np.bincount(k - 3) / 10_000 - 1.0) < 0.05)
    p = host(rng.permutation(50))
    assert sorted(p.tolist()) == list(range(50))


def test_state_is_two_integers_and_restores_bit_exactly(device):
    mg.manual_seed(77)
    rng = backends.get_backend(device).rng
    rng.random(13)
    state = minigrad.rng.get_state()
    assert state == {"seed": 77, "counter": 13}
    want = host(rng.random(6))
    rng.random(100)
    minigrad.rng.set_state(state)
    np.testing.assert_array_equal(host(rng.random(6)), want)
    with pytest.raises(ValueError, match="seed"):
        minigrad.rng.set_state({"counter": 3})


def test_manual_seed_is_cheap_and_touches_no_device():
    with fake.record() as names:
        start = time.perf_counter()
        for k in range(20_000):
            mg.manual_seed(k)
        elapsed = time.perf_counter() - start
    assert not names                          # nothing of xp was even looked up
    assert elapsed < 2.0, elapsed             # ~1 us each; rebuilding generators was ms


def test_fake_random_has_cupy_generator_api_only():
    gen = fake.xp.random.default_rng(0)
    assert gen.random(3).shape == (3,)
    for missing in ("permutation", "choice", "shuffle", "normal"):
        with pytest.raises(AttributeError):
            getattr(gen, missing)
    assert callable(gen.bit_generator.state)  # a method returning a "device pointer"
    assert not isinstance(gen.bit_generator.state(), dict)


# 5. cupy.add.at, not the deprecated cupyx.scatter_add ---------------------------
def test_scatter_add_goes_through_xp_add_at():
    backend = backends.get_backend("fake")
    with fake.record() as names:
        x = mg.Tensor([1.0, 2.0, 3.0], device="fake", requires_grad=True)
        x[[0, 0, 2]].sum().backward()
    assert "add" in names and "scatter_add" not in names
    assert host(x.grad).tolist() == [2.0, 0.0, 1.0]
    source = open(os.path.join(ROOT, "minigrad", "backends", "__init__.py")).read()
    assert "cupy.add.at" in source and "cupyx.scatter_add(" not in source
    assert backend.name == "fake"


# 6. np.exp(cupy_array) does not raise: the docs say so --------------------------
def test_docs_do_not_claim_np_exp_of_a_cupy_array_raises():
    claim = re.compile(r"np\.exp\(cupy_array\)`*\s*raises", re.S)
    for path in ("README.md", os.path.join("minigrad", "backends", "__init__.py")):
        text = open(os.path.join(ROOT, path)).read()
        assert not claim.search(text), path
    assert "__array_ufunc__" in backends.__doc__
    x = fake.xp.asarray(np.array([0.0, 1.0]))
    assert isinstance(np.exp(x), fake.FakeArray)          # dispatched, as on CuPy
    with pytest.raises(TypeError, match="Unsupported type"):
        np.add(x, np.ones(2))                            # no implicit upload
    with pytest.raises(TypeError):
        np.asarray(x)                                    # no implicit download


# 7. cuda:N ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cuda:1", "cuda:3"])
def test_cuda_n_other_than_0_is_refused_clearly(name):
    with pytest.raises(mg.DeviceError, match="CUDA_VISIBLE_DEVICES"):
        backends.get_backend(name)
    with pytest.raises(mg.DeviceError):
        mg.Tensor([1.0], device=name)


def test_cuda_bad_index_and_cuda_0():
    with pytest.raises(mg.DeviceError, match="cuda:0"):
        backends.get_backend("cuda:x")
    assert backends.is_available("cuda:0") == backends.is_available("cuda")


# 8. host synchronisations on hot paths -------------------------------------------
def _transfers(fn):
    before = fake.host_transfers
    fn()
    return fake.host_transfers - before


def test_index_range_checks_cost_one_transfer_per_call():
    x = mg.Tensor(np.arange(20.0).reshape(4, 5), device="fake")
    i = mg.Tensor([0, 3, 1], device="fake")
    j = mg.Tensor([4, 0, 2], device="fake")
    assert _transfers(lambda: x[i, j]) == 1                    # 4 bounds, one copy
    assert _transfers(lambda: x[i]) == 1
    assert _transfers(lambda: x[1:3]) == 0                     # basic indexing: none
    assert _transfers(lambda: mg.gather(x, 1, mg.Tensor([[0], [1], [4], [2]],
                                                       device="fake"))) == 1
    assert _transfers(lambda: mg.embedding(x, i)) == 1


def test_clip_grad_norm_is_one_transfer_for_all_parameters():
    from optim import clip_grad_norm_
    ps = [mg.Parameter(np.ones(s), device="fake") for s in [(3,), (2, 2), (5,), (1,)]]
    for p in ps:
        p.grad = mg.Tensor(np.full(p.shape, 2.0), device="fake")
    n = _transfers(lambda: clip_grad_norm_(ps, 1.0))
    assert n == 1
    assert _transfers(lambda: clip_grad_norm_(ps, 1.0, norm_type=float("inf"))) == 1
    total = sum(float(np.sum(host(p.grad) ** 2)) for p in ps) ** 0.5
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)


def test_gradcheck_numerical_gradient_is_one_transfer_per_input():
    from minigrad.gradcheck import numerical_grad
    x = mg.Tensor(np.random.default_rng(0).standard_normal((3, 4)), dtype="float64",
                  device="fake", requires_grad=True)
    got, ones = [], [mg.Tensor(1.0, dtype="float64", device="fake")]   # output weight 1
    n = _transfers(lambda: got.append(numerical_grad(lambda t: (t * t).sum(), [x], 0,
                                                     weights=ones)))
    assert n <= 3, n                      # was 3 per element (36 here)
    np.testing.assert_allclose(got[0], 2 * host(x), rtol=1e-6, atol=1e-8)


# 9. tensor * raw array of the tensor's own backend ------------------------------
def test_tensor_times_raw_array_of_its_own_backend(device):
    t = mg.Tensor([1.0, 2.0, 3.0], dtype="float32", device=device, requires_grad=True)
    r = raw(device, np.array([2.0, 3.0, 4.0], dtype=np.float32))
    out = t * r
    assert out.device == device and out.dtype == np.float32
    np.testing.assert_array_equal(host(out), [2.0, 6.0, 12.0])
    (r + t).sum().backward()
    np.testing.assert_array_equal(host(t.grad), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(host(t * np.array([1.0, 0.0, 2.0])), [1.0, 0.0, 6.0])


def test_raw_array_of_another_device_is_a_device_error():
    cpu = mg.Tensor([1.0, 2.0])
    with pytest.raises(mg.DeviceError, match="fake"):
        cpu * raw("fake", [1.0, 2.0])
    with pytest.raises(mg.DeviceError, match="fake"):
        cpu.add_(raw("fake", [1.0, 2.0]))
    with fake.Device(1):
        other = fake.xp.asarray(np.ones(2))
    on_fake = mg.Tensor([1.0, 2.0], device="fake")
    with pytest.raises((mg.DeviceError, ValueError), match="[Dd]evice"):
        on_fake * other


# 10. packaging extras ------------------------------------------------------------
def test_gpu_extras_and_readme():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    extras = cfg["options.extras_require"]
    assert "cupy-cuda12x" in extras["gpu"]
    assert "cupy-cuda13x" in extras["gpu-cuda13"]
    readme = open(os.path.join(ROOT, "README.md")).read()
    for words in (".[gpu]", ".[gpu-cuda13]", "cupy-cuda12x[ctk]", "nvidia-smi"):
        assert words in readme, words


def test_math_constant_guard():
    assert math.isclose(minigrad.rng.GOLDEN / 2 ** 64, (math.sqrt(5) - 1) / 2, rel_tol=1e-15)
