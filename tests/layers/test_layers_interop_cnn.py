"""State-dict interop of the convolutional layers: PyTorch's names and layouts
(expected keys written from the PyTorch documentation of nn.Conv2d, nn.Conv1d,
nn.BatchNorm1d/2d and nn.Sequential), a round trip through them, and -- with
torch installed -- the same outputs in both frameworks."""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg


def _cnn() -> layers.Sequential:
    mg.manual_seed(0)
    return layers.Sequential(
        layers.Conv2d(1, 4, 3, padding=1), layers.BatchNorm2d(4), layers.ReLU(),
        layers.MaxPool2d(2), layers.Conv2d(4, 6, (3, 2), groups=2), layers.Flatten(),
        layers.Linear(6 * 2 * 2, 5), layers.BatchNorm1d(5))


# nn.Sequential numbers its children; Conv2d: weight (out, in/groups, kH, kW), bias (out);
# BatchNorm: weight, bias, running_mean, running_var (num_features), num_batches_tracked ()
EXPECTED = {
    "0.weight": (4, 1, 3, 3), "0.bias": (4,),
    "1.weight": (4,), "1.bias": (4,), "1.running_mean": (4,), "1.running_var": (4,),
    "1.num_batches_tracked": (),
    "4.weight": (6, 2, 3, 2), "4.bias": (6,),
    "6.weight": (5, 24), "6.bias": (5,),
    "7.weight": (5,), "7.bias": (5,), "7.running_mean": (5,), "7.running_var": (5,),
    "7.num_batches_tracked": (),
}


def test_cnn_keys_and_shapes_are_pytorchs():
    sd = layers.to_torch_state_dict(_cnn())
    assert {k: v.shape for k, v in sd.items()} == EXPECTED


def test_cnn_round_trip_keeps_outputs_and_running_statistics():
    x = mg.Tensor(np.random.default_rng(1).standard_normal((3, 1, 8, 6)), dtype="float32")
    src = _cnn()
    src.train()
    src(x)                                   # running statistics move away from 0 / 1
    src.eval()
    sd = layers.to_torch_state_dict(src)
    assert int(sd["1.num_batches_tracked"]) == 1
    dst = _cnn()
    for p in dst.parameters():
        p.data[...] = 0
    layers.from_torch_state_dict(dst, sd)
    dst.eval()
    np.testing.assert_array_equal(dst(x).numpy(), src(x).numpy())
    np.testing.assert_array_equal(dst[1].running_var.numpy(), src[1].running_var.numpy())


def test_cnn_matches_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    ref = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 2), groups=2), nn.Flatten(), nn.Linear(24, 5), nn.BatchNorm1d(5))
    ours = _cnn()
    x = np.random.default_rng(2).standard_normal((3, 1, 8, 6)).astype(np.float32)
    ours.train()
    ours(mg.Tensor(x))
    ref.load_state_dict({k: torch.from_numpy(np.asarray(v))
                         for k, v in layers.to_torch_state_dict(ours).items()})
    ours.eval()
    ref.eval()
    np.testing.assert_allclose(ours(mg.Tensor(x)).numpy(),
                               ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
