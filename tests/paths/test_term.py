"""An instructor's term on every path: one course file (due date, late policy, roster) gives the
same lateness and penalty on the command line, ``pytest --grade``, nbgrader and Gradescope;
the roster's names reach nbgrader's export and the LMS files from both sources agree;
resubmissions and regrades after a fix are graded again, keeping the grades given by hand."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SOLUTIONS, require_tool
from nbgrader_course import Course, filled_in, replace_definition
from test_gradescope import autograde

from autograder.assignments import get_assignment
from autograder.gradescope import build_bundle

pytestmark = pytest.mark.slow

TOTAL = sum(c.points for c in get_assignment("01_losses").checks())
COURSE = """
[course]
timezone = "Europe/Paris"
roster = "roster.csv"

[late]
grace_minutes = 10
penalty_per_day = 0.1
max_penalty = 0.5

[assignments.01_losses]
due = 2025-02-07T23:59:00
late_due = 2025-02-14T23:59:00
canvas_id = 48213
canvas_name = "Loss functions"
"""
ROSTER = ("id,first_name,last_name,email,lms_user_id,sis_user_id,section\n"
          "alice,Alice,Liddell,alice@example.edu,101,S1,A\n"
          "bob,Bob,Stone,bob@example.edu,102,S2,B\n"
          "carol,Carol,Ng,carol@example.edu,103,S3,A\n"
          "dave,=Dave,Lee,dave@example.edu,104,S4,B\n")
# Recorded times (nbgrader's timestamp.txt format), with what they cost: the due date is
# 2025-02-07 23:59 in Paris, 22:59 UTC.
STAMPS = {
    "alice": "2025-02-09 10:00:00.000000 UTC",  # 1 day 11 h late: 2 days, 20% of 23
    "bob": "2025-02-07 23:05:00.000000 UTC",  # 6 minutes late: within the grace period
    "dave": "2025-02-15 12:00:00.000000 UTC",  # after the late due date: not accepted
    # zed: no recorded time (and not on the roster)
}
WRONG_MSE = "def mse(y_pred, y_true):\n    return float(np.sum((y_pred - y_true) ** 2))\n"
SUSPICIOUS_MSE = ("def mse(y_pred, y_true):\n    if y_pred is None:\n        eval('0')\n"
                  "    return float(np.mean((y_pred - y_true) ** 2))\n")


@pytest.fixture(scope="module")
def term(tmp_path_factory, tool_env):
    """A course directory with the course file, the roster and four submissions (carol, on the
    roster, hands in nothing; zed is not on it), autograded by nbgrader."""
    require_tool("nbgrader")
    root = tmp_path_factory.mktemp("term")
    course = Course(root, "01_losses", tool_env)
    (root / "course.toml").write_text(COURSE, encoding="utf-8")
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    course.nbgrader("generate_assignment", "01_losses", "--force")
    reference = filled_in(course.release, SOLUTIONS / "01_losses" / "losses.ipynb")
    notebooks = {"alice": reference, "bob": reference, "zed": reference,
                 "dave": replace_definition(json.loads(json.dumps(reference)), "mse", WRONG_MSE)}
    for student, notebook in notebooks.items():
        path = course.submit(student, notebook)
        if student in STAMPS:
            (path.parent / "timestamp.txt").write_text(STAMPS[student] + "\n")
    course.nbgrader("autograde", "01_losses")  # without --create: the roster's students are known
    return course


def nbgrader_export(course: Course) -> dict[str, dict[str, str]]:
    course.nbgrader("export", "--to", "grades.csv")
    with open(course.root / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def test_nbgrader_applies_the_course_files_policy_and_knows_the_roster(term):
    rows = nbgrader_export(term)
    assert set(rows) == {"alice", "bob", "carol", "dave", "zed"}  # carol: on the roster, no submission
    assert (rows["alice"]["first_name"], rows["alice"]["last_name"], rows["alice"]["email"]) == (
        "Alice", "Liddell", "alice@example.edu")
    assert float(rows["alice"]["late_submission_penalty"]) == pytest.approx(0.2 * TOTAL)
    assert float(rows["alice"]["score"]) == pytest.approx(0.8 * TOTAL)
    assert float(rows["bob"]["late_submission_penalty"]) == 0 and float(rows["bob"]["score"]) == TOTAL
    assert float(rows["dave"]["raw_score"]) > 0 and float(rows["dave"]["score"]) == 0
    assert rows["alice"]["duedate"].startswith("2025-02-07 22:59:00")  # recorded in UTC, as nbgrader does
    assert rows["carol"]["timestamp"] == "" and float(rows["carol"]["score"]) == 0


def penalties_of(submissions: list[dict]) -> dict[str, tuple[float, float, str]]:
    """student -> (score, late penalty, lateness) of a results file's submissions."""
    return {s["student"]: (round(s["score"], 6), round(s["late_penalty"], 6), s["late"]["status"])
            for s in submissions}


def expected(term) -> dict[str, tuple[float, float, str]]:
    rows = nbgrader_export(term)
    status = {"alice": "late", "bob": "on time", "dave": "not accepted", "zed": "no recorded time"}
    return {s: (round(float(rows[s]["raw_score"]), 6), round(float(rows[s]["late_submission_penalty"]), 6),
                status[s]) for s in status}


def test_the_same_penalty_on_the_command_line_pytest_and_gradescope(term, tmp_path):
    nbgrader = expected(term)
    assert nbgrader["alice"][1] == pytest.approx(0.2 * TOTAL) and nbgrader["dave"][1] == nbgrader["dave"][0]
    submitted = term.root / "grading" / "submitted"

    report = tmp_path / "cli.json"
    cli = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--json", str(report),
                          "--solutions", str(term.root / "solutions")],
                         cwd=term.root, env=term.env, capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    document = json.loads(report.read_text())
    assert penalties_of(document["submissions"]) == nbgrader
    assert "No submission of 01_losses from 1 student of the roster: carol (Carol Ng)" in cli.stdout
    assert "Not on the roster (1): zed" in cli.stdout
    assert "1 day 11 h late: -4.6 = 18.4" in cli.stdout and "Alice Liddell" in cli.stdout
    assert document["roster"] == {"students": 4, "not_on_roster": ["zed"], "missing": [
        {"student": "carol", "assignment": "01_losses", "name": "Carol Ng"}]}

    grade_json = tmp_path / "pytest.json"
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    plugin = subprocess.run([sys.executable, "-m", "pytest", "--grade", str(submitted),
                             "-p", "no:cacheprovider", "--solutions", str(term.root / "solutions"),
                             "--grade-json", str(grade_json), "-c", str(tmp_path / "pytest.ini"),
                             "--rootdir", str(tmp_path)],
                            cwd=term.root, env=term.env, capture_output=True, text=True, timeout=600)
    assert plugin.returncode in (0, 1), plugin.stdout + plugin.stderr  # 1: dave's failed checks
    assert penalties_of(json.loads(grade_json.read_text())["submissions"]) == nbgrader
    assert "grade after the late penalty: 18.4 / 23" in plugin.stdout
    assert "No submission of 01_losses from 1 student of the roster: carol" in plugin.stdout

    bundle = gradescope_bundle(tmp_path)
    for student, (score, penalty, status) in nbgrader.items():
        root = tmp_path / "gs" / student / "autograder"
        metadata = {"assignment": {"due_date": "2025-02-06T00:00:00.000000+00:00", "late_due_date": None}}
        if student in STAMPS:  # Gradescope's created_at: the same moment, in another zone
            metadata["created_at"] = _as_gradescope_time(STAMPS[student])
        root.mkdir(parents=True)
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
        printed: list[str] = []
        results = autograde(bundle, root.parent, submitted / student / "01_losses" / "losses.ipynb",
                            printed=printed)
        assert sum(t["score"] for t in results["tests"]) == score
        assert results["score"] == pytest.approx(score - penalty), student
        assert results["extra_data"]["late"]["status"] == status
        assert "differs from course.toml's" in printed[0]  # Gradescope's own due date is not the course's


def gradescope_bundle(tmp_path: Path) -> Path:
    """The Gradescope bundle of a course whose course file is COURSE (it carries the course
    file, never the roster)."""
    repository = tmp_path / "repository"
    shutil.copytree(ROOT / "autograder", repository / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SOLUTIONS / "01_losses", repository / "solutions" / "01_losses")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, repository / name)
    (repository / "course.toml").write_text(COURSE)
    (repository / "roster.csv").write_text(ROSTER)
    bundle = build_bundle("01_losses", tmp_path / "bundle.zip", repository)
    import zipfile

    names = zipfile.ZipFile(bundle).namelist()
    assert "course.toml" in names and not any(n.endswith("roster.csv") for n in names)
    return bundle


def _as_gradescope_time(stamp: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(stamp.removesuffix(" UTC")).replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo("America/Los_Angeles")).isoformat()


def test_the_lms_files_are_the_same_from_the_results_and_from_the_gradebook(term, tmp_path):
    report = tmp_path / "cli.json"
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(term.root / "grading" / "submitted"),
                    "--json", str(report), "--solutions", str(term.root / "solutions")],
                   cwd=term.root, env=term.env, check=True, capture_output=True, timeout=600)
    files = {}
    for source, option in (("results", ["--results", str(report)]), ("gradebook", ["--gradebook"])):
        out = tmp_path / source
        out.mkdir()
        run = subprocess.run([sys.executable, "-m", "autograder", "export", *option, "--canvas",
                              str(out / "canvas.csv"), "--csv", str(out / "sheet.csv")],
                             cwd=term.root, env=term.env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "zed is not on the roster with a Canvas or SIS id" in run.stdout
        files[source] = out
    canvas = (files["results"] / "canvas.csv").read_text()
    assert canvas == (files["gradebook"] / "canvas.csv").read_text()
    rows = list(csv.reader(canvas.splitlines()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Loss functions (48213)"]
    assert rows[1][0].strip() == "Points Possible" and float(rows[1][5]) == TOTAL
    by_id = {row[1]: row for row in rows[2:]}
    assert float(by_id["101"][5]) == pytest.approx(0.8 * TOTAL) and by_id["103"][5] == ""
    assert by_id["104"][0] == "Lee, =Dave" and float(by_id["104"][5]) == 0
    sheets = [list(csv.DictReader((files[s] / "sheet.csv").open())) for s in ("results", "gradebook")]
    columns = [c for c in sheets[0][0]
               if c.startswith("01_losses") and c.split()[-1] not in ("submitted", "status")]
    functions = [c for c in columns if ": " in c]
    assert len(functions) == len(get_assignment("01_losses").functions) + 3  # and Q1, Q2, Q3
    for from_results, from_gradebook in zip(*sheets, strict=True):
        student = from_results["student_id"]
        assert student == from_gradebook["student_id"]
        assert [from_results[c] for c in columns] == [from_gradebook[c] for c in columns], student


# --- resubmission and regrade ---------------------------------------------------------------


def test_nbgrader_regrades_resubmissions_and_fixes_and_keeps_manual_grades(tmp_path, tool_env):
    from nbgrader.api import Gradebook

    require_tool("nbgrader")
    course = Course(tmp_path, "01_losses", tool_env)
    course.nbgrader("generate_assignment", "01_losses", "--force")
    reference = filled_in(course.release, SOLUTIONS / "01_losses" / "losses.ipynb")
    course.submit("alice", reference)
    bob = course.submit("bob", json.loads(course.release.read_text()))
    course.nbgrader("autograde", "01_losses", "--create")
    assert course.grades() == {"alice": (TOTAL, TOTAL), "bob": (0.0, TOTAL)}

    with Gradebook(course.db_url) as gradebook:  # the instructor overrides two cells in formgrader
        for grade_id, score in (("test_mse", 1.5), ("test_Q1", 0.5)):
            grade = gradebook.find_grade(grade_id, "losses", "01_losses", "alice")
            grade.manual_score, grade.needs_manual_grade = score, False
        gradebook.db.commit()

    # A resubmission (no newer timestamp.txt: an LMS download put in place by hand) and a regrade
    # with nothing changed: both by the same command, nothing skipped. Bob's new notebook is right,
    # with code to review (an eval it never reaches): every cell of his is flagged for a look.
    bob.write_text(json.dumps(replace_definition(json.loads(json.dumps(reference)), "mse", SUSPICIOUS_MSE)))
    again = course.nbgrader("autograde", "01_losses")
    assert "Skipping existing assignment" not in again.stdout + again.stderr
    cells = course.cell_grades("alice")
    assert cells["test_mse"][0] == 1.5 and cells["test_Q1"][0] == 0.5  # manual grades kept...
    assert not cells["test_mse"][2] and not cells["test_Q1"][2]  # ...and still reviewed
    assert course.grades()["bob"] == (TOTAL, TOTAL)  # the resubmission was graded
    assert course.grades()["alice"] == (TOTAL - 0.5 - 0.5, TOTAL)
    assert all(flagged for _, _, flagged in course.cell_grades("bob").values())
    with Gradebook(course.db_url) as gradebook:  # the instructor looks at one of bob's cells
        grade = gradebook.find_grade("test_softmax", "losses", "01_losses", "bob")
        grade.manual_score, grade.needs_manual_grade = grade.auto_score, False
        gradebook.db.commit()

    # A fix of the reference (the quiz key of Q1 was wrong): everyone's Q1 is graded again.
    source = course.root / "solutions" / "01_losses" / "losses.ipynb"
    source.write_text(source.read_text().replace('Q1 = \\"B\\"', 'Q1 = \\"C\\"'))
    fixed = course.nbgrader("autograde", "01_losses")
    assert "Skipping existing assignment" not in fixed.stdout + fixed.stderr
    assert course.grades()["bob"] == (TOTAL - 1, TOTAL)  # bob answered B
    cells = course.cell_grades("alice")
    assert cells["test_Q1"][0] == 0.5 and cells["test_Q1"][2]  # kept; the score under it changed: review
    assert cells["test_mse"][0] == 1.5 and not cells["test_mse"][2]  # unchanged: still reviewed
    bobs = course.cell_grades("bob")
    assert not bobs["test_softmax"][2]  # looked at, unchanged: not flagged again
    assert bobs["test_mse"][2] and bobs["test_Q1"][2]  # still to look at
    with Gradebook(course.db_url) as gradebook:
        assert gradebook.find_grade("test_Q1", "losses", "01_losses", "alice").auto_score == 0

    feedback = [course.nbgrader("generate_feedback", "01_losses") for _ in range(2)]
    assert all("Skipping existing" not in f.stdout + f.stderr for f in feedback)
    page = (course.root / "grading" / "feedback" / "bob" / "01_losses" / "losses.html").read_text()
    assert f"{TOTAL - 1:g}" in page  # the regraded score, not the first one


def test_command_line_cache_is_invalidated_by_a_fix_of_the_checks_or_the_reference(tmp_path):
    package = tmp_path / "package"
    shutil.copytree(ROOT / "autograder", package / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    solutions = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS / "01_losses", solutions / "01_losses")
    notebook = SOLUTIONS / "01_losses" / "losses.ipynb"
    cache = tmp_path / "cache"
    env = os.environ | {"PYTHONPATH": str(package), "PYTHONDONTWRITEBYTECODE": "1"}

    def grade() -> float:
        report = tmp_path / "report.json"
        run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook),
                              "--json", str(report), "--cache", str(cache), "--solutions", str(solutions)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        (result,) = json.loads(report.read_text())["submissions"]
        assert result["path"] == str(notebook)
        return result["score"]

    def stored() -> int:
        return len(list(cache.glob("*.json")))

    assert grade() == TOTAL and stored() == 1
    assert grade() == TOTAL and stored() == 1  # unchanged: reused
    checks = package / "autograder" / "checks" / "losses.py"
    checks.write_text(checks.read_text() + "\n# a fix\n")
    assert grade() == TOTAL and stored() == 2  # the checks changed: graded again
    reference = solutions / "01_losses" / "losses.ipynb"
    reference.write_text(reference.read_text().replace('Q1 = \\"B\\"', 'Q1 = \\"C\\"'))
    assert grade() == TOTAL - 1 and stored() == 3  # the reference's key changed: graded again


def test_nbgrader_sync_records_the_roster_and_due_dates_without_grading(tmp_path, tool_env):
    require_tool("nbgrader")
    course = Course(tmp_path, "01_losses", tool_env)
    (tmp_path / "course.toml").write_text(COURSE)
    (tmp_path / "roster.csv").write_text(ROSTER)
    course.nbgrader("generate_assignment", "01_losses", "--force")
    sync = subprocess.run([sys.executable, "-m", "autograder", "nbgrader-sync"], cwd=tmp_path, env=tool_env,
                          capture_output=True, text=True, timeout=300)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert "recorded 4 students of the roster" in sync.stdout
    rows = nbgrader_export(course)
    assert sorted(rows) == ["alice", "bob", "carol", "dave"]
    assert rows["dave"]["first_name"] == "=Dave" and rows["carol"]["duedate"].startswith("2025-02-07 22:59")


def test_gradescope_never_takes_a_time_from_inside_the_upload(tmp_path):
    """An upload laid out as nbgrader's, with a timestamp.txt from before the due date: the time
    is Gradescope's created_at all the same."""
    root = tmp_path / "autograder"
    shutil.copytree(SOLUTIONS / "01_losses", root / "source" / "solutions" / "01_losses")
    (root / "source" / "course.toml").write_text(COURSE)
    upload = root / "submission" / "01_losses"
    upload.mkdir(parents=True)
    shutil.copy(SOLUTIONS / "01_losses" / "losses.ipynb", upload / "losses.ipynb")
    (upload / "timestamp.txt").write_text("2025-02-01 10:00:00.000000 UTC")  # planted: a week early
    (root / "submission_metadata.json").write_text(json.dumps(
        {"created_at": "2025-02-09T11:00:00+01:00", "assignment": {"due_date": None}}))
    env = os.environ | {"AUTOGRADER_ROOT": str(root), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "autograder", "gradescope-run", "--assignment", "01_losses"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    late = results["extra_data"]["late"]
    assert (late["source"], late["status"]) == ("Gradescope", "late")
    assert late["penalty"] == pytest.approx(0.2 * TOTAL)
    assert results["score"] == pytest.approx(0.8 * TOTAL)


def test_a_bad_course_file_stops_nbgrader_rather_than_being_left_out(tmp_path, tool_env):
    """traitlets logs an error in a configuration file and carries on without the whole file
    (stock nbgrader: another gradebook, student code in a kernel). A bad course file stops
    nbgrader with the one line that says what is wrong."""
    require_tool("nbgrader")
    course = Course(tmp_path, "01_losses", tool_env, clone=True)
    (tmp_path / "course.toml").write_text("[late]\npenalty_per_days = 0.1\n")
    course.submit("alice", json.loads(course.release.read_text()))
    run = subprocess.run(["nbgrader", "autograde", "01_losses", "--create"], cwd=tmp_path, env=tool_env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "course.toml [late]: unknown key 'penalty_per_days'" in run.stderr
    assert not (tmp_path / "grading" / "autograded").exists() and not (tmp_path / "gradebook.db").exists()
