"""GPU benchmark: minigrad on CuPy against PyTorch CUDA eager.

``python -m benchmarks.gpu [--device cuda] [--quick] [--budget SECONDS] [--markdown PATH]``

Rows (full training step = forward + backward + SGD, float32, the workloads of
``benchmarks/workloads.py`` with the same weights for both columns):

* W1 MLP, W2 LSTM, W3 transformer block at the CPU benchmark's sizes -- small
  enough that a GPU is mostly waiting for Python to launch kernels;
* W3 at batch 64, 256 tokens, d_model 256 (d_ff 1024) -- large enough that it
  is not launch-bound;
* a small-GPT training step (``layers.GPT``, Adam), minigrad only;
* W4 per-op overhead: 1000 tiny ops forward + backward, reported per op.

Timing: every step ends with a device synchronisation (``loss.item()`` plus
an explicit ``synchronize()``), so asynchronous kernel launches are not
mistaken for finished work; median over the repeats after warm-up steps
(CuPy compiles each kernel on first use, PyTorch initialises cuBLAS). The
``--device fake`` option runs the same code on the CPU test double, which is
how this script is tested on machines without a GPU (the figures are then
meaningless, and labelled so).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import platform
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

import layers
import minigrad as mg
import optim

from . import impl_minigrad
from . import workloads as wl

try:  # PyTorch is an optional peer; never a dependency
    import torch
    import torch.nn.functional as torch_F  # noqa: F401
except Exception:  # pragma: no cover - depends on the machine
    torch = None

__all__ = ["main", "run", "sizes"]


def sizes(quick: bool) -> dict[str, dict[str, Any]]:
    """Workload configurations: full ones for a GPU, tiny ones for ``--quick``."""
    if quick:
        return {
            "W1": dict(batch=8, sizes=(16, 12, 12, 4)),
            "W2": dict(batch=3, seq=5, n_in=4, hidden=6, n_classes=3),
            "W3": dict(batch=2, seq=8, d_model=16, n_heads=2, d_ff=32, n_classes=3),
            "W3-large": dict(batch=2, seq=16, d_model=32, n_heads=4, d_ff=64, n_classes=3),
            "W4": dict(n_ops=40, size=4),
            "GPT": dict(vocab=17, d_model=16, heads=2, layers=1, seq=8, batch=2),
        }
    return {
        "W1": dict(wl.W1_CFG),
        "W2": dict(wl.W2_CFG),
        "W3": {k: v for k, v in wl.W3_CFG.items() if k != "eps"},
        "W3-large": dict(batch=64, seq=256, d_model=256, n_heads=4, d_ff=1024, n_classes=10),
        "W4": dict(wl.W4_CFG),
        "GPT": dict(vocab=65, d_model=256, heads=4, layers=4, seq=128, batch=32),
    }


_MAKERS = {"W1": wl.make_w1, "W2": wl.make_w2, "W3": wl.make_w3, "W3-large": wl.make_w3,
           "W4": wl.make_w4}


def _sync_for(device: str) -> Callable[[], None]:
    if device == "cuda":
        import cupy
        return cupy.cuda.Device().synchronize
    return lambda: None


def _time(step: Callable[[], Any], sync: Callable[[], None], warmup: int, repeats: int,
          budget_s: float) -> tuple[float, int]:
    """Median milliseconds per synchronised step, and how many steps were timed."""
    for _ in range(warmup):
        step()
    sync()
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < repeats and (len(samples) < 3 or time.perf_counter() < deadline):
        start = time.perf_counter()
        step()
        sync()
        samples.append(1000 * (time.perf_counter() - start))
    return statistics.median(samples), len(samples)


def _w4_step(params: dict, data: dict, device: str) -> Callable[[], float]:
    """W4 (per-op overhead) built directly on ``device``."""
    x = mg.Parameter(params["x"], device=device)
    a = mg.Tensor(data["a"].astype(x.dtype), device=device)
    half = int(data["cfg"]["n_ops"]) // 2
    opt = optim.SGD([x], lr=float(data["cfg"]["lr"]))

    def step() -> float:
        h = x
        for _ in range(half):
            h = h * a
            h = h + x
        loss = h.sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()
    return step


def _minigrad_step(workload: str, cfg: dict, device: str) -> Callable[[], float]:
    params, data = _MAKERS[workload](**cfg)
    if workload == "W4":
        return _w4_step(params, data, device)
    base = "W3" if workload.startswith("W3") else workload
    # inputs uploaded once, up front (not per step); layers built under
    # using_device land on ``device``; the NumPy weights are copied in with copy_.
    data = {k: (mg.Tensor(v, device=device) if isinstance(v, np.ndarray) else v)
            for k, v in data.items()}
    with mg.using_device(device):
        return impl_minigrad.WORKLOADS[base].make_step(params, data)


def _gpt_step(cfg: dict, device: str) -> Callable[[], float]:
    mg.manual_seed(0)
    model = layers.GPT(vocab_size=cfg["vocab"], d_model=cfg["d_model"], num_heads=cfg["heads"],
                       num_layers=cfg["layers"], max_len=cfg["seq"], dropout=0.1).to(device)
    opt = optim.Adam(model.parameters(), lr=3e-4)
    rng = np.random.default_rng(0)
    ids = mg.Tensor(rng.integers(0, cfg["vocab"], (cfg["batch"], cfg["seq"] + 1)), device=device)
    x, y = ids[:, :-1], ids[:, 1:]

    def step() -> float:
        opt.zero_grad()
        logits = model(x)
        loss = mg.cross_entropy(logits.reshape(-1, cfg["vocab"]), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()
    return step


def _torch_step(workload: str, cfg: dict) -> Callable[[], float] | None:
    """PyTorch CUDA eager on the same weights (``benchmarks.peer_torch``'s models)."""
    if torch is None or not torch.cuda.is_available():
        return None
    from . import peer_torch as pt
    params, data = _MAKERS[workload](**cfg)
    base = "W3" if workload.startswith("W3") else workload
    transposed = pt._TRANSPOSED[base]
    leaves = {k: torch.tensor(np.ascontiguousarray(v.T) if k in transposed else v,
                              device="cuda", requires_grad=True) for k, v in params.items()}
    loss_fn = {"W1": pt._w1_loss, "W2": pt._w2_loss, "W3": pt._w3_loss, "W4": pt._w4_loss}[base]
    c = data["cfg"]
    if base == "W4":
        a = torch.tensor(data["a"], device="cuda")
        fn = lambda: loss_fn(leaves, a, c)  # noqa: E731
    else:
        x = torch.tensor(data["x"], device="cuda")
        y = torch.tensor(data["y"], device="cuda")
        fn = lambda: loss_fn(leaves, x, y, c)  # noqa: E731
    opt = torch.optim.SGD(list(leaves.values()), lr=float(c["lr"]))

    def step() -> float:
        loss = fn()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()
    return step


def run(device: str = "cuda", quick: bool = False, budget_s: float = 150.0,
        warmup: int = 3, repeats: int = 20, log: Callable[[str], None] = print) -> dict:
    """Time every row; returns ``{"rows": [...], "meta": {...}}``. ``budget_s`` bounds
    the timed part of the whole benchmark (each row gets its share)."""
    cfgs = sizes(quick)
    sync = _sync_for(device)
    torch_sync = (torch.cuda.synchronize if torch is not None and torch.cuda.is_available()
                  else (lambda: None))
    names = ["W1", "W2", "W3", "W3-large", "GPT", "W4"]
    share = budget_s / (2 * len(names))
    rows = []
    for name in names:
        cfg = cfgs[name]
        row: dict[str, Any] = {"workload": name, "config": cfg}
        try:
            step = _gpt_step(cfg, device) if name == "GPT" else _minigrad_step(name, cfg, device)
            row["minigrad_ms"], row["n"] = _time(step, sync, warmup, repeats, share)
        except Exception as err:     # report, keep going: one broken row loses nothing else
            row["error"] = f"{type(err).__name__}: {err}"
        if name != "GPT" and device == "cuda":
            try:
                peer = _torch_step(name, cfg)
                if peer is not None:
                    row["torch_ms"], _ = _time(peer, torch_sync, warmup, repeats, share)
            except Exception as err:
                row["torch_error"] = f"{type(err).__name__}: {err}"
        if name == "W4":
            n_ops = cfg["n_ops"]
            for key in ("minigrad_ms", "torch_ms"):
                if key in row:
                    row[key.replace("_ms", "_us_per_op")] = 1000 * row[key] / n_ops
        rows.append(row)
        log(f"  {name}: " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                                       for k, v in row.items() if k not in ("config",)))
    return {"rows": rows, "meta": _meta(device, quick)}


def _meta(device: str, quick: bool) -> dict:
    meta = {"date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "device": device, "quick": quick, "python": platform.python_version(),
            "numpy": np.__version__, "torch": getattr(torch, "__version__", None)}
    if device == "cuda":
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        meta.update(cupy=cupy.__version__, gpu=name.decode() if isinstance(name, bytes) else name,
                    cuda_runtime=cupy.cuda.runtime.runtimeGetVersion())
    return meta


def markdown(result: dict) -> str:
    meta, rows = result["meta"], result["rows"]
    lines = [f"GPU benchmark, {meta['date']}: device `{meta['device']}`"
             + (f" ({meta.get('gpu')}, CuPy {meta.get('cupy')}, CUDA runtime "
                f"{meta.get('cuda_runtime')})" if meta["device"] == "cuda" else
                " (the CPU test double: these figures measure nothing about a GPU)")
             + f", PyTorch {meta['torch'] or 'not installed'}, NumPy {meta['numpy']}, "
             f"float32, median of synchronised steps after warm-up"
             + (", QUICK sizes" if meta["quick"] else "") + ".", "",
             "| workload | config | minigrad | PyTorch CUDA eager | minigrad / torch |",
             "|---|---|---|---|---|"]
    for r in rows:
        cfg = ", ".join(f"{k}={v}" for k, v in r["config"].items())
        if r["workload"] == "W4":
            mine = r.get("minigrad_us_per_op")
            peer = r.get("torch_us_per_op")
            unit = "µs/op"
        else:
            mine, peer, unit = r.get("minigrad_ms"), r.get("torch_ms"), "ms"
        mine_s = f"{mine:.3f} {unit}" if mine is not None else f"error: {r.get('error')}"
        peer_s = f"{peer:.3f} {unit}" if peer is not None else (
            r.get("torch_error") or ("-" if r["workload"] == "GPT" else "not measured"))
        ratio = f"{mine / peer:.2f}×" if mine is not None and peer else "-"
        lines.append(f"| {r['workload']} | {cfg} | {mine_s} | {peer_s} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda (default) or fake (a dry run)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    ap.add_argument("--budget", type=float, default=150.0, help="seconds for all timed steps")
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not mg.is_available("cuda"):
        print("No GPU (or no CuPy) here: nothing to benchmark.")
        return 0
    result = run(args.device, args.quick, args.budget)
    text = markdown(result)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
