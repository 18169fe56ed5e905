"""Grades an LMS imports: Canvas's gradebook CSV, Moodle's grade import and a student x assignment
sheet with a column per function, from the command line's results or nbgrader's gradebook.

    python -m autograder export --results results.json --canvas canvas.csv --csv grades.csv
    python -m autograder export --gradebook --canvas canvas.csv     # nbgrader's, as configured

Both sources become one `Gradesheet` (one grade per student and assignment: the score, the
late penalty, the grade after it, the points of each function), which every format writes.
Students come from the roster (`autograder.roster`; for nbgrader, also the gradebook's names)
and from the results: a student of the roster with no submission gets an empty cell (or 0 with
``missing_as_zero``). Every cell is made safe for a spreadsheet (`autograder.text.csv_cell`):
names and folder names are never read as formulas.

Canvas's gradebook import (Grades > Import in Canvas) reads the columns ``Student``, ``ID``,
``SIS User ID``, ``SIS Login ID`` and ``Section``, then one column per assignment named
``Name (id)`` (the id of a Canvas assignment; a name alone makes a new assignment), and an
optional ``Points Possible`` row. Canvas matches a student by ``ID`` (their Canvas user id, the
roster's ``lms_user_id``) or their SIS ids, so a student without any is left out, with a note.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from autograder.course import Course
from autograder.results import SubmissionResult, read_results
from autograder.roster import Roster, RosterEntry
from autograder.text import csv_cell, one_line

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "    Points Possible"  # as Canvas's own export writes it
MOODLE_COLUMNS = ["ID number", "Email address", "First name", "Last name"]
SHEET_COLUMNS = ["student_id", "name", "email", "lms_user_id", "sis_user_id", "section"]


class ExportError(ValueError):
    """Grades that cannot be exported as asked (one line saying why)."""


@dataclass
class Grade:
    """One student's grade for one assignment."""

    score: float
    max_score: float
    penalty: float = 0.0
    functions: dict[str, float] = field(default_factory=dict)  # function -> points earned
    submitted_at: datetime | None = None
    status: str = "graded"  # or the lateness: "late", "not accepted", "on time", ...

    @property
    def final(self) -> float:
        return round(max(0.0, self.score - self.penalty), 6)


@dataclass
class Gradesheet:
    """Every student's grade per assignment, ready for any format.

    Attributes:
        assignments: the assignments, in course order.
        maxima: assignment -> its points.
        functions: assignment -> function -> its points, in assignment order.
        grades: student id -> assignment -> grade.
        people: student id -> what the roster (or the gradebook) knows of them.
    """

    assignments: list[str] = field(default_factory=list)
    maxima: dict[str, float] = field(default_factory=dict)
    functions: dict[str, dict[str, float]] = field(default_factory=dict)
    grades: dict[str, dict[str, Grade]] = field(default_factory=dict)
    people: dict[str, RosterEntry] = field(default_factory=dict)

    @property
    def students(self) -> list[str]:
        """Every student: the roster's and the graded ones, by name."""
        ids = set(self.people) | set(self.grades)
        return sorted(ids, key=lambda s: (self.person(s).sortable_name.casefold(), s))

    def person(self, student: str) -> RosterEntry:
        return self.people.get(student) or RosterEntry(student)


def _ordered(assignments: set[str]) -> list[str]:
    from autograder.assignments import ASSIGNMENTS

    return sorted(assignments, key=lambda a: (list(ASSIGNMENTS).index(a) if a in ASSIGNMENTS else 99, a))


def from_results(results: list[SubmissionResult], roster: Roster | None = None) -> Gradesheet:
    """The gradesheet of a class run's results (``grade --json``): one grade per student and
    assignment (a second result for the same pair is an error: they came from two runs)."""
    sheet = Gradesheet(people=dict(roster.entries) if roster else {})
    for r in results:
        if r.assignment is None:
            continue  # not recognised as any assignment: nothing to export
        if r.assignment in sheet.grades.get(r.student, {}):
            raise ExportError(f"{r.student} has two results for {r.assignment}: export one class run's "
                              "results")
        functions = {f: s for f, s, _ in r.by_function()}
        late = r.late
        sheet.grades.setdefault(r.student, {})[r.assignment] = Grade(
            r.score, r.max_score, r.penalty, functions, late.submitted_at if late else None,
            late.status.value if late else "graded")
        sheet.maxima[r.assignment] = max(sheet.maxima.get(r.assignment, 0.0), r.max_score)
        for function, _, most in r.by_function():
            sheet.functions.setdefault(r.assignment, {})[function] = most
        if r.person and r.student not in sheet.people:
            sheet.people[r.student] = r.person
    sheet.assignments = _ordered(set(sheet.maxima))
    return sheet


def from_gradebook(db_url: str, roster: Roster | None = None, course_id: str | None = None) -> Gradesheet:
    """The gradesheet of nbgrader's gradebook at ``db_url`` (SQLite or PostgreSQL): each
    submission's score, late penalty and timestamp as nbgrader recorded them, each grade cell's
    points credited to the function its ``check(...)`` call names, the students' names from the
    gradebook, completed by the roster (sections, SIS ids)."""
    from nbgrader.api import Gradebook

    from autograder.nbgrader_plugin import graded_target

    sheet = Gradesheet()
    with Gradebook(db_url, *([course_id] if course_id else [])) as gradebook:
        for student in gradebook.students:
            listed = roster.get(student.id) if roster else None
            sheet.people[student.id] = RosterEntry(
                student.id, first_name=student.first_name or "", last_name=student.last_name or "",
                email=student.email or "", lms_user_id=student.lms_user_id or "",
                **({"sis_user_id": listed.sis_user_id, "sis_login_id": listed.sis_login_id,
                    "section": listed.section} if listed else {}))
        for assignment in gradebook.assignments:
            if not assignment.notebooks:
                continue
            targets: dict[str, str] = {}
            for notebook in assignment.notebooks:
                for cell in notebook.grade_cells:
                    source = gradebook.find_source_cell(cell.name, notebook.name, assignment.name).source
                    targets[cell.name] = graded_target(source, assignment.name) or cell.name
                    functions = sheet.functions.setdefault(assignment.name, {})
                    functions[targets[cell.name]] = functions.get(targets[cell.name], 0.0) + cell.max_score
            sheet.maxima[assignment.name] = float(assignment.max_score)
            for submission in assignment.submissions:
                points: dict[str, float] = {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        target = targets.get(grade.name, grade.name)
                        points[target] = points.get(target, 0.0) + float(grade.score or 0.0)
                stamp = submission.timestamp.replace(tzinfo=UTC) if submission.timestamp else None
                late = submission.total_seconds_late > 0
                sheet.grades.setdefault(submission.student.id, {})[assignment.name] = Grade(
                    float(submission.score), float(submission.max_score),
                    float(submission.late_submission_penalty or 0.0), points, stamp,
                    "late" if late else "graded")
    sheet.assignments = _ordered(set(sheet.maxima))
    for entry in roster.entries.values() if roster else []:
        sheet.people.setdefault(entry.id, entry)
    return sheet


# --- formats -----------------------------------------------------------------------------------


def canvas_column(assignment: str, course: Course) -> str:
    """The Canvas column of ``assignment``: ``Name (id)`` when the course file names its Canvas
    assignment, else the name alone (Canvas then offers to create it)."""
    term = course.term(assignment)
    name = term.canvas_name or assignment
    return f"{name} ({term.canvas_id})" if term.canvas_id else name


def write_canvas(sheet: Gradesheet, path: str | Path, course: Course, *, missing_as_zero: bool = False,
                 ) -> list[str]:
    """Write Canvas's gradebook import CSV; return notes on students left out (no Canvas or SIS
    id to match them by).

    Raises:
        ExportError: no student has an id Canvas can match (no roster with lms_user_id, or
            sis_user_id / sis_login_id).
    """
    rows, left_out = [], []
    for student in sheet.students:
        person = sheet.person(student)
        if not (person.lms_user_id or person.sis_user_id or person.sis_login_id):
            if sheet.grades.get(student):
                left_out.append(student)
            continue
        grades = [_cell(sheet.grades.get(student, {}).get(a), missing_as_zero) for a in sheet.assignments]
        rows.append([person.sortable_name, person.lms_user_id, person.sis_user_id, person.sis_login_id,
                     person.section, *grades])
    if not rows:
        raise ExportError("Canvas matches students by their Canvas ID or SIS ids: give a roster with "
                          "lms_user_id (or sis_user_id / sis_login_id) in the course file")
    header = CANVAS_COLUMNS + [canvas_column(a, course) for a in sheet.assignments]
    points = [CANVAS_POINTS_ROW, "", "", "", "", *(sheet.maxima[a] for a in sheet.assignments)]
    _write(path, [header, points, *rows])
    return [f"{student} is not on the roster with a Canvas or SIS id: left out of the Canvas file"
            for student in left_out]


def write_sheet(sheet: Gradesheet, path: str | Path, *, missing_as_zero: bool = False) -> None:
    """Write the student x assignment CSV: who, then per assignment its score, late penalty,
    grade, maximum, submission time and status, then the points of each function
    (``01_losses: mse``). A student without a submission has empty cells and the status
    ``no submission`` (a grade of 0 with ``missing_as_zero``)."""
    header = list(SHEET_COLUMNS)
    for a in sheet.assignments:
        header += [f"{a} score", f"{a} late penalty", f"{a} grade", f"{a} max", f"{a} submitted",
                   f"{a} status", *(f"{a}: {f}" for f in sheet.functions.get(a, {}))]
    rows = [header]
    for student in sheet.students:
        p = sheet.person(student)
        row: list[object] = [student, p.name if p.name != student else "", p.email, p.lms_user_id,
                             p.sis_user_id, p.section]
        for a in sheet.assignments:
            g = sheet.grades.get(student, {}).get(a)
            functions = sheet.functions.get(a, {})
            if g is None:
                row += ["", "", 0.0 if missing_as_zero else "", sheet.maxima[a], "", "no submission",
                        *([""] * len(functions))]
                continue
            submitted = g.submitted_at.isoformat() if g.submitted_at else ""
            row += [g.score, g.penalty, g.final, g.max_score, submitted, g.status,
                    *(g.functions.get(f, 0.0) for f in functions)]
        rows.append(row)
    _write(path, rows)


def write_moodle(sheet: Gradesheet, path: str | Path, *, missing_as_zero: bool = False) -> None:
    """Write a CSV for Moodle's grade import (Grades > Import > CSV file): the student's ID
    number and e-mail (map either to Moodle's user field), names, then one column per
    assignment with the grade after any late penalty."""
    rows: list[list[object]] = [MOODLE_COLUMNS + list(sheet.assignments)]
    for student in sheet.students:
        p = sheet.person(student)
        grades = [_cell(sheet.grades.get(student, {}).get(a), missing_as_zero) for a in sheet.assignments]
        rows.append([p.sis_user_id or student, p.email, p.first_name or p.name_given, p.last_name, *grades])
    _write(path, rows)


def _cell(grade: Grade | None, missing_as_zero: bool) -> object:
    if grade is None:
        return 0.0 if missing_as_zero else ""
    return grade.final


def _write(path: str | Path, rows: list[list[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        for row in rows:
            writer.writerow([csv_cell(value) for value in row])


def read_results_file(path: Path) -> list[SubmissionResult]:
    """The results of a ``grade --json`` file.

    Raises:
        ExportError: it cannot be read or is not a results file.
    """
    try:
        return read_results(json.loads(Path(path).read_text(encoding="utf-8")))[0]
    except OSError as error:
        raise ExportError(f"{path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise ExportError(f"{path}: {error}") from None


def nbgrader_gradebook(folder: Path) -> tuple[str, str]:
    """(the gradebook's URL, the course id) that ``nbgrader_config.py`` in ``folder`` configures.

    Raises:
        ExportError: there is no nbgrader_config.py there, or it cannot be loaded.
    """
    from nbgrader.coursedir import CourseDirectory

    from autograder.course import CourseError
    from autograder.nbgrader_term import course_configuration

    try:
        config = course_configuration(folder)
    except CourseError as error:
        raise ExportError(f"{error} (or give --gradebook URL)") from None
    coursedir = CourseDirectory(config=config)
    return coursedir.db_url, coursedir.course_id


def export_command(results: str | None, gradebook: str | None, course: Course, canvas: str | None,
                   sheet_csv: str | None, moodle: str | None, missing_as_zero: bool) -> int:
    """``python -m autograder export``: write the files asked for; print what was written and
    any student left out. Returns 0, or 2 with a one-line error."""
    import sys

    if not (canvas or sheet_csv or moodle):
        print("error: nothing to write: give --canvas, --csv and/or --moodle", file=sys.stderr)
        return 2
    try:
        if results is not None:
            sheet = from_results(read_results_file(Path(results)), course.roster)
        else:
            url, course_id = (gradebook, None) if gradebook else nbgrader_gradebook(Path.cwd())
            sheet = from_gradebook(url, course.roster, course_id)
        notes = []
        if canvas:
            notes += write_canvas(sheet, canvas, course, missing_as_zero=missing_as_zero)
        if sheet_csv:
            write_sheet(sheet, sheet_csv, missing_as_zero=missing_as_zero)
        if moodle:
            write_moodle(sheet, moodle, missing_as_zero=missing_as_zero)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.filename}: {error.strerror or error}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {one_line(note, 400)}")
    written = ", ".join(f for f in (canvas, sheet_csv, moodle) if f)
    print(f"Wrote {written}: {len(sheet.students)} students, {len(sheet.assignments)} assignments")
    return 0
