"""Assignment 03: known-wrong optimizers lose the points of what they break, with the mistake
named; optimizers written in other correct styles earn full marks."""

from __future__ import annotations

import numpy as np
import pytest
from catalogue import Wrong
from conftest import reference
from gaps import Gap

from autograder.checks.optimizers import KNOWN_HYPER, KNOWN_STEPS, known_path

ASSIGNMENT = "03_optimizers"

# A notebook whose functions do nothing: it earns 0 (tests/checks/test_null_notebooks.py).
NULL = """
    import numpy as np

    def gradient_descent(grad_fn, x0, lr, steps):
        return np.stack([np.array(x0, dtype=float)] * (steps + 1))

    def sgd(w, dw, state, lr=0.01):
        return w.copy(), state

    def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
        return w.copy(), state

    def adam(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        return w.copy(), state

    def adamw(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        return w.copy(), state

    Q1 = Q2 = Q3 = None
    """

# A correct Adam written step by step, which the wrong variants change in one place each.
ADAM = """
def adam(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}
"""

ADAMW = """
def adamw(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw ** 2
    w = w - lr * weight_decay * w
    step = lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return w - step, {"t": t, "m": m, "v": v}
"""


def edit(code: str, old: str, new: str) -> str:
    assert old in code, old
    return code.replace(old, new)


WRONG = [
    Wrong("adam", "no bias correction", edit(ADAM, "    m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)\n",
                                             "    m_hat, v_hat = m, v\n"), r"bias correction"),
    Wrong("adam", "t off by one (starts at 2)", edit(ADAM, 't = state.get("t", 0) + 1', 't = state.get("t", 1) + 1'),
          r"off by one"),
    Wrong("adam", "t incremented after the bias correction", edit(
        edit(ADAM, 't = state.get("t", 0) + 1', 't = state.get("t", 0)'),
        '{"t": t, "m": m, "v": v}', '{"t": t + 1, "m": m, "v": v}'), r"increment t before"),
    Wrong("adam", "eps inside the square root", edit(ADAM, "np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"),
          r"after the square root"),
    Wrong("adam", "state not carried over", edit(ADAM, 't = state.get("t", 0) + 1', "state = {}\n    t = 1"),
          r"state is not carried over"),
    Wrong("adam", "state not returned", edit(ADAM, ', {"t": t, "m": m, "v": v}', ""), r"tuple \(w_next, state\)"),
    Wrong("adam", "one state shared by every parameter", """
        SHARED = {}

        def adam(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
            SHARED["t"] = SHARED.get("t", 0) + 1
            t = SHARED["t"]
            SHARED["m"] = beta1 * SHARED.get("m", 0.0) + (1 - beta1) * dw
            SHARED["v"] = beta2 * SHARED.get("v", 0.0) + (1 - beta2) * dw ** 2
            m_hat = SHARED["m"] / (1 - beta1 ** t)
            v_hat = SHARED["v"] / (1 - beta2 ** t)
            return w - lr * m_hat / (np.sqrt(v_hat) + eps), state
    """, r"global variable"),
    Wrong("adam", "writes into w", edit(ADAM, "    return w - lr * m_hat / (np.sqrt(v_hat) + eps), {",
                                        "    w -= lr * m_hat / (np.sqrt(v_hat) + eps)\n    return w, {"),
          r"modified its input `w` in place"),
    Wrong("adamw", "L2 in the gradient instead of decoupled decay", edit(
        edit(ADAMW, "    w = w - lr * weight_decay * w\n", ""),
        "    t = state", "    dw = dw + weight_decay * w\n    t = state"), r"L2 regularisation"),
    Wrong("adamw", "decay not scaled by lr", edit(ADAMW, "w = w - lr * weight_decay * w", "w = w - weight_decay * w"),
          r"not scaled by the learning rate"),
    Wrong("adamw", "decay applied after the step", edit(
        edit(ADAMW, "    w = w - lr * weight_decay * w\n", ""),
        "    return w - step, {", "    return (w - step) * (1 - lr * weight_decay), {"), r"after the Adam step"),
    Wrong("adamw", "no weight decay", edit(ADAMW, "    w = w - lr * weight_decay * w\n", ""), r"plain Adam"),
    Wrong("sgd_momentum", "EMA form of momentum", """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            v = momentum * state.get("v", 0.0) + (1 - momentum) * dw
            return w - lr * v, {"v": v}
    """, r"EMA form"),
    Wrong("sgd_momentum", "Nesterov instead of plain momentum", """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            v = momentum * state.get("v", 0.0) + dw
            return w - lr * (dw + momentum * v), {"v": v}
    """, r"Nesterov"),
    Wrong("sgd_momentum", "velocity not carried over", """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            v = momentum * 0.0 + dw
            return w - lr * v, {"v": v}
    """, r"state is not carried over"),
    Wrong("sgd", "ascent instead of descent", """
        def sgd(w, dw, state, lr=0.01):
            return w + lr * dw, state
    """, r"uphill"),
    Wrong("sgd", "ignores lr", """
        def sgd(w, dw, state, lr=0.01):
            return w - dw, state
    """, r"multiply the update by lr"),
    Wrong("gradient_descent", "trajectory rows alias one array", """
        def gradient_descent(grad_fn, x0, lr, steps):
            x = np.array(x0, dtype=float)
            path = [x]
            for _ in range(steps):
                x -= lr * grad_fn(x)
                path.append(x)
            return np.array(path)
    """, r"same array again"),
    Wrong("gradient_descent", "forgets x0 in the trajectory", """
        def gradient_descent(grad_fn, x0, lr, steps):
            path, x = [], x0
            for _ in range(steps):
                x = x - lr * grad_fn(x)
                path.append(x)
            return np.array(path)
    """, r"steps \+ 1 rows"),
    Wrong("gradient_descent", "ascent", """
        def gradient_descent(grad_fn, x0, lr, steps):
            path = [x0]
            for _ in range(steps):
                path.append(path[-1] + lr * grad_fn(path[-1]))
            return np.array(path)
    """, r"doesn't add it|uphill"),
    Wrong("Q2", "off by one", "Q2 = 30", r"not the right answer.*\n.*check that step in your trajectory"),
]


WRONG += [
    # mistakes students make that earlier catalogues did not name (each with the signature that proves it)
    Wrong("adam", "v not bias-corrected (a first step 1/sqrt(1 - beta2) = 31.6 times too large)", edit(
        ADAM, "    v_hat = v / (1 - beta2 ** t)\n", "    v_hat = v\n"), r"v is not bias-corrected"),
    Wrong("adam", "m not bias-corrected", edit(ADAM, "    m_hat = m / (1 - beta1 ** t)\n", "    m_hat = m\n"),
          r"m is not bias-corrected"),
    Wrong("adam", "moments started at the first gradient", edit(edit(
        ADAM, 'state.get("m", 0.0)', 'state.get("m", dw)'), 'state.get("v", 0.0)', 'state.get("v", dw ** 2)'),
        r"start at the first gradient"),
    Wrong("adamw", "decay of the wrong sign", edit(ADAMW, "w = w - lr * weight_decay * w", "w = w + lr * weight_decay * w"),
          r"decay has the wrong sign"),
    Wrong("sgd_momentum", "the state aliases the caller's gradient", """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            if "v" not in state:
                state["v"] = dw
            else:
                state["v"] *= momentum
                state["v"] += dw
            return w - lr * state["v"], state
    """, r"state keeps the very array it was given"),
]

# Wrong in ways no catalogued mistake describes: the feedback shows evidence, and claims nothing.
NEAR_MISSES = [
    Wrong("adam", "a step off by 3e-7 (relative)", edit(
        ADAM, "    return w - lr * m_hat", "    return w - lr * (1 + 3e-7) * m_hat"), r"1\.0000003 times the expected"),
    Wrong("adam", "eps fixed at 1e-6 inside", edit(ADAM, "np.sqrt(v_hat) + eps", "np.sqrt(v_hat) + 1e-6"),
          r"worst element"),
    Wrong("sgd_momentum", "momentum applied twice", """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            v = momentum * (momentum * state.get("v", 0.0)) + dw
            return w - lr * v, {"v": v}
    """, r"worst element"),
]


GAPS = [
    # What an earlier version of the checks let through or named wrongly: a property check that
    # scored without right values, a stand-in that never did what a real argument may do.
    Gap(Wrong("sgd", "returns w unchanged", """
        def sgd(w, dw, state, lr=0.01):
            return w.copy(), state
    """, r"w_next is w unchanged"), check=r"does not modify"),
    Gap(Wrong("sgd", "returns zeros", """
        def sgd(w, dw, state, lr=0.01):
            return np.zeros_like(w), state
    """, r"all zeros"), check=r"converges"),
    Gap(Wrong("sgd", "returns the step instead of w_next", """
        def sgd(w, dw, state, lr=0.01):
            return lr * dw, state
    """, r"returns the step itself")),
    Gap(Wrong("sgd_momentum", "never stores the velocity (plain SGD)", """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            return w - lr * dw, state
    """, r"state is not carried over"), check=r"one state per parameter|does not modify"),
    Gap(Wrong("sgd_momentum", "velocity in a global, reset on a fresh state", """
        VELOCITY = {}

        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            if not state:
                VELOCITY.clear()
            v = momentum * VELOCITY.get("v", 0.0) + dw
            VELOCITY["v"] = v
            return w - lr * v, {"t": state.get("t", 0) + 1}
    """, r"goes wrong at step 2(.|\n)*global variable"), check=r"one state per parameter"),
    Gap(Wrong("adam", "t still 0 on the first call (NaN), not a global state", edit(
        edit(ADAM, 't = state.get("t", 0) + 1', 't = state.get("t", 0)'),
        '{"t": t, "m": m, "v": v}', '{"t": t + 1, "m": m, "v": v}'), r"increment t before"),
        check=r"one state per parameter|does not modify", absent=r"global variable|remembers something"),
    Gap(Wrong("adam", "no square root in the denominator", edit(ADAM, "np.sqrt(v_hat) + eps", "v_hat + eps"),
              r"no square root")),
    Gap(Wrong("adam", "v averages dw, not dw ** 2", edit(ADAM, "(1 - beta2) * dw ** 2", "(1 - beta2) * dw"),
              r"square root of a\s+negative number"), absent=r"global variable"),
    Gap(Wrong("adam", "eps inside the square root, seen with tiny gradients", edit(
        ADAM, "np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)"), r"eps is inside the square root"),
        check=r"known steps"),
    Gap(Wrong("adam", "a default eps other than the signature's", edit(ADAM, "eps=1e-8", "eps=1e-6"),
              r"defaults"), check=r"converges", absent=r"inside the square root"),
    Gap(Wrong("adamw", "state not carried over", edit(ADAMW, 't = state.get("t", 0) + 1', "state = {}\n    t = 1"),
              r"state is not carried over"), check=r"known steps|one state per parameter"),
    Gap(Wrong("gradient_descent", "scales what grad_fn returned in place", """
        def gradient_descent(grad_fn, x0, lr, steps):
            x = np.array(x0, dtype=float)
            path = [x.copy()]
            for _ in range(steps):
                g = grad_fn(x)
                g *= lr
                x = x - g
                path.append(x)
            return np.array(path)
    """, r"changed what grad_fn returned in place"), check=r"any shape"),
    Gap(Wrong("gradient_descent", "never moves", """
        def gradient_descent(grad_fn, x0, lr, steps):
            return np.stack([np.array(x0, dtype=float)] * (steps + 1))
    """, r"never leaves x0"), absent=r"same array again"),
]


CORRECT = {
    "PyTorch-style denominators, state updated in place": """
        def adam(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
            if not state:
                state.update(step=0, exp_avg=np.zeros_like(w), exp_avg_sq=np.zeros_like(w))
            state["step"] += 1
            state["exp_avg"] = state["exp_avg"] * beta1 + (1 - beta1) * dw
            state["exp_avg_sq"] = state["exp_avg_sq"] * beta2 + (1 - beta2) * dw * dw
            bias_correction1 = 1 - beta1 ** state["step"]
            bias_correction2 = 1 - beta2 ** state["step"]
            denom = np.sqrt(state["exp_avg_sq"]) / np.sqrt(bias_correction2) + eps
            return w - (lr / bias_correction1) * state["exp_avg"] / denom, state

        def adamw(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
            return adam(w * (1 - lr * weight_decay), dw, state, lr, beta1, beta2, eps)
    """,
    "lazily initialised velocity (as PyTorch), preallocated trajectory": """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            if "momentum_buffer" not in state:
                buf = np.array(dw, copy=True)
            else:
                buf = state["momentum_buffer"] * momentum + dw
            return w - lr * buf, {**state, "momentum_buffer": buf}

        def gradient_descent(grad_fn, x0, lr, steps):
            path = np.empty((steps + 1,) + np.shape(x0))
            path[0] = x0
            for k in range(steps):
                path[k + 1] = path[k] - lr * grad_fn(path[k].copy())
            return path
    """,
    "velocity buffer updated in place inside the state, which is returned": """
        def sgd_momentum(w, dw, state, lr=0.01, momentum=0.9):
            buf = state.setdefault("buf", np.zeros_like(w))
            buf *= momentum
            buf += dw
            return w - lr * buf, state

        def gradient_descent(grad_fn, x0, lr, steps):
            x = np.asarray(x0, dtype=float)
            path = np.empty((steps + 1,) + x.shape)
            path[0] = x
            for k in range(1, steps + 1):
                x = x - lr * np.asarray(grad_fn(x))
                path[k] = x
            return path
    """,
    "textbook hats with a new dict, copy-based sgd": ADAM + ADAMW + """
def sgd(w, dw, state, lr=0.01):
    new_w = w.copy()
    new_w -= lr * dw
    return new_w, dict(state)

Q1 = "a"
Q2 = 31.0
Q3 = 1 + 0.9 + 0.81
""",
}


@pytest.mark.parametrize("name", sorted(KNOWN_STEPS))
def test_the_known_steps_are_the_references_for_both_parameters(name):
    # The second parameter of the one-state-per-parameter check is the known one permuted: its
    # expected path is the known path permuted, exactly, for a rule that acts element by element.
    optimizer = reference("03_optimizers").values[name]
    for parameter in "AB":
        w, grads, expected = known_path(name, parameter)
        state: dict = {}
        for dw, w_expected in zip(grads, expected, strict=True):
            w, state = optimizer(w, dw, state, **KNOWN_HYPER[name])
            np.testing.assert_allclose(w, w_expected, rtol=1e-12, atol=1e-15)
