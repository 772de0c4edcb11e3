"""minigrad.viz: what the graph drawing shows (names, shapes, gradient norms and
values), the graph as known at each backward step, and modules collapsed into boxes.

Expected numbers come from NumPy formulas written here, never from viz itself."""
from __future__ import annotations

import numpy as np
import pytest

import layers
import minigrad as mg
from minigrad import viz
from minigrad.autograd import Function
from helpers import host

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _scalar_graph(device):
    """L = tanh(a*b + a) with a = 2, b = -3 (micrograd's kind of graph)."""
    a = mg.Tensor([2.0], dtype="float64", requires_grad=True, name="a", device=device)
    b = mg.Tensor([-3.0], dtype="float64", requires_grad=True, name="b", device=device)
    c = a * b
    c.name = "c"
    L = (c + a).tanh().sum()
    L.name = "L"
    return a, b, c, L


def _tensors(nodes):
    return {n["label"]: n for n in nodes if n["kind"] == "tensor"}


def test_scalar_nodes_show_value_then_grad_value(device):
    a, b, c, L = _scalar_graph(device)
    nodes, _ = viz.graph_nodes(L)
    t = _tensors(nodes)
    assert t["a"]["value"] == "data 2" and t["b"]["value"] == "data -3"
    assert t["c"]["value"] == "data -6"
    assert all(n["grad"] == "" for n in t.values())
    L.backward(retain_graph=True)
    t = _tensors(viz.graph_nodes(L)[0])
    d_pre = 1 - np.tanh(-4.0) ** 2                 # dL/d(c + a)
    assert t["a"]["grad"] == f"grad {viz._fmt(d_pre * (-3.0 + 1.0))}"
    assert t["b"]["grad"] == f"grad {viz._fmt(d_pre * 2.0)}"
    assert t["c"]["grad"] == ""                    # not retained: unknown after backward()


def test_tensor_nodes_show_names_shapes_and_grad_norms(device):
    rng = np.random.default_rng(0)
    W = mg.Parameter(rng.standard_normal((3, 2)), dtype="float64", name="fc1.weight",
                     device=device)
    x = mg.Tensor(rng.standard_normal((4, 2)), dtype="float64", device=device)
    loss = (x @ W.T).relu().sum()
    nodes, _ = viz.graph_nodes(loss)
    t = _tensors(nodes)
    assert "fc1.weight" in t and t["fc1.weight"]["value"] == "shape (3, 2)"
    assert t["constant"]["value"] == "shape (4, 2)"
    assert not any(n["label"] == "leaf" for n in nodes)
    loss.backward(retain_graph=True)
    xs, Ws = host(x), host(W)
    expected = ((xs @ Ws.T) > 0).T.astype(float) @ xs          # dL/dW for L = sum relu(x W^T)
    t = _tensors(viz.graph_nodes(loss)[0])
    assert t["fc1.weight"]["grad"] == f"grad norm {viz._fmt(np.linalg.norm(expected))}"
    dot = viz.to_dot(loss)
    assert "fc1.weight" in dot and "grad norm" in dot and "leaf" not in dot


def test_unnamed_parameter_is_called_parameter_not_leaf():
    p = mg.Parameter(np.ones(3))
    q = mg.Tensor(np.ones(3), requires_grad=True)
    nodes, _ = viz.graph_nodes((p * q).sum())
    labels = {n["label"] for n in nodes if n["kind"] == "tensor"}
    assert {"parameter", "input"} <= labels and "leaf" not in labels


def test_record_backward_order_and_gradients(device):
    a, b, c, L = _scalar_graph(device)
    rec = viz.record_backward(L)
    # every tensor that requires grad is finished exactly once, the output first
    needing = [t for t in mg.autograd.iter_graph(L) if t.requires_grad]
    assert sorted(rec.order) == sorted(id(t) for t in needing)
    assert rec.order[0] == id(L) and rec.grads[id(L)].item() == 1.0
    # a is used twice (by Mul and by Add): finished only after both sent their share
    assert rec.step_of(a) > rec.step_of(c) and rec.step_of(a) == len(rec)
    d_pre = 1 - np.tanh(-4.0) ** 2
    assert np.isclose(rec.grads[id(c)].item(), d_pre, rtol=1e-12)   # intermediates too
    assert np.isclose(rec.grads[id(a)].item(), d_pre * -2.0, rtol=1e-12)
    assert np.isclose(host(a.grad).item(), d_pre * -2.0, rtol=1e-12)  # .grad as usual
    assert a._hooks == [] and c._hooks == []                         # hooks removed


def test_graph_at_step_k_fills_in_one_tensor_per_step(device):
    a, b, c, L = _scalar_graph(device)
    rec = viz.record_backward(L)
    filled = []
    for k in range(len(rec) + 1):
        nodes, _ = viz.graph_nodes(L, record=rec, step=k)
        tensors = [n for n in nodes if n["kind"] == "tensor" and n["requires_grad"]]
        filled.append(sum(n["grad"] != "" for n in tensors))
        nxt = [n for n in tensors if n["grad_state"] == "next"]
        assert len(nxt) == (1 if k < len(rec) else 0)
    assert filled == list(range(len(rec) + 1))
    t = _tensors(viz.graph_nodes(L, record=rec, step=len(rec))[0])
    assert t["c"]["grad"] != ""                     # the record knows intermediate grads
    with pytest.raises(ValueError, match="record"):
        viz.graph_nodes(L, step=1)


def test_draw_backward_steps_small_multiples():
    a, b, c, L = _scalar_graph("cpu")
    rec = viz.record_backward(L)
    fig = viz.draw_backward_steps(L, rec)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == len(rec) + 1
    assert titled[0].get_title().startswith("step 0")
    assert fig._suptitle is not None
    fig = viz.draw_graph(L, record=rec, step=2)
    assert fig.axes[0].get_title() == f"backward step 2 of {len(rec)}"
    assert viz.backward_slider(L, rec) is None or True   # None without ipywidgets


def test_track_modules_collapses_a_transformer_block_onto_a_page(device):
    mg.manual_seed(0)
    block = layers.TransformerBlock(16, 2, 32, device=device)
    x = mg.Tensor(np.random.default_rng(0).standard_normal((2, 5, 16)), dtype="float32",
                  device=device)
    apply_before = Function.__dict__["apply"]
    with viz.track_modules(block) as tracked:
        loss = block(x).sum()
    assert Function.__dict__["apply"] is apply_before          # restored
    assert all("forward" not in m.__dict__ for m in block.modules())
    full, _ = viz.graph_nodes(loss)
    collapsed, edges = viz.graph_nodes(loss, modules=tracked)
    boxes = [n for n in collapsed if n["kind"] == "module"]
    assert {b["label"] for b in boxes} >= {"norm1", "attn", "norm2", "ff"}
    assert len(collapsed) < len(full) and len(collapsed) <= 20
    # nothing is lost: every op of the full graph is in a box or still drawn
    n_ops_full = sum(n["kind"] == "op" for n in full)
    in_boxes = sum(int(b["lines"][1].split()[0]) for b in boxes)
    assert in_boxes + sum(n["kind"] == "op" for n in collapsed) == n_ops_full
    assert all(0 <= a < len(collapsed) and 0 <= b < len(collapsed) for a, b in edges)
    loss.backward(retain_graph=True)
    fig = viz.draw_graph(loss, modules=tracked)
    assert fig.get_size_inches()[0] <= 16.0
    attn = next(b for b in viz.graph_nodes(loss, modules=tracked)[0] if b["label"] == "attn")
    norm = np.sqrt(sum(np.sum(host(p.grad).astype(np.float64) ** 2)
                       for p in block.attn.parameters()))
    assert attn["lines"][-1] == f"param grad norm {viz._fmt(norm)}"
    # depth 2 cuts deeper: the feed-forward network's layers become their own boxes
    deeper = {n["label"] for n in viz.graph_nodes(loss, modules=tracked, depth=2)[0]
              if n["kind"] == "module"}
    assert any(name.startswith("ff.") for name in deeper)


def test_track_modules_restores_on_error():
    net = layers.MLP([3, 4, 2])
    apply_before = Function.__dict__["apply"]
    with pytest.raises(mg.ShapeError):
        with viz.track_modules(net):
            net(mg.Tensor(np.ones((2, 5), np.float32)))
    assert Function.__dict__["apply"] is apply_before
    assert all("forward" not in m.__dict__ for m in net.modules())


def test_wide_graph_is_capped_and_titled():
    x = mg.Tensor(np.ones(2), requires_grad=True, name="x")
    y = x
    for _ in range(30):
        y = (y * 1.01).tanh()
    fig = viz.draw_graph(y.sum())
    assert fig.get_size_inches()[0] <= 16.0
    assert fig.axes[0].get_title()


def test_dot_escapes_labels_and_draws_steps_and_modules():
    x = mg.Tensor(np.ones(2), requires_grad=True, name='a|b {"x"}')
    y = (x * 2.0).sum()
    y.name = "y"
    rec = viz.record_backward(y)
    dot = viz.to_dot(y, record=rec, step=1)
    assert 'a\\|b \\{\\"x\\"\\}' in dot                      # record separators escaped
    assert dot.count('fillcolor="#c8e6c9"') == 1            # Sum has run, Mul not yet
    net = layers.MLP([2, 3, 1])
    with viz.track_modules(net) as tracked:
        out = net(mg.Tensor(np.ones((1, 2)), dtype="float32")).sum()
    assert viz.to_dot(out, modules=tracked).count("shape=box3d") == 3
