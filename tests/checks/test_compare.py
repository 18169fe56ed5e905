"""Comparisons and the explanations they give."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.checks.compare import CheckFailed, Mistake, as_array, as_number, assert_close
from autograder.checks.diagnosis import diagnose
from autograder.checks.optimizers import EPS_INSIDE, assert_step
from autograder.checks.toolbox import FirstFailure


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


# --- a diagnosis is a claim: tested both ways ---------------------------------------------------

RIGHT = np.array([1.0, -2.0, 3.0, 0.5])


def named(got, mistakes, rtol=1e-7, atol=1e-12):
    return diagnose(np.asarray(got), RIGHT, mistakes, rtol=rtol, atol=atol)


def test_a_mistake_that_fits_and_differs_clearly_is_named():
    finding = named(RIGHT * 3, [Mistake("tripled", lambda: RIGHT * 3)])
    assert finding.named == "tripled" and finding.coinciding == ()


def test_a_mistake_that_gives_almost_the_right_answer_on_this_input_is_not_named():
    # 1e-6 relative is 10 tolerances off the right answer: not separated, so it proves nothing
    close = RIGHT * (1 + 1e-6)
    finding = named(close, [Mistake("a tiny slip", lambda: close)])
    assert finding.named is None
    assert finding.evidence and "1.000001 times" in finding.evidence[0]


def test_a_result_near_a_mistake_but_not_on_it_is_not_named():
    finding = named(RIGHT * 3.001, [Mistake("tripled", lambda: RIGHT * 3)])
    assert finding.named is None


def test_two_mistakes_that_coincide_on_this_input_are_neither_named():
    finding = named(-RIGHT, [Mistake("a sign", lambda: -RIGHT), Mistake("another sign", lambda: -RIGHT)])
    assert finding.named is None and set(finding.coinciding) == {"a sign", "another sign"}
    assert "opposite sign" in " ".join(finding.evidence)


def test_the_same_mistake_written_twice_is_one_claim():
    finding = named(-RIGHT, [Mistake("a sign", lambda: -RIGHT), Mistake("a sign", lambda: -1.0 * RIGHT)])
    assert finding.named == "a sign"


def test_a_mistake_that_cannot_apply_to_the_input_is_skipped():
    finding = named(RIGHT * 2, [Mistake("broken", lambda: 1 / 0), Mistake("doubled", lambda: RIGHT * 2),
                                Mistake("other shape", lambda: np.ones(3))])
    assert finding.named == "doubled"


def test_evidence_says_where_results_differ_and_never_why():
    grid = np.arange(1.0, 13.0).reshape(3, 4)
    got = grid.copy()
    got[1] *= 2
    seen = " ".join(diagnose(got, grid, [], rtol=1e-7, atol=1e-12).evidence)
    assert "only row 1 of 3 differs" in seen
    got = grid.copy()
    got[:, 2] = -got[:, 2]
    seen = " ".join(diagnose(got, grid, [], rtol=1e-7, atol=1e-12).evidence)
    assert "opposite sign" in seen and "column" in seen
    assert "constant" in " ".join(diagnose(grid + 0.25, grid, [], rtol=1e-7, atol=1e-12).evidence)


def test_shape_messages_state_facts_not_causes():
    def message(got, expected):
        with pytest.raises(CheckFailed) as raised:
            as_array(np.zeros(got), "f", expected)
        return str(raised.value)

    assert "extra axis of length 4 in front" in message((4, 3), (3,))  # a db never summed over the batch
    assert "expected number of elements (6) in another shape" in message((6,), (2, 3))  # flattened
    assert "lacks the axis of length 2" in message((3,), (2, 3))
    for text in (message((4, 3), (3,)), message((6,), (2, 3))):
        assert "broadcasting" not in text and "collapse" not in text


def test_a_lower_precision_result_fails_with_what_it_is():
    with pytest.raises(CheckFailed, match="dtype float32") as raised:
        as_array(np.ones(3, dtype=np.float32), "f", (3,))
    assert raised.value.mistake


@pytest.mark.parametrize(("scale", "claimed"), [(1.0, False), (1e-8, True)])
def test_eps_inside_the_square_root_is_named_only_where_it_shows(scale, claimed):
    # At scale 1 eps inside the root changes Adam's first step by about 5e-9: within tolerance of
    # the right one, so an Adam step off by a little is never told "eps is inside the root".
    hyper = {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    w, dw = np.array([0.5, -1.0, 2.0]), scale * np.array([1.0, -2.0, 0.5])
    right = w - 0.1 * dw / (np.abs(dw) + 1e-8)
    inside = w - 0.1 * dw / np.sqrt(dw**2 + 1e-8)
    off = w + (right - w) * (1 + 3e-7)  # wrong, but not in any catalogued way
    for got, expect_claim in ((inside, claimed), (off, False)):
        try:
            assert_step(got, w, right, name="adam", case="c", hyper=hyper, dw=dw, past=[])
        except CheckFailed as failure:
            assert (failure.mistake == EPS_INSIDE) is expect_claim, str(failure)
        else:
            assert not expect_claim


def first_failure_of(*results):
    """End a FirstFailure over cases that compare ``got`` with RIGHT, each with its mistakes."""
    trials = FirstFailure()
    for got, mistakes in results:
        if trials.settled:
            break
        with trials:
            assert_close(got, RIGHT, who="f", case="c", mistakes=mistakes)
    with pytest.raises(CheckFailed) as raised:
        trials.end()
    return raised.value


def test_a_mistake_named_on_one_input_and_not_on_the_next_is_withdrawn():
    tripled = [Mistake("tripled", lambda: RIGHT * 3)]
    confirmed = first_failure_of((RIGHT * 3, tripled), (RIGHT * 3, tripled))
    assert confirmed.mistake == "tripled" and "Likely mistake: tripled" in str(confirmed)
    withdrawn = first_failure_of((RIGHT * 3, tripled), (RIGHT * 5, tripled))
    assert withdrawn.mistake is None and "Likely mistake" not in str(withdrawn)
    assert "3 times the expected one" in str(withdrawn)  # what was seen on the first input stays
    alone = first_failure_of((RIGHT * 3, tripled), (RIGHT, tripled))  # only one input fails
    assert alone.mistake == "tripled"


def test_mistakes_that_coincide_on_one_input_are_told_apart_by_the_next():
    both = [Mistake("doubled", lambda: RIGHT * 2), Mistake("twice", lambda: RIGHT * 2)]
    apart = [Mistake("doubled", lambda: RIGHT * 2), Mistake("twice", lambda: RIGHT * 7)]
    told = first_failure_of((RIGHT * 2, both), (RIGHT * 2, apart))
    assert told.mistake == "doubled" and "Likely mistake: doubled" in str(told)
    assert str(told).startswith("f gives a wrong result for c.")
    untold = first_failure_of((RIGHT * 2, both), (RIGHT * 9, apart))
    assert untold.mistake is None
