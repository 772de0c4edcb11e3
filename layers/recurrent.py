"""Recurrent layers (F30): a state carried from step to step.

Plain RNN cell -- each step mixes the current input with the previous state:

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

LSTM cell -- a memory c_t guarded by three gates (input i, forget f, output o)
and a candidate g. The weights of the four gates are stacked (rows [i; f; g; o],
PyTorch's layout), so all four pre-activations come out of one matrix product
with the input and one with the previous state:

    [a_i, a_f, a_g, a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      (B, 4H)
    i = sigmoid(a_i),  f = sigmoid(a_f),  g = tanh(a_g),  o = sigmoid(a_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

``LSTMCell`` and ``LSTM`` run these formulas as **one fused graph node** per
layer and sequence, :func:`minigrad.ops.lstm`, whose backward (backpropagation
through time) is derived by hand in ``minigrad/ops/fused.py`` and tested
against the same formulas written with primitive ops
(:func:`minigrad.ops.fused.lstm_reference`, which autograd differentiates on
its own). Written op by op, a time step is about twenty graph nodes; fused, a
whole sequence is one, and the input products of all time steps are a single
matrix product.

The sequence layers ``RNN``/``LSTM`` run the cell over time (and over stacked
layers); their parameters are named ``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``weight_ih_l1``... with PyTorch's shapes, so
weights copy across directly. ``bidirectional=True`` adds a second set per layer
(``weight_ih_l0_reverse``...) that reads the sequence from its end, as PyTorch:
the output concatenates the two directions' hidden states on the feature axis,
[forward_t, reverse_t] (2H features; layers above the first take 2H inputs), and
h_n stacks (layer 0 forward, layer 0 reverse, layer 1 forward, ...). For the RNN the fused weight [W_ih | W_hh] is
built once per sequence, and each time step is taken from the input (or the
previous layer's list of outputs) without slicing a large intermediate, whose
backward would cost a full-size scatter per step.

F31's character model (embedding -> LSTM -> per-step dense -> softmax) is
:class:`CharLSTM` in ``char_lstm.py``.
"""
from __future__ import annotations

import math
from typing import Any

from minigrad import ops
from minigrad.errors import ShapeError
from minigrad.tensor import Parameter, Tensor

from . import init
from .module import Module

__all__ = ["fuse_weights", "rnn_cell", "lstm_cell", "RNNCell", "LSTMCell", "RNN", "LSTM"]

_NONLINEARITIES = ("tanh", "relu")


def _act(z: Tensor, nonlinearity: str) -> Tensor:
    return z.tanh() if nonlinearity == "tanh" else z.relu()


def fuse_weights(weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor | None = None,
                 bias_hh: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """W = [W_ih | W_hh] (rows, in + H) and b = b_ih + b_hh, so that
    x W_ih^T + h W_hh^T + b_ih + b_hh = [x, h] W^T + b is **one** matrix product."""
    w = ops.concatenate([weight_ih, weight_hh], axis=1)
    return w, (None if bias_ih is None else bias_ih + bias_hh)


def _pre_activation(x: Tensor, h: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    z = ops.concatenate([x, h], axis=-1) @ w.mT
    return z if b is None else z + b


def rnn_cell(x: Tensor, h: Tensor, weight_ih: Tensor, weight_hh: Tensor,
             bias_ih: Tensor | None = None, bias_hh: Tensor | None = None,
             nonlinearity: str = "tanh") -> Tensor:
    """One RNN step: act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    w, b = fuse_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return _act(_pre_activation(x, h, w, b), nonlinearity)


def lstm_cell(x: Tensor, state: tuple[Tensor, Tensor], weight_ih: Tensor, weight_hh: Tensor,
              bias_ih: Tensor | None = None, bias_hh: Tensor | None = None
              ) -> tuple[Tensor, Tensor]:
    """One LSTM step (formulas above): returns (h_t, c_t).

    The fused LSTM op over a sequence of length 1 (``x`` becomes (1, B, in)).
    """
    hc = ops.lstm(x.unsqueeze(0), state[0], state[1], weight_ih, weight_hh, bias_ih, bias_hh)
    return hc[0, 0], hc[1, 0]                              # (2, 1, B, H) -> h_t, c_t


def _uniform_params(module: Module, hidden_size: int) -> None:
    """PyTorch's recurrent init: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size else 0.0
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _zeros_state(x: Tensor, batch: int, hidden: int) -> Tensor:
    return Tensor._make(x.xp.zeros((batch, hidden), dtype=x.dtype), False)


class _CellBase(Module):
    gate_count = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool, dtype: Any,
                 device: str | None) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        rows = self.gate_count * self.hidden_size
        self.weight_ih = init.empty_parameter(rows, input_size, dtype=dtype, device=device)
        self.weight_hh = init.empty_parameter(rows, hidden_size, dtype=dtype, device=device)
        if bias:
            self.bias_ih = init.empty_parameter(rows, dtype=dtype, device=device)
            self.bias_hh = init.empty_parameter(rows, dtype=dtype, device=device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _uniform_params(self, self.hidden_size)

    def _check(self, x: Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ShapeError(f"{type(self).__name__}: input must have shape (batch, "
                             f"{self.input_size}), got {x.shape}")

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + \
            ("" if self.bias_ih is not None else ", bias=False")


class RNNCell(_CellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh (default) or relu.

    ``forward(x (B, in), h (B, H) or None) -> h' (B, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bias: bool = True, dtype: Any = None, device: str | None = None) -> None:
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be one of {_NONLINEARITIES}, "
                             f"got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype, device)
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        self._check(x)
        h = _zeros_state(x, x.shape[0], self.hidden_size) if h is None else h
        return rnn_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                        self.nonlinearity)

    def extra_repr(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return super().extra_repr() + extra


class LSTMCell(_CellBase):
    """One LSTM step (formulas in the module docstring).

    ``weight_ih``: (4H, in), ``weight_hh``: (4H, H), ``bias_ih``/``bias_hh``: (4H,),
    gate rows in PyTorch's order i, f, g, o.
    ``forward(x (B, in), (h, c) or None) -> (h', c')``, each (B, H).
    """

    gate_count = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, dtype, device)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        self._check(x)
        if state is None:
            zero = _zeros_state(x, x.shape[0], self.hidden_size)
            state = (zero, zero)
        return lstm_cell(x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class _RecurrentBase(Module):
    """Shared by RNN and LSTM: parameters per layer, layout, inter-layer dropout."""

    gate_count = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool,
                 batch_first: bool, dropout: float, dtype: Any, device: str | None,
                 bidirectional: bool = False) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"{type(self).__name__}: num_layers must be >= 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias = int(num_layers), bool(bias)
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if self.bidirectional else 1
        rows = self.gate_count * self.hidden_size
        for k in range(self.num_layers):   # PyTorch's order: per layer, forward then reverse
            n_in = self.input_size if k == 0 else self.hidden_size * self.num_directions
            for sfx in ("", "_reverse")[:self.num_directions]:
                setattr(self, f"weight_ih_l{k}{sfx}", init.empty_parameter(
                    rows, n_in, dtype=dtype, device=device))
                setattr(self, f"weight_hh_l{k}{sfx}", init.empty_parameter(
                    rows, self.hidden_size, dtype=dtype, device=device))
                if bias:
                    setattr(self, f"bias_ih_l{k}{sfx}", init.empty_parameter(
                        rows, dtype=dtype, device=device))
                    setattr(self, f"bias_hh_l{k}{sfx}", init.empty_parameter(
                        rows, dtype=dtype, device=device))
        _uniform_params(self, self.hidden_size)

    def layer_parameters(self, k: int, reverse: bool = False
                         ) -> tuple[Parameter, Parameter, Any, Any]:
        """(weight_ih, weight_hh, bias_ih, bias_hh) of layer ``k`` (biases None without
        bias); ``reverse=True``: those of the reverse direction (``..._l{k}_reverse``)."""
        get, sfx = self._parameters.get, "_reverse" if reverse else ""
        return (get(f"weight_ih_l{k}{sfx}"), get(f"weight_hh_l{k}{sfx}"),
                get(f"bias_ih_l{k}{sfx}"), get(f"bias_hh_l{k}{sfx}"))

    def _check_input(self, x: Tensor) -> int:
        """Check the input's shape; return the number of time steps."""
        if x.ndim != 3 or x.shape[2] != self.input_size:
            layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
            raise ShapeError(f"{type(self).__name__}: input must be 3-d {layout} with "
                             f"{self.input_size} features, got shape {x.shape}")
        steps = x.shape[1] if self.batch_first else x.shape[0]
        if steps == 0:
            raise ShapeError(f"{type(self).__name__}: the sequence is empty (shape {x.shape})")
        return steps

    def _steps(self, x: Tensor) -> list[Tensor]:
        """The input as a list of T tensors (B, features), one per time step."""
        steps = self._check_input(x)
        return [x[:, t] if self.batch_first else x[t] for t in range(steps)]

    def _output(self, steps: list[Tensor]) -> Tensor:
        return ops.stack(steps, axis=1 if self.batch_first else 0)

    def _initial(self, x: Tensor, given: Tensor | None,
                 batch: int) -> tuple[list[Tensor], list[Tensor]]:
        """The initial states, one per layer: (forward direction, reverse direction --
        empty unless bidirectional), from one validation of ``given``."""
        states = self._initial_all(x, given, batch)
        return states[0::self.num_directions], (states[1::2] if self.bidirectional else [])

    def _initial_all(self, x: Tensor, given: Tensor | None, batch: int) -> list[Tensor]:
        n = self.num_layers * self.num_directions
        if given is None:
            return [_zeros_state(x, batch, self.hidden_size)] * n
        want = (n, batch, self.hidden_size)
        if given.shape != want:
            what = "num_layers * 2" if self.bidirectional else "num_layers"
            raise ShapeError(f"{type(self).__name__}: initial state must have shape {want} "
                             f"({what}, batch, hidden), got {given.shape}")
        return [given[k] for k in range(n)]

    def _between_layers(self, outs: list[Tensor], k: int) -> list[Tensor]:
        """Dropout on the outputs of every layer but the last (as PyTorch), step by step."""
        if k < self.num_layers - 1 and self.dropout > 0.0 and self.training:
            return [ops.dropout(h, self.dropout, True) for h in outs]
        return outs

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if not self.bias:
            parts.append("bias=False")
        parts.append(f"batch_first={self.batch_first}")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        return ", ".join(parts)


class RNN(_RecurrentBase):
    """Stacked Elman RNN. ``forward(x, h0=None) -> (output, h_n)``:
    output (B, T, H) from the last layer (``batch_first``), h_n (num_layers, B, H);
    with ``bidirectional=True``: output (B, T, 2H), h_n (2 num_layers, B, H)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = True, dropout: float = 0.0, nonlinearity: str = "tanh",
                 *, bias: bool = True, bidirectional: bool = False, dtype: Any = None,
                 device: str | None = None) -> None:
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be one of {_NONLINEARITIES}, "
                             f"got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         dtype, device, bidirectional=bidirectional)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        extra = "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity!r}"
        return super().extra_repr() + extra

    def forward(self, x: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:
        steps = self._steps(x)
        hs, hs_r = self._initial(x, hx, steps[0].shape[0])
        finals = []
        for k in range(self.num_layers):
            w, b = fuse_weights(*self.layer_parameters(k))
            h, outs = hs[k], []
            for x_t in steps:
                h = _act(_pre_activation(x_t, h, w, b), self.nonlinearity)
                outs.append(h)
            finals.append(h)
            if self.bidirectional:      # the same recurrence from the last step to the first
                w, b = fuse_weights(*self.layer_parameters(k, reverse=True))
                h, outs_r = hs_r[k], []
                for x_t in reversed(steps):
                    h = _act(_pre_activation(x_t, h, w, b), self.nonlinearity)
                    outs_r.append(h)
                finals.append(h)
                outs = [ops.concatenate([f, r], axis=-1)
                        for f, r in zip(outs, reversed(outs_r))]
            steps = self._between_layers(outs, k)
        return self._output(steps), ops.stack(finals, axis=0)


class LSTM(_RecurrentBase):
    """Stacked LSTM. ``forward(x, (h0, c0)=None) -> (output, (h_n, c_n))``:
    output (B, T, H) from the last layer (``batch_first``); h_n, c_n (num_layers, B, H);
    with ``bidirectional=True``: output (B, T, 2H), h_n and c_n (2 num_layers, B, H)."""

    gate_count = 4

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 batch_first: bool = True, dropout: float = 0.0, *, bias: bool = True,
                 bidirectional: bool = False, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         dtype, device, bidirectional=bidirectional)

    def forward(self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        self._check_input(x)
        seq = x.transpose(0, 1) if self.batch_first else x     # time-major (T, B, in)
        batch = seq.shape[1]
        h0, c0 = (None, None) if hx is None else hx
        (hs, hs_r), (cs, cs_r) = self._initial(x, h0, batch), self._initial(x, c0, batch)
        final_h, final_c = [], []
        for k in range(self.num_layers):
            hc = ops.lstm(seq, hs[k], cs[k], *self.layer_parameters(k))   # (2, T, B, H)
            final_h.append(hc[0, -1])
            final_c.append(hc[1, -1])
            if self.bidirectional:  # the reverse direction reads x_T .. x_1
                hc_r = ops.lstm(seq[::-1], hs_r[k], cs_r[k],
                                *self.layer_parameters(k, reverse=True))
                final_h.append(hc_r[0, -1])
                final_c.append(hc_r[1, -1])
                hc = ops.concatenate([hc, hc_r[:, ::-1]], axis=-1)   # (2, T, B, 2H)
            seq = hc[0]                                        # h_1..h_T feed the next layer
            if k < self.num_layers - 1 and self.dropout > 0.0 and self.training:
                seq = ops.dropout(seq, self.dropout, True)     # between layers, as PyTorch
        output = seq.transpose(0, 1) if self.batch_first else seq
        return output, (ops.stack(final_h, axis=0), ops.stack(final_c, axis=0))
