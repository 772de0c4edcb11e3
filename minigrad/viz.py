"""Seeing the graph: DOT text always, a picture with graphviz or matplotlib.

>>> print(to_dot(loss))          # paste into any Graphviz viewer
>>> draw_graph(loss)             # a matplotlib figure (layered layout)
"""
from __future__ import annotations

import shutil
import subprocess
import warnings
from typing import Any

from . import backends
from .autograd import iter_graph
from .tensor import Tensor

__all__ = ["to_dot", "draw_graph", "graph_nodes"]


def _summary(t: Tensor) -> str:
    if t.size == 1:
        return f"{float(backends.to_numpy(t.data).reshape(-1)[0]):.4g}"
    return f"shape {tuple(t.shape)}"


def graph_nodes(root: Tensor) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """Nodes (tensors and ops) and edges of the graph that produced ``root``.

    Each tensor node carries its value (scalars) or shape, and its gradient
    when one has been computed -- what a learner wants to see next to the math.
    """
    if root._ctx is not None and root._ctx.inputs is None:
        warnings.warn(
            "this graph was freed by backward(); only its output can be drawn. Draw it "
            "before calling backward(), or call backward(retain_graph=True).", stacklevel=3)
    nodes: list[dict[str, Any]] = []
    edges: list[tuple[int, int]] = []
    ids: dict[int, int] = {}

    def node_id(key: int, payload: dict[str, Any]) -> int:
        if key not in ids:
            ids[key] = len(nodes)
            nodes.append(payload)
        return ids[key]

    def tensor_payload(t: Tensor) -> dict[str, Any]:
        # One description per tensor, whether it is first met as an op's output or
        # as another op's input (most tensors are met as inputs first).
        label = t.name or ("leaf" if t.is_leaf else "")
        grad = "" if t.grad is None else f"grad {_summary(t.grad)}"
        return {"kind": "tensor", "label": label, "value": _summary(t), "grad": grad,
                "requires_grad": t.requires_grad}

    for t in iter_graph(root):
        tid = node_id(id(t), tensor_payload(t))
        fn = t._ctx
        if fn is not None:
            fid = node_id(id(fn), {"kind": "op", "label": fn.name})
            edges.append((fid, tid))
            for inp in fn.inputs or ():
                edges.append((node_id(id(inp), tensor_payload(inp)), fid))
    return nodes, list(dict.fromkeys(edges))


def to_dot(root: Tensor, rankdir: str = "LR") -> str:
    """The graph as Graphviz DOT text: boxes are tensors, ellipses are ops."""
    nodes, edges = graph_nodes(root)
    lines = ["digraph minigrad {", f"  rankdir={rankdir};", '  node [fontname="Helvetica"];']
    for i, n in enumerate(nodes):
        if n["kind"] == "op":
            lines.append(f'  n{i} [label="{n["label"]}", shape=ellipse, style=filled, '
                         'fillcolor="#e8f0fe"];')
        else:
            text = " | ".join(x for x in (n["label"], n["value"], n["grad"]) if x)
            lines.append(f'  n{i} [label="{{ {text} }}", shape=record];')
    lines += [f"  n{a} -> n{b};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines)


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


def draw_graph(root: Tensor, path: str | None = None, ax: Any = None) -> Any:
    """Draw the graph. Uses the ``dot`` program when installed and ``path`` ends in
    .png/.svg; otherwise matplotlib. Returns the matplotlib figure (or the path)."""
    if path and shutil.which("dot") and path.rsplit(".", 1)[-1] in ("png", "svg", "pdf"):
        subprocess.run(["dot", f"-T{path.rsplit('.', 1)[-1]}", "-o", path],
                       input=to_dot(root).encode(), check=True)
        return path
    import matplotlib.pyplot as plt

    nodes, edges = graph_nodes(root)
    depth = _layers(nodes, edges)
    columns: dict[int, list[int]] = {}
    for i, d in enumerate(depth):
        columns.setdefault(d, []).append(i)
    pos = {}
    for d, members in columns.items():
        for k, i in enumerate(members):
            pos[i] = (d, -k + (len(members) - 1) / 2)
    if ax is None:
        width = max(4.0, 1.8 * (max(depth, default=0) + 1))
        height = max(2.5, 0.9 * max(len(m) for m in columns.values()))
        fig, ax = plt.subplots(figsize=(width, height))
    else:
        fig = ax.figure
    for a, b in edges:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="->", color="0.5", shrinkA=18, shrinkB=18))
    for i, n in enumerate(nodes):
        x, y = pos[i]
        if n["kind"] == "op":
            ax.text(x, y, n["label"], ha="center", va="center", fontsize=9,
                    bbox=dict(boxstyle="round,pad=0.4", fc="#e8f0fe", ec="#4a6fa5"))
        else:
            text = "\n".join(s for s in (n["label"], n["value"], n["grad"]) if s)
            ax.text(x, y, text, ha="center", va="center", fontsize=8, family="monospace",
                    bbox=dict(boxstyle="square,pad=0.4",
                              fc="#fff4e0" if n["requires_grad"] else "white", ec="0.3"))
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    if path:
        fig.savefig(path, bbox_inches="tight")
    return fig

