"""Where the grader runs: under a hard memory limit lower than its own (a batch scheduler's
``ulimit -v``), and with the grading-only install (no matplotlib). Grading still works, and
what was lowered or is missing is said in one line."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SOLUTIONS

from autograder.assignments import get_assignment
from autograder.limits import LIMITS

pytestmark = pytest.mark.slow

HARD_LIMIT = 3_000_000 * 1024  # ulimit -v 3000000, below the grader's 4096 MB


def lower_hard_memory_limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (HARD_LIMIT, HARD_LIMIT))


def test_grading_runs_under_a_lower_hard_memory_limit_and_says_so(tmp_path):
    assert LIMITS.grader_memory > HARD_LIMIT and LIMITS.student_memory > HARD_LIMIT
    report = tmp_path / "results.json"
    notebooks = [str(SOLUTIONS / a / get_assignment(a).notebook) for a in ("01_losses", "03_optimizers")]
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", *notebooks, "--json", str(report)],
                         capture_output=True, text=True, timeout=600, cwd=ROOT,
                         preexec_fn=lower_hard_memory_limit)
    assert run.returncode == 0, run.stderr[-2000:]
    for submission in json.loads(report.read_text())["submissions"]:
        assert submission["score"] == submission["max_score"] > 0, submission["tests"]
        assert submission["flags"] == []
        lowered = [n for n in submission["notes"] if "the hard limit in force here" in n]
        assert any(n.startswith("sandbox: address space limited to 2929.69 MB") for n in lowered), lowered
        assert any("grading process's memory limited to 2929.69 MB" in n for n in lowered), lowered


def test_the_report_needs_matplotlib_and_says_so_before_grading(tmp_path):
    missing = tmp_path / "site"
    (missing / "matplotlib").mkdir(parents=True)
    (missing / "matplotlib" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(missing), str(ROOT)])}
    notebook = SOLUTIONS / "01_losses" / "losses.ipynb"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--report",
                          str(tmp_path / "class.html")], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 2 and run.stdout == ""  # said before grading, not after
    assert run.stderr.strip().splitlines() == [
        "error: --report draws its figures with matplotlib and Pillow and lays out the page with Jinja2: "
        "install them (pip install matplotlib jinja2, or the package's [course] extra), or grade without "
        "--report"]
    graded = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert graded.returncode == 0 and "23 / 23" in graded.stdout.replace("  ", " ")
    assert not Path(tmp_path / "class.html").exists()
