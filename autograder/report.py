"""Reports of graded submissions: a readable table, the JSON file, the CSV gradebook and
Gradescope's results.json. Each reads the one results record (`autograder.results`)."""

from __future__ import annotations

import csv
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from autograder import marks
from autograder.assignments import ASSIGNMENTS
from autograder.results import SubmissionResult, results_document


def text_report(submissions: list[SubmissionResult]) -> str:
    """Every submission's score table, then the feedback of each failed check."""
    blocks = [_text_one(s) for s in submissions]
    if len(submissions) > 1:
        lines = ["Summary", f"  {'student':<20} {'assignment':<14} {'score':>15}"]
        for s in submissions:
            flag = "  (flagged)" if s.flags else ""
            lines.append(
                f"  {s.student:<20} {s.assignment or '?':<14} "
                f"{s.score:>7g} / {s.max_score:<6g}{flag}"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _text_one(s: SubmissionResult) -> str:
    assignment = ASSIGNMENTS.get(s.assignment or "")
    title = assignment.title if assignment else "unrecognised notebook"
    lines = [f"{s.path}", f"  student: {s.student}   assignment: {s.assignment or '?'} ({title})"]
    if not s.hidden_run and s.checks:
        lines.append(f"  hidden checks: {s.hidden_checks}; public checks only")
    lines += [f"  FLAG: {flag}" for flag in s.flags]
    lines += [f"  note: {note}" for note in s.notes]
    if s.checks:
        lines.append("")
        for target, score, max_score in s.by_function():
            sign = marks.function_mark(s.checks, target)
            lines.append(f"  {sign} {target:<28} {score:>6g} / {max_score:g}")
    lines.append(f"     {'total':<28} {s.score:>6g} / {s.max_score:g}")
    failed = marks.feedback_to_show(s.checks)
    if failed:
        lines += ["", "  Feedback:"]
    for check, shown in failed:
        # One message per function when all its checks fail the same way (a stub, say).
        why = f": {marks.reason(check)}" if check.withheld else ""
        points = f"({check.score:g} / {check.points:g})"
        lines.append(f"  {marks.mark(check, ascii=True)} {check.name}  {points}{why}")
        if shown:
            lines.append(textwrap.indent(shown, "      "))
    return "\n".join(lines)


def json_report(submissions: list[SubmissionResult]) -> dict:
    """The ``--json`` document (see the grader interface in the README)."""
    return results_document(submissions)


def gradescope_results(submission: SubmissionResult) -> dict:
    """Gradescope's ``results.json`` for one submission.

    Hidden checks stay hidden from the student until grades are published.
    """
    tests = [
        {
            "name": c.name,
            "score": c.score,
            "max_score": c.points,
            "output": c.feedback,
            "visibility": "after_published" if c.hidden else "visible",
        }
        for c in submission.checks
    ]
    output = "\n".join([*(f"Flag: {f}" for f in submission.flags), *submission.notes])
    return {"score": submission.score, "max_score": submission.max_score, "output": output, "tests": tests}


# The columns of nbgrader's CSV export, so that a gradebook from either path reads the same.
NBGRADER_CSV_COLUMNS = [
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
    "raw_score", "late_submission_penalty", "score", "max_score",
]


def write_csv(path: str | Path, submissions: list[SubmissionResult]) -> None:
    """A gradebook with one row per submission, in nbgrader's export columns.

    The timestamp is the notebook file's modification time; names, e-mails and due dates
    are not known to the grader and stay empty, and there is no late penalty.
    """
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as f:  # any file name
        writer = csv.DictWriter(f, fieldnames=NBGRADER_CSV_COLUMNS)
        writer.writeheader()
        for s in submissions:
            try:
                modified = Path(s.path).lstat().st_mtime
            except OSError:
                modified = None
            writer.writerow({
                "assignment": s.assignment or "",
                "duedate": "",
                "timestamp": datetime.fromtimestamp(modified, UTC).isoformat() if modified else "",
                "student_id": s.student,
                "last_name": "", "first_name": "", "email": "",
                "raw_score": s.score,
                "late_submission_penalty": 0.0,
                "score": s.score,
                "max_score": s.max_score,
            })


def write_json(path: str | Path, document: dict) -> None:
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
