"""What the round-2 changes to the transformer block bought: ``python -m benchmarks.ablation_w3``.

W3 (``layers`` column) in variants that switch the changes of issue 14 on one
at a time, next to the raw-NumPy floor and the op-by-op column, all in this one
process and interleaved: every round runs a few steps of each variant in turn,
and the table gives the median over all rounds. On a shared machine that is
the fairest comparison there is: slow drift hits every variant alike.

Two clocks: wall time (``perf_counter``) and this process's CPU time
(``process_time``). With one BLAS thread (the default here: the script sets
``OPENBLAS_NUM_THREADS=1`` etc. before NumPy loads, unless they are set), CPU
time does not count the time the process waits for a core that other
processes hold, so it moves much less under contention.

Variants (cumulative):

1. round 1: attention through ``scaled_dot_product_attention`` (scale, matmul,
   the fused masked softmax, matmul) and the previous GELU (nine passes
   forward, twelve backward);
2. + the fused causal attention core with one block of rows (the full square:
   the hand-derived backward and the (B, T, H, d) layout, no skipping);
3. + blocks of 32 rows (skips the blocked upper triangle: 5/8 of the square at T = 128);
4. + GELU in eight passes forward and nine backward (= the library now).

    python -m benchmarks.ablation_w3 [--rounds 12] [--steps 3]
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from . import floor_numpy, impl_minigrad, impl_opbyop  # noqa: E402
from . import workloads as wl  # noqa: E402

_C = math.sqrt(2.0 / math.pi)


def _round1_gelu_class():
    """The GELU of round 1 (before issue 14), for the ablation only."""
    from minigrad.ops import unary

    class GELURound1(unary.GELU):
        def forward(self, a):
            u = a * a
            u *= 0.044715
            u += 1.0
            u *= a
            u *= _C
            self.t = np.tanh(u)
            out = self.t + 1.0
            out *= a
            out *= 0.5
            return out

        def backward(self, grad):
            x, t = self.inputs[0].data, self.t
            d = x * x
            d *= 3 * 0.044715
            d += 1.0
            d *= 0.5 * _C
            d *= x
            tmp = t * t
            np.subtract(1.0, tmp, out=tmp)
            d *= tmp
            np.multiply(t, 0.5, out=tmp)
            d += tmp
            d += 0.5
            d *= grad.data
            return unary.Tensor._make(d, False)

    return GELURound1


@contextlib.contextmanager
def _patched(obj, name, value):
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def _variants():
    """[(label, function returning a context manager that sets the variant up)]."""
    import layers.attention as attention
    from minigrad.ops import unary

    def sdpa(q, k, v):
        return attention.scaled_dot_product_attention(q, k, v, causal=True)[0]

    fused = attention.causal_attention
    old_gelu = _round1_gelu_class()

    def setup(core, gelu):
        def enter():
            stack = contextlib.ExitStack()
            stack.enter_context(_patched(attention, "causal_attention", core))
            stack.enter_context(_patched(unary, "GELU", gelu))
            return stack
        return enter

    return [
        ("1 round 1 (sdpa + masked softmax, old GELU)", setup(sdpa, old_gelu)),
        ("2 + fused causal core, one block", setup(functools.partial(fused, block=10 ** 9),
                                                   old_gelu)),
        ("3 + blocks of 32 rows (skip the upper triangle)", setup(fused, old_gelu)),
        ("4 + GELU in fewer passes (the library now)", setup(fused, unary.GELU)),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ablation_w3",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per variant and round")
    opts = ap.parse_args(argv)
    params, data = wl.make("W3")
    rows = [("numpy floor", contextlib.nullcontext,
             floor_numpy.W3.make_step(wl.copy_params(params), data)),
            ("minigrad op-by-op", contextlib.nullcontext,
             impl_opbyop.W3.make_step(wl.copy_params(params), data))]
    for label, enter in _variants():
        with enter():
            rows.append((label, enter, impl_minigrad.W3.make_step(wl.copy_params(params), data)))
    wall = {label: [] for label, _, _ in rows}
    cpu = {label: [] for label, _, _ in rows}
    for _ in range(opts.rounds):
        for label, enter, step in rows:
            with enter():
                step()                                   # one untimed step per round
                for _ in range(opts.steps):
                    w0, c0 = time.perf_counter(), time.process_time()
                    step()
                    cpu[label].append(time.process_time() - c0)
                    wall[label].append(time.perf_counter() - w0)
    floor_wall, floor_cpu = np.median(wall["numpy floor"]), np.median(cpu["numpy floor"])
    print(f"W3, {opts.rounds} rounds x {opts.steps} steps, interleaved; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    print("| variant | wall ms | wall / floor | CPU ms | CPU / floor |")
    print("|---|---|---|---|---|")
    for label, _, _ in rows:
        mw, mc = np.median(wall[label]), np.median(cpu[label])
        print(f"| {label} | {mw * 1e3:.2f} | {mw / floor_wall:.3f} | {mc * 1e3:.2f} | "
              f"{mc / floor_cpu:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
