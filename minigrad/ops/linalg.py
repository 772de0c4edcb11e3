"""Matrix multiplication, the op where most of a network's time goes."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor
from ._util import binary_operands, unbroadcast


class MatMul(Function):
    """out = a @ b   (F02: z_j = sum_i W_ji x_i + b_j is one row of it);

    da = g @ b^T,   db = a^T @ g.

    Shapes follow NumPy: 1-d operands act as a row (a) or column (b) vector
    that is dropped from the result, and leading "batch" axes broadcast.
    Backward re-inserts the dropped axis, multiplies, and sums over any
    broadcast batch axes.
    """

    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_grad
        a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a        # (..., n, k)
        b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b        # (..., k, m)
        g = grad
        if b.ndim == 1:  # first, so that 1-d @ 1-d turns the 0-d grad into (1, 1)
            g = g.unsqueeze(-1)
        if a.ndim == 1:
            g = g.unsqueeze(-2)
        da = db = None
        if need_a:
            da = unbroadcast(g @ b2.transpose(), a2.shape).reshape(a.shape)
        if need_b:
            db = unbroadcast(a2.transpose() @ g, b2.shape).reshape(b.shape)
        return da, db


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules (batched, 1-d vectors) and clear shape errors."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        a, b = binary_operands("matmul", a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least one dimension, got shapes "
                         f"{a.shape} and {b.shape} (use * for scalars)")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        which = "only" if b.ndim == 1 else "second-to-last"
        raise ShapeError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned: the last dimension of "
            f"the first ({k_a}) must equal the {which} dimension of the second ({k_b})")
    if a.dtype != b.dtype:
        raise DTypeError(f"matmul: dtypes differ ({a.dtype} and {b.dtype}); convert one with "
                         ".float() or .double()")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions {a.shape[:-2]} and {b.shape[:-2]} of "
                         f"shapes {a.shape} and {b.shape} do not broadcast") from None
    return MatMul.apply(a, b)
