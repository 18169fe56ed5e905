"""`check`, the function an assignment notebook's test cells call.

    from autograder import check
    check("01_losses", "mse")                 # the public checks of mse
    check("01_losses", "mse", hidden=True)    # the hidden ones (instructor's copy only)

It grades the objects defined in the notebook that calls it, prints one line per
check (see `autograder.marks`), and raises `CheckFailed` with every failure's feedback when
something is wrong, so that nbgrader marks the cell as failed. Without the reference, the
function's declared prerequisites are the student's own: a check that fails while one of them
fails its own checks says "fix <prerequisite> first", and is not a failure of this cell.
"""

from __future__ import annotations

import inspect

from autograder import marks, running
from autograder.assignments import get_assignment
from autograder.core import Oracles, run_check
from autograder.errors import CheckFailed
from autograder.namespace import Namespace
from autograder.references import load_reference


def check(assignment_id: str, target: str, *, hidden: bool = False) -> None:
    """Run the public (or, with ``hidden=True``, the hidden) checks of ``target``.

    Args:
        assignment_id: e.g. ``"01_losses"``.
        target: a function name (``"mse"``) or a quiz answer (``"Q1"``).
        hidden: run the checks that compare with the reference solution instead.
    Raises:
        CheckFailed: at least one check failed; the message holds all feedback.
    """
    assignment = get_assignment(assignment_id)
    if target not in assignment.targets:
        raise ValueError(f"{target!r} is not graded in {assignment_id}")
    caller = inspect.currentframe().f_back.f_globals
    student = Namespace(values=caller)  # the notebook's own globals, as its functions see them
    reference = load_reference(assignment_id) if hidden else None
    checks = [c for c in assignment.checks() if c.target == target and c.hidden == hidden]

    running.BOUND_OUTPUT = False  # in a notebook, students see what their functions print
    oracles = Oracles(assignment, student)
    results = []
    for c in checks:
        results.append(run_check(c, assignment, student, reference, oracles))
        print(marks.line(results[-1]))
    shown = marks.feedback_to_show(results)
    waiting = [text for result, text in shown if result.waiting and text and text != "(same as above)"]
    failures = [f"{result.name}:\n{text}" if result.withheld else text
                for result, text in shown if not result.waiting and text]
    if waiting:
        print("\n" + "\n".join(waiting))
    if failures:
        raise CheckFailed("\n\n".join(failures))
    if checks and not hidden and not waiting:
        print(f"All public checks of {target} passed.")
