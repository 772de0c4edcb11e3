"""The backward trace (issue 12): parameter names, deterministic numbering,
contiguous steps, a header, wrapped rows, table and Markdown renderings."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import layers
from minigrad.trace import HEADER


def _mlp_trace(fused=True):
    mg.manual_seed(0)
    model = layers.MLP([3, 5, 2], dtype="float64")
    x = mg.Tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype="float64")
    with mg.use_fused(fused), mg.trace_backward(echo=False) as tr:
        model(x).tanh().sum().backward()
    return model, tr


def test_parameters_carry_their_qualified_module_names():
    gpt = layers.GPT(7, 8, 2, 2, max_len=6)
    for name, p in gpt.named_parameters():
        assert p.name == name
    assert gpt.blocks[0].attn.q_proj.bias.name == "blocks.0.attn.q_proj.bias"

    class Net(layers.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = layers.Linear(3, 4)
            self.fc2 = layers.Linear(4, 2)

    net = Net()
    assert (net.fc1.weight.name, net.fc2.bias.name) == ("fc1.weight", "fc2.bias")
    mine = mg.Parameter(np.ones(3), name="my_scale")
    net.scale = mine
    assert mine.name == "my_scale"                         # a name you chose is kept


def test_trace_names_parameters_and_is_identical_across_runs():
    model, first = _mlp_trace()
    _, second = _mlp_trace()
    assert str(first) == str(second)
    inputs = {name for s in first.steps for name, _, _ in s.input_grads}
    assert {n for n, _ in model.named_parameters()} <= inputs
    assert not any(name.startswith("in") and name[2:].isdigit() for name in inputs)


def test_steps_are_contiguous_and_nodes_numbered_by_step():
    for fused in (True, False):
        _, tr = _mlp_trace(fused)
        assert [s.step for s in tr.steps] == list(range(len(tr.steps)))
        for s in tr.steps:
            assert s.node == f"{s.op}#{s.step}"            # unnamed op outputs: Op#step


def test_header_explains_the_columns_and_the_dash():
    _, tr = _mlp_trace()
    text = str(tr)
    assert text.startswith(HEADER)
    assert "'-'" in HEADER and "|grad|" in HEADER and "Op#k" in HEADER


def test_long_rows_wrap_one_input_per_line():
    _, tr = _mlp_trace()
    linear = next(s for s in tr.steps if s.op == "Linear")
    lines = str(linear).splitlines()
    assert len(lines) == 1 + len(linear.input_grads)
    assert all(len(line) <= 110 for line in lines)


def test_records_keep_step_op_node_shapes_and_norms():
    x = mg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="x")
    with mg.trace_backward(echo=False) as tr:
        (x * x).sum().backward()
    sum_step, mul_step = tr.steps
    assert (sum_step.step, sum_step.op, sum_step.node) == (0, "Sum", "Sum#0")
    assert mul_step.out_shape == (3,) and mul_step.grad_norm == pytest.approx(np.sqrt(3))
    # Mul sends 2x... no: it sends g*x to each of its two inputs (both x)
    assert [n for n, _, _ in mul_step.input_grads] == ["x", "x"]
    assert mul_step.input_grads[0][2] == pytest.approx(np.linalg.norm([0.5, -1.0, 2.0]))


def test_a_node_no_gradient_reached_is_shown_with_the_reason():
    class NoGrad(mg.Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, grad):
            return None

    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = NoGrad.apply(y)
    with mg.trace_backward(echo=False) as tr:
        (z.sum() + x.sum()).backward()
    skipped = [s for s in tr.steps if s.skipped]
    assert [s.op for s in skipped] == ["Exp"] and "no gradient" in skipped[0].skipped
    assert [s.step for s in tr.steps] == list(range(len(tr.steps)))
    assert "skipped: no gradient" in str(tr)


def test_table_and_markdown():
    _, tr = _mlp_trace()
    table = tr.table().splitlines()
    assert table[0].split()[:3] == ["step", "node", "op"]
    rows = sum(max(1, len(s.input_grads)) for s in tr.steps)
    assert len(table) == 2 + rows + 1                     # header, rule, rows, legend
    md = tr.to_markdown().splitlines()
    assert md[0].startswith("| step | node | op |") and md[1].startswith("|---|")
    assert len(md) == 2 + rows
    assert "0.weight" in tr.to_markdown()


def test_composed_lstm_trace_shows_one_block_per_time_step():
    mg.manual_seed(0)
    lstm = layers.LSTM(2, 3, dtype="float64")
    x = mg.Tensor(np.ones((1, 4, 2)), dtype="float64")
    with mg.use_fused(False), mg.trace_backward(echo=False) as tr:
        out, _ = lstm(x)
        out.sum().backward()
    blocks = [s.node for s in tr.steps if s.named]
    assert blocks == ["h_4", "c_4", "h_3", "c_3", "h_2", "c_2", "h_1", "c_1"]
    assert str(tr).count("\n\n") == len(blocks)
