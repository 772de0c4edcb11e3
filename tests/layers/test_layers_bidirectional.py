"""Bidirectional RNN / LSTM (``layers/recurrent.py``): PyTorch's parameter names
and shapes (written here from the ``torch.nn.LSTM`` / ``torch.nn.RNN``
documentation), the output layout, a forward against a plain NumPy loop over the
sequence in both directions, and gradchecks on every device."""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host, rand, tensor


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def np_lstm_direction(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One direction over time-major x (T, B, I); returns (outputs (T, B, H), h, c)."""
    H = h.shape[-1]
    outs = []
    for x_t in x:
        z = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs), h, c


def np_rnn_direction(x, h, w_ih, w_hh, b_ih, b_hh, act=np.tanh):
    outs = []
    for x_t in x:
        h = act(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        outs.append(h)
    return np.stack(outs), h


def np_bidirectional(kind, params, x, h0, c0, num_layers):
    """PyTorch's documented semantics: the reverse direction reads x_T..x_1, its outputs
    are re-reversed and concatenated after the forward ones; h_n index = 2 layer + dir."""
    seq, hn, cn = x, [], []
    for k in range(num_layers):
        outs = []
        for d, sfx in enumerate(("", "_reverse")):
            p = [params[f"{n}_l{k}{sfx}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            inp = seq if d == 0 else seq[::-1]
            if kind == "lstm":
                out, h, c = np_lstm_direction(inp, h0[2 * k + d], c0[2 * k + d], *p)
                cn.append(c)
            else:
                out, h = np_rnn_direction(inp, h0[2 * k + d], *p)
            outs.append(out if d == 0 else out[::-1])
            hn.append(h)
        seq = np.concatenate(outs, axis=-1)
    return seq, np.stack(hn), (np.stack(cn) if cn else None)


def documented_names(num_layers, bias=True):
    """torch.nn.LSTM / RNN docs: weight_ih_l[k], weight_hh_l[k], bias_ih_l[k], bias_hh_l[k],
    and the same with suffix _reverse for bidirectional, per layer, forward first."""
    names = []
    for k in range(num_layers):
        for sfx in ("", "_reverse"):
            names += [f"weight_ih_l{k}{sfx}", f"weight_hh_l{k}{sfx}"]
            if bias:
                names += [f"bias_ih_l{k}{sfx}", f"bias_hh_l{k}{sfx}"]
    return names


@pytest.mark.parametrize("cls,gates", [(layers.LSTM, 4), (layers.RNN, 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_parameter_names_and_shapes_follow_pytorch(cls, gates, bias):
    I, H = 3, 5
    m = cls(I, H, num_layers=2, bidirectional=True, bias=bias)
    shapes = {n: p.shape for n, p in m.named_parameters()}
    assert list(shapes) == documented_names(2, bias)
    # docs: layer 0 weight_ih (gates*H, I); layers k>0 weight_ih (gates*H, 2H); weight_hh (gates*H, H)
    for sfx in ("", "_reverse"):
        assert shapes[f"weight_ih_l0{sfx}"] == (gates * H, I)
        assert shapes[f"weight_ih_l1{sfx}"] == (gates * H, 2 * H)
        assert shapes[f"weight_hh_l1{sfx}"] == (gates * H, H)
        if bias:
            assert shapes[f"bias_hh_l1{sfx}"] == (gates * H,)
    assert "bidirectional=True" in repr(m)


@pytest.mark.parametrize("kind", ["lstm", "rnn"])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_forward_matches_a_numpy_loop_in_both_directions(device, kind, batch_first, num_layers):
    rng = np.random.default_rng(11)
    B, T, I, H = 3, 4, 2, 3
    cls = layers.LSTM if kind == "lstm" else layers.RNN
    m = cls(I, H, num_layers=num_layers, batch_first=batch_first, bidirectional=True,
            device=device).double()
    params = {n: host(p) for n, p in m.named_parameters()}
    x_tm = rng.standard_normal((T, B, I))                     # time-major for the reference
    h0, c0 = rng.standard_normal((2, 2 * num_layers, B, H))
    x_in = x_tm.transpose(1, 0, 2) if batch_first else x_tm
    if kind == "lstm":
        out, (h_n, c_n) = m(tensor(x_in, device), (tensor(h0, device), tensor(c0, device)))
    else:
        out, h_n = m(tensor(x_in, device), tensor(h0, device))
    want_out, want_h, want_c = np_bidirectional(kind, params, x_tm, h0, c0, num_layers)
    got = host(out).transpose(1, 0, 2) if batch_first else host(out)
    assert out.shape == ((B, T, 2 * H) if batch_first else (T, B, 2 * H))
    np.testing.assert_allclose(got, want_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(h_n), want_h, rtol=1e-12, atol=1e-14)
    if kind == "lstm":
        np.testing.assert_allclose(host(c_n), want_c, rtol=1e-12, atol=1e-14)
    # the last step of the forward half and the first step of the reverse half are h_n's
    top = 2 * (num_layers - 1)
    last_t = host(out)[:, -1] if batch_first else host(out)[-1]
    first_t = host(out)[:, 0] if batch_first else host(out)[0]
    np.testing.assert_allclose(last_t[:, :H], host(h_n)[top], rtol=1e-14)
    np.testing.assert_allclose(first_t[:, H:], host(h_n)[top + 1], rtol=1e-14)


class WithState(layers.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x, h0, c0=None):
        return self.inner(x, h0 if c0 is None else (h0, c0))


def test_bidirectional_lstm_gradcheck(device):
    rng = np.random.default_rng(12)
    m = layers.LSTM(2, 3, num_layers=2, bidirectional=True, device=device).double()
    x = rand(rng, 2, 3, 2, device=device, grad=True)
    h0, c0 = (rand(rng, 4, 2, 3, device=device, grad=True) for _ in range(2))
    assert layers.gradcheck_module(WithState(m), x, h0, c0, fast=True).passed
    small = layers.LSTM(2, 2, bidirectional=True, device=device).double()
    assert layers.gradcheck_module(small, rand(rng, 1, 3, 2, device=device, grad=True)).passed


def test_bidirectional_rnn_gradcheck(device):
    rng = np.random.default_rng(13)
    m = layers.RNN(2, 3, num_layers=2, bidirectional=True, device=device).double()
    x = rand(rng, 2, 3, 2, device=device, grad=True)
    h0 = rand(rng, 4, 2, 3, device=device, grad=True)
    assert layers.gradcheck_module(WithState(m), x, h0).passed


def test_bidirectional_state_shape_error_names_the_layout():
    m = layers.LSTM(3, 4, num_layers=2, bidirectional=True)
    with pytest.raises(mg.ShapeError, match=r"\(4, 2, 4\) \(num_layers \* 2, batch, hidden\)"):
        m(mg.randn(2, 5, 3), (mg.zeros(2, 2, 4), mg.zeros(2, 2, 4)))


def test_unidirectional_layers_are_unchanged():
    """The names, the random init and the outputs of bidirectional=False stay as before."""
    mg.manual_seed(3)
    a = layers.LSTM(3, 4, num_layers=2)
    mg.manual_seed(3)
    b = layers.LSTM(3, 4, num_layers=2, bidirectional=False)
    forward_only = [n for n in documented_names(2) if "reverse" not in n]
    assert list(a.state_dict()) == list(b.state_dict()) == forward_only
    for k in a.state_dict():
        np.testing.assert_array_equal(a.state_dict()[k], b.state_dict()[k])
    assert "bidirectional" not in repr(a)
