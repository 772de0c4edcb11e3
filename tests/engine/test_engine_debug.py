"""The debugger (issue 12): ``where_is``, ``break_in`` and a real ``python -m pdb``
session driven by scripted input."""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minigrad as mg
from minigrad import MinigradError
from minigrad.ops import arithmetic, fused, unary

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _first_body_line(fn) -> str:
    """The first statement of fn's body (after its docstring), stripped."""
    lines = inspect.getsource(fn).splitlines()[1:]
    body = [ln.strip() for ln in lines if ln.strip()]
    if body[0].startswith(('"""', "'''")):
        quote = body[0][:3]
        if body[0].count(quote) >= 2 and len(body[0]) > 3:
            body = body[1:]
        else:
            end = next(k for k, ln in enumerate(body[1:], 1) if quote in ln)
            body = body[end + 1:]
    return body[0]


@pytest.mark.parametrize("name, cls", [("Mul", arithmetic.Mul), ("LSTM", fused.LSTM),
                                       ("Sigmoid", unary.Sigmoid), ("Linear", None)])
def test_where_is_points_at_the_first_line_of_the_backward(name, cls):
    cls = cls or mg.debug.find_op(name)
    where = mg.where_is(name)
    path, line = where.rsplit(":", 1)
    assert os.path.isabs(path) and path == os.path.abspath(inspect.getsourcefile(cls))
    with open(path) as f:
        text = f.read().splitlines()[int(line) - 1].strip()
    assert text == _first_body_line(cls.backward)


def test_unknown_op_names_list_close_matches():
    with pytest.raises(MinigradError, match="'Mul'") as info:
        mg.where_is("Mull")
    assert "no op named 'Mull'" in str(info.value)
    with pytest.raises(MinigradError, match="LayerNorm"):
        mg.break_in("LayerNrom")
    assert mg.debug.find_op("mul") is arithmetic.Mul      # case does not matter


class _Recorder:
    """Stands in for pdb.Pdb: records what the stop would show, then runs on."""

    calls: list = []

    def runcall(self, fn, fn_self, grad):
        _Recorder.calls.append((type(fn_self).__name__, tuple(grad.shape),
                                [tuple(t.shape) for t in fn_self.inputs],
                                tuple(fn_self.output.shape), fn.__name__))
        return fn(fn_self, grad)


def test_break_in_stops_once_with_grad_inputs_and_output_at_hand():
    _Recorder.calls = []
    x = mg.Tensor(np.ones((3, 4)), requires_grad=True)
    y = mg.Tensor(np.full((1, 4), 2.0), requires_grad=True)
    original = arithmetic.Mul.backward
    with mg.break_in("Mul", debugger=_Recorder):
        ((x * y) * y).sum().backward()                    # two Mul nodes: one stop
        assert arithmetic.Mul.backward is original        # restored at the stop
    assert _Recorder.calls == [("Mul", (3, 4), [(3, 4), (1, 4)], (3, 4), "backward")]
    np.testing.assert_allclose(x.grad.numpy(), 4.0)       # the stop changed nothing
    assert arithmetic.Mul.backward is original


def test_break_in_a_fused_op_and_in_the_composed_twin():
    import layers
    lstm = layers.LSTM(2, 3)
    x = mg.Tensor(np.ones((1, 4, 2), dtype=np.float32))
    _Recorder.calls = []
    with mg.use_fused(True), mg.break_in("LSTM", debugger=_Recorder):
        lstm(x)[0].sum().backward()
    assert [c[0] for c in _Recorder.calls] == ["LSTM"]
    _Recorder.calls = []
    with mg.use_fused(False), mg.break_in("Sigmoid", debugger=_Recorder):
        lstm(x)[0].sum().backward()
    assert [c[0] for c in _Recorder.calls] == ["Sigmoid"]


def test_break_in_that_never_stops_restores_the_op():
    original = arithmetic.Mul.backward
    with mg.break_in("Mul", debugger=_Recorder):
        pass
    assert arithmetic.Mul.backward is original


SCRIPT = textwrap.dedent("""
    import numpy as np
    import minigrad as mg
    import layers
    mg.manual_seed(0)
    model = layers.MLP([4, 8, 3])
    x = mg.Tensor(np.ones((5, 4), dtype=np.float32))
    loss = mg.mse_loss(model(x), np.zeros((5, 3), dtype=np.float32))   # diff * diff: a Mul
    {call}
    print("finished")
""")


def _run(args, stdin, tmp_path, call="loss.backward()"):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(call=call))
    env = dict(os.environ)
    env.pop("PYTHONBREAKPOINT", None)
    out = subprocess.run([sys.executable, *args, str(script)], input=stdin, text=True,
                         capture_output=True, cwd=tmp_path, timeout=120, env=env)
    return out.stdout + out.stderr


def _stopped_in_mul(output: str) -> None:
    path, line = mg.where_is("Mul").rsplit(":", 1)
    assert f"{path}({line})backward()" in output, output[-2000:]
    assert "(5, 3)" in output                              # p grad.shape: dL/d(diff * diff)
    assert "'Mul'" in output
    assert "finished" in output


def test_python_m_pdb_stops_in_mul_backward_with_an_absolute_breakpoint(tmp_path):
    where = mg.where_is("Mul")
    output = _run(["-m", "pdb"], f"b {where}\nc\np grad.shape\np type(self).__name__\nc\nq\n",
                  tmp_path)
    _stopped_in_mul(output)


def test_python_m_pdb_with_the_documented_relative_path(tmp_path):
    """``b minigrad/ops/arithmetic.py:NN`` resolves through sys.path: it works from any
    directory when the checkout is on sys.path (the Makefile's editable_mode=compat)."""
    probe = subprocess.run([sys.executable, "-c", "import sys; print(sys.path)"], text=True,
                           capture_output=True, cwd=tmp_path)
    if REPO not in eval(probe.stdout):
        pytest.skip("minigrad is installed with a finder hook, not a path entry: reinstall "
                    "with `make` (pip install -e . --config-settings editable_mode=compat)")
    line = mg.where_is("Mul").rsplit(":", 1)[1]
    output = _run(["-m", "pdb"], f"b minigrad/ops/arithmetic.py:{line}\nc\np grad.shape\n"
                                 "p type(self).__name__\nc\nq\n", tmp_path)
    assert "not found from sys.path" not in output
    _stopped_in_mul(output)


def test_break_in_drives_pdb_with_scripted_input(tmp_path):
    call = "with mg.break_in('Mul'):\n    loss.backward()"
    output = _run([], "p grad.shape\np type(self).__name__\nc\n", tmp_path, call=call)
    _stopped_in_mul(output)
