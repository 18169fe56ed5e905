"""Shared logic of the catalogue tests: a known-wrong implementation must lose the points
of the function it breaks, and only those, with feedback that names the mistake."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conftest import grade, scores_by_target


@dataclass(frozen=True)
class Wrong:
    target: str
    mistake: str
    code: str
    diagnostic: str  # a regular expression the feedback must match


def assert_loses_its_own_points(assignment_id: str, wrong: Wrong) -> None:
    results = grade(assignment_id, wrong.code)
    scores = scores_by_target(results)
    score, max_score = scores[wrong.target]
    assert score < max_score, f"{wrong.mistake}: expected to lose points, got {score}/{max_score}"
    others = {t: s for t, s in scores.items() if t != wrong.target and s[0] != s[1]}
    assert not others, f"{wrong.mistake}: other functions lost points too: {others}"
    feedback = "\n".join(r.feedback for r in results if r.function == wrong.target)
    assert re.search(wrong.diagnostic, feedback), (
        f"{wrong.mistake}: feedback should match {wrong.diagnostic!r}, got:\n{feedback}"
    )
    assert not any(r.error for r in results), "a check crashed instead of giving feedback"


def assert_full_marks(assignment_id: str, name: str, code: str) -> None:
    results = grade(assignment_id, code)
    lost = [f"{r.name}:\n{r.feedback}" for r in results if not r.passed]
    assert not lost, f"{name} should earn full marks, lost:\n" + "\n".join(lost)
