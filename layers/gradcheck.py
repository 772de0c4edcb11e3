"""``gradcheck_module``: check a whole layer's gradients -- parameters and inputs.

:func:`minigrad.gradcheck` perturbs the tensors it is given; a layer's weights
live inside the layer. :func:`layers.functional_call` bridges the two: the
check passes the (copied, perturbed) weights in as arguments and the layer is
run with them swapped in. Use float64 (``module.double()``).
"""
from __future__ import annotations

from typing import Any, Callable

from minigrad.gradcheck import GradcheckResult, gradcheck
from minigrad.tensor import Tensor

from .module import Module, functional_call

__all__ = ["gradcheck_module"]


def gradcheck_module(module: Module, *inputs: Any, fast: bool = False,
                     output: Callable[[Any], Any] | None = None, **kwargs: Any
                     ) -> GradcheckResult:
    """Gradient-check ``module(*inputs)`` w.r.t. every trainable parameter and every
    input Tensor with ``requires_grad``.

    ``output`` picks what to check from the module's result (e.g. ``lambda r: r[0]``;
    tuples are checked whole by default). Other keyword arguments go to
    :func:`minigrad.gradcheck` (``eps``, ``atol``, ``rtol``, ``directions``...).
    """
    names = [n for n, p in module.named_parameters() if p.requires_grad]
    params = [module.get_parameter(n) for n in names]
    count = len(names)

    def fn(*tensors: Tensor) -> Any:
        result = functional_call(module, dict(zip(names, tensors[:count])), *tensors[count:])
        return output(result) if output is not None else _flatten(result)

    return gradcheck(fn, *params, *inputs, fast=fast,
                     name=kwargs.pop("name", type(module).__name__), **kwargs)


def _flatten(result: Any) -> Any:
    """Nested tuples (LSTM's ``(out, (h, c))``) as one flat tuple of tensors."""
    if isinstance(result, (tuple, list)):
        flat: list = []
        for r in result:
            sub = _flatten(r)
            flat.extend(sub if isinstance(sub, tuple) else (sub,))
        return tuple(flat)
    return result
