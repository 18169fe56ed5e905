"""No upload stops ``nbgrader autograde`` or costs another student a grade.

One class, in which every awkward upload of the issue is followed by an honest student:
copied cells, nbgrader metadata with schema version 99, empty, foreign or duplicated, a grade
cell without an id, a test cell turned into a raw cell, files that are not notebooks (text, a
zip renamed .ipynb, binary, JSON without cells, a link to ``/dev/zero``, a folder), a 36 MB
notebook of 200,000 cells and one of 200,000 small cells. ``autograde`` and
``generate_feedback`` exit 0; every student has a row in ``nbgrader export`` and in
formgrader's list, with the command line's score; what could not be shown or graded says why
and is flagged for review; no submission changes. A manual grade survives a later autograde.
"""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile
from dataclasses import dataclass

import pytest
from conftest import ROOT, require_tool
from hostile_support import digest
from nbgrader_course import Course, filled_in, start_formgrader

pytestmark = pytest.mark.slow

FULL = 23.0  # 01_losses


def _cells_with(notebook: dict, grade_id: str) -> list[dict]:
    return [c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id]


def uploads(reference: dict) -> dict[str, dict | bytes | str]:
    """student -> what they upload: a notebook (dict), bytes, or "link"/"folder"."""
    def edited(change) -> dict:
        notebook = copy.deepcopy(reference)
        change(notebook)
        return notebook

    def copied_cell(nb):  # Jupyter copies a cell with its nbgrader metadata
        (cell,) = _cells_with(nb, "mse")
        nb["cells"].insert(nb["cells"].index(cell) + 1, copy.deepcopy(cell))
        (test,) = _cells_with(nb, "test_mse")
        nb["cells"].append(copy.deepcopy(test))

    def schema_99(nb):
        for cell in nb["cells"]:
            if "nbgrader" in cell["metadata"]:
                cell["metadata"]["nbgrader"]["schema_version"] = 99

    def empty_metadata(nb):
        _cells_with(nb, "test_softmax")[0]["metadata"]["nbgrader"] = {}
        _cells_with(nb, "softmax")[0]["metadata"]["nbgrader"] = {}
        nb["cells"][0]["metadata"]["nbgrader"] = {}

    def duplicate_ids(nb):
        _cells_with(nb, "text_01")[0]["metadata"]["nbgrader"]["grade_id"] = "test_mse"
        _cells_with(nb, "mse_grad")[0]["metadata"]["nbgrader"]["grade_id"] = "mse"

    def grade_cell_without_id(nb):
        del _cells_with(nb, "test_cross_entropy")[0]["metadata"]["nbgrader"]["grade_id"]
        nb["cells"].append({"cell_type": "code", "execution_count": None, "outputs": [], "source": "x = 1",
                            "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": True,
                                                      "points": 100, "schema_version": 3}}})

    def foreign_metadata(nb):
        foreign = {"grade": "true", "grade_id": "test_mse_grad", "points": "lots", "spam": [1]}
        _cells_with(nb, "test_mse_grad")[0]["metadata"]["nbgrader"] = foreign
        _cells_with(nb, "text_02")[0]["metadata"]["nbgrader"]["grade_id"] = '<img src=x onerror="alert(1)">'
        test = _cells_with(nb, "test_softmax")[0]  # a test cell turned into a raw cell with an attachment
        test.update(cell_type="raw", attachments={"a.png": {"image/png": "iVBORw0KGgo="}})
        del test["outputs"], test["execution_count"]
        nb["metadata"] = {"nbgrader": {"x": 1}, "kernelspec": "python3", "autograder": {"not_shown": "ha"}}
        nb["cells"][0]["metadata"]["nbgrader"] = "yes"
        nb["cells"].append({"cell_type": "code", "execution_count": None, "outputs": [], "source": "",
                            "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": True,
                                                      "points": 5, "grade_id": "bonus",
                                                      "schema_version": 3}}})

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("losses.ipynb", json.dumps(reference))
    many = {"cell_type": "markdown", "metadata": {}, "source": "."}
    return {
        "a1_copied_cell": edited(copied_cell),
        "b1_schema_99": edited(schema_99),
        "c1_empty_metadata": edited(empty_metadata),
        "d1_duplicate_ids": edited(duplicate_ids),
        "e1_grade_cell_without_id": edited(grade_cell_without_id),
        "f1_foreign_metadata": edited(foreign_metadata),
        "g1_text": b"My homework is in the attached PDF.\n",
        "h1_zip": archive.getvalue(),
        "i1_binary": bytes(range(256)) * 64,
        "j1_huge": huge(reference),
        "k1_many_cells": edited(lambda nb: nb["cells"].extend([many] * 200_000)),
        "l1_json_without_cells": b'{"cells": 5, "nbformat": 4}',
        "m1_link": "link",
        "n1_folder": "folder",
        "o1_links_beside": "links beside",
    }


def huge(reference: dict) -> bytes:
    """The reference followed by 200,000 code cells: about 36 MB."""
    cell = json.dumps({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                       "source": "x = 1  # " + "padding " * 18})
    text = json.dumps(reference)
    return (text[:text.rindex("]")] + ("," + cell) * 200_000 + text[text.rindex("]"):]).encode()


NOT_NOTEBOOKS = {"g1_text": "not JSON", "h1_zip": "not a valid notebook file",
                 "i1_binary": "not UTF-8 text", "j1_huge": "too large to be a notebook",
                 "l1_json_without_cells": "no list of cells", "m1_link": "symbolic link",
                 "n1_folder": "not a regular file"}


@dataclass
class Graded:
    course: Course
    students: list[str]
    log: str
    export: dict[str, tuple[float, float]]
    before: dict
    after: dict


@pytest.fixture(scope="module")
def graded(tmp_path_factory, tool_env) -> Graded:
    require_tool("nbgrader")
    root = tmp_path_factory.mktemp("course")
    course = Course(root, "01_losses", tool_env, clone=True)
    reference = filled_in(course.release, ROOT / "solutions" / "01_losses" / "losses.ipynb")
    students = []
    for student, upload in uploads(reference).items():
        honest = student[0] + "2_honest"
        path = course.submit(student, reference)  # makes the folder
        if isinstance(upload, dict):
            path.write_text(json.dumps(upload), encoding="utf-8")
        elif isinstance(upload, bytes):
            path.write_bytes(upload)
        elif upload == "link":
            path.unlink()
            os.symlink("/dev/zero", path)
        elif upload == "links beside":  # the notebook is fine; beside it, what nbgrader would copy
            os.symlink(root / "solutions" / "01_losses" / "losses.ipynb", path.parent / "answers.txt")
            os.symlink("/dev/zero", path.parent / "zero.dat")
            os.mkfifo(path.parent / "pipe")
            (path.parent / "notes.txt").write_text("my notes")
        else:
            path.unlink()
            path.mkdir()
        course.submit(honest, reference)
        students += [student, honest]
    submitted = root / "grading" / "submitted"
    before = digest(submitted)
    autograde = course.nbgrader("autograde", "01_losses", "--create")
    course.nbgrader("generate_feedback", "01_losses")
    log = autograde.stdout + autograde.stderr
    return Graded(course, students, log, course.grades(), before, digest(submitted))


def feedback(graded: Graded, student: str) -> str:
    return (graded.course.root / "grading" / "feedback" / student / "01_losses" / "losses.html").read_text()


def test_every_student_is_graded_and_the_honest_ones_fully(graded):
    assert set(graded.export) == set(graded.students)
    for student in graded.students:
        expected = 0.0 if student in NOT_NOTEBOOKS else FULL
        assert graded.export[student] == (expected, FULL), student
    assert "Traceback" not in graded.log and "| ERROR]" not in graded.log, graded.log[-3000:]


def test_what_cannot_be_graded_or_shown_says_why_and_is_flagged(graded):
    for student, reason in NOT_NOTEBOOKS.items():
        page = feedback(graded, student)
        assert reason in page, student
        assert all(needs for *_, needs in graded.course.cell_grades(student).values()), student
    page = feedback(graded, "k1_many_cells")
    assert "This is not your notebook as submitted" in page
    assert "cells (nbgrader is given at most 2,000)" in page
    assert all(needs for *_, needs in graded.course.cell_grades("k1_many_cells").values())
    for student in graded.students:
        if student not in NOT_NOTEBOOKS and student != "k1_many_cells":
            assert not any(needs for *_, needs in graded.course.cell_grades(student).values()), student


def test_repaired_metadata_is_logged_and_grades_nothing_extra(graded):
    assert "a1_copied_cell/01_losses: cell" in graded.log and "a copy of another cell" in graded.log
    assert "a grade id the gradebook does not know" in graded.log
    assert "no grade id" in graded.log
    cells = graded.course.cell_grades("e1_grade_cell_without_id")
    assert sum(max_score for _, max_score, _ in cells.values()) == FULL, "a made-up grade cell counts nothing"


def test_submissions_are_left_as_they_were(graded):
    assert graded.after == graded.before


def test_the_command_line_gives_the_same_scores(graded):
    cli = graded.course.command_line(graded.course.root / "grading" / "submitted")
    for student, submission in cli.items():
        assert graded.export[student][0] == submission["score"], student


def test_formgrader_lists_every_student_with_their_score(graded, tmp_path):
    with start_formgrader(graded.course, tmp_path) as formgrader:
        listed = {s["student"]: (s["score"], s["needs_manual_grade"])
                  for s in formgrader.api("submitted_notebooks/01_losses/losses")}
    assert set(listed) == set(graded.students)
    for student, (score, flagged) in listed.items():
        assert score == graded.export[student][0], student
        assert flagged == (student in NOT_NOTEBOOKS or student == "k1_many_cells"), student


def test_a_manual_grade_survives_a_later_autograde(graded):
    from nbgrader.api import Gradebook

    course, student = graded.course, "a2_honest"
    with Gradebook(course.db_url) as gradebook:
        grade = gradebook.find_grade("test_mse", "losses", "01_losses", student)
        grade.manual_score = 0.5
        gradebook.db.commit()
    course.nbgrader("autograde", "01_losses", "--force", "--student", student)
    assert course.cell_grades(student)["test_mse"][0] == 0.5
    assert course.grades()[student] == (FULL - 2.0 + 0.5, FULL)


def test_only_regular_files_beside_a_notebook_are_copied(graded):
    grading = graded.course.root / "grading"
    for folder in (grading / "autograded" / "o1_links_beside" / "01_losses",
                   grading / "feedback" / "o1_links_beside" / "01_losses"):
        names = sorted(p.name for p in folder.iterdir())
        assert "answers.txt" not in names and "zero.dat" not in names and "pipe" not in names, names
    copied = grading / "autograded" / "o1_links_beside" / "01_losses" / "notes.txt"
    assert copied.read_text() == "my notes" and not copied.is_symlink()
    assert graded.export["o1_links_beside"] == (FULL, FULL)
