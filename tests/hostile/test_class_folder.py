"""A class folder holds whatever students' uploads and an LMS download hold: links (to
/dev/zero, to solutions/, in loops), pipes, sockets, folders named like notebooks, empty,
huge, malformed or odd notebooks, names with escape sequences, line breaks and unicode, and
folders a student nests inside their own upload to look like someone else's. The command
line grades the rest of the class, skips or flags each of these in one line, follows no
link, changes nothing, and names every student from the class layout."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_support import (
    EXERCISES,
    ROOT,
    SOLUTIONS,
    assert_graded_cleanly,
    digest,
    earned,
    flags,
    grade_class,
    notebook,
    total,
    watch,
)

pytestmark = pytest.mark.slow

REFERENCE = (SOLUTIONS / "01_losses" / "losses.ipynb").read_text(encoding="utf-8")
RELEASE = (EXERCISES / "01_losses" / "losses.ipynb").read_text(encoding="utf-8")
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b[31m"
# student folder names that need cleaning before any report shows them, as shown
ODD_NAMES = {f"escapes{ESCAPES}": "escapes\\x1b[2J\\x1b]0;owned\\x07\\x1b[31m",
             "line\nbreak": "line\\x0abreak", "ecila\u202e": "ecila\\u202e", "al\u200bice": "al\\u200bice",
             os.fsdecode(b"\xffnot_utf8_student"): "\\xffnot_utf8_student"}


def with_metadata(**changes) -> str:
    document = json.loads(REFERENCE)
    document["metadata"].update(changes)
    return json.dumps(document)


def odd_cells() -> str:
    document = json.loads(REFERENCE)
    document["cells"] = [cell if i % 2 else {"cell_type": "code", "source": 123, "metadata": [1]}
                         for i, cell in enumerate(document["cells"])] + [None, 5, "x", {"cell_type": []}]
    return json.dumps(document)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("folder")
    folder = tmp / "class"

    def put(relative: str, text: str | None = None):
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            path.write_text(text, encoding="utf-8")
        return path

    put("alice/01_losses/losses.ipynb", REFERENCE)
    put("bob/01_losses/losses.ipynb", REFERENCE)
    # links: never followed, whatever they point at
    os.symlink("/dev/zero", put("zero/01_losses/losses.ipynb"))
    os.symlink(SOLUTIONS / "01_losses" / "losses.ipynb", put("link_to_reference/01_losses/losses.ipynb"))
    os.symlink(SOLUTIONS, folder / "link_to_solutions")
    os.symlink(SOLUTIONS / "01_losses", put("linked_folder/01_losses").parent / "submitted")
    os.symlink("loop.ipynb", put("loop/01_losses/loop.ipynb"))
    os.symlink("..", put("loop/01_losses/up").parent / "up")
    # not files
    os.mkfifo(put("fifo/01_losses/losses.ipynb"))
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(put("socket/01_losses/losses.ipynb")))
    put("folder_named_like_a_notebook/01_losses/losses.ipynb").mkdir()
    # files that are not notebooks, or not readable ones
    put("empty/01_losses/losses.ipynb", "")
    with put("huge/01_losses/losses.ipynb").open("wb") as f:
        f.truncate(100 * 2**20)
    put("outputs_too_large/01_losses/losses.ipynb", with_metadata(padding="x" * (17 * 2**20)))
    put("nested/01_losses/losses.ipynb", "[" * 200_000 + "]" * 200_000)
    put("not_json/01_losses/losses.ipynb", '{"cells": [')
    put("utf16/01_losses/losses.ipynb").write_bytes(b"\xff\xfe" + REFERENCE.encode("utf-16-le"))
    put("number_too_long/01_losses/losses.ipynb", with_metadata(execution="BIG").replace('"BIG"', "1" * 5000))
    put("metadata_of_every_type/01_losses/losses.ipynb",
        with_metadata(autograder=["01_losses"], kernelspec=5, nbgrader="x", language_info=None))
    put("odd_cells/01_losses/losses.ipynb", odd_cells())
    put("text_file/01_losses/losses.txt", REFERENCE)
    # names: odd student folders (as an LMS download may name them), and odd notebooks beside the
    # graded one, which are listed as not graded
    for student in ODD_NAMES:
        put(f"{student}/01_losses/losses.ipynb", REFERENCE)
    put('=HYPERLINK("x")/01_losses/losses.ipynb', REFERENCE)
    put("extra_names/01_losses/losses.ipynb", REFERENCE)
    for extra in (f"{ESCAPES}losses.ipynb", "a\nb.ipynb", "l\u00f6sungen\u202eb\u0131lyat.ipynb",
                  os.fsdecode(b"\xff\xfe.ipynb")):  # bytes a zip may hold
        put(f"extra_names/01_losses/{extra}", RELEASE)
    os.symlink("/dev/null", put(f"escaped_link/01_losses/x{ESCAPES}\nnote: forged line.ipynb"))
    # a student nests folders in their own upload to pass a notebook off as alice's and bob's
    put("mallory/01_losses/losses.ipynb", RELEASE)
    for planted in ("mallory/01_losses/alice/01_losses/losses.ipynb", "mallory/01_losses/bob/losses.ipynb",
                    'mallory/01_losses/=HYPERLINK("x")/01_losses/losses.ipynb'):
        future = time.time() + 365 * 86400  # newer than the real ones
        os.utime(put(planted, RELEASE), (future, future))
    before = digest(folder)
    strict = {"PYTHONIOENCODING": "utf-8:strict"}  # a terminal that refuses bytes it cannot show
    run = grade_class(folder, tmp, "--csv", str(tmp / "grades.csv"), "--report", str(tmp / "class.html"),
                      timeout=60, env=strict)
    listening.close()
    rows = []
    if (tmp / "grades.csv").exists():  # else the run failed: the tests below say how
        with (tmp / "grades.csv").open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    return run, folder, before, rows


def test_the_class_is_graded_cleanly(graded):
    run, folder, before, _ = graded
    assert_graded_cleanly(run, folder, before, {"alice": "01_losses", "bob": "01_losses"}, seconds=180)


def test_links_pipes_sockets_and_folders_are_skipped_in_one_line_each(graded):
    run, *_ = graded
    notes = [line for line in run.stdout.splitlines()
             if line.startswith("note: ") and "read as a class" not in line]
    for student in ("zero", "link_to_reference", "loop", "escaped_link"):
        assert any(f"/{student}/" in line and "(links are not followed)" in line for line in notes)
    for student in ("fifo", "socket"):
        assert any(f"/{student}/" in line and "a pipe or socket" in line for line in notes)
    assert any("/empty/" in line and "skipped, empty" in line for line in notes)
    for student in ("zero", "link_to_reference", "linked_folder", "link_to_solutions", "fifo", "socket",
                    "folder_named_like_a_notebook", "empty", "text_file", "loop"):
        assert student not in run.submissions, student
    endings = ("(links are not followed)", "not a file", "empty", "is graded")
    assert all(line.endswith(endings) for line in notes), notes


def test_nothing_a_student_controls_reaches_the_terminal_raw(graded):
    run, *_ = graded
    assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout + run.stderr
    assert not any(line.startswith("note: forged line") for line in run.stdout.splitlines())
    assert "\u202e" not in run.stdout + run.stderr and "\u200b" not in run.stdout + run.stderr


@pytest.mark.parametrize("student, reason", [
    ("huge", "too large to be a notebook"), ("outputs_too_large", "too large to be a notebook"),
    ("nested", "nested too deeply"), ("not_json", "not JSON"), ("utf16", "not UTF-8"),
    ("number_too_long", "not JSON"),
])
def test_a_file_that_is_not_a_readable_notebook_is_flagged_not_graded(graded, student, reason):
    run, *_ = graded
    submission = run.submissions[student]
    assert submission["score"] == 0 and submission["tests"] == []
    (flag,) = flags(submission, "not_graded")
    assert flag.startswith("not graded: ") and reason in flag and len(submission["flags"]) == 1


def test_odd_metadata_and_names_change_no_grade(graded):
    run, *_ = graded
    for student in ("metadata_of_every_type", "extra_names", *ODD_NAMES, '=HYPERLINK("x")'):
        assert run.submissions[student]["score"] == total("01_losses"), student
    assert run.submissions["metadata_of_every_type"]["flags"] == []
    assert 0 < run.submissions["odd_cells"]["score"] < total("01_losses")


def test_a_name_that_needed_cleaning_is_shown_escaped_and_flagged(graded):
    run, *_ = graded
    for raw, shown in ODD_NAMES.items():
        submission = run.submissions[raw]
        assert submission["student"] == shown, (shown, submission["student"])
        assert [f["kind"] for f in submission["flags"]] == ["name_cleaned"]
        assert not any(f["students_see"] for f in submission["flags"])
    assert run.submissions['=HYPERLINK("x")']["student"] == '=HYPERLINK("x")'  # the terminal shows it as is


def test_notebooks_beside_the_graded_one_are_named_on_one_line(graded):
    run, folder, *_ = graded
    extra = run.submissions["extra_names"]
    assert extra["flags"] == [] and len(extra["notes"]) == 4
    ending = "was not graded: only 01_losses/losses.ipynb is (rename or move your notebook to submit it)"
    assert all(note.startswith("01_losses/") and note.endswith(ending) for note in extra["notes"])
    assert "01_losses/l\u00f6sungen\\u202eb\u0131lyat.ipynb was not graded" in " ".join(extra["notes"])
    notes = [line for line in run.stdout.splitlines() if line.startswith(f"note: {folder}/extra_names/")]
    assert len(notes) == 4 and all(line.endswith("not graded: only 01_losses/losses.ipynb is graded")
                                   for line in notes)


def test_a_notebook_nested_in_a_students_upload_stays_that_students(graded):
    run, _, _, rows = graded
    for student in ("alice", "bob"):
        assert run.submissions[student]["student"] == student
        assert run.submissions[student]["score"] == total("01_losses")
    mallory = run.submissions["mallory"]
    assert mallory["student"] == "mallory" and mallory["score"] == 0
    planted = flags(mallory, "planted")
    claim = "mallory's folder holds another losses.ipynb in 01_losses/"
    assert len(planted) == 3 and all(flag.startswith(claim) for flag in planted)
    students = [row["student_id"] for row in rows]
    assert sorted(students) == sorted(set(students)), "one gradebook row per student"
    assert {row["student_id"]: float(row["score"]) for row in rows}["alice"] == total("01_losses")
    assert not any(student.lstrip().startswith(("=", "+", "-", "@")) for student in students)
    assert "'=HYPERLINK(\"x\")" in students  # a spreadsheet shows it as text
    assert "\\xffnot_utf8_student" in students  # bytes that are not UTF-8, shown escaped


def test_names_that_are_not_utf8_do_not_stop_the_reports(graded):
    run, folder, *_ = graded
    assert (folder.parent / "class.html").stat().st_size > 0
    assert "Wrote the class report" in run.stdout


def test_an_unreadable_notebook_is_flagged_not_graded(tmp_path):
    folder = tmp_path / "class"
    for student in ("alice", "unreadable"):
        (folder / student / "01_losses").mkdir(parents=True)
        (folder / student / "01_losses" / "losses.ipynb").write_text(REFERENCE, encoding="utf-8")
    (folder / "unreadable" / "01_losses" / "losses.ipynb").chmod(0)
    report = tmp_path / "class.json"
    argv = [sys.executable, "-m", "autograder", "grade", str(folder), "--json", str(report)]
    if os.geteuid() == 0:  # root reads every file unless it gives up the capabilities to
        argv = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *argv]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    submissions = {Path(s["path"]).relative_to(folder).parts[0]: s
                   for s in json.loads(report.read_text())["submissions"]}
    assert submissions["alice"]["score"] == total("01_losses")
    unreadable = submissions["unreadable"]
    assert unreadable["score"] == 0, unreadable
    assert flags(unreadable, "not_graded")[0].startswith("not graded: "), unreadable
    assert "Traceback" not in run.stdout + run.stderr



# A student's upload holds a solutions/ folder: a "reference" whose quiz key is the student's own
# (wrong) answers and whose softmax, lent to cross_entropy, would run in the grading process.
PLANTED_REFERENCE = {
    "softmax": "def softmax(logits):\n    open({marker!r}, 'w').write('ran in the grader')\n"
               "    return logits\n",
    "answer_Q1": "Q1 = 'A'\n",
}
TRUSTING = {"cross_entropy": "def cross_entropy(logits, labels):\n    softmax(logits)\n    return 0.0\n",
            "answer_Q1": "Q1 = 'A'\n"}


@pytest.mark.parametrize("command", ["grade", "pytest --grade"])
def test_a_solutions_folder_in_a_students_upload_is_never_the_reference(tmp_path, command):
    upload = tmp_path / "class" / "mallory" / "01_losses"
    marker = tmp_path / "planted-reference-ran"
    cells = {name: code.format(marker=str(marker)) for name, code in PLANTED_REFERENCE.items()}
    (upload / "solutions" / "01_losses").mkdir(parents=True)
    (upload / "solutions" / "01_losses" / "losses.ipynb").write_text(
        json.dumps(notebook("01_losses", cells, base=EXERCISES)))
    (upload / "losses.ipynb").write_text(json.dumps(notebook("01_losses", TRUSTING)))
    report = tmp_path / "report.json"
    cli = [sys.executable, "-m", "autograder", "grade", "losses.ipynb", "--json", str(report)]
    plugin = [sys.executable, "-m", "pytest", "--grade", ".", "--grade-json", str(report)]
    argv = cli if command == "grade" else plugin
    # the instructor looks at one submission from inside its folder
    run = watch(argv, tmp_path / "run", cwd=upload, env={"PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}, timeout=300)
    assert not marker.exists(), "the planted reference ran in the grader"
    if report.exists():  # graded after all: never with the planted key
        (submission,) = json.loads(report.read_text())["submissions"]
        assert earned(submission, "Q1") == 0
    else:
        assert run.returncode in (2, 4) and "lies among the submissions" in run.stdout + run.stderr
