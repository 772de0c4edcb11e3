"""Linear (F01, F02), activations (F06-F09) and MLP (F04, F05).

Two independent witnesses for each gradient: central differences
(``gradcheck_module``) and, for Linear, a backward pass derived by hand in
plain NumPy (no autograd at all).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layers
import minigrad as mg
from layers_util import host, rand, tensor


# ---------------------------------------------------------------------------
# Linear
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(device, bias):
    rng = np.random.default_rng(0)
    lin = layers.Linear(3, 4, bias=bias, device=device).double()
    x = rand(rng, 2, 5, 3, device=device, grad=True)        # extra leading axis broadcasts
    assert layers.gradcheck_module(lin, x).passed


def numpy_linear_forward_backward(x, W, b, g):
    """Hand-derived: y = x W^T + b;  dW = g^T x (summed over the batch), db = sum g, dx = g W."""
    y = x @ W.T + b
    dW = g.T @ x
    db = g.sum(axis=0)
    dx = g @ W
    return y, dW, db, dx


def test_linear_matches_hand_derived_numpy_backward(device):
    rng = np.random.default_rng(1)
    lin = layers.Linear(5, 3, device=device).double()
    x_np, g_np = rng.standard_normal((7, 5)), rng.standard_normal((7, 3))
    x = tensor(x_np, device, grad=True)
    y = lin(x)
    y.backward(tensor(g_np, device))
    y_ref, dW, db, dx = numpy_linear_forward_backward(x_np, host(lin.weight), host(lin.bias), g_np)
    np.testing.assert_allclose(host(y), y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(lin.weight.grad), dW, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(lin.bias.grad), db, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(x.grad), dx, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(lead=st.lists(st.integers(1, 3), max_size=3), n_in=st.integers(1, 5),
       n_out=st.integers(1, 5), bias=st.booleans())
def test_linear_any_leading_shape(lead, n_in, n_out, bias):
    lin = layers.Linear(n_in, n_out, bias=bias).double()
    x = np.random.default_rng(len(lead)).standard_normal((*lead, n_in))
    want = x @ host(lin.weight).T + (host(lin.bias) if bias else 0.0)
    y = lin(mg.Tensor(x))
    assert y.shape == (*lead, n_out)
    np.testing.assert_allclose(host(y), want, rtol=1e-12, atol=1e-12)


def test_linear_is_the_dense_layer_of_the_worked_example_E01():
    """E01: X = [1, 2], W = [[1,2],[3,4],[5,6]], b = 1, ReLU -> [6, 12, 18] (not [6, 11, 17])."""
    lin = layers.Linear(2, 3)
    lin.load_state_dict({"weight": np.array([[1.0, 2], [3, 4], [5, 6]]), "bias": np.ones(3)})
    h = layers.ReLU()(lin(mg.Tensor([1.0, 2.0])))
    assert host(h).tolist() == [6.0, 12.0, 18.0]


def test_linear_shape_error_is_readable():
    with pytest.raises(mg.ShapeError, match="last dimension is 3"):
        layers.Linear(3, 2)(mg.randn(4, 5))


def test_linear_float32_end_to_end(device):
    lin = layers.Linear(4, 2, device=device)
    y = lin(tensor(np.ones((3, 4)), device, dtype="float32"))
    y.sum().backward()
    assert y.dtype == np.float32 and lin.weight.grad.dtype == np.float32


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------
ACTIVATIONS = {
    "ReLU": (layers.ReLU(), lambda x: np.maximum(x, 0)),
    "Sigmoid": (layers.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    "Tanh": (layers.Tanh(), np.tanh),
    "GELU": (layers.GELU(),
             lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    "LeakyReLU": (layers.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "Softmax": (layers.Softmax(axis=0),
                lambda x: np.exp(x) / np.exp(x).sum(axis=0, keepdims=True)),
    "Identity": (layers.Identity(), lambda x: x),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_modules(name, device):
    module, reference = ACTIVATIONS[name]
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((4, 3))
    x_np[np.abs(x_np) < 0.05] = 0.3            # keep central differences off the kinks
    x = tensor(x_np, device, grad=True)
    np.testing.assert_allclose(host(module(x)), reference(x_np), rtol=1e-7, atol=1e-10)
    if name != "Identity":
        assert mg.gradcheck(module, x).passed


def test_activation_lookup():
    assert isinstance(layers.get_activation("GELU"), layers.GELU)
    assert isinstance(layers.get_activation(None), layers.Identity)
    relu = layers.ReLU()
    assert layers.get_activation(relu) is relu
    with pytest.raises(ValueError, match="unknown activation"):
        layers.get_activation("swish")


# ---------------------------------------------------------------------------
# MLP
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "gelu"])
def test_mlp_gradcheck(activation, device):
    rng = np.random.default_rng(3)
    mlp = layers.MLP([3, 4, 4, 2], activation=activation, device=device).double()
    x = rand(rng, 5, 3, device=device, grad=True)
    assert layers.gradcheck_module(mlp, x).passed


def test_mlp_is_formula_F05_written_out():
    """F05: a2 = sigma(W1 x + b1), a3 = sigma(W2 a2 + b2) for a two-layer sigmoid net."""
    rng = np.random.default_rng(4)
    mlp = layers.MLP([3, 4, 2], activation="sigmoid", output_activation="sigmoid").double()
    x = rng.standard_normal((6, 3))
    s = mlp.state_dict()
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    a2 = sig(x @ s["0.weight"].T + s["0.bias"])
    a3 = sig(a2 @ s["2.weight"].T + s["2.bias"])
    np.testing.assert_allclose(host(mlp(mg.Tensor(x))), a3, rtol=1e-12)


def test_mlp_structure_and_dropout_placement():
    mlp = layers.MLP([4, 5, 6, 2], activation="tanh", dropout=0.25)
    kinds = [type(m).__name__ for m in mlp]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert mlp.sizes == [4, 5, 6, 2]
    mlp.eval()
    x = mg.randn(3, 4)
    assert np.array_equal(host(mlp(x)), host(mlp(x)))   # eval mode is deterministic
    with pytest.raises(ValueError):
        layers.MLP([4])
