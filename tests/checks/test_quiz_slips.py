"""A wrong quiz answer that a known slip explains gets that slip's hint, in every assignment."""

from __future__ import annotations

import pytest
from conftest import grade

from autograder.checks.quiz import slips_of

CASES = [("01_losses", "Q2", "60"), ("03_optimizers", "Q2", "32"), ("04_training", "Q1", "390")]


@pytest.mark.parametrize("assignment_id, name, answer", CASES)
def test_a_known_slip_is_named(assignment_id, name, answer):
    (slip,) = [s for s in slips_of(assignment_id, name) if str(s.answer) == answer]
    results = grade(assignment_id, f"{name} = {answer}\n")
    (right,) = [r for r in results if r.function == name and r.hidden]
    assert right.score == 0 and f"Likely mistake: {slip.hint}" in right.feedback
