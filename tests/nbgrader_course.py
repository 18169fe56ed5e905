"""A throwaway nbgrader course directory built from this repository's solutions."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SOLUTIONS


class Course:
    """An nbgrader course in ``root``: the repository's config and one assignment's source."""

    def __init__(self, root: Path, assignment_id: str, env: dict[str, str], *, clone: bool = False):
        """``clone``: the course as a fresh clone of the repository has it (every assignment's
        source and release, no gradebook); otherwise only this assignment's source."""
        self.root, self.assignment_id, self.env = root, assignment_id, env
        shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        if clone:
            shutil.copytree(SOLUTIONS, root / "solutions")
            shutil.copytree(ROOT / "exercises", root / "exercises")
            shutil.copy(ROOT / "course.toml", root / "course.toml")
        else:
            shutil.copytree(SOLUTIONS / assignment_id, root / "solutions" / assignment_id)

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["nbgrader", *args], cwd=self.root, env=self.env, capture_output=True, text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    @property
    def release(self) -> Path:
        (notebook,) = (self.root / "exercises" / self.assignment_id).glob("*.ipynb")
        return notebook

    def submit(self, student: str, notebook: dict) -> Path:
        folder = self.root / "grading" / "submitted" / student / self.assignment_id
        folder.mkdir(parents=True)
        path = folder / self.release.name
        path.write_text(json.dumps(notebook), encoding="utf-8")
        return path

    @property
    def db_url(self) -> str:
        return "sqlite:///" + str(self.root / "grading" / "gradebook.db")

    def cell_grades(self, student: str) -> dict[str, tuple[float, float, bool]]:
        """grade id -> (score, max score, needs a manual look), from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gradebook:
            notebook = gradebook.find_submission_notebook(self.release.stem, self.assignment_id, student)
            return {g.name: (g.score, g.max_score, g.needs_manual_grade) for g in notebook.grades}

    def command_line(self, *paths: Path) -> dict[str, dict]:
        """student -> their submission in ``python -m autograder grade --json``'s report."""
        report = self.root / "cli.json"
        result = subprocess.run(
            [sys.executable, "-m", "autograder", "grade", *map(str, paths), "--json", str(report),
             "--solutions", str(self.root / "solutions")],
            cwd=self.root, env=self.env, capture_output=True, text=True, timeout=1200,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return {s["student"]: s for s in json.loads(report.read_text())["submissions"]}

    def grades(self) -> dict[str, tuple[float, float]]:
        """student -> (score, max_score), from ``nbgrader export``."""
        self.nbgrader("export", "--to", "grades.csv")
        with open(self.root / "grades.csv", newline="") as f:
            return {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                    for row in csv.DictReader(f)}


def filled_in(release: Path, source: Path) -> dict:
    """The release notebook with every solution cell answered as the reference does,
    the way a student who solved everything would submit it."""
    notebook = json.loads(release.read_text(encoding="utf-8"))
    answers = {
        cell["metadata"]["nbgrader"]["grade_id"]: cell["source"]
        for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]
        if cell["metadata"].get("nbgrader", {}).get("solution")
    }
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


def grade_cell_targets(source: Path, assignment_id: str) -> dict[str, str]:
    """grade id -> the function or quiz answer its test cell checks, read from the reference
    notebook with a regular expression (independently of the nbgrader plugin's parser)."""
    targets = {}
    for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        match = re.search(rf'check\("{assignment_id}", "(\w+)"\)', text)
        if meta.get("grade") and not meta.get("solution") and match:
            targets[meta["grade_id"]] = match.group(1)
    return targets


def replace_definition(notebook: dict, name: str, code: str) -> dict:
    """``notebook`` with the solution cell that defines ``name`` (a function, a class or a quiz
    answer) replaced by ``code``."""
    defines = re.compile(rf"^(def {name}\(|class {name}\b|{name} =)", re.MULTILINE)
    for cell in notebook["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["metadata"].get("nbgrader", {}).get("solution") and defines.search(text):
            cell["source"] = code
            return notebook
    raise KeyError(f"no solution cell defines {name}")
