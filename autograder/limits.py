"""Every limit of grading, in one place.

A submission is hostile until proven otherwise: it may loop forever, allocate without end,
print megabytes, fill the disk or start processes. Each of those meets one of these limits,
and the grade says which. ``python -m autograder limits`` prints them.

`LIMITS` is what grading uses. The environment variables ``AUTOGRADER_CALL_TIMEOUT`` and
``AUTOGRADER_NOTEBOOK_TIMEOUT`` (seconds) override the per-call and per-notebook limits on every
path (the command line, ``pytest --grade``, Gradescope), which lets tests and slow machines
adjust them; the command line's ``--timeout`` and nbgrader's ``c.GradeWithCore.timeout`` set
the notebook limit too.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, fields, replace

MB = 2**20


@dataclass(frozen=True)
class Limits:
    """What one notebook may use while it is graded.

    Attributes:
        call_seconds: wall time for one call of a student function (and for the grader's use
            of what it returned).
        load_seconds: wall time to start the student's process and run the notebook's
            definitions.
        notebook_seconds: wall time for grading a whole notebook.
        student_memory: bytes of address space of the student's process.
        grader_memory: bytes of address space of a grading process.
        scratch_disk: bytes the student's process may write in total (its scratch folder).
        scratch_files: files and folders it may create there.
        file_size: bytes of the largest file the student's process may write.
        open_files: file descriptors the student's process may hold.
        cpu_seconds: CPU time of the student's process before the kernel stops it.
        printed_kept: characters of a student's printing kept per call (the rest is dropped).
        printed_shown: characters of that printing shown with the feedback of a failed call.
        message_bytes: bytes of one message from the student's process.
        lent_numbers: numbers (array elements) student code may pass to a lent function in one
            call: the grader's own function then runs on them, and C code cannot be interrupted.
        nesting: depth of lists in lists (or dicts) a result may have.
        notebook_bytes: bytes of a submitted notebook file.
        feedback_per_check: characters of feedback kept for one check.
        feedback_per_submission: characters of feedback kept for one notebook.
        restarts: fresh student processes per notebook after calls that hung or crashed.
        submissions: notebooks found in one run before the search stops.
    """

    call_seconds: float = 10.0
    load_seconds: float = 60.0
    notebook_seconds: float = 300.0
    student_memory: int = 4096 * MB
    grader_memory: int = 4096 * MB
    scratch_disk: int = 64 * MB
    scratch_files: int = 1_000
    file_size: int = 16 * MB
    open_files: int = 256
    cpu_seconds: int = 600
    printed_kept: int = 10_000
    printed_shown: int = 800
    message_bytes: int = 64 * MB
    lent_numbers: int = 1_000_000
    nesting: int = 64
    notebook_bytes: int = 16 * MB
    feedback_per_check: int = 4_000
    feedback_per_submission: int = 64_000
    restarts: int = 20
    submissions: int = 100_000

    def with_notebook_seconds(self, seconds: float | None) -> Limits:
        return self if seconds is None else replace(self, notebook_seconds=float(seconds))

    def describe(self) -> list[tuple[str, str]]:
        """(name, value in words) of every limit, for ``python -m autograder limits``."""
        rows = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("seconds"):
                text = f"{value:g} s"
            elif field.name in ("student_memory", "grader_memory", "scratch_disk", "file_size",
                                "message_bytes", "notebook_bytes"):
                text = f"{value / MB:g} MB"
            else:
                text = f"{value:,}"
            rows.append((field.name, text))
        return rows


def _from_environment() -> Limits:
    limits = Limits()
    for variable, name in (("AUTOGRADER_CALL_TIMEOUT", "call_seconds"),
                           ("AUTOGRADER_NOTEBOOK_TIMEOUT", "notebook_seconds")):
        with contextlib.suppress(ValueError):
            seconds = float(os.environ.get(variable) or "nan")
            if seconds > 0:
                limits = replace(limits, **{name: seconds})
    return limits


LIMITS = _from_environment()


def set_limit(kind: int, value: int, name: str) -> str | None:
    """Set the resource limit ``kind`` (soft and hard) to ``value``, or to the hard limit
    already in force when that is lower (a process may lower its hard limit, never raise it:
    batch schedulers and containers set one). Returns a note when the limit was lowered."""
    import resource  # Linux and macOS only: the notebook's own checks never set limits

    _, hard = resource.getrlimit(kind)
    applied = value if hard == resource.RLIM_INFINITY or hard >= value else hard
    resource.setrlimit(kind, (applied, applied))
    if applied == value:
        return None
    if kind == resource.RLIMIT_AS:
        return (f"{name} limited to {applied / MB:g} MB, the hard limit in force here, rather than "
                f"{value / MB:g} MB")
    return f"{name} limited to {applied:,}, the hard limit in force here, rather than {value:,}"
