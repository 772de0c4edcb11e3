"""Lesson 11 (the same code on a GPU): exercises, checkers and reference solutions."""
from __future__ import annotations

import numpy as np

from exercises import register


# ---------------------------------------------------------------------------
# 11.1  a device-agnostic softplus
# ---------------------------------------------------------------------------
def _softplus_reference():
    import minigrad as mg
    from minigrad.backends import backend_of

    class Softplus(mg.Function):
        """log(1 + e^x), computed as logaddexp(0, x) (no overflow); derivative sigmoid(x)."""

        def forward(self, a):
            xp = backend_of(a).xp
            return xp.logaddexp(0.0, a)

        def backward(self, grad):
            (x,) = self.inputs
            return grad * x.sigmoid()

    return Softplus


def _softplus_numpy_habit():
    import minigrad as mg

    class Softplus(mg.Function):
        def forward(self, a):
            return np.log1p(np.exp(np.asarray(a)))       # a host copy: refused on fake/CuPy

        def backward(self, grad):
            (x,) = self.inputs
            return grad * x.sigmoid()

    return Softplus


def _softplus_wrong_derivative():
    import minigrad as mg
    from minigrad.backends import backend_of

    class Softplus(mg.Function):
        def forward(self, a):
            return backend_of(a).xp.logaddexp(0.0, a)

        def backward(self, grad):
            (x,) = self.inputs
            return grad * x.exp()                          # d/dx e^x, not d/dx log(1 + e^x)

    return Softplus


def _check_softplus(answer) -> bool:
    import minigrad as mg
    values = np.array([-3.0, -0.4, 0.0, 0.7, 2.5])
    expected = np.log1p(np.exp(values))                    # plain NumPy, on the host
    for device in ("cpu", "fake"):
        x = mg.Tensor(values, dtype="float64", device=device, requires_grad=True)
        out = answer.apply(x)
        if out.device != x.device or not np.allclose(out.numpy(), expected, rtol=1e-12):
            return False
        if not mg.gradcheck(answer.apply, x, raise_exception=False).passed:
            return False
    return True


register(
    "11.1",
    "Write Softplus(mg.Function), log(1 + e^x), with xp = backend_of(a).xp, so that it runs "
    "and passes gradcheck on 'cpu' and 'fake'.",
    _check_softplus,
    hint="forward: xp = backend_of(a).xp, then xp.logaddexp(0.0, a) (or xp.log1p(xp.exp(a))); "
         "backward: the derivative of softplus is the sigmoid, grad * x.sigmoid().",
    reference=_softplus_reference,
    wrong_answers=[_softplus_numpy_habit, _softplus_wrong_derivative],
    solution_text="forward: return backend_of(a).xp.logaddexp(0.0, a)\n"
                  "backward: (x,) = self.inputs; return grad * x.sigmoid()",
)


# ---------------------------------------------------------------------------
# 11.2  counting the ops of a step
# ---------------------------------------------------------------------------
def _count_ops(loss) -> int:
    seen, stack, ops = set(), [loss], 0
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t.grad_fn is not None:
            ops += 1
            stack.extend(t.grad_fn.inputs or ())
    return ops


def _count_all_tensors(loss) -> int:                       # leaves counted too
    seen, stack = set(), [loss]
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.add(id(t))
            if t.grad_fn is not None:
                stack.extend(t.grad_fn.inputs or ())
    return len(seen)


def _count_with_repeats(loss) -> int:                      # shared nodes counted twice
    if loss.grad_fn is None:
        return 0
    return 1 + sum(_count_with_repeats(t) for t in (loss.grad_fn.inputs or ()))


def _check_count_ops(answer) -> bool:
    import minigrad as mg
    x = mg.Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    y = x.tanh()
    graphs = [
        (x * x).sum(),                              # mul, sum: 2 ops (x, used twice, is a leaf)
        (y * y + y).sum(),                          # tanh, mul, add, sum: 4 ops (tanh shared)
    ]
    expected = [2, 4]
    return all(int(answer(g)) == n for g, n in zip(graphs, expected))


register(
    "11.2",
    "Write count_ops(loss): the number of op nodes (tensors with a grad_fn) in loss's graph, "
    "each counted once.",
    _check_count_ops,
    hint="Walk from loss through t.grad_fn.inputs with a stack and a set of visited id(t); "
         "count a tensor only if t.grad_fn is not None (leaves are not ops), and only once.",
    reference=lambda: _count_ops,
    wrong_answers=[lambda: _count_all_tensors, lambda: _count_with_repeats],
    solution_text="def count_ops(loss):\n"
                  "    seen, stack, ops = set(), [loss], 0\n"
                  "    while stack:\n"
                  "        t = stack.pop()\n"
                  "        if id(t) in seen: continue\n"
                  "        seen.add(id(t))\n"
                  "        if t.grad_fn is not None:\n"
                  "            ops += 1\n"
                  "            stack.extend(t.grad_fn.inputs)\n"
                  "    return ops",
)


# ---------------------------------------------------------------------------
# 11.3  reading a loss on any device
# ---------------------------------------------------------------------------
def _check_loss_value(answer) -> bool:
    import minigrad as mg
    for device in ("cpu", "fake"):
        loss = (mg.Tensor([0.25, 1.5], dtype="float64", device=device) ** 2).mean()
        value = answer(loss)
        if type(value) is not float or value != 1.15625:   # (0.0625 + 2.25) / 2
            return False
    return True


register(
    "11.3",
    "Write loss_value(loss) returning the loss as a Python float on 'cpu' and 'fake' (and "
    "CuPy) without an implicit host conversion.",
    _check_loss_value,
    hint="A tensor has an explicit, sanctioned way to hand a scalar to the host: loss.item().",
    reference=lambda: (lambda loss: loss.item()),
    wrong_answers=[lambda: (lambda loss: float(np.asarray(loss.data))),   # refused on fake
                   lambda: (lambda loss: loss.data),                      # not a float
                   lambda: (lambda loss: loss.numpy())],                  # an array, not a float
    solution_text="def loss_value(loss):\n    return loss.item()   # one explicit copy per call",
)
