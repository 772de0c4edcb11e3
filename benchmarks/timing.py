"""Timing and memory helpers shared by every implementation.

* :func:`time_step` -- warm up, then time single calls of ``step()`` with
  ``time.perf_counter``; report the median and the inter-quartile range.
  The garbage collector stays enabled (an autograd engine that creates
  reference cycles should pay for them) but a collection is forced before
  timing starts.
* :func:`peak_tracemalloc` -- peak bytes allocated during one ``step()``
  above the bytes live just before it.  NumPy registers its data buffers with
  tracemalloc, so this covers array memory of NumPy-based implementations
  (not torch's allocator; see ``peer_torch.peak_memory_bytes``).
* :func:`memory_growth` -- run K more steps and report how much live memory
  (tracemalloc "current") and process RSS grew: a leak detector for engines
  that keep graphs, grads or caches alive across steps.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from dataclasses import dataclass, field

import numpy as np

MiB = 1024.0 * 1024.0


@dataclass
class TimingResult:
    median_ms: float
    iqr_ms: float
    q1_ms: float
    q3_ms: float
    min_ms: float
    n: int
    samples_ms: list = field(repr=False, default_factory=list)
    # share of the machine's CPU capacity used by *other* processes while the
    # samples were taken (None where /proc/stat is unavailable)
    other_load_pct: float | None = None


def _cpu_snapshot():
    """(busy seconds of all CPUs, total seconds of all CPUs, this process's CPU seconds)."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    tck = os.sysconf("SC_CLK_TCK")
    total = sum(vals[:8])                 # user nice system idle iowait irq softirq steal
    idle = vals[3] + vals[4]
    t = os.times()
    return (total - idle) / tck, total / tck, t.user + t.system


def other_load_pct(before, after) -> float | None:
    """CPU use of other processes between two :func:`_cpu_snapshot` calls, in %."""
    if before is None or after is None:
        return None
    busy = after[0] - before[0]
    total = after[1] - before[1]
    own = after[2] - before[2]
    if total <= 0:
        return None
    return max(0.0, 100.0 * (busy - own) / total)


def time_step(step, warmup: int = 3, repeats: int = 20, min_time: float = 1.0,
              max_repeats: int = 10_000, max_time: float = 60.0,
              warmup_time: float = 0.25) -> TimingResult:
    """Time ``step()``: untimed warm-up calls (at least ``warmup`` calls and at
    least ``warmup_time`` seconds: lazy initialisation, thread pools, allocator
    caches), then at least ``repeats`` timed calls, continuing until
    ``min_time`` seconds of timed calls have been collected (bounded by
    ``max_repeats`` calls / ``max_time`` seconds).
    """
    t_end = time.perf_counter() + warmup_time
    done = 0
    while done < warmup or (time.perf_counter() < t_end and done < max_repeats):
        step()
        done += 1
    gc.collect()
    samples = []
    total = 0.0
    perf = time.perf_counter
    snap0 = _cpu_snapshot()
    while True:
        t0 = perf()
        step()
        dt = perf() - t0
        samples.append(dt)
        total += dt
        n = len(samples)
        if n >= max_repeats or total >= max_time:
            break
        if n >= repeats and total >= min_time:
            break
    load = other_load_pct(snap0, _cpu_snapshot())
    ms = np.asarray(samples) * 1e3
    q1, med, q3 = np.percentile(ms, [25, 50, 75])
    return TimingResult(median_ms=float(med), iqr_ms=float(q3 - q1), q1_ms=float(q1),
                        q3_ms=float(q3), min_ms=float(ms.min()), n=len(ms),
                        samples_ms=ms.tolist(), other_load_pct=load)


def peak_tracemalloc(step) -> int:
    """Peak traced bytes during one ``step()`` above the traced bytes before it.

    Call after warm-up so one-time caches do not count.  tracemalloc slows
    Python allocations down, so never combine this with timing.
    """
    was_tracing = tracemalloc.is_tracing()
    gc.collect()
    if not was_tracing:
        tracemalloc.start()
    try:
        gc.collect()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base)


def rss_bytes() -> int | None:
    """Current resident set size of this process (Linux /proc), or None."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class GrowthResult:
    steps: int
    traced_growth_bytes: int      # tracemalloc "current" after K steps minus before
    rss_growth_bytes: int | None  # RSS after K steps minus before (noisy: malloc keeps pages)

    def suspicious(self, step_peak_bytes: int = 0) -> bool:
        """Heuristic leak flag: live traced memory grew by more than 64 KiB per
        step, or RSS grew by more than max(64 MiB, 4 x one step's peak)."""
        if self.traced_growth_bytes > 65536 * self.steps:
            return True
        if self.rss_growth_bytes is not None:
            return self.rss_growth_bytes > max(64 * MiB, 4 * step_peak_bytes)
        return False


def memory_growth(step, k: int = 10) -> GrowthResult:
    """Run ``step()`` once (settle), then K times; report live-memory growth.

    Uses tracemalloc (Python objects + NumPy buffers) and RSS (everything,
    including allocators tracemalloc cannot see, e.g. torch's).
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        step()
        gc.collect()
        traced0, _ = tracemalloc.get_traced_memory()
        rss0 = rss_bytes()
        for _ in range(k):
            step()
        gc.collect()
        traced1, _ = tracemalloc.get_traced_memory()
        rss1 = rss_bytes()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    rss_growth = None if rss0 is None or rss1 is None else rss1 - rss0
    return GrowthResult(steps=k, traced_growth_bytes=traced1 - traced0, rss_growth_bytes=rss_growth)
