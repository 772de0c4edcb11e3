"""Bad input gives a minigrad error that names the op and the shapes, dtypes or
devices involved -- never a raw NumPy exception from three frames down."""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.errors import MinigradError
from helpers import examples, shapes


def T(*shape, device="cpu", dtype="float64", requires_grad=True):
    return mg.Tensor(np.ones(shape), dtype=dtype, device=device, requires_grad=requires_grad)


def expect(error, fn, *words):
    """``fn()`` raises ``error`` (a minigrad error) whose message contains every word."""
    with pytest.raises(error) as info:
        fn()
    assert isinstance(info.value, MinigradError), type(info.value)
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{w!r} not in error message: {msg}"
    return msg


# ---------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------
BINARY_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "maximum": mg.maximum,
    "minimum": mg.minimum, "where": lambda a, b: mg.where(np.ones(a.shape, bool), a, b),
}


@pytest.mark.parametrize("op", list(BINARY_OPS))
def test_binary_ops_name_themselves_and_both_shapes(device, op):
    expect(mg.ShapeError, lambda: BINARY_OPS[op](T(2, 3, device=device), T(4, device=device)),
           op, "(2, 3)", "(4,)")
    expect(mg.ShapeError, lambda: BINARY_OPS[op](T(2, 3, device=device), T(3, 2, device=device)),
           op, "(2, 3)", "(3, 2)")


def test_broadcasting_against_plain_arrays_is_checked_too(device):
    expect(mg.ShapeError, lambda: T(2, 3, device=device) + np.ones(4), "add", "(2, 3)", "(4,)")
    expect(mg.ShapeError, lambda: np.ones((5, 1, 2)) * T(2, 3, device=device), "mul")
    expect(mg.ShapeError, lambda: T(2, 3, device=device).masked_fill(np.ones(4, bool), 0.0),
           "(4,)", "(2, 3)")


@examples(40)
@given(sa=shapes(max_side=4), sb=shapes(max_side=4), op=st.sampled_from(list(BINARY_OPS)))
def test_binary_ops_either_broadcast_like_numpy_or_raise_shape_error(sa, sb, op):
    a, b = T(*sa), T(*sb)
    try:
        expected = np.broadcast_shapes(sa, sb)
    except ValueError:
        expect(mg.ShapeError, lambda: BINARY_OPS[op](a, b), str(sa), str(sb))
    else:
        assert BINARY_OPS[op](a, b).shape == expected


@examples(40)
@given(sa=shapes(max_dims=4, max_side=3), sb=shapes(max_dims=4, max_side=3))
def test_matmul_either_matches_numpy_or_raises_shape_error(sa, sb):
    try:
        expected = np.matmul(np.ones(sa), np.ones(sb)).shape
    except ValueError:
        expect(mg.ShapeError, lambda: T(*sa) @ T(*sb), "matmul", str(sa), str(sb))
    else:
        assert (T(*sa) @ T(*sb)).shape == expected


def test_matmul_errors(device):
    expect(mg.ShapeError, lambda: T(2, 3, device=device) @ T(4, 5, device=device),
           "matmul", "(2, 3)", "(4, 5)", "3", "4")
    expect(mg.ShapeError, lambda: T(2, 2, 3, device=device) @ T(3, 3, 4, device=device),
           "matmul", "batch", "(2,)", "(3,)")
    expect(mg.ShapeError, lambda: T(device=device) @ T(3, device=device), "matmul", "()", "(3,)")
    expect(mg.ShapeError, lambda: T(3, device=device) @ T(4, device=device), "matmul", "(3,)", "(4,)")


@examples(30)
@given(shape=shapes(max_side=4), target=shapes(max_dims=3, max_side=5))
def test_reshape_to_a_wrong_size(shape, target):
    x = T(*shape)
    if int(np.prod(shape)) == int(np.prod(target)):
        assert x.reshape(target).shape == target
    else:
        expect(mg.ShapeError, lambda: x.reshape(target), "reshape", str(shape), str(target))


def test_shape_op_errors(device):
    x = T(2, 3, device=device)
    expect(mg.ShapeError, lambda: x.reshape(4, 2), "reshape", "(2, 3)", "(4, 2)")
    expect(mg.ShapeError, lambda: x.reshape(-1, 4), "reshape", "(-1, 4)")
    expect(mg.ShapeError, lambda: mg.concatenate([x, T(2, 4, device=device)]),
           "concatenate", "(2, 3)", "(2, 4)")
    expect(mg.ShapeError, lambda: mg.concatenate([x, T(3, device=device)], axis=0),
           "concatenate", "(3,)")
    expect(mg.ShapeError, lambda: mg.stack([x, T(3, 2, device=device)]),
           "stack", "(2, 3)", "(3, 2)")
    expect(mg.ShapeError, lambda: x.broadcast_to((4, 3, 2)), "broadcast_to", "(2, 3)", "(4, 3, 2)")
    expect(mg.ShapeError, lambda: x.squeeze(0), "squeeze", "(2, 3)")
    expect(mg.ShapeError, lambda: x.split(2, axis=1), "split", "3", "2")
    expect(mg.ShapeError, lambda: x.split([1, 1], axis=1), "split", "3")
    expect(mg.ShapeError, lambda: x.permute(0, 0), "permute", "(2, 3)")


@pytest.mark.parametrize("call,op", [
    (lambda x: x.sum(axis=2), "sum"), (lambda x: x.mean(axis=-3), "mean"),
    (lambda x: x.max(axis=(0, 0)), "max"), (lambda x: x.min(axis=5), "min"),
    (lambda x: x.var(axis=2), "var"), (lambda x: x.softmax(axis=2), "softmax"),
    (lambda x: x.log_softmax(axis=-3), "log_softmax"), (lambda x: x.transpose(0, 2), "transpose"),
    (lambda x: x.unsqueeze(4), "unsqueeze"), (lambda x: x.split(1, axis=3), "split"),
    (lambda x: mg.concatenate([x, x], axis=2), "concatenate"),
    (lambda x: mg.stack([x, x], axis=4), "stack"), (lambda x: x.squeeze(3), "squeeze"),
    (lambda x: x.gather(2, np.zeros((2, 3), np.int64)), "gather"),
])
def test_a_bad_axis_names_the_op_and_the_axis(device, call, op):
    msg = expect(mg.ShapeError, lambda: call(T(2, 3, device=device)), op)
    assert re.search(r"axis -?\d|axis \(", msg) or "repeated" in msg, msg


def test_indexing_errors(device):
    x = T(2, 3, device=device)
    expect(mg.ShapeError, lambda: x[5], "getitem", "5", "(2, 3)")
    expect(mg.ShapeError, lambda: x[0, 0, 0], "getitem", "(2, 3)")
    expect(mg.ShapeError, lambda: x[[0, 7]], "getitem", "7", "(2, 3)")
    expect(mg.ShapeError, lambda: x[np.ones(4, bool)], "getitem", "(4,)", "(2, 3)")
    expect(mg.ShapeError, lambda: x.gather(1, np.zeros(2, np.int64)), "gather", "(2,)", "(2, 3)")
    expect(mg.ShapeError, lambda: x.gather(1, np.full((2, 3), 9)), "gather", "9", "[0, 3)")
    expect(mg.ShapeError, lambda: mg.embedding(T(4, 2, device=device), np.array([5])),
           "embedding", "5", "(4, 2)")
    expect(mg.ShapeError, lambda: mg.embedding(T(4, 2, device=device), np.array([1.0])),
           "embedding", "integers", "float64")


# ---------------------------------------------------------------------------
# backward misuse
# ---------------------------------------------------------------------------
def test_backward_on_a_non_scalar_needs_a_gradient(device):
    y = T(2, 3, device=device) * 2.0
    expect(mg.GraphError, y.backward, "backward()", "(2, 3)", "gradient", "sum()")
    expect(mg.ShapeError, lambda: y.backward(mg.Tensor(np.ones(3), device=device)),
           "backward()", "(3,)", "(2, 3)")


def test_backward_through_a_freed_graph(device):
    y = (T(2, device=device).tanh() * 2.0).sum()
    y.backward()
    expect(mg.GraphError, y.backward, "retain_graph=True", "Sum")


def test_backward_on_a_tensor_without_grad(device):
    expect(mg.GraphError, (T(2, device=device, requires_grad=False) * 2.0).sum().backward,
           "does not require grad")


def test_requires_grad_on_integer_data(device):
    expect(mg.DTypeError, lambda: mg.Tensor([1, 2], device=device, requires_grad=True),
           "requires_grad", "int64", "1.0")
    expect(mg.DTypeError, lambda: mg.Tensor([1, 2], device=device).requires_grad_(),
           "requires_grad", "int64")


# ---------------------------------------------------------------------------
# devices and dtypes
# ---------------------------------------------------------------------------
DEVICE_MIXES = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b, "matmul": lambda a, b: a @ b, "maximum": mg.maximum,
    "concat": lambda a, b: mg.concatenate([a, b]),
    "where": lambda a, b: mg.where(np.ones(2, bool), a, b),
    "mse_loss": mg.mse_loss, "__eq__": lambda a, b: a == b,
    "add_": lambda a, b: a.detach().add_(b),
}


@pytest.mark.parametrize("op", list(DEVICE_MIXES))
def test_mixing_devices_names_both(op):
    a, b = T(2, device="cpu"), T(2, device="fake")
    msg = expect(mg.DeviceError, lambda: DEVICE_MIXES[op](a, b), "cpu", "fake")
    assert op.rstrip("_").lstrip("_") in msg or op == "mse_loss", msg


def test_mixing_devices_in_indices_and_targets():
    expect(mg.DeviceError, lambda: T(2, 3)[mg.Tensor([0, 1], device="fake")],
           "getitem", "cpu", "fake")
    expect(mg.DeviceError, lambda: mg.cross_entropy(T(2, 3), mg.Tensor([0, 1], device="fake")),
           "cross_entropy", "cpu", "fake")
    expect(mg.DeviceError, lambda: mg.embedding(T(3, 2, device="fake"), mg.Tensor([0, 1])),
           "embedding", "cpu", "fake")


def test_unknown_device():
    expect(mg.DeviceError, lambda: mg.Tensor([1.0], device="tpu"), "tpu")


MIXED_FLOATS = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "matmul": lambda a, b: a @ b,
    "maximum": mg.maximum, "concatenate": lambda a, b: mg.concatenate([a, b]),
    "where": lambda a, b: mg.where(np.ones(2, bool), a, b),
}


@pytest.mark.parametrize("op", list(MIXED_FLOATS))
def test_mixing_float32_and_float64_is_refused(device, op):
    a, b = T(2, device=device, dtype="float32"), T(2, device=device, dtype="float64")
    expect(mg.DTypeError, lambda: MIXED_FLOATS[op](a, b), op, "float32", "float64")


# ---------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------
def test_cross_entropy_target_errors(device):
    logits = T(2, 3, device=device)
    expect(mg.ShapeError, lambda: mg.cross_entropy(logits, np.array([0, 3])),
           "cross_entropy", "[0, 3)", "3")
    expect(mg.ShapeError, lambda: mg.cross_entropy(logits, np.array([0, -1])),
           "cross_entropy", "-1")
    expect(mg.ShapeError, lambda: mg.cross_entropy(logits, np.array([0, 1, 2])),
           "cross_entropy", "(2, 3)", "(2,)", "(3,)")
    expect(mg.ShapeError, lambda: mg.cross_entropy(T(2, 4, 3, device=device), np.zeros(2, int)),
           "cross_entropy", "(2, 4)")
    # float targets mean probabilities: they must have the logits' shape
    expect(mg.ShapeError, lambda: mg.cross_entropy(logits, np.array([0.0, 1.0])),
           "cross_entropy", "probability", "(2, 3)")
    expect(mg.DTypeError, lambda: mg.cross_entropy(logits, [0.5, 1.0]),
           "cross_entropy", "integers", "float64")
    expect(mg.ShapeError, lambda: mg.cross_entropy(T(device=device), np.array(0)),
           "cross_entropy", "0-d")
    with pytest.raises(ValueError, match="reduction"):
        mg.cross_entropy(logits, np.array([0, 1]), reduction="avg")


def test_loss_shape_errors(device):
    a, b = T(2, 3, device=device), T(3, device=device)
    expect(mg.ShapeError, lambda: mg.mse_loss(a, b), "mse_loss", "(2, 3)", "(3,)")
    expect(mg.ShapeError, lambda: mg.binary_cross_entropy_with_logits(a, b),
           "binary_cross_entropy_with_logits", "(2, 3)", "(3,)")
    expect(mg.ShapeError, lambda: mg.binary_cross_entropy(a * 0.5, b),
           "binary_cross_entropy", "(2, 3)", "(3,)")
    expect(mg.ShapeError, lambda: mg.linear(a, T(4, 2, device=device)), "linear", "(2, 3)", "(4, 2)")


# ---------------------------------------------------------------------------
# in-place modification
# ---------------------------------------------------------------------------
def test_in_place_change_of_a_saved_tensor_is_detected_by_the_version_counter(device):
    x, w = T(2, device=device), T(2, device=device)
    y = (x * w).sum()
    with mg.no_grad():
        x.add_(1.0)
    expect(mg.GraphError, y.backward, "Mul", "modified in place", "version 0 -> 1", "clone()")


def test_in_place_change_of_an_intermediate_is_detected(device):
    x = T(3, device=device)
    h = x.exp()
    y = (h * h).sum()
    with mg.no_grad():
        h.mul_(2.0)
    expect(mg.GraphError, y.backward, "Mul", "modified in place")
    x2 = T(3, device=device)
    h2 = x2.exp()    # Exp's backward needs its own output
    y2 = h2.sum()
    with mg.no_grad():
        h2[0] = 5.0
    # Sum does not save h2's values, but the version check is deliberately conservative
    expect(mg.GraphError, y2.backward, "Sum", "modified in place")


def test_in_place_changes_after_backward_are_fine(device):
    x = T(2, device=device)
    (x * x).sum().backward()
    with mg.no_grad():
        x.add_(x.grad, alpha=-0.1)
    np.testing.assert_allclose(x.numpy(), [0.8, 0.8])


@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "copy_", "fill_", "zero_", "__setitem__"])
def test_in_place_on_a_leaf_that_requires_grad_outside_no_grad(device, op):
    x = T(2, device=device)
    calls = {"add_": lambda: x.add_(1.0), "sub_": lambda: x.sub_(1.0),
             "mul_": lambda: x.mul_(2.0), "copy_": lambda: x.copy_(np.zeros(2)),
             "fill_": lambda: x.fill_(0.0), "zero_": lambda: x.zero_(),
             "__setitem__": lambda: x.__setitem__(0, 3.0)}
    name = "add_" if op == "sub_" else ("fill_" if op == "zero_" else op)
    expect(mg.GraphError, calls[op], name, "no_grad", "(2,)")
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])   # nothing was changed


def test_in_place_shape_and_device_errors(device):
    x = T(2, 3, device=device, requires_grad=False)
    expect(mg.ShapeError, lambda: x.add_(T(4, device=device)), "add_", "(4,)", "(2, 3)")
    expect(mg.ShapeError, lambda: x.mul_(T(3, 3, device=device)), "mul_", "(3, 3)", "(2, 3)")
    expect(mg.ShapeError, lambda: x.copy_(T(5, device=device)), "copy_", "(5,)")
    expect(mg.ShapeError, lambda: x.__setitem__(0, T(2, device=device)), "__setitem__", "(2, 3)")
    other = "fake" if device == "cpu" else "cpu"
    expect(mg.DeviceError, lambda: x.add_(T(3, device=other)), "add_", device, other)
    x.add_(T(3, device=device))   # broadcasting into the tensor's own shape is fine
    np.testing.assert_array_equal(x.numpy(), np.full((2, 3), 2.0))


def test_split_sizes_must_be_non_negative(device):
    expect(mg.ShapeError, lambda: T(2, device=device).split([3, -1]), "split", "negative")
    expect(mg.ShapeError, lambda: T(2, device=device).split([1, 2]), "split", "3", "2")


def test_a_non_positive_base_for_a_tensor_exponent(device):
    for base in (0.0, -2.0):
        with pytest.raises(ValueError, match=r"pow: .*positive base"):
            base ** T(2, device=device)


@pytest.mark.parametrize("make_view", [lambda h: h.detach(), lambda h: h[0:2],
                                       lambda h: h.reshape(3, 1), lambda h: h[None].T])
def test_in_place_change_through_a_view_is_detected(device, make_view):
    x = T(3, device=device)
    h = x * 1.0
    y = (h * h).sum()
    v = make_view(h)
    with mg.no_grad():
        v.add_(10.0)
    with pytest.raises(mg.GraphError):
        y.backward()


def test_in_place_change_of_a_copy_is_not_a_false_alarm(device):
    # integer-array indexing copies, so changing the result leaves h (and backward) intact
    x = T(3, device=device)
    h = x * 1.0
    y = (h * h).sum()
    c = h[[0, 1]]
    with mg.no_grad():
        c.add_(10.0)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())
