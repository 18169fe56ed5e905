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
from pathlib import Path

from autograder.assignments import get_assignment
from autograder.report import gradescope_results

REPOSITORY = Path(__file__).resolve().parents[1]
ROOT_ENV = "AUTOGRADER_ROOT"  # lets tests run the bundle outside /autograder

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu 24.04 base image:
# Python 3.12). It installs the course package into a virtual environment.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
# bubblewrap and libseccomp contain the student's process; where the container refuses
# namespaces, grading falls back to the other layers and each report's notes say so.
apt-get update -q && apt-get install -y -q python3 python3-venv bubblewrap libseccomp2
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
    return output


def run(assignment_id: str, root: Path | None = None) -> dict:
    """Grade the submission under ``root`` and write ``results/results.json``; return it.

    Always writes a valid results.json, whatever the upload holds: links are never followed,
    odd files are skipped with a reason, and a failure of the grader itself scores 0 with a
    message rather than leaving no results.
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
    from autograder.classrun import Options, grade_in_process
    from autograder.files import find_notebooks

    upload = root / "submission"
    found = find_notebooks([upload]) if upload.is_dir() and not upload.is_symlink() else None
    notebooks = found.notebooks if found else []
    if len(notebooks) != 1:
        names = ", ".join(p.name for p in notebooks) or "none"
        skipped = "; ".join(found.skipped) if found and found.skipped else ""
        return _ungraded(assignment_id, f"Please upload exactly one notebook (.ipynb); found: {names}."
                         + (f" Skipped: {skipped}." if skipped else ""))
    result = grade_in_process(notebooks[0], Options(solutions=root / "source" / "solutions"))
    if result.assignment != assignment_id:
        if not result.assignment:
            reason = "; ".join(result.flags) or "it does not look like a notebook of this course"
            return _ungraded(assignment_id, f"{notebooks[0].name} could not be graded ({reason}). "
                                            "Upload your completed notebook of this assignment.")
        return _ungraded(
            assignment_id,
            f"{notebooks[0].name} is not the notebook of assignment {assignment_id} "
            f"(it looks like {result.assignment}). Upload your completed notebook of this assignment.",
        )
    return gradescope_results(result)


def _ungraded(assignment_id: str, message: str) -> dict:
    """A results.json that scores 0 and says why, keeping the assignment's maximum."""
    total = sum(c.points for c in get_assignment(assignment_id).checks())
    return {"score": 0.0, "max_score": total, "output": message, "tests": []}
