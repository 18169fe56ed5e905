"""Gradescope: the autograder bundle, and what runs inside it.

    python -m autograder gradescope-bundle 01_losses --output 01_losses-gradescope.zip

builds the zip Gradescope asks for: ``setup.sh`` (creates a virtual environment and installs
this package), ``run_autograder`` (grades ``/autograder/submission`` into
``/autograder/results/results.json``), the package itself and the assignment's reference
solution. Inside Gradescope, ``run_autograder`` calls ``python -m autograder gradescope-run``,
which always writes a valid ``results.json``, even for an upload it cannot grade.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import replace
from datetime import UTC
from pathlib import Path

from autograder.assignments import get_assignment
from autograder.course import COURSE_FILE, AssignmentTerm, Course, load_course
from autograder.lateness import Recorded, parse_time
from autograder.report import gradescope_results

REPOSITORY = Path(__file__).resolve().parents[1]
ROOT_ENV = "AUTOGRADER_ROOT"  # lets tests run the bundle outside /autograder

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu 24.04 base image:
# Python 3.12). It installs the course package into a virtual environment.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
# libseccomp filters the student's process's system calls. Where the container refuses
# namespaces, grading falls back to the other layers and each report's notes say so.
apt-get update -q && apt-get install -y -q python3 python3-venv libseccomp2
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --quiet "$ROOT/source/package"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission into
# /autograder/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source"
exec "$PYTHON" -m autograder gradescope-run --assignment %(assignment)s
"""


def build_bundle(assignment_id: str, output: Path, repository: Path = REPOSITORY) -> Path:
    """Write the Gradescope autograder zip for ``assignment_id`` to ``output``."""
    get_assignment(assignment_id)  # a clear error for an unknown id
    solutions = repository / "solutions" / assignment_id
    if not any(solutions.glob("*.ipynb")):
        raise FileNotFoundError(f"no reference notebook in {solutions}")
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as bundle:
        scripts = {"setup.sh": SETUP_SH, "run_autograder": RUN_AUTOGRADER % {"assignment": assignment_id}}
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope requires
            bundle.writestr(info, text)
        for path in sorted(solutions.glob("*.ipynb")):
            bundle.write(path, f"solutions/{assignment_id}/{path.name}")
        for path in sorted((repository / "autograder").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                bundle.write(path, f"package/{path.relative_to(repository)}")
        for name in ("pyproject.toml", "README.md"):
            bundle.write(repository / name, f"package/{name}")
        if (repository / COURSE_FILE).is_file():  # the due dates and late policy, without the roster
            load_course(repository / COURSE_FILE, files=False)  # a clear error now, not in Gradescope
            bundle.write(repository / COURSE_FILE, COURSE_FILE)
    return output


def run(assignment_id: str, root: Path | None = None) -> dict:
    """Grade the submission under ``root`` and write ``results/results.json``; return it.

    The upload is one student's folder, read by the class policy every path uses
    (`autograder.submissions`): the assignment's release notebook (``losses.ipynb``) at the top
    of the upload or of its assignment folder is graded, and the student hears of every other
    notebook that was not. Always writes a valid results.json, whatever the upload holds: links
    are never followed, odd files are skipped with a reason, and a failure of the grader itself
    scores 0 with a message rather than leaving no results. What only the instructor should see
    is printed (Gradescope shows ``run_autograder``'s output to instructors alone).
    """
    root = Path(root or os.environ.get(ROOT_ENV, "/autograder"))
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    try:
        document = _grade_upload(assignment_id, root)
    except Exception as error:  # the grader's own failure: still a valid results.json
        document = _ungraded(assignment_id, f"The autograder could not grade this upload "
                                            f"({type(error).__name__}); please tell your instructor.")
    results.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return document


def _grade_upload(assignment_id: str, root: Path) -> dict:
    from autograder.classrun import Options, grade_class
    from autograder.submissions import plan
    from autograder.text import one_line

    upload = root / "submission"
    release = get_assignment(assignment_id).notebook
    if not upload.is_dir() or upload.is_symlink():
        return _ungraded(assignment_id, f"Please upload your notebook as {release}: this upload could not "
                                        "be read.")
    found = plan([upload], assignment=assignment_id, upload=True)
    course, submitted = _term(root, assignment_id)
    run = grade_class(found, Options(solutions=root / "source" / "solutions"), course=course,
                      recorded=lambda _: submitted)  # never a time found inside the upload
    for skipped in run.skipped:
        print(f"not graded: {skipped.line()}")
    if not run.results:
        found = [f"{Path(s.path).relative_to(upload)}: {s.reason}" for s in run.skipped] or ["no notebook"]
        return _ungraded(assignment_id, f"Please upload your notebook as {release} (the file name of the "
                         "assignment's notebook): nothing in this upload could be graded.\n"
                         + "\n".join(found))
    (result,) = run.results
    for flag in result.flags:
        if not flag.students_see:
            print(f"flag for the instructor: {one_line(flag.text, 500)}")
    return gradescope_results(result)


METADATA = "submission_metadata.json"


def _term(root: Path, assignment_id: str) -> tuple[Course, Recorded | None]:
    """(the course's due dates and late policy, when Gradescope recorded this submission).

    The late policy is the bundle's course file's. The due dates are too when it gives them;
    otherwise Gradescope's own (``due_date`` and ``late_due_date`` in
    ``/autograder/submission_metadata.json``). The submission time is that file's
    ``created_at``. What only the instructor should read is printed.
    """
    path = root / "source" / COURSE_FILE
    course = load_course(path, files=False) if path.is_file() else Course()
    try:
        metadata = json.loads((root / METADATA).read_text(encoding="utf-8"))
        created = metadata.get("created_at")
        submitted = Recorded(parse_time(created, UTC), "Gradescope") if created else None
        dates = metadata.get("assignment") or {}
        due, late_due = (parse_time(dates[k], UTC) if dates.get(k) else None
                         for k in ("due_date", "late_due_date"))
    except (OSError, ValueError, TypeError, AttributeError) as problem:
        print(f"no submission time: {METADATA} cannot be read ({type(problem).__name__}); no late penalty")
        return course, None
    term = course.term(assignment_id)
    if term.due is None and due is not None:
        course = replace(course, assignments={**course.assignments,
                                              assignment_id: AssignmentTerm(due, late_due, term.policy)})
    elif term.due is not None and due is not None and due != term.due:
        print(f"Gradescope's due date ({due.isoformat()}) differs from {COURSE_FILE}'s "
              f"({term.due.isoformat()}): {COURSE_FILE}'s applies")
    return course, submitted


def _ungraded(assignment_id: str, message: str) -> dict:
    """A results.json that scores 0 and says why, keeping the assignment's maximum."""
    from autograder.results import SubmissionResult

    total = sum(c.points for c in get_assignment(assignment_id).checks())
    result = SubmissionResult("", "", assignment_id, max_points=total, hidden_checks="not graded")
    result.note(message)  # names uploaded files: bounded and made visible, however many there are
    return gradescope_results(result)
