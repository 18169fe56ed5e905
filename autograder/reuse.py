"""Reuse your own functions from an earlier assignment's notebook.

    from autograder import load_functions
    mine = load_functions("../02_backprop/backprop.ipynb", ["mlp_loss_and_grads"])
    mine.mlp_loss_and_grads(params, X, y)

Only the notebook's definitions are loaded (as when it is graded): its plots and demos
do not run.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
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


def load_functions(path: str | Path, names: list[str]) -> SimpleNamespace:
    """The functions ``names`` defined in the notebook at ``path``.

    Raises NotReady with a message saying what to do when the notebook is missing or a
    function is absent or still a stub.
    """
    path = Path(path)
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
    return SimpleNamespace(**{name: namespace.values[name] for name in names})
