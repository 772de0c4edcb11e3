"""The exercises of lessons 07-12 check themselves: every checker accepts its reference
solution and rejects each of its plausible wrong answers, and every registered exercise has
a starter cell and a check cell in its lesson's source."""
from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
OURS = ["07", "08", "09", "10", "11", "12"]


@pytest.fixture(scope="module")
def exercises():
    sys.path.insert(0, str(LESSONS))
    try:
        yield importlib.import_module("exercises")
    finally:
        sys.path.remove(str(LESSONS))


@pytest.mark.parametrize("lesson", OURS)
def test_every_checker_accepts_its_solution_and_rejects_the_wrong_answers(exercises, lesson):
    ids = sorted(k for k in exercises.EXERCISES if k.startswith(lesson + "."))
    assert len(ids) >= 3, f"lesson {lesson}: exercises {ids}"
    for exercise_id in ids:
        ex = exercises.EXERCISES[exercise_id]
        assert ex.accepts(ex.reference()), f"{exercise_id}: its reference solution is rejected"
        for k, wrong in enumerate(ex.wrong_answers):
            assert not ex.accepts(wrong()), f"{exercise_id}: wrong answer {k} is accepted"
        assert not ex.accepts(None), f"{exercise_id}: the empty starter answer is accepted"


@pytest.mark.parametrize("lesson", OURS)
def test_every_exercise_has_a_starter_and_a_check_cell(exercises, lesson):
    source = next((LESSONS / "src").glob(f"{lesson}_*.py")).read_text(encoding="utf-8")
    assert "from course import *" in source
    cells = re.split(r"^# %%.*$", source, flags=re.M)
    for exercise_id in sorted(k for k in exercises.EXERCISES if k.startswith(lesson + ".")):
        call = f'check("{exercise_id}", '
        at = [i for i, c in enumerate(cells) if c.strip().startswith(call)]
        assert len(at) == 1, f"{exercise_id}: {len(at)} check cells"
        assert cells[at[0] - 1].strip(), f"{exercise_id}: no starter cell before its check"
        assert f"**{exercise_id}**" in cells[at[0] - 2], f"{exercise_id}: no prompt before it"


def test_check_prints_a_hint_and_never_the_solution(exercises, capsys):
    assert exercises.check("12.2", [[0.1, 0.2], [0.3, 0.4]]) is False
    out = capsys.readouterr().out
    assert "not yet" in out and "Hint" in out and "0.2, 0.2" not in out
    assert exercises.check("12.2", exercises.solution("12.2")) is True
