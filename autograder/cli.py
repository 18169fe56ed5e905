"""The grader's command line.

    python -m autograder grade PATH... [--json FILE] [--csv FILE] [--gradescope FILE]
                                       [--report FILE] [--jobs N] [--timeout S] ...
    python -m autograder report RESULTS.json --html FILE
    python -m autograder limits
    python -m autograder gradescope-bundle ASSIGNMENT [--output FILE]

Exit status: 0 when at least one notebook was graded (whatever the scores); 2 when nothing
could be graded (no notebooks, only unreadable or unrecognised files, a bad option).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from pathlib import Path

from autograder.limits import LIMITS

DESCRIPTION = "Grade notebooks of the course 'How neural networks learn' and report the results."
GRADE_HELP = ("Grade submitted notebooks: files, or folders such as a class laid out as "
              "<student>/<assignment>/<notebook>.ipynb. The assignment is recognised from each notebook.")
EPILOG = ("Exit status: 0 when at least one notebook was graded, whatever the scores; 2 when nothing "
          "could be graded.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=DESCRIPTION, epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grade = commands.add_parser("grade", help="grade notebooks", description=GRADE_HELP, epilog=EPILOG)
    grade.add_argument("paths", nargs="+", metavar="PATH", help="a notebook or a folder of notebooks")
    grade.add_argument("--json", metavar="FILE", help="write every submission's results as JSON")
    grade.add_argument("--csv", metavar="FILE", help="write a gradebook with nbgrader's export columns")
    grade.add_argument("--gradescope", metavar="FILE",
                       help="write Gradescope's results.json (one submission)")
    grade.add_argument("--report", metavar="FILE",
                       help="write the class report, one self-contained HTML page")
    grade.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="notebooks graded at once (default: number of CPUs)")
    grade.add_argument("--timeout", type=float, default=LIMITS.notebook_seconds, metavar="S",
                       help=f"seconds allowed per notebook (default {LIMITS.notebook_seconds:g})")
    grade.add_argument("--solutions", metavar="DIR", help="reference solutions (default: found)")
    grade.add_argument("--public-only", action="store_true", help="run only the public checks")
    grade.add_argument("--cache", metavar="DIR",
                       help="keep each result in DIR and reuse it while the notebook, references and "
                       "grader are unchanged (an interrupted class run resumes where it stopped)")
    grade.add_argument("--details", action="store_true",
                       help="for a class, print every submission's feedback, not only the summary")

    report = commands.add_parser("report", help="write the HTML class report from a --json results file")
    report.add_argument("results", metavar="RESULTS.json")
    report.add_argument("--html", metavar="FILE", required=True, help="the page to write")

    commands.add_parser("limits", help="print every limit grading applies to a notebook")

    wheel = commands.add_parser("student-wheel", help="build the wheel of public checks students install")
    wheel.add_argument("--output", metavar="DIR", default="dist",
                       help="folder to write it to (default: dist)")

    bundle = commands.add_parser("gradescope-bundle", help="build a Gradescope autograder zip")
    bundle.add_argument("assignment", help="assignment id, e.g. 01_losses")
    bundle.add_argument("--output", metavar="FILE",
                        help="zip to write (default: <assignment>-gradescope.zip)")

    inside = commands.add_parser("gradescope-run", help="(inside Gradescope) grade /autograder/submission")
    inside.add_argument("--assignment", required=True)
    return parser


def error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    if args.command == "grade" and importlib.util.find_spec("rich") is None:
        # the students' wheel needs NumPy only; its terminal grading comes with an extra
        return error("grading from a terminal needs the command line's table: "
                     "pip install 'how-neural-networks-learn-checks[grade]' (the notebooks' "
                     "test cells need NumPy only)")
    if args.command in ("grade", "gradescope-run"):
        from autograder.isolation.zygote import start_zygote

        start_zygote()  # it imports NumPy and the student's side while this process imports the rest
    if args.command == "limits":
        for name, value in LIMITS.describe():
            print(f"{name:<26}{value}")
        return 0
    if args.command == "student-wheel":
        from autograder.edition import build_student_wheel

        try:
            wheel = build_student_wheel(Path(args.output))
        except RuntimeError as problem:
            return error(str(problem))
        print(f"Wrote {wheel}")
        return 0
    if args.command == "report":
        from autograder.class_report import report_command

        return report_command(Path(args.results), Path(args.html))
    if args.command == "gradescope-bundle":
        from autograder.gradescope import build_bundle

        output = Path(args.output or f"{args.assignment}-gradescope.zip")
        try:
            build_bundle(args.assignment, output)
        except (KeyError, FileNotFoundError) as problem:
            return error(str(problem.args[0]))
        print(f"Wrote {output}: upload it as the autograder of {args.assignment} "
              "(Gradescope's Ubuntu 24.04 base image).")
        return 0
    if args.command == "gradescope-run":
        from autograder.gradescope import run as run_in_gradescope

        document = run_in_gradescope(args.assignment)
        print(f"score {document['score']:g} / {document['max_score']:g}")
        return 0
    return grade(args)


def grade(args: argparse.Namespace) -> int:
    from autograder.classrun import Options, grade_many
    from autograder.files import find_notebooks
    from autograder.references import SOLUTIONS_ENV, among_submissions, find_solutions
    from autograder.report import gradescope_results, write_csv, write_json
    from autograder.results import clean_text, results_document

    if args.jobs < 1 or args.timeout <= 0:
        return error("--jobs and --timeout must be positive")
    try:
        found = find_notebooks(args.paths)
    except FileNotFoundError as problem:
        return error(str(problem))
    for skipped in found.skipped:  # file names come from students: no escape sequences, one line
        print(f"note: {' '.join(clean_text(skipped, 500).split())}")
    if not found.notebooks:
        return error("no notebooks (.ipynb) to grade in " + ", ".join(args.paths))
    if args.gradescope and len(found.notebooks) != 1:
        return error(f"--gradescope needs exactly one notebook, found {len(found.notebooks)}")
    solutions = Path(args.solutions).resolve() if args.solutions else find_solutions()
    if args.solutions and not solutions.is_dir():
        return error(f"{args.solutions}: no such folder")
    if not args.solutions and not os.environ.get(SOLUTIONS_ENV) and solutions \
            and among_submissions(solutions, args.paths):
        return error(f"{solutions}, found from the working directory, lies among the submissions to grade: "
                     "a student's upload could hold it. Run from the course directory, or pass --solutions.")

    options = Options(solutions=solutions, public_only=args.public_only,
                      limits=LIMITS.with_notebook_seconds(args.timeout))
    cache = Path(args.cache) if args.cache else None
    if len(found.notebooks) == 1:
        results = name_students(grade_many(found.notebooks, options, args.jobs, cache), found.roots)
    else:
        from autograder.terminal import ClassProgress

        with ClassProgress(len(found.notebooks)) as progress:
            graded = grade_many(found.notebooks, options, args.jobs, cache, on_result=progress.advance)
        results = keep_one_per_assignment(name_students(graded, found.roots))
    from autograder.terminal import print_report, summary_table  # rich: once there is a result

    if len(results) == 1 or args.details:
        print_report(results)
    else:
        print(summary_table(results, width=shutil.get_terminal_size((100, 24)).columns))
    if args.json:
        write_json(args.json, results_document(results))
    if args.csv:
        write_csv(args.csv, results)
    if args.gradescope:
        write_json(args.gradescope, gradescope_results(results[0]))
    if args.report:
        from autograder.class_report import write_class_report

        write_class_report(results, Path(args.report))
        print(f"Wrote the class report to {args.report}")
    # Grading ran for a notebook that got checks, or that was stopped (timed out, crashed) and
    # scored 0 with a flag; not for one that could not be read or recognised.
    graded = [r for r in results if r.checks or any(f.startswith(("timed out", "crashed")) for f in r.flags)]
    return 0 if graded else 2


def name_students(results: list, roots: dict[Path, Path]) -> list:
    """Name each result's student from the layout of the folder it was found in (not from the
    folders around the notebook alone, which a student's own upload can nest); flag a notebook
    found inside another assignment folder. Returns ``results``."""
    from autograder.core import nested_submission, student_of

    for result in results:
        root = roots.get(Path(result.path))
        result.student = student_of(Path(result.path), root)
        nested = nested_submission(Path(result.path), root)
        if nested:
            result.flag(nested)
    return results


def keep_one_per_assignment(results: list) -> list:
    """One result per student and assignment: of two notebooks for the same assignment in one
    student's folder, the newest counts, and its flags say which other one was found."""
    newest: dict[tuple[str, str], object] = {}
    others: dict[tuple[str, str], list] = {}
    for result in results:
        if not result.assignment:
            continue
        key = (result.student, result.assignment)
        if key not in newest or _modified(result.path) > _modified(newest[key].path):
            if key in newest:
                others.setdefault(key, []).append(newest[key])
            newest[key] = result
        else:
            others.setdefault(key, []).append(result)
    kept = []
    for result in results:
        key = (result.student, result.assignment or "")
        if result.assignment and newest.get(key) is not result:
            continue
        for other in others.get(key, []):
            result.flag(f"two notebooks for {result.assignment} in {result.student}'s folder: graded "
                        f"{Path(result.path).name} (the newest), not {other.path}")
        kept.append(result)
    return kept


def _modified(path: str) -> float:
    try:
        return Path(path).lstat().st_mtime
    except OSError:
        return 0.0
