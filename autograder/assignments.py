"""The assignments: which functions and quiz answers each grades, and where its checks live."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from autograder.checks import Check, checks_in
from autograder.checks.quiz import Choice, Number, quiz_checks
from autograder.notebook import Cell


@dataclass(frozen=True)
class Assignment:
    """One assignment of the course.

    Attributes:
        id: the nbgrader assignment id, e.g. ``"01_losses"``.
        title: its title in reports.
        functions: the functions students implement, in notebook order.
        quiz: quiz answer name -> its kind, e.g. ``{"Q1": Choice("ABC")}``.
        checks_modules: the modules that declare the function checks.
        helpers: ungraded functions the notebook asks for and graded code may call.
        quiz_points: what each quiz answer is worth.
    """

    id: str
    title: str
    functions: tuple[str, ...]
    quiz: dict[str, Choice | Number] = field(default_factory=dict)
    checks_modules: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()
    quiz_points: float = 1.0

    def checks(self) -> list[Check]:
        """Every check of the assignment, function checks first, then the quiz."""
        checks = [c for m in self.checks_modules for c in checks_in(importlib.import_module(m))]
        for name, kind in self.quiz.items():
            checks += quiz_checks(name, kind, self.quiz_points)
        return checks

    @property
    def targets(self) -> tuple[str, ...]:
        return self.functions + tuple(self.quiz)

    def points(self, target: str) -> float:
        """What ``target`` is worth in total (public and hidden checks)."""
        return sum(c.points for c in self.checks() if c.target == target)


ASSIGNMENTS: dict[str, Assignment] = {
    a.id: a
    for a in [
        Assignment(
            id="01_losses",
            title="Loss functions",
            functions=(
                "mse",
                "mse_grad",
                "binary_cross_entropy",
                "binary_cross_entropy_grad",
                "softmax",
                "cross_entropy",
                "cross_entropy_grad",
            ),
            quiz={"Q1": Choice("ABC"), "Q2": Number(), "Q3": Number(tolerance=0.01)},
            checks_modules=("autograder.checks.losses",),
        ),
        Assignment(
            id="02_backprop",
            title="Backpropagation",
            functions=(
                "Value",
                "numerical_gradient",
                "linear_forward",
                "linear_backward",
                "relu_forward",
                "relu_backward",
                "sigmoid_forward",
                "sigmoid_backward",
                "mlp_loss_and_grads",
            ),
            helpers=("softmax_cross_entropy",),
            quiz={"Q1": Choice("ABC"), "Q2": Number(), "Q3": Number()},
            checks_modules=("autograder.checks.autodiff", "autograder.checks.layers"),
        ),
        Assignment(
            id="03_optimizers",
            title="Gradient descent and optimizers",
            functions=("gradient_descent", "sgd", "sgd_momentum", "adam", "adamw"),
            quiz={"Q1": Choice("ABC"), "Q2": Number(), "Q3": Number()},
            checks_modules=("autograder.checks.optimizers",),
        ),
        Assignment(
            id="04_training",
            title="The training loop",
            functions=("num_iterations", "iterate_minibatches", "accuracy", "train"),
            quiz={"Q1": Number(), "Q2": Choice("ABC"), "Q3": Choice("ABC")},
            checks_modules=("autograder.checks.training",),
        ),
    ]
}


def get_assignment(assignment_id: str) -> Assignment:
    """The assignment called ``assignment_id``; KeyError with the known ids otherwise."""
    try:
        return ASSIGNMENTS[assignment_id]
    except KeyError:
        known = ", ".join(ASSIGNMENTS)
        raise KeyError(f"unknown assignment {assignment_id!r} (known: {known})") from None


def recognise(metadata: dict, cells: list[Cell]) -> Assignment | None:
    """Which assignment a notebook is, from its content (never from where it lies).

    In order: the notebook's ``autograder.assignment`` metadata, then the assignment whose
    functions the notebook's cells define or check the most.
    """
    declared = metadata.get("autograder", {})
    if isinstance(declared, dict) and declared.get("assignment") in ASSIGNMENTS:
        return ASSIGNMENTS[declared["assignment"]]
    text = "\n".join(cell.source for cell in cells)
    scores = {
        a.id: sum(
            f"def {f}(" in text or f"class {f}" in text or f'"{a.id}", "{f}"' in text
            for f in a.functions
        )
        for a in ASSIGNMENTS.values()
    }
    best = max(scores, key=scores.get, default=None)
    return ASSIGNMENTS[best] if best and scores[best] > 0 else None
