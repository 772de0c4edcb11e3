"""The shared harness of the engine tests.

Three pieces:

* **shape strategies** (hypothesis): any shape with 0-d and size-1 axes,
  pairs of mutually broadcastable shapes, matmul operand shapes;
* **data strategies**: float64 arrays drawn for the op's *domain* -- positive
  for log/sqrt/pow bases, kept away from the kinks of relu/abs/clip (a
  central difference straddling a kink measures the average of two slopes),
  all-distinct values for max/min (a tie has no unique gradient);
* :func:`check_op`: builds tensors on a device, compares the forward value
  with an independent NumPy formula, runs :func:`minigrad.gradcheck` (and
  optionally :func:`minigrad.gradgradcheck`), checks the float32 forward and
  backward against float64, and checks the invariants every op must keep:
  inputs and the upstream gradient untouched, gradient shape = input shape,
  no two gradients sharing memory, graph freed after backward.

Every check here can fail: ``tests/engine/test_engine_harness.py`` plants ops
that break each invariant and asserts that check_op notices.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import backends

__all__ = [
    "shapes", "broadcastable_shapes", "matmul_shapes", "arrays", "array_like", "distinct_arrays",
    "check_op", "host", "examples", "DOMAINS",
]


def host(x: Any) -> np.ndarray:
    """A tensor's (or backend array's) values as a NumPy array -- an explicit copy."""
    data = x.data if isinstance(x, mg.Tensor) else x
    return np.array(backends.to_numpy(data))


def examples(n: int) -> settings:
    """``@examples(10)``: 10 hypothesis examples under the dev/ci profiles, scaled up
    proportionally under ``HYPOTHESIS_PROFILE=intense`` (500 instead of 25).

    The ``device`` fixture is a plain string, identical for every example, so
    hypothesis' warning about function-scoped fixtures does not apply."""
    base = settings.default.max_examples
    return settings(max_examples=max(1, round(n * base / 25)),
                    suppress_health_check=[*settings.default.suppress_health_check,
                                           HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """Any shape: 0-d ``()`` included, size-1 axes included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 3) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """``num_shapes`` shapes that broadcast together (e.g. ``(3, 1)`` and ``(2, 1, 4)``)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1,
        max_side=max_side).map(lambda b: b.input_shapes)


def matmul_shapes(max_batch_dims: int = 2, max_side: int = 3
                  ) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Operand shapes for ``a @ b``: 1-d or n-d on either side, broadcast batch axes."""
    return hnp.mutually_broadcastable_shapes(
        signature="(m?,n),(n,p?)->(m?,p?)", max_dims=max_batch_dims, min_side=1,
        max_side=max_side).map(lambda b: b.input_shapes)


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------
def _uniform_away(rng: np.random.Generator, shape: tuple[int, ...], lo: float, hi: float,
                  avoid: Sequence[float], margin: float) -> np.ndarray:
    """Uniform values in [lo, hi] that keep ``margin`` away from every point in ``avoid``."""
    x = rng.uniform(lo, hi, size=shape)
    for _ in range(100):
        bad = np.zeros(x.shape, dtype=bool)
        for p in avoid:
            bad |= np.abs(x - p) < margin
        if not bad.any():
            return x
        x[bad] = rng.uniform(lo, hi, size=int(bad.sum()))
    raise AssertionError("could not draw values away from the kinks")  # pragma: no cover


def _draw_values(rng: np.random.Generator, shape: tuple[int, ...], domain: str) -> np.ndarray:
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "positive":          # log, sqrt, the base of pow
        return rng.uniform(0.5, 2.0, size=shape)
    if domain == "kink":              # relu, abs, leaky_relu: stay clear of 0
        return _uniform_away(rng, shape, -2.0, 2.0, avoid=(0.0,), margin=0.1)
    if domain == "clip":              # clip(-0.5, 0.5): clear of both edges
        return _uniform_away(rng, shape, -1.5, 1.5, avoid=(-0.5, 0.5), margin=0.1)
    if domain == "unit":              # probabilities for binary_cross_entropy
        return rng.uniform(0.05, 0.95, size=shape)
    if domain == "distinct":          # max / min: no ties, gaps far larger than eps
        return _distinct(rng, int(np.prod(shape, dtype=int))).reshape(shape)
    raise ValueError(f"unknown domain {domain!r}")


DOMAINS = ("real", "positive", "kink", "clip", "unit", "distinct")


def _distinct(rng: np.random.Generator, n: int) -> np.ndarray:
    """n values, pairwise at least 0.1 apart, in random order."""
    return rng.permutation(n) * 0.25 - 0.125 * n + rng.uniform(-0.05, 0.05, size=n)


def _layout(x: np.ndarray, transposed: bool) -> np.ndarray:
    """The same values, optionally stored transposed (a non-contiguous array)."""
    if transposed and x.ndim >= 2:
        return np.ascontiguousarray(x.T).T
    return x


@st.composite
def arrays(draw: st.DrawFn, shape: tuple[int, ...] | st.SearchStrategy, domain: str = "real"
           ) -> np.ndarray:
    """A float64 array of ``shape`` (a shape or a strategy of shapes) with values
    from ``domain`` (see :data:`DOMAINS`); sometimes stored non-contiguously."""
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return _layout(_draw_values(rng, tuple(shape), domain), draw(st.booleans()))


@st.composite
def distinct_arrays(draw: st.DrawFn, shape_list: Sequence[tuple[int, ...]]
                    ) -> list[np.ndarray]:
    """Several arrays whose values are *all* distinct across arrays (maximum(a, b)
    with broadcasting must never compare two equal numbers)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = [int(np.prod(s, dtype=int)) for s in shape_list]
    pool = _distinct(rng, sum(sizes))
    out, start = [], 0
    for s, n in zip(shape_list, sizes):
        out.append(pool[start:start + n].reshape(s))
        start += n
    return out


def array_like(seed: int, shape: tuple[int, ...], domain: str = "real") -> np.ndarray:
    """A deterministic array (for the tests that do not need hypothesis)."""
    return _draw_values(np.random.default_rng(seed), tuple(shape), domain)


# ---------------------------------------------------------------------------
# check_op
# ---------------------------------------------------------------------------
def _as_list(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float,
                  what: str) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, \
        f"{what}: shape {actual.shape}, expected {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _leaves(arrays_: Sequence[np.ndarray], device: str, dtype: Any,
            requires_grad: Sequence[bool]) -> list[mg.Tensor]:
    return [mg.Tensor(np.array(a, dtype=dtype), dtype=dtype, device=device, requires_grad=rg)
            for a, rg in zip(arrays_, requires_grad)]


def _check_no_aliasing(grads: list[mg.Tensor], others: dict[str, mg.Tensor]) -> None:
    """Bump each gradient in place and watch every other array: a change means they
    share memory. (Works on every backend, unlike ``np.shares_memory``.)"""
    watched = {f"gradient of input {k}": g for k, g in enumerate(grads)}
    watched.update(others)
    for k, g in enumerate(grads):
        mine = f"gradient of input {k}"
        snapshot = {name: host(t) for name, t in watched.items()}
        try:
            g.data += 1.0
        except ValueError as err:  # a read-only broadcast view handed out as .grad
            raise AssertionError(f"gradient of input {k} is a read-only view: {err}") from None
        for name, t in watched.items():
            if name == mine:
                continue
            assert np.array_equal(host(t), snapshot[name], equal_nan=True), \
                f"gradient of input {k} shares memory with the {name}"
        g.data -= 1.0


def check_op(fn: Callable[..., Any], *arrays_: np.ndarray, device: str,
             ref: Callable[..., Any] | None = None, rtol: float = 1e-10, atol: float = 1e-12,
             requires_grad: Sequence[bool] | None = None, grad: bool = True,
             gradgrad: bool = False, float32: bool = True, f32_tol: float = 1e-5,
             eps: float = 1e-6, gc_atol: float = 1e-5, gc_rtol: float = 1e-3) -> list:
    """Check one op, called as ``fn(*tensors)``, on ``device``.

    * ``ref(*host_arrays)``: the expected forward output(s), computed with NumPy
      from the formula (not from minigrad); compared at ``rtol``/``atol``;
    * ``grad``: run :func:`minigrad.gradcheck` in float64 (full Jacobian) and the
      invariants of one ``backward(upstream)`` call;
    * ``gradgrad``: also :func:`minigrad.gradgradcheck`;
    * ``float32``: the float32 forward (and backward) must stay float32 and agree
      with float64 to ``f32_tol`` (relative to the size of the values).

    Returns the float64 output values (host arrays).
    """
    arrays_ = [np.asarray(a, dtype=np.float64) for a in arrays_]
    originals = [a.copy() for a in arrays_]
    rg = list(requires_grad) if requires_grad is not None else [True] * len(arrays_)

    # -- forward against the independent formula ---------------------------
    xs = _leaves(arrays_, device, np.float64, rg)
    outs = _as_list(fn(*xs))
    for o in outs:
        assert isinstance(o, mg.Tensor), f"fn returned {type(o).__name__}, not a Tensor"
        assert o.device == device, f"output is on {o.device}, inputs on {device}"
        assert o.dtype == np.float64, f"float64 inputs gave a {o.dtype} output"
    values = [host(o) for o in outs]
    if ref is not None:
        expected = _as_list(ref(*[a.copy() for a in arrays_]))
        assert len(expected) == len(values), "ref and fn return different numbers of outputs"
        for k, (v, e) in enumerate(zip(values, expected)):
            _assert_close(v, np.asarray(e, dtype=np.float64), rtol, atol, f"forward output {k}")
    for k, (x, a) in enumerate(zip(xs, originals)):
        assert np.array_equal(host(x), a, equal_nan=True), f"forward modified input {k}"

    # -- one backward with a random upstream gradient: the invariants -------
    grads64: list[np.ndarray | None] = []
    if grad and any(rg):
        rng = np.random.default_rng(0)
        ups = [mg.Tensor(rng.standard_normal(o.shape), dtype=np.float64, device=device)
               for o in outs]
        ups_before = [host(u) for u in ups]
        wanted = [x for x, r in zip(xs, rg) if r]
        if len(outs) == 1 and outs[0].requires_grad:
            outs[0].backward(ups[0])
            grads = [x.grad if x.grad is not None else None for x in wanted]
            second = lambda: outs[0].backward(ups[0])  # noqa: E731
        else:
            live = [(o, u) for o, u in zip(outs, ups) if o.requires_grad]
            grads = list(mg.grad([o for o, _ in live], wanted, [u for _, u in live],
                                 allow_unused=True))
            second = lambda: mg.grad([o for o, _ in live], wanted,  # noqa: E731
                                     [u for _, u in live], allow_unused=True)
        for k, u in enumerate(ups):
            assert np.array_equal(host(u), ups_before[k]), \
                f"backward modified the upstream gradient of output {k}"
        for k, (x, a) in enumerate(zip(xs, originals)):
            assert np.array_equal(host(x), a, equal_nan=True), f"backward modified input {k}"
        present = []
        for k, (x, g) in enumerate(zip(wanted, grads)):
            if g is None:  # never reached: the op ignores this input; its gradient is 0
                grads64.append(np.zeros(x.shape))
                continue
            assert g.shape == x.shape, f"gradient of input {k} has shape {g.shape}, input {x.shape}"
            assert g.dtype == x.dtype, f"gradient of input {k} is {g.dtype}, input {x.dtype}"
            assert g.device == x.device, f"gradient of input {k} is on {g.device}"
            assert not g.requires_grad, "a plain backward returned a gradient that requires grad"
            grads64.append(host(g))
            present.append(g)
        others = {f"input {k}": x for k, x in enumerate(xs)}
        others.update({f"upstream gradient {k}": u for k, u in enumerate(ups)})
        others.update({f"output {k}": o for k, o in enumerate(outs)})
        _check_no_aliasing(present, others)
        if any(o.grad_fn is not None for o in outs):
            try:
                second()
            except mg.GraphError:
                pass
            else:
                raise AssertionError("a second backward through the same graph did not raise "
                                     "GraphError: the graph was not freed")

        # -- the numerical gradient check (fresh leaves) ----------------------
        fresh = _leaves(arrays_, device, np.float64, rg)
        mg.gradcheck(fn, *fresh, eps=eps, atol=gc_atol, rtol=gc_rtol)
        if gradgrad:
            fresh = _leaves(arrays_, device, np.float64, rg)
            mg.gradgradcheck(fn, *fresh, eps=eps, atol=gc_atol, rtol=gc_rtol)
        for k, (x, a) in enumerate(zip(fresh, originals)):
            assert np.array_equal(host(x), a, equal_nan=True), f"gradcheck modified input {k}"

    # -- float32 stays float32 and agrees with float64 ----------------------
    if float32:
        x32 = _leaves(arrays_, device, np.float32, rg)
        outs32 = _as_list(fn(*x32))
        for k, (o, v) in enumerate(zip(outs32, values)):
            assert o.dtype == np.float32, f"float32 inputs gave a {o.dtype} output {k}"
            scale = 1.0 + float(np.max(np.abs(v), initial=0.0))
            _assert_close(host(o).astype(np.float64), v, f32_tol, f32_tol * scale,
                          f"float32 forward output {k}")
        if grad and any(rg) and any(o.requires_grad for o in outs32):
            rng = np.random.default_rng(0)
            ups32 = [mg.Tensor(rng.standard_normal(o.shape), dtype=np.float32, device=device)
                     for o in outs32]
            live = [(o, u) for o, u in zip(outs32, ups32) if o.requires_grad]
            wanted = [x for x, r in zip(x32, rg) if r]
            g32 = mg.grad([o for o, _ in live], wanted, [u for _, u in live], allow_unused=True)
            for k, (g, g64) in enumerate(zip(g32, grads64)):
                assert g.dtype == np.float32, f"float32 backward gave a {g.dtype} gradient {k}"
                scale = 1.0 + float(np.max(np.abs(g64), initial=0.0))
                _assert_close(host(g).astype(np.float64), g64, f32_tol, f32_tol * scale,
                              f"float32 gradient of input {k}")
    return values
