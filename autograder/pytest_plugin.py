"""The grader as a pytest plugin: every check of a submitted notebook is a test item.

    pytest --grade path/to/notebook.ipynb        # or a folder of notebooks
    pytest --grade submission.ipynb --grade-json results.json

Each notebook is graded by the one grading core (`autograder.core.grade_notebook`) in a
grading process of its own, with the command line's limits, exactly as
``python -m autograder grade`` does; then every check becomes an item carrying its points,
whose failure shows the check's feedback, not a traceback. One notebook cannot crash, stall
or zero the others. The plugin is registered through the ``pytest11`` entry point and does
nothing without ``--grade``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.results import CheckResult, SubmissionResult, results_document

graded_key = pytest.StashKey[list[SubmissionResult]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "grading submitted notebooks")
    group.addoption("--grade", action="store_true", help="grade the .ipynb files given as paths")
    group.addoption("--solutions", metavar="DIR", help="reference solutions folder (default: found)")
    group.addoption("--public-only", action="store_true", help="run only the public checks")
    group.addoption("--grade-json", metavar="FILE", help="write every notebook's results as JSON")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[graded_key] = []


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if (
        parent.config.getoption("grade")
        and file_path.suffix == ".ipynb"
        and ".ipynb_checkpoints" not in file_path.parts
    ):
        return SubmittedNotebook.from_parent(parent, path=file_path)
    return None


class SubmittedNotebook(pytest.File):
    """A notebook to grade: graded once by the core, then one item per check."""

    def collect(self):
        from autograder.classrun import Options, grade_in_process
        from autograder.references import find_solutions

        option = self.config.getoption("solutions")
        solutions = Path(option).resolve() if option else find_solutions()
        result = grade_in_process(self.path, Options(solutions=solutions,
                                                     public_only=self.config.getoption("public_only")))
        self.config.stash[graded_key].append(result)
        for check in result.checks:
            yield CheckItem.from_parent(self, name=check.name, result=check)
        if not result.checks:
            yield NotGraded.from_parent(self, name="not graded", submission=result)


class CheckFailure(Exception):
    """Raised by a CheckItem whose check failed; carries the feedback."""


class CheckItem(pytest.Item):
    """One check of one notebook, worth ``result.points``."""

    def __init__(self, *, result: CheckResult, **kwargs):
        super().__init__(**kwargs)
        self.result = result
        self.user_properties.append(("points", result.points))
        self.user_properties.append(("score", result.score))

    def runtest(self) -> None:
        if not self.result.passed:
            raise CheckFailure(self.result.feedback)

    def repr_failure(self, excinfo, style=None) -> str:
        if isinstance(excinfo.value, CheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name} ({self.result.points:g} points)"


class NotGraded(pytest.Item):
    """A notebook no check could run on (unreadable, unrecognised, timed out): fails with why."""

    def __init__(self, *, submission: SubmissionResult, **kwargs):
        super().__init__(**kwargs)
        self.submission = submission

    def runtest(self) -> None:
        raise CheckFailure("; ".join(self.submission.flags) or "no check could run")

    def repr_failure(self, excinfo, style=None) -> str:
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: not graded"


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    for result in config.stash.get(graded_key, []):
        if not result.checks:
            terminalreporter.write_line(f"{result.path}: could not grade: {'; '.join(result.flags)}")
            continue
        scope = "public and hidden checks" if result.hidden_run else f"hidden checks {result.hidden_checks}"
        points = f"{result.score:g} / {result.max_score:g} points"
        terminalreporter.write_line(f"{result.path}: {points} ({scope})")
        for flag in result.flags:
            terminalreporter.write_line(f"  flag: {flag}")


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    target = session.config.getoption("grade_json", None)
    if target:
        document = results_document(session.config.stash.get(graded_key, []))
        Path(target).write_text(json.dumps(document, indent=1), encoding="utf-8")
