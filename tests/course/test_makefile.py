"""The Makefile's housekeeping never touches grading data."""

from __future__ import annotations

import shutil
import subprocess

from conftest import ROOT


def test_make_clean_leaves_submissions_and_the_gradebook_alone(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    grading = {"grading/submitted/ada/01_losses/losses.ipynb": "{}", "grading/gradebook.db": "sqlite",
               "grading/autograded/ada/01_losses/losses.ipynb": "{}", "grading/feedback/ada/x.html": "<p>"}
    for name, text in grading.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    for built in ("_build/html", ".pytest_cache", ".ruff_cache", ".artifacts"):
        (tmp_path / built).mkdir(parents=True)
    run = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    for name, text in grading.items():
        assert (tmp_path / name).read_text() == text, f"make clean touched {name}"
    assert not any((tmp_path / built).exists() for built in ("_build", ".pytest_cache", ".ruff_cache"))
