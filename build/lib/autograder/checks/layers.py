"""Checks for assignment 02, part B: numerical gradients, layers and a multi-layer perceptron.

Backward functions receive the cache made by the student's own forward function (its
layout is theirs to choose); their results are compared with central differences
(public) and with the reference (hidden), on shapes where D != M so that a transposed
gradient cannot pass, and on points kept away from ReLU's kink.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from autograder.checks import check
from autograder.checks.compare import CheckFailed, Mistake, as_array, as_number, assert_close
from autograder.checks.gradients import assert_matches_finite_differences, central_differences
from autograder.checks.toolbox import assert_inputs_unchanged, type_name, unpack

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

    return [Mistake(
        "this is the one-sided difference (f(x + eps) - f(x)) / eps, whose error shrinks "
        "only like eps. Use the central difference (f(x + eps) - f(x - eps)) / (2 eps).",
        one_sided,
    )]


NUMERICAL_FACTORS = {
    2.0: "your estimate is twice the true gradient: the central difference divides by 2 eps, not eps.",
    0.5: "your estimate is half the true gradient: divide by 2 eps, not 4 eps.",
    -1.0: "your estimate has the wrong sign: it is (f(x + eps) - f(x - eps)) / (2 eps).",
}


@check("numerical_gradient", "matches known gradients on every element", 0.5)
def numerical_gradient_known(numerical_gradient):
    rng = np.random.default_rng(50)
    cases = [
        ("sum(x ** 3)", cube_sum, lambda x: 3 * x**2, rng.uniform(0.5, 2.0, size=(3, 4))),
        ("sum(sin(x))", lambda x: float(np.sum(np.sin(x))), np.cos, rng.normal(size=(5,))),
        ("sum(x[0] * x[1]) for x of shape (2, 3)", lambda x: float(np.sum(x[0] * x[1])),
         lambda x: x[::-1].copy(), rng.normal(size=(2, 3))),
    ]
    for text, f, exact, x in cases:
        got = as_array(numerical_gradient(f, x), "numerical_gradient", x.shape)
        assert_close(got, exact(x), who="numerical_gradient", rtol=1e-7, atol=1e-8,
                     case=f"f(x) = {text}, x of shape {x.shape}",
                     factors=NUMERICAL_FACTORS, mistakes=numerical_gradient_mistakes(f, x, 1e-6))


@check("numerical_gradient", "uses its eps argument", 0.5)
def numerical_gradient_eps(numerical_gradient):
    x = np.random.default_rng(51).uniform(0.5, 2.0, size=(4,))
    eps = 1e-3
    got = as_array(numerical_gradient(cube_sum, x, eps=eps), "numerical_gradient", x.shape)
    expected = central_differences(cube_sum, x, eps)  # 3 x^2 + eps^2: eps shows
    if np.allclose(got, 3 * x**2, rtol=1e-9, atol=1e-10):
        raise CheckFailed(
            "numerical_gradient(f, x, eps=1e-3) gives the same result as with eps=1e-6 for "
            "f(x) = sum(x ** 3): it seems to ignore its eps argument."
        )
    assert_close(got, expected, who="numerical_gradient", rtol=1e-9, atol=1e-10,
                 case="f(x) = sum(x ** 3) with eps=1e-3", factors=NUMERICAL_FACTORS,
                 mistakes=numerical_gradient_mistakes(cube_sum, x, eps))


@check("numerical_gradient", "leaves x unchanged", 0.5)
def numerical_gradient_restores_x(numerical_gradient):
    x = np.random.default_rng(52).normal(size=(3, 2))
    as_array(numerical_gradient(lambda z: float(np.sum(z**2)), x), "numerical_gradient", x.shape)
    if "x" in numerical_gradient.modified:
        raise CheckFailed(
            "numerical_gradient changed x: after the call it differs from what was passed in. "
            "If you perturb x[i] in place, put the original value back after evaluating f "
            "(or perturb a copy)."
        )


@check("numerical_gradient", "matches the reference on random functions", 1.0, hidden=True)
def numerical_gradient_matches_reference(numerical_gradient, reference):
    ref = reference.function("numerical_gradient")
    for seed, shape in enumerate([(5,), (3, 4), (2, 3, 2)]):
        rng = np.random.default_rng(550 + seed)
        a, c = rng.normal(size=shape), rng.normal(size=shape)

        def f(x, a=a, c=c):
            return float(np.sum(np.tanh(x * a) * c) + np.sum(x**2) ** 0.5)

        x = rng.normal(size=shape)
        got = as_array(numerical_gradient(f, x), "numerical_gradient", shape)
        assert_close(got, ref(f, x), who="numerical_gradient", rtol=1e-6, atol=1e-9,
                     case=f"f(x) = sum(tanh(a x) c) + |x|, x of shape {shape}, seed {550 + seed}",
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


@check("linear_forward", "does not modify its inputs", 0.5)
def linear_forward_inputs_unchanged(linear_forward):
    x, W, b, _ = layer_case(60, 4, 3, 2)
    out, _ = forward(linear_forward, "linear_forward", x, W, b)
    as_array(out, "linear_forward (out)", (4, 2))
    assert_inputs_unchanged(linear_forward, ("x", "W", "b"))


@check("linear_forward", "matches the reference on random shapes", 1.0, hidden=True)
def linear_forward_matches_reference(linear_forward, reference):
    ref = reference.function("linear_forward")
    for seed, (n, d, m) in enumerate(LAYER_SHAPES):
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


def check_linear_gradients(got: tuple, expected: tuple, n: int, case: str) -> None:
    shapes = [e.shape for e in expected]
    for name, value, exp, shape in zip(("dx", "dW", "db"), got, expected, shapes, strict=True):
        value = as_array(value, f"linear_backward ({name})", shape)
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


@check("linear_backward", "agrees with finite differences; dout unchanged", 1.0)
def linear_backward_finite_differences(linear_backward, own_linear_forward, linear_forward):
    for seed, (n, d, m) in enumerate([(3, 4, 2), (1, 2, 5)]):
        x, W, b, dout = layer_case(61 + seed, n, d, m)
        _, cache = forward(own_linear_forward, "linear_forward", x, W, b)
        got = unpack(linear_backward(dout, cache), "linear_backward", ("dx", "dW", "db"))
        assert_inputs_unchanged(linear_backward, ("dout",))
        case = shape_text(n, d, m, 61 + seed)
        for (name, (point, loss)), value in zip(linear_losses(linear_forward, x, W, b, dout).items(), got,
                                                 strict=True):
            as_array(value, f"linear_backward ({name})", point.shape)
            assert_matches_finite_differences(
                value, loss, point, who=f"linear_backward ({name})",
                loss_name="sum(linear_forward(x, W, b) * dout)", case=case,
                factors=linear_backward_factors(n, name),
            )


@check("linear_backward", "matches the reference on random shapes", 1.0, hidden=True)
def linear_backward_matches_reference(linear_backward, own_linear_forward, reference):
    ref_forward, ref_backward = reference.function("linear_forward"), reference.function("linear_backward")
    for seed, (n, d, m) in enumerate(LAYER_SHAPES):
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
        Mistake("dx equals dout: the ReLU mask is missing. Multiply by (x > 0): where the "
                "input was negative, no gradient flows back.", lambda: dout),
        Mistake("the mask is inverted: gradient should flow where x > 0, not where x < 0.",
                lambda: dout * (x < 0)),
        Mistake("you masked by the sign of dout; the mask depends on the layer's input x.",
                lambda: dout * (dout > 0)),
    ]


@check("relu_backward", "agrees with finite differences (away from the kink); dout unchanged", 0.5)
def relu_backward_finite_differences(relu_backward, own_relu_forward, relu_forward):
    for seed, shape in [(63, (4, 3)), (64, (2, 5))]:
        rng = np.random.default_rng(seed)
        x, dout = away_from_zero(rng.normal(size=shape)), rng.normal(size=shape)
        _, cache = forward(own_relu_forward, "relu_forward", x)
        dx = as_array(relu_backward(dout, cache), "relu_backward", shape)
        assert_inputs_unchanged(relu_backward, ("dout",))
        case = f"x of shape {shape}, seed {seed}"
        estimate = central_differences(
            lambda z, dout=dout: float(np.sum(forward(relu_forward, "relu_forward", z)[0] * dout)), x)
        assert_close(dx, estimate, who="relu_backward", rtol=1e-5, atol=1e-7, case=case,
                     mistakes=relu_mistakes(x, dout))


@check("relu_backward", "matches the reference on random inputs", 0.5, hidden=True)
def relu_backward_matches_reference(relu_backward, own_relu_forward, reference):
    ref_forward, ref_backward = reference.function("relu_forward"), reference.function("relu_backward")
    for seed, shape in enumerate([(4, 3), (1, 7), (2, 3, 4)]):
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
    ]


@check("sigmoid_backward", "agrees with finite differences; dout unchanged", 0.5)
def sigmoid_backward_finite_differences(sigmoid_backward, own_sigmoid_forward, sigmoid_forward):
    for seed, shape in [(65, (4, 3)), (66, (2, 5))]:
        rng = np.random.default_rng(seed)
        x, dout = rng.normal(size=shape) * 2, rng.normal(size=shape)
        _, cache = forward(own_sigmoid_forward, "sigmoid_forward", x)
        dx = as_array(sigmoid_backward(dout, cache), "sigmoid_backward", shape)
        assert_inputs_unchanged(sigmoid_backward, ("dout",))
        estimate = central_differences(
            lambda z, dout=dout: float(np.sum(forward(sigmoid_forward, "sigmoid_forward", z)[0] * dout)), x)
        assert_close(dx, estimate, who="sigmoid_backward", rtol=1e-5, atol=1e-7,
                     case=f"x of shape {shape}, seed {seed}", mistakes=sigmoid_mistakes(x, dout))


@check("sigmoid_backward", "matches the reference on random inputs", 0.5, hidden=True)
def sigmoid_backward_matches_reference(sigmoid_backward, own_sigmoid_forward, reference):
    ref_forward, ref_backward = reference.function("sigmoid_forward"), reference.function("sigmoid_backward")
    for seed, shape in enumerate([(4, 3), (1, 7), (2, 3, 4)]):
        rng = np.random.default_rng(650 + seed)
        x, dout = rng.normal(size=shape) * 3, rng.normal(size=shape)
        _, cache = forward(own_sigmoid_forward, "sigmoid_forward", x)
        dx = as_array(sigmoid_backward(dout, cache), "sigmoid_backward", shape)
        assert_close(dx, ref_backward(dout, ref_forward(x)[1]), who="sigmoid_backward",
                     case=f"x of shape {shape}, seed {650 + seed}", mistakes=sigmoid_mistakes(x, dout))


# --- the multi-layer perceptron ------------------------------------------------------------

def make_params(seed: int, sizes: list[int]) -> dict[str, np.ndarray]:
    """W1, b1, ..., WL, bL for layer sizes [D, H1, ..., C] (He-style scale)."""
    rng = np.random.default_rng(seed)
    params = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{layer}"] = rng.normal(size=(fan_in, fan_out)) * np.sqrt(2 / fan_in)
        params[f"b{layer}"] = rng.normal(size=fan_out) * 0.1
    return params


def mlp_case(seed: int, sizes: list[int], n: int):
    rng = np.random.default_rng(seed + 1)
    return make_params(seed, sizes), rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], size=n)


def call_mlp(mlp_loss_and_grads, params, X, y, activation, who="mlp_loss_and_grads"):
    try:
        result = mlp_loss_and_grads(params, X, y, activation=activation)
    except CheckFailed as failure:
        if "KeyError: 'W" in str(failure) or "KeyError: 'b" in str(failure):
            layers = len(params) // 2
            raise CheckFailed(
                f"{failure}\n  Likely mistake: this network has {layers} layer(s); params holds W1, b1, "
                "..., WL, bL for any depth L. Loop over the layers instead of naming them."
            ) from None
        raise
    loss, grads = unpack(result, who, ("loss", "grads"))
    loss = as_number(loss, f"{who} (loss)")
    if not isinstance(grads, dict):
        raise CheckFailed(f"{who} should return grads as a dict like params, not {type_name(grads)}.")
    if set(grads) != set(params):
        raise CheckFailed(
            f"{who}: grads should have the keys of params {sorted(params)}, but has {sorted(grads)}."
            + (" It seems to handle a fixed number of layers: loop over W1, b1, ..., WL, bL."
               if len(grads) != len(params) else "")
        )
    return loss, {k: as_array(g, f"{who} (grads[{k!r}])", params[k].shape) for k, g in grads.items()}


def log_softmax_row(z: np.ndarray) -> np.ndarray:
    return z - z.max() - np.log(np.sum(np.exp(z - z.max())))


@check("mlp_loss_and_grads", "loss matches known values", 0.5)
def mlp_loss_known(mlp_loss_and_grads):
    X, y = np.random.default_rng(70).normal(size=(4, 3)), np.array([0, 2, 1, 2])
    zero = {"W1": np.zeros((3, 5)), "b1": np.zeros(5), "W2": np.zeros((5, 3)), "b2": np.zeros(3)}
    for activation in ("relu", "sigmoid"):
        loss, _ = call_mlp(mlp_loss_and_grads, zero, X, y, activation)
        assert_close(loss, np.log(3.0), who="mlp_loss_and_grads",
                     case=f"all weights 0 (depth 2, {activation}): every class equally likely, loss ln 3")
        # With W2 = 0 the logits are b2 for every sample, whatever the hidden layer does.
        params = dict(zero, W1=np.ones((3, 5)), b2=np.array([-1.0, -2.0, -3.0]))
        loss, _ = call_mlp(mlp_loss_and_grads, params, X, y, activation)
        log_p = log_softmax_row(params["b2"])
        squashed = {"relu": np.zeros(3), "sigmoid": 1 / (1 + np.exp(-params["b2"]))}[activation]
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


@check("mlp_loss_and_grads", "gradients agree with finite differences of its loss", 1.0)
def mlp_grads_finite_differences(mlp_loss_and_grads):
    cases = [([3, 4], 5, "relu"), ([3, 5, 4], 4, "relu"), ([4, 5, 3], 3, "sigmoid"),
             ([2, 4, 3, 3], 5, "sigmoid"), ([3, 4, 4, 2], 4, "relu")]
    for seed, (sizes, n, activation) in enumerate(cases, start=71):
        params, X, y = mlp_case(seed, sizes, n)
        _, grads = call_mlp(mlp_loss_and_grads, params, X, y, activation)
        depth = len(sizes) - 1
        for key in params:
            def loss(value, key=key, params=params, X=X, y=y, activation=activation):
                return unpack(mlp_loss_and_grads(dict(params, **{key: value}), X, y, activation=activation),
                              "mlp_loss_and_grads", ("loss", "grads"))[0]

            assert_matches_finite_differences(
                grads[key], loss, params[key], who=f"mlp_loss_and_grads (grads[{key!r}])",
                loss_name="its loss", case=f"depth {depth}, layer sizes {sizes}, {activation}, seed {seed}",
                factors={n: f"this gradient is {n} times too large: the loss is a mean over the batch, "
                         "so the gradients are averaged too (divide dlogits by N)."},
            )


@check("mlp_loss_and_grads", "grads match params' keys and shapes; params unchanged", 0.5)
def mlp_shapes_and_inputs(mlp_loss_and_grads):
    params, X, y = mlp_case(80, [4, 6, 5, 3], 6)
    call_mlp(mlp_loss_and_grads, params, X, y, "relu")
    assert_inputs_unchanged(mlp_loss_and_grads, ("params", "X", "y"))


@check("mlp_loss_and_grads", "matches the reference at depths 1 to 4, both activations", 2.0, hidden=True)
def mlp_matches_reference(mlp_loss_and_grads, reference):
    ref = reference.function("mlp_loss_and_grads")
    sizes_by_depth = {2: [5, 7, 4], 1: [6, 3], 3: [4, 6, 5, 3], 4: [3, 5, 4, 6, 2]}
    passed_depths = []
    for (depth, sizes), activation in product(sizes_by_depth.items(), ("relu", "sigmoid")):
        seed = 800 + 10 * depth + (activation == "sigmoid")
        params, X, y = mlp_case(seed, sizes, 8)
        case = f"depth {depth}, layer sizes {sizes}, {activation}, batch of 8, seed {seed}"
        try:
            loss, grads = call_mlp(mlp_loss_and_grads, params, X, y, activation)
            ref_loss, ref_grads = ref(params, X, y, activation=activation)
            assert_close(loss, ref_loss, who="mlp_loss_and_grads (loss)", case=case,
                         factors={8: "the loss is 8 times too large: average over the batch, don't sum."})
            for key in params:
                assert_close(grads[key], ref_grads[key], who=f"mlp_loss_and_grads (grads[{key!r}])",
                             case=case,
                             factors={8: "the gradient is 8 times too large: the loss is a mean over the "
                                      "batch, so divide the gradient of the logits by N."})
        except CheckFailed as failure:
            if passed_depths == [2, 2] and depth != 2:
                raise CheckFailed(
                    f"{failure}\n  Likely mistake: it works for two layers but not for depth {depth}: "
                    "loop over all layers W1, b1, ..., WL, bL (L = number of W's) instead of writing "
                    "two layers out by hand."
                ) from None
            raise
        passed_depths.append(depth)
