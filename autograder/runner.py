"""Run checks against a student's namespace and turn the outcome into scores.

Every grading path goes through `run_check`: the notebook's own test cells
(`autograder.notebook_checks`), the pytest plugin, and the repository's tests.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from autograder.assignments import Assignment
from autograder.checks import Check
from autograder.checks.compare import CheckFailed
from autograder.submission import Namespace


@dataclass
class Result:
    """The outcome of one check.

    Attributes:
        name: ``"<target>: <title>"``.
        target: the function or quiz answer graded.
        score, max_score: points earned and possible.
        output: feedback (empty when the check passed).
        hidden: whether the check compared against the reference.
        error: True when the check itself could not complete (to review by hand).
    """

    name: str
    target: str
    score: float
    max_score: float
    output: str = ""
    hidden: bool = False
    error: bool = False

    @property
    def passed(self) -> bool:
        return self.score == self.max_score and not self.output


def arguments_for(
    check: Check, assignment: Assignment, student: Namespace, reference: Namespace | None
) -> dict:
    """The arguments ``check`` asks for by name (see `autograder.checks`)."""
    arguments = {}
    for name in inspect.signature(check.function).parameters:
        if name == "student":
            arguments[name] = student
        elif name == "reference":
            arguments[name] = reference
        elif name == check.target:
            arguments[name] = student.function(name)
        elif name.startswith("own_") and name[4:] in assignment.functions:
            arguments[name] = student.function(name[4:])
        elif name in assignment.functions:
            arguments[name] = (reference or student).function(name)
        else:
            raise TypeError(f"check {check.name!r} asks for unknown argument {name!r}")
    return arguments


@contextmanager
def reference_helpers(
    assignment: Assignment, target: str, student: Namespace, reference: Namespace | None
) -> Iterator[None]:
    """While ``target`` is checked, the other functions of the assignment that the
    student's code calls are the reference's, so one bug costs only its own points.

    (In an isolated student process, calls to them come back to the grader, which runs them:
    the reference never enters the student's process.)
    """
    if reference is None:
        yield
        return
    names = [
        name for name in (*assignment.functions, *assignment.helpers)
        if name != target and name in reference.values
    ]
    with student.use_helpers({name: reference.values[name] for name in names}):
        yield


def run_check(
    check: Check, assignment: Assignment, student: Namespace, reference: Namespace | None
) -> Result:
    """Run one check; never raises for anything the student's code does."""
    result = Result(check.name, check.target, 0.0, check.points, hidden=check.hidden)
    try:
        arguments = arguments_for(check, assignment, student, reference)
        with reference_helpers(assignment, check.target, student, reference):
            check.function(**arguments)
    except CheckFailed as failure:
        result.output = str(failure)
    except Exception as error:  # a bug in the check, or an input it did not foresee
        result.output = (
            f"{check.target}: this check could not complete ({type(error).__name__}: {error}). "
            "Your instructor will review it."
        )
        result.error = True
    else:
        result.score = check.points
    return result


def run_checks(
    assignment: Assignment,
    student: Namespace,
    reference: Namespace | None = None,
    targets: tuple[str, ...] | None = None,
) -> list[Result]:
    """Run the checks of ``assignment`` (hidden ones only with a ``reference``)."""
    return [
        run_check(check, assignment, student, reference)
        for check in assignment.checks()
        if (reference is not None or not check.hidden)
        and (targets is None or check.target in targets)
    ]
