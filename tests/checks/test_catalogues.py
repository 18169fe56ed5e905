"""Every assignment's catalogue (tests/checks/test_<topic>_catalogue.py, see `catalogue`), graded:
each known-wrong implementation loses the points of the function it breaks (and only those) with
feedback naming the mistake; each gap an earlier check let through is closed; each correct
variant earns full marks. And every assignment of the registry has a catalogue."""

from __future__ import annotations

import sys

import pytest
from catalogue import CATALOGUES, CHECKS, assert_full_marks, assert_loses_its_own_points, catalogue
from gaps import assert_gap_closed

from autograder.assignments import ASSIGNMENTS


@pytest.fixture(autouse=True)
def default_recursion_limit():
    """Variants may raise the recursion limit; every test starts from Python's default."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(limit)


def cases(name: str) -> list:
    """(assignment, entry) of every catalogue's list ``name`` (WRONG, GAPS)."""
    return [(a, entry) for a in CATALOGUES for entry in getattr(catalogue(a), name, [])]


def named(case) -> str:
    assignment_id, entry = case
    wrong = getattr(entry, "wrong", entry)
    return f"{assignment_id}: {wrong.target}: {wrong.mistake}"


@pytest.mark.parametrize("case", cases("WRONG"), ids=named)
def test_wrong_implementation_loses_its_own_points_with_a_named_mistake(case):
    assert_loses_its_own_points(*case)


@pytest.mark.parametrize("case", cases("GAPS"), ids=named)
def test_a_gap_of_an_earlier_check_is_closed_with_the_mistake_named(case):
    assert_gap_closed(*case)


@pytest.mark.parametrize("assignment_id, variant",
                         [(a, name) for a in CATALOGUES for name in catalogue(a).CORRECT],
                         ids=lambda value: str(value))
def test_correct_variant_earns_full_marks(assignment_id, variant):
    assert_full_marks(assignment_id, variant, catalogue(assignment_id).CORRECT[variant])


def test_every_assignment_has_a_catalogue_of_a_null_notebook_and_wrong_and_correct_variants():
    assert set(CATALOGUES) == set(ASSIGNMENTS), (
        "each assignment needs tests/checks/test_<topic>_catalogue.py declaring ASSIGNMENT = \"<id>\" "
        f"(catalogues: {sorted(CATALOGUES)}, assignments: {sorted(ASSIGNMENTS)})")
    files = sorted(path.stem for path in CHECKS.glob("test_*_catalogue.py"))
    assert sorted(CATALOGUES.values()) == files, "a catalogue without ASSIGNMENT, or two for one assignment"
    for assignment_id in CATALOGUES:
        module = catalogue(assignment_id)
        assert isinstance(getattr(module, "NULL", None), str), f"{module.__name__}: NULL is missing"
        wrong = {w.target for w in getattr(module, "WRONG", [])}
        assert wrong, f"{module.__name__}: WRONG is empty"
        assert wrong <= set(ASSIGNMENTS[assignment_id].targets), f"{module.__name__}: {wrong}"
        assert getattr(module, "CORRECT", {}), f"{module.__name__}: CORRECT is empty"
