"""A check that cannot fail is a defect. Here each checker is shown a planted
bug and must catch it: gradcheck and gradgradcheck on wrong backwards and silly
settings, and every invariant of the shared harness ``check_op``."""
from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd
from minigrad.autograd import Function
from helpers import check_op, host


class WrongTanh(Function):
    """F25's bug: the derivative of tanh written as 1 - tanh instead of 1 - tanh^2."""

    def forward(self, a):
        return self_xp(a).tanh(a)

    def backward(self, grad):
        return grad * (1.0 - self.output)


class DetachedTanh(Function):
    """Right first derivative, but built from a constant: its own derivative is lost."""

    def forward(self, a):
        self.slope = 1.0 - self_xp(a).tanh(a) ** 2
        return self_xp(a).tanh(a)

    def backward(self, grad):
        return grad * mg.Tensor._make(self.slope, False)


def self_xp(a):
    from minigrad.backends import backend_of
    return backend_of(a).xp


# ---------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------
def test_wrong_tanh_backward_fails_and_the_report_names_input_and_index(device):
    # tanh(x) = 0.5 at x = atanh(0.5): there 1 - t and 1 - t^2 differ most (by t(1 - t)),
    # while at x = 0 and x = 8 both slopes agree (t = 0, t ~ 1)
    values = np.array([[0.0, 8.0, 8.0], [0.0, np.arctanh(0.5), 0.0]])
    x = mg.Tensor(values, dtype="float64", device=device, requires_grad=True)
    b = mg.Tensor(np.ones(3), dtype="float64", device=device, requires_grad=True)

    def fn(x, b):
        return (WrongTanh.apply(x) * b).sum()

    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(fn, x, b)
    report = str(info.value)
    assert "FAIL" in report
    lines = report.splitlines()
    bad = [ln for ln in lines if ln.strip().startswith("input 0")]
    good = [ln for ln in lines if ln.strip().startswith("input 1")]
    assert bad and "FAIL" in bad[0] and "worst at (1, 1)" in bad[0], report
    assert good and "ok" in good[0], report
    m = re.search(r"analytic ([-+0-9.e]+) vs numeric ([-+0-9.e]+)", bad[0])
    assert m, report
    analytic, numeric = float(m.group(1)), float(m.group(2))
    # both carry gradcheck's random output weight; their ratio is (1 - t) / (1 - t^2)
    assert analytic / numeric == pytest.approx(0.5 / 0.75, rel=1e-6)

    result = mg.gradcheck(fn, x, b, raise_exception=False)
    assert not result.passed and result.inputs[0].worst_index == (1, 1)
    assert not result.inputs[0].passed and result.inputs[1].passed


def test_wrong_tanh_backward_fails_in_fast_mode(device):
    x = mg.Tensor(np.linspace(-2, 2, 12).reshape(3, 4), dtype="float64", device=device,
                  requires_grad=True)
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(WrongTanh.apply, x, fast=True)
    mg.gradcheck(mg.tanh, x, fast=True)  # the right one passes in the same setting


def test_the_correct_tanh_passes_where_the_wrong_one_failed(device):
    x = mg.Tensor(np.linspace(-2, 2, 6), dtype="float64", device=device, requires_grad=True)
    assert mg.gradcheck(mg.tanh, x).passed
    assert mg.gradcheck(mg.tanh, x).max_rel_error < 1e-6


def test_a_silly_eps_fails_on_a_cubic(device):
    """For x^3 the central difference is exactly 3x^2 + eps^2: with eps = 0.1 the
    error 0.01 is far above atol + rtol |3x^2|."""
    x = mg.Tensor([0.5, 1.0, -0.7], dtype="float64", device=device, requires_grad=True)
    cube = lambda t: (t ** 3).sum()  # noqa: E731
    with pytest.raises(mg.GradcheckError, match="eps=0.1"):
        mg.gradcheck(cube, x, eps=1e-1)
    result = mg.gradcheck(cube, x, eps=1e-1, raise_exception=False)
    worst = result.inputs[0]
    # the error eps^2 is the same everywhere, so the smallest slope 3x^2 (x = 0.5) is worst;
    # numeric / analytic = (3x^2 + eps^2) / 3x^2 whatever gradcheck's output weight is
    assert worst.worst_index == (0,)
    assert worst.numeric / worst.analytic == pytest.approx(1 + 0.01 / 0.75, rel=1e-6)
    assert mg.gradcheck(cube, x).passed  # the default eps is fine


def test_float32_inputs_are_refused(device):
    x = mg.Tensor([1.0, 2.0], dtype="float32", device=device, requires_grad=True)
    with pytest.raises(mg.DTypeError, match="float64"):
        mg.gradcheck(mg.tanh, x)
    with pytest.raises(mg.DTypeError, match="float64"):
        mg.gradgradcheck(mg.tanh, x)
    # insisting works, with a tolerance that float32 round-off can meet
    assert mg.gradcheck(mg.tanh, x, allow_float32=True, eps=1e-2, atol=1e-2, rtol=1e-2).passed


def test_gradcheck_needs_an_input_that_requires_grad(device):
    x = mg.Tensor([1.0], dtype="float64", device=device)
    with pytest.raises(ValueError, match="requires_grad"):
        mg.gradcheck(mg.tanh, x)


def test_gradcheck_catches_a_function_that_modifies_its_input(device):
    def sneaky(t):
        t.data[...] = t.data * 1.5  # behind autograd's back
        return t * 2.0
    x = mg.Tensor([1.0, 2.0], dtype="float64", device=device, requires_grad=True)
    with pytest.raises(mg.GradcheckError, match="modified input 0"):
        mg.gradcheck(sneaky, x)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable(device):
    x = mg.Tensor(np.linspace(-1.5, 1.5, 5), dtype="float64", device=device, requires_grad=True)
    assert mg.gradcheck(DetachedTanh.apply, x).passed          # first derivative right
    with pytest.raises(mg.GradcheckError, match="second order"):
        mg.gradgradcheck(DetachedTanh.apply, x)                 # second derivative lost
    assert mg.gradgradcheck(mg.tanh, x).passed


def test_gradgradcheck_catches_a_wrong_second_derivative_formula(device):
    class SquareExtraTerm(Function):
        """out = a^2. Backward returns 2 a g + 5 g (a - a0), where a0 is the forward
        input saved as a constant: the extra term is zero (first derivative right)
        but its derivative, 5 g, is not (second derivative 2 + 5 instead of 2)."""

        def forward(self, a):
            self.a0 = a.copy()
            return a * a

        def backward(self, grad):
            (a,) = self.inputs
            a0 = mg.Tensor._make(self.a0, False)
            return grad * 2.0 * a + grad * (a - a0) * 5.0

    z = mg.Tensor([0.3, -1.1], dtype="float64", device=device, requires_grad=True)
    assert mg.gradcheck(SquareExtraTerm.apply, z).passed
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(SquareExtraTerm.apply, z)
    assert mg.gradgradcheck(lambda t: t * t, z).passed


def test_gradcheck_of_a_constant_function_passes_and_of_a_detached_one_fails(device):
    x = mg.Tensor([1.0, 2.0], dtype="float64", device=device, requires_grad=True)
    assert mg.gradcheck(lambda t: t * 0.0, x).passed
    # the derivative of a linear op is a constant: its second derivative is zero
    assert mg.gradgradcheck(lambda t: t * 3.0 + 1.0, x).passed
    with pytest.raises(mg.GradcheckError):   # and zero is checked, not assumed
        mg.gradcheck(lambda t: (t * 3.0).detach() + t * 0.0, x)
    with pytest.raises(mg.GradcheckError):  # depends on x, but the graph was cut
        mg.gradcheck(lambda t: t.detach() * 3.0 + t, x)


# ---------------------------------------------------------------------------
# the harness itself
# ---------------------------------------------------------------------------
def test_check_op_passes_a_correct_op(device):
    check_op(lambda a, b: a * b, np.array([1.0, -2.0]), np.array([3.0, 0.5]), device=device,
             ref=lambda a, b: a * b, gradgrad=True)


def test_check_op_catches_a_wrong_forward_reference(device):
    with pytest.raises(AssertionError, match="forward output 0"):
        check_op(mg.exp, np.array([0.0, 1.0]), device=device, ref=lambda a: a + 1.0)


def test_check_op_catches_a_wrong_backward(device):
    with pytest.raises(mg.GradcheckError):
        check_op(WrongTanh.apply, np.array([0.3, -0.4]), device=device, ref=np.tanh)


def test_check_op_catches_a_forward_that_mutates_its_input(device):
    class ScaleInPlace(Function):
        def forward(self, a):
            a *= 2.0
            return a + 0.0

        def backward(self, grad):
            return grad * 2.0

    with pytest.raises(AssertionError, match="modified input 0"):
        check_op(ScaleInPlace.apply, np.array([1.0, 2.0]), device=device)


def test_check_op_catches_a_backward_that_mutates_the_upstream_gradient(device):
    class Double(Function):
        def forward(self, a):
            return a * 2.0

        def backward(self, grad):
            grad.data *= 2.0
            return grad

    with pytest.raises(AssertionError, match="upstream gradient"):
        check_op(Double.apply, np.array([1.0, 2.0]), device=device, ref=lambda a: 2 * a)


def test_check_op_catches_aliased_gradients(device, monkeypatch):
    """``x + y`` hands the *same* gradient tensor to both inputs; the engine copies
    it. With that copy removed, the harness must notice the shared memory."""
    def naive_accumulate(t, g, create_graph, handed_out):
        t.grad = g if t.grad is None else t.grad + g
    monkeypatch.setattr(autograd, "_accumulate_grad", naive_accumulate)
    with pytest.raises(AssertionError, match="shares memory"):
        check_op(lambda a, b: (a + b) * 1.0, np.array([1.0, 2.0]), np.array([3.0, 4.0]),
                 device=device, ref=lambda a, b: a + b)


def test_check_op_catches_a_graph_that_is_not_freed(device, monkeypatch):
    monkeypatch.setattr(Function, "release", lambda self: None)
    with pytest.raises(AssertionError, match="not freed"):
        check_op(mg.tanh, np.array([0.1, 0.2]), device=device, ref=np.tanh)


def test_check_op_catches_silent_float64_promotion(device):
    class Promote(Function):
        def forward(self, a):
            return a.astype("float64") * 2.0

        def backward(self, grad):
            return (grad * 2.0).astype(self.inputs[0].dtype)

    with pytest.raises(AssertionError, match="float32 inputs gave a float64"):
        check_op(Promote.apply, np.array([1.0, 2.0]), device=device, ref=lambda a: 2 * a)


def test_check_op_catches_an_imprecise_float32_path(device):
    class Sloppy(Function):
        """Right in float64, but rounds through float16 in float32."""

        def forward(self, a):
            return a if a.dtype == np.float64 else a.astype("float16").astype(a.dtype)

        def backward(self, grad):
            return grad

    with pytest.raises(AssertionError, match="float32 forward"):
        check_op(Sloppy.apply, np.array([1000.3, 3.0007]), device=device, ref=lambda a: a)


def test_engine_rejects_a_gradient_of_the_wrong_shape(device):
    class BadShape(Function):
        def forward(self, a):
            return a.sum()

        def backward(self, grad):
            return grad  # forgot to broadcast back to a's shape

    x = mg.Tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(mg.GraphError, match=r"BadShape.backward.*shape \(\).*\(2,\)"):
        BadShape.apply(x).backward()
    assert host(x).tolist() == [1.0, 2.0]
