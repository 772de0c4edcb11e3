"""Benchmark runner: ``python -m benchmarks.run [--quick] [--workloads W1,W2] [--markdown PATH]``.

Columns come from the ``IMPLEMENTATIONS`` registry (name -> module path).  An
implementation module exposes, per workload, an object ``W1`` .. ``W4`` with
``make_step(params, data) -> step`` (``step()`` runs forward + backward + SGD
in place and returns the loss as a float), or a function ``make_step_W1`` ..
``make_step_W4`` with the same signature.  Optional module hooks:

* ``available() -> bool``: False skips the column (e.g. torch not installed);
* ``peak_memory_bytes(step) -> int | None``: peak-memory probe for allocators
  that tracemalloc cannot see (the default probe is tracemalloc);
* ``VARIANTS``: list of ``(workload, row label, obj_with_make_step)`` extra rows.

If importing a module fails (ImportError, e.g. ``benchmarks/impl_minigrad.py``
not written yet), the column is skipped with a note.

Every implementation runs in its own subprocess (``--no-isolate`` to run
in-process) so that thread pools of different libraries (OpenBLAS pthreads,
torch's OpenMP) do not spin against each other, and a crash in one column
does not lose the others.

Threads: by default every library uses all available cores -- the runner
calls ``torch.set_num_threads(n)`` and, if threadpoolctl is installed,
``threadpool_limits(n)`` for BLAS/OpenMP, with ``n = --threads`` (default:
the number of CPUs this process may run on).

Before timing, the first step's loss of every implementation is compared
with the floor's loss on the same weights (rel. tol 1e-4); a mismatch is
flagged in the notes column.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import traceback

import numpy as np

from . import workloads as wl
from .timing import MiB, memory_growth, peak_tracemalloc, time_step

IMPLEMENTATIONS = {
    "numpy-floor": "benchmarks.floor_numpy",
    "torch": "benchmarks.peer_torch",
    "minigrad": "benchmarks.impl_minigrad",
    "minigrad op-by-op": "benchmarks.impl_opbyop",   # W1-W3 from Tensor methods, no layers
}
BASELINE = "numpy-floor"
ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
            "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MALLOC_MMAP_THRESHOLD_",
            "MALLOC_TRIM_THRESHOLD_")
LOSS_RTOL = 1e-4
CONTENDED_PCT = 5.0   # other processes using more than this share of the CPUs taints a sample set


# --------------------------------------------------------------------------
# environment set-up
# --------------------------------------------------------------------------

def default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def set_threads(n: int) -> list[str]:
    """Give every library the same thread count. Returns notes."""
    notes = []
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:
        notes.append("threadpoolctl not installed: BLAS thread count left at its default")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    return notes


def malloc_retain() -> bool:
    """Ask glibc malloc to keep freed memory (no munmap / trimming).

    Freshly mapped pages cost a page fault on first touch; on some machines
    (VMs in particular) that dominates a step that allocates many MiB of
    temporaries.  This is opt-in (``--malloc-retain``): the default run
    measures what a user gets.
    """
    try:
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        ok1 = libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        ok2 = libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
        return bool(ok1 and ok2)
    except Exception:
        return False


@contextlib.contextmanager
def quiet_stderr():
    """Silence C-level stderr (torch's profiler logs to fd 2)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)
        os.close(saved)


# --------------------------------------------------------------------------
# machine information
# --------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or platform.machine()
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines()
                  if ln.startswith("model name")), platform.machine())
    flags_line = next((ln for ln in info.splitlines() if ln.startswith("flags")), "")
    flags = set(flags_line.split(":", 1)[-1].split())
    simd = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    return f"{model} ({', '.join(simd)})" if simd else model


def _blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
        parts = []
        for i in threadpool_info():
            if i.get("user_api") == "blas":
                parts.append(f"{i.get('internal_api')} {i.get('version')} "
                             f"kernel={i.get('architecture')} threads={i.get('num_threads')}")
        if parts:
            return "; ".join(parts) + " (threadpoolctl)"
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (numpy.show_config; kernel unknown " \
               "without threadpoolctl)"
    except Exception:
        return "unknown"


def cpu_busy_percent(interval: float = 0.5) -> float | None:
    """Share of all CPUs busy (any process) over ``interval`` seconds, from
    /proc/stat.  Sampled while the runner sleeps, so it measures *other*
    load: a benchmark run next to a busy neighbour is not trustworthy."""
    def snap():
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
        return sum(vals[:8]), idle
    try:
        import time
        t0, i0 = snap()
        time.sleep(interval)
        t1, i1 = snap()
        return 100.0 * (1.0 - (i1 - i0) / max(1, t1 - t0))
    except (OSError, ValueError, IndexError):
        return None


def _git_rev() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        if out.returncode != 0:
            return None
        return out.stdout.strip() or None
    except Exception:
        return None


def machine_info(threads: int, torch_version: str | None, malloc_mode: str) -> dict:
    env = {k: (os.environ[k] if k in os.environ else None) for k in ENV_VARS}
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical, {default_threads()} usable",
        "threads": threads,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "blas": _blas_info(),
        "torch": torch_version or "not installed",
        "malloc": malloc_mode,
        "env": env,
        "git": _git_rev(),
        "busy_before": cpu_busy_percent(),
    }


def format_machine_info(info: dict) -> list[str]:
    env = ", ".join(f"{k}={'unset' if v is None else repr(v)}" for k, v in info["env"].items())
    lines = [
        f"date: {info['date']}" + (f"   git: {info['git']}" if info.get("git") else ""),
        f"cpu: {info['cpu']}",
        f"cores: {info['cores']}; threads per library: {info['threads']}",
        f"python {info['python']} on {info['platform']}",
        f"numpy {info['numpy']}; BLAS: {info['blas']}",
        f"torch: {info['torch']} (torch.set_num_threads({info['threads']}) in its worker)",
        f"malloc: {info['malloc']}",
        f"env: {env}",
    ]
    busy = [f"{k.split('_')[1]} {info[k]:.0f}%" for k in ("busy_before", "busy_after")
            if info.get(k) is not None]
    if busy:
        warn = any(info.get(k) is not None and info[k] > 10 for k in ("busy_before", "busy_after"))
        lines.append("CPU busy with other work (sampled 0.5 s): " + ", ".join(busy) +
                     ("  <-- WARNING: machine not idle, timings unreliable" if warn else ""))
    return lines


# --------------------------------------------------------------------------
# implementation loading
# --------------------------------------------------------------------------

def load_impl(name: str):
    """Return (module, None) or (None, reason)."""
    try:
        mod = importlib.import_module(IMPLEMENTATIONS[name])
    except ImportError as exc:
        return None, f"import failed: {exc}"
    except Exception as exc:  # a half-written implementation must not kill the run
        return None, f"import failed: {type(exc).__name__}: {exc}"
    avail = getattr(mod, "available", None)
    if callable(avail) and not avail():
        return None, "not available (" + str(getattr(mod, "_IMPORT_ERROR", "")).strip() + ")"
    return mod, None


def step_factory(mod, workload: str):
    obj = getattr(mod, workload, None)
    if obj is not None and hasattr(obj, "make_step"):
        return obj.make_step
    fn = getattr(mod, f"make_step_{workload}", None) or getattr(mod, f"make_step_{workload.lower()}", None)
    return fn


def _rows_for(mod, impl: str, workloads):
    """[(workload, row label, make_step or None)] for one implementation."""
    rows = []
    variants = getattr(mod, "VARIANTS", [])
    for w in workloads:
        rows.append((w, impl, step_factory(mod, w)))
        for vw, label, obj in variants:
            if vw == w:
                rows.append((w, label, obj.make_step))
    return rows


# --------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------

def _reference_losses(workloads, seed):
    from . import floor_numpy
    out = {}
    for w in workloads:
        params, data = wl.make(w, seed=seed)
        out[w] = floor_numpy.WORKLOADS[w].loss_and_grads(params, data)[0]
    return out


def measure_impl(impl: str, workloads, opts) -> list[dict]:
    """Measure every row of one implementation in this process."""
    mod, reason = load_impl(impl)
    if mod is None:
        return [{"workload": w, "impl": impl, "skipped": reason} for w in workloads]
    for note in set_threads(opts.threads):
        print(f"[{impl}] {note}", file=sys.stderr)
    refs = _reference_losses(workloads, opts.seed)
    peak_probe = getattr(mod, "peak_memory_bytes", None)
    results = []
    for w, label, make_step in _rows_for(mod, impl, workloads):
        row = {"workload": w, "impl": label, "notes": []}
        results.append(row)
        if make_step is None:
            row["skipped"] = "workload not implemented"
            continue
        try:
            params, data = wl.make(w, seed=opts.seed)
            step = make_step(params, data)
            first = float(step())
            ref = refs[w]
            row["loss"] = first
            if not math.isfinite(first) or abs(first - ref) > LOSS_RTOL * max(1.0, abs(ref)):
                row["notes"].append(f"LOSS MISMATCH {first:.6g} vs floor {ref:.6g}")
            t = time_step(step, warmup=opts.warmup, repeats=opts.repeats, min_time=opts.min_time,
                          warmup_time=0.1 if opts.quick else 0.5)
            row.update(median_ms=t.median_ms, iqr_ms=t.iqr_ms, min_ms=t.min_ms, n=t.n,
                       samples_ms=t.samples_ms, other_load_pct=t.other_load_pct)
            if w == "W4":
                row["n_ops"] = int(data["cfg"]["n_ops"])
                row["us_per_op"] = t.median_ms * 1e3 / row["n_ops"]
            if not opts.no_memory:
                with quiet_stderr():
                    peak = peak_probe(step) if peak_probe is not None else None
                    if peak is None:
                        peak = peak_tracemalloc(step)
                        row["peak_method"] = "tracemalloc"
                    else:
                        row["peak_method"] = f"{impl} probe"
                row["peak_mib"] = peak / MiB
                g = memory_growth(step, k=opts.growth_steps)
                row["growth_traced_mib"] = g.traced_growth_bytes / MiB
                row["growth_rss_mib"] = None if g.rss_growth_bytes is None else g.rss_growth_bytes / MiB
                if g.suspicious(peak):
                    row["notes"].append(
                        f"MEMORY GROWTH over {g.steps} steps: traced {row['growth_traced_mib']:+.1f} MiB, "
                        f"rss {row['growth_rss_mib']:+.1f} MiB")
        except Exception as exc:  # one broken row must not kill the run
            row["error"] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
    return results


def measure_isolated(impl: str, workloads, opts) -> list[dict]:
    """Run measure_impl in a fresh interpreter; parse its JSON result."""
    cmd = [sys.executable, "-m", "benchmarks.run", "--_worker", impl,
           "--workloads", ",".join(workloads), "--threads", str(opts.threads),
           "--seed", str(opts.seed), "--warmup", str(opts.warmup), "--repeats", str(opts.repeats),
           "--min-time", str(opts.min_time), "--growth-steps", str(opts.growth_steps)]
    if opts.quick:
        cmd.append("--quick")
    if opts.no_memory:
        cmd.append("--no-memory")
    if opts.malloc_retain:
        cmd.append("--malloc-retain")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, text=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("@@RESULT@@ "):
            return json.loads(line[len("@@RESULT@@ "):])
    return [{"workload": w, "impl": impl, "error": f"worker exited with {proc.returncode}"}
            for w in workloads]


def _contended(r) -> bool:
    load = r.get("other_load_pct")
    return load is not None and load > CONTENDED_PCT


def merge_rounds(rounds: list[list[dict]]) -> list[dict]:
    """Pool the timing samples of repeated rounds (same rows in each round).

    Rounds during which other processes used the CPUs (> CONTENDED_PCT) are
    dropped when at least one clean round exists for that row.  Memory
    figures and notes come from the first round that has them.
    """
    clean_keys = {(r["workload"], r["impl"]) for res in rounds for r in res
                  if "samples_ms" in r and not _contended(r)}
    merged: dict = {}
    order = []
    for res in rounds:
        for r in res:
            key = (r["workload"], r["impl"])
            if key not in merged:
                merged[key] = dict(r, notes=list(r.get("notes", [])), rounds=0)
                merged[key]["samples_ms"] = []
                order.append(key)
            m = merged[key]
            m.setdefault("round_loads", []).append(r.get("other_load_pct"))
            use = "samples_ms" in r and (key not in clean_keys or not _contended(r))
            if "samples_ms" in r and not use:
                m["dropped_rounds"] = m.get("dropped_rounds", 0) + 1
            if use:
                m["samples_ms"] = m["samples_ms"] + list(r["samples_ms"])
                m["rounds"] += 1
                m.setdefault("round_medians_ms", []).append(r["median_ms"])
            if "peak_mib" in r and m.get("peak_mib") is None:
                for k in ("peak_mib", "peak_method", "growth_traced_mib", "growth_rss_mib"):
                    m[k] = r.get(k)
            for note in r.get("notes", []):
                if note not in m["notes"]:
                    m["notes"].append(note)
            if "error" in r and "error" not in m:
                m["error"] = r["error"]
    out = []
    for key in order:
        m = merged[key]
        if m["samples_ms"]:
            ms = np.asarray(m["samples_ms"])
            q1, med, q3 = np.percentile(ms, [25, 50, 75])
            m.update(median_ms=float(med), iqr_ms=float(q3 - q1), min_ms=float(ms.min()), n=len(ms))
            if m.get("n_ops"):
                m["us_per_op"] = float(med) * 1e3 / m["n_ops"]
        out.append(m)
    return out


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

HEADER = ("workload", "impl", "median ms", "IQR ms", "vs floor", "peak MiB", "notes")


def _table_rows(results: list[dict]):
    floor = {r["workload"]: r.get("median_ms") for r in results if r["impl"] == BASELINE}
    order = {w: i for i, w in enumerate(ALL_WORKLOADS)}
    rows = []
    for r in sorted(results, key=lambda r: order.get(r["workload"], 99)):
        w = r["workload"]
        if "skipped" in r or "error" in r:
            rows.append((w, r["impl"], "-", "-", "-", "-",
                         "skipped: " + r["skipped"] if "skipped" in r else "ERROR: " + r["error"]))
            continue
        base = floor.get(w)
        ratio = f"{r['median_ms'] / base:.2f}x" if base else "-"
        peak = "-" if r.get("peak_mib") is None else f"{r['peak_mib']:.1f}"
        notes = list(r.get("notes", []))
        if r.get("us_per_op") is not None:
            notes.insert(0, f"{r['us_per_op']:.2f} us/op (fwd+bwd)")
        loads = [x for x in r.get("round_loads", [r.get("other_load_pct")]) if x is not None]
        if r.get("rounds", 1) > 1:
            notes.append("round medians " + "/".join(f"{x:.3g}" for x in r["round_medians_ms"]))
        if r.get("dropped_rounds"):
            notes.append(f"{r['dropped_rounds']} contended round(s) dropped")
        if loads and all(x > CONTENDED_PCT for x in loads):
            notes.append(f"CONTENDED: other processes used {min(loads):.0f}%+ of the CPUs")
        notes.append(f"n={r.get('n')}")
        rows.append((w, r["impl"], f"{r['median_ms']:.3f}" if r["median_ms"] < 1 else f"{r['median_ms']:.2f}",
                     f"{r['iqr_ms']:.3f}" if r["iqr_ms"] < 1 else f"{r['iqr_ms']:.2f}",
                     ratio, peak, "; ".join(notes)))
    return rows


def format_text(results, info) -> str:
    rows = [HEADER] + _table_rows(results)
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(HEADER) - 1)]
    out = []
    for j, r in enumerate(rows):
        out.append("  ".join(str(c).ljust(widths[i]) if i < len(widths) else str(c)
                             for i, c in enumerate(r)).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths) + "  -----")
    return "\n".join(format_machine_info(info) + [""] + out)


def format_markdown(results, info, title="minigrad benchmarks") -> str:
    lines = [f"## {title} ({info['date']})", ""]
    lines += [f"- {ln}" for ln in format_machine_info(info)]
    lines += ["", "| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    for r in _table_rows(results):
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    lines += ["", "Workloads: " + "; ".join(f"{k}: {v}" for k, v in wl.DESCRIPTIONS.items()) +
              ". Full training step (forward + backward + SGD lr 0.01), float32. Peak MiB: "
              "above the memory held before one step (tracemalloc for NumPy-based columns, "
              "torch's allocator events for torch).", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few repeats, short minimum time")
    ap.add_argument("--workloads", default=",".join(ALL_WORKLOADS), help="e.g. W1,W3")
    ap.add_argument("--impls", default=",".join(IMPLEMENTATIONS), help="columns to run")
    ap.add_argument("--markdown", metavar="PATH", help="append the results as a Markdown section")
    ap.add_argument("--json", metavar="PATH", help="write raw results as JSON")
    ap.add_argument("--threads", type=int, default=default_threads())
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--min-time", type=float, default=None, help="seconds of timed steps per row")
    ap.add_argument("--growth-steps", type=int, default=None)
    ap.add_argument("--no-memory", action="store_true", help="skip peak-memory and growth checks")
    ap.add_argument("--malloc-retain", action="store_true",
                    help="mallopt: keep freed memory mapped (removes page-fault cost of fresh temporaries)")
    ap.add_argument("--no-isolate", action="store_true", help="run all columns in this process")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the whole measurement R times, implementations interleaved, and pool "
                         "the samples (robust to slow drift on noisy machines); memory is measured "
                         "in the first round only")
    ap.add_argument("--_worker", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    quick = opts.quick
    if opts.warmup is None:
        opts.warmup = 1 if quick else 3
    if opts.repeats is None:
        opts.repeats = 5 if quick else 20
    if opts.min_time is None:
        opts.min_time = 0.2 if quick else 2.0
    if opts.growth_steps is None:
        opts.growth_steps = 3 if quick else 10
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    workloads = [w.strip().upper() for w in opts.workloads.split(",") if w.strip()]
    bad = [w for w in workloads if w not in ALL_WORKLOADS]
    if bad:
        raise SystemExit(f"unknown workload(s): {bad}; choose from {ALL_WORKLOADS}")
    malloc_mode = "glibc default"
    if opts.malloc_retain:
        malloc_mode = "retain (mallopt mmap_threshold=32MiB, trim_threshold=1GiB)" \
            if malloc_retain() else "retain requested but mallopt failed"

    if opts._worker:  # subprocess mode: one implementation, JSON on stdout
        res = measure_impl(opts._worker, workloads, opts)
        print("@@RESULT@@ " + json.dumps(res), flush=True)
        return 0

    impls = [i.strip() for i in opts.impls.split(",") if i.strip()]
    unknown = [i for i in impls if i not in IMPLEMENTATIONS]
    if unknown:
        raise SystemExit(f"unknown implementation(s): {unknown}; known: {list(IMPLEMENTATIONS)}")

    try:
        from . import peer_torch
        torch_version = peer_torch.describe() if peer_torch.available() else None
    except ImportError:
        torch_version = None
    info = machine_info(opts.threads, torch_version, malloc_mode)
    for ln in format_machine_info(info):
        print(ln, flush=True)
    print(flush=True)

    rounds = []
    no_memory = opts.no_memory
    for rnd in range(max(1, opts.rounds)):
        res = []
        for impl in impls:
            print(f"round {rnd + 1}/{max(1, opts.rounds)}: running {impl} ...", flush=True)
            if opts.no_isolate:
                res += measure_impl(impl, workloads, opts)
            else:
                res += measure_isolated(impl, workloads, opts)
        rounds.append(res)
        opts.no_memory = True  # memory figures are deterministic: measure them once
    opts.no_memory = no_memory
    results = merge_rounds(rounds)

    info["busy_after"] = cpu_busy_percent()
    text = format_text(results, info)
    print()
    print(text.split("\n\n", 1)[1] if "\n\n" in text else text)
    print(format_machine_info(info)[-1])
    if opts.markdown:
        with open(opts.markdown, "a") as f:
            f.write(format_markdown(results, info) + "\n")
        print(f"\nappended Markdown to {opts.markdown}")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"machine": info, "args": vars(opts), "results": results}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
