"""One summary of a graded class, computed once and read by every format that summarises one.

The terminal's summary (`autograder.terminal`), the HTML class report
(`autograder.class_report`) and the feedback index (`autograder.feedback`) all read a
`ClassSummary`: the submissions by assignment with their statistics (scores, pass rate of
every check, the mistakes the checks recognised, flags, lateness, grading time), the files
that were not graded and why, what the roster says (who handed in nothing, which folders it
lacks), the similarity review's pairs, and the run's wall time. Each format only lays it out.

Public functions::

    summarise(results, skipped=(), *, roster=None, similar=None, wall_seconds=None) -> ClassSummary
    summary_of_document(document) -> ClassSummary       # a ``grade --json`` document
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder.lateness import LateStatus
from autograder.results import SubmissionResult, read_results, read_roster_summary
from autograder.roster import Missing, RosterSummary
from autograder.text import clean_text, display_name

UNKNOWN = "unknown assignment"


def text(value: object, limit: int = 300) -> str:
    """A value from results (student-controlled, or read from a file) as bounded text without
    control characters; not escaped (templates escape)."""
    return clean_text("" if value is None else str(value), limit)


def finite(values: Iterable[Any]) -> list[float]:
    """The finite numbers among ``values`` (a results file is data: it may hold anything)."""
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)
            and math.isfinite(v)]


@dataclass(frozen=True)
class CheckRate:
    """How many submissions passed one check, of those it ran in."""

    name: str
    hidden: bool
    passed: int
    ran: int

    @property
    def rate(self) -> float:
        return self.passed / self.ran if self.ran else 1.0


@dataclass(frozen=True)
class Mistake:
    """A recognised mistake of one function: its label (the same for everyone who made it),
    one student's wording of it (with that student's numbers: ``example``), and who made it."""

    function: str
    label: str
    example: str
    students: tuple[str, ...]


@dataclass(frozen=True)
class Timing:
    """Grading time per notebook (each notebook's own time, not the run's)."""

    median: float
    slowest: tuple[SubmissionResult, ...]


@dataclass(frozen=True)
class NotGraded:
    """A file of the class that was not graded: a notebook that could not be read or
    recognised, or a file the class policy passed over; ``why`` in one line."""

    student: str | None
    path: str
    why: str


@dataclass
class AssignmentSummary:
    """One assignment of the class: its submissions and what they add up to."""

    id: str
    title: str
    submissions: list[SubmissionResult]
    rates: list[CheckRate] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    similar: list[Any] = field(default_factory=list)  # autograder.similarity.SimilarPair

    @property
    def scores(self) -> list[float]:
        return finite(r.score for r in self.submissions)

    @property
    def mean(self) -> float | None:
        return statistics.mean(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.scores) if self.scores else None

    @property
    def full_marks(self) -> int:
        return sum(1 for r in self.submissions if r.checks and r.score == r.max_score)

    @property
    def flagged(self) -> list[SubmissionResult]:
        return [r for r in self.submissions if r.flags]

    @property
    def public_only(self) -> list[SubmissionResult]:
        """Submissions whose hidden checks did not run (their maximum is the public checks')."""
        return [r for r in self.submissions if r.checks and not r.hidden_run]

    @property
    def public_only_reasons(self) -> list[str]:
        return sorted({text(r.hidden_checks) for r in self.public_only})

    @property
    def late(self) -> dict[str, int]:
        """How many submissions stand how against the due date (``{"late": 2, ...}``)."""
        counts: dict[str, int] = {}
        for r in self.submissions:
            if r.late is not None:
                counts[r.late.status.value] = counts.get(r.late.status.value, 0) + 1
        return counts

    @property
    def penalised(self) -> list[SubmissionResult]:
        return [r for r in self.submissions if r.late is not None and r.late.status in
                (LateStatus.LATE, LateStatus.NOT_ACCEPTED)]

    @property
    def timing(self) -> Timing | None:
        timed = [r for r in self.submissions if finite([r.seconds])]
        if not timed:
            return None
        slowest = sorted(timed, key=lambda r: -r.seconds)[:SLOWEST]
        return Timing(statistics.median(r.seconds for r in timed), tuple(slowest))


SLOWEST = 3  # slowest notebooks named per assignment


@dataclass
class ClassSummary:
    """A graded class, as every summary shows it.

    Attributes:
        results: every graded notebook, in the order the run gave them.
        assignments: one summary per assignment, in id order.
        not_graded: files that were not graded and why: notebooks that could not be read or
            recognised (results without an assignment), then the files the class policy
            passed over.
        roster: who handed in nothing and which folders the roster lacks (None: no roster).
        similar: the similarity review's pairs (None: the review did not run).
        wall_seconds: the run's wall time (None: not recorded, as in an older results file).
    """

    results: list[SubmissionResult]
    assignments: list[AssignmentSummary]
    not_graded: list[NotGraded]
    roster: RosterSummary | None = None
    similar: list[Any] | None = None
    wall_seconds: float | None = None

    @property
    def graded(self) -> list[SubmissionResult]:
        """The results of a known assignment (the others are in `not_graded`)."""
        return [r for a in self.assignments for r in a.submissions]

    @property
    def students(self) -> int:
        return len({who(r) for r in self.results})

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.results if r.flags)

    @property
    def notebook_seconds(self) -> float:
        """Grading time summed over notebooks (more than the wall time when several were graded
        at once)."""
        return sum(finite(r.seconds for r in self.results))

    def ordered(self) -> list[SubmissionResult]:
        """The graded submissions by student, then assignment."""
        return sorted(self.graded, key=lambda r: (display_name(r.student).casefold(), assignment_of(r)))


def who(result: SubmissionResult) -> str:
    """Who counts as one student: the name, or the notebook when there is none."""
    return text(result.student) if result.student else text(result.path)


def assignment_of(result: SubmissionResult) -> str:
    """The assignment id a result is listed under ("" when it has none)."""
    return text(result.assignment, 100) if isinstance(result.assignment, str) and result.assignment else ""


def assignment_title(assignment_id: str) -> str:
    from autograder.assignments import ASSIGNMENTS

    known = ASSIGNMENTS.get(assignment_id)
    return known.title if known else UNKNOWN


def summarise(results: Sequence[SubmissionResult], skipped: Iterable[Any] = (), *,
              roster: RosterSummary | None = None, similar: Sequence[Any] | None = None,
              wall_seconds: float | None = None) -> ClassSummary:
    """The summary of a class run.

    Args:
        results: every graded notebook (`autograder.results.SubmissionResult`).
        skipped: the files the class policy did not grade (`autograder.results.Skipped`).
        roster: what the roster says about the run (`autograder.roster.RosterSummary`).
        similar: the similarity review's pairs (`autograder.similarity.SimilarPair`).
        wall_seconds: how long the run took, start to end.
    """
    from autograder.assignments import ASSIGNMENTS

    results = list(results)
    groups: dict[str, list[SubmissionResult]] = {}
    for r in results:
        if assignment_of(r):
            groups.setdefault(assignment_of(r), []).append(r)
    assignments = []
    known = {a: i for i, a in enumerate(ASSIGNMENTS)}  # the registry's order, then other ids
    for assignment_id in sorted(groups, key=lambda a: (a not in known, known.get(a, 0), a)):
        members = groups[assignment_id]
        assignments.append(AssignmentSummary(
            assignment_id, assignment_title(assignment_id), members, _check_rates(members),
            _mistakes(members),
            [m for m in roster.missing if m.assignment == assignment_id] if roster else [],
            [p for p in similar or () if p.assignment == assignment_id]))
    not_graded = [NotGraded(r.student or None, text(r.path, 500), _why(r))
                  for r in results if not assignment_of(r)]
    not_graded += [NotGraded(s.student, text(s.path, 500), text(s.reason, 500)) for s in skipped]
    wall = wall_seconds if wall_seconds is not None and finite([wall_seconds]) else None
    return ClassSummary(results, assignments, not_graded, roster,
                        list(similar) if similar is not None else None, wall)


def summary_of_document(document: Any) -> ClassSummary:
    """The summary of a ``grade --json`` document. Raises ValueError when it is not one."""
    from autograder.similarity import read_similar

    results, skipped = read_results(document)
    wall = document.get("wall_seconds")
    return summarise(results, skipped, roster=read_roster_summary(document), similar=read_similar(document),
                     wall_seconds=wall if isinstance(wall, int | float) else None)


def _why(result: SubmissionResult) -> str:
    """Why a notebook without an assignment was not graded: its flags, in one line."""
    reasons = [text(f.text, 500) for f in result.flags]
    return "; ".join(reasons) or "not recognised as a notebook of any assignment"


def _check_rates(results: list[SubmissionResult]) -> list[CheckRate]:
    """Every check's pass rate over the submissions it ran in, most-failed first (assignment
    order among equal rates)."""
    counts: dict[str, list[Any]] = {}
    for r in results:
        for check in r.checks:
            name = text(check.name, 200)
            count = counts.setdefault(name, [bool(check.hidden), 0, 0])
            count[1] += check.passed
            count[2] += 1
    rates = [CheckRate(name, hidden, passed, ran) for name, (hidden, passed, ran) in counts.items()]
    order = {rate.name: i for i, rate in enumerate(rates)}
    return sorted(rates, key=lambda r: (r.rate, order[r.name]))


def _mistakes(results: list[SubmissionResult]) -> list[Mistake]:
    """Named mistakes with the students who made them, grouped by function (the function of
    the most common mistake first), most common first within a function. The example is the
    first student's (by name) own wording of it."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for r in results:
        for check in r.checks:
            if check.mistake and not check.passed:
                key = (text(check.function, 100), text(check.mistake, 200))
                students = found.setdefault(key, {})
                example = text(check.hint, 500) if isinstance(check.hint, str) and check.hint else key[1]
                students.setdefault(who(r), example)
    mistakes = []
    for (function, label), students in found.items():
        first = min(students, key=str.casefold)
        mistakes.append(Mistake(function, label, students[first], tuple(sorted(students, key=str.casefold))))
    top: dict[str, int] = {}
    for m in mistakes:
        top[m.function] = max(top.get(m.function, 0), len(m.students))
    return sorted(mistakes, key=lambda m: (-top[m.function], m.function, -len(m.students), m.label))


def late_cell(result: SubmissionResult) -> str:
    """A submission against its due date in a few words, as summaries show it: "on time", "no
    recorded time", or how late, the penalty and the grade after it ("1 day 2 h late: -2.3 = 20.7")."""
    from autograder.lateness import duration

    late = result.late
    if late is None:
        return ""
    if late.status in (LateStatus.ON_TIME, LateStatus.NO_TIME):
        return late.status.value
    what = "not accepted" if late.status is LateStatus.NOT_ACCEPTED else f"{duration(late.seconds_late)} late"
    return f"{what}: -{_number(late.penalty)} = {_number(result.final_score)}"


def _number(x: float) -> str:
    return f"{round(x, 2):g}"
