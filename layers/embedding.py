"""``Embedding``: a learned lookup table from integer ids to vectors.

out[..., :] = weight[ids[...], :]   -- the same as one_hot(ids) @ weight, but
without building the one-hot matrix. Backward scatter-*adds* the upstream
gradient into the picked rows (a token used twice gets both contributions);
rows never picked get zero gradient. (F29: the embedding layer.)
"""
from __future__ import annotations

from typing import Any

from minigrad import ops
from minigrad.tensor import Tensor

from . import init
from .module import Module

__all__ = ["Embedding", "as_ids"]


def as_ids(ids: Any, device: str) -> Tensor:
    """Integer ids (list, NumPy array or Tensor) as an integer Tensor on ``device``."""
    if isinstance(ids, Tensor):
        return ids if ids.device == device else ids.to(device)
    return Tensor(ids, device=device)


class Embedding(Module):
    """``weight``: (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch."""

    _takes_integer_input = True

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype: Any = None,
                 device: str | None = None) -> None:
        super().__init__()
        from minigrad._checks import check_size
        self.num_embeddings = check_size("Embedding", num_embeddings, "num_embeddings")
        self.embedding_dim = check_size("Embedding", embedding_dim, "embedding_dim")
        self.weight = init.empty_parameter(num_embeddings, embedding_dim, dtype=dtype,
                                           device=device)
        init.normal_(self.weight)

    def forward(self, ids: Any) -> Tensor:
        return ops.embedding(self.weight, as_ids(ids, self.weight.device))

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
