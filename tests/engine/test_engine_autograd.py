"""Autograd semantics: accumulation, graph shapes, long chains, retain_graph,
create_graph and higher derivatives, the functional ``grad``, no_grad, hooks,
retain_grad, tracing and drawing."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from helpers import examples, host


def leaf(values, device, dtype="float64"):
    return mg.Tensor(values, dtype=dtype, device=device, requires_grad=True)


# ---------------------------------------------------------------------------
# accumulation and graph shapes
# ---------------------------------------------------------------------------
def test_a_tensor_used_twice_accumulates(device):
    x = leaf([1.0, -2.0, 3.0], device)
    (x * x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [2.0, -4.0, 6.0])
    x.grad = None
    (x + x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [2.0, 2.0, 2.0])
    x.grad = None
    (x * x * x + x).sum().backward()   # 3x^2 + 1
    np.testing.assert_allclose(host(x.grad), [4.0, 13.0, 28.0])


def test_diamond_graph(device):
    """x -> a = 2x -> (exp(a), tanh(a)) -> y = sum(exp(a) * tanh(a)): both paths count."""
    xs = np.array([0.3, -0.7])
    x = leaf(xs, device)
    a = x * 2.0
    y = (a.exp() * a.tanh()).sum()
    y.backward()
    av = 2 * xs
    expected = 2 * (np.exp(av) * np.tanh(av) + np.exp(av) * (1 - np.tanh(av) ** 2))
    np.testing.assert_allclose(host(x.grad), expected, rtol=1e-12)


def test_gradients_of_shared_upstream_do_not_alias(device):
    x1, x2 = leaf([1.0, 2.0], device), leaf([3.0, 4.0], device)
    ((x1 + x2) * 3.0).sum().backward()
    x1.grad.data += 1.0   # what an in-place optimiser step on the gradient would do
    np.testing.assert_array_equal(host(x2.grad), [3.0, 3.0])
    y = leaf([1.0, 2.0], device)
    up = mg.Tensor([5.0, 6.0], dtype="float64", device=device)
    (y + 0.0).backward(up)
    y.grad.data += 1.0
    np.testing.assert_array_equal(host(up), [5.0, 6.0])


def test_gradients_add_up_over_two_backward_calls(device):
    x = leaf([1.0, 2.0], device)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [5.0, 7.0])


def test_a_100000_op_chain_runs_without_recursion_error(device):
    x = leaf([1.0], device)
    y = x
    for _ in range(100_000):
        y = y * 1.000001
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), [1.000001 ** 100_000], rtol=1e-9)
    z = x
    for _ in range(100_000):
        z = z + 1.0
    del z   # dropping a long graph must not overflow the C stack either
    gc.collect()


def test_the_graph_is_freed_after_backward(device):
    x = leaf(np.ones(3), device)
    h = x.tanh()
    probe = weakref.ref(h)
    y = (h * 2.0).sum()
    del h
    assert probe() is not None   # the graph holds it
    y.backward()
    assert y.grad_fn.inputs is None
    assert probe() is None       # backward released it


_DAG_OPS = [
    ("mul", 2, lambda a, b: a * b), ("add", 2, lambda a, b: a + b),
    ("sub", 2, lambda a, b: a - b), ("tanh", 1, lambda a: a.tanh()),
    ("sigmoid", 1, lambda a: a.sigmoid()), ("scale", 1, lambda a: a * 0.7),
    ("square", 1, lambda a: a ** 2), ("matmul", 2, lambda a, b: a @ b),
]


@examples(30)
@given(data=st.data(), n_ops=st.integers(1, 8))
def test_random_graphs_with_reuse_get_the_right_gradients(device, data, n_ops):
    """Random DAGs over two leaves, each op reading any earlier node (so nodes are
    reused and paths branch and merge): gradcheck every graph."""
    plan = []
    for k in range(n_ops):
        name, arity, _ = data.draw(st.sampled_from(_DAG_OPS))
        plan.append((name, [data.draw(st.integers(0, k + 1)) for _ in range(arity)]))
    ops = {name: fn for name, _, fn in _DAG_OPS}

    def build(x, y):
        nodes = [x, y]
        for name, args in plan:
            nodes.append(ops[name](*[nodes[i] for i in args]) * 0.5)
        return nodes[-1]

    rng = np.random.default_rng(len(plan))
    x = leaf(rng.standard_normal((2, 2)), device)
    y = leaf(rng.standard_normal((2, 2)), device)
    mg.gradcheck(build, x, y)


# ---------------------------------------------------------------------------
# calling backward twice
# ---------------------------------------------------------------------------
def test_retain_graph_allows_a_second_backward_and_grads_add_up(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(host(x.grad), [4.0, 8.0])


def test_backward_through_a_freed_graph_raises_a_helpful_error(device):
    x = leaf([1.0, 2.0], device)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(mg.GraphError) as info:
        y.backward()
    msg = str(info.value)
    assert "retain_graph=True" in msg and "second time" in msg and "Sum" in msg
    h = x.exp()
    a = (h * 2.0).sum()
    b = (h * 3.0).sum()
    a.backward()   # frees Exp: b's graph shares it
    with pytest.raises(mg.GraphError, match="Exp"):
        b.backward()


# ---------------------------------------------------------------------------
# higher derivatives
# ---------------------------------------------------------------------------
def test_second_and_third_derivative_of_a_cubic(device):
    xs = np.array([-1.5, 0.5, 2.0])
    x = leaf(xs, device)
    (d1,) = mg.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(host(d1), 3 * xs ** 2)
    assert d1.requires_grad
    (d2,) = mg.grad(d1.sum(), x, create_graph=True)
    np.testing.assert_allclose(host(d2), 6 * xs)
    (d3,) = mg.grad(d2.sum(), x)
    np.testing.assert_allclose(host(d3), [6.0, 6.0, 6.0])


def test_second_derivatives_of_smooth_functions(device):
    xs = np.array([-0.8, 0.1, 1.3])
    cases = [
        (mg.tanh, lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
        (mg.sigmoid, lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s) * (1 - 2 * s)),
        (mg.exp, np.exp),
        (lambda t: (t + 2.0).log(), lambda v: -1 / (v + 2) ** 2),
        (lambda t: (t + 2.0).sqrt(), lambda v: -0.25 * (v + 2) ** -1.5),
        (lambda t: 1.0 / (t + 2.0), lambda v: 2 / (v + 2) ** 3),
    ]
    for fn, d2 in cases:
        x = leaf(xs, device)
        (g,) = mg.grad(fn(x).sum(), x, create_graph=True)
        (h,) = mg.grad(g.sum(), x)
        np.testing.assert_allclose(host(h), d2(xs), rtol=1e-10, err_msg=str(fn))


def test_backward_with_create_graph_gives_a_differentiable_grad(device):
    x = leaf([2.0], device)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(host(g), [12.0])
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(host(h), [12.0])   # 6x


def test_hessian_vector_product_of_a_quadratic_form(device):
    """f(x) = x^T A x has Hessian A + A^T, so H v = (A + A^T) v for every x."""
    rng = np.random.default_rng(5)
    A, xs, v = rng.standard_normal((4, 4)), rng.standard_normal(4), rng.standard_normal(4)
    x = leaf(xs, device)
    At = mg.Tensor(A, device=device)
    f = x @ (At @ x)
    (g,) = mg.grad(f, x, create_graph=True)
    np.testing.assert_allclose(host(g), (A + A.T) @ xs, rtol=1e-12)
    (hv,) = mg.grad((g * mg.Tensor(v, device=device)).sum(), x)
    np.testing.assert_allclose(host(hv), (A + A.T) @ v, rtol=1e-12)


# ---------------------------------------------------------------------------
# the functional grad
# ---------------------------------------------------------------------------
def test_grad_with_several_inputs_and_outputs(device):
    x, y = leaf([1.0, 2.0], device), leaf([3.0, -1.0], device)
    out1 = (x * y).sum()
    out2 = (x * x).sum()
    gx, gy = mg.grad([out1, out2], [x, y])
    np.testing.assert_array_equal(host(gx), [3.0 + 2.0, -1.0 + 4.0])
    np.testing.assert_array_equal(host(gy), [1.0, 2.0])
    assert x.grad is None and y.grad is None   # grad() leaves .grad alone


def test_grad_with_grad_outputs(device):
    x = leaf([1.0, 2.0, 3.0], device)
    (g,) = mg.grad(x * x, x, grad_outputs=mg.Tensor([1.0, 0.0, -1.0], dtype="float64",
                                                    device=device))
    np.testing.assert_array_equal(host(g), [2.0, 0.0, -6.0])


def test_grad_allow_unused(device):
    x, unused = leaf([1.0], device), leaf([5.0, 6.0], device)
    y = (x * 2.0).sum()
    with pytest.raises(mg.GraphError, match="allow_unused=True"):
        mg.grad(y, [x, unused], retain_graph=True)
    gx, gu = mg.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_array_equal(host(gx), [2.0])
    np.testing.assert_array_equal(host(gu), [0.0, 0.0])
    assert gu.shape == (2,) and gu.device == device


def test_grad_with_respect_to_a_non_leaf(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3.0
    y = (h * h).sum()
    gh, gx = mg.grad(y, [h, x])
    np.testing.assert_array_equal(host(gh), [6.0, 12.0])     # 2h
    np.testing.assert_array_equal(host(gx), [18.0, 36.0])    # 2h * 3
    assert h.grad is None


# ---------------------------------------------------------------------------
# grad mode
# ---------------------------------------------------------------------------
def test_no_grad_records_nothing(device):
    x = leaf([1.0, 2.0], device)
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = (x * 2.0).exp().sum()
        with mg.enable_grad():
            z = x * 2.0
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    with pytest.raises(mg.GraphError, match="does not require grad"):
        y.backward()


def test_no_grad_is_restored_after_an_exception(device):
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph(device):
    x = leaf([1.0, 2.0], device)
    y = (x.detach() * x).sum()   # d/dx of c * x with c = x held constant is c
    y.backward()
    np.testing.assert_array_equal(host(x.grad), [1.0, 2.0])
    assert not x.detach().requires_grad


# ---------------------------------------------------------------------------
# hooks and retain_grad
# ---------------------------------------------------------------------------
def test_a_hook_can_replace_the_gradient_and_be_removed(device):
    x = leaf([1.0, 2.0], device)
    seen = []
    h1 = x.register_hook(lambda g: g * 10.0)
    h2 = x.register_hook(lambda g: seen.append(host(g)))   # observes, returns None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [30.0, 30.0])
    np.testing.assert_array_equal(seen[0], [30.0, 30.0])    # hooks run in order
    h1.remove()
    h2.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [3.0, 3.0])
    assert len(seen) == 1


def test_a_hook_on_an_intermediate_changes_what_flows_upstream(device):
    x = leaf([1.0, 2.0], device)
    h = x * 2.0
    h.register_hook(lambda g: g * 0.0 + 1.0)   # pretend dL/dh = 1
    (h * h).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [2.0, 2.0])
    with pytest.raises(mg.GraphError):
        mg.Tensor([1.0]).register_hook(lambda g: g)


def test_retain_grad_on_non_leaves(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3.0
    k = h * 1.0
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(host(h.grad), [6.0, 12.0])
    assert k.grad is None


# ---------------------------------------------------------------------------
# tracing and drawing
# ---------------------------------------------------------------------------
def test_trace_backward_records_one_step_per_op(device):
    xs = np.array([0.2, -0.4, 1.0])
    x = leaf(xs, device)
    x.name = "x"
    loss = (x * 2.0).tanh().sum()
    with mg.trace_backward(echo=False) as tr:
        loss.backward()
    assert [s.op for s in tr.steps] == ["Sum", "Tanh", "MulScalar"]
    assert len(tr) == 3
    t = np.tanh(2 * xs)
    sum_step, tanh_step, mul_step = tr.steps
    assert sum_step.out_shape == () and sum_step.grad_norm == pytest.approx(1.0)
    assert sum_step.input_grads[0][1] == (3,)
    assert sum_step.input_grads[0][2] == pytest.approx(np.sqrt(3))
    assert tanh_step.out_shape == (3,)
    assert tanh_step.input_grads[0][2] == pytest.approx(np.linalg.norm(1 - t ** 2))
    assert mul_step.grad_norm == pytest.approx(np.linalg.norm(1 - t ** 2))
    assert mul_step.input_grads[0][0] == "x"
    assert mul_step.input_grads[0][2] == pytest.approx(np.linalg.norm(2 * (1 - t ** 2)))
    assert "Tanh" in str(tr) and "MulScalar" in str(tanh_step) + str(mul_step)


def test_backward_trace_true_prints_every_step(device, capsys):
    x = leaf([1.0, 2.0], device)
    (x.exp() * x).sum().backward(trace=True)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert lines[:2] == mg.trace.HEADER.splitlines()        # the header explains the columns
    lines = [ln for ln in lines[2:] if ln.startswith("[")]  # (wrapped inputs: "->" lines)
    assert len(lines) == 3
    assert "Sum" in lines[0] and "Mul" in lines[1] and "Exp" in lines[2]
    assert "|grad|=" in lines[0]


def test_trace_does_not_leak_outside_its_block(device, capsys):
    x = leaf([1.0], device)
    with mg.trace_backward(echo=False) as tr:
        (x * 2.0).sum().backward()
    (x * 2.0).sum().backward()
    assert len(tr) == 2 and capsys.readouterr().out == ""


def _small_graph(device):
    a = leaf([1.0, 2.0], device)
    a.name = "a"
    b = leaf([0.5, -1.0], device)
    b.name = "b"
    loss = (a * b).tanh().sum()
    loss.name = "loss"
    return loss


def test_to_dot_names_the_ops_and_tensors(device):
    from minigrad import viz
    loss = _small_graph(device)
    dot = viz.to_dot(loss)
    assert dot.startswith("digraph")
    for word in ("Mul", "Tanh", "Sum", "loss", '"{ a |', '"{ b |'):
        assert word in dot, word
    # a -> Mul, b -> Mul, Mul -> t, t -> Tanh, Tanh -> u, u -> Sum, Sum -> loss
    assert dot.count("->") == 7
    assert "| grad " not in dot
    loss.backward(retain_graph=True)   # now the leaves show their gradients
    assert viz.to_dot(loss).count("| grad norm ") == 2


def test_draw_graph_with_matplotlib(device, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from minigrad import viz
    loss = _small_graph(device)
    fig = viz.draw_graph(loss)
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    for word in ("Mul", "Tanh", "Sum", "loss"):
        assert word in texts, word
    out = tmp_path / "graph.svg"
    viz.draw_graph(loss, path=str(out))   # with graphviz's dot when installed, else matplotlib
    assert out.stat().st_size > 500
    plt.close("all")
