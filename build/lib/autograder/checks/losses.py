"""Checks for assignment 01: loss functions and their gradients.

Public checks use known values, finite differences and invariants; hidden checks
compare with the reference solution on fresh random inputs of several shapes and
scales. Every element of every result is compared.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from autograder.checks import check
from autograder.checks.compare import (
    CheckFailed,
    Mistake,
    as_array,
    as_number,
    assert_close,
)
from autograder.checks.gradients import assert_matches_finite_differences
from autograder.checks.toolbox import assert_inputs_unchanged, shape_case

LN2, LN3 = np.log(2.0), np.log(3.0)
CLIP = 1e-12

REGRESSION_SHAPES = [(7,), (4, 3), (3, 2, 5)]
CLASSIFIER_SHAPES = [(1, 2), (5, 3), (8, 10), (64, 7)]
SCALES = [1e-3, 1.0, 1e3]


# --- inputs -------------------------------------------------------------------------------

def regression_case(seed: int, shape: tuple[int, ...], scale: float):
    """Predictions and targets of ``shape`` with values around ``scale``."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape) * scale, rng.normal(size=shape) * scale


def binary_case(seed: int, shape: tuple[int, ...]):
    """Probabilities in [0.001, 0.999] and 0/1 targets (as floats) of ``shape``."""
    rng = np.random.default_rng(seed)
    probs = rng.uniform(1e-3, 1 - 1e-3, size=shape)
    return probs, rng.integers(0, 2, size=shape).astype(np.float64)


def classification_case(seed: int, shape: tuple[int, int], scale: float, dtype=np.int64):
    """Logits of ``shape`` (N, C) around ``scale`` and integer labels (N,)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape) * scale
    return logits, rng.integers(0, shape[1], size=shape[0]).astype(dtype)




def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Used to build expected values of known *mistakes*, never to grade directly."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# --- what typical mistakes look like ------------------------------------------------------

def mean_factors(shape: tuple[int, ...]) -> dict[float, str]:
    """Constant factors between a wrong and a right mean-reduced loss of inputs of ``shape``."""
    size, rows = int(np.prod(shape)), shape[0]
    factors = {}
    if size / rows != 1:
        factors[size / rows] = (
            f"you divided by the number of rows ({rows}) instead of the number of "
            f"elements ({size}). MSE takes the mean over every element."
        )
    if size > 1:
        factors[size] = (
            f"the result is {size} times too large ({size} = number of elements): did you "
            "sum instead of taking the mean?"
        )
    return factors


def mse_grad_factors(shape: tuple[int, ...]) -> dict[float, str]:
    size, rows = int(np.prod(shape)), shape[0]
    factors = {
        0.5: "your gradient is half the expected one: the derivative of d² is 2d, "
        "did you forget the factor 2?",
        -1.0: "your gradient has the wrong sign: differentiate with respect to y_pred, "
        "which gives 2 (y_pred - y_true) / n.",
        size: f"your gradient is {size} times the expected one: did you forget to divide "
        f"by the number of elements ({size})?",
        size / 2: f"your gradient is {size / 2:g} times the expected one: it misses both the "
        f"factor 2 and the division by the number of elements ({size}).",
    }
    if size / rows != 1:
        factors[size / rows] = (
            f"you divided by the number of rows ({rows}) instead of the number of "
            f"elements ({size})."
        )
    return factors


def mse_mistakes(y_pred: np.ndarray, y_true: np.ndarray) -> list[Mistake]:
    d = y_pred - y_true
    return [
        Mistake(
            "this is the mean *absolute* error: square the differences instead of taking "
            "their absolute value.",
            lambda: np.mean(np.abs(d)),
        ),
        Mistake(
            "this is the root of the mean squared error (RMSE): drop the square root.",
            lambda: np.sqrt(np.mean(d**2)),
        ),
        Mistake("this is half the MSE: drop the factor 1/2.", lambda: 0.5 * np.mean(d**2)),
    ]


def bce_factors(shape: tuple[int, ...]) -> dict[float, str]:
    size = int(np.prod(shape))
    factors = {
        -1.0: "the loss has the wrong sign: it is the *negative* mean log-likelihood.",
        1 / LN2: "you used the base-2 logarithm: use the natural log, np.log.",
        1 / np.log(10.0): "you used the base-10 logarithm: use the natural log, np.log.",
    }
    if size > 1:
        factors[size] = f"the result is {size} times too large: did you sum instead of taking the mean?"
    return factors


def bce_grad_factors(shape: tuple[int, ...]) -> dict[float, str]:
    size = int(np.prod(shape))
    return {
        -1.0: "your gradient has the wrong sign. The loss decreases as the probability "
        "of the true outcome grows, so its gradient there is negative.",
        size: f"your gradient is {size} times the expected one: did you forget to divide by "
        f"the number of elements ({size}), since the loss is a mean?",
    }


def bce_grad_mistakes(probs: np.ndarray, targets: np.ndarray) -> list[Mistake]:
    return [
        Mistake(
            "this is (probs - targets) / n, the gradient with respect to the *logit* "
            "before a sigmoid. Here the input is the probability itself: differentiate "
            "-[t log p + (1 - t) log(1 - p)] with respect to p.",
            lambda: (probs - targets) / probs.size,
        )
    ]


def softmax_mistakes(logits: np.ndarray) -> list[Mistake]:
    exp = np.exp(logits - logits.max())
    return [
        Mistake(
            "each *column* sums to 1: you normalised over the batch axis (axis 0). "
            "Softmax normalises over the last axis, one row per sample "
            "(axis=-1, keepdims=True).",
            lambda: exp / exp.sum(axis=0, keepdims=True),
        ),
        Mistake(
            "the whole array sums to 1: you normalised over all elements. Softmax "
            "normalises each row separately (axis=-1, keepdims=True).",
            lambda: exp / exp.sum(),
        ),
    ]


def cross_entropy_factors(n: int, classes: int) -> dict[float, str]:
    factors = {
        -1.0: "the loss has the wrong sign: it is minus the log-probability of the true class.",
        1 / classes: f"the result is 1/{classes} of the expected one: you averaged over the "
        "classes too. Average over the batch only.",
    }
    if n > 1:
        factors[n] = (
            f"the result is {n} times the expected one ({n} = batch size): did you sum over "
            "the batch instead of taking the mean?"
        )
    return factors


def cross_entropy_mistakes(logits: np.ndarray, labels: np.ndarray) -> list[Mistake]:
    log_p = log_softmax(logits)
    return [
        Mistake(
            "you summed the log-probabilities of every class: use the one-hot labels to "
            "pick only the log-probability of each sample's true class.",
            lambda: -log_p.sum() / len(labels),
        ),
        Mistake(
            "this is -mean(log(softmax + 1e-12)): adding eps caps the loss of confident "
            "wrong predictions near 27.6. Compute log-softmax directly: "
            "z - max(z) - log(sum(exp(z - max(z)))).",
            lambda: -np.mean(np.log(np.exp(log_p[np.arange(len(labels)), labels]) + 1e-12)),
        ),
    ]


def cross_entropy_grad_factors(n: int) -> dict[float, str]:
    factors = {
        -1.0: "your gradient has the wrong sign: it is (softmax(logits) - one_hot) / N.",
    }
    if n > 1:
        factors[n] = (
            f"your gradient is {n} times the expected one: did you forget to divide by the "
            f"batch size N = {n}?"
        )
    return factors


def cross_entropy_grad_mistakes(logits: np.ndarray, labels: np.ndarray) -> list[Mistake]:
    n, classes = logits.shape
    p = np.exp(log_softmax(logits))
    return [
        Mistake(
            "this is softmax(logits) / N: you forgot to subtract the one-hot labels.",
            lambda: p / n,
        ),
        Mistake(
            "you subtracted 1 from every entry: subtract the *one-hot* labels, 1 only at "
            "each sample's true class.",
            lambda: (p - 1) / n,
        ),
        Mistake(
            "this is softmax(logits) - one_hot without dividing by N "
            "(the loss is a mean over the batch).",
            lambda: p - one_hot(labels, classes),
        ),
    ]




# --- mse -----------------------------------------------------------------------------------

MSE_KNOWN = [
    # (y_pred, y_true, expected)
    (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [3.0, 1.0]]), 2.5),
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]), 4.0 / 3.0),
    (np.array([250.0]), np.array([300.0]), 2500.0),  # the house example, in $1000s
]


@check("mse", "matches known values", 0.5)
def mse_known_values(mse):
    for y_pred, y_true, expected in MSE_KNOWN:
        got = as_number(mse(y_pred, y_true), "mse")
        assert_close(
            got, expected, who="mse", case=f"y_pred={y_pred.tolist()}, y_true={y_true.tolist()}",
            factors=mean_factors(y_pred.shape), mistakes=mse_mistakes(y_pred, y_true),
        )


@check("mse", "does not modify its inputs", 0.5)
def mse_inputs_unchanged(mse):
    y_pred, y_true = regression_case(0, (4, 3), 1.0)
    result = as_number(mse(y_pred, y_true), "mse")  # a property of a working function only
    assert_inputs_unchanged(mse, ("y_pred", "y_true"), result)


@check("mse", "matches the reference on random inputs", 1.0, hidden=True)
def mse_matches_reference(mse, reference):
    ref_mse = reference.function("mse")
    for seed, (shape, scale) in enumerate(product(REGRESSION_SHAPES, SCALES)):
        y_pred, y_true = regression_case(100 + seed, shape, scale)
        got = as_number(mse(y_pred, y_true), "mse")
        assert_close(
            got, ref_mse(y_pred, y_true), who="mse",
            case=shape_case("y_pred", y_pred, 100 + seed, scale),
            factors=mean_factors(shape), mistakes=mse_mistakes(y_pred, y_true),
        )


# --- mse_grad ------------------------------------------------------------------------------

@check("mse_grad", "matches known values", 0.5)
def mse_grad_known_values(mse_grad):
    y_pred, y_true = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [3.0, 1.0]])
    expected = np.array([[0.5, 0.0], [0.0, 1.5]])  # 2 (y_pred - y_true) / 4
    got = as_array(mse_grad(y_pred, y_true), "mse_grad", y_pred.shape)
    assert_close(
        got, expected, who="mse_grad", case=f"y_pred={y_pred.tolist()}, y_true={y_true.tolist()}",
        factors=mse_grad_factors(y_pred.shape),
    )


@check("mse_grad", "agrees with finite differences of mse", 0.5)
def mse_grad_finite_differences(mse_grad, mse):
    for seed, shape in enumerate([(5,), (3, 4)]):
        y_pred, y_true = regression_case(10 + seed, shape, 1.0)
        assert_matches_finite_differences(
            mse_grad(y_pred, y_true), lambda p, y_true=y_true: mse(p, y_true), y_pred,
            who="mse_grad", loss_name="mse", case=shape_case("y_pred", y_pred, 10 + seed),
            factors=mse_grad_factors(shape),
        )


@check("mse_grad", "does not modify its inputs", 0.5)
def mse_grad_inputs_unchanged(mse_grad):
    y_pred, y_true = regression_case(1, (4, 3), 1.0)
    result = as_array(mse_grad(y_pred, y_true), "mse_grad", y_pred.shape)
    assert_inputs_unchanged(mse_grad, ("y_pred", "y_true"), result)


@check("mse_grad", "matches the reference on random inputs", 1.0, hidden=True)
def mse_grad_matches_reference(mse_grad, reference):
    ref = reference.function("mse_grad")
    for seed, (shape, scale) in enumerate(product(REGRESSION_SHAPES, SCALES)):
        y_pred, y_true = regression_case(200 + seed, shape, scale)
        got = as_array(mse_grad(y_pred, y_true), "mse_grad", shape)
        assert_close(
            got, ref(y_pred, y_true), who="mse_grad",
            case=shape_case("y_pred", y_pred, 200 + seed, scale), factors=mse_grad_factors(shape),
        )


# --- binary_cross_entropy -----------------------------------------------------------------

BCE_KNOWN = [
    # (probs, targets, expected)
    (np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0]), -(np.log(0.9) + np.log(0.8) + np.log(0.6)) / 3),
    (np.array([[0.95], [0.5], [0.1]]), np.array([[1.0], [1.0], [1.0]]),
     -(np.log(0.95) + np.log(0.5) + np.log(0.1)) / 3),  # the spam example
    (np.array([[0.7, 0.4], [0.25, 0.5]]), np.array([[1.0, 0.0], [0.0, 0.0]]),
     -(np.log(0.7) + np.log(0.6) + np.log(0.75) + np.log(0.5)) / 4),
]


@check("binary_cross_entropy", "matches known values", 0.5)
def bce_known_values(binary_cross_entropy):
    for probs, targets, expected in BCE_KNOWN:
        got = as_number(binary_cross_entropy(probs, targets), "binary_cross_entropy")
        assert_close(
            got, expected, who="binary_cross_entropy",
            case=f"probs={probs.tolist()}, targets={targets.tolist()}",
            factors=bce_factors(probs.shape),
        )


@check("binary_cross_entropy", "clips probabilities of exactly 0 and 1", 0.5)
def bce_clips(binary_cross_entropy):
    probs, targets = np.array([0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0])
    expected = (2 * -np.log(CLIP) + 2 * -np.log1p(-CLIP)) / 4
    got = as_number(binary_cross_entropy(probs, targets), "binary_cross_entropy")
    if not np.isfinite(got):
        raise CheckFailed(
            f"binary_cross_entropy(probs={probs.tolist()}, targets={targets.tolist()}) "
            f"returned {got}. log(0) is -inf: clip probs to [1e-12, 1 - 1e-12] before "
            "taking logs (np.clip), as the assignment asks."
        )
    assert_close(
        got, expected, who="binary_cross_entropy", rtol=1e-6,
        case=f"probs={probs.tolist()}, targets={targets.tolist()} (clipped to [1e-12, 1 - 1e-12])",
    )


@check("binary_cross_entropy", "does not modify its inputs", 0.5)
def bce_inputs_unchanged(binary_cross_entropy):
    probs, targets = np.array([0.0, 0.3, 1.0, 0.8]), np.array([1.0, 0.0, 1.0, 1.0])
    result = as_number(binary_cross_entropy(probs, targets), "binary_cross_entropy")
    assert_inputs_unchanged(binary_cross_entropy, ("probs", "targets"), result)


@check("binary_cross_entropy", "matches the reference on random inputs", 1.0, hidden=True)
def bce_matches_reference(binary_cross_entropy, reference):
    ref = reference.function("binary_cross_entropy")
    for seed, shape in enumerate([(6,), (5, 3), (2, 3, 4), (1,)]):
        probs, targets = binary_case(300 + seed, shape)
        if seed % 2:
            targets = targets.astype(np.int64)
        got = as_number(binary_cross_entropy(probs, targets), "binary_cross_entropy")
        assert_close(
            got, ref(probs, targets), who="binary_cross_entropy",
            case=shape_case("probs", probs, 300 + seed) + f", targets of dtype {targets.dtype}",
            factors=bce_factors(shape),
        )


# --- binary_cross_entropy_grad -------------------------------------------------------------

@check("binary_cross_entropy_grad", "matches known values", 0.5)
def bce_grad_known_values(binary_cross_entropy_grad):
    probs, targets = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0])
    expected = np.array([-1 / 0.9, 1 / 0.8, -1 / 0.6]) / 3
    got = as_array(binary_cross_entropy_grad(probs, targets), "binary_cross_entropy_grad", probs.shape)
    assert_close(
        got, expected, who="binary_cross_entropy_grad",
        case=f"probs={probs.tolist()}, targets={targets.tolist()}",
        factors=bce_grad_factors(probs.shape), mistakes=bce_grad_mistakes(probs, targets),
    )


@check("binary_cross_entropy_grad", "agrees with finite differences of binary_cross_entropy", 0.5)
def bce_grad_finite_differences(binary_cross_entropy_grad, binary_cross_entropy):
    for seed, shape in enumerate([(5,), (3, 2)]):
        probs, targets = binary_case(20 + seed, shape)
        probs = np.clip(probs, 0.05, 0.95)  # keep p ± eps well inside (0, 1)
        assert_matches_finite_differences(
            binary_cross_entropy_grad(probs, targets),
            lambda p, t=targets: binary_cross_entropy(p, t), probs,
            who="binary_cross_entropy_grad", loss_name="binary_cross_entropy",
            case=shape_case("probs", probs, 20 + seed), factors=bce_grad_factors(shape),
        )


@check("binary_cross_entropy_grad", "stays finite for probabilities of exactly 0 and 1", 0.5)
def bce_grad_finite_at_edges(binary_cross_entropy_grad):
    probs, targets = np.array([0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0])
    got = as_array(binary_cross_entropy_grad(probs, targets), "binary_cross_entropy_grad", (4,))
    case = f"probs={probs.tolist()}, targets={targets.tolist()}"
    if not np.all(np.isfinite(got)):
        raise CheckFailed(
            f"binary_cross_entropy_grad({case}) returned {got.tolist()}. Clip probs to "
            "[1e-12, 1 - 1e-12] here too, so the divisions never divide by 0."
        )
    expected_sign = np.array([-1.0, 1.0, -1.0, 1.0])
    if np.any(np.sign(got) != expected_sign):
        raise CheckFailed(
            f"binary_cross_entropy_grad({case}) returned {got.tolist()}: the signs should be "
            f"{expected_sign.tolist()}. Raising the probability of the true outcome lowers "
            "the loss, so the gradient is negative where the target is 1."
        )


@check("binary_cross_entropy_grad", "does not modify its inputs", 0.5)
def bce_grad_inputs_unchanged(binary_cross_entropy_grad):
    probs, targets = np.array([0.0, 0.3, 1.0, 0.8]), np.array([1.0, 0.0, 1.0, 1.0])
    result = as_array(binary_cross_entropy_grad(probs, targets), "binary_cross_entropy_grad", probs.shape)
    assert_inputs_unchanged(binary_cross_entropy_grad, ("probs", "targets"), result)


@check("binary_cross_entropy_grad", "matches the reference on random inputs", 1.0, hidden=True)
def bce_grad_matches_reference(binary_cross_entropy_grad, reference):
    ref = reference.function("binary_cross_entropy_grad")
    for seed, shape in enumerate([(6,), (5, 3), (2, 3, 4), (1,)]):
        probs, targets = binary_case(400 + seed, shape)
        got = as_array(binary_cross_entropy_grad(probs, targets), "binary_cross_entropy_grad", shape)
        assert_close(
            got, ref(probs, targets), who="binary_cross_entropy_grad",
            case=shape_case("probs", probs, 400 + seed),
            factors=bce_grad_factors(shape), mistakes=bce_grad_mistakes(probs, targets),
        )


# --- softmax -------------------------------------------------------------------------------

THIRDS = np.array([1.0, 2.0, 3.0]) / 6.0  # softmax of [0, ln 2, ln 3]


@check("softmax", "matches known values", 0.5)
def softmax_known_values(softmax):
    cases = [
        (np.array([[0.0, LN2, LN3], [LN3, LN2, 0.0]]), np.stack([THIRDS, THIRDS[::-1]])),
        (np.array([[5.0, 5.0 + LN2, 5.0 + LN3], [0.0, 0.0, 0.0]]), np.stack([THIRDS, np.full(3, 1 / 3)])),
        (np.array([0.0, LN2, LN3]), THIRDS),
    ]
    for logits, expected in cases:
        got = as_array(softmax(logits), "softmax", logits.shape)
        assert_close(
            got, expected, who="softmax", case=f"logits={np.round(logits, 4).tolist()}",
            mistakes=softmax_mistakes(logits),
        )


@check("softmax", "gives a probability distribution over the last axis", 0.5)
def softmax_rows_are_distributions(softmax):
    for seed, shape in enumerate([(6, 4), (2, 3, 5)]):
        logits = np.random.default_rng(30 + seed).normal(size=shape) * 3
        case = shape_case("logits", logits, 30 + seed)
        got = as_array(softmax(logits), "softmax", shape)
        if np.any(got < 0) or np.any(got > 1):
            raise CheckFailed(f"softmax gives values outside [0, 1] for {case}.")
        sums = got.sum(axis=-1)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-10):
            worst = np.unravel_index(int(np.argmax(np.abs(sums - 1))), sums.shape)
            raise CheckFailed(
                f"softmax's results for {case} should sum to 1 along the last axis, but "
                f"row {list(map(int, worst))} sums to {sums[worst]:.10g}. Normalise with "
                "sum(axis=-1, keepdims=True)."
            )


@check("softmax", "is stable for logits of magnitude 1e4", 0.5)
def softmax_stable(softmax):
    big = np.array([[1e4, 1e4 + LN2, 1e4 + LN3], [-1e4, -1e4 + LN2, -1e4 + LN3], [1e4, 0.0, -1e4]])
    expected = np.stack([THIRDS, THIRDS, np.array([1.0, 0.0, 0.0])])
    got = as_array(softmax(big), "softmax", big.shape)
    if not np.all(np.isfinite(got)):
        raise CheckFailed(
            "softmax returns NaN or inf for logits like [[1e4, 1e4 + ln 2, 1e4 + ln 3], "
            "[-1e4, ...]]: exp(1e4) overflows. Subtract each row's maximum before exp "
            "(softmax(x) = softmax(x - c) for any constant c per row); a single maximum for "
            "the whole batch is not enough when rows differ a lot."
        )
    assert_close(got, expected, who="softmax", case="logits of magnitude 1e4 (rows of very different size)")


@check("softmax", "does not modify its inputs", 0.5)
def softmax_inputs_unchanged(softmax):
    logits = np.random.default_rng(3).normal(size=(4, 5))
    result = as_array(softmax(logits), "softmax", logits.shape)
    assert_inputs_unchanged(softmax, ("logits",), result)


@check("softmax", "matches the reference on random inputs", 1.0, hidden=True)
def softmax_matches_reference(softmax, reference):
    ref = reference.function("softmax")
    shapes = [(1, 2), (5, 3), (8, 10), (2, 3, 4), (7,)]
    for seed, (shape, scale) in enumerate(product(shapes, [1.0, 30.0, 1e3])):
        logits = np.random.default_rng(500 + seed).normal(size=shape) * scale
        got = as_array(softmax(logits), "softmax", shape)
        assert_close(
            got, ref(logits), who="softmax", case=shape_case("logits", logits, 500 + seed, scale),
            mistakes=softmax_mistakes(logits),
        )


# --- cross_entropy --------------------------------------------------------------------------

CE_KNOWN = [
    # (logits, labels, expected)
    (np.zeros((4, 10)), np.array([0, 3, 9, 3]), np.log(10.0)),
    (np.array([[2.0, 1.0, 0.0]]), np.array([0]), np.log(1 + np.exp(-1.0) + np.exp(-2.0))),
    (np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), np.array([2, 1]),
     (2 + np.log(1 + np.exp(-1.0) + np.exp(-2.0)) + np.log(3.0)) / 2),
]


@check("cross_entropy", "matches known values", 0.5)
def cross_entropy_known_values(cross_entropy):
    for logits, labels, expected in CE_KNOWN:
        got = as_number(cross_entropy(logits, labels), "cross_entropy")
        assert_close(
            got, expected, who="cross_entropy",
            case=f"logits={logits.tolist()}, labels={labels.tolist()}",
            factors=cross_entropy_factors(*logits.shape),
            mistakes=cross_entropy_mistakes(logits, labels),
        )


@check("cross_entropy", "is exact for confident wrong predictions (logits up to 1e4)", 0.5)
def cross_entropy_stable(cross_entropy):
    for logits in (np.array([[30.0, 0.0, -30.0]]), np.array([[1e4, 0.0, -1e4]])):
        for label in (2, 1, 0):  # confident wrong predictions first: the telling case
            labels = np.array([label])
            expected = logits[0, 0] - logits[0, label] + np.log1p(np.exp(logits[0, 1:] - logits[0, 0]).sum())
            got = as_number(cross_entropy(logits, labels), "cross_entropy")
            case = f"logits={logits.tolist()}, labels={labels.tolist()}"
            if not np.isfinite(got):
                raise CheckFailed(
                    f"cross_entropy({case}) returned {got}. Compute the log-probabilities "
                    "stably: log softmax(z) = z - max(z) - log(sum(exp(z - max(z))))."
                )
            if expected > 40 and got < expected / 2:
                raise CheckFailed(
                    f"cross_entropy({case}) returned {got:.6g}, but the true class has "
                    f"log-probability {-expected:.6g}, so the loss is {expected:.6g}. Your loss "
                    "is capped for confident wrong predictions: computing log(softmax + eps) or "
                    "clipping probabilities limits it to about -log(eps). Compute log-softmax "
                    "directly: z - max(z) - log(sum(exp(z - max(z))))."
                )
            assert_close(got, expected, who="cross_entropy", case=case)


@check("cross_entropy", "does not modify its inputs", 0.5)
def cross_entropy_inputs_unchanged(cross_entropy):
    logits, labels = classification_case(4, (5, 3), 2.0)
    result = as_number(cross_entropy(logits, labels), "cross_entropy")
    assert_inputs_unchanged(cross_entropy, ("logits", "labels"), result)


@check("cross_entropy", "matches the reference on random inputs", 1.5, hidden=True)
def cross_entropy_matches_reference(cross_entropy, reference):
    ref = reference.function("cross_entropy")
    cases = product(CLASSIFIER_SHAPES, [1.0, 10.0, 100.0])
    for seed, (shape, scale) in enumerate(cases):
        dtype = np.int32 if seed % 3 == 2 else np.int64
        logits, labels = classification_case(600 + seed, shape, scale, dtype)
        got = as_number(cross_entropy(logits, labels), "cross_entropy")
        assert_close(
            got, ref(logits, labels), who="cross_entropy",
            case=shape_case("logits", logits, 600 + seed, scale) + f", labels of dtype {labels.dtype}",
            factors=cross_entropy_factors(*shape), mistakes=cross_entropy_mistakes(logits, labels),
        )


# --- cross_entropy_grad ---------------------------------------------------------------------

@check("cross_entropy_grad", "matches known values", 0.5)
def cross_entropy_grad_known_values(cross_entropy_grad):
    logits, labels = np.zeros((2, 3)), np.array([0, 2])
    expected = (np.full((2, 3), 1 / 3) - one_hot(labels, 3)) / 2
    got = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", logits.shape)
    assert_close(
        got, expected, who="cross_entropy_grad",
        case=f"logits={logits.tolist()}, labels={labels.tolist()}",
        factors=cross_entropy_grad_factors(2), mistakes=cross_entropy_grad_mistakes(logits, labels),
    )


@check("cross_entropy_grad", "each row sums to zero", 0.5)
def cross_entropy_grad_rows_sum_to_zero(cross_entropy_grad):
    logits, labels = classification_case(5, (6, 4), 2.0)
    got = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", logits.shape)
    sums = got.sum(axis=1)
    if not np.allclose(sums, 0.0, atol=1e-10):
        row = int(np.argmax(np.abs(sums)))
        raise CheckFailed(
            f"each row of cross_entropy_grad should sum to 0 (softmax sums to 1 and the one-hot "
            f"row to 1), but for logits of shape (6, 4), seed 5, row {row} sums to "
            f"{sums[row]:.6g}. Did you forget to subtract the one-hot labels?"
        )


@check("cross_entropy_grad", "agrees with finite differences of cross_entropy", 0.5)
def cross_entropy_grad_finite_differences(cross_entropy_grad, cross_entropy):
    for seed, shape in enumerate([(4, 3), (1, 5)]):
        logits, labels = classification_case(40 + seed, shape, 2.0)
        assert_matches_finite_differences(
            cross_entropy_grad(logits, labels), lambda z, y=labels: cross_entropy(z, y), logits,
            who="cross_entropy_grad", loss_name="cross_entropy",
            case=shape_case("logits", logits, 40 + seed), factors=cross_entropy_grad_factors(shape[0]),
        )


@check("cross_entropy_grad", "is stable for logits of magnitude 1e4", 0.5)
def cross_entropy_grad_stable(cross_entropy_grad):
    logits, labels = np.array([[1e4, 0.0, -1e4], [-1e4, 0.0, 1e4]]), np.array([2, 2])
    expected = np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]]) / 2
    got = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", logits.shape)
    if not np.all(np.isfinite(got)):
        raise CheckFailed(
            "cross_entropy_grad returns NaN or inf for logits of magnitude 1e4: use a stable "
            "softmax (subtract each row's maximum before exp)."
        )
    assert_close(got, expected, who="cross_entropy_grad",
                 case=f"logits={logits.tolist()}, labels={labels.tolist()}")


@check("cross_entropy_grad", "does not modify its inputs", 0.5)
def cross_entropy_grad_inputs_unchanged(cross_entropy_grad):
    logits, labels = classification_case(6, (5, 3), 2.0)
    result = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", logits.shape)
    assert_inputs_unchanged(cross_entropy_grad, ("logits", "labels"), result)


@check("cross_entropy_grad", "matches the reference on random inputs", 1.5, hidden=True)
def cross_entropy_grad_matches_reference(cross_entropy_grad, reference):
    ref = reference.function("cross_entropy_grad")
    for seed, (shape, scale) in enumerate(product(CLASSIFIER_SHAPES, [1.0, 10.0, 100.0])):
        logits, labels = classification_case(700 + seed, shape, scale)
        got = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", shape)
        assert_close(
            got, ref(logits, labels), who="cross_entropy_grad",
            case=shape_case("logits", logits, 700 + seed, scale),
            factors=cross_entropy_grad_factors(shape[0]),
            mistakes=cross_entropy_grad_mistakes(logits, labels),
        )
