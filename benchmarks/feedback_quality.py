"""How good the feedback is: what every known-wrong implementation of the tests' catalogue is told.

Each mutant (tests/checks/test_*_catalogue.py: WRONG, GAPS and NEAR_MISSES) is graded as the
official grade does (its code in a contained student process, the reference available, every
check), and the feedback of the function it breaks is sorted into one of:

- own diagnosis: the mutant's own mistake is named (its catalogue's diagnostic matches), and
  nothing else is claimed;
- evidence only: no mistake is claimed; the feedback shows what was seen and where to look
  (what a near miss, wrong in a way no catalogued mistake describes, should get);
- false claim: a likely mistake is claimed that is not the mutant's own, about it or about
  another function;
- not caught: the function keeps all its points.

The same for `heldout_mistakes.py`: realistic mistakes the checks were not tuned on (no test
requires them to come out right), where a mistake whose right claim is "" should get evidence only.
Also: the correct variants that lose a point or get any claim.

    python benchmarks/feedback_quality.py

Prints Markdown tables (the README quotes them).
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "checks")]

from catalogue import (  # noqa: E402  (the tests' catalogue: its folders are put on the path above)
    CATALOGUES,
    CLAIM,
    claims,
    correct_variants,
    foreign_claims,
    graded,
    mutants,
    near_misses,
)
from heldout_mistakes import HELDOUT_CORRECT, heldout  # noqa: E402

KINDS = ("own diagnosis", "evidence only", "false claim", "not caught")


def verdict(assignment_id: str, wrong, near_miss: bool) -> str:
    """Which of `KINDS` the feedback on ``wrong`` is."""
    results = graded(assignment_id, wrong.code)
    if all(r.passed for r in results if r.function == wrong.target):
        return "not caught"
    if near_miss or not wrong.diagnostic:
        claimed = claims(results, wrong.target) or any(r.mistake or CLAIM.search(r.feedback) for r in results)
        return "false claim" if claimed else "evidence only"
    if foreign_claims(results, wrong):
        return "false claim"
    feedback = "\n".join(r.feedback for r in results if r.function == wrong.target)
    return "own diagnosis" if re.search(wrong.diagnostic, feedback) else "evidence only"


def table(rows: dict[str, Counter], title: str) -> list[str]:
    lines = [f"| {title} | mutants | " + " | ".join(KINDS) + " |", "|---" * (len(KINDS) + 2) + "|"]
    total: Counter = Counter()
    for name, counts in rows.items():
        total.update(counts)
        cells = " | ".join(str(counts[k]) for k in KINDS)
        lines.append(f"| `{name}` | {sum(counts.values())} | {cells} |")
    n = sum(total.values())
    lines.append(f"| all | {n} | " + " | ".join(f"{total[k]} ({total[k] / n:.0%})" for k in KINDS) + " |")
    return lines


def main() -> int:
    started = time.monotonic()
    known: dict[str, Counter] = {a: Counter() for a in CATALOGUES}
    near: dict[str, Counter] = {a: Counter() for a in CATALOGUES}
    false = []
    for assignment_id, wrong in mutants():
        kind = verdict(assignment_id, wrong, near_miss=False)
        known[assignment_id][kind] += 1
        if kind == "false claim":
            false.append(f"{assignment_id} {wrong.target}: {wrong.mistake}")
    for assignment_id, wrong in near_misses():
        kind = verdict(assignment_id, wrong, near_miss=True)
        near[assignment_id][kind] += 1
        if kind == "false claim":
            false.append(f"{assignment_id} {wrong.target}: {wrong.mistake} (near miss)")
    held: dict[str, Counter] = {a: Counter() for a in CATALOGUES}
    expected: Counter = Counter()
    for assignment_id, wrong in heldout():
        kind = verdict(assignment_id, wrong, near_miss=False)
        held[assignment_id][kind] += 1
        expected[(bool(wrong.diagnostic), kind)] += 1
        if kind in ("false claim", "not caught") or (kind == "evidence only" and wrong.diagnostic):
            false.append(f"{assignment_id} {wrong.target}: {wrong.mistake} (held out: {kind})")
    correct = [*correct_variants(), *HELDOUT_CORRECT]
    blamed = [f"{a} {name}" for a, name, code in correct if not all(r.passed for r in graded(a, code))]
    print("\n".join(table(known, "known mistakes")))
    print()
    print("\n".join(table({a: c for a, c in near.items() if c}, "near misses")))
    print()
    print("\n".join(table(held, "held-out mistakes")))
    named = sum(n for (has, _), n in expected.items() if has)
    unnamed = sum(n for (has, _), n in expected.items() if not has)
    print(f"\nheld out with a catalogued mistake: {named}, named: {expected[(True, 'own diagnosis')]}; "
          f"without one: {unnamed}, evidence only: {expected[(False, 'evidence only')]}")
    print()
    print(f"correct variants: {len(correct)}, of which lose points or get a claim: {len(blamed)}")
    for line in false + blamed:
        print(f"  {line}")
    print(f"\n({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
