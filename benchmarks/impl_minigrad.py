"""The minigrad column: W1..W4 written the way a minigrad user would write them.

Models come from ``layers`` (``MLP``, ``LSTM``, ``TransformerBlock``,
``Linear``), the loss is ``minigrad.cross_entropy`` and the update is
``optim.SGD(lr=0.01)``; nothing here reaches into the engine. The weights are
copied from the shared workload parameters (``benchmarks.workloads`` stores
Linear weights as ``(in, out)``; minigrad, like PyTorch, keeps ``(out, in)``),
so the first loss equals the raw-NumPy floor's. Float32 end to end (the
benchmark's parameters are float32): after the first step every parameter
and gradient is checked to still have the parameters' dtype. The same code
runs in float64 for the comparisons with the floor in ``tests/benchmarks``.

``step()`` = forward, backward, SGD update, then ``zero_grad``: it returns the
loss of the parameters before the update, and releases the gradients at the
end of the step (``set_to_none``), as the floor and the torch peer do, so the
memory held between steps is the same for every column.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # layers/ and optim/ are top-level packages of the repository
    sys.path.insert(0, _ROOT)

import minigrad as mg  # noqa: E402
import layers  # noqa: E402
import optim  # noqa: E402

__all__ = ["W1", "W2", "W3", "W4", "WORKLOADS", "available", "make_step"]


def available() -> bool:
    return True


def _dtype(params: dict) -> np.dtype:
    return next(iter(params.values())).dtype


def _set(param: mg.Tensor, value: np.ndarray) -> None:
    """Copy ``value`` into a parameter, checking its shape (and keeping its dtype)."""
    if param.shape != value.shape:
        raise ValueError(f"parameter of shape {param.shape} cannot take {value.shape}")
    with mg.no_grad():
        param.copy_(np.ascontiguousarray(value, dtype=param.dtype))


def _set_linear(lin: layers.Linear, w_in_out: np.ndarray, b: np.ndarray) -> None:
    _set(lin.weight, w_in_out.T)          # (in, out) -> minigrad's (out, in)
    _set(lin.bias, b)


def _linear_grads(lin: layers.Linear, w: str, b: str) -> dict:
    """A Linear layer's gradients under the floor's names, in its (in, out) layout."""
    return {w: np.ascontiguousarray(lin.weight.grad.numpy().T), b: lin.bias.grad.numpy()}


def _check_dtype(params, dtype, what: str) -> None:
    for p in params:
        if p.dtype != dtype or (p.grad is not None and p.grad.dtype != dtype):
            raise TypeError(f"{what}: a parameter or its gradient left {dtype} ({p.dtype})")


class _Workload:
    """``make_step(params, data)``: build the model, return the training step.
    ``loss_and_grads(params, data)``: one forward + backward, gradients under the
    floor's names (for the tests in ``tests/benchmarks``)."""

    name = "?"

    def build(self, params: dict, data: dict):
        """-> (parameters, loss function of no arguments, function returning the
        gradients as a dict keyed like ``params``)."""
        raise NotImplementedError

    def loss_and_grads(self, params: dict, data: dict):
        _, loss_fn, grads = self.build(params, data)
        loss = loss_fn()
        loss.backward()
        return float(loss.item()), grads()

    def make_step(self, params: dict, data: dict):
        model_params, loss_fn, _ = self.build(params, data)
        dtype = _dtype(params)
        opt = optim.SGD(model_params, lr=float(data["cfg"]["lr"]))
        checked = []

        def step() -> float:
            loss = loss_fn()
            loss.backward()
            if not checked:  # once: the whole step stayed in the parameters' dtype
                _check_dtype(model_params, dtype, self.name)
                if loss.dtype != dtype:
                    raise TypeError(f"{self.name}: loss is {loss.dtype}, parameters {dtype}")
                checked.append(True)
            opt.step()
            opt.zero_grad()  # set_to_none: no gradient arrays held between steps
            return loss.item()

        return step

    def __repr__(self) -> str:
        return f"<impl_minigrad.{self.name}>"


class _W1(_Workload):
    """MLP 784-512-512-10 (ReLU) -> cross-entropy."""

    name = "W1"

    def build(self, params, data):
        sizes = [params["W1"].shape[0]] + [params[f"W{i}"].shape[1] for i in (1, 2, 3)]
        model = layers.MLP(sizes, activation="relu", dtype=_dtype(params))
        linears = [m for m in model.modules() if isinstance(m, layers.Linear)]
        for i, lin in enumerate(linears, start=1):
            _set_linear(lin, params[f"W{i}"], params[f"b{i}"])
        x, y = mg.Tensor(data["x"]), data["y"]

        def grads():
            out = {}
            for i, lin in enumerate(linears, start=1):
                out.update(_linear_grads(lin, f"W{i}", f"b{i}"))
            return out

        return list(model.parameters()), lambda: mg.cross_entropy(model(x), y), grads


class _W2(_Workload):
    """layers.LSTM (one layer, batch-first) -> last hidden state -> Linear -> CE.

    The floor's fused gate weights map onto PyTorch's layout directly:
    ``weight_ih = Wx^T``, ``weight_hh = Wh^T``, ``bias_ih = b``, ``bias_hh = 0``.
    (Both biases are trained, so after the first update the trajectories part:
    the floor's single ``b`` moves by -lr g, ``bias_ih + bias_hh`` by -2 lr g.)
    """

    name = "W2"

    def build(self, params, data):
        n_in, four_h = params["Wx"].shape
        hidden, dtype = four_h // 4, _dtype(params)
        lstm = layers.LSTM(n_in, hidden, batch_first=True, dtype=dtype)
        head = layers.Linear(hidden, params["Wy"].shape[1], dtype=dtype)
        _set(lstm.weight_ih_l0, params["Wx"].T)
        _set(lstm.weight_hh_l0, params["Wh"].T)
        _set(lstm.bias_ih_l0, params["b"])
        _set(lstm.bias_hh_l0, np.zeros_like(params["b"]))
        _set_linear(head, params["Wy"], params["by"])
        x, y = mg.Tensor(data["x"]), data["y"]

        def loss_fn():
            _, (h_n, _) = lstm(x)
            return mg.cross_entropy(head(h_n[0]), y)

        def grads():
            out = {"Wx": np.ascontiguousarray(lstm.weight_ih_l0.grad.numpy().T),
                   "Wh": np.ascontiguousarray(lstm.weight_hh_l0.grad.numpy().T),
                   "b": lstm.bias_ih_l0.grad.numpy()}        # = bias_hh_l0's gradient
            out.update(_linear_grads(head, "Wy", "by"))
            return out

        return list(lstm.parameters()) + list(head.parameters()), loss_fn, grads


class _W3(_Workload):
    """Pre-LN causal TransformerBlock (GELU FFN) -> mean over time -> Linear -> CE."""

    name = "W3"

    def build(self, params, data):
        cfg = data["cfg"]
        d_model, d_ff = params["W1"].shape
        dtype = _dtype(params)
        block = layers.TransformerBlock(d_model, int(cfg["n_heads"]), d_ff, activation="gelu",
                                        norm_first=True, dtype=dtype)
        block.norm1.eps = block.norm2.eps = float(cfg["eps"])
        head = layers.Linear(d_model, params["Wc"].shape[1], dtype=dtype)
        norms = {"ln1": block.norm1, "ln2": block.norm2}
        for name, norm in norms.items():
            _set(norm.weight, params[f"{name}_w"])
            _set(norm.bias, params[f"{name}_b"])
        linears = {"q": block.attn.q_proj, "k": block.attn.k_proj, "v": block.attn.v_proj,
                   "o": block.attn.out_proj, "1": block.ff.fc1, "2": block.ff.fc2, "c": head}
        for key, lin in linears.items():
            _set_linear(lin, params[f"W{key}"], params[f"b{key}"])
        x, y = mg.Tensor(data["x"]), data["y"]

        def loss_fn():
            h = block(x, causal=True)
            return mg.cross_entropy(head(h.mean(axis=1)), y)

        def grads():
            out = {}
            for name, norm in norms.items():
                out[f"{name}_w"], out[f"{name}_b"] = norm.weight.grad.numpy(), norm.bias.grad.numpy()
            for key, lin in linears.items():
                out.update(_linear_grads(lin, f"W{key}", f"b{key}"))
            return out

        return list(block.parameters()) + list(head.parameters()), loss_fn, grads


class _W4(_Workload):
    """Per-op overhead: h = x; n_ops/2 times (h = h * a; h = h + x); loss = sum(h).

    ``all_grad=True`` (the "every operand requires grad" row): ``a`` requires a
    gradient too, so every Mul's backward computes both of its gradients. ``a``
    is not trained (its gradient is dropped each step), so the loss matches the
    floor's."""

    name = "W4"

    def __init__(self, all_grad: bool = False) -> None:
        self.all_grad = all_grad

    def build(self, params, data):
        x = mg.Parameter(params["x"].copy())
        a = mg.Tensor(data["a"].astype(x.dtype), requires_grad=self.all_grad)
        half = int(data["cfg"]["n_ops"]) // 2

        def loss_fn():
            a.grad = None
            h = x
            for _ in range(half):
                h = h * a
                h = h + x
            return h.sum()

        return [x], loss_fn, lambda: {"x": x.grad.numpy()}


W1, W2, W3, W4 = _W1(), _W2(), _W3(), _W4()
WORKLOADS = {"W1": W1, "W2": W2, "W3": W3, "W4": W4}
W4_ALL_GRAD = _W4(all_grad=True)

# (workload, row label, namespace with make_step) -- extra rows for the runner
VARIANTS = [("W4", "minigrad all-grad", W4_ALL_GRAD)]


def make_step(workload: str, params: dict, data: dict):
    return WORKLOADS[workload].make_step(params, data)


class _W5(_Workload):
    """layers.Conv2d -> ReLU -> MaxPool2d(2) -> Conv2d -> ReLU -> MaxPool2d(2) -> Flatten
    -> Linear -> cross-entropy (the kernels are already in PyTorch's layout)."""

    name = "W5"

    def build(self, params, data):
        dtype = _dtype(params)
        c1, c2 = params["K1"].shape[0], params["K2"].shape[0]
        conv1 = layers.Conv2d(1, c1, 3, dtype=dtype)
        conv2 = layers.Conv2d(c1, c2, 3, dtype=dtype)
        head = layers.Linear(*params["Wfc"].shape, dtype=dtype)
        model = layers.Sequential(conv1, layers.ReLU(), layers.MaxPool2d(2), conv2, layers.ReLU(),
                                  layers.MaxPool2d(2), layers.Flatten(), head)
        for conv, k, b in ((conv1, "K1", "k1b"), (conv2, "K2", "k2b")):
            _set(conv.weight, params[k])
            _set(conv.bias, params[b])
        _set_linear(head, params["Wfc"], params["bfc"])
        x, y = mg.Tensor(data["x"].astype(dtype)), data["y"]

        def grads():
            out = {"K1": conv1.weight.grad.numpy(), "k1b": conv1.bias.grad.numpy(),
                   "K2": conv2.weight.grad.numpy(), "k2b": conv2.bias.grad.numpy()}
            out.update(_linear_grads(head, "Wfc", "bfc"))
            return out

        return list(model.parameters()), lambda: mg.cross_entropy(model(x), y), grads


W5 = _W5()
WORKLOADS["W5"] = W5
__all__.append("W5")
