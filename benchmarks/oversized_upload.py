"""What an oversized upload costs ``nbgrader autograde`` and ``generate_feedback``.

Three classes of 01_losses, each graded by nbgrader as this repository configures it: two honest
students; the same with a 36 MB notebook of 200,000 code cells between them; the same with a
notebook of 200,000 small cells under the 16 MB limit (which the grading core grades, and
nbgrader shows as a stand-in).

    PATH=.venv/bin:$PATH python benchmarks/oversized_upload.py

Prints a Markdown table of wall times.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from nbgrader_course import Course, filled_in  # noqa: E402 (the tests' course helper)


def oversized(reference: dict, cell: dict) -> dict:
    return reference | {"cells": reference["cells"] + [cell] * 200_000}


def timed(course: Course, *args: str) -> float:
    start = time.perf_counter()
    course.nbgrader(*args)
    return time.perf_counter() - start


def main() -> None:
    if shutil.which("nbgrader") is None:
        sys.exit("nbgrader is not on PATH: run with the virtual environment's bin folder first on PATH")
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    reference = json.loads((ROOT / "exercises" / "01_losses" / "losses.ipynb").read_text(encoding="utf-8"))
    code = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": "x = 1  # " + "padding " * 18}
    small = {"cell_type": "markdown", "metadata": {}, "source": "."}
    classes = {"two honest students": None,
               "the same and a 36 MB notebook of 200,000 cells": oversized(reference, code),
               "the same and 200,000 small cells (under 16 MB)": oversized(reference, small)}
    print("| class | `nbgrader autograde` | `nbgrader generate_feedback` |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="oversized-benchmark-") as work:
        for index, (name, upload) in enumerate(classes.items()):
            root = Path(work) / str(index)
            root.mkdir()
            course = Course(root, "01_losses", env)
            course.nbgrader("generate_assignment", "01_losses", "--force")  # not timed: the set-up
            honest = filled_in(course.release, ROOT / "solutions" / "01_losses" / "losses.ipynb")
            course.submit("a_honest", honest)
            if upload is not None:
                course.submit("b_upload", upload)
            course.submit("c_honest", honest)
            autograde = timed(course, "autograde", "01_losses", "--create")
            feedback = timed(course, "generate_feedback", "01_losses")
            print(f"| {name} | {autograde:.1f} s | {feedback:.1f} s |")


if __name__ == "__main__":
    main()
