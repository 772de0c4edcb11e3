"""Recurrent layers (F30, F31): RNNCell, LSTMCell, RNN, LSTM, CharLSTM.

Witnesses: central differences (full Jacobian for the cells, random
directions for whole sequences), an LSTM cell forward *and backward* derived
by hand in NumPy, and the sequence layers against the cells stepped by hand.
"""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host, rand, tensor


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_gradcheck(device, nonlinearity):
    rng = np.random.default_rng(0)
    cell = layers.RNNCell(3, 4, nonlinearity=nonlinearity, device=device).double()
    x, h = rand(rng, 2, 3, device=device, grad=True), rand(rng, 2, 4, device=device, grad=True)
    assert layers.gradcheck_module(cell, x, h).passed
    ref = x.numpy() @ host(cell.weight_ih).T + host(cell.bias_ih) + \
        h.numpy() @ host(cell.weight_hh).T + host(cell.bias_hh)
    ref = np.tanh(ref) if nonlinearity == "tanh" else np.maximum(ref, 0)
    np.testing.assert_allclose(host(cell(x, h)), ref, rtol=1e-12)


def test_lstm_cell_gradcheck(device):
    rng = np.random.default_rng(1)
    cell = layers.LSTMCell(3, 2, device=device).double()
    x = rand(rng, 2, 3, device=device, grad=True)
    h, c = rand(rng, 2, 2, device=device, grad=True), rand(rng, 2, 2, device=device, grad=True)
    assert layers.gradcheck_module(CellWithState(cell), x, h, c).passed


class CellWithState(layers.Module):
    """Takes (x, h, c) as separate tensors so gradcheck perturbs the state too
    (works for LSTMCell and LSTM alike)."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, x, h, c):
        return self.cell(x, (h, c))


def numpy_lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh, gh, gc):
    """Forward and hand-derived backward of one LSTM step, pure NumPy.

    Forward: a = x W_ih^T + b_ih + h W_hh^T + b_hh, split (i, f, g, o);
    c' = f c + i g, h' = o tanh(c').
    Backward with upstream gh = dL/dh', gc = dL/dc':
      do = gh tanh(c'),  dc' = gc + gh o (1 - tanh^2 c'),
      di = dc' g, df = dc' c, dg = dc' i, dc = dc' f,
      da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)],
      dW_ih = da^T x, dW_hh = da^T h, db = sum_batch da, dx = da W_ih, dh = da W_hh.
    """
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, g, o = (sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]),
                  sigmoid(a[:, 3 * H:]))
    c_new = f * c + i * g
    tc = np.tanh(c_new)
    h_new = o * tc
    do = gh * tc
    dc_new = gc + gh * o * (1 - tc ** 2)
    di, df, dg, dc = dc_new * g, dc_new * c, dc_new * i, dc_new * f
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2),
                         do * o * (1 - o)], axis=1)
    grads = {"weight_ih": da.T @ x, "weight_hh": da.T @ h, "bias_ih": da.sum(0),
             "bias_hh": da.sum(0), "x": da @ W_ih, "h": da @ W_hh, "c": dc}
    return h_new, c_new, grads


def test_lstm_cell_matches_hand_derived_numpy_backward(device):
    rng = np.random.default_rng(2)
    B, I, H = 3, 4, 5
    cell = layers.LSTMCell(I, H, device=device).double()
    xs = {k: rng.standard_normal(s) for k, s in
          {"x": (B, I), "h": (B, H), "c": (B, H), "gh": (B, H), "gc": (B, H)}.items()}
    x, h, c = (tensor(xs[k], device, grad=True) for k in ("x", "h", "c"))
    h_new, c_new = cell(x, (h, c))
    (h_new * tensor(xs["gh"], device) + c_new * tensor(xs["gc"], device)).sum().backward()
    p = {n: host(t) for n, t in cell.named_parameters()}
    h_ref, c_ref, g_ref = numpy_lstm_cell(xs["x"], xs["h"], xs["c"], p["weight_ih"],
                                          p["weight_hh"], p["bias_ih"], p["bias_hh"],
                                          xs["gh"], xs["gc"])
    np.testing.assert_allclose(host(h_new), h_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(c_new), c_ref, rtol=1e-12, atol=1e-14)
    for name, t in cell.named_parameters():
        np.testing.assert_allclose(host(t.grad), g_ref[name], rtol=1e-10, atol=1e-12)
    for name, t in (("x", x), ("h", h), ("c", c)):
        np.testing.assert_allclose(host(t.grad), g_ref[name], rtol=1e-10, atol=1e-12)


def test_cells_use_pytorch_layout_and_zero_default_state():
    cell = layers.LSTMCell(3, 5)
    assert [(n, p.shape) for n, p in cell.named_parameters()] == [
        ("weight_ih", (20, 3)), ("weight_hh", (20, 5)), ("bias_ih", (20,)), ("bias_hh", (20,))]
    x = mg.randn(2, 3)
    zero = mg.zeros(2, 5)
    h1, c1 = cell(x)
    h2, c2 = cell(x, (zero, zero))
    assert np.array_equal(host(h1), host(h2)) and np.array_equal(host(c1), host(c2))
    with pytest.raises(mg.ShapeError, match="input must have shape"):
        cell(mg.randn(2, 4))
    nobias = layers.RNNCell(2, 3, bias=False)
    assert nobias.num_parameters() == 2 * 3 + 3 * 3 and "bias=False" in repr(nobias)
    with pytest.raises(ValueError):
        layers.RNNCell(2, 3, nonlinearity="sigmoid")


# ---------------------------------------------------------------------------
# sequences
# ---------------------------------------------------------------------------
def test_lstm_equals_the_cell_stepped_by_hand(device):
    rng = np.random.default_rng(3)
    B, T, I, H = 2, 5, 3, 4
    lstm = layers.LSTM(I, H, num_layers=2, device=device).double()
    cells = [layers.LSTMCell(I if k == 0 else H, H, device=device).double() for k in range(2)]
    for k, cell in enumerate(cells):
        cell.load_state_dict({n: lstm.state_dict()[f"{n}_l{k}"] for n in cell.state_dict()})
    x = rand(rng, B, T, I, device=device)
    h0, c0 = rand(rng, 2, B, H, device=device), rand(rng, 2, B, H, device=device)
    out, (h_n, c_n) = lstm(x, (h0, c0))
    states = [(h0[k], c0[k]) for k in range(2)]
    expected = []
    for t in range(T):
        inp = x[:, t]
        for k, cell in enumerate(cells):
            states[k] = cell(inp, states[k])
            inp = states[k][0]
        expected.append(host(inp))
    np.testing.assert_allclose(host(out), np.stack(expected, axis=1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(h_n), np.stack([host(s[0]) for s in states]), rtol=1e-12)
    np.testing.assert_allclose(host(c_n), np.stack([host(s[1]) for s in states]), rtol=1e-12)


def test_rnn_equals_the_cell_stepped_by_hand(device):
    rng = np.random.default_rng(4)
    rnn = layers.RNN(3, 4, device=device).double()
    cell = layers.RNNCell(3, 4, device=device).double()
    cell.load_state_dict({n: rnn.state_dict()[f"{n}_l0"] for n in cell.state_dict()})
    x = rand(rng, 2, 6, 3, device=device)
    out, h_n = rnn(x)
    h = None
    for t in range(6):
        h = cell(x[:, t], h)
        np.testing.assert_allclose(host(out[:, t]), host(h), rtol=1e-12)
    assert h_n.shape == (1, 2, 4)
    np.testing.assert_allclose(host(h_n[0]), host(h), rtol=1e-12)


def test_lstm_gradcheck_two_layers(device):
    rng = np.random.default_rng(5)
    lstm = layers.LSTM(3, 4, num_layers=2, device=device).double()
    x = rand(rng, 2, 4, 3, device=device, grad=True)
    h0, c0 = rand(rng, 2, 2, 4, device=device, grad=True), rand(rng, 2, 2, 4, device=device,
                                                                  grad=True)
    assert layers.gradcheck_module(CellWithState(lstm), x, h0, c0, fast=True).passed
    small = layers.LSTM(2, 2, device=device).double()
    assert layers.gradcheck_module(small, rand(rng, 1, 3, 2, device=device, grad=True)).passed


def test_rnn_gradcheck(device):
    rng = np.random.default_rng(6)
    rnn = layers.RNN(3, 3, num_layers=2, nonlinearity="tanh", device=device).double()
    x = rand(rng, 2, 4, 3, device=device, grad=True)
    assert layers.gradcheck_module(rnn, x, fast=True).passed


def test_batch_first_false_is_the_transposed_layout(device):
    rng = np.random.default_rng(7)
    a = layers.LSTM(3, 4, batch_first=True, device=device).double()
    b = layers.LSTM(3, 4, batch_first=False, device=device).double()
    b.load_state_dict(a.state_dict())
    x = rng.standard_normal((2, 5, 3))
    out_a, (h_a, _) = a(tensor(x, device))
    out_b, (h_b, _) = b(tensor(x.transpose(1, 0, 2), device))
    assert out_b.shape == (5, 2, 4)
    np.testing.assert_allclose(host(out_b).transpose(1, 0, 2), host(out_a), rtol=1e-12)
    np.testing.assert_allclose(host(h_b), host(h_a), rtol=1e-12)


def test_lstm_dropout_between_layers_only_in_training():
    mg.manual_seed(0)
    lstm = layers.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = mg.randn(2, 4, 3)
    lstm.eval()
    first, second = host(lstm(x)[0]), host(lstm(x)[0])
    assert np.array_equal(first, second)
    lstm.train()
    assert not np.allclose(host(lstm(x)[0]), first)
    single = layers.LSTM(3, 8, num_layers=1, dropout=0.5)   # no layer after the last: no-op
    assert np.array_equal(host(single(x)[0]), host(single(x)[0]))


def test_recurrent_shape_errors():
    lstm = layers.LSTM(3, 4, num_layers=2)
    with pytest.raises(mg.ShapeError, match="3-d"):
        lstm(mg.randn(4, 3))
    with pytest.raises(mg.ShapeError, match="initial state"):
        lstm(mg.randn(2, 5, 3), (mg.zeros(1, 2, 4), mg.zeros(1, 2, 4)))
    with pytest.raises(ValueError):
        layers.LSTM(3, 4, num_layers=0)
    assert [n for n, _ in lstm.named_parameters()][:5] == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1"]


# ---------------------------------------------------------------------------
# CharLSTM (F31)
# ---------------------------------------------------------------------------
def test_char_lstm_shapes_state_and_gradcheck(device):
    model = layers.CharLSTM(vocab_size=7, embed_dim=4, hidden_size=5, device=device).double()
    ids = np.array([[1, 2, 3, 4], [6, 5, 0, 1]])
    logits, (h, c) = model(ids, return_state=True)
    assert logits.shape == (2, 4, 7) and h.shape == c.shape == (1, 2, 5)
    # feeding the sequence in two halves with the carried state gives the same logits
    first, state = model(ids[:, :2], return_state=True)
    second = model(ids[:, 2:], state)
    np.testing.assert_allclose(np.concatenate([host(first), host(second)], axis=1), host(logits),
                               rtol=1e-12)
    assert layers.gradcheck_module(model, ids, fast=True).passed
    out = model.generate([[1, 2], [3, 4]], 3, seed=0)
    assert out.shape == (2, 5) and out.dtype == np.int64 and model.training
    assert np.array_equal(out, model.generate([[1, 2], [3, 4]], 3, seed=0))


def test_char_lstm_learns_and_generates():
    mg.manual_seed(0)
    text = "abcabcabcabc"
    ids = np.array([[ord(ch) - ord("a") for ch in text]])
    model = layers.CharLSTM(vocab_size=3, embed_dim=4, hidden_size=8)
    params = list(model.parameters())
    for _ in range(150):
        loss = mg.cross_entropy(model(ids[:, :-1]), ids[:, 1:])
        model.zero_grad()
        loss.backward()
        with mg.no_grad():
            for p in params:
                p.sub_(p.grad * 0.5)
    assert loss.item() < 0.1
    out = model.generate([0], 8, temperature=0)
    assert out.dtype == np.int64 and "".join("abc"[i] for i in out) == "abcabcabc"
