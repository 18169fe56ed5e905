"""Assignment 04: known-wrong training code loses the points of what it breaks, with the mistake
named; correct code written in other styles earns full marks."""

from __future__ import annotations

from catalogue import Wrong
from gaps import Gap

ASSIGNMENT = "04_training"

# A notebook whose functions do nothing: it earns 0 (tests/checks/test_null_notebooks.py).
NULL = """
    import numpy as np

    def num_iterations(n_samples, batch_size, drop_last=False):
        return 0

    def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
        return iter(())

    def accuracy(logits, labels):
        return 0.0

    def train(params, loss_and_grads, X, y, *, optimizer, hyper, epochs, batch_size, rng=None,
              predict=None, X_val=None, y_val=None, patience=None):
        return params, []

    Q1 = Q2 = Q3 = None
    """

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
    Wrong("Q1", "floor division", "Q1 = 390", r"not the right answer.*\n.*counts only the full batches"),
]


WRONG += [
    # mistakes students make that earlier catalogues did not name (each with the signature that proves it)
    Wrong("accuracy", "labels argmaxed as if one-hot", """
        def accuracy(logits, labels):
            return float(np.mean(np.argmax(logits, axis=1) == np.argmax(labels)))
    """, r"compares with np\.argmax\(labels\)"),
    Wrong("accuracy", "labels argmaxed along axis 1", """
        def accuracy(logits, labels):
            return float(np.mean(np.argmax(logits, axis=1) == np.argmax(labels, axis=1)))
    """, r"labels are class indices of shape"),
    Wrong("iterate_minibatches", "samples drawn with replacement", """
        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            rng = np.random.default_rng() if rng is None else rng
            n = len(y)
            end = n - n % batch_size if drop_last else n
            for start in range(0, end, batch_size):
                idx = rng.integers(0, n, size=min(batch_size, n - start)) if shuffle else np.arange(start, min(start + batch_size, n))
                yield X[idx], y[idx]
    """, r"drawn with replacement"),
    Wrong("train", "val_loss on the training data", edit(
        TRAIN, 'entry["val_loss"] = loss_and_grads(current, X_val, y_val)[0]',
        'entry["val_loss"] = loss_and_grads(current, X, y)[0]'), r"loss on the training data"),
]

# Wrong in ways no catalogued mistake describes: the feedback shows evidence, and claims nothing.
NEAR_MISSES = [
    Wrong("train", "train_loss of the epoch's first batch", edit(
        TRAIN, 'float(np.average(losses, weights=sizes))', "float(losses[0])"), r"train_loss should be"),
    Wrong("num_iterations", "one iteration too many", """
        def num_iterations(n_samples, batch_size, drop_last=False):
            return n_samples // batch_size + 1
    """, r"should be \d+, got"),
]


# iterate_minibatches with one line left to fill: how it orders the samples when shuffling.
MINIBATCHES = """
def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
    n = len(y)
    order = ORDER if shuffle else np.arange(n)
    end = n - n % batch_size if drop_last else n
    for start in range(0, end, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
"""
LOOP = "iterate_minibatches(X, y, batch_size, rng=rng)"
STEP = "current[k], states[k] = optimizer(current[k], grads[k], states[k], **hyper)"

GAPS = [
    # What an earlier version of the checks let through or named wrongly: a property check that
    # scored without right values, a stand-in that never did what a real argument may do.
    Gap(Wrong("iterate_minibatches", "shuffles with NumPy's global generator",
              edit(MINIBATCHES, "ORDER", "np.random.permutation(n)"), r"global generator"), check=r"shuffles"),
    Gap(Wrong("iterate_minibatches", "shuffles with a new unseeded generator",
              edit(MINIBATCHES, "ORDER", "np.random.default_rng().permutation(n)"), r"same seed"),
        check=r"shuffles"),
    Gap(Wrong("iterate_minibatches", "fails when rng is None", edit(MINIBATCHES, "ORDER", "rng.permutation(n)"),
              r"With rng=None"), check=r"shuffles"),
    Gap(Wrong("iterate_minibatches", "drops the last batch when not shuffling", edit(
        MINIBATCHES, "    end = n - n % batch_size if drop_last else n",
        "    end = n - n % batch_size if drop_last or not shuffle else n"
    ).replace("ORDER", "(rng or np.random.default_rng()).permutation(n)"), r"last, smaller batch is missing"),
        check=r"shuffles", absent=r"keep the samples in order"),
    Gap(Wrong("train", "one state dict shared by every parameter (dict.fromkeys)", edit(
        TRAIN, "states = {k: {} for k in current}", "states = dict.fromkeys(current, {})"),
        r"dict\.fromkeys"), check=r"one state each"),
    Gap(Wrong("train", "ignores the state the optimizer returns", edit(
        TRAIN, STEP, "current[k], _ = optimizer(current[k], grads[k], states[k], **hyper)"),
        r"keep what it returns"), check=r"one state each"),
    Gap(Wrong("train", "gradients of every batch at the epoch's first params", edit(
        TRAIN, "loss, grads = loss_and_grads(current, xb, yb)", "loss, grads = loss_and_grads(start, xb, yb)"
    ).replace("        losses, sizes = [], []\n", "        losses, sizes = [], []\n        start = dict(current)\n"),
        r"params other than those the optimizer had just returned"), check=r"one state each"),
    Gap(Wrong("train", "returns the params passed in", edit(
        TRAIN, "return (best if patience is not None else current), history",
        "return (best if patience is not None else params), history"), r"exactly as it was passed in"),
        check=r"never modifies"),
    Gap(Wrong("train", "val_loss before the epoch's updates", edit(edit(
        TRAIN, "        losses, sizes = [], []\n",
        "        losses, sizes = [], []\n        before = loss_and_grads(current, X_val, y_val)[0] if X_val is not None "
        "else None\n"), 'entry["val_loss"] = loss_and_grads(current, X_val, y_val)[0]', 'entry["val_loss"] = before'),
        r"before the epoch's updates"), check=r"^history"),
    Gap(Wrong("train", "val_accuracy on the training data", edit(
        TRAIN, "accuracy(predict(current, X_val), y_val)", "accuracy(predict(current, X), y)"),
        r"accuracy on the training data"), check=r"^history"),
    Gap(Wrong("train", "calls predict when it is None", edit(
        TRAIN, "            if predict is not None:\n", "            if True:\n"), r"predict is None"),
        check=r"^history"),
    Gap(Wrong("train", "returns the best params only when it stops early", edit(edit(
        TRAIN, "            if bad_epochs == patience:\n                break",
        "            if bad_epochs == patience:\n                return best, history"),
        "return (best if patience is not None else current), history", "return current, history"),
        r"never stopped early"), check=r"patience"),
    Gap(Wrong("train", "an equal validation loss counts as an improvement", edit(
        TRAIN, 'if entry["val_loss"] < best_loss:', 'if entry["val_loss"] <= best_loss:'), r"not <="),
        check=r"patience"),
    Gap(Wrong("train", "rounds each batch's loss for its log (a 0-d array has no round)", edit(
        TRAIN, "            losses.append(loss)", "            print('loss', round(loss, 4))\n            losses.append(loss)"),
        r"float\(loss\)")),
    Gap(Wrong("train", "shuffles X and y in place", edit(
        TRAIN, "    for epoch in range(1, epochs + 1):\n",
        "    for epoch in range(1, epochs + 1):\n        order = rng.permutation(len(y))\n        X[:] = X[order]\n"
        "        y[:] = y[order]\n").replace(LOOP, "iterate_minibatches(X, y, batch_size, shuffle=False)"),
        r"modified X and y in place"), check=r"never modifies"),
    Gap(Wrong("accuracy", "subtracts the row maximum in place", """
        def accuracy(logits, labels):
            logits -= logits.max(axis=1, keepdims=True)
            return float(np.mean(np.argmax(logits, axis=1) == labels))
    """, r"modified logits in place"), check=r"unchanged"),
    Gap(Wrong("train", "never shuffles", edit(TRAIN, LOOP, "iterate_minibatches(X, y, batch_size, shuffle=False)"),
              r"same order in both epochs"), check=r"shuffles"),
    Gap(Wrong("train", "shuffles with a new unseeded generator", edit(
        TRAIN, LOOP, "iterate_minibatches(X, y, batch_size, rng=np.random.default_rng())"), r"same seed"),
        check=r"shuffles"),
    Gap(Wrong("train", "its own batches fail when rng is None", edit(
        TRAIN, "    rng = np.random.default_rng() if rng is None else rng\n", "").replace(
        LOOP, "((X[i], y[i]) for i in np.array_split(rng.permutation(len(y)), -(-len(y) // batch_size)))"),
        r"rng is None in this run"), check=r"shuffles"),
]


CORRECT = {
    "a train written another way": TRAIN,
    "its own batches, float losses, copied states, shallow snapshots, extra history": """
        def train(params, loss_and_grads, X, y, *, optimizer, hyper, epochs, batch_size, rng=None,
                  predict=None, X_val=None, y_val=None, patience=None):
            if rng is None:
                rng = np.random.default_rng()
            params = dict(params)  # the optimizer returns new arrays, so a shallow copy is enough
            states = {name: {} for name in params}
            history, best, best_params, waited = [], np.inf, None, 0
            for epoch in range(epochs):
                order = rng.permutation(len(y))
                total = 0.0
                for start in range(0, len(y), batch_size):
                    batch = order[start:start + batch_size]
                    loss, grads = loss_and_grads(params, X[batch], y[batch])
                    for name in params:
                        params[name], states[name] = optimizer(params[name], grads[name], dict(states[name]),
                                                               **hyper)
                    total += float(loss) * len(batch)
                record = {"epoch": epoch + 1, "train_loss": total / len(y),  # and more than asked for:
                          "full_train_loss": float(loss_and_grads(params, X, y)[0])}
                if predict is not None:
                    record["train_accuracy"] = float(np.mean(predict(params, X).argmax(axis=1) == y))
                if X_val is not None:
                    record["val_loss"] = float(loss_and_grads(params, X_val, y_val)[0])
                    if predict is not None:
                        record["val_accuracy"] = float(np.mean(predict(params, X_val).argmax(axis=1) == y_val))
                history.append(record)
                if patience is not None and X_val is not None:
                    if record["val_loss"] < best:
                        best, best_params, waited = record["val_loss"], dict(params), 0
                    else:
                        waited += 1
                        if waited >= patience:
                            break
            return (best_params if patience is not None and X_val is not None else params), history

        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            rng = np.random.default_rng() if rng is None else rng
            index = rng.choice(len(y), size=len(y), replace=False) if shuffle else np.arange(len(y))
            stop = len(y) - len(y) % batch_size if drop_last else len(y)
            return ((X[index[i:i + batch_size]], y[index[i:i + batch_size]]) for i in range(0, stop, batch_size))
    """,
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
