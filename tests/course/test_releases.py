"""The student releases: generated from solutions/, up to date, graded consistently,
and free of solution code and quiz answers."""

from __future__ import annotations

import json
import re

import pytest
from conftest import EXERCISES, SOLUTIONS, require_tool
from leaks import leaks_in, secret_lines
from nbgrader_course import Course

from autograder.assignments import ASSIGNMENTS

RELEASED = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir())


def cells(notebook):
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_every_assignment_in_solutions_is_known_to_the_grader_and_every_registered_one_has_a_reference():
    assert RELEASED, "solutions/ holds no assignment"
    assert set(RELEASED) == set(ASSIGNMENTS), "solutions/<id>/ and the registry's entries should match"
    for assignment_id in RELEASED:
        notebook = SOLUTIONS / assignment_id / ASSIGNMENTS[assignment_id].notebook
        assert notebook.is_file(), f"the release name of {assignment_id} is that of its reference notebook"
        metadata = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]
        assert metadata.get("autograder") == {"assignment": assignment_id}, notebook


@pytest.mark.parametrize("assignment_id", RELEASED)
def test_each_target_has_a_test_cell_worth_its_checks(assignment_id):
    """nbgrader's points per cell equal the CLI's points per function."""
    assignment = ASSIGNMENTS[assignment_id]
    (notebook,) = (SOLUTIONS / assignment_id).glob("*.ipynb")
    tests = {}
    for cell in cells(notebook):
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            match = re.search(rf'check\("{assignment_id}", "(\w+)"\)', source(cell))
            assert match, f"test cell {meta['grade_id']} does not call check()"
            target = match.group(1)
            assert f'check("{assignment_id}", "{target}", hidden=True)' in source(cell)
            assert "### BEGIN HIDDEN TESTS" in source(cell)
            tests[target] = meta["points"]
    assert tests == {t: assignment.points(t) for t in assignment.targets}


@pytest.mark.parametrize("assignment_id", RELEASED)
def test_every_function_has_a_solution_cell(assignment_id):
    (notebook,) = (SOLUTIONS / assignment_id).glob("*.ipynb")
    solutions = "\n".join(source(c) for c in cells(notebook)
                          if c["metadata"].get("nbgrader", {}).get("solution"))
    for function in ASSIGNMENTS[assignment_id].functions:
        assert f"def {function}(" in solutions or f"class {function}:" in solutions
    assert solutions.count("### BEGIN SOLUTION") == solutions.count("### END SOLUTION")


def test_exercises_hold_no_solution_code_or_quiz_answers():
    secrets = secret_lines()
    assert len(secrets) > 20, "the leak check found too few solution lines to be meaningful"
    assert leaks_in(sorted(EXERCISES.rglob("*.ipynb")), secrets) == {}


@pytest.mark.slow
def test_exercises_are_exactly_what_nbgrader_generates(tmp_path, tool_env):
    """A stale release fails here: run `make exercises` and commit the result."""
    require_tool("nbgrader")
    for assignment_id in RELEASED:
        (tmp_path / assignment_id).mkdir()
        course = Course(tmp_path / assignment_id, assignment_id, tool_env)
        course.nbgrader("generate_assignment", assignment_id, "--force")
        generated = course.release
        committed = EXERCISES / assignment_id / generated.name
        assert committed.exists(), f"{committed} is missing: run `make exercises`"
        assert committed.read_bytes() == generated.read_bytes(), (
            f"{committed} is stale: run `make exercises` and commit the result"
        )
