"""One awkward class, graded through the command line, ``pytest --grade``, nbgrader and
Gradescope (each student's folder uploaded as it is): every student gets the same points per
function on every path, and the class policy's choices are the same everywhere.

The class: duplicates (a buggy ``losses.ipynb`` beside a newer, correct ``losses-Copy1.ipynb``),
checkpoint copies, a file that is not a notebook where the notebook should be, a notebook only in
a subfolder, folders planted in another student's upload, metadata claiming another assignment,
another assignment's code in this one's place, and a notebook that runs out of time."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, SOLUTIONS, require_tool
from hostile_support import EXERCISES, notebook, total
from nbgrader_course import Course, grade_cell_targets, replace_definition

pytestmark = pytest.mark.slow

ASSIGNMENT = "01_losses"
REFERENCE = SOLUTIONS / ASSIGNMENT / "losses.ipynb"
SUM_NOT_MEAN = ("import numpy as np\ndef mse(y_pred, y_true):\n"
                "    return float(np.sum((y_pred - y_true) ** 2))\n")
SLOW = "import time\n\ndef {name}(*args):\n    time.sleep(1.0)\n    raise NotImplementedError()\n"
NOTEBOOK_SECONDS = 15


def reference(**metadata) -> dict:
    document = notebook(ASSIGNMENT)
    document["metadata"].update(metadata)
    return document


def build_class(folder: Path) -> dict[str, float]:
    """Write the class; returns student -> the total every path must give."""
    def put(relative: str, content: dict | bytes, *, age: float = 0.0) -> None:
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
        os.utime(path, (time.time() + age, time.time() + age))

    full = total(ASSIGNMENT)
    put("honest/01_losses/losses.ipynb", reference())
    put("copies/01_losses/losses.ipynb", replace_definition(reference(), "mse", SUM_NOT_MEAN))
    put("copies/01_losses/losses-Copy1.ipynb", reference(), age=86400)  # newer, and not graded
    put("checkpoint/01_losses/losses.ipynb", reference())
    put("checkpoint/01_losses/.ipynb_checkpoints/losses-checkpoint.ipynb",
        notebook(ASSIGNMENT, base=EXERCISES))
    archive = folder.parent / "upload.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("losses.ipynb", REFERENCE.read_text())
    put("zipped/01_losses/losses.ipynb", archive.read_bytes())  # a zip renamed to .ipynb
    put("subfolder/01_losses/my_work/losses.ipynb", reference())
    put("mallory/01_losses/losses.ipynb", notebook(ASSIGNMENT, base=EXERCISES))
    put("mallory/01_losses/honest/01_losses/losses.ipynb", reference(), age=86400)
    put("mallory/01_losses/carol/losses.ipynb", reference(), age=86400)
    put("claims_02/01_losses/losses.ipynb", reference(autograder={"assignment": "02_backprop"}))
    put("other_code/01_losses/losses.ipynb", notebook("02_backprop"))
    slow = reference()
    for name in ("mse", "mse_grad", "binary_cross_entropy", "binary_cross_entropy_grad", "softmax",
                 "cross_entropy", "cross_entropy_grad"):
        slow = replace_definition(slow, name, SLOW.format(name=name))
    put("slow/01_losses/losses.ipynb", slow)
    return {"honest": full, "copies": -1, "checkpoint": full, "zipped": 0.0, "subfolder": 0.0,
            "mallory": 0.0, "claims_02": full, "other_code": 0.0, "slow": 0.0}


def per_function(tests: list[dict]) -> dict[str, float]:
    points: dict[str, float] = {}
    for test in tests:
        function = test["name"].split(": ", 1)[0]
        points[function] = points.get(function, 0.0) + test["score"]
    return points


def from_results(document: dict) -> dict[str, tuple[float, dict[str, float]]]:
    return {s["student"]: (s["score"], per_function(s["tests"])) for s in document["submissions"]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, tool_env):
    require_tool("nbgrader")
    root = tmp_path_factory.mktemp("every-path")
    course_root = root / "course"
    course_root.mkdir()
    env = tool_env | {"AUTOGRADER_CALL_TIMEOUT": "5",
                      "AUTOGRADER_NOTEBOOK_TIMEOUT": str(NOTEBOOK_SECONDS)}
    course = Course(course_root, ASSIGNMENT, env)
    with (course_root / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.GradeWithCore.timeout = {NOTEBOOK_SECONDS}\n")
    course.nbgrader("generate_assignment", ASSIGNMENT, "--force")
    submitted = course_root / "grading" / "submitted"
    expected = build_class(submitted)
    paths = {}

    report = root / "cli.json"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--json", str(report),
                          "--solutions", str(course_root / "solutions")],
                         cwd=course_root, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    cli = json.loads(report.read_text())
    paths["command line"] = from_results(cli)

    report = root / "pytest.json"
    run = subprocess.run([sys.executable, "-m", "pytest", "--grade", str(submitted), "--grade-json",
                          str(report), "--solutions", str(course_root / "solutions"), "-p",
                          "no:cacheprovider", "-q"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: some checks failed
    plugin = json.loads(report.read_text())
    paths["pytest --grade"] = from_results(plugin)

    course.nbgrader("autograde", ASSIGNMENT, "--create")
    targets = grade_cell_targets(SOLUTIONS / ASSIGNMENT / "losses.ipynb", ASSIGNMENT)
    nbgrader: dict[str, tuple[float, dict[str, float]]] = {}
    for student in expected:
        try:
            cells = course.cell_grades(student)
        except Exception:  # no notebook nbgrader could take: no row
            continue
        points: dict[str, float] = {}
        for grade_id, (score, _, _) in cells.items():
            if grade_id in targets:
                points[targets[grade_id]] = points.get(targets[grade_id], 0.0) + (score or 0.0)
        nbgrader[student] = (sum(points.values()), points)
    paths["nbgrader"] = nbgrader

    bundle = root / "bundle.zip"
    made = subprocess.run([sys.executable, "-m", "autograder", "gradescope-bundle", ASSIGNMENT,
                           "--output", str(bundle)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    gradescope_root = root / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(gradescope_root / "source")
    gradescope, outputs = {}, {}
    for student in expected:
        shutil.rmtree(gradescope_root / "submission", ignore_errors=True)
        shutil.rmtree(gradescope_root / "results", ignore_errors=True)
        shutil.copytree(submitted / student, gradescope_root / "submission", symlinks=True)
        inside = {"AUTOGRADER_ROOT": str(gradescope_root), "AUTOGRADER_PYTHON": sys.executable,
                  "PYTHONPATH": str(gradescope_root / "source" / "package")}
        script = str(gradescope_root / "source" / "run_autograder")
        run = subprocess.run(["bash", script], capture_output=True, text=True, timeout=300, env=env | inside)
        assert run.returncode == 0, run.stdout + run.stderr
        document = json.loads((gradescope_root / "results" / "results.json").read_text())
        gradescope[student] = (document["score"], per_function(document["tests"]))
        outputs[student] = document["output"]
    paths["Gradescope"] = gradescope
    return expected, paths, cli, plugin, outputs


def points_of(paths: dict, path: str, student: str) -> tuple[float, dict[str, float]]:
    """What ``path`` gave ``student``; a student it has no row for earned nothing there."""
    score, functions = paths[path].get(student, (0.0, {}))
    return score, {f: p for f, p in functions.items() if p}


def test_every_student_gets_the_same_points_per_function_on_every_path(graded):
    expected, paths, *_ = graded
    for student, total_points in expected.items():
        seen = {path: points_of(paths, path, student) for path in paths}
        first = seen["command line"]
        assert all(points == first for points in seen.values()), (student, seen)
        if total_points >= 0:
            assert first[0] == total_points, (student, first)
    copies = points_of(paths, "command line", "copies")
    assert 0 < copies[0] < total(ASSIGNMENT) and "mse" not in copies[1], "the buggy losses.ipynb is graded"


def test_the_command_line_and_pytest_write_the_same_record(graded):
    _, _, cli, plugin, _ = graded

    def record(document: dict) -> dict:
        return {s["student"]: (s["assignment"], s["score"], s["max_score"],
                               [f["kind"] for f in s["flags"]], s["notes"]) for s in document["submissions"]}

    assert record(cli) == record(plugin)
    assert sorted(map(json.dumps, cli["skipped"])) == sorted(map(json.dumps, plugin["skipped"]))
    students = [s["student"] for s in cli["submissions"]]
    assert sorted(students) == sorted(set(students)), "one row per student and assignment"
    assert "carol" not in students and "subfolder" not in students


def test_each_choice_is_said_the_same_way(graded):
    _, _, cli, _, outputs = graded
    rows = {s["student"]: s for s in cli["submissions"]}
    kinds = {student: [f["kind"] for f in row["flags"]] for student, row in rows.items()}
    assert kinds["mallory"] == ["planted", "planted"] and kinds["claims_02"] == ["metadata_mismatch"]
    assert kinds["other_code"] == ["wrong_assignment"] and kinds["zipped"] == ["not_graded"]
    assert kinds["slow"] == ["timed_out"] and rows["slow"]["assignment"] == ASSIGNMENT
    assert rows["slow"]["max_score"] == total(ASSIGNMENT)
    why = "was not graded: only 01_losses/losses.ipynb is (rename or move your notebook to submit it)"
    assert rows["copies"]["notes"] == [f"01_losses/losses-Copy1.ipynb {why}"]
    assert "losses-Copy1.ipynb was not graded" in outputs["copies"]
    assert "planted" not in outputs["mallory"] and "review by hand" not in outputs["mallory"]
    assert "timed out: grading took longer than" in outputs["slow"]
    assert re.search(r"Please upload your notebook as losses\.ipynb", outputs["subfolder"])
    assert "01_losses/my_work/losses.ipynb: not graded" in outputs["subfolder"]
    skipped = {(s["student"], Path(s["path"]).name) for s in cli["skipped"]}
    assert ("subfolder", "losses.ipynb") in skipped and ("copies", "losses-Copy1.ipynb") in skipped
    assert not any(name == "losses-checkpoint.ipynb" for _, name in skipped)
