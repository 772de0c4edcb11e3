"""Module: registration, traversal, modes, devices, repr and parameter counts."""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host, tensor


class Affine(layers.Module):
    """A hand-made module: one parameter, one buffer, one child."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = mg.Parameter(np.ones(3))
        self.register_buffer("offset", mg.Tensor(np.zeros(3)))
        self.inner = layers.Linear(3, 2)
        self.note = "plain attribute"

    def forward(self, x):
        return self.inner(x * self.scale + self.offset)


def test_registration_and_dotted_names():
    m = Affine()
    assert list(m._parameters) == ["scale"]
    assert list(m._modules) == ["inner"]
    assert [n for n, _ in m.named_parameters()] == ["scale", "inner.weight", "inner.bias"]
    assert [n for n, _ in m.named_modules()] == ["", "inner"]
    assert list(m.children()) == [m.inner]
    assert m.note == "plain attribute" and "note" not in m._parameters
    assert list(m.state_dict()) == ["scale", "inner.weight", "inner.bias", "offset"]
    # re-assigning a plain value removes the registration
    m.scale = None
    assert "scale" not in m._parameters and m.scale is None
    del m.inner
    assert not m._modules
    with pytest.raises(AttributeError):
        _ = m.inner


def test_forgetting_super_init_is_a_clear_error():
    class Broken(layers.Module):
        def __init__(self):
            self.w = mg.Parameter(np.ones(2))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_shared_parameter_is_listed_once():
    a = layers.Linear(2, 2)
    seq = layers.Sequential(a, layers.ReLU(), a)
    assert len(list(seq.parameters())) == 2
    assert seq.num_parameters() == 6
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]


def test_zero_grad_train_eval_and_freezing():
    m = layers.MLP([3, 4, 2], dropout=0.5)
    x = mg.randn(5, 3)
    m(x).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    assert all(mod.training for mod in m.train().modules())
    m.requires_grad_(False)
    assert m.num_parameters(trainable_only=True) == 0 and m.num_parameters() == 26
    m.requires_grad_(True)


def test_get_parameter_and_functional_call():
    m = layers.MLP([2, 3, 1])
    assert m.get_parameter("2.bias") is m[2].bias
    with pytest.raises(KeyError):
        m.get_parameter("5.weight")
    x = mg.randn(4, 2)
    w = mg.zeros(1, 3)
    out = layers.functional_call(m, {"2.weight": w}, x)
    assert np.allclose(host(out), np.broadcast_to(host(m[2].bias), (4, 1)))
    assert m[2].weight is m.get_parameter("2.weight")  # restored
    with pytest.raises(KeyError, match="no parameter"):
        layers.functional_call(m, {"nope": w}, x)


def test_sequential_and_modulelist_containers():
    seq = layers.Sequential(layers.Linear(2, 3), layers.Tanh(), layers.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[1], layers.Tanh)
    head = seq[:2]
    assert isinstance(head, layers.Sequential) and len(head) == 2 and head[0] is seq[0]
    x = mg.randn(4, 2)
    assert np.allclose(host(seq(x)), host(seq[2](seq[1](seq[0](x)))))
    ml = layers.ModuleList([layers.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    with pytest.raises(TypeError):
        ml.append("not a module")
    with pytest.raises(NotImplementedError):
        ml(x)


MLP_REPR = """MLP(
  (0): Linear(in_features=4, out_features=8, bias=True)  # 40 params
  (1): ReLU()
  (2): Dropout(p=0.1)
  (3): Linear(in_features=8, out_features=8, bias=True)  # 72 params
  (4): ReLU()
  (5): Dropout(p=0.1)
  (6): Linear(in_features=8, out_features=3, bias=True)  # 27 params
  (7): Softmax(axis=-1)
)  # 139 params"""


def test_mlp_repr_and_hand_counted_parameters():
    m = layers.MLP([4, 8, 8, 3], activation="relu", output_activation="softmax", dropout=0.1)
    # 4*8+8 = 40, 8*8+8 = 72, 8*3+3 = 27  ->  139
    assert m.num_parameters() == 40 + 72 + 27
    assert repr(m) == MLP_REPR


def test_repr_collapses_repeated_numbered_children():
    enc = layers.TransformerEncoder(3, d_model=8, num_heads=2, d_ff=16)
    text = repr(enc)
    assert "(0-2): 3 x TransformerBlock(" in text
    assert "(q_proj): Linear(in_features=8, out_features=8, bias=True)  # 72 params" in text
    # per block: 2 LayerNorms 2*16, attention 4*72, FFN (8*16+16) + (16*8+8)  = 600
    assert enc.num_parameters() == 3 * 600 + 16
    assert text.endswith(f")  # {enc.num_parameters():,} params")
    assert repr(layers.LSTM(3, 4, 2)) == \
        "LSTM(3, 4, num_layers=2, batch_first=True)  # 304 params"


def test_hand_counted_parameters_of_the_models():
    V, d, L, T, ff = 11, 8, 2, 16, 32
    block = 2 * 2 * d + 4 * (d * d + d) + (d * ff + ff) + (ff * d + d)
    gpt = layers.GPT(V, d, num_heads=2, num_layers=L, max_len=T, d_ff=ff)
    assert gpt.num_parameters() == V * d + T * d + L * block + 2 * d
    untied = layers.GPT(V, d, num_heads=2, num_layers=L, max_len=T, d_ff=ff, tie_weights=False)
    assert untied.num_parameters() == gpt.num_parameters() + V * d
    char = layers.CharLSTM(vocab_size=20, embed_dim=16, hidden_size=32)
    assert char.num_parameters() == 20 * 16 + 4 * 32 * (16 + 32 + 2) + 32 * 20 + 20


@pytest.mark.parametrize("target", ["fake", "cpu"])
def test_to_device_moves_in_place_and_keeps_identity(target):
    m = layers.MLP([3, 4, 2])
    before = {n: id(p) for n, p in m.named_parameters()}
    values = m.state_dict()
    m(mg.randn(2, 3)).sum().backward()
    assert m.to(target) is m
    assert {n: id(p) for n, p in m.named_parameters()} == before
    assert all(p.device == target for p in m.parameters())
    assert all(p.grad.device == target for p in m.parameters())
    assert all(np.array_equal(values[k], v) for k, v in m.state_dict().items())
    out = m(tensor(np.ones((2, 3)), target, dtype="float32"))
    assert out.device == target
    m.to("cpu")


def test_deepcopy_gives_an_independent_model():
    import copy
    m = layers.GPT(10, 8, 2, 1, 4)
    c = copy.deepcopy(m)
    assert all(a is not b for a, b in zip(m.parameters(), c.parameters()))
    ids = np.array([[1, 2, 3]])
    np.testing.assert_array_equal(host(m(ids)), host(c(ids)))
    with mg.no_grad():
        c.tok_emb.weight.add_(1.0)
    assert not np.allclose(host(m(ids)), host(c(ids)))
    assert isinstance(layers.StateDictError("x"), mg.MinigradError)


def test_to_dtype_and_double():
    m = layers.SinusoidalPositionalEncoding(4, 6)
    lin = layers.Linear(2, 2)
    lin.double()
    assert lin.weight.dtype == np.float64
    m.to("float64")
    assert m.pe.dtype == np.float64
    lin.float()
    assert lin.weight.dtype == np.float32
