"""Clear errors for bad input, naming what the user called (issue 11, "Clear errors").

Each test asserts the error's class and that its message names the op or
layer and the shapes/dtypes/devices involved.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import layers
import minigrad as mg
import optim
from helpers import examples, host
from minigrad._checks import check_mask_device


# -- Tensor(...) --------------------------------------------------------------
@pytest.mark.parametrize("data,match", [
    ("abc", "cannot make a tensor from str"), (None, "cannot make a tensor from NoneType"),
    ({"a": 1}, "cannot make a tensor from dict"),
    (np.array([object()]), "cannot hold Python objects"),
    ([1 + 2j], "complex data .* not supported: minigrad is real-valued"),
    (np.ones(2, np.complex64), "complex data"), (np.array(["x"]), "cannot hold strings"),
])
def test_tensor_refuses_non_numbers(data, match):
    with pytest.raises(mg.DTypeError, match="Tensor: " + match):
        mg.Tensor(data)


def test_tensor_refuses_ragged_lists_and_complex_dtype():
    with pytest.raises(mg.ShapeError, match=r"Tensor: the nested lists have different lengths"):
        mg.Tensor([[1, 2], [3]])
    with pytest.raises(mg.DTypeError, match="complex64"):
        mg.Tensor([1.0], dtype="complex64")
    assert mg.Tensor([True, False]).dtype == np.bool_       # numbers of every real kind
    assert mg.Tensor([1, 2]).dtype == np.int64


# -- layers given lists and arrays; one dtype rule for all layers ---------------
def test_layers_accept_lists_and_arrays_of_the_right_dtype(device):
    lin = layers.Linear(4, 3, device=device)
    x = np.arange(8.0).reshape(2, 4)
    ref = host(lin(mg.Tensor(x, dtype="float32", device=device)))
    np.testing.assert_allclose(host(lin(x.tolist())), ref)
    np.testing.assert_allclose(host(lin(x.astype(np.float32))), ref)
    assert layers.Embedding(5, 2, device=device)([1, 4]).shape == (2, 2)


@pytest.mark.parametrize("make", [lambda: layers.Linear(3, 2), lambda: layers.LSTM(3, 2),
                                  lambda: layers.RNN(3, 2), lambda: layers.LayerNorm(3)])
def test_one_dtype_rule_for_every_layer(make):
    layer = make()
    name = type(layer).__name__
    with pytest.raises(mg.DTypeError, match=f"{name}: input is float64 but the layer's "
                                            r"parameters are float32.*shape \(2, 4, 3\)"):
        layer(mg.Tensor(np.ones((2, 4, 3)), dtype="float64"))
    with pytest.raises(mg.DTypeError, match=f"{name}: input is float64"):
        layer(np.ones((2, 4, 3)))                                  # a float64 NumPy array
    if name != "LayerNorm":
        with pytest.raises(mg.DTypeError, match=f"{name}: input must be floating point, got "
                                                "dtype int64"):
            layer(mg.Tensor(np.ones((2, 4, 3), dtype=np.int64)))


# -- module parameter slots (PyTorch's rules) ------------------------------------
@pytest.mark.parametrize("value", [np.ones((2, 2)), 3, "w",
                                   mg.Tensor(np.ones((2, 2)), requires_grad=True)])
def test_parameter_slot_takes_only_parameters_or_none(value):
    lin = layers.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign \w+ to parameter 'weight' of Linear"):
        lin.weight = value
    assert isinstance(lin.weight, mg.Parameter) and len(list(lin.parameters())) == 2
    lin.weight = None                                   # declares it absent, as in PyTorch
    assert lin.weight is None and len(list(lin.parameters())) == 1
    with pytest.raises(TypeError, match="parameter 'weight' of Linear"):
        lin.weight = value                              # still a parameter slot
    lin.weight = mg.Parameter(np.ones((2, 2), np.float32))
    assert len(list(lin.parameters())) == 2
    lin.plain = mg.Tensor([1.0])                        # a new attribute: any value
    assert len(list(lin.parameters())) == 2


def test_register_parameter_validates():
    lin = layers.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign ndarray to parameter 'w' of Linear"):
        lin.register_parameter("w", np.ones(2))
    with pytest.raises(KeyError, match="Linear.register_parameter: the name must be non-empty"):
        lin.register_parameter("a.b", mg.Parameter(np.ones(2)))
    lin.register_parameter("extra", None)
    with pytest.raises(TypeError, match="parameter 'extra'"):
        lin.extra = np.ones(2)


# -- errors named after what the user called -----------------------------------
def test_errors_name_the_layer_or_op_not_an_internal_one(device):
    x = mg.randn(2, 4, device=device)
    with pytest.raises(mg.ShapeError, match=r"layer_norm: weight of shape \(3,\) does not fit "
                                            r"the input's 4 features"):
        mg.layer_norm(x, mg.ones(3, device=device))
    with pytest.raises(mg.DTypeError, match="layer_norm: input is float32 but weight is "
                                            "float64"):
        mg.layer_norm(x, mg.ones(4, dtype="float64", device=device))
    with pytest.raises(mg.ShapeError, match=r"layer_norm: the input has zero features "
                                            r"\(shape \(2, 0\)\)"):
        mg.layer_norm(mg.zeros(2, 0, device=device))
    with pytest.raises(mg.DTypeError, match="mse_loss: input is float32 but target is float64"):
        mg.mse_loss(x, mg.Tensor(np.ones((2, 4)), dtype="float64", device=device))
    mha = layers.MultiHeadAttention(8, 2, device=device)
    with pytest.raises(mg.ShapeError, match=r"MultiHeadAttention: query, key and value must "
                                            r"have the same batch size, got query \(2, 5, 8\), "
                                            r"key \(3, 5, 8\)"):
        mha(mg.randn(2, 5, 8, device=device), mg.randn(3, 5, 8, device=device),
            mg.randn(3, 5, 8, device=device))
    gpt = layers.GPT(vocab_size=10, d_model=8, num_heads=2, num_layers=1, max_len=8,
                     device=device)
    with pytest.raises(mg.ShapeError, match=r"GPT: the sequence is empty \(ids of shape "
                                            r"\(1, 0\)\)"):
        gpt(np.zeros((1, 0), dtype=np.int64))
    with pytest.raises(mg.DTypeError, match="gather: the index must hold integers, got "
                                            r"shape \(1, 1\), dtype float32"):
        mg.gather(x, 1, mg.Tensor([[0.5]], device=device))


# -- devices reported as devices -------------------------------------------------
def test_device_mismatches_are_device_errors():
    data = mg.Tensor([1.0, 2.0], device="fake")
    with pytest.raises(mg.DeviceError, match="where: the condition is on cpu but the values "
                                             "are on fake"):
        mg.where(mg.Tensor([True, False]), data, 0.0)
    with pytest.raises(mg.DeviceError, match="masked_softmax: the mask is on cpu but the input "
                                             "is on fake"):
        check_mask_device("masked_softmax", np.eye(2, dtype=bool), data)
    check_mask_device("masked_softmax", mg.Tensor([True, False], device="fake"), data)
    model = layers.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(mg.randn(4, 3)).sum().backward()
    opt.step()
    model.to("fake")
    model.zero_grad()
    model(mg.randn(4, 3, device="fake")).sum().backward()
    with pytest.raises(mg.DeviceError, match=r"SGD.step: parameter 0 \(.weight.\) of shape \(2, 3\) is on "
                                             "fake but its momentum_buffer is on cpu"):
        opt.step()


# -- axes and sizes ------------------------------------------------------------------
def test_axes_and_sizes_are_validated(device):
    v = mg.Tensor([1.0, 2.0], device=device)
    m = mg.Tensor(np.ones((2, 3)), device=device)
    with pytest.raises(mg.ShapeError, match="transpose: axis 5 is out of range"):
        v.transpose(0, 5)
    assert v.transpose(0, 0) is v and v.T.shape == (2,)
    with pytest.raises(mg.ShapeError, match=r"permute: axis -3 is out of range for a tensor "
                                            r"of shape \(2, 3\)"):
        m.permute(0, -3)
    for bad in (6.9, "6", True):
        with pytest.raises(mg.DTypeError, match="reshape: every dimension must be an integer"):
            mg.Tensor(np.ones(6), device=device).reshape(bad)
    with pytest.raises(mg.ShapeError, match="reshape: only one dimension can be -1"):
        m.reshape(-1, -1)
    with pytest.raises(mg.ShapeError, match=r"one_hot: ids must lie in \[0, 3\).*\[0, 5\]"):
        mg.one_hot([0, 5], 3)
    with pytest.raises(mg.ShapeError, match=r"one_hot: ids must lie in \[0, 3\).*\[-1, -1\]"):
        mg.one_hot([-1], 3)
    with pytest.raises(mg.DTypeError, match="one_hot: ids must be integers"):
        mg.one_hot(mg.Tensor([0.5]), 3)
    with pytest.raises(mg.ShapeError, match="zeros: every dimension must be >= 0, got -1"):
        mg.zeros(-1)
    with pytest.raises(mg.ShapeError, match="Linear: in_features must be >= 0, got -1"):
        layers.Linear(-1, 2)
    with pytest.raises(mg.DTypeError, match="Embedding: num_embeddings must be an integer"):
        layers.Embedding(2.5, 2)


@examples(10)
@given(n=st.integers(1, 6), data=st.data())
def test_one_hot_rows_are_exact(n, data):
    ids = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5))
    np.testing.assert_array_equal(host(mg.one_hot(ids, n)), np.eye(n)[ids])


# -- gradients of the wrong kind ---------------------------------------------------
def test_backward_gradient_must_match_the_output(device):
    x = mg.Tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 2.0
    with pytest.raises(mg.DTypeError, match="backward\\(\\): gradient has dtype float64 but "
                                            "the tensor it is for has dtype float32"):
        y.backward(mg.Tensor(np.ones(2), dtype="float64", device=device))
    other = "cpu" if device != "cpu" else "fake"
    with pytest.raises(mg.DeviceError, match=f"backward\\(\\): gradient is on {other}"):
        y.backward(mg.Tensor(np.ones(2, np.float32), device=other))


@pytest.mark.parametrize("bad,error,match", [
    (lambda g: g.sum(), mg.ShapeError, r"has shape \(\) but the tensor it is for has shape \(3,\)"),
    (lambda g: g.data, mg.GraphError, "must be a Tensor, got ndarray"),
    (lambda g: 1.0, mg.GraphError, "must be a Tensor, got float"),
    (lambda g: g.double(), mg.DTypeError, "has dtype float64"),
])
def test_hooks_returning_the_wrong_kind_are_named(bad, error, match):
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 3.0
    y.register_hook(bad)
    with pytest.raises(error, match=r"the hook .*<lambda> registered on a tensor of shape "
                                    r"\(3,\) returned a gradient that " + match):
        y.sum().backward()


class _TooFew(mg.Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        return grad


class _RawArray(mg.Function):
    def forward(self, a):
        return a * 2

    def backward(self, grad):
        return grad.data * 2


def test_custom_function_backward_results_are_checked():
    a = mg.Tensor([1.0], requires_grad=True)
    b = mg.Tensor([2.0], requires_grad=True)
    with pytest.raises(mg.GraphError, match=r"_TooFew.backward returned 1 gradient\(s\) for 2 "
                                            r"input\(s\)"):
        _TooFew.apply(a, b).sum().backward()
    with pytest.raises(mg.GraphError, match="_RawArray.backward: the gradient for input 0 must "
                                            "be a Tensor, got ndarray"):
        _RawArray.apply(a).sum().backward()


# -- dtype conversion and in-place ops ----------------------------------------------
def test_long_does_not_require_grad_and_in_place_dtype_rules(device):
    x = mg.Tensor([1.5, 2.5], device=device, requires_grad=True)
    assert not x.long().requires_grad and x.long().dtype == np.int64
    assert x.double().requires_grad                       # float -> float stays differentiable
    i = mg.Tensor([1, 2], device=device)
    with pytest.raises(mg.DTypeError, match=r"add_: cannot write a float result \(shape "
                                            r"\(2,\), dtype float32.*dtype int64"):
        i.add_(mg.Tensor([1.0, 2.0], device=device))
    with pytest.raises(mg.DTypeError, match="fill_: the value must be a real number, got str"):
        i.fill_("x")
    with pytest.raises(mg.DTypeError, match="mul_: cannot write a float result"):
        i.mul_(2.5)
    i.add_(mg.Tensor([1, 1], device=device))
    f = mg.Tensor([1.0, 2.0], device=device)
    f.add_(i)
    f.fill_(3)
    np.testing.assert_array_equal(host(i), [2, 3])
    np.testing.assert_array_equal(host(f), [3.0, 3.0])


def test_division_by_python_zero_matches_division_by_a_zero_tensor(device):
    x = mg.Tensor([1.0, -1.0, 0.0], device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = x / 0, x / mg.Tensor(0.0, device=device)
    np.testing.assert_array_equal(host(a), [np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(host(a), host(b))


def test_optimizer_load_state_dict_checks_shapes_first():
    model = layers.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(mg.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    before = {k: dict(v) for k, v in opt.state_dict()["state"].items()}
    sd["state"][0]["exp_avg"] = np.zeros((1, 3))
    sd["param_groups"][0]["lr"] = 0.5
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: state 'exp_avg' of parameter 0 "
                                         r"(\(.weight.\) )?of shape \(2, 3\) has shape \(1, 3\)"):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1                 # nothing was loaded
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["exp_avg"], before[0]["exp_avg"])


def test_masks_and_weights_that_do_not_broadcast_name_the_op():
    a = mg.Tensor(np.zeros((2, 3, 4)))
    with pytest.raises(mg.ShapeError, match=r"masked_softmax: a mask of shape \(3, 5\) does "
                                            r"not broadcast to the input's shape \(2, 3, 4\)"):
        mg.masked_softmax(a, np.zeros((3, 5), bool))
    logits = mg.Tensor(np.zeros((2, 3)))
    with pytest.raises(mg.ShapeError, match=r"binary_cross_entropy_with_logits: pos_weight of "
                                            r"shape \(2,\) does not broadcast to the logits' "
                                            r"shape \(2, 3\)"):
        mg.binary_cross_entropy_with_logits(logits, np.zeros((2, 3)), pos_weight=np.ones(2))
