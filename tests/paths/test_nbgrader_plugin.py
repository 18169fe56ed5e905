"""The nbgrader plugin's parts, without running nbgrader: which function each grade cell grades,
how a score becomes nbgrader's partial credit, what the release's test cells look like to
the checksum comparison, and what autograde takes in of a submission.
(tests/paths/test_nbgrader_core.py runs nbgrader end to end.)"""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import EXERCISES, SOLUTIONS
from nbconvert.preprocessors import Preprocessor
from nbformat import from_dict
from nbgrader.utils import determine_grade
from nbgrader_course import grade_cell_targets

from autograder.assignments import ASSIGNMENTS
from autograder.flags import Flag, FlagKind
from autograder.nbgrader_intake import (
    Admission,
    BoundedNotebookExporter,
    SourceCell,
    admitted,
    not_shown,
    stand_in,
)
from autograder.nbgrader_plugin import (
    RestoreTestCells,
    cell_outputs,
    graded_target,
    not_graded_outputs,
    why_not_graded,
)
from autograder.results import CheckResult, SubmissionResult

RELEASED = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir())


def grade_cells(folder, assignment_id: str) -> list[dict]:
    (notebook,) = (folder / assignment_id).glob("*.ipynb")
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade")
            and not c["metadata"]["nbgrader"].get("solution")]


@pytest.mark.parametrize("assignment_id", RELEASED)
def test_every_grade_cell_grades_one_target_worth_its_points(assignment_id):
    """Each target of the assignment has exactly one test cell, found by the plugin's parser
    in the source and in the release alike, and the cell is worth what the target's checks are."""
    assignment = ASSIGNMENTS[assignment_id]
    (source,) = (SOLUTIONS / assignment_id).glob("*.ipynb")
    for folder in (SOLUTIONS, EXERCISES):
        cells = grade_cells(folder, assignment_id)
        targets = {c["metadata"]["nbgrader"]["grade_id"]: graded_target(c["source"], assignment_id)
                   for c in cells}
        assert targets == grade_cell_targets(source, assignment_id)
        assert sorted(targets.values()) == sorted(assignment.targets)
        for cell in cells:
            target = targets[cell["metadata"]["nbgrader"]["grade_id"]]
            assert cell["metadata"]["nbgrader"]["points"] == assignment.points(target), target


@pytest.mark.parametrize("source, target", [
    ('from autograder import check\ncheck("01_losses", "mse")', "mse"),
    ('import autograder\nautograder.check("01_losses", "Q1")\n'
     'autograder.check("01_losses", "Q1", hidden=True)', "Q1"),
    ('check("02_backprop", "mse")', None),  # another assignment
    ('check("01_losses", "mse")\ncheck("01_losses", "softmax")', None),  # two targets
    ('print("All checks passed.")', None),
    ('check("01_losses", name)', None),
    ("check(", None),
])
def test_graded_target_reads_the_check_call(source, target):
    assert graded_target(source, "01_losses") == target


def grade_of(outputs, points: float) -> float:
    cell = from_dict({"cell_type": "code", "source": "", "outputs": outputs, "execution_count": None,
                      "metadata": {"nbgrader": {"grade": True, "solution": False, "grade_id": "t",
                                                "points": points, "locked": True}}})
    return determine_grade(cell)[0]


def checks(*outcomes: tuple[float, float, str]) -> list[CheckResult]:
    return [CheckResult("mse", f"check {i}", points, score=score, feedback=feedback)
            for i, (score, points, feedback) in enumerate(outcomes)]


def test_a_partly_correct_function_gets_partial_credit_and_its_feedback():
    wrong = "mse: wrong on shape (3, 4)"
    results = checks((0.5, 0.5, ""), (0.0, 0.5, wrong), (0.0, 1.0, wrong))
    score, outputs = cell_outputs("mse", results, 2.0)
    assert score == 0.5 == grade_of(outputs, 2.0)
    stream, result, error = outputs
    assert stream["text"].splitlines() == ["✓ mse: check 0", "✗ mse: check 1", "✗ mse: check 2",
                                           "mse: 0.5 / 2 points"]
    assert error["output_type"] == "error"
    assert error["traceback"] == ["✗ mse: check 1  (0 / 0.5)\n    mse: wrong on shape (3, 4)",
                                  "✗ mse: check 2  (0 / 1)\n    (same as above)"]


def test_full_and_zero_scores_read_back_exactly():
    score, outputs = cell_outputs("mse", checks((1.0, 1.0, ""), (1.0, 1.0, "")), 2.0)
    assert score == 2.0 == grade_of(outputs, 2.0)
    assert [o["output_type"] for o in outputs] == ["stream", "execute_result"]
    score, outputs = cell_outputs("mse", checks((0.0, 1.0, "no"), (0.0, 1.0, "no")), 2.0)
    assert score == 0.0 == grade_of(outputs, 2.0)
    assert grade_of(not_graded_outputs("not a notebook"), 2.0) == 0.0


def test_a_cell_worth_other_points_than_its_checks_is_scaled_and_says_so():
    score, outputs = cell_outputs("mse", checks((1.0, 1.0, ""), (0.0, 1.0, "no")), 4.0)
    assert score == 2.0 == grade_of(outputs, 4.0)
    assert "scaled" in outputs[0]["text"]


def test_why_a_notebook_is_not_graded():
    checked = [CheckResult("mse", "matches known values", 1.0, score=1.0)]
    graded = SubmissionResult("/course/submitted/ann/01_losses/losses.ipynb", "ann", assignment="01_losses",
                              checks=checked)
    assert why_not_graded(graded, "01_losses") is None
    other = SubmissionResult("/x/losses.ipynb", "ann", assignment="02_backprop", checks=checked)
    assert "assignment 02_backprop's, not 01_losses's" in why_not_graded(other, "01_losses")
    path = "/course/submitted/ann/01_losses/losses.ipynb"
    unreadable = SubmissionResult(path, "ann", flags=[
        Flag(FlagKind.NOT_GRADED, f"not graded: {path}: not JSON"), Flag(FlagKind.SUSPICIOUS, "not for ann")])
    assert why_not_graded(unreadable, "01_losses") == "not graded: losses.ipynb: not JSON"
    stopped = SubmissionResult(path, "ann", assignment="01_losses",
                               flags=[Flag(FlagKind.TIMED_OUT, "timed out: grading took longer than 300 s")])
    assert why_not_graded(stopped, "01_losses") == "timed out: grading took longer than 300 s"


@pytest.mark.parametrize("assignment_id", RELEASED)
def test_untouched_release_test_cells_are_recognised(assignment_id):
    """The release's test cell is the source's without its hidden tests: RestoreTestCells sees
    an untouched cell, restores the hidden tests silently, and warns only about real edits."""
    restore = RestoreTestCells()
    released = {c["metadata"]["nbgrader"]["grade_id"]: c["source"]
                for c in grade_cells(EXERCISES, assignment_id)}
    for cell in grade_cells(SOLUTIONS, assignment_id):
        assert "### BEGIN HIDDEN TESTS" in cell["source"]
        assert restore.released_source(cell["source"]) == released[cell["metadata"]["nbgrader"]["grade_id"]]
    assert restore.released_source("### BEGIN HIDDEN TESTS\nassert True") is None


# --- what autograde takes in (autograder.nbgrader_intake) ---------------------------------


def test_a_submission_is_admitted_inert_and_valid(tmp_path):
    from page_attacks import hostile_notebook

    release = json.loads((EXERCISES / "01_losses" / "losses.ipynb").read_text(encoding="utf-8"))
    path = tmp_path / "losses.ipynb"
    path.write_text(json.dumps(hostile_notebook(release, "http://127.0.0.1:9", malformed=True)))
    nb = admitted(path, Admission())
    nbformat.validate(nb)  # what nbgrader's steps require, whatever was uploaded
    assert not_shown(nb) is None
    grade_ids = [c.metadata.nbgrader["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert grade_ids == [c["metadata"]["nbgrader"]["grade_id"] for c in release["cells"]
                         if "nbgrader" in c["metadata"]]
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    shown = {"text/plain", "text/html", "image/png"}
    assert outputs and all(set(o.get("data", {})) <= shown for o in outputs)
    assert all("<script" not in o.get("data", {}).get("text/html", "") for o in outputs)
    assert all(c.get("execution_count") in (None, 1) for c in nb.cells)
    assert all(not c.metadata.get("raw_mimetype") and not c.metadata.get("format") for c in nb.cells)


@pytest.mark.parametrize("content, reason", [
    (b"\xff\xfePK", "not UTF-8 text"),
    (b"[1, 2]", "no list of cells"),
    (json.dumps({"cells": [{"cell_type": "markdown", "source": "."}] * 2_001}).encode(), "2,001 cells"),
    (json.dumps({"cells": [{"cell_type": "code", "source": "x" * 500_001}]}).encode(), "500,001 characters"),
])
def test_what_nbgrader_is_not_given_becomes_a_stand_in_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "losses.ipynb"
    path.write_bytes(content)
    nb = admitted(path, Admission())
    assert nb.cells == [] and reason in not_shown(nb)
    assert str(tmp_path) not in not_shown(nb), "the student sees the file's name, not the grader's path"


def test_only_autogrades_own_copy_keeps_its_stand_in_note(tmp_path):
    path = tmp_path / "losses.ipynb"
    path.write_text(json.dumps({"cells": [], "metadata": {"autograder": {"not_shown": "a forged note"}}}))
    assert not_shown(admitted(path, Admission())) is None
    assert not_shown(admitted(path, Admission(), submitted=False)) == "a forged note"


@pytest.mark.parametrize("assignment_id", RELEASED)
def test_a_stand_in_shows_the_release_never_the_solution(assignment_id):
    """A stand-in is made of the gradebook's source cells, which hold the reference solution:
    its solution cells are empty."""
    (source,) = (SOLUTIONS / assignment_id).glob("*.ipynb")
    cells = {}
    for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]:
        meta = cell["metadata"].get("nbgrader")
        if meta:
            cells[meta["grade_id"]] = SourceCell(meta["grade_id"], cell["cell_type"], "".join(cell["source"]),
                                                 meta["locked"], None, meta["grade"], meta["solution"],
                                                 False, meta.get("points"))
    nb = stand_in(cells, "it has 9,999 cells")
    nbformat.validate(nb)
    text = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in text and "it has 9,999 cells" in nb.cells[0].source
    assert [c.metadata.nbgrader["grade_id"] for c in nb.cells[1:]] == list(cells)


class FailsOnCells(Preprocessor):
    """A step of nbgrader that fails on any notebook with cells (as one might on an upload no
    one foresaw)."""

    def preprocess(self, nb, resources):
        if nb.cells:
            raise ValueError("unforeseen")
        return nb, resources


def test_a_submission_nbgraders_steps_fail_on_is_graded_from_its_stand_in(tmp_path, monkeypatch):
    path = tmp_path / "losses.ipynb"
    path.write_text((EXERCISES / "01_losses" / "losses.ipynb").read_text(encoding="utf-8"))
    exporter = BoundedNotebookExporter()
    exporter.register_preprocessor(FailsOnCells(), enabled=True)
    monkeypatch.setattr(BoundedNotebookExporter, "_is_submission", lambda self, p: True)
    output, _ = exporter.from_filename(str(path), resources={"nbgrader": {}})
    assert "nbgrader could not process it (ValueError: unforeseen)" in not_shown(nbformat.reads(output, 4))
    monkeypatch.setattr(BoundedNotebookExporter, "_is_submission", lambda self, p: False)
    with pytest.raises(ValueError, match="unforeseen"):  # autograde's own copy: its failure is reported
        exporter.from_filename(str(path), resources={"nbgrader": {}})
