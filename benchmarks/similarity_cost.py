"""What the similarity review adds to grading a class: the class of 50 submissions of
``class_grading.py`` (all four assignments) graded by the command line with and without the
review, and the review alone, in this process.

    python benchmarks/similarity_cost.py [--repeat 3] [--jobs 2]

Run it with the virtual environment's tools first on PATH. Prints a Markdown table (medians).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from class_grading import ROOT, make_class


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    from autograder.assignments import ASSIGNMENTS
    from autograder.similarity import review
    from autograder.submissions import plan

    with tempfile.TemporaryDirectory(prefix="similarity-benchmark-") as work:
        folder = Path(work) / "class"
        n = make_class(folder, 13)
        command = [sys.executable, "-m", "autograder", "grade", str(folder), "--jobs", str(args.jobs),
                   "--solutions", str(ROOT / "solutions")]

        def timed(extra: list[str]) -> float:
            start = time.perf_counter()
            subprocess.run(command + extra, check=True, capture_output=True)
            return time.perf_counter() - start

        without = statistics.median(timed(["--no-similarity"]) for _ in range(args.repeat))
        with_review = statistics.median(timed([]) for _ in range(args.repeat))
        submissions = plan([folder]).submissions
        for assignment in ASSIGNMENTS.values():
            assignment.checks()  # as in a class run: imported before the review
        alone, pairs = [], 0
        for _ in range(max(5, args.repeat)):
            start = time.perf_counter()
            pairs = len(review(submissions, solutions=ROOT / "solutions").pairs)
            alone.append(time.perf_counter() - start)
    review_time = statistics.median(alone)
    print(f"A class of {n} submissions, --jobs {args.jobs}, medians of {args.repeat} (the review alone: "
          f"of {len(alone)}); {pairs} pairs found.\n")
    print("| run | wall time | share of grading |")
    print("|---|---|---|")
    print(f"| `grade --no-similarity` | {without:.2f} s | |")
    print(f"| `grade` (with the review) | {with_review:.2f} s | |")
    print(f"| the review alone (in process) | {review_time:.3f} s | {review_time / without:.1%} |")


if __name__ == "__main__":
    main()
