"""Lesson 13's exercises check themselves: each checker accepts its reference
solution and rejects the plausible wrong answers registered with it."""
from __future__ import annotations

import sys
from pathlib import Path

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def test_lesson13_exercises_accept_their_solution_and_reject_wrong_answers():
    if str(LESSONS) not in sys.path:
        sys.path.insert(0, str(LESSONS))
    import exercises
    results = {k: v for k, v in exercises.self_test().items() if k.startswith("13.")}
    assert set(results) == {"13.1", "13.2"}
    assert all(results.values()), results
