"""layers: neural-network building blocks written on minigrad's ops.

Everything here is ordinary minigrad code: no layer defines a backward of its
own. Some layers do reach *fused* ops, one graph node with a hand-derived
backward (``minigrad/ops/fused.py``, ``minigrad/ops/nn.py``): ``Linear``
(and every layer built on it) runs the fused ``linear``, ``LayerNorm`` the
fused ``layer_norm``, ``LSTM``/``LSTMCell``/``CharLSTM`` the fused ``lstm``
(BPTT by hand), attention the fused ``masked_softmax``, GELU activations the
fused ``gelu``, and ``cross_entropy`` a fused backward. To see every
primitive op instead -- in the graph, the trace and the debugger -- run the
layer under ``with minigrad.use_fused(False):`` (or set ``MINIGRAD_FUSED=0``):
each fused op then runs its composed twin, with the same values, gradients
and second derivatives (``tests/layers/test_layers_composed.py``). The tests
check each layer against central differences (``gradcheck_module``), against
hand-derived NumPy backward passes, and optionally against PyTorch.

Files, one job each:

* ``module.py``        Module, Sequential, ModuleList, functional_call
* ``init.py``          weight initialisers (xavier_*, kaiming_*, normal_, ...)
* ``linear.py``        Linear                                   F01, F02
* ``activations.py``   ReLU, Sigmoid, Tanh, GELU, LeakyReLU, Softmax, Identity   F06-F09
* ``mlp.py``           MLP                                      F04, F05
* ``embedding.py``     Embedding
* ``norm.py``          LayerNorm
* ``dropout.py``       Dropout                                  F20
* ``recurrent.py``     RNNCell, LSTMCell, RNN, LSTM             F30
* ``char_lstm.py``     CharLSTM                                 F31
* ``attention.py``     scaled_dot_product_attention, MultiHeadAttention   F26-F28
* ``positional.py``    Sinusoidal/LearnedPositionalEncoding
* ``transformer.py``   FeedForward, TransformerBlock, TransformerEncoder  F28
* ``classifier.py``    TransformerClassifier                    F29, X4
* ``gpt.py``           GPT                                      F26-F29
* ``serialization.py`` save / load (.npz, no pickle, atomic)
* ``gradcheck.py``     gradcheck_module
* ``conv.py``          Conv2d, Conv1d                           F33
* ``pooling.py``       MaxPool2d, AvgPool2d, Flatten            F34
* ``batchnorm.py``     BatchNorm1d, BatchNorm2d
"""
from __future__ import annotations

from . import init
from .activations import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, get_activation
from .attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from .char_lstm import CharLSTM
from .classifier import TransformerClassifier
from .dropout import Dropout
from .embedding import Embedding
from .gpt import GPT
from .gradcheck import gradcheck_module
from .linear import Linear
from .mlp import MLP
from .module import (LoadResult, Module, ModuleList, Sequential, StateDictError,
                     functional_call)
from .norm import LayerNorm
from .positional import (LearnedPositionalEncoding, SinusoidalPositionalEncoding,
                         sinusoidal_table)
from .recurrent import LSTM, RNN, LSTMCell, RNNCell, lstm_cell, rnn_cell
from .serialization import load, save
from .transformer import FeedForward, TransformerBlock, TransformerEncoder
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv1d, Conv2d
from .pooling import AvgPool2d, Flatten, MaxPool2d

__all__ = [
    "init", "Module", "Sequential", "ModuleList", "functional_call", "LoadResult",
    "StateDictError", "Linear", "ReLU", "Sigmoid", "Tanh", "GELU", "LeakyReLU", "Softmax",
    "Identity", "get_activation", "MLP", "Embedding", "LayerNorm", "Dropout", "RNNCell",
    "LSTMCell", "RNN", "LSTM", "rnn_cell", "lstm_cell", "CharLSTM",
    "scaled_dot_product_attention", "causal_mask", "MultiHeadAttention",
    "SinusoidalPositionalEncoding", "LearnedPositionalEncoding", "sinusoidal_table",
    "FeedForward", "TransformerBlock", "TransformerEncoder", "TransformerClassifier", "GPT",
    "save", "load", "gradcheck_module",
    "Conv2d", "Conv1d", "MaxPool2d", "AvgPool2d", "Flatten", "BatchNorm1d", "BatchNorm2d",
]

# PyTorch state-dict interop (layers/interop.py)
from .interop import from_torch_state_dict, to_torch_state_dict  # noqa: E402

__all__ += ["to_torch_state_dict", "from_torch_state_dict"]
