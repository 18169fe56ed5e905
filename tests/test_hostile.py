"""Submissions that misbehave: each earns nothing it did not earn (or is flagged), gets a clear
message, and the rest of the class is graded normally, with exit status 0, in bounded time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SOLUTIONS

from autograder.assignments import get_assignment

pytestmark = pytest.mark.slow

REFERENCE = SOLUTIONS / "01_losses" / "losses.ipynb"
TOTAL = sum(c.points for c in get_assignment("01_losses").checks())
MSE_POINTS = get_assignment("01_losses").points("mse")


def with_mse(body: str) -> dict:
    """The reference notebook with mse's cell replaced by ``body``."""
    notebook = json.loads(REFERENCE.read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "mse":
            cell["source"] = body
    return notebook


HOSTILE = {
    "infinite loop": ("def mse(y_pred, y_true):\n    while True:\n        pass\n",
                      "did not finish within"),
    "sleeps for an hour": ("import time\ndef mse(y_pred, y_true):\n    time.sleep(3600)\n",
                           "did not finish within"),
    "raises KeyboardInterrupt": ("def mse(y_pred, y_true):\n    raise KeyboardInterrupt\n",
                                 "raised KeyboardInterrupt"),
    "raises SystemExit": ("import sys\ndef mse(y_pred, y_true):\n    sys.exit(0)\n", "raised SystemExit"),
    "allocates 30 GB": ("def mse(y_pred, y_true):\n    return np.ones(30 * 2**30 // 8).sum()\n",
                        "MemoryError"),
    "prints 200 MB": ("def mse(y_pred, y_true):\n    print('x' * 200_000_000)\n"
                      "    return float(np.mean((y_pred - y_true) ** 2))\n", None),
    "returns None": ("def mse(y_pred, y_true):\n    return None\n", "should return a single number"),
    "returns a string": ("def mse(y_pred, y_true):\n    return 'small'\n", "should return a single number"),
    "returns NaN": ("def mse(y_pred, y_true):\n    return float('nan')\n", "expected"),
    "returns a list": ("def mse(y_pred, y_true):\n    return [1.0]\n", "should return a single number"),
    "syntax error": ("def mse(y_pred, y_true)\n    return 0\n", "syntax error"),
    "missing function": ("def mean_squared_error(y_pred, y_true):\n    return 0.0\n", "mse is not defined"),
    "exits at import": ("import sys\nSTOP = sys.exit(0)\ndef mse(y_pred, y_true):\n    return STOP\n",
                        "mse"),
}
# Cases whose function is right apart from the misbehaviour keep mse's points.
KEEPS_POINTS = {"prints 200 MB"}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """One class: a well-behaved student and one student per hostile submission."""
    folder = tmp_path_factory.mktemp("class")
    students = {"honest": json.loads(REFERENCE.read_text())}
    students |= {name.replace(" ", "_"): with_mse(body) for name, (body, _) in HOSTILE.items()}
    for student, notebook in students.items():
        path = folder / student / "01_losses" / "losses.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(notebook))
    report = folder / "report.json"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--jobs", "2",
                          "--json", str(report), "--timeout", "120"],
                         cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env=os.environ | {"AUTOGRADER_CALL_TIMEOUT": "2"})
    elapsed = time.perf_counter() - start
    assert run.returncode == 0, run.stderr[-2000:]
    submissions = {Path(s["path"]).parts[-3]: s for s in json.loads(report.read_text())["submissions"]}
    return submissions, run.stdout, elapsed


def test_the_rest_of_the_class_is_graded_normally_in_bounded_time(graded_class):
    submissions, _, elapsed = graded_class
    assert submissions["honest"]["score"] == TOTAL and submissions["honest"]["flags"] == []
    assert elapsed < 300


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_submission_earns_nothing_unearned_and_gets_a_clear_message(graded_class, name):
    submissions, stdout, _ = graded_class
    submission = submissions[name.replace(" ", "_")]
    mse_score = sum(t["score"] for t in submission["tests"] if t["name"].startswith("mse:"))
    others = sum(t["score"] for t in submission["tests"] if not t["name"].startswith("mse:"))
    expected_mse = MSE_POINTS if name in KEEPS_POINTS else 0
    assert mse_score == expected_mse, f"{name}: mse earned {mse_score}"
    assert others == TOTAL - MSE_POINTS, f"{name}: the other functions should keep their points"
    expected = HOSTILE[name][1]
    if expected:
        feedback = "\n".join(t["output"] for t in submission["tests"]) + " ".join(submission["notes"])
        assert expected in feedback, f"{name}: feedback lacks {expected!r}:\n{feedback[:2000]}"
    assert "Traceback" not in stdout
    assert len(stdout) < 2_000_000, "printing by student code must not flood the report"


def test_a_call_that_kills_its_process_is_flagged_and_scores_nothing(tmp_path):
    notebook = tmp_path / "losses.ipynb"
    notebook.write_text(json.dumps(with_mse("import os\ndef mse(y_pred, y_true):\n    os._exit(0)\n")))
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--json", str(report)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0
    (submission,) = json.loads(report.read_text())["submissions"]
    assert submission["score"] == 0
    assert any(flag.startswith("crashed") for flag in submission["flags"])


def test_ignoring_the_alarm_is_stopped_by_the_notebook_time_limit(tmp_path):
    body = ("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
            "def mse(y_pred, y_true):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
            "    while True:\n        pass\n")
    notebook = tmp_path / "losses.ipynb"
    notebook.write_text(json.dumps(with_mse(body)))
    report = tmp_path / "report.json"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--json", str(report),
                          "--timeout", "15"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and time.perf_counter() - start < 60
    (submission,) = json.loads(report.read_text())["submissions"]
    assert submission["score"] == 0
    assert any(flag.startswith("timed out") for flag in submission["flags"])


def test_a_background_process_does_not_outlive_grading(tmp_path):
    body = ("import subprocess\ndef mse(y_pred, y_true):\n"
            "    subprocess.Popen(['sleep', '4321'])\n    return float(np.mean((y_pred - y_true) ** 2))\n")
    notebook = tmp_path / "losses.ipynb"
    notebook.write_text(json.dumps(with_mse(body)))
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", "sleep 4321"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "a process started by student code outlived grading"


# Tampering that runs in the grading process cannot be prevented there; it is flagged for review.
TAMPERING = {
    "patches NumPy's comparisons": (
        "import numpy as np\n"
        "def mse(y_pred, y_true):\n"
        "    np.isclose = lambda *args, **kwargs: np.ones(np.broadcast(*args[:2]).shape, bool)\n"
        "    return 0.0\n", "changes `np.isclose`"),
    "patches the grader": (
        "import autograder.checks.compare as compare\n"
        "def mse(y_pred, y_true):\n"
        "    compare.assert_close = lambda *args, **kwargs: None\n"
        "    return 0.0\n", "uses the grader itself"),
    "reads the reference from disk": (
        "import json\n"
        "def mse(y_pred, y_true):\n"
        "    json.load(open('solutions/01_losses/losses.ipynb'))\n"
        "    return float(np.mean((y_pred - y_true) ** 2))\n", "opens files"),
    "writes a fake results file": (
        "from pathlib import Path\n"
        "def mse(y_pred, y_true):\n"
        "    Path('results.json').write_text('{\"score\": 100}')\n"
        "    return float(np.mean((y_pred - y_true) ** 2))\n", "reads or writes files"),
}


@pytest.mark.parametrize("name", TAMPERING)
def test_tampering_is_flagged_for_review(tmp_path, name):
    body, finding = TAMPERING[name]
    notebook = tmp_path / "losses.ipynb"
    notebook.write_text(json.dumps(with_mse(body)))
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--json", str(report)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (submission,) = json.loads(report.read_text())["submissions"]
    flags = [flag for flag in submission["flags"] if flag.startswith("suspicious code")]
    assert any(finding in flag for flag in flags), submission["flags"]
    assert "FLAG: suspicious code" in run.stdout
    assert not (notebook.parent / "results.json").exists(), "student code wrote next to the submission"


def test_deleted_or_edited_test_cells_change_nothing(tmp_path):
    notebook = json.loads(REFERENCE.read_text())
    kept = []
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            if meta["grade_id"] == "test_mse":
                cell["source"] = "assert True  # edited: nothing to check here"
            elif meta["grade_id"].startswith("test_Q"):
                continue  # deleted
        kept.append(cell)
    notebook["cells"] = kept
    path = tmp_path / "losses.ipynb"
    path.write_text(json.dumps(notebook))
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--json", str(report)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0
    (submission,) = json.loads(report.read_text())["submissions"]
    assert submission["score"] == submission["max_score"] == TOTAL  # graded by the checks, not the cells
