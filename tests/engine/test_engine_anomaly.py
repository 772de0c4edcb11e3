"""Anomaly mode (issue 11): ``detect_anomaly()`` / ``set_detect_anomaly()``.

Forward: the first op producing NaN/Inf from finite inputs raises, naming the
op, its inputs and the line of this file that called it. Backward: the first
op whose backward returns NaN/Inf raises, naming the op and this file's line
that created it. Without the mode nothing is checked (NaN flows on silently).
"""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import layers
from minigrad import AnomalyError, MinigradError


@pytest.fixture(autouse=True)
def _quiet_numpy():
    """These tests make NaN/Inf on purpose: NumPy's warnings are not the subject."""
    with np.errstate(all="ignore"):
        yield


def _line_of(marker: str) -> int:
    with open(__file__) as f:
        for k, line in enumerate(f, 1):
            if marker in line and "_line_of" not in line:
                return k
    raise AssertionError(marker)


def test_anomaly_error_is_a_minigrad_error():
    assert issubclass(AnomalyError, MinigradError)


def test_forward_names_the_first_bad_op_its_inputs_and_the_users_line(device):
    x = mg.Tensor(np.array([[1.0, 0.0], [2.0, 3.0]]), device=device, requires_grad=True)
    with mg.detect_anomaly():
        y = x * 2.0                      # finite
        with pytest.raises(AnomalyError) as info:
            (y - 2.0).log()              # MARK-forward: log(0) = -inf
        msg = str(info.value)
    assert "Log" in msg and "forward" in msg
    assert "shape (2, 2)" in msg and "float64" in msg
    assert f"{__file__}:{_line_of('MARK-forward')}" in msg
    assert "log()" in msg               # the source line itself


def test_forward_blames_the_first_op_not_the_ones_after_it(device):
    x = mg.Tensor(np.array([0.0, 1.0]), device=device)
    with mg.detect_anomaly():
        with pytest.raises(AnomalyError, match="Pow|Div|Mul") as info:
            (1.0 / x).exp()             # the division makes inf first; exp(inf) is not blamed
    assert "Exp" not in str(info.value).split("\n")[0]


def test_nan_inputs_are_not_blamed_again(device):
    x = mg.Tensor(np.array([np.nan, 1.0]), device=device)
    with mg.detect_anomaly():
        y = x * 2.0                      # NaN in, NaN out: not this op's doing
    assert np.isnan(y.numpy()[0])


def test_backward_names_the_op_and_where_its_forward_was_created(device):
    x = mg.Tensor(np.array([0.0, 4.0]), device=device, requires_grad=True)
    with mg.detect_anomaly():
        y = x.sqrt()                     # MARK-backward: forward finite, d/dx at 0 is inf
        loss = y.sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    msg = str(info.value)
    assert "Sqrt" in msg and "backward" in msg
    assert f"{__file__}:{_line_of('MARK-backward')}" in msg
    assert "input 0" in msg and "shape (2,)" in msg


def test_backward_inside_a_layer_points_at_the_users_call(device):
    """The creation site is the first frame outside minigrad/layers/optim."""
    lin = layers.Linear(2, 2, device=device).double()
    x = mg.Tensor(np.ones((1, 2)), device=device, requires_grad=True)
    with mg.detect_anomaly():
        h = lin(x)                       # MARK-layer
        with pytest.raises(AnomalyError) as info:
            (h - h.detach()).sqrt().sum().backward()   # sqrt at 0: infinite slope
    assert "Sqrt" in str(info.value)
    # the Linear's own node was created in layers/, but is reported at this line
    with mg.detect_anomaly():
        out = lin(x)                     # MARK-layer2
    assert f"{__file__}:{_line_of('MARK-layer2')}" in out.grad_fn._anomaly_site


def test_without_anomaly_mode_nan_flows_silently(device):
    x = mg.Tensor(np.array([0.0, 4.0]), device=device, requires_grad=True)
    y = x.sqrt().sum()
    y.backward()
    assert np.isinf(x.grad.numpy()[0])
    assert not hasattr(y.grad_fn, "_anomaly_site") if y.grad_fn is not None else True


def test_creation_site_is_recorded_only_in_anomaly_mode():
    x = mg.Tensor([1.0], requires_grad=True)
    off = x * 2.0
    with mg.detect_anomaly():
        on = x * 2.0
    assert "_anomaly_site" not in off.grad_fn.__dict__
    assert __file__ in on.grad_fn._anomaly_site


def test_set_detect_anomaly_as_call_and_context():
    assert not mg.is_anomaly_enabled()
    mg.set_detect_anomaly(True)
    try:
        assert mg.is_anomaly_enabled()
        with pytest.raises(AnomalyError):
            mg.Tensor([0.0]).log()
    finally:
        mg.set_detect_anomaly(False)
    assert not mg.is_anomaly_enabled()
    with mg.set_detect_anomaly(True):
        assert mg.is_anomaly_enabled()
    assert not mg.is_anomaly_enabled()


def test_a_nan_seed_gradient_is_reported_as_such():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with mg.detect_anomaly():
        y = x * 3.0
        with pytest.raises(AnomalyError, match="already holds"):
            y.backward(gradient=mg.Tensor([np.nan, 1.0]))


def test_finite_training_step_passes_and_gives_the_same_gradients(device):
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((4, 3))
    grads = []
    for on in (False, True):
        x = mg.Tensor(xs, device=device, requires_grad=True)
        with mg.set_detect_anomaly(on):
            loss = (x.tanh() @ x.mT).softmax(axis=-1).log().sum()
            loss.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
