"""The transformer block and encoder (F28): attention, then a feed-forward
network, each wrapped in a residual connection and a LayerNorm.

Pre-LN (``norm_first=True``, GPT-2 and most modern models; trains stably
without warm-up):

    x = x + Dropout(MHA(LN1(x)))
    x = x + Dropout(FFN(LN2(x)))

Post-LN (``norm_first=False``, the original 2017 transformer):

    x = LN1(x + Dropout(MHA(x)))
    x = LN2(x + Dropout(FFN(x)))

FFN(x) = act(x W1^T + b1) W2^T + b2, d_model -> d_ff -> d_model, applied to
every position independently (F28: "a feed-forward network after each
attention layer").
"""
from __future__ import annotations

from typing import Any

from minigrad.tensor import Tensor

from .activations import get_activation
from .attention import MultiHeadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleList
from .norm import LayerNorm

__all__ = ["FeedForward", "TransformerBlock", "TransformerEncoder"]


class FeedForward(Module):
    """Position-wise FFN: fc2(dropout(act(fc1(x))))."""

    def __init__(self, d_model: int, d_ff: int, activation: str = "gelu", dropout: float = 0.0,
                 dtype: Any = None, device: str | None = None) -> None:
        super().__init__()
        self.fc1 = Linear(d_model, d_ff, dtype=dtype, device=device)
        self.act = get_activation(activation)
        self.drop = Dropout(dropout)
        self.fc2 = Linear(d_ff, d_model, dtype=dtype, device=device)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.drop(self.act(self.fc1(x))))


class TransformerBlock(Module):
    """One encoder/decoder-only block: self-attention + FFN, residuals, LayerNorms.

    ``forward(x (B, T, d), causal=False, key_padding_mask=None) -> (B, T, d)``.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 activation: str = "gelu", norm_first: bool = True, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        kw = dict(dtype=dtype, device=device)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, **kw)
        self.attn = MultiHeadAttention(d_model, num_heads, dropout=dropout, **kw)
        self.drop1 = Dropout(dropout)
        self.norm2 = LayerNorm(d_model, **kw)
        self.ff = FeedForward(d_model, d_ff, activation, dropout, **kw)
        self.drop2 = Dropout(dropout)

    def forward(self, x: Tensor, causal: bool = False, key_padding_mask: Any = None,
                mask: Any = None) -> Tensor:
        def attend(h: Tensor) -> Tensor:
            return self.drop1(self.attn(h, causal=causal, key_padding_mask=key_padding_mask,
                                        mask=mask))

        if self.norm_first:
            x = x + attend(self.norm1(x))
            return x + self.drop2(self.ff(self.norm2(x)))
        x = self.norm1(x + attend(x))
        return self.norm2(x + self.drop2(self.ff(x)))

    def extra_repr(self) -> str:
        return f"norm_first={self.norm_first}"


class TransformerEncoder(Module):
    """``num_layers`` blocks; with pre-LN a final LayerNorm (``norm``) follows,
    since the residual stream is otherwise never normalised at the end."""

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int,
                 dropout: float = 0.0, activation: str = "gelu", norm_first: bool = True,
                 final_norm: bool | None = None, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        self.layers = ModuleList(
            TransformerBlock(d_model, num_heads, d_ff, dropout, activation, norm_first,
                             dtype=dtype, device=device) for _ in range(num_layers))
        if final_norm if final_norm is not None else norm_first:
            self.norm = LayerNorm(d_model, dtype=dtype, device=device)
        else:
            self.norm = None

    def forward(self, x: Tensor, causal: bool = False, key_padding_mask: Any = None,
                mask: Any = None) -> Tensor:
        for block in self.layers:
            x = block(x, causal=causal, key_padding_mask=key_padding_mask, mask=mask)
        return x if self.norm is None else self.norm(x)
