"""Shared logic of the catalogue tests: a known-wrong implementation must lose the points of the
function it breaks, and only those, with feedback that names the mistake, and names no other.

A *claim* is a diagnosis the feedback makes: a ``Likely mistake:`` line (and the failure's
``mistake`` label). Everything else in feedback is evidence: what was seen, and where to look.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from conftest import grade, scores_by_target

from autograder.results import CheckResult, mistake_label

CLAIM = re.compile(r"Likely mistake: (.*)")


@dataclass(frozen=True)
class Wrong:
    target: str
    mistake: str
    code: str
    diagnostic: str  # a regular expression the feedback must match (and every claim in it)


@functools.cache
def graded(assignment_id: str, code: str) -> tuple[CheckResult, ...]:
    """`conftest.grade`, once per variant in a test session (the catalogues share their mutants)."""
    return tuple(grade(assignment_id, code))


def claims(results: tuple[CheckResult, ...] | list[CheckResult], target: str) -> list[str]:
    """Every diagnosis the feedback of ``target``'s checks makes."""
    return [claim for r in results if r.function == target for claim in CLAIM.findall(r.feedback)]


def foreign_claims(results, wrong: Wrong) -> list[str]:
    """The claims about ``wrong.target`` that are not ``wrong``'s own diagnosis, and any claim about
    another function (whose checks should all pass). A claim is its own when the diagnostic matches
    it where it stands in the feedback, or it is the same claim on another input (its label)."""
    feedback = "\n".join(r.feedback for r in results if r.function == wrong.target)
    matched = [m.span() for m in re.finditer(wrong.diagnostic, feedback)]
    own = set()
    for line in CLAIM.finditer(feedback):
        if any(start < line.end(1) and line.start(1) < end for start, end in matched):
            own.add(mistake_label(line.group(1)))
    foreign = [c for c in claims(results, wrong.target) if mistake_label(c) not in own]
    # a recognised mistake stated in the message itself (no "Likely mistake" line): its label
    foreign += [r.mistake for r in results if r.function == wrong.target and r.mistake
                and not CLAIM.search(r.feedback) and not re.search(wrong.diagnostic, r.feedback)]
    return foreign + [f"{r.function}: {c}" for r in results if r.function != wrong.target
                      for c in CLAIM.findall(r.feedback) or ([r.mistake] if r.mistake else [])]


def assert_loses_its_own_points(assignment_id: str, wrong: Wrong) -> None:
    results = graded(assignment_id, wrong.code)
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
    results = graded(assignment_id, code)
    lost = [f"{r.name}:\n{r.feedback}" for r in results if not r.passed]
    assert not lost, f"{name} should earn full marks, lost:\n" + "\n".join(lost)


# The catalogues: one test module per assignment, ``tests/checks/test_<topic>_catalogue.py``, found
# by its name. Each declares ASSIGNMENT (the assignment's id), NULL (a notebook whose functions do
# nothing: it must earn 0), WRONG (known-wrong implementations), CORRECT (correct variants written
# differently from the reference: name -> code) and, where useful, GAPS (what earlier checks let
# through) and NEAR_MISSES (wrong in a way no catalogued mistake describes: they must get evidence,
# never a claim). tests/checks/test_catalogues.py grades them all; it also requires a catalogue for
# every assignment of the registry.
CHECKS = Path(__file__).parent / "checks"


def _declared_assignment(path: Path) -> str | None:
    """The ``ASSIGNMENT = "<id>"`` a catalogue module declares, read without importing it (the
    catalogues import this module)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["ASSIGNMENT"]
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return node.value.value
    return None


CATALOGUES = dict(sorted((assignment_id, path.stem) for path in CHECKS.glob("test_*_catalogue.py")
                         if (assignment_id := _declared_assignment(path))))  # in the course's order


def catalogue(assignment_id: str) -> ModuleType:
    """The catalogue module of ``assignment_id``."""
    return importlib.import_module(CATALOGUES[assignment_id])


def mutants() -> Iterator[tuple[str, Wrong]]:
    """(assignment, mutant) for every known-wrong implementation of every catalogue."""
    for assignment_id in CATALOGUES:
        module = catalogue(assignment_id)
        yield from ((assignment_id, wrong) for wrong in getattr(module, "WRONG", []))
        yield from ((assignment_id, gap.wrong) for gap in getattr(module, "GAPS", []))


def near_misses() -> Iterator[tuple[str, Wrong]]:
    for assignment_id in CATALOGUES:
        yield from ((assignment_id, wrong) for wrong in getattr(catalogue(assignment_id), "NEAR_MISSES", []))


def correct_variants() -> Iterator[tuple[str, str, str]]:
    for assignment_id in CATALOGUES:
        module = catalogue(assignment_id)
        yield from ((assignment_id, name, code) for name, code in getattr(module, "CORRECT", {}).items())


def null_notebooks() -> Iterator[tuple[str, str]]:
    """(assignment, the code of a notebook whose functions do nothing) for every catalogue."""
    for assignment_id in CATALOGUES:
        yield assignment_id, catalogue(assignment_id).NULL
