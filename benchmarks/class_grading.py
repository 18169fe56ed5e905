"""A class of 50 submissions (all four assignments; every notebook attempted, some correct,
some with one or several of the tests' known-wrong functions, some half done) graded side by
side, in one run, by:

- the course's command line, ``python -m autograder grade --jobs N``;
- ``nbgrader autograde`` as this repository configures it (the grading core, no kernel);
- ``nbgrader autograde`` with nbgrader's stock steps (every cell run in a Jupyter kernel).

    python benchmarks/class_grading.py [--jobs 2] [--students 13]

Run it with the virtual environment's tools first on PATH (``nbgrader`` calls ``alembic``).
Prints a Markdown table of wall times, per submission and relative to the command line, and
how many submissions each nbgrader run graded exactly as the command line did.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
CATALOGUES = {"01_losses": "test_losses_catalogue", "02_backprop": "test_backprop_catalogue",
              "03_optimizers": "test_optimizers_catalogue", "04_training": "test_training_catalogue"}
# What a class hands in: (kind, share). Every notebook is attempted.
KINDS = [("correct", 0.3), ("one bug", 0.3), ("three bugs", 0.2), ("half done", 0.2)]
# nbgrader's own autograde steps, for the stock run.
STOCK = """
from nbgrader.converters import Autograde
c.Autograde.sanitize_preprocessors = Autograde.class_traits()["sanitize_preprocessors"].default()
c.Autograde.autograde_preprocessors = Autograde.class_traits()["autograde_preprocessors"].default()
"""


def known_wrong() -> dict[str, dict[str, list[str]]]:
    """assignment -> function or quiz answer -> known-wrong versions, from the tests' catalogues."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "checks")]
    import importlib

    wrong: dict[str, dict[str, list[str]]] = {}
    for assignment, module in CATALOGUES.items():
        for case in importlib.import_module(module).WRONG:
            wrong.setdefault(assignment, {}).setdefault(case.target, []).append(textwrap.dedent(case.code))
    return wrong


def solution_cells(notebook: dict) -> dict[str, str]:
    return {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in notebook["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")}


def defining_cell(answers: dict[str, str], name: str) -> str:
    """The grade id of the solution cell that defines ``name``."""
    starts = (f"def {name}(", f"class {name}", f"{name} =")
    for grade_id, source in answers.items():
        if any(line.startswith(starts) for line in source.splitlines()):
            return grade_id
    raise KeyError(name)


def submission(assignment: str, kind: str, wrong: dict[str, list[str]], rng: random.Random) -> dict:
    """The release notebook, answered as a student of ``kind`` would."""
    release = json.loads(next((ROOT / "exercises" / assignment).glob("*.ipynb")).read_text())
    answers = solution_cells(json.loads(next((ROOT / "solutions" / assignment).glob("*.ipynb")).read_text()))
    if kind == "half done":
        answers = dict(list(answers.items())[: (len(answers) + 1) // 2])
    bugs = {"one bug": 1, "three bugs": 3}.get(kind, 0)
    for target in rng.sample(sorted(wrong), min(bugs, len(wrong))):
        answers[defining_cell(answers, target)] = rng.choice(wrong[target])
    for cell in release["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return release


def make_class(folder: Path, students: int, total: int = 50, seed: int = 0) -> int:
    """<student>/<assignment>/<notebook>.ipynb for up to ``total`` submissions; returns the count."""
    rng, wrong = random.Random(seed), known_wrong()
    kinds = [kind for kind, share in KINDS for _ in range(round(share * 10))]
    count = 0
    for s in range(students):
        for assignment in ASSIGNMENTS:
            if count == total:
                return count
            name = next((ROOT / "exercises" / assignment).glob("*.ipynb")).name
            target = folder / f"s{s:02d}" / assignment / name
            target.parent.mkdir(parents=True, exist_ok=True)
            notebook = submission(assignment, kinds[count % len(kinds)], wrong[assignment], rng)
            target.write_text(json.dumps(notebook))
            count += 1
    return count


def course(folder: Path, submitted: Path, extra_config: str = "") -> Path:
    """An nbgrader course with the repository's configuration (plus ``extra_config``), every
    assignment generated, and the class's submissions."""
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    with open(folder / "nbgrader_config.py", "a") as config:
        config.write(extra_config)
    shutil.copytree(ROOT / "solutions", folder / "solutions")
    shutil.copytree(submitted, folder / "grading" / "submitted")
    for assignment in ASSIGNMENTS:
        subprocess.run(["nbgrader", "generate_assignment", assignment, "--force"], cwd=folder, check=True,
                       capture_output=True)
    return folder


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def nbgrader_grades(folder: Path) -> dict[tuple[str, str], float]:
    subprocess.run(["nbgrader", "export", "--to", "grades.csv"], cwd=folder, check=True, capture_output=True)
    with open(folder / "grades.csv", newline="") as f:
        return {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(f)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--students", type=int, default=13)
    args = parser.parse_args()
    if shutil.which("nbgrader") is None:
        sys.exit("nbgrader is not on PATH: run with the virtual environment's bin folder first on PATH")
    os.environ.pop("MPLBACKEND", None)  # the stock run's kernels use Jupyter's inline backend
    with tempfile.TemporaryDirectory(prefix="class-benchmark-") as work:
        work = Path(work)
        n = make_class(work / "class", args.students)
        core = course(work / "core", work / "class")
        stock = course(work / "stock", work / "class", STOCK)

        report = work / "cli.json"
        cli = timed([sys.executable, "-m", "autograder", "grade", str(work / "class"),
                     "--jobs", str(args.jobs), "--solutions", str(ROOT / "solutions"), "--json", str(report)],
                    work)
        with_core = sum(timed(["nbgrader", "autograde", a, "--create"], core) for a in ASSIGNMENTS)
        stock_time = sum(timed(["nbgrader", "autograde", a, "--create"], stock) for a in ASSIGNMENTS)

        expected = {(s["student"], s["assignment"]): s["score"]
                    for s in json.loads(report.read_text())["submissions"]}
        graded = {"core": nbgrader_grades(core), "stock": nbgrader_grades(stock)}
        agree = {name: sum(grades.get(key) == score for key, score in expected.items())
                 for name, grades in graded.items()}
        lost = sum(score - graded["stock"].get(key, 0.0) for key, score in expected.items())

    print(f"{n} submissions of {len(ASSIGNMENTS)} assignments (every notebook attempted: "
          + ", ".join(f"{share:.0%} {kind}" for kind, share in KINDS)
          + f"); {args.jobs} parallel jobs for the command line\n")
    print("| grader | wall time | per submission | relative to the command line "
          "| same grade as the command line |")
    print("|---|---|---|---|---|")
    rows = [(f"`python -m autograder grade --jobs {args.jobs}`", cli, n),
            ("`nbgrader autograde`, grading core (this repository)", with_core, agree["core"]),
            ("`nbgrader autograde`, stock executor (Jupyter kernel)", stock_time, agree["stock"])]
    for name, seconds, same in rows:
        print(f"| {name} | {seconds:.1f} s | {seconds / n:.2f} s | {seconds / cli:.1f}x | {same} of {n} |")
    print(f"\nThe stock executor awards {lost:g} points fewer than the command line over the class.")


if __name__ == "__main__":
    main()
