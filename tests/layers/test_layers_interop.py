"""``layers.to_torch_state_dict`` / ``from_torch_state_dict`` without PyTorch: the key
names and shapes are those of PyTorch's documentation (written out here by hand from
the docs of nn.Linear, nn.Sequential, nn.Embedding, nn.LayerNorm, nn.LSTM, nn.RNN,
nn.MultiheadAttention and nn.TransformerEncoderLayer -- not from the code under test),
and minigrad -> dict -> a fresh minigrad module gives the same weights and outputs.
The transfers to and from PyTorch itself are in test_layers_interop_torch.py."""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from layers_util import host

D, H, FF = 8, 2, 12


def _shapes(sd):
    return {k: tuple(v.shape) for k, v in sd.items()}


def _rnn_doc_keys(gates, I, Hd, num_layers, bidirectional):
    """nn.LSTM / nn.RNN docs: weight_ih_l[k] (gates*H, I for k=0 else num_dirs*H),
    weight_hh_l[k] (gates*H, H), bias_ih_l[k], bias_hh_l[k] (gates*H,), '_reverse' twins."""
    out = {}
    dirs = 2 if bidirectional else 1
    for k in range(num_layers):
        n_in = I if k == 0 else dirs * Hd
        for sfx in ("", "_reverse")[:dirs]:
            out[f"weight_ih_l{k}{sfx}"] = (gates * Hd, n_in)
            out[f"weight_hh_l{k}{sfx}"] = (gates * Hd, Hd)
            out[f"bias_ih_l{k}{sfx}"] = (gates * Hd,)
            out[f"bias_hh_l{k}{sfx}"] = (gates * Hd,)
    return out


MHA_DOC = {"in_proj_weight": (3 * D, D), "in_proj_bias": (3 * D,),
           "out_proj.weight": (D, D), "out_proj.bias": (D,)}
ENCODER_LAYER_DOC = {
    **{f"self_attn.{k}": v for k, v in MHA_DOC.items()},
    "linear1.weight": (FF, D), "linear1.bias": (FF,),
    "linear2.weight": (D, FF), "linear2.bias": (D,),
    "norm1.weight": (D,), "norm1.bias": (D,), "norm2.weight": (D,), "norm2.bias": (D,),
}

CASES = {
    # name: (factory, PyTorch's documented keys and shapes)
    "Linear": (lambda: layers.Linear(5, 3), {"weight": (3, 5), "bias": (3,)}),
    "Linear_nobias": (lambda: layers.Linear(5, 3, bias=False), {"weight": (3, 5)}),
    # nn.Sequential(Linear(4,6), ReLU(), Linear(6,5), ReLU(), Linear(5,3)): indices 0, 2, 4
    "MLP": (lambda: layers.MLP([4, 6, 5, 3]),
            {"0.weight": (6, 4), "0.bias": (6,), "2.weight": (5, 6), "2.bias": (5,),
             "4.weight": (3, 5), "4.bias": (3,)}),
    # with dropout: Linear, act, Dropout, Linear -> indices 0, 3
    "MLP_dropout": (lambda: layers.MLP([4, 6, 3], dropout=0.1),
                    {"0.weight": (6, 4), "0.bias": (6,), "3.weight": (3, 6), "3.bias": (3,)}),
    "Embedding": (lambda: layers.Embedding(10, 4), {"weight": (10, 4)}),
    "LayerNorm": (lambda: layers.LayerNorm(6), {"weight": (6,), "bias": (6,)}),
    "LSTM": (lambda: layers.LSTM(3, 4, num_layers=2), _rnn_doc_keys(4, 3, 4, 2, False)),
    "LSTM_bi": (lambda: layers.LSTM(3, 4, num_layers=2, bidirectional=True),
                _rnn_doc_keys(4, 3, 4, 2, True)),
    "RNN_bi": (lambda: layers.RNN(3, 4, num_layers=2, bidirectional=True),
               _rnn_doc_keys(1, 3, 4, 2, True)),
    "MultiHeadAttention": (lambda: layers.MultiHeadAttention(D, H), MHA_DOC),
    "TransformerBlock": (lambda: layers.TransformerBlock(D, H, FF), ENCODER_LAYER_DOC),
    "TransformerBlock_postLN": (lambda: layers.TransformerBlock(D, H, FF, activation="relu",
                                                                norm_first=False),
                                ENCODER_LAYER_DOC),
}


@pytest.mark.parametrize("name", list(CASES))
def test_keys_and_shapes_are_pytorchs(name):
    factory, documented = CASES[name]
    assert _shapes(layers.to_torch_state_dict(factory())) == documented


def test_gpt_mapping_is_the_documented_one():
    V, T, L = 11, 6, 2
    sd = layers.to_torch_state_dict(layers.GPT(V, D, H, L, T, d_ff=FF))
    want = {"tok_emb.weight": (V, D), "pos_emb.weight": (T, D),
            "ln_f.weight": (D,), "ln_f.bias": (D,)}
    for i in range(L):
        want.update({f"blocks.{i}.{k}": v for k, v in ENCODER_LAYER_DOC.items()})
    assert _shapes(sd) == want                                  # tied: no lm_head
    untied = layers.to_torch_state_dict(layers.GPT(V, D, H, L, T, d_ff=FF, tie_weights=False))
    assert _shapes(untied) == {**want, "lm_head.weight": (V, D)}


def test_in_proj_packs_q_k_v_in_that_order():
    mha = layers.MultiHeadAttention(D, H)
    sd = layers.to_torch_state_dict(mha)
    for i, part in enumerate((mha.q_proj, mha.k_proj, mha.v_proj)):
        np.testing.assert_array_equal(sd["in_proj_weight"][i * D:(i + 1) * D], host(part.weight))
        np.testing.assert_array_equal(sd["in_proj_bias"][i * D:(i + 1) * D], host(part.bias))


def _inputs(name, rng):
    if name == "Embedding":
        return (rng.integers(0, 10, size=(2, 3)),)
    if name.startswith(("LSTM", "RNN")):
        return (mg.Tensor(rng.standard_normal((2, 4, 3)), dtype="float32"),)
    if name.startswith(("Multi", "Transformer")):
        return (mg.Tensor(rng.standard_normal((2, 3, D)), dtype="float32"),)
    n_in = {"Linear": 5, "Linear_nobias": 5, "LayerNorm": 6}.get(name, 4)
    return (mg.Tensor(rng.standard_normal((3, n_in)), dtype="float32"),)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_through_the_torch_names(name):
    factory, _ = CASES[name]
    rng = np.random.default_rng(0)
    src, dst = factory().eval(), factory().eval()
    # random values everywhere (LayerNorm starts at ones and zeros in both)
    src.load_state_dict({k: rng.standard_normal(v.shape) for k, v in src.state_dict().items()})
    x = _inputs(name, rng)
    assert not np.allclose(host(_first(src(*x))), host(_first(dst(*x))))
    sd = layers.to_torch_state_dict(src)
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert layers.from_torch_state_dict(dst, sd) is dst
    for k, v in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[k], v, err_msg=k)
    np.testing.assert_array_equal(host(_first(src(*x))), host(_first(dst(*x))))


def test_gpt_round_trip_and_outputs():
    mg.manual_seed(3)
    src = layers.GPT(11, D, H, 2, 6, d_ff=FF)
    mg.manual_seed(4)
    dst = layers.GPT(11, D, H, 2, 6, d_ff=FF)
    ids = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    layers.from_torch_state_dict(dst, layers.to_torch_state_dict(src))
    np.testing.assert_array_equal(host(src(ids)), host(dst(ids)))


def test_accepts_minigrad_tensors_and_lists_as_values():
    lin = layers.Linear(2, 2)
    layers.from_torch_state_dict(lin, {"weight": mg.Tensor(np.eye(2)), "bias": [1.0, 2.0]})
    np.testing.assert_array_equal(host(lin.weight), np.eye(2))
    np.testing.assert_array_equal(host(lin.bias), [1.0, 2.0])


def test_mismatches_are_named_and_nothing_is_loaded():
    block = layers.TransformerBlock(D, H, FF)
    before = block.state_dict()
    sd = layers.to_torch_state_dict(block)
    bad = dict(sd, **{"self_attn.extra": np.zeros(2)})
    del bad["linear1.bias"]
    with pytest.raises(layers.StateDictError) as err:
        layers.from_torch_state_dict(block, bad)
    msg = str(err.value)
    assert "from_torch_state_dict(TransformerBlock)" in msg
    assert "ff.fc1.bias" in msg and "attn.extra" in msg
    with pytest.raises(layers.StateDictError, match="in_proj_weight has shape"):
        layers.from_torch_state_dict(block, dict(sd, **{"self_attn.in_proj_weight":
                                                        np.zeros((3 * D + 3, D))}))
    for k, v in before.items():
        np.testing.assert_array_equal(block.state_dict()[k], v)


def test_a_new_pair_is_one_table_entry():
    """The extension point the CNN layers use: a Renames entry for a module type."""
    from layers.interop import CONVERTERS, Renames, register_converter

    class Tagged(layers.Module):
        def __init__(self):
            super().__init__()
            self.inner = layers.Linear(2, 3)

    register_converter(Tagged, Renames({"inner.": "fc."}, torch_only={"num_batches_tracked": 0}))
    try:
        m = Tagged()
        sd = layers.to_torch_state_dict(m)
        assert _shapes(sd) == {"fc.weight": (3, 2), "fc.bias": (3,), "num_batches_tracked": ()}
        layers.from_torch_state_dict(Tagged(), sd)
    finally:
        del CONVERTERS[Tagged]
