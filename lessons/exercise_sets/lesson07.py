"""Lesson 07 (gradient checking): the exercises, their checkers and reference solutions."""
from __future__ import annotations

import functools

import numpy as np

from exercises import register

# ---------------------------------------------------------------------------
# 07.1  the V for exp on [5, 6]
# ---------------------------------------------------------------------------
HS = np.logspace(-12, 0, 97)


def _central_errors(f, df, x, hs=HS):
    """Median relative error of the central difference of f at x, for each step in hs."""
    exact = df(x)
    return np.array([np.median(np.abs((f(x + h) - f(x - h)) / (2 * h) - exact) / np.abs(exact))
                     for h in hs])


@functools.lru_cache(maxsize=None)
def _best_h_exp() -> float:
    x = np.random.default_rng(7).uniform(5, 6, size=200)
    err = _central_errors(np.exp, np.exp, x)
    return float(HS[int(np.argmin(err))])


def _check_best_h(answer) -> bool:
    h = float(answer)
    return _best_h_exp() / 4 <= h <= _best_h_exp() * 4


register(
    "07.1",
    "Measure the float64 central-difference error of f(x) = exp(x) at 200 points of [5, 6] "
    "over steps h = np.logspace(-12, 0, 97) (median relative error, as in section 2) and "
    "give the best step h as a float.",
    _check_best_h,
    hint="Relative to |f'| = |f| the roundoff term u|f|/h and the truncation term h^2|f'''|/6 "
         "keep their balance point: exp''' = exp. Measure it; do not reuse the forward rule.",
    reference=_best_h_exp,
    wrong_answers=[lambda: 1e-8,            # the forward difference's sqrt(u)
                   lambda: 5e-3,            # float32's step
                   lambda: 1e-12],
    solution_text="The function values are ~150-400 now, so the roundoff branch moves up in "
                  "absolute terms, but so does the derivative: measured relative to f' = f, the "
                  "V keeps its shape and the best step stays near u^(1/3): about 1e-5 (5.6e-6 for the lesson's f).",
)


# ---------------------------------------------------------------------------
# 07.2  the complex-step derivative
# ---------------------------------------------------------------------------
def _f_lesson(z):
    return 1 / (1 + np.exp(-z * np.tanh(z)))


def _df_lesson(x):
    s = _f_lesson(x)
    t = np.tanh(x)
    return s * (1 - s) * (t + x * (1 - t * t))


def _check_complex_step(answer) -> bool:
    x = np.linspace(-2, 2, 11) + 0.013
    ok = np.allclose(answer(_f_lesson, x, 1e-20), _df_lesson(x), rtol=1e-13, atol=1e-15)
    y = np.linspace(0.1, 3, 7)
    return bool(ok and np.allclose(answer(np.sin, y, 1e-20), np.cos(y), rtol=1e-13, atol=1e-15))


def _complex_step(f, x, h=1e-20):
    return np.imag(f(np.asarray(x, dtype=complex) + 1j * h)) / h


register(
    "07.2",
    "Write complex_step(f, x, h) returning Im f(x + i h) / h (a NumPy array), and check it "
    "against `exact` for f(x) = sigmoid(x tanh x) with h = 1e-20.",
    _check_complex_step,
    hint="Evaluate f at a complex argument x + 1j*h and keep the imaginary part, divided by h. "
         "No subtraction: that is why h can be 1e-20.",
    reference=lambda: _complex_step,
    wrong_answers=[lambda: (lambda f, x, h: (f(x + h) - f(x - h)) / (2 * h)),    # all zeros
                   lambda: (lambda f, x, h: np.real(f(x + 1j * h)) / h),
                   lambda: (lambda f, x, h: (f(x + 1e-6) - f(x - 1e-6)) / 2e-6)],  # ~1e-10 off
    solution_text="def complex_step(f, x, h=1e-20):\n"
                  "    return np.imag(f(np.asarray(x, dtype=complex) + 1j * h)) / h\n"
                  "It agrees with backward() to ~1e-16. gradcheck cannot use it directly: "
                  "minigrad's tensors are real (float32/float64), and ops such as relu, max or "
                  "abs have no complex-analytic extension.",
)


# ---------------------------------------------------------------------------
# 07.3  a planted broadcasting bug
# ---------------------------------------------------------------------------
def _add_with_correct_backward():
    import minigrad as mg

    def unbroadcast(grad, shape):
        while grad.ndim > len(shape):
            grad = grad.sum(axis=0)
        for axis, n in enumerate(shape):
            if n == 1 and grad.shape[axis] != 1:
                grad = grad.sum(axis=axis, keepdims=True)
        return grad

    class AddBroadcast(mg.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, grad):
            a, b = self.inputs
            return unbroadcast(grad, a.shape), unbroadcast(grad, b.shape)

    return AddBroadcast


def _add_with_the_bug():
    import minigrad as mg

    class AddForgotToSum(mg.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, grad):
            return grad, grad                      # b's gradient not summed: the bug

    return AddForgotToSum


def _add_sums_everything():
    import minigrad as mg

    class AddSumsAll(mg.Function):
        def forward(self, a, b):
            return a + b

        def backward(self, grad):
            a, b = self.inputs
            return grad, grad.sum(axis=0, keepdims=True).reshape(b.shape) * 0 + grad.sum()

    return AddSumsAll


def _check_add(answer) -> bool:
    import minigrad as mg
    rng = np.random.default_rng(3)
    for sa, sb in [((3, 4), (1, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1))]:
        a = mg.Tensor(rng.standard_normal(sa), requires_grad=True)
        b = mg.Tensor(rng.standard_normal(sb), requires_grad=True)
        out = answer.apply(a, b)
        if out.shape != np.broadcast_shapes(sa, sb):
            return False
        if not mg.gradcheck(answer.apply, a, b, raise_exception=False).passed:
            return False
    return True


register(
    "07.3",
    "Write a Function computing a + b with broadcasting whose backward is right (first plant "
    "the bug: return grad for b unsummed, and see what gradcheck says for a (3, 4) and "
    "b (1, 4)). Give the corrected class.",
    _check_add,
    hint="b's gradient must have b's shape: sum grad over the axes that broadcasting added "
         "(leading axes, and axes where b has size 1), with keepdims for the latter.",
    reference=_add_with_correct_backward,
    wrong_answers=[_add_with_the_bug, _add_sums_everything],
    solution_text="With the bug, b's gradient has shape (3, 4) instead of (1, 4): minigrad "
                  "refuses it (a ShapeError naming the op) or gradcheck reports a mismatch. "
                  "The fix sums over the broadcast axes (see the reference class).",
)

