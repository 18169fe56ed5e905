"""The grader's command line, run as students' and instructors' submissions reach it."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from conftest import EXERCISES, ROOT, SOLUTIONS

from autograder.assignments import get_assignment
from autograder.report import NBGRADER_CSV_COLUMNS

TOTAL_01 = sum(c.points for c in get_assignment("01_losses").checks())
PUBLIC_01 = sum(c.points for c in get_assignment("01_losses").checks() if not c.hidden)
REFERENCE_01 = SOLUTIONS / "01_losses" / "losses.ipynb"
RELEASE_01 = EXERCISES / "01_losses" / "losses.ipynb"


def run_grader(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=os.environ | (env or {}),
    )


def graded(tmp_path: Path, *args: str, cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path / "report.json"
    result = run_grader(*args, "--json", str(report), cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, json.loads(report.read_text())


ASSIGNMENTS = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir())


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_every_reference_earns_full_marks_and_every_release_zero(tmp_path, assignment_id):
    _, report = graded(tmp_path, str(SOLUTIONS / assignment_id), str(EXERCISES / assignment_id))
    reference, release = report["submissions"]
    total = sum(c.points for c in get_assignment(assignment_id).checks())
    assert reference["assignment"] == release["assignment"] == assignment_id
    assert reference["score"] == reference["max_score"] == total
    assert release["score"] == 0 and release["max_score"] == total
    assert reference["flags"] == release["flags"] == []


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_pytest_grade_gives_every_reference_full_marks_and_every_release_zero(tmp_path, assignment_id):
    name = get_assignment(assignment_id).notebook
    report = tmp_path / "grade.json"
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    notebooks = [str(SOLUTIONS / assignment_id / name), str(EXERCISES / assignment_id / name)]
    config = ["-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path), "-c", str(tmp_path / "pytest.ini")]
    subprocess.run([sys.executable, "-m", "pytest", "--grade", *notebooks, "--grade-json", str(report),
                    *config], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    graded = {Path(s["path"]).parent.parent.name: s for s in json.loads(report.read_text())["submissions"]}
    total = sum(c.points for c in get_assignment(assignment_id).checks())
    assert graded["solutions"]["score"] == graded["solutions"]["max_score"] == total
    assert graded["exercises"]["score"] == 0 and graded["exercises"]["max_score"] == total
    assert {s["assignment"] for s in graded.values()} == {assignment_id}


def test_reference_earns_full_marks(tmp_path):
    result, report = graded(tmp_path, str(SOLUTIONS / "01_losses"))
    (submission,) = report["submissions"]
    assert submission["score"] == submission["max_score"] == TOTAL_01
    total_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("total"))
    assert total_line.split() == ["total", f"{TOTAL_01:g}", "/", f"{TOTAL_01:g}"]


def test_release_earns_zero_with_one_clear_message_per_function(tmp_path):
    result, report = graded(tmp_path, str(RELEASE_01))
    (submission,) = report["submissions"]
    assert submission["score"] == 0 and submission["max_score"] == TOTAL_01
    for function in get_assignment("01_losses").functions:
        assert f"{function} is not implemented yet" in result.stdout
    for quiz in ("Q1", "Q2", "Q3"):
        assert f"{quiz} is not answered yet: set it in the answer cell below the question" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_an_unanswered_question_is_never_ok_even_when_it_is_worth_nothing(tmp_path):
    # Without the key, a question's only check (its form) is worth 0 points: 0 / 0 is not "ok".
    result, _ = graded(tmp_path, str(RELEASE_01), "--public-only")
    rows = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()
            if line.strip().startswith(("ok ", "-- ")) and len(line.split()) > 1}
    assert {rows.get(q) for q in ("Q1", "Q2", "Q3")} == {"--"}, result.stdout
    assert "Q1 is not answered yet" in result.stdout


def test_json_report_follows_the_grader_interface(tmp_path):
    _, report = graded(tmp_path, str(REFERENCE_01))
    (submission,) = report["submissions"]
    assert {"path", "student", "assignment", "score", "max_score", "tests", "flags"} <= submission.keys()
    targets = get_assignment("01_losses").targets
    for test in submission["tests"]:
        assert {"name", "score", "max_score", "output"} <= set(test)
        assert test["name"].split(": ", 1)[0] == test["function"] in targets, test["name"]
        assert test["name"] == f"{test['function']}: {test['title']}"
        assert isinstance(test["hidden"], bool) and test["error"] is False


def test_gradescope_results_for_one_submission(tmp_path):
    results = tmp_path / "results.json"
    run = run_grader(str(RELEASE_01), "--gradescope", str(results))
    assert run.returncode == 0, run.stderr
    document = json.loads(results.read_text())
    assert document["score"] == 0 and document["max_score"] == TOTAL_01
    visibility = {t["visibility"] for t in document["tests"]}
    assert visibility == {"visible", "after_published"}


def test_class_folder_grades_every_student_in_parallel(tmp_path):
    for student, notebook in [("ada", REFERENCE_01), ("ben", RELEASE_01), ("cy", REFERENCE_01)]:
        folder = tmp_path / "class" / student / "01_losses"
        folder.mkdir(parents=True)
        shutil.copy(notebook, folder / "losses.ipynb")
    gradebook = tmp_path / "grades.csv"
    result, report = graded(tmp_path, str(tmp_path / "class"), "--jobs", "2", "--csv", str(gradebook))
    scores = {s["student"]: s["score"] for s in report["submissions"]}
    assert scores == {"ada": TOTAL_01, "ben": 0, "cy": TOTAL_01}
    assert "Summary" in result.stdout
    with open(gradebook, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == NBGRADER_CSV_COLUMNS
    assert {(r["student_id"], r["assignment"], float(r["score"]), float(r["max_score"])) for r in rows} == {
        ("ada", "01_losses", TOTAL_01, TOTAL_01), ("ben", "01_losses", 0.0, TOTAL_01),
        ("cy", "01_losses", TOTAL_01, TOTAL_01)}


def test_without_solutions_only_public_checks_run_and_the_report_says_so(tmp_path):
    notebook = tmp_path / "losses.ipynb"
    shutil.copy(REFERENCE_01, notebook)
    result, report = graded(tmp_path, str(notebook), "--public-only")
    (submission,) = report["submissions"]
    assert submission["score"] == submission["max_score"] == PUBLIC_01
    assert "hidden checks not run: --public-only was given" in result.stdout
    assert submission["hidden_checks"] == "--public-only was given"


def test_without_a_solutions_folder_the_report_says_why(tmp_path):
    notebook = tmp_path / "losses.ipynb"
    shutil.copy(REFERENCE_01, notebook)
    result = run_grader(str(notebook), "--json", str(tmp_path / "r.json"), cwd=tmp_path,
                        env={"AUTOGRADER_SOLUTIONS": str(tmp_path / "none")})
    assert result.returncode == 0, result.stderr
    (submission,) = json.loads((tmp_path / "r.json").read_text())["submissions"]
    assert submission["hidden_checks"] == "no solutions/ folder was found"
    assert "hidden checks not run: no solutions/ folder was found" in result.stdout


def test_assignment_is_recognised_from_the_notebook_not_its_folder(tmp_path):
    notebook = tmp_path / "anything" / "my work.ipynb"
    notebook.parent.mkdir()
    content = json.loads(REFERENCE_01.read_text())
    content["metadata"].pop("autograder")
    notebook.write_text(json.dumps(content))
    _, report = graded(tmp_path, str(notebook))
    assert report["submissions"][0]["assignment"] == "01_losses"
    assert report["submissions"][0]["score"] == TOTAL_01


def test_extra_cells_changed_outputs_and_slow_demos_do_not_matter(tmp_path):
    content = json.loads(REFERENCE_01.read_text())
    demo = {"cell_type": "code", "metadata": {}, "execution_count": 3, "id": "demo1",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["changed\n"]}],
            "source": ["%matplotlib inline\n", "import time\n", "time.sleep(3600)\n",
                       "plt.plot(mse(np.ones(3), np.zeros(3)))\n"]}
    content["cells"].insert(5, demo)
    notebook = tmp_path / "losses.ipynb"
    notebook.write_text(json.dumps(content))
    _, report = graded(tmp_path, str(notebook), "--timeout", "60")
    assert report["submissions"][0]["score"] == TOTAL_01


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a valid notebook file"),
    ('{"cells": "nope"}', "not a Jupyter notebook"),
])
def test_malformed_notebook_is_flagged_without_a_traceback(tmp_path, content, message):
    notebook = tmp_path / "broken.ipynb"
    notebook.write_text(content)
    report = tmp_path / "report.json"
    result = run_grader(str(notebook), "--json", str(report))
    assert result.returncode == 2, "nothing could be graded"
    (submission,) = json.loads(report.read_text())["submissions"]
    assert submission["score"] == 0
    assert any(message in flag["text"] for flag in submission["flags"]), submission["flags"]
    assert "Traceback" not in result.stdout + result.stderr


def test_syntax_error_costs_only_the_functions_of_that_cell(tmp_path):
    content = json.loads(REFERENCE_01.read_text())
    for cell in content["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "softmax":
            cell["source"] = ["def softmax(logits):\n", "    return (\n"]
    notebook = tmp_path / "losses.ipynb"
    notebook.write_text(json.dumps(content))
    result, report = graded(tmp_path, str(notebook))
    tests = report["submissions"][0]["tests"]
    lost = {t["name"].split(":")[0] for t in tests if t["score"] < t["max_score"]}
    assert lost == {"softmax"}  # cross_entropy_grad is graded with the reference's softmax
    assert "syntax error" in result.stdout


def test_a_missing_path_is_an_error(tmp_path):
    result = run_grader(str(tmp_path / "nowhere.ipynb"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_pytest_plugin_runs_the_same_checks(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--grade", str(REFERENCE_01), "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path), "-c", str(tmp_path / "pytest.ini")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    count = len(get_assignment("01_losses").checks())
    assert f"{count} passed" in result.stdout, result.stdout
    assert f"{TOTAL_01:g} / {TOTAL_01:g} points" in result.stdout


def test_grading_leaves_submissions_byte_identical_and_is_idempotent(tmp_path):
    notebook = tmp_path / "class" / "ada" / "01_losses" / "losses.ipynb"
    notebook.parent.mkdir(parents=True)
    shutil.copy(REFERENCE_01, notebook)
    before = notebook.read_bytes()
    _, first = graded(tmp_path, str(tmp_path / "class"))
    _, second = graded(tmp_path, str(tmp_path / "class"))
    assert notebook.read_bytes() == before
    assert sorted(p.name for p in notebook.parent.iterdir()) == ["losses.ipynb"], "grading left files behind"
    for report in (first, second):
        assert report.pop("wall_seconds") > 0  # timings are the fields that may differ between runs
        for submission in report["submissions"]:
            assert submission.pop("seconds") > 0
    assert first == second


def test_an_interrupted_class_run_resumes_without_regrading(tmp_path):
    students = ["ada", "ben", "cy"]
    for student in students:
        folder = tmp_path / "class" / student / "01_losses"
        folder.mkdir(parents=True)
        shutil.copy(REFERENCE_01 if student != "ben" else RELEASE_01, folder / "losses.ipynb")
    cache = tmp_path / "cache"
    # the first run is "interrupted" after ada: only her result is in the cache
    graded(tmp_path, str(tmp_path / "class" / "ada"), "--cache", str(cache))
    (ada_result,) = cache.glob("*.json")
    stamp = ada_result.stat().st_mtime_ns
    _, report = graded(tmp_path, str(tmp_path / "class"), "--cache", str(cache))
    assert ada_result.stat().st_mtime_ns == stamp, "ada's finished result was graded again"
    assert len(list(cache.glob("*.json"))) == 2  # ada's and cy's identical notebooks share a result
    scores = {s["student"]: s["score"] for s in report["submissions"]}
    assert scores == {"ada": TOTAL_01, "ben": 0, "cy": TOTAL_01}
    # a changed notebook is graded again
    notebook = tmp_path / "class" / "ben" / "01_losses" / "losses.ipynb"
    shutil.copy(REFERENCE_01, notebook)
    _, report = graded(tmp_path, str(tmp_path / "class"), "--cache", str(cache))
    assert {s["student"]: s["score"] for s in report["submissions"]}["ben"] == TOTAL_01


def test_help_is_plain_text():
    for args in (["--help"], ["grade", "--help"]):
        run = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 0 and "``" not in run.stdout and "`" not in run.stdout
        assert "Exit status: 0 when at least one notebook was graded" in run.stdout


def test_limits_are_printed_from_one_place():
    run = subprocess.run([sys.executable, "-m", "autograder", "limits"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0
    assert "call_seconds" in run.stdout and "notebook_seconds" in run.stdout and "scratch_disk" in run.stdout


def test_other_files_are_skipped_with_one_line_and_nothing_to_grade_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "folder.ipynb").mkdir()
    run = run_grader(str(tmp_path / "notes.txt"), str(tmp_path / "folder.ipynb"))
    assert run.returncode == 2 and "Traceback" not in run.stdout + run.stderr
    assert "notes.txt: skipped, not a notebook (.ipynb)" in run.stdout
    assert "error: no notebooks (.ipynb) to grade" in run.stderr


@pytest.mark.parametrize("newer", ["draft.ipynb", "losses.ipynb"])
def test_only_the_release_file_name_is_graded_and_the_others_are_named(tmp_path, newer):
    folder = tmp_path / "class" / "ada" / "01_losses"
    folder.mkdir(parents=True)
    shutil.copy(REFERENCE_01, folder / "draft.ipynb")
    shutil.copy(RELEASE_01, folder / "losses.ipynb")
    os.utime(folder / newer, (4_000_000_000, 4_000_000_000))  # file dates decide nothing
    result, report = graded(tmp_path, str(tmp_path / "class"))
    (submission,) = report["submissions"]
    assert submission["path"].endswith("/losses.ipynb") and submission["score"] == 0
    assert submission["notes"] == ["01_losses/draft.ipynb was not graded: only 01_losses/losses.ipynb is "
                                   "(rename or move your notebook to submit it)"]
    assert report["skipped"] == [{"path": str(folder / "draft.ipynb"), "student": "ada",
                                  "reason": "not graded: only 01_losses/losses.ipynb is graded"}]
    assert f"note: {folder / 'draft.ipynb'}: not graded" in result.stdout


def test_feedback_pages_and_the_class_report_from_one_run_and_from_its_results(tmp_path):
    """grade --feedback DIR --report FILE: a page per student and assignment, linked from the
    report with the notebooks; the run's wall time in the results; `report RESULTS.json
    --feedback` makes the same pages from the results alone."""
    from test_class_report import parse, section

    for student, notebook in [("ada", REFERENCE_01), ("ben", RELEASE_01)]:
        folder = tmp_path / "class" / student / "01_losses"
        folder.mkdir(parents=True)
        shutil.copy(notebook, folder / "losses.ipynb")
    (tmp_path / "class" / "ben" / "notes.txt").write_text("not a notebook")
    feedback, report = tmp_path / "handed back", tmp_path / "out" / "class.html"
    report.parent.mkdir()
    result, document = graded(tmp_path, str(tmp_path / "class"), "--jobs", "2", "--feedback", str(feedback),
                              "--report", str(report))
    assert 0 < document["wall_seconds"] < sum(s["seconds"] for s in document["submissions"]) + 60
    assert "Graded 2 notebooks in " in result.stdout
    assert {p.relative_to(feedback).as_posix() for p in feedback.rglob("*.html")} == {
        "ada/01_losses.html", "ben/01_losses.html", "index.html"}
    page = parse(report.read_text(encoding="utf-8"))
    rows = section(page, "Every submission").all("tbody")[0].all("tr")
    for row, student in zip(rows, ["ada", "ben"], strict=True):
        links = {a.text(): urllib.parse.unquote(a.attrs["href"]) for a in row.all("a")}  # percent-encoded
        page_link = (report.parent / links["feedback"]).resolve()
        assert page_link == (feedback / student / "01_losses.html").resolve()
        assert (report.parent / links["notebook"]).resolve() == \
            (tmp_path / "class" / student / "01_losses" / "losses.ipynb").resolve()
    assert "graded in" in " ".join(page.all("p")[0].text().split())
    ben = " ".join(parse((feedback / "ben" / "01_losses.html").read_text(encoding="utf-8")).text().split())
    assert f"Score: 0 / {TOTAL_01:g} points." in ben and "✗ mse: matches known values" in ben

    again = tmp_path / "again"
    made = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path / "report.json"),
                           "--feedback", str(again)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    for name in ("ada/01_losses.html", "ben/01_losses.html"):
        assert (again / name).read_bytes() == (feedback / name).read_bytes()
    nothing = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path / "report.json")],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert nothing.returncode == 2 and nothing.stderr.startswith("error: nothing to write")
