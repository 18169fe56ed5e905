"""A wrong quiz answer that a known slip explains gets that slip's hint, in every assignment."""

from __future__ import annotations

import re

import pytest
from conftest import grade, reference

from autograder.assignments import ASSIGNMENTS
from autograder.checks.quiz import slips_of

CASES = [("01_losses", "Q2", "60"), ("03_optimizers", "Q2", "32"), ("04_training", "Q1", "390")]


@pytest.mark.parametrize("assignment_id, name, answer", CASES)
def test_a_known_slip_is_named(assignment_id, name, answer):
    (slip,) = [s for s in slips_of(assignment_id, name) if str(s.answer) == answer]
    results = grade(assignment_id, f"{name} = {answer}\n")
    (right,) = [r for r in results if r.function == name and r.hidden]
    assert right.score == 0 and f"Likely mistake: {slip.hint}" in right.feedback


QUESTIONS = [(a, name) for a in sorted(ASSIGNMENTS) for name in ASSIGNMENTS[a].quiz]


@pytest.mark.parametrize("assignment_id, name", QUESTIONS)
def test_every_slip_is_a_wrong_answer_whose_hint_keeps_the_right_one_to_itself(assignment_id, name):
    kind, key = ASSIGNMENTS[assignment_id].quiz[name], reference(assignment_id)
    right = kind.read(name, key.get(name))
    for slip in slips_of(assignment_id, name):
        assert not kind.same(kind.read(name, slip.answer), right), f"{name} = {slip.answer!r} is right"
        forms = {right} if isinstance(right, str) else {f"{right:g}", str(right)}
        for form in forms:
            assert not re.search(rf"(?<![\w.]){re.escape(form)}(?![\w]|\.\d)", slip.hint), (name, slip)
