"""Checks for quiz answers: top-level constants such as ``Q1 = "B"`` or ``Q2 = 313``.

Students see only whether their answer has the expected form; the key is read from the
reference solution by the hidden check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from autograder.checks import Check
from autograder.checks.compare import CheckFailed


@dataclass(frozen=True)
class Choice:
    """A multiple-choice answer: one letter among ``options``."""

    options: str

    def read(self, name: str, value: Any) -> str:
        listed = ", ".join(f'"{o}"' for o in self.options)
        if not isinstance(value, str) or value.strip().upper() not in self.options:
            raise CheckFailed(f"{name} should be one of {listed}; it is {value!r}.")
        return value.strip().upper()

    def same(self, a: str, b: str) -> bool:
        return a == b


@dataclass(frozen=True)
class Number:
    """A numeric answer, right within a relative ``tolerance``."""

    tolerance: float = 1e-9

    def read(self, name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            try:
                number = float(value)  # accepts NumPy scalars
            except (TypeError, ValueError):
                number = math.nan
            if isinstance(value, bool | str) or not math.isfinite(number):
                raise CheckFailed(f"{name} should be a number; it is {value!r}.")
            return number
        return float(value)

    def same(self, a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=self.tolerance, abs_tol=1e-12)


def quiz_checks(name: str, kind: Choice | Number, points: float) -> list[Check]:
    """The two checks of one quiz question: its form (public) and its value (hidden)."""

    def answer_has_form(student):
        kind.read(name, student.get(name))

    def answer_is_right(student, reference):
        answer = kind.read(name, student.get(name))
        key = kind.read(name, reference.get(name))
        if not kind.same(answer, key):
            raise CheckFailed(
                f"{name}: {answer!r} is not the right answer. "
                "Reread the question and the section it refers to, then try again."
            )

    return [
        Check(name, "answer has the expected form", 0, False, answer_has_form),
        Check(name, "correct answer", points, True, answer_is_right),
    ]
