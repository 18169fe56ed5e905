"""How much CPU grading costs.

1. Each assignment's reference notebook graded with every check (public and hidden), side
   by side: in this process (as the notebook's own test cells do), with the notebook's code
   in an isolated student process (as the official grade does; wall time, start included),
   and with the command line (wall time of the whole command for that one notebook, start-up
   included; a class amortises the start of its fork server, see class_grading.py).
2. A gradient check of a large array: every element by central differences versus the
   grader's random directions plus sampled coordinates, side by side.

    python benchmarks/grading_cost.py [--repeat N]

Prints Markdown tables (the README quotes them).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from autograder.assignments import ASSIGNMENTS
from autograder.checks.gradients import assert_matches_finite_differences, central_differences
from autograder.core import run_checks
from autograder.isolation import IsolatedNamespace
from autograder.namespace import load_namespace
from autograder.notebook import load_definitions
from autograder.references import load_reference

ROOT = Path(__file__).resolve().parents[1]


def grade_in_process(assignment_id: str) -> tuple[float, int, float]:
    """CPU seconds to load and grade the reference; the number of checks; the score."""
    notebook = next((ROOT / "solutions" / assignment_id).glob("*.ipynb"))
    reference = load_reference(assignment_id, ROOT / "solutions")
    start = time.process_time()
    student = load_namespace(notebook)
    results = run_checks(ASSIGNMENTS[assignment_id], student, reference)
    return time.process_time() - start, len(results), sum(r.score for r in results)


def grade_isolated(assignment_id: str) -> float:
    """Wall seconds to start an isolated student process for the reference and grade it."""
    notebook = next((ROOT / "solutions" / assignment_id).glob("*.ipynb"))
    reference = load_reference(assignment_id, ROOT / "solutions")
    start = time.perf_counter()
    student = IsolatedNamespace(load_definitions(notebook))
    try:
        results = run_checks(ASSIGNMENTS[assignment_id], student, reference)
    finally:
        student.close()
    assert sum(r.score for r in results) == sum(r.points for r in results)
    return time.perf_counter() - start


def grade_with_cli(assignment_id: str) -> float:
    """Wall seconds of `python -m autograder grade` on the reference notebook."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", f"solutions/{assignment_id}", "--jobs", "1"],
                   cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def gradient_check_costs(size: int = 10_000) -> tuple[float, float]:
    """CPU seconds of a full and of a sampled gradient check of f(x) = sum(tanh(x) * c)."""
    rng = np.random.default_rng(0)
    x, c = rng.normal(size=size), rng.normal(size=size)

    def f(z):
        return float(np.sum(np.tanh(z) * c))

    grad = (1 - np.tanh(x) ** 2) * c
    start = time.process_time()
    central_differences(f, x)
    full = time.process_time() - start
    start = time.process_time()
    assert_matches_finite_differences(grad, f, x, who="f", loss_name="f", case="benchmark")
    sampled = time.process_time() - start
    return full, sampled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    print("| assignment | checks | score | in process (CPU) | isolated (wall) | command line (wall) |")
    print("|---|---|---|---|---|---|")
    for assignment_id in ASSIGNMENTS:
        if not (ROOT / "solutions" / assignment_id).is_dir():
            continue
        runs = [grade_in_process(assignment_id) for _ in range(args.repeat)]
        isolated = statistics.median(grade_isolated(assignment_id) for _ in range(args.repeat))
        cli = statistics.median(grade_with_cli(assignment_id) for _ in range(args.repeat))
        cpu = statistics.median(r[0] for r in runs)
        print(f"| `{assignment_id}` | {runs[0][1]} | {runs[0][2]:g} | {cpu:.2f} s | {isolated:.2f} s "
              f"| {cli:.2f} s |")

    costs = [gradient_check_costs() for _ in range(args.repeat)]
    full, sampled = (statistics.median(c[i] for c in costs) for i in (0, 1))
    print()
    print("| gradient check of 10,000 elements | CPU |")
    print("|---|---|")
    print(f"| every element by central differences | {full:.3f} s |")
    print(f"| 4 random directions + 16 sampled coordinates | {sampled:.4f} s |")
    print(f"| ratio | {full / sampled:.0f}x |")


if __name__ == "__main__":
    main()
