"""Every reference notebook runs from top to bottom, and the capstone reproduces the shape of
the lesson's training table: loss from about ln 10 towards 0.1, accuracy from about 10 % to
97 % or more on held-out data."""

from __future__ import annotations

import math
import re

import nbformat
import pytest
from conftest import SOLUTIONS
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted(SOLUTIONS.glob("*/*.ipynb"))


def execute(path):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def printed(notebook) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.get("output_type") == "stream")


@pytest.fixture(scope="module")
def executed():
    return {}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_reference_notebook_runs_top_to_bottom(path, executed):
    executed[path.parent.name] = execute(path)  # raises CellExecutionError on any error


def test_capstone_reproduces_the_training_table(executed):
    notebook = executed.get("04_training") or execute(SOLUTIONS / "04_training" / "training.ipynb")
    text = printed(notebook)
    rows = {int(m[1]): (float(m[2]), float(m[3]), float(m[4]) / 100)
            for m in re.finditer(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)%", text, re.M)}
    assert sorted(rows) == [1, 10, 50, 100, 200], text
    train_loss, _, val_accuracy = rows[1]
    assert abs(train_loss - math.log(10)) < 0.1 and val_accuracy <= 0.2
    losses = [rows[e][1] for e in (1, 10, 50)]
    assert losses == sorted(losses, reverse=True), "validation loss should fall over the first 50 epochs"
    assert rows[200][1] < 0.2 and rows[200][2] >= 0.97
    test_accuracy = float(re.search(r"test accuracy: ([\d.]+)%", text)[1]) / 100
    assert test_accuracy >= 0.97
