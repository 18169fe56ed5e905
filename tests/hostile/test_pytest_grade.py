"""``pytest --grade`` on a hostile class: pytest is a test runner that imports Python files it
finds, so a class folder could hand it code to run in the grader (a conftest.py, a package's
__init__.py, a test_*.py) or links to follow (to solutions/, in a loop). None of it runs or is
followed; every notebook gets the points the command line gives it; nothing is written among
the submissions."""

from __future__ import annotations

import json
import os
import sys

import pytest
from hostile_support import (
    EXERCISES,
    NOTEBOOKS,
    SOLUTIONS,
    assert_graded_cleanly,
    digest,
    grade_class,
    notebook,
    watch,
    write_class,
)
from test_boundary import FORGED, KEEPS_SOFTMAX, QUIZ_FROM_STANDIN

pytestmark = pytest.mark.slow

# Run in the grader, this would give its student every point and its neighbour none.
TAKES_OVER = '''
import autograder.classrun as classrun
real = classrun.grade_in_process

def grade_in_process(path, *args, **kwargs):
    result = real(path, *args, **kwargs)
    for check in result.checks:
        check.score = check.points if "mallory" in str(path) else 0.0
        check.feedback = ""
    return result

classrun.grade_in_process = grade_in_process
open({marker!r}, "a").write(__file__ + "\\n")
'''

STUDENTS = {
    "alice": ("01_losses", notebook("01_losses")),
    "mallory": ("01_losses", notebook("01_losses", base=EXERCISES)),
    "forged_laughs": ("01_losses", notebook("01_losses", {"mse": FORGED["forged_laughs"]})),
    "keeps_softmax": ("01_losses", notebook("01_losses", KEEPS_SOFTMAX)),
    "quiz_from_standin": ("04_training", notebook("04_training", QUIZ_FROM_STANDIN)),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pytest-grade")
    folder = tmp / "class"
    write_class(folder, STUDENTS)
    marker = tmp / "student-code-ran"
    code = TAKES_OVER.format(marker=str(marker))
    mallory = folder / "mallory" / "01_losses"
    for name in ("conftest.py", "__init__.py", "test_takeover.py"):
        (mallory / name).write_text(code + "\ndef test_nothing():\n    pass\n")
    (folder / "conftest.py").write_text(code)  # at the class root too: pytest reads it first
    os.symlink(SOLUTIONS / "01_losses", mallory / "submitted")  # the reference, through a link
    os.symlink("../..", mallory / "loop")
    before = digest(folder)
    report = tmp / "pytest.json"
    run = watch([sys.executable, "-m", "pytest", "--grade", str(folder), "--grade-json", str(report), "-q"],
                tmp / "pytest-run", env={"AUTOGRADER_CALL_TIMEOUT": "3"}, timeout=600)
    by_path = {}
    if report.exists():
        for submission in json.loads(report.read_text())["submissions"]:
            by_path[os.path.relpath(submission["path"], folder)] = submission
    cli = grade_class(folder, tmp / "cli-run", timeout=60)
    return run, by_path, cli, folder, before, marker


def test_no_file_of_a_student_runs_in_the_grader(graded):
    run, *_, marker = graded
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]  # 1: some checks failed
    assert not marker.exists(), f"student code ran in the grader: {marker.read_text()}"
    assert "test_nothing" not in run.stdout and "test_takeover" not in run.stdout


def test_links_are_not_followed(graded):
    run, by_path, *_ = graded
    assert sorted(by_path) == sorted(f"{student}/{assignment}/{NOTEBOOKS[assignment]}"
                                     for student, (assignment, _) in STUDENTS.items())
    assert run.seconds < 240


def test_every_notebook_gets_what_the_command_line_gives_it(graded):
    run, by_path, cli, folder, before, _ = graded
    assert_graded_cleanly(cli, folder, before, {"alice": "01_losses"}, seconds=180)
    for path, submission in by_path.items():
        other = cli.submissions[path.split("/")[0]]
        assert submission["student"] == other["student"]
        mine = [(t["name"], t["score"]) for t in submission["tests"]]
        assert mine == [(t["name"], t["score"]) for t in other["tests"]]
    assert by_path["mallory/01_losses/losses.ipynb"]["score"] == 0
    alice = by_path["alice/01_losses/losses.ipynb"]
    assert alice["score"] == alice["max_score"]


def test_nothing_is_written_among_the_submissions(graded):
    run, _, _, folder, before, _ = graded
    assert digest(folder) == before
    assert run.left == []


# pytest reads a configuration file found beside what it is given (and imports the plugins it
# names) before any plugin runs, so no plugin can refuse one. The README says to point it at a
# folder whose root the instructor made, or to pass -c; both, and the command line, stay safe.
@pytest.mark.parametrize("way", ["-c", "the class folder", "python -m autograder grade"])
def test_a_configuration_file_in_a_students_folder_runs_nothing_the_documented_ways(tmp_path, way):
    folder = tmp_path / "mallory" / "01_losses"
    write_class(tmp_path, {"mallory": ("01_losses", notebook("01_losses", base=EXERCISES))})
    marker = tmp_path / "plugin-ran"
    (folder / "pytest.ini").write_text("[pytest]\npythonpath = .\naddopts = -p takeover\n")
    (folder / "takeover.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    instructor = tmp_path / "instructor.ini"
    instructor.write_text("[pytest]\n")
    argv = {
        "-c": ["-m", "pytest", "--grade", str(folder / "losses.ipynb"), "-c", str(instructor)],
        "the class folder": ["-m", "pytest", "--grade", str(tmp_path)],  # its root holds no configuration
        "python -m autograder grade": ["-m", "autograder", "grade", str(folder / "losses.ipynb")],
    }[way]
    run = watch([sys.executable, *argv], tmp_path / "run", timeout=300)
    assert run.returncode in (0, 1), run.stderr
    assert "losses" in run.stdout, run.stdout  # it graded the notebook
    assert not marker.exists(), "a student's pytest.ini loaded a student's plugin into the grader"
