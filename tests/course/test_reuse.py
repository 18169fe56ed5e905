"""Loading a student's own functions from an earlier notebook, for the capstone."""

from __future__ import annotations

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
