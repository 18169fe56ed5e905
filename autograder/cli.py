"""Command line: ``python -m autograder grade PATH... [--json FILE] [--csv FILE] [--gradescope FILE]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from autograder.gradescope import build_bundle
from autograder.gradescope import run as run_in_gradescope
from autograder.grading import DEFAULT_TIMEOUT, find_notebooks, grade_all
from autograder.isolation import become_subreaper
from autograder.references import find_solutions
from autograder.report import gradescope_results, json_report, text_report, write_csv, write_json


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser(
        "grade", help="grade notebooks",
        description="Grade submitted notebooks: files, or folders such as a class laid out "
        "as <student>/<assignment>/<notebook>.ipynb.",
    )
    grade.add_argument("paths", nargs="+", metavar="PATH", help="a notebook or a folder of notebooks")
    grade.add_argument("--json", metavar="FILE", help="write every submission's results as JSON")
    grade.add_argument("--csv", metavar="FILE",
                       help="write a gradebook with nbgrader's export columns")
    grade.add_argument("--gradescope", metavar="FILE",
                       help="write Gradescope's results.json (one submission)")
    grade.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="notebooks graded at once (default: number of CPUs)")
    grade.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                       help=f"seconds allowed per notebook (default {DEFAULT_TIMEOUT:g})")
    grade.add_argument("--solutions", metavar="DIR", help="reference solutions (default: found)")
    grade.add_argument("--public-only", action="store_true", help="run only the public checks")
    grade.add_argument("--cache", metavar="DIR",
                       help="keep each result in DIR and reuse it while the notebook, references and "
                       "grader are unchanged (an interrupted class run resumes where it stopped)")

    bundle = commands.add_parser("gradescope-bundle", help="build a Gradescope autograder zip")
    bundle.add_argument("assignment", help="assignment id, e.g. 01_losses")
    bundle.add_argument("--output", metavar="FILE",
                        help="zip to write (default: <assignment>-gradescope.zip)")

    inside = commands.add_parser("gradescope-run", help="(inside Gradescope) grade /autograder/submission")
    inside.add_argument("--assignment", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns 0 when grading ran, whatever the scores."""
    args = build_parser().parse_args(argv)
    if args.command == "gradescope-bundle":
        output = Path(args.output or f"{args.assignment}-gradescope.zip")
        try:
            build_bundle(args.assignment, output)
        except (KeyError, FileNotFoundError) as error:
            print(f"error: {error.args[0]}", file=sys.stderr)
            return 2
        print(f"Wrote {output}: upload it as the autograder of {args.assignment} "
              "(Gradescope's Ubuntu 24.04 base image).")
        return 0
    become_subreaper()  # what student code detaches is re-parented here, to be killed
    if args.command == "gradescope-run":
        document = run_in_gradescope(args.assignment)
        print(f"score {document['score']:g} / {document['max_score']:g}")
        return 0
    try:
        notebooks = find_notebooks(args.paths)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not notebooks:
        print("error: no notebooks (.ipynb) found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    if args.gradescope and len(notebooks) != 1:
        print(f"error: --gradescope needs exactly one notebook, found {len(notebooks)}", file=sys.stderr)
        return 2
    solutions = Path(args.solutions) if args.solutions else find_solutions()
    if args.solutions and not solutions.is_dir():
        print(f"error: {solutions}: no such folder", file=sys.stderr)
        return 2

    cache = Path(args.cache) if args.cache else None
    submissions = grade_all(notebooks, solutions, args.jobs, args.timeout, args.public_only, cache)
    print(text_report(submissions), end="")
    if args.json:
        write_json(args.json, json_report(submissions))
    if args.csv:
        write_csv(args.csv, submissions)
    if args.gradescope:
        write_json(args.gradescope, gradescope_results(submissions[0]))
    return 0
