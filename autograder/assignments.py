"""The assignments: which functions and quiz answers each grades, and where its checks live.

`ASSIGNMENTS` is the one list of the course's assignments: every path reads it. To add one, see
"Adding an assignment" in the README (a notebook, a checks module, an entry here, test variants).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from autograder import EDITION
from autograder.checks import Check, checks_in
from autograder.checks.quiz import Choice, Number, quiz_checks
from autograder.notebook import Cell


@dataclass(frozen=True)
class Assignment:
    """One assignment of the course.

    Attributes:
        id: the nbgrader assignment id, e.g. ``"01_losses"``.
        title: its title in reports.
        notebook: the file name of its release notebook, the one graded in a student's folder
            (see `autograder.submissions`).
        functions: the functions students implement, in notebook order.
        quiz: quiz answer name -> its kind, e.g. ``{"Q1": Choice("ABC")}``.
        checks_modules: the modules that declare the function checks.
        helpers: ungraded functions the notebook asks for and graded code may call.
        quiz_points: what each quiz answer is worth.
        builds_on: function -> the functions (or helpers) it is declared to build on. While
            a function is checked, student code calls the reference's versions of these and
            of nothing else, so a bug in a prerequisite does not cost its dependants. None of
            them lets a function's own value be read off.
    """

    id: str
    title: str
    notebook: str
    functions: tuple[str, ...]
    quiz: dict[str, Choice | Number] = field(default_factory=dict)
    checks_modules: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()
    quiz_points: float = 1.0
    builds_on: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def checks(self) -> list[Check]:
        """Every check of the assignment, function checks first, then the quiz.

        A function's checks all come before those of any function that builds on it: what
        student code obtains from a lent function can never serve the function it came from.
        """
        checks = [c for m in self.checks_modules for c in checks_in(importlib.import_module(m))]
        rank = {name: position for position, name in enumerate(self.dependency_order())}
        checks.sort(key=lambda c: rank.get(c.target, len(rank)))
        for name, kind in self.quiz.items():
            checks += quiz_checks(name, kind, self.quiz_points)
        if EDITION == "student":  # the site's wheel: no check that needs the reference
            checks = [c for c in checks if not c.hidden]
        return checks

    def dependency_order(self) -> list[str]:
        """The functions in notebook order, moved after everything they build on."""
        order: list[str] = []

        def visit(name: str, path: tuple[str, ...] = ()) -> None:
            if name in order or name in path:
                return
            for needed in self.builds_on.get(name, ()):
                visit(needed, (*path, name))
            order.append(name)

        for name in self.functions:
            visit(name)
        return [name for name in order if name in self.functions]

    def lent_to(self, target: str) -> tuple[str, ...]:
        """What student code may call of the reference's while ``target`` is checked."""
        return tuple(name for name in self.builds_on.get(target, ()) if name != target)

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
            notebook="losses.ipynb",
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
            builds_on={"cross_entropy": ("softmax",), "cross_entropy_grad": ("softmax",)},
        ),
        Assignment(
            id="02_backprop",
            title="Backpropagation",
            notebook="backprop.ipynb",
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
            builds_on={"mlp_loss_and_grads": ("linear_forward", "linear_backward", "relu_forward",
                                              "relu_backward", "sigmoid_forward", "sigmoid_backward",
                                              "softmax_cross_entropy")},
        ),
        Assignment(
            id="03_optimizers",
            title="Gradient descent and optimizers",
            notebook="optimizers.ipynb",
            functions=("gradient_descent", "sgd", "sgd_momentum", "adam", "adamw"),
            quiz={"Q1": Choice("ABC"), "Q2": Number(), "Q3": Number()},
            checks_modules=("autograder.checks.optimizers",),
            builds_on={"adamw": ("adam",)},
        ),
        Assignment(
            id="04_training",
            title="The training loop",
            notebook="training.ipynb",
            functions=("num_iterations", "iterate_minibatches", "accuracy", "train"),
            quiz={"Q1": Number(), "Q2": Choice("ABC"), "Q3": Choice("ABC")},
            checks_modules=("autograder.checks.training",),
            builds_on={"iterate_minibatches": ("num_iterations",),
                       "train": ("num_iterations", "iterate_minibatches", "accuracy")},
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


@dataclass(frozen=True)
class Recognition:
    """Which assignment a notebook's code is (never where it lies), and what its metadata says.

    Attributes:
        shares: assignment id -> the share of its functions the notebook defines or checks.
        claimed: the assignment id the notebook's ``autograder.assignment`` metadata names, if
            any (a hint only: metadata is as easy to edit as code).
    """

    shares: dict[str, float]
    claimed: str | None

    @property
    def assignment(self) -> Assignment | None:
        """The assignment whose functions the notebook holds the largest share of (a tie goes to
        the one the metadata names); the one the metadata names when the code holds none."""
        best = max(self.shares.values(), default=0.0)
        if best == 0.0:
            return ASSIGNMENTS.get(self.claimed or "")
        tied = [a for a, share in self.shares.items() if share == best]
        return ASSIGNMENTS[self.claimed if self.claimed in tied else tied[0]]

    def holds(self, assignment_id: str) -> bool:
        """Whether the notebook defines or checks any function of ``assignment_id``, or holds no
        function of any assignment (a notebook emptied out is still its place's)."""
        return self.shares.get(assignment_id, 0.0) > 0 or not any(self.shares.values())


def recognise(metadata: dict, cells: list[Cell]) -> Recognition:
    """Which assignment a notebook is, from its code: the share of each assignment's functions
    its cells define (``def f(``, ``class F``) or check (``check("01_losses", "mse")``)."""
    declared = metadata.get("autograder", {}) if isinstance(metadata, dict) else {}
    claimed = declared.get("assignment") if isinstance(declared, dict) else None
    text = "\n".join(cell.source for cell in cells)
    shares = {
        a.id: sum(f"def {f}(" in text or f"class {f}" in text or f'"{a.id}", "{f}"' in text
                  for f in a.functions) / len(a.functions)
        for a in ASSIGNMENTS.values()
    }
    return Recognition(shares, claimed if isinstance(claimed, str) and claimed in ASSIGNMENTS else None)
