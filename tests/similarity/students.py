"""Submissions of 01_losses for the similarity review's tests: independently written correct
solutions in different styles, and disguised copies of one of them.

Each independent solution is a whole notebook's code (every function of the assignment), written
as a student might without seeing the others; `tests/similarity/test_similarity.py` checks that
each earns full marks, so that "not flagged" is about correct code.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import EXERCISES

INDEPENDENT = {
    "terse": """
        import numpy as np

        def mse(y_pred, y_true):
            return float(np.mean((y_pred - y_true) ** 2))

        def mse_grad(y_pred, y_true):
            return 2 * (y_pred - y_true) / y_pred.size

        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return float(-np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)))

        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return (p - targets) / (p * (1 - p)) / p.size

        def softmax(logits):
            e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
            return e / np.sum(e, axis=-1, keepdims=True)

        def cross_entropy(logits, labels):
            shifted = logits - np.max(logits, axis=1, keepdims=True)
            log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
            return float(-np.mean(log_probs[np.arange(len(labels)), labels]))

        def cross_entropy_grad(logits, labels):
            grad = softmax(logits)
            grad[np.arange(len(labels)), labels] -= 1
            return grad / len(labels)
    """,
    "loops": """
        import numpy as np

        def mse(y_pred, y_true):
            flat_p, flat_t = np.ravel(y_pred), np.ravel(y_true)
            total = 0.0
            for p, t in zip(flat_p, flat_t):
                total += (p - t) ** 2
            return total / len(flat_p)

        def mse_grad(y_pred, y_true):
            grad = np.empty(np.shape(y_pred))
            for index in np.ndindex(grad.shape):
                grad[index] = 2 * (y_pred[index] - y_true[index]) / grad.size
            return grad

        def binary_cross_entropy(probs, targets):
            total = 0.0
            count = 0
            for p, t in zip(np.ravel(probs), np.ravel(targets)):
                p = min(max(p, 1e-12), 1 - 1e-12)
                total -= t * np.log(p) + (1 - t) * np.log(1 - p)
                count += 1
            return total / count

        def binary_cross_entropy_grad(probs, targets):
            grad = np.empty(np.shape(probs))
            for index in np.ndindex(grad.shape):
                p = min(max(probs[index], 1e-12), 1 - 1e-12)
                t = targets[index]
                grad[index] = (-t / p + (1 - t) / (1 - p)) / grad.size
            return grad

        def softmax(logits):
            out = np.empty(np.shape(logits))
            for index in np.ndindex(out.shape[:-1]):
                row = logits[index]
                e = np.exp(row - max(row))
                out[index] = e / sum(e)
            return out

        def cross_entropy(logits, labels):
            total = 0.0
            for row, label in zip(logits, labels):
                m = max(row)
                total += m + np.log(sum(np.exp(v - m) for v in row)) - row[label]
            return total / len(labels)

        def cross_entropy_grad(logits, labels):
            n = len(labels)
            grad = np.empty(np.shape(logits))
            for i in range(n):
                row = logits[i]
                e = np.exp(row - max(row))
                grad[i] = e / sum(e)
                grad[i, labels[i]] -= 1
            return grad / n
    """,
    "log-softmax helper": """
        import numpy as np

        EPS = 1e-12

        def log_softmax(z):
            z = z - np.max(z, axis=-1, keepdims=True)
            return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))

        def mse(y_pred, y_true):
            d = np.subtract(y_pred, y_true, dtype=np.float64)
            return float(np.dot(d.ravel(), d.ravel()) / d.size)

        def mse_grad(y_pred, y_true):
            grad = np.array(y_pred, dtype=np.float64)
            grad -= y_true
            grad *= 2.0 / grad.size
            return grad

        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, EPS, 1 - EPS)
            return float(-np.mean(np.where(targets == 1, np.log(p), np.log1p(-p))))

        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs, EPS, 1 - EPS)
            return np.where(targets == 1, -1.0 / p, 1.0 / (1.0 - p)) / p.size

        def softmax(logits):
            return np.exp(log_softmax(logits))

        def cross_entropy(logits, labels):
            return -log_softmax(logits)[np.arange(logits.shape[0]), labels].mean()

        def cross_entropy_grad(logits, labels):
            n = logits.shape[0]
            return (np.exp(log_softmax(logits)) - np.eye(logits.shape[1])[labels]) / n
    """,
    "one-hot matrices": """
        import numpy as np

        def mse(y_pred, y_true):
            return np.float64(np.square(np.subtract(y_pred, y_true)).mean())

        def mse_grad(y_pred, y_true):
            n = np.size(y_pred)
            return np.multiply(2.0 / n, np.subtract(y_pred, y_true))

        def binary_cross_entropy(probs, targets):
            p = np.minimum(np.maximum(probs, 1e-12), 1 - 1e-12)
            loss = -(targets * np.log(p) + (1.0 - targets) * np.log1p(-p))
            return loss.mean()

        def binary_cross_entropy_grad(probs, targets):
            p = np.minimum(np.maximum(probs, 1e-12), 1 - 1e-12)
            return (1.0 - targets) / (1.0 - p) / np.size(p) - targets / p / np.size(p)

        def softmax(logits):
            shifted = logits - logits.max(axis=-1)[..., None]
            exp = np.exp(shifted)
            return exp / exp.sum(axis=-1)[..., None]

        def cross_entropy(logits, labels):
            n, c = logits.shape
            one_hot = np.zeros((n, c))
            one_hot[np.arange(n), labels] = 1.0
            m = logits.max(axis=1)
            lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
            return float((lse - (one_hot * logits).sum(axis=1)).mean())

        def cross_entropy_grad(logits, labels):
            n, c = logits.shape
            one_hot = np.zeros((n, c))
            one_hot[np.arange(n), labels] = 1.0
            shifted = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            return (p - one_hot) / n
    """,
    "logaddexp": """
        import numpy as np

        def mse(y_pred, y_true):
            err = (np.asarray(y_pred, float) - np.asarray(y_true, float)).ravel()
            return float(err @ err) / err.size

        def mse_grad(y_pred, y_true):
            return (np.asarray(y_pred, float) - y_true) * (2.0 / np.size(y_pred))

        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            logit = np.log(p) - np.log1p(-p)
            return np.mean(np.logaddexp(0, -logit) * targets + np.logaddexp(0, logit) * (1 - targets))

        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(np.asarray(probs, dtype=float), 1e-12, 1 - 1e-12)
            return (p - targets) / p / (1.0 - p) / p.size

        def softmax(logits):
            lse = np.logaddexp.reduce(logits, axis=-1, keepdims=True)
            return np.exp(logits - lse)

        def cross_entropy(logits, labels):
            lse = np.logaddexp.reduce(logits, axis=1)
            picked = np.take_along_axis(logits, labels[:, None].astype(np.intp), axis=1)[:, 0]
            return np.mean(lse - picked)

        def cross_entropy_grad(logits, labels):
            grad = softmax(logits)
            idx = labels.astype(np.intp)[:, None]
            np.put_along_axis(grad, idx, np.take_along_axis(grad, idx, axis=1) - 1.0, axis=1)
            return grad / logits.shape[0]
    """,
    "verbose": """
        import numpy as np

        def mse(y_pred, y_true):
            # the difference between prediction and truth, squared, averaged
            y_pred = np.asarray(y_pred, dtype=np.float64)
            y_true = np.asarray(y_true, dtype=np.float64)
            assert y_pred.shape == y_true.shape
            squared = (y_pred - y_true) * (y_pred - y_true)
            total = squared.sum()
            count = squared.size
            return float(total / count)

        def mse_grad(y_pred, y_true):
            y_pred = np.asarray(y_pred, dtype=np.float64)
            count = y_pred.size
            difference = y_pred - np.asarray(y_true, dtype=np.float64)
            gradient = difference * 2.0
            gradient = gradient / count
            return gradient

        def binary_cross_entropy(probs, targets):
            low, high = 1e-12, 1.0 - 1e-12
            clipped = np.clip(np.asarray(probs, dtype=np.float64), low, high)
            positive = targets * np.log(clipped)
            negative = (1.0 - targets) * np.log(1.0 - clipped)
            per_element = -(positive + negative)
            return float(per_element.sum() / per_element.size)

        def binary_cross_entropy_grad(probs, targets):
            low, high = 1e-12, 1.0 - 1e-12
            clipped = np.clip(np.asarray(probs, dtype=np.float64), low, high)
            d_positive = -targets / clipped
            d_negative = (1.0 - targets) / (1.0 - clipped)
            return (d_positive + d_negative) / clipped.size

        def softmax(logits):
            logits = np.asarray(logits, dtype=np.float64)
            biggest = np.amax(logits, axis=-1, keepdims=True)
            unnormalised = np.exp(logits - biggest)
            normaliser = np.sum(unnormalised, axis=-1, keepdims=True)
            return unnormalised / normaliser

        def cross_entropy(logits, labels):
            logits = np.asarray(logits, dtype=np.float64)
            batch = logits.shape[0]
            biggest = np.amax(logits, axis=1)
            log_normaliser = biggest + np.log(np.sum(np.exp(logits - biggest[:, np.newaxis]), axis=1))
            correct = logits[range(batch), labels]
            return float(np.sum(log_normaliser - correct) / batch)

        def cross_entropy_grad(logits, labels):
            batch = logits.shape[0]
            probabilities = softmax(logits)
            targets = np.zeros_like(probabilities)
            targets[range(batch), labels] = 1.0
            return (probabilities - targets) / batch
    """,
    "like the reference": """
        import numpy as np

        def mse(y_pred, y_true):
            d = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
            return float(np.mean(d ** 2))

        def mse_grad(y_pred, y_true):
            d = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
            return 2.0 * d / d.size

        def binary_cross_entropy(probs, targets):
            p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0 - 1e-12)
            t = np.asarray(targets, dtype=np.float64)
            return float(-np.mean(t * np.log(p) + (1.0 - t) * np.log1p(-p)))

        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0 - 1e-12)
            t = np.asarray(targets, dtype=np.float64)
            return (-t / p + (1.0 - t) / (1.0 - p)) / p.size

        def softmax(logits):
            z = np.asarray(logits, dtype=np.float64)
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)

        def cross_entropy(logits, labels):
            z = np.asarray(logits, dtype=np.float64)
            s = z - z.max(axis=1, keepdims=True)
            lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
            return float(-lp[np.arange(z.shape[0]), np.asarray(labels)].mean())

        def cross_entropy_grad(logits, labels):
            p = softmax(logits)
            n = p.shape[0]
            p[np.arange(n), np.asarray(labels)] -= 1.0
            return p / n
    """,
}

QUIZ = 'Q1 = "B"\nQ2 = 3600\nQ3 = 5.03\n'


def notebook(*cells: str) -> dict:
    """A notebook of code cells (dedented), with the 01_losses metadata of the release."""
    release = json.loads((EXERCISES / "01_losses" / "losses.ipynb").read_text(encoding="utf-8"))
    return {"cells": [{"cell_type": "code", "metadata": {}, "source": textwrap.dedent(c), "outputs": [],
                       "execution_count": None} for c in cells],
            "metadata": release["metadata"], "nbformat": 4, "nbformat_minor": 5}


def write_class(root: Path, code: dict[str, str | list[str] | dict]) -> Path:
    """``<root>/<student>/01_losses/losses.ipynb`` for each student: code (one cell, or a list of
    cells) or a whole notebook."""
    for student, what in code.items():
        path = root / student / "01_losses" / "losses.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(what, str):
            what = notebook(what, QUIZ)
        elif isinstance(what, list):
            what = notebook(*what, QUIZ)
        path.write_text(json.dumps(what), encoding="utf-8")
    return root


# A copy of "verbose" with every disguise at once: names changed, functions reordered and split
# over cells, reformatted, comments and docstrings added, dead code and prints inserted,
# `x = x / c` as `x /= c`, operands swapped, numpy imported under another name, a constant named.
DISGUISED_VERBOSE = [
    """
    import numpy as numeric
    CLIP = 1e-12

    def softmax(scores):
        '''Softmax along the last axis (my own version).'''
        scores = numeric.asarray(scores, dtype=numeric.float64)
        top = numeric.amax(scores, axis=-1, keepdims=True)   # for stability
        raw = numeric.exp(scores - top)
        debug = raw.shape
        total = numeric.sum(raw, axis=-1, keepdims=True)
        return raw / total

    def cross_entropy_grad(scores, classes):
        rows = scores.shape[0]
        p = softmax(scores)
        hot = numeric.zeros_like(p)
        hot[range(rows), classes] = 1.0
        return (p - hot) / rows
    """,
    """
    def binary_cross_entropy_grad(p_hat, y):
        lo, hi = CLIP, 1.0 - CLIP
        q = numeric.clip(numeric.asarray(p_hat, dtype=numeric.float64), lo, hi)
        if False:
            print("never")
        dpos = -y / q
        dneg = (1.0 - y) / (1.0 - q)
        return (dneg + dpos) / q.size

    def mse(pred, target):
        pred = numeric.asarray(pred, dtype=numeric.float64)
        target = numeric.asarray(target, dtype=numeric.float64)
        assert pred.shape == target.shape
        sq = (pred - target) * (pred - target)
        s = sq.sum()
        m = sq.size
        print("mse called")
        return float(s / m)
    """,
    """
    def binary_cross_entropy(p_hat, y):
        # clip first!
        lo, hi = CLIP, 1.0 - CLIP
        q = numeric.clip(
            numeric.asarray(p_hat, dtype=numeric.float64),
            lo,
            hi,
        )
        pos = y * numeric.log(q)
        neg = (1.0 - y) * numeric.log(1.0 - q)
        each = -(neg + pos)
        return float(each.sum() / each.size)

    def cross_entropy(scores, classes):
        scores = numeric.asarray(scores, dtype=numeric.float64)
        rows = scores.shape[0]
        top = numeric.amax(scores, axis=1)
        lognorm = top + numeric.log(numeric.sum(numeric.exp(scores - top[:, numeric.newaxis]), axis=1))
        right = scores[range(rows), classes]
        unused = 42
        return float(numeric.sum(lognorm - right) / rows)

    def mse_grad(pred, target):
        pred = numeric.asarray(pred, dtype=numeric.float64)
        m = pred.size
        diff = pred - numeric.asarray(target, dtype=numeric.float64)
        g = 2.0 * diff
        g /= m
        return g

    def helper_never_used(a, b):
        return a + b
    """,
]
