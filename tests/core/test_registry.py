"""The registry (autograder/assignments.py) is whole: what an assignment declares is what its checks
grade, for every assignment it holds. A new assignment that misses a piece fails here, with what
to add (the README's "Adding an assignment")."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from autograder.assignments import ASSIGNMENTS
from autograder.checks import checks_in
from autograder.checks.quiz import Choice, Number

IDS = sorted(ASSIGNMENTS)


@pytest.mark.parametrize("assignment_id", IDS)
def test_every_target_has_public_and_hidden_checks_and_every_check_a_declared_target(assignment_id):
    assignment = ASSIGNMENTS[assignment_id]
    checks = assignment.checks()
    for target in assignment.targets:
        kinds = {c.hidden for c in checks if c.target == target}
        assert kinds == {False, True}, (
            f"{target}: needs public checks and hidden ones (@check(..., hidden=True)) in "
            f"{', '.join(assignment.checks_modules) or 'a checks module named in checks_modules'}")
        assert sum(c.points for c in checks if c.target == target) > 0, f"{target} is worth nothing"
    strays = sorted({c.target for c in checks} - set(assignment.targets))
    assert not strays, f"checks of {strays}, which are not functions or quiz answers of {assignment_id}"


@pytest.mark.parametrize("assignment_id", IDS)
def test_each_checks_module_declares_checks_and_belongs_to_one_assignment(assignment_id):
    import importlib

    for name in ASSIGNMENTS[assignment_id].checks_modules:
        assert checks_in(importlib.import_module(name)), f"{name} declares no @check"
    owners = Counter(m for a in ASSIGNMENTS.values() for m in a.checks_modules)
    assert all(owners[m] == 1 for m in ASSIGNMENTS[assignment_id].checks_modules), owners


@pytest.mark.parametrize("assignment_id", IDS)
def test_builds_on_and_quiz_name_what_the_assignment_holds(assignment_id):
    assignment = ASSIGNMENTS[assignment_id]
    known = set(assignment.functions) | set(assignment.helpers)
    for target, lent in assignment.builds_on.items():
        assert target in assignment.functions, f"builds_on names {target!r}, not a function"
        assert set(lent) <= known, f"{target} builds on {set(lent) - known}, not functions or helpers"
    for name, kind in assignment.quiz.items():
        assert re.fullmatch(r"Q\d+", name) and isinstance(kind, Choice | Number), (name, kind)


def test_ids_release_names_and_functions_are_each_one_assignments():
    """The assignment is recognised from a notebook's functions, and graded by its release name."""
    releases = Counter(a.notebook for a in ASSIGNMENTS.values())
    assert all(n == 1 and name.endswith(".ipynb") for name, n in releases.items()), releases
    functions = Counter(f for a in ASSIGNMENTS.values() for f in (*a.functions, *a.helpers))
    assert [f for f, n in functions.items() if n > 1] == []
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", a.id) and a.id == key for key, a in ASSIGNMENTS.items())
