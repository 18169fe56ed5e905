"""Run the book's notebooks against the course package of this checkout.

The chapters and the assignments page import ``autograder`` (the digits data, the table of
points). In a second checkout of the repository (a git worktree, say) that shares a virtual
environment with the first, the environment's editable install points at the other checkout,
and the pages would be built from its code. Putting this checkout's root first on
``PYTHONPATH`` before any notebook runs makes every kernel import the package next to the
book it builds. Kernels inherit the environment of the build, so setting it here is enough.
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.application import Sphinx

__version__ = "1.0.0"

ROOT = Path(__file__).resolve().parents[2]


def setup(app: Sphinx) -> dict:
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))  # first, and only once
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
