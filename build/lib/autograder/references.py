"""Find and load the reference solutions that hidden checks compare against."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from autograder.errors import NotebookError, ReferenceMissing
from autograder.namespace import Namespace, load_namespace

SOLUTIONS_ENV = "AUTOGRADER_SOLUTIONS"


def find_solutions(start: str | Path | None = None) -> Path | None:
    """The ``solutions/`` folder to use, or None if there is none.

    Looked for in order: ``$AUTOGRADER_SOLUTIONS``; ``solutions/`` in ``start`` (default:
    the working directory) or any folder above it, which covers an nbgrader course
    directory; ``solutions/`` next to this package in a clone of the repository.
    """
    if os.environ.get(SOLUTIONS_ENV):
        path = Path(os.environ[SOLUTIONS_ENV])
        return path if path.is_dir() else None
    here = Path(start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "solutions").is_dir():
            return folder / "solutions"
    beside_package = Path(__file__).resolve().parents[1] / "solutions"
    return beside_package if beside_package.is_dir() else None


def reference_notebook(solutions: Path, assignment_id: str) -> Path:
    """The reference notebook of ``assignment_id`` inside ``solutions``."""
    notebooks = sorted((solutions / assignment_id).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise ReferenceMissing(
            f"expected one reference notebook in {solutions / assignment_id}, "
            f"found {len(notebooks)}"
        )
    return notebooks[0]


@functools.cache
def _load(path: Path, mtime: float) -> Namespace:
    try:
        namespace = load_namespace(path, label="the reference solution")
    except NotebookError as error:
        raise ReferenceMissing(f"the reference solution does not load: {error}") from None
    if namespace.notes:
        raise ReferenceMissing(f"the reference solution {path} does not load: {namespace.notes}")
    return namespace


def load_reference(assignment_id: str, solutions: Path | None = None) -> Namespace:
    """The executed reference solution of ``assignment_id`` (cached per file version).

    Raises ReferenceMissing when there is no ``solutions/`` folder or no notebook in it.
    """
    solutions = solutions or find_solutions()
    if solutions is None:
        raise ReferenceMissing("no solutions/ folder was found")
    path = reference_notebook(solutions, assignment_id)
    return _load(path, path.stat().st_mtime)
