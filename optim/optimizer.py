"""``Optimizer``: the base class every optimiser in :mod:`optim` builds on.

An optimiser owns

* ``param_groups`` -- a list of dicts; each has ``"params"`` (a list of
  Parameters) and the hyper-parameters for those parameters (``"lr"``, ...).
  Passing a plain list of Parameters makes one group with the defaults;
  passing dicts gives each group its own settings::

      opt = SGD([{"params": model.body.parameters()},
                 {"params": model.head.parameters(), "lr": 1e-2}], lr=1e-3)

* ``state`` -- a dict ``Parameter -> dict`` of the per-parameter memory of the
  method (momentum buffer, running averages, the step counter ``"step"``).

``step()`` reads each parameter's ``.grad`` and changes the parameter **in
place**, under :func:`minigrad.no_grad` (an update is not part of any model's
computation), with the parameter's own array module ``p.xp`` -- never NumPy
directly -- so the same optimiser works on NumPy, CuPy and the CuPy-like
``"fake"`` test double. Every update goes through the Tensor in-place methods
(``sub_``, ``mul_``), which bump ``p._version``; autograd uses that counter to
catch a parameter modified after a graph saved it.

dtypes: hyper-parameters are converted to Python floats before they touch an
array. Under NumPy 2's promotion rules ``float32_array * 0.9`` stays float32,
but ``float32_array * np.float64(0.9)`` silently becomes float64 -- so a
float32 model stays float32 through every update.

``state_dict()`` returns plain host data (NumPy arrays and Python numbers),
parameters replaced by their position; ``load_state_dict()`` puts the arrays
back on each parameter's device. Both are what checkpoints store.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Callable, Iterable, Iterator

import numpy as np

import minigrad
from minigrad import Tensor
from minigrad.backends import backend_of, to_numpy
from minigrad.errors import DeviceError, DTypeError

__all__ = ["Optimizer", "ParamsArg"]

#: what an optimiser accepts: Parameters, or dicts ``{"params": [...], "lr": ..., ...}``
ParamsArg = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``step``.

    Subclasses set the defaults and implement :meth:`_update`, the formula for
    one parameter; the loop over groups and parameters lives here.
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params must be an iterable of Parameters (e.g. model.parameters() or "
                f"[w, b]), got a single {type(params).__name__}; wrap it in a list")
        self.defaults: dict[str, Any] = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- groups ---------------------------------------------------------------
    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``"params"`` and optional settings)."""
        if not isinstance(group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(group).__name__}")
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only update Tensors, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError("optimizer got a tensor with requires_grad=False: it would "
                                 "never receive a gradient")
            if not p.is_leaf:
                raise ValueError("optimizer can only update leaf tensors (Parameters), not "
                                 "results of ops")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError("a parameter appears twice in the optimizer's groups")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate hyper-parameters (subclasses extend)."""
        _check_lr(group.get("lr"), type(self).__name__)
        if float(group.get("weight_decay", 0.0)) < 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {group['weight_decay']!r}")

    def parameters(self) -> Iterator[Tensor]:
        """Every parameter of every group, in order."""
        for group in self.param_groups:
            yield from group["params"]

    # -- the two calls of every training step -----------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last ``backward()``.

        Gradients *accumulate* in ``.grad`` (backward adds), so call this once
        per step. ``set_to_none=True`` drops the arrays (``p.grad = None``, and
        ``step()`` skips parameters without a gradient); ``False`` fills them
        with zeros in place.
        """
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                with minigrad.no_grad():
                    p.grad = p.grad.detach() if p.grad.requires_grad else p.grad
                    p.grad.zero_()

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """Update every parameter that has a gradient, in place.

        ``closure`` (optional) recomputes and returns the loss -- it is called
        with gradients enabled before the update, and its result is returned.
        """
        loss = None
        if closure is not None:
            with minigrad.enable_grad():
                loss = closure()
        for group in self.param_groups:
            # a group's lr may have been changed since construction (by hand or by
            # a schedule): check it again, once per group (cheap), before any update
            _check_lr(group.get("lr"), f"{type(self).__name__}.step")
        with minigrad.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad.data
                    if grad.shape != p.shape:
                        raise ValueError(f"gradient of shape {grad.shape} for a parameter of "
                                         f"shape {p.shape}")
                    state = self.state.setdefault(p, {})
                    self._check_placement(p, grad, state)
                    state["step"] = state.get("step", 0) + 1
                    self._update(p, grad, state, group)
        return loss

    def _check_placement(self, p: Tensor, grad: Any, state: dict[str, Any]) -> None:
        """The gradient and every state array must be on the parameter's device and
        in its dtype -- they are not after ``model.to("cuda")`` or ``model.double()``
        once the optimiser has taken steps (its buffers stayed where they were).
        Runs for every parameter at every step: only type and dtype comparisons until
        something is wrong (the parameter's index is looked up for the message only)."""
        arrays = [("gradient", grad)] + [(k, v) for k, v in state.items() if hasattr(v, "dtype")]
        for key, value in arrays:
            if type(value) is type(p.data) and value.dtype == p.dtype:
                continue
            where = backend_of(value).name
            if where != p.device:
                raise DeviceError(
                    f"{type(self).__name__}.step: {self._describe_param(p)} is on {p.device} "
                    f"but its {key} is on "
                    f"{where}. Move the model before creating the optimizer (or create a new "
                    f"optimizer after model.to(...)); a checkpoint's load_checkpoint puts "
                    f"the state on the parameters' device")
            if value.dtype != p.dtype:
                raise DTypeError(
                    f"{type(self).__name__}.step: {self._describe_param(p)} is {p.dtype} but "
                    f"its {key} is "
                    f"{value.dtype}; convert the model before creating the optimizer")

    def _describe_param(self, p: Tensor) -> str:
        index = next((i for i, q in enumerate(self.parameters()) if q is p), "?")
        name = getattr(p, "qualified_name", None) or p.name
        return f"parameter {index}" + (f" ({name!r})" if name else "") + \
            f" of shape {p.shape}"

    def _update(self, p: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:  # pragma: no cover - abstract
        """Apply the method's formula to one parameter ``p`` with gradient array ``grad``.

        ``state["step"]`` has already been incremented (it is t, counting from 1).
        """
        raise NotImplementedError

    # -- saving and restoring ------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's memory as host data: ``{"state": {index: {...}},
        "param_groups": [{..., "params": [index, ...]}]}``.

        Parameters are replaced by their position across all groups; arrays are
        copied to NumPy (an explicit device-to-host copy on GPU), so the result
        can be saved with :func:`optim.save_checkpoint` or ``numpy.savez``.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for p, s in self.state.items():
            if id(p) not in index:
                continue
            state[index[id(p)]] = {k: _to_host(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (from this or an identical optimiser).

        Group sizes must match. Hyper-parameters (lr, betas...) are taken from
        the saved groups; state arrays are copied onto each parameter's device
        and cast to its dtype (so a float32 model stays float32).
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(saved_groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        by_index: dict[int, Tensor] = {}
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(f"parameter group {i}: state_dict has {len(saved['params'])} "
                                 f"parameters, this optimizer has {len(mine['params'])}")
            for p, idx in zip(mine["params"], saved["params"]):
                by_index[int(idx)] = p
        # check every state entry before changing anything (a mis-shaped buffer
        # would otherwise broadcast silently, or fail only at the next step())
        for idx, saved_state in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is None:
                raise ValueError(f"state_dict has state for parameter {idx}, which does not exist")
            for key, value in saved_state.items():
                shape = getattr(value, "shape", None)
                if shape is not None and len(shape) > 0 and tuple(shape) != p.shape:
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: state {key!r} of "
                        f"{self._describe_param(p)} has shape {tuple(shape)}; nothing was "
                        "loaded (was the state saved from another model?)")
        for mine, saved in zip(self.param_groups, saved_groups):
            for key, value in saved.items():
                if key == "params":
                    continue
                if isinstance(self.defaults.get(key), tuple) and isinstance(value, list):
                    value = tuple(value)  # e.g. betas after a JSON round trip
                mine[key] = copy.deepcopy(value)
        self.state = {}
        for idx, saved_state in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is None:
                raise ValueError(f"state_dict has state for parameter {idx}, which does not exist")
            self.state[p] = {k: _to_device(v, p) for k, v in saved_state.items()}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {settings}")
        return "\n".join(lines + [")"])


def _check_lr(lr: Any, where: str) -> None:
    """A learning rate must be a finite number >= 0: a negative one climbs the
    loss (F14 with the sign flipped), NaN or inf turns every parameter into NaN
    at the first step."""
    try:
        value = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: learning rate must be a number >= 0, got {lr!r}") from None
    if not (0.0 <= value < math.inf):
        raise ValueError(f"{where}: learning rate must be a finite number >= 0, got {lr!r}")


def _to_host(value: Any) -> Any:
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (int, float, bool, str)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    try:
        return np.array(to_numpy(value), copy=True)
    except Exception:
        return copy.deepcopy(value)


def _to_device(value: Any, p: Tensor) -> Any:
    if isinstance(value, np.ndarray):
        host = np.array(value, dtype=p.dtype if value.dtype.kind == "f" else value.dtype,
                        copy=True)
        return p.backend.asarray(host)
    if isinstance(value, np.generic):
        return value.item()
    return copy.deepcopy(value)


def _float(x: Any) -> float:
    """A hyper-parameter as a Python float (keeps float32 arrays float32)."""
    value = float(x)
    if math.isnan(value):
        raise ValueError("hyper-parameter is NaN")
    return value
