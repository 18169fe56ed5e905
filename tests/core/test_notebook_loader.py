"""Loading a submitted notebook: definitions are kept, everything else is skipped."""

from __future__ import annotations

import json

import pytest

from autograder.assignments import recognise
from autograder.errors import NotebookError
from autograder.namespace import execute, load_namespace
from autograder.notebook import Cell, load_definitions, read_cells, select_definitions


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


def test_a_failing_import_costs_only_the_names_it_defines_and_is_flagged(tmp_path):
    path = write_notebook(
        tmp_path / "n.ipynb",
        "import not_a_module_here\ndef f():\n    return not_a_module_here\ndef h():\n    return 2\n",
        "def g():\n    return 1\n",
    )
    namespace = load_namespace(path)
    assert namespace.values["g"]() == 1 and namespace.values["h"]() == 2  # the same cell goes on
    with pytest.raises(NameError):
        namespace.values["f"]()
    (note,) = namespace.notes
    assert "code cell 1, line 1: `import not_a_module_here` failed during grading" in note
    assert "ModuleNotFoundError" in note and "graded as usual" in note
    assert namespace.flags == [note]


def test_a_failing_definition_costs_only_itself(tmp_path):
    path = write_notebook(tmp_path / "n.ipynb", "X = 1 / 0\ndef f():\n    return X\nQ1 = 'B'\n")
    namespace = load_namespace(path)
    assert namespace.values["Q1"] == "B" and "f" in namespace.values
    assert namespace.notes == ["code cell 1, line 1 failed while defining your functions "
                               "(ZeroDivisionError: division by zero); what it defines cannot be graded"]
    assert namespace.flags == []


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
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (b"\xff\xfe", "not UTF-8"),
    ('{"cells": 3}', "no list of cells"),
])
def test_unreadable_notebooks_raise_a_clear_error(tmp_path, content, message):
    path = tmp_path / "n.ipynb"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(NotebookError, match=message):
        load_definitions(path)


@pytest.mark.parametrize("metadata", [
    {"autograder": ["01_losses"]}, {"autograder": {"assignment": ["01_losses"]}},
    {"autograder": {"assignment": {"x": 1}}}, {"autograder": 7}, {"autograder": None},
])
def test_metadata_of_any_type_is_tolerated(tmp_path, metadata):
    code = "def mse(y_pred, y_true):\n    return 0.0\n"
    path = write_notebook(tmp_path / "n.ipynb", code, metadata=metadata)
    cells, read = read_cells(path)
    assert recognise(read, cells).assignment.id == "01_losses"  # recognised from the code instead


def test_cells_of_odd_shapes_are_skipped_not_fatal(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": [
        7, None, {"cell_type": "code", "source": 12}, {"cell_type": "code", "source": ["def f():\n", 3]},
        {"cell_type": "code", "source": "def g():\n    return 1\n", "metadata": []},
    ], "metadata": []}))
    definitions = load_definitions(path)
    assert execute(definitions).values["g"]() == 1


def test_recursion_limit_settings_are_kept_with_what_they_use():
    names, _ = kept_names(
        "import sys\nsys.setrecursionlimit(5000)\nprint('demo')\n", "def f():\n    return 1\n"
    )
    assert names == {"sys", "f"}
