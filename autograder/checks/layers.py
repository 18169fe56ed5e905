"""Checks for assignment 02, part B: numerical gradients, layers and a multi-layer perceptron.

Backward functions receive the cache made by the student's own forward function (its
layout is theirs to choose); their results are compared with central differences
(public) and with the reference (hidden), on shapes where D != M so that a transposed
gradient cannot pass, and on points kept away from ReLU's kink.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product

import numpy as np

from autograder.checks import check
from autograder.checks.compare import CheckFailed, Mistake, as_array, as_number, assert_close
from autograder.checks.diagnosis import diagnose
from autograder.checks.gradients import assert_matches_finite_differences, central_differences
from autograder.checks.toolbox import (
    STATE_HINT,
    FirstFailure,
    assert_inputs_unchanged,
    explained_by_state,
    type_name,
    unpack,
    values_first,
    with_hint,
)

LAYER_SHAPES = [(1, 3, 2), (4, 5, 3), (7, 2, 6), (16, 10, 4)]  # (N, D, M), D != M


# --- inputs and results ---------------------------------------------------------------------

def layer_case(seed: int, n: int, d: int, m: int, scale: float = 1.0):
    """x (N, D), W (D, M), b (M,) and an upstream gradient dout (N, M)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, d)) * scale, rng.normal(size=(d, m)), rng.normal(size=m),
            rng.normal(size=(n, m)))


def away_from_zero(x: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """``x`` with every element at least ``margin`` from 0 (finite differences and kinks)."""
    return np.where(x >= 0, x + margin, x - margin)




def forward(layer, who: str, *args):
    """Call a forward function; return (out, cache)."""
    return unpack(layer(*args), who, ("out", "cache"))


def shape_text(n: int, d: int, m: int, seed: int) -> str:
    return f"x of shape ({n}, {d}), W of shape ({d}, {m}), seed {seed}"


# --- numerical_gradient ------------------------------------------------------------------

class Function:
    """A function of an array returning a number, as a real ``f`` may: a Python float, a NumPy
    scalar or a 0-d array (``returns``). Feedback shows it by its formula."""

    __name__ = "f"

    def __init__(self, text: str, formula: Callable[[np.ndarray], object], returns: str = "float"):
        self.text, self.formula, self.returns = text, formula, returns

    def __call__(self, x: np.ndarray) -> object:
        value = self.formula(np.asarray(x))
        return {"float": float, "numpy": np.float64, "0-d array": np.asarray}[self.returns](value)

    def __repr__(self) -> str:
        return f"f(x) = {self.text}"

    @property
    def returning(self) -> str:
        return {"float": "a float", "numpy": "a NumPy float", "0-d array": "a 0-d array"}[self.returns]


def cube_sum(x: np.ndarray) -> float:
    return float(np.sum(x**3))


def numerical_gradient_mistakes(f, x: np.ndarray, eps: float) -> list[Mistake]:
    def one_sided():
        grad = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[index] = eps
            grad[index] = (f(x + step) - f(x)) / eps
        return grad

    def relative_step():
        grad = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[index] = eps * abs(x[index])
            grad[index] = (f(x + step) - f(x - step)) / (2 * step[index])
        return grad

    return [
        Mistake("this is the one-sided difference (f(x + eps) - f(x)) / eps, whose error shrinks "
                "only like eps. Use the central difference (f(x + eps) - f(x - eps)) / (2 eps).", one_sided),
        Mistake("the step is relative, eps * |x[i]|: move each element by eps itself, "
                "(f(x + eps e_i) - f(x - eps e_i)) / (2 eps).", relative_step),
    ]


NUMERICAL_FACTORS = {
    2.0: "your estimate is twice the true gradient: the central difference divides by 2 eps, not eps.",
    0.5: "your estimate is half the true gradient: divide by 2 eps, not 4 eps.",
    -1.0: "your estimate has the wrong sign: it is (f(x + eps) - f(x - eps)) / (2 eps).",
}


def known_gradient_cases(rng: np.random.Generator) -> list[tuple[Function, Callable, np.ndarray]]:
    """Functions with their exact gradients, on x of several shapes; f returns each kind of
    number a real one may."""
    w = rng.normal(size=(2, 3, 2))
    return [
        (Function("sum(x ** 3)", lambda x: np.sum(x**3)), lambda x: 3 * x**2,
         rng.uniform(0.5, 2.0, size=(3, 4))),
        (Function("sum(sin(x))", lambda x: np.sum(np.sin(x)), "numpy"), np.cos, rng.normal(size=(5,))),
        (Function("sum(x[0] * x[1]) for x of shape (2, 3)", lambda x: np.sum(x[0] * x[1]), "0-d array"),
         lambda x: x[::-1].copy(), rng.normal(size=(2, 3))),
        (Function("sum(w * x ** 2) for x of shape (2, 3, 2)", lambda x, w=w: np.sum(w * x**2), "numpy"),
         lambda x, w=w: 2 * w * x, rng.normal(size=(2, 3, 2))),
        (Function("x[0] ** 4 for x of shape (1,)", lambda x: x[0] ** 4, "0-d array"), lambda x: 4 * x**3,
         rng.uniform(0.5, 1.5, size=(1,))),
    ]


@check("numerical_gradient", "matches known gradients on every element", 0.5)
def numerical_gradient_known(numerical_gradient):
    trials = FirstFailure()
    for f, exact, x in trials.over(known_gradient_cases(np.random.default_rng(50))):
        with trials:
            for call in ("", ", called a second time"):  # a gradient estimate is the same every time
                with explained_by_state(lambda f=f, x=x: numerical_gradient(f, x)):
                    got = as_array(numerical_gradient(f, x), "numerical_gradient", x.shape)
                    assert_close(got, exact(x), who="numerical_gradient", rtol=1e-7, atol=1e-8,
                                 case=f"{f!r}, x of shape {x.shape} (f returns {f.returning}){call}",
                                 factors=NUMERICAL_FACTORS, mistakes=numerical_gradient_mistakes(f, x, 1e-6))


@check("numerical_gradient", "uses its eps argument", 0.5)
def numerical_gradient_eps(numerical_gradient):
    x = np.random.default_rng(51).uniform(0.5, 2.0, size=(4,))
    eps = 1e-3
    f = Function("sum(x ** 3)", cube_sum)
    got = as_array(numerical_gradient(f, x, eps=eps), "numerical_gradient", x.shape)
    expected = central_differences(cube_sum, x, eps)  # 3 x^2 + eps^2: eps shows
    if np.allclose(got, 3 * x**2, rtol=1e-9, atol=1e-10):
        raise CheckFailed(
            "numerical_gradient(f, x, eps=1e-3) gives 3 x², the exact derivative of f(x) = sum(x ** 3), "
            "where central differences with a step of 1e-3 give 3 x² + 1e-6: it steps by much less than the "
            "eps it is given.\n  Likely mistake: it ignores its eps argument (a fixed step inside, or a "
            "default that overrides it).", mistake="it ignores its eps argument.",
        )
    assert_close(got, expected, who="numerical_gradient", rtol=1e-9, atol=1e-10,
                 case="f(x) = sum(x ** 3) with eps=1e-3", factors=NUMERICAL_FACTORS,
                 mistakes=numerical_gradient_mistakes(cube_sum, x, eps))


@check("numerical_gradient", "leaves x unchanged", 0.5, property=True)
def numerical_gradient_restores_x(numerical_gradient):
    x = np.random.default_rng(52).normal(size=(3, 2))
    f = Function("sum(x ** 2)", lambda z: np.sum(z**2), "numpy")
    with values_first("Leaving x unchanged"):
        got = as_array(numerical_gradient(f, x), "numerical_gradient", x.shape)
    if "x" in numerical_gradient.modified:
        raise CheckFailed(
            "numerical_gradient changed x: after the call it differs from what was passed in. "
            "If you perturb x[i] in place, save its value first and put that value back after "
            "evaluating f (x[i] = saved): adding and subtracting eps again leaves rounding errors. "
            "Or perturb a copy.",
            mistake="numerical_gradient changed x: put each perturbed element back.",
        )
    with values_first("Leaving x unchanged"):  # central differences of a quadratic are exact
        assert_close(got, 2 * x, who="numerical_gradient", rtol=1e-6, atol=1e-8,
                     case=f"{f!r}, x of shape {x.shape}", factors=NUMERICAL_FACTORS,
                     mistakes=numerical_gradient_mistakes(f, x, 1e-6))


@check("numerical_gradient", "matches the reference on random functions", 1.0, hidden=True)
def numerical_gradient_matches_reference(numerical_gradient, reference):
    ref = reference.function("numerical_gradient")
    trials = FirstFailure()
    returned_as = [((5,), "float"), ((3, 4), "numpy"), ((2, 3, 2), "0-d array"), ((1,), "numpy")]
    for seed, (shape, returns) in trials.over(enumerate(returned_as)):
        with trials:
            rng = np.random.default_rng(550 + seed)
            a, c = rng.normal(size=shape), rng.normal(size=shape)
            f = Function("sum(tanh(a x) c) + |x|",
                         lambda x, a=a, c=c: np.sum(np.tanh(x * a) * c) + np.sum(x**2) ** 0.5, returns)
            x = rng.normal(size=shape)
            with explained_by_state(lambda f=f, x=x: numerical_gradient(f, x)):
                got = as_array(numerical_gradient(f, x), "numerical_gradient", shape)
                assert_close(got, ref(f, x), who="numerical_gradient", rtol=1e-6, atol=1e-9,
                             case=f"{f!r}, x of shape {shape}, seed {550 + seed} (f returns {f.returning})",
                             factors=NUMERICAL_FACTORS, mistakes=numerical_gradient_mistakes(f, x, 1e-6))


# --- linear layer ---------------------------------------------------------------------------

@check("linear_forward", "matches known values", 0.5)
def linear_forward_known(linear_forward):
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = np.array([0.5, -1.0])
    out, _ = forward(linear_forward, "linear_forward", x, W, b)
    out = as_array(out, "linear_forward (out)", (2, 2))
    assert_close(out, np.array([[4.5, 4.0], [10.5, 10.0]]), who="linear_forward",
                 case="x of shape (2, 3), W of shape (3, 2)",
                 mistakes=[Mistake("the bias is missing: out = x @ W + b.", lambda: x @ W)])


@check("linear_forward", "does not modify its inputs", 0.5, property=True)
def linear_forward_inputs_unchanged(linear_forward):
    x, W, b, _ = layer_case(60, 4, 3, 2)
    with values_first("Leaving the inputs unchanged"):
        out, _ = forward(linear_forward, "linear_forward", x, W, b)
        out = as_array(out, "linear_forward (out)", (4, 2))
    assert_inputs_unchanged(linear_forward, ("x", "W", "b"))
    expected = np.einsum("nd,dm->nm", x, W) + b  # out[n, m] = sum_d x[n, d] W[d, m] + b[m]
    with values_first("Leaving the inputs unchanged"):
        assert_close(out, expected, who="linear_forward", case=shape_text(4, 3, 2, 60),
                     mistakes=[Mistake("the bias is missing: out = x @ W + b.", lambda: x @ W)])


@check("linear_forward", "matches the reference on random shapes", 1.0, hidden=True)
def linear_forward_matches_reference(linear_forward, reference):
    ref = reference.function("linear_forward")
    trials = FirstFailure()
    for seed, (n, d, m) in trials.over(enumerate(LAYER_SHAPES)):
        with trials:
            x, W, b, _ = layer_case(600 + seed, n, d, m)
            out, _ = forward(linear_forward, "linear_forward", x, W, b)
            out = as_array(out, "linear_forward (out)", (n, m))
            assert_close(out, ref(x, W, b)[0], who="linear_forward", case=shape_text(n, d, m, 600 + seed))


def linear_backward_factors(n: int, name: str) -> dict[float, str]:
    if n == 1:
        return {}
    if name == "db":
        return {1 / n: f"db is 1/{n} of the expected one: sum dout over the batch, don't average "
                "it (the loss's 1/N is already inside dout)."}
    return {1 / n: f"{name} is 1/{n} of the expected one: don't divide by the batch size here; "
            "the loss's 1/N is already inside dout."}


def gradient_of_shape(value: object, who: str, right: Callable[[], np.ndarray], shape: tuple[int, ...],
                      ) -> np.ndarray:
    """`as_array`; a result of the reversed shape that holds exactly the right gradient's transpose
    is named as such (that is proof, where the shape alone is not)."""
    try:
        return as_array(value, who, shape)
    except CheckFailed as failure:
        transposed = (isinstance(value, np.ndarray) and value.ndim == 2 and value.shape == shape[::-1]
                      and value.dtype.kind == "f" and np.allclose(value.T, right(), rtol=1e-5, atol=1e-7))
        if not transposed:
            raise
        hint = (f"{who} holds the right gradient, transposed: it should have the shape of what it is the "
                "gradient of (for dW = x.T @ dout, W's shape (D, M)).")
        raise CheckFailed(f"{failure}\n  Likely mistake: {hint}", mistake=hint) from None


def check_linear_gradients(got: tuple, expected: tuple, n: int, case: str) -> None:
    shapes = [e.shape for e in expected]
    for name, value, exp, shape in zip(("dx", "dW", "db"), got, expected, shapes, strict=True):
        value = gradient_of_shape(value, f"linear_backward ({name})", lambda exp=exp: exp, shape)
        assert_close(value, exp, who=f"linear_backward ({name})", case=case,
                     factors=linear_backward_factors(n, name))


def linear_losses(linear_forward, x, W, b, dout) -> dict:
    """For dx, dW and db: the point and the scalar function sum(out * dout) of that input."""

    def loss(x_, W_, b_):
        return np.sum(forward(linear_forward, "linear_forward", x_, W_, b_)[0] * dout)

    return {
        "dx": (x, lambda z: loss(z, W, b)),
        "dW": (W, lambda z: loss(x, z, b)),
        "db": (b, lambda z: loss(x, W, z)),
    }


@check("linear_backward", "agrees with finite differences; dout and cache unchanged", 1.0)
def linear_backward_finite_differences(linear_backward, own_linear_forward, linear_forward):
    trials = FirstFailure()
    for seed, (n, d, m) in trials.over(enumerate([(3, 4, 2), (1, 2, 5)])):
        with trials:
            x, W, b, dout = layer_case(61 + seed, n, d, m)
            _, cache = forward(own_linear_forward, "linear_forward", x, W, b)
            got = unpack(linear_backward(dout, cache), "linear_backward", ("dx", "dW", "db"))
            assert_inputs_unchanged(linear_backward, ("dout", "cache"))
            case = shape_text(n, d, m, 61 + seed)
            for (name, (point, loss)), value in zip(linear_losses(linear_forward, x, W, b, dout).items(), got,
                                                     strict=True):
                gradient_of_shape(value, f"linear_backward ({name})",
                                  lambda loss=loss, point=point: central_differences(loss, point),
                                  point.shape)
                assert_matches_finite_differences(
                    value, loss, point, who=f"linear_backward ({name})",
                    loss_name="sum(linear_forward(x, W, b) * dout)", case=case,
                    factors=linear_backward_factors(n, name),
                )


@check("linear_backward", "matches the reference on random shapes", 1.0, hidden=True)
def linear_backward_matches_reference(linear_backward, own_linear_forward, reference):
    ref_forward, ref_backward = reference.function("linear_forward"), reference.function("linear_backward")
    trials = FirstFailure()
    for seed, (n, d, m) in trials.over(enumerate(LAYER_SHAPES)):
        with trials:
            x, W, b, dout = layer_case(610 + seed, n, d, m)
            _, cache = forward(own_linear_forward, "linear_forward", x, W, b)
            got = unpack(linear_backward(dout, cache), "linear_backward", ("dx", "dW", "db"))
            expected = ref_backward(dout, ref_forward(x, W, b)[1])
            check_linear_gradients(got, expected, n, shape_text(n, d, m, 610 + seed))


# --- activations ---------------------------------------------------------------------------

@check("relu_forward", "matches known values without modifying x", 0.5)
def relu_forward_known(relu_forward):
    x = np.array([[-2.0, 0.5], [3.0, -0.1]])
    out, _ = forward(relu_forward, "relu_forward", x)
    assert_close(as_array(out, "relu_forward (out)", x.shape), np.array([[0.0, 0.5], [3.0, 0.0]]),
                 who="relu_forward", case="x=[[-2.0, 0.5], [3.0, -0.1]]")
    assert_inputs_unchanged(relu_forward, ("x",))


@check("relu_forward", "matches the reference on random inputs", 0.5, hidden=True)
def relu_forward_matches_reference(relu_forward, reference):
    ref = reference.function("relu_forward")
    for seed, shape in enumerate([(4, 3), (1, 7), (2, 3, 4)]):
        x = np.random.default_rng(620 + seed).normal(size=shape)
        out, _ = forward(relu_forward, "relu_forward", x)
        assert_close(as_array(out, "relu_forward (out)", shape), ref(x)[0], who="relu_forward",
                     case=f"x of shape {shape}, seed {620 + seed}")


def relu_mistakes(x: np.ndarray, dout: np.ndarray) -> list[Mistake]:
    return [
        Mistake("dx is dout times the ReLU's *output* max(x, 0); the derivative is the mask (x > 0), "
                "1 where x > 0 and 0 elsewhere.", lambda: dout * np.maximum(x, 0)),
        Mistake("dx is dout times x; the ReLU's derivative is the mask (x > 0), 1 where x > 0 and 0 "
                "elsewhere.", lambda: dout * x),
        Mistake("dx equals dout: the ReLU mask is missing. Multiply by (x > 0): where the "
                "input was negative, no gradient flows back.", lambda: dout),
        Mistake("the mask is inverted: gradient should flow where x > 0, not where x < 0.",
                lambda: dout * (x < 0)),
        Mistake("you masked by the sign of dout; the mask depends on the layer's input x.",
                lambda: dout * (dout > 0)),
    ]


@check("relu_backward", "agrees with finite differences (away from the kink); dout and cache unchanged", 0.5)
def relu_backward_finite_differences(relu_backward, own_relu_forward, relu_forward):
    trials = FirstFailure()
    for seed, shape in trials.over([(63, (4, 3)), (64, (2, 5))]):
        with trials:
            rng = np.random.default_rng(seed)
            x, dout = away_from_zero(rng.normal(size=shape)), rng.normal(size=shape)
            _, cache = forward(own_relu_forward, "relu_forward", x)
            dx = as_array(relu_backward(dout, cache), "relu_backward", shape)
            assert_inputs_unchanged(relu_backward, ("dout", "cache"))
            case = f"x of shape {shape}, seed {seed}"
            estimate = central_differences(
                lambda z, dout=dout: float(np.sum(forward(relu_forward, "relu_forward", z)[0] * dout)),
                x)
            assert_close(dx, estimate, who="relu_backward", rtol=1e-5, atol=1e-7, case=case,
                         mistakes=relu_mistakes(x, dout))


@check("relu_backward", "matches the reference on random inputs", 0.5, hidden=True)
def relu_backward_matches_reference(relu_backward, own_relu_forward, reference):
    ref_forward, ref_backward = reference.function("relu_forward"), reference.function("relu_backward")
    trials = FirstFailure()
    for seed, shape in trials.over(enumerate([(4, 3), (1, 7), (2, 3, 4)])):
        with trials:
            rng = np.random.default_rng(630 + seed)
            x, dout = away_from_zero(rng.normal(size=shape)), rng.normal(size=shape)
            _, cache = forward(own_relu_forward, "relu_forward", x)
            dx = as_array(relu_backward(dout, cache), "relu_backward", shape)
            assert_close(dx, ref_backward(dout, ref_forward(x)[1]), who="relu_backward",
                         case=f"x of shape {shape}, seed {630 + seed}", mistakes=relu_mistakes(x, dout))


@check("sigmoid_forward", "matches known values, finite for |x| = 1000, x unchanged", 0.5)
def sigmoid_forward_known(sigmoid_forward):
    x = np.array([[0.0, np.log(3.0), -np.log(3.0)], [-1000.0, 1000.0, 40.0]])
    expected = np.array([[0.5, 0.75, 0.25], [0.0, 1.0, 1 / (1 + np.exp(-40.0))]])
    out, _ = forward(sigmoid_forward, "sigmoid_forward", x)
    out = as_array(out, "sigmoid_forward (out)", x.shape)
    if not np.all(np.isfinite(out)):
        raise CheckFailed("sigmoid_forward returns NaN or inf for x = -1000 or 1000. Avoid exp of a "
                          "large positive number: for x < 0 use exp(x) / (1 + exp(x)).")
    assert_close(out, expected, who="sigmoid_forward", case="x=[[0, ln 3, -ln 3], [-1000, 1000, 40]]")
    assert_inputs_unchanged(sigmoid_forward, ("x",))


@check("sigmoid_forward", "matches the reference on random inputs", 0.5, hidden=True)
def sigmoid_forward_matches_reference(sigmoid_forward, reference):
    ref = reference.function("sigmoid_forward")
    for seed, (shape, scale) in enumerate(product([(4, 3), (2, 3, 4)], [1.0, 10.0])):
        x = np.random.default_rng(640 + seed).normal(size=shape) * scale
        out, _ = forward(sigmoid_forward, "sigmoid_forward", x)
        assert_close(as_array(out, "sigmoid_forward (out)", shape), ref(x)[0], who="sigmoid_forward",
                     case=f"x of shape {shape}, scale {scale:g}, seed {640 + seed}")


def sigmoid_mistakes(x: np.ndarray, dout: np.ndarray) -> list[Mistake]:
    s = 1 / (1 + np.exp(-x))
    return [
        Mistake("you multiplied by s(x) only; the derivative is s(x) (1 - s(x)).", lambda: dout * s),
        Mistake("you multiplied by 1 - s(x) only; the derivative is s(x) (1 - s(x)).",
                lambda: dout * (1 - s)),
        Mistake("you used x (1 - x) with the *input* x; the derivative is s (1 - s) with the "
                "sigmoid's output s.", lambda: dout * x * (1 - x)),
        Mistake("dx equals dout: multiply by the sigmoid's derivative s (1 - s).", lambda: dout),
        Mistake("the sigmoid is applied twice: the cache already holds s = sigmoid(x), and dx is "
                "dout * s (1 - s) with that s itself.", lambda: dout * sigmoid_of(s) * (1 - sigmoid_of(s))),
    ]


def sigmoid_of(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(x / 2))


@check("sigmoid_backward", "agrees with finite differences; dout and cache unchanged", 0.5)
def sigmoid_backward_finite_differences(sigmoid_backward, own_sigmoid_forward, sigmoid_forward):
    trials = FirstFailure()
    for seed, shape in trials.over([(65, (4, 3)), (66, (2, 5))]):
        with trials:
            rng = np.random.default_rng(seed)
            x, dout = rng.normal(size=shape) * 2, rng.normal(size=shape)
            _, cache = forward(own_sigmoid_forward, "sigmoid_forward", x)
            dx = as_array(sigmoid_backward(dout, cache), "sigmoid_backward", shape)
            assert_inputs_unchanged(sigmoid_backward, ("dout", "cache"))
            estimate = central_differences(
                lambda z, dout=dout: float(np.sum(forward(sigmoid_forward, "sigmoid_forward", z)[0] * dout)),
                x)
            assert_close(dx, estimate, who="sigmoid_backward", rtol=1e-5, atol=1e-7,
                         case=f"x of shape {shape}, seed {seed}", mistakes=sigmoid_mistakes(x, dout))


@check("sigmoid_backward", "matches the reference on random inputs", 0.5, hidden=True)
def sigmoid_backward_matches_reference(sigmoid_backward, own_sigmoid_forward, reference):
    ref_forward, ref_backward = reference.function("sigmoid_forward"), reference.function("sigmoid_backward")
    trials = FirstFailure()
    for seed, shape in trials.over(enumerate([(4, 3), (1, 7), (2, 3, 4)])):
        with trials:
            rng = np.random.default_rng(650 + seed)
            x, dout = rng.normal(size=shape) * 3, rng.normal(size=shape)
            _, cache = forward(own_sigmoid_forward, "sigmoid_forward", x)
            dx = as_array(sigmoid_backward(dout, cache), "sigmoid_backward", shape)
            assert_close(dx, ref_backward(dout, ref_forward(x)[1]), who="sigmoid_backward",
                         case=f"x of shape {shape}, seed {650 + seed}", mistakes=sigmoid_mistakes(x, dout))


# --- the multi-layer perceptron ------------------------------------------------------------

# A real params dict may list its keys in any order (one an optimizer or a training loop built),
# and a real caller may pass activation by keyword, by position, or not at all (train() in
# assignment 04 calls loss_and_grads(params, X, y)). The checks do all of these.
ORDERS = ("as written", "reversed", "biases first")
OTHER = {"relu": "sigmoid", "sigmoid": "relu"}
ACTIVATIONS = {"relu": lambda h: np.maximum(h, 0.0), "sigmoid": lambda h: 0.5 * (1 + np.tanh(h / 2))}


def layer_of(key: str) -> tuple[int, bool]:
    return int(key[1:]), key[0] == "b"


def in_order(params: dict[str, np.ndarray], order: str) -> dict[str, np.ndarray]:
    """``params`` with its keys in ``order`` (one of `ORDERS`)."""
    keys = sorted(params, key=layer_of)  # W1, b1, W2, b2, ...
    if order == "reversed":
        keys.reverse()
    elif order == "biases first":
        keys.sort(key=lambda k: (k[0] != "b", layer_of(k)))
    return {k: params[k] for k in keys}


def order_text(params: dict) -> str:
    return ", ".join(params)


def make_params(seed: int, sizes: list[int], order: str = "as written") -> dict[str, np.ndarray]:
    """W1, b1, ..., WL, bL for layer sizes [D, H1, ..., C] (He-style scale), keys in ``order``."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{layer}"] = rng.normal(size=(fan_in, fan_out)) * np.sqrt(2 / fan_in)
        params[f"b{layer}"] = rng.normal(size=fan_out) * 0.1
    return in_order(params, order)


def mlp_case(seed: int, sizes: list[int], n: int, order: str = "as written"):
    rng = np.random.default_rng(seed + 1)
    return (make_params(seed, sizes, order), rng.normal(size=(n, sizes[0])),
            rng.integers(0, sizes[-1], size=n))


@dataclass(frozen=True)
class MlpCall:
    """How a check calls mlp_loss_and_grads: activation by keyword, by position, or left to its
    default ("relu")."""

    activation: str
    style: str = "keyword"

    def __call__(self, mlp_loss_and_grads, params, X, y) -> object:
        if self.style == "positional":
            return mlp_loss_and_grads(params, X, y, self.activation)
        if self.style == "default":  # only ever with "relu", the default
            return mlp_loss_and_grads(params, X, y)
        return mlp_loss_and_grads(params, X, y, activation=self.activation)

    @property
    def text(self) -> str:
        return {"keyword": f"activation={self.activation!r}", "positional": f"{self.activation!r} passed "
                "positionally", "default": "activation not given (the default, 'relu')"}[self.style]


def call_mlp(mlp_loss_and_grads, params, X, y, call: MlpCall, who="mlp_loss_and_grads"):
    """(loss, grads) of one call, checked for form: a number, and a dict like params."""
    try:
        result = call(mlp_loss_and_grads, params, X, y)
    except CheckFailed as failure:
        missing = re.search(r"raised KeyError: '([Wb])(\d+)'", str(failure))
        layers = sum(key.startswith("W") for key in params)
        if missing and int(missing.group(2)) > layers and failure.kind is None:
            key = missing.group(1) + missing.group(2)
            hint = (f"it looks up {key}, but this network has {layers} layer(s): params holds W1, b1, ..., "
                    "WL, bL for any depth L. Loop over the layers instead of naming them.")
            raise CheckFailed(f"{failure}\n  Likely mistake: {hint}", mistake=hint) from None
        raise
    loss, grads = unpack(result, who, ("loss", "grads"))
    loss = as_number(loss, f"{who} (loss)")
    if not isinstance(grads, dict):
        raise CheckFailed(f"{who} should return grads as a dict like params, not {type_name(grads)}.")
    if set(grads) != set(params):
        raise CheckFailed(
            f"{who}: grads should have the keys of params {sorted(params)}, but has "
            f"{sorted(map(str, grads))}."
            + (f" It lacks {sorted(set(params) - set(grads))}: does the code reach every layer, W1, b1, ..., "
               "WL, bL?" if set(params) - set(grads) else "")
        )
    return loss, {k: as_array(g, f"{who} (grads[{k!r}])", params[k].shape) for k, g in grads.items()}


def oracle_loss(oracle, params, X, y, activation: str) -> float:
    """The loss the oracle (the reference's, or a proven own version) computes."""
    return as_number(unpack(oracle(params, X, y, activation=activation), "mlp_loss_and_grads",
                            ("loss", "grads"))[0], "mlp_loss_and_grads (loss)")


def log_softmax_row(z: np.ndarray) -> np.ndarray:
    return z - z.max(axis=-1, keepdims=True) - np.log(np.sum(np.exp(z - z.max(axis=-1, keepdims=True)),
                                                            axis=-1, keepdims=True))


def forward_loss(params, X, y, hidden: Callable | None, output: Callable | None = None) -> float:
    """The mean cross-entropy of a network whose hidden layers apply ``hidden`` (None: nothing)
    and whose output layer applies ``output``: expected values and known mistakes."""
    layers = sum(key.startswith("W") for key in params)
    h = X
    for layer in range(1, layers + 1):
        h = h @ params[f"W{layer}"] + params[f"b{layer}"]
        if layer < layers and hidden is not None:
            h = hidden(h)
    if output is not None:
        h = output(h)
    return float(-log_softmax_row(h)[np.arange(len(y)), y].mean())


def ignores_activation(activation: str) -> str:
    return (f"this is what {OTHER[activation]} gives, although activation={activation!r}: apply the "
            "activation the argument names after every hidden layer.")


def loss_mistakes(params, X, y, activation: str) -> list[Mistake]:
    act, other = ACTIVATIONS[activation], ACTIVATIONS[OTHER[activation]]
    return [
        Mistake(ignores_activation(activation), lambda: forward_loss(params, X, y, other)),
        Mistake(f"the loss is what you get with {activation} applied to the output layer too. The last "
                "layer is linear: its output goes straight into softmax cross-entropy.",
                lambda: forward_loss(params, X, y, act, act)),
        Mistake("the loss is that of the network without any activation: apply the activation after "
                "every hidden layer.", lambda: forward_loss(params, X, y, None)),
    ]


SIGNATURE = 'mlp_loss_and_grads(params, X, y, activation="relu")'
DEFAULT_HINT = ("called without activation, it does not compute what activation='relu' gives: the "
                f"default must be relu, as in the signature {SIGNATURE}.")


def close_results(a: object, b: object) -> bool:
    """Whether two results of mlp_loss_and_grads agree (numbers to rounding, NaN equal to NaN)."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(close_results(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close_results(a[k], b[k]) for k in a)
    try:
        a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a_.shape == b_.shape and bool(np.allclose(a_, b_, rtol=1e-9, atol=1e-15, equal_nan=True))


def explain_mlp(mlp_loss_and_grads, params, X, y, call: MlpCall) -> str | None:
    """Why a call went wrong when its result depends on something it must not: earlier calls,
    how activation was passed, or the order of params' keys. A plain call with params in their
    usual order is the baseline; None when nothing of the kind shows (or the baseline fails)."""
    plain, usual = MlpCall(call.activation), in_order(params, "as written")
    try:
        base = plain(mlp_loss_and_grads, usual, X, y)
    except CheckFailed:
        return None

    def differs(variant: Callable[[], object]) -> bool:
        try:
            return not close_results(base, variant())
        except CheckFailed:  # fails only this way: that is the difference
            return True

    if differs(lambda: plain(mlp_loss_and_grads, usual, X, y)):
        return STATE_HINT
    if call.style != "keyword" and differs(lambda: call(mlp_loss_and_grads, usual, X, y)):
        return DEFAULT_HINT if call.style == "default" else (
            f"passed positionally, activation does not work as it does as a keyword: keep the signature "
            f"{SIGNATURE}.")
    if list(params) != list(usual) and differs(lambda: plain(mlp_loss_and_grads, params, X, y)):
        return (f"the result depends on the order of the keys in params (here {order_text(params)}), "
                "and a dict may list them in any order. Look each layer up by name, params[f\"W{l}\"] "
                "and params[f\"b{l}\"] for l = 1, ..., L, rather than by position.")
    return None


def other_activation_hint(oracle, grads: dict, params, X, y, activation: str) -> str | None:
    """`ignores_activation` if ``grads`` are the oracle's for the other activation."""
    if sum(key.startswith("W") for key in params) < 2:
        return None  # without a hidden layer the activation changes nothing
    try:
        _, other = unpack(oracle(params, X, y, activation=OTHER[activation]), "mlp_loss_and_grads",
                          ("loss", "grads"))
    except CheckFailed:
        return None
    return ignores_activation(activation) if close_results(grads, other) else None


def loss_hint(loss: float | None, params, X, y, activation: str) -> str | None:
    """The known mistake the loss of the same call proves (the gradients follow their loss)."""
    right = forward_loss(params, X, y, ACTIVATIONS[activation])
    if loss is None or np.isclose(loss, right, rtol=1e-9, atol=1e-12):
        return None  # a right loss explains nothing
    return diagnose(loss, right, loss_mistakes(params, X, y, activation), rtol=1e-9, atol=1e-12).named


def network_gradients(params: dict, X: np.ndarray, y: np.ndarray, activation: str, *, backward_local=None,
                      subtract_one_hot: bool = True) -> dict[str, np.ndarray]:
    """The gradients of the mean cross-entropy of the network, by backpropagation written out
    here, or with one thing done wrong: ``backward_local(z, a)`` as the activation's derivative
    on the way back (given the pre-activation z and the activation a), or dlogits without the
    one-hot labels subtracted. Used for known mistakes, never to grade directly."""
    layers = sum(key.startswith("W") for key in params)
    act = ACTIVATIONS[activation]
    inputs, pre = [X], []
    for layer in range(1, layers + 1):
        pre.append(inputs[-1] @ params[f"W{layer}"] + params[f"b{layer}"])
        if layer < layers:
            inputs.append(act(pre[-1]))
    logits = pre[-1]
    delta = np.exp(log_softmax_row(logits))
    if subtract_one_hot:
        delta[np.arange(len(y)), y] -= 1
    delta /= len(y)
    grads = {}
    for layer in range(layers, 0, -1):
        grads[f"W{layer}"], grads[f"b{layer}"] = inputs[layer - 1].T @ delta, delta.sum(axis=0)
        if layer > 1:
            z, a = pre[layer - 2], inputs[layer - 1]
            local = DERIVATIVES[activation](z, a) if backward_local is None else backward_local(z, a)
            delta = (delta @ params[f"W{layer}"].T) * local
    return grads


DERIVATIVES = {"relu": lambda z, a: (z > 0).astype(float), "sigmoid": lambda z, a: a * (1 - a)}


def gradient_mistakes(params, X, y, activation: str, key: str) -> list[Mistake]:
    """Known wrong gradients of ``key``, each from backpropagation with one mistake."""
    def variant(**how) -> Callable[[], np.ndarray]:
        return lambda: network_gradients(params, X, y, activation, **how)[key]

    mistakes = [
        Mistake("the gradient passes back through the hidden activations unchanged: multiply it by the "
                "activation's derivative on the way back (relu: z > 0; sigmoid: s (1 - s)).",
                variant(backward_local=lambda z, a: np.ones_like(z))),
        Mistake("dlogits is softmax / N without the one-hot labels: subtract 1 at each sample's true class, "
                "(softmax - one_hot) / N.", variant(subtract_one_hot=False)),
    ]
    if activation == "sigmoid":
        mistakes.append(Mistake(
            "on the way back the sigmoid's derivative is taken of its input z, z (1 - z); it is s (1 - s) "
            "of its output s = sigmoid(z).", variant(backward_local=lambda z, a: z * (1 - z))))
    return mistakes


def mlp_failure(failure: CheckFailed, hint: str | None) -> CheckFailed:
    return with_hint(failure, hint) if hint and failure.kind is None else failure


def batch_factor(n: int) -> dict[float, str]:
    if n == 1:
        return {}
    return {n: f"this gradient is {n} times too large: the loss is a mean over the batch, so the "
            "gradients are averaged too (divide dlogits by N)."}


@check("mlp_loss_and_grads", "loss matches known values", 0.5)
def mlp_loss_known(mlp_loss_and_grads):
    X, y = np.random.default_rng(70).normal(size=(4, 3)), np.array([0, 2, 1, 2])
    zero = {"W1": np.zeros((3, 5)), "b1": np.zeros(5), "W2": np.zeros((5, 3)), "b2": np.zeros(3)}
    for activation in ("relu", "sigmoid"):
        call = MlpCall(activation)
        loss, _ = call_mlp(mlp_loss_and_grads, zero, X, y, call)
        assert_close(loss, np.log(3.0), who="mlp_loss_and_grads",
                     case=f"all weights 0 (depth 2, {activation}): every class equally likely, loss ln 3")
        # With W2 = 0 the logits are b2 for every sample, whatever the hidden layer does.
        params = dict(zero, W1=np.ones((3, 5)), b2=np.array([-1.0, -2.0, -3.0]))
        loss, _ = call_mlp(mlp_loss_and_grads, params, X, y, call)
        log_p = log_softmax_row(params["b2"])
        squashed = ACTIVATIONS[activation](params["b2"])
        assert_close(
            loss, -log_p[y].mean(), who="mlp_loss_and_grads",
            case=f"depth 2, {activation}, W2 = 0 and b2 = [-1, -2, -3], so the logits are b2",
            factors={len(y): f"the loss is {len(y)} times too large: average over the batch, don't sum."},
            mistakes=[Mistake(
                f"the loss is what you get with {activation} applied to the output layer too. "
                "The last layer is linear: its output goes straight into softmax cross-entropy.",
                lambda squashed=squashed: -log_softmax_row(squashed)[y].mean(),
            )],
        )
    # random networks, where every layer and the activation matter
    cases = [(90, [3, 5, 4], 6, MlpCall("relu", "default"), "as written"),
             (91, [3, 5, 4], 6, MlpCall("sigmoid"), "reversed"),
             (92, [4, 6, 5, 3], 5, MlpCall("sigmoid", "positional"), "biases first"),
             (93, [4, 6, 5, 3], 5, MlpCall("relu"), "as written")]
    for seed, sizes, n, call, order in cases:
        params, X, y = mlp_case(seed, sizes, n, order)
        case = f"depth {len(sizes) - 1}, layer sizes {sizes}, {call.text}, seed {seed}"
        try:
            loss, _ = call_mlp(mlp_loss_and_grads, params, X, y, call)
            expected = forward_loss(params, X, y, ACTIVATIONS[call.activation])
            assert_close(loss, expected, who="mlp_loss_and_grads", case=case,
                         factors={n: f"the loss is {n} times too large: average over the batch, don't sum."},
                         mistakes=loss_mistakes(params, X, y, call.activation))
        except CheckFailed as failure:
            raise mlp_failure(failure, explain_mlp(mlp_loss_and_grads, params, X, y, call)) from None


MLP_GRADIENT_CASES = [  # (layer sizes, batch, call, order of params' keys)
    ([3, 4], 5, MlpCall("relu"), "as written"),
    ([3, 5, 4], 4, MlpCall("relu", "default"), "reversed"),
    ([4, 5, 3], 3, MlpCall("sigmoid"), "biases first"),
    ([2, 4, 3, 3], 5, MlpCall("sigmoid", "positional"), "as written"),
    ([3, 4, 4, 2], 4, MlpCall("relu"), "reversed"),
    ([3, 4, 2], 1, MlpCall("sigmoid", "positional"), "biases first"),  # a batch of one sample
]


def assert_grads_match_loss(grads: dict, oracle, params, X, y, call: MlpCall, case: str, seed: int) -> None:
    """Every gradient against central differences of the oracle's loss (the reference's in the
    official grade: the student's own loss could be as wrong as the gradients)."""
    for key in in_order(params, "as written"):
        def loss(value, key=key):
            return oracle_loss(oracle, dict(params, **{key: value}), X, y, call.activation)

        assert_matches_finite_differences(
            grads[key], loss, params[key], who=f"mlp_loss_and_grads (grads[{key!r}])",
            loss_name="the loss", case=case, factors=batch_factor(len(y)), seed=seed,
            mistakes=gradient_mistakes(params, X, y, call.activation, key),
        )


@check("mlp_loss_and_grads", "gradients agree with finite differences of the loss", 1.0, property=True)
def mlp_grads_finite_differences(mlp_loss_and_grads, oracle_mlp_loss_and_grads):
    trials = FirstFailure()
    for seed, (sizes, n, call, order) in trials.over(enumerate(MLP_GRADIENT_CASES, start=71)):
        with trials:
            params, X, y = mlp_case(seed, sizes, n, order)
            case = f"depth {len(sizes) - 1}, layer sizes {sizes}, {call.text}, seed {seed}"
            loss = grads = None
            try:
                loss, grads = call_mlp(mlp_loss_and_grads, params, X, y, call)
                assert_grads_match_loss(grads, oracle_mlp_loss_and_grads, params, X, y, call, case, seed)
            except CheckFailed as failure:
                oracle = oracle_mlp_loss_and_grads
                hint = (explain_mlp(mlp_loss_and_grads, params, X, y, call)
                        or loss_hint(loss, params, X, y, call.activation)
                        or (other_activation_hint(oracle, grads, params, X, y, call.activation)
                            if grads is not None else None))
                raise mlp_failure(failure, hint) from None


@check("mlp_loss_and_grads", "grads match params' keys and shapes; params unchanged", 0.5, property=True)
def mlp_shapes_and_inputs(mlp_loss_and_grads, oracle_mlp_loss_and_grads):
    params, X, y = mlp_case(80, [4, 6, 5, 3], 6, "biases first")
    call = MlpCall("relu")
    loss = None
    try:  # the grads of this very call must be right too
        loss, grads = call_mlp(mlp_loss_and_grads, params, X, y, call)
        assert_grads_match_loss(grads, oracle_mlp_loss_and_grads, params, X, y, call,
                                "depth 3, layer sizes [4, 6, 5, 3], relu, seed 80", 80)
    except CheckFailed as failure:
        hint = explain_mlp(mlp_loss_and_grads, params, X, y, call) or loss_hint(loss, params, X, y, "relu")
        raise mlp_failure(failure, hint) from None
    assert_inputs_unchanged(mlp_loss_and_grads, ("params", "X", "y"))


@check("mlp_loss_and_grads", "matches the reference at depths 1 to 4, both activations", 2.0, hidden=True)
def mlp_matches_reference(mlp_loss_and_grads, reference):
    ref = reference.function("mlp_loss_and_grads")
    sizes_by_depth = {2: [5, 7, 4], 1: [6, 3], 3: [4, 6, 5, 3], 4: [3, 5, 4, 6, 2]}
    styles = {"relu": ("default", "keyword", "positional"), "sigmoid": ("keyword", "positional")}
    passed_depths = []
    cases = product(sizes_by_depth.items(), ("relu", "sigmoid"))
    trials = FirstFailure()
    for index, ((depth, sizes), activation) in trials.over(enumerate(cases)):
        with trials:
            seed = 800 + 10 * depth + (activation == "sigmoid")
            call = MlpCall(activation, styles[activation][index % len(styles[activation])])
            params, X, y = mlp_case(seed, sizes, 8, ORDERS[index % len(ORDERS)])
            case = f"depth {depth}, layer sizes {sizes}, {call.text}, batch of 8, seed {seed}"
            loss = grads = None
            try:
                loss, grads = call_mlp(mlp_loss_and_grads, params, X, y, call)
                ref_loss, ref_grads = ref(params, X, y, activation=activation)
                assert_close(loss, ref_loss, who="mlp_loss_and_grads (loss)", case=case,
                             factors={8: "the loss is 8 times too large: average over the batch, don't sum."},
                             mistakes=loss_mistakes(params, X, y, activation))
                for key in in_order(params, "as written"):
                    assert_close(grads[key], ref_grads[key], who=f"mlp_loss_and_grads (grads[{key!r}])",
                                 case=case, factors=batch_factor(8),
                                 mistakes=gradient_mistakes(params, X, y, activation, key))
            except CheckFailed as failure:
                hint = (explain_mlp(mlp_loss_and_grads, params, X, y, call)
                        or loss_hint(loss, params, X, y, activation)
                        or (other_activation_hint(ref, grads, params, X, y, activation)
                            if grads is not None else None))
                failure = mlp_failure(failure, hint)
                if failure.mistake is None and passed_depths == [2, 2] and depth != 2:
                    seen = (f"the same checks pass for networks of depth 2 but not for depth {depth}: look "
                            "at what changes with the number of layers.")
                    failure = CheckFailed(f"{failure}\n  Seen: {seen}", kind=failure.kind)
                raise failure from None
            passed_depths.append(depth)
