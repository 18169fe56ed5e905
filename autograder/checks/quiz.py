"""Checks for quiz answers: top-level constants such as ``Q1 = "B"`` or ``Q2 = 313``.

Students see only whether their answer has the expected form; the key is read from the
reference solution by the hidden check. A wrong answer that a known slip explains (the error
instead of the squared error, a ratio the wrong way round, ...) gets that slip's hint: each
checks module declares the slips of its assignment's questions as ``QUIZ_MISTAKES``. The slips
are written from the questions, never from the key, and a hint never states the right answer; a
slip that matches the key (a question changed since) is ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from autograder.checks import Check
from autograder.checks.compare import CheckFailed, describe


@dataclass(frozen=True)
class Choice:
    """A multiple-choice answer: one letter among ``options``."""

    options: str

    def example(self, name: str) -> str:
        return f"{name} = " + ", ".join(f'"{o}"' for o in self.options[:-1]) + f' or "{self.options[-1]}"'

    def read(self, name: str, value: Any) -> str:
        listed = ", ".join(f'"{o}"' for o in self.options)
        if not isinstance(value, str) or value.strip().upper() not in self.options:
            raise CheckFailed(f"{name} should be one of {listed}; it is {describe(value)}.")
        return value.strip().upper()

    def same(self, a: str, b: str) -> bool:
        return a == b

    def resembles(self, answer: str, slip: str | float) -> bool:
        return answer == slip


@dataclass(frozen=True)
class Number:
    """A numeric answer, right within a relative ``tolerance``."""

    tolerance: float = 1e-9

    def example(self, name: str) -> str:
        return f"{name} = a number"

    def read(self, name: str, value: Any) -> float:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                float(value)
            except OverflowError:
                raise CheckFailed(f"{name} should be a number; it is an integer too large to be one."
                                  ) from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            try:
                number = float(value)  # accepts NumPy scalars
            except (TypeError, ValueError, OverflowError):
                number = math.nan
            if isinstance(value, bool | str) or not math.isfinite(number):
                raise CheckFailed(f"{name} should be a number; it is {describe(value)}.")
            return number
        return float(value)

    def same(self, a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=self.tolerance, abs_tol=1e-12)

    def resembles(self, answer: float, slip: str | float) -> bool:
        """An answer rounded to three or four digits still shows the slip it comes from."""
        return isinstance(slip, float | int) and math.isclose(answer, slip, rel_tol=max(self.tolerance, 1e-3))


@dataclass(frozen=True)
class Slip:
    """A likely wrong answer (a letter, or a number worked out from the question) and the
    mistake that leads to it."""

    answer: str | float
    hint: str


def assignment_of(reference: Any) -> str | None:
    """The assignment a reference solution belongs to, from its notebook's metadata."""
    declared = getattr(reference, "metadata", {}).get("autograder", {})
    return declared.get("assignment") if isinstance(declared, dict) else None


def slips_of(assignment_id: str | None, name: str) -> tuple[Slip, ...]:
    """The known slips of one question: the ``QUIZ_MISTAKES`` (question -> {answer: hint}) the
    checks modules of its assignment declare."""
    import importlib

    from autograder.assignments import ASSIGNMENTS

    slips: tuple[Slip, ...] = ()
    assignment = ASSIGNMENTS.get(assignment_id or "")
    for module in assignment.checks_modules if assignment else ():
        declared = getattr(importlib.import_module(module), "QUIZ_MISTAKES", {}).get(name, {})
        slips += tuple(Slip(answer, hint) for answer, hint in declared.items())
    return slips


def slip_hint(kind: Choice | Number, slips: tuple[Slip, ...], answer: Any, key: Any) -> str | None:
    """The hint of the first slip the answer matches, unless that slip is (near) the key."""
    for slip in slips:
        if kind.resembles(answer, slip.answer) and not kind.resembles(key, slip.answer):
            return slip.hint
    return None


def answer_of(student: Any, name: str, kind: Choice | Number) -> Any:
    """The student's answer ``name``; a question without one (its cell still raises
    NotImplementedError, or the name is gone) is said to be unanswered."""
    try:
        return student.get(name)
    except CheckFailed as failure:
        if failure.kind is not None:
            raise
        raise CheckFailed(f"{name} is not answered yet: set it in the answer cell below the question "
                          f"({kind.example(name)}), in place of `raise NotImplementedError()`.") from None


def quiz_checks(name: str, kind: Choice | Number, points: float) -> list[Check]:
    """The two checks of one quiz question: its form (public) and its value (hidden)."""

    def answer_has_form(student):
        kind.read(name, answer_of(student, name, kind))

    def answer_is_right(student, reference):
        answer = kind.read(name, answer_of(student, name, kind))
        key = kind.read(name, reference.get(name))
        if kind.same(answer, key):
            return
        shown = f"{answer:.10g}" if isinstance(answer, float) else repr(answer)
        hint = slip_hint(kind, slips_of(assignment_of(reference), name), answer, key)
        if hint:
            raise CheckFailed(f"{name}: {shown} is not the right answer.\n  Likely mistake: {hint}",
                              mistake=hint)
        raise CheckFailed(
            f"{name}: {shown} is not the right answer. "
            "Reread the question and the section it refers to, then try again."
        )

    return [
        Check(name, "answer has the expected form", 0, False, answer_has_form),
        Check(name, "correct answer", points, True, answer_is_right),
    ]
