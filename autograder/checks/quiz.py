"""Checks for quiz answers: top-level constants such as ``Q1 = "B"`` or ``Q2 = 313``.

Students see only whether their answer has the expected form; the key is read from the
reference solution by the hidden check. A wrong answer that a known slip explains (the error
instead of the squared error, a ratio the wrong way round, ...) gets that slip's hint. The
slips are written from the questions, never from the key, and a hint never states the right
answer; a slip that matches the key (a question changed since) is ignored.
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


CONFIDENT_MISTAKES = ("Look at what each loss, and its gradient, does with a prediction that is "
                      "confidently wrong.")
SQUARED_ERROR = "the question asks for the squared error of the prediction."

SLIPS: dict[tuple[str, str], tuple[Slip, ...]] = {
    # 01 Q1: why cross-entropy rather than MSE for classification
    ("01_losses", "Q1"): (
        Slip("A", "cost is not the reason: both losses take a handful of operations per sample. "
             + CONFIDENT_MISTAKES),
        Slip("C", "a loss's size does not decide how long training takes (scaling a loss only rescales "
             "its gradient), and cross-entropy is not always smaller than MSE. " + CONFIDENT_MISTAKES),
    ),
    # 01 Q2: predicted $240K, sold for $300K, measured in thousands of dollars
    ("01_losses", "Q2"): (
        Slip(300 - 240, "that is the error itself, y_true - y_pred; " + SQUARED_ERROR),
        Slip(240 - 300, "that is the error itself, y_pred - y_true; " + SQUARED_ERROR),
        Slip(((300 - 240) * 1000) ** 2, "that is in dollars squared; measure in thousands of dollars, "
             "as the question does."),
        Slip((300 - 240) * 1000, "that is the error in dollars; " + SQUARED_ERROR),
        Slip((300 - 240) ** 2 / 2, "that is half the squared error (the 1/2 some texts put in front of "
             "MSE); " + SQUARED_ERROR),
        Slip(2 * (240 - 300), "that is the derivative of the squared error, 2 (y_pred - y_true), not the "
             "squared error itself."),
        Slip(2 * (300 - 240), "that is (minus) the derivative of the squared error, not the squared error "
             "itself."),
    ),
    # 01 Q3: binary cross-entropy of a true positive predicted 0.01 instead of 0.40
    ("01_losses", "Q3"): (
        Slip(math.log(0.40) / math.log(0.01), "you divided the other way round: the question asks how "
             "many times larger the loss of the 0.01 prediction is than that of the 0.40 prediction."),
        Slip(0.40 / 0.01, "that compares the probabilities; the question compares the losses, "
             "-log(p) for a true positive."),
        Slip(0.01 / 0.40, "that compares the probabilities; the question compares the losses, "
             "-log(p) for a true positive."),
        Slip(math.log(0.40) - math.log(0.01), "that is the difference of the two losses; the question "
             "asks how many times larger one is than the other."),
        Slip((0.99 / 0.60) ** 2, "that is the ratio of the squared errors (1 - p)²; the question is "
             "about binary cross-entropy, -log(p) for a true positive."),
        Slip(0.99 / 0.60, "that is the ratio of the errors 1 - p; the question is about binary "
             "cross-entropy, -log(p) for a true positive."),
        Slip(math.log(0.99) / math.log(0.60), "that compares -log(1 - p), the loss of a *negative* "
             "example; here the target is 1 (a true positive)."),
        Slip(math.log(0.60) / math.log(0.99), "that compares -log(1 - p), the loss of a *negative* "
             "example; here the target is 1 (a true positive)."),
    ),
    # 02 Q1: in which order backpropagation visits the nodes
    ("02_backprop", "Q1"): (
        Slip("A", "that is the order of the forward pass, in which the values are computed. Ask which "
             "gradients a node's own gradient is made of, and where the loss is measured."),
        Slip("C", "the order matters: a node may pass its gradient on only once it has collected the "
             "contribution of every node that uses it, otherwise part of the gradient is lost."),
    ),
    # 02 Q2: dy/da for y = (a + b) c with a = 3, b = -1, c = 4
    ("02_backprop", "Q2"): (
        Slip(3 + -1, "that is ∂y/∂c (which equals a + b); the question asks for ∂y/∂a."),
        Slip((3 + -1) * 4, "that is the value of y itself, not a derivative."),
        Slip(1, "that is ∂(a + b)/∂a alone: the chain rule multiplies it by the gradient arriving from "
             "above, ∂y/∂(a + b)."),
        Slip(3, "that is the value of a; the question asks how fast y changes when a changes."),
        Slip(-4, "check the sign: with c positive, increasing a increases y."),
    ),
    # 02 Q3: the change of a weight whose gradient is +0.8, learning rate 0.1
    ("02_backprop", "Q3"): (
        Slip(0.1 * 0.8, "check the sign: gradient descent moves *against* the gradient, so a positive "
             "gradient makes the weight decrease."),
        Slip(0.8, "the step is the gradient scaled by the learning rate (and against it)."),
        Slip(-0.8, "the step is the gradient scaled by the learning rate."),
        Slip(0.8 / 0.1, "the learning rate multiplies the gradient; you divided by it."),
        Slip(-0.8 / 0.1, "the learning rate multiplies the gradient; you divided by it."),
        Slip(0.8 - 0.1 * 0.8, "that subtracts the step from the gradient; the question asks for the "
             "change of the weight itself."),
        Slip(0.8 - 0.1, "the learning rate multiplies the gradient; it is not subtracted from it."),
        Slip(0.1 - 0.8, "the learning rate multiplies the gradient; it is not subtracted from it."),
    ),
}


def assignment_of(reference: Any) -> str | None:
    """The assignment a reference solution belongs to, from its notebook's metadata."""
    declared = getattr(reference, "metadata", {}).get("autograder", {})
    return declared.get("assignment") if isinstance(declared, dict) else None


def slips_of(assignment_id: str | None, name: str) -> tuple[Slip, ...]:
    """The known slips of one question: those above, and the ``QUIZ_MISTAKES`` (answer -> hint)
    a checks module of the assignment declares."""
    import importlib

    from autograder.assignments import ASSIGNMENTS

    slips = SLIPS.get((assignment_id or "", name), ())
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
