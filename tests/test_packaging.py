"""minigrad installed like a library: the wheel carries everything the ledger and
the demo read, and both run from a folder that is not the checkout.

* the packaged catalogue ``minigrad/data/formulas.md`` is byte-identical to
  ``docs/formulas.md`` (``python -m minigrad.ledger.sync_catalogue`` refreshes it);
* a wheel is built from a copy of the project files, installed with ``--no-deps``
  into a fresh virtual environment (NumPy is lent from the test's own environment
  by a ``.pth`` file, so nothing is downloaded at test time), and run from an
  empty temporary folder with the checkout nowhere on ``sys.path``.

The quick test runs ``--list`` and two ledger rows; the slow one runs the whole
quick-mode ledger and the demo.
"""
from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from minigrad.ledger.catalogue import PACKAGED_CATALOGUE, REPO_CATALOGUE, load_catalogue

REPO = Path(__file__).resolve().parents[1]
#: what a build needs; nothing else of the checkout may be required by the wheel
BUILD_INPUTS = ("setup.cfg", "pyproject.toml", "README.md", "minigrad", "layers", "optim")


def test_packaged_catalogue_is_identical_to_docs():
    assert PACKAGED_CATALOGUE.read_bytes() == REPO_CATALOGUE.read_bytes(), (
        "minigrad/data/formulas.md is stale: run `python -m minigrad.ledger.sync_catalogue`")
    assert [e.id for e in load_catalogue(PACKAGED_CATALOGUE)] == \
        [e.id for e in load_catalogue(REPO_CATALOGUE)]


def test_sync_catalogue_check_reports_a_stale_copy(tmp_path, monkeypatch, capsys):
    from minigrad.ledger import sync_catalogue
    stale = tmp_path / "formulas.md"
    stale.write_text("| F01 | not the catalogue |\n", encoding="utf-8")
    monkeypatch.setattr(sync_catalogue, "PACKAGED_CATALOGUE", stale)
    assert sync_catalogue.sync(check=True) == 1
    assert "sync_catalogue" in capsys.readouterr().out
    assert sync_catalogue.sync() == 0 and stale.read_bytes() == REPO_CATALOGUE.read_bytes()
    assert sync_catalogue.sync(check=True) == 0


def _can_build_without_isolation() -> bool:
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
        importlib.metadata.version("wheel")
    except importlib.metadata.PackageNotFoundError:
        return False
    return major >= 68


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Build the wheel, install it into a fresh venv; returns the venv's python and
    an empty working folder outside the checkout."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    dist = root / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)]
    if _can_build_without_isolation():
        cmd.insert(4, "--no-build-isolation")  # build offline with this env's setuptools
    built = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if built.returncode != 0 and "--no-build-isolation" not in cmd:
        pytest.skip("cannot build a wheel here: this environment lacks setuptools>=68 and "
                    "wheel, and pip could not fetch them:\n" + built.stderr[-2000:])
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("minigrad-*.whl")

    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    # lend NumPy (only NumPy: the test's own site-packages also holds the editable
    # install of the checkout, which must stay invisible)
    lent = root / "lent"
    lent.mkdir()
    numpy_dir = Path(np.__file__).resolve().parent
    for name in ("numpy", "numpy.libs"):
        if (numpy_dir.parent / name).exists():
            (lent / name).symlink_to(numpy_dir.parent / name)
    (site / "lent_numpy.pth").write_text(str(lent) + "\n", encoding="utf-8")

    work = root / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MINIGRAD_CATALOGUE", "PYTHONHOME", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    return {"python": str(python), "cwd": str(work), "env": env, "site": site}


def _run(installed: dict, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([installed["python"], *args], cwd=installed["cwd"],
                          env=installed["env"], capture_output=True, text=True, timeout=timeout)


def test_installed_wheel_runs_the_ledger_outside_the_checkout(installed):
    where = _run(installed, "-c", "import minigrad, layers, optim, minigrad.ledger.catalogue as c;"
                 "print(minigrad.__file__); print(layers.__file__); print(optim.__file__);"
                 "print(c.catalogue_path())")
    assert where.returncode == 0, where.stderr
    lines = where.stdout.split()
    for line in lines:  # every module and the catalogue come from the install
        assert Path(line).is_relative_to(installed["site"]), (line, installed["site"])
        assert not Path(line).is_relative_to(REPO)
    assert lines[-1].endswith(os.path.join("minigrad", "data", "formulas.md"))

    listed = _run(installed, "-m", "minigrad.ledger", "--list")
    assert listed.returncode == 0, listed.stderr
    ids = [line.split()[-2] if line.startswith("!") else line.split()[0]
           for line in listed.stdout.splitlines() if line.strip()]
    assert ids == [e.id for e in load_catalogue(REPO_CATALOGUE)]
    assert not any(line.startswith("!") for line in listed.stdout.splitlines())

    some = _run(installed, "-m", "minigrad.ledger", "--only", "F01,E01")
    assert some.returncode == 0, some.stdout + some.stderr
    assert "2 rows: 2 PASS" in some.stdout


def test_installed_datasets_load_outside_the_checkout(installed):
    out = _run(installed, "-c", "from minigrad.datasets import load_digits, load_iris, "
               "load_text, load_sentiment; print(load_digits()[0].shape, load_iris()[0].shape, "
               "len(load_text('tiny_corpus')) > 1000, len(load_sentiment()[0]))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(1797,", "64)", "(150,", "4)", "True", "300"]


@pytest.mark.slow
def test_installed_wheel_runs_the_whole_ledger_and_the_demo(installed):
    ledger = _run(installed, "-m", "minigrad.ledger", timeout=900)
    assert ledger.returncode == 0, ledger.stdout[-3000:] + ledger.stderr[-3000:]
    n = len(load_catalogue(REPO_CATALOGUE))
    assert f"{n} rows: {n} PASS" in ledger.stdout
    demo = _run(installed, "-m", "minigrad.demo", timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "PASS" in demo.stdout and "done in" in demo.stdout
