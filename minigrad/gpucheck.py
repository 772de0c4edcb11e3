"""One command that checks minigrad on a GPU machine.

``python -m minigrad.gpucheck [--report FILE]`` (or ``make gpu-check``), from a
checkout with ``PYTHONPATH=.``: nothing needs installing beyond what a GPU
machine has (NumPy, CuPy, pytest, hypothesis; PyTorch optional; no Jupyter).
Within about 8 minutes it runs, and reports in Markdown:

1. **environment** -- Python, NumPy, CuPy, CUDA runtime and driver, the GPU,
   and one kernel compiled and run (``cupy.ElementwiseKernel``);
2. **tests** -- the test suite's cuda-parametrised tests (``pytest -k cuda``;
   the notebook tests need nbclient and are left out when it is missing);
3. **parity** -- every op of :mod:`minigrad.backends.opsuite` on cpu and on
   cuda, float64 and float32, forward values and gradients;
4. **gradcheck** -- float64 ``gradcheck`` of every op and ``gradgradcheck``
   of the smooth ones, on cuda;
5. **lesson 11** -- ``lessons/src/11_gpu_with_cupy.py`` run as a script;
6. **resume** -- a small GPT (with dropout) trained, checkpointed, reloaded
   into fresh objects and continued: bit-exact against an uninterrupted run;
7. **benchmark** -- :mod:`benchmarks.gpu` (PyTorch CUDA eager as the peer).

Without a GPU it says so and exits 0 having run nothing. The exit status is
1 if any step failed. ``--device fake`` runs every step on the CPU test
double instead: that is how this script is tested on machines without a GPU.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("environment", "tests", "parity", "gradcheck", "lesson11", "resume", "benchmark")
# seconds per step on a GPU machine: 8 minutes in all, with a margin
BUDGET = {"environment": 30, "tests": 210, "parity": 40, "gradcheck": 45, "lesson11": 60,
          "resume": 25, "benchmark": 60}
# smooth ops whose second derivatives gradgradcheck checks
SECOND_ORDER = ("exp", "tanh", "sigmoid", "gelu", "mul", "div", "pow", "matmul", "softmax",
                "log_softmax", "logsumexp", "layer_norm", "mse_loss", "cross_entropy")
TOTAL_BUDGET_S = 470.0          # the whole check must fit in 8 minutes
TOLERANCE = {"float64": dict(rtol=1e-9, atol=1e-11), "float32": dict(rtol=2e-4, atol=2e-5)}


@dataclass
class Result:
    name: str
    status: str = "PASS"            # PASS, FAIL, SKIP
    seconds: float = 0.0
    summary: str = ""
    details: list[str] = field(default_factory=list)


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                     else "")
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("HYPOTHESIS_PROFILE", "ci")
    env.update(extra or {})
    return env


# ---------------------------------------------------------------------------
# the steps
# ---------------------------------------------------------------------------
def step_environment(device: str, quick: bool) -> Result:
    r = Result("environment")
    import minigrad as mg
    r.details += [f"- Python {platform.python_version()} ({platform.platform()})",
                  f"- NumPy {np.__version__}, minigrad {mg.__version__}"]
    torch = _torch()
    r.details.append(f"- PyTorch {torch.__version__}, CUDA available: "
                     f"{torch.cuda.is_available()}" if torch else "- PyTorch: not installed")
    if device != "cuda":
        r.details.append(f"- device `{device}`: the CPU test double (a dry run of this script)")
        r.summary = f"dry run on {device}"
        return r
    import cupy
    rt = cupy.cuda.runtime
    props = rt.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    r.details += [
        f"- CuPy {cupy.__version__}; CUDA runtime {rt.runtimeGetVersion()}, driver "
        f"{rt.driverGetVersion()}; {rt.getDeviceCount()} visible GPU(s)",
        f"- GPU 0: {name}, compute capability {props['major']}.{props['minor']}, "
        f"{props['totalGlobalMem'] / 2**30:.1f} GiB",
    ]
    start = time.perf_counter()
    square_plus_one = cupy.ElementwiseKernel("T x", "T y", "y = x * x + 1", "mg_gpucheck")
    got = cupy.asnumpy(square_plus_one(cupy.arange(4, dtype=cupy.float32))).tolist()
    ms = 1000 * (time.perf_counter() - start)
    ok = got == [1.0, 2.0, 5.0, 10.0]
    r.details.append(f"- compiled and ran an ElementwiseKernel in {ms:.0f} ms: {got} "
                     f"({'correct' if ok else 'WRONG'})")
    r.status = "PASS" if ok else "FAIL"
    r.summary = f"{name}, CuPy {cupy.__version__}"
    return r


def step_tests(device: str, quick: bool) -> Result:
    r = Result("tests")
    args = [sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-k", device,
            "-p", "no:cacheprovider", "tests"]
    if device == "fake" and quick:
        args[-1] = "tests/backends"
    if importlib.util.find_spec("nbclient") is None or importlib.util.find_spec("nbformat") is None:
        args.append("--ignore=tests/test_lessons.py")
        r.details.append("- notebook tests left out: nbclient/nbformat not installed")
    if importlib.util.find_spec("xdist") is not None:
        args += ["-n", "0"]
    r.details.append(f"- `{' '.join(args[1:])}`")
    try:
        run = subprocess.run(args, cwd=ROOT, env=_env(), capture_output=True, text=True,
                             timeout=BUDGET["tests"])
    except subprocess.TimeoutExpired as err:
        r.status, r.summary = "FAIL", f"timed out after {BUDGET['tests']} s"
        r.details.append("```\n" + _tail(err.stdout) + "\n```")
        return r
    lines = [ln for ln in run.stdout.splitlines() if ln.strip()]
    last = lines[-1] if lines else "(no output)"
    r.summary = re.sub(r"=+", "", last).strip()
    if run.returncode not in (0, 5):      # 5: nothing collected (no such tests)
        r.status = "FAIL"
        failed = [ln for ln in lines if ln.startswith(("FAILED", "ERROR"))]
        r.details.append("```\n" + "\n".join(failed[:40] or lines[-40:]) + "\n```")
    return r


def _cases(quick: bool):
    from .backends.opsuite import CASES
    return CASES[::4] if quick else CASES


def step_parity(device: str, quick: bool) -> Result:
    """cpu vs ``device``: forward values and gradients of every op, float64 and float32."""
    from .backends.opsuite import run_case
    r = Result("parity")
    rows, bad = [], 0
    for case in _cases(quick):
        for dtype in ("float64", "float32"):
            tol = TOLERANCE[dtype]
            try:
                ref_out, ref_grads = run_case(case, "cpu", np.dtype(dtype))
                out, grads = run_case(case, device, np.dtype(dtype))
                errs = [_rel_err(out, ref_out, **tol)] + [
                    _rel_err(g, rg, **tol) for g, rg in zip(grads, ref_grads) if rg is not None]
                worst = max(errs)
                ok = worst <= 1.0 and len(grads) == len(ref_grads)
                note = f"max error / tolerance = {worst:.2g}"
            except Exception as err:
                ok, note = False, f"{type(err).__name__}: {err}"
            if not ok:
                bad += 1
                rows.append(f"| {case.name} | {dtype} | {note} |")
    total = 2 * len(_cases(quick))
    r.summary = f"{total - bad}/{total} op x dtype pairs agree (forward and gradients)"
    r.details.append(f"- tolerances: {TOLERANCE}")
    if bad:
        r.status = "FAIL"
        r.details += ["", "| op | dtype | problem |", "|---|---|---|", *rows]
    return r


def _rel_err(got: np.ndarray | None, want: np.ndarray | None, rtol: float, atol: float) -> float:
    """max |got - want| / (atol + rtol |want|): <= 1 means within tolerance."""
    if got is None or want is None:
        return 0.0 if got is None and want is None else np.inf
    if got.shape != want.shape:
        return np.inf
    if got.size == 0:
        return 0.0
    return float(np.max(np.abs(got - want) / (atol + rtol * np.abs(want))))


def step_gradcheck(device: str, quick: bool) -> Result:
    import minigrad as mg
    r = Result("gradcheck")
    n_first = n_second = 0
    failures = []
    for case in _cases(quick):
        if not (case.differentiable and case.gradcheck):
            continue
        arrays, constants = case.make(np.random.default_rng(0))
        inputs = [mg.Tensor(a, dtype="float64", device=device, requires_grad=True)
                  for a in arrays]

        def fn(*ts, _case=case, _constants=constants):
            return _case.fn(*ts, *_constants)
        checks: list[tuple[str, Callable[..., Any]]] = [("gradcheck", mg.gradcheck)]
        if case.name in SECOND_ORDER:
            checks.append(("gradgradcheck", mg.gradgradcheck))
        for label, check in checks:
            try:
                res = check(fn, *inputs, raise_exception=False)
                ok = res.passed
                note = "" if ok else str(res)[:300]
            except Exception as err:
                ok, note = False, f"{type(err).__name__}: {err}"
            if label == "gradcheck":
                n_first += 1
            else:
                n_second += 1
            if not ok:
                failures.append(f"- {label} `{case.name}`: {note}")
    r.summary = f"{n_first} gradchecks, {n_second} gradgradchecks, {len(failures)} failed"
    if failures:
        r.status = "FAIL"
        r.details += failures
    return r


def step_lesson11(device: str, quick: bool) -> Result:
    r = Result("lesson11")
    script = ROOT / "lessons" / "src" / "11_gpu_with_cupy.py"
    if not script.exists():
        r.status, r.summary = "SKIP", f"{script.relative_to(ROOT)} not found"
        return r
    try:
        run = subprocess.run([sys.executable, str(script)], cwd=ROOT / "lessons", env=_env(),
                             capture_output=True, text=True, timeout=BUDGET["lesson11"])
    except subprocess.TimeoutExpired:
        r.status, r.summary = "FAIL", f"timed out after {BUDGET['lesson11']} s"
        return r
    if run.returncode:
        r.status = "FAIL"
        r.summary = "the lesson's code raised: " + (_tail(run.stderr, 1) or "?")
        r.details.append("```\n" + _tail(run.stderr, 25) + "\n```")
    else:
        r.summary = "ran top to bottom (its asserts hold)"
        r.details.append("```\n" + _tail(run.stdout, 15) + "\n```")
    return r


def step_resume(device: str, quick: bool) -> Result:
    """GPT with dropout: N steps straight == k steps, checkpoint, fresh objects, N - k more."""
    import layers
    import minigrad as mg
    import optim
    from .backends import to_numpy
    r = Result("resume")
    vocab, seq, total, split = 23, 16, 8, 4
    data = np.random.default_rng(0).integers(0, vocab, (4, seq + 1))

    def build():
        model = layers.GPT(vocab_size=vocab, d_model=32, num_heads=2, num_layers=2,
                           max_len=seq, dropout=0.2).to(device)
        return model, optim.Adam(model.parameters(), lr=1e-3)

    def steps(model, opt, n):
        ids = mg.Tensor(data, device=device)
        out = []
        for _ in range(n):
            opt.zero_grad()
            loss = mg.cross_entropy(model(ids[:, :-1]).reshape(-1, vocab), ids[:, 1:].reshape(-1))
            loss.backward()
            opt.step()
            out.append(loss.item())
        return out

    mg.manual_seed(1)
    model, opt = build()
    straight = steps(model, opt, total)
    want = {k: to_numpy(v.data) for k, v in model.named_parameters()} \
        if hasattr(model, "named_parameters") else None

    mg.manual_seed(1)
    model, opt = build()
    first = steps(model, opt, split)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ckpt.npz")
        optim.save_checkpoint(path, model, opt)
        mg.manual_seed(12345)                      # scramble the stream: load must restore it
        model, opt = build()
        optim.load_checkpoint(path, model, opt)
    rest = steps(model, opt, total - split)
    resumed = first + rest
    same_losses = resumed == straight
    same_params = want is None or all(
        np.array_equal(to_numpy(v.data), want[k]) for k, v in model.named_parameters())
    r.details.append(f"- losses straight: {[round(x, 6) for x in straight]}")
    r.details.append(f"- losses resumed:  {[round(x, 6) for x in resumed]}")
    if same_losses and same_params:
        r.summary = f"bit-exact: {total} steps == {split} + checkpoint + {total - split}"
    else:
        r.status = "FAIL"
        r.summary = (f"NOT bit-exact (losses equal: {same_losses}, "
                     f"parameters equal: {same_params})")
    return r


def step_benchmark(device: str, quick: bool) -> Result:
    r = Result("benchmark")
    sys.path.insert(0, str(ROOT))
    from benchmarks import gpu
    result = gpu.run(device, quick=quick or device != "cuda", budget_s=BUDGET["benchmark"] * 0.6,
                     log=lambda line: None)
    r.details.append(gpu.markdown(result))
    errors = [row for row in result["rows"] if "error" in row]
    if errors:
        r.status = "FAIL"
    w3 = next((row for row in result["rows"] if row["workload"] == "W3-large"), {})
    if "torch_ms" in w3 and "minigrad_ms" in w3:
        r.summary = f"W3 at batch 64 x 256 tokens: {w3['minigrad_ms'] / w3['torch_ms']:.2f}x torch"
    else:
        r.summary = f"{len(result['rows']) - len(errors)}/{len(result['rows'])} rows timed"
    return r


STEP_FUNCTIONS = {"environment": step_environment, "tests": step_tests, "parity": step_parity,
                  "gradcheck": step_gradcheck, "lesson11": step_lesson11,
                  "resume": step_resume, "benchmark": step_benchmark}


# ---------------------------------------------------------------------------
# driver and report
# ---------------------------------------------------------------------------
def _torch():
    try:
        import torch
        return torch
    except Exception:
        return None


def _tail(text: str | bytes | None, n: int = 30) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.strip().splitlines()[-n:])


def run_steps(device: str, steps: tuple[str, ...], quick: bool = False,
              log: Callable[[str], None] = print) -> list[Result]:
    results = []
    begin = time.perf_counter()
    for name in steps:
        left = TOTAL_BUDGET_S - (time.perf_counter() - begin)
        if left < min(BUDGET[name], 20):
            results.append(Result(name, "SKIP", summary=f"out of time ({left:.0f} s left of "
                                                        f"{TOTAL_BUDGET_S:.0f} s)"))
            log(f"[gpucheck] {name}: SKIP (out of time)")
            continue
        log(f"[gpucheck] {name} ...")
        start = time.perf_counter()
        try:
            res = STEP_FUNCTIONS[name](device, quick)
        except Exception as err:
            res = Result(name, "FAIL", summary=f"{type(err).__name__}: {err}",
                         details=["```\n" + _tail(traceback.format_exc(), 20) + "\n```"])
        res.seconds = time.perf_counter() - start
        log(f"[gpucheck] {name}: {res.status} ({res.seconds:.1f} s) {res.summary}")
        results.append(res)
    return results


def report(device: str, results: list[Result], note: str = "") -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# minigrad GPU check ({stamp})", "",
             f"Device: `{device}`. Command: `PYTHONPATH=. python -m minigrad.gpucheck`.", ""]
    if note:
        lines += [note, ""]
    if results:
        total = sum(r.seconds for r in results)
        lines += ["| step | status | time | summary |", "|---|---|---|---|"]
        lines += [f"| {r.name} | {r.status} | {r.seconds:.1f} s | {r.summary} |"
                  for r in results]
        lines += ["", f"Total: {total:.0f} s.", ""]
        for r in results:
            lines += [f"## {r.name}: {r.status}", "", *r.details, ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m minigrad.gpucheck",
                                 description="Check minigrad on this machine's GPU.")
    ap.add_argument("--report", help="also write the Markdown report to this file")
    ap.add_argument("--steps", default=",".join(STEPS),
                    help=f"comma-separated subset of {','.join(STEPS)}")
    ap.add_argument("--device", default="cuda", help=argparse.SUPPRESS)   # 'fake': dry run
    ap.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip())
    unknown = [s for s in steps if s not in STEP_FUNCTIONS]
    if unknown:
        ap.error(f"unknown steps {unknown}; choose from {', '.join(STEPS)}")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import minigrad as mg
    if args.device == "cuda" and not mg.is_available("cuda"):
        text = report("cuda", [], "**No GPU here** (CuPy is not installed or sees no CUDA "
                                  "device): nothing was run.")
        print(text)
        if args.report:
            Path(args.report).write_text(text)
        return 0
    results = run_steps(args.device, steps, args.quick)
    text = report(args.device, results)
    print(text)
    if args.report:
        Path(args.report).write_text(text)
    return 1 if any(r.status == "FAIL" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
