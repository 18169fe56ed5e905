"""Reuse your own functions from an earlier assignment's notebook.

    from autograder import load_functions
    mine = load_functions(["backprop.ipynb", "../02_backprop/backprop.ipynb"], ["mlp_loss_and_grads"])
    mine.mlp_loss_and_grads(params, X, y)

The first of the paths that exists is used (``mine.notebook`` says which): notebooks kept side
by side, as the course site's in-browser Jupyter and a download into one folder have them, and
the repository's layout, ``<assignment>/<notebook>.ipynb``. Only the notebook's definitions are
loaded (as when it is graded): its plots and demos do not run.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from autograder.errors import NotebookError
from autograder.namespace import load_namespace


class NotReady(Exception):
    """The notebook is missing, or does not define the functions yet."""


def is_stub(function: object) -> bool:
    """Whether ``function`` (or any method of a class) still raises NotImplementedError."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return False
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.exc is not None:
            name = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(name, ast.Name) and name.id == "NotImplementedError":
                return True
    return False


def first_existing(paths: str | Path | Sequence[str | Path]) -> Path:
    """The first of ``paths`` that is a file (or the only path given, to report it missing)."""
    candidates = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not candidates:
        raise ValueError("load_functions needs at least one path")
    found = next((path for path in candidates if path.is_file()), None)
    if found is None and len(candidates) > 1:
        raise NotReady(
            f"none of {', '.join(map(str, candidates))} is there. The capstone uses your own functions "
            "from that notebook: complete it first (next to this notebook), or put the path to your "
            "completed copy first in the list."
        )
    return found or candidates[0]


def load_functions(paths: str | Path | Sequence[str | Path], names: list[str]) -> SimpleNamespace:
    """The functions ``names`` defined in a notebook: the first of ``paths`` that exists.

    Returns a namespace of those functions; its ``notebook`` is the path they came from.
    Raises NotReady with a message saying what to do when no notebook is there or a
    function is absent or still a stub.
    """
    path = first_existing(paths)
    try:
        namespace = load_namespace(path)
    except NotebookError as error:
        raise NotReady(
            f"{error}. The capstone uses your own functions from that notebook: complete it first, "
            "or change the path to where your completed copy is."
        ) from None
    missing = [name for name in names if name not in namespace.values]
    stubs = [name for name in names if name in namespace.values and is_stub(namespace.values[name])]
    if missing or stubs:
        problems = []
        if missing:
            problems.append(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not defined there")
        if stubs:
            problems.append(
                f"{', '.join(stubs)} still raise{'s' if len(stubs) == 1 else ''} NotImplementedError"
            )
        raise NotReady(
            f"{path}: {'; '.join(problems)}. Complete that assignment first (its test cells tell you when "
            "each function works), or change the path to your completed copy."
        )
    return SimpleNamespace(notebook=path, **{name: namespace.values[name] for name in names})
