"""Comparisons and the explanations they give."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.compare import CheckFailed, Mistake, as_array, as_number, assert_close


def failure(got, expected, **kwargs) -> str:
    with pytest.raises(CheckFailed) as raised:
        assert_close(np.asarray(got), np.asarray(expected), who="f", case="case A", **kwargs)
    return str(raised.value)


def test_every_element_is_compared_and_the_worst_is_reported():
    expected = np.zeros((3, 4))
    got = expected.copy()
    got[2, 3] = 1e-3  # only the very last element differs
    message = failure(got, expected)
    assert "worst element [2, 3]: expected 0, got 0.001 (1 of 12 elements differ)" in message


def test_relative_tolerance_is_tight():
    assert_close(1.0 + 5e-8, 1.0, who="f", case="c")
    assert "expected 1, got 1.000001" in failure(1.000001, 1.0)


def test_known_factors_and_mistakes_are_named():
    expected = np.array([1.0, -2.0, 3.0])
    assert "summed" in failure(expected * 3, expected, factors={3.0: "you summed"})
    assert "opposite sign" in failure(-expected, expected)
    assert "it's the wrong one" in failure(expected + 1, expected,
                                           mistakes=[Mistake("it's the wrong one", lambda: expected + 1)])
    assert "NaN or infinite" in failure([np.nan, 1.0, 2.0], expected)


def test_a_scalar_ratio_alone_names_no_mistake():
    assert "Likely mistake" not in failure(2.5, 1.0)


@pytest.mark.parametrize("value", [None, "1.0", [1.0], np.ones(2), True])
def test_as_number_rejects_what_is_not_one_number(value):
    with pytest.raises(CheckFailed, match="single number"):
        as_number(value, "f")


def test_as_number_accepts_numpy_scalars_and_zero_dimensional_arrays():
    assert as_number(np.float64(1.5), "f") == 1.5
    assert as_number(np.array(2.5), "f") == 2.5


def test_as_array_names_shape_problems():
    with pytest.raises(CheckFailed, match="transpose"):
        as_array(np.zeros((3, 2)), "f", (2, 3))
    with pytest.raises(CheckFailed, match="NumPy array"):
        as_array([[0.0]], "f", (1, 1))
