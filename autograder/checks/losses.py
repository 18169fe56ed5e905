"""Checks for assignment 01: loss functions and their gradients.

Public checks use known values, finite differences and invariants; hidden checks compare
with the reference solution on fresh random inputs of several shapes, scales and dtypes.
Every element of every result is compared, and every check that looks at a property (the
inputs left alone, rows that are distributions or sum to zero) also verifies the values of
the calls it makes: a property of a function that computes nothing is worth nothing.

Known answers at any shape come from construction rather than from a second implementation:
``y_pred = y_true + s * signs`` has MSE ``s**2``; logits ``log(p) + c`` (any constant per row)
have softmax ``p``, cross-entropy ``-mean(log p[label])`` and gradient ``(p - one_hot) / N``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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
from autograder.checks.toolbox import (
    FirstFailure,
    assert_inputs_unchanged,
    explained_by_state,
    shape_case,
    values_first,
    with_hint,
)

LN2, LN3 = np.log(2.0), np.log(3.0)
CLIP = 1e-12
UNCHANGED = "Leaving the inputs unchanged"

REGRESSION_SHAPES = [(7,), (4, 3), (3, 2, 5)]
CLASSIFIER_SHAPES = [(1, 2), (5, 3), (8, 10), (64, 7)]
SCALES = [1e-3, 1.0, 1e3]
LABEL_DTYPES = [np.int64, np.int32, np.uint8]


# --- inputs -------------------------------------------------------------------------------

def regression_case(seed: int, shape: tuple[int, ...], scale: float, int_targets: bool = False):
    """Predictions and targets of ``shape`` with values around ``scale`` (integer targets, as
    counts or prices in whole units may be, with ``int_targets``)."""
    rng = np.random.default_rng(seed)
    y_pred = rng.normal(size=shape) * scale
    if int_targets:
        return y_pred, np.rint(rng.normal(size=shape) * max(scale, 3.0)).astype(np.int64)
    return y_pred, rng.normal(size=shape) * scale


def known_mse_case(seed: int, shape: tuple[int, ...]):
    """(y_pred, y_true, MSE, its gradient) with y_pred = y_true + d, where the errors d have
    different sizes but a mean square of exactly s**2 (to rounding): the MSE is s**2 and the
    gradient 2 d / n, by construction."""
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=shape) * 2
    s = float(rng.uniform(0.5, 2.0))
    d = rng.uniform(0.2, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    d *= s / np.sqrt(np.mean(d**2))
    return y_true + d, y_true, s**2, 2 * d / d.size


def binary_case(seed: int, shape: tuple[int, ...], int_targets: bool = False):
    """Probabilities in [0.001, 0.999] and 0/1 targets of ``shape`` (floats, or integers)."""
    rng = np.random.default_rng(seed)
    probs = rng.uniform(1e-3, 1 - 1e-3, size=shape)
    targets = rng.integers(0, 2, size=shape)
    return probs, targets if int_targets else targets.astype(np.float64)


def classification_case(seed: int, shape: tuple[int, int], scale: float, dtype=np.int64):
    """Logits of ``shape`` (N, C) around ``scale`` and integer labels (N,)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape) * scale
    return logits, rng.integers(0, shape[1], size=shape[0]).astype(dtype)


def distribution_case(seed: int, shape: tuple[int, ...], shift: float = 20.0):
    """(p, logits): every slice of p along the last axis is a distribution (some entries as small
    as 1e-4), and logits = log(p) + a random constant per slice, so softmax(logits) is p."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 1.0, size=shape) ** 3
    p /= p.sum(axis=-1, keepdims=True)
    return p, np.log(p) + rng.uniform(-shift, shift, size=(*shape[:-1], 1))


def known_classification_case(seed: int, shape: tuple[int, int], dtype=np.int64):
    """(logits, labels, p) with softmax(logits) = p (see `distribution_case`)."""
    p, logits = distribution_case(seed, shape)
    labels = np.random.default_rng(seed + 1).integers(0, shape[1], size=shape[0]).astype(dtype)
    return logits, labels, p


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Used to build expected values of known *mistakes*, never to grade directly."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def gradient_array(value: object, who: str, shape: tuple[int, ...], name: str, like: np.ndarray,
                   ) -> np.ndarray:
    """`as_array`, and a failure for integers: a gradient made in an array of integer targets'
    dtype (``np.zeros_like(targets)``) silently drops every fraction."""
    result = as_array(value, who, shape)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iub":
        source = (f" like {name} (dtype {like.dtype})" if like.dtype == value.dtype else "")
        raise CheckFailed(
            f"{who} returned integers (dtype {value.dtype}), so every fraction of the gradient is cut "
            f"off. Create the result as floats: np.zeros(shape) rather than an array{source} made with "
            f"np.zeros_like({name}), or compute it in one expression.",
            mistake="the result has an integer dtype, so the fractions are cut off.",
        )
    return result


def finite(value: object) -> bool:
    return bool(np.all(np.isfinite(np.asarray(value, dtype=np.float64))))


# --- what typical mistakes look like ------------------------------------------------------

def rows_hint(size: int, rows: int, what: str) -> str:
    return (f"you divided by the number of rows ({rows}) instead of the number of elements ({size}). "
            f"{what} is a mean over every element.")


def mean_factors(shape: tuple[int, ...]) -> dict[float, str]:
    """Constant factors between a wrong and a right mean-reduced loss of inputs of ``shape``."""
    size, rows = int(np.prod(shape)), shape[0] if shape else 1
    factors = {}
    if size / rows != 1:
        factors[size / rows] = rows_hint(size, rows, "MSE")
    if size > 1:
        factors[size] = (
            f"the result is {size} times too large ({size} = number of elements): did you "
            "sum instead of taking the mean?"
        )
    return factors


def mse_grad_factors(shape: tuple[int, ...]) -> dict[float, str]:
    size, rows = int(np.prod(shape)), shape[0] if shape else 1
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
        factors[size / rows] = rows_hint(size, rows, "The loss")
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
    size, rows = int(np.prod(shape)), shape[0] if shape else 1
    factors = {
        -1.0: "the loss has the wrong sign: it is the *negative* mean log-likelihood.",
        1 / LN2: "you used the base-2 logarithm: use the natural log, np.log.",
        1 / np.log(10.0): "you used the base-10 logarithm: use the natural log, np.log.",
    }
    if size / rows != 1:
        factors[size / rows] = rows_hint(size, rows, "Binary cross-entropy")
    if size > 1:
        factors[size] = f"the result is {size} times too large: did you sum instead of taking the mean?"
    return factors


def bce_grad_factors(shape: tuple[int, ...]) -> dict[float, str]:
    size, rows = int(np.prod(shape)), shape[0] if shape else 1
    factors = {
        -1.0: "your gradient has the wrong sign. The loss decreases as the probability "
        "of the true outcome grows, so its gradient there is negative.",
        size: f"your gradient is {size} times the expected one: did you forget to divide by "
        f"the number of elements ({size}), since the loss is a mean?",
    }
    if size / rows != 1:
        factors[size / rows] = rows_hint(size, rows, "The loss")
    return factors


def bce_grad_mistakes(probs: np.ndarray, targets: np.ndarray, expected: np.ndarray | None = None,
                      ) -> list[Mistake]:
    mistakes = [
        Mistake(
            "this is (probs - targets) / n, the gradient with respect to the *logit* "
            "before a sigmoid. Here the input is the probability itself: differentiate "
            "-[t log p + (1 - t) log(1 - p)] with respect to p.",
            lambda: (probs - targets) / probs.size,
        )
    ]
    if expected is not None and np.asarray(targets).dtype.kind in "iub":
        cut = (f"each element is the right one cut to a whole number (before dividing by n): the "
               f"gradient is built in an array of the targets' dtype ({targets.dtype}), e.g. from "
               "np.zeros_like(targets), which drops the fractions. Create it as floats (np.zeros(shape)).")
        mistakes += [Mistake(cut, lambda: np.trunc(expected * probs.size) / probs.size),
                     Mistake(cut, lambda: np.trunc(expected))]
    return mistakes


ROUND_MARGINS = (1.0, 2.0, 2.220446049250313, 5.0, 10.0)  # 1e-7, 2e-8, np.finfo(float).eps...


def margin_hint(eps: float) -> str | None:
    """The hint for a result that clipping at ``eps`` instead of 1e-12 explains: a margin someone
    would write (1e-7, 1e-15, np.finfo(float).eps...), not any number that happens to fit."""
    if not np.isfinite(eps) or not 1e-300 < eps <= 0.1 or abs(np.log10(eps) + 12) < 0.01:
        return None
    mantissa = eps / 10 ** np.floor(np.log10(eps))
    if not any(abs(mantissa - m) < 0.01 * m for m in ROUND_MARGINS):
        return None
    return (f"this is what clipping probs to [{eps:.2g}, 1 - {eps:.2g}] (or adding {eps:.2g}) gives: "
            "the assignment asks for [1e-12, 1 - 1e-12], np.clip(probs, 1e-12, 1 - 1e-12).")


def softmax_mistakes(logits: np.ndarray) -> list[Mistake]:
    """Normalising over the wrong axis, with whichever maximum was subtracted before exp (each
    row's, each column's or the whole array's give different numbers, and the same mistake)."""
    columns = ("each *column* sums to 1: you normalised over the batch axis (axis 0). Softmax normalises "
               "over the last axis, one row per sample (axis=-1, keepdims=True).")
    everything = ("the whole array sums to 1: you normalised over all elements. Softmax normalises each "
                  "row separately (axis=-1, keepdims=True).")
    shifted = [np.exp(logits - logits.max(axis=axis, keepdims=True)) for axis in (0, -1, None)]
    return [*(Mistake(columns, lambda e=e: e / e.sum(axis=0, keepdims=True)) for e in shifted),
            *(Mistake(everything, lambda e=e: e / e.sum()) for e in shifted)]


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
    columns = ("log_p[:, labels] picks whole columns, an N x N block (every sample's log-probability of "
               "every sample's label): pick one element per row, log_p[np.arange(N), labels].")
    return [
        Mistake(
            "you summed the log-probabilities of every class: use the one-hot labels to "
            "pick only the log-probability of each sample's true class.",
            lambda: -log_p.sum() / len(labels),
        ),
        Mistake(columns, lambda: -np.mean(log_p[:, labels])),
        Mistake(columns, lambda: -np.sum(log_p[:, labels]) / len(labels)),
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
        Mistake(
            "p[:, labels] -= 1 subtracts 1 from whole columns (every row, at every label of the batch): "
            "subtract 1 at one element per row, p[np.arange(N), labels] -= 1.",
            lambda: column_subtracted(p, labels) / n,
        ),
    ]


def column_subtracted(p: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """What ``p[:, labels] -= 1`` leaves in ``p`` (a label that repeats is subtracted once)."""
    q = p.copy()
    q[:, labels] -= 1
    return q


# --- numerical stability: which large logits break the code, and how ----------------------

# Three probes, each breaking one kind of code only: exp overflows without a maximum subtracted
# (nothing underflows); two rows 2000 apart share no useful maximum (each row alone is fine);
# a probability of e^-1000 underflows to 0 (nothing overflows), fatal only to code that divides
# by a probability or takes its log.
OVERFLOW = np.array([[1000.0, 1000.0 + LN2, 1000.0 + LN3]])
APART = np.array([[1000.0, 1000.0 + LN2, 1000.0 + LN3], [-1000.0, -1000.0 + LN2, -1000.0 + LN3]])
UNDERFLOW = np.array([[0.0, -1000.0, LN2]])  # softmax: [1/3, e^-1000 / 3, 2/3]

OVERFLOW_HINT = (
    "exp overflows: np.exp(1000) is already inf, which makes the result inf or NaN. Subtract each "
    "row's maximum before exp (a stable softmax: softmax(z) = softmax(z - c) for any constant c per row)."
)
APART_HINT = (
    "one maximum for the whole batch is not enough: in a row whose logits all lie far below the "
    "batch's maximum (by more than about 745), every exp underflows to 0. Subtract each row's own "
    "maximum (max(axis=-1, keepdims=True))."
)
UNDERFLOW_HINTS = {
    "cross_entropy": (
        "your exp does not overflow (you subtract the maximum), but the true class's probability is "
        "e^-1000, which underflows to 0, and log(0) is -inf. Never take the log of a probability: "
        "compute the log-probabilities directly, z - max(z) - log(sum(exp(z - max(z))))."
    ),
    "cross_entropy_grad": (
        "your exp does not overflow (you subtract the maximum), but a probability of e^-1000 "
        "underflows to 0 and your code divides by it (as going through dL/dp = -1/p and the softmax "
        "Jacobian does). The gradient needs no division: it is (softmax(logits) - one_hot) / N."
    ),
}


def instability_hint(function: Callable, who: str, labels: dict[str, np.ndarray] | None = None) -> str | None:
    """What makes ``function`` fail for large logits, found with the probes above (None if none
    of them shows it). ``labels`` gives each probe's labels for the losses."""
    probes = [("overflow", OVERFLOW, OVERFLOW_HINT), ("apart", APART, APART_HINT),
              ("underflow", UNDERFLOW, UNDERFLOW_HINTS.get(who))]
    for name, logits, hint in probes:
        try:
            result = function(logits) if labels is None else function(logits, labels[name])
        except CheckFailed:
            return None
        numeric = isinstance(result, np.ndarray | np.generic | float | int)
        if hint is not None and numeric and not finite(result):
            return hint
    return None


def capped_at(loss: float, logits: np.ndarray, labels: np.ndarray) -> float | None:
    """The margin eps that a loss of ``log(p + eps)`` or of probabilities clipped at eps gives
    exactly here, if it is one a student would write (see `margin_hint`); None otherwise. Only
    rows whose true class has a probability far below eps are capped: the others count as they are."""
    log_p = log_softmax(logits)[np.arange(len(labels)), labels]
    for mantissa, exponent in product(ROUND_MARGINS, range(-16, -2)):
        eps = mantissa * 10.0**exponent
        for capped in (np.log(np.exp(log_p) + eps), np.log(np.maximum(np.exp(log_p), eps))):
            separated = abs(capped.mean() - log_p.mean()) > 1e-3 * abs(log_p.mean())
            if separated and np.isclose(loss, -capped.mean(), rtol=1e-9, atol=1e-12) and margin_hint(eps):
                return eps
    return None


def unstable(what: str, hint: str) -> CheckFailed:
    """The failure for a result that is not finite, with what made it so."""
    return CheckFailed(f"{what}\n  Likely mistake: {hint}", mistake=hint)


PROBE_LABELS = {"overflow": np.array([0]), "apart": np.array([0, 2]), "underflow": np.array([1])}


def sums_failure(what: str, compare: Callable[[], None]) -> CheckFailed:
    """The failure of rows that do not sum as they should, with what the values show (the one
    known mistake they prove, or where they differ): a row sum alone names no cause."""
    try:
        compare()
    except CheckFailed as failure:
        details = "\n".join(str(failure).splitlines()[1:])
        return CheckFailed(f"{what}\n{details}", mistake=failure.mistake)
    return CheckFailed(what)


# --- mse -----------------------------------------------------------------------------------

MSE_KNOWN = [
    # (y_pred, y_true, expected)
    (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [3.0, 1.0]]), 2.5),
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]), 4.0 / 3.0),
    (np.array([250.0]), np.array([300.0]), 2500.0),  # the house example, in $1000s
]


@check("mse", "matches known values", 0.5)
def mse_known_values(mse):
    trials = FirstFailure()
    for y_pred, y_true, expected in trials.over(MSE_KNOWN):
        with trials:
            got = as_number(mse(y_pred, y_true), "mse")
            assert_close(
                got, expected, who="mse", case=f"y_pred={y_pred.tolist()}, y_true={y_true.tolist()}",
                factors=mean_factors(y_pred.shape), mistakes=mse_mistakes(y_pred, y_true),
            )


@check("mse", "does not modify its inputs", 0.5, property=True)
def mse_inputs_unchanged(mse):
    for seed, shape in ((0, (4, 3)), (1, (2, 3, 2))):
        y_pred, y_true, expected, _ = known_mse_case(seed, shape)
        with values_first(UNCHANGED):
            got = as_number(mse(y_pred, y_true), "mse")
        assert_inputs_unchanged(mse, ("y_pred", "y_true"))
        with values_first(UNCHANGED):
            assert_close(got, expected, who="mse", case=shape_case("y_pred", y_pred, seed),
                         factors=mean_factors(shape), mistakes=mse_mistakes(y_pred, y_true))


@check("mse", "matches the reference on random inputs", 1.0, hidden=True)
def mse_matches_reference(mse, reference):
    ref_mse = reference.function("mse")
    trials = FirstFailure()
    # shapes vary first
    for seed, (scale, shape) in trials.over(enumerate(product(SCALES, REGRESSION_SHAPES))):
        with trials:
            y_pred, y_true = regression_case(100 + seed, shape, scale, int_targets=seed % 3 == 1)
            with explained_by_state(lambda y_pred=y_pred, y_true=y_true: mse(y_pred, y_true)):
                got = as_number(mse(y_pred, y_true), "mse")
                assert_close(
                    got, ref_mse(y_pred, y_true), who="mse",
                    case=(shape_case("y_pred", y_pred, 100 + seed, scale)
                          + f", y_true of dtype {y_true.dtype}"),
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
    trials = FirstFailure()
    for seed, shape in trials.over(enumerate([(5,), (3, 4)])):
        with trials:
            y_pred, y_true = regression_case(10 + seed, shape, 1.0)
            assert_matches_finite_differences(
                mse_grad(y_pred, y_true), lambda p, y_true=y_true: mse(p, y_true), y_pred,
                who="mse_grad", loss_name="mse", case=shape_case("y_pred", y_pred, 10 + seed),
                factors=mse_grad_factors(shape),
            )


@check("mse_grad", "does not modify its inputs", 0.5, property=True)
def mse_grad_inputs_unchanged(mse_grad):
    for seed, shape in ((2, (4, 3)), (3, (6,))):
        y_pred, y_true, _, expected = known_mse_case(seed, shape)
        with values_first(UNCHANGED):
            got = as_array(mse_grad(y_pred, y_true), "mse_grad", shape)
        assert_inputs_unchanged(mse_grad, ("y_pred", "y_true"))
        with values_first(UNCHANGED):
            assert_close(got, expected, who="mse_grad", case=shape_case("y_pred", y_pred, seed),
                         factors=mse_grad_factors(shape))


@check("mse_grad", "matches the reference on random inputs", 1.0, hidden=True)
def mse_grad_matches_reference(mse_grad, reference):
    ref = reference.function("mse_grad")
    trials = FirstFailure()
    # shapes vary first
    for seed, (scale, shape) in trials.over(enumerate(product(SCALES, REGRESSION_SHAPES))):
        with trials:
            y_pred, y_true = regression_case(200 + seed, shape, scale, int_targets=seed % 3 == 1)
            with explained_by_state(lambda y_pred=y_pred, y_true=y_true: mse_grad(y_pred, y_true)):
                got = gradient_array(mse_grad(y_pred, y_true), "mse_grad", shape, "y_true", y_true)
                assert_close(
                    got, ref(y_pred, y_true), who="mse_grad",
                    case=(shape_case("y_pred", y_pred, 200 + seed, scale)
                          + f", y_true of dtype {y_true.dtype}"),
                    factors=mse_grad_factors(shape),
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
    trials = FirstFailure()
    for probs, targets, expected in trials.over(BCE_KNOWN):
        with trials:
            got = as_number(binary_cross_entropy(probs, targets), "binary_cross_entropy")
            assert_close(
                got, expected, who="binary_cross_entropy",
                case=f"probs={probs.tolist()}, targets={targets.tolist()}",
                factors=bce_factors(probs.shape),
            )


# Probabilities of exactly 0 and 1 clipped to [1e-12, 1 - 1e-12]: a wrong prediction costs
# -log(1e-12), a right one -log(1 - 1e-12), about 1e-12. The tolerance admits both ways of
# computing log(1 - p) there (1 - (1 - 1e-12) is 1e-12 only to 5 digits) and nothing more.
LOW, HIGH = CLIP, 1 - CLIP  # what 0 and 1 become, as float64
BCE_EDGES = [
    # (probs, targets, expected, which end is clipped or None)
    (np.array([0.0]), np.array([1.0]), -np.log(LOW), "0"),
    (np.array([1.0]), np.array([0.0]), -np.log(1 - HIGH), "1"),
    (np.array([0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0]),
     -(np.log(LOW) + np.log(1 - HIGH) + np.log(HIGH) + np.log(1 - LOW)) / 4, None),
]


@check("binary_cross_entropy", "clips probabilities of exactly 0 and 1", 0.5)
def bce_clips(binary_cross_entropy):
    for probs, targets, expected, end in BCE_EDGES:
        got = as_number(binary_cross_entropy(probs, targets), "binary_cross_entropy")
        case = f"probs={probs.tolist()}, targets={targets.tolist()}"
        if not np.isfinite(got):
            which = {"0": "probs of exactly 0 (at the lower end, 1e-12)",
                     "1": "probs of exactly 1 (at the upper end too, 1 - 1e-12)"}.get(end, "probs")
            raise CheckFailed(
                f"binary_cross_entropy({case}) returned {got}. log(0) is -inf: clip {which} "
                "before taking logs, np.clip(probs, 1e-12, 1 - 1e-12), as the assignment asks."
            )
        try:
            assert_close(got, expected, who="binary_cross_entropy", rtol=1e-5,
                         case=f"{case} (clipped to [1e-12, 1 - 1e-12])", factors=bce_factors(probs.shape))
        except CheckFailed as failure:
            hint = margin_hint(np.exp(-got)) if end and failure.mistake is None else None
            raise (with_hint(failure, hint) if hint else failure) from None


@check("binary_cross_entropy", "does not modify its inputs", 0.5, property=True)
def bce_inputs_unchanged(binary_cross_entropy):
    # 0 and 1 are clipped (so clipping in place shows); on their right side they cost ~1e-12
    probs, targets = np.array([0.0, 0.3, 1.0, 0.8]), np.array([0.0, 0.0, 1.0, 1.0])
    expected = -(np.log(0.7) + np.log(0.8)) / 4
    with values_first(UNCHANGED):
        got = as_number(binary_cross_entropy(probs, targets), "binary_cross_entropy")
    assert_inputs_unchanged(binary_cross_entropy, ("probs", "targets"))
    with values_first(UNCHANGED):
        assert_close(got, expected, who="binary_cross_entropy", rtol=1e-6, factors=bce_factors(probs.shape),
                     case=f"probs={probs.tolist()}, targets={targets.tolist()}")


@check("binary_cross_entropy", "matches the reference on random inputs", 1.0, hidden=True)
def bce_matches_reference(binary_cross_entropy, reference):
    ref = reference.function("binary_cross_entropy")
    trials = FirstFailure()
    for seed, shape in trials.over(enumerate([(6,), (5, 3), (2, 3, 4), (1,), (8, 1)])):
        with trials:
            probs, targets = binary_case(300 + seed, shape, int_targets=seed % 2 == 1)
            with explained_by_state(lambda p=probs, t=targets: binary_cross_entropy(p, t)):
                got = as_number(binary_cross_entropy(probs, targets), "binary_cross_entropy")
                assert_close(
                    got, ref(probs, targets), who="binary_cross_entropy",
                    case=(shape_case("probs", probs, 300 + seed)
                          + f", targets of dtype {targets.dtype}"),
                    factors=bce_factors(shape),
                )


# --- binary_cross_entropy_grad -------------------------------------------------------------

def bce_grad_result(binary_cross_entropy_grad, probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    result = binary_cross_entropy_grad(probs, targets)
    return gradient_array(result, "binary_cross_entropy_grad", probs.shape, "targets", np.asarray(targets))


BCE_GRAD_KNOWN = [
    # (probs, targets, expected): -1/p where the target is 1, 1/(1 - p) where it is 0, over n
    (np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0]), np.array([-1 / 0.9, 1 / 0.8, -1 / 0.6]) / 3),
    (np.array([[0.5, 0.25, 0.8], [0.2, 0.75, 0.4]]), np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),
     np.array([[-2.0, 4 / 3, -1.25], [1.25, -4 / 3, 5 / 3]]) / 6),
]


@check("binary_cross_entropy_grad", "matches known values", 0.5)
def bce_grad_known_values(binary_cross_entropy_grad):
    trials = FirstFailure()
    for probs, targets, expected in trials.over(BCE_GRAD_KNOWN):
        with trials:
            got = bce_grad_result(binary_cross_entropy_grad, probs, targets)
            assert_close(
                got, expected, who="binary_cross_entropy_grad",
                case=f"probs={probs.tolist()}, targets={targets.tolist()}",
                factors=bce_grad_factors(probs.shape), mistakes=bce_grad_mistakes(probs, targets),
            )


@check("binary_cross_entropy_grad", "agrees with finite differences of binary_cross_entropy", 0.5)
def bce_grad_finite_differences(binary_cross_entropy_grad, binary_cross_entropy):
    trials = FirstFailure()
    for seed, shape in trials.over(enumerate([(5,), (3, 2)])):
        with trials:
            probs, targets = binary_case(20 + seed, shape, int_targets=seed == 1)
            probs = np.clip(probs, 0.05, 0.95)  # keep p ± eps well inside (0, 1)
            got = bce_grad_result(binary_cross_entropy_grad, probs, targets)
            assert_matches_finite_differences(
                got,
                lambda p, t=targets: binary_cross_entropy(p, t), probs,
                who="binary_cross_entropy_grad", loss_name="binary_cross_entropy",
                case=(shape_case("probs", probs, 20 + seed)
                      + f", targets of dtype {targets.dtype}"),
                factors=bce_grad_factors(shape),
            )


@check("binary_cross_entropy_grad", "is finite and right for probabilities of exactly 0 and 1", 0.5)
def bce_grad_finite_at_edges(binary_cross_entropy_grad):
    probs, targets = np.array([0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0])
    # at the clipped p: -1/1e-12 and 1/(1 - (1 - 1e-12)) where the prediction is wrong, ±1 where right
    expected = np.array([-1 / LOW, 1 / (1 - HIGH), -1 / HIGH, 1 / (1 - LOW)]) / 4
    got = bce_grad_result(binary_cross_entropy_grad, probs, targets)
    case = f"probs={probs.tolist()}, targets={targets.tolist()}"
    if not np.all(np.isfinite(got)):
        ends = [f"{p:g}" for p, g in zip(probs, got, strict=True) if not np.isfinite(g)]
        raise CheckFailed(
            f"binary_cross_entropy_grad({case}) returned {got.tolist()}, not finite where probs is "
            f"{' and '.join(sorted(set(ends)))}. Clip probs to [1e-12, 1 - 1e-12] here too (both ends), "
            "so the divisions never divide by 0."
        )
    try:
        assert_close(got, expected, who="binary_cross_entropy_grad", rtol=1e-3, case=case,
                     factors=bce_grad_factors(probs.shape))
    except CheckFailed as failure:
        # -1/(n eps) at p = 0 and 1/(n eps) at p = 1 tell which margin was used
        margins = [-1 / (4 * got[0]) if got[0] < 0 else np.nan, 1 / (4 * got[1]) if got[1] > 0 else np.nan]
        hint = next((h for h in map(margin_hint, margins) if h), None) if failure.mistake is None else None
        raise (with_hint(failure, hint) if hint else failure) from None


@check("binary_cross_entropy_grad", "does not modify its inputs", 0.5, property=True)
def bce_grad_inputs_unchanged(binary_cross_entropy_grad):
    # 0 and 1 are clipped (so clipping in place shows), on the side where the gradient is ±1/n
    probs, targets = np.array([0.0, 0.3, 1.0, 0.8]), np.array([0.0, 0.0, 1.0, 1.0])
    expected = np.array([1.0, 1 / 0.7, -1.0, -1 / 0.8]) / 4
    with values_first(UNCHANGED):
        result = bce_grad_result(binary_cross_entropy_grad, probs, targets)
    assert_inputs_unchanged(binary_cross_entropy_grad, ("probs", "targets"))
    with values_first(UNCHANGED):
        assert_close(result, expected, who="binary_cross_entropy_grad", rtol=1e-6,
                     case=f"probs={probs.tolist()}, targets={targets.tolist()}",
                     factors=bce_grad_factors(probs.shape), mistakes=bce_grad_mistakes(probs, targets))


@check("binary_cross_entropy_grad", "matches the reference on random inputs", 1.0, hidden=True)
def bce_grad_matches_reference(binary_cross_entropy_grad, reference):
    ref = reference.function("binary_cross_entropy_grad")
    trials = FirstFailure()
    for seed, shape in trials.over(enumerate([(6,), (5, 3), (2, 3, 4), (1,), (4, 2)])):
        with trials:
            probs, targets = binary_case(400 + seed, shape, int_targets=seed % 2 == 1)
            expected = ref(probs, targets)
            with explained_by_state(lambda p=probs, t=targets: binary_cross_entropy_grad(p, t)):
                got = bce_grad_result(binary_cross_entropy_grad, probs, targets)
                assert_close(
                    got, expected, who="binary_cross_entropy_grad",
                    case=(shape_case("probs", probs, 400 + seed)
                          + f", targets of dtype {targets.dtype}"),
                    factors=bce_grad_factors(shape), mistakes=bce_grad_mistakes(probs, targets, expected),
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
    trials = FirstFailure()
    for logits, expected in trials.over(cases):
        with trials:
            got = as_array(softmax(logits), "softmax", logits.shape)
            assert_close(
                got, expected, who="softmax", case=f"logits={np.round(logits, 4).tolist()}",
                mistakes=softmax_mistakes(logits),
            )


@check("softmax", "gives a probability distribution over the last axis", 0.5, property=True)
def softmax_rows_are_distributions(softmax):
    for seed, shape in enumerate([(6, 4), (2, 3, 5), (9,)]):
        p, logits = distribution_case(30 + seed, shape)
        case = shape_case("logits", logits, 30 + seed)
        with values_first("Giving a distribution"):
            got = as_array(softmax(logits), "softmax", shape)
        if not finite(got):
            raise CheckFailed(f"softmax gives NaN or infinity for {case} (logits between -30 and 20). "
                              "Look for a division by 0 or a log of 0.")
        if np.any(got < 0) or np.any(got > 1):
            raise CheckFailed(f"softmax gives values outside [0, 1] for {case}.")
        sums = got.sum(axis=-1)

        def values(got=got, p=p, case=case, logits=logits) -> None:
            assert_close(got, p, who="softmax", case=case, mistakes=softmax_mistakes(logits))

        if not np.allclose(sums, 1.0, rtol=0, atol=1e-10):
            worst = np.unravel_index(int(np.argmax(np.abs(sums - 1))), sums.shape)
            raise sums_failure(
                f"softmax's results for {case} should sum to 1 along the last axis, but row "
                f"{list(map(int, worst))} sums to {sums[worst]:.10g}.", values)
        with values_first("Giving a distribution"):
            values()


@check("softmax", "is stable for logits of magnitude 1e4", 0.5)
def softmax_stable(softmax):
    big = np.array([[1e4, 1e4 + LN2, 1e4 + LN3], [-1e4, -1e4 + LN2, -1e4 + LN3], [1e4, 0.0, -1e4]])
    p, logits = distribution_case(35, (5, 4), shift=0.0)
    cases = [
        (big, np.stack([THIRDS, THIRDS, np.array([1.0, 0.0, 0.0])]),
         "logits of magnitude 1e4 (rows of very different size)"),
        (logits + np.array([[1e4], [-1e4], [3e3], [-3e3], [0.0]]), p,
         "logits of shape (5, 4) with rows around 1e4, -1e4, 3e3, -3e3 and 0"),
    ]
    for logits, expected, case in cases:
        got = as_array(softmax(logits), "softmax", logits.shape)
        if not finite(got):
            hint = instability_hint(softmax, "softmax") or OVERFLOW_HINT
            raise unstable(f"softmax returns NaN or inf for {case}.", hint)
        assert_close(got, expected, who="softmax", case=case, mistakes=softmax_mistakes(logits))


@check("softmax", "does not modify its inputs", 0.5, property=True)
def softmax_inputs_unchanged(softmax):
    p, logits = distribution_case(3, (4, 5))
    with values_first(UNCHANGED):
        got = as_array(softmax(logits), "softmax", logits.shape)
    assert_inputs_unchanged(softmax, ("logits",))
    with values_first(UNCHANGED):
        assert_close(got, p, who="softmax", case=shape_case("logits", logits, 3),
                     mistakes=softmax_mistakes(logits))


@check("softmax", "matches the reference on random inputs", 1.0, hidden=True)
def softmax_matches_reference(softmax, reference):
    ref = reference.function("softmax")
    shapes = [(1, 2), (5, 3), (8, 10), (2, 3, 4), (7,)]
    trials = FirstFailure()
    # shapes vary first
    for seed, (scale, shape) in trials.over(enumerate(product([1.0, 30.0, 1e3], shapes))):
        with trials:
            logits = np.random.default_rng(500 + seed).normal(size=shape) * scale
            with explained_by_state(lambda logits=logits: softmax(logits)):
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
    trials = FirstFailure()
    for logits, labels, expected in trials.over(CE_KNOWN):
        with trials:
            got = as_number(cross_entropy(logits, labels), "cross_entropy")
            assert_close(
                got, expected, who="cross_entropy",
                case=f"logits={logits.tolist()}, labels={labels.tolist()}",
                factors=cross_entropy_factors(*logits.shape),
                mistakes=cross_entropy_mistakes(logits, labels),
            )


def confident_loss(row: np.ndarray, label: int) -> float:
    """-log softmax(row)[label] for a row whose first logit is the largest, without cancellation."""
    return float(row[0] - row[label] + np.log1p(np.exp(row[1:] - row[0]).sum()))


CONFIDENT = [np.array([30.0, 0.0, -30.0]), np.array([1e4, 0.0, -1e4])]
CE_CONFIDENT = [(row[None, :], np.array([label]), confident_loss(row, label))
                for row in CONFIDENT for label in (2, 1, 0)]  # confident wrong predictions first
CE_CONFIDENT.append((  # a second row 2e4 below the first: each row needs its own maximum
    np.array([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1, -1e4 + 2]]), np.array([2, 0]),
    (confident_loss(CONFIDENT[1], 2) + confident_loss(np.array([2.0, 1.0, 0.0]), 2)) / 2,
))


@check("cross_entropy", "is exact for confident wrong predictions (logits up to 1e4)", 0.5)
def cross_entropy_stable(cross_entropy):
    for logits, labels, expected in CE_CONFIDENT:
        got = as_number(cross_entropy(logits, labels), "cross_entropy")
        case = f"logits={logits.tolist()}, labels={labels.tolist()}"
        if not np.isfinite(got):
            hint = instability_hint(cross_entropy, "cross_entropy", PROBE_LABELS) or (
                "compute the log-probabilities stably: z - max(z) - log(sum(exp(z - max(z)))).")
            raise unstable(f"cross_entropy({case}) returned {got}.", hint)
        try:
            assert_close(got, expected, who="cross_entropy", case=case,
                         factors=cross_entropy_factors(*logits.shape),
                         mistakes=cross_entropy_mistakes(logits, labels))
        except CheckFailed as failure:
            eps = capped_at(got, logits, labels)
            if failure.mistake is None and eps is not None:
                hint = (f"the loss is capped for confident wrong predictions: {got:.6g} is -log({eps:.2g}) "
                        f"(averaged over the batch), what log(softmax + {eps:.2g}) or probabilities clipped "
                        f"at {eps:.2g} give where the true class's probability is far smaller. Compute "
                        "log-softmax directly: z - max(z) - log(sum(exp(z - max(z)))).")
                raise with_hint(failure, hint) from None
            raise


@check("cross_entropy", "does not modify its inputs", 0.5, property=True)
def cross_entropy_inputs_unchanged(cross_entropy):
    logits, labels, p = known_classification_case(4, (5, 3))
    expected = -np.mean(np.log(p[np.arange(5), labels]))
    with values_first(UNCHANGED):
        got = as_number(cross_entropy(logits, labels), "cross_entropy")
    assert_inputs_unchanged(cross_entropy, ("logits", "labels"))
    with values_first(UNCHANGED):
        assert_close(got, expected, who="cross_entropy", case=shape_case("logits", logits, 4),
                     factors=cross_entropy_factors(5, 3), mistakes=cross_entropy_mistakes(logits, labels))


@check("cross_entropy", "matches the reference on random inputs", 1.5, hidden=True)
def cross_entropy_matches_reference(cross_entropy, reference):
    ref = reference.function("cross_entropy")
    cases = ((shape, scale) for scale, shape in product([1.0, 10.0, 100.0], CLASSIFIER_SHAPES))  # shapes vary
    trials = FirstFailure()
    for seed, (shape, scale) in trials.over(enumerate(cases)):
        with trials:
            dtype = LABEL_DTYPES[seed % len(LABEL_DTYPES)]
            logits, labels = classification_case(600 + seed, shape, scale, dtype)
            with explained_by_state(lambda z=logits, y=labels: cross_entropy(z, y)):
                got = as_number(cross_entropy(logits, labels), "cross_entropy")
                assert_close(
                    got, ref(logits, labels), who="cross_entropy",
                    case=(shape_case("logits", logits, 600 + seed, scale)
                          + f", labels of dtype {labels.dtype}"),
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


@check("cross_entropy_grad", "each row sums to zero", 0.5, property=True)
def cross_entropy_grad_rows_sum_to_zero(cross_entropy_grad):
    for seed, (shape, dtype) in enumerate([((6, 4), np.int64), ((3, 7), np.int32)]):
        logits, labels, p = known_classification_case(5 + seed, shape, dtype)
        case = shape_case("logits", logits, 5 + seed)
        with values_first("Rows that sum to zero"):
            got = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", shape)
        if not finite(got):
            raise CheckFailed(f"cross_entropy_grad gives NaN or infinity for {case} (logits between "
                              "-30 and 20). Look for a division by 0 or a log of 0.")
        sums = got.sum(axis=1)

        def values(got=got, p=p, labels=labels, case=case, shape=shape, logits=logits) -> None:
            assert_close(got, (p - one_hot(labels, shape[1])) / shape[0], who="cross_entropy_grad",
                         case=case, factors=cross_entropy_grad_factors(shape[0]),
                         mistakes=cross_entropy_grad_mistakes(logits, labels))

        if not np.allclose(sums, 0.0, atol=1e-10):
            row = int(np.argmax(np.abs(sums)))
            raise sums_failure(
                f"each row of cross_entropy_grad should sum to 0 (softmax sums to 1 and the one-hot row "
                f"to 1), but for {case}, row {row} sums to {sums[row]:.6g}.", values)
        with values_first("Rows that sum to zero"):
            values()


@check("cross_entropy_grad", "agrees with finite differences of cross_entropy", 0.5)
def cross_entropy_grad_finite_differences(cross_entropy_grad, cross_entropy):
    trials = FirstFailure()
    for seed, shape in trials.over(enumerate([(4, 3), (1, 5)])):
        with trials:
            logits, labels = classification_case(40 + seed, shape, 2.0)
            assert_matches_finite_differences(
                cross_entropy_grad(logits, labels), lambda z, y=labels: cross_entropy(z, y), logits,
                who="cross_entropy_grad", loss_name="cross_entropy",
                case=shape_case("logits", logits, 40 + seed), factors=cross_entropy_grad_factors(shape[0]),
            )


@check("cross_entropy_grad", "is stable for logits of magnitude 1e4", 0.5)
def cross_entropy_grad_stable(cross_entropy_grad):
    cases = [
        (np.array([[1e4, 0.0, -1e4], [-1e4, 0.0, 1e4]]), np.array([2, 2]),
         np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]]) / 2),
        # rows far apart, each row needs its own maximum
        (np.array([[1e4, 1e4 + LN2, 1e4 + LN3], [-1e4, -1e4 + LN2, -1e4 + LN3]]), np.array([0, 2]),
         (np.stack([THIRDS, THIRDS]) - np.eye(3)[[0, 2]]) / 2),
    ]
    for logits, labels, expected in cases:
        case = f"logits={np.round(logits, 4).tolist()}, labels={labels.tolist()}"
        got = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", logits.shape)
        if not finite(got):
            hint = instability_hint(cross_entropy_grad, "cross_entropy_grad", PROBE_LABELS) or (
                "compute softmax stably (subtract each row's maximum before exp) and never divide by a "
                "probability: the gradient is (softmax(logits) - one_hot) / N.")
            raise unstable(f"cross_entropy_grad returns NaN or inf for {case}.", hint)
        assert_close(got, expected, who="cross_entropy_grad", case=case,
                     factors=cross_entropy_grad_factors(logits.shape[0]),
                     mistakes=cross_entropy_grad_mistakes(logits, labels))


@check("cross_entropy_grad", "does not modify its inputs", 0.5, property=True)
def cross_entropy_grad_inputs_unchanged(cross_entropy_grad):
    logits, labels, p = known_classification_case(6, (5, 3))
    with values_first(UNCHANGED):
        got = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", logits.shape)
    assert_inputs_unchanged(cross_entropy_grad, ("logits", "labels"))
    with values_first(UNCHANGED):
        assert_close(got, (p - one_hot(labels, 3)) / 5, who="cross_entropy_grad",
                     case=shape_case("logits", logits, 6), factors=cross_entropy_grad_factors(5),
                     mistakes=cross_entropy_grad_mistakes(logits, labels))


@check("cross_entropy_grad", "matches the reference on random inputs", 1.5, hidden=True)
def cross_entropy_grad_matches_reference(cross_entropy_grad, reference):
    ref = reference.function("cross_entropy_grad")
    trials = FirstFailure()
    # shapes vary first
    for seed, (scale, shape) in trials.over(enumerate(product([1.0, 10.0, 100.0], CLASSIFIER_SHAPES))):
        with trials:
            dtype = LABEL_DTYPES[seed % len(LABEL_DTYPES)]
            logits, labels = classification_case(700 + seed, shape, scale, dtype)
            with explained_by_state(lambda z=logits, y=labels: cross_entropy_grad(z, y)):
                got = as_array(cross_entropy_grad(logits, labels), "cross_entropy_grad", shape)
                assert_close(
                    got, ref(logits, labels), who="cross_entropy_grad",
                    case=(shape_case("logits", logits, 700 + seed, scale)
                          + f", labels of dtype {labels.dtype}"),
                    factors=cross_entropy_grad_factors(shape[0]),
                    mistakes=cross_entropy_grad_mistakes(logits, labels),
                )


# --- the quiz: answers that a known mistake gives ------------------------------------------
# Quiz answer -> {wrong answer: hint}, for the quiz checks to show when an answer equals one of
# these (compared as the quiz compares answers). A hint says where the reasoning went wrong and
# never states the right answer.
CONFIDENT_MISTAKES = ("Look at what each loss, and its gradient, does with a prediction that is "
                      "confidently wrong.")
SQUARED_ERROR = "the question asks for the squared error of the prediction."
QUIZ_MISTAKES: dict[str, dict[str | float, str]] = {
    # 01 Q1: why cross-entropy rather than MSE for classification
    "Q1": {
        "A": "cost is not the reason: both losses take a handful of operations per sample. "
            + CONFIDENT_MISTAKES,
        "C": "a loss's size does not decide how long training takes (scaling a loss only rescales "
            "its gradient), and cross-entropy is not always smaller than MSE. " + CONFIDENT_MISTAKES,
    },
    # 01 Q2: predicted $240K, sold for $300K, measured in thousands of dollars
    "Q2": {
        300 - 240: "that is the error itself, y_true - y_pred; " + SQUARED_ERROR,
        240 - 300: "that is the error itself, y_pred - y_true; " + SQUARED_ERROR,
        ((300 - 240) * 1000) ** 2: "that is in dollars squared; measure in thousands of dollars, "
            "as the question does.",
        (300 - 240) * 1000: "that is the error in dollars; " + SQUARED_ERROR,
        (300 - 240) ** 2 / 2: "that is half the squared error (the 1/2 some texts put in front of "
            "MSE); " + SQUARED_ERROR,
        2 * (240 - 300): "that is the derivative of the squared error, 2 (y_pred - y_true), not the "
            "squared error itself.",
        2 * (300 - 240): "that is (minus) the derivative of the squared error, not the squared error "
            "itself.",
    },
    # 01 Q3: binary cross-entropy of a true positive predicted 0.01 instead of 0.40
    "Q3": {
        math.log(0.40) / math.log(0.01): "you divided the other way round: the question asks how "
            "many times larger the loss of the 0.01 prediction is than that of the 0.40 prediction.",
        0.40 / 0.01: "that compares the probabilities; the question compares the losses, "
            "-log(p) for a true positive.",
        0.01 / 0.40: "that compares the probabilities; the question compares the losses, "
            "-log(p) for a true positive.",
        math.log(0.40) - math.log(0.01): "that is the difference of the two losses; the question "
            "asks how many times larger one is than the other.",
        (0.99 / 0.60) ** 2: "that is the ratio of the squared errors (1 - p)²; the question is "
            "about binary cross-entropy, -log(p) for a true positive.",
        0.99 / 0.60: "that is the ratio of the errors 1 - p; the question is about binary "
            "cross-entropy, -log(p) for a true positive.",
        math.log(0.99) / math.log(0.60): "that compares -log(1 - p), the loss of a *negative* "
            "example; here the target is 1 (a true positive).",
        math.log(0.60) / math.log(0.99): "that compares -log(1 - p), the loss of a *negative* "
            "example; here the target is 1 (a true positive).",
    },
}
