"""Reports of graded submissions: a readable table, the JSON file, Gradescope's results.json."""

from __future__ import annotations

import csv
import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from autograder.assignments import get_assignment
from autograder.grading import Submission


def by_target(submission: Submission) -> list[tuple[str, float, float]]:
    """(function or quiz answer, score, max score) in assignment order."""
    totals: dict[str, list[float]] = {}
    for test in submission.tests:
        target = test.name.split(":", 1)[0]
        score, max_score = totals.setdefault(target, [0.0, 0.0])
        totals[target] = [score + test.score, max_score + test.max_score]
    return [(target, s, m) for target, (s, m) in totals.items()]


def text_report(submissions: list[Submission]) -> str:
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


def _text_one(s: Submission) -> str:
    title = get_assignment(s.assignment).title if s.assignment else "unrecognised notebook"
    lines = [f"{s.path}", f"  student: {s.student}   assignment: {s.assignment or '?'} ({title})"]
    if not s.hidden and s.tests:
        lines.append("  hidden checks: not run (no reference solutions), public checks only")
    lines += [f"  FLAG: {flag}" for flag in s.flags]
    lines += [f"  note: {note}" for note in s.notes]
    if s.tests:
        lines.append("")
        for target, score, max_score in by_target(s):
            mark = "ok" if score == max_score else "--"
            lines.append(f"  {mark} {target:<28} {score:>6g} / {max_score:g}")
    lines.append(f"     {'total':<28} {s.score:>6g} / {s.max_score:g}")
    failed = [t for t in s.tests if t.score < t.max_score or t.output]
    if failed:
        lines += ["", "  Feedback:"]
    shown: set[tuple[str, str]] = set()
    for test in failed:
        # One message per function when all its checks fail the same way (a stub, say).
        target = test.name.split(":", 1)[0]
        lines.append(f"  x {test.name}  ({test.score:g} / {test.max_score:g})")
        if (target, test.output) in shown:
            lines.append("      (same as above)")
        else:
            lines.append(textwrap.indent(test.output.strip(), "      "))
            shown.add((target, test.output))
    return "\n".join(lines)


def json_report(submissions: list[Submission]) -> dict:
    """The ``--json`` document (see the grader interface in the README)."""
    return {
        "submissions": [
            {
                "path": s.path,
                "student": s.student,
                "assignment": s.assignment,
                "score": s.score,
                "max_score": s.max_score,
                "hidden_checks": s.hidden,
                "tests": [
                    {"name": t.name, "score": t.score, "max_score": t.max_score, "output": t.output}
                    for t in s.tests
                ],
                "flags": s.flags,
                "notes": s.notes,
            }
            for s in submissions
        ]
    }


def gradescope_results(submission: Submission) -> dict:
    """Gradescope's ``results.json`` for one submission.

    Hidden checks stay hidden from the student until grades are published.
    """
    tests = [
        {
            "name": t.name,
            "score": t.score,
            "max_score": t.max_score,
            "output": t.output,
            "visibility": "after_published" if _is_hidden(submission, t.name) else "visible",
        }
        for t in submission.tests
    ]
    output = "\n".join([*(f"Flag: {f}" for f in submission.flags), *submission.notes])
    return {"score": submission.score, "max_score": submission.max_score, "output": output, "tests": tests}


def _is_hidden(submission: Submission, name: str) -> bool:
    if not submission.assignment:
        return False
    return any(c.hidden and c.name == name for c in get_assignment(submission.assignment).checks())


# The columns of nbgrader's CSV export, so that a gradebook from either path reads the same.
NBGRADER_CSV_COLUMNS = [
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
    "raw_score", "late_submission_penalty", "score", "max_score",
]


def write_csv(path: str | Path, submissions: list[Submission]) -> None:
    """A gradebook with one row per submission, in nbgrader's export columns.

    The timestamp is the notebook file's modification time; names, e-mails and due dates
    are not known to the grader and stay empty, and there is no late penalty.
    """
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=NBGRADER_CSV_COLUMNS)
        writer.writeheader()
        for s in submissions:
            modified = Path(s.path).stat().st_mtime if Path(s.path).exists() else None
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
