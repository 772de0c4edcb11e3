"""What each optimisation of the minigrad column bought: ``python -m benchmarks.ablation``.

Starts from minigrad with every optimisation switched off (each replaced by
the composed version it replaced, which the library keeps as a reference),
then switches them back on one at a time, in the order below, timing W1..W3
(median ms per training step) after each. The engine-level changes
(in-place gradient accumulation, the leaner ``Function.apply``) cannot be
switched off from here; compare against the previous commit for those
(``docs/benchmarks.md`` has the figures).

    python -m benchmarks.ablation [--threads 1] [--workloads W1,W2,W3] [--min-time 2]
"""
from __future__ import annotations

import argparse
import contextlib
import sys

from . import workloads as wl
from .timing import time_step


def _switches():
    """[(name, context manager that switches the optimisation OFF)], in the order
    in which they are switched back on."""
    import minigrad.ops as ops
    import minigrad.ops.unary as unary
    from minigrad.ops import fused

    import layers

    @contextlib.contextmanager
    def patched(obj, name, value):
        old = getattr(obj, name)
        setattr(obj, name, value)
        try:
            yield
        finally:
            setattr(obj, name, old)

    def composed_linear(self, x):                 # x @ W^T + b as three graph nodes
        y = x @ self.weight.mT
        return y if self.bias is None else y + self.bias

    def relu_where(self, a):                      # the previous ReLU forward
        self.mask = a > 0
        return unary.xp_of(a).where(self.mask, a, a.dtype.type(0))

    return [
        ("fused linear in layers.Linear", lambda: patched(layers.Linear, "forward",
                                                           composed_linear)),
        ("ReLU forward with maximum", lambda: patched(unary.ReLU, "forward", relu_where)),
        ("GELU backward in place", lambda: patched(unary, "is_grad_enabled", lambda: True)),
        ("fused LayerNorm", lambda: patched(ops, "layer_norm", fused.layer_norm_reference)),
        ("fused masked softmax", lambda: patched(ops, "masked_softmax",
                                                 fused.masked_softmax_reference)),
        ("fused LSTM layer", lambda: patched(ops, "lstm", fused.lstm_reference)),
    ]


def _measure(workloads, min_time):
    from . import impl_minigrad
    out = {}
    for w in workloads:
        params, data = wl.make(w)
        step = impl_minigrad.WORKLOADS[w].make_step(params, data)
        out[w] = time_step(step, warmup=2, repeats=10, min_time=min_time,
                           warmup_time=0.3).median_ms
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ablation", description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workloads", default="W1,W2,W3")
    ap.add_argument("--min-time", type=float, default=2.0)
    opts = ap.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(opts.threads)
    except ImportError:
        print("threadpoolctl not installed: BLAS threads left at their default", file=sys.stderr)
    workloads = [w.strip().upper() for w in opts.workloads.split(",") if w.strip()]
    switches = _switches()
    rows = []
    for k in range(len(switches) + 1):
        off = switches[k:]                      # the first k are on again
        with contextlib.ExitStack() as stack:
            for _, make_off in off:
                stack.enter_context(make_off())
            label = "all off (composed versions)" if k == 0 else f"+ {switches[k - 1][0]}"
            rows.append((label, _measure(workloads, opts.min_time)))
            print(f"{label:<36}" + "".join(f"{w} {rows[-1][1][w]:8.2f} ms  " for w in workloads),
                  flush=True)
    print("\n| step | " + " | ".join(f"{w} ms" for w in workloads) + " |")
    print("|---|" + "---|" * len(workloads))
    for label, res in rows:
        print(f"| {label} | " + " | ".join(f"{res[w]:.2f}" for w in workloads) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
