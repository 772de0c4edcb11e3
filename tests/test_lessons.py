"""The lessons are executable claims: every notebook in ``lessons/`` must be up to date
with its percent-format source and must run top to bottom without an error (its cells
``assert`` what the text says).

* One test per notebook, so ``pytest -n auto`` spreads them over workers.
* Quick settings by default; with ``MINIGRAD_FULL=1`` the notebooks use their full-size
  settings and their tests are marked ``slow`` (``make test-slow``).
* ``MINIGRAD_LESSON_TIMEOUT`` overrides the per-cell timeout (seconds).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
FULL = os.environ.get("MINIGRAD_FULL") == "1"
CELL_TIMEOUT = int(os.environ.get("MINIGRAD_LESSON_TIMEOUT", "1800" if FULL else "300"))
NOTEBOOKS = sorted(LESSONS.glob("*.ipynb"))
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# committed outputs above this many characters (in total) are "not small"
MAX_OUTPUT_CHARS = 2000


def _load_builder():
    spec = importlib.util.spec_from_file_location("lessons_build", LESSONS / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module      # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _params(slow_in_full_mode: bool = False):
    marks = [pytest.mark.slow] if FULL and slow_in_full_mode else []
    return [pytest.param(nb, id=nb.stem, marks=marks) for nb in NOTEBOOKS]


def _cell_failure(nb, exc: Exception) -> str:
    """The failing cell's number, source and error, readable without a notebook viewer."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                trace = ANSI.sub("", "\n".join(out.get("traceback", [])))
                return (f"cell {index} (execution {cell.get('execution_count')}) failed.\n"
                        f"---- source ----\n{cell.source}\n"
                        f"---- error ----\n{out.get('ename')}: {out.get('evalue')}\n{trace}")
    return ANSI.sub("", f"{type(exc).__name__}: {exc}")


def test_lessons_exist():
    assert NOTEBOOKS, "no notebooks in lessons/ (run python lessons/build.py)"


def test_build_check_passes():
    """`python lessons/build.py --check`: every source has a current notebook and vice versa."""
    proc = subprocess.run([sys.executable, str(LESSONS / "build.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("notebook", _params())
def test_notebook_is_clean(notebook: Path):
    """Committed notebooks carry no (or only tiny) outputs and no absolute paths."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    output_chars = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            assert "data" not in out or not any(k.startswith("image/") for k in out["data"]), \
                f"{notebook.name}: committed image output; rebuild with lessons/build.py"
            output_chars += len(json.dumps(out))
    assert output_chars <= MAX_OUTPUT_CHARS, \
        f"{notebook.name}: {output_chars} characters of committed output"
    text = notebook.read_text(encoding="utf-8")
    for needle in {str(ROOT), str(Path.home()), "/home/", "/Users/", "C:\\\\"}:
        assert needle not in text, f"{notebook.name} contains an absolute path ({needle!r})"
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    quoted_abs = re.findall(r"""["'](?:/|~/|[A-Za-z]:\\{1,2})[\w.~-][^"'\n]*["']""", code)
    assert not quoted_abs, f"{notebook.name}: absolute path literal(s) {quoted_abs}"


@pytest.mark.parametrize("notebook", _params(slow_in_full_mode=True))
def test_notebook_runs(notebook: Path, monkeypatch: pytest.MonkeyPatch):
    """Up to date with its source, then executed top to bottom in a fresh python3 kernel."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    builder = _load_builder()
    source = builder.SOURCE_DIR / f"{notebook.stem}.py"
    assert source.exists(), f"{notebook.name} has no source {source.relative_to(ROOT)}"
    assert notebook.read_text(encoding="utf-8") == builder.render(source), \
        f"{notebook.name} is stale: run python lessons/build.py"

    # the kernel inherits this environment
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    monkeypatch.setenv("MINIGRAD_FULL", "1" if FULL else "0")

    nb = nbformat.read(notebook, as_version=4)
    # Under Agg nothing is displayed, so a figure that cannot be drawn (a LaTeX label
    # matplotlib cannot parse, say) would go unnoticed: draw every open figure at the end.
    nb.cells.append(nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as _plt\n"
        "for _n in _plt.get_fignums():\n"
        "    _plt.figure(_n).canvas.draw()", id="harness-draw-figures"))
    # ... and report, for every figure, whether it is empty or unlabelled (asserted below)
    nb.cells.append(nbformat.v4.new_code_cell(FIGURE_REPORT_CELL, id="harness-figure-report"))
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(LESSONS)}})
    start = time.perf_counter()
    failure = None
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError, CellTimeoutError, DeadKernelError
        failure = _cell_failure(nb, exc)
    if failure is not None:   # outside the except block: no chained traceback in the report
        pytest.fail(f"{notebook.name}: {failure}", pytrace=False)
    elapsed = time.perf_counter() - start
    print(f"{notebook.name}: {elapsed:.1f} s ({'full' if FULL else 'quick'} mode)")
    problems = _figure_problems(nb)
    assert not problems, f"{notebook.name}: figures without content or labels:\n" + \
        "\n".join(problems)


# Run in the kernel after the notebook: one JSON line describing every open figure. Under
# the Agg backend nothing is shown or closed, so every figure the lesson made is still open.
FIGURE_REPORT_CELL = """
import json as _json
import matplotlib.pyplot as _plt
_report = []
for _n in _plt.get_fignums():
    _fig = _plt.figure(_n)
    _sup = _fig._suptitle.get_text() if _fig._suptitle is not None else ""
    _axes = [a for a in _fig.axes if not hasattr(a, "_colorbar")]   # colourbars aside
    _drawn = [a for a in _axes if a.lines or a.collections or a.images or a.patches
              or a.texts or a.artists]
    _unlabelled = [i for i, a in enumerate(_axes) if (a in _drawn) and not (
        a.get_title() or a.get_title("left") or a.get_title("right")
        or a.get_xlabel() or a.get_ylabel() or _sup)]
    _report.append({"figure": _n, "axes": len(_axes), "drawn": len(_drawn),
                    "unlabelled": _unlabelled})
_plt.close("all")
print("FIGURE-REPORT " + _json.dumps(_report))
"""


def _figure_problems(nb) -> list[str]:
    """Problems found by FIGURE_REPORT_CELL: empty figures, axes with no title or labels."""
    cell = next(c for c in nb.cells if c.get("id") == "harness-figure-report")
    text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream")
    line = next((ln for ln in text.splitlines() if ln.startswith("FIGURE-REPORT ")), None)
    if line is None:
        return ["the figure report did not run"]
    problems = []
    for fig in json.loads(line[len("FIGURE-REPORT "):]):
        if fig["drawn"] == 0:
            problems.append(f"figure {fig['figure']}: nothing drawn")
        if fig["unlabelled"]:
            problems.append(f"figure {fig['figure']}: axes {fig['unlabelled']} have no title, "
                            "axis label or figure title")
    return problems


def test_exercises_check_themselves():
    """Every registered exercise accepts its reference solution and rejects its
    plausible wrong answers; every exercise a lesson checks is registered, and every
    registered one is checked by its lesson."""
    sys.path.insert(0, str(LESSONS))
    try:
        import exercises
    finally:
        sys.path.remove(str(LESSONS))
    results = exercises.self_test()
    assert results and set(results) == set(exercises.EXERCISES)
    failing = [k for k, ok in results.items() if not ok]
    assert not failing, f"checkers that accept a wrong answer or reject their solution: {failing}"
    for ex in exercises.EXERCISES.values():
        assert ex.wrong_answers, ex.id
    checked: dict[str, str] = {}
    for src in sorted((LESSONS / "src").glob("[0-9][0-9]_*.py")):
        for exercise_id in re.findall(r"""check\(\s*["'](\d{2}\.\d+)["']""", src.read_text()):
            checked[exercise_id] = src.stem
    unregistered = sorted(set(checked) - set(exercises.EXERCISES))
    assert not unregistered, f"lessons check exercises nobody registered: {unregistered}"
    lessons_with_checks = {v[:2] for v in checked.values()}
    unchecked = sorted(k for k in exercises.EXERCISES
                       if k[:2] in lessons_with_checks and k not in checked)
    assert not unchecked, f"registered exercises without a check cell: {unchecked}"


def test_check_never_reveals_the_solution(capsys):
    sys.path.insert(0, str(LESSONS))
    try:
        import exercises
    finally:
        sys.path.remove(str(LESSONS))
    ex = exercises.EXERCISES["01.3"]
    assert exercises.check("01.3", ex.wrong_answers[0]()) is False
    out = capsys.readouterr().out
    assert "not yet" in out and "Hint" in out and ex.solution_text not in out
    assert exercises.check("01.3", None) is False
    assert "no answer yet" in capsys.readouterr().out
    assert exercises.check("01.3", ex.reference()) is True


def test_figure_report_catches_unlabelled_and_empty_figures(capsys):
    """The figure check itself can fail: an unlabelled and an empty figure are reported,
    a titled one (and a colourbar) is not."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    nbformat = pytest.importorskip("nbformat")
    plt.close("all")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])                                 # no title, no labels
    fig, ax = plt.subplots()
    im = ax.imshow([[0, 1], [1, 0]])
    ax.set_title("titled")
    fig.colorbar(im, ax=ax)                                 # its axes have no label: fine
    plt.figure()                                            # nothing drawn
    exec(FIGURE_REPORT_CELL, {})
    out = capsys.readouterr().out
    cell = nbformat.v4.new_code_cell(FIGURE_REPORT_CELL, id="harness-figure-report")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=out)]
    problems = _figure_problems(nbformat.v4.new_notebook(cells=[cell]))
    assert len(problems) == 2, problems
    assert "figure 1: axes [0] have no title" in problems[0]
    assert "figure 3: nothing drawn" in problems[1]
