"""Mistakes held out of the tests: realistic wrong implementations that the checks were not tuned on.

Written from what students get wrong (the lessons' pitfalls, the usual forum questions), each
with the claim that would be right about it (a regular expression), or None where no catalogued
mistake describes it and the feedback should show evidence only. `feedback_quality.py` grades
them next to the tests' catalogue; unlike that catalogue, no test requires them to come out right.
"""

from __future__ import annotations

from catalogue import Wrong


def value_with(old: str, new: str) -> str:
    from test_backprop_catalogue import value_with as edit

    return edit(old, new)


def adam_with(old: str, new: str) -> str:
    from test_optimizers_catalogue import ADAM, edit

    return edit(ADAM, old, new)


def train_with(old: str, new: str) -> str:
    from test_training_catalogue import TRAIN, edit

    return edit(TRAIN, old, new)


def heldout() -> list[tuple[str, Wrong]]:
    """(assignment, mistake); a mistake's ``diagnostic`` is the right claim, or "" for none."""
    return [
        ("01_losses", Wrong("mse", "reduced over axis 0 only", """
            def mse(y_pred, y_true):
                return np.mean((y_pred - y_true) ** 2, axis=0)
        """, "")),
        ("01_losses", Wrong("mse", "sample-variance style n - 1", """
            def mse(y_pred, y_true):
                return float(np.sum((y_pred - y_true) ** 2) / (y_pred.size - 1))
        """, "")),
        ("01_losses", Wrong("mse_grad", "divides by len(y_pred)", """
            def mse_grad(y_pred, y_true):
                return 2 * (y_pred - y_true) / len(y_pred)
        """, r"number of rows")),
        ("01_losses", Wrong("binary_cross_entropy", "clips at 1e-15", """
            def binary_cross_entropy(probs, targets):
                p = np.clip(probs, 1e-15, 1 - 1e-15)
                return -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p))
        """, r"1e-15")),
        ("01_losses", Wrong("binary_cross_entropy", "log(p) in both terms", """
            def binary_cross_entropy(probs, targets):
                p = np.clip(probs, 1e-12, 1 - 1e-12)
                return -np.mean(targets * np.log(p) + (1 - targets) * np.log(p))
        """, "")),
        ("01_losses", Wrong("binary_cross_entropy_grad", "the second term's sign", """
            def binary_cross_entropy_grad(probs, targets):
                p = np.clip(probs, 1e-12, 1 - 1e-12)
                return (-targets / p - (1 - targets) / (1 - p)) / p.size
        """, "")),
        ("01_losses", Wrong("binary_cross_entropy_grad", "the logit form, not divided by n", """
            def binary_cross_entropy_grad(probs, targets):
                p = np.clip(probs, 1e-12, 1 - 1e-12)
                return (p - targets) / (p * (1 - p))
        """, r"divide by")),
        ("01_losses", Wrong("softmax", "the mean subtracted instead of the maximum", """
            def softmax(logits):
                e = np.exp(logits - logits.mean(axis=-1, keepdims=True))
                return e / e.sum(axis=-1, keepdims=True)
        """, r"maximum")),
        ("01_losses", Wrong("cross_entropy", "labels multiplied in as a column", """
            def cross_entropy(logits, labels):
                z = logits - logits.max(axis=1, keepdims=True)
                log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
                return -np.sum(log_p * labels[:, None]) / len(labels)
        """, "")),
        ("01_losses", Wrong("cross_entropy_grad", "operator precedence: p - one_hot / N", """
            def cross_entropy_grad(logits, labels):
                p = softmax(logits)
                return p - np.eye(logits.shape[1])[labels] / len(labels)
        """, "")),
        ("02_backprop", Wrong("numerical_gradient", "every element perturbed at once", """
            def numerical_gradient(f, x, eps=1e-6):
                grad = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    grad[i] = (f(x + eps) - f(x - eps)) / (2 * eps)
                return grad
        """, "")),
        ("02_backprop", Wrong("linear_backward", "dW averaged over the batch", """
            def linear_backward(dout, cache):
                x, W, _ = cache
                return dout @ W.T, x.T @ dout / len(x), dout.sum(axis=0)
        """, r"don't divide by the batch size")),
        ("02_backprop", Wrong("relu_backward", "mask from the output with >= 0", """
            def relu_forward(x):
                out = np.maximum(x, 0)
                return out, out

            def relu_backward(dout, cache):
                return dout * (cache >= 0)
        """, r"mask is missing")),
        ("02_backprop", Wrong("sigmoid_backward", "s (1 + s)", """
            def sigmoid_backward(dout, cache):
                s = cache
                return dout * s * (1 + s)
        """, "")),
        ("02_backprop", Wrong("Value", "pow's derivative k x^k", value_with(
            "            self.grad += k * self.data ** (k - 1) * out.grad",
            "            self.grad += k * self.data ** k * out.grad"), r"is k x\^k")),
        ("02_backprop", Wrong("Value", "sigmoid's derivative s", value_with(
            "        return self._unary(s, s * (1 - s))", "        return self._unary(s, s)"),
            r"is s; the derivative")),
        ("02_backprop", Wrong("Value", "log's derivative 1 / log(x)", value_with(
            "        return self._unary(math.log(self.data), 1 / self.data)",
            "        return self._unary(math.log(self.data), 1 / math.log(self.data))"), "")),
        ("02_backprop", Wrong("Value", "a topological sort without a visited set", value_with(
            "            if v not in visited:\n                visited.add(v)\n", "            if True:\n"),
            r"exactly once|depends on the order in which it meets the nodes")),
        ("03_optimizers", Wrong("gradient_descent", "returns only the last point", """
            def gradient_descent(grad_fn, x0, lr, steps):
                x = np.array(x0, dtype=float)
                for _ in range(steps):
                    x = x - lr * grad_fn(x)
                return x
        """, "")),
        ("03_optimizers", Wrong("sgd", "half the step", """
            def sgd(w, dw, state, lr=0.01):
                return w - 0.5 * lr * dw, state
        """, "")),
        ("03_optimizers", Wrong("sgd_momentum", "steps with the previous velocity", """
            def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
                v = state.get("v", np.zeros_like(w))
                return w - lr * v, {"v": momentum * v + dw}
        """, r"w_next is w unchanged")),
        ("03_optimizers", Wrong("adam", "v of |dw|, not dw²", adam_with(
            "(1 - beta2) * dw ** 2", "(1 - beta2) * np.abs(dw)"), "")),
        ("03_optimizers", Wrong("adam", "eps added after the division", adam_with(
            "lr * m_hat / (np.sqrt(v_hat) + eps)", "lr * m_hat / np.sqrt(v_hat) + eps"), "")),
        ("04_training", Wrong("num_iterations", "rounds to the nearest", """
            def num_iterations(n_samples, batch_size, drop_last=False):
                return int(n_samples / batch_size + 0.5)
        """, "")),
        ("04_training", Wrong("iterate_minibatches", "always shuffles", """
            def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
                rng = np.random.default_rng() if rng is None else rng
                order = rng.permutation(len(y))
                end = len(y) - len(y) % batch_size if drop_last else len(y)
                for start in range(0, end, batch_size):
                    idx = order[start:start + batch_size]
                    yield X[idx], y[idx]
        """, "")),
        ("04_training", Wrong("accuracy", "divides by the number of classes", """
            def accuracy(logits, labels):
                return float(np.sum(np.argmax(logits, axis=1) == labels) / logits.shape[1])
        """, "")),
        ("04_training", Wrong("train", "train_loss over every epoch so far", train_with(
            "        losses, sizes = [], []\n", "").replace(
            "    history, best, best_loss, bad_epochs = [], None, float(\"inf\"), 0\n",
            "    history, best, best_loss, bad_epochs = [], None, float(\"inf\"), 0\n"
            "    losses, sizes = [], []\n"),
            "")),
        ("04_training", Wrong("train", "one order for every epoch", train_with(
            "    for epoch in range(1, epochs + 1):\n",
            "    order = rng.permutation(len(y))\n    X, y = X[order], y[order]\n"
            "    for epoch in range(1, epochs + 1):\n").replace(
            "iterate_minibatches(X, y, batch_size, rng=rng)",
            "iterate_minibatches(X, y, batch_size, shuffle=False, rng=rng)"), "")),
        # written after the checks were changed for the ones above, and reported as they came out
        ("01_losses", Wrong("mse", "mean of the absolute difference squared the other way", """
            def mse(y_pred, y_true):
                return float(np.mean(np.abs(y_pred - y_true)) ** 2)
        """, "")),
        ("01_losses", Wrong("mse_grad", "differentiates with respect to y_true", """
            def mse_grad(y_pred, y_true):
                return 2 * (y_true - y_pred) / y_pred.size
        """, r"wrong sign")),
        ("01_losses", Wrong("binary_cross_entropy", "mean over rows of summed columns", """
            def binary_cross_entropy(probs, targets):
                p = np.clip(probs, 1e-12, 1 - 1e-12)
                terms = targets * np.log(p) + (1 - targets) * np.log(1 - p)
                return float(-np.mean(terms.reshape(len(p), -1).sum(axis=1)))
        """, r"number of rows")),
        ("01_losses", Wrong("softmax", "exp of the logits divided by their sum (no exp in the sum)", """
            def softmax(logits):
                z = logits - logits.max(axis=-1, keepdims=True)
                return np.exp(z) / np.sum(z, axis=-1, keepdims=True)
        """, "")),
        ("01_losses", Wrong("cross_entropy", "log base 10", """
            def cross_entropy(logits, labels):
                p = softmax(logits)
                return -np.mean(np.log10(p[np.arange(len(labels)), labels]))
        """, "")),
        ("01_losses", Wrong("cross_entropy_grad", "the one-hot of the predicted class", """
            def cross_entropy_grad(logits, labels):
                p = softmax(logits)
                return (p - np.eye(logits.shape[1])[np.argmax(logits, axis=1)]) / len(labels)
        """, "")),
        ("02_backprop", Wrong("numerical_gradient", "forward difference with eps / 2", """
            def numerical_gradient(f, x, eps=1e-6):
                grad = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    step = np.zeros_like(x)
                    step[i] = eps
                    grad[i] = (f(x + step) - f(x)) / eps
                return grad
        """, r"one-sided difference")),
        ("02_backprop", Wrong("linear_forward", "bias added twice", """
            def linear_forward(x, W, b):
                return x @ W + 2 * b, (x, W, b)
        """, "")),
        ("02_backprop", Wrong("sigmoid_backward", "derivative from the input", """
            def sigmoid_forward(x):
                s = 0.5 * (1 + np.tanh(x / 2))
                return s, x

            def sigmoid_backward(dout, cache):
                return dout * cache * (1 - cache)
        """, r"with the \*input\* x")),
        ("02_backprop", Wrong("Value", "exp's derivative exp(x) * x", value_with(
            "        return self._unary(math.exp(self.data), math.exp(self.data))",
            "        return self._unary(math.exp(self.data), math.exp(self.data) * self.data)"),
            r"is x exp\(x\)")),
        ("02_backprop", Wrong("Value", "mul forgets out.grad", value_with(
            "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
            "            self.grad += other.data\n            other.grad += self.data"),
            r"ignores the gradient arriving from above")),
        ("03_optimizers", Wrong("sgd_momentum", "velocity scaled by lr inside, then again outside", """
            def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
                v = momentum * state.get("v", 0.0) + lr * dw
                return w - lr * v, {"v": v}
        """, "")),
        ("03_optimizers", Wrong("adam", "beta1 and beta2 swapped", adam_with(
            "    m = beta1 * state.get(\"m\", 0.0) + (1 - beta1) * dw\n"
            "    v = beta2 * state.get(\"v\", 0.0) + (1 - beta2) * dw ** 2\n",
            "    m = beta2 * state.get(\"m\", 0.0) + (1 - beta2) * dw\n"
            "    v = beta1 * state.get(\"v\", 0.0) + (1 - beta1) * dw ** 2\n"), "")),
        ("03_optimizers", Wrong("gradient_descent", "steps with the gradient at x0 every time", """
            def gradient_descent(grad_fn, x0, lr, steps):
                x = np.array(x0, dtype=float)
                g = grad_fn(x)
                path = [x.copy()]
                for _ in range(steps):
                    x = x - lr * g
                    path.append(x.copy())
                return np.array(path)
        """, "")),
        ("04_training", Wrong("num_iterations", "drop_last ignored", """
            def num_iterations(n_samples, batch_size, drop_last=False):
                return -(-n_samples // batch_size)
        """, r"round down")),
        ("04_training", Wrong("accuracy", "compares probabilities with labels", """
            def accuracy(logits, labels):
                return float(np.mean(np.max(logits, axis=1) == labels))
        """, "")),
        ("04_training", Wrong("train", "val_loss of the best epoch reported every epoch", train_with(
            '        history.append(entry)\n',
            '        if history and patience is not None:\n'
            '            entry["val_loss"] = min(entry["val_loss"], history[-1]["val_loss"])\n'
            '        history.append(entry)\n'), "")),
    ]


# Correct, written differently: each must earn full marks with no claim.
HELDOUT_CORRECT = [
    ("02_backprop", "the activation applied before every linear layer but the first", """
            def mlp_loss_and_grads(params, X, y, activation="relu"):
                act_f, act_b = {"relu": (relu_forward, relu_backward),
                                "sigmoid": (sigmoid_forward, sigmoid_backward)}[activation]
                L = len(params) // 2
                h, caches = X, []
                for l in range(1, L + 1):
                    ac = None
                    if l > 1:
                        h, ac = act_f(h)
                    h, lc = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
                    caches.append((lc, ac))
                loss, dh = softmax_cross_entropy(h, y)
                grads = {}
                for l in range(L, 0, -1):
                    lc, ac = caches[l - 1]
                    dh, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dh, lc)
                    if ac is not None:
                        dh = act_b(dh, ac)
                return loss, grads
        """),
    ("03_optimizers", "CS231n momentum, v = mu v - lr dw", """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            v = momentum * state.get("v", np.zeros_like(w)) - lr * dw
            return w + v, {"v": v}
    """),
    ("01_losses", "softmax through scipy-style logsumexp by hand", """
        def softmax(logits):
            m = np.max(logits, axis=-1, keepdims=True)
            return np.exp(logits - m - np.log(np.sum(np.exp(logits - m), axis=-1, keepdims=True)))
    """),
]
