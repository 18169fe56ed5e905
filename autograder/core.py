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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograder.assignments import ASSIGNMENTS, Assignment, Recognition, recognise
from autograder.checks import Check
from autograder.errors import CheckFailed, NotebookError, ReferenceMissing, Withheld
from autograder.flags import FlagKind
from autograder.limits import LIMITS, Limits
from autograder.namespace import Namespace
from autograder.notebook import defined_in_locked_cells, load_definitions
from autograder.references import find_solutions, load_reference
from autograder.results import CheckResult, SubmissionResult, clean_text, mistake_label
from autograder.suspicious import suspicious_code


def grade_notebook(
    path: str | Path,
    *,
    student: str = "",
    assignment: str | None = None,
    solutions: Path | None = None,
    public_only: bool = False,
    limits: Limits = LIMITS,
    use_namespaces: bool = True,
    announce: Callable[[str], None] | None = None,
    data: bytes | None = None,
) -> SubmissionResult:
    """Grade the notebook at ``path`` (see the module docstring). Never raises for anything
    the notebook holds or does: every problem becomes feedback, a note or a flag.

    Args:
        student: who submitted it (`autograder.submissions` names students).
        assignment: the assignment its place in the class layout names (None: its code decides).
            It is graded as that assignment unless its code is plainly another's.
        announce: told the assignment as soon as it is known (a grading process that runs out
            of time still reports it).
        data: the notebook's bytes, when they were read already (what was hashed is what is
            graded); else the file is read.
    """
    from autograder.isolation import IsolatedNamespace  # the checks' process only

    started = time.monotonic()
    path = Path(path)
    result = SubmissionResult(str(path), student, assignment)
    if assignment is not None:
        result.max_points = max_points(ASSIGNMENTS[assignment], solutions, public_only)
    try:
        definitions = load_definitions(path, limits, data)
    except NotebookError as error:
        result.flag(FlagKind.NOT_GRADED, f"not graded: {error}")
        return _finish(result, started, limits)
    recognition = recognise(definitions.metadata, definitions.cells)
    graded_as = _graded_as(result, recognition, assignment, path)
    if graded_as is None:
        return _finish(result, started, limits)
    result.assignment = graded_as.id
    if announce is not None:
        announce(graded_as.id)
    if recognition.claimed and recognition.claimed != graded_as.id:
        result.flag(FlagKind.METADATA_MISMATCH,
                    f"its metadata names {recognition.claimed}, but its code is {graded_as.id}'s: "
                    f"graded as {graded_as.id}")
    for grade_id, names in list(defined_in_locked_cells(definitions.cells).items())[:5]:
        graded = [name for name in names if name in graded_as.targets]
        if graded:
            result.flag(FlagKind.REVIEW, f"{', '.join(graded[:5])} is defined in the locked cell "
                        f"{grade_id!r}, which nbgrader's pages show as released: the code graded is not "
                        "shown there; review by hand")
    for finding in suspicious_code(definitions.blocks):
        result.flag(FlagKind.SUSPICIOUS, f"suspicious code, review by hand: {finding}")
    reference, result.hidden_checks = reference_for(graded_as, solutions, public_only)
    result.max_points = max_points(graded_as, solutions, public_only, reference is not None)
    student_code = IsolatedNamespace(definitions, limits=limits, use_namespaces=use_namespaces)
    try:
        for note in student_code.notes:
            result.note(note)
        for problem in student_code.flags:
            result.flag(FlagKind.REVIEW, f"review by hand: {problem}")
        for problem in student_code.untrusted:
            result.flag(FlagKind.UNTRUSTED, problem)
        result.checks = run_checks(graded_as, student_code, reference)
    finally:
        student_code.close()
    return _finish(result, started, limits)


def _graded_as(result: SubmissionResult, recognition: Recognition, expected: str | None,
               path: Path) -> Assignment | None:
    """The assignment to grade the notebook as, or None (and why, as a flag)."""
    if expected is not None:
        if recognition.holds(expected):
            return ASSIGNMENTS[expected]
        other = recognition.assignment
        result.flag(FlagKind.WRONG_ASSIGNMENT,
                    f"not graded: {path.name} holds the code of {other.id if other else 'no assignment'}"
                    f"{f' ({other.title})' if other else ''}, none of {expected}'s: submit your "
                    f"{expected} notebook as {ASSIGNMENTS[expected].notebook}")
        return None
    if recognition.assignment is None:
        result.flag(FlagKind.NOT_GRADED, f"not graded: {path.name} does not look like any assignment of this "
                    "course (it defines none of the graded functions)")
    return recognition.assignment


def max_points(assignment: Assignment, solutions: Path | None, public_only: bool,
               hidden: bool | None = None) -> float:
    """What ``assignment`` is worth when graded with these options (the hidden checks count
    only where they run; ``hidden`` says so when it is known)."""
    if hidden is None:
        hidden = not public_only and reference_for(assignment, solutions, public_only)[0] is not None
    return sum(c.points for c in assignment.checks() if hidden or not c.hidden)


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
        result.hint = clean_text(failure.mistake, 500) if failure.mistake else None
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
