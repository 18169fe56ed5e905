"""The grader as a pytest plugin: every check of a submitted notebook is a test item.

    pytest --grade path/to/notebook.ipynb        # or a folder of notebooks
    pytest --grade submission.ipynb --grade-json results.json

The paths given are read by the class policy every path uses (`autograder.submissions.plan`):
the same students, the same one notebook per student and assignment, the same files listed as
not graded. Each notebook it chose is graded by the one grading core in a grading process of
its own, with the command line's limits and reference solutions
(`autograder.classrun.find_solutions_for`), exactly as ``python -m autograder grade`` does;
then every check becomes an item carrying its points,
whose failure shows the check's feedback, not a traceback. One notebook cannot crash, stall
or zero the others. The plugin is registered through the ``pytest11`` entry point and does
nothing without ``--grade``.

With ``--grade`` the folders searched hold students' files, so pytest is kept from running
any of them in this process: no ``conftest.py`` is loaded, no package ``__init__.py`` is
imported, nothing but notebooks is collected, links to folders are not followed (as the
command line does; a notebook given as a link is refused when it is read), and no
``.pytest_cache`` is written among the submissions. pytest's own configuration file is the
exception: pytest reads it, and loads the plugins it names, from the folder it is given or
a parent before any plugin runs, so grade a folder whose root you made, or pass ``-c``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from autograder.course import Course
from autograder.results import CheckResult, SubmissionResult, results_document
from autograder.submissions import Plan, Submission
from autograder.text import visible

graded_key = pytest.StashKey[list[SubmissionResult]]()
plan_key = pytest.StashKey[Plan]()
wanted_key = pytest.StashKey[set]()  # the chosen notebooks and every folder above them
solutions_key = pytest.StashKey["Path | None"]()
course_key = pytest.StashKey[Course]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder", "grading submitted notebooks")
    group.addoption("--grade", action="store_true", help="grade the .ipynb files given as paths")
    group.addoption("--solutions", metavar="DIR", help="reference solutions folder (default: found)")
    group.addoption("--public-only", action="store_true", help="run only the public checks")
    group.addoption("--grade-json", metavar="FILE", help="write every notebook's results as JSON")
    group.addoption("--grade-layout", choices=("auto", "class", "student"), default="auto",
                    help="how a folder given is read: a class, one student's folder, or auto (the "
                    "command line's --layout)")
    group.addoption("--course", metavar="FILE",
                    help="the course file: due dates, late policy, roster (default: course.toml, found)")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser, args) -> None:
    if getattr(early_config.known_args_namespace, "grade", False):
        early_config.known_args_namespace.noconftest = True  # a student's conftest.py is code
        for name in ("cacheprovider", "stepwise", "pytest_stepwise"):  # as -p no:cacheprovider
            early_config.pluginmanager.set_blocked(name)  # the cache is written into the rootdir


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With --grade, pytest walks only the way to the notebooks the class policy chose and
    collects nothing else: a student's test_*.py is code, a folder of an upload may be a link,
    1,500 folders deep (pytest collects by recursion) or hold a ``pyvenv.cfg`` (pytest would
    pass it over as a virtual environment, and the student would have no grade)."""
    if not config.getoption("grade") or plan_key not in config.stash:
        return None
    path = Path(os.path.abspath(collection_path))
    return path not in config.stash[wanted_key]


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """With --grade, a folder is never a package: its ``__init__.py`` would be imported."""
    if parent.config.getoption("grade"):
        return SubmissionFolder.from_parent(parent, path=path)
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[graded_key] = []
    if config.getoption("grade"):
        from autograder.classrun import SolutionsAmongSubmissions, find_solutions_for
        from autograder.course import CourseError, find_course
        from autograder.submissions import plan

        graded = [config.invocation_params.dir / arg for arg in config.args]
        try:
            config.stash[solutions_key] = find_solutions_for(graded, config.getoption("solutions"))
            config.stash[course_key] = find_course(graded, config.getoption("course"))
            found = config.stash[plan_key] = plan(graded, layout=config.getoption("grade_layout"))
        except (FileNotFoundError, SolutionsAmongSubmissions, CourseError) as problem:
            raise pytest.UsageError(str(problem.args[0])) from None
        wanted: set[Path] = set()
        for submission in found.submissions:  # each chosen notebook and the folders above it
            path = Path(os.path.abspath(submission.path))
            wanted |= {path, *path.parents}
        config.stash[wanted_key] = wanted


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if parent.config.getoption("grade") and file_path.suffix == ".ipynb":
        for submission in parent.config.stash[plan_key].submissions:
            if submission.path.absolute() == file_path.absolute():
                return SubmittedNotebook.from_parent(parent, path=file_path, submission=submission)
    return None  # not what the class policy grades: listed as not graded in the summary


class SubmittedNotebook(pytest.File):
    """A notebook to grade: graded once by the core, then one item per check."""

    def __init__(self, *, submission: Submission, **kwargs):
        super().__init__(**kwargs)
        self.submission = submission
        _show_node_id(self)

    def collect(self):
        from autograder.classrun import Options, grade_many

        options = Options(solutions=self.config.stash[solutions_key],
                          public_only=self.config.getoption("public_only"))
        (result,) = grade_many([self.submission], options)
        self.config.stash[course_key].apply(result, self.submission)  # roster, lateness: as grade_class
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
        points = f"({self.result.points:g} points)"
        return _shown(self.path), None, f"{_shown(self.path.name)}::{self.name} {points}"


class NotGraded(pytest.Item):
    """A notebook no check could run on (unreadable, unrecognised, timed out): fails with why."""

    def __init__(self, *, submission: SubmissionResult, **kwargs):
        super().__init__(**kwargs)
        self.submission = submission

    def runtest(self) -> None:
        raise CheckFailure("; ".join(map(str, self.submission.flags)) or "no check could run")

    def repr_failure(self, excinfo, style=None) -> str:
        return str(excinfo.value)

    def reportinfo(self):
        return _shown(self.path), None, f"{_shown(self.path.name)}: not graded"


def _shown(path: Path | str) -> str:
    """A path from a student's upload as pytest's own report lines may show it."""
    return visible(str(path), multiline=False)


def _show_node_id(node: pytest.Collector) -> None:
    """Make ``node``'s id (a path in a student's upload, which pytest prints as it is) visible
    text; its children's ids start from it."""
    if hasattr(node, "_id"):  # pytest 9
        from _pytest.nodes import coerce_node_id

        node._id = coerce_node_id(_shown(node.nodeid))
    else:
        node._nodeid = _shown(node._nodeid)


class SubmissionFolder(pytest.Dir):
    """A folder on the way to a notebook to grade: never a package, its id visible text."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        _show_node_id(self)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    from autograder.text import one_line

    if plan_key in config.stash:
        for reading in config.stash[plan_key].readings:
            terminalreporter.write_line(f"note: {reading}")
        graded = {Path(r.path).absolute() for r in config.stash.get(graded_key, [])}
        for submission in config.stash[plan_key].submissions:  # pytest passed it over: say so
            if submission.path.absolute() not in graded:
                terminalreporter.write_line(f"warning: {_shown(submission.path)} was not collected, so it "
                                            "was not graded: grade the class with python -m autograder grade")
        for skipped in config.stash[plan_key].skipped:
            terminalreporter.write_line(f"note: {skipped.line()}")
    for result in config.stash.get(graded_key, []):
        if not result.checks:
            flags = "; ".join(one_line(f, 300) for f in result.flags)
            terminalreporter.write_line(f"{one_line(result.path, 400)}: could not grade: {flags}")
            continue
        scope = "public and hidden checks" if result.hidden_run else f"hidden checks {result.hidden_checks}"
        points = f"{result.score:g} / {result.max_score:g} points"
        who = f"{result.student}, {one_line(result.person.name, 200)}" if result.person else result.student
        terminalreporter.write_line(f"{one_line(result.path, 400)} ({who}): {points} ({scope})")
        if result.late:
            terminalreporter.write_line(f"  late: {one_line(result.late.text(), 500)}")
            if result.penalty:
                terminalreporter.write_line(f"  grade after the late penalty: {result.final_score:g} / "
                                            f"{result.max_score:g}")
        for flag in result.flags:
            terminalreporter.write_line(f"  flag: {one_line(flag, 500)}")
    summary = _roster_summary(config)
    for line in summary.lines(config.stash[course_key].roster) if summary else []:
        terminalreporter.write_line(line)


def _roster_summary(config: pytest.Config):
    """Who on the roster handed in nothing, and who is not on it (None without a roster)."""
    if course_key not in config.stash:
        return None
    return config.stash[course_key].summary(config.stash.get(graded_key, []))


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    target = session.config.getoption("grade_json", None)
    if target:
        found = session.config.stash.get(plan_key, None)
        document = results_document(session.config.stash.get(graded_key, []), found.skipped if found else [],
                                    roster=_roster_summary(session.config))
        Path(target).write_text(json.dumps(document, indent=1), encoding="utf-8")
