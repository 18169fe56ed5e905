"""What an instructor should look at, typed: every flag has a kind, and each kind says who
may see it.

A flag is raised where the grader learns something (a call timed out, the source scan found
a file access, a notebook lies inside another student's folder) and travels as a `Flag` to
every report. No module reads a flag's text back to decide anything: the kind decides. Kinds
marked ``students_see=False`` (suspicious code, planted folders, the machine's sandbox) are
for the instructor only: Gradescope and the feedback a student reads leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class FlagKind(Enum):
    """Why a submission was flagged. The value is (JSON name, whether students see it)."""

    TIMED_OUT = ("timed_out", True)  # a call or the whole notebook ran out of time
    CRASHED = ("crashed", True)  # the student's process died during a call
    REFUSED = ("refused", True)  # a call sent back something that is not plain data
    NOT_GRADED = ("not_graded", True)  # unreadable, unrecognised, or not this assignment's notebook
    WRONG_ASSIGNMENT = ("wrong_assignment", True)  # its code is another assignment's
    CHECK_ERROR = ("check_error", False)  # a check itself could not complete
    METADATA_MISMATCH = ("metadata_mismatch", False)  # its metadata names another assignment
    SUSPICIOUS = ("suspicious", False)  # the source scan's findings
    REVIEW = ("review", False)  # student code stopped its process while loading, and the like
    PLANTED = ("planted", False)  # a notebook inside another folder of the student's upload
    NAME_CLEANED = ("name_cleaned", False)  # a folder name held control or format characters
    UNTRUSTED = ("untrusted", False)  # this machine could not confine the student's process

    @property
    def id(self) -> str:
        return self.value[0]

    @property
    def students_see(self) -> bool:
        return self.value[1]

    @classmethod
    def from_id(cls, name: str) -> FlagKind:
        for kind in cls:
            if kind.id == name:
                return kind
        raise ValueError(f"unknown flag kind {name!r}")


TROUBLE_KINDS = (FlagKind.TIMED_OUT, FlagKind.CRASHED, FlagKind.REFUSED)


@dataclass(frozen=True)
class Flag:
    """One thing to look at: its kind and a sentence about it (bounded, without control
    characters: see `autograder.results.SubmissionResult.flag`)."""

    kind: FlagKind
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def students_see(self) -> bool:
        return self.kind.students_see

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.id, "text": self.text, "students_see": self.students_see}

    @classmethod
    def from_dict(cls, data: Any) -> Flag:
        """A flag of a results file; a plain string (older files) is kept as a REVIEW flag."""
        if isinstance(data, dict):
            return cls(FlagKind.from_id(str(data.get("kind"))), str(data.get("text", "")))
        return cls(FlagKind.REVIEW, str(data))
