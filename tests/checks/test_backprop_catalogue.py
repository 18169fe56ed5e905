"""Assignment 02: known-wrong implementations lose the points of what they break, with the
mistake named; correct implementations written in other styles earn full marks."""

from __future__ import annotations

import re
import sys

import pytest
from catalogue import Wrong, assert_full_marks
from conftest import grade, namespace_with, reference

from autograder.assignments import get_assignment
from autograder.core import run_checks

ASSIGNMENT = "02_backprop"

# A notebook whose functions do nothing: it earns 0 (tests/checks/test_null_notebooks.py).
NULL = """
    import numpy as np

    class Value:
        def __init__(self, data, _children=(), _op=""):
            self.data, self.grad = data, 0.0
        def _new(self, *args):
            return Value(0.0)
        __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _new
        __truediv__ = __rtruediv__ = __pow__ = __neg__ = _new
        exp = log = tanh = relu = sigmoid = _new
        def backward(self):
            pass

    def numerical_gradient(f, x, eps=1e-6):
        return np.zeros_like(x, dtype=float)

    def linear_forward(x, W, b):
        return np.zeros((x.shape[0], W.shape[1])), (x, W, b)

    def linear_backward(dout, cache):
        x, W, b = cache
        return np.zeros_like(x), np.zeros_like(W), np.zeros_like(b)

    def relu_forward(x):
        return np.zeros_like(x), x

    def relu_backward(dout, cache):
        return np.zeros_like(dout)

    def sigmoid_forward(x):
        return np.zeros_like(x), x

    def sigmoid_backward(dout, cache):
        return np.zeros_like(dout)

    def softmax_cross_entropy(logits, labels):
        return 0.0, np.zeros_like(logits)

    def mlp_loss_and_grads(params, X, y, activation="relu"):
        return 0.0, {k: np.zeros_like(v) for k, v in params.items()}

    Q1 = Q2 = Q3 = None
    """


@pytest.fixture(autouse=True)
def default_recursion_limit():
    """Variants may raise the recursion limit; every test starts from Python's default."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(limit)


# A correct Value in micrograd's style (a recursive topological sort), which the wrong
# variants below change in one place each.
VALUE = '''
import math
import sys

class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = Value(self.data ** k, (self,))
        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def _unary(self, value, derivative):
        out = Value(value, (self,))
        def _backward():
            self.grad += derivative * out.grad
        out._backward = _backward
        return out

    def exp(self):
        return self._unary(math.exp(self.data), math.exp(self.data))

    def log(self):
        return self._unary(math.log(self.data), 1 / self.data)

    def tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1 - t ** 2)

    def relu(self):
        return self._unary(max(0.0, self.data), float(self.data > 0))

    def sigmoid(self):
        s = 0.5 * (1 + math.tanh(self.data / 2))
        return self._unary(s, s * (1 - s))

    def backward(self):
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
        topo, visited = [], set()
        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)
        build(self)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()

    def __neg__(self): return self * -1
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return other + (-self)
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other ** -1
    def __rtruediv__(self, other): return other * self ** -1
'''


def value_with(old: str, new: str) -> str:
    assert old in VALUE, old
    return VALUE.replace(old, new)


WRONG = [
    Wrong("Value", "= instead of += (a reused node loses gradient)", value_with(
        "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
        "            self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
    ), r"self\.grad \+="),
    Wrong("Value", "walks the graph without a topological order", value_with(
        "        self.grad = 1.0\n        for v in reversed(topo):\n            v._backward()",
        "        self.grad = 1.0\n        queue = [self]\n        while queue:\n"
        "            v = queue.pop(0)\n            v._backward()\n            queue.extend(v._prev)",
    ), r"topological order"),
    Wrong("Value", "breadth-first order with a visited set", value_with(
        "        self.grad = 1.0\n        for v in reversed(topo):\n            v._backward()",
        "        self.grad = 1.0\n        queue, seen = [self], {self}\n        while queue:\n"
        "            v = queue.pop(0)\n            v._backward()\n"
        "            for c in v._prev:\n                if c not in seen:\n"
        "                    seen.add(c)\n                    queue.append(c)",
    ), r"topological order"),
    Wrong("Value", "recursion depth exceeded", value_with(
        "        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))\n", "",
    ), r"RecursionError.*explicit stack"),
    Wrong("Value", "wrong tanh derivative",
          value_with("return self._unary(t, 1 - t ** 2)", "return self._unary(t, 1 - t)"), r"tanh"),
    Wrong("Value", "rsub computes self - other", value_with(
        "def __rsub__(self, other): return other + (-self)",
        "def __rsub__(self, other): return self - other"),
          r"2 - a"),
    Wrong("Value", "rtruediv computes self / other", value_with(
        "def __rtruediv__(self, other): return other * self ** -1",
        "def __rtruediv__(self, other): return self * other ** -1"), r"2 / a"),
    Wrong("numerical_gradient", "one-sided difference", """
        def numerical_gradient(f, x, eps=1e-6):
            grad = np.zeros_like(x)
            fx = f(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + eps
                grad[i] = (f(x) - fx) / eps
                x[i] = old
            return grad
    """, r"one-sided difference"),
    Wrong("numerical_gradient", "x left perturbed", """
        def numerical_gradient(f, x, eps=1e-6):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + eps
                fp = f(x)
                x[i] = old - eps
                fm = f(x)
                grad[i] = (fp - fm) / (2 * eps)
            return grad
    """, r"changed x"),
    Wrong("numerical_gradient", "divides by eps instead of 2 eps", """
        def numerical_gradient(f, x, eps=1e-6):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                step = np.zeros_like(x)
                step[i] = eps
                grad[i] = (f(x + step) - f(x - step)) / eps
            return grad
    """, r"divides by 2 eps, not eps"),
    Wrong("numerical_gradient", "ignores eps", """
        def numerical_gradient(f, x, eps=1e-6):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                step = np.zeros_like(x)
                step[i] = 1e-6
                grad[i] = (f(x + step) - f(x - step)) / 2e-6
            return grad
    """, r"ignores? its eps"),
    Wrong("linear_forward", "forgets the bias", """
        def linear_forward(x, W, b):
            return x @ W, (x, W, b)
    """, r"bias is missing"),
    Wrong("linear_backward", "transposed dW", """
        def linear_backward(dout, cache):
            x, W, b = cache
            return dout @ W.T, dout.T @ x, dout.sum(axis=0)
    """, r"right gradient, transposed"),
    Wrong("linear_backward", "db averaged instead of summed", """
        def linear_backward(dout, cache):
            x, W, b = cache
            return dout @ W.T, x.T @ dout, dout.mean(axis=0)
    """, r"sum dout over the batch, don't average"),
    Wrong("linear_backward", "dW divided by the batch size", """
        def linear_backward(dout, cache):
            x, W, b = cache
            return dout @ W.T, x.T @ dout / x.shape[0], dout.sum(axis=0)
    """, r"don't divide by the batch size"),
    Wrong("relu_forward", "writes into x", """
        def relu_forward(x):
            x[x < 0] = 0.0
            return x, x
    """, r"modified its input `x` in place"),
    Wrong("relu_backward", "missing ReLU mask", """
        def relu_backward(dout, cache):
            return dout.copy()
    """, r"mask is missing"),
    Wrong("relu_backward", "zeroes dout in place", """
        def relu_backward(dout, cache):
            dout[cache <= 0] = 0.0
            return dout
    """, r"modified its input `dout` in place"),
    Wrong("relu_backward", "inverted mask", """
        def relu_backward(dout, cache):
            return dout * (cache < 0)
    """, r"mask is inverted"),
    Wrong("sigmoid_backward", "wrong sigmoid derivative (s only)", """
        def sigmoid_backward(dout, cache):
            return dout * cache
    """, r"derivative is s\(x\) \(1 - s\(x\)\)"),
    Wrong("sigmoid_backward", "derivative from the input instead of the output", """
        def sigmoid_forward(x):
            s = 1 / (1 + np.exp(-x))
            return s, (x, s)

        def sigmoid_backward(dout, cache):
            x, s = cache
            return dout * x * (1 - x)
    """, r"\*input\* x"),
    Wrong("mlp_loss_and_grads", "two layers hard-coded", """
        def mlp_loss_and_grads(params, X, y, activation="relu"):
            act_f, act_b = {"relu": (relu_forward, relu_backward),
                            "sigmoid": (sigmoid_forward, sigmoid_backward)}[activation]
            h1, c1 = linear_forward(X, params["W1"], params["b1"])
            a1, ca = act_f(h1)
            logits, c2 = linear_forward(a1, params["W2"], params["b2"])
            loss, dlogits = softmax_cross_entropy(logits, y)
            da1, dW2, db2 = linear_backward(dlogits, c2)
            dx, dW1, db1 = linear_backward(act_b(da1, ca), c1)
            return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    """, r"it looks up W\d, but this network has \d layer"),
    Wrong("mlp_loss_and_grads", "activation applied to the output layer", """
        def mlp_loss_and_grads(params, X, y, activation="relu"):
            act_f, act_b = {"relu": (relu_forward, relu_backward),
                            "sigmoid": (sigmoid_forward, sigmoid_backward)}[activation]
            L = len(params) // 2
            h, caches = X, []
            for l in range(1, L + 1):
                h, lc = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
                h, ac = act_f(h)
                caches.append((lc, ac))
            loss, dh = softmax_cross_entropy(h, y)
            grads = {}
            for l in range(L, 0, -1):
                lc, ac = caches[l - 1]
                dh, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(act_b(dh, ac), lc)
            return loss, grads
    """, r"applied to the output layer"),
    Wrong("mlp_loss_and_grads", "gradients summed instead of averaged over the batch", """
        def mlp_loss_and_grads(params, X, y, activation="relu"):
            act_f, act_b = {"relu": (relu_forward, relu_backward),
                            "sigmoid": (sigmoid_forward, sigmoid_backward)}[activation]
            L = len(params) // 2
            h, caches = X, []
            for l in range(1, L + 1):
                h, lc = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
                ac = None
                if l < L:
                    h, ac = act_f(h)
                caches.append((lc, ac))
            z = h - h.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            loss = -np.mean(np.log(p[np.arange(len(y)), y]))
            dh = p.copy()
            dh[np.arange(len(y)), y] -= 1
            grads = {}
            for l in range(L, 0, -1):
                lc, ac = caches[l - 1]
                if ac is not None:
                    dh = act_b(dh, ac)
                dh, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dh, lc)
            return loss, grads
    """, r"times too large"),
    # gaps the earlier checks let through, or did not name
    Wrong("numerical_gradient", "reuses one buffer per shape without zeroing it (state between calls)", """
        _buffers = {}

        def numerical_gradient(f, x, eps=1e-6):
            grad = _buffers.setdefault(x.shape, np.zeros(x.shape))
            for i in np.ndindex(x.shape):
                step = np.zeros(x.shape)
                step[i] = eps
                grad[i] += (f(x + step) - f(x - step)) / (2 * eps)
            return grad.copy()
    """, r"called again with exactly the same inputs, it returns a different result"),
    Wrong("relu_backward", "builds its mask in the cache (the caller's x)", """
        def relu_backward(dout, cache):
            mask = cache
            mask[mask > 0] = 1.0
            mask[mask <= 0] = 0.0
            return dout * mask
    """, r"modified its input `cache` in place"),
    Wrong("sigmoid_backward", "computes s (1 - s) in the cache", """
        def sigmoid_backward(dout, cache):
            s = cache
            s *= 1 - s
            return dout * s
    """, r"modified its input `cache` in place"),
    Wrong("mlp_loss_and_grads", "ignores activation (always relu)", """
        def mlp_loss_and_grads(params, X, y, activation="relu"):
            L = len(params) // 2
            h, caches = X, []
            for l in range(1, L + 1):
                h, lc = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
                ac = None
                if l < L:
                    h, ac = relu_forward(h)
                caches.append((lc, ac))
            loss, dh = softmax_cross_entropy(h, y)
            grads = {}
            for l in range(L, 0, -1):
                lc, ac = caches[l - 1]
                if ac is not None:
                    dh = relu_backward(dh, ac)
                dh, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dh, lc)
            return loss, grads
    """, r"this is what relu gives, although activation='sigmoid'"),
    Wrong("mlp_loss_and_grads", "defaults to sigmoid", """
        def mlp_loss_and_grads(params, X, y, activation="sigmoid"):
            act_f, act_b = {"relu": (relu_forward, relu_backward),
                            "sigmoid": (sigmoid_forward, sigmoid_backward)}[activation]
            L = len(params) // 2
            h, caches = X, []
            for l in range(1, L + 1):
                h, lc = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
                ac = None
                if l < L:
                    h, ac = act_f(h)
                caches.append((lc, ac))
            loss, dh = softmax_cross_entropy(h, y)
            grads = {}
            for l in range(L, 0, -1):
                lc, ac = caches[l - 1]
                if ac is not None:
                    dh = act_b(dh, ac)
                dh, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dh, lc)
            return loss, grads
    """, r"the default must be relu"),
    Wrong("mlp_loss_and_grads", "takes the layers in the order of params' keys", """
        def mlp_loss_and_grads(params, X, y, activation="relu"):
            act_f, act_b = {"relu": (relu_forward, relu_backward),
                            "sigmoid": (sigmoid_forward, sigmoid_backward)}[activation]
            Ws = [v for k, v in params.items() if k.startswith("W")]
            bs = [v for k, v in params.items() if k.startswith("b")]
            h, caches = X, []
            for i, (W, b) in enumerate(zip(Ws, bs)):
                h, lc = linear_forward(h, W, b)
                ac = None
                if i < len(Ws) - 1:
                    h, ac = act_f(h)
                caches.append((lc, ac))
            loss, dh = softmax_cross_entropy(h, y)
            grads = {}
            for i in range(len(Ws) - 1, -1, -1):
                lc, ac = caches[i]
                if ac is not None:
                    dh = act_b(dh, ac)
                dh, grads[f"W{i + 1}"], grads[f"b{i + 1}"] = linear_backward(dh, lc)
            return loss, grads
    """, r"depends on the order of the keys in params"),
    Wrong("Q1", "forward order", 'Q1 = "A"', r"not the right answer.*\n.*order of the forward pass"),
    Wrong("Q1", "any order", 'Q1 = "c"', r"the order matters"),
    Wrong("Q2", "dy/dc instead of dy/da", "Q2 = 2", r"not the right answer.*\n.*∂y/∂c"),
    Wrong("Q2", "the value of y", "Q2 = 8.0", r"value of y itself"),
    Wrong("Q2", "the local derivative only", "Q2 = 1", r"chain rule"),
    Wrong("Q3", "moves with the gradient", "Q3 = 0.08", r"\*against\* the gradient"),
    Wrong("Q3", "forgets the learning rate", "Q3 = -0.8", r"scaled by the learning rate"),
    Wrong("Q3", "divides by the learning rate", "Q3 = -8", r"you divided by it"),
]


# A correct MLP built from the layers, which the wrong variants below change in one place each.
MLP = """
def mlp_loss_and_grads(params, X, y, activation="relu"):
    act_f, act_b = {"relu": (relu_forward, relu_backward),
                    "sigmoid": (sigmoid_forward, sigmoid_backward)}[activation]
    L = len(params) // 2
    h, caches = X, []
    for l in range(1, L + 1):
        h, lc = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
        ac = None
        if l < L:
            h, ac = act_f(h)
        caches.append((lc, ac))
    loss, dh = softmax_cross_entropy(h, y)
    grads = {}
    for l in range(L, 0, -1):
        lc, ac = caches[l - 1]
        if ac is not None:
            dh = act_b(dh, ac)
        dh, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dh, lc)
    return loss, grads
"""


def mlp_with(old: str, new: str) -> str:
    assert old in MLP, old
    return MLP.replace(old, new)


WRONG += [
    # mistakes students make that earlier catalogues did not name (each with the signature that proves it)
    Wrong("numerical_gradient", "a relative step, eps * |x|", """
        def numerical_gradient(f, x, eps=1e-6):
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                h = eps * abs(x[i])
                step = np.zeros_like(x)
                step[i] = h
                grad[i] = (f(x + step) - f(x - step)) / (2 * h)
            return grad
    """, r"the step is relative"),
    Wrong("Value", "tanh's derivative without the square", value_with(
        "        return self._unary(t, 1 - t ** 2)", "        return self._unary(t, 1 - t)"),
        r"square is missing"),
    Wrong("Value", "exp's derivative is x", value_with(
        "        return self._unary(math.exp(self.data), math.exp(self.data))",
        "        return self._unary(math.exp(self.data), self.data)"), r"derivative of exp\(x\) is exp\(x\) itself"),
    Wrong("Value", "relu without its mask", value_with(
        "        return self._unary(max(0.0, self.data), float(self.data > 0))",
        "        return self._unary(max(0.0, self.data), 1.0)"), r"derivative is 0 where x < 0"),
    Wrong("Value", "the division's gradient with respect to b has the wrong sign", value_with(
        "    def __truediv__(self, other): return self * other ** -1",
        "    def __truediv__(self, other):\n"
        "        other = other if isinstance(other, Value) else Value(other)\n"
        "        out = Value(self.data / other.data, (self, other))\n"
        "        def _backward():\n"
        "            self.grad += out.grad / other.data\n"
        "            other.grad += self.data / other.data ** 2 * out.grad\n"
        "        out._backward = _backward\n"
        "        return out"), r"a / b with respect to b has the wrong sign"),
    Wrong("Value", "backward never seeds the output's gradient", value_with(
        "        self.grad = 1.0\n        for v in reversed(topo):", "        for v in reversed(topo):"),
        r"out\.grad should be 1"),
    Wrong("relu_backward", "multiplies by x instead of the mask", """
        def relu_backward(dout, cache):
            return dout * cache
    """, r"dx is dout times x"),
    Wrong("linear_backward", "a layer object that scales its stored input in place", """
        class Dense:
            def __init__(self, x, W, b):
                self.inputs, self.weights = x, W

            def backward(self, dout):
                dW = self.inputs.T @ dout
                self.inputs *= 0.0
                return dout @ self.weights.T, dW, dout.sum(axis=0)

        def linear_forward(x, W, b):
            return x @ W + b, Dense(x, W, b)

        def linear_backward(dout, cache):
            return cache.backward(dout)
    """, r"modified its input `cache` in place"),
    Wrong("mlp_loss_and_grads", "backward skips the activation's derivative", mlp_with(
        "            dh = act_b(dh, ac)\n", "            pass\n"), r"passes back through the hidden activations"),
]

NEAR_MISSES = [
    Wrong("linear_backward", "db not summed over the batch", """
        def linear_backward(dout, cache):
            x, W, b = cache
            return dout @ W.T, x.T @ dout, dout
    """, r"extra axis of length \d+ in front"),
    Wrong("Value", "tanh's derivative scaled by 1.5", value_with(
        "        return self._unary(t, 1 - t ** 2)", "        return self._unary(t, 1.5 * (1 - t ** 2))"),
        r"a\.grad should be"),
]


CORRECT = {
    "Value with a recursive topological sort and a raised recursion limit": VALUE,
    "einsum layers, ReLU mask from the output, copying numerical gradient": """
        def linear_forward(x, W, b):
            return np.einsum("nd,dm->nm", x, W) + b, {"x": x, "W": W}

        def linear_backward(dout, cache):
            return (np.einsum("nm,dm->nd", dout, cache["W"]), np.einsum("nd,nm->dm", cache["x"], dout),
                    np.einsum("nm->m", dout))

        def relu_forward(x):
            out = np.where(x > 0, x, 0.0)
            return out, out

        def relu_backward(dout, cache):
            return np.where(cache > 0, dout, 0.0)

        def numerical_gradient(f, x, eps=1e-6):
            x = np.array(x, dtype=float)
            grad = np.empty_like(x)
            for i in range(x.size):
                plus, minus = x.copy(), x.copy()
                plus.flat[i] += eps
                minus.flat[i] -= eps
                grad.flat[i] = (f(plus) - f(minus)) / (2 * eps)
            return grad
    """,
    "sigmoid through tanh, a while-loop MLP, Python float answers": """
        def sigmoid_forward(x):
            s = 0.5 * (1 + np.tanh(0.5 * x))
            return s, {"s": s}

        def sigmoid_backward(dout, cache):
            s = cache["s"]
            return dout * (s - s * s)

        def mlp_loss_and_grads(params, X, y, activation="relu"):
            layers = {"relu": (relu_forward, relu_backward), "sigmoid": (sigmoid_forward, sigmoid_backward)}
            act_f, act_b = layers[activation]
            stack, h, l = [], X, 1
            while f"W{l}" in params:
                h, lc = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
                stack.append(("linear", l, lc))
                if f"W{l + 1}" in params:
                    h, ac = act_f(h)
                    stack.append(("act", l, ac))
                l += 1
            loss, dh = softmax_cross_entropy(h, y)
            grads = {}
            for kind, l, cache in reversed(stack):
                if kind == "act":
                    dh = act_b(dh, cache)
                else:
                    dh, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dh, cache)
            return np.float64(loss), grads

        Q2 = 4.0
        Q3 = -0.1 * 0.8
        Q1 = "b"
    """,
}


CORRECT["Value with Kahn's algorithm, __slots__, list children and its own division"] = """
import math

class Value:
    __slots__ = ("data", "grad", "_backward", "_prev", "_op")

    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = list(_children)
        self._op = _op

    @staticmethod
    def lift(other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = Value.lift(other)
        out = Value(self.data + other.data, (self, other), "+")
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = Value.lift(other)
        out = Value(self.data * other.data, (self, other), "*")
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = Value.lift(other)
        out = Value(self.data / other.data, (self, other), "/")
        def _backward():
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / other.data ** 2
        out._backward = _backward
        return out

    def __rtruediv__(self, other):
        return Value.lift(other) / self

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + -Value.lift(other)

    def __rsub__(self, other):
        return Value.lift(other) - self

    def __pow__(self, k):
        out = Value(self.data ** k, (self,), "**")
        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def _unary(self, value, slope, op):
        out = Value(value, (self,), op)
        def _backward():
            self.grad += slope * out.grad
        out._backward = _backward
        return out

    def exp(self):
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self):
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def relu(self):
        return self._unary(self.data if self.data > 0 else 0.0, 1.0 if self.data > 0 else 0.0, "relu")

    def sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.data)) if self.data >= 0 else math.exp(self.data) / (1.0 + math.exp(self.data))
        return self._unary(s, s * (1.0 - s), "sigmoid")

    def backward(self):
        # Kahn's algorithm: a node passes its gradient on once every node that uses it has
        users, seen, stack = {}, {id(self)}, [self]
        while stack:
            node = stack.pop()
            for child in node._prev:
                users[id(child)] = users.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
        self.grad = 1.0
        ready = [self]
        while ready:
            node = ready.pop()
            node._backward()
            for child in node._prev:
                users[id(child)] -= 1
                if users[id(child)] == 0:
                    ready.append(child)
"""

CORRECT["caches as objects of the student's own classes"] = """
    from dataclasses import dataclass

    class LinearCache:
        def __init__(self, x, W):
            self.x, self.W = x, W

    def linear_forward(x, W, b):
        return x @ W + b, LinearCache(x, W)

    def linear_backward(dout, cache):
        return dout @ cache.W.T, cache.x.T @ dout, dout.sum(axis=0)

    @dataclass
    class Mask:
        keep: np.ndarray

    def relu_forward(x):
        return np.maximum(x, 0.0), Mask(x > 0)

    def relu_backward(dout, cache):
        return dout * cache.keep

    class SigmoidCache(dict):
        pass

    def sigmoid_forward(x):
        s = np.exp(-np.logaddexp(0.0, -x))
        return s, SigmoidCache(s=s)

    def sigmoid_backward(dout, cache):
        return dout * cache["s"] * (1.0 - cache["s"])
"""

CORRECT["nnfs-style layer objects as caches, keeping their gradients as attributes"] = """
    class Dense:
        def forward(self, x, W, b):
            self.inputs, self.weights = x, W
            self.output = x @ W + b
            return self.output

        def backward(self, dvalues):
            self.dweights = self.inputs.T @ dvalues
            self.dbiases = np.sum(dvalues, axis=0)
            self.dinputs = dvalues @ self.weights.T
            return self.dinputs, self.dweights, self.dbiases

    class ReLU:
        def forward(self, x):
            self.inputs = x
            self.output = np.maximum(0, x)
            return self.output

        def backward(self, dvalues):
            self.dinputs = dvalues.copy()
            self.dinputs[self.inputs <= 0] = 0
            return self.dinputs

    def linear_forward(x, W, b):
        layer = Dense()
        return layer.forward(x, W, b), layer

    def linear_backward(dout, cache):
        return cache.backward(dout)

    def relu_forward(x):
        layer = ReLU()
        return layer.forward(x), layer

    def relu_backward(dout, cache):
        return cache.backward(dout)
"""
CORRECT["a recursive MLP that looks layers up by name, numerical gradient with nditer"] = """
    def mlp_loss_and_grads(params, X, y, activation="relu"):
        act_f, act_b = {"relu": (relu_forward, relu_backward),
                        "sigmoid": (sigmoid_forward, sigmoid_backward)}[activation]
        depth = max(int(key[1:]) for key in params)
        grads = {}

        def through(layer, h):
            z, lc = linear_forward(h, params[f"W{layer}"], params[f"b{layer}"])
            if layer == depth:
                loss, dz = softmax_cross_entropy(z, y)
            else:
                a, ac = act_f(z)
                loss, da = through(layer + 1, a)
                dz = act_b(da, ac)
            dh, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(dz, lc)
            return loss, dh

        return through(1, X)[0], grads

    def numerical_gradient(f, x, eps=1e-6):
        grad = np.zeros(x.shape)
        it = np.nditer(x, flags=["multi_index"])
        for _ in it:
            i = it.multi_index
            plus, minus = x.copy(), x.copy()
            plus[i] += eps
            minus[i] -= eps
            grad[i] = (float(f(plus)) - float(f(minus))) / (2 * eps)
        return grad
"""


def test_a_namedtuple_cache_earns_full_marks():
    assert_full_marks("02_backprop", "namedtuple caches", """
        from collections import namedtuple

        LinearCache = namedtuple("LinearCache", "x W")

        def linear_forward(x, W, b):
            return x @ W + b, LinearCache(x, W)

        def linear_backward(dout, cache):
            return dout @ cache.W.T, cache.x.T @ dout, dout.sum(axis=0)
    """)


def test_a_nan_result_is_named_as_such_and_never_as_state():
    """NaN != NaN: a graph whose gradients are NaN every time does not change between runs."""
    results = grade("02_backprop", value_with("        self.grad = 0.0\n", "        self.grad = math.nan\n"))
    failed = [r for r in results if r.function == "Value" and not r.passed]
    assert len(failed) == 7
    for result in failed:
        assert "NaN" in result.feedback, result.feedback
    assert not any("gives different numbers" in r.feedback or "besides its arguments" in r.feedback
                   for r in results), "a NaN result was taken for state"


@pytest.mark.parametrize("where", ["isolated", "in the notebook's kernel"])
def test_feedback_never_shows_a_memory_address(where):
    """Objects of the student's classes are named by their class, never by repr's address."""
    code = """
        class Box:
            def __init__(self, value):
                self.value = value

        class Value:
            def __init__(self, data, _children=(), _op=""):
                self.data, self.grad = Box(data), Box(0.0)

        def linear_forward(x, W, b):
            return Box(x @ W + b), (x, W, b)

        def mlp_loss_and_grads(params, X, y, activation="relu"):
            return Box(0.0), Box({})

        Q1 = Box("B")
    """
    if where == "isolated":
        results = grade("02_backprop", code)
    else:
        results = run_checks(get_assignment("02_backprop"), namespace_with("02_backprop", code),
                             reference("02_backprop"))
    feedback = "\n".join(r.feedback for r in results)
    assert "Box" in feedback
    assert not re.search(r"0x[0-9a-fA-F]{4,}", feedback), feedback

