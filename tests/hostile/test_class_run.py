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
from autograder.isolation.sandbox import landlock_abi

pytestmark = pytest.mark.slow

REFERENCE = SOLUTIONS / "01_losses" / "losses.ipynb"
TOTAL = sum(c.points for c in get_assignment("01_losses").checks())
MSE_POINTS = get_assignment("01_losses").points("mse")


def with_cell(grade_id: str, body: str) -> dict:
    """The reference notebook with the solution cell ``grade_id`` replaced by ``body``."""
    notebook = json.loads(REFERENCE.read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = body
    return notebook


def with_mse(body: str) -> dict:
    return with_cell("mse", body)


CORRECT = "    return float(np.mean((y_pred - y_true) ** 2))\n"
FAKE_RESULTS = {"submissions": [{"path": "x", "assignment": "01_losses", "hidden": True, "notes": [],
                                 "suspicious": [], "error": None,
                                 "tests": [{"name": "mse: all", "target": "mse", "score": 999,
                                            "max_score": 999, "output": "", "hidden": False,
                                            "error": False}]}]}

# name: (graded function whose cell is replaced, its new body, what its feedback must say)
HOSTILE = {
    "infinite loop": ("mse", "def mse(y_pred, y_true):\n    while True:\n        pass\n",
                      "did not finish within"),
    "ignores the alarm": ("mse", "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                          "def mse(y_pred, y_true):\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                          "    while True:\n        pass\n", "did not finish within"),
    "sleeps for an hour": ("mse", "import time\ndef mse(y_pred, y_true):\n    time.sleep(3600)\n",
                           "did not finish within"),
    "raises KeyboardInterrupt": ("mse", "def mse(y_pred, y_true):\n    raise KeyboardInterrupt\n",
                                 "raised KeyboardInterrupt"),
    "raises SystemExit": ("mse", "import sys\ndef mse(y_pred, y_true):\n    sys.exit(0)\n",
                          "raised SystemExit"),
    "exits inside a call": ("mse", "import os\ndef mse(y_pred, y_true):\n    os._exit(0)\n",
                            "ended the grading process (exit code 0)"),
    "allocates 30 GB": ("mse", "def mse(y_pred, y_true):\n    return np.ones(30 * 2**30 // 8).sum()\n",
                        "MemoryError"),
    "prints 200 MB": ("mse", "def mse(y_pred, y_true):\n    print('x' * 200_000_000)\n" + CORRECT, None),
    "returns None": ("mse", "def mse(y_pred, y_true):\n    return None\n", "should return a single number"),
    "returns a string": ("mse", "def mse(y_pred, y_true):\n    return 'small'\n",
                         "should return a single number"),
    "returns NaN": ("mse", "def mse(y_pred, y_true):\n    return float('nan')\n", "expected"),
    "returns a list": ("mse", "def mse(y_pred, y_true):\n    return [1.0]\n",
                       "should return a single number"),
    "returns the wrong shape": ("mse_grad", "def mse_grad(y_pred, y_true):\n    return np.zeros(3)\n",
                                "should return an array of shape"),
    "syntax error": ("mse", "def mse(y_pred, y_true)\n    return 0\n", "syntax error"),
    "missing function": ("mse", "def mean_squared_error(y_pred, y_true):\n    return 0.0\n",
                         "mse is not defined"),
    "exits at import": ("mse", "import sys\nSTOP = sys.exit(0)\ndef mse(y_pred, y_true):\n    return STOP\n",
                        "mse"),
    "leaves a background process running": (
        "mse", "import os, time\ndef mse(y_pred, y_true):\n    if os.fork() == 0:\n        os.setsid()\n"
        "        if os.fork() == 0:\n            time.sleep(4321)\n        os._exit(0)\n" + CORRECT,
        "PermissionError"),
    # Tampering, written so that a scan of the source cannot see what it does.
    "patches NumPy's comparisons": (
        "mse", "def mse(y_pred, y_true):\n    numpy = __builtins__['__imp' + 'ort__']('num' + 'py')\n"
        "    for name in ('is' + 'close', 'all' + 'close', 'array_' + 'equal'):\n"
        "        vars(numpy)[name] = lambda *a, **k: True\n    return 0.0\n", "expected"),
    "patches the grader": (
        "mse", "def mse(y_pred, y_true):\n    sys = __builtins__['__imp' + 'ort__']('s' + 'ys')\n"
        "    for name, module in list(vars(sys)['mod' + 'ules'].items()):\n"
        "        if name.startswith('auto' + 'grader'):\n"
        "            for attr in list(vars(module)):\n"
        "                if attr.startswith('assert_') or attr in ('as_number', 'as_array'):\n"
        "                    vars(module)[attr] = lambda *a, **k: 0.0\n    return 0.0\n", "expected"),
    "reads the reference from disk": (
        "mse", "def mse(y_pred, y_true):\n    try:\n"
        f"        cells = __builtins__['op' + 'en']({str(REFERENCE)!r}).read()\n"
        "        return float(np.mean((y_pred - y_true) ** 2)) if 'def mse' in cells else 1.0\n"
        "    except Exception:\n        return 0.0\n", "expected"),
    "writes a fake results file": (
        "mse", "def mse(y_pred, y_true):\n    os = __builtins__['__imp' + 'ort__']('o' + 's')\n    try:\n"
        "        args = __builtins__['op' + 'en'](f'/proc/{os.getppid()}/cmdline').read().split(chr(0))\n"
        "        target = args[args.index('--grade-json') + 1]\n"
        f"        __builtins__['op' + 'en'](target, 'w').write({json.dumps(FAKE_RESULTS)!r})\n"
        "    except Exception:\n        pass\n    return 0.0\n", "expected"),
    "kills the grader": (
        "mse", "def mse(y_pred, y_true):\n    os = __builtins__['__imp' + 'ort__']('o' + 's')\n    try:\n"
        "        getattr(os, 'ki' + 'll')(os.getppid(), 9)\n    except Exception:\n        pass\n"
        "    return 0.0\n", "expected"),
    "reaches into the reference through a helper": (
        "cross_entropy", "def cross_entropy(logits, labels):\n"
        "    return softmax.__globals__['cross_entropy'](logits, labels)\n", "cross_entropy"),
}
# Cases whose function is right apart from the misbehaviour keep its points.
KEEPS_POINTS = {"prints 200 MB"}
# Every timeout and crash of student code is a flag an instructor sees.
FLAGGED = {"infinite loop": "timed out: mse", "ignores the alarm": "timed out: mse",
           "sleeps for an hour": "timed out: mse", "exits inside a call": "crashed: mse"}
NEEDS_LANDLOCK = {"reads the reference from disk", "writes a fake results file", "kills the grader"}
# Tampering cases return 0.0: they must score what a plain `return 0.0` scores, no more.
TAMPERS = {"patches NumPy's comparisons", "patches the grader", *NEEDS_LANDLOCK}
RETURNS_ZERO = "def mse(y_pred, y_true):\n    return 0.0\n"


def worker_processes() -> list[str]:
    """Command lines of student processes still alive."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "autograder.isolation.worker" in line:
            found.append(line)
    return found


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """One class: a well-behaved student and one student per hostile submission."""
    folder = tmp_path_factory.mktemp("class")
    students = {"honest": json.loads(REFERENCE.read_text()), "returns_zero": with_mse(RETURNS_ZERO)}
    students |= {name.replace(" ", "_"): with_cell(grade_id, body)
                 for name, (grade_id, body, _) in HOSTILE.items()}
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
    return submissions, run.stdout, elapsed, worker_processes()


def test_the_rest_of_the_class_is_graded_normally_in_bounded_time(graded_class):
    submissions, _, elapsed, _ = graded_class
    assert submissions["honest"]["score"] == TOTAL and submissions["honest"]["flags"] == []
    assert elapsed < 300


def test_no_student_process_outlives_grading(graded_class):
    *_, left = graded_class
    assert left == [], f"student processes still running after grading: {left}"


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_submission_earns_nothing_unearned_and_gets_a_clear_message(graded_class, name):
    if name in NEEDS_LANDLOCK and not landlock_abi():
        pytest.skip("this kernel has no Landlock: the student's process cannot be kept from files")
    submissions, stdout, _, _ = graded_class
    submission = submissions[name.replace(" ", "_")]
    target, _, expected = HOSTILE[name]
    points = get_assignment("01_losses").points(target)
    own = sum(t["score"] for t in submission["tests"] if t["name"].startswith(f"{target}:"))
    others = sum(t["score"] for t in submission["tests"] if not t["name"].startswith(f"{target}:"))
    earned = points if name in KEEPS_POINTS else 0
    if name in TAMPERS:
        earned = sum(t["score"] for t in submissions["returns_zero"]["tests"] if t["name"].startswith("mse:"))
        assert earned < points
    assert own == earned, f"{name}: {target} earned {own}, expected {earned}"
    assert others == TOTAL - points, f"{name}: the other functions should keep their points"
    graded = [f["text"] for f in submission["flags"] if f["kind"] != "suspicious"]
    assert graded == ([FLAGGED[name]] if name in FLAGGED else []), submission["flags"]
    if expected:
        feedback = "\n".join(t["output"] for t in submission["tests"]) + " ".join(submission["notes"])
        assert expected in feedback, f"{name}: feedback lacks {expected!r}:\n{feedback[:2000]}"
    assert "Traceback" not in stdout
    assert len(stdout) < 2_000_000, "printing by student code must not flood the report"


def test_a_notebook_that_exceeds_its_time_limit_is_flagged_and_stopped(tmp_path):
    notebook = json.loads(REFERENCE.read_text())
    for cell in notebook["cells"]:  # three functions that hang: 3 s each, over the notebook's 4 s
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in ("mse", "mse_grad", "softmax"):
            cell["source"] = f"def {grade_id}(*args):\n    while True:\n        pass\n"
    path = tmp_path / "losses.ipynb"
    path.write_text(json.dumps(notebook))
    notebook = path
    report = tmp_path / "report.json"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--json", str(report),
                          "--timeout", "4"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=os.environ | {"AUTOGRADER_CALL_TIMEOUT": "3"})
    assert run.returncode == 0 and time.perf_counter() - start < 60
    (submission,) = json.loads(report.read_text())["submissions"]
    assert submission["score"] == 0
    assert submission["flags"] == [{"kind": "timed_out", "text": "timed out: grading took longer than 4 s",
                                    "students_see": True}]
    assert submission["assignment"] == "01_losses"  # known before the time ran out, and its maximum
    assert submission["max_score"] == sum(c.points for c in get_assignment("01_losses").checks())
    assert worker_processes() == []


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


# Tampering that a scan of the source can see is also flagged for review.
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
    findings = [f["text"] for f in submission["flags"] if f["kind"] == "suspicious"]
    assert any(finding in text for text in findings), submission["flags"]
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
