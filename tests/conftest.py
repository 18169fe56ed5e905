"""Shared fixtures: the repository's paths, the reference solutions, and a way to grade
a variant of a reference with some functions replaced."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.assignments import get_assignment
from autograder.references import load_reference
from autograder.runner import Result, run_checks
from autograder.submission import Namespace

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"


def venv_bin() -> str:
    """The folder of this interpreter's scripts (nbgrader, jupyter-book, alembic)."""
    return str(Path(sys.executable).parent)


@pytest.fixture(scope="session")
def tool_env() -> dict[str, str]:
    """An environment in which the course's command-line tools are found."""
    env = os.environ | {"PATH": venv_bin() + os.pathsep + os.environ.get("PATH", "")}
    env.pop("MPLBACKEND", None)  # notebooks must use Jupyter's inline backend to show figures
    return env


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


def grade(assignment_id: str, code: str) -> list[Result]:
    """Every check (public and hidden) of a reference variant defined by ``code``."""
    return run_checks(get_assignment(assignment_id), namespace_with(assignment_id, code),
                      reference(assignment_id))


def scores_by_target(results: list[Result]) -> dict[str, tuple[float, float]]:
    totals: dict[str, tuple[float, float]] = {}
    for r in results:
        score, max_score = totals.get(r.target, (0.0, 0.0))
        totals[r.target] = (score + r.score, max_score + r.max_score)
    return totals
