"""Assignment 01: every known-wrong implementation loses the points of the function it
breaks (and only those), with feedback naming the mistake; every correct variant earns
full marks."""

from __future__ import annotations

import re

from catalogue import Wrong
from conftest import grade

ASSIGNMENT = "01_losses"

# A notebook whose functions do nothing: it earns 0 (tests/checks/test_null_notebooks.py).
NULL = """
    import numpy as np

    def mse(y_pred, y_true):
        return 0.0

    def mse_grad(y_pred, y_true):
        return np.zeros_like(y_pred, dtype=float)

    def binary_cross_entropy(probs, targets):
        return 0.0

    def binary_cross_entropy_grad(probs, targets):
        return np.zeros_like(probs, dtype=float)

    def softmax(logits):
        return np.full(np.shape(logits), 1.0 / np.shape(logits)[-1])

    def cross_entropy(logits, labels):
        return 0.0

    def cross_entropy_grad(logits, labels):
        return np.zeros_like(logits, dtype=float)

    Q1 = Q2 = Q3 = None
    """

WRONG = [
    Wrong("mse", "sum instead of mean", """
        def mse(y_pred, y_true):
            return np.sum((y_pred - y_true) ** 2)
    """, r"sum instead of taking the mean"),
    Wrong("mse", "absolute instead of squared error", """
        def mse(y_pred, y_true):
            return np.mean(np.abs(y_pred - y_true))
    """, r"absolute"),
    Wrong("mse", "divides by the number of rows", """
        def mse(y_pred, y_true):
            return np.sum((y_pred - y_true) ** 2) / y_pred.shape[0]
    """, r"number of rows"),
    Wrong("mse", "root mean squared error", """
        def mse(y_pred, y_true):
            return np.sqrt(np.mean((y_pred - y_true) ** 2))
    """, r"RMSE"),
    Wrong("mse", "returns the squared errors without reducing", """
        def mse(y_pred, y_true):
            return (y_pred - y_true) ** 2
    """, r"single number"),
    Wrong("mse_grad", "missing factor 2", """
        def mse_grad(y_pred, y_true):
            return (y_pred - y_true) / y_pred.size
    """, r"factor 2"),
    Wrong("mse_grad", "wrong sign", """
        def mse_grad(y_pred, y_true):
            return 2 * (y_true - y_pred) / y_pred.size
    """, r"wrong sign"),
    Wrong("mse_grad", "not divided by the number of elements", """
        def mse_grad(y_pred, y_true):
            return 2 * (y_pred - y_true)
    """, r"forget to divide by the number of elements"),
    Wrong("mse_grad", "divides by the number of rows", """
        def mse_grad(y_pred, y_true):
            return 2 * (y_pred - y_true) / y_pred.shape[0]
    """, r"number of rows"),
    Wrong("mse_grad", "modifies y_pred in place", """
        def mse_grad(y_pred, y_true):
            y_pred -= y_true
            y_pred *= 2 / y_pred.size
            return y_pred
    """, r"modified its input `y_pred` in place"),
    Wrong("mse_grad", "returns a list", """
        def mse_grad(y_pred, y_true):
            return (2 * (y_pred - y_true) / y_pred.size).tolist()
    """, r"NumPy array"),
    Wrong("binary_cross_entropy", "no clipping", """
        def binary_cross_entropy(probs, targets):
            return -np.mean(targets * np.log(probs) + (1 - targets) * np.log(1 - probs))
    """, r"clip probs"),
    Wrong("binary_cross_entropy", "missing minus sign", """
        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    """, r"wrong sign"),
    Wrong("binary_cross_entropy", "sum instead of mean", """
        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return -np.sum(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    """, r"sum instead of taking the mean"),
    Wrong("binary_cross_entropy", "base-2 logarithm", """
        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return -np.mean(targets * np.log2(p) + (1 - targets) * np.log2(1 - p))
    """, r"base-2"),
    Wrong("binary_cross_entropy", "clips in place", """
        def binary_cross_entropy(probs, targets):
            np.clip(probs, 1e-12, 1 - 1e-12, out=probs)
            return -np.mean(targets * np.log(probs) + (1 - targets) * np.log(1 - probs))
    """, r"modified its input `probs` in place"),
    Wrong("binary_cross_entropy_grad", "no clipping", """
        def binary_cross_entropy_grad(probs, targets):
            return (-targets / probs + (1 - targets) / (1 - probs)) / probs.size
    """, r"[Cc]lip probs"),
    Wrong("binary_cross_entropy_grad", "gradient with respect to the logit", """
        def binary_cross_entropy_grad(probs, targets):
            return (probs - targets) / probs.size
    """, r"logit"),
    Wrong("binary_cross_entropy_grad", "wrong sign", """
        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return (targets / p - (1 - targets) / (1 - p)) / p.size
    """, r"wrong sign|signs should be"),
    Wrong("binary_cross_entropy_grad", "not divided by n", """
        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return -targets / p + (1 - targets) / (1 - p)
    """, r"forget to divide by\s+the number of elements"),
    Wrong("softmax", "unstable (no max subtraction)", """
        def softmax(logits):
            e = np.exp(logits)
            return e / e.sum(axis=-1, keepdims=True)
    """, r"Subtract each row's maximum"),
    Wrong("softmax", "subtracts one maximum for the whole batch", """
        def softmax(logits):
            e = np.exp(logits - logits.max())
            return e / e.sum(axis=-1, keepdims=True)
    """, r"whole batch is not enough|row's maximum"),
    Wrong("softmax", "normalises over the batch axis", """
        def softmax(logits):
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            return e / e.sum(axis=0, keepdims=True)
    """, r"batch axis"),
    Wrong("softmax", "normalises over all elements", """
        def softmax(logits):
            e = np.exp(logits - logits.max())
            return e / e.sum()
    """, r"all elements"),
    Wrong("softmax", "subtracts the maximum in place", """
        def softmax(logits):
            logits -= logits.max(axis=-1, keepdims=True)
            e = np.exp(logits)
            return e / e.sum(axis=-1, keepdims=True)
    """, r"modified its input `logits` in place"),
    Wrong("softmax", "two-dimensional inputs only (axis=1)", """
        def softmax(logits):
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
    """, r"softmax"),
    Wrong("cross_entropy", "log(softmax + eps)", """
        def cross_entropy(logits, labels):
            p = softmax(logits)
            return -np.mean(np.log(p[np.arange(len(labels)), labels] + 1e-12))
    """, r"log\(softmax \+ 1e-12\)\): adding eps caps the loss"),
    Wrong("cross_entropy", "sum over the batch", """
        def cross_entropy(logits, labels):
            z = logits - logits.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return -np.sum(log_p[np.arange(len(labels)), labels])
    """, r"sum over\s+the batch"),
    Wrong("cross_entropy", "forgets the one-hot (sums every class)", """
        def cross_entropy(logits, labels):
            z = logits - logits.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return -np.sum(log_p) / len(labels)
    """, r"one-hot"),
    Wrong("cross_entropy", "averages over classes too", """
        def cross_entropy(logits, labels):
            z = logits - logits.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return -np.mean(np.eye(logits.shape[1])[labels] * log_p)
    """, r"averaged over the\s+classes"),
    Wrong("cross_entropy", "unstable log-sum-exp", """
        def cross_entropy(logits, labels):
            log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            return -np.mean(log_p[np.arange(len(labels)), labels])
    """, r"exp overflows.*Subtract each\s+row's maximum"),
    Wrong("cross_entropy_grad", "not divided by N", """
        def cross_entropy_grad(logits, labels):
            g = softmax(logits)
            g[np.arange(len(labels)), labels] -= 1
            return g
    """, r"without dividing by N|divide by the\s+batch size"),
    Wrong("cross_entropy_grad", "forgets the one-hot", """
        def cross_entropy_grad(logits, labels):
            return softmax(logits) / len(labels)
    """, r"one-hot"),
    Wrong("cross_entropy_grad", "subtracts 1 everywhere", """
        def cross_entropy_grad(logits, labels):
            return (softmax(logits) - 1) / len(labels)
    """, r"one-hot"),
    Wrong("cross_entropy_grad", "wrong sign", """
        def cross_entropy_grad(logits, labels):
            return (np.eye(logits.shape[1])[labels] - softmax(logits)) / len(labels)
    """, r"wrong sign"),
    Wrong("cross_entropy_grad", "unstable softmax inside", """
        def cross_entropy_grad(logits, labels):
            e = np.exp(logits)
            p = e / e.sum(axis=1, keepdims=True)
            return (p - np.eye(logits.shape[1])[labels]) / len(labels)
    """, r"stable"),
    Wrong("cross_entropy_grad", "writes into the logits", """
        def cross_entropy_grad(logits, labels):
            logits -= logits.max(axis=1, keepdims=True)
            np.exp(logits, out=logits)
            logits /= logits.sum(axis=1, keepdims=True)
            logits[np.arange(len(labels)), labels] -= 1
            return logits / len(labels)
    """, r"modified its input `logits` in place"),
    Wrong("cross_entropy_grad", "raises on a stub", """
        def cross_entropy_grad(logits, labels):
            raise NotImplementedError()
    """, r"not implemented yet"),
    # gaps the earlier checks let through, or did not name
    Wrong("mse_grad", "integer y_true: the gradient is built in an integer array", """
        def mse_grad(y_pred, y_true):
            grad = np.zeros_like(y_true)
            grad[...] = 2 * (y_pred - y_true) / y_pred.size
            return grad
    """, r"returned integers \(dtype int64\).*np\.zeros_like\(y_true\)"),
    Wrong("binary_cross_entropy", "divides by the number of rows", """
        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return -np.sum(targets * np.log(p) + (1 - targets) * np.log(1 - p)) / p.shape[0]
    """, r"divided by the number of rows"),
    Wrong("binary_cross_entropy", "clips at 1e-7", """
        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-7, 1 - 1e-7)
            return -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    """, r"clipping probs to \[1e-07, 1 - 1e-07\].*\[1e-12, 1 - 1e-12\]"),
    Wrong("binary_cross_entropy", "clips at 1e-3", """
        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-3, 1 - 1e-3)
            return -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    """, r"clipping probs to \[0\.001, 1 - 0\.001\]"),
    Wrong("binary_cross_entropy", "clips the lower end only", """
        def binary_cross_entropy(probs, targets):
            p = np.maximum(probs, 1e-12)
            return -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    """, r"probs of exactly 1 \(at the upper end too"),
    Wrong("binary_cross_entropy_grad", "divides by the number of rows", """
        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return (-targets / p + (1 - targets) / (1 - p)) / p.shape[0]
    """, r"divided by the number of rows \(2\) instead of the number of elements \(6\)"),
    Wrong("binary_cross_entropy_grad", "clips at 1e-7 (only the signs were checked at 0 and 1)", """
        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs, 1e-7, 1 - 1e-7)
            return (-targets / p + (1 - targets) / (1 - p)) / p.size
    """, r"clipping probs to \[1e-07, 1 - 1e-07\]"),
    Wrong("binary_cross_entropy_grad", "adds 1e-3 instead of clipping", """
        def binary_cross_entropy_grad(probs, targets):
            return (-targets / (probs + 1e-3) + (1 - targets) / (1 - probs + 1e-3)) / probs.size
    """, r"\(or adding 0\.001\)"),
    Wrong("binary_cross_entropy_grad", "integer targets: the gradient is built in an integer array", """
        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            grad = np.zeros_like(targets)
            grad[targets == 1] = -1 / p[targets == 1]
            grad[targets == 0] = 1 / (1 - p[targets == 0])
            return grad / p.size
    """, r"cut to a whole number.*np\.zeros_like\(targets\)"),
    Wrong("cross_entropy", "subtracts one maximum for the whole batch", """
        def cross_entropy(logits, labels):
            z = logits - logits.max()
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return -np.mean(log_p[np.arange(len(labels)), labels])
    """, r"one maximum for the whole batch is not enough"),
    Wrong("cross_entropy", "log of a stable softmax (the true class's probability underflows)", """
        def cross_entropy(logits, labels):
            p = softmax(logits)
            return -np.mean(np.log(p[np.arange(len(labels)), labels]))
    """, r"exp does not overflow.*underflows to 0, and log\(0\) is -inf"),
    Wrong("cross_entropy_grad", "subtracts one maximum for the whole batch", """
        def cross_entropy_grad(logits, labels):
            e = np.exp(logits - logits.max())
            p = e / e.sum(axis=1, keepdims=True)
            p[np.arange(len(labels)), labels] -= 1
            return p / len(labels)
    """, r"one maximum for the whole batch is not enough"),
    Wrong("cross_entropy_grad", "chain rule through the softmax Jacobian (divides by a probability)", """
        def cross_entropy_grad(logits, labels):
            n, c = logits.shape
            p = softmax(logits)
            dp = np.zeros_like(p)
            dp[np.arange(n), labels] = -1.0 / (n * p[np.arange(n), labels])
            return p * (dp - np.sum(dp * p, axis=1, keepdims=True))
    """, r"exp does not overflow.*underflows to 0 and your code divides by it"),
    Wrong("Q1", "wrong choice: cost", 'Q1 = "A"', r"not the right answer.*\n.*cost is not the reason"),
    Wrong("Q1", "wrong choice: size of the loss", 'Q1 = " c"', r"not always smaller than MSE"),
    Wrong("Q2", "not a number", 'Q2 = "3600 (thousand dollars)^2"', r"should be a number"),
    Wrong("Q2", "the error, not squared", "Q2 = 60", r"the error itself"),
    Wrong("Q2", "in dollars", "Q2 = 3.6e9", r"dollars squared"),
    Wrong("Q2", "half the squared error", "Q2 = 1800.0", r"half the squared error"),
    Wrong("Q2", "the derivative", "Q2 = -120", r"derivative of the squared error"),
    Wrong("Q3", "inverted ratio", "Q3 = 0.199", r"not the right answer.*\n.*other way round"),
    Wrong("Q3", "ratio of the probabilities", "Q3 = 40", r"compares the probabilities"),
    Wrong("Q3", "difference instead of ratio", "Q3 = 3.69", r"difference of the two losses"),
    Wrong("Q3", "loss of a negative example", "Q3 = 0.0197", r"\*negative\* example"),
]


WRONG += [
    # mistakes students make that earlier catalogues did not name (each with the signature that proves it)
    Wrong("cross_entropy", "log-probabilities indexed by whole columns", """
        def cross_entropy(logits, labels):
            z = logits - logits.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return -np.mean(log_p[:, labels])
    """, r"picks whole columns"),
    Wrong("cross_entropy_grad", "one-hot subtracted from whole columns", """
        def cross_entropy_grad(logits, labels):
            p = softmax(logits)
            p[:, labels] -= 1
            return p / len(labels)
    """, r"subtracts 1 from whole columns"),
    Wrong("cross_entropy", "log(softmax + 1e-7)", """
        def cross_entropy(logits, labels):
            p = softmax(logits)
            return -np.mean(np.log(p[np.arange(len(labels)), labels] + 1e-7))
    """, r"capped for confident wrong predictions: .* is -log\(1e-07\)"),
    Wrong("softmax", "computed in float32", """
        def softmax(logits):
            z = (logits - logits.max(axis=-1, keepdims=True)).astype(np.float32)
            e = np.exp(z)
            return e / e.sum(axis=-1, keepdims=True)
    """, r"dtype float32"),
]

# Wrong in ways no catalogued mistake describes: the feedback shows evidence, and claims nothing.
NEAR_MISSES = [
    Wrong("mse_grad", "a gradient flattened to one axis", """
        def mse_grad(y_pred, y_true):
            return (2 * (y_pred - y_true) / y_pred.size).ravel()
    """, r"expected number of elements \(\d+\) in another shape"),
    Wrong("mse_grad", "a factor off by a hair", """
        def mse_grad(y_pred, y_true):
            return 2.000001 * (y_pred - y_true) / y_pred.size
    """, r"1\.0000005 times the expected one"),
    Wrong("softmax", "a temperature of 2", """
        def softmax(logits):
            z = logits / 2
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
    """, r"worst element"),
    Wrong("cross_entropy_grad", "labels shifted by one class", """
        def cross_entropy_grad(logits, labels):
            p = softmax(logits)
            p[np.arange(len(labels)), (labels + 1) % logits.shape[1]] -= 1
            return p / len(labels)
    """, r"worst element"),
]


def test_quiz_hints_never_state_the_key():
    """A hint names the slip; the right answer appears nowhere in the feedback."""
    results = grade("01_losses", 'Q1 = "C"\nQ2 = 60\nQ3 = 40')
    feedback = "\n".join(r.feedback for r in results if r.function in ("Q1", "Q2", "Q3"))
    assert "Likely mistake" in feedback
    assert not re.search(r'"B"|\b3600\b|\b3,600\b|5\.0[23]', feedback), feedback


def test_a_nan_result_is_named_as_such_and_never_as_state():
    """NaN != NaN: a function that returns NaN every time does not change between calls."""
    results = grade("01_losses", """
        def mse(y_pred, y_true):
            return float(np.mean((y_pred - y_true) ** 2) / 0.0 * 0.0)
    """)
    feedback = "\n".join(r.feedback for r in results if r.function == "mse" and not r.passed)
    assert "NaN" in feedback
    assert "different result" not in feedback and "besides its arguments" not in feedback


def test_feedback_names_function_case_and_worst_element():
    results = grade("01_losses", """
        def mse_grad(y_pred, y_true):
            return (y_pred - y_true) / y_pred.size
    """)
    (known,) = [r for r in results if r.name == "mse_grad: matches known values"]
    assert known.feedback.startswith("mse_grad gives a wrong result for y_pred=")
    assert "worst element [1, 1]: expected 1.5, got 0.75" in known.feedback
    assert "did you forget the factor 2?" in known.feedback
    (hidden,) = [r for r in results if r.name == "mse_grad: matches the reference on random inputs"]
    assert re.search(r"y_pred of shape \(7,\), scale 0\.001, seed \d+", hidden.feedback)


CORRECT = {
    "python loops": """
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
    """,
    "logaddexp and take_along_axis": """
        def cross_entropy(logits, labels):
            lse = np.logaddexp.reduce(logits, axis=1)
            picked = np.take_along_axis(logits, labels[:, None].astype(np.intp), axis=1)[:, 0]
            return np.mean(lse - picked)

        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            logit = np.log(p) - np.log1p(-p)
            return np.mean(np.logaddexp(0, -logit) * targets + np.logaddexp(0, logit) * (1 - targets))
    """,
    "returning np.float64 and one-hot matrices": """
        def mse(y_pred, y_true):
            return np.float64(np.square(np.subtract(y_pred, y_true)).mean())

        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return -np.where(targets == 1, np.log(p), np.log(1 - p)).mean()

        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return (p - targets) / (p * (1 - p)) / np.size(p)

        def cross_entropy_grad(logits, labels):
            n, c = logits.shape
            one_hot = np.zeros((n, c))
            one_hot[np.arange(n), labels] = 1.0
            shifted = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            return (p - one_hot) / n
    """,
    "log-softmax helper and in-place work on copies": """
        EPS = 1e-12

        def log_softmax(z):
            z = z - np.max(z, axis=-1, keepdims=True)
            return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))

        def softmax(logits):
            return np.exp(log_softmax(logits))

        def cross_entropy(logits, labels):
            return -log_softmax(logits)[np.arange(logits.shape[0]), labels].mean()

        def mse_grad(y_pred, y_true):
            grad = y_pred.copy()
            grad -= y_true
            grad *= 2.0 / grad.size
            return grad

        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, EPS, 1 - EPS)
            return float(-(targets * np.log(p) + (1 - targets) * np.log(1 - p)).sum() / p.size)
    """,
    "margins written differently: clipping 1 - p, np.where, a scalar mean": """
        def binary_cross_entropy(probs, targets):
            log_p = np.log(np.clip(probs, 1e-12, None))
            log_not_p = np.log(np.clip(1.0 - probs, 1e-12, None))
            return -np.mean(np.where(targets > 0.5, log_p, log_not_p))

        def binary_cross_entropy_grad(probs, targets):
            p = np.clip(probs.astype(np.float64), 1e-12, 1 - 1e-12)
            return np.where(targets == 1, -1.0 / p, 1.0 / (1.0 - p)) / p.size

        def mse(y_pred, y_true):
            return np.subtract(y_pred, y_true, dtype=np.float64).__pow__(2).sum() / np.size(y_pred)
    """,
    "apply_along_axis softmax, put_along_axis gradient, one-hot from eye": """
        def softmax(logits):
            def row(z):
                e = np.exp(z - z.max())
                return e / e.sum()
            return np.apply_along_axis(row, -1, np.asarray(logits, dtype=float))

        def cross_entropy_grad(logits, labels):
            z = logits - np.max(logits, axis=1, keepdims=True)
            grad = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
            np.put_along_axis(grad, labels.astype(np.intp)[:, None], np.take_along_axis(
                grad, labels.astype(np.intp)[:, None], axis=1) - 1.0, axis=1)
            return grad / logits.shape[0]

        def cross_entropy(logits, labels):
            z = logits - logits.max(axis=-1, keepdims=True)
            lse = np.log(np.exp(z).sum(axis=-1))
            return float(np.mean(lse - (np.eye(z.shape[1])[labels] * z).sum(axis=1)))
    """,
    "quiz answers in other forms": """
        Q1 = " b "
        Q2 = 3600.0
        Q3 = 5.0
    """,
    "quiz answers as NumPy values": """
        Q2 = np.float64(300 - 240) ** 2
        Q3 = np.log(0.01) / np.log(0.4)
    """,
}
