"""The grader's vocabulary: what can go wrong, by whom.

- `CheckFailed`: a check found a problem in the student's work; its message is the feedback.
  ``kind`` says whether the student's code ran out of time or crashed its process, which an
  instructor sees as a flag; ``mistake`` names a recognised mistake; ``withheld`` says that the
  check's points wait for something else (`Withheld`) rather than that what it checks is wrong.
- `NotebookError`: a submitted file cannot be read as a notebook.
- `ReferenceMissing`: the reference solution of an assignment is not available, so the
  hidden checks cannot run.
"""

from __future__ import annotations

from enum import StrEnum


class Trouble(StrEnum):
    """How a call of student code went wrong, beyond a wrong result (shown as a flag)."""

    TIMEOUT = "timed out"
    CRASH = "crashed"
    REFUSED = "sent something that is not plain data"


class Withheld(StrEnum):
    """Why a check's points are held back although what it checks was not found wrong."""

    VALUES = "counted once the values are right"  # a property of a function whose values are wrong
    PREREQUISITE = "waits for a prerequisite"  # the student's own prerequisite fails its checks


class CheckFailed(AssertionError):
    """A check found a problem; the message is the student's feedback.

    Attributes:
        kind: a `Trouble` when the student's code hung or crashed, else None.
        mistake: the hint of a recognised mistake, when the failure matches one.
        withheld: why the points are held back without a failure of what the check is about.
        unclaimed: the feedback without its likely mistake (what was seen instead), for a check
            that finds the mistake unconfirmed by another input; None: the message without its
            "Likely mistake" lines.
        coinciding: known mistakes that all fit this failure, so none is named (another input
            may tell them apart).
    """

    def __init__(self, message: str, *, kind: Trouble | None = None, mistake: str | None = None,
                 withheld: Withheld | None = None, unclaimed: str | None = None,
                 coinciding: tuple[str, ...] = ()):
        super().__init__(message)
        self.kind = kind
        self.mistake = mistake
        self.withheld = withheld
        self.unclaimed = unclaimed
        self.coinciding = coinciding


class NotebookError(Exception):
    """The file cannot be read as a Jupyter notebook; the message says why, in one line."""


class ReferenceMissing(Exception):
    """The reference solution of an assignment cannot be found or loaded."""
