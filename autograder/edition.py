"""The student edition: the package a student installs from the course site to run the checks.

    python -m autograder student-wheel --output DIR

builds ``how_neural_networks_learn_checks-<version>-py3-none-any.whl``: the ``autograder``
package with its public checks only. Every check declared ``hidden=True`` is removed from the
source (and so are the checks of quiz answers), no reference solution or quiz key is in it,
and its notebooks' test cells work as in a clone. The course site ships it (see
``book/_ext``), so a student with only the site can check an assignment: install the wheel,
open the notebook.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DISTRIBUTION = "how-neural-networks-learn-checks"
PACKAGE = Path(__file__).resolve().parent
REPOSITORY = PACKAGE.parent

README = """# How neural networks learn: the checks

The checks that the assignment notebooks of the course *How neural networks learn* run in
their test cells. They need Python 3.11 or newer and NumPy, nothing else (the notebooks'
plots need Matplotlib). Install this wheel into the Python environment your notebooks use,
then open an assignment notebook and run it top to bottom:

    pip install matplotlib how_neural_networks_learn_checks-{version}-py3-none-any.whl
    jupyter lab losses.ipynb

To grade a whole notebook from a terminal (on Linux), install it with its `grade` extra:

    pip install "how_neural_networks_learn_checks-{version}-py3-none-any.whl[grade]"
    python -m autograder grade losses.ipynb --public-only

It holds the public checks only: your instructor's grade also compares your functions with
a reference on fresh inputs.
"""


def is_hidden_check(node: ast.stmt) -> bool:
    """A top-level function declared ``@check(..., hidden=True)``."""
    if not isinstance(node, ast.FunctionDef):
        return False
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "check":
            for keyword in decorator.keywords:
                value = keyword.value
                if keyword.arg == "hidden" and isinstance(value, ast.Constant) and value.value:
                    return True
    return False


def public_source(source: str) -> str:
    """``source`` of a checks module without its hidden checks."""
    tree = ast.parse(source)
    hidden = [node for node in tree.body if is_hidden_check(node)]
    if not hidden:
        return source
    lines = source.splitlines(keepends=True)
    for node in sorted(hidden, key=lambda n: n.lineno, reverse=True):
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        del lines[start:node.end_lineno]
    return "".join(lines)


# The student edition needs NumPy only: its checks run in a student's own Jupyter kernel (or
# in the browser, in Pyodide). Grading a whole notebook from a terminal also needs the command
# line's table and the student's process's sandbox: the "grade" extra.
CHECKS_NEED = ("numpy",)
GRADING_NEEDS = ("rich", "pyseccomp")

PROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "The public checks of the course 'How neural networks learn'"
readme = "README.md"
requires-python = ">=3.11"
license = "MIT"
license-files = ["LICENSE"]
dependencies = {dependencies}

[project.optional-dependencies]
grade = {grading}

[project.scripts]
autograder = "autograder.cli:main"

[project.entry-points.pytest11]
autograder = "autograder.pytest_plugin"

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
autograder = {package_data}
"""


def requirements(names: tuple[str, ...]) -> list[str]:
    """The repository's own version ranges (pyproject.toml) of the distributions ``names``."""
    import tomllib

    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))
    specs = {re.match(r"[A-Za-z0-9_.-]+", spec).group().lower(): spec
             for spec in project["project"]["dependencies"]}
    return [specs[name] for name in names]


def student_project(version: str) -> str:
    """The student edition's pyproject.toml (TOML's arrays and strings are JSON's here)."""
    import tomllib

    package_data = tomllib.loads((REPOSITORY / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["autograder"]
    return PROJECT.format(name=DISTRIBUTION, version=version,
                          dependencies=json.dumps(requirements(CHECKS_NEED)),
                          grading=json.dumps(requirements(GRADING_NEEDS)),
                          package_data=json.dumps(package_data))


# What only an instructor runs: nbgrader's plugins (they need nbgrader), the class report and
# feedback pages with their templates, exports, the similarity review (it reads reference
# solutions' markers) and Gradescope's bundle. The student edition's commands import none of it.
INSTRUCTORS_ONLY = ("nbgrader_*.py", "class_report.py", "feedback.py", "rendering.py", "mathml.py",
                    "templates", "export.py", "similarity.py", "fingerprints.py", "gradescope.py")


def stage(destination: Path, version: str) -> Path:
    """Write the student edition's source tree into ``destination``; returns it."""
    package = destination / "autograder"
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", *INSTRUCTORS_ONLY)
    shutil.copytree(PACKAGE, package, ignore=ignored)
    for module in (package / "checks").glob("*.py"):
        module.write_text(public_source(module.read_text(encoding="utf-8")), encoding="utf-8")
    edition = package / "__init__.py"
    edition.write_text(edition.read_text(encoding="utf-8").replace('EDITION = "full"', 'EDITION = "student"'),
                       encoding="utf-8")
    (destination / "pyproject.toml").write_text(student_project(version), encoding="utf-8")
    (destination / "README.md").write_text(README.format(version=version), encoding="utf-8")
    shutil.copy(REPOSITORY / "LICENSE", destination / "LICENSE")
    return destination


def build_student_wheel(output: Path) -> Path:
    """Build the student edition's wheel into the folder ``output``; returns its path.

    Raises RuntimeError with pip's last lines when the build fails.
    """
    from autograder import __version__

    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="student-edition-") as folder:
        source = stage(Path(folder) / "source", __version__)
        build = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
             "--wheel-dir", str(output), str(source)],
            capture_output=True, text=True,
        )
        if build.returncode != 0:
            raise RuntimeError("building the student wheel failed: " + build.stderr.strip()[-500:])
    name = DISTRIBUTION.replace("-", "_")
    (wheel,) = output.glob(f"{name}-{__version__}-*.whl")
    return wheel
