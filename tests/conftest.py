"""Shared fixtures: the repository's paths, the reference solutions, and a way to grade
a variant of a reference with some functions replaced."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from autograder.assignments import get_assignment
from autograder.core import run_checks
from autograder.isolation import IsolatedNamespace
from autograder.namespace import Namespace
from autograder.notebook import Block, Definitions, load_definitions
from autograder.references import load_reference, reference_notebook
from autograder.results import CheckResult

ROOT = Path(__file__).resolve().parents[1]

# Tests are grouped by what they test (core/, isolation/, checks/, paths/, reports/, site/,
# course/, hostile/); a test of one group may reuse the cases of another (the catalogues of
# checks/ are graded again through nbgrader in paths/), so every group is importable.
for _group in sorted(Path(__file__).parent.iterdir()):
    if _group.is_dir() and not _group.name.startswith(("_", ".")) and str(_group) not in sys.path:
        sys.path.append(str(_group))
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
# The chapter (its source without the suffix) that holds each explorable.
EXPLORABLES = {
    "gradient-descent": "book/gradient-descent",
    "optimizer-race": "book/optimizers",
    "backprop-graph": "book/backpropagation",
    "minibatches": "book/batches-epochs",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """For `make test`'s two workers (pytest-xdist, --dist loadgroup): each module's tests run
    on one worker, so a module's fixtures are made once; the whole site tier runs on one worker,
    first, since its tests share one build of the site and take longest."""
    site = Path(__file__).parent / "site"
    for item in items:
        group = "site" if item.path.parent == site else item.path.stem
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: item.path.parent != site)  # stable: the order within stays


def venv_bin() -> str:
    """The folder of this interpreter's scripts (nbgrader, jupyter-book, alembic)."""
    return str(Path(sys.executable).parent)


def package_path() -> str | None:
    """The folder to put on a tool's PYTHONPATH so that it imports the `autograder` these tests
    import, or None when a fresh interpreter elsewhere already does (an installed package)."""
    import autograder

    tested = Path(autograder.__file__).resolve().parent
    probe = subprocess.run(
        [sys.executable, "-c", "import autograder; print(autograder.__file__)"],
        cwd=Path(sys.executable).parent, env=os.environ.copy() | {"PYTHONSAFEPATH": "1"},
        capture_output=True, text=True, timeout=60,
    )
    found = Path(probe.stdout.strip()).resolve().parent if probe.returncode == 0 else None
    return None if found == tested else str(tested.parent)


@pytest.fixture(scope="session")
def tool_env() -> dict[str, str]:
    """An environment in which the course's command-line tools are found, and import the
    `autograder` package under test (nbgrader's configuration and test cells use it)."""
    env = os.environ | {"PATH": venv_bin() + os.pathsep + os.environ.get("PATH", "")}
    env.pop("MPLBACKEND", None)  # notebooks must use Jupyter's inline backend to show figures
    extra = package_path()
    if extra:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (extra, env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, tool_env) -> Path:
    """The course site, built once per test session with warnings as errors (``_build/html``).

    The book, offline and browser tiers all look at this one build.
    """
    require_tool("jupyter-book")
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        ["jupyter-book", "build", str(ROOT), "--path-output", str(out),
         "--warningiserror", "--nitpick", "--keep-going"],
        cwd=ROOT, env=tool_env, capture_output=True, text=True, timeout=900,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return out / "_build" / "html"


def require_tool(name: str) -> str:
    path = shutil.which(name, path=venv_bin() + os.pathsep + os.environ.get("PATH", ""))
    if path is None:
        pytest.fail(f"{name} is not installed: run the README's set-up command first")
    return path


def reference(assignment_id: str) -> Namespace:
    return load_reference(assignment_id, SOLUTIONS)


def namespace_with(assignment_id: str, code: str) -> Namespace:
    """The reference solution with the definitions in ``code`` replacing its own."""
    values = dict(reference(assignment_id).values)
    exec(compile(textwrap.dedent(code), "<code cell 1>", "exec"), values)
    return Namespace(values=values)


def definitions_with(assignment_id: str, code: str) -> Definitions:
    """The reference notebook's definitions, then those in ``code`` (which replace its own)."""
    definitions = load_definitions(reference_notebook(SOLUTIONS, assignment_id))
    code = textwrap.dedent(code)
    block = Block("<code cell 1>", code, ast.parse(code))
    return replace(definitions, blocks=[*definitions.blocks, block])


def grade(assignment_id: str, code: str) -> list[CheckResult]:
    """Every check (public and hidden) of a reference variant defined by ``code``, graded as
    the official grader does: the variant runs in its own confined process."""
    student = IsolatedNamespace(definitions_with(assignment_id, code))
    try:
        return run_checks(get_assignment(assignment_id), student, reference(assignment_id))
    finally:
        student.close()


def scores_by_target(results: list[CheckResult]) -> dict[str, tuple[float, float]]:
    totals: dict[str, tuple[float, float]] = {}
    for r in results:
        score, max_score = totals.get(r.function, (0.0, 0.0))
        totals[r.function] = (score + r.score, max_score + r.points)
    return totals
