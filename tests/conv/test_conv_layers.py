"""Conv2d, Conv1d, MaxPool2d, AvgPool2d, Flatten: shapes, PyTorch's init and
parameter names, gradchecks of each layer and of a small CNN, errors naming the
layer, and PyTorch parity when installed; on "cpu" and "fake"."""
from __future__ import annotations

import math

import numpy as np
import pytest

import layers
import minigrad as mg
import naive_conv as naive
from helpers import host


def _x(shape, device, seed=0):
    return mg.Tensor(np.random.default_rng(seed).standard_normal(shape), dtype="float64",
                     device=device)


def test_conv2d_shapes_names_and_default_init(device):
    mg.manual_seed(0)
    conv = layers.Conv2d(4, 8, (3, 5), stride=2, padding=(1, 2), groups=2).to(device)
    assert conv.weight.shape == (8, 2, 3, 5) and conv.bias.shape == (8,)
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert conv.num_parameters() == 8 * 2 * 15 + 8
    bound = 1 / math.sqrt(2 * 3 * 5)                 # fan_in = C_in / groups * kH * kW
    for p in (conv.weight, conv.bias):
        values = host(p)
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound
    y = conv(_x((2, 4, 7, 9), device).float())
    assert y.shape == (2, 8, 4, 5) and y.dtype == np.float32
    assert "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), groups=2)" \
        in repr(conv)
    assert layers.Conv2d(1, 2, 3, bias=False).bias is None


def test_conv_layers_forward_matches_loops(device):
    conv = layers.Conv2d(3, 4, 3, padding=1, dilation=2).double().to(device)
    x = _x((2, 3, 6, 5), device)
    expected = naive.conv2d_forward(host(x), host(conv.weight), host(conv.bias), (1, 1), (1, 1),
                                    (2, 2))
    np.testing.assert_allclose(host(conv(x)), expected, rtol=1e-10, atol=1e-12)
    c1 = layers.Conv1d(2, 4, 3, stride=2, groups=2).double().to(device)
    x1 = _x((2, 2, 9), device)
    expected = naive.conv2d_forward(host(x1)[:, :, None], host(c1.weight)[:, :, None],
                                    host(c1.bias), (1, 2), (0, 0), (1, 1), 2)[:, :, 0]
    np.testing.assert_allclose(host(c1(x1)), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=1), (2, 2, 5, 4)),
    (lambda: layers.Conv2d(4, 2, 1, groups=2, bias=False), (1, 4, 3, 3)),
    (lambda: layers.Conv1d(2, 3, 3, padding=2, dilation=2), (2, 2, 5)),
    (lambda: layers.MaxPool2d(3, stride=2, padding=1), (2, 2, 5, 5)),
    (lambda: layers.AvgPool2d((2, 3), stride=1), (1, 2, 4, 4)),
    (lambda: layers.Flatten(), (2, 3, 2, 2)),
    (lambda: layers.Sequential(layers.Conv2d(1, 3, 3, padding=1), layers.BatchNorm2d(3),
                               layers.ReLU(), layers.MaxPool2d(2), layers.Flatten(),
                               layers.Linear(12, 2)), (3, 1, 4, 4)),
])
def test_layer_gradcheck(device, make, shape):
    mg.manual_seed(1)
    layer = make().double().to(device)
    # values far apart, so max pooling and ReLU see no ties and no kinks within eps
    n = int(np.prod(shape))
    x = np.random.default_rng(2).permutation(n).reshape(shape) * 0.1 - 0.05 * n
    x = mg.Tensor(x, dtype="float64", device=device, requires_grad=True)
    assert layers.gradcheck_module(layer, x).passed


def test_flatten(device):
    x = _x((2, 3, 4, 5), device)
    assert layers.Flatten()(x).shape == (2, 60)
    assert layers.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert layers.Flatten(2)(x).shape == (2, 3, 20)
    with pytest.raises(mg.ShapeError, match=r"Flatten\(start_dim=3, end_dim=1\)"):
        layers.Flatten(3, 1)(x)


def test_layer_errors_name_the_layer(device):
    with pytest.raises(mg.ShapeError, match=r"Conv2d\(3, 8, kernel_size=\(3, 3\)\) expects a "
                                            r"4-D input \(N, C, H, W\) with C = 3 channels, "
                                            r"got shape \(2, 4, 5, 5\)"):
        layers.Conv2d(3, 8, 3).to(device)(_x((2, 4, 5, 5), device).float())
    with pytest.raises(mg.ShapeError, match=r"Conv1d\(3, 8, kernel_size=3\) expects a 3-D"):
        layers.Conv1d(3, 8, 3).to(device)(_x((2, 3, 5, 5), device).float())
    with pytest.raises(mg.ShapeError, match=r"Conv2d: groups=2 must .* in_channels=3"):
        layers.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(mg.ShapeError, match="Conv2d: kernel_size, stride"):
        layers.Conv2d(3, 8, 3, stride=0)
    with pytest.raises(mg.ShapeError, match=r"MaxPool2d\(kernel_size=2\) expects a 4-D input"):
        layers.MaxPool2d(2)(_x((3, 4, 4), device))


def test_small_cnn_learns_and_moves_between_devices(device):
    """A CNN on tiny vertical-vs-horizontal-bar images: the loss must fall."""
    import optim
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    imgs = np.zeros((32, 1, 6, 6), dtype=np.float32)
    labels = np.arange(32) % 2
    for i, lab in enumerate(labels):
        k = rng.integers(0, 6)
        if lab:
            imgs[i, 0, :, k] = 1.0
        else:
            imgs[i, 0, k, :] = 1.0
    imgs += rng.normal(0, 0.1, imgs.shape).astype(np.float32)
    model = layers.Sequential(layers.Conv2d(1, 4, 3, padding=1), layers.BatchNorm2d(4),
                              layers.ReLU(), layers.MaxPool2d(2), layers.Flatten(),
                              layers.Linear(36, 2)).to(device)
    opt = optim.Adam(model.parameters(), lr=0.05)
    x = mg.Tensor(imgs, device=device)
    y = mg.Tensor(labels, device=device)
    losses = []
    for _ in range(15):
        loss = mg.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    assert model[1].running_mean.device == device


def test_conv2d_layer_matches_torch():
    torch = pytest.importorskip("torch")
    conv = layers.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2),
                         groups=2).double()
    ref = torch.nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2,
                          dtype=torch.float64)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in conv.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4, 7, 6))
    np.testing.assert_allclose(host(conv(mg.Tensor(x, dtype="float64"))),
                               ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
