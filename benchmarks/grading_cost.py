"""What grading costs, and what each step of the isolation's design gained, side by side.

1. Each assignment's reference notebook graded with every check (public and hidden): in this
   process (as the notebook's own test cells do; CPU), with the notebook's code in a contained
   student process (as the official grade does; wall, warm), and with the whole command line
   for that one notebook (wall, start-up included). Then one full submission of all four
   through the command line.
2. The steps, each against the alternative it replaced, in the same run:
   - starting a student's process: a fresh interpreter that imports NumPy and the student's
     side, next to a fork of the zygote that has imported them once;
   - a call of a student function: the grading process and its student's process on different
     processors, next to both on one (the zygote's choice);
3. A gradient check of a large array: every element by central differences next to the
   grader's random directions plus sampled coordinates.

    python benchmarks/grading_cost.py [--repeat N]

Prints Markdown tables (the README quotes them). Timings are medians of N runs; compare the
columns of one run, not runs on different machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from autograder.assignments import ASSIGNMENTS
from autograder.checks.gradients import assert_matches_finite_differences, central_differences
from autograder.core import grade_notebook, run_checks
from autograder.isolation import IsolatedNamespace
from autograder.isolation.zygote import zygote
from autograder.namespace import load_namespace
from autograder.notebook import Cell, Definitions, select_definitions
from autograder.references import load_reference

ROOT = Path(__file__).resolve().parents[1]


def reference_notebook(assignment_id: str) -> Path:
    return next((ROOT / "solutions" / assignment_id).glob("*.ipynb"))


def grade_in_process(assignment_id: str) -> tuple[float, int, float]:
    """CPU seconds to load and grade the reference here; the number of checks; the score."""
    reference = load_reference(assignment_id, ROOT / "solutions")
    start = time.process_time()
    student = load_namespace(reference_notebook(assignment_id))
    results = run_checks(ASSIGNMENTS[assignment_id], student, reference)
    return time.process_time() - start, len(results), sum(r.score for r in results)


def grade_isolated(assignment_id: str) -> float:
    """Wall seconds of `grade_notebook` (student process included), warm."""
    start = time.perf_counter()
    result = grade_notebook(reference_notebook(assignment_id), solutions=ROOT / "solutions")
    assert result.score == result.max_score, result.flags
    return time.perf_counter() - start


def command_line(*paths: str) -> float:
    """Wall seconds of `python -m autograder grade PATH...`, start-up included."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", *paths], cwd=ROOT, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def fresh_student_process() -> float:
    """Wall seconds to start an interpreter that imports what a student's process needs."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy, autograder.isolation.worker"], check=True)
    return time.perf_counter() - start


def forked_student_process() -> float:
    """Wall seconds to get a contained student's process from the zygote, ready to serve."""
    from autograder.isolation.judge import Worker

    start = time.perf_counter()
    worker = Worker()
    elapsed = time.perf_counter() - start
    worker.stop()
    return elapsed


def call_cost(cpus: set[int] | None, calls: int = 300) -> float:
    """Microseconds per call of a small student function (an SGD step on a (3, 4) array), with
    this process on ``cpus`` while its student's process starts on the first of them."""
    previous = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, cpus)
    code = "def sgd(w, dw, state, lr=0.01):\n    return w - lr * dw, state\n"
    cells = [Cell(0, textwrap.dedent(code))]
    blocks, notes = select_definitions(cells)
    student = IsolatedNamespace(Definitions(blocks, notes, {}, cells))
    try:
        if cpus is None:  # the student's process on another processor than this one
            os.sched_setaffinity(0, previous - {min(previous)} or previous)
        sgd, w = student.function("sgd"), np.ones((3, 4))
        sgd(w, w, {}, lr=0.1)
        start = time.perf_counter()
        for _ in range(calls):
            sgd(w, w, {}, lr=0.1)
        return (time.perf_counter() - start) / calls * 1e6
    finally:
        student.close()
        os.sched_setaffinity(0, previous)


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


def median(function, repeat: int, *args) -> float:
    return statistics.median(function(*args) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    zygote()

    print("| assignment | checks | score | in process (CPU) | contained (wall) | command line (wall) |")
    print("|---|---|---|---|---|---|")
    for assignment_id in ASSIGNMENTS:
        runs = [grade_in_process(assignment_id) for _ in range(args.repeat)]
        contained = median(grade_isolated, args.repeat, assignment_id)
        cli = median(command_line, args.repeat, f"solutions/{assignment_id}")
        cpu = statistics.median(r[0] for r in runs)
        print(f"| `{assignment_id}` | {runs[0][1]} | {runs[0][2]:g} | {cpu:.2f} s | {contained:.2f} s "
              f"| {cli:.2f} s |")
    everything = median(command_line, args.repeat, *(f"solutions/{a}" for a in ASSIGNMENTS))
    print(f"| all four, one command | | | | | {everything:.2f} s |")

    fresh = median(fresh_student_process, args.repeat)
    forked = median(forked_student_process, args.repeat)
    apart = median(call_cost, args.repeat, None) if len(os.sched_getaffinity(0)) > 1 else float("nan")
    together = median(call_cost, args.repeat, {min(os.sched_getaffinity(0))})
    print()
    print("| step | before | after | gained |")
    print("|---|---|---|---|")
    print(f"| start a student's process | fresh interpreter {fresh * 1000:.0f} ms | fork of the zygote "
          f"{forked * 1000:.0f} ms | {fresh / forked:.0f}x |")
    print(f"| one call of a student function | processes on two processors {apart:.0f} µs | on one "
          f"{together:.0f} µs | {apart / together:.1f}x |")

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
