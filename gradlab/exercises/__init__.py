"""The lessons' exercises: ``check("1.1", answer)`` prints a friendly verdict with a hint.

Answers may be gradlab tensors, PyTorch tensors, NumPy arrays, numbers, lists, strings or
booleans, so a lesson checks the same way after ``import torch``. Some exercises are about what
the student's code did rather than a value: their answer is the object itself (a tensor, an
optimizer), which the exercise's judge examines. A wrong answer gets a hint, never the
solution; ``None`` (the starter answer in every exercise cell) gets "not answered yet", so a
notebook still runs top to bottom.
"""
from __future__ import annotations

from .table import EXERCISES, Exercise
from .values import mismatch, plain

__all__ = ["EXERCISES", "Exercise", "check", "grade", "mismatch", "plain"]


def check(exercise_id: str, answer) -> None:
    """Print a friendly verdict on ``answer`` for exercise ``exercise_id``."""
    print(grade(exercise_id, answer)[1])


def grade(exercise_id: str, answer) -> tuple[str, str]:
    """("correct" | "wrong" | "unanswered", message) for ``answer`` to ``exercise_id``."""
    key = str(exercise_id)
    if key not in EXERCISES:
        known = ", ".join(EXERCISES)
        return "wrong", f"There is no exercise {key!r}. The exercises are: {known}."
    ex = EXERCISES[key]
    head = f"Exercise {key}"
    if answer is None or answer is Ellipsis:
        return "unanswered", (f"{head}: not answered yet. Replace None with your answer "
                              "and run the cell again.")
    if ex.judge is not None:
        try:
            problem = ex.judge(answer)
        except (TypeError, ValueError, RuntimeError, LookupError, AttributeError) as e:
            return "wrong", f"{head}: could not check this answer ({e}). Hint: {ex.hint}"
        if problem is None:
            return "correct", f"{head}: correct, well done!"
        return "wrong", f"{head}: not quite. {problem}"
    try:
        value = plain(answer)
    except (TypeError, ValueError) as e:
        return "wrong", f"{head}: could not read this answer ({e}). Hint: {ex.hint}"
    problem = mismatch(value, ex.expected, ex.tolerance)
    if problem is not None and problem != "value":
        return "wrong", f"{head}: {problem}. Hint: {ex.hint}"
    if problem is None:
        return "correct", f"{head}: correct, well done!"
    for wrong, hint in ex.mistakes:
        if mismatch(value, wrong, ex.tolerance) is None:
            return "wrong", f"{head}: not quite. {hint}"
    return "wrong", f"{head}: not quite. Hint: {ex.hint}"
