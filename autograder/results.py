"""What grading one notebook produced: one record, serialised in one place.

Every path reads and writes these: the command line's reports and ``--json``, the pytest
plugin's items, Gradescope's ``results.json``, nbgrader's grade cells and the class report.
`SubmissionResult.to_dict` is the ``--json`` schema; `SubmissionResult.from_dict` reads it
back (``python -m autograder report`` and the result cache do).

Feedback is text about plain values, made by the checks or in the student's own process. It
is bounded per check and per notebook, free of control characters (no terminal escapes in an
instructor's shell) and of memory addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from autograder.errors import Withheld
from autograder.limits import LIMITS, Limits

SUSPICIOUS = "suspicious code"  # how flags of `autograder.suspicious` begin
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # a file name's bytes that are not UTF-8
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*(?:e-?\d+)?")


def strip_addresses(text: str) -> str:
    """``text`` without memory addresses (``<function f at 0x7f...>`` becomes ``<function f>``)."""
    return _ADDRESS.sub("", text)


def clean_text(text: str, limit: int) -> str:
    """``text`` without control characters, addresses or undecodable bytes, at most ``limit``
    characters."""
    text = _SURROGATE.sub("\ufffd", _ADDRESS.sub("", _CONTROL.sub("", str(text))))
    if len(text) > limit:
        text = text[: max(0, limit - 40)].rstrip() + "\n  ... (feedback shortened)"
    return text


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
        trouble: "timed out" or "crashed" when the student's code did, else None.
        withheld: why the points are held back although what the check is about was not found
            wrong (`Withheld.VALUES`: "counted once the values are right"; `Withheld.PREREQUISITE`:
            "waits for a prerequisite"), else None. Serialised as its text.
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
            "error": self.error, "mistake": self.mistake, "trouble": self.trouble,
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
            trouble=data.get("trouble"), withheld=_withheld(data.get("withheld")),
        )


def _withheld(value: Any) -> Withheld | None:
    return Withheld(value) if value in {w.value for w in Withheld} else None


@dataclass
class SubmissionResult:
    """One graded notebook.

    Attributes:
        path: the notebook, as given.
        student: who submitted it (from the class layout ``<student>/<assignment>/...``).
        assignment: the assignment recognised from the notebook, or None.
        checks: every check that ran, in assignment order.
        notes: what the student should know (a cell that failed to load, the sandbox...).
        flags: what an instructor should look at (timeouts, crashes, suspicious code...).
        hidden_checks: "run", or why the hidden checks did not run.
        seconds: wall time of grading.
        max_points: the assignment's total when no check could run (else the checks' sum).
    """

    path: str
    student: str
    assignment: str | None = None
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    hidden_checks: str = "run"
    seconds: float = 0.0
    max_points: float | None = None

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        if not self.checks and self.max_points is not None:
            return self.max_points
        return sum(c.points for c in self.checks if not c.waiting)

    @property
    def hidden_run(self) -> bool:
        return self.hidden_checks == "run"

    def by_function(self) -> list[tuple[str, float, float]]:
        """(function or quiz answer, score, max score), in assignment order."""
        totals: dict[str, list[float]] = {}
        for c in self.checks:
            total = totals.setdefault(c.function, [0.0, 0.0])
            total[0] += c.score
            total[1] += 0.0 if c.waiting else c.points
        return [(function, s, m) for function, (s, m) in totals.items()]

    def flag(self, text: str) -> None:
        text = clean_text(text, 500)
        if text not in self.flags:
            self.flags.append(text)

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
                self.flag(f"{c.trouble}: {c.function}")
            if c.error:
                self.flag("a check could not complete: review by hand")
        self.notes = [clean_text(n, 1000) for n in self.notes[:20]]
        # Findings of the source scan are as many as the student writes: they never crowd out
        # what grading itself found (timeouts, crashes, checks that could not complete).
        graded = [f for f in self.flags if not f.startswith(SUSPICIOUS)][:20]
        suspicious = [f for f in self.flags if f.startswith(SUSPICIOUS)]
        room = 20 - len(graded)
        if len(suspicious) > room:
            kept = max(room - 1, 0)
            more = f"{SUSPICIOUS}, review by hand: {len(suspicious) - kept} more findings"
            suspicious = suspicious[:kept] + ([more] if room else [])
        self.flags = [clean_text(f, 500) for f in suspicious + graded]
        return self

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` entry of this submission (the contract's fields first)."""
        return {
            "path": self.path, "student": self.student, "assignment": self.assignment,
            "score": self.score, "max_score": self.max_score,
            "tests": [c.to_dict() for c in self.checks],
            "flags": list(self.flags), "notes": list(self.notes),
            "hidden_checks": self.hidden_checks, "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        checks = [CheckResult.from_dict(t) for t in data.get("tests", [])]
        result = cls(
            path=str(data["path"]), student=str(data.get("student", "")),
            assignment=data.get("assignment"), checks=checks,
            notes=[str(n) for n in data.get("notes", [])], flags=[str(f) for f in data.get("flags", [])],
            hidden_checks=str(data.get("hidden_checks", "run")), seconds=float(data.get("seconds", 0.0)),
        )
        if not checks:
            result.max_points = float(data.get("max_score", 0.0))
        return result


def results_document(submissions: list[SubmissionResult]) -> dict[str, Any]:
    """The whole ``--json`` document."""
    return {"submissions": [s.to_dict() for s in submissions]}


def read_results_document(data: Any) -> list[SubmissionResult]:
    """The submissions of a ``--json`` document; ValueError if it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("submissions"), list):
        raise ValueError('not a results file: expected {"submissions": [...]}')
    try:
        return [SubmissionResult.from_dict(s) for s in data["submissions"]]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a results file: a submission is malformed ({error})") from None
