"""Small shared helpers for the ledger rows: NumPy reference functions, inputs
kept away from kinks, and turning a layer into a plain function of its
weights so :func:`minigrad.gradcheck` can perturb them."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["np_sigmoid", "np_softmax", "np_layer_norm", "np_gelu", "np_attention", "np_linear",
           "np_mha", "away_from_zero", "double_module", "module_fn",
           "sgd_quadratic"]


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x), written straight from the formula."""
    return 1.0 / (1.0 + np.exp(-x))


def np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """e^x / sum e^x along ``axis`` (shifted by the max for stability)."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def away_from_zero(r: Any, *shape: int, margin: float = 0.1):
    """Float64 normal numbers pushed at least ``margin`` away from 0 (ReLU's and
    |x|'s kink, where a central difference straddles two slopes)."""
    from minigrad import Tensor
    x = r.rng.standard_normal(shape)
    x = x + np.sign(x) * margin
    x[x == 0] = margin
    return Tensor(x, dtype="float64", requires_grad=True)


def double_module(module: Any) -> Any:
    """Cast a module's parameters and buffers to float64 in place (gradcheck needs it)."""
    return module.to(dtype="float64")


def module_fn(module: Any, forward: Callable[..., Any] | None = None):
    """``(fn, params)``: ``fn(*inputs, *params)`` runs the module with its parameters
    swapped for ``params`` (fresh float64 leaf copies), so gradcheck can perturb them.

    ``forward(m, *inputs)`` says how to call the module (``m`` behaves like it);
    by default ``m(*inputs)``.
    """
    from layers.module import functional_call

    from minigrad import Tensor
    names = [n for n, _ in module.named_parameters()]
    params = [Tensor(p.data.copy(), requires_grad=True) for _, p in module.named_parameters()]
    n = len(names)

    def fn(*args: Any) -> Any:
        inputs, ps = args[:len(args) - n], args[len(args) - n:]
        swap = dict(zip(names, ps))

        def m(*a: Any, **k: Any) -> Any:
            return functional_call(module, swap, *a, **k)

        return m(*inputs) if forward is None else forward(m, *inputs)

    return fn, params


def sgd_quadratic(SGD: Any, w0: float, lr: float) -> float:
    """One optimizer step on J(w) = (w − 1)² from ``w0``; returns the new w."""
    from minigrad import Parameter
    w = Parameter([w0], dtype="float64")
    opt = SGD([w], lr=lr)
    opt.zero_grad()
    ((w - 1.0) ** 2).sum().backward()
    opt.step()
    return float(w.numpy()[0])


def np_layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """(x − mean) / sqrt(var + eps) · w + b over the last axis."""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def np_gelu(x: np.ndarray) -> np.ndarray:
    """GPT-2's tanh form: 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³)))."""
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def np_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                 causal: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """softmax(q kᵀ / √d_k) v with plain NumPy (and an optional causal mask)."""
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if causal:
        t_q, t_k = s.shape[-2:]
        s = np.where(np.arange(t_k)[None, :] > np.arange(t_q)[:, None], -np.inf, s)
    w = np_softmax(s)
    return w @ v, w


def np_linear(x: np.ndarray, lin: Any) -> np.ndarray:
    """x Wᵀ + b with a ``layers.Linear``'s weights read out as NumPy."""
    y = x @ lin.weight.numpy().T
    return y if lin.bias is None else y + lin.bias.numpy()


def np_mha(x: np.ndarray, mha: Any, causal: bool = False) -> np.ndarray:
    """Multi-head self-attention in NumPy with ``mha``'s weights (F27, F28)."""
    b, t, d = x.shape
    h = mha.num_heads

    def split(y: np.ndarray) -> np.ndarray:
        return y.reshape(b, t, h, d // h).transpose(0, 2, 1, 3)

    q, k, v = (split(np_linear(x, p)) for p in (mha.q_proj, mha.k_proj, mha.v_proj))
    out, _ = np_attention(q, k, v, causal)
    return np_linear(out.transpose(0, 2, 1, 3).reshape(b, t, d), mha.out_proj)
