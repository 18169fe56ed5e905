"""Reports of graded submissions: a readable table, the JSON file, the CSV gradebook and
Gradescope's results.json. Each reads the one results record (`autograder.results`)."""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

from autograder import marks
from autograder.assignments import ASSIGNMENTS
from autograder.results import SubmissionResult, results_document
from autograder.text import csv_cell


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
    if s.late:
        lines.append(f"  late: {s.late.text()}")
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
    """Gradescope's ``results.json`` for one submission (every field of Gradescope's
    autograder specification that applies).

    The score is the grade after any late penalty (the course file's policy, applied to the
    time Gradescope recorded), which the output explains. Students see the tests, the notes and
    the flags meant for them; flags for the instructor
    only (suspicious code, planted folders, the sandbox) are printed by ``run_autograder``,
    whose output Gradescope shows to instructors alone. Hidden checks stay hidden from the
    student until grades are published.
    """
    tests = [
        {
            "name": c.name,
            "score": c.score,
            "max_score": c.points,
            "status": "passed" if c.passed else "failed",
            "output": c.feedback,
            "output_format": "text",
            "visibility": "after_published" if c.hidden else "visible",
        }
        for c in submission.checks
    ]
    late = [f"Submission {submission.late.text()}."] if submission.late else []
    if submission.penalty:
        late.append(f"Grade after the late penalty: {submission.final_score:g} / {submission.max_score:g} "
                    f"(the tests add up to {submission.score:g}).")
    output = "\n".join([*late, *(f"Flag: {f}" for f in submission.flags_for_students()), *submission.notes])
    extra = {"assignment": submission.assignment, "hidden_checks": submission.hidden_checks}
    if submission.late:
        extra["late"] = submission.late.to_dict()
    return {
        "score": submission.final_score, "max_score": submission.max_score,
        "execution_time": max(1, round(submission.seconds)),
        "output": output, "output_format": "text", "test_output_format": "text", "test_name_format": "text",
        "visibility": "visible", "stdout_visibility": "hidden",
        "extra_data": extra,
        "tests": tests,
    }


# The columns of nbgrader's CSV export, so that a gradebook from either path reads the same.
NBGRADER_CSV_COLUMNS = [
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
    "raw_score", "late_submission_penalty", "score", "max_score",
]


def write_csv(path: str | Path, submissions: list[SubmissionResult]) -> None:
    """A gradebook with one row per submission, in nbgrader's export columns.

    Every cell that comes from a student (a name, a path) is made safe for a spreadsheet
    (`autograder.text.csv_cell`). The timestamp is the submission time a system recorded
    (nbgrader, Gradescope, an LMS's submission-times file: see `autograder.lateness`), never a
    file's date, and empty when none did; the due date and late penalty are the course file's
    (`autograder.course`); names and e-mails come from the roster. ``raw_score`` is what the
    checks gave and ``score`` the grade after the late penalty, as nbgrader exports them.
    """
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as f:  # any file name
        writer = csv.DictWriter(f, fieldnames=NBGRADER_CSV_COLUMNS)
        writer.writeheader()
        for s in submissions:
            late, person = s.late, s.person
            row = {
                "assignment": s.assignment or "",
                "duedate": late.due.isoformat() if late else "",
                "timestamp": late.submitted_at.isoformat() if late and late.submitted_at else "",
                "student_id": s.student,
                "last_name": (person.last_name or person.name_given) if person else "",
                "first_name": person.first_name if person else "",
                "email": person.email if person else "",
                "raw_score": s.score,
                "late_submission_penalty": s.penalty,
                "score": s.final_score,
                "max_score": s.max_score,
            }
            writer.writerow({column: csv_cell(value) for column, value in row.items()})


def write_json(path: str | Path, document: dict) -> None:
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
