"""A throwaway nbgrader course directory built from this repository's solutions."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT, SOLUTIONS


class Course:
    """An nbgrader course in ``root``: the repository's config and one assignment's source."""

    def __init__(self, root: Path, assignment_id: str, env: dict[str, str]):
        self.root, self.assignment_id, self.env = root, assignment_id, env
        shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
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
