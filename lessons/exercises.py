"""Exercises that check themselves.

Every lesson ends with exercises; each one is registered here with a prompt, a
checker, a hint and a reference solution::

    from exercises import check, solution
    check("02.1", my_answer)      # prints correct / incorrect (with a hint)
    solution("02.1")              # only when you ask for it

``self_test()`` runs every checker against its own reference solution (it must
be accepted) and against at least one plausible wrong answer (it must be
rejected); the test suite calls it, so a checker that cannot fail is caught.

The exercises of lesson NN live in ``exercise_sets/lessonNN.py``; each such
file calls :func:`register` once per exercise.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

__all__ = ["Exercise", "EXERCISES", "register", "check", "solution", "hint", "self_test"]


@dataclass
class Exercise:
    """One exercise: ``checker(answer) -> bool`` decides; ``wrong_answers`` are
    plausible mistakes the checker must reject; ``reference()`` builds the
    solution (a value, or a function for exercises that ask for code)."""

    id: str
    prompt: str
    checker: Callable[[Any], bool]
    hint: str
    reference: Callable[[], Any]
    wrong_answers: list[Callable[[], Any]] = field(default_factory=list)
    solution_text: str = ""

    def accepts(self, answer: Any) -> bool:
        try:
            return bool(self.checker(answer))
        except Exception:  # an answer of the wrong kind is simply not correct
            return False


EXERCISES: dict[str, Exercise] = {}


def register(id: str, prompt: str, checker: Callable[[Any], bool], hint: str,
             reference: Callable[[], Any], wrong_answers: list[Callable[[], Any]],
             solution_text: str = "") -> Exercise:
    """Add one exercise to :data:`EXERCISES` (ids look like ``"02.1"``)."""
    if id in EXERCISES:
        raise ValueError(f"exercise {id} is registered twice")
    if not wrong_answers:
        raise ValueError(f"exercise {id}: give at least one wrong answer its checker rejects")
    ex = Exercise(id, prompt, checker, hint, reference, list(wrong_answers), solution_text)
    EXERCISES[id] = ex
    return ex


def _load_all() -> None:
    here = Path(__file__).resolve().parent
    if str(here) not in sys.path:
        sys.path.insert(0, str(here))
    package = here / "exercise_sets"
    for info in sorted(pkgutil.iter_modules([str(package)]), key=lambda m: m.name):
        importlib.import_module(f"exercise_sets.{info.name}")


def _get(exercise_id: str) -> Exercise:
    try:
        return EXERCISES[exercise_id]
    except KeyError:
        known = ", ".join(sorted(EXERCISES)) or "none"
        raise KeyError(f"no exercise {exercise_id!r}; known: {known}") from None


def check(exercise_id: str, answer: Any) -> bool:
    """Print whether ``answer`` is correct; on a wrong answer print the hint."""
    ex = _get(exercise_id)
    if answer is None or (isinstance(answer, tuple) and all(a is None for a in answer)):
        print(f"Exercise {exercise_id}: no answer yet -- fill in the cell above and run "
              "this one again.")
        return False
    ok = ex.accepts(answer)
    if ok:
        print(f"Exercise {exercise_id}: correct.")
    else:
        print(f"Exercise {exercise_id}: not yet. Hint: {ex.hint}")
    return ok


def hint(exercise_id: str) -> str:
    return _get(exercise_id).hint


def solution(exercise_id: str) -> Any:
    """The reference solution (printed explanation, and the value or function)."""
    ex = _get(exercise_id)
    if ex.solution_text:
        print(ex.solution_text)
    return ex.reference()


def self_test() -> dict[str, bool]:
    """{id: True} where the checker accepts its reference and rejects every wrong answer."""
    result = {}
    for id_, ex in sorted(EXERCISES.items()):
        good = ex.accepts(ex.reference())
        bad = all(not ex.accepts(w()) for w in ex.wrong_answers)
        result[id_] = good and bad
    return result


_load_all()
