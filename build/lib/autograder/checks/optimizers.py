"""Checks for assignment 03: gradient descent and the optimizers SGD, momentum, Adam, AdamW.

Optimizers are checked step by step: known first steps (numbers computed once with
``torch.optim``), one state per parameter, no writes into ``w`` or ``dw``, convergence on
a convex problem, and (hidden) trajectories of 25 steps against the reference, with
gradients that change every step, at gradient scales 1 and 1e-5.

When a step goes wrong, the *step* ``w_next - w`` is compared with the expected one, so
a wrong constant factor shows up as such (momentum's EMA form is 1 - mu times too small on
the first step, Adam without bias correction about 3.16 times too large, ...).
"""

from __future__ import annotations

import copy
import math

import numpy as np

from autograder.checks import check
from autograder.checks.compare import CheckFailed, Mistake, as_array, assert_close, fmt
from autograder.checks.toolbox import type_name, unpack

DEFAULTS = {
    "sgd": {"lr": 0.01},
    "sgd_momentum": {"lr": 0.01, "momentum": 0.9},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adamw": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
}

# The known first steps: w0 and three gradients, with the hyperparameters below. The
# expected points were computed with torch.optim (float64) and agree with the reference.
KNOWN_W0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.25]])
KNOWN_GRADS = [
    np.array([[1.0, -2.0, 0.5], [-0.5, 3.0, -1.0]]),  # -0.5 + 0.5 * 1.5 flips sign under L2
    np.array([[0.5, 1.0, -0.5], [0.2, -3.0, 2.0]]),
    np.array([[2.0, -1.0, 0.0], [-0.3, 1.0, 1.5]]),
]
KNOWN_HYPER = {
    "sgd": {"lr": 0.1},
    "sgd_momentum": {"lr": 0.1, "momentum": 0.9},
    "adam": {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adamw": {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.5},
}
KNOWN_STEPS = {  # w after steps 1, 2 and 3
    "sgd": [
        np.array([
            [0.4, -0.8, 1.95],
            [1.55, -0.30000000000000004, -0.15],
        ]),
        np.array([
            [0.35000000000000003, -0.9, 2.0],
            [1.53, -2.7755575615628914e-17, -0.35],
        ]),
        np.array([
            [0.15000000000000002, -0.8, 2.0],
            [1.56, -0.10000000000000003, -0.5],
        ]),
    ],
    "sgd_momentum": [
        np.array([
            [0.4, -0.8, 1.95],
            [1.55, -0.30000000000000004, -0.15],
        ]),
        np.array([
            [0.26, -0.7200000000000001, 1.9549999999999998],
            [1.575, -0.2700000000000001, -0.26],
        ]),
        np.array([
            [-0.06599999999999999, -0.548, 1.9594999999999998],
            [1.6275, -0.3430000000000001, -0.509],
        ]),
    ],
    "adam": [
        np.array([
            [0.400000001, -0.9000000005, 1.900000002],
            [1.599999998, -0.09999999966666667, -0.150000001],
        ]),
        np.array([
            [0.3067820382981611, -0.8733662967024315, 1.9052631597894738],
            [1.634560581883489, -0.09473684178947372, -0.18661035347207483],
        ]),
        np.array([
            [0.2158734026788366, -0.8284759673131703, 1.909331595996697],
            [1.6890046163188444, -0.10544288285982192, -0.24570991333807346],
        ]),
    ],
    "adamw": [
        np.array([
            [0.37500000099999997, -0.8500000004999999, 1.800000002],
            [1.5249999979999997, -0.09999999966666667, -0.13750000099999998],
        ]),
        np.array([
            [0.26303203824816107, -0.7808662966774315, 1.7152631596894736],
            [1.4833105819834886, -0.08973684180614039, -0.16723535342207482],
        ]),
        np.array([
            [0.1589718007164285, -0.6969326524542987, 1.633568437912223],
            [1.4635890873196695, -0.09595604078618158, -0.2179731456169697],
        ]),
    ],
}


# --- calling an optimizer -----------------------------------------------------------------

def step(optimizer, name: str, w: np.ndarray, dw: np.ndarray, state: dict, hyper: dict):
    """One call ``optimizer(w, dw, state, **hyper)``, validated: (w_next, state)."""
    w_next, new_state = unpack(optimizer(w, dw, state, **hyper), name, ("w_next", "state"))
    w_next = as_array(w_next, f"{name} (w_next)", w.shape)
    if not isinstance(new_state, dict):
        raise CheckFailed(
            f"{name} should return (w_next, state) with state a dict, but state is "
            f"{type_name(new_state)}. Return the state (a new dict or the one you were "
            "given, updated) so the caller can pass it to the next call."
        )
    return w_next, new_state


def step_factors(name: str, hyper: dict, first: bool) -> dict[float, str]:
    """Constant factors between a wrong and the right step ``w_next - w``."""
    factors = {-1.0: f"{name} steps uphill: subtract the update (w - lr * ...), don't add it."}
    lr = hyper["lr"]
    factors[1 / lr] = f"{name}'s step is 1/lr times too large: multiply the update by lr."
    if name == "sgd_momentum" and first:
        mu = hyper["momentum"]
        factors[1 - mu] = (
            f"the first step is {1 - mu:g} (= 1 - momentum) times the expected one: this is the "
            "EMA form v = mu v + (1 - mu) g. PyTorch's momentum is v = mu v + g."
        )
        factors[1 + mu] = (
            f"the first step is {1 + mu:g} (= 1 + momentum) times the expected one: this is "
            "Nesterov momentum (w -= lr (g + mu v)). Plain momentum steps by lr * v."
        )
    if name in ("adam", "adamw") and first:
        b1, b2 = hyper["beta1"], hyper["beta2"]
        factors[(1 - b1) / math.sqrt(1 - b2)] = (
            "the first step is (1 - beta1) / sqrt(1 - beta2) times the expected one: without "
            "bias correction m and v are too small at the start. Divide m by 1 - beta1^t and "
            "v by 1 - beta2^t."
        )
        off_by_one = (1 - b1) / (1 - b1**2) / math.sqrt((1 - b2) / (1 - b2**2))
        factors[off_by_one] = (
            "the first step is what t = 2 would give: t is off by one. It should be 1 on the "
            "first call (increment t before the bias correction)."
        )
    return factors


NOT_CARRIED = ("this step is what {name} gives on a *first* call: the state is not carried over. "
               "Store what the rule remembers in state and return it.")
EPS_INSIDE = ("eps is inside the square root: the denominator is sqrt(v_hat) + eps, with eps added "
              "after the square root (it matters when gradients are tiny).")
L2_IN_GRADIENT = ("this is L2 regularisation (weight_decay * w added to the gradient), not decoupled "
                  "weight decay: shrink w by lr * weight_decay * w, then take the Adam step with the "
                  "plain gradient.")
DECAY_AFTER = ("the decay is applied after the Adam step; AdamW shrinks w first "
               "(w - lr * weight_decay * w), then takes the Adam step.")
DECAY_UNSCALED = "the decay is not scaled by the learning rate: it is w - lr * weight_decay * w."
NO_DECAY = "there is no weight decay at all: this is plain Adam."


def first_step_mistakes(name: str, w: np.ndarray, dw: np.ndarray, hyper: dict) -> list[Mistake]:
    """Known wrong first steps of Adam and AdamW that no constant factor describes.

    On its first step Adam moves every element by lr * g / (|g| + eps), which makes these
    easy to write down without an optimizer.
    """
    if name not in ("adam", "adamw"):
        return []
    lr, eps, wd = hyper["lr"], hyper["eps"], hyper.get("weight_decay", 0.0)

    def first_adam_step(g):
        return lr * g / (np.abs(g) + eps)

    mistakes = [Mistake(EPS_INSIDE, lambda: w * (1 - lr * wd) - lr * dw / np.sqrt(dw**2 + eps))]
    if name == "adamw":
        mistakes += [
            Mistake(L2_IN_GRADIENT, lambda: w - first_adam_step(dw + wd * w)),
            Mistake(NO_DECAY, lambda: w - first_adam_step(dw)),
            Mistake(DECAY_AFTER, lambda: (w - first_adam_step(dw)) * (1 - lr * wd)),
            Mistake(DECAY_UNSCALED, lambda: w * (1 - wd) - first_adam_step(dw)),
        ]
    return mistakes


def assert_step(got_next, w, expected_next, *, name, case, hyper, first, dw=None, mistakes=()):
    """Compare one step, as the step ``w_next - w`` so that factors and mistakes show.

    ``mistakes`` produce a wrong ``w_next``; they are compared as steps too.
    """
    got_next = np.asarray(got_next)
    if first and dw is not None:
        mistakes = [*first_step_mistakes(name, w, dw, hyper), *mistakes]
    as_steps = [Mistake(m.hint, lambda m=m: np.asarray(m.produce()) - w) for m in mistakes]
    if not np.all(np.isfinite(got_next)):
        hint = ""
        if name in ("adam", "adamw") and first:
            hint = (" On the first call, 1 - beta^t is 0 if t is still 0: increment t before "
                    "the bias correction.")
        raise CheckFailed(f"{name} returned NaN or infinity for {case}.{hint}")
    assert_close(got_next - w, expected_next - w, who=f"{name} (the step w_next - w)", case=case,
                 factors=step_factors(name, hyper, first), mistakes=as_steps)


def known_steps_check(optimizer, name: str) -> None:
    w, state = KNOWN_W0.copy(), {}
    hyper = KNOWN_HYPER[name]
    for t, (dw, expected) in enumerate(zip(KNOWN_GRADS, KNOWN_STEPS[name], strict=True), start=1):
        w_next, state = step(optimizer, name, w, dw, state, hyper)
        setting = ", ".join(f"{k}={v:g}" for k, v in hyper.items())
        assert_step(w_next, w, expected, name=name, hyper=hyper, first=t == 1, dw=dw,
                    case=f"step {t} of a known sequence ({setting}, w of shape (2, 3))")
        w = w_next


LEAKED_STATE = ("Keep everything the optimizer remembers in the state dict it is given, not in a "
                "global variable or a default argument, so each parameter has its own.")


def separate_states_check(optimizer, name: str) -> None:
    """Two parameters stepped alternately must follow the paths each takes alone."""
    hyper = KNOWN_HYPER[name]
    w, dw = KNOWN_W0[0], KNOWN_GRADS[0][0]
    try:
        once, _ = step(optimizer, name, w, dw, {}, hyper)
        again, _ = step(optimizer, name, w, dw, {}, hyper)
    except CheckFailed as failure:
        raise CheckFailed(f"{failure}\n  If this works on its own, {name} remembers something from "
                          f"earlier calls. {LEAKED_STATE}") from None
    if not np.allclose(once, again, rtol=1e-12, atol=1e-15):
        raise CheckFailed(f"{name}: two calls with the same w and dw and a fresh state {{}} gave different "
                          f"results. {LEAKED_STATE}")
    rng = np.random.default_rng(90)
    wa, wb = rng.normal(size=(3,)), rng.normal(size=(3,))  # one shape, so shared state shows as values
    grads_a = [rng.normal(size=(3,)) for _ in range(4)]
    grads_b = [rng.normal(size=(3,)) for _ in range(4)]

    alone, state, w = [], {}, wa
    for dw in grads_a:
        w, state = step(optimizer, name, w, dw, state, hyper)
        alone.append(w)
    together, state_a, state_b, w, v = [], {}, {}, wa, wb
    for dwa, dwb in zip(grads_a, grads_b, strict=True):
        w, state_a = step(optimizer, name, w, dwa, state_a, hyper)
        v, state_b = step(optimizer, name, v, dwb, state_b, hyper)
        together.append(w)
    for t, (a, b) in enumerate(zip(alone, together, strict=True), start=1):
        if not np.allclose(a, b, rtol=1e-12, atol=1e-15):
            raise CheckFailed(
                f"{name}: parameter A took a different path when a second parameter B (with its own "
                f"state dict) was updated between its steps; they first differ at step {t}. {LEAKED_STATE}"
            )


def inputs_unchanged_check(optimizer, name: str) -> None:
    w, state = KNOWN_W0.copy(), {}
    for dw in KNOWN_GRADS:
        w_next, state = step(optimizer, name, w, dw, state, KNOWN_HYPER[name])
        changed = [arg for arg in optimizer.modified if arg in ("w", "dw")]
        if changed:
            raise CheckFailed(
                f"{name} modified its input {' and '.join(f'`{a}`' for a in changed)} in place. "
                "Return a new array (w - lr * ...) instead of writing into w (w -= ...): the "
                "caller may still need the old values."
            )
        w = w_next


# The convex problem: f(w) = 1/2 sum(a * w^2), minimum 0 at w = 0.
CURVATURE = np.array([1.0, 4.0, 10.0])
W_START = np.array([1.0, -1.0, 2.0])
CONVERGENCE = {
    # name: (hyperparameters, step budget, tolerance on f); a correct optimizer gets there in
    # about two thirds of the budget
    "sgd": ({"lr": 0.05}, 300, 1e-8),
    "sgd_momentum": ({"lr": 0.02, "momentum": 0.9}, 300, 1e-8),
    "adam": ({"lr": 0.05}, 300, 1e-8),
    "adamw": ({"lr": 0.05, "weight_decay": 0.1}, 300, 1e-8),
}


def convergence_check(optimizer, name: str) -> None:
    hyper, budget, tolerance = CONVERGENCE[name]
    w, state = W_START.copy(), {}
    for _ in range(budget):
        w, state = step(optimizer, name, w, CURVATURE * w, state, hyper)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging optimizer overflows: inf fails below
        loss = 0.5 * float(np.sum(CURVATURE * w**2))
    if not loss < tolerance:
        setting = ", ".join(f"{k}={v:g}" for k, v in hyper.items())
        raise CheckFailed(
            f"{name} ({setting}) should bring f(w) = 1/2 (w1² + 4 w2² + 10 w3²) from w = [1, -1, 2] "
            f"below {tolerance:g} within {budget} steps, but f = {fmt(loss)} after them"
            f" (w = {np.round(w, 6).tolist()})."
        )


# --- hidden: trajectories against the reference --------------------------------------------

def trajectory_mistakes(name, reference, w, dw, ref_state, hyper, t) -> list[Mistake]:
    """Known wrong updates at one step, built from the reference's own functions."""
    mistakes = []
    ref = reference.function(name)
    if t > 1:
        mistakes.append(Mistake(NOT_CARRIED.format(name=name), lambda: ref(w, dw, {}, **hyper)[0]))
    if name == "adamw":
        adam = reference.function("adam")
        lr, wd = hyper["lr"], hyper["weight_decay"]
        plain = {k: v for k, v in hyper.items() if k != "weight_decay"}
        state = copy.deepcopy(ref_state)

        def with_adam(weights, gradient):
            return lambda: adam(weights, gradient, copy.deepcopy(state), **plain)[0]

        mistakes += [
            Mistake(L2_IN_GRADIENT, with_adam(w, dw + wd * w)),
            Mistake(NO_DECAY, with_adam(w, dw)),
            Mistake(DECAY_AFTER, lambda: with_adam(w, dw)() * (1 - lr * wd)),
            Mistake(DECAY_UNSCALED, with_adam(w - wd * w, dw)),
        ]
    return mistakes


def gradient_at(t: int, w: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """A gradient that changes every step: a quadratic's plus noise (fixed by seed and t)."""
    rng = np.random.default_rng(seed * 1000 + t)
    curvature = np.linspace(0.5, 3.0, w.size).reshape(w.shape)
    return scale * (curvature * w + rng.normal(size=w.shape))


def matches_reference_check(optimizer, name: str, reference, settings: list[dict], steps: int = 25) -> None:
    ref = reference.function(name)
    passed_scales = []
    for scale in (1.0, 1e-5):
        for number, hyper in enumerate(settings):
            seed = 900 + number
            w = np.random.default_rng(seed).normal(size=(3, 4))
            state, ref_state = {}, {}
            setting = ", ".join(f"{k}={v:g}" for k, v in hyper.items())
            for t in range(1, steps + 1):
                dw = gradient_at(t, w, scale, seed)
                before = copy.deepcopy(ref_state)
                expected, ref_state = ref(w, dw, ref_state, **hyper)
                got, state = step(optimizer, name, w, dw, state, hyper)
                case = (f"step {t} of {steps} ({setting}; gradients of scale {scale:g} that change "
                        f"every step; w of shape (3, 4), seed {seed})")
                try:
                    assert_step(got, w, expected, name=name, case=case, hyper=hyper, first=t == 1, dw=dw,
                                mistakes=trajectory_mistakes(name, reference, w, dw, before, hyper, t))
                except CheckFailed as failure:
                    if scale < 1 and 1.0 in passed_scales and name in ("adam", "adamw"):
                        raise CheckFailed(
                            f"{failure}\n  Likely mistake: it works for gradients of scale 1 but not "
                            "1e-5: add eps *after* the square root, sqrt(v_hat) + eps, not inside it."
                        ) from None
                    raise
                w = expected
        passed_scales.append(scale)


# --- gradient_descent -----------------------------------------------------------------------

def trajectory(gradient_descent, grad_fn, x0, lr, steps):
    path = gradient_descent(grad_fn, x0, lr, steps)
    shape = (steps + 1,) + x0.shape
    if isinstance(path, np.ndarray) and path.shape == (steps,) + x0.shape:
        raise CheckFailed(
            f"gradient_descent(..., steps={steps}) returned {steps} points, shape {path.shape}: the "
            f"trajectory starts with x0 itself, so it has steps + 1 rows, shape {shape}."
        )
    if isinstance(path, list):
        path = np.array(path) if all(isinstance(p, np.ndarray | float | int) for p in path) else path
    return as_array(path, "gradient_descent", shape)


def aliasing_hint(path: np.ndarray) -> list[Mistake]:
    return [Mistake(
        "every row of the trajectory is the final point: the list holds the same array again and "
        "again, updated in place. Append a copy of each point, or create a new array per step "
        "(x = x - lr * g).", lambda: np.broadcast_to(path[-1], path.shape),
    )]


@check("gradient_descent", "the lesson's demo: x² from x = 10 with lr 0.1", 1.0)
def gradient_descent_demo(gradient_descent):
    x0 = np.array(10.0)
    path = trajectory(gradient_descent, lambda x: 2 * x, x0, 0.1, 10)
    expected = 10.0 * 0.8 ** np.arange(11)
    assert_close(path, expected, who="gradient_descent", case="f(x) = x² from x0 = 10, lr = 0.1, 10 steps",
                 factors={}, mistakes=aliasing_hint(path) + [Mistake(
                     "the path grows: gradient descent subtracts lr * grad_fn(x), it doesn't add it.",
                     lambda: 10.0 * 1.2 ** np.arange(11))])


@check("gradient_descent", "works for parameters of any shape, x0 unchanged", 1.0)
def gradient_descent_shapes(gradient_descent):
    for shape in [(2,), (2, 3)]:
        rng = np.random.default_rng(91)
        a = rng.uniform(0.5, 2.0, size=shape)
        x0 = rng.normal(size=shape)
        path = trajectory(gradient_descent, lambda x, a=a: a * x, x0, 0.3, 6)
        expected = np.stack([(1 - 0.3 * a) ** k * x0 for k in range(7)])
        assert_close(path, expected, who="gradient_descent",
                     case=f"f(x) = 1/2 sum(a x²) with x0 of shape {shape}, lr = 0.3, 6 steps",
                     mistakes=aliasing_hint(path))
        if "x0" in gradient_descent.modified:
            raise CheckFailed("gradient_descent modified x0 in place: start from a copy "
                              "(x = np.array(x0, dtype=float)).")


def rosenbrock_grad(x: np.ndarray) -> np.ndarray:
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


@check("gradient_descent", "matches the reference on a curved valley", 1.0, hidden=True)
def gradient_descent_matches_reference(gradient_descent, reference):
    ref = reference.function("gradient_descent")
    for x0, lr, steps in [(np.array([-1.2, 1.0]), 1e-3, 60), (np.array([0.5, 2.0]), 5e-4, 40)]:
        path = trajectory(gradient_descent, rosenbrock_grad, x0, lr, steps)
        assert_close(path, ref(rosenbrock_grad, x0, lr, steps), who="gradient_descent",
                     case=f"the Rosenbrock function from {x0.tolist()}, lr = {lr:g}, {steps} steps",
                     mistakes=aliasing_hint(path))


# --- the optimizers: one set of checks each ------------------------------------------------

REFERENCE_SETTINGS = {
    "sgd": [{"lr": 0.01}, {"lr": 0.3}],
    "sgd_momentum": [{"lr": 0.01, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.99}],
    "adam": [DEFAULTS["adam"], {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}],
    # large lr * weight_decay first: it tells the ways of getting the decay wrong apart
    "adamw": [{"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.5},
              DEFAULTS["adamw"]],
}


@check("sgd", "matches known steps", 0.5)
def sgd_known(sgd):
    known_steps_check(sgd, "sgd")


@check("sgd", "does not modify w or dw", 0.5)
def sgd_inputs_unchanged(sgd):
    inputs_unchanged_check(sgd, "sgd")


@check("sgd", "converges on a convex quadratic", 0.5)
def sgd_converges(sgd):
    convergence_check(sgd, "sgd")


@check("sgd", "matches the reference over 25 steps", 0.5, hidden=True)
def sgd_matches_reference(sgd, reference):
    matches_reference_check(sgd, "sgd", reference, REFERENCE_SETTINGS["sgd"])


@check("sgd_momentum", "matches known steps", 0.5)
def sgd_momentum_known(sgd_momentum):
    known_steps_check(sgd_momentum, "sgd_momentum")


@check("sgd_momentum", "keeps one state per parameter", 0.5)
def sgd_momentum_separate_states(sgd_momentum):
    separate_states_check(sgd_momentum, "sgd_momentum")


@check("sgd_momentum", "does not modify w or dw", 0.5)
def sgd_momentum_inputs_unchanged(sgd_momentum):
    inputs_unchanged_check(sgd_momentum, "sgd_momentum")


@check("sgd_momentum", "converges on a convex quadratic", 0.5)
def sgd_momentum_converges(sgd_momentum):
    convergence_check(sgd_momentum, "sgd_momentum")


@check("sgd_momentum", "matches the reference over 25 steps", 1.0, hidden=True)
def sgd_momentum_matches_reference(sgd_momentum, reference):
    matches_reference_check(sgd_momentum, "sgd_momentum", reference, REFERENCE_SETTINGS["sgd_momentum"])


@check("adam", "matches known steps", 1.0)
def adam_known(adam):
    known_steps_check(adam, "adam")


@check("adam", "keeps one state per parameter", 0.5)
def adam_separate_states(adam):
    separate_states_check(adam, "adam")


@check("adam", "does not modify w or dw", 0.5)
def adam_inputs_unchanged(adam):
    inputs_unchanged_check(adam, "adam")


@check("adam", "converges on a convex quadratic", 0.5)
def adam_converges(adam):
    convergence_check(adam, "adam")


@check("adam", "matches the reference over 25 steps, gradient scales 1 and 1e-5", 1.5, hidden=True)
def adam_matches_reference(adam, reference):
    matches_reference_check(adam, "adam", reference, REFERENCE_SETTINGS["adam"])


@check("adamw", "matches known steps (large lr * weight_decay)", 1.0)
def adamw_known(adamw):
    known_steps_check(adamw, "adamw")


@check("adamw", "keeps one state per parameter", 0.5)
def adamw_separate_states(adamw):
    separate_states_check(adamw, "adamw")


@check("adamw", "does not modify w or dw", 0.5)
def adamw_inputs_unchanged(adamw):
    inputs_unchanged_check(adamw, "adamw")


@check("adamw", "converges on a convex quadratic", 0.5)
def adamw_converges(adamw):
    convergence_check(adamw, "adamw")


@check("adamw", "matches the reference over 25 steps, gradient scales 1 and 1e-5", 1.5, hidden=True)
def adamw_matches_reference(adamw, reference):
    matches_reference_check(adamw, "adamw", reference, REFERENCE_SETTINGS["adamw"])
