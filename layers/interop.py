"""State dicts across the border: minigrad modules <-> their PyTorch counterparts.

``to_torch_state_dict(module)`` returns ``{name: numpy array}`` with PyTorch's names
and layouts; the documented PyTorch counterpart takes it with ::

    torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})

``from_torch_state_dict(module, torch_model.state_dict())`` goes the other way
(torch tensors, NumPy arrays or anything array-like), checks that every key is
used and every shape fits, and loads the values into ``module`` in place.
PyTorch is never imported here.

The pairs (minigrad -> PyTorch):

=========================================  ================================================
``Linear``                                 ``nn.Linear`` (same names, same layout)
``MLP([n0, n1, ..., nk], activation)``     ``nn.Sequential(nn.Linear(n0, n1), act, ...,
                                           nn.Linear(nk-1, nk))`` (indices 0, 2, 4...;
                                           with dropout, ``Linear, act, Dropout, ...``)
``Embedding``, ``LayerNorm``               ``nn.Embedding``, ``nn.LayerNorm``
``LSTM`` / ``RNN`` (any ``num_layers``,    ``nn.LSTM`` / ``nn.RNN`` with the same
``bidirectional``)                         ``batch_first`` and ``bidirectional``
``MultiHeadAttention(d, h)``               ``nn.MultiheadAttention(d, h, batch_first=True)``:
                                           ``in_proj_weight`` = [W_q; W_k; W_v] (3d, d),
                                           ``in_proj_bias`` = [b_q; b_k; b_v]
``TransformerBlock(d, h, d_ff,             ``nn.TransformerEncoderLayer(d, h, d_ff,
activation, norm_first)``                  batch_first=True, norm_first=..., activation=...)``:
                                           ``attn`` -> ``self_attn``, ``ff.fc1`` ->
                                           ``linear1``, ``ff.fc2`` -> ``linear2``
``GPT``                                    the module sketched below
=========================================  ================================================

Only the *weights* move; the counterpart must compute the same function. For the
transformer pair that means the same activation (minigrad's ``"gelu"`` is the tanh
form: ``activation=lambda x: F.gelu(x, approximate="tanh")`` in PyTorch, or build the
minigrad block with ``activation=layers.GELU(approximate="none")`` to match PyTorch's
``"gelu"``), the same norm placement (``norm_first``) and LayerNorm eps (1e-5 on both
sides by default), and dropout off (or ``eval()``) on both.

``GPT``'s counterpart is a plain PyTorch module with the same attribute names:
``tok_emb = nn.Embedding(V, d)``, ``pos_emb = nn.Embedding(max_len, d)`` (the learned
positions), ``blocks = nn.ModuleList`` of ``nn.TransformerEncoderLayer(d, h, d_ff,
batch_first=True, norm_first=True, activation=<tanh GELU>)`` run with a causal mask,
``ln_f = nn.LayerNorm(d)``, and ``logits = ln_f(x) @ tok_emb.weight.T`` when the
weights are tied (else ``lm_head = nn.Linear(d, V, bias=False)``); the test
``tests/layers/test_layers_interop_torch.py`` writes it out in full.

How the mapping works: the module tree is walked; a module whose type has an entry
in :data:`CONVERTERS` has its (already converted) local names rewritten by that
entry, everything else keeps minigrad's names, which are PyTorch's wherever the
structure is the same. A new pair is **one entry**: a :class:`Renames` for modules
that differ only in names, a :class:`Converter` subclass (like
:class:`PackedAttention`) for anything else. Modules whose names already agree
(``Conv2d``, ``BatchNorm1d/2d`` when their parameters and buffers are called
``weight``, ``bias``, ``running_mean``, ``running_var``) need no entry, or a
:class:`Renames` with ``torch_only`` for PyTorch's extra ``num_batches_tracked``.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from minigrad import backends
from minigrad.tensor import Tensor

from .attention import MultiHeadAttention
from .module import Module, StateDictError
from .transformer import TransformerBlock

__all__ = ["to_torch_state_dict", "from_torch_state_dict", "Converter", "Renames",
           "PackedAttention", "CONVERTERS", "register_converter"]


class Converter:
    """How one module type's *local* state dict (names relative to the module, with
    every child already converted) differs from its PyTorch counterpart's."""

    def to_torch(self, module: Module, local: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return local

    def from_torch(self, module: Module, local: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return local


class Renames(Converter):
    """Children (or entries) that PyTorch calls differently: ``{"attn.": "self_attn."}``
    renames every key starting with ``attn.``. ``torch_only``: keys PyTorch has and
    minigrad does not (dropped on the way in, written as ``fill`` on the way out)."""

    def __init__(self, prefixes: Mapping[str, str], torch_only: Mapping[str, Any] | None = None
                 ) -> None:
        self.prefixes = dict(prefixes)
        self.torch_only = dict(torch_only or {})

    @staticmethod
    def _rename(local: dict[str, np.ndarray], table: Mapping[str, str]) -> dict[str, np.ndarray]:
        out = {}
        for key, value in local.items():
            for old, new in table.items():
                if key.startswith(old):
                    key = new + key[len(old):]
                    break
            out[key] = value
        return out

    def to_torch(self, module, local):
        out = self._rename(local, self.prefixes)
        for key, fill in self.torch_only.items():
            out[key] = np.asarray(fill)
        return out

    def from_torch(self, module, local):
        local = {k: v for k, v in local.items() if k not in self.torch_only}
        return self._rename(local, {new: old for old, new in self.prefixes.items()})


class PackedAttention(Converter):
    """minigrad's separate ``q_proj``/``k_proj``/``v_proj`` <-> PyTorch's packed
    ``in_proj_weight`` = [W_q; W_k; W_v] (3d, d) and ``in_proj_bias`` (3d,);
    ``out_proj`` keeps its name."""

    _parts = ("q_proj", "k_proj", "v_proj")

    def to_torch(self, module, local):
        out = {k: v for k, v in local.items() if not k.startswith(self._parts)}
        out["in_proj_weight"] = np.concatenate([local[f"{p}.weight"] for p in self._parts])
        if f"{self._parts[0]}.bias" in local:
            out["in_proj_bias"] = np.concatenate([local[f"{p}.bias"] for p in self._parts])
        return out

    def from_torch(self, module, local):
        out = {k: v for k, v in local.items() if not k.startswith("in_proj_")}
        for kind in ("weight", "bias"):
            packed = local.get(f"in_proj_{kind}")
            if packed is None:
                continue
            d = module.d_model
            if packed.shape[0] != 3 * d:
                raise StateDictError(
                    f"from_torch_state_dict: in_proj_{kind} has shape {packed.shape}; "
                    f"MultiHeadAttention(d_model={d}) needs {3 * d} rows (q, k, v stacked)")
            for i, p in enumerate(self._parts):
                out[f"{p}.{kind}"] = packed[i * d:(i + 1) * d]
        return out


#: module type -> how its names differ from PyTorch's (add a pair with one entry)
CONVERTERS: dict[type, Converter] = {
    MultiHeadAttention: PackedAttention(),
    TransformerBlock: Renames({"attn.": "self_attn.", "ff.fc1.": "linear1.",
                               "ff.fc2.": "linear2."}),
}


def register_converter(module_type: type, converter: Converter) -> None:
    """Add (or replace) the PyTorch mapping of ``module_type`` (used for subclasses too)."""
    CONVERTERS[module_type] = converter


def _converter(module: Module) -> Converter | None:
    for cls in type(module).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    return None


def _own_state(module: Module) -> dict[str, Tensor]:
    """This module's own parameters and persistent buffers (not its children's)."""
    own = {k: p for k, p in module._parameters.items() if p is not None}
    own.update({k: b for k, b in module._buffers.items()
                if b is not None and k not in module._non_persistent})
    return own


def _to_local(module: Module) -> dict[str, np.ndarray]:
    local = {k: np.array(backends.to_numpy(t.data), copy=True)
             for k, t in _own_state(module).items()}
    for name, child in module._modules.items():
        if child is None:
            continue
        local.update({f"{name}.{k}": v for k, v in _to_local(child).items()})
    conv = _converter(module)
    return conv.to_torch(module, local) if conv is not None else local


def to_torch_state_dict(module: Module) -> dict[str, np.ndarray]:
    """``module``'s weights under the names and layouts of its PyTorch counterpart
    (host NumPy copies; see the module docstring for the pairs)."""
    return _to_local(module)


def _as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.array(backends.to_numpy(value.data))
    if hasattr(value, "detach") and hasattr(value, "cpu"):        # a torch.Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _from_local(module: Module, local: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    conv = _converter(module)
    if conv is not None:
        local = conv.from_torch(module, local)
    out = {k: local[k] for k in _own_state(module) if k in local}
    used = set(out)
    for name, child in module._modules.items():
        if child is None:
            continue
        prefix = f"{name}."
        sub = {k[len(prefix):]: v for k, v in local.items() if k.startswith(prefix)}
        used.update(prefix + k for k in sub)
        out.update({prefix + k: v for k, v in _from_local(child, sub).items()})
    out.update({k: v for k, v in local.items() if k not in used})   # unexpected: reported
    return out


def from_torch_state_dict(module: Module, state_dict: Mapping[str, Any]) -> Module:
    """Load a PyTorch state dict (tensors or arrays) into ``module`` in place and
    return it. Every key must be used and every shape must fit; otherwise nothing
    is loaded and a :class:`~layers.StateDictError` lists what did not match (with
    the minigrad names the keys were translated to)."""
    local = {k: _as_numpy(v) for k, v in state_dict.items()}
    try:
        module.load_state_dict(_from_local(module, local), strict=True)
    except StateDictError as err:
        raise StateDictError(f"from_torch_state_dict({type(module).__name__}): the PyTorch "
                             f"state dict does not fit this module; after translating its "
                             f"names to minigrad's: {err}") from None
    return module
