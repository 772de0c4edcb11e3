"""The row registry and the result every row returns.

A ledger row is a small function registered with :func:`row`::

    @row("F07", impl="minigrad.ops.unary.Sigmoid")
    def sigmoid(r: Row) -> None:
        Sigmoid = r.impl()                       # the object named above, looked up now
        x = r.randn(5, 3)
        r.gradcheck(lambda x: Sigmoid.apply(x), x)
        r.compare("sigmoid vs 1/(1+e^-x)", Sigmoid.apply(x).numpy(), 1 / (1 + np.exp(-x.numpy())))
        r.verdict = "minigrad matches the formula"

The function receives a :class:`Row` (the result being built); each check it
runs is recorded (``r.gradcheck``, ``r.compare``, ``r.expect``) and the row
passes when every check passed. ``r.impl()`` resolves the dotted path at run
time, so a test can monkeypatch the implementation (plant a wrong backward)
and watch the row fail. Printing is somewhere else (:mod:`.report`).
"""
from __future__ import annotations

import importlib
import time
import traceback
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Row", "Check", "row", "REGISTRY", "resolve", "run_row", "RowSpec"]

#: gradcheck tolerances used by every row (minigrad's, PyTorch's defaults)
ATOL, RTOL = 1e-5, 1e-3


@dataclass
class Check:
    """One check a row ran: a gradient check, a formula comparison, or an assertion."""

    kind: str          # "gradcheck" | "formula" | "assert"
    name: str
    passed: bool
    detail: str        # a one-line summary with the numbers
    value: float | None = None   # max relative error (gradcheck) or max abs difference
    tol: float | None = None


@dataclass
class Row:
    """A ledger row being built, then its structured result."""

    id: str
    title: str = ""
    implementation: str = ""
    kind: str = ""                      # "F", "E" or "X"
    full: bool = False                  # --full: document-length experiments
    checks: list[Check] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    document: str = ""                  # the document's figure (E/X rows)
    computed: str = ""                  # minigrad's figure (E/X rows)
    verdict: str = ""
    interpretation: str = ""
    claims: list[tuple[str, float]] = field(default_factory=list)   # figures the catalogue states
    metrics: dict[str, Any] = field(default_factory=dict)
    status: str = "PASS"                # PASS | FAIL | ERROR | MISSING
    passed: bool = True
    error: str = ""
    seconds: float = 0.0
    in_catalogue: bool = True

    # -- inputs --------------------------------------------------------------
    @property
    def rng(self) -> np.random.Generator:
        """A generator seeded by the row ID: every run draws the same numbers."""
        if "_rng" not in self.__dict__:
            self.__dict__["_rng"] = np.random.default_rng(zlib.crc32(self.id.encode()))
        return self.__dict__["_rng"]

    def randn(self, *shape: int, scale: float = 1.0, requires_grad: bool = True):
        """A float64 tensor of standard-normal numbers (times ``scale``)."""
        from minigrad import Tensor
        return Tensor(self.rng.standard_normal(shape) * scale, dtype="float64",
                      requires_grad=requires_grad)

    def impl(self, path: str | None = None) -> Any:
        """The object at ``path`` (default: this row's implementation), looked up now."""
        return resolve(path or self.implementation.split(" ")[0].rstrip(","))

    # -- checks --------------------------------------------------------------
    def gradcheck(self, fn: Callable[..., Any], *inputs: Any, name: str = "gradcheck",
                  fast: bool = False, directions: int = 3) -> Any:
        """Run :func:`minigrad.gradcheck` (float64, central differences) and record it."""
        from minigrad import gradcheck
        res = gradcheck(fn, *inputs, raise_exception=False, fast=fast, directions=directions,
                        atol=ATOL, rtol=RTOL)
        mode = f"fast, {directions} random directions" if fast else "full Jacobian"
        checked = [t for t in inputs if getattr(t, "requires_grad", False)]
        shapes = ", ".join("x".join(map(str, t.shape)) or "scalar" for t in checked)
        if len(checked) > 4:
            shapes = f"{len(checked)} tensors, {sum(t.size for t in checked)} numbers"
        detail = (f"{name} ({mode}; float64 inputs {shapes}): max rel err "
                  f"{res.max_rel_error:.1e} (tol rtol {RTOL:g}, atol {ATOL:g}) "
                  f"{'PASS' if res.passed else 'FAIL'}")
        self.checks.append(Check("gradcheck", name, bool(res.passed), detail,
                                 res.max_rel_error, RTOL))
        return res

    def compare(self, name: str, got: Any, want: Any, tol: float = 1e-10) -> bool:
        """Record ``max |got - want| <= tol`` (a formula evaluated independently)."""
        got = np.asarray(_host(got), dtype=np.float64)
        want = np.asarray(_host(want), dtype=np.float64)
        if got.shape != want.shape:
            self.checks.append(Check("formula", name, False,
                                     f"{name}: shapes differ {got.shape} vs {want.shape}"))
            return False
        diff = float(np.max(np.abs(got - want))) if got.size else 0.0
        ok = bool(diff <= tol) and bool(np.all(np.isfinite(got)))
        self.checks.append(Check("formula", name, ok,
                                 f"{name}: max |diff| {diff:.1e} (tol {tol:g}) "
                                 f"{'PASS' if ok else 'FAIL'}", diff, tol))
        return ok

    def expect(self, name: str, condition: Any, detail: str = "") -> bool:
        """Record an assertion (``condition`` truthy) with a readable detail."""
        ok = bool(condition)
        text = f"{name}" + (f": {detail}" if detail else "") + f" {'PASS' if ok else 'FAIL'}"
        self.checks.append(Check("assert", name, ok, text))
        return ok

    def figure(self, label: str, value: Any) -> None:
        """A number or short text to show in the table."""
        self.figures.append((label, value if isinstance(value, str) else fmt(value)))

    def claim(self, label: str, value: float) -> None:
        """A figure the catalogue's 'correct' column states and this row reproduced."""
        self.claims.append((label, float(value)))

    # -- result ----------------------------------------------------------------
    def finish(self) -> "Row":
        if self.status not in ("ERROR", "MISSING"):
            self.passed = all(c.passed for c in self.checks) and bool(self.checks)
            self.status = "PASS" if self.passed else "FAIL"
        else:
            self.passed = False
        return self

    @property
    def check_summary(self) -> str:
        return "; ".join(c.detail for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("full", None)
        d["checks"] = [asdict(c) for c in self.checks]
        d["figures"] = [{"label": k, "value": v} for k, v in self.figures]
        d["claims"] = [{"label": k, "value": v} for k, v in self.claims]
        return d


@dataclass
class RowSpec:
    id: str
    fn: Callable[[Row], Any]
    implementation: str


#: every registered row, by ID (filled by the ``rows_*`` modules on import)
REGISTRY: dict[str, RowSpec] = {}


def row(row_id: str, impl: str = "") -> Callable[[Callable[[Row], Any]], Callable[[Row], Any]]:
    """Register ``fn`` as the ledger row for catalogue ID ``row_id``.

    ``impl`` is the dotted path of the minigrad object the row checks (shown in
    the table and returned by ``r.impl()``).
    """
    def register(fn: Callable[[Row], Any]) -> Callable[[Row], Any]:
        if row_id in REGISTRY:
            raise ValueError(f"ledger row {row_id} registered twice")
        REGISTRY[row_id] = RowSpec(row_id, fn, impl)
        return fn
    return register


def resolve(path: str) -> Any:
    """Import ``a.b.c.Name`` and return the attribute (looked up at call time)."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot resolve {path!r}")


def run_row(spec: RowSpec, title: str = "", full: bool = False) -> Row:
    """Run one row function, catching its errors (an exception is an ERROR row)."""
    import minigrad
    r = Row(id=spec.id, title=title, implementation=spec.implementation, kind=spec.id[0],
            full=full)
    minigrad.manual_seed(zlib.crc32(spec.id.encode()))
    start = time.perf_counter()
    try:
        spec.fn(r)
    except Exception as err:  # a row that raises is reported, not fatal
        r.status = "ERROR"
        r.error = f"{type(err).__name__}: {err}"
        r.metrics["traceback"] = traceback.format_exc(limit=6)
    r.seconds = time.perf_counter() - start
    return r.finish()


def _host(x: Any) -> Any:
    from minigrad import Tensor
    return x.numpy() if isinstance(x, Tensor) else x


def fmt(value: Any, digits: int = 4) -> str:
    """Compact number formatting for tables: 0.1679, 5.365, [6, 12, 18], 1.2e-07."""
    value = _host(value)
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0):
        arr = np.asarray(value, dtype=np.float64).ravel()
        return "[" + ", ".join(fmt(v, digits) for v in arr) + "]"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    v = float(value)
    if v == 0:
        return "0"
    if v == round(v) and abs(v) < 1e6:
        return str(int(round(v)))
    if abs(v) < 1e-3 or abs(v) >= 1e6:
        return f"{v:.{max(digits - 2, 1)}e}"
    return f"{v:.{digits}f}".rstrip("0").rstrip(".")
