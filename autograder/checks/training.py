"""Checks for assignment 04: iterations per epoch, mini-batches, accuracy and the training loop.

Shuffling is checked through the generator passed in: two generators with the same seed must
give the same orders, different seeds different ones, and the caller's generator advances.

``train`` is run with the checks' own model and optimizer, which record every call: the
batches it sees, the params each call receives, the state each parameter's optimizer receives,
the keyword arguments. They do what a real model and optimizer may do: the optimizer updates
the state dict it is given in place and returns it (or returns a new one), losses come back as
floats, NumPy scalars and 0-d arrays. Every value train reports is recomputed from what was
recorded (the history from the params at the end of each epoch, full-batch params from the
model itself); validation losses can be scripted epoch by epoch, so early stopping is checked
exactly.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from autograder.checks import check
from autograder.checks.compare import CheckFailed, Mistake, as_array, as_number, assert_close, explained, fmt
from autograder.checks.diagnosis import diagnose
from autograder.checks.toolbox import FirstFailure, type_name, unpack, values_first, with_hint

# --- num_iterations ----------------------------------------------------------------------

KNOWN_COUNTS = [
    # (n_samples, batch_size, drop_last, expected)
    (10_000, 100, False, 100),  # the lesson's first example
    (10_000, 32, False, 313),  # the lesson's second: 312 full batches and one of 16
    (10_000, 32, True, 312),
    (1_797, 64, False, 29),
    (5, 5, False, 1),
    (5, 10, False, 1),
    (5, 10, True, 0),
    (64, 1, False, 64),
]


def as_count(value: object, who: str) -> int:
    number = as_number(value, who)
    if number != int(number):
        raise CheckFailed(f"{who} should return a whole number of iterations, not {number!r}.")
    return int(number)


ROUNDED_DOWN = ("that is n_samples // batch_size, which forgets the last, smaller batch. Round up: an "
                "epoch visits every sample.")
ROUNDED_UP = "with drop_last=True the incomplete last batch is dropped: round down."


def count_failure(num_iterations, n: int, b: int, drop_last: bool, got: int, expected: int) -> CheckFailed:
    """The failure of a wrong count, with the rounding it shows: a count that rounds the other way
    here, and also on three separating inputs (13, 14 and 12 samples in batches of 4), where
    rounding down gives 3, 3, 3, rounding up 4, 4, 3 and rounding to the nearest 3, 4, 3."""
    said = f"num_iterations({n}, {b}, drop_last={drop_last}) should be {expected}, got {got}."
    rounded = n // b if not drop_last else -(-n // b)
    hint = None
    if n % b and got == rounded:
        try:
            again = [as_count(num_iterations(m, 4, drop_last=drop_last), "num_iterations")
                     for m in (13, 14, 12)]
        except CheckFailed:
            again = None
        if again == ([4, 4, 3] if drop_last else [3, 3, 3]):
            hint = ROUNDED_UP if drop_last else ROUNDED_DOWN
    return CheckFailed(said + (f"\n  Likely mistake: {hint}" if hint else ""), mistake=hint)


@check("num_iterations", "matches known counts", 0.5)
def num_iterations_known(num_iterations):
    trials = FirstFailure()
    for n, b, drop_last, expected in trials.over(KNOWN_COUNTS):
        with trials:
            got = as_count(num_iterations(n, b, drop_last=drop_last), "num_iterations")
            if got != expected:
                raise count_failure(num_iterations, n, b, drop_last, got, expected)


@check("num_iterations", "matches the reference on random sizes", 1.0, hidden=True)
def num_iterations_matches_reference(num_iterations, reference):
    ref = reference.function("num_iterations")
    rng = np.random.default_rng(1000)
    trials = FirstFailure()
    for _ in trials.over(range(40)):
        with trials:
            n, b = int(rng.integers(1, 5000)), int(rng.integers(1, 600))
            for drop_last in (False, True):
                got = as_count(num_iterations(n, b, drop_last=drop_last), "num_iterations")
                expected = as_count(ref(n, b, drop_last=drop_last), "num_iterations")
                if got != expected:
                    raise count_failure(num_iterations, n, b, drop_last, got, expected)


# --- iterate_minibatches -------------------------------------------------------------------


def numbered_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """X whose row i is [i, 10 i, -i] and y = i: every sample recognisable, pairs checkable."""
    index = np.arange(n)
    return np.stack([index, 10 * index, -index], axis=1).astype(np.float64), index.copy()


def epoch_batches(iterate_minibatches, X, y, batch_size, **kwargs) -> list[tuple[np.ndarray, np.ndarray]]:
    """Run one epoch of the student's generator and return its batches, validated.

    Iterates inside the student-code guard (errors surface while iterating) and stops
    after more batches than any epoch can have, so an endless generator is caught.
    """
    setting = ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k != "rng")
    extra = f", {setting}" if setting else ""
    what = f"iterate_minibatches(X of shape {X.shape}, y, batch_size={batch_size}{extra})"
    limit = len(y) + 2
    batches = iterate_minibatches.collect(limit, X, y, batch_size, **kwargs)
    if len(batches) == limit:
        raise CheckFailed(
            f"{what} yields more than {limit - 1} batches for {len(y)} samples: one epoch "
            "should end after every sample has been visited once."
        )
    changed = [name for i, name in enumerate(("X", "y")) if i in iterate_minibatches.modified_positions]
    if changed:
        raise CheckFailed(
            f"{what} modified {' and '.join(changed)} in place (rng.shuffle(X), say). "
            "Shuffle an array of indices instead and index X and y with it."
        )
    result = []
    for batch in batches:
        X_batch, y_batch = unpack(batch, "iterate_minibatches (each batch)", ("X_batch", "y_batch"))
        X_batch, y_batch = np.asarray(X_batch), np.asarray(y_batch)
        if X_batch.ndim != 2 or X_batch.shape[1] != X.shape[1] or y_batch.shape != (len(X_batch),):
            raise CheckFailed(
                f"{what} yielded a batch with X of shape {X_batch.shape} and y of shape "
                f"{y_batch.shape}; expected (B, {X.shape[1]}) and (B,)."
            )
        result.append((X_batch, y_batch))
    return result


OVERLAPPING = ("the batches overlap, each starting inside the one before: the start of each batch should "
               "move on by batch_size, so that consecutive batches do not share samples.")
WITH_REPLACEMENT = ("samples are drawn with replacement (a sample twice in one batch): an epoch takes a "
                    "permutation of the indices, rng.permutation(n), and cuts it into batches.")


def repeated_samples(batches, n: int, seen: np.ndarray, what: str) -> CheckFailed:
    """The failure of an epoch that visits some samples more than once, with the pattern it shows:
    a sample twice within one batch (drawn with replacement), or batches that are overlapping
    windows of one order (a step shorter than batch_size)."""
    counts = np.bincount(seen[seen >= 0].astype(int), minlength=n)
    twice, never = np.flatnonzero(counts > 1), np.flatnonzero(counts == 0)
    said = f"{what}: samples {some(twice)} appear more than once in the same epoch"
    said += f", and samples {some(never)} never." if len(never) else "."
    samples = [y.tolist() for _, y in batches]
    inside = any(len(set(batch)) < len(batch) for batch in samples)
    overlapping = len(samples) > 1 and all(map(overlaps, samples, samples[1:]))
    hint = {(True, False): WITH_REPLACEMENT, (False, True): OVERLAPPING}.get((inside, overlapping))
    return CheckFailed(said + (f"\n  Likely mistake: {hint}" if hint else ""), mistake=hint)


def some(indices: np.ndarray, most: int = 8) -> str:
    return str(indices[:most].tolist()) + (" ..." if len(indices) > most else "")


def overlaps(a: list, b: list) -> bool:
    """Whether batch ``b`` starts inside batch ``a`` and goes on as ``a`` does (two overlapping
    windows of one order)."""
    if not a or not b or b[0] not in a:
        return False
    start = a.index(b[0])
    return a[start:] == b[: len(a) - start]


def assert_one_epoch(batches, n: int, batch_size: int, drop_last: bool, what: str) -> None:
    """Sizes, coverage (each sample once) and X/y alignment of one epoch's batches."""
    sizes = [len(y) for _, y in batches]
    full, rest = divmod(n, batch_size)
    expected = [batch_size] * full + ([rest] if rest and not drop_last else [])
    seen = np.concatenate([y for _, y in batches]) if batches else np.array([], dtype=int)
    for X_batch, y_batch in batches:
        if not np.array_equal(X_batch[:, 0], y_batch):
            raise CheckFailed(
                f"{what}: a batch pairs X rows with the wrong labels (row {int(X_batch[0, 0])} "
                f"came with label {int(y_batch[0])}). Shuffle X and y with the *same* "
                "permutation of indices, not separately."
            )
    if len(set(seen.tolist())) < len(seen):
        raise repeated_samples(batches, n, seen, what)
    if sizes != expected:
        hint = ""
        if not drop_last and rest and sizes == [batch_size] * full:
            hint = " The last, smaller batch is missing: keep it unless drop_last=True."
        elif drop_last and sizes == [batch_size] * full + [rest]:
            hint = " With drop_last=True the incomplete last batch must be dropped."
        raise CheckFailed(f"{what}: expected batch sizes {expected}, got {sizes}.{hint}")
    if not drop_last and sorted(seen.tolist()) != list(range(n)):
        raise CheckFailed(f"{what}: one epoch should visit each of the {n} samples exactly once.")


@check("iterate_minibatches", "one epoch visits every sample once; the last batch is smaller", 1.0)
def iterate_minibatches_epoch(iterate_minibatches):
    trials = FirstFailure()
    for n, b in trials.over([(10, 3), (12, 4), (7, 10), (1, 1), (5, 1)]):
        with trials:
            X, y = numbered_data(n)
            batches = epoch_batches(iterate_minibatches, X, y, b, shuffle=True, rng=np.random.default_rng(2))
            assert_one_epoch(batches, n, b, False, f"iterate_minibatches with {n} samples, batch_size={b}")


@check("iterate_minibatches", "drop_last drops only the incomplete batch", 0.5)
def iterate_minibatches_drop_last(iterate_minibatches):
    trials = FirstFailure()
    for n, b in trials.over([(10, 3), (12, 4), (7, 10)]):
        with trials:
            X, y = numbered_data(n)
            batches = epoch_batches(
                iterate_minibatches, X, y, b, shuffle=True, rng=np.random.default_rng(3), drop_last=True
            )
            assert_one_epoch(
                batches, n, b, True, f"iterate_minibatches with {n} samples, batch_size={b}, drop_last=True"
            )


RNG_NONE = ("rng is None in this run. With rng=None (its default), make a generator of your own: "
            "rng = np.random.default_rng() if rng is None else rng.")
GENERATOR_METHODS = {name for name in dir(np.random.Generator) if not name.startswith("_")}


def none_attribute(failure: CheckFailed) -> str | None:
    """The attribute student code asked of None (``'NoneType' object has no attribute 'x'``), if any."""
    found = re.search(r"'NoneType' object has no attribute '(\w+)'", str(failure))
    return found.group(1) if found else None


GLOBAL_GENERATOR = (
    "The order must come from the rng you are given: rng.permutation(n). np.random.shuffle and "
    "np.random.permutation use NumPy's global generator, and np.random.default_rng() without a seed "
    "a new one every time, so no seed can reproduce your batches."
)


def epoch_orders(iterate_minibatches, n: int, batch_size: int, epochs: int, **kwargs) -> list[np.ndarray]:
    """The order of the samples in each of ``epochs`` epochs, each epoch checked as one epoch."""
    X, y = numbered_data(n)
    what = f"iterate_minibatches with {n} samples, batch_size={batch_size}"
    orders = []
    for _ in range(epochs):
        batches = epoch_batches(iterate_minibatches, X, y, batch_size, **kwargs)
        assert_one_epoch(batches, n, batch_size, False, what + ", " + ", ".join(
            f"{k}={v!r}" for k, v in kwargs.items() if k != "rng"))
        orders.append(np.concatenate([yb for _, yb in batches]))
    return orders


@check("iterate_minibatches", "shuffles: a new order every epoch, drawn from the rng it is given", 1.0)
def iterate_minibatches_shuffles(iterate_minibatches):
    n = 40
    rng = np.random.default_rng(4)
    state = copy.deepcopy(rng.bit_generator.state)
    orders = epoch_orders(iterate_minibatches, n, 8, 3, shuffle=True, rng=rng)
    used = rng.bit_generator.state != state  # the caller's rng advances when the function draws from it
    if all(np.array_equal(order, np.arange(n)) for order in orders):
        raise CheckFailed(
            "iterate_minibatches(..., shuffle=True) kept the samples in their original order. "
            "Draw a permutation of the indices with the rng (rng.permutation(n))."
        )
    if np.array_equal(orders[0], orders[1]) and np.array_equal(orders[1], orders[2]):
        raise CheckFailed(
            "iterate_minibatches gave the same order in three epochs that share one rng: draw the order from "
            "that rng in every epoch (a generator made inside with a fixed seed, or an order computed once "
            "and kept, repeats it)."
        )
    again = epoch_orders(iterate_minibatches, n, 8, 3, shuffle=True, rng=np.random.default_rng(4))
    if not all(np.array_equal(a, b) for a, b in zip(orders, again, strict=True)):
        raise CheckFailed(
            "iterate_minibatches gave different orders for two generators with the same seed (4): "
            + ("it never drew from the rng it was given. " if not used else "") + GLOBAL_GENERATOR
        )
    other = epoch_orders(iterate_minibatches, n, 8, 1, shuffle=True, rng=np.random.default_rng(5))
    if np.array_equal(other[0], orders[0]):
        raise CheckFailed(
            "iterate_minibatches gave the same order for generators with different seeds (4 and 5): the "
            "order does not come from the rng you are given. Draw it with rng.permutation(n), not with a "
            "generator of your own."
        )
    if not used:
        raise CheckFailed(
            "iterate_minibatches shuffles without drawing from the rng it is given. " + GLOBAL_GENERATOR
        )
    try:
        epoch_orders(iterate_minibatches, 9, 4, 1, shuffle=True)
    except CheckFailed as failure:
        if failure.kind is None and none_attribute(failure) in GENERATOR_METHODS:
            raise with_hint(failure, RNG_NONE) from None
        raise CheckFailed(f"{failure}\n  (This call left rng at its default, None.)", kind=failure.kind,
                          mistake=failure.mistake) from None
    in_order = epoch_orders(iterate_minibatches, 12, 5, 1, shuffle=False, rng=np.random.default_rng(6))[0]
    if not np.array_equal(in_order, np.arange(12)):
        raise CheckFailed("iterate_minibatches(..., shuffle=False) should keep the samples in order "
                          f"(0, 1, ..., 11), but the epoch visited them as {in_order.tolist()}.")


@check("iterate_minibatches", "works on random sizes, with and without drop_last", 1.5, hidden=True)
def iterate_minibatches_random_sizes(iterate_minibatches):
    rng = np.random.default_rng(1100)
    trials = FirstFailure()
    for _ in trials.over(range(25)):
        with trials:
            n, b = int(rng.integers(1, 300)), int(rng.integers(1, 70))
            drop_last = bool(rng.integers(0, 2))
            X, y = numbered_data(n)
            batches = epoch_batches(
                iterate_minibatches, X, y, b, shuffle=True, rng=np.random.default_rng(int(n)),
                drop_last=drop_last)
            assert_one_epoch(
                batches,
                n,
                b,
                drop_last,
                f"iterate_minibatches with {n} samples, batch_size={b}, drop_last={drop_last}",
            )


# --- accuracy ---------------------------------------------------------------------------


def accuracy_mistakes(logits: np.ndarray, labels: np.ndarray) -> list[Mistake]:
    predicted = np.argmax(logits, axis=1)
    return [
        Mistake(
            "this is the argmax over axis 0 (the batch): the predicted class is the argmax of "
            "each row, over axis 1.",
            lambda: np.mean(np.argmax(logits, axis=0) == labels),
        ),
        Mistake("this compares with np.argmax(labels), one number: labels are already class indices, "
                "(N,) integers, not one-hot rows; compare the predictions with labels themselves.",
                lambda: np.mean(predicted == np.argmax(labels))),
        Mistake("this compares with the argmax of the whole array of logits, one number: take the argmax of "
                "each row, np.argmax(logits, axis=1).", lambda: np.mean(np.argmax(logits) == labels)),
        Mistake("this is the number of right predictions: accuracy is their fraction, the mean.",
                lambda: float(np.sum(predicted == labels))),
        Mistake("this is the fraction of *wrong* predictions: accuracy counts the right ones.",
                lambda: np.mean(predicted != labels)),
    ]


PERCENTAGE = "this is a percentage: return the fraction of correct predictions, in [0, 1]."
AXIS_OF_LABELS = ("an operation along axis 1 met a one-dimensional array: labels are class indices of shape "
                  "(N,), not one-hot rows, so use them as they are (only logits has an axis 1).")


def accuracy_of(accuracy, logits: np.ndarray, labels: np.ndarray) -> float:
    """accuracy(logits, labels) as a number; an axis error on the labels says what labels are."""
    try:
        return as_number(accuracy(logits, labels), "accuracy")
    except CheckFailed as failure:
        if failure.kind is None and "axis 1 is out of bounds for array of dimension 1" in str(failure):
            raise CheckFailed(f"{failure}\n  Seen: {AXIS_OF_LABELS}") from None
        raise


@check("accuracy", "matches known values, logits and labels unchanged", 0.5)
def accuracy_known(accuracy):
    cases = [
        (np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0]]), np.array([0, 2, 2]), 2 / 3),
        (np.array([[0.1, 0.2], [0.3, -1.0], [5.0, 6.0], [0.0, -2.0]]), np.array([1, 0, 1, 1]), 0.75),
    ]
    trials = FirstFailure()
    for logits, labels, expected in trials.over(cases):
        with trials:
            got = accuracy_of(accuracy, logits, labels)
            assert_close(
                got,
                expected,
                who="accuracy",
                case=f"logits={logits.tolist()}, labels={labels.tolist()}",
                factors={100.0: PERCENTAGE},
                mistakes=accuracy_mistakes(logits, labels),
            )
            changed = [name for name in ("logits", "labels") if name in accuracy.modified]
            if changed:
                raise CheckFailed(f"accuracy modified {' and '.join(changed)} in place: compute on new "
                                  "arrays (logits - m, not logits -= m) so the caller's data stays as it "
                                  "was.")


@check("accuracy", "matches the reference on random logits", 1.0, hidden=True)
def accuracy_matches_reference(accuracy, reference):
    ref = reference.function("accuracy")
    trials = FirstFailure()
    for seed, shape in trials.over(enumerate([(50, 10), (7, 7), (1, 3), (200, 2)])):
        with trials:
            rng = np.random.default_rng(1200 + seed)
            logits, labels = rng.normal(size=shape), rng.integers(0, shape[1], size=shape[0])
            got = accuracy_of(accuracy, logits, labels)
            assert_close(
                got,
                ref(logits, labels),
                who="accuracy",
                case=f"logits of shape {shape}, seed {1200 + seed}",
                factors={100.0: PERCENTAGE},
                mistakes=accuracy_mistakes(logits, labels),
            )


# --- train: the checks' own model and optimizer, recording everything ---------------------


def start_params() -> dict[str, np.ndarray]:
    return {"W": np.zeros((3, 2)), "b": np.zeros(2)}


def model_loss_and_grads(params: dict, X: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """The checks' model: logits X W + b, half the squared error to one-hot labels (mean)."""
    residual = X @ params["W"] + params["b"] - np.eye(2)[np.asarray(y, dtype=int)]
    loss = 0.5 * float(np.mean(np.sum(residual**2, axis=1)))
    return loss, {"W": X.T @ residual / len(X), "b": residual.mean(axis=0)}


def model_accuracy(params: dict, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(X @ params["W"] + params["b"], axis=1) == y))


# A real loss_and_grads may return its loss as a float, a NumPy scalar or a 0-d array.
LOSS_TYPES: tuple[Callable[[float], object], ...] = (float, np.float64, np.asarray)


@dataclass
class Batch:
    """One call of loss_and_grads on training data."""

    samples: list[int]  # the rows of X it holds (-1: a row that is not in X)
    loss: float
    params_before: dict[str, np.ndarray]  # the params as the optimizer last returned them
    current: bool  # whether train passed exactly those params
    stepped: bool = False  # whether an optimizer step followed it (if not: an evaluation)


@dataclass
class Recorder:
    """A linear classifier and a plain gradient-step optimizer for ``train``, recording every call.

    Like a real optimizer, this one may update the state dict it is given and return it
    (``in_place``), or return a new dict: train must keep what it returns, and give every
    parameter a dict of its own. Losses come back as floats, NumPy scalars and 0-d arrays in
    turn. ``current`` holds the params as the optimizer last returned them, so the checks can
    tell whether train evaluates and steps the params it should. A call on training data that
    no optimizer step follows is an evaluation (train may report more than it must), not a batch.

    ``loss_and_grads``, ``optimizer`` and ``predict`` are plain functions (closures), so the
    grader's copies of train's arguments still record into this object.
    """

    X: np.ndarray
    in_place: bool = True
    X_val: np.ndarray | None = None
    scripted_val_loss: Callable[[dict], float] | None = None
    start: dict[str, np.ndarray] = field(default_factory=start_params)
    batches: list[Batch] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    optimizer_calls: list[dict] = field(default_factory=list)
    calls: int = 0

    def __post_init__(self):
        self.current = {k: np.array(v, dtype=np.float64) for k, v in self.start.items()}
        self.key_of_shape = {v.shape: k for k, v in self.current.items()}  # the shapes differ
        self.row_of = {row.tobytes(): i for i, row in enumerate(np.asarray(self.X, dtype=np.float64))}
        self.optimizer = lambda w, dw, state, **hyper: self._optimizer(w, dw, state, **hyper)
        self.predict = lambda params, X: self._predict(params, X)
        self.loss_and_grads = lambda params, X, y: self._loss_and_grads(params, X, y)

    def is_current(self, params: object) -> bool:
        return isinstance(params, dict) and params.keys() == self.current.keys() and all(
            np.array_equal(np.asarray(params[k]), v) for k, v in self.current.items())

    def _loss_and_grads(self, params, X, y):
        if not isinstance(X, np.ndarray):
            raise TypeError(f"the grader's loss_and_grads takes X as a NumPy array, not {type_name(X)}")
        loss, grads = model_loss_and_grads(params, X, y)
        if self.X_val is not None and X.shape == self.X_val.shape and np.array_equal(X, self.X_val):
            if self.scripted_val_loss is not None:
                loss = self.scripted_val_loss(params)
            self.val_losses.append(loss)
        else:
            samples = [self.row_of.get(np.asarray(row, dtype=np.float64).tobytes(), -1) for row in X]
            before = {k: v.copy() for k, v in self.current.items()}
            self.batches.append(Batch(samples, loss, before, self.is_current(params)))
        self.calls += 1
        return LOSS_TYPES[self.calls % len(LOSS_TYPES)](loss), grads

    def _optimizer(self, w, dw, state, **hyper):
        if self.batches:
            self.batches[-1].stepped = True
        shape = np.shape(w)
        key = self.key_of_shape.get(shape)
        current = key is not None and np.array_equal(np.asarray(w), self.current[key])
        self.optimizer_calls.append({"shape": shape, "state": dict(state), "hyper": hyper,
                                     "current": current})
        w_next = np.asarray(w, dtype=np.float64) - hyper.get("lr", 0.0) * np.asarray(dw, dtype=np.float64)
        if key is not None:
            self.current[key] = w_next
        record = {"param_shape": shape, "steps": state.get("steps", 0) + 1}
        if not self.in_place:
            return w_next, record
        state.update(record)
        return w_next, state

    def _predict(self, params, X):
        if not isinstance(X, np.ndarray):
            raise TypeError(f"the grader's predict takes X as a NumPy array, not {type_name(X)}: call it "
                            "only when there is validation data")
        return X @ params["W"] + params["b"]

    @property
    def steps(self) -> list[Batch]:
        """The training batches: the calls on training data that an optimizer step followed."""
        return [batch for batch in self.batches if batch.stepped]

    def epochs(self, n: int) -> list[list[Batch]]:
        """The training batches, grouped into epochs of ``n`` samples each (in call order)."""
        groups: list[list[Batch]] = []
        count = n
        for batch in self.steps:
            if count >= n:
                groups.append([])
                count = 0
            groups[-1].append(batch)
            count += len(batch.samples)
        return groups

    def params_after(self, groups: list[list[Batch]], epoch: int) -> dict[str, np.ndarray]:
        """The params at the end of ``epoch`` (1, 2, ...): those the next epoch starts from."""
        return groups[epoch][0].params_before if epoch < len(groups) else self.current


def class_data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two well-separated clusters in 3-D with labels 0 and 1: a linearly separable problem."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    centres = np.array([[-2.0, 1.0, 0.5], [2.0, -1.0, -0.5]])
    return centres[y] + 0.3 * rng.normal(size=(n, 3)), y


LOSS_TYPE_HINT = ("loss_and_grads may return its loss as a float, a NumPy scalar or a 0-d array, as a real "
                  "one may: turn it into a float first, float(loss).")
LOSS_TYPE_ERRORS = ("'float' object has no attribute", "numpy.ndarray doesn't define __round__")


def argument_hint(failure: CheckFailed, kwargs: dict) -> str | None:
    """What an error of train says about an argument of this very run: one left None that it used
    (rng, predict, the validation data), or the type of a loss."""
    text, attribute = str(failure), none_attribute(failure)
    if attribute in GENERATOR_METHODS and kwargs.get("rng") is None:
        return RNG_NONE
    if "'NoneType' object is not callable" in text and kwargs.get("predict") is None:
        return "predict is None in this run: compute val_accuracy only when predict is given."
    no_validation = kwargs.get("X_val") is None
    if no_validation and ("predict takes X as a NumPy array, not NoneType" in text
                          or (attribute is not None and attribute in dir(np.ndarray))):
        return ("there is no validation data in this run: compute val_loss and val_accuracy only when X_val "
                "is given.")
    if any(error in text for error in LOSS_TYPE_ERRORS):
        return LOSS_TYPE_HINT
    return None


def call_train(train, *args, **kwargs) -> object:
    """The student's train(*args, **kwargs), with a hint when it trips over an argument of this run
    (see `argument_hint`)."""
    try:
        return train(*args, **kwargs)
    except CheckFailed as failure:
        hint = argument_hint(failure, kwargs) if failure.kind is None else None
        if hint:
            raise CheckFailed(f"{failure}\n  Likely mistake: {hint}", mistake=hint) from None
        raise


def run_train(train, recorder: Recorder, X, y, **kwargs):
    """Call the student's train with the recorder's model and optimizer; (params, history)."""
    params = {k: v.copy() for k, v in recorder.start.items()}
    result = call_train(train, params, recorder.loss_and_grads, X, y, optimizer=recorder.optimizer, **kwargs)
    params, history = unpack(result, "train", ("params", "history"))
    if not isinstance(params, dict) or set(params) != set(recorder.start):
        raise CheckFailed(
            f"train should return params as a dict with the keys of the params passed in "
            f"(here W and b), got {type_name(params)}"
            + (f" with keys {sorted(map(str, params))}" if isinstance(params, dict) else "")
            + "."
        )
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise CheckFailed("train should return history as a list with one dict per epoch.")
    return params, history


def history_value(history: list[dict], epoch: int, key: str) -> float:
    record = history[epoch - 1]
    if key not in record:
        raise CheckFailed(
            f"train's history entry for epoch {epoch} has no {key!r} (it has {sorted(map(str, record))})."
        )
    return as_number(record[key], f"history[{epoch - 1}][{key!r}]")


def returned_params(params: dict, expected: dict, case: str, start: dict | None = None,
                    latest: dict | None = None) -> None:
    """Fail unless train returned ``expected`` (every element). With ``start`` and ``latest`` (the
    params passed in, and those the optimizer returned last), returning the params passed in although
    the optimizer stepped them elsewhere is named as such."""
    for key, value in expected.items():
        got = as_array(params[key], f"train (params[{key!r}])", value.shape)
        untrained = start is not None and latest is not None and np.array_equal(got, start[key]) \
            and not np.allclose(latest[key], start[key])
        if untrained and not np.allclose(value, start[key]):
            raise CheckFailed(
                f"train returned params[{key!r}] exactly as it was passed in, after {case}. Return the "
                "trained params: the arrays the optimizer returned, step after step.",
                mistake="train returns the params passed in, untrained.",
            )
        assert_close(got, value, who=f"train (params[{key!r}])", case=case, rtol=1e-9)


def assert_steps_current_params(recorder: Recorder) -> None:
    """Every batch's loss and every optimizer step used the params as last updated."""
    for number, batch in enumerate(recorder.steps, start=1):
        if not batch.current:
            raise CheckFailed(
                f"train called loss_and_grads for batch {number} with params other than those the "
                "optimizer had just returned. Keep what it returns, params[k], states[k] = optimizer("
                "params[k], grads[k], states[k], **hyper), and compute the next batch's gradients at "
                "those params."
            )
    for number, call in enumerate(recorder.optimizer_calls, start=1):
        if not call["current"]:
            raise CheckFailed(
                f"optimizer call {number} got a w that is not the parameter's current value (what the "
                "optimizer returned for it last time). Step the current params and keep the result."
            )


@check("train", "steps every parameter with the optimizer, one state each, and hyper", 1.5)
def train_optimizer_states(train):
    # A real optimizer may return a new state dict, or update the one it is given in place and
    # return it: train must work with both.
    X, y = class_data(1300, 10)
    for in_place in (False, True):
        recorder = Recorder(X, in_place=in_place)
        hyper = {"lr": 0.1, "momentum": 0.5}
        run_train(train, recorder, X, y, hyper=hyper, epochs=2, batch_size=4, rng=np.random.default_rng(0))
        assert_optimizer_calls(recorder, hyper)
        assert_steps_current_params(recorder)


def assert_optimizer_calls(recorder: Recorder, hyper: dict) -> None:
    calls = recorder.optimizer_calls
    if len(calls) != 2 * 3 * 2:
        hint = " Is the last, smaller batch dropped?" if len(calls) == 2 * 2 * 2 else ""
        raise CheckFailed(
            f"train with 2 parameters, 10 samples, batch_size=4 and 2 epochs should call the optimizer "
            f"12 times (once per parameter per batch: 3 batches an epoch), got {len(calls)}.{hint}"
        )
    assert_hyper(recorder, hyper)
    how = ("This optimizer updates the state dict it is given and returns it, as a real one may"
           if recorder.in_place else
           "This optimizer returns a new state dict on every call, as a real one may")
    steps: dict[tuple, int] = {}
    for call in calls:
        shape, state = call["shape"], call["state"]
        done = steps.get(shape, 0)
        if state.get("param_shape", shape) != shape:
            shared = "" if not recorder.in_place else (
                ": if your parameters share one dict (dict.fromkeys(params, {}) or [{}] * n), each sees the "
                "others' updates. Create a new {} for each parameter")
            raise CheckFailed(
                "train passed the state of one parameter to the optimizer of another: each parameter needs "
                f"its own state dict, for example a dict of states keyed like params. {how}{shared}."
            )
        if state.get("steps", 0) != done:
            kept = "" if recorder.in_place else (
                ": keep what it returns, params[k], states[k] = optimizer(params[k], grads[k], states[k], "
                "**hyper)")
            raise CheckFailed(
                f"train gave the optimizer a state that has seen {state.get('steps', 0)} steps at step "
                f"{done + 1} of a parameter of shape {shape}. Create one state per parameter once, before "
                f"the loop, and pass each call what the previous call returned. {how}{kept}."
            )
        steps[shape] = done + 1


def assert_epochs(recorder: Recorder, n: int, epochs: int, case: str) -> list[list[Batch]]:
    """The training batches, one group per epoch, each visiting every sample exactly once."""
    groups = recorder.epochs(n)
    if len(groups) != epochs:
        raise CheckFailed(f"train ({case}) should go through the {n} training samples {epochs} times, once "
                          f"per epoch, but its batches hold {sum(len(b.samples) for b in recorder.steps)} "
                          "samples in all.")
    for epoch, group in enumerate(groups, start=1):
        seen = sorted(s for batch in group for s in batch.samples)
        if seen != list(range(n)):
            raise CheckFailed(
                f"train ({case}): epoch {epoch} should visit each of the {n} training samples exactly once, "
                f"but its batches hold samples {seen} (-1: a row that is not one of X's). Take the batches "
                "from iterate_minibatches(X, y, batch_size, rng=rng)."
            )
    return groups


def assert_history(recorder: Recorder, history: list[dict], n: int, epochs: int, case: str,
                   y: np.ndarray, y_val: np.ndarray | None, with_accuracy: bool) -> None:
    """Every history entry is what the recorded batches and the params at each epoch's end give
    (the training labels ``y`` let known mistakes be recognised: a value computed on them)."""
    if len(history) != epochs:
        raise CheckFailed(f"train(..., epochs={epochs}) should return {epochs} history entries ({case}), "
                          f"got {len(history)}.")
    groups = assert_epochs(recorder, n, epochs, case)
    for epoch, group in enumerate(groups, start=1):
        if history[epoch - 1].get("epoch") != epoch:
            got = history[epoch - 1].get("epoch")
            raise CheckFailed(f"history entry {epoch - 1} should have 'epoch': {epoch}, got {got!r}.")
        sizes = [len(b.samples) for b in group]
        losses = [b.loss for b in group]
        weighted = sum(size * loss for size, loss in zip(sizes, losses, strict=True)) / n
        after, before = recorder.params_after(groups, epoch), group[0].params_before
        what = f"the mean loss over the epoch's samples (batches of {', '.join(map(str, sizes))})"
        assert_entry(history, epoch, "train_loss", weighted, case, what, [
            fixed("that is the last batch's loss: report the mean over the whole epoch.", losses[-1]),
            fixed(f"that is the plain mean of the batch losses; the last batch holds only {sizes[-1]} of the "
                  f"{n} samples, so weight each batch's loss by its size.", float(np.mean(losses))),
            fixed("that is the sum of the batch losses: weight each by its size and divide by the number of "
                  "samples.", sum(losses)),
            fixed("that is the sum of the batch losses weighted by their sizes: divide it by the number of "
                  "samples.", weighted * n),
        ])
        if recorder.X_val is None:
            continue
        what = "loss_and_grads(params, X_val, y_val)[0] with the params at the end of the epoch"
        right = model_loss_and_grads(after, recorder.X_val, y_val)[0]
        assert_entry(history, epoch, "val_loss", right, case, what, [
                         fixed("that is the loss before the epoch's updates: compute it after the epoch's "
                               "last step.", model_loss_and_grads(before, recorder.X_val, y_val)[0]),
                         fixed("that is the loss on the training data: compute val_loss on X_val and y_val.",
                               model_loss_and_grads(after, recorder.X, y)[0]),
                     ])
        if with_accuracy:
            what = "accuracy(predict(params, X_val), y_val) with the params at the end of the epoch"
            assert_entry(history, epoch, "val_accuracy", model_accuracy(after, recorder.X_val, y_val), case,
                         what, [
                             fixed("that is the accuracy on the training data: compute val_accuracy on X_val "
                                   "and y_val.", model_accuracy(after, recorder.X, y)),
                             fixed("that is the accuracy before the epoch's updates: compute it after the "
                                   "epoch's last step.", model_accuracy(before, recorder.X_val, y_val)),
                         ])


def fixed(hint: str, value: float) -> Mistake:
    """A known mistake whose value is already computed."""
    return Mistake(hint, lambda: value)


def assert_entry(history: list[dict], epoch: int, key: str, expected: float, case: str, what: str,
                 mistakes: list[Mistake]) -> None:
    """Fail unless history[epoch - 1][key] is ``expected``, naming a known mistake it proves."""
    got = history_value(history, epoch, key)
    if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
        return
    finding = diagnose(got, expected, mistakes, rtol=1e-9, atol=1e-12)
    said = f"epoch {epoch} ({case}): {key} should be {what}, {fmt(expected)}, got {fmt(got)}."
    raise CheckFailed("\n".join([said, *explained(finding)]), mistake=finding.named)


@check("train", "history: epoch, sample-weighted train_loss, val_loss and val_accuracy after each epoch", 1.5)
def train_history(train):
    # Three runs: validation data and predict; validation data alone, with a last batch of one;
    # a single epoch with predict but no validation data (nothing to predict on).
    runs = [(10, 4, 3, True, True), (7, 3, 2, True, False), (5, 2, 1, False, True)]
    for number, (n, batch_size, epochs, validate, with_predict) in enumerate(runs):
        X, y = class_data(1310 + number, n)
        X_val, y_val = class_data(1315 + number, 6) if validate else (None, None)
        if validate:  # a third of the labels flipped: accuracy on these is not accuracy on X
            y_val = np.where(np.arange(6) % 3 == 0, 1 - y_val, y_val)
        recorder = Recorder(X, in_place=number % 2 == 1, X_val=X_val)
        _, history = run_train(
            train, recorder, X, y, hyper={"lr": 0.05}, epochs=epochs, batch_size=batch_size,
            rng=np.random.default_rng(number), X_val=X_val, y_val=y_val,
            **({"predict": recorder.predict} if with_predict else {}),
        )
        case = (f"{n} samples, batch_size={batch_size}, {epochs} epoch{'s' if epochs > 1 else ''}, "
                + ("X_val and predict given" if validate and with_predict else
                   "X_val given, predict not" if validate else "predict given, X_val not"))
        assert_history(recorder, history, n, epochs, case, y, y_val, validate and with_predict)


@check("train", "never modifies the params (or the data) passed in", 1.0, property=True)
def train_params_unchanged(train):
    # Full-batch training follows one path whatever the order of the samples, so the check knows
    # the params train must return; leaving the params alone counts only for a train that trains.
    X, y = class_data(1320, 8)
    recorder = Recorder(X, in_place=False, start={"W": np.ones((3, 2)), "b": np.zeros(2)})
    with values_first(UNCHANGED):
        params, _ = run_train(train, recorder, X, y, hyper={"lr": 0.1}, epochs=3, batch_size=10,
                              rng=np.random.default_rng(2))
    if "params" in train.modified:
        raise CheckFailed(
            "train modified the params passed in (the dict or its arrays). Work on a copy: "
            "params = {k: v.copy() for k, v in params.items()}, and let the optimizer return new arrays."
        )
    data = [name for name in ("X", "y") if name in train.modified]
    if data:
        raise CheckFailed(
            f"train modified {' and '.join(data)} in place (shuffling them, say). Shuffle an array of "
            "indices instead, or let iterate_minibatches do it: the caller's data stays as it was."
        )
    expected = {k: v.copy() for k, v in recorder.start.items()}
    for _ in range(3):
        _, grads = model_loss_and_grads(expected, X, y)
        expected = {k: v - 0.1 * grads[k] for k, v in expected.items()}
    with values_first(UNCHANGED):
        assert_hyper(recorder, {"lr": 0.1})
        returned_params(params, expected, start=recorder.start, latest=recorder.current,
                        case="3 epochs of full-batch training (8 samples, batch_size=10, lr=0.1)")


UNCHANGED = "Leaving the params passed in unchanged"


def assert_hyper(recorder: Recorder, hyper: dict) -> None:
    """Every optimizer call got the keyword arguments in ``hyper``."""
    wrong = [call["hyper"] for call in recorder.optimizer_calls if call["hyper"] != hyper]
    if wrong:
        raise CheckFailed(
            f"train should call the optimizer with the keyword arguments in hyper {hyper}, but it "
            f"passed {wrong[0]}. Call optimizer(w, dw, state, **hyper)."
        )


def scripted(sequence: list[float]) -> Callable[[dict], float]:
    """A validation loss that follows ``sequence`` epoch by epoch (the model's b[0] counts epochs)."""
    return lambda params: sequence[min(int(round(params["b"][0])), len(sequence)) - 1]


def early_stopping(sequence: list[float], patience: int, *, ties_improve: bool = False,
                   extra: int = 0) -> tuple[int, int]:
    """(epochs run, epoch of the best params) of early stopping on ``sequence``; with a known
    mistake: an equal loss counted as an improvement, or ``extra`` epochs more patience."""
    best, best_epoch, waited = math.inf, 0, 0
    for epoch, loss in enumerate(sequence, start=1):
        if loss < best or (ties_improve and loss == best):
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited == patience + extra:
                return epoch, best_epoch
    return len(sequence), best_epoch


STOPPING_CASES = [
    # (validation losses, one per epoch; patience): 10 epochs with a tie, 3 epochs with patience
    # larger than that (it never stops; the best epoch is not the last), a single epoch
    ([5.0, 4.0, 3.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0, 0.5], 2),
    ([5.0, 4.0, 3.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0, 0.5], 3),
    ([5.0, 4.0, 3.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0, 0.5], 5),
    ([5.0, 3.0, 4.0], 5),
    ([2.0], 1),
]


@check("train", "stops after exactly patience epochs without improvement; returns the best params", 1.5)
def train_early_stopping(train):
    # The gradient of b[0] is -1/N per sample, so with lr=1 each epoch adds exactly 1 to b[0].
    X_val = np.full((2, 3), -7.0)
    X, y = class_data(1330, 8)
    for sequence, patience in STOPPING_CASES:
        recorder = Recorder(X, in_place=patience % 2 == 0, X_val=X_val, scripted_val_loss=scripted(sequence))

        def counting_loss(params, X, y, recorder=recorder):
            loss, _ = recorder.loss_and_grads(params, X, y)
            return loss, {"W": np.zeros((3, 2)), "b": np.array([-len(X) / 8, 0.0])}

        result = call_train(train, start_params(), counting_loss, X, y, optimizer=recorder.optimizer,
                            hyper={"lr": 1.0}, epochs=len(sequence), batch_size=4,
                            rng=np.random.default_rng(3), predict=recorder.predict, X_val=X_val,
                            y_val=np.zeros(2, dtype=int), patience=patience)
        params, history = unpack(result, "train", ("params", "history"))
        stop, best = early_stopping(sequence, patience)
        losses = ", ".join(f"{v:g}" for v in sequence)
        setting = (f"with validation losses {losses} (epoch 1, 2, ...), epochs={len(sequence)} and "
                   f"patience={patience}")
        epoch_of_params = int(round(float(as_array(params["b"], "train (params['b'])", (2,))[0])))
        got = (len(history), epoch_of_params)
        if got == early_stopping(sequence, patience, ties_improve=True) != (stop, best):
            raise CheckFailed(
                f"{setting}, train should stop after epoch {stop} and return the params of epoch {best}, but "
                f"it ran {got[0]} epochs and returned those of epoch {got[1]}. Likely mistake: an equal "
                "validation loss is not an improvement: count it as an epoch without improvement "
                "(loss < best, not <=).",
                mistake="an equal validation loss counted as an improvement.",
            )
        if len(history) != stop:
            hint = None
            if len(history) in (early_stopping(sequence, patience, extra=1)[0],
                                early_stopping(sequence, patience, extra=-1)[0]):
                hint = ("patience is off by one: stop when the count of epochs without improvement "
                        "reaches patience.")
            said = (f"{setting}, train should stop after epoch {stop} ({patience} epochs without improvement "
                    f"after the best, epoch {best}), but it ran {len(history)} epochs."
                    if stop < len(sequence) else
                    f"{setting}, train should run all {stop} epochs (patience is never used up), but it ran "
                    f"{len(history)}.")
            raise CheckFailed(said + (f"\n  Likely mistake: {hint}" if hint else ""), mistake=hint)
        for epoch, loss in enumerate(sequence[: len(history)], start=1):
            reported = history_value(history, epoch, "val_loss")
            if not math.isclose(reported, loss, rel_tol=1e-9):
                raise CheckFailed(
                    f"{setting}, history's val_loss of epoch {epoch} should be that epoch's validation loss, "
                    f"{loss:g}, got {fmt(reported)}."
                )
        if epoch_of_params != best:
            hint = ""
            if epoch_of_params == stop and stop == len(sequence):
                hint = (" Those are the last params: training never stopped early here, but with patience "
                        "train returns the best params all the same.")
            elif epoch_of_params == stop:
                hint = (" Those are the last params: keep a copy of the params whenever the validation loss "
                        "improves, and return that copy.")
            raise CheckFailed(
                f"{setting}, train should return the params of epoch {best} (the lowest validation loss), "
                f"but returned those of epoch {epoch_of_params}.{hint}"
            )


def visit_orders(train, X, y, seed: int | None) -> list[list[int]]:
    """The order in which train visits the samples in each of 2 epochs, with rng seeded ``seed``."""
    recorder = Recorder(X, in_place=False)
    run_train(train, recorder, X, y, hyper={"lr": 0.05}, epochs=2, batch_size=4,
              rng=np.random.default_rng(seed))
    groups = assert_epochs(recorder, len(y), 2, "12 samples, batch_size=4, 2 epochs")
    return [[s for batch in group for s in batch.samples] for group in groups]


@check("train", "shuffles every epoch with rng (a new generator if None); converges", 0.5)
def train_converges(train):
    X, y = class_data(1340, 12)
    first, again, other = (visit_orders(train, X, y, seed) for seed in (7, 7, 8))
    if first[0] == first[1]:
        natural = first[0] == list(range(len(y)))
        raise CheckFailed(
            "train visited the samples in the same order in both epochs"
            + (" (their order in X)" if natural else "") + ": shuffle them every epoch with the rng passed "
            "to train, for example iterate_minibatches(X, y, batch_size, shuffle=True, rng=rng)."
        )
    if first != again:
        raise CheckFailed(
            "two runs of train with generators of the same seed visited the samples in different orders: "
            "shuffle with the rng passed to train (pass it on to iterate_minibatches), not with NumPy's "
            "global generator or a new generator without a seed."
        )
    if first == other:
        raise CheckFailed(
            "two runs of train with generators of different seeds visited the samples in the same order: "
            "shuffle with the rng passed to train, not with a generator of your own."
        )
    X, y = class_data(1341, 40)
    recorder = Recorder(X, in_place=True)
    params, _ = run_train(train, recorder, X, y, hyper={"lr": 0.05}, epochs=8, batch_size=8)
    correct = float(np.mean(np.argmax(X @ params["W"] + params["b"], axis=1) == y))
    if correct < 1.0:
        raise CheckFailed(
            f"train with plain gradient steps (lr=0.05, batch_size=8, 8 epochs, rng left at None) should "
            f"separate two well-separated clusters perfectly, but only {correct:.0%} of the training points "
            "end up on the right side."
        )


@check("train", "full-batch training matches the reference (history and params)", 1.0, hidden=True)
def train_matches_reference(train, reference):
    ref = reference.function("train")
    X, y = class_data(1350, 12)
    X_val, y_val = class_data(1351, 5)
    for epochs, patience, in_place in [(6, None, True), (15, 2, False)]:
        mine, theirs = (Recorder(X, in_place=in_place, X_val=X_val) for _ in range(2))
        kwargs = dict(
            hyper={"lr": 0.3}, epochs=epochs, batch_size=len(y), X_val=X_val, y_val=y_val, patience=patience
        )
        params, history = run_train(
            train, mine, X, y, rng=np.random.default_rng(5), predict=mine.predict, **kwargs
        )
        ref_params, ref_history = ref(
            start_params(),
            theirs.loss_and_grads,
            X,
            y,
            optimizer=theirs.optimizer,
            rng=np.random.default_rng(5),
            predict=theirs.predict,
            **kwargs,
        )
        case = f"full-batch training, {epochs} epochs, patience={patience}"
        if len(history) != len(ref_history):
            raise CheckFailed(f"train ran {len(history)} epochs for {case}; expected {len(ref_history)}.")
        for epoch, expected in enumerate(ref_history, start=1):
            for key in ("train_loss", "val_loss", "val_accuracy"):
                assert_close(
                    history_value(history, epoch, key),
                    expected[key],
                    who=f"train (history {key!r})",
                    case=f"{case}, epoch {epoch}",
                )
        returned_params(params, {k: np.asarray(v) for k, v in ref_params.items()}, case)


# --- the quiz: answers that a known mistake gives ------------------------------------------
# Quiz answer -> {wrong answer: hint}, for the quiz checks to show when an answer equals one of
# these (compared as the quiz compares answers). A hint says where the reasoning went wrong and
# never states the right answer.
QUIZ_MISTAKES: dict[str, dict[str | float, str]] = {
    "Q1": {
        390: "that counts only the full batches. 50,000 is not a multiple of 128, and the question keeps "
             "the last, incomplete batch: does your count include it?",
        390.625: "an epoch takes a whole number of iterations: what happens to the samples that do not "
                 "fill a whole batch?",
        313: "that is the lesson's example (10,000 samples in batches of 32); this question has 50,000 "
             "samples in batches of 128.",
        312: "that is the lesson's example (10,000 samples in batches of 32); this question has 50,000 "
             "samples in batches of 128.",
    },
    "Q2": {
        "A": "underfitting shows in the training loss too: it would stay high. Here the training loss "
             "keeps falling while the validation loss rises.",
        "C": "too small a learning rate slows the training loss down; it does not make the validation loss "
             "rise while the training loss falls.",
    },
    "Q3": {
        "B": "more epochs give the first layers more tiny steps, but their gradients stay a millionth of the "
             "last layer's. What shrinks them on the way back through each layer?",
        "C": "larger batches make the gradient less noisy, not larger: the factor lost in every sigmoid "
             "layer stays.",
    },
}
