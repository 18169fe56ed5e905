"""Loading a student's own functions from an earlier notebook, for the capstone."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import EXERCISES, SOLUTIONS

from autograder.reuse import NotReady, load_functions


def test_completed_notebook_gives_working_functions():
    layers = load_functions(SOLUTIONS / "02_backprop" / "backprop.ipynb", ["relu_forward", "Value"])
    out, _ = layers.relu_forward(np.array([-1.0, 2.0]))
    assert out.tolist() == [0.0, 2.0]


def test_a_released_stub_is_reported_as_not_ready():
    with pytest.raises(NotReady, match=r"mlp_loss_and_grads still raises NotImplementedError"):
        load_functions(EXERCISES / "02_backprop" / "backprop.ipynb", ["mlp_loss_and_grads"])


def test_missing_notebook_and_missing_names_are_reported(tmp_path):
    with pytest.raises(NotReady, match="no such file"):
        load_functions(tmp_path / "nowhere.ipynb", ["f"])
    with pytest.raises(NotReady, match="not_there is not defined"):
        load_functions(SOLUTIONS / "03_optimizers" / "optimizers.ipynb", ["sgd", "not_there"])


def test_the_capstone_finds_a_notebook_next_to_it_before_the_repository_layout(tmp_path):
    """Downloaded into one folder (or in the site's in-browser Jupyter) the notebooks lie side by
    side; in the repository each is in its assignment's folder: the first path that exists wins."""
    side_by_side = ["backprop.ipynb", "../02_backprop/backprop.ipynb"]
    release = tmp_path / "04_training"
    release.mkdir()
    (tmp_path / "02_backprop").mkdir()
    shutil.copy(EXERCISES / "02_backprop" / "backprop.ipynb", tmp_path / "02_backprop" / "backprop.ipynb")
    shutil.copy(SOLUTIONS / "02_backprop" / "backprop.ipynb", release / "backprop.ipynb")
    in_release = [release / path for path in side_by_side]

    mine = load_functions(in_release, ["mlp_loss_and_grads"])  # the completed one next to it
    assert mine.notebook == release / "backprop.ipynb"
    (release / "backprop.ipynb").unlink()
    with pytest.raises(NotReady, match="still raises NotImplementedError"):  # the repository's stub
        load_functions(in_release, ["mlp_loss_and_grads"])
    (tmp_path / "02_backprop" / "backprop.ipynb").unlink()
    with pytest.raises(NotReady, match=r"none of .*04_training/backprop.ipynb, .*02_backprop/backprop.ipynb"):
        load_functions(in_release, ["mlp_loss_and_grads"])

