"""A throwaway nbgrader course directory built from this repository's solutions."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
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
        """student -> (score, max_score) of this assignment, from ``nbgrader export``."""
        self.nbgrader("export", "--to", "grades.csv")
        with open(self.root / "grades.csv", newline="") as f:
            return {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                    for row in csv.DictReader(f) if row["assignment"] == self.assignment_id}


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


class Formgrader:
    """nbgrader's formgrader for a course, served by a Jupyter server of its own on loopback
    with a token (`start_formgrader`)."""

    def __init__(self, url: str, token: str, process: subprocess.Popen):
        self.url, self.token, self.process = url, token, process

    def get(self, path: str) -> tuple[int, bytes]:
        """(status, body) of a GET of ``path`` (``/formgrader/...``) with the token."""
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def api(self, path: str) -> object:
        """The JSON of formgrader's API at ``/formgrader/api/<path>``."""
        status, body = self.get("/formgrader/api/" + path)
        assert status == 200, f"{path}: {status} {body[:300]!r}"
        return json.loads(body)


@contextlib.contextmanager
def start_formgrader(course: Course, scratch: Path) -> Iterator[Formgrader]:
    """A Jupyter server on 127.0.0.1 serving ``course``'s formgrader (the course's
    ``nbgrader_config.py`` is read from its folder, as when an instructor starts Jupyter
    there), with a fresh token and Jupyter configuration; stopped on exit."""
    import secrets
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    for folder in ("config", "runtime"):
        (scratch / folder).mkdir(parents=True, exist_ok=True)
    env = course.env | {"JUPYTER_CONFIG_DIR": str(scratch / "config"),
                        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
    log = open(scratch / "jupyter-server.log", "w")  # noqa: SIM115 (closed with the server)
    process = subprocess.Popen(
        ["jupyter", "server", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={course.root}", "--allow-root"],
        cwd=course.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Formgrader(f"http://127.0.0.1:{port}", token, process)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (scratch / "jupyter-server.log").read_text()[-3000:]
            try:
                if server.get("/formgrader/api/status")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (scratch / "jupyter-server.log").read_text()[-3000:]
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def gradebook_state(db_url: str) -> dict[tuple[str, str], tuple]:
    """(student, grade id) -> every score and flag the gradebook holds for it, and each
    comment: two states are equal only if no grade or comment changed."""
    from nbgrader.api import Gradebook

    state: dict[tuple[str, str], tuple] = {}
    with Gradebook(db_url) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        scores = (grade.auto_score, grade.manual_score, grade.extra_credit)
                        state[(submission.student.id, grade.name)] = (*scores, grade.needs_manual_grade)
                    for comment in notebook.comments:
                        state[(submission.student.id, "comment " + comment.name)] = (
                            comment.auto_comment, comment.manual_comment)
    return state
