"""Checks for assignment 04: iterations per epoch, mini-batches, accuracy and the training loop.

``train`` is run with the checks' own model and optimizer, which record every call: the
batches it sees, the state each parameter's optimizer receives, the keyword arguments.
Validation losses can be scripted epoch by epoch, so early stopping is checked exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from autograder.checks import check
from autograder.checks.compare import CheckFailed, Mistake, as_array, as_number, assert_close, fmt
from autograder.checks.toolbox import type_name, unpack

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


def count_hint(n: int, b: int, drop_last: bool, got: int) -> str:
    if not drop_last and got == n // b and n % b:
        return (
            " Likely mistake: that is n_samples // batch_size, which forgets the last, smaller "
            "batch. Round up: an epoch visits every sample."
        )
    if drop_last and got == -(-n // b):
        return " Likely mistake: with drop_last=True the incomplete last batch is dropped: round down."
    return ""


@check("num_iterations", "matches known counts", 0.5)
def num_iterations_known(num_iterations):
    for n, b, drop_last, expected in KNOWN_COUNTS:
        got = as_count(num_iterations(n, b, drop_last=drop_last), "num_iterations")
        if got != expected:
            raise CheckFailed(
                f"num_iterations({n}, {b}, drop_last={drop_last}) should be {expected}, got {got}."
                + count_hint(n, b, drop_last, got)
            )


@check("num_iterations", "matches the reference on random sizes", 1.0, hidden=True)
def num_iterations_matches_reference(num_iterations, reference):
    ref = reference.function("num_iterations")
    rng = np.random.default_rng(1000)
    for _ in range(40):
        n, b = int(rng.integers(1, 5000)), int(rng.integers(1, 600))
        for drop_last in (False, True):
            got = as_count(num_iterations(n, b, drop_last=drop_last), "num_iterations")
            expected = as_count(ref(n, b, drop_last=drop_last), "num_iterations")
            if got != expected:
                raise CheckFailed(
                    f"num_iterations({n}, {b}, drop_last={drop_last}) should be {expected}, got {got}."
                    + count_hint(n, b, drop_last, got)
                )


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
        raise CheckFailed(
            f"{what}: some samples appear in more than one batch of the same epoch "
            "(batches overlap). Step through the indices batch_size at a time."
        )
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
    for n, b in [(10, 3), (12, 4), (7, 10), (1, 1)]:
        X, y = numbered_data(n)
        batches = epoch_batches(iterate_minibatches, X, y, b, shuffle=True, rng=np.random.default_rng(2))
        assert_one_epoch(batches, n, b, False, f"iterate_minibatches with {n} samples, batch_size={b}")


@check("iterate_minibatches", "drop_last drops only the incomplete batch", 0.5)
def iterate_minibatches_drop_last(iterate_minibatches):
    for n, b in [(10, 3), (12, 4)]:
        X, y = numbered_data(n)
        batches = epoch_batches(
            iterate_minibatches, X, y, b, shuffle=True, rng=np.random.default_rng(3), drop_last=True
        )
        assert_one_epoch(
            batches, n, b, True, f"iterate_minibatches with {n} samples, batch_size={b}, drop_last=True"
        )


@check("iterate_minibatches", "shuffles, with a new order every epoch from one rng", 1.0)
def iterate_minibatches_shuffles(iterate_minibatches):
    X, y = numbered_data(40)
    rng = np.random.default_rng(4)
    orders = [
        np.concatenate([yb for _, yb in epoch_batches(iterate_minibatches, X, y, 8, shuffle=True, rng=rng)])
        for _ in range(3)
    ]
    if all(np.array_equal(order, y) for order in orders):
        raise CheckFailed(
            "iterate_minibatches(..., shuffle=True) kept the samples in their original order. "
            "Draw a permutation of the indices with the rng (rng.permutation(n))."
        )
    if np.array_equal(orders[0], orders[1]) and np.array_equal(orders[1], orders[2]):
        raise CheckFailed(
            "iterate_minibatches gave the same order in three epochs that share one rng. Use "
            "the rng you are given (don't create a new generator with a fixed seed inside)."
        )
    X, y = numbered_data(12)
    ordered = epoch_batches(iterate_minibatches, X, y, 5, shuffle=False)
    if not np.array_equal(np.concatenate([yb for _, yb in ordered]), y):
        raise CheckFailed("iterate_minibatches(..., shuffle=False) should keep the samples in order.")


@check("iterate_minibatches", "works on random sizes, with and without drop_last", 1.5, hidden=True)
def iterate_minibatches_random_sizes(iterate_minibatches):
    rng = np.random.default_rng(1100)
    for _ in range(25):
        n, b = int(rng.integers(1, 300)), int(rng.integers(1, 70))
        drop_last = bool(rng.integers(0, 2))
        X, y = numbered_data(n)
        batches = epoch_batches(
            iterate_minibatches, X, y, b, shuffle=True, rng=np.random.default_rng(int(n)), drop_last=drop_last
        )
        assert_one_epoch(
            batches,
            n,
            b,
            drop_last,
            f"iterate_minibatches with {n} samples, batch_size={b}, drop_last={drop_last}",
        )


# --- accuracy ---------------------------------------------------------------------------


def accuracy_mistakes(logits: np.ndarray, labels: np.ndarray) -> list[Mistake]:
    return [
        Mistake(
            "this is the argmax over axis 0 (the batch): the predicted class is the argmax of "
            "each row, over axis 1.",
            lambda: np.mean(np.argmax(logits, axis=0) == labels),
        ),
    ]


@check("accuracy", "matches known values", 0.5)
def accuracy_known(accuracy):
    cases = [
        (np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0]]), np.array([0, 2, 2]), 2 / 3),
        (np.array([[0.1, 0.2], [0.3, -1.0], [5.0, 6.0], [0.0, -2.0]]), np.array([1, 0, 1, 1]), 0.75),
    ]
    for logits, labels, expected in cases:
        got = as_number(accuracy(logits, labels), "accuracy")
        assert_close(
            got,
            expected,
            who="accuracy",
            case=f"logits={logits.tolist()}, labels={labels.tolist()}",
            factors={100.0: "this is a percentage: return the fraction of correct predictions, in [0, 1]."},
            mistakes=accuracy_mistakes(logits, labels),
        )


@check("accuracy", "matches the reference on random logits", 1.0, hidden=True)
def accuracy_matches_reference(accuracy, reference):
    ref = reference.function("accuracy")
    for seed, shape in enumerate([(50, 10), (7, 7), (1, 3), (200, 2)]):
        rng = np.random.default_rng(1200 + seed)
        logits, labels = rng.normal(size=shape), rng.integers(0, shape[1], size=shape[0])
        got = as_number(accuracy(logits, labels), "accuracy")
        assert_close(
            got,
            ref(logits, labels),
            who="accuracy",
            case=f"logits of shape {shape}, seed {1200 + seed}",
            factors={100.0: "this is a percentage: return the fraction of correct predictions."},
            mistakes=accuracy_mistakes(logits, labels),
        )


# --- train: the checks' own model and optimizer, recording everything ---------------------


@dataclass
class Recorder:
    """A linear classifier (logits X W + b, squared error to one-hot labels) and a plain
    gradient-step optimizer that record every call ``train`` makes.

    ``loss_and_grads``, ``optimizer`` and ``predict`` are plain functions (closures), so the
    grader's copies of train's arguments still record into this object.
    """

    X_val: np.ndarray | None = None
    scripted_val_loss: Callable[[dict], float] | None = None
    batches: list[tuple[int, float]] = field(default_factory=list)  # (batch size, loss)
    val_losses: list[float] = field(default_factory=list)
    optimizer_calls: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.optimizer = lambda w, dw, state, **hyper: self._optimizer(w, dw, state, **hyper)
        self.predict = lambda params, X: X @ params["W"] + params["b"]
        self.loss_and_grads = lambda params, X, y: self._loss_and_grads(params, X, y)

    def _loss_and_grads(self, params, X, y):
        residual = X @ params["W"] + params["b"] - np.eye(2)[np.asarray(y, dtype=int)]
        loss = 0.5 * float(np.mean(np.sum(residual**2, axis=1)))
        if self.X_val is not None and X.shape == self.X_val.shape and np.array_equal(X, self.X_val):
            if self.scripted_val_loss is not None:
                loss = self.scripted_val_loss(params)
            self.val_losses.append(loss)
        else:
            self.batches.append((len(X), loss))
        return loss, {"W": X.T @ residual / len(X), "b": residual.mean(axis=0)}

    def _optimizer(self, w, dw, state, **hyper):
        self.optimizer_calls.append({"shape": np.shape(w), "state": dict(state), "hyper": hyper})
        return w - hyper.get("lr", 0.0) * dw, {"param_shape": np.shape(w), "steps": state.get("steps", 0) + 1}


def class_data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two well-separated clusters in 3-D with labels 0 and 1: a linearly separable problem."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    centres = np.array([[-2.0, 1.0, 0.5], [2.0, -1.0, -0.5]])
    return centres[y] + 0.3 * rng.normal(size=(n, 3)), y


def start_params() -> dict[str, np.ndarray]:
    return {"W": np.zeros((3, 2)), "b": np.zeros(2)}


def run_train(train, recorder: Recorder, X, y, **kwargs):
    """Call the student's train with the recorder's model and optimizer; (params, history)."""
    result = train(start_params(), recorder.loss_and_grads, X, y, optimizer=recorder.optimizer, **kwargs)
    params, history = unpack(result, "train", ("params", "history"))
    if not isinstance(params, dict) or set(params) != {"W", "b"}:
        raise CheckFailed(
            f"train should return params as a dict with the keys of the params passed in "
            f"(here W and b), got {type_name(params)}"
            + (f" with keys {sorted(params)}" if isinstance(params, dict) else "")
            + "."
        )
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise CheckFailed("train should return history as a list with one dict per epoch.")
    return params, history


def history_value(history: list[dict], epoch: int, key: str) -> float:
    record = history[epoch - 1]
    if key not in record:
        raise CheckFailed(
            f"train's history entry for epoch {epoch} has no {key!r} (it has {sorted(record)})."
        )
    return as_number(record[key], f"history[{epoch - 1}][{key!r}]")


@check("train", "keeps one optimizer state per parameter and passes hyper", 1.5)
def train_optimizer_states(train):
    X, y = class_data(1300, 10)
    recorder = Recorder()
    hyper = {"lr": 0.1, "momentum": 0.5}
    run_train(train, recorder, X, y, hyper=hyper, epochs=2, batch_size=4, rng=np.random.default_rng(0))
    calls = recorder.optimizer_calls
    if len(calls) != 2 * 3 * 2:
        raise CheckFailed(
            f"train with 2 parameters, 10 samples, batch_size=4 and 2 epochs should call the "
            f"optimizer 12 times (once per parameter per batch: 3 batches an epoch), got {len(calls)}."
        )
    if any(call["hyper"] != hyper for call in calls):
        got = next(call["hyper"] for call in calls if call["hyper"] != hyper)
        raise CheckFailed(
            f"train should call the optimizer with the keyword arguments in hyper {hyper}, but it "
            f"passed {got}. Call optimizer(w, dw, state, **hyper)."
        )
    steps: dict[tuple, int] = {}
    for call in calls:
        shape, state = call["shape"], call["state"]
        done = steps.get(shape, 0)
        if state.get("param_shape", shape) != shape:
            raise CheckFailed(
                "train passed the state of one parameter to the optimizer of another: each "
                "parameter needs its own state dict (for example a dict of states keyed like params)."
            )
        if state.get("steps", 0) != done:
            raise CheckFailed(
                f"train gave the optimizer a state that has seen {state.get('steps', 0)} steps at step "
                f"{done + 1} of a parameter of shape {shape}. Create one state per parameter once, before "
                "the loop, and keep "
                "what the optimizer returns for the next call."
            )
        steps[shape] = done + 1


@check("train", "history records epoch, sample-weighted train_loss, val_loss, val_accuracy", 1.5)
def train_history(train):
    X, y = class_data(1310, 10)
    X_val, y_val = class_data(1311, 6)
    recorder = Recorder(X_val=X_val)
    _, history = run_train(
        train,
        recorder,
        X,
        y,
        hyper={"lr": 0.05},
        epochs=3,
        batch_size=4,
        rng=np.random.default_rng(1),
        predict=recorder.predict,
        X_val=X_val,
        y_val=y_val,
    )
    if len(history) != 3:
        raise CheckFailed(f"train(..., epochs=3) should return 3 history entries, got {len(history)}.")
    for epoch in (1, 2, 3):
        if history[epoch - 1].get("epoch") != epoch:
            raise CheckFailed(
                f"history entry {epoch - 1} should have 'epoch': {epoch}, "
                f"got {history[epoch - 1].get('epoch')!r}."
            )
        batches = recorder.batches[3 * (epoch - 1) : 3 * epoch]
        weighted = sum(size * loss for size, loss in batches) / sum(size for size, _ in batches)
        got = history_value(history, epoch, "train_loss")
        if not math.isclose(got, weighted, rel_tol=1e-9, abs_tol=1e-12):
            hint = ""
            if math.isclose(got, batches[-1][1], rel_tol=1e-9):
                hint = " That is the last batch's loss: report the mean over the whole epoch."
            elif math.isclose(got, np.mean([loss for _, loss in batches]), rel_tol=1e-9):
                hint = (
                    " That is the plain mean of the batch losses; the last batch holds only 2 of the 10 "
                    "samples, so weight each batch's loss by its size."
                )
            raise CheckFailed(
                f"epoch {epoch}: train_loss should be the mean loss over the epoch's samples, "
                f"{fmt(weighted)} (batches of 4, 4 and 2), got {fmt(got)}.{hint}"
            )
        if len(recorder.val_losses) < epoch:
            raise CheckFailed(
                "train should compute the validation loss once per epoch with "
                "loss_and_grads(params, X_val, y_val)."
            )
        got = history_value(history, epoch, "val_loss")
        if not math.isclose(got, recorder.val_losses[epoch - 1], rel_tol=1e-9, abs_tol=1e-12):
            raise CheckFailed(
                f"epoch {epoch}: val_loss should be the loss on (X_val, y_val) after the epoch, "
                f"{fmt(recorder.val_losses[epoch - 1])}, got {fmt(got)}."
            )
        history_value(history, epoch, "val_accuracy")


@check("train", "never modifies the params passed in", 1.0)
def train_params_unchanged(train):
    X, y = class_data(1320, 8)
    recorder = Recorder()
    result = train(
        start_params() | {"W": np.ones((3, 2))},
        recorder.loss_and_grads,
        X,
        y,
        optimizer=recorder.optimizer,
        hyper={"lr": 0.1},
        epochs=2,
        batch_size=3,
        rng=np.random.default_rng(2),
    )
    unpack(result, "train", ("params", "history"))  # a property of a working function only
    if "params" in train.modified:
        raise CheckFailed(
            "train modified the params passed in (the dict or its arrays). Work on a copy: "
            "params = {k: v.copy() for k, v in params.items()}, and let the optimizer return new arrays."
        )


def scripted(sequence: list[float]) -> Callable[[dict], float]:
    """A validation loss that follows ``sequence`` epoch by epoch (the model's b[0] counts epochs)."""
    return lambda params: sequence[min(int(round(params["b"][0])), len(sequence)) - 1]


@check("train", "stops after exactly patience epochs without improvement; returns the best params", 1.5)
def train_early_stopping(train):
    # The gradient of b[0] is -1/N per sample, so with lr=1 each epoch adds exactly 1 to b[0].
    sequence = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0, 0.5, 0.25]
    X_val = np.full((2, 3), -7.0)
    for patience, stop, best in [(2, 5, 3), (3, 6, 3), (5, 10, 10)]:
        recorder = Recorder(X_val=X_val, scripted_val_loss=scripted(sequence))

        def counting_loss(params, X, y, recorder=recorder):
            loss, _ = recorder.loss_and_grads(params, X, y)
            return loss, {"W": np.zeros((3, 2)), "b": np.array([-len(X) / 8, 0.0])}

        X, y = class_data(1330, 8)
        result = train(
            start_params(),
            counting_loss,
            X,
            y,
            optimizer=recorder.optimizer,
            hyper={"lr": 1.0},
            epochs=len(sequence),
            batch_size=3,
            rng=np.random.default_rng(3),
            X_val=X_val,
            y_val=np.zeros(2, dtype=int),
            patience=patience,
        )
        params, history = unpack(result, "train", ("params", "history"))
        losses = ", ".join(f"{v:g}" for v in sequence)
        if len(history) != stop:
            hint = ""
            if abs(len(history) - stop) == 1:
                hint = (" Patience is off by one: stop when the count of epochs without improvement "
                        "reaches patience.")
            raise CheckFailed(
                f"with validation losses {losses} (epoch 1, 2, ...) and patience={patience}, train "
                f"should stop after epoch {stop} ({patience} epochs without improvement after the best, "
                f"epoch {best}), but it ran {len(history)} epochs.{hint}"
            )
        epoch_of_params = int(round(float(np.asarray(params["b"])[0])))
        if epoch_of_params != best:
            hint = (
                " Those are the last params: keep a copy of the params whenever the validation loss "
                "improves, "
                "and return that copy."
                if epoch_of_params == stop
                else ""
            )
            raise CheckFailed(
                f"with validation losses {losses} and patience={patience}, train should return the "
                f"params of epoch {best} (the lowest validation loss), but returned those of epoch "
                f"{epoch_of_params}.{hint}"
            )


@check("train", "converges on a small separable problem", 0.5)
def train_converges(train):
    X, y = class_data(1340, 40)
    recorder = Recorder()
    params, _ = run_train(
        train, recorder, X, y, hyper={"lr": 0.05}, epochs=30, batch_size=8, rng=np.random.default_rng(4)
    )
    correct = float(np.mean(np.argmax(recorder.predict(params, X), axis=1) == y))
    if correct < 1.0:
        raise CheckFailed(
            f"train with plain gradient steps (lr=0.05, batch_size=8, 30 epochs) should separate two "
            f"well-separated clusters perfectly, but only {correct:.0%} of the training points end up "
            "on the right side."
        )


@check("train", "full-batch training matches the reference (history and params)", 1.0, hidden=True)
def train_matches_reference(train, reference):
    ref = reference.function("train")
    X, y = class_data(1350, 12)
    X_val, y_val = class_data(1351, 5)
    for epochs, patience in [(6, None), (15, 2)]:
        mine, theirs = Recorder(X_val=X_val), Recorder(X_val=X_val)
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
        for key in ("W", "b"):
            assert_close(
                as_array(params[key], f"train (params[{key!r}])", ref_params[key].shape),
                ref_params[key],
                who=f"train (params[{key!r}])",
                case=case,
            )
