"""PyTorch CPU eager peer for W1..W4 (the "what does a mature framework do" column).

Same models and the same weights as ``floor_numpy`` (copied from the shared
``params`` dicts produced by ``benchmarks.workloads``), written the way a
PyTorch user would: ``F.linear`` (i.e. what ``nn.Linear`` runs, weights kept
in ``(out, in)`` layout), ``F.layer_norm``, ``F.gelu(approximate="tanh")``,
explicit masked-softmax attention (not the fused SDPA kernel, to compare like
with like), ``F.cross_entropy``, ``loss.backward()`` and ``torch.optim.SGD``.

W2 uses a hand-written LSTM cell loop like the floor.  ``VARIANTS`` adds an
extra row "torch nn.LSTM" that runs the same model through ``torch.nn.LSTM``,
and "torch op-by-op" rows for W1..W3 (``OPBYOP``): the models written from
tensor methods, the PyTorch twin of ``benchmarks/impl_opbyop.py``.

If torch cannot be imported, every entry point raises ImportError; the runner
then skips the column.  Thread count is set by the runner
(``torch.set_num_threads``), not here.
"""

from __future__ import annotations

import numpy as np

try:  # guarded: the suite must work without torch
    import torch
    import torch.nn.functional as F
    _IMPORT_ERROR = None
except Exception as exc:  # pragma: no cover - depends on the environment
    torch = None
    F = None
    _IMPORT_ERROR = exc

__all__ = ["W1", "W2", "W3", "W4", "OPBYOP", "VARIANTS", "available", "version"]


def available() -> bool:
    return torch is not None


def version() -> str | None:
    return None if torch is None else torch.__version__


def describe() -> str:
    """One line: version and the CPU math backends torch was built with."""
    if torch is None:
        return f"not installed ({_IMPORT_ERROR})"
    parts = [torch.__version__]
    try:
        parts.append(f"MKL={'yes' if torch.backends.mkl.is_available() else 'no'}")
        parts.append(f"oneDNN={'yes' if torch.backends.mkldnn.is_available() else 'no'}")
        info = torch.__config__.parallel_info()
        backend = [ln for ln in info.splitlines() if ln.startswith("ATen parallel backend")]
        mkl = [ln.strip() for ln in info.splitlines() if "Math Kernel Library Version" in ln]
        if backend:
            parts.append("parallel=" + backend[0].split(":", 1)[1].strip())
        if mkl:
            parts.append(mkl[0].split(" for ")[0].replace("Intel(R) oneAPI Math Kernel Library", "oneMKL"))
    except Exception:
        pass
    return ", ".join(parts)


def _require():
    if torch is None:
        raise ImportError(f"torch is not importable: {_IMPORT_ERROR!r}")


# Parameter names whose torch leaf is stored transposed ((out, in), nn.Linear layout).
_TRANSPOSED = {
    "W1": {"W1", "W2", "W3"},
    "W2": {"Wy"},            # the cell loop keeps Wx/Wh as (in, 4H): x_t @ Wx + h @ Wh + b
    "W3": {"Wq", "Wk", "Wv", "Wo", "W1", "W2", "Wc"},
    "W4": set(),
}


def _to_leaves(params: dict, transposed: set) -> dict:
    out = {}
    for k, v in params.items():
        arr = np.ascontiguousarray(v.T) if k in transposed else v
        out[k] = torch.tensor(arr, requires_grad=True)   # torch.tensor copies
    return out


def _grads_to_numpy(leaves: dict, transposed: set) -> dict:
    out = {}
    for k, t in leaves.items():
        g = t.grad.detach().numpy()
        out[k] = np.ascontiguousarray(g.T) if k in transposed else g.copy()
    return out


def _inputs(data: dict, dtype):
    x = torch.tensor(data["x"]).to(dtype) if "x" in data else None
    y = torch.tensor(data["y"]) if "y" in data else None
    return x, y


# --------------------------------------------------------------------------
# model definitions: loss(leaves, x, y, cfg) -> scalar tensor
# --------------------------------------------------------------------------

def _w1_loss(p, x, y, cfg):
    h = torch.relu(F.linear(x, p["W1"], p["b1"]))
    h = torch.relu(F.linear(h, p["W2"], p["b2"]))
    return F.cross_entropy(F.linear(h, p["W3"], p["b3"]), y)


def _w2_loss(p, x, y, cfg):
    Wx, Wh, b = p["Wx"], p["Wh"], p["b"]
    B, T, _ = x.shape
    H = Wh.shape[0]
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    for t in range(T):
        z = x[:, t] @ Wx + h @ Wh + b             # one fused matmul pair for 4 gates
        i, f, g, o = z.chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        h = o * torch.tanh(c)
    return F.cross_entropy(F.linear(h, p["Wy"], p["by"]), y)


_MASKS: dict = {}


def _causal_mask(T, dtype):
    key = (T, dtype)
    m = _MASKS.get(key)
    if m is None:
        m = torch.full((T, T), float("-inf"), dtype=dtype).triu(1)
        _MASKS[key] = m
    return m


def _w3_loss(p, x, y, cfg):
    nh, eps = int(cfg["n_heads"]), float(cfg["eps"])
    B, T, D = x.shape
    dh = D // nh
    h = F.layer_norm(x, (D,), p["ln1_w"], p["ln1_b"], eps)
    q = F.linear(h, p["Wq"], p["bq"]).view(B, T, nh, dh).transpose(1, 2)
    k = F.linear(h, p["Wk"], p["bk"]).view(B, T, nh, dh).transpose(1, 2)
    v = F.linear(h, p["Wv"], p["bv"]).view(B, T, nh, dh).transpose(1, 2)
    s = (q * (1.0 / dh ** 0.5)) @ k.transpose(-2, -1) + _causal_mask(T, x.dtype)
    att = torch.softmax(s, dim=-1) @ v
    att = att.transpose(1, 2).reshape(B, T, D)
    x = x + F.linear(att, p["Wo"], p["bo"])
    h = F.layer_norm(x, (D,), p["ln2_w"], p["ln2_b"], eps)
    h = F.linear(F.gelu(F.linear(h, p["W1"], p["b1"]), approximate="tanh"), p["W2"], p["b2"])
    x = x + h
    return F.cross_entropy(F.linear(x.mean(dim=1), p["Wc"], p["bc"]), y)


def _w4_loss(p, a, cfg):
    x = p["x"]
    h = x
    for _ in range(int(cfg["n_ops"]) // 2):
        h = h * a
        h = h + x
    return h.sum()


# --------------------------------------------------------------------------
# workload namespaces
# --------------------------------------------------------------------------

class _Workload:
    def __init__(self, name, loss_fn, transposed=None):
        self.name = name
        self._loss_fn = loss_fn
        self._transposed = _TRANSPOSED[name] if transposed is None else transposed

    def _setup(self, params, data):
        _require()
        leaves = _to_leaves(params, self._transposed)
        dtype = next(iter(leaves.values())).dtype
        cfg = data["cfg"]
        if self.name == "W4":
            a = torch.tensor(data["a"]).to(dtype)
            fn = lambda: self._loss_fn(leaves, a, cfg)  # noqa: E731
        else:
            x, y = _inputs(data, dtype)
            fn = lambda: self._loss_fn(leaves, x, y, cfg)  # noqa: E731
        return leaves, fn

    def loss_and_grads(self, params, data):
        leaves, fn = self._setup(params, data)
        loss = fn()
        loss.backward()
        return float(loss.item()), _grads_to_numpy(leaves, self._transposed)

    def make_step(self, params, data):
        """Training step on torch copies of ``params`` (the numpy arrays are not touched)."""
        leaves, fn = self._setup(params, data)
        opt = torch.optim.SGD(list(leaves.values()), lr=float(data["cfg"]["lr"]))

        def step() -> float:
            loss = fn()
            loss.backward()
            opt.step()
            # free the grads at the end of the step (as the floor does), so the
            # memory held between steps is the same for every implementation
            opt.zero_grad(set_to_none=True)
            return loss.item()

        return step

    def __repr__(self):
        return f"<peer_torch.{self.name}>"


W1 = _Workload("W1", _w1_loss)
W2 = _Workload("W2", _w2_loss)
W3 = _Workload("W3", _w3_loss)
W4 = _Workload("W4", _w4_loss)
WORKLOADS = {"W1": W1, "W2": W2, "W3": W3, "W4": W4}


# --------------------------------------------------------------------------
# extra rows: "torch op-by-op", the models written from tensor methods the way a
# learner writes them (the twin of benchmarks/impl_opbyop.py): x @ W + b with
# (in, out) weights, LayerNorm from mean/var, attention from matmul, masked_fill
# and softmax.  W2's main row is a hand-written cell loop already; its op-by-op
# row runs the same cell loop so every workload has a row under this label.
# --------------------------------------------------------------------------

def _w1_opbyop_loss(p, x, y, cfg):
    h = torch.relu(x @ p["W1"] + p["b1"])
    h = torch.relu(h @ p["W2"] + p["b2"])
    return F.cross_entropy(h @ p["W3"] + p["b3"], y)


def _layer_norm_opbyop(x, w, b, eps):
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=False)
    return (x - mu) / torch.sqrt(var + eps) * w + b


_BLOCKED: dict = {}


def _causal_blocked(T):
    m = _BLOCKED.get(T)
    if m is None:
        m = _BLOCKED[T] = torch.ones(T, T, dtype=torch.bool).triu(1)
    return m


def _w3_opbyop_loss(p, x, y, cfg):
    nh, eps = int(cfg["n_heads"]), float(cfg["eps"])
    B, T, D = x.shape
    dh = D // nh

    def heads(t):
        return t.reshape(B, T, nh, dh).transpose(1, 2)

    a = _layer_norm_opbyop(x, p["ln1_w"], p["ln1_b"], eps)
    q = heads(a @ p["Wq"] + p["bq"])
    k = heads(a @ p["Wk"] + p["bk"])
    v = heads(a @ p["Wv"] + p["bv"])
    scores = (q @ k.transpose(-2, -1)) * (1.0 / dh ** 0.5)
    scores = scores.masked_fill(_causal_blocked(T), -1e30)
    att = torch.softmax(scores, dim=-1) @ v
    att = att.transpose(1, 2).reshape(B, T, D)
    x = x + (att @ p["Wo"] + p["bo"])
    f = _layer_norm_opbyop(x, p["ln2_w"], p["ln2_b"], eps)
    f = F.gelu(f @ p["W1"] + p["b1"], approximate="tanh") @ p["W2"] + p["b2"]
    x = x + f
    return F.cross_entropy(x.mean(dim=1) @ p["Wc"] + p["bc"], y)


OPBYOP = {
    "W1": _Workload("W1", _w1_opbyop_loss, transposed=set()),
    "W2": _Workload("W2", _w2_loss),
    "W3": _Workload("W3", _w3_opbyop_loss, transposed=set()),
}


# --------------------------------------------------------------------------
# extra row: torch.nn.LSTM on the same weights
# --------------------------------------------------------------------------

class _W2NNLSTM:
    """W2 through ``torch.nn.LSTM`` (gate order i, f, g, o matches the floor).

    ``weight_ih = Wx.T``, ``weight_hh = Wh.T``, ``bias_ih = b``, ``bias_hh = 0``.
    ``loss_and_grads`` maps the gradients back to the floor's names
    (``b`` gets ``bias_ih.grad``, which equals ``bias_hh.grad``).
    """

    name = "W2"

    def _setup(self, params, data):
        _require()
        dtype = torch.from_numpy(params["Wx"]).dtype
        n_in, four_h = params["Wx"].shape
        H = four_h // 4
        lstm = torch.nn.LSTM(n_in, H, num_layers=1, batch_first=True, dtype=dtype)
        with torch.no_grad():
            lstm.weight_ih_l0.copy_(torch.from_numpy(params["Wx"].T))
            lstm.weight_hh_l0.copy_(torch.from_numpy(params["Wh"].T))
            lstm.bias_ih_l0.copy_(torch.from_numpy(params["b"]))
            lstm.bias_hh_l0.zero_()
        Wy = torch.tensor(np.ascontiguousarray(params["Wy"].T), requires_grad=True)
        by = torch.tensor(params["by"], requires_grad=True)
        x, y = _inputs(data, dtype)

        def fn():
            _, (h_n, _) = lstm(x)
            return F.cross_entropy(F.linear(h_n[0], Wy, by), y)

        return lstm, Wy, by, fn

    def loss_and_grads(self, params, data):
        lstm, Wy, by, fn = self._setup(params, data)
        loss = fn()
        loss.backward()
        grads = {
            "Wx": lstm.weight_ih_l0.grad.numpy().T.copy(),
            "Wh": lstm.weight_hh_l0.grad.numpy().T.copy(),
            "b": lstm.bias_ih_l0.grad.numpy().copy(),
            "Wy": Wy.grad.numpy().T.copy(),
            "by": by.grad.numpy().copy(),
        }
        return float(loss.item()), grads

    def make_step(self, params, data):
        lstm, Wy, by, fn = self._setup(params, data)
        opt = torch.optim.SGD(list(lstm.parameters()) + [Wy, by], lr=float(data["cfg"]["lr"]))

        def step() -> float:
            loss = fn()
            loss.backward()
            opt.step()
            # free the grads at the end of the step (as the floor does), so the
            # memory held between steps is the same for every implementation
            opt.zero_grad(set_to_none=True)
            return loss.item()

        return step


W2_NN_LSTM = _W2NNLSTM()

class _W4AllGrad(_Workload):
    """W4 with ``a`` requiring a gradient too (every operand tracked); ``a`` is not
    trained, so the loss matches the floor's."""

    def __init__(self):
        super().__init__("W4", _w4_loss)

    def _setup(self, params, data):
        leaves, _ = super()._setup(params, data)
        dtype = next(iter(leaves.values())).dtype
        a = torch.tensor(data["a"]).to(dtype).requires_grad_(True)
        cfg = data["cfg"]

        def fn():
            a.grad = None
            return self._loss_fn(leaves, a, cfg)
        return leaves, fn


W4_ALL_GRAD = _W4AllGrad()

# (workload, row label, namespace with make_step) -- extra rows for the runner
VARIANTS = [("W2", "torch nn.LSTM", W2_NN_LSTM), ("W4", "torch all-grad", W4_ALL_GRAD)] + [
    (w, "torch op-by-op", obj) for w, obj in OPBYOP.items()]


def make_step(workload: str, params: dict, data: dict):
    return WORKLOADS[workload].make_step(params, data)


def loss_and_grads(workload: str, params: dict, data: dict):
    return WORKLOADS[workload].loss_and_grads(params, data)


# --------------------------------------------------------------------------
# memory: torch's CPU allocator is invisible to tracemalloc
# --------------------------------------------------------------------------

def peak_memory_bytes(step):
    """Peak bytes held by torch's CPU allocator during one ``step()``, above the
    amount held before it (same definition as the tracemalloc figure of the
    NumPy implementations).  Uses the profiler's allocation events; returns
    None if that (private) API is unavailable.
    """
    _require()
    try:
        from torch.profiler import ProfilerActivity, profile
        from torch._C._profiler import _EventType
    except Exception:  # pragma: no cover
        return None
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    try:
        roots = prof.profiler.kineto_results.experimental_event_tree()
    except Exception:  # pragma: no cover
        return None
    allocs = []
    stack = list(roots)
    while stack:
        ev = stack.pop()
        stack.extend(ev.children)
        if ev.tag == _EventType.Allocation:
            fields = ev.extra_fields
            if getattr(getattr(fields, "device", None), "type", "cpu") == "cpu":
                allocs.append((ev.start_time_ns, fields.alloc_size))
    allocs.sort()
    cur = peak = 0
    for _, size in allocs:   # size < 0 for frees
        cur += size
        peak = max(peak, cur)
    return peak


# --------------------------------------------------------------------------
# W5: CNN (F.conv2d, which runs oneDNN on CPU where torch was built with it)
# --------------------------------------------------------------------------

def _w5_loss(p, x, y, cfg):
    h = F.max_pool2d(torch.relu(F.conv2d(x, p["K1"], p["k1b"])), 2)
    h = F.max_pool2d(torch.relu(F.conv2d(h, p["K2"], p["k2b"])), 2)
    return F.cross_entropy(F.linear(h.flatten(1), p["Wfc"], p["bfc"]), y)


_TRANSPOSED["W5"] = {"Wfc"}
W5 = _Workload("W5", _w5_loss)
WORKLOADS["W5"] = W5
__all__.append("W5")
