"""Numerical gradient checking: is the analytic backward right?

The idea: for a scalar function L(x), the central difference

    (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)  =  dL/dx_i + O(eps^2)

needs nothing but the forward pass, so it is an independent witness for the
gradient that ``backward()`` computes. For a non-scalar output we check the
scalar L = sum(output * v) for a fixed random v, which exercises every output
element with a different weight (a plain sum would hide errors that cancel).

Defaults (float64 only):

* ``eps = 1e-6``: truncation error ~eps^2 = 1e-12, round-off ~1e-16/eps =
  1e-10 relative -- both far below the tolerance;
* ``atol = 1e-5``, ``rtol = 1e-3``: an element passes when
  ``|analytic - numeric| <= atol + rtol * |numeric|``. A correct backward
  typically shows relative errors near 1e-8 to 1e-10; a wrong one is off by
  O(1). (These are PyTorch's defaults too.)

In float32 the round-off term grows to ~1e-7/eps, which is why the checker
refuses float32 inputs unless you insist (``allow_float32=True``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from . import backends
from .autograd import grad as autograd_grad
from .errors import DTypeError, describe
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckResult", "GradcheckError",
           "numerical_grad"]


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree."""


@dataclass
class InputReport:
    index: int
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | None
    analytic: float
    numeric: float
    passed: bool


@dataclass
class GradcheckResult:
    """What a gradient check found, input by input."""

    passed: bool
    inputs: list[InputReport] = field(default_factory=list)
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3
    mode: str = "full"
    name: str = ""

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.inputs), default=0.0)

    @property
    def max_abs_error(self) -> float:
        return max((r.max_abs_error for r in self.inputs), default=0.0)

    def report(self) -> str:
        head = f"gradcheck {self.name or ''} ({self.mode}, eps={self.eps:g}, atol={self.atol:g}, " \
               f"rtol={self.rtol:g}): {'PASS' if self.passed else 'FAIL'}"
        lines = [head.replace("  ", " ")]
        for r in self.inputs:
            where = "" if r.worst_index is None else f" worst at {r.worst_index}:"
            lines.append(
                f"  input {r.index} {r.shape}: {'ok  ' if r.passed else 'FAIL'}{where} analytic "
                f"{r.analytic:+.8e} vs numeric {r.numeric:+.8e}  (abs err {r.max_abs_error:.2e}, "
                f"rel err {r.max_rel_error:.2e})")
        lines.append("  (float64: a correct backward typically shows rel err < 1e-7; "
                     "a wrong one ~1e-1 or more)")
        return "\n".join(lines)

    def __bool__(self) -> bool:
        return self.passed


def _scalar_output(fn: Callable[..., Any], inputs: Sequence[Tensor], weights: list) -> Tensor:
    """Evaluate fn and fold its outputs into one scalar with fixed random weights."""
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    total = None
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor) or o.dtype.kind != "f":
            continue
        if len(weights) <= k:
            rng = np.random.default_rng(1234 + k)
            weights.append(Tensor(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device))
        term = (o * weights[k]).sum()
        total = term if total is None else total + term
    if total is None:
        raise TypeError("gradcheck: fn returned no floating-point tensor")
    return total


def _float(t: Tensor) -> float:
    return float(backends.to_numpy(t.data))


def numerical_grad(fn: Callable[..., Tensor], inputs: Sequence[Tensor], index: int,
                   eps: float = 1e-6, weights: list | None = None) -> np.ndarray:
    """Central-difference gradient of the weighted scalar output w.r.t. ``inputs[index]``.

    Perturbs a *copy* of the input (broadcast views may share memory), one
    element at a time, on the input's own device; returns a NumPy array.
    The graph stays enabled so that fn may itself take gradients
    (:func:`gradgradcheck` relies on that).
    """
    weights = [] if weights is None else weights
    x = inputs[index]
    base = x.data.copy()
    host_base = backends.to_numpy(base).reshape(-1)   # one host copy, not one .item() each
    flat = base.reshape(-1)
    plus, minus = [], []
    for i in range(x.size):
        original = float(host_base[i])
        probe = list(inputs)
        flat[i] = original + eps
        probe[index] = Tensor._make(base.copy(), x.requires_grad)
        plus.append(_scalar_output(fn, probe, weights).data)    # stays on the device
        flat[i] = original - eps
        probe[index] = Tensor._make(base.copy(), x.requires_grad)
        minus.append(_scalar_output(fn, probe, weights).data)
        flat[i] = original
    if not plus:
        return np.zeros(x.shape, dtype=np.float64)
    # Every f(x + eps e_i) and f(x - eps e_i) comes back to the host in ONE transfer
    # (a device -> host copy is a synchronisation on a GPU).
    xp = x.xp
    values = backends.to_numpy(xp.stack([xp.stack(plus), xp.stack(minus)])).astype(np.float64)
    return ((values[0] - values[1]) / (2 * eps)).reshape(x.shape)


def _compare(index: int, analytic: np.ndarray, numeric: np.ndarray, atol: float,
             rtol: float) -> InputReport:
    err = np.abs(analytic - numeric)
    ok = err <= atol + rtol * np.abs(numeric)
    rel = err / np.maximum(np.abs(numeric), np.maximum(np.abs(analytic), 1e-12))
    worst = np.unravel_index(int(np.argmax(err - (atol + rtol * np.abs(numeric)))), err.shape) \
        if err.size else None
    return InputReport(
        index=index, shape=tuple(analytic.shape),
        max_abs_error=float(err.max()) if err.size else 0.0,
        max_rel_error=float(rel.max()) if rel.size else 0.0,
        worst_index=tuple(int(i) for i in worst) if worst is not None else None,
        analytic=float(analytic[worst]) if worst is not None else 0.0,
        numeric=float(numeric[worst]) if worst is not None else 0.0,
        passed=bool(ok.all()))


def gradcheck(fn: Callable[..., Any], *inputs: Tensor, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, fast: bool = False,
              directions: int = 3, allow_float32: bool = False,
              name: str = "") -> GradcheckResult:
    """Check ``fn``'s analytic gradients against central differences.

    ``fn`` takes the tensors in ``inputs`` and returns a tensor (or a tuple of
    tensors). Inputs with ``requires_grad=True`` are checked.

    * full mode (default): every element of every input (a full
      vector-Jacobian product), fine for small tensors;
    * ``fast=True``: ``directions`` random directions u through all inputs at
      once, comparing (L(x + eps u) - L(x - eps u)) / 2eps with <grad L, u>
      -- cheap for whole layers.

    Also verifies that fn does not modify its inputs and that each gradient
    has its input's shape. Raises :class:`GradcheckError` with a readable
    report on failure (or returns the result with ``raise_exception=False``).
    """
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64 and not allow_float32:
            raise DTypeError(
                f"gradcheck: input {i} is {inputs[i].dtype}; use float64 (float32 round-off, "
                "~1e-7/eps, swamps the comparison). Pass allow_float32=True to insist.")
    before = [backends.to_numpy(t.data).copy() for t in inputs if isinstance(t, Tensor)]
    weights: list = []
    loss = _scalar_output(fn, inputs, weights)
    if loss.requires_grad:
        grads = autograd_grad(loss, [inputs[i] for i in checked], allow_unused=True)
    else:  # fn does not depend on its inputs (e.g. the derivative of a linear op): zero
        grads = tuple(Tensor._make(inputs[i].xp.zeros(inputs[i].shape, dtype=inputs[i].dtype),
                                   False) for i in checked)
    after = [backends.to_numpy(t.data) for t in inputs if isinstance(t, Tensor)]
    for k, (b, a) in enumerate(zip(before, after)):
        if not np.array_equal(b, a, equal_nan=True):
            raise GradcheckError(f"gradcheck: fn modified input {k} ({describe(inputs[k])}) in place")
    for i, g in zip(checked, grads):
        if g.shape != inputs[i].shape:
            raise GradcheckError(f"gradcheck: gradient of input {i} has shape {g.shape}, "
                                 f"input has {inputs[i].shape}")
    result = GradcheckResult(passed=True, eps=eps, atol=atol, rtol=rtol,
                             mode="fast" if fast else "full", name=name)
    if fast:
        rng = np.random.default_rng(99)
        for d in range(directions):
            us = {i: rng.standard_normal(inputs[i].shape) for i in checked}
            analytic = sum(float((backends.to_numpy(g.data) * us[i]).sum())
                           for i, g in zip(checked, grads))

            def shifted(sign: float) -> float:
                probe = list(inputs)
                for i in checked:
                    x = inputs[i]
                    step = x.backend.asarray(us[i] * (sign * eps), dtype=x.dtype)
                    probe[i] = Tensor._make(x.data + step, True)
                return _float(_scalar_output(fn, probe, weights))

            numeric = (shifted(1.0) - shifted(-1.0)) / (2 * eps)
            rep = _compare(d, np.array([analytic]), np.array([numeric]), atol, rtol)
            rep.shape = ("direction",)  # type: ignore[assignment]
            result.inputs.append(rep)
    else:
        for i, g in zip(checked, grads):
            numeric = numerical_grad(fn, inputs, i, eps, weights)
            result.inputs.append(_compare(i, backends.to_numpy(g.data).astype(np.float64),
                                          numeric, atol, rtol))
    result.passed = all(r.passed for r in result.inputs)
    if not result.passed and raise_exception:
        raise GradcheckError(result.report())
    return result


def gradgradcheck(fn: Callable[..., Any], *inputs: Tensor, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
                  fast: bool = False, name: str = "") -> GradcheckResult:
    """Check second derivatives: gradcheck the function
    x -> <d(fn(x) . v)/dx, w> built with ``create_graph=True``.

    Passing means backward itself was differentiated correctly (what a
    Hessian-vector product relies on).
    """
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(7)
    w = [Tensor(rng.standard_normal(inputs[i].shape), dtype=inputs[i].dtype,
                device=inputs[i].device) for i in checked]
    out_weights: list = []

    def first_derivative(*xs: Tensor) -> Tensor:
        loss = _scalar_output(fn, xs, out_weights)
        gs = autograd_grad(loss, [xs[i] for i in checked], create_graph=True, allow_unused=True)
        total = None
        for g, wi in zip(gs, w):
            term = (g * wi).sum()
            total = term if total is None else total + term
        return total

    return gradcheck(first_derivative, *inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast=fast, name=name or "second order")
