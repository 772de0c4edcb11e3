"""Saving and loading parameters as ``.npz`` -- plain arrays, never pickle.

A ``.npz`` file is a zip archive of ``.npy`` arrays, one per key of the state
dict. Loading uses ``numpy.load(..., allow_pickle=False)``, so a file cannot
execute code (a pickled checkpoint can), and zip's CRC-32 checks catch
corrupted members. Saving goes through :func:`minigrad.atomic.atomic_write`
(a temporary file in the target's folder renamed over it with ``os.replace``:
a crash mid-save never leaves a half-written file; stale temporaries of a
killed save are removed by the next save; the umask applies; a symlink is
written through to the file it points to).

Shape and key checks happen in :meth:`Module.load_state_dict`.
"""
from __future__ import annotations

import os
import zipfile
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np

from minigrad.atomic import atomic_write

from .module import Module, StateDictError

__all__ = ["save", "load"]


def save(module_or_state: "Module | Mapping[str, Any]", path: "str | os.PathLike[str]") -> None:
    """Write a module's ``state_dict()`` (or a dict of arrays) to ``path`` (used as given)."""
    if isinstance(module_or_state, Module):
        state: Mapping[str, Any] = module_or_state.state_dict()
    elif isinstance(module_or_state, Mapping):
        state = module_or_state
    else:
        raise TypeError(f"save: expected a Module or a dict of arrays, got "
                        f"{type(module_or_state).__name__}")
    arrays = OrderedDict()
    for key, value in state.items():
        if not isinstance(key, str) or not key or "/" in key:
            raise StateDictError(f"save: invalid key {key!r} (non-empty strings without '/')")
        arr = value.numpy() if hasattr(value, "numpy") and not isinstance(value, np.ndarray) \
            else np.asarray(value)
        if arr.dtype.kind not in "fiub":
            raise StateDictError(f"save: {key!r} has non-numeric dtype {arr.dtype}")
        arrays[key] = arr
    atomic_write(path, lambda f: _write_npz(f, arrays))


def _write_npz(f: Any, arrays: Mapping[str, np.ndarray]) -> None:
    """What ``numpy.savez`` does, spelled out (and free of its reserved keyword names):
    one uncompressed ``KEY.npy`` member per array."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in arrays.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)


def load(path: "str | os.PathLike[str]") -> "OrderedDict[str, np.ndarray]":
    """Read a file written by :func:`save` into a dict of host NumPy arrays."""
    path = os.fspath(path)
    state: OrderedDict[str, np.ndarray] = OrderedDict()
    try:
        with open(path, "rb") as f:          # our handle: closed even when np.load fails
            archive = np.load(f, allow_pickle=False)
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise StateDictError(f"load: {path} holds a single array, not a .npz state dict")
            with archive:
                for key in archive.files:
                    state[key] = np.array(archive[key], copy=True)
    except (StateDictError, FileNotFoundError):
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise StateDictError(f"load: {path} is not a readable .npz checkpoint (corrupted, "
                             f"truncated or containing pickled objects): {err}") from err
    return state
