"""The grader's command line.

    python -m autograder grade PATH... [--json FILE] [--csv FILE] [--gradescope FILE]
                                       [--report FILE] [--jobs N] [--timeout S] ...
    python -m autograder report RESULTS.json [--html FILE] [--feedback DIR]
    python -m autograder similar PATH... [--corpus DIR] [--json FILE]
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
import time
from pathlib import Path

from autograder.limits import LIMITS

HIDDEN_CHOICES = ("shown", "results", "summary")  # autograder.feedback.HIDDEN_CHOICES, without importing it

DESCRIPTION = "Grade notebooks of the course 'How neural networks learn' and report the results."
GRADE_HELP = ("Grade submitted notebooks: files, or folders such as a class laid out as "
              "<student>/<assignment>/<notebook>.ipynb. The assignment is recognised from each notebook.")
EPILOG = ("Exit status: 0 when at least one notebook was graded, whatever the scores; 2 when nothing "
          "could be graded.")


def build_parser(edition: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; in the student edition (the site's wheel), with the students'
    commands and options only: grading their own notebooks, and the limits it applies."""
    from autograder import EDITION

    instructor = (edition or EDITION) != "student"
    parser = argparse.ArgumentParser(prog="python -m autograder", description=DESCRIPTION, epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grade = commands.add_parser("grade", help="grade notebooks", description=GRADE_HELP, epilog=EPILOG)
    grade.add_argument("paths", nargs="+", metavar="PATH", help="a notebook or a folder of notebooks")
    grade.add_argument("--json", metavar="FILE", help="write every submission's results as JSON")
    if instructor:
        grade.add_argument("--csv", metavar="FILE", help="write a gradebook with nbgrader's export columns")
        grade.add_argument("--gradescope", metavar="FILE",
                           help="write Gradescope's results.json (one submission)")
        grade.add_argument("--report", metavar="FILE",
                           help="write the class report, one self-contained HTML page")
        grade.add_argument("--feedback", metavar="DIR",
                           help="write one self-contained feedback page per student and assignment into DIR")
        grade.add_argument("--feedback-hidden", choices=HIDDEN_CHOICES, default="shown",
                           help="how feedback pages show the hidden checks: shown (with their feedback, the "
                           "default), results (marks and points only) or summary (one line per function)")
    grade.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="notebooks graded at once (default: number of CPUs)")
    grade.add_argument("--timeout", type=float, default=LIMITS.notebook_seconds, metavar="S",
                       help=f"seconds allowed per notebook (default {LIMITS.notebook_seconds:g})")
    if instructor:
        grade.add_argument("--solutions", metavar="DIR", help="reference solutions (default: found)")
    grade.add_argument("--public-only", action="store_true", help="run only the public checks")
    if instructor:
        grade.add_argument("--cache", metavar="DIR",
                           help="keep each result in DIR and reuse it while the notebook, references and "
                           "grader are unchanged (an interrupted class run resumes where it stopped)")
        grade.add_argument("--layout", choices=("auto", "class", "student"), default="auto",
                           help="how a folder given is read: a class of <student>/<assignment>/ folders, "
                           "one student's folder, or auto (one student's when an assignment folder or "
                           "notebook is at its top); re-grade one student's folder with --layout student")
    grade.add_argument("--details", action="store_true",
                       help="for a class, print every submission's feedback, not only the summary")
    if instructor:
        grade.add_argument("--no-similarity", action="store_true",
                           help="skip the similarity review of a class (pairs of submissions sharing unusual "
                           "code, for the instructor to read side by side)")
        grade.add_argument("--corpus", metavar="DIR",
                           help="also compare every submission with the public solutions in DIR (notebooks, "
                           ".py)")
        grade.add_argument("--course", metavar="FILE",
                           help="the course file: due dates, late policy, roster (default: course.toml, "
                           "found)")
    if not instructor:  # what grade() reads of the options the student edition leaves out
        grade.set_defaults(csv=None, gradescope=None, report=None, solutions=None, cache=None, layout="auto",
                           no_similarity=True, corpus=None, course=None, feedback=None,
                           feedback_hidden="shown")
    commands.add_parser("limits", help="print every limit grading applies to a notebook")
    if instructor:
        instructor_commands(commands)
    return parser



def instructor_commands(commands: argparse._SubParsersAction) -> None:
    """The commands only an instructor needs: reports, the students' wheel, Gradescope."""
    report = commands.add_parser("report", help="write the HTML class report and/or the students' feedback "
                                 "pages from a --json results file")
    report.add_argument("results", metavar="RESULTS.json")
    report.add_argument("--html", metavar="FILE", help="the class report to write")
    report.add_argument("--feedback", metavar="DIR", help="write the students' feedback pages into DIR")
    report.add_argument("--feedback-hidden", choices=HIDDEN_CHOICES, default="shown",
                        help="how feedback pages show the hidden checks (see grade --help)")

    similar = commands.add_parser("similar", help="the similarity review alone, without grading (e.g. of a "
                                  "class graded with nbgrader): pairs of submissions worth a second look")
    similar.add_argument("paths", nargs="+", metavar="PATH", help="a class folder, or notebooks")
    similar.add_argument("--corpus", metavar="DIR", help="public solutions to compare with (notebooks, .py)")
    similar.add_argument("--solutions", metavar="DIR", help="reference solutions (default: found)")
    similar.add_argument("--json", metavar="FILE", help='write {"similar": [...]} as JSON')

    export = commands.add_parser("export", help="write grades an LMS imports (Canvas, Moodle, a sheet)",
                                 description="Write the grades of a class for an LMS, from the results of "
                                 "`grade --json` or from nbgrader's gradebook.")
    source = export.add_mutually_exclusive_group(required=True)
    source.add_argument("--results", metavar="RESULTS.json", help="a results file of `grade --json`")
    source.add_argument("--gradebook", metavar="URL", nargs="?", const="",
                        help="nbgrader's gradebook (default: the one nbgrader_config.py here configures)")
    export.add_argument("--canvas", metavar="FILE", help="Canvas's gradebook import CSV")
    export.add_argument("--csv", metavar="FILE", help="a sheet: per student, a column per function")
    export.add_argument("--moodle", metavar="FILE", help="a CSV for Moodle's grade import")
    export.add_argument("--course", metavar="FILE", help="the course file (default: course.toml, found)")
    export.add_argument("--missing-as-zero", action="store_true",
                        help="a student of the roster with no submission gets 0 (default: an empty cell)")

    sync = commands.add_parser("nbgrader-sync", help="record the course file's due dates and roster in "
                               "nbgrader's gradebook (autograde does it too)")
    sync.add_argument("--course", metavar="FILE", help="the course file (default: course.toml, found)")

    wheel = commands.add_parser("student-wheel", help="build the wheel of public checks students install")
    wheel.add_argument("--output", metavar="DIR", default="dist",
                       help="folder to write it to (default: dist)")

    bundle = commands.add_parser("gradescope-bundle", help="build a Gradescope autograder zip")
    bundle.add_argument("assignment", help="assignment id, e.g. 01_losses")
    bundle.add_argument("--output", metavar="FILE",
                        help="zip to write (default: <assignment>-gradescope.zip)")

    inside = commands.add_parser("gradescope-run", help="(inside Gradescope) grade /autograder/submission")
    inside.add_argument("--assignment", required=True)


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
    if args.command == "similar":
        from autograder.similarity import similar_command

        return similar_command(args.paths, corpus=args.corpus, solutions=args.solutions, json_file=args.json)
    if args.command in ("export", "nbgrader-sync"):
        return term_command(args)
    if args.command == "report":
        from autograder.class_report import report_command

        return report_command(Path(args.results), Path(args.html) if args.html else None,
                              Path(args.feedback) if args.feedback else None, hidden=args.feedback_hidden)
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


def term_command(args: argparse.Namespace) -> int:
    """``export`` and ``nbgrader-sync``: the course's grades out, its term into nbgrader."""
    from autograder.course import CourseError, find_course

    try:
        course = find_course([], args.course)
    except CourseError as problem:
        return error(str(problem))
    if args.command == "export":
        from autograder.export import export_command

        return export_command(args.results, args.gradebook, course, args.canvas, args.csv, args.moodle,
                              args.missing_as_zero)
    from autograder.nbgrader_term import sync_command

    return sync_command(course)


def grade(args: argparse.Namespace) -> int:
    from autograder.classrun import Options, SolutionsAmongSubmissions, find_solutions_for, grade_class
    from autograder.course import CourseError, find_course
    from autograder.report import gradescope_results, write_csv, write_json
    from autograder.results import results_document
    from autograder.submissions import plan

    if args.jobs < 1 or args.timeout <= 0:
        return error("--jobs and --timeout must be positive")
    if args.report:
        from autograder.class_report import missing_for_report

        missing = missing_for_report()
        if missing:
            return error(missing)
    if args.feedback:
        from autograder.feedback import missing_for_feedback

        missing = missing_for_feedback()
        if missing:
            return error(missing)
    try:
        found = plan(args.paths, layout=args.layout)
        solutions = find_solutions_for(args.paths, args.solutions)
        course = find_course(args.paths, args.course)
    except (FileNotFoundError, SolutionsAmongSubmissions, CourseError) as problem:
        return error(str(problem.args[0]))
    for reading in found.readings:
        print(f"note: {reading}")
    for skipped in found.skipped:  # file names come from students: no escape sequences, one line
        print(f"note: {skipped.line()}")
    if not found.submissions:
        if args.json:  # what was found, and why none of it could be graded
            write_json(args.json, results_document([], found.skipped))
        return error("no notebooks (.ipynb) to grade in " + ", ".join(args.paths))
    if args.corpus and not Path(args.corpus).is_dir():
        return error(f"--corpus {args.corpus}: no such folder")
    if args.gradescope and len(found.submissions) != 1:
        return error(f"--gradescope needs exactly one notebook, found {len(found.submissions)}")

    options = Options(solutions=solutions, public_only=args.public_only,
                      limits=LIMITS.with_notebook_seconds(args.timeout))
    cache = Path(args.cache) if args.cache else None
    started = time.monotonic()  # the run's wall time, for every summary (not the sum over notebooks)
    if len(found.submissions) == 1:
        run = grade_class(found, options, jobs=args.jobs, cache=cache, course=course)
    else:
        from autograder.terminal import ClassProgress

        with ClassProgress(len(found.submissions)) as progress:
            run = grade_class(found, options, jobs=args.jobs, cache=cache, on_result=progress.advance,
                              course=course)
    wall_seconds = time.monotonic() - started
    from autograder.summary import summarise
    from autograder.terminal import closing_lines, print_report, summary_table  # rich: once there is a result

    results = run.results
    if len(results) == 1 or args.details:
        print_report(results)
    else:
        print(summary_table(results, width=shutil.get_terminal_size((100, 24)).columns))
    similar = None
    if not args.no_similarity and (len(results) > 1 or args.corpus):
        from autograder.similarity import review, summary_lines

        corpus = Path(args.corpus) if args.corpus else None
        found_similar = review(results, solutions=solutions, corpus=corpus, limits=options.limits)
        similar = found_similar.pairs
        for line in [*summary_lines(found_similar), *(f"note: {n}" for n in found_similar.notes[:10])]:
            print(line)
    summary = summarise(results, run.skipped, roster=run.roster, similar=similar, wall_seconds=wall_seconds)
    for line in closing_lines(summary) if len(results) > 1 else run.roster.lines() if run.roster else []:
        print(line)
    if args.json:
        write_json(args.json, results_document(results, run.skipped, similar, run.roster,
                                               wall_seconds=wall_seconds))
    if args.csv:
        write_csv(args.csv, results)
    if args.gradescope:
        write_json(args.gradescope, gradescope_results(results[0]))
    if args.feedback:
        from autograder.feedback import write_feedback_pages

        pages = write_feedback_pages(summary, Path(args.feedback), hidden=args.feedback_hidden,
                                     solutions=solutions)
        print(f"Wrote {len(pages) - 1} feedback pages to {args.feedback} (for you: {pages[-1]})")
    if args.report:
        from autograder.class_report import write_class_report

        feedback = Path(args.feedback) if args.feedback else None
        write_class_report(summary, Path(args.report), feedback=feedback)
        print(f"Wrote the class report to {args.report}")
    return 0 if run.graded else 2
