"""Attacks on the class run that still get through: each test is one finding, and fails until
it is fixed.

- An upload's ``timestamp.txt`` stops or stalls ``nbgrader autograde`` (a pipe hangs the whole
  run; text that is not a date fails the submission and the run exits 1).
- Grading one student's folder reads it as a class when nothing sits at its top: the upload
  names other students, on the command line and ``pytest --grade``.
- Deep folders in an upload crash ``pytest --grade`` for the whole class (INTERNALERROR) and
  leave the student ungraded in ``nbgrader autograde`` (which exits 1).
- A ``pyvenv.cfg`` (or ``conda-meta/history``) in an upload hides it from ``pytest --grade``.
- nbgrader copies an upload's other files whole: a sparse file of no disk becomes gigabytes.
- File names in an upload reach the instructor's terminal raw through nbgrader's log, and
  student folder names through pytest's own report lines.
- The CSV gradebook starts a formula in a spreadsheet that separates cells with ``;``.
- Two names that differ only in Unicode normalisation look the same everywhere, unflagged.
- Code written in a locked test cell earns points while every nbgrader page shows the
  gradebook's test cell instead (and a stub where the solution should be), unflagged.
- ``--cache`` stores the grade of the bytes graded under the key of the bytes hashed: a
  notebook that changes between the two reads gives its grade to every identical old copy.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import unicodedata
from pathlib import Path

import pytest
from conftest import require_tool
from hostile_support import EXERCISES, SOLUTIONS, notebook, total, watch, write_class
from nbgrader_course import Course

from autograder.report import write_csv
from autograder.results import CheckResult, SubmissionResult
from autograder.submissions import plan

ASSIGNMENT = "01_losses"
FULL = total(ASSIGNMENT)
ESCAPES = "\x1b]0;owned\x07\x1b[2J"  # set the terminal's title, clear the screen


def _nested(folder: Path, depth: int) -> None:
    """``folder/d/d/.../d/x.txt``, ``depth`` folders deep (a zip holds this in a few KB)."""
    here = os.getcwd()
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    try:
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
        Path("x.txt").write_text("x")
    finally:
        os.chdir(here)


def _remove_nested(folder: Path) -> None:
    """Remove a tree too deep for ``shutil.rmtree`` on Python 3.11 (it recurses)."""
    here = os.getcwd()
    try:
        os.chdir(folder)
        depth = 0
        while os.path.isdir("d"):
            os.chdir("d")
            depth += 1
        for _ in range(depth):
            for name in os.listdir("."):
                os.unlink(name)
            os.chdir("..")
            os.rmdir("d")
    finally:
        os.chdir(here)


def _nbgrader_course(root: Path, tool_env: dict[str, str]) -> Course:
    require_tool("nbgrader")
    root.mkdir(parents=True, exist_ok=True)
    course = Course(root, ASSIGNMENT, tool_env | {"AUTOGRADER_CALL_TIMEOUT": "5"})
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    return course


def _autograde(course: Course, tmp: Path, timeout: float = 240):
    """``nbgrader autograde --create`` under the watcher (killed with everything it started
    after ``timeout`` seconds)."""
    return watch([shutil.which("nbgrader", path=course.env["PATH"]), "autograde", ASSIGNMENT, "--create"],
                 tmp, env=course.env, timeout=timeout, cwd=course.root)


def _nbgrader_scores(course: Course, students: list[str]) -> dict[str, float | None]:
    """student -> their total in the gradebook, None when nbgrader has no grade for them."""
    scores: dict[str, float | None] = {}
    for student in students:
        try:
            scores[student] = sum(score or 0.0 for score, _, _ in course.cell_grades(student).values())
        except Exception:  # noqa: BLE001 (no submission recorded: no grade)
            scores[student] = None
    return scores


# --- 1. timestamp.txt stops nbgrader autograde ---------------------------------------------
# nbgrader reads <submission>/timestamp.txt (autograde's init_assignment, outside every guard of
# the course): a pipe blocks the whole run forever; text that is not a date raises (nbgrader
# calls a `fail` its CourseDirectory does not have), the student is removed from the run and
# `autograde` exits 1; a link to /dev/zero reads until memory runs out (not run here).

@pytest.mark.slow
@pytest.mark.parametrize("kind", ["not a date", "a pipe"])
def test_a_timestamp_file_in_an_upload_does_not_stop_nbgrader(tmp_path, tool_env, kind):
    course = _nbgrader_course(tmp_path / "course", tool_env)
    reference = notebook(ASSIGNMENT)
    for student in ("aaron", "mallory", "zoe"):
        course.submit(student, reference)
    stamp = course.root / "grading" / "submitted" / "mallory" / ASSIGNMENT / "timestamp.txt"
    if kind == "a pipe":
        os.mkfifo(stamp)
    else:
        stamp.write_text("the day after the deadline\n")
    run = _autograde(course, tmp_path / "run", timeout=150)
    assert run.returncode == 0, f"nbgrader autograde: {run.returncode}\n{run.stderr[-2000:]}"
    scores = _nbgrader_scores(course, ["aaron", "mallory", "zoe"])
    assert scores == {"aaron": FULL, "mallory": FULL, "zoe": FULL}


def _hidden_in_a_test_cell(reference: dict) -> dict:
    """The reference with mse's solution cell a stub and the real mse in the (locked) test
    cell below it, which keeps its nbgrader metadata."""
    document = json.loads(json.dumps(reference))
    cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in document["cells"]}
    source = cells["mse"]["source"]
    source = "".join(source) if isinstance(source, list) else source
    cells["test_mse"]["source"] = "# the mse that is graded\n" + source
    cells["mse"]["source"] = "def mse(y_pred, y_true):\n    raise NotImplementedError()\n"
    return document


# --- 2, 3, 4: one nbgrader class with deep folders, a sparse file and hostile file names ------

@pytest.fixture(scope="module")
def nbgrader_class(tmp_path_factory, tool_env):
    tmp = tmp_path_factory.mktemp("redteam-nbgrader")
    course = _nbgrader_course(tmp / "course", tool_env)
    reference = notebook(ASSIGNMENT)
    for student in ("aaron", "deep", "sparse", "names", "zoe"):
        course.submit(student, reference)
    course.submit("hides", _hidden_in_a_test_cell(reference))
    submitted = course.root / "grading" / "submitted"
    _nested(submitted / "deep" / ASSIGNMENT, 1500)
    with open(submitted / "sparse" / ASSIGNMENT / "data.bin", "wb") as f:  # no disk, 256 MB long
        f.truncate(256 * 2**20)
    (submitted / "names" / ASSIGNMENT / f"notes{ESCAPES}.txt").write_text("x")
    (submitted / "names" / ASSIGNMENT / f"draft{ESCAPES}.ipynb").write_text(json.dumps(reference))
    run = _autograde(course, tmp / "run")
    yield course, run
    for student in ("deep",):
        for top in ("submitted", "autograded"):
            if (course.root / "grading" / top / student / ASSIGNMENT).is_dir():
                _remove_nested(course.root / "grading" / top / student / ASSIGNMENT)


@pytest.mark.slow
def test_deep_folders_in_an_upload_do_not_stop_nbgrader(nbgrader_class):
    """nbgrader lists an upload's other files with os.walk, which recurses on Python 3.11: 1,500
    nested folders raise RecursionError, the student gets no grade and autograde exits 1."""
    course, run = nbgrader_class
    assert run.returncode == 0, run.stderr[-2000:]
    assert _nbgrader_scores(course, ["aaron", "deep", "zoe"]) == {"aaron": FULL, "deep": FULL, "zoe": FULL}


@pytest.mark.slow
def test_nbgrader_copies_a_bounded_amount_of_an_upload(nbgrader_class):
    """A sparse file takes no disk in the upload (a tar keeps it sparse); nbgrader's copy of it
    into the autograded folder (and again into the feedback folder) writes it whole."""
    course, _ = nbgrader_class
    copied = course.root / "grading" / "autograded" / "sparse" / ASSIGNMENT
    allocated = sum(p.lstat().st_blocks * 512 for p in copied.rglob("*") if p.is_file())
    assert allocated < 32 * 2**20, f"the autograded copy of a 0-byte upload takes {allocated / 2**20:.0f} MB"


@pytest.mark.slow
def test_nbgrader_logs_no_escape_sequence_from_an_uploads_file_names(nbgrader_class):
    """nbgrader logs every file it copies and every notebook it skips by name, as it is."""
    _, run = nbgrader_class
    lines = [line for line in (run.stdout + run.stderr).splitlines() if "\x1b" in line or "\x07" in line]
    assert not lines, "raw escape sequences on the instructor's terminal:\n" + "\n".join(map(repr, lines[:5]))


@pytest.mark.slow
def test_what_nbgrader_shows_is_the_code_that_was_graded(nbgrader_class):
    """The core grades every code cell of the submitted file; nbgrader restores a locked
    cell's source from the gradebook. mse written in the test cell earns its points while
    formgrader and the feedback show a stub that raises NotImplementedError, and nothing
    marks the submission for review (only a log line says a checksum changed)."""
    course, _ = nbgrader_class
    autograded = json.loads((course.root / "grading" / "autograded" / "hides" / ASSIGNMENT / "losses.ipynb")
                            .read_text(encoding="utf-8"))
    shown = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                      for c in autograded["cells"] if c["cell_type"] == "code")
    grades = course.cell_grades("hides")
    earned, _, review = grades["test_mse"]
    assert not earned or "# the mse that is graded" in shown or review, \
        f"mse earned {earned} points for code no nbgrader page shows, unflagged"


# --- 5. grading one student's folder: the upload names other students ------------------------

@pytest.mark.slow
@pytest.mark.parametrize("command", ["python -m autograder grade", "pytest --grade"])
def test_grading_one_students_folder_never_names_another_student(tmp_path, command):
    """`grade class/mallory` (re-grading one student) cannot tell mallory's folder, holding only
    alice/ and carol/, from a class of alice and carol: a folder says nothing of who arranged
    it. Graded as one student's folder (--layout student), her upload names no one; read as a
    class by default, the terminal says so and how to read it as one student's."""
    mallory = tmp_path / "class" / "mallory"
    write_class(mallory, {"alice": (ASSIGNMENT, notebook(ASSIGNMENT, base=EXERCISES)),
                          "carol": (ASSIGNMENT, notebook(ASSIGNMENT))})
    report = tmp_path / "results.json"
    argv = {"python -m autograder grade": ["-m", "autograder", "grade", str(mallory), "--json", str(report)],
            "pytest --grade": ["-m", "pytest", "--grade", str(mallory), "--grade-json", str(report),
                               "-p", "no:cacheprovider", "-q"]}[command]
    layout = {"python -m autograder grade": "--layout", "pytest --grade": "--grade-layout"}[command]
    run = watch([sys.executable, *argv, "--solutions", str(SOLUTIONS), layout, "student"], tmp_path / "run",
                env={"AUTOGRADER_CALL_TIMEOUT": "5"}, timeout=300, cwd=tmp_path)
    assert report.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    students = {s["student"] for s in json.loads(report.read_text())["submissions"]}
    assert students <= {"mallory"}, f"mallory's upload graded as {sorted(students)}"
    assert {s["student"] for s in json.loads(report.read_text())["skipped"]} == {"mallory"}
    auto = watch([sys.executable, *argv, "--solutions", str(SOLUTIONS)], tmp_path / "auto",
                 env={"AUTOGRADER_CALL_TIMEOUT": "5"}, timeout=300, cwd=tmp_path)
    assert f"note: {mallory}: read as a class of 2 student folders: alice, carol (if it is one student's " \
           "folder, grade it with the layout 'student')" in auto.stdout


# --- 6, 7, 8: pytest --grade -----------------------------------------------------------------

@pytest.fixture(scope="module")
def pytest_class(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redteam-pytest")
    folder = tmp / "class"
    reference = notebook(ASSIGNMENT)
    students = {"alice": (ASSIGNMENT, reference), "venv": (ASSIGNMENT, reference),
                "conda": (ASSIGNMENT, reference), f"mal{ESCAPES}lory": (ASSIGNMENT, reference)}
    write_class(folder, students)
    (folder / "venv" / ASSIGNMENT / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (folder / "conda" / ASSIGNMENT / "conda-meta").mkdir()
    (folder / "conda" / ASSIGNMENT / "conda-meta" / "history").write_text("")
    report = tmp / "pytest.json"
    run = watch([sys.executable, "-m", "pytest", "--grade", str(folder), "--grade-json", str(report),
                 "--solutions", str(SOLUTIONS), "-p", "no:cacheprovider", "-rf"],
                tmp / "run", env={"AUTOGRADER_CALL_TIMEOUT": "5"}, timeout=600, cwd=tmp)
    graded = {}
    if report.exists():
        graded = {Path(s["path"]).relative_to(folder).parts[0]: s["score"]
                  for s in json.loads(report.read_text())["submissions"]}
    return run, graded


@pytest.mark.slow
@pytest.mark.parametrize("student", ["venv", "conda"])
def test_a_virtualenv_marker_in_an_upload_does_not_hide_it_from_pytest_grade(pytest_class, student):
    """pytest never collects a folder that looks like a virtual environment (a pyvenv.cfg or a
    conda-meta/history in it): the class policy chose the notebook, pytest silently never grades
    it, and the student has no row (the command line, nbgrader and Gradescope grade it)."""
    run, graded = pytest_class
    assert run.returncode in (0, 1), run.stderr[-2000:]
    assert graded.get("alice") == FULL
    assert graded.get(student) == FULL, f"{student} is missing from pytest --grade: {sorted(graded)}"


@pytest.mark.slow
def test_pytest_grade_prints_no_escape_sequence_from_a_student_folder_name(pytest_class):
    """pytest's own progress and summary lines show each notebook's path (student folder
    included) as it is; the plugin's lines escape it."""
    run, _ = pytest_class
    lines = [line for line in run.stdout.splitlines() if "\x1b" in line or "\x07" in line]
    assert not lines, "raw escape sequences on the instructor's terminal:\n" + "\n".join(map(repr, lines[:5]))


@pytest.mark.slow
def test_deep_folders_in_an_upload_do_not_crash_pytest_grade(tmp_path):
    """pytest collects a folder by recursion: 1,500 nested folders in one upload end the whole
    session with an INTERNALERROR (exit 3, no result shown for anyone, that student ungraded);
    the command line grades the class."""
    folder = tmp_path / "class"
    write_class(folder, {student: (ASSIGNMENT, notebook(ASSIGNMENT)) for student in ("alice", "mallory")})
    _nested(folder / "mallory" / ASSIGNMENT, 1500)
    report = tmp_path / "pytest.json"
    try:
        run = watch([sys.executable, "-m", "pytest", "--grade", str(folder), "--grade-json", str(report),
                     "--solutions", str(SOLUTIONS), "-p", "no:cacheprovider", "-q"],
                    tmp_path / "run", env={"AUTOGRADER_CALL_TIMEOUT": "5"}, timeout=600, cwd=tmp_path)
        graded = {s["student"]: s["score"] for s in json.loads(report.read_text())["submissions"]} \
            if report.exists() else {}
    finally:
        _remove_nested(folder / "mallory" / ASSIGNMENT)
    assert run.returncode in (0, 1), f"pytest --grade exited {run.returncode}: {run.stdout[-1500:]}"
    assert graded == {"alice": FULL, "mallory": FULL}


# --- 9, 10: exports and names ------------------------------------------------------------

def test_the_csv_gradebook_starts_no_formula_where_cells_are_separated_by_semicolons(tmp_path):
    """The ' prefix protects a cell that starts a formula, but a spreadsheet whose list
    separator is ';' (most of Europe) splits the row there and the next cell starts with '='.
    OWASP: quote every field as well."""
    result = SubmissionResult("class/x/01_losses/losses.ipynb", "x;=1+1;",
                              ASSIGNMENT, checks=[CheckResult("mse", "matches known values", 1.0, 1.0)])
    target = tmp_path / "grades.csv"
    write_csv(target, [result])
    for row in csv.reader(io.StringIO(target.read_text(encoding="utf-8")), delimiter=";"):
        for cell in row:
            assert not cell.lstrip().startswith(("=", "+", "-", "@")), f"a formula cell: {cell!r}"


def test_names_that_differ_only_in_unicode_normalisation_do_not_look_the_same(tmp_path):
    """'José' typed on Linux (NFC) and 'José' from a Mac (NFD: e + U+0301) are two students
    whose names every report shows identically, with no flag."""
    for form in ("NFC", "NFD"):
        folder = tmp_path / unicodedata.normalize(form, "José") / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(EXERCISES / ASSIGNMENT / "losses.ipynb", folder / "losses.ipynb")
    found = plan([tmp_path])
    assert len(found.submissions) == 2
    first, second = found.submissions
    shown = {unicodedata.normalize("NFC", s.student) for s in found.submissions}  # as a screen draws them
    assert len(shown) == 2 or (first.flags and second.flags), \
        f"two students shown as {sorted(shown)}, unflagged: {first.student!r} and {second.student!r}"


# --- 11. the cache keeps a result under the key of bytes that were not graded ----------------

SWAP_AFTER_HASHING = """
import sys
from pathlib import Path
import autograder.classrun as classrun
from autograder.cli import main
real = classrun.read_notebook_bytes
later = Path(sys.argv[1]).read_bytes()

def read_notebook_bytes(path, limits):  # the file changes right after it is hashed
    data = real(path, limits)
    Path(path).write_bytes(later)
    return data

classrun.read_notebook_bytes = read_notebook_bytes
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.slow
def test_the_cache_never_gives_one_notebooks_grade_to_other_bytes(tmp_path):
    """`--cache` hashes the notebook in the class run and grades it from a second read in the
    grading process. A notebook that changes between the two (a sync or a resubmission landing
    while the class is graded) stores its new grade under the key of its old bytes: here
    mallory's unmodified release, so every student who hands in the unmodified release gets
    mallory's 23/23 on every later run with that cache."""
    release = (EXERCISES / ASSIGNMENT / "losses.ipynb").read_bytes()
    first, second, cache = tmp_path / "first", tmp_path / "second", tmp_path / "cache"
    for folder, student in ((first, "mallory"), (second, "bob")):
        (folder / student / ASSIGNMENT).mkdir(parents=True)
        (folder / student / ASSIGNMENT / "losses.ipynb").write_bytes(release)
    solved = tmp_path / "solved.ipynb"
    solved.write_text(json.dumps(notebook(ASSIGNMENT)), encoding="utf-8")
    common = ["--cache", str(cache), "--solutions", str(SOLUTIONS)]
    env = {"AUTOGRADER_CALL_TIMEOUT": "5"}
    watch([sys.executable, "-c", SWAP_AFTER_HASHING, str(solved), "grade", str(first), *common],
          tmp_path / "run1", env=env, timeout=300, cwd=tmp_path)
    report = tmp_path / "second.json"
    run = watch([sys.executable, "-m", "autograder", "grade", str(second), "--json", str(report), *common],
                tmp_path / "run2", env=env, timeout=300, cwd=tmp_path)
    assert report.exists(), run.stderr[-2000:]
    (bob,) = json.loads(report.read_text())["submissions"]
    assert bob["score"] == 0, f"bob's unmodified release earned {bob['score']} from the cache"
