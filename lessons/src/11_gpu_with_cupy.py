# %% [markdown]
# # Lesson 11 — The same code on a GPU: CuPy, and a stand-in for machines without one
#
# **Covers:** how minigrad runs one model, unchanged, on NumPy (CPU), on CuPy (an NVIDIA GPU),
# and on `"fake"` — a CPU test double that behaves like CuPy where it matters. Formulas from
# earlier lessons (F01, F06, F11, F19) are the workload.
#
# Every op in minigrad asks the **backend of its inputs** for an array module `xp` and
# computes with it: `xp` is `numpy` on the CPU and `cupy` on the GPU, and the two share
# (almost) one API. Writing `np.exp(...)` inside an op would tie it to the CPU — and on
# CuPy it fails, because CuPy refuses to copy GPU memory to the host behind your back. So
# the engine never names NumPy when it touches tensor data, and the test suite proves it by
# running every op on `"fake"`, whose arrays refuse implicit conversion to NumPy exactly as
# CuPy's do.
#
# This notebook runs anywhere. **With a GPU and CuPy** it trains the same small model on
# NumPy and CuPy and prints a timing table. **Without** (as on the machines that build these
# notebooks), it says so, and runs the same code on `"fake"` and on NumPy instead, which
# exercises every device-agnostic code path except the real GPU kernels.

# %%
import itertools
import os
import sys
import time
from pathlib import Path

QUICK = os.environ.get("MINIGRAD_FULL") != "1"
try:
    import minigrad as mg
except ImportError:  # not installed: use the checkout this notebook lives in
    sys.path.insert(0, str(next(p for p in [Path.cwd(), *Path.cwd().parents]
                                if (p / "minigrad" / "__init__.py").exists())))
    import minigrad as mg

import layers
import matplotlib.pyplot as plt
import numpy as np
import optim
from minigrad.backends import backend_of, to_numpy
from minigrad.datasets import load_digits, train_test_split

np.random.seed(0)
mg.manual_seed(0)
print("minigrad", mg.__version__, "| quick mode" if QUICK else "| full mode")

# %% [markdown]
# ## 1. Which devices are there?
#
# `mg.available_devices()` lists what this machine can use; `mg.is_available("cuda")` is
# true only when CuPy is installed *and* a GPU is visible (`pip install .[gpu]` on a machine
# with an NVIDIA GPU). Asking for a device that is not there raises a `DeviceError` that
# says what to do.

# %%
HAS_GPU = mg.is_available("cuda")
print("available devices:", mg.available_devices(), "| default:", mg.default_device())
print('mg.is_available("cuda") =', HAS_GPU)
if not HAS_GPU:
    try:
        mg.Tensor([1.0, 2.0], device="cuda")
        raise AssertionError("creating a CUDA tensor without a GPU should fail")
    except mg.DeviceError as err:
        print("DeviceError:", err)
    print("\nNo GPU here: the timing table below compares NumPy with the 'fake' CuPy stand-in.")
assert mg.is_available("cpu") and mg.is_available("fake")
assert HAS_GPU == ("cuda" in mg.available_devices())

# %% [markdown]
# ## 2. What CuPy refuses, and what `"fake"` therefore refuses too
#
# A CuPy array lives in GPU memory. NumPy can only read host memory, so turning a GPU array
# into a NumPy array is a real copy over the PCIe bus that also waits for all queued GPU
# work — cheap to write, expensive to run, and easy to hide inside a training loop. CuPy
# therefore makes you ask for it: `np.asarray(gpu_array)` raises a `TypeError`, and you call
# `gpu_array.get()` (or `cupy.asnumpy`) instead. The `"fake"` backend's arrays behave the
# same way, so code that works on `"fake"` has no hidden host copies.

# %%
t_fake = mg.Tensor([0.5, -1.0, 2.0], dtype="float64", device="fake", requires_grad=True)
print(type(t_fake.data).__name__, "on device", t_fake.device)
try:
    np.asarray(t_fake.data)                      # what a NumPy habit would do
    raise AssertionError("np.asarray on a fake (or CuPy) array should raise")
except TypeError as err:
    print("np.asarray(fake_array) -> TypeError:", err)
try:
    np.exp(t_fake.data)
    raise AssertionError("np.exp on a fake array should raise")
except TypeError as err:
    print("np.exp(fake_array)     -> TypeError:", err)

# the sanctioned ways to the host: an explicit copy
print("t.numpy()            ->", t_fake.numpy(), type(t_fake.numpy()).__name__)
print("backends.to_numpy(a) ->", to_numpy(t_fake.data))
assert isinstance(t_fake.numpy(), np.ndarray)

# and tensors on different devices never mix silently
try:
    mg.Tensor([1.0, 1.0, 1.0], dtype="float64") + t_fake
    raise AssertionError("cpu + fake should raise")
except mg.DeviceError as err:
    print("cpu tensor + fake tensor -> DeviceError:", err)

# %% [markdown]
# ## 3. Writing a device-agnostic op
#
# The rule for your own `mg.Function`: get the array module from the input,
# `xp = backend_of(a).xp`, and compute with `xp`. Below, the same tanh written twice. The
# NumPy-only version works on the CPU and fails on `"fake"` (and would on CuPy); minigrad
# reports it as an error of the op and keeps NumPy's `TypeError` as the cause. The
# device-agnostic version passes a float64 gradient check on both devices.

# %%
class TanhNumPyOnly(mg.Function):
    def forward(self, a):
        return np.tanh(a)                         # ties the op to NumPy

    def backward(self, grad):
        return grad * (1.0 - self.output ** 2)


class TanhAnyDevice(mg.Function):
    def forward(self, a):
        xp = backend_of(a).xp                     # numpy, cupy or the fake module
        return xp.tanh(a)

    def backward(self, grad):
        return grad * (1.0 - self.output ** 2)


try:
    TanhNumPyOnly.apply(t_fake)
    raise AssertionError("the NumPy-only op should fail on 'fake'")
except mg.MinigradError as err:
    print(type(err).__name__, "raised; its cause:", type(err.__cause__).__name__, "-",
          err.__cause__)
    assert isinstance(err.__cause__, TypeError)
for device in ("cpu", "fake"):
    x = mg.Tensor([0.5, -1.0, 2.0], dtype="float64", device=device, requires_grad=True)
    result = mg.gradcheck(TanhAnyDevice.apply, x)
    print(f"TanhAnyDevice on {device:4s}: gradcheck {'PASS' if result.passed else 'FAIL'}")
    assert result.passed and TanhAnyDevice.apply(x).device == device

# %% [markdown]
# ## 4. One training function, any device
#
# The model, the optimizer and the data loader take a `device`; nothing else in the code
# mentions one. The model is created on the CPU (so every device starts from the same
# weights) and moved with `model.to(device)`; `Minibatches(..., device=device)` hands out
# batches already on the device; `loss.item()` and `.numpy()` are the only trips back to
# the host. The workload: lesson 06's digits network (64 → 128 → 10, Adam, batches of 32).

# %%
X, y = load_digits()
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, seed=42, stratify=True)


def train_on(device, steps, sizes=(64, 128, 10), batch=32, data=(X_tr, y_tr), warmup=2):
    """Train an MLP on `device`; returns the losses, the median ms per step and the model."""
    mg.manual_seed(0)
    model = layers.MLP(list(sizes)).to(device)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    batches = optim.Minibatches(*data, batch_size=batch, device=device,
                                rng=np.random.default_rng(0))
    stream = itertools.chain.from_iterable(itertools.repeat(batches))
    losses, times = [], []
    for step, (xb, yb) in zip(range(warmup + steps), stream):
        start = time.perf_counter()
        opt.zero_grad()
        loss = mg.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())                # .item() waits for the device: fair timing
        if step >= warmup:                        # not the first steps (allocations, CuPy
            times.append(time.perf_counter() - start)   # compiling its kernels)
    return np.array(losses), 1000 * float(np.median(times)), model


def test_accuracy(model, device):
    model.eval()
    with mg.no_grad():
        logits = model(mg.Tensor(X_te, device=device))
    return float((logits.numpy().argmax(axis=1) == y_te).mean())


devices = ["cpu", "fake"] + (["cuda"] if HAS_GPU else [])
steps_small = 200 if QUICK else 1000
small = {d: train_on(d, steps_small) for d in devices}
for d, (losses, ms, model) in small.items():
    print(f"{d:5s}: {ms:.3f} ms/step, final loss {losses[-1]:.4f}, "
          f"test accuracy {test_accuracy(model, d):.3f}, parameters on {model[0].weight.device}")

# the fake backend computes with NumPy underneath: bit-for-bit the same training
assert np.array_equal(small["cpu"][0], small["fake"][0])
assert test_accuracy(small["cpu"][2], "cpu") == test_accuracy(small["fake"][2], "fake") > 0.85
if HAS_GPU:   # the GPU sums in a different order: equal up to float32 rounding, at first
    assert np.allclose(small["cpu"][0][:10], small["cuda"][0][:10], rtol=1e-3)
    assert test_accuracy(small["cuda"][2], "cuda") > 0.85

# %% [markdown]
# ## 5. When does a GPU pay off? A timing table
#
# Every op launched on a GPU costs a few microseconds of overhead, whatever its size; the
# arithmetic itself is then very fast. A small network on small batches is all overhead, and
# the CPU usually wins. With wide layers and big batches the arithmetic dominates, and the
# GPU wins by a large factor. So the table has two workloads: the digits network above, and
# a wide one (512 → 2048 → 10, batches of 512, random data: only the time matters here).
# The `"fake"` column measures the price of the test double's wrapping (a constant per op,
# like a GPU's launch overhead, but without the fast arithmetic).

# %%
rng = np.random.default_rng(0)
wide_data = (rng.standard_normal((2048, 512)).astype(np.float32), rng.integers(0, 10, 2048))
steps_wide = 5 if QUICK else 50
wide = {d: train_on(d, steps_wide, sizes=(512, 2048, 10), batch=512, data=wide_data)
        for d in devices}

rows = [("digits MLP 64-128-10, batch 32", small), ("wide MLP 512-2048-10, batch 512", wide)]
header = f"| workload | {' | '.join(f'{d} (ms/step)' for d in devices)} |"
print(header)
print("|" + "---|" * (len(devices) + 1))
for name, res in rows:
    print(f"| {name} | " + " | ".join(f"{res[d][1]:.2f}" for d in devices) + " |")
if HAS_GPU:
    print(f"\nGPU speed-up on the wide MLP: {wide['cpu'][1] / wide['cuda'][1]:.1f}x; "
          f"on the digits MLP: {small['cpu'][1] / small['cuda'][1]:.2f}x")
else:
    print("\n(no GPU on this machine: run this notebook where mg.is_available('cuda') is True "
          "to add the CuPy column)")
assert np.array_equal(wide["cpu"][0], wide["fake"][0])
# the fake backend's overhead is per op: it matters for the small workload, not the wide one
overhead_small = small["fake"][1] / small["cpu"][1]
overhead_wide = wide["fake"][1] / wide["cpu"][1]
print(f"fake / cpu time: digits {overhead_small:.2f}x, wide {overhead_wide:.2f}x")
# (timings depend on the machine and on what else runs on it, so they are printed, not asserted)

# %% [markdown]
# ## 6. Picture
#
# Left: the training losses on every device lie on top of each other. Right: the timing
# table as bars (log scale).

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
ax = axes[0]
for d, style in zip(devices, ["-", "--", ":"]):
    ax.plot(small[d][0], style, label=d)
ax.set(xlabel="step", ylabel="loss", title="digits MLP: same losses on every device")
ax.legend()
ax = axes[1]
width = 0.8 / len(devices)
for k, d in enumerate(devices):
    ax.bar(np.arange(2) + k * width, [small[d][1], wide[d][1]], width=width, label=d)
ax.set_xticks(np.arange(2) + width * (len(devices) - 1) / 2, ["digits MLP", "wide MLP"])
ax.set(yscale="log", ylabel="ms per training step", title="time per step")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# 1. Put `print(type(t.data))` in `TanhAnyDevice.forward` and run it on each device. Then
#    write a softplus op, $\log(1 + e^x)$, the same way, and gradient-check it on `"fake"`.
# 2. Find the batch size at which the wide MLP is as fast on the GPU as on the CPU (on a
#    machine with a GPU), or, without one, at which the fake backend's overhead drops below
#    10 %.
# 3. Write a training loop that calls `np.mean(loss.data)` every step. Run it on `"fake"`:
#    where does it fail, and what is the fix? Why would the same line make a CuPy run slow
#    rather than wrong, had CuPy allowed it?
