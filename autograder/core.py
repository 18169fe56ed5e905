"""Grade one notebook: the one function every grading path goes through.

    read -> recognise -> scan -> isolate -> run the checks -> results

`grade_notebook` does all of it in this process (the student's code itself runs in a
contained process of its own); `autograder.classrun.grade_in_process` runs it in a fresh
grading process with the notebook's time limit, which is what the command line, ``pytest
--grade``, Gradescope and nbgrader call. `run_check` runs one check and is also what a
notebook's own test cells use.

What a check receives, by parameter name (see `autograder.checks`):
- the graded function's name: the student's function;
- ``own_<name>``: the student's own version of another function (a layer's cache);
- another function's name, or ``oracle_<target>``: an *oracle* for it: the reference's when
  the reference is available; otherwise the student's own, but only if it passes its own public
  value checks (if not, the check says "fix <name> first", never blaming the function
  under test);
- ``student``, ``reference``: the namespaces themselves.
While a check runs, student code calls the reference's versions of the functions its target
is declared to build on (`Assignment.builds_on`), and of nothing else, until the check ends.
Without a reference, student code calls the student's own: a check that fails while one of
those fails its own public value checks says "fix <prerequisite> first" instead, and is held
back (`Withheld.PREREQUISITE`) rather than counted against the function under test.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any

from autograder.assignments import ASSIGNMENTS, Assignment, recognise
from autograder.checks import Check
from autograder.errors import CheckFailed, NotebookError, ReferenceMissing, Withheld
from autograder.limits import LIMITS, Limits
from autograder.namespace import Namespace
from autograder.notebook import load_definitions
from autograder.references import find_solutions, load_reference
from autograder.results import CheckResult, SubmissionResult, mistake_label
from autograder.suspicious import suspicious_code


def student_of(path: Path, root: Path | None = None) -> str:
    """The student a notebook belongs to, from the class layout ``<student>/<assignment>/<nb>``.

    Outside that layout, the name of the folder holding the notebook. With ``root``, the
    folder that was searched, the layout is read from the top: the student is the folder
    above the outermost assignment folder below ``root`` (or ``root`` itself, if its
    folders are assignments), so folders a student nests inside their own submission
    (``mallory/01_losses/alice/01_losses/...``) cannot name another student.
    """
    path = Path(path).absolute()
    if root is not None:
        root = Path(root).absolute()
        parts = path.parent.relative_to(root).parts if path.is_relative_to(root) else ()
        if parts and parts[0] in ASSIGNMENTS:
            return root.name
        for i in range(1, len(parts)):
            if parts[i] in ASSIGNMENTS:
                return parts[i - 1]
    folder = path.parent
    if folder.name in ASSIGNMENTS and folder.parent.name:
        return folder.parent.name
    return folder.name


def nested_submission(path: Path, root: Path | None) -> str | None:
    """A flag for a notebook that lies inside another assignment folder below ``root`` (where a
    student would plant one for someone else), or None."""
    if root is None or not Path(path).absolute().is_relative_to(Path(root).absolute()):
        return None
    root = Path(root).absolute()
    folders = (root.name, *Path(path).absolute().parent.relative_to(root).parts)
    if sum(folder in ASSIGNMENTS for folder in folders) < 2:
        return None
    return (f"{Path(path).name} lies inside another assignment folder ({Path(path).parent}); it was graded "
            f"as {student_of(path, root)}'s: review by hand")


def grade_notebook(
    path: str | Path,
    *,
    solutions: Path | None = None,
    public_only: bool = False,
    limits: Limits = LIMITS,
    use_namespaces: bool = True,
) -> SubmissionResult:
    """Grade the notebook at ``path`` (see the module docstring). Never raises for anything
    the notebook holds or does: every problem becomes feedback, a note or a flag."""
    from autograder.isolation import IsolatedNamespace  # the checks' process only

    started = time.monotonic()
    path = Path(path)
    result = SubmissionResult(str(path), student_of(path))
    try:
        definitions = load_definitions(path, limits)
    except NotebookError as error:
        result.flag(f"not graded: {error}")
        return _finish(result, started, limits)
    assignment = recognise(definitions.metadata, definitions.cells)
    if assignment is None:
        result.flag(f"not graded: {path.name} does not look like any assignment of this course "
                    "(it defines none of the graded functions)")
        return _finish(result, started, limits)
    result.assignment = assignment.id
    for finding in suspicious_code(definitions.blocks):
        result.flag(f"suspicious code, review by hand: {finding}")
    reference, result.hidden_checks = reference_for(assignment, solutions, public_only)
    student = IsolatedNamespace(definitions, limits=limits, use_namespaces=use_namespaces)
    try:
        for note in student.notes:
            result.note(note)
        for problem in student.flags:
            result.flag(f"review by hand: {problem}")
        result.checks = run_checks(assignment, student, reference)
    finally:
        student.close()
    if not result.checks:
        result.max_points = sum(c.points for c in assignment.checks() if reference or not c.hidden)
    return _finish(result, started, limits)


def _finish(result: SubmissionResult, started: float, limits: Limits) -> SubmissionResult:
    result.seconds = time.monotonic() - started
    return result.bound(limits)


def reference_for(assignment: Assignment, solutions: Path | None, public_only: bool,
                  ) -> tuple[Namespace | None, str]:
    """(the reference solution, "run") or (None, why the hidden checks do not run)."""
    if public_only:
        return None, "--public-only was given"
    solutions = solutions or find_solutions()
    try:
        return load_reference(assignment.id, solutions), "run"
    except ReferenceMissing as missing:
        return None, str(missing)


def run_checks(
    assignment: Assignment,
    student: Any,
    reference: Namespace | None = None,
    targets: tuple[str, ...] | None = None,
) -> list[CheckResult]:
    """Run the checks of ``assignment`` (hidden ones only with a ``reference``); results in
    the assignment's order.

    The quiz answers are read first, before any check lends the student's code a function: a
    function that could compute an answer (the reference's ``num_iterations``, say) must not
    be able to leave it in a global for the quiz to find.
    """
    oracles = Oracles(assignment, student)
    checks = [check for check in assignment.checks()
              if (reference is not None or not check.hidden) and (targets is None or check.target in targets)]
    quiz_first = sorted(range(len(checks)), key=lambda i: checks[i].target not in assignment.quiz)
    results = {i: run_check(checks[i], assignment, student, reference, oracles) for i in quiz_first}
    return [results[i] for i in range(len(checks))]


class Oracles:
    """Whether each of the student's own functions passes its own public value checks (asked
    only when no reference is available, and remembered)."""

    def __init__(self, assignment: Assignment, student: Any):
        self.assignment, self.student = assignment, student
        self.verdicts: dict[str, bool] = {}

    def passes(self, name: str) -> bool:
        if name not in self.verdicts:
            self.verdicts[name] = False  # while it is being decided (a cycle counts as failing)
            checks = [c for c in self.assignment.checks()
                      if c.target == name and not c.hidden and not c.is_property and self_contained(c)]
            self.verdicts[name] = bool(checks) and all(
                run_check(c, self.assignment, self.student, None, self, nested=True).passed for c in checks)
        return self.verdicts[name]


def self_contained(check: Check) -> bool:
    """Whether ``check`` can vouch for its target as an oracle: it judges the target by known
    values, or against *other* functions (each vouched for in turn), never against what the
    target itself computes elsewhere (``oracle_<target>``) or the reference."""
    parameters = inspect.signature(check.function).parameters
    return all(name != f"oracle_{check.target}" and name != "reference" for name in parameters)


def waiting_for(target: str, assignment: Assignment, oracles: Oracles) -> str | None:
    """The first prerequisite of ``target`` (declared in ``builds_on``) that does not pass its
    own public value checks, or None. Only without a reference: with one, student code calls
    the reference's prerequisites."""
    for name in assignment.dependency_order():
        if name in assignment.lent_to(target) and not oracles.passes(name):
            return name
    return None


def fix_first(target: str, prerequisite: str) -> CheckFailed:
    """The failure of a check of ``target`` that cannot tell anything while ``prerequisite``,
    which it builds on, fails its own checks: it does not count against ``target``."""
    return CheckFailed(
        f"{target}: fix {prerequisite} first; then this check can tell whether {target} is right "
        f"(it depends on your {prerequisite}, which does not pass its own checks yet).",
        withheld=Withheld.PREREQUISITE,
    )


def arguments_for(check: Check, assignment: Assignment, student: Any, reference: Namespace | None,
                  oracles: Oracles) -> dict[str, Any]:
    """The arguments ``check`` asks for by name (see the module docstring)."""
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
        elif name in assignment.functions or name == f"oracle_{check.target}":
            function = name.removeprefix("oracle_")
            if reference is not None:
                arguments[name] = reference.function(function)
            elif oracles.passes(function):
                arguments[name] = student.function(function)
            elif function == check.target:
                raise CheckFailed(
                    f"{check.target}: this check compares with what your {function} computes elsewhere, "
                    "and its value checks fail: fix those first.", withheld=Withheld.VALUES,
                )
            else:
                raise fix_first(check.target, function)
        else:
            raise TypeError(f"check {check.name!r} asks for unknown argument {name!r}")
    return arguments


def run_check(
    check: Check,
    assignment: Assignment,
    student: Any,
    reference: Namespace | None,
    oracles: Oracles | None = None,
    nested: bool = False,
) -> CheckResult:
    """Run one check; never raises for anything the student's code does. A ``nested`` check
    (an oracle's own check, run while another check is under way) leaves the end of the
    check, and the taking back of what was lent, to that other check."""
    result = CheckResult(check.target, check.title, check.points, hidden=check.hidden)
    oracles = oracles or Oracles(assignment, student)
    lent = {name: reference.values[name] for name in assignment.lent_to(check.target)
            if reference is not None and name in reference.values}
    try:
        arguments = arguments_for(check, assignment, student, reference, oracles)
        with student.lend(lent):
            check.function(**arguments)
    except CheckFailed as failure:
        if reference is None and failure.withheld is not Withheld.PREREQUISITE and failure.kind is None:
            prerequisite = waiting_for(check.target, assignment, oracles)
            failure = fix_first(check.target, prerequisite) if prerequisite else failure
        result.feedback = str(failure) or f"{check.target}: {check.title} failed."
        result.mistake = mistake_label(failure.mistake) if failure.mistake else None
        result.trouble = failure.kind.value if failure.kind else None
        result.withheld = failure.withheld
    except Exception as error:  # a bug in the check, or an input it did not foresee
        result.feedback = (
            f"{check.target}: this check could not complete ({type(error).__name__}: {str(error)[:300]}). "
            "Your instructor will review it."
        )
        result.error = True
    else:
        result.score = check.points
    finally:
        problem = None if nested else student.end_check()
        if problem:
            result.score, result.trouble = 0.0, "crashed"
            result.feedback = (result.feedback + "\n" if result.feedback else "") + f"Your code {problem}."
    return result
