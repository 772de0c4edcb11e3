"""``python -m minigrad.gpucheck``: the no-GPU path, and every step dry-run on the fake.

No GPU is needed: ``--device fake`` runs each step on the CPU test double, so
the script is known to work before a GPU machine ever sees it.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import gpucheck
from minigrad.backends import opsuite

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(mg.is_available("cuda"), reason="this machine has a GPU")
def test_without_a_gpu_it_says_so_and_exits_0(tmp_path):
    report = tmp_path / "r.md"
    env = dict(os.environ, PYTHONPATH=ROOT)
    run = subprocess.run([sys.executable, "-m", "minigrad.gpucheck", "--report", str(report)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "No GPU here" in run.stdout and "nothing was run" in report.read_text()
    assert "[gpucheck]" not in run.stdout                  # no step started


def test_dry_run_of_every_step_on_the_fake(tmp_path):
    report = tmp_path / "r.md"
    code = gpucheck.main(["--device", "fake", "--quick", "--report", str(report), "--steps",
                          "environment,parity,gradcheck,resume,benchmark"])
    text = report.read_text()
    assert code == 0, text
    for step in ("environment", "parity", "gradcheck", "resume", "benchmark"):
        assert f"| {step} | PASS |" in text, step
    assert "bit-exact" in text and "| W3-large |" in text


def test_the_tests_step_runs_pytest_on_the_device(tmp_path):
    res = gpucheck.step_tests("fake", quick=True)
    assert res.status == "PASS", res.details
    assert "passed" in res.summary


def test_a_failing_step_makes_the_exit_status_1(monkeypatch, capsys):
    def broken(device, quick):
        raise RuntimeError("planted failure")
    monkeypatch.setitem(gpucheck.STEP_FUNCTIONS, "environment", broken)
    assert gpucheck.main(["--device", "fake", "--steps", "environment"]) == 1
    assert "planted failure" in capsys.readouterr().out


def test_parity_notices_a_wrong_gradient(monkeypatch):
    real = opsuite.run_case

    def off_by_a_little(case, device, dtype, **kw):
        out, grads = real(case, device, dtype, **kw)
        if device == "fake" and case.name == "tanh":
            grads = [g * (1 + 1e-6) for g in grads]
        return out, grads
    monkeypatch.setattr(opsuite, "run_case", off_by_a_little)
    res = gpucheck.step_parity("fake", quick=False)
    assert res.status == "FAIL" and any("tanh" in d for d in res.details)


def test_unknown_step_is_an_error():
    with pytest.raises(SystemExit):
        gpucheck.main(["--device", "fake", "--steps", "nope"])


def test_every_public_op_is_in_the_parity_catalogue():
    covered = " ".join(c.name for c in opsuite.CASES)
    missing = [op for op in mg.ops.__all__ if op not in covered]
    assert not missing, missing
    assert all(np.isfinite(opsuite.run_case(c, "cpu", np.float64)[0]).all()
               for c in opsuite.CASES)
