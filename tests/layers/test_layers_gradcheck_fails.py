"""The layer gradient checks can fail: planted mistakes must be caught."""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from minigrad.autograd import Function
from layers_util import rand


class WrongScale(Function):
    """out = 2a, but backward claims 3g: a planted bug."""

    def forward(self, a):
        return a * 2.0

    def backward(self, grad):
        return grad * 3.0


class BuggyLinear(layers.Linear):
    def forward(self, x):
        return x @ WrongScale.apply(self.weight).mT + self.bias


class DetachedBias(layers.Linear):
    def forward(self, x):
        return x @ self.weight.mT + self.bias.detach()   # the bias never gets a gradient


@pytest.mark.parametrize("fast", [False, True])
def test_a_wrong_parameter_gradient_is_caught(fast):
    x = rand(np.random.default_rng(0), 3, 2, grad=True)
    with pytest.raises(mg.GradcheckError, match="FAIL"):
        layers.gradcheck_module(BuggyLinear(2, 2).double(), x, fast=fast)
    with pytest.raises(mg.GradcheckError):
        layers.gradcheck_module(DetachedBias(2, 2).double(), x, fast=fast)


def test_full_mode_reports_every_parameter_and_input():
    lin = layers.Linear(2, 3).double()
    x = rand(np.random.default_rng(1), 4, 2, grad=True)
    result = layers.gradcheck_module(lin, x)
    assert [r.shape for r in result.inputs] == [(3, 2), (3,), (4, 2)]
    assert result.max_rel_error < 1e-6
    lin.requires_grad_(False)                      # frozen parameters are not checked
    assert len(layers.gradcheck_module(lin, x).inputs) == 1


def test_float32_layers_are_refused_by_the_checker():
    with pytest.raises(mg.DTypeError, match="float64"):
        layers.gradcheck_module(layers.Linear(2, 2), mg.randn(1, 2))
