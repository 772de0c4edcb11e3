"""Optional third witness: the same weights in PyTorch give the same outputs and
gradients. Skipped when torch is not installed (it is never a dependency).

Run locally with a torch-enabled interpreter, e.g.
``python3 -m venv /tmp/tenv --system-site-packages && /tmp/tenv/bin/pip install torch``
then ``/tmp/tenv/bin/python -m pytest tests/layers/test_layers_torch.py``.
"""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host, tensor

torch = pytest.importorskip("torch")


def t64(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_lstm_matches_torch(device, num_layers):
    rng = np.random.default_rng(0)
    B, T, I, H = 3, 5, 4, 6
    ours = layers.LSTM(I, H, num_layers=num_layers, device=device).double()
    ref = torch.nn.LSTM(I, H, num_layers=num_layers, batch_first=True, dtype=torch.float64)
    with torch.no_grad():                       # same parameter names and layouts
        for name, value in ours.state_dict().items():
            getattr(ref, name).copy_(torch.from_numpy(value))
    x_np, h0_np, c0_np = (rng.standard_normal(s) for s in
                          ((B, T, I), (num_layers, B, H), (num_layers, B, H)))
    g_np = rng.standard_normal((B, T, H))
    x, h0, c0 = (tensor(a, device, grad=True) for a in (x_np, h0_np, c0_np))
    out, (h_n, c_n) = ours(x, (h0, c0))
    ((out * tensor(g_np, device)).sum() + h_n.sum() + c_n.sum()).backward()

    xt, h0t, c0t = (t64(a, grad=True) for a in (x_np, h0_np, c0_np))
    out_t, (h_t, c_t) = ref(xt, (h0t, c0t))
    ((out_t * t64(g_np)).sum() + h_t.sum() + c_t.sum()).backward()

    for a, b in ((out, out_t), (h_n, h_t), (c_n, c_t), (x.grad, xt.grad), (h0.grad, h0t.grad),
                 (c0.grad, c0t.grad)):
        np.testing.assert_allclose(host(a), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(host(p.grad), getattr(ref, name).grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("causal", [False, True])
def test_multihead_attention_matches_torch(device, causal):
    rng = np.random.default_rng(1)
    B, T, d, heads = 2, 5, 8, 2
    ours = layers.MultiHeadAttention(d, heads, device=device).double()
    ref = torch.nn.MultiheadAttention(d, heads, batch_first=True, dtype=torch.float64)
    s = ours.state_dict()
    with torch.no_grad():                       # torch packs q, k, v into one in_proj
        ref.in_proj_weight.copy_(torch.from_numpy(np.concatenate(
            [s["q_proj.weight"], s["k_proj.weight"], s["v_proj.weight"]])))
        ref.in_proj_bias.copy_(torch.from_numpy(np.concatenate(
            [s["q_proj.bias"], s["k_proj.bias"], s["v_proj.bias"]])))
        ref.out_proj.weight.copy_(torch.from_numpy(s["out_proj.weight"]))
        ref.out_proj.bias.copy_(torch.from_numpy(s["out_proj.bias"]))
    x_np, g_np = rng.standard_normal((B, T, d)), rng.standard_normal((B, T, d))
    pad = np.zeros((B, T), bool)
    pad[0, -2:] = True
    x = tensor(x_np, device, grad=True)
    out, w = ours(x, causal=causal, key_padding_mask=pad, return_weights=True)
    (out * tensor(g_np, device)).sum().backward()

    xt = t64(x_np, grad=True)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1) if causal else None
    out_t, w_t = ref(xt, xt, xt, key_padding_mask=torch.from_numpy(pad), attn_mask=mask,
                     need_weights=True, average_attn_weights=False)
    (out_t * t64(g_np)).sum().backward()

    np.testing.assert_allclose(host(out), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(w), w_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(x.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    grads = {n: host(p.grad) for n, p in ours.named_parameters()}
    np.testing.assert_allclose(np.concatenate([grads["q_proj.weight"], grads["k_proj.weight"],
                                               grads["v_proj.weight"]]),
                               ref.in_proj_weight.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([grads["q_proj.bias"], grads["k_proj.bias"],
                                               grads["v_proj.bias"]]),
                               ref.in_proj_bias.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["out_proj.weight"], ref.out_proj.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


def test_linear_layernorm_gelu_and_init_conventions_match_torch():
    rng = np.random.default_rng(2)
    lin, ln = layers.Linear(5, 3).double(), layers.LayerNorm(3).double()
    layers.init.normal_(ln.weight)
    ref_lin = torch.nn.Linear(5, 3, dtype=torch.float64)
    ref_ln = torch.nn.LayerNorm(3, dtype=torch.float64)
    ref_lin.load_state_dict({k: torch.from_numpy(v) for k, v in lin.state_dict().items()})
    ref_ln.load_state_dict({k: torch.from_numpy(v) for k, v in ln.state_dict().items()})
    x = rng.standard_normal((4, 5))
    ours = layers.GELU()(ln(lin(mg.Tensor(x))))
    want = torch.nn.functional.gelu(ref_ln(ref_lin(t64(x))), approximate="tanh")
    np.testing.assert_allclose(host(ours), want.detach().numpy(), rtol=1e-10)
    # same names and shapes as torch's modules, so weights load both ways
    assert {k: tuple(v.shape) for k, v in torch.nn.LSTMCell(3, 4).state_dict().items()} == \
        {k: v.shape for k, v in layers.LSTMCell(3, 4).state_dict().items()}
