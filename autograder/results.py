"""What grading one notebook produced: one record, serialised in one place.

Every path reads and writes these: the command line's reports and ``--json``, the pytest
plugin's items, Gradescope's ``results.json``, nbgrader's grade cells and the class report.
`SubmissionResult.to_dict` is the ``--json`` schema; `SubmissionResult.from_dict` reads it
back (``python -m autograder report`` and the result cache do).

Feedback is text about plain values, made by the checks or in the student's own process. It
is bounded per check and per notebook, with control and format characters shown escaped (no
terminal escapes in an instructor's shell: see `autograder.text`) and without memory addresses.
Flags are typed (`autograder.flags`): reports choose by kind, never by reading the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder.errors import Trouble, Withheld
from autograder.flags import Flag, FlagKind
from autograder.lateness import Lateness
from autograder.limits import LIMITS, Limits
from autograder.roster import RosterEntry, RosterSummary
from autograder.text import clean_text, one_line, strip_addresses

__all__ = ["CheckResult", "SubmissionResult", "Skipped", "clean_text", "strip_addresses", "mistake_label",
           "results_document", "read_results_document", "read_results", "read_roster_summary"]

_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*(?:e-?\d+)?")
_TROUBLE_FLAGS = {Trouble.TIMEOUT.value: FlagKind.TIMED_OUT, Trouble.CRASH.value: FlagKind.CRASHED,
                  Trouble.REFUSED.value: FlagKind.REFUSED}


def mistake_label(hint: str) -> str:
    """A stable name for a recognised mistake: its hint's first sentence, numbers as N (the
    same mistake on inputs of other shapes gets the same label)."""
    first = re.split(r"(?<=[.?!])\s", hint.strip(), maxsplit=1)[0]
    return _NUMBER.sub("N", first)[:160]


@dataclass
class CheckResult:
    """The outcome of one check of one function (or quiz answer).

    Attributes:
        function: what it grades: a function, class or quiz answer (``"mse"``, ``"Q1"``).
        title: what it verifies (``"matches known values"``).
        points: what it is worth.
        score: what it earned (0 or ``points``).
        hidden: whether it compared with the reference solution.
        feedback: what the student should look at (empty when it passed).
        error: the check itself could not complete (an instructor should review it).
        mistake: the label of a recognised mistake (see `mistake_label`), if any.
        trouble: the `autograder.errors.Trouble` value ("timed out", "crashed", ...) when the
            student's code ran out of time, crashed or sent what is not plain data, else None.
        withheld: why the points are held back although what the check is about was not found
            wrong (`Withheld.VALUES`: "counted once the values are right"; `Withheld.PREREQUISITE`:
            "waits for a prerequisite"), else None. Serialised as its text.
        hint: the recognised mistake as the check worded it for this student, numbers and all
            (``mistake`` is its label, the same for every student who made it).
    """

    function: str
    title: str
    points: float
    score: float = 0.0
    hidden: bool = False
    feedback: str = ""
    error: bool = False
    mistake: str | None = None
    trouble: str | None = None
    withheld: Withheld | None = None
    hint: str | None = None

    @property
    def name(self) -> str:
        """The test name: the graded function first, then what is checked."""
        return f"{self.function}: {self.title}"

    @property
    def passed(self) -> bool:
        return self.score == self.points and not self.feedback

    @property
    def waiting(self) -> bool:
        """Held back until a prerequisite passes its own checks (a self-check without the
        reference): it counts neither for nor against the function."""
        return self.withheld == Withheld.PREREQUISITE

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "score": self.score, "max_score": self.points, "output": self.feedback,
            "function": self.function, "title": self.title, "hidden": self.hidden,
            "error": self.error, "mistake": self.mistake, "trouble": self.trouble, "hint": self.hint,
            "withheld": self.withheld,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        function, _, title = str(data["name"]).partition(": ")
        return cls(
            function=str(data.get("function", function)), title=str(data.get("title", title)),
            points=float(data["max_score"]), score=float(data["score"]),
            hidden=bool(data.get("hidden", False)), feedback=str(data.get("output", "")),
            error=bool(data.get("error", False)), mistake=data.get("mistake"),
            trouble=data.get("trouble"), withheld=_withheld(data.get("withheld")), hint=data.get("hint"),
        )


def _withheld(value: Any) -> Withheld | None:
    return Withheld(value) if value in {w.value for w in Withheld} else None


@dataclass
class SubmissionResult:
    """One graded notebook.

    Attributes:
        path: the notebook, as given.
        student: who submitted it, from the class layout (`autograder.submissions`), as every
            report shows it (control and format characters escaped).
        assignment: the assignment it was graded as, or None when that is unknown.
        checks: every check that ran, in assignment order.
        notes: what the student should know (a cell that failed to load, a copy not graded...).
        flags: what an instructor should look at (`autograder.flags.Flag`).
        hidden_checks: "run", or why the hidden checks did not run.
        seconds: wall time of grading.
        max_points: the assignment's total when no check could run (else the checks' sum).
        late: when it was handed in against its due date, and the penalty (None when its
            assignment has no due date); see `autograder.course`.
        person: the roster's entry for the student (None without a roster, or not on it).
    """

    path: str
    student: str
    assignment: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    hidden_checks: str = "run"
    seconds: float = 0.0
    max_points: float | None = None
    late: Lateness | None = None
    person: RosterEntry | None = None

    @property
    def score(self) -> float:
        """The points the checks gave (before any late penalty)."""
        return float(sum(c.score for c in self.checks))

    @property
    def penalty(self) -> float:
        """The late penalty, in points (0 when not late)."""
        return self.late.penalty if self.late else 0.0

    @property
    def final_score(self) -> float:
        """The grade: the score less the late penalty."""
        return round(max(0.0, self.score - self.penalty), 6)

    @property
    def max_score(self) -> float:
        if not self.checks and self.max_points is not None:
            return self.max_points
        return sum(c.points for c in self.checks if not c.waiting)

    @property
    def hidden_run(self) -> bool:
        return self.hidden_checks == "run"

    @property
    def graded(self) -> bool:
        """Whether grading ran: checks ran, or the student's code was stopped (a timeout or a
        crash scores 0 with a flag); not for a file that could not be read or recognised."""
        return bool(self.checks) or self.has(*_STOPPED)

    def has(self, *kinds: FlagKind) -> bool:
        return any(f.kind in kinds for f in self.flags)

    def flags_for_students(self) -> list[Flag]:
        """The flags a student may read (see `autograder.flags`)."""
        return [f for f in self.flags if f.students_see]

    def by_function(self) -> list[tuple[str, float, float]]:
        """(function or quiz answer, score, max score), in assignment order."""
        totals: dict[str, list[float]] = {}
        for c in self.checks:
            total = totals.setdefault(c.function, [0.0, 0.0])
            total[0] += c.score
            total[1] += 0.0 if c.waiting else c.points
        return [(function, s, m) for function, (s, m) in totals.items()]

    def flag(self, kind: FlagKind, text: str) -> None:
        flag = Flag(kind, clean_text(text, 500))
        if flag not in self.flags:
            self.flags.append(flag)

    def note(self, text: str) -> None:
        text = clean_text(text, 1000)
        if text not in self.notes:
            self.notes.append(text)

    def bound(self, limits: Limits = LIMITS) -> SubmissionResult:
        """Apply the feedback limits (per check, then per notebook) and flag every timeout and
        crash; returns self."""
        budget = limits.feedback_per_submission
        for c in self.checks:
            c.feedback = clean_text(c.feedback, min(limits.feedback_per_check, max(budget, 200)))
            budget -= len(c.feedback)
            if c.trouble:
                self.flag(_TROUBLE_FLAGS.get(c.trouble, FlagKind.CRASHED), f"{c.trouble}: {c.function}")
            if c.error:
                self.flag(FlagKind.CHECK_ERROR, "a check could not complete: review by hand")
        self.notes = [clean_text(n, 1000) for n in self.notes[:20]]
        # Findings of the source scan are as many as the student writes: they never crowd out
        # what grading itself found (timeouts, crashes, checks that could not complete).
        graded = [f for f in self.flags if f.kind is not FlagKind.SUSPICIOUS][:20]
        suspicious = [f for f in self.flags if f.kind is FlagKind.SUSPICIOUS]
        room = 20 - len(graded)
        if len(suspicious) > room:
            kept = max(room - 1, 0)
            more = Flag(FlagKind.SUSPICIOUS,
                        f"suspicious code, review by hand: {len(suspicious) - kept} more findings")
            suspicious = suspicious[:kept] + ([more] if room else [])
        self.flags = [Flag(f.kind, clean_text(f.text, 500)) for f in suspicious + graded]
        return self

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` entry of this submission (the contract's fields first)."""
        return {
            "path": self.path, "student": self.student, "assignment": self.assignment,
            "score": self.score, "max_score": self.max_score,
            "tests": [c.to_dict() for c in self.checks],
            "flags": [f.to_dict() for f in self.flags], "notes": list(self.notes),
            "hidden_checks": self.hidden_checks, "seconds": round(self.seconds, 3),
            "late_penalty": self.penalty, "final_score": self.final_score,
            "late": self.late.to_dict() if self.late else None,
            "roster": self.person.to_dict() if self.person else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        checks = [CheckResult.from_dict(t) for t in data.get("tests", [])]
        result = cls(
            path=str(data["path"]), student=str(data.get("student", "")),
            assignment=data.get("assignment"), checks=checks,
            notes=[str(n) for n in data.get("notes", [])],
            flags=[Flag.from_dict(f) for f in data.get("flags", [])],
            hidden_checks=str(data.get("hidden_checks", "run")), seconds=float(data.get("seconds", 0.0)),
        )
        if not checks:
            result.max_points = float(data.get("max_score", 0.0))
        if data.get("late"):
            result.late = Lateness.from_dict(data["late"])
        if data.get("roster"):
            result.person = RosterEntry.from_dict(data["roster"])
        return result


_STOPPED = (FlagKind.TIMED_OUT, FlagKind.CRASHED)


@dataclass(frozen=True)
class Skipped:
    """A file of the class that was not graded, and why (one line; the student is None when
    the file lies outside any student's folder)."""

    path: str
    student: str | None
    reason: str

    def line(self) -> str:
        """One line for a terminal or a log: the file, then why (file names come from students)."""
        return f"{one_line(self.path, 400)}: {one_line(self.reason, 300)}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "student": self.student, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Skipped:
        student = data.get("student")
        return cls(str(data["path"]), None if student is None else str(student), str(data["reason"]))


def results_document(submissions: list[SubmissionResult], skipped: list[Skipped] | tuple = (),
                     similar: Sequence[Any] | None = None,
                     roster: RosterSummary | None = None, *,
                     wall_seconds: float | None = None) -> dict[str, Any]:
    """The whole ``--json`` document: every graded submission, then every file not graded,
    then, when the similarity review ran, its pairs (`autograder.similarity.SimilarPair`; read
    back with `autograder.similarity.read_similar`), then (with a roster) who handed in nothing
    and which students the roster lacks, and the wall time of the run that graded them (when
    known: notebooks are graded several at a time, so it is not the sum of their times)."""
    document = {"submissions": [s.to_dict() for s in submissions], "skipped": [s.to_dict() for s in skipped]}
    if wall_seconds is not None:
        document["wall_seconds"] = round(wall_seconds, 3)
    if similar is not None:
        document["similar"] = [pair.to_dict() for pair in similar]
    if roster is not None:
        document["roster"] = roster.to_dict()
    return document


def read_roster_summary(data: Any) -> RosterSummary | None:
    """The roster part of a ``--json`` document (None when it was graded without a roster)."""
    part = data.get("roster") if isinstance(data, dict) else None
    try:
        return RosterSummary.from_dict(part) if isinstance(part, dict) else None
    except (KeyError, TypeError, ValueError):
        raise ValueError("not a results file: its roster part is malformed") from None


def read_results_document(data: Any) -> list[SubmissionResult]:
    """The submissions of a ``--json`` document; ValueError if it is not one."""
    return read_results(data)[0]


def read_results(data: Any) -> tuple[list[SubmissionResult], list[Skipped]]:
    """(the submissions, the files not graded) of a ``--json`` document; ValueError if it is
    not one."""
    if not isinstance(data, dict) or not isinstance(data.get("submissions"), list):
        raise ValueError('not a results file: expected {"submissions": [...]}')
    try:
        return ([SubmissionResult.from_dict(s) for s in data["submissions"]],
                [Skipped.from_dict(s) for s in data.get("skipped", [])])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"not a results file: a submission is malformed ({error})") from None
