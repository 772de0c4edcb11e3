"""A small training loop, mini-batches, and exact-resume checkpoints.

The loop every model in this course uses is four lines::

    for batch in batches:
        optimizer.zero_grad()               # gradients accumulate: clear them
        loss = loss_fn(model, batch)        # forward pass, a scalar Tensor
        loss.backward()                     # backward pass: fill every p.grad
        optimizer.step()                    # update: p <- p - lr * (something with p.grad)

:func:`train` is exactly that loop plus the chores of a long run: epochs, an
optional learning-rate schedule and gradient clipping, a text progress line
every ``log_every`` steps (loss, lr, speed, time left), a ``callback`` to
record or stop, and the per-step losses returned in a :class:`History`.

Checkpoints (:func:`save_checkpoint` / :func:`load_checkpoint`) hold the
model, the optimiser (momentum buffers, Adam moments, step counters), the
scheduler, and the random-number generators -- minigrad's random stream (two
integers, :mod:`minigrad.rng`: dropout masks, initialisation, :class:`Minibatches`
shuffling, on every backend, a GPU included) and any NumPy generators of your own -- so a
run resumed from a checkpoint, even in a new process, continues **bit for bit**
as if it had never stopped. The file is a single ``.npz`` without pickle:
arrays are stored as arrays, everything else (nested dicts, numbers, RNG
states) as one JSON string; it is written to a temporary file and renamed into
place (``os.replace``), so a crash mid-save never leaves a half-written
checkpoint behind.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, TextIO

import numpy as np

import minigrad
import minigrad.rng
from minigrad import Tensor
from minigrad.atomic import atomic_write
from minigrad.backends import backend_of, get_backend, to_numpy

from .lr_scheduler import LRScheduler
from .optimizer import Optimizer
from .regularization import clip_grad_norm_

__all__ = ["train", "History", "NonFiniteError", "NonFiniteWarning", "CheckpointError", "Minibatches", "save_checkpoint", "load_checkpoint",
           "rng_state", "set_rng_state"]


# ---------------------------------------------------------------------------
# Mini-batches
# ---------------------------------------------------------------------------
class Minibatches:
    """Re-iterable mini-batches of host arrays (F16's m examples at a time).

    ``Minibatches(X, y, batch_size=32)`` yields ``(X_batch, y_batch)`` Tensors on
    ``device``; every new pass (epoch) reshuffles with ``rng`` -- by default
    minigrad's own CPU generator (``minigrad.manual_seed`` seeds it and
    checkpoints save it), so shuffling is reproducible and resumable.
    """

    def __init__(self, *arrays: Any, batch_size: int, shuffle: bool = True,
                 rng: np.random.Generator | None = None, drop_last: bool = False,
                 device: str | None = None) -> None:
        if not arrays:
            raise ValueError("Minibatches needs at least one array")
        self.arrays = [np.asarray(a) for a in arrays]
        n = len(self.arrays[0])
        if any(len(a) != n for a in self.arrays):
            raise ValueError(f"Minibatches: arrays of different lengths "
                             f"{[len(a) for a in self.arrays]}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.n, self.batch_size = n, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self._rng = rng
        self.device = device

    @property
    def rng(self) -> np.random.Generator:
        return self._rng if self._rng is not None else get_backend("cpu").rng

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full if (self.drop_last or rest == 0) else full + 1

    def __iter__(self):
        order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for k in range(len(self)):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            batch = tuple(Tensor(a[idx], device=self.device) for a in self.arrays)
            yield batch if len(batch) > 1 else batch[0]


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------
class NonFiniteError(minigrad.MinigradError, FloatingPointError):
    """:func:`train` met a NaN or infinite loss or gradient (``on_nonfinite="raise"``).

    Raised *before* the update of the bad step, so the model's parameters and
    the optimiser's state are exactly what they were after the last good step.
    ``epoch`` (counting from 1), ``step`` (within the epoch, from 1) and
    ``global_step`` say where; ``what`` is ``"loss"`` or the name of the
    first parameter whose gradient was not finite.
    """

    def __init__(self, message: str, epoch: int, step: int, global_step: int, what: str):
        super().__init__(message)
        self.epoch, self.step, self.global_step, self.what = epoch, step, global_step, what


class NonFiniteWarning(UserWarning):
    """Issued by :func:`train` with ``on_nonfinite="warn"`` (or ``"skip"``)."""


@dataclass
class History:
    """What :func:`train` returns: the loss of every step and the mean loss of every epoch.

    ``skipped`` lists ``(epoch, step)`` (both from 1) of the steps that
    ``on_nonfinite="skip"`` left out; their loss is still in ``losses`` (NaN
    or inf) but not in ``epoch_losses``.
    """

    losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    stopped_early: bool = False
    skipped: list[tuple[int, int]] = field(default_factory=list)


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _all_finite(array: Any) -> bool:
    """One reduction on the array's own device; only a Python bool comes back."""
    return bool(backend_of(array).xp.isfinite(array).all())


def _first_nonfinite_grad(optimizer: Optimizer) -> str | None:
    """The first parameter whose gradient holds NaN/inf, or None. One reduction per
    gradient on its own device, then a single host transfer per device (a GPU
    waits once per step, not once per parameter)."""
    flags: dict[Any, list[Any]] = {}
    for p in optimizer.parameters():
        if p.grad is not None:
            xp = backend_of(p.grad.data).xp
            flags.setdefault(xp, []).append(xp.isfinite(p.grad.data).all())
    if all(bool(xp.stack(fs).all()) for xp, fs in flags.items()):
        return None
    for p in optimizer.parameters():
        if p.grad is not None and not _all_finite(p.grad.data):
            return optimizer._describe_param(p)
    return None  # pragma: no cover - the first pass found one


def _tqdm() -> Any:
    """``tqdm.auto.tqdm`` if tqdm is installed (a widget in Jupyter, text in a
    terminal), else None."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


#: seconds between two refreshes of the progress bar (at most 4 a second: a
#: refresh costs far more than a small model's step)
_BAR_INTERVAL = 0.25


def train(model: Any, loss_fn: Callable[[Any, Any], Tensor],
          batches: Iterable[Any] | Callable[[int], Iterable[Any]], optimizer: Optimizer,
          epochs: int = 1, scheduler: LRScheduler | None = None, *,
          scheduler_interval: str = "step", start_epoch: int = 0,
          clip_grad_norm: float | None = None, log_every: int | None = 50,
          callback: Callable[[dict[str, Any]], bool | None] | None = None,
          file: TextIO | None = None, on_nonfinite: str = "raise",
          progress: str = "auto") -> History:
    """Train ``model`` for ``epochs`` passes over ``batches``.

    * ``loss_fn(model, batch)`` returns the scalar loss of one batch (so a
      batch can be anything: ``(x, y)``, a dict, token ids...).
    * ``batches`` is re-iterated each epoch (a list, :class:`Minibatches`), or is
      a function ``epoch -> iterable``.
    * ``scheduler.step()`` runs after every optimiser step
      (``scheduler_interval="step"``) or after every epoch (``"epoch"``).
    * ``clip_grad_norm``: clip the global gradient norm before each step (F20).
    * Progress (``log_every=None`` is silent): with ``progress="auto"`` a
      ``tqdm`` bar per epoch when tqdm is installed (``tqdm.auto``: a widget in
      Jupyter, text in a terminal) showing the step, the loss and the learning
      rate, refreshed at most 4 times a second; otherwise (or with
      ``progress="line"``) one text line every ``log_every`` steps and at the
      end of each epoch. Both go to ``file`` (stdout by default).
    * ``callback(info)`` is called after every step with ``info`` = {epoch, step,
      global_step, loss, lr}; returning True stops training.
    * ``start_epoch`` only shifts the epoch numbers (use it when resuming).
    * ``on_nonfinite``: what a NaN or infinite loss -- or a finite loss with a
      non-finite gradient -- does. Both are checked *before* the update, so a
      bad step never reaches the parameters:

      - ``"raise"`` (default): stop with :class:`NonFiniteError` naming the
        epoch and step; model and optimiser are exactly as after the last good
        step (only ``.grad`` holds the bad step's gradients, for inspection).
        One NaN usually means a too-large learning rate or a log/division of 0;
        ``minigrad.detect_anomaly()`` finds the op that made it.
      - ``"skip"``: leave that batch out (no update, no scheduler step), warn
        with :class:`NonFiniteWarning`, record it in ``History.skipped``, go on.
      - ``"warn"``: warn and update anyway (the behaviour of a plain loop;
        usually every parameter is NaN a few steps later).

    If the model has a ``train()`` method (``layers.Module``) it is called first,
    switching dropout on.
    """
    if scheduler_interval not in ("step", "epoch"):
        raise ValueError("scheduler_interval must be 'step' or 'epoch', got "
                         f"{scheduler_interval!r}")
    if on_nonfinite not in ("raise", "skip", "warn"):
        raise ValueError("train: on_nonfinite must be 'raise', 'skip' or 'warn', got "
                         f"{on_nonfinite!r}")
    if progress not in ("auto", "bar", "line"):
        raise ValueError(f"train: progress must be 'auto', 'bar' or 'line', got {progress!r}")
    tqdm = _tqdm() if log_every and progress != "line" else None
    if progress == "bar" and tqdm is None and log_every:
        raise ImportError("train(progress='bar') needs tqdm: pip install tqdm "
                          "(or pip install -e '.[lessons]')")
    out = sys.stdout if file is None else file
    if callable(getattr(model, "train", None)):
        model.train()
    history = History()
    last_epoch = start_epoch + epochs
    global_step = 0
    t_start = time.perf_counter()
    for epoch in range(start_epoch, last_epoch):
        data = batches(epoch) if callable(batches) else batches
        try:
            n_steps: int | None = len(data)  # type: ignore[arg-type]
        except TypeError:
            n_steps = None
        bar = None
        if tqdm is not None:
            bar = tqdm(total=n_steps, desc=f"epoch {epoch + 1}/{last_epoch}", unit="step",
                       file=file, mininterval=_BAR_INTERVAL, leave=True, dynamic_ncols=True)
            t_bar, shown = time.perf_counter(), 0
        epoch_sum, epoch_n, t_epoch = 0.0, 0, time.perf_counter()
        step = 0
        try:
            for step, batch in enumerate(data, start=1):
                global_step += 1
                loss = loss_fn(model, batch)
                value = float(loss.item())
                # zero_grad after the forward pass (same result): a bad loss then
                # leaves the optimiser untouched, gradients of the last step included
                bad = None if math.isfinite(value) else f"loss {value}"
                if bad is None:
                    optimizer.zero_grad()
                    loss.backward()
                    # a finite global 2-norm means every gradient is finite: clipping
                    # already paid the host transfer, so look closer only when it is not
                    if clip_grad_norm is None or \
                            not math.isfinite(clip_grad_norm_(optimizer.parameters(),
                                                              clip_grad_norm)):
                        bad = _first_nonfinite_grad(optimizer)
                    if bad is not None:
                        bad = f"gradient of {bad} (the loss {value:.6g} was finite)"
                lr = float(optimizer.param_groups[0]["lr"])
                where = f"epoch {epoch + 1}, step {step} (global step {global_step})"
                if bad is not None:
                    message = (f"train: non-finite {bad} at {where}, lr {lr:.3g}")
                    if on_nonfinite == "raise":
                        raise NonFiniteError(
                            message + ". Model and optimizer are as they were before this "
                            "step. Common causes: a learning rate too large, log or division "
                            "of 0; minigrad.detect_anomaly() names the op that made it; "
                            "on_nonfinite='skip' leaves such batches out.",
                            epoch + 1, step, global_step, "loss" if bad.startswith("loss")
                            else bad)
                    warnings.warn(message + ("; step skipped" if on_nonfinite == "skip"
                                             else "; updating anyway"),
                                  NonFiniteWarning, stacklevel=2)
                history.losses.append(value)
                history.lrs.append(lr)
                if bad is not None and on_nonfinite == "skip":
                    history.skipped.append((epoch + 1, step))
                else:
                    if bad is not None and bad.startswith("loss"):   # "warn": what a
                        optimizer.zero_grad()                         # plain loop does
                        loss.backward()
                    optimizer.step()
                    if scheduler is not None and scheduler_interval == "step":
                        scheduler.step()
                    epoch_sum, epoch_n = epoch_sum + value, epoch_n + 1
                last_of_epoch = n_steps is not None and step == n_steps
                if bar is not None:
                    now = time.perf_counter()
                    if now - t_bar >= _BAR_INTERVAL or last_of_epoch:
                        bar.set_postfix_str(f"loss {value:.4f}, lr {lr:.3g}", refresh=False)
                        bar.update(step - shown)
                        t_bar, shown = now, step
                elif log_every and (step % log_every == 0 or last_of_epoch):
                    elapsed = time.perf_counter() - t_epoch
                    rate = step / elapsed if elapsed > 0 else float("inf")
                    at = f"step {step}/{n_steps}" if n_steps else f"step {step}"
                    left = (n_steps - step) / rate if n_steps and rate > 0 else float("nan")
                    print(f"epoch {epoch + 1}/{last_epoch}  {at}  loss {value:.4f}  "
                          f"(epoch mean {epoch_sum / max(epoch_n, 1):.4f})  lr {lr:.3g}  "
                          f"{rate:.1f} steps/s  epoch left {_fmt_time(left)}", file=out,
                          flush=True)
                if callback is not None and callback(dict(epoch=epoch, step=step,
                                                          global_step=global_step,
                                                          loss=value, lr=lr)):
                    history.stopped_early = True
                    break
            if bar is not None:
                bar.set_postfix_str(f"mean loss {epoch_sum / max(epoch_n, 1):.4f}, lr "
                                    f"{float(optimizer.param_groups[0]['lr']):.3g}",
                                    refresh=False)
                bar.update(step - shown)
        finally:
            if bar is not None:
                bar.close()
        if epoch_n:
            history.epoch_losses.append(epoch_sum / epoch_n)
        if scheduler is not None and scheduler_interval == "epoch":
            scheduler.step()
        if log_every and bar is None:
            print(f"epoch {epoch + 1}/{last_epoch} done: mean loss "
                  f"{epoch_sum / max(epoch_n, 1):.4f}, {epoch_n} steps, "
                  f"{time.perf_counter() - t_epoch:.1f} s (total "
                  f"{_fmt_time(time.perf_counter() - t_start)})", file=out, flush=True)
        if history.stopped_early:
            break
    return history


# ---------------------------------------------------------------------------
# Random-number generator state
# ---------------------------------------------------------------------------
def _generator_state(gen: Any) -> dict[str, Any] | None:
    """The dict state of a NumPy generator (``None`` for anything else, e.g. CuPy's,
    whose ``bit_generator.state`` is a method returning a device pointer)."""
    state = getattr(getattr(gen, "bit_generator", None), "state", None)
    return state if isinstance(state, dict) else None


def rng_state() -> dict[str, Any]:
    """The state of minigrad's random stream: ``{"stream": {"seed": s, "counter": c}}``.

    Every backend (cpu, fake, cuda) draws from the one counter-based stream of
    :mod:`minigrad.rng`, so these two integers are all there is to save; they
    restore bit for bit on any backend, a GPU included.
    """
    return {"stream": minigrad.rng.get_state()}


def set_rng_state(states: Mapping[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    if "stream" in states:
        minigrad.rng.set_state(states["stream"])
        return
    # A checkpoint written before minigrad.rng: per-device NumPy generator states.
    warnings.warn("this checkpoint stores per-device NumPy generator states (written by an "
                  "older minigrad); the random stream is not restored", stacklevel=2)


# ---------------------------------------------------------------------------
# Pickle-free encoding: JSON for structure, .npz entries for arrays
# ---------------------------------------------------------------------------
_FORMAT = "minigrad-checkpoint"
_VERSION = 1


def _encode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Tensor):
        obj = obj.data
    if not isinstance(obj, (np.ndarray, dict, list, tuple)) and hasattr(obj, "shape"):
        obj = to_numpy(obj)  # a device array: explicit copy to the host
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError("cannot store an object array without pickle")
        key = f"a{len(arrays)}"
        arrays[key] = np.array(obj, copy=True)
        return {"__array__": key}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, arrays) for k, v in obj.items()}
        return {"__dict__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint (arrays, numbers, "
                    "strings, lists, tuples and dicts only)")


def _decode(obj: Any, arrays: Any) -> Any:
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return np.array(arrays[obj["__array__"]], copy=True)
        if set(obj) == {"__tuple__"}:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        if set(obj) == {"__dict__"}:
            return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in obj["__dict__"]}
        return {k: _decode(v, arrays) for k, v in obj.items()}
    return obj


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _atomic_savez(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    atomic_write(path, lambda f: np.savez(f, **arrays))


def save_checkpoint(path: str | os.PathLike, model: Any, optimizer: Optimizer | None = None,
                    scheduler: LRScheduler | None = None,
                    rng: bool | Mapping[str, np.random.Generator] = True,
                    extra: Mapping[str, Any] | None = None) -> None:
    """Write model + optimiser + scheduler + RNG state (+ ``extra``) to one ``.npz``.

    * ``model`` needs ``state_dict()`` (any object: ``layers.Module`` or your own).
    * ``rng=True`` saves minigrad's random stream (seed and counter: dropout masks,
      :class:`Minibatches` shuffling, ``minigrad.randn``); a dict
      ``{"name": numpy_generator}`` saves those generators as well (pass the
      same dict as ``rngs=`` to :func:`load_checkpoint`); ``False`` saves none.
    * ``extra``: your own numbers, strings, arrays, nested dicts (epoch, step...).

    No pickle anywhere: readable with ``np.load(path, allow_pickle=False)``.
    Written atomically: a temporary file in the same folder, then ``os.replace``.
    """
    arrays: dict[str, np.ndarray] = {}
    tree: dict[str, Any] = {"format": _FORMAT, "version": _VERSION,
                            "model": model.state_dict(),
                            "optimizer": None if optimizer is None else optimizer.state_dict(),
                            "optimizer_class": None if optimizer is None
                            else type(optimizer).__name__,
                            "scheduler": None if scheduler is None else scheduler.state_dict(),
                            "rng": rng_state() if rng is not False else None,
                            "generators": None, "extra": dict(extra or {})}
    if isinstance(rng, Mapping):
        gens = {}
        for name, gen in rng.items():
            state = _generator_state(gen)
            if state is None:
                raise TypeError(f"rng[{name!r}] has no bit_generator.state to save")
            gens[name] = state
        tree["generators"] = gens
    meta = json.dumps(_encode(tree, arrays))
    arrays["__meta__"] = np.array(meta)
    _atomic_savez(path, arrays)


class CheckpointError(minigrad.MinigradError, ValueError):
    """A checkpoint file cannot be read, or does not fit the model / optimiser /
    scheduler it is loaded into. Raised before anything is changed."""


def _read_checkpoint(path: str) -> dict[str, Any]:
    """The decoded tree of a checkpoint file, or CheckpointError naming ``path``."""
    import zipfile
    try:
        with open(path, "rb") as f:           # our handle: closed even when np.load fails
            z = np.load(f, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise CheckpointError(f"load_checkpoint: {path} holds a single array, not a "
                                      "minigrad checkpoint")
            with z:
                if "__meta__" not in z.files:
                    raise CheckpointError(f"load_checkpoint: {path} is not a minigrad "
                                          "checkpoint (no __meta__ entry; a layers.save file?)")
                tree = _decode(json.loads(str(z["__meta__"])), z)
    except (CheckpointError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, TypeError,
            UnicodeDecodeError) as err:   # (json.JSONDecodeError is a ValueError)
        raise CheckpointError(f"load_checkpoint: {path} is not a readable checkpoint "
                              f"(truncated, corrupted or not written by save_checkpoint): "
                              f"{type(err).__name__}: {err}") from err
    if not isinstance(tree, dict) or tree.get("format") != _FORMAT:
        raise CheckpointError(f"load_checkpoint: {path} is not a minigrad checkpoint")
    if tree.get("version") != _VERSION:
        raise CheckpointError(f"load_checkpoint: {path} has format version "
                              f"{tree.get('version')!r}; this minigrad reads version {_VERSION}")
    return tree


def _shape(value: Any) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(shape)


def _check_model_state(path: str, saved: Any, model: Any) -> None:
    if not isinstance(saved, Mapping):
        raise CheckpointError(f"load_checkpoint: {path} has no model state")
    own = model.state_dict()
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    wrong = [f"{k}: file {_shape(saved[k])} vs model {_shape(v)}" for k, v in own.items()
             if k in saved and _shape(saved[k]) != _shape(v)]
    problems = ([f"missing keys: {', '.join(missing)}"] if missing else []) + \
        ([f"unexpected keys: {', '.join(unexpected)}"] if unexpected else []) + \
        ([f"mis-shaped: {'; '.join(wrong)}"] if wrong else [])
    if problems:
        raise CheckpointError(f"load_checkpoint: {path} does not fit {type(model).__name__} "
                              f"(nothing was loaded): " + " | ".join(problems))


def _check_optimizer_state(path: str, tree: dict[str, Any], optimizer: Optimizer) -> None:
    saved = tree.get("optimizer")
    if saved is None:
        raise CheckpointError(f"load_checkpoint: {path} holds no optimizer state")
    if tree.get("optimizer_class") != type(optimizer).__name__:
        raise CheckpointError(f"load_checkpoint: {path} holds {tree.get('optimizer_class')} "
                              f"state, not {type(optimizer).__name__} (nothing was loaded)")
    groups = saved.get("param_groups", []) if isinstance(saved, Mapping) else []
    if len(groups) != len(optimizer.param_groups):
        raise CheckpointError(f"load_checkpoint: {path} has {len(groups)} parameter groups, "
                              f"the optimizer {len(optimizer.param_groups)}")
    params: dict[int, Tensor] = {}
    for i, (mine, group) in enumerate(zip(optimizer.param_groups, groups)):
        if len(group.get("params", [])) != len(mine["params"]):
            raise CheckpointError(f"load_checkpoint: {path}: parameter group {i} has "
                                  f"{len(group.get('params', []))} parameters, the optimizer "
                                  f"{len(mine['params'])}")
        params.update({int(k): p for k, p in zip(group["params"], mine["params"])})
    for idx, state in (saved.get("state") or {}).items():
        p = params.get(int(idx))
        if p is None:
            raise CheckpointError(f"load_checkpoint: {path} has optimizer state for parameter "
                                  f"{idx}, which does not exist")
        for key, value in state.items():
            shape = _shape(value)
            if shape is not None and len(shape) > 0 and shape != p.shape:
                raise CheckpointError(f"load_checkpoint: {path}: optimizer state {key!r} of "
                                      f"parameter {idx} has shape {shape}, the parameter "
                                      f"{p.shape}")


def load_checkpoint(path: str | os.PathLike, model: Any, optimizer: Optimizer | None = None,
                    scheduler: LRScheduler | None = None, *, restore_rng: bool = True,
                    rngs: Mapping[str, np.random.Generator] | None = None) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote, in place; returns its ``extra`` dict.

    Everything is checked first -- the file is readable, it is a minigrad
    checkpoint, the model's keys and shapes, the optimiser's class, groups and
    state shapes, the scheduler and the named generators are there -- and only
    then loaded; any problem raises :class:`CheckpointError` naming the path and
    what is wrong, with model, optimiser and scheduler untouched.

    The model gets ``load_state_dict`` with NumPy arrays; the optimiser's
    state arrays go back onto its parameters' device. ``restore_rng`` restores
    minigrad's backend generators; ``rngs`` (the dict given to
    ``save_checkpoint(rng=...)``) gets its generators' states restored.
    """
    path = os.fspath(path)
    tree = _read_checkpoint(path)
    _check_model_state(path, tree.get("model"), model)
    if optimizer is not None:
        _check_optimizer_state(path, tree, optimizer)
    if scheduler is not None and tree.get("scheduler") is None:
        raise CheckpointError(f"load_checkpoint: {path} holds no scheduler state")
    if rngs:
        saved_gens = tree.get("generators") or {}
        absent = [name for name in rngs if name not in saved_gens]
        if absent:
            raise CheckpointError(f"load_checkpoint: {path} has no state for generator(s) "
                                  f"{', '.join(map(repr, absent))}")
    # everything fits: load (each of these checks again, and cannot fail now)
    model.load_state_dict(tree["model"])
    if optimizer is not None:
        optimizer.load_state_dict(tree["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(tree["scheduler"])
    if restore_rng and tree.get("rng") is not None:
        set_rng_state(tree["rng"])
    if rngs:
        for name, gen in rngs.items():
            gen.bit_generator.state = tree["generators"][name]
    return tree.get("extra", {})
