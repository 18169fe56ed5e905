"""Assignment 04: known-wrong training code loses the points of what it breaks, with the mistake
named; correct code written in other styles earns full marks."""

from __future__ import annotations

import pytest
from catalogue import Wrong, assert_full_marks, assert_loses_its_own_points

# A correct train, written differently from the reference, which the wrong variants edit.
TRAIN = """
def train(params, loss_and_grads, X, y, *, optimizer, hyper, epochs, batch_size, rng=None,
          predict=None, X_val=None, y_val=None, patience=None):
    rng = np.random.default_rng() if rng is None else rng
    current = {k: v.copy() for k, v in params.items()}
    states = {k: {} for k in current}
    history, best, best_loss, bad_epochs = [], None, float("inf"), 0
    for epoch in range(1, epochs + 1):
        losses, sizes = [], []
        for xb, yb in iterate_minibatches(X, y, batch_size, rng=rng):
            loss, grads = loss_and_grads(current, xb, yb)
            for k in current:
                current[k], states[k] = optimizer(current[k], grads[k], states[k], **hyper)
            losses.append(loss)
            sizes.append(len(yb))
        entry = {"epoch": epoch, "train_loss": float(np.average(losses, weights=sizes))}
        if X_val is not None:
            entry["val_loss"] = loss_and_grads(current, X_val, y_val)[0]
            if predict is not None:
                entry["val_accuracy"] = accuracy(predict(current, X_val), y_val)
        history.append(entry)
        if patience is not None:
            if entry["val_loss"] < best_loss:
                best_loss, best, bad_epochs = entry["val_loss"], {k: v.copy() for k, v in current.items()}, 0
            else:
                bad_epochs += 1
            if bad_epochs == patience:
                break
    return (best if patience is not None else current), history
"""


def edit(code: str, old: str, new: str) -> str:
    assert old in code, old
    return code.replace(old, new)


WRONG = [
    Wrong("num_iterations", "floor instead of ceiling", """
        def num_iterations(n_samples, batch_size, drop_last=False):
            return n_samples // batch_size
    """, r"forgets the last, smaller\s+batch|Round up"),
    Wrong("num_iterations", "ceiling even with drop_last", """
        import math

        def num_iterations(n_samples, batch_size, drop_last=False):
            return math.ceil(n_samples / batch_size)
    """, r"drop_last=True the incomplete last batch is dropped"),
    Wrong("iterate_minibatches", "always drops the last batch", """
        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            order = (rng or np.random.default_rng()).permutation(len(y)) if shuffle else np.arange(len(y))
            for start in range(0, len(y) - batch_size + 1, batch_size):
                idx = order[start:start + batch_size]
                yield X[idx], y[idx]
    """, r"last, smaller batch is missing"),
    Wrong("iterate_minibatches", "never shuffles", """
        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            end = len(y) - len(y) % batch_size if drop_last else len(y)
            for start in range(0, end, batch_size):
                yield X[start:start + batch_size], y[start:start + batch_size]
    """, r"kept the samples in their original order"),
    Wrong("iterate_minibatches", "the same order every epoch", """
        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            order = np.random.default_rng(0).permutation(len(y)) if shuffle else np.arange(len(y))
            end = len(y) - len(y) % batch_size if drop_last else len(y)
            for start in range(0, end, batch_size):
                idx = order[start:start + batch_size]
                yield X[idx], y[idx]
    """, r"same order in three epochs"),
    Wrong("iterate_minibatches", "X and y shuffled separately", """
        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            rng = rng or np.random.default_rng()
            ix = rng.permutation(len(y)) if shuffle else np.arange(len(y))
            iy = rng.permutation(len(y)) if shuffle else np.arange(len(y))
            end = len(y) - len(y) % batch_size if drop_last else len(y)
            for start in range(0, end, batch_size):
                yield X[ix[start:start + batch_size]], y[iy[start:start + batch_size]]
    """, r"shuffled separately|\*same\* permutation"),
    Wrong("iterate_minibatches", "overlapping batches", """
        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            order = (rng or np.random.default_rng()).permutation(len(y)) if shuffle else np.arange(len(y))
            step = max(1, batch_size - 1)
            for start in range(0, len(y) - 1 if len(y) > 1 else 1, step):
                idx = order[start:start + batch_size]
                yield X[idx], y[idx]
    """, r"batches overlap"),
    Wrong("iterate_minibatches", "shuffles X and y in place", """
        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            if shuffle:
                perm = (rng or np.random.default_rng()).permutation(len(y))
                X[:] = X[perm]
                y[:] = y[perm]
            end = len(y) - len(y) % batch_size if drop_last else len(y)
            for start in range(0, end, batch_size):
                yield X[start:start + batch_size], y[start:start + batch_size]
    """, r"modified X and y in place"),
    Wrong("accuracy", "argmax over the wrong axis", """
        def accuracy(logits, labels):
            return float(np.mean(np.argmax(logits, axis=0) == labels))
    """, r"over axis 0|could not be broadcast"),
    Wrong("accuracy", "a percentage", """
        def accuracy(logits, labels):
            return 100.0 * np.mean(np.argmax(logits, axis=1) == labels)
    """, r"percentage"),
    Wrong("train", "a fresh optimizer state every step", edit(TRAIN, "current[k], states[k] = optimizer(current[k], grads[k], states[k], **hyper)",
                                                              "current[k], _ = optimizer(current[k], grads[k], {}, **hyper)"),
          r"Create one state per parameter once"),
    Wrong("train", "one state shared by every parameter", edit(edit(TRAIN, "states = {k: {} for k in current}", "state = {}"),
                                                               "current[k], states[k] = optimizer(current[k], grads[k], states[k], **hyper)",
                                                               "current[k], state = optimizer(current[k], grads[k], state, **hyper)"),
          r"state of one parameter to the optimizer of another"),
    Wrong("train", "writes into the caller's arrays", edit(TRAIN, "current = {k: v.copy() for k, v in params.items()}", "current = params"),
          r"modified the params passed in"),
    Wrong("train", "reports the last batch's loss", edit(TRAIN, 'float(np.average(losses, weights=sizes))', "float(losses[-1])"),
          r"last batch's loss"),
    Wrong("train", "plain mean of the batch losses", edit(TRAIN, 'float(np.average(losses, weights=sizes))', "float(np.mean(losses))"),
          r"weight each batch's loss by its size"),
    Wrong("train", "ignores hyper", edit(TRAIN, "states[k], **hyper)", "states[k])"), r"\*\*hyper"),
    Wrong("train", "returns the last instead of the best params", edit(TRAIN, "return (best if patience is not None else current), history",
                                                                       "return current, history"),
          r"Those are the last params"),
    Wrong("train", "patience off by one", edit(TRAIN, "if bad_epochs == patience:", "if bad_epochs > patience:"), r"off by one"),
    Wrong("train", "keeps a reference instead of a copy of the best params", edit(
        TRAIN, 'best_loss, best, bad_epochs = entry["val_loss"], {k: v.copy() for k, v in current.items()}, 0',
        'best_loss, best, bad_epochs = entry["val_loss"], current, 0'), r"params of epoch"),
    Wrong("Q1", "floor division", "Q1 = 390", r"not the right answer"),
]


@pytest.mark.parametrize("wrong", WRONG, ids=lambda w: f"{w.target}: {w.mistake}")
def test_wrong_implementation_loses_its_own_points_with_a_named_mistake(wrong):
    assert_loses_its_own_points("04_training", wrong)


CORRECT = {
    "a train written another way": TRAIN,
    "index shuffling in place, while loops, math.ceil, np.float64": """
        import math

        def num_iterations(n_samples, batch_size, drop_last=False):
            return n_samples // batch_size if drop_last else math.ceil(n_samples / batch_size)

        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            index = np.arange(len(y))
            if shuffle:
                (np.random.default_rng() if rng is None else rng).shuffle(index)
            start = 0
            while start < len(y):
                batch = index[start:start + batch_size]
                if drop_last and len(batch) < batch_size:
                    break
                yield X[batch].copy(), y[batch].copy()
                start += batch_size

        def accuracy(logits, labels):
            return (logits.argmax(-1) == labels).mean()

        Q1 = 391.0
        Q2 = "b"
        Q3 = " A"
    """,
}


@pytest.mark.parametrize("variant", CORRECT, ids=str)
def test_correct_variant_earns_full_marks(variant):
    assert_full_marks("04_training", variant, CORRECT[variant])
