# %% [markdown]
# # Lesson 11 — The same code on a GPU: CuPy, and a stand-in for machines without one
#
# **Covers:** how minigrad runs one model, unchanged, on NumPy (CPU), on CuPy (an NVIDIA GPU),
# and on `"fake"` — a CPU test double that behaves like CuPy where it matters. Formulas from
# earlier lessons (F01, F06, F11, F19) are the workload.
#
# Every op in minigrad asks the **backend of its inputs** for an array module `xp` and
# computes with it: `xp` is `numpy` on the CPU and `cupy` on the GPU, and the two share
# (almost) one API. What goes wrong when code names NumPy instead? CuPy *forwards* NumPy's
# ufuncs and many NumPy functions to itself (`np.exp(gpu_array)` runs `cupy.exp` and returns
# a GPU array), but it refuses every **implicit copy to the host** — `np.asarray(gpu_array)`
# raises a `TypeError` — and a NumPy function that CuPy does not implement raises too. So
# the engine never names NumPy when it touches tensor data (it spells `xp.exp`, which says
# where the work is done), and the test suite proves it by running every op on `"fake"`,
# whose arrays refuse implicit conversion to NumPy exactly as CuPy's do.
#
# This notebook runs anywhere. **With a GPU and CuPy** it trains the same small model on
# NumPy and CuPy and prints a timing table. **Without** (as on the machines that build these
# notebooks), it says so, and runs the same code on `"fake"` and on NumPy instead, which
# exercises every device-agnostic code path except the real GPU kernels.

# %%
import itertools
import time

from course import *            # QUICK, mg, np, plt, layers, optim; seeds fixed (0)
from exercises import check, hint, solution
from minigrad.backends import backend_of, to_numpy
from minigrad.datasets import load_digits, train_test_split

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
# ## 2. What CuPy refuses, what it forwards, and what `"fake"` does
#
# A CuPy array lives in GPU memory. NumPy can only read host memory, so turning a GPU array
# into a NumPy array is a real copy over the PCIe bus that also waits for all queued GPU
# work — cheap to write, expensive to run, and easy to hide inside a training loop. CuPy
# therefore makes you ask for it: `np.asarray(gpu_array)` (and `np.array`, and anything that
# converts implicitly) raises
# `TypeError: Implicit conversion to a NumPy array is not allowed`, and you call
# `gpu_array.get()` (or `cupy.asnumpy`) instead. The `"fake"` backend's arrays refuse in the
# same words, so code that works on `"fake"` has no hidden host copies.
#
# What CuPy does **not** refuse: NumPy's ufuncs and the NumPy functions CuPy implements.
# Through NumPy's dispatch protocols (`__array_ufunc__`, `__array_function__`),
# `np.exp(gpu_array)` or `np.sum(gpu_array)` are handed to `cupy.exp` / `cupy.sum` and return
# GPU arrays: no copy, no error. A NumPy function that CuPy lacks raises a `TypeError`
# ("no implementation found ...") instead. Older versions of the fake refused `np.exp(fake)`
# outright; a fake that follows CuPy forwards it. The cell below prints which one this
# checkout has, and asserts what holds either way: a result, if there is one, never
# silently becomes a NumPy array on the host.

# %%
t_fake = mg.Tensor([0.5, -1.0, 2.0], dtype="float64", device="fake", requires_grad=True)
print(type(t_fake.data).__name__, "on device", t_fake.device)
try:
    np.asarray(t_fake.data)                      # what a NumPy habit would do
    raise AssertionError("np.asarray on a fake (or CuPy) array should raise")
except TypeError as err:
    print("np.asarray(fake_array) -> TypeError:", err)
    assert "Implicit conversion to a NumPy array is not allowed" in str(err)   # CuPy's words
try:
    forwarded = np.exp(t_fake.data)
    print("np.exp(fake_array)     ->", type(forwarded).__name__, "(forwarded, as CuPy does)")
    assert not isinstance(forwarded, np.ndarray)                # stayed on the device
    assert np.allclose(to_numpy(forwarded), np.exp([0.5, -1.0, 2.0]))
except TypeError as err:
    print("np.exp(fake_array)     -> TypeError:", err, "(this fake is stricter than CuPy)")

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
# NumPy-habit version starts with `np.asarray(a)` ("make sure it is an array"): fine on the
# CPU, an implicit host copy on `"fake"` and on CuPy, so both refuse it; minigrad reports it
# as an error of the op and keeps the `TypeError` as the cause. The device-agnostic version
# passes a float64 gradient check on both devices.

# %%
class TanhNumPyOnly(mg.Function):
    def forward(self, a):
        a = np.asarray(a)                         # a NumPy habit: an implicit copy to the host
        return np.tanh(a)

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
    assert "Implicit conversion" in str(err.__cause__)
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
#
# The `"fake"` column is **not** a GPU estimate. The fake computes with NumPy underneath,
# so its time is NumPy's plus a small wrapping cost per op: visible on the digits network
# (hundreds of ops on tiny arrays), lost in the noise on the wide one, where a step is a few
# large matrix products and the fake can even come out ahead of `cpu` (same arithmetic,
# different temporaries and memory traffic, and on a shared machine whatever else is
# running). It proves that the code runs and computes the same numbers on a CuPy-like
# backend; only a `cuda` column says anything about GPU speed.

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
overhead_small = small["fake"][1] / small["cpu"][1]
overhead_wide = wide["fake"][1] / wide["cpu"][1]
print(f"fake / cpu time: digits {overhead_small:.2f}x, wide {overhead_wide:.2f}x")
# Timings depend on the machine and on what else runs on it: they are printed, not asserted.
# What is asserted is what the fake is for: the same numbers on every backend.

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
ax.set(xlabel="training step", ylabel="cross-entropy loss",
       title="digits MLP: same losses on every device")
ax.legend()
ax = axes[1]
width = 0.8 / len(devices)
for k, d in enumerate(devices):
    ax.bar(np.arange(2) + k * width, [small[d][1], wide[d][1]], width=width, label=d)
ax.set_xticks(np.arange(2) + width * (len(devices) - 1) / 2, ["digits MLP", "wide MLP"])
ax.set(yscale="log", xlabel="workload", ylabel="ms per training step (log scale)",
       title="time per step (fake = NumPy + wrapping, not a GPU)")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Exercises
#
# Each exercise has a starter cell and a check cell: `check("11.1", answer)` prints
# *correct* or a hint; `solution("11.1")` shows a solution when you ask for it.
#
# **11.1** Put `print(type(a))` in `TanhAnyDevice.forward` and run it on each device. Then
# write a softplus op, $\log(1 + e^x)$ (derivative $\sigma(x)$), the same way, and
# gradient-check it on `"fake"`.

# %%
class Softplus(mg.Function):
    def forward(self, a):
        raise NotImplementedError("your code here: use xp = backend_of(a).xp")

    def backward(self, grad):
        raise NotImplementedError("your code here")


# %%
check("11.1", Softplus)

# %% [markdown]
# **11.2** Every op of a training step costs a GPU a few microseconds of launch overhead,
# whatever its size, so the number of ops in a step sets the floor of its time on a GPU.
# Write `count_ops(loss)`: the number of op nodes (tensors with a `grad_fn`) in the graph
# that produced `loss`, each counted once. Count the ops of one step of the digits MLP and
# divide the fake's extra time per step by it: what does the fake's wrapping cost per op?
# (With a GPU: multiply the count by ~5 µs and compare with the `cuda` column.)

# %%
def count_ops(loss):
    raise NotImplementedError("your code here: walk loss.grad_fn.inputs")


# %%
check("11.2", count_ops)

# %% [markdown]
# **11.3** A training loop that logs `float(np.asarray(loss.data))` every step works on the
# CPU. Run it on `"fake"`: where does it fail, and what is the fix? (On CuPy the same line
# raises too; `float(loss.data)` would work there, but like every copy to the host it
# waits for the GPU.) Write `loss_value(loss)` that returns the loss as a Python float on
# every device, the sanctioned way.

# %%
def loss_value(loss):
    return float(np.asarray(loss.data))          # the NumPy habit: fix it


# %%
check("11.3", loss_value)
