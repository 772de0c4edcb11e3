"""The whole engine on the CuPy-like fake: a small training loop gives the same
losses as on NumPy, and no engine path quietly converts data to NumPy (the fake
refuses implicit conversion, so finishing the loop is the proof)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import backends
from minigrad.backends import fake


def _train(device: str, dtype: str, steps: int = 8, seed: int = 0) -> tuple[list[float], dict]:
    """A 2-layer MLP written with ops directly, trained with plain SGD updates made
    in place under no_grad -- exactly what an optimiser does."""
    rng = np.random.default_rng(seed)
    x = mg.Tensor(rng.standard_normal((16, 5)), dtype=dtype, device=device)
    y = mg.Tensor(rng.integers(0, 3, 16), device=device)
    params = {
        "W1": mg.Tensor(rng.standard_normal((5, 8)) * 0.5, dtype=dtype, device=device,
                        requires_grad=True),
        "b1": mg.Tensor(np.zeros(8), dtype=dtype, device=device, requires_grad=True),
        "g": mg.Tensor(np.ones(8), dtype=dtype, device=device, requires_grad=True),
        "W2": mg.Tensor(rng.standard_normal((8, 3)) * 0.5, dtype=dtype, device=device,
                        requires_grad=True),
        "b2": mg.Tensor(np.zeros(3), dtype=dtype, device=device, requires_grad=True),
    }
    mg.manual_seed(seed)   # the dropout masks
    losses = []
    for _ in range(steps):
        h = (x @ params["W1"] + params["b1"]).tanh()
        h = mg.layer_norm(h, params["g"])
        h = mg.dropout(h.relu() + 0.1 * h.gelu(), p=0.2)
        logits = h @ params["W2"] + params["b2"]
        loss = mg.cross_entropy(logits, y) + 1e-3 * (params["W1"] ** 2).sum() \
            + 0.1 * mg.mse_loss(logits.softmax(axis=-1).max(axis=-1), mg.ones(16, dtype=dtype,
                                                                            device=device))
        loss.backward()
        losses.append(loss.item())
        with mg.no_grad():
            for p in params.values():
                assert p.grad.device == device and p.grad.dtype == np.dtype(dtype)
                p.sub_(p.grad * 0.5)
                p.grad = None
    return losses, params


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_training_on_fake_matches_cpu(dtype):
    cpu_losses, cpu_params = _train("cpu", dtype)
    fake_losses, fake_params = _train("fake", dtype)
    assert cpu_losses[-1] < cpu_losses[0]   # it learns
    tol = 1e-12 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(fake_losses, cpu_losses, rtol=tol, atol=0)
    for name, p in fake_params.items():
        assert isinstance(p.data, fake.FakeArray), name   # never silently moved to NumPy
        np.testing.assert_allclose(p.numpy(), cpu_params[name].numpy(), rtol=tol * 10,
                                   atol=tol, err_msg=name)


def test_the_fake_really_refuses_implicit_numpy_conversion():
    """Otherwise the test above would prove nothing."""
    t = mg.Tensor([1.0, 2.0], device="fake")
    assert isinstance(t.data, fake.FakeArray)
    with pytest.raises(TypeError):
        np.asarray(t.data)
    # np.exp(fake) is dispatched to xp.exp, as CuPy's __array_ufunc__ does -- the
    # result stays on the device; mixing in a NumPy array is refused.
    assert isinstance(np.exp(t.data), fake.FakeArray)
    with pytest.raises(TypeError):
        t.data + np.ones(2)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])   # the explicit way works
    assert backends.to_numpy(t.data).tolist() == [1.0, 2.0]


def test_creation_functions_and_repr_on_fake():
    for make in (mg.zeros, mg.ones, mg.randn, mg.rand):
        t = make(2, 3, device="fake")
        assert t.device == "fake" and isinstance(t.data, fake.FakeArray) and t.shape == (2, 3)
    t = mg.Tensor([1.0, 2.0], device="fake", requires_grad=True)
    assert "fake" in repr(t) and t.tolist() == [1.0, 2.0]
    assert mg.zeros_like(t).device == "fake" and mg.arange(3, device="fake").device == "fake"
    assert (t > 1.0).device == "fake" and int(t.argmax().item()) == 1
    with mg.using_device("fake"):
        assert mg.Tensor([1.0]).device == "fake"


def test_manual_seed_also_seeds_a_backend_first_used_afterwards():
    """manual_seed before the fake backend was ever touched must still fix its masks
    (a fresh interpreter, because this one has used the fake already)."""
    code = ("import minigrad as mg\n"
            "mg.manual_seed(3)\n"
            "a = mg.dropout(mg.ones(50, dtype='float64', device='fake'), 0.5).numpy()\n"
            "mg.manual_seed(3)\n"
            "b = mg.dropout(mg.ones(50, dtype='float64', device='fake'), 0.5).numpy()\n"
            "c = mg.dropout(mg.ones(50, dtype='float64', device='cpu'), 0.5).numpy()\n"
            "mg.manual_seed(3)\n"
            "d = mg.dropout(mg.ones(50, dtype='float64', device='cpu'), 0.5).numpy()\n"
            "assert (a == b).all(), 'first use of the fake ignored manual_seed'\n"
            "assert (a == d).all(), 'same seed, different masks on cpu and fake'\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=root, timeout=120)
    assert run.returncode == 0, run.stderr


def test_in_place_ops_upload_numpy_operands_explicitly():
    t = mg.Tensor([1.0, 2.0], dtype="float64", device="fake")
    t.add_(np.ones(2))
    t.mul_(np.full(2, 2.0))
    t[0] = np.float64(7.0)
    t[1:] = np.array([5.0])
    assert isinstance(t.data, fake.FakeArray)
    np.testing.assert_array_equal(t.numpy(), [7.0, 5.0])
    t.copy_(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(t.numpy(), [3.0, 4.0])
