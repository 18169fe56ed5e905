"""nbgrader end to end: generate -> submit -> autograde -> export, in a temporary course."""

from __future__ import annotations

import json

import pytest
from conftest import SOLUTIONS, require_tool
from nbgrader_course import Course, filled_in

from autograder.assignments import get_assignment

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("assignment_id", sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir()))
def test_reference_earns_full_marks_and_release_zero(tmp_path, tool_env, assignment_id):
    require_tool("nbgrader")
    course = Course(tmp_path, assignment_id, tool_env)
    course.nbgrader("generate_assignment", assignment_id, "--force")

    source = next((SOLUTIONS / assignment_id).glob("*.ipynb"))
    alice = course.submit("alice", filled_in(course.release, source))
    course.submit("bob", json.loads(course.release.read_text(encoding="utf-8")))
    before = alice.read_bytes()
    course.nbgrader("autograde", assignment_id, "--create")

    grades = course.grades()
    total = sum(c.points for c in get_assignment(assignment_id).checks())
    assert grades["alice"] == (total, total)
    assert grades["bob"] == (0.0, total)
    assert alice.read_bytes() == before, "grading must not modify the submission"
