"""The course file: due dates, the late policy and the roster, in one place for every path.

``course.toml``, at the root of the course directory, is read with the standard library's
``tomllib`` by the command line, ``pytest --grade``, nbgrader (``nbgrader_config.py``) and the
Gradescope bundle, and applied by each the same way (`Course.apply`)::

    [course]
    timezone = "Europe/London"       # for dates written without an offset
    roster = "roster.csv"            # optional: see autograder.roster
    submission_times = "times.csv"   # optional: student,assignment,submitted_at from an LMS

    [late]                           # the default late policy (every key optional)
    grace_minutes = 10               # this long after the due date still counts as on time
    penalty_per_day = 0.1            # fraction of the points lost per day late or part of a day
    # penalty_per_hour = 0.01        # ...or per hour late or part of an hour
    max_penalty = 0.5                # never more than this fraction of the points
    # zero = true                    # instead: any late submission scores 0

    [assignments.01_losses]
    due = 2025-02-07T23:59:00        # with an offset (23:59:00+01:00) or in [course] timezone
    late_due = 2025-02-14T23:59:00   # optional: after this, not accepted (scores 0)
    canvas_id = 48213                # optional: the Canvas assignment the grades import into
    canvas_name = "Loss functions"
    late = { zero = true }           # optional: this assignment's own policy (keys as [late])

Every key is checked: a misspelt key or a bad value is a one-line error naming it, never a
silently ignored policy. Without a course file, or for an assignment without a due date,
nothing is late.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from autograder.flags import FlagKind
from autograder.lateness import LatePolicy, Recorded, TimesError, assess, read_times, read_timestamp
from autograder.roster import Roster, RosterError, RosterSummary, read_roster, summarise

if TYPE_CHECKING:
    from autograder.results import SubmissionResult
    from autograder.submissions import Submission

COURSE_FILE = "course.toml"
COURSE_ENV = "AUTOGRADER_COURSE"


class CourseError(ValueError):
    """A course file (or a file it names) that cannot be used: one line saying where and why."""


@dataclass(frozen=True)
class AssignmentTerm:
    """One assignment's dates and policy, and where its grades go in Canvas."""

    due: datetime | None = None
    late_due: datetime | None = None
    policy: LatePolicy = LatePolicy()
    canvas_id: str | None = None
    canvas_name: str | None = None


@dataclass(frozen=True)
class Course:
    """What the course file says (an empty Course when there is none: nothing is late)."""

    path: Path | None = None
    timezone: tzinfo | None = None
    late: LatePolicy = LatePolicy()
    assignments: dict[str, AssignmentTerm] = field(default_factory=dict)
    roster: Roster | None = None
    times: dict[tuple[str, str], Recorded] = field(default_factory=dict)

    def term(self, assignment: str | None) -> AssignmentTerm:
        """The dates and policy of ``assignment`` (no due date when the file gives none)."""
        return self.assignments.get(assignment or "", AssignmentTerm(policy=self.late))

    def recorded(self, submission: Submission, assignment: str | None = None) -> Recorded | None:
        """When a system recorded ``submission`` of ``assignment`` (default: the one its place
        names): nbgrader's ``timestamp.txt`` in its assignment folder (``<student>/<assignment>/``),
        else the submission-times file, else None. (The order nbgrader follows: see
        `autograder.nbgrader_term.record_course`.)

        Raises:
            ValueError: that timestamp.txt holds something that is not a time.
        """
        assignment = assignment or submission.assignment
        folder = submission.path.parent
        if assignment and folder.name == assignment:
            stamped = read_timestamp(folder)
            if stamped is not None:
                return stamped
        return self.times.get((submission.student, assignment or ""))

    def apply(self, result: SubmissionResult, submission: Submission,
              recorded: Callable[[Submission], Recorded | None] | None = None) -> SubmissionResult:
        """Add to ``result`` the roster's entry for its student and, when its assignment has a
        due date, its lateness and penalty (`autograder.lateness.assess`). ``recorded`` is the
        front end's source of submission times (Gradescope's metadata); by default the course's
        (`recorded`). Returns ``result``."""
        if self.roster is not None:
            result.person = self.roster.get(result.student)
        term = self.term(result.assignment)
        if term.due is None or result.assignment is None:
            return result
        try:
            when = recorded(submission) if recorded else self.recorded(submission, result.assignment)
        except ValueError as problem:
            when = None
            result.flag(FlagKind.REVIEW, f"the recorded submission time cannot be read ({problem}): "
                        "no late penalty was applied; check it")
        result.late = assess(when, term.due, term.policy, result.score, result.max_score, term.late_due)
        return result

    def summary(self, results: list[SubmissionResult]) -> RosterSummary | None:
        """Who on the roster handed in nothing for an assignment the run graded, and which
        students the roster lacks (None without a roster)."""
        if self.roster is None:
            return None
        graded = [(r.student, r.assignment) for r in results]
        assignments = sorted({r.assignment for r in results if r.assignment})
        return summarise(self.roster, graded, assignments)


# --- reading the file --------------------------------------------------------------------------

_COURSE_KEYS = {"timezone", "roster", "submission_times"}
_LATE_KEYS = {"grace_minutes", "penalty_per_day", "penalty_per_hour", "max_penalty", "zero"}
_ASSIGNMENT_KEYS = {"due", "late_due", "canvas_id", "canvas_name", "late"}


def load_course(path: str | Path, *, files: bool = True) -> Course:
    """The course file at ``path`` (see the module docstring), with its roster and
    submission-times file read (their paths are relative to the course file's folder) unless
    not ``files`` (Gradescope, which has its own roster and times, gets the course file alone).

    Raises:
        CourseError: the file, or a file it names, cannot be read or says something invalid.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as error:
        raise CourseError(f"{path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CourseError(f"{path}: not a TOML file ({error})") from None
    where = str(path)
    _only(data, {"course", "late", "assignments"}, where)
    course = _table(data, "course", where)
    _only(course, _COURSE_KEYS, f"{where} [course]")
    zone = _zone(course.get("timezone"), where)
    late = _policy(_table(data, "late", where), LatePolicy(), f"{where} [late]")
    assignments = {}
    from autograder.assignments import ASSIGNMENTS

    for assignment, table in _table(data, "assignments", where).items():
        section = f"{where} [assignments.{assignment}]"
        if assignment not in ASSIGNMENTS:
            raise CourseError(f"{section}: no such assignment (the course has {', '.join(ASSIGNMENTS)})")
        if not isinstance(table, dict):
            raise CourseError(f"{section}: expected a table of due, late_due, canvas_id, canvas_name, late")
        _only(table, _ASSIGNMENT_KEYS, section)
        due, late_due = (_moment(table.get(k), zone, f"{section} {k}") for k in ("due", "late_due"))
        if late_due is not None and (due is None or late_due < due):
            raise CourseError(f"{section}: late_due needs a due date before it")
        policy = _policy(_table(table, "late", section), late, f"{section} late")
        canvas_id = table.get("canvas_id")
        if canvas_id is not None and not (isinstance(canvas_id, int) or str(canvas_id).isdigit()):
            raise CourseError(f"{section} canvas_id: expected the Canvas assignment's number")
        assignments[assignment] = AssignmentTerm(
            due, late_due, policy, None if canvas_id is None else str(canvas_id),
            _string(table.get("canvas_name"), f"{section} canvas_name"))
    roster = times = None
    folder = path.parent
    if files and course.get("roster") is not None:
        try:
            roster = read_roster(folder / _string(course["roster"], f"{where} [course] roster"))
        except RosterError as error:
            raise CourseError(str(error)) from None
    if files and course.get("submission_times") is not None:
        try:
            named = _string(course["submission_times"], f"{where} [course] submission_times")
            times = read_times(folder / named, zone or ZoneInfo("UTC"))
        except TimesError as error:
            raise CourseError(str(error)) from None
    return Course(path, zone, late, assignments, roster, times or {})


def _only(table: dict, keys: set[str], where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise CourseError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(keys))})")


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise CourseError(f"{where}: {key} must be a table")
    return value


def _string(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CourseError(f"{where}: expected a non-empty string")
    return value


def _zone(name: Any, where: str) -> tzinfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"{where} [course] timezone: unknown time zone {name!r} "
                          "(an IANA name such as Europe/London or America/New_York)") from None


def _moment(value: Any, zone: tzinfo | None, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value
        if zone is None:
            raise CourseError(f"{where}: {value} has no time zone: give an offset "
                              f"(e.g. {value.isoformat()}+01:00) or set [course] timezone")
        return value.replace(tzinfo=zone)
    if isinstance(value, date | time):
        raise CourseError(f"{where}: give a date and a time (e.g. 2025-02-07T23:59:00), not only {value}")
    raise CourseError(f"{where}: expected a date and time, e.g. 2025-02-07T23:59:00+01:00 (without quotes)")


def _fraction(table: dict, key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise CourseError(f"{where} {key}: expected a fraction of the points between 0 and 1 (0.1 for 10%)")
    return float(value)


def _policy(table: dict, base: LatePolicy, where: str) -> LatePolicy:
    _only(table, _LATE_KEYS, where)
    grace = table.get("grace_minutes")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int | float) or grace < 0):
        raise CourseError(f"{where} grace_minutes: expected a number of minutes, 0 or more")
    per_day = _fraction(table, "penalty_per_day", where)
    per_hour = _fraction(table, "penalty_per_hour", where)
    if per_day and per_hour:
        raise CourseError(f"{where}: give penalty_per_day or penalty_per_hour, not both")
    zero = table.get("zero")
    if zero is not None and not isinstance(zero, bool):
        raise CourseError(f"{where} zero: expected true or false")
    most = _fraction(table, "max_penalty", where)
    given = per_day is not None or per_hour is not None  # a rate replaces the other
    rates = (per_day, per_hour) if given else (base.per_day, base.per_hour)
    return LatePolicy(
        grace=base.grace if grace is None else float(grace) * 60,
        per_day=rates[0] or 0.0, per_hour=rates[1] or 0.0,
        most=base.most if most is None else most,
        zero=base.zero if zero is None else zero,
    )


# --- finding the file --------------------------------------------------------------------------


def find_course(paths: list[str | Path], given: str | Path | None = None) -> Course:
    """The course of a class run: ``given`` (the instructor's option), else
    ``$AUTOGRADER_COURSE``, else ``course.toml`` in the working directory or a folder above
    it, else the one beside this package in a clone (as the reference solutions are found);
    an empty Course when there is none. A file found by searching must not lie among the
    submissions: a student's upload could hold one (with no due dates) to escape a penalty.

    Raises:
        CourseError: the file cannot be used, or the one found lies among the submissions.
    """
    from autograder.references import among_submissions

    if given is not None:
        return load_course(given)
    if os.environ.get(COURSE_ENV):
        return load_course(os.environ[COURSE_ENV])
    here = Path.cwd().resolve()
    for folder in [here, *here.parents]:
        found = folder / COURSE_FILE
        if found.is_file():
            if among_submissions(found, list(paths)):  # its folder is, or lies in, one graded
                raise CourseError(f"{found}, found from the working directory, lies among the submissions "
                                  "to grade: a student's upload could hold it. Run from the course "
                                  "directory, or pass --course.")
            return load_course(found)
    beside_package = Path(__file__).resolve().parents[1] / COURSE_FILE  # a clone, run from elsewhere
    return load_course(beside_package) if beside_package.is_file() else Course()
