"""Grades an LMS imports, read back against each format's documented columns; lateness and
names in every report; every cell safe in a spreadsheet."""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autograder.course import AssignmentTerm, Course
from autograder.export import (
    CANVAS_COLUMNS,
    ExportError,
    from_results,
    write_canvas,
    write_moodle,
    write_sheet,
)
from autograder.lateness import LatePolicy, Recorded, assess
from autograder.report import NBGRADER_CSV_COLUMNS, gradescope_results, write_csv
from autograder.results import CheckResult, SubmissionResult, read_results, results_document
from autograder.roster import RosterEntry, read_roster
from autograder.terminal import submission_detail, summary_table

DUE = datetime(2025, 2, 7, 23, 59, tzinfo=UTC)
POLICY = LatePolicy(per_day=0.1, most=0.5)
ROSTER = ("id,first_name,last_name,email,lms_user_id,sis_user_id,sis_login_id,section\n"
          "alice,Alice,Liddell,alice@example.edu,101,S1,aliddell,A\n"
          "bob,=HYPERLINK(\"http://x\"),Stone,bob@example.edu,102,S2,bstone,B\n"
          "carol,Carol,Ng,carol@example.edu,103,S3,cng,A\n")


def result(student: str, assignment: str, scores: dict[str, tuple[float, float]],
           late_by: timedelta | None = None) -> SubmissionResult:
    checks = [CheckResult(f, "values", most, score=got) for f, (got, most) in scores.items()]
    r = SubmissionResult(f"class/{student}/{assignment}/nb.ipynb", student, assignment, checks=checks)
    if late_by is not None:
        r.late = assess(Recorded(DUE + late_by, "nbgrader"), DUE, POLICY, r.score, r.max_score)
    return r


@pytest.fixture
def graded(tmp_path) -> tuple[list[SubmissionResult], Course]:
    roster = read_roster(_write(tmp_path / "roster.csv", ROSTER))
    results = [
        result("alice", "01_losses", {"mse": (2, 2), "softmax": (3, 3)}, late_by=timedelta(hours=30)),
        result("bob", "01_losses", {"mse": (1, 2), "softmax": (3, 3)}, late_by=timedelta(hours=-1)),
        result("alice", "02_backprop", {"Value": (4, 6)}),
        result("=cmd|'/C calc'!A0", "01_losses", {"mse": (2, 2), "softmax": (0, 3)}),  # not on the roster
    ]
    for r in results:
        r.person = roster.get(r.student)
    course = Course(roster=roster, assignments={
        "01_losses": AssignmentTerm(DUE, policy=POLICY, canvas_id="48213", canvas_name="Loss functions"),
        "02_backprop": AssignmentTerm()})
    return results, course


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_canvas_import_file_has_canvas_columns_points_row_and_ids(tmp_path, graded):
    results, course = graded
    sheet = from_results(results, course.roster)
    notes = write_canvas(sheet, tmp_path / "canvas.csv", course)
    header, points, *rows = read_rows(tmp_path / "canvas.csv")
    # Canvas's documented columns, then one per assignment named "Name (id)" (or a new one by name)
    assert header == CANVAS_COLUMNS + ["Loss functions (48213)", "02_backprop"]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert points[0].strip() == "Points Possible" and points[1:5] == ["", "", "", ""]
    assert [float(p) for p in points[5:]] == [5.0, 6.0]
    by_id = {row[1]: row for row in rows}
    assert by_id["101"][:5] == ["Liddell, Alice", "101", "S1", "aliddell", "A"]
    assert float(by_id["101"][5]) == 4.0  # 5 points, 30 h late: 2 days at 10% of 5
    assert float(by_id["101"][6]) == 4.0
    assert by_id["102"][0] == 'Stone, =HYPERLINK("http://x")'  # does not start a formula: text
    assert float(by_id["102"][5]) == 4.0 and by_id["102"][6] == ""  # on time; no 02 submission
    assert by_id["103"][5:] == ["", ""]  # on the roster, handed in nothing: left empty
    assert len(rows) == 3 and notes == ["=cmd|'/C calc'!A0 is not on the roster with a Canvas or SIS id: "
                                        "left out of the Canvas file"]
    write_canvas(sheet, tmp_path / "zero.csv", course, missing_as_zero=True)
    carol = next(row for row in read_rows(tmp_path / "zero.csv") if row[1] == "103")
    assert carol[5:] == ["0.0", "0.0"]


def test_canvas_needs_ids_to_match_students(tmp_path, graded):
    results, _ = graded
    unnamed = [replace(r, person=None) for r in results]  # graded without a roster
    with pytest.raises(ExportError, match="Canvas ID or SIS ids"):
        write_canvas(from_results(unnamed), tmp_path / "canvas.csv", Course())


def test_sheet_has_a_row_per_student_and_a_column_per_function(tmp_path, graded):
    results, course = graded
    write_sheet(from_results(results, course.roster), tmp_path / "sheet.csv")
    with open(tmp_path / "sheet.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    alice = next(r for r in rows if r["student_id"] == "alice")
    assert (alice["name"], alice["email"], alice["section"]) == ("Alice Liddell", "alice@example.edu", "A")
    assert [float(alice[k]) for k in ("01_losses score", "01_losses late penalty", "01_losses grade",
                                      "01_losses max")] == [5, 1, 4, 5]
    assert alice["01_losses status"] == "late"
    assert alice["01_losses submitted"] == (DUE + timedelta(hours=30)).isoformat()
    assert (float(alice["01_losses: mse"]), float(alice["01_losses: softmax"])) == (2, 3)
    assert float(alice["02_backprop: Value"]) == 4 and alice["02_backprop status"] == "graded"
    carol = next(r for r in rows if r["student_id"] == "carol")
    assert carol["01_losses status"] == "no submission" and carol["01_losses grade"] == ""
    # names that would run as formulas are text
    cells = [cell for row in read_rows(tmp_path / "sheet.csv") for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert "'=cmd|'/C calc'!A0" in cells


def test_moodle_file_has_an_id_and_a_grade_column_per_assignment(tmp_path, graded):
    results, course = graded
    write_moodle(from_results(results, course.roster), tmp_path / "moodle.csv")
    header, *rows = read_rows(tmp_path / "moodle.csv")
    assert header == ["ID number", "Email address", "First name", "Last name", "01_losses", "02_backprop"]
    alice = next(r for r in rows if r[1] == "alice@example.edu")
    assert alice[0] == "S1" and [float(x) for x in alice[4:]] == [4.0, 4.0]


def test_two_results_for_one_student_and_assignment_are_refused(graded):
    results, _ = graded
    with pytest.raises(ExportError, match="two results for 01_losses"):
        from_results([*results, results[0]])


def test_nbgrader_columns_csv_uses_the_recorded_time_never_the_files(tmp_path, graded):
    results, _ = graded
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text("{}")
    os.utime(notebook, (1_000_000_000, 1_000_000_000))
    for r in results:
        r.path = str(notebook)
    write_csv(tmp_path / "grades.csv", results)
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == NBGRADER_CSV_COLUMNS
        rows = list(reader)
    alice = rows[0]
    assert alice["timestamp"] == (DUE + timedelta(hours=30)).isoformat()
    assert alice["duedate"] == DUE.isoformat()
    assert (alice["first_name"], alice["last_name"], alice["email"]) == ("Alice", "Liddell",
                                                                        "alice@example.edu")
    assert [float(alice[k]) for k in ("raw_score", "late_submission_penalty", "score")] == [5, 1, 4]
    assert rows[2]["timestamp"] == rows[2]["duedate"] == ""  # no due date: nothing recorded, nothing late
    assert "2001" not in (tmp_path / "grades.csv").read_text()  # the file's date is nowhere


def test_lateness_and_names_reach_every_report(graded):
    results, _ = graded
    alice = results[0]
    table = summary_table(results)
    assert "Alice Liddell" in table and "1 day 6 h late: -1 = 4" in table and "on time" in table
    detail = submission_detail(alice)
    assert "student: alice (Alice Liddell)" in detail
    assert ("late: submitted 2025-02-09 05:59 +00:00 (nbgrader), due 2025-02-07 23:59 +00:00: "
            "1 day 6 h late, penalty 1 point") in detail
    totals = [line.split() for line in detail.splitlines()
              if line.strip().startswith(("late penalty", "grade"))]
    assert totals == [["late", "penalty", "-1"], ["grade", "4", "/", "5"]]
    gradescope = gradescope_results(alice)
    assert gradescope["score"] == 4 and sum(t["score"] for t in gradescope["tests"]) == 5
    assert "1 day 6 h late, penalty 1 point" in gradescope["output"]
    assert "Grade after the late penalty: 4 / 5" in gradescope["output"]
    assert gradescope["extra_data"]["late"]["penalty"] == 1
    document = results_document(results)
    assert document["submissions"][0]["late"]["text"].endswith("(10% of the points per day late or part "
                                                               "of a day, at most 50%)")
    again, _ = read_results(document)
    assert again[0].late == alice.late and again[0].person == RosterEntry(
        "alice", "Alice", "Liddell", "alice@example.edu", "101", "S1", "aliddell", "A")
