"""Seeing the graph: DOT text always, a picture with graphviz or matplotlib.

>>> print(to_dot(loss))          # paste into any Graphviz viewer
>>> draw_graph(loss)             # a matplotlib figure (layered layout)

What a node shows
    * a tensor: its name (a parameter's qualified name such as ``fc1.weight``;
      ``input`` for a leaf you created with ``requires_grad=True``; ``constant``
      for one without), its shape, and once a gradient is known the gradient's
      norm. A one-element tensor shows its value and its gradient's value, the
      way micrograd draws scalar graphs (``data 2.0000 | grad -1.5000``).
    * an op: its name (``MatMul``, ``ReLU``...).

Three options for bigger or more instructive pictures
    * ``record=record_backward(loss)`` runs ``loss.backward()`` once, remembering
      every tensor's gradient (intermediate ones too) and the order in which the
      backward loop finished them; ``step=k`` then draws the graph as it is known
      after the loop has finished ``k`` tensors, and :func:`draw_backward_steps`
      draws several such frames side by side.
    * ``modules=tracked`` (from ``with track_modules(model) as tracked: ...``)
      collapses every sub-module's ops into one box, so a transformer block
      fits on a page; ``depth`` chooses how deep in the module tree to cut.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from . import backends
from .autograd import Function, iter_graph
from .tensor import Parameter, Tensor

__all__ = ["to_dot", "draw_graph", "graph_nodes", "record_backward", "BackwardRecord",
           "draw_backward_steps", "backward_slider", "track_modules", "ModuleMap"]


# ---------------------------------------------------------------------------
# what the backward loop did: gradients of every tensor, in the order finished
# ---------------------------------------------------------------------------
@dataclass
class BackwardRecord:
    """What :func:`record_backward` saw: ``order`` lists ``id(tensor)`` in the order
    the backward loop finished their gradients (the output first); ``grads`` maps
    ``id(tensor)`` to that gradient (a NumPy copy); ``names`` the tensors' labels."""

    order: list[int] = field(default_factory=list)
    grads: dict[int, np.ndarray] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.order)

    def step_of(self, t: Tensor) -> int | None:
        """1-based step at which ``t``'s gradient was finished (None: never)."""
        try:
            return self.order.index(id(t)) + 1
        except ValueError:
            return None


def record_backward(root: Tensor, gradient: Any = None) -> BackwardRecord:
    """Run ``root.backward(retain_graph=True)`` and record every tensor's gradient.

    A hook on each tensor of the graph that requires a gradient is called by the
    backward loop at the moment that tensor's gradient is complete (all the ops
    that used it have sent their share), so the hooks see the loop's own order.
    ``.grad`` of the leaves accumulates as in any ``backward()`` call."""
    rec = BackwardRecord()
    handles = []

    def hook_for(t: Tensor):
        def hook(g: Tensor) -> None:
            rec.order.append(id(t))
            rec.grads[id(t)] = np.array(backends.to_numpy(g.data), dtype=np.float64)
            rec.names.append(_tensor_label(t, None) or f"output of {t._ctx.name}")
        return hook

    for t in iter_graph(root):
        if t.requires_grad:
            handles.append(t.register_hook(hook_for(t)))
    try:
        root.backward(gradient, retain_graph=True)
    finally:
        for h in handles:
            h.remove()
    return rec


# ---------------------------------------------------------------------------
# which module ran which op
# ---------------------------------------------------------------------------
@dataclass
class ModuleMap:
    """Filled by :func:`track_modules`: for every op recorded while it was active,
    the stack of (qualified) module names whose ``forward`` was running."""

    stacks: dict[int, tuple[str, ...]] = field(default_factory=dict)   # id(Function) -> names
    types: dict[str, str] = field(default_factory=dict)                # name -> class name
    param_names: dict[int, str] = field(default_factory=dict)          # id(param) -> name
    param_owner: dict[int, str] = field(default_factory=dict)          # id(param) -> module
    _keep: list[Any] = field(default_factory=list, repr=False)         # keeps ids valid

    def group_of(self, fn: Any, depth: int) -> str | None:
        stack = self.stacks.get(id(fn))
        if not stack:
            return None
        return stack[min(depth, len(stack)) - 1]


@contextlib.contextmanager
def track_modules(model: Any) -> Iterator[ModuleMap]:
    """Record which sub-module of ``model`` ran each op built inside the block::

        with viz.track_modules(block) as tracked:
            loss = block(x).sum()
        viz.draw_graph(loss, modules=tracked)       # one box per sub-module

    Each sub-module's ``forward`` is wrapped for the duration (and restored), and
    ``Function.apply`` notes the current module stack on every op it records."""
    mm = ModuleMap()
    stack: list[str] = []
    for name, p in model.named_parameters():
        mm.param_names[id(p)] = name
        mm.param_owner[id(p)] = name.rsplit(".", 1)[0] if "." in name else ""
        mm._keep.append(p)
    wrapped = []
    for name, module in model.named_modules():
        if not name:
            continue                          # the model itself: it contains everything
        mm.types[name] = type(module).__name__
        inner = module.forward

        def forward(*args: Any, __inner=inner, __name=name, **kwargs: Any) -> Any:
            stack.append(__name)
            try:
                return __inner(*args, **kwargs)
            finally:
                stack.pop()

        object.__setattr__(module, "forward", forward)
        wrapped.append(module)
    original = Function.__dict__["apply"]

    def apply(cls: type, *inputs: Any, **params: Any) -> Any:
        out = original.__get__(None, cls)(*inputs, **params)
        fn = getattr(out, "_ctx", None)
        if fn is not None and stack:
            mm.stacks[id(fn)] = tuple(stack)
            mm._keep.append(fn)
        return out

    Function.apply = classmethod(apply)
    try:
        yield mm
    finally:
        Function.apply = original
        for module in wrapped:
            module.__dict__.pop("forward", None)


# ---------------------------------------------------------------------------
# nodes and edges
# ---------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:.4g}" if 1e-3 <= abs(x) < 1e4 or x == 0 else f"{x:.2e}"


def _scalar(a: Any) -> float:
    return float(np.asarray(backends.to_numpy(a), dtype=np.float64).reshape(-1)[0])


def _tensor_label(t: Tensor, modules: ModuleMap | None) -> str:
    if t.name:
        return t.name
    if modules is not None and id(t) in modules.param_names:
        return modules.param_names[id(t)]
    if t._ctx is not None:
        return ""
    if isinstance(t, Parameter):
        return "parameter"
    return "input" if t.requires_grad else "constant"


def _grad_text(t: Tensor, g: np.ndarray | None) -> str:
    if g is None:
        return ""
    if t.size == 1:
        return f"grad {_fmt(float(np.asarray(g).reshape(-1)[0]))}"
    return f"grad norm {_fmt(float(np.sqrt(np.sum(np.square(g)))))}"


def _raw_graph(root: Tensor):
    """Tensors and ops of the graph, and edges as (index, index)."""
    nodes: list[dict[str, Any]] = []
    objs: list[Any] = []
    edges: list[tuple[int, int]] = []
    ids: dict[int, int] = {}

    def node_id(obj: Any, kind: str) -> int:
        if id(obj) not in ids:
            ids[id(obj)] = len(nodes)
            nodes.append({"kind": kind})
            objs.append(obj)
        return ids[id(obj)]

    for t in iter_graph(root):
        tid = node_id(t, "tensor")
        fn = t._ctx
        if fn is not None:
            fid = node_id(fn, "op")
            edges.append((fid, tid))
            for inp in fn.inputs or ():
                edges.append((node_id(inp, "tensor"), fid))
    return nodes, objs, list(dict.fromkeys(edges))


def graph_nodes(root: Tensor, record: BackwardRecord | None = None, step: int | None = None,
                modules: ModuleMap | None = None, depth: int = 1,
                ) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """Nodes (tensors, ops, collapsed modules) and edges of the graph of ``root``.

    Every node is a dict with ``kind`` ("tensor", "op" or "module"), ``label`` and
    ``lines`` (the text to draw). Tensor nodes also carry ``shape``, ``value``,
    ``grad`` (text, "" while unknown), ``grad_state`` ("none", "done" or "next")
    and ``requires_grad``; op nodes ``state`` ("done" when the backward loop has
    run them at ``step``, "next" for the one about to run)."""
    if root._ctx is not None and root._ctx.inputs is None:
        warnings.warn(
            "this graph was freed by backward(); only its output can be drawn. Draw it "
            "before calling backward(), or call backward(retain_graph=True) (or "
            "viz.record_backward(loss), which keeps it).", stacklevel=3)
    if step is not None and record is None:
        raise ValueError("draw the graph at a backward step with record=record_backward(loss)")
    raw, objs, edges = _raw_graph(root)
    done_ids = set(record.order if step is None else record.order[:step]) if record else set()
    next_id = (record.order[step] if record and step is not None and step < len(record)
               else None)

    output_of = {a: objs[b] for a, b in edges if raw[a]["kind"] == "op"}   # op -> its tensor
    nodes: list[dict[str, Any]] = []
    for i, (n, obj) in enumerate(zip(raw, objs)):
        if n["kind"] == "op":
            out = output_of.get(i)
            state = ""
            if record is not None and out is not None:
                state = "done" if id(out) in done_ids else ("next" if id(out) == next_id else "")
            nodes.append({"kind": "op", "label": obj.name, "lines": [obj.name], "state": state})
            continue
        t = obj
        label = _tensor_label(t, modules)
        if record is not None:
            g = record.grads.get(id(t)) if id(t) in done_ids else None
        else:
            g = None if t.grad is None else backends.to_numpy(t.grad.data)
        grad = _grad_text(t, g)
        if t.size == 1:
            value = f"data {_fmt(_scalar(t.data))}"
        else:
            value = f"shape {tuple(t.shape)}"
        state = "done" if grad else ("next" if id(t) == next_id else "none")
        lines = [s for s in (label, value, grad) if s]
        nodes.append({"kind": "tensor", "label": label, "value": value, "grad": grad,
                      "shape": tuple(t.shape), "grad_state": state, "lines": lines,
                      "requires_grad": t.requires_grad, "is_parameter": isinstance(t, Parameter)})
    if modules is None:
        return nodes, edges
    return _collapse(nodes, objs, edges, modules, depth, record, done_ids)


def _collapse(nodes, objs, edges, modules: ModuleMap, depth: int, record, done_ids):
    """Merge every op a sub-module ran (and the tensors used only inside it) into one box."""
    group: dict[int, str] = {}
    for i, (n, obj) in enumerate(zip(nodes, objs)):
        if n["kind"] == "op":
            g = modules.group_of(obj, depth)
            if g is not None:
                group[i] = g
    consumers: dict[int, list[int]] = {}
    producer: dict[int, int] = {}
    for a, b in edges:
        if nodes[a]["kind"] == "tensor":
            consumers.setdefault(a, []).append(b)
        else:
            producer[b] = a
    for i, n in enumerate(nodes):
        if n["kind"] != "tensor" or i in group:
            continue
        users = {group.get(c) for c in consumers.get(i, [])}
        made_by = group.get(producer[i]) if i in producer else None
        if i in producer:        # an intermediate: inside if made and only used in one group
            if made_by is not None and consumers.get(i) and users == {made_by}:
                group[i] = made_by
        elif id(objs[i]) in modules.param_owner and len(users) == 1 and None not in users:
            group[i] = users.pop()                     # a parameter used only by its module
    names = sorted(set(group.values()), key=lambda g: min(i for i, v in group.items() if v == g))
    new_index: dict[int, int] = {}
    out_nodes: list[dict[str, Any]] = []
    for g in names:
        members = [i for i, v in group.items() if v == g]
        params = [i for i in members if nodes[i]["kind"] == "tensor" and i not in producer]
        n_ops = sum(nodes[i]["kind"] == "op" for i in members)
        lines = [f"{g}: {modules.types.get(g, '')}".rstrip(": "), f"{n_ops} op" + ("" if n_ops == 1 else "s")]
        if params:
            lines.append(f"{len(params)} parameters")
            grads = [record.grads.get(id(objs[i])) if id(objs[i]) in done_ids else None
                     for i in params] if record is not None else \
                [None if objs[i].grad is None else backends.to_numpy(objs[i].grad.data)
                 for i in params]
            if all(x is not None for x in grads):
                norm = float(np.sqrt(sum(np.sum(np.square(x)) for x in grads)))
                lines.append(f"param grad norm {_fmt(norm)}")
        state = ""
        if record is not None:
            ops = [i for i in members if nodes[i]["kind"] == "op"]
            states = {nodes[i]["state"] for i in ops}
            state = "done" if states == {"done"} else ("next" if states & {"done", "next"} else "")
        out_nodes.append({"kind": "module", "label": g, "lines": lines, "state": state,
                          "members": len(members)})
        for i in members:
            new_index[i] = len(out_nodes) - 1
    for i, n in enumerate(nodes):
        if i not in group:
            new_index[i] = len(out_nodes)
            out_nodes.append(n)
    new_edges = [(new_index[a], new_index[b]) for a, b in edges]
    new_edges = [e for e in dict.fromkeys(new_edges) if e[0] != e[1]]
    return out_nodes, new_edges


# ---------------------------------------------------------------------------
# DOT text
# ---------------------------------------------------------------------------
def _dot_escape(s: str) -> str:
    for ch in '\\"{}|<>':
        s = s.replace(ch, "\\" + ch)
    return s


def to_dot(root: Tensor, rankdir: str = "LR", record: BackwardRecord | None = None,
           step: int | None = None, modules: ModuleMap | None = None, depth: int = 1) -> str:
    """The graph as Graphviz DOT text: boxes are tensors, ellipses are ops,
    folders are collapsed modules (options as in :func:`graph_nodes`)."""
    nodes, edges = graph_nodes(root, record, step, modules, depth)
    lines = ["digraph minigrad {", f"  rankdir={rankdir};", '  node [fontname="Helvetica"];']
    for i, n in enumerate(nodes):
        if n["kind"] == "op":
            fill = "#c8e6c9" if n.get("state") == "done" else "#e8f0fe"
            lines.append(f'  n{i} [label="{_dot_escape(n["label"])}", shape=ellipse, '
                         f'style=filled, fillcolor="{fill}"];')
        elif n["kind"] == "module":
            text = "\\n".join(_dot_escape(s) for s in n["lines"])
            lines.append(f'  n{i} [label="{text}", shape=box3d, style=filled, '
                         'fillcolor="#ede7f6"];')
        else:
            text = " | ".join(_dot_escape(s) for s in n["lines"])
            lines.append(f'  n{i} [label="{{ {text} }}", shape=record];')
    lines += [f"  n{a} -> n{b};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# matplotlib drawing
# ---------------------------------------------------------------------------
def _layers(nodes: list, edges: list) -> list[int]:
    """Depth of each node from the inputs (longest path), for a left-to-right layout."""
    depth = [0] * len(nodes)
    preds: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
    for a, b in edges:
        preds[b].append(a)
    changed = True
    for _ in range(len(nodes)):
        if not changed:
            break
        changed = False
        for b, ps in preds.items():
            d = max((depth[p] + 1 for p in ps), default=0)
            if d != depth[b]:
                depth[b], changed = d, True
    return depth


def _layout(nodes: list, edges: list) -> tuple[dict[int, tuple[float, float]], int, int]:
    depth = _layers(nodes, edges)
    columns: dict[int, list[int]] = {}
    for i, d in enumerate(depth):
        columns.setdefault(d, []).append(i)
    pos = {}
    for d, members in columns.items():
        for k, i in enumerate(members):
            pos[i] = (float(d), -k + (len(members) - 1) / 2)
    n_cols = max(depth, default=0) + 1
    n_rows = max((len(m) for m in columns.values()), default=1)
    return pos, n_cols, n_rows


_STATE_COLOURS = {"done": ("#c8e6c9", "#2e7d32"), "next": ("#fff59d", "#f57f17")}


def _draw(ax: Any, nodes: list, edges: list, fontsize: float) -> None:
    pos, _, _ = _layout(nodes, edges)
    for a, b in edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        # an edge that skips columns (a residual connection, a tensor used twice) is
        # drawn as an arc so that it does not run through the boxes in between
        rad = -0.35 if x1 - x0 > 1.5 else 0.0
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", color="0.5", shrinkA=18, shrinkB=18,
                                    connectionstyle=f"arc3,rad={rad}"))
    for i, n in enumerate(nodes):
        x, y = pos[i]
        text = "\n".join(n["lines"])
        if n["kind"] == "op":
            fc, ec = _STATE_COLOURS.get(n.get("state", ""), ("#e8f0fe", "#4a6fa5"))
            ax.text(x, y, text, ha="center", va="center", fontsize=fontsize + 1,
                    bbox=dict(boxstyle="round,pad=0.4", fc=fc, ec=ec))
        elif n["kind"] == "module":
            fc, ec = _STATE_COLOURS.get(n.get("state", ""), ("#ede7f6", "#5e35b1"))
            ax.text(x, y, text, ha="center", va="center", fontsize=fontsize,
                    bbox=dict(boxstyle="round4,pad=0.5", fc=fc, ec=ec, lw=1.5))
        else:
            state = n.get("grad_state", "none")
            if state in _STATE_COLOURS and n["requires_grad"]:
                fc, ec = _STATE_COLOURS[state]
            else:
                fc, ec = ("#fff4e0" if n["requires_grad"] else "white"), "0.3"
            ax.text(x, y, text, ha="center", va="center", fontsize=fontsize,
                    family="monospace", bbox=dict(boxstyle="square,pad=0.4", fc=fc, ec=ec))
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 1.0, max(ys) + 1.0)
    ax.axis("off")


def draw_graph(root: Tensor, path: str | None = None, ax: Any = None, *,
               record: BackwardRecord | None = None, step: int | None = None,
               modules: ModuleMap | None = None, depth: int = 1,
               title: str | None = None, max_width: float = 16.0) -> Any:
    """Draw the graph. Uses the ``dot`` program when installed and ``path`` ends in
    .png/.svg/.pdf; otherwise matplotlib. Returns the matplotlib figure (or the path).

    ``record``/``step`` draw the graph as the backward loop knows it after ``step``
    tensors are finished (green: finished, yellow: next); ``modules``/``depth``
    collapse sub-modules into boxes (see :func:`track_modules`). The figure is at
    most ``max_width`` inches wide: a wider graph gets a smaller font."""
    if path and shutil.which("dot") and path.rsplit(".", 1)[-1] in ("png", "svg", "pdf"):
        subprocess.run(["dot", f"-T{path.rsplit('.', 1)[-1]}", "-o", path],
                       input=to_dot(root, record=record, step=step, modules=modules,
                                    depth=depth).encode(), check=True)
        return path
    import matplotlib.pyplot as plt

    nodes, edges = graph_nodes(root, record, step, modules, depth)
    _, n_cols, n_rows = _layout(nodes, edges)
    fontsize = 8.0
    if ax is None:
        width = max(4.0, 1.8 * n_cols)
        if width > max_width:
            fontsize = max(4.0, fontsize * max_width / width)
            width = max_width
        height = min(max(2.5, 0.9 * n_rows), 12.0)
        fig, ax = plt.subplots(figsize=(width, height))
    else:
        fig = ax.figure
    _draw(ax, nodes, edges, fontsize)
    if title is None:
        title = f"graph of {root.name or 'the output'}"
        if step is not None:
            title = f"backward step {step} of {len(record)}"
        if modules is not None:
            title += " (one box per module)"
    ax.set_title(title)
    if path:
        fig.savefig(path, bbox_inches="tight")
    return fig


def draw_backward_steps(root: Tensor, record: BackwardRecord,
                        steps: Sequence[int] | None = None, ncols: int = 2,
                        panel: tuple[float, float] | None = None) -> Any:
    """Small multiples: the graph at several backward steps (default: every step,
    from 0 = nothing known yet to ``len(record)`` = every gradient finished)."""
    import matplotlib.pyplot as plt

    steps = list(range(len(record) + 1)) if steps is None else list(steps)
    nrows = -(-len(steps) // ncols)
    if panel is None:
        _, n_cols, n_rows = _layout(*graph_nodes(root))
        panel = (max(3.5, 1.05 * n_cols), max(1.8, 0.75 * n_rows + 0.6))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows),
                             squeeze=False)
    for ax, k in zip(axes.ravel(), steps):
        nodes, edges = graph_nodes(root, record, k)
        _draw(ax, nodes, edges, 6.5)
        finished = " (forward only)" if k == 0 else f": {record.names[k - 1]} finished"
        ax.set_title(f"step {k}{finished}", fontsize=9)
    for ax in axes.ravel()[len(steps):]:
        ax.axis("off")
    fig.suptitle("backward fills the graph from the output back "
                 "(green: gradient finished, yellow: next)")
    fig.tight_layout()
    return fig


def backward_slider(root: Tensor, record: BackwardRecord) -> Any:
    """An ipywidgets slider over the backward steps; None when ipywidgets is missing
    (use :func:`draw_backward_steps` then)."""
    try:
        import ipywidgets
    except ImportError:
        return None
    import matplotlib.pyplot as plt

    def show(step: int) -> None:
        fig = draw_graph(root, record=record, step=step)
        plt.show()
        plt.close(fig)

    return ipywidgets.interact(show, step=ipywidgets.IntSlider(0, 0, len(record), 1))
