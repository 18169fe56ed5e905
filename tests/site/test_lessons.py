"""What the lessons claim is true: the arithmetic of the vanishing-gradient quick check, the
picture Network B is compared with, and the matrix form of a layer's backward pass that
assignment 02 needs (shapes, formulas, and the page's own check of them)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import ROOT, reference

BOOK = ROOT / "book"


def quickcheck(page: str, question: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The options (``:key: value``) and listed answers (first line, feedback) of the quick
    check of ``page`` whose question contains ``question``."""
    text = (BOOK / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```\{quickcheck\}(.*?)\n(.*?)^```$", text, re.M | re.S)
    (body,) = [body for head, body in blocks if question in head]
    options = dict(re.findall(r"^:(\w+): (.*)$", body, re.M))
    items = re.findall(r"^- (.+)\n\n((?:  .*\n?)+)", body, re.M)
    return options, [(first.strip(), " ".join(rest.split())) for first, rest in items]


def layers_to_fall_below(factor: float, threshold: float = 1e-3) -> int:
    n = 0
    while factor**n >= threshold:
        n += 1
    return n


def test_the_vanishing_gradient_quick_check_adds_up():
    options, answers = quickcheck("backpropagation.md", "After how many sigmoid layers")
    assert int(options["numeric"]) == layers_to_fall_below(0.25) == 5
    explained = {int(value): feedback for value, feedback in answers}
    assert set(explained) == {4, 6, 10}
    assert 0.25**4 >= 1e-3 and 0.25**5 < 1e-3  # 4 is one layer short; 6 is one too many
    # 10 is the count for 0.5 per layer, the sigmoid's value at 0 (its slope there is 0.25)
    assert layers_to_fall_below(0.5) == 10 and "0.5" in explained[10]
    # every "base^n = 1/d ≈ v" the check states is right
    stated = re.findall(r"(0\.\d+)\^\{?(\d+)\}? = 1/(\d+)(?: \\approx ([\d.]+))?",
                        options["explanation"] + " ".join(explained.values()))
    assert len(stated) >= 3
    for base, power, denominator, approx in stated:
        assert float(base) ** int(power) == pytest.approx(1 / int(denominator), rel=1e-12)
        if approx:
            assert float(approx) == pytest.approx(1 / int(denominator), rel=0.02)


def test_network_b_is_not_what_too_large_a_step_does_to_one_bowl():
    """The chapter contrasts B's zig-zag with the bowl: there, too large a rate makes the loss
    climb at every step and never dip, while B dips to 0.1 between its peaks."""
    gradient_descent = reference("03_optimizers").values["gradient_descent"]
    path = gradient_descent(lambda x: 2 * x, np.array(10.0), 1.05, 12)
    losses = path**2
    assert np.all(np.diff(losses) > 0)
    network_b = [3.2, 0.1, 3.8, 0.2, 4.1, 0.15]
    assert min(network_b) < network_b[0] and max(network_b) > network_b[0]
    text = (BOOK / "gradient-descent.md").read_text(encoding="utf-8")
    assert "climbs at every step and never\ndips" in text


def test_the_layer_backward_quick_check_shapes():
    """x (32, 100), W (100, 10), dout (32, 10): only x.T @ dout has W's shape."""
    options, answers = quickcheck("backpropagation.md", "What is $\\partial L / \\partial W$?")
    x, W, dout = np.ones((32, 100)), np.ones((100, 10)), np.ones((32, 10))
    right = answers[int(options["answer"]) - 1][0]
    assert right.startswith("`x.T @ dout`") and (x.T @ dout).shape == W.shape == (100, 10)
    assert (dout @ W.T).shape == x.shape  # the gradient passed down
    assert dout.sum(axis=0).shape == (10,)  # the bias's
    with pytest.raises(ValueError):
        x @ dout  # noqa: B018 (the shapes do not line up, as its feedback says)


def test_the_layer_backward_formulas_match_the_reference_layer():
    """The chapter's three formulas are what linear_backward of assignment 02 computes."""
    ref = reference("02_backprop").values
    rng = np.random.default_rng(7)
    x, W, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    dout = rng.normal(size=(5, 3))
    _, cache = ref["linear_forward"](x, W, b)
    dx, dW, db = ref["linear_backward"](dout, cache)
    np.testing.assert_allclose(dW, x.T @ dout, rtol=1e-12)
    np.testing.assert_allclose(db, dout.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(dx, dout @ W.T, rtol=1e-12)


@pytest.mark.slow
def test_the_page_checks_its_formulas_against_central_differences(built_site):
    page = (built_site / "book" / "backpropagation.html").read_text(encoding="utf-8")
    found = dict(re.findall(r"(d[Wbx]): shape \([\d, ]+\), largest relative difference ([\d.e+-]+)", page))
    assert set(found) == {"dW", "db", "dx"}, found
    assert all(float(value) < 1e-8 for value in found.values()), found
    assert page.index("A whole layer at once") < page.index("Gradient checking")
