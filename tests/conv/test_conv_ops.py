"""conv2d / conv1d (F33): against nested loops (forward and backward), central
differences, the composed twin (values, gradients, second derivatives), the
"full correlation with the flipped kernel" identity, PyTorch when installed,
and bad input. Every test runs on "cpu" and the CuPy-like "fake"."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import naive_conv as naive
from helpers import check_op, examples, host
from minigrad.ops import _windows, conv

TOL = dict(rtol=1e-10, atol=1e-12)


@st.composite
def conv_cases(draw, max_side_extra=3):
    """A random convolution: groups, channels, non-square kernels, stride, padding,
    dilation, odd sizes, down to a (dilated) kernel exactly as large as the padded input."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    hw = []
    for kk, dd, pp in zip(k, d, p):
        smallest = max(1, dd * (kk - 1) + 1 - 2 * pp)          # window == padded input
        hw.append(draw(st.integers(smallest, smallest + max_side_extra)))
    n = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, *hw))
    w = rng.standard_normal((c_out, c_in // groups, *k))
    b = rng.standard_normal(c_out)
    return x, w, b, dict(stride=s, padding=p, dilation=d, groups=groups)


def _leaf(a, device):
    return mg.Tensor(a, dtype="float64", device=device, requires_grad=True)


@examples(10)
@given(case=conv_cases())
def test_conv2d_matches_nested_loops_forward_and_backward(device, case):
    x, w, b, kw = case
    xt, wt, bt = _leaf(x, device), _leaf(w, device), _leaf(b, device)
    out = mg.conv2d(xt, wt, bt, **kw)
    np.testing.assert_allclose(host(out), naive.conv2d_forward(x, w, b, **kw), **TOL)
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(mg.Tensor(g, dtype="float64", device=device))
    dx, dw, db = naive.conv2d_backward(x, w, g, **kw)
    np.testing.assert_allclose(host(xt.grad), dx, **TOL)
    np.testing.assert_allclose(host(wt.grad), dw, **TOL)
    np.testing.assert_allclose(host(bt.grad), db, **TOL)


@examples(6)
@given(case=conv_cases(max_side_extra=2))
def test_conv2d_gradcheck_and_invariants(device, case):
    x, w, b, kw = case
    check_op(lambda a, m, c: mg.conv2d(a, m, c, **kw), x, w, b, device=device,
             ref=lambda a, m, c: naive.conv2d_forward(a, m, c, **kw), rtol=1e-10, atol=1e-12)
    check_op(lambda a, m: mg.conv2d(a, m, **kw), x, w, device=device, float32=False,
             ref=lambda a, m: naive.conv2d_forward(a, m, **kw), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1),
                                dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
                                dict(groups=2, padding=1)])
def test_conv2d_second_derivatives(device, kw):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 2 // kw.get("groups", 1),
                                                                        3, 2)), rng.standard_normal(2)
    mg.gradgradcheck(lambda a, m, c: mg.conv2d(a, m, c, **kw), _leaf(x, device), _leaf(w, device),
                     _leaf(b, device))


def _same_as_composed(fused_fn, composed_fn, arrays_, device, rtol=1e-10, atol=1e-12):
    """Values, gradients and a Hessian-vector product of the fused op equal the composed one's."""
    results = []
    for fn in (fused_fn, composed_fn):
        xs = [_leaf(a, device) for a in arrays_]
        out = fn(*xs)
        up = mg.Tensor(np.random.default_rng(42).standard_normal(out.shape), dtype="float64",
                       device=device)
        grads = mg.grad(out, xs, up, create_graph=True, allow_unused=True)
        v = [mg.Tensor(np.random.default_rng(7 + i).standard_normal(x.shape), dtype="float64",
                       device=device) for i, x in enumerate(xs)]
        dot = sum(((gi * vi).sum() for gi, vi in zip(grads, v)),
                  mg.Tensor(0.0, dtype="float64", device=device))
        hvp = mg.grad(dot, xs, allow_unused=True)
        results.append([host(out)] + [host(gi) for gi in grads] + [host(h) for h in hvp])
    for k, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"fused vs composed {k}")
    return results


@examples(6)
@given(case=conv_cases(max_side_extra=2))
def test_conv2d_fused_equals_composed_with_second_derivatives(device, case):
    x, w, b, kw = case
    _same_as_composed(lambda a, m, c: mg.conv2d(a, m, c, **kw),
                      lambda a, m, c: conv.conv2d_reference(a, m, c, **kw), [x, w, b], device)


def test_use_fused_false_runs_the_composed_twin(device):
    x = _leaf(np.random.default_rng(0).standard_normal((1, 2, 4, 4)), device)
    w = _leaf(np.random.default_rng(1).standard_normal((3, 2, 2, 2)), device)
    assert type(mg.conv2d(x, w).grad_fn).__name__ == "Conv2d"
    with mg.use_fused(False):
        out = mg.conv2d(x, w)
    assert type(out.grad_fn).__name__ != "Conv2d"
    np.testing.assert_allclose(host(out), host(mg.conv2d(x, w)), **TOL)


@examples(8)
@given(n=st.integers(1, 2), c_in=st.integers(1, 3), c_out=st.integers(1, 3),
       k=st.integers(1, 4), extra=st.integers(0, 3), p=st.integers(0, 2), seed=st.integers(0, 99))
def test_dx_is_the_full_correlation_with_the_flipped_kernel(device, n, c_in, c_out, k, extra, p,
                                                            seed):
    """Stride 1: dx = conv2d(g, W flipped in both axes with in/out swapped, padding k - 1 - p),
    which for p = 0 is the "full" correlation (the gradient padded by k - 1 all round)."""
    p = min(p, k - 1)
    rng = np.random.default_rng(seed)
    x = _leaf(rng.standard_normal((n, c_in, k + extra, k + extra + 1)), device)
    w = _leaf(rng.standard_normal((c_out, c_in, k, k)), device)
    out = mg.conv2d(x, w, padding=p)
    g = mg.Tensor(rng.standard_normal(out.shape), dtype="float64", device=device)
    out.backward(g)
    flipped = mg.Tensor(np.ascontiguousarray(host(w)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)),
                        dtype="float64", device=device)
    np.testing.assert_allclose(host(x.grad), host(mg.conv2d(g, flipped, padding=k - 1 - p)), **TOL)
    # and dW is the correlation of the input with the gradient (per channel pair)
    xs, gs = host(x), host(g)
    xpad = np.pad(xs, ((0, 0), (0, 0), (p, p), (p, p)))
    dw = np.zeros((c_out, c_in, k, k))
    for o in range(c_out):
        for c in range(c_in):
            inp = mg.Tensor(xpad[:, c][None], dtype="float64", device=device)       # (1, N, H, W)
            ker = mg.Tensor(gs[:, o][None], dtype="float64", device=device)         # (1, N, Ho, Wo)
            dw[o, c] = host(mg.conv2d(inp, ker))[0, 0]
    np.testing.assert_allclose(host(w.grad), dw, **TOL)


@examples(8)
@given(n=st.integers(1, 2), groups=st.sampled_from([1, 2]), k=st.integers(1, 3),
       s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2), extra=st.integers(0, 4),
       seed=st.integers(0, 99))
def test_conv1d_matches_loops_and_gradcheck(device, n, groups, k, s, p, d, extra, seed):
    rng = np.random.default_rng(seed)
    length = max(1, d * (k - 1) + 1 - 2 * p) + extra
    x = rng.standard_normal((n, 2 * groups, length))
    w = rng.standard_normal((groups * 2, 2, k))
    b = rng.standard_normal(groups * 2)

    def ref(a, m, c):
        return naive.conv2d_forward(a[:, :, None], m[:, :, None], c, (1, s), (0, p), (1, d),
                                    groups)[:, :, 0]
    check_op(lambda a, m, c: mg.conv1d(a, m, c, stride=s, padding=p, dilation=d, groups=groups),
             x, w, b, device=device, ref=ref, rtol=1e-10, atol=1e-12)


def test_window_view_is_one_strided_view_on_every_backend():
    """cpu and fake take the same path, ``xp.lib.stride_tricks.as_strided`` (CuPy's has the
    signature (x, shape=None, strides=None)): a view of the padded input's memory, the
    windows equal to slices of it, and NumPy-only keywords refused by the fake."""
    from minigrad.backends import get_backend
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    for device in ("cpu", "fake"):
        xp = get_backend(device).xp
        xpad = xp.asarray(x)
        view = _windows.window_view(xpad, (3, 2), (2, 1), (1, 2), (3, 4))
        if device == "cpu":
            assert np.shares_memory(view, xpad)
        else:                      # the fake's view keeps the owner as its base, as CuPy's
            assert view.base is xpad
        for u, v in [(0, 0), (2, 1), (1, 0)]:
            np.testing.assert_array_equal(
                host(mg.Tensor(view[:, :, u, v])),
                x[:, :, u:u + 2 * 2 + 1:2, v * 2:v * 2 + 4])
    fake = get_backend("fake").xp
    with pytest.raises(TypeError, match="does not allow this call"):
        fake.lib.stride_tricks.as_strided(fake.zeros(3), shape=(3,), writeable=False)


def test_im2col_buffer_size_as_documented():
    """The docstring's figure: 64 x 1 x 28 x 28 through 3 x 3 keeps 64 * 9 * 676 numbers."""
    x = mg.Tensor(np.zeros((64, 1, 28, 28), dtype=np.float32), requires_grad=True)
    w = mg.Tensor(np.zeros((32, 1, 3, 3), dtype=np.float32), requires_grad=True)
    out = mg.conv2d(x, w)
    cols = out.grad_fn.cols
    assert cols.size == 64 * 9 * 26 * 26 == 389_376
    assert 1.5e6 < cols.nbytes < 1.6e6           # "1.6 MB in float32"


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
def _t(*shape, device="cpu"):
    return mg.Tensor(np.zeros(shape), dtype="float64", device=device)


@pytest.mark.parametrize("x_shape, w_shape, kw, words", [
    ((1, 3, 5, 5), (4, 2, 3, 3), {}, ["conv2d", "channel mismatch", "(1, 3, 5, 5)", "(4, 2, 3, 3)"]),
    ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}, ["conv2d", "groups=2", "divide", "(3, 2, 3, 3)"]),
    ((1, 3, 5, 5), (3, 1, 3, 3), {"groups": 2}, ["conv2d", "groups=2", "divide"]),
    ((3, 5, 5), (4, 3, 3, 3), {}, ["conv2d", "4-D input", "(3, 5, 5)", "unsqueeze"]),
    ((1, 3, 5, 5), (4, 3, 3), {}, ["conv2d", "4-D weight", "(4, 3, 3)"]),
    ((1, 3, 2, 5), (4, 3, 3, 3), {}, ["conv2d", "larger than the padded input", "(1, 3, 2, 5)"]),
    ((1, 3, 4, 4), (4, 3, 3, 3), {"dilation": 2}, ["conv2d", "dilat", "larger"]),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"stride": 0}, ["conv2d", "stride", "at least 1"]),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"stride": (1, 0)}, ["conv2d", "stride"]),
    ((1, 3, 5, 5), (4, 3, 3, 3), {"padding": -1}, ["conv2d", "padding"]),
])
def test_conv2d_bad_input_names_op_and_shapes(device, x_shape, w_shape, kw, words):
    with pytest.raises(mg.ShapeError) as info:
        mg.conv2d(_t(*x_shape, device=device), _t(*w_shape, device=device), **kw)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_conv2d_bias_and_dtype_errors(device):
    with pytest.raises(mg.ShapeError, match=r"conv2d: bias must have shape \(4,\)"):
        mg.conv2d(_t(1, 3, 5, 5, device=device), _t(4, 3, 3, 3, device=device),
                  _t(3, device=device))
    with pytest.raises(mg.DTypeError, match="conv2d"):
        mg.conv2d(_t(1, 3, 5, 5, device=device), _t(4, 3, 3, 3, device=device).float())


def test_conv1d_bad_input(device):
    with pytest.raises(mg.ShapeError, match=r"conv1d: expects a 3-D input \(N, C, L\)"):
        mg.conv1d(_t(1, 3, 5, 5, device=device), _t(4, 3, 3, device=device))
    with pytest.raises(mg.ShapeError, match="conv1d: the kernel of size 7"):
        mg.conv1d(_t(1, 3, 5, device=device), _t(4, 3, 7, device=device))
    with pytest.raises(mg.ShapeError, match="conv1d.*channel mismatch"):
        mg.conv1d(_t(1, 2, 5, device=device), _t(4, 3, 3, device=device))


# ---------------------------------------------------------------------------
# PyTorch (optional)
# ---------------------------------------------------------------------------
@examples(5)
@given(case=conv_cases())
def test_conv2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b, kw = case
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ref = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    g = np.random.default_rng(0).standard_normal(tuple(ref.shape))
    ref.backward(torch.tensor(g))
    xt, wt, bt = _leaf(x, "cpu"), _leaf(w, "cpu"), _leaf(b, "cpu")
    out = mg.conv2d(xt, wt, bt, **kw)
    out.backward(mg.Tensor(g, dtype="float64"))
    for mine, theirs in ((out, ref), (xt.grad, tx.grad), (wt.grad, tw.grad), (bt.grad, tb.grad)):
        np.testing.assert_allclose(host(mine), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_non_contiguous_input_without_padding(device):
    """With padding 0 the window view is taken of the input itself: its strides must be used."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((2, 6, 5, 3))
    x_np = base.transpose(0, 3, 2, 1)                      # (2, 3, 5, 6), not contiguous
    w = rng.standard_normal((4, 3, 2, 3))
    xt = mg.Tensor(base, dtype="float64", device=device).permute(0, 3, 2, 1)
    out = mg.conv2d(xt, mg.Tensor(w, dtype="float64", device=device), stride=(2, 1))
    np.testing.assert_allclose(host(out), naive.conv2d_forward(x_np, w, None, (2, 1)), **TOL)
    pooled = mg.max_pool2d(xt, 2, 1)
    np.testing.assert_allclose(host(pooled), naive.max_pool2d_forward_backward(
        x_np, None, (2, 2), (1, 1), (0, 0))[0], **TOL)
