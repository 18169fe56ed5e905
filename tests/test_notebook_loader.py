"""Loading a submitted notebook: definitions are kept, everything else is skipped."""

from __future__ import annotations

import json

import pytest

from autograder.notebook import Cell, NotebookError, load_definitions, select_definitions
from autograder.submission import execute, load_namespace


def write_notebook(path, *sources, metadata=None):
    cells = [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
             for s in sources]
    cells.insert(0, {"cell_type": "markdown", "metadata": {}, "source": "# Title"})
    path.write_text(json.dumps({"cells": cells, "metadata": metadata or {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def kept_names(*sources):
    blocks, notes = select_definitions([Cell(i, s) for i, s in enumerate(sources)])
    namespace = {}
    for block in blocks:
        exec(compile(block.tree, block.filename, "exec"), namespace)
    return {k for k in namespace if not k.startswith("__")}, notes


def test_keeps_definitions_and_what_they_use_and_drops_the_rest():
    names, notes = kept_names(
        "import numpy as np\nimport matplotlib.pyplot as plt\nEPS = 1e-12\nSCALE = 2 * EPS\n",
        "def f(x):\n    return np.log(x + SCALE)\n",
        "plt.plot([1, 2])\nresult = f(3)\nprint(result)\n",
        'Q1 = "B"\n',
    )
    assert names == {"np", "EPS", "SCALE", "f", "Q1"}
    assert notes == []


def test_parameters_and_locals_do_not_pull_in_top_level_code():
    names, _ = kept_names(
        "labels = undefined_function()\n", "def f(labels):\n    out = labels\n    return out\n"
    )
    assert names == {"f"}


def test_magics_are_ignored_and_later_definitions_win():
    names, notes = kept_names("%matplotlib inline\n!pip install x\ndef f():\n    return 1\n",
                              "%%time\ndef f():\n    return 2\n")
    assert notes == [] and names == {"f"}
    namespace = {}
    blocks, _ = select_definitions([Cell(0, "def f():\n    return 1\n"), Cell(1, "def f():\n    return 2\n")])
    for block in blocks:
        exec(compile(block.tree, block.filename, "exec"), namespace)
    assert namespace["f"]() == 2


def test_a_syntax_error_skips_only_its_cell_with_a_note():
    names, notes = kept_names("def f(:\n    pass\n", "def g():\n    return 1\n")
    assert names == {"g"}
    assert notes == ["code cell 1 has a syntax error (line 1: invalid syntax); it was skipped, "
                     "so nothing it defines can be graded"]


def test_failing_top_level_code_becomes_a_note(tmp_path):
    path = write_notebook(
        tmp_path / "n.ipynb",
        "import not_a_module_here\ndef f():\n    return not_a_module_here\n",
        "def g():\n    return 1\n",
    )
    namespace = load_namespace(path)
    assert "g" in namespace.values and "f" not in namespace.values
    assert "ModuleNotFoundError" in namespace.notes[0] and "code cell 1" in namespace.notes[0]


def test_source_as_a_list_of_lines_and_metadata_are_read(tmp_path):
    path = write_notebook(tmp_path / "n.ipynb", ["def f():\n", "    return 1\n"],
                          metadata={"autograder": {"assignment": "01_losses"}})
    definitions = load_definitions(path)
    assert definitions.metadata["autograder"]["assignment"] == "01_losses"
    assert execute(definitions).values["f"]() == 1


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("{", "not a valid notebook file"),
    ("[1, 2]", "not a Jupyter notebook"),
])
def test_unreadable_notebooks_raise_a_clear_error(tmp_path, content, message):
    path = tmp_path / "n.ipynb"
    if content is not None:
        path.write_text(content)
    with pytest.raises(NotebookError, match=message):
        load_definitions(path)


def test_recursion_limit_settings_are_kept_with_what_they_use():
    names, _ = kept_names(
        "import sys\nsys.setrecursionlimit(5000)\nprint('demo')\n", "def f():\n    return 1\n"
    )
    assert names == {"sys", "f"}
