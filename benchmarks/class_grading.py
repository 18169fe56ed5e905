"""A class of 50 submissions (all four assignments; complete, partial and untouched notebooks)
graded side by side by the course's command line and by ``nbgrader autograde``.

    python benchmarks/class_grading.py [--jobs 2] [--students 13]

Run it with the virtual environment's tools first on PATH (``nbgrader`` calls ``alembic``).
Prints a Markdown table: wall time in total and per submission, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def solution_cells(notebook: dict) -> dict[str, list]:
    return {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in notebook["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")}


def submission(assignment: str, kind: str) -> dict:
    """The release notebook, answered completely, half-way, or not at all."""
    release = json.loads(next((ROOT / "exercises" / assignment).glob("*.ipynb")).read_text())
    answers = solution_cells(json.loads(next((ROOT / "solutions" / assignment).glob("*.ipynb")).read_text()))
    keep = {"complete": list(answers), "partial": list(answers)[: len(answers) // 2], "untouched": []}[kind]
    for cell in release["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in keep:
            cell["source"] = answers[grade_id]
    return release


def make_class(folder: Path, students: int, total: int = 50) -> int:
    """<student>/<assignment>/<notebook>.ipynb for up to ``total`` submissions; returns the count."""
    kinds = ["complete", "partial", "complete", "untouched"]
    count = 0
    for s in range(students):
        for a, assignment in enumerate(ASSIGNMENTS):
            if count == total:
                return count
            name = next((ROOT / "exercises" / assignment).glob("*.ipynb")).name
            target = folder / f"s{s:02d}" / assignment / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(submission(assignment, kinds[(s + a) % len(kinds)])))
            count += 1
    return count


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--students", type=int, default=13)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="class-benchmark-") as work:
        course = Path(work)
        shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(ROOT / "solutions", course / "solutions")
        submitted = course / "grading" / "submitted"
        n = make_class(submitted, args.students)
        for assignment in ASSIGNMENTS:
            subprocess.run(["nbgrader", "generate_assignment", assignment, "--force"], cwd=course, check=True,
                           capture_output=True)

        cli = timed([sys.executable, "-m", "autograder", "grade", str(submitted), "--jobs", str(args.jobs),
                     "--solutions", str(course / "solutions"), "--csv", str(course / "cli.csv")], course)
        nbgrader = sum(timed(["nbgrader", "autograde", assignment, "--create"], course)
                       for assignment in ASSIGNMENTS)

    print(f"{n} submissions of {len(ASSIGNMENTS)} assignments; "
          f"{args.jobs} parallel jobs for the command line\n")
    print("| grader | wall time | per submission |")
    print("|---|---|---|")
    print(f"| `python -m autograder grade --jobs {args.jobs}` | {cli:.1f} s | {cli / n:.2f} s |")
    print(f"| `nbgrader autograde` (every assignment) | {nbgrader:.1f} s | {nbgrader / n:.2f} s |")
    print(f"| ratio | {nbgrader / cli:.1f}x faster | |")


if __name__ == "__main__":
    main()
