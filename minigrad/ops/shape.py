"""Ops that move numbers around without changing them: reshape, transpose,
broadcast, indexing, concatenation, dtype and device changes.

Their backward passes undo the movement: the gradient of a reshape is
reshaped back, of a transpose transposed back, of an index scattered back
(adding where the same element was picked twice).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._checks import check_shape
from ..autograd import Function
from ..backends import Backend, get_backend
from ..errors import DeviceError, DTypeError, ShapeError, describe
from ..tensor import Tensor
from ._util import normalize_axes, xp_of


class Reshape(Function):
    """out = a viewed with a new shape;   da = g reshaped to a's shape."""

    returns_view = True

    def forward(self, a, shape):
        return a.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.inputs[0].shape)


class Permute(Function):
    """out = a with axes reordered by ``perm``;   da = g permuted by the inverse."""

    returns_view = True

    def forward(self, a, perm):
        self.perm = perm
        return a.transpose(perm)

    def backward(self, grad):
        inverse = tuple(int(i) for i in np.argsort(self.perm))
        return grad.permute(*inverse)


class BroadcastTo(Function):
    """out = a stretched to ``shape``;   da = g summed over the stretched axes."""

    returns_view = True

    def forward(self, a, shape):
        return xp_of(a).broadcast_to(a, shape)

    def backward(self, grad):
        from ._util import unbroadcast
        return unbroadcast(grad, self.inputs[0].shape)


class GetItem(Function):
    """out = a[index];   da = zeros with g scatter-added at ``index``.

    Scatter-*add*, not assignment: with integer-array indexing the same
    element can be picked several times (an embedding lookup of a repeated
    token), and each pick contributes its own gradient.
    """

    def forward(self, a, index):
        self.index = index
        self.returns_view = not _has_array_index(index)  # basic indexing gives a view
        return a[index]

    def backward(self, grad):
        return IndexAdd.apply(grad, shape=self.inputs[0].shape, index=self.index)


class IndexAdd(Function):
    """out = zeros(shape) with a scatter-added at ``index`` (the backward of GetItem);
    da = g[index]."""

    def forward(self, a, shape, index):
        self.index = index
        xp = xp_of(a)
        out = xp.zeros(shape, dtype=a.dtype)
        if _has_array_index(index):
            from ..backends import backend_of
            backend_of(a).scatter_add(out, index, a)
        else:
            out[index] = a  # basic indexing never repeats an element
        return out

    def backward(self, grad):
        return GetItem.apply(grad, index=self.index)


def _has_array_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(hasattr(p, "shape") and p.ndim > 0 for p in parts)


class Concat(Function):
    """out = a0, a1, ... joined along ``axis``;   da_i = the slice of g where a_i went."""

    def forward(self, *arrays, axis):
        self.axis = axis
        return xp_of(arrays[0]).concatenate(arrays, axis=axis)

    def backward(self, grad):
        grads, start = [], 0
        for t in self.inputs:
            stop = start + t.shape[self.axis]
            index = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(grad[index])
            start = stop
        return tuple(grads)


class Cast(Function):
    """out = a converted to ``dtype``;   da = g converted back to a's dtype."""

    def forward(self, a, dtype):
        return a.astype(dtype)

    def backward(self, grad):
        dtype = self.inputs[0].dtype
        return grad.astype(dtype) if dtype.kind == "f" else None


class Clone(Function):
    """out = a copy of a;   da = g."""

    def forward(self, a):
        return a.copy()

    def backward(self, grad):
        return grad


class ToDevice(Function):
    """out = a copied to ``device`` (host <-> GPU);   da = g copied back."""

    def forward(self, a, device):
        from ..backends import backend_of
        source, target = backend_of(a), get_backend(device)
        self.source = source.name
        host = source.to_numpy(a)
        return target.asarray(host)

    def backward(self, grad):
        return grad.to(self.source)


# ---------------------------------------------------------------------------
# functional forms
# ---------------------------------------------------------------------------
def reshape(a: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = check_shape("reshape", shape, allow_minus_one=True)
    if shape == a.shape:
        return a
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    free = shape.count(-1)
    if free > 1 or (free == 0 and known != a.size) or (free == 1 and (known == 0 or a.size % known)):
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} "
                         f"elements) into shape {shape}")
    return Reshape.apply(a, shape=shape)


def permute(a: Tensor, *perm: int) -> Tensor:
    if len(perm) == 1 and isinstance(perm[0], (tuple, list)):
        perm = tuple(perm[0])
    for p in perm:
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or \
                not -max(a.ndim, 1) <= p < max(a.ndim, 1):
            raise ShapeError(f"permute: axis {p!r} is out of range for a tensor of shape "
                             f"{a.shape} (axes -{a.ndim}..{a.ndim - 1})")
    if sorted(p % max(a.ndim, 1) for p in perm) != list(range(a.ndim)):
        raise ShapeError(f"permute: {perm} is not a permutation of the {a.ndim} axes of "
                         f"a tensor of shape {a.shape}")
    return Permute.apply(a, perm=tuple(p % a.ndim for p in perm))


def transpose(a: Tensor, axis0: int = -2, axis1: int = -1) -> Tensor:
    """Swap two axes (the last two by default, the matrix transpose; a no-op on
    0-d and 1-d tensors, whose only axes are valid arguments)."""
    if a.ndim < 2:
        if (axis0, axis1) != (-2, -1):
            normalize_axes("transpose", (axis0,), a.ndim)   # transpose(0, 5): out of range
            normalize_axes("transpose", (axis1,), a.ndim)
        return a
    perm = list(range(a.ndim))
    i, j = normalize_axes("transpose", axis0, a.ndim)[0], normalize_axes("transpose", axis1, a.ndim)[0]
    perm[i], perm[j] = perm[j], perm[i]
    return Permute.apply(a, perm=tuple(perm))


def broadcast_to(a: Tensor, shape: Sequence[int]) -> Tensor:
    shape = check_shape("broadcast_to", tuple(shape))
    if shape == a.shape:
        return a
    try:
        if np.broadcast_shapes(a.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {a.shape} to {shape}") from None
    return BroadcastTo.apply(a, shape=shape)


def squeeze(a: Tensor, axis: Any = None) -> Tensor:
    if axis is None:
        return reshape(a, tuple(n for n in a.shape if n != 1))
    axes = normalize_axes("squeeze", axis, a.ndim)
    if a.ndim == 0:  # axis 0 or -1 of a 0-d tensor: nothing to remove
        return a
    for ax in axes:
        if a.shape[ax] != 1:
            raise ShapeError(f"squeeze: axis {ax} of shape {a.shape} has size {a.shape[ax]}, not 1")
    return reshape(a, tuple(n for i, n in enumerate(a.shape) if i not in axes))


def unsqueeze(a: Tensor, axis: int) -> Tensor:
    ndim = a.ndim + 1
    if not -ndim <= axis < ndim:
        raise ShapeError(f"unsqueeze: axis {axis} is out of range for a result with {ndim} dims")
    axis %= ndim
    return reshape(a, a.shape[:axis] + (1,) + a.shape[axis:])


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("concatenate: needs at least one tensor")
    first = tensors[0]
    if first.ndim == 0:
        raise ShapeError("concatenate: zero-dimensional tensors cannot be concatenated; use stack")
    ax = normalize_axes("concatenate", axis, first.ndim)[0]
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or any(
                n != m for k, (n, m) in enumerate(zip(t.shape, first.shape)) if k != ax):
            raise ShapeError(
                f"concatenate along axis {ax}: tensor {i} has shape {t.shape} but tensor 0 "
                f"has shape {first.shape}; all other dimensions must match")
        if t.dtype != first.dtype:
            raise DTypeError(f"concatenate: tensor {i} is {t.dtype}, tensor 0 is {first.dtype}; "
                             "convert one with .float() or .double()")
    return Concat.apply(*tensors, axis=ax)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack: needs at least one tensor")
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has shape "
                             f"{tensors[0].shape}; stacked tensors must have equal shapes")
    ndim = tensors[0].ndim + 1
    ax = normalize_axes("stack", axis, ndim)[0]
    return concatenate([unsqueeze(t, ax) for t in tensors], axis=ax)


def split(a: Tensor, sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into equal ``sections`` (an int) or at the given sizes (a list of ints)."""
    ax = normalize_axes("split", axis, a.ndim)[0]
    n = a.shape[ax]
    if isinstance(sections, int):
        if sections <= 0 or n % sections:
            raise ShapeError(f"split: axis {ax} of length {n} cannot be split into "
                             f"{sections} equal parts")
        sizes = [n // sections] * sections
    else:
        sizes = [int(s) for s in sections]
        if min(sizes, default=0) < 0:
            raise ShapeError(f"split: sizes {sizes} must not be negative")
        if sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)}, not {n}")
    out, start = [], 0
    for s in sizes:
        out.append(a[(slice(None),) * ax + (slice(start, start + s),)])
        start += s
    return out


def to_index(index: Any, backend: Backend, op: str = "getitem") -> Any:
    """Prepare an index for the backend: Tensors become their arrays, lists and
    NumPy arrays are copied to the device (CuPy will not index with host arrays)."""
    if isinstance(index, tuple):
        return tuple(to_index(i, backend, op) for i in index)
    if isinstance(index, Tensor):
        if index.device != backend.name:
            raise DeviceError(f"{op}: the index tensor is on {index.device} but the tensor it "
                              f"indexes is on {backend.name}; move it with .to({backend.name!r})")
        return index.data
    if isinstance(index, (list, np.ndarray)):
        return backend.asarray(np.asarray(index))
    return index


def _integer_arrays(index: Any, ndim: int) -> list[tuple[Any, int]]:
    """``(array, axis)`` for every integer array in a backend index (after
    :func:`to_index`), following NumPy's rules for which axis each part indexes."""
    parts = index if isinstance(index, tuple) else (index,)

    def is_array(p: Any) -> bool:
        return hasattr(p, "dtype") and hasattr(p, "shape")

    used = sum(p.ndim if is_array(p) and p.dtype.kind == "b" else 1
               for p in parts if p is not None and p is not Ellipsis)
    found, axis = [], 0
    for p in parts:
        if p is None:
            continue
        if p is Ellipsis:
            axis += max(ndim - used, 0)
        elif is_array(p) and p.dtype.kind == "b":
            axis += p.ndim
        else:
            if is_array(p) and p.dtype.kind in "iu" and axis < ndim:
                found.append((p, axis))
            axis += 1
    return found


def check_index_range(op: str, index: Any, shape: tuple[int, ...], backend: Backend,
                      allow_negative: bool = True, what: str = "integer index values") -> None:
    """Raise ShapeError if an integer-array index points outside ``shape``.

    NumPy raises IndexError for such an index, but CuPy silently *wraps it
    around* (index 7 of an axis of size 5 reads element 2), so minigrad checks
    itself, on every backend. The minima and maxima of all index arrays are
    stacked on the device and copied to the host in **one** transfer: one
    synchronisation per indexing call, not two per array.
    """
    arrays = [(idx, ax) for idx, ax in _integer_arrays(index, len(shape)) if idx.size]
    if not arrays:
        return
    xp = backend.xp
    bounds = xp.stack([part.astype(xp.int64) for idx, _ in arrays
                       for part in (idx.min(), idx.max())])
    host = backend.to_numpy(bounds).tolist()
    for k, (idx, ax) in enumerate(arrays):
        lo, hi, n = host[2 * k], host[2 * k + 1], shape[ax]
        low = -n if allow_negative else 0
        if lo < low or hi >= n:
            allowed = f"[{low}, {n})"
            raise ShapeError(f"{op}: {what} must lie in {allowed} for axis {ax} "
                             f"of size {n} (tensor shape {shape}); got values in [{lo}, {hi}]")


def getitem(a: Tensor, index: Any) -> Tensor:
    index = to_index(index, a.backend)
    check_index_range("getitem", index, a.shape, a.backend)
    try:
        return GetItem.apply(a, index=index)
    except (ShapeError, IndexError) as err:
        raise ShapeError(f"getitem: index {_show_index(index)} does not fit a tensor of shape "
                         f"{a.shape}: {err.__cause__ or err}") from None


def _show_index(index: Any) -> str:
    if isinstance(index, tuple):
        return "(" + ", ".join(_show_index(i) for i in index) + ")"
    if hasattr(index, "shape") and getattr(index, "ndim", 0) > 0:
        return f"<{index.dtype} array of shape {index.shape}>"
    return repr(index)


def gather(a: Tensor, axis: int, index: Any) -> Tensor:
    """out[i][j][k] = a[i][index[i][j][k]][k] for axis=1 (like ``torch.gather``).

    Built on integer-array indexing, so the backward is the same scatter-add.
    """
    ax = normalize_axes("gather", axis, a.ndim)[0]
    idx = to_index(index, a.backend, "gather")
    if getattr(idx, "dtype", None) is None or idx.dtype.kind not in "iu":
        raise DTypeError(f"gather: the index must hold integers, got {describe(idx)}")
    if idx.ndim != a.ndim or any(m > n for k, (m, n) in enumerate(zip(idx.shape, a.shape))
                                 if k != ax):
        raise ShapeError(f"gather: index of shape {idx.shape} does not fit a tensor of shape "
                         f"{a.shape} along axis {ax}: same number of dims, and no larger than "
                         "the tensor except along the axis")
    check_index_range("gather", (slice(None),) * ax + (idx,), a.shape, a.backend,
                      allow_negative=False)
    # Sparse coordinate grids, one per axis (shape 1 except along its own axis),
    # built from arange: ``xp.indices(..., sparse=True)`` is NumPy-only (CuPy's
    # ``indices(dimensions, dtype=int)`` has no ``sparse``).
    xp = a.xp
    grids: list[Any] = []
    for k, n in enumerate(idx.shape):
        view = [1] * idx.ndim
        view[k] = n
        grids.append(xp.arange(n).reshape(view))
    grids[ax] = idx
    return GetItem.apply(a, index=tuple(grids))


def embedding(weight: Tensor, ids: Any) -> Tensor:
    """Rows of ``weight`` picked by integer ``ids`` (any shape): out has shape ids.shape + (dim,)."""
    idx = to_index(ids, weight.backend, "embedding")
    if getattr(idx, "dtype", None) is None or idx.dtype.kind not in "iu":
        raise ShapeError(f"embedding: ids must be integers, got {describe(idx)}")
    check_index_range("embedding", idx, weight.shape, weight.backend, allow_negative=False,
                      what="ids")
    return GetItem.apply(weight, index=idx)
