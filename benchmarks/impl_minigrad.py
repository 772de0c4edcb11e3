"""The minigrad column: W1..W4 written the way a minigrad user would write them.

Models come from ``layers`` (``MLP``, ``LSTM``, ``TransformerBlock``,
``Linear``), the loss is ``minigrad.cross_entropy`` and the update is
``optim.SGD(lr=0.01)``; nothing here reaches into the engine. The weights are
copied from the shared workload parameters (``benchmarks.workloads`` stores
Linear weights as ``(in, out)``; minigrad, like PyTorch, keeps ``(out, in)``),
so the first loss equals the raw-NumPy floor's. Float32 end to end: every
parameter, input and gradient is checked to be float32 after the first step.

``step()`` = zero_grad, forward, backward, SGD update; it returns the loss of
the parameters before the update. Gradients are released at the end of the
step (``zero_grad`` with ``set_to_none``), as the floor and the torch peer do,
so the memory held between steps is the same for every column.
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

__all__ = ["W1", "W2", "W3", "W4", "available"]


def available() -> bool:
    return True


def _set(param: mg.Tensor, value: np.ndarray) -> None:
    """Copy ``value`` into a parameter, checking shape and keeping float32."""
    if param.shape != value.shape:
        raise ValueError(f"parameter of shape {param.shape} cannot take {value.shape}")
    with mg.no_grad():
        param.copy_(np.ascontiguousarray(value, dtype=param.dtype))


def _set_linear(lin: layers.Linear, w_in_out: np.ndarray, b: np.ndarray) -> None:
    _set(lin.weight, w_in_out.T)          # (in, out) -> minigrad's (out, in)
    _set(lin.bias, b)


def _check_float32(params, what: str) -> None:
    for p in params:
        if p.dtype != np.float32 or (p.grad is not None and p.grad.dtype != np.float32):
            raise TypeError(f"{what}: a parameter or its gradient left float32 ({p.dtype})")


class _Workload:
    """``make_step(params, data)``: build the model, return the training step."""

    name = "?"

    def build(self, params: dict, data: dict):
        """-> (parameters list, loss function of no arguments)."""
        raise NotImplementedError

    def make_step(self, params: dict, data: dict):
        model_params, loss_fn = self.build(params, data)
        opt = optim.SGD(model_params, lr=float(data["cfg"]["lr"]))
        checked = []

        def step() -> float:
            loss = loss_fn()
            loss.backward()
            if not checked:  # once: the whole step stayed in float32
                _check_float32(model_params, self.name)
                if loss.dtype != np.float32:
                    raise TypeError(f"{self.name}: loss is {loss.dtype}")
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
        model = layers.MLP(sizes, activation="relu")
        linears = [m for m in model.modules() if isinstance(m, layers.Linear)]
        for i, lin in enumerate(linears, start=1):
            _set_linear(lin, params[f"W{i}"], params[f"b{i}"])
        x, y = mg.Tensor(data["x"]), data["y"]
        return list(model.parameters()), lambda: mg.cross_entropy(model(x), y)


class _W2(_Workload):
    """layers.LSTM (one layer, batch-first) -> last hidden state -> Linear -> CE.

    The floor's fused gate weights map onto PyTorch's layout directly:
    ``weight_ih = Wx^T``, ``weight_hh = Wh^T``, ``bias_ih = b``, ``bias_hh = 0``.
    """

    name = "W2"

    def build(self, params, data):
        n_in, four_h = params["Wx"].shape
        hidden = four_h // 4
        lstm = layers.LSTM(n_in, hidden, batch_first=True)
        head = layers.Linear(hidden, params["Wy"].shape[1])
        _set(lstm.weight_ih_l0, params["Wx"].T)
        _set(lstm.weight_hh_l0, params["Wh"].T)
        _set(lstm.bias_ih_l0, params["b"])
        _set(lstm.bias_hh_l0, np.zeros_like(params["b"]))
        _set_linear(head, params["Wy"], params["by"])
        x, y = mg.Tensor(data["x"]), data["y"]

        def loss_fn():
            _, (h_n, _) = lstm(x)
            return mg.cross_entropy(head(h_n[0]), y)

        return list(lstm.parameters()) + list(head.parameters()), loss_fn


class _W3(_Workload):
    """Pre-LN causal TransformerBlock (GELU FFN) -> mean over time -> Linear -> CE."""

    name = "W3"

    def build(self, params, data):
        cfg = data["cfg"]
        d_model, d_ff = params["W1"].shape
        block = layers.TransformerBlock(d_model, int(cfg["n_heads"]), d_ff, activation="gelu",
                                        norm_first=True)
        block.norm1.eps = block.norm2.eps = float(cfg["eps"])
        head = layers.Linear(d_model, params["Wc"].shape[1])
        _set(block.norm1.weight, params["ln1_w"])
        _set(block.norm1.bias, params["ln1_b"])
        _set(block.norm2.weight, params["ln2_w"])
        _set(block.norm2.bias, params["ln2_b"])
        for proj, key in (("q_proj", "q"), ("k_proj", "k"), ("v_proj", "v"), ("out_proj", "o")):
            _set_linear(getattr(block.attn, proj), params[f"W{key}"], params[f"b{key}"])
        _set_linear(block.ff.fc1, params["W1"], params["b1"])
        _set_linear(block.ff.fc2, params["W2"], params["b2"])
        _set_linear(head, params["Wc"], params["bc"])
        x, y = mg.Tensor(data["x"]), data["y"]

        def loss_fn():
            h = block(x, causal=True)
            return mg.cross_entropy(head(h.mean(axis=1)), y)

        return list(block.parameters()) + list(head.parameters()), loss_fn


class _W4(_Workload):
    """Per-op overhead: h = x; n_ops/2 times (h = h * a; h = h + x); loss = sum(h)."""

    name = "W4"

    def build(self, params, data):
        x = mg.Parameter(params["x"].copy())
        a = mg.Tensor(data["a"])
        half = int(data["cfg"]["n_ops"]) // 2

        def loss_fn():
            h = x
            for _ in range(half):
                h = h * a
                h = h + x
            return h.sum()

        return [x], loss_fn


W1, W2, W3, W4 = _W1(), _W2(), _W3(), _W4()
WORKLOADS = {"W1": W1, "W2": W2, "W3": W3, "W4": W4}


def make_step(workload: str, params: dict, data: dict):
    return WORKLOADS[workload].make_step(params, data)
