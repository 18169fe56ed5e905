"""The grader as a pytest plugin: every check of a submitted notebook is a test item.

    pytest --grade path/to/notebook.ipynb        # or a folder of notebooks
    pytest --grade submission.ipynb --grade-json results.json

Each item carries its points; failures show the check's feedback, not a traceback. The
plugin is registered through the ``pytest11`` entry point, and does nothing without
``--grade``. ``python -m autograder grade`` runs exactly this, one process per notebook.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from autograder.assignments import Assignment, recognise
from autograder.checks import Check
from autograder.isolation import IsolatedNamespace, become_subreaper
from autograder.notebook import NotebookError, load_definitions
from autograder.references import ReferenceMissing, find_solutions, load_reference
from autograder.runner import Result, run_check
from autograder.submission import Namespace
from autograder.suspicious import suspicious_code


@dataclass
class Graded:
    """What grading one notebook produced (the plugin's JSON has one per notebook)."""

    path: str
    assignment: str | None = None
    hidden: bool = False
    notes: list[str] = field(default_factory=list)
    suspicious: list[str] = field(default_factory=list)
    error: str | None = None
    tests: list[Result] = field(default_factory=list)


graded_key = pytest.StashKey[list[Graded]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "grading submitted notebooks")
    group.addoption("--grade", action="store_true", help="grade the .ipynb files given as paths")
    group.addoption("--solutions", metavar="DIR", help="reference solutions folder (default: found)")
    group.addoption("--public-only", action="store_true", help="run only the public checks")
    group.addoption("--grade-json", metavar="FILE", help="write every check's result as JSON")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[graded_key] = []
    if config.getoption("grade"):
        become_subreaper()  # student code runs in child processes: keep them from escaping


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if (
        parent.config.getoption("grade")
        and file_path.suffix == ".ipynb"
        and ".ipynb_checkpoints" not in file_path.parts
    ):
        return SubmittedNotebook.from_parent(parent, path=file_path)
    return None


class SubmittedNotebook(pytest.File):
    """A notebook to grade: loads it once, then yields one item per check."""

    def collect(self):
        graded = Graded(path=str(self.path))
        self.config.stash[graded_key].append(graded)
        try:
            definitions = load_definitions(self.path)
        except NotebookError as error:
            graded.error = str(error)
            return
        assignment = recognise(definitions.metadata, definitions.cells)
        if assignment is None:
            graded.error = (
                f"{self.path} does not look like any assignment of this course "
                "(it defines none of the graded functions)"
            )
            return
        graded.assignment = assignment.id
        graded.suspicious = suspicious_code(definitions.blocks)
        student = IsolatedNamespace(definitions)
        self.session.config.add_cleanup(student.close)
        graded.notes = student.notes
        reference = self._reference(assignment, graded)
        graded.hidden = reference is not None
        for check in assignment.checks():
            if check.hidden and reference is None:
                continue
            yield CheckItem.from_parent(
                self, name=check.name, check=check, assignment=assignment,
                student=student, reference=reference, graded=graded,
            )

    def _reference(self, assignment: Assignment, graded: Graded) -> Namespace | None:
        if self.config.getoption("public_only"):
            graded.notes.append("hidden checks not run (--public-only)")
            return None
        option = self.config.getoption("solutions")
        solutions = Path(option) if option else find_solutions()
        try:
            return load_reference(assignment.id, solutions)
        except ReferenceMissing as missing:
            graded.notes.append(f"hidden checks not run: {missing}")
            return None


class CheckFailure(Exception):
    """Raised by a CheckItem whose check failed; carries the feedback."""


class CheckItem(pytest.Item):
    """One check of one notebook, worth ``check.points``."""

    def __init__(self, *, check: Check, assignment: Assignment, student: IsolatedNamespace,
                 reference: Namespace | None, graded: Graded, **kwargs):
        super().__init__(**kwargs)
        self.check, self.assignment = check, assignment
        self.student, self.reference, self.graded = student, reference, graded
        self.user_properties.append(("points", check.points))

    def runtest(self) -> None:
        result = run_check(self.check, self.assignment, self.student, self.reference)
        self.graded.tests.append(result)
        if not result.passed:
            raise CheckFailure(result.output)

    def repr_failure(self, excinfo, style=None) -> str:
        if isinstance(excinfo.value, CheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name} ({self.check.points:g} points)"


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop a notebook's student process after its last check, not at the end of the session
    (a folder of a whole class would otherwise keep one process per notebook alive)."""
    if isinstance(item, CheckItem) and (nextitem is None or nextitem.parent is not item.parent):
        item.student.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    for graded in config.stash.get(graded_key, []):
        if graded.error:
            terminalreporter.write_line(f"{graded.path}: could not grade: {graded.error}")
            continue
        score = sum(t.score for t in graded.tests)
        total = sum(t.max_score for t in graded.tests)
        scope = "public and hidden checks" if graded.hidden else "public checks only"
        terminalreporter.write_line(f"{graded.path}: {score:g} / {total:g} points ({scope})")


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    target = session.config.getoption("grade_json", None)
    if target:
        graded = session.config.stash.get(graded_key, [])
        payload = {"submissions": [asdict(g) for g in graded]}
        Path(target).write_text(json.dumps(payload, indent=1), encoding="utf-8")
