"""Catalogue entries for gaps: a known-wrong implementation that an earlier check let through
(or named wrongly). The check that should catch it now fails, with the named diagnostic and
without a wrong one, and only its own function loses points."""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalogue import Wrong, graded
from conftest import scores_by_target


@dataclass(frozen=True)
class Gap:
    wrong: Wrong
    check: str = ""  # a regular expression: the titles of the checks that must now fail
    absent: str | None = None  # a regular expression the feedback must not match (a wrong diagnosis)


def assert_gap_closed(assignment_id: str, gap: Gap) -> None:
    wrong = gap.wrong
    results = graded(assignment_id, wrong.code)
    assert not any(r.error for r in results), "a check crashed instead of giving feedback"
    scores = scores_by_target(results)
    others = {t: s for t, s in scores.items() if t != wrong.target and s[0] != s[1]}
    assert not others, f"{wrong.mistake}: other functions lost points too: {others}"
    failing = [r for r in results if r.function == wrong.target and re.search(gap.check, r.title)]
    assert failing, f"{wrong.mistake}: no check of {wrong.target} matches {gap.check!r}"
    passed = [r.title for r in failing if r.passed]
    assert not passed, f"{wrong.mistake}: still earns the points of {passed}"
    feedback = "\n".join(r.feedback for r in failing)
    assert re.search(wrong.diagnostic, feedback), (
        f"{wrong.mistake}: feedback should match {wrong.diagnostic!r}, got:\n{feedback}"
    )
    if gap.absent:
        every = "\n".join(r.feedback for r in results if r.function == wrong.target)
        assert not re.search(gap.absent, every), (
            f"{wrong.mistake}: feedback should not match {gap.absent!r}, got:\n{every}"
        )
