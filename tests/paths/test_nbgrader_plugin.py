"""The nbgrader plugin's parts, without running nbgrader: which function each grade cell grades,
how a score becomes nbgrader's partial credit, and what the release's test cells look like to
the checksum comparison. (tests/paths/test_nbgrader_core.py runs nbgrader end to end.)"""

from __future__ import annotations

import json

import pytest
from conftest import EXERCISES, SOLUTIONS
from nbformat import from_dict
from nbgrader.utils import determine_grade
from nbgrader_course import grade_cell_targets

from autograder.assignments import ASSIGNMENTS
from autograder.flags import Flag, FlagKind
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
