"""Per-op overhead (issue 14 target 1): ``python -m benchmarks.overhead``.

W4's chain ``h = x; 500 times (h = h * a; h = h + x); h.sum().backward()`` on
4-element float32 tensors, timed forward + backward (no optimiser), reported
in µs per op. Two variants:

* ``W4``       -- x requires grad, a is a constant (the runner's W4);
* ``W4-all``   -- every operand requires grad (a too), so each Mul's backward
  computes both gradients (issue 14's "all three tracked").

Rows: minigrad as is; minigrad inside ``detect_anomaly()`` (the price of
anomaly mode when *on*); the price of the anomaly / trace checks when *off*
(one attribute read each per op, timed on its own); PyTorch eager when it is
importable (it is not a dependency: the row is skipped without it).

``--engines A,B`` times the minigrad of other checkouts too (each in its own
subprocess, rounds interleaved), for before/after ratios within one run:

    python -m benchmarks.overhead --engines /tmp/minigrad-before,.

Samples are thread CPU time, so waiting for a core on a busy machine is left
out; the figures are still noisier there: compare rows of one run.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

N_OPS = 1000


def _chain_once(x, a):
    """One forward + backward of the W4 chain h = h * a + x (1,000 ops), for either
    framework: the same code drives minigrad's Tensors and torch's tensors."""
    def once():
        x.grad = a.grad = None
        h = x
        for _ in range(N_OPS // 2):
            h = h * a
            h = h + x
        h.sum().backward()
    return once


def _chain_minigrad(mg, all_grad: bool):
    import numpy as np
    rng = np.random.default_rng(0)
    x = mg.Tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    a = mg.Tensor(rng.uniform(0.5, 0.9, 4).astype(np.float32), requires_grad=all_grad)

    return _chain_once(x, a)


def _chain_torch(all_grad: bool):
    import torch
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, generator=g, requires_grad=True)
    a = (torch.rand(4, generator=g) * 0.4 + 0.5).requires_grad_(all_grad)

    return _chain_once(x, a)


def _time(fn, min_time: float) -> float:
    """Median seconds of ``fn()`` over repeats filling ``min_time``.

    Each sample is the CPU time of this thread (``time.thread_time``), not wall
    time: on a shared machine the time spent waiting for a core is left out
    (caches shared with other processes still slow it down a little)."""
    fn()
    samples, start = [], time.perf_counter()
    while time.perf_counter() - start < min_time or len(samples) < 5:
        t0 = time.thread_time()
        fn()
        samples.append(time.thread_time() - t0)
    return statistics.median(samples)


def measure(engine: str | None, min_time: float) -> dict[str, float]:
    """µs per op for every row this process can run (``engine``: a checkout path)."""
    if engine:
        sys.path.insert(0, os.path.abspath(engine))
    import minigrad as mg
    out = {}
    for all_grad in (False, True):
        name = "W4-all" if all_grad else "W4"
        out[f"minigrad {name}"] = _time(_chain_minigrad(mg, all_grad), min_time) / N_OPS * 1e6
        if hasattr(mg, "detect_anomaly"):
            with mg.detect_anomaly():
                out[f"minigrad {name}, anomaly on"] = \
                    _time(_chain_minigrad(mg, all_grad), min_time) / N_OPS * 1e6
    if not engine:
        try:
            import torch  # noqa: F401
        except ImportError:
            pass
        else:
            torch.set_num_threads(1)
            for all_grad in (False, True):
                name = "W4-all" if all_grad else "W4"
                out[f"torch {name}"] = _time(_chain_torch(all_grad), min_time) / N_OPS * 1e6
    # the checks that run when the modes are off: one thread-local read each per op
    if hasattr(mg, "modes") and hasattr(mg.modes._state, "anomaly"):
        import timeit
        state = mg.modes._state
        reads = timeit.repeat("state.anomaly", globals={"state": state}, number=200_000, repeat=5)
        out["off-check: one read of the anomaly flag"] = min(reads) / 200_000 * 1e6
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--engines", default="", help="comma-separated checkout paths to compare")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child is not None:
        print(json.dumps(measure(args._child or None, args.min_time)))
        return
    engines = [e for e in args.engines.split(",") if e] or [""]
    pooled: dict[str, dict[str, list[float]]] = {e: {} for e in engines}
    for _ in range(args.rounds):
        for e in engines:                     # interleaved: drift hits every engine alike
            res = subprocess.run([sys.executable, "-m", "benchmarks.overhead", "--_child",
                                  os.path.abspath(e) if e else "", "--min-time",
                                  str(args.min_time)], capture_output=True, text=True,
                                 check=True, cwd=os.path.dirname(os.path.dirname(
                                     os.path.abspath(__file__))))
            for k, v in json.loads(res.stdout).items():
                pooled[e].setdefault(k, []).append(v)
    load = os.getloadavg()[0]
    print(f"per-op overhead, µs/op (forward + backward), median of {args.rounds} rounds; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs"
          + ("  (MEASURED UNDER CONTENTION)" if load > 0.5 * (os.cpu_count() or 1) else ""))
    table = {}
    for e in engines:
        for k, vs in pooled[e].items():
            label = f"[{e}] {k}" if len(engines) > 1 else k
            table[label] = statistics.median(vs)
            unit = "µs" if "off-check" in k else "µs/op"
            print(f"  {label:<52} {table[label]:8.3f} {unit}")
    if len(engines) > 1:
        base, new = engines[0], engines[-1]
        for k in pooled[new]:
            if k in pooled[base] and "off-check" not in k:
                r = statistics.median(pooled[new][k]) / statistics.median(pooled[base][k])
                print(f"  ratio {new} / {base}, {k:<36} {r:6.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
