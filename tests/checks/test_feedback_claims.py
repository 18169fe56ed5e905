"""Feedback never claims a mistake the code does not have: the whole mutant catalogue at once.

Each known-wrong implementation's feedback holds its own diagnosis and no other claim (about its
function or any other); each near miss (wrong in a way no catalogued mistake describes) gets
evidence and no claim at all; correct variants get no feedback. See `catalogue`.
"""

from __future__ import annotations

import re

from catalogue import CLAIM, claims, correct_variants, foreign_claims, graded, mutants, near_misses


def test_every_mutant_gets_its_own_diagnosis_and_no_other():
    problems = []
    for assignment_id, wrong in mutants():
        results = graded(assignment_id, wrong.code)
        feedback = "\n".join(r.feedback for r in results if r.function == wrong.target)
        if not re.search(wrong.diagnostic, feedback):
            problems.append(f"{assignment_id} {wrong.target} ({wrong.mistake}): its own diagnosis "
                            f"{wrong.diagnostic!r} is missing")
        problems += [f"{assignment_id} {wrong.target} ({wrong.mistake}): also claims {claim!r}"
                     for claim in foreign_claims(results, wrong)]
    assert not problems, "\n".join(problems)


def test_a_near_miss_gets_evidence_and_no_claim():
    problems = []
    for assignment_id, wrong in near_misses():
        results = graded(assignment_id, wrong.code)
        lost = [r for r in results if r.function == wrong.target and not r.passed]
        if not lost:
            problems.append(f"{wrong.target} ({wrong.mistake}): not caught")
        problems += [f"{wrong.target} ({wrong.mistake}): claims {claim!r}"
                     for claim in claims(results, wrong.target)]
        problems += [f"{r.name} ({wrong.mistake}): names {r.mistake!r}" for r in results if r.mistake]
        feedback = "\n".join(r.feedback for r in lost)
        if lost and not re.search(wrong.diagnostic, feedback):
            problems.append(f"{wrong.target} ({wrong.mistake}): the evidence {wrong.diagnostic!r} is missing")
    assert not problems, "\n".join(problems)


def test_a_correct_variant_gets_no_claim():
    problems = [f"{assignment_id} {name}: {r.name}: {claim}"
                for assignment_id, name, code in correct_variants()
                for r in graded(assignment_id, code)
                for claim in CLAIM.findall(r.feedback) + ([r.mistake] if r.mistake else [])]
    assert not problems, "\n".join(problems)
