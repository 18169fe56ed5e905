"""A notebook whose functions do nothing earns nothing: every property check (no mutation,
shapes, normalisation, consistency with its own loss, one state per parameter, params left
alone) scores only together with correct values."""

from __future__ import annotations

import pytest
from catalogue import null_notebooks
from conftest import grade, scores_by_target

# Each assignment's null notebook (its functions return zeros, empty results or their inputs,
# its quiz answers are None) is the NULL of its catalogue, tests/checks/test_<topic>_catalogue.py.
NULL = dict(null_notebooks())


@pytest.mark.parametrize("assignment_id", sorted(NULL))
def test_a_notebook_that_does_nothing_earns_zero_on_every_function(assignment_id):
    scores = scores_by_target(grade(assignment_id, NULL[assignment_id]))
    earned = {target: score for target, (score, _) in scores.items() if score}
    assert earned == {}, f"doing nothing earned points: {earned}"


# Other ways of doing nothing: zeros of the right shape, well-formed but empty results, an input
# echoed back, or the loss of a uniform guess (right for the one known case where every logit
# is equal, and for nothing else).
OTHER = {
    "01_losses": """
        import numpy as np

        def mse(y_pred, y_true):
            return 1.0

        def mse_grad(y_pred, y_true):
            return np.array(y_pred, dtype=float)

        def binary_cross_entropy(probs, targets):
            return float(np.log(2.0))

        def binary_cross_entropy_grad(probs, targets):
            return np.array(probs, dtype=float)

        def softmax(logits):
            return np.array(logits, dtype=float)

        def cross_entropy(logits, labels):
            return float(np.log(np.shape(logits)[1]))

        def cross_entropy_grad(logits, labels):
            return np.array(logits, dtype=float) - np.mean(logits, axis=1, keepdims=True)

        Q1, Q2, Q3 = "A", 0, 0
        """,
    "02_backprop": """
        import numpy as np

        class Value:
            def __init__(self, data, _children=(), _op=""):
                self.data, self.grad = float(data), 0.0
            def _same(self, *args):
                return self
            __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
            __truediv__ = __rtruediv__ = __pow__ = __neg__ = _same
            exp = log = tanh = relu = sigmoid = _same
            def backward(self):
                self.grad = 1.0

        def numerical_gradient(f, x, eps=1e-6):
            return np.array(x, dtype=float)

        def linear_forward(x, W, b):
            return np.ones((x.shape[0], W.shape[1])), (x, W, b)

        def linear_backward(dout, cache):
            x, W, b = cache
            return np.ones_like(x), np.ones_like(W), np.ones_like(b)

        def relu_forward(x):
            return x.copy(), x

        def relu_backward(dout, cache):
            return dout.copy()

        def sigmoid_forward(x):
            return np.full(x.shape, 0.5), x

        def sigmoid_backward(dout, cache):
            return dout * 0.25

        def mlp_loss_and_grads(params, X, y, activation="relu"):
            classes = params[f"b{len(params) // 2}"].shape[0]
            return float(np.log(classes)), {k: np.zeros_like(v) for k, v in params.items()}

        Q1, Q2, Q3 = "A", 0, 0
        """,
    "03_optimizers": """
        import numpy as np

        def gradient_descent(grad_fn, x0, lr, steps):
            return np.zeros((steps + 1,) + np.shape(x0))

        def sgd(w, dw, state, lr=0.01):
            return np.zeros_like(w), state

        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            state["v"] = np.zeros_like(w)
            return np.zeros_like(w), state

        def adam(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
            return np.zeros_like(w), {"t": 0}

        def adamw(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
            return np.zeros_like(w), {}

        Q1, Q2, Q3 = "C", 0, 0
        """,
    "04_training": """
        import numpy as np

        def num_iterations(n_samples, batch_size, drop_last=False):
            return 1

        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            yield np.zeros_like(X), np.zeros_like(y)

        def accuracy(logits, labels):
            return np.float64(1.0)

        def train(params, loss_and_grads, X, y, *, optimizer, hyper, epochs, batch_size, rng=None,
                  predict=None, X_val=None, y_val=None, patience=None):
            history = [{"epoch": e, "train_loss": 0.0, "val_loss": 0.0, "val_accuracy": 0.0}
                       for e in range(1, epochs + 1)]
            return {k: np.zeros_like(v) for k, v in params.items()}, history

        Q1 = 0
        Q2 = Q3 = "C"
        """,
}


@pytest.mark.parametrize("assignment_id", sorted(OTHER))
def test_other_ways_of_doing_nothing_earn_zero_on_every_function(assignment_id):
    scores = scores_by_target(grade(assignment_id, OTHER[assignment_id]))
    earned = {target: score for target, (score, _) in scores.items() if score}
    assert earned == {}, f"doing nothing earned points: {earned}"
