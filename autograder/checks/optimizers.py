"""Checks for assignment 03: gradient descent and the optimizers SGD, momentum, Adam, AdamW.

Optimizers are checked step by step: known steps (numbers computed once with
``torch.optim``), one state per parameter, no writes into ``w`` or ``dw``, convergence on
a convex problem, and (hidden) trajectories of 25 steps against the reference, with
gradients that change every step, at gradient scales 1 and 1e-5.

Every check verifies the values of the calls it makes: leaving ``w`` alone, or keeping one
state per parameter, is worth points only for an optimizer that steps correctly. All four
rules act element by element, so a second parameter whose elements are a permutation of
the known ones has the permuted known steps as its expected path.

When a step goes wrong, the *step* ``w_next - w`` is compared with the expected one, so
a wrong constant factor shows up as such (momentum's EMA form is 1 - mu times too small on
the first step, Adam without bias correction about 3.16 times too large, ...).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import product

import numpy as np

from autograder.checks import check
from autograder.checks.compare import ATOL, RTOL, CheckFailed, Mistake, as_array, assert_close, describe, fmt
from autograder.checks.toolbox import FirstFailure, type_name, unpack, values_first, with_hint, without_claim
from autograder.isolation.protocol import STATE
from autograder.results import mistake_label

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
    "sgd_momentum": {"lr": 0.2, "momentum": 0.9},  # lr != 1 - momentum: the EMA form shows
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
            [0.3, -0.6, 1.9],
            [1.6, -0.6000000000000001, -0.04999999999999999],
        ]),
        np.array([
            [0.01999999999999999, -0.43999999999999995, 1.91],
            [1.6500000000000001, -0.5400000000000001, -0.27],
        ]),
        np.array([
            [-0.632, -0.09599999999999989, 1.9189999999999998],
            [1.7550000000000001, -0.6860000000000002, -0.7680000000000001],
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
    return validated(optimizer(w, dw, state, **hyper), name, w)


def validated(result: object, name: str, w: np.ndarray) -> tuple[np.ndarray, dict]:
    """An optimizer's result as (w_next, state), or CheckFailed saying what is wrong with it."""
    w_next, new_state = unpack(result, name, ("w_next", "state"))
    w_next = as_array(w_next, f"{name} (w_next)", w.shape)
    if not isinstance(new_state, dict):
        raise CheckFailed(
            f"{name} should return (w_next, state) with state a dict, but state is "
            f"{type_name(new_state)}. Return the state (a new dict or the one you were "
            "given, updated) so the caller can pass it to the next call."
        )
    return w_next, new_state


def step_factors(name: str, hyper: dict) -> dict[float, str]:
    """Constant factors between a wrong and the right step ``w_next - w`` at any step."""
    return {-1.0: f"{name} steps uphill: subtract the update (w - lr * ...), don't add it.",
            1 / hyper["lr"]: f"{name}'s step is 1/lr times too large: multiply the update by lr."}


NOT_CARRIED = ("this step is what {name} gives on a *first* call: the state is not carried over. "
               "Store what the rule remembers in state and return it.")
EMA_FORM = ("this is the EMA form of momentum, v = momentum * v + (1 - momentum) * dw. PyTorch's momentum, "
            "which the course uses, is v = momentum * v + dw.")
NESTEROV = ("this is Nesterov momentum (w - lr * (dw + momentum * v)). Plain momentum steps by lr * v, "
            "with v = momentum * v + dw.")
EPS_INSIDE = ("eps is inside the square root: the denominator is sqrt(v_hat) + eps, with eps added "
              "after the square root (it matters when gradients are tiny).")
NO_SQRT = ("the denominator has no square root: it is sqrt(v_hat) + eps. v averages the *squared* "
           "gradient, so its square root is what has the gradient's scale.")
NO_BIAS_CORRECTION = ("there is no bias correction: m and v start at 0, so both are too small at the start. "
                      "Divide m by 1 - beta1^t and v by 1 - beta2^t.")
V_NOT_CORRECTED = ("v is not bias-corrected (m is): divide v by 1 - beta2^t too, v_hat = v / (1 - beta2^t). "
                   "On the first step that makes the step 1/sqrt(1 - beta2) times too large.")
M_NOT_CORRECTED = ("m is not bias-corrected (v is): divide m by 1 - beta1^t too, m_hat = m / (1 - beta1^t). "
                   "On the first step that makes the step 1 - beta1 times too small.")
T_OFF_BY_ONE = ("this step is what t = {t} would give: t is off by one. It should be 1 on the first call "
                "(increment t before the bias correction).")
FIRST_GRADIENT = ("m and v start at the first gradient (and its square) instead of at 0: start them at "
                  "zeros, m = v = 0, so that bias correction gives m_hat = dw on the first step.")
L2_IN_GRADIENT = ("this is L2 regularisation (weight_decay * w added to the gradient), not decoupled "
                  "weight decay: shrink w by lr * weight_decay * w, then take the Adam step with the "
                  "plain gradient.")
DECAY_AFTER = ("the decay is applied after the Adam step; AdamW shrinks w first "
               "(w - lr * weight_decay * w), then takes the Adam step.")
DECAY_UNSCALED = "the decay is not scaled by the learning rate: it is w - lr * weight_decay * w."
DECAY_SIGN = "the decay has the wrong sign: it shrinks w, w - lr * weight_decay * w, it does not grow it."
NO_DECAY = "there is no weight decay at all: this is plain Adam."
RETURNS_STEP = ("{name} returns the step itself: return the updated parameter, w_next = w - lr * ..., "
                "not the amount it moves by.")
WRONG_DEFAULTS = ("called with every hyperparameter given, {name} takes the right first step; called with "
                  "some left to its defaults, it does not: its defaults are not those of the assignment's "
                  "signature ({defaults}).")
UNCHANGED = "w_next is w unchanged: compute the update and return the new array (w - lr * ...)."
ZEROS = "w_next is all zeros: return the updated parameter, w - lr * ..., not a new empty array."


def first_adam_step(dw: np.ndarray, hyper: dict) -> np.ndarray:
    """Adam's first step, bias-corrected: m_hat = g and v_hat = g², so lr * g / (|g| + eps)."""
    return hyper["lr"] * dw / (np.abs(dw) + hyper["eps"])


def first_step(name: str, w: np.ndarray, dw: np.ndarray, hyper: dict) -> np.ndarray:
    """What the first call (state ``{}``) returns: every rule starts from zero memory."""
    if name in ("sgd", "sgd_momentum"):
        return w - hyper["lr"] * dw
    return w * (1 - hyper["lr"] * hyper.get("weight_decay", 0.0)) - first_adam_step(dw, hyper)


def adam_update(grads: list[np.ndarray], hyper: dict, *, correct_m: bool = True, correct_v: bool = True,
                inside: bool = False, root: bool = True, shift: int = 0, start_at_first: bool = False,
                ) -> np.ndarray:
    """The amount Adam subtracts at step t = len(grads), written out from the gradients so far
    (its moments start at 0, PyTorch's rule), or with one thing done wrong: a moment not
    bias-corrected, eps inside the square root, no square root, t off by ``shift``, the moments
    started at the first gradient."""
    b1, b2, eps, lr = hyper["beta1"], hyper["beta2"], hyper["eps"], hyper["lr"]
    m, v = (grads[0], grads[0] ** 2) if start_at_first else (0.0, 0.0)
    for g in grads:
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
    t = len(grads) + shift
    m_hat = m / (1 - b1**t) if correct_m else m
    v_hat = v / (1 - b2**t) if correct_v else v
    denominator = np.sqrt(v_hat + eps) if inside else (np.sqrt(v_hat) + eps if root else v_hat + eps)
    return lr * m_hat / denominator


def known_wrong_steps(name: str, w: np.ndarray, dw: np.ndarray, past: list[tuple[np.ndarray, np.ndarray]],
                      hyper: dict) -> list[Mistake]:
    """What known wrong versions of the rule return at this step (their ``w_next``), from the
    points and gradients of the earlier steps of the same sequence (``past``, from a fresh state).

    Each is written out from the rule itself, so none depends on how a reference keeps its state;
    one that gives the right step on this input is never named (`diagnosis.diagnose`).
    """
    t, lr = len(past) + 1, hyper["lr"]
    grads = [g for _, g in past] + [dw]
    not_carried = Mistake(NOT_CARRIED.format(name=name), lambda: first_step(name, w, dw, hyper))
    mistakes = [] if t == 1 else [not_carried]
    if name == "sgd_momentum":
        mu = hyper["momentum"]

        def velocity(new: float) -> np.ndarray:
            v = np.zeros_like(dw)
            for g in grads:
                v = mu * v + new * g
            return v

        mistakes += [Mistake(EMA_FORM, lambda: w - lr * velocity(1 - mu)),
                     Mistake(NESTEROV, lambda: w - lr * (dw + mu * velocity(1.0)))]
    if name in ("adam", "adamw"):
        wd = hyper.get("weight_decay", 0.0)
        shrunk = w * (1 - lr * wd)
        mistakes += [
            Mistake(EPS_INSIDE, lambda: shrunk - adam_update(grads, hyper, inside=True)),
            Mistake(NO_SQRT, lambda: shrunk - adam_update(grads, hyper, root=False)),
            Mistake(NO_BIAS_CORRECTION, lambda: shrunk - adam_update(grads, hyper, correct_m=False,
                                                                     correct_v=False)),
            Mistake(V_NOT_CORRECTED, lambda: shrunk - adam_update(grads, hyper, correct_v=False)),
            Mistake(M_NOT_CORRECTED, lambda: shrunk - adam_update(grads, hyper, correct_m=False)),
            Mistake(T_OFF_BY_ONE.format(t=t + 1), lambda: shrunk - adam_update(grads, hyper, shift=1)),
            Mistake(FIRST_GRADIENT, lambda: shrunk - adam_update(grads, hyper, start_at_first=True)),
        ]
    if name == "adamw":
        plain = adam_update(grads, hyper)
        with_l2 = [g + wd * x for (x, g) in [*past, (w, dw)]]
        mistakes += [
            Mistake(L2_IN_GRADIENT, lambda: w - adam_update(with_l2, hyper)),
            Mistake(NO_DECAY, lambda: w - plain),
            Mistake(DECAY_AFTER, lambda: (w - plain) * (1 - lr * wd)),
            Mistake(DECAY_UNSCALED, lambda: w * (1 - wd) - plain),
            Mistake(DECAY_SIGN, lambda: w * (1 + lr * wd) - plain),
        ]
    return mistakes


def non_finite_hint(name: str, first: bool, got_next: np.ndarray, dw: np.ndarray | None) -> str:
    """Why a step holds NaN or infinity, when the pattern of the bad elements tells."""
    if name not in ("adam", "adamw") or not first:
        return ""
    bad = ~np.isfinite(got_next)
    if bad.all():
        return (" Every element is NaN or infinite: on the first call, 1 - beta^t is 0 if t is "
                "still 0: increment t before the bias correction.")
    if dw is not None and np.array_equal(bad, np.asarray(dw) < 0):
        return (" Exactly the elements whose gradient is negative: that is the square root of a "
                "negative number. v averages the *squared* gradient, dw ** 2.")
    return ""


def assert_step(got_next, w, expected_next, *, name, case, hyper, dw=None, past=None, first=None):
    """Compare one step, as the step ``w_next - w`` so that factors and mistakes show.

    With ``dw`` and ``past`` (the earlier points and gradients of the sequence, from a fresh
    state), the known wrong versions of the rule are compared too (`known_wrong_steps`).
    """
    got_next = np.asarray(got_next)
    first = not past if first is None else first
    if not np.all(np.isfinite(got_next)):
        raise CheckFailed(f"{name} returned NaN or infinity for {case}."
                          + non_finite_hint(name, first, got_next, dw))
    for looks, hint in ((w, UNCHANGED), (np.zeros_like(w), ZEROS)):
        if np.array_equal(got_next, looks) and not np.allclose(expected_next, looks):
            raise CheckFailed(f"{name} gives a wrong result for {case}.\n  Likely mistake: {hint}",
                              mistake=hint)

    def as_steps() -> Iterator[Mistake]:  # built only when the step is wrong
        known = known_wrong_steps(name, w, dw, past, hyper) if dw is not None and past is not None else []
        returns_step = RETURNS_STEP.format(name=name)
        known += [Mistake(returns_step, lambda: expected_next - w),
                  Mistake(returns_step, lambda: w - expected_next)]
        for m in known:
            yield Mistake(m.hint, lambda m=m: np.asarray(m.produce()) - w)

    assert_close(got_next - w, expected_next - w, who=f"{name} (the step w_next - w)", case=case,
                 factors=step_factors(name, hyper), mistakes=as_steps())


# --- the known sequence, for one parameter or two -------------------------------------------

def permuted(a: np.ndarray) -> np.ndarray:
    """``a``'s elements in reverse order, same shape: for a rule that acts element by element,
    a second parameter whose expected path is the known one, permuted the same way."""
    return a.ravel()[::-1].reshape(a.shape)


def known_path(name: str, parameter: str = "A") -> tuple[np.ndarray, list, list]:
    """(w0, gradients, expected w after each step) of parameter A (the known sequence) or B
    (the same, permuted)."""
    f = permuted if parameter == "B" else np.copy
    return f(KNOWN_W0), [f(g) for g in KNOWN_GRADS], [f(e) for e in KNOWN_STEPS[name]]


def known_case(name: str, t: int, parameter: str = "A") -> str:
    setting = ", ".join(f"{k}={v:g}" for k, v in KNOWN_HYPER[name].items())
    which = "" if parameter == "A" else ", its elements in reverse order"
    return f"step {t} of a known sequence ({setting}, w of shape (2, 3){which})"


LEAKED_STATE = ("Keep everything the optimizer remembers in the state dict it is given, not in a "
                "global variable or a default argument, so each parameter has its own.")


def outcome(result: object) -> np.ndarray | str:
    """What an optimizer call gave, to compare with another call: its w_next (any shape) or a
    description of whatever it returned."""
    first = result[0] if isinstance(result, tuple | list) and len(result) > 0 else result
    if isinstance(first, np.ndarray | np.generic | float | int) and not isinstance(first, bool):
        return np.asarray(first, dtype=float)
    return describe(result)


def same_outcome(a: np.ndarray | str, b: np.ndarray | str) -> bool:
    """Two outcomes of the same call agree (NaN where the other has NaN counts as agreeing)."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-12, atol=1e-15, equal_nan=True))


def fresh_step(optimizer, name: str, w: np.ndarray, dw: np.ndarray, hyper: dict,
               verify: Callable[[np.ndarray], None]) -> tuple[np.ndarray, dict]:
    """A first call (state ``{}``), its result checked by ``verify``. When it fails and the very
    same call now returns something else, the optimizer remembers earlier calls: that is the
    mistake to name (a wrong step of its own would come out the same twice). Calls that raise
    prove nothing of the kind (a library may fail differently the second time)."""

    def call() -> tuple[object, np.ndarray | str | None]:
        try:
            result = optimizer(w, dw, {}, **hyper)
        except CheckFailed as failure:
            if failure.kind is not None:  # it hung or crashed: nothing to compare
                raise
            return failure, None
        return result, outcome(result)

    result, first = call()
    try:
        if isinstance(result, CheckFailed):
            raise result
        w_next, state = validated(result, name, w)
        verify(w_next)
        return w_next, state
    except CheckFailed:
        again = call()[1] if first is not None else None
        if again is not None and not same_outcome(first, again):
            raise CheckFailed(
                f"{name}: two calls with the same w and dw and a fresh state {{}} gave different results: "
                "they depend on something besides the arguments (kept from an earlier call, or drawn at "
                f"random). {LEAKED_STATE}",
                mistake=LEAKED_STATE,
            ) from None
        raise


def verified_step(optimizer, name: str, t: int, w: np.ndarray, dw: np.ndarray, state: dict, hyper: dict,
                  verify: Callable[[np.ndarray], None]) -> tuple[np.ndarray, dict]:
    """Step ``t`` (from 1) of a sequence, its result checked by ``verify``: the first from a fresh
    state (see ``fresh_step``), the others from ``state``."""
    if t == 1:
        return fresh_step(optimizer, name, w, dw, hyper, verify)
    w_next, state = step(optimizer, name, w, dw, state, hyper)
    verify(w_next)
    return w_next, state


def run_known(optimizer, name: str, parameter: str = "A", after_each_call=None) -> None:
    """Step through the known sequence of ``parameter`` alone, each step compared with the known
    one (``after_each_call()`` runs after each call, before its values are compared)."""
    w, grads, expected = known_path(name, parameter)
    hyper = KNOWN_HYPER[name]
    state: dict = {}
    points = [w, *expected[:-1]]
    for t, (dw, w_expected) in enumerate(zip(grads, expected, strict=True), start=1):
        past = list(zip(points[: t - 1], grads[: t - 1], strict=True))

        def verify(w_next, t=t, w=w, dw=dw, w_expected=w_expected, past=past) -> None:
            if after_each_call is not None:
                after_each_call()
            try:
                assert_step(w_next, w, w_expected, name=name, hyper=hyper, dw=dw, past=past,
                            case=known_case(name, t, parameter))
            except CheckFailed as failure:
                raise confirmed(failure, optimizer, name, t, points, grads, expected, hyper) from None

        _, state = verified_step(optimizer, name, t, w, dw, state, hyper, verify)
        w = w_expected  # the next step starts from the known point


def confirmed(failure: CheckFailed, optimizer, name: str, t: int, points: list, grads: list, expected: list,
              hyper: dict) -> CheckFailed:
    """``failure`` of step ``t``, its likely mistake withdrawn unless step t + 1 (run from a fresh
    state, in one exchange) shows the same mistake: on one step, a rule nobody catalogued can give
    what a catalogued one gives (Adam's m left without bias correction and a learning rate applied
    twice do, when lr = 1 - beta1)."""
    if not failure.mistake or failure.kind is not None or t >= len(grads):
        return failure
    calls = [((w, dw, STATE), hyper) for w, dw in zip(points[: t + 1], grads[: t + 1], strict=True)]
    try:
        results = optimizer.sequence(calls, threaded=1)
        result = results[t] if len(results) > t else None
        w_next = result[0] if isinstance(result, tuple | list) and result else None
        shaped = isinstance(w_next, np.ndarray) and w_next.shape == points[t].shape
        if not (shaped and w_next.dtype.kind in "fiu"):
            return without_claim(failure)
        past = list(zip(points[:t], grads[:t], strict=True))
        assert_step(w_next, points[t], expected[t], name=name, hyper=hyper, dw=grads[t], past=past, case="")
    except CheckFailed as next_step:
        if mistake_label(next_step.mistake or "") == mistake_label(failure.mistake):
            return failure
    return without_claim(failure)


@contextmanager
def only_with_right_steps(what: str) -> Iterator[None]:
    """A property is worth points only for right steps: when the steps are wrong, its points are
    held back (`values_first`). A failure of the property itself stays one."""
    try:
        yield
    except CheckFailed as failure:
        if failure.mistake in (LEAKED_STATE, MODIFIED_INPUT, ALIASED):  # the very thing checked
            raise
        with values_first(what):
            raise failure from None


def known_steps_check(optimizer, name: str) -> None:
    run_known(optimizer, name)
    if name in ("adam", "adamw"):  # a first step with tiny gradients, where eps is not negligible
        hyper, w, dw = KNOWN_HYPER[name], KNOWN_W0.copy(), 1e-8 * KNOWN_GRADS[0]
        setting = ", ".join(f"{k}={v:g}" for k, v in hyper.items())
        case = f"a first step with gradients of scale 1e-8 ({setting}, w of shape (2, 3))"
        fresh_step(optimizer, name, w, dw, hyper, lambda w_next: assert_step(
            w_next, w, first_step(name, w, dw, hyper), name=name, hyper=hyper, dw=dw, past=[], case=case))


def separate_states_check(optimizer, name: str) -> None:
    """Two parameters stepped alternately, each with its own state dict, must both follow the
    known path each takes alone."""
    with only_with_right_steps("Keeping one state per parameter"):
        run_known(optimizer, name)
    hyper = KNOWN_HYPER[name]
    paths = {parameter: known_path(name, parameter) for parameter in "AB"}
    w = {parameter: path[0] for parameter, path in paths.items()}
    states: dict[str, dict] = {parameter: {} for parameter in paths}
    for t in range(1, len(KNOWN_GRADS) + 1):
        for parameter, (_, grads, expected) in paths.items():
            w_next, states[parameter] = step(optimizer, name, w[parameter], grads[t - 1], states[parameter],
                                             hyper)
            try:
                assert_step(w_next, w[parameter], expected[t - 1], name=name, hyper=hyper, first=t == 1,
                            case=known_case(name, t, parameter))
            except CheckFailed as failure:
                with only_with_right_steps("Keeping one state per parameter"):
                    run_known(optimizer, name, parameter)  # wrong on its own: a plain value mistake
                other = "B" if parameter == "A" else "A"
                detail = "\n".join(str(failure).splitlines()[:2])
                raise CheckFailed(
                    f"{name}: two parameters A and B, each with its own state dict, were updated in turn. "
                    f"Alone, each follows its known path; in turn, parameter {parameter} goes wrong at step "
                    f"{t}, after {other} was updated.\n{detail}\n  {LEAKED_STATE}",
                    mistake=LEAKED_STATE,
                ) from None
            w[parameter] = w_next


MODIFIED_INPUT = ("Compute with new arrays (w - lr * dw) instead of writing into the ones you are given "
                  "(w -= ..., dw *= ...): the caller may still need the old values.")


ALIASED = ("the state keeps the very array it was given (state[...] = dw or = w, not a copy), so what it "
           "remembers changes when the caller writes its next gradient into the same array, as a training "
           "loop that reuses its gradient buffer does (and updating it in place changes the caller's "
           "gradient). Keep new arrays in the state: v = momentum * v + dw creates one, state[\"v\"] = dw "
           "does not (dw.copy() does).")


def inputs_unchanged_check(optimizer, name: str) -> None:
    """``w`` and ``dw`` are never written into, during a call or after it: the known sequence one
    call at a time, each call's arguments watched; then stepped by a caller that reuses its
    arrays (which an optimizer whose state aliases them cannot follow)."""
    def unchanged() -> None:
        changed = [arg for arg in optimizer.modified if arg in ("w", "dw")]
        if changed:
            listed = " and ".join(f"`{a}`" for a in changed)
            raise CheckFailed(f"{name} modified its input {listed} in place. {MODIFIED_INPUT}",
                              mistake=MODIFIED_INPUT)

    with only_with_right_steps("Leaving w and dw unchanged"):
        run_known(optimizer, name, after_each_call=unchanged)
    w0, grads, expected = known_path(name)
    points = [w0, *expected[:-1]]
    calls = [((w, dw, STATE), KNOWN_HYPER[name]) for w, dw in zip(points, grads, strict=True)]
    problem = {reuse: first_wrong_step(optimizer, calls, points, expected, reuse) for reuse in (False, True)}
    if problem[True] and not problem[False]:
        raise CheckFailed(
            f"{name}: stepped through the known sequence by a caller that keeps one array for w and one for "
            f"dw, and writes each step's values into them after the call returns (as a training loop reusing "
            f"its buffers does), it {problem[True]}; with new arrays at every step it follows the sequence."
            f"\n  Likely mistake: {ALIASED}", mistake=ALIASED)


def first_wrong_step(optimizer, calls: list, points: list, expected: list, reuse: bool) -> str | None:
    """How a sequence of calls in one exchange goes wrong ("goes wrong at step 2", "fails: ..."), or
    None when every step matches the expected one."""
    try:
        results = optimizer.sequence(calls, threaded=1, reuse=reuse)
    except CheckFailed as failure:
        if failure.kind is not None:
            raise
        return f"fails ({str(failure).splitlines()[0][:300]})"
    for t, (w, w_expected) in enumerate(zip(points, expected, strict=True), start=1):
        result = results[t - 1] if t <= len(results) else None
        w_next = result[0] if isinstance(result, tuple | list) and len(result) == 2 else None
        if not (isinstance(w_next, np.ndarray) and w_next.shape == w.shape and w_next.dtype.kind in "fiu"
                and np.allclose(w_next - w, w_expected - w, rtol=RTOL, atol=ATOL)):
            return f"goes wrong at step {t}"
    return None


# The convex problem: f(w) = 1/2 sum(a * w^2), minimum 0 at w = 0.
CURVATURE = np.array([1.0, 4.0, 10.0])
W_START = np.array([1.0, -1.0, 2.0])
CONVERGENCE = {
    # name: (hyperparameters, step budget, tolerance on f); a correct optimizer gets there in
    # about two thirds of the budget (55, 57, 105 and 63 steps), and stops there
    "sgd": ({"lr": 0.15}, 80, 1e-8),
    "sgd_momentum": ({"lr": 0.03, "momentum": 0.7}, 90, 1e-8),
    "adam": ({"lr": 0.05}, 150, 1e-4),
    "adamw": ({"lr": 0.2, "weight_decay": 0.1}, 95, 1e-4),
}


def converges_as_the_oracle(optimizer, oracle, name: str) -> bool:
    """Whether ``optimizer`` takes the oracle's path to the minimum, step for step, in one
    exchange with the student's process (the common case; the oracle is the reference in the
    official grade). False sends the check down the path the optimizer takes itself."""
    hyper, budget, tolerance = CONVERGENCE[name]
    points, w, state = [], W_START.copy(), {}
    for _ in range(budget):
        if 0.5 * float(np.sum(CURVATURE * w**2)) < tolerance:
            break
        expected, state = oracle(w, CURVATURE * w, state, **hyper)
        points.append((w, CURVATURE * w, None, np.asarray(expected)))
        w = np.asarray(expected)
    converged = 0.5 * float(np.sum(CURVATURE * w**2)) < tolerance
    return converged and all_steps_match(optimizer, points, hyper)


def right_when_explicit(optimizer, name: str, w: np.ndarray, dw: np.ndarray, full: dict) -> bool:
    """Whether the first step is right when every hyperparameter is passed: then the call that
    left some to their defaults went wrong because of those defaults (a separating call)."""
    try:
        w_next, _ = step(optimizer, name, w, dw, {}, full)
    except CheckFailed:
        return False
    expected = first_step(name, w, dw, full)
    return bool(np.allclose(w_next - w, expected - w, rtol=RTOL, atol=ATOL))


def convergence_check(optimizer, name: str, oracle=None) -> None:
    """Converge, by the rule: the first step is known exactly (it starts from zero memory), so
    an update that merely shrinks w to 0 does not count."""
    if oracle is not None and converges_as_the_oracle(optimizer, oracle, name):
        return
    hyper, budget, tolerance = CONVERGENCE[name]
    setting = ", ".join(f"{k}={v:g}" for k, v in hyper.items())
    problem = "f(w) = 1/2 (w1² + 4 w2² + 10 w3²) from w = [1, -1, 2]"
    w, dw, full = W_START.copy(), CURVATURE * W_START, DEFAULTS[name] | hyper
    case = f"the first step on {problem} ({setting}, the other hyperparameters at their defaults)"
    expected = first_step(name, w, dw, full)

    def verify(w_next: np.ndarray) -> None:
        try:
            assert_step(w_next, w, expected, name=name, hyper=full, dw=dw, past=[], case=case)
        except CheckFailed as failure:
            explicit = failure.mistake is None and failure.kind is None
            if explicit and right_when_explicit(optimizer, name, w, dw, full):
                defaults = ", ".join(f"{k}={v:g}" for k, v in DEFAULTS[name].items() if k not in hyper)
                raise with_hint(failure, WRONG_DEFAULTS.format(name=name, defaults=defaults)) from None
            raise

    w, state = fresh_step(optimizer, name, w, dw, hyper, verify)
    for _ in range(budget - 1):
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging optimizer overflows
            loss = 0.5 * float(np.sum(CURVATURE * w**2))
        if loss < tolerance:
            break
        w, state = step(optimizer, name, w, CURVATURE * w, state, hyper)
    with np.errstate(over="ignore", invalid="ignore"):  # inf fails below
        loss = 0.5 * float(np.sum(CURVATURE * w**2))
    if not loss < tolerance:
        raise CheckFailed(
            f"{name} ({setting}) should bring {problem} below {tolerance:g} within {budget} steps, but "
            f"f = {fmt(loss)} after them (w = {np.round(w, 6).tolist()}). Its first step is right: look at "
            "what changes from the second step on (what the state carries, the step count)."
        )


# --- hidden: trajectories against the reference --------------------------------------------

def gradient_at(t: int, w: np.ndarray, scale: float, seed: int) -> np.ndarray:
    """A gradient that changes every step: a quadratic's plus noise (fixed by seed and t)."""
    rng = np.random.default_rng(seed * 1000 + t)
    curvature = np.linspace(0.5, 3.0, w.size).reshape(w.shape)
    return scale * (curvature * w + rng.normal(size=w.shape))


def reference_trajectory(ref, w: np.ndarray, hyper: dict, scale: float, seed: int, steps: int) -> list[tuple]:
    """(w, dw, the reference's state before the step, its w_next) of every step, following the
    reference (a student's step t is checked from the reference's point t)."""
    points, state = [], {}
    for t in range(1, steps + 1):
        dw = gradient_at(t, w, scale, seed)
        before = copy.deepcopy(state)
        expected, state = ref(w, dw, state, **hyper)
        points.append((w, dw, before, expected))
        w = expected
    return points


def all_steps_match(optimizer, points: list[tuple], hyper: dict) -> bool:
    """Whether every step of the trajectory matches, run in one exchange with the student's
    process (the common case). False sends the check through it one step at a time, which
    finds the first wrong step and says why."""
    calls = [((w, dw, STATE), hyper) for w, dw, _, _ in points]
    try:
        results = optimizer.sequence(calls, threaded=1)
    except CheckFailed as failure:
        if failure.kind is not None:  # it hung or crashed: stepping again would only repeat that
            raise
        return False
    if len(results) != len(points):
        return False
    for result, (w, _, _, expected) in zip(results, points, strict=True):
        w_next = result[0] if isinstance(result, tuple | list) and len(result) == 2 else None
        if not (isinstance(w_next, np.ndarray) and w_next.shape == w.shape and w_next.dtype.kind in "fiu"
                and isinstance(result[1], dict)
                and np.allclose(w_next - w, expected - w, rtol=RTOL, atol=ATOL, equal_nan=False)):
            return False
    return True


def matches_reference_check(optimizer, name: str, reference, settings: list[dict], steps: int = 25) -> None:
    ref = reference.function(name)
    trajectories = FirstFailure()  # each setting and scale is a case of its own
    for scale, (number, hyper) in product((1.0, 1e-5), enumerate(settings)):
        if trajectories.settled:
            break
        seed = 900 + number
        points = reference_trajectory(ref, np.random.default_rng(seed).normal(size=(3, 4)), hyper, scale,
                                      seed, steps)
        if all_steps_match(optimizer, points, hyper):
            continue
        with trajectories:
            state = {}
            setting = ", ".join(f"{k}={v:g}" for k, v in hyper.items())
            for t, (w, dw, _, expected) in enumerate(points, start=1):
                case = (f"step {t} of {steps} ({setting}; gradients of scale {scale:g} that change "
                        f"every step; w of shape (3, 4), seed {seed})")
                past = [(x, g) for x, g, _, _ in points[: t - 1]]

                def verify(got, w=w, dw=dw, expected=expected, case=case, hyper=hyper, past=past) -> None:
                    assert_step(got, w, expected, name=name, case=case, hyper=hyper, dw=dw, past=past)

                _, state = verified_step(optimizer, name, t, w, dw, state, hyper, verify)
    trajectories.end()


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


def aliasing_hint(path: np.ndarray, x0: np.ndarray) -> list[Mistake]:
    if np.array_equal(path[-1], x0):
        return [Mistake("the trajectory never leaves x0: each step moves x by -lr * grad_fn(x); "
                        "append the new point, not x0 again.", lambda: np.broadcast_to(path[0], path.shape))]
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
                 factors={}, mistakes=aliasing_hint(path, x0) + [Mistake(
                     "the path grows: gradient descent subtracts lr * grad_fn(x), it doesn't add it.",
                     lambda: 10.0 * 1.2 ** np.arange(11))])


@check("gradient_descent", "works for parameters of any shape, x0 unchanged", 1.0)
def gradient_descent_shapes(gradient_descent):
    # The last case's grad_fn returns its argument itself (the gradient of 1/2 |x|²), as a real
    # one may: writing into what grad_fn returned then writes into x.
    rng = np.random.default_rng(91)
    cases = [(shape, rng.uniform(0.5, 2.0, size=shape), rng.normal(size=shape)) for shape in [(2,), (2, 3)]]
    cases.append(((3,), None, rng.normal(size=(3,))))
    for shape, a, x0 in cases:
        grad_fn = (lambda x: x) if a is None else (lambda x, a=a: a * x)
        path = trajectory(gradient_descent, grad_fn, x0, 0.3, 6)
        factor = 1.0 if a is None else a
        expected = np.stack([(1 - 0.3 * factor) ** k * x0 for k in range(7)])
        problem = "f(x) = 1/2 |x|², whose grad_fn returns x itself," if a is None else "f(x) = 1/2 sum(a x²)"
        assert_close(path, expected, who="gradient_descent",
                     case=f"{problem} with x0 of shape {shape}, lr = 0.3, 6 steps",
                     mistakes=aliasing_hint(path, x0) + ([] if a is not None else [Mistake(
                         "the path drops to 0 after the first step: you changed what grad_fn returned in "
                         "place (g *= lr), and here that is x itself. Compute lr * g as a new array.",
                         lambda x0=x0: np.stack([x0] + [np.zeros_like(x0)] * 6))]))
        if "x0" in gradient_descent.modified:
            raise CheckFailed("gradient_descent modified x0 in place: start from a copy "
                              "(x = np.array(x0, dtype=float)).")


def rosenbrock_grad(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # a diverging trajectory overflows: the comparison says so
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


@check("gradient_descent", "matches the reference on a curved valley", 1.0, hidden=True)
def gradient_descent_matches_reference(gradient_descent, reference):
    ref = reference.function("gradient_descent")
    for x0, lr, steps in [(np.array([-1.2, 1.0]), 1e-3, 60), (np.array([0.5, 2.0]), 5e-4, 40)]:
        path = trajectory(gradient_descent, rosenbrock_grad, x0, lr, steps)
        assert_close(path, ref(rosenbrock_grad, x0, lr, steps), who="gradient_descent",
                     case=f"the Rosenbrock function from {x0.tolist()}, lr = {lr:g}, {steps} steps",
                     mistakes=aliasing_hint(path, x0))


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


@check("sgd", "does not modify w or dw", 0.5, property=True)
def sgd_inputs_unchanged(sgd):
    inputs_unchanged_check(sgd, "sgd")


@check("sgd", "converges on a convex quadratic", 0.5)
def sgd_converges(sgd, oracle_sgd):
    convergence_check(sgd, "sgd", oracle_sgd)


@check("sgd", "matches the reference over 25 steps", 0.5, hidden=True)
def sgd_matches_reference(sgd, reference):
    matches_reference_check(sgd, "sgd", reference, REFERENCE_SETTINGS["sgd"])


@check("sgd_momentum", "matches known steps", 0.5)
def sgd_momentum_known(sgd_momentum):
    known_steps_check(sgd_momentum, "sgd_momentum")


@check("sgd_momentum", "keeps one state per parameter", 0.5, property=True)
def sgd_momentum_separate_states(sgd_momentum):
    separate_states_check(sgd_momentum, "sgd_momentum")


@check("sgd_momentum", "does not modify w or dw", 0.5, property=True)
def sgd_momentum_inputs_unchanged(sgd_momentum):
    inputs_unchanged_check(sgd_momentum, "sgd_momentum")


@check("sgd_momentum", "converges on a convex quadratic", 0.5)
def sgd_momentum_converges(sgd_momentum, oracle_sgd_momentum):
    convergence_check(sgd_momentum, "sgd_momentum", oracle_sgd_momentum)


@check("sgd_momentum", "matches the reference over 25 steps", 1.0, hidden=True)
def sgd_momentum_matches_reference(sgd_momentum, reference):
    matches_reference_check(sgd_momentum, "sgd_momentum", reference, REFERENCE_SETTINGS["sgd_momentum"])


@check("adam", "matches known steps, with ordinary and tiny gradients", 1.0)
def adam_known(adam):
    known_steps_check(adam, "adam")


@check("adam", "keeps one state per parameter", 0.5, property=True)
def adam_separate_states(adam):
    separate_states_check(adam, "adam")


@check("adam", "does not modify w or dw", 0.5, property=True)
def adam_inputs_unchanged(adam):
    inputs_unchanged_check(adam, "adam")


@check("adam", "converges on a convex quadratic", 0.5)
def adam_converges(adam, oracle_adam):
    convergence_check(adam, "adam", oracle_adam)


@check("adam", "matches the reference over 25 steps, gradient scales 1 and 1e-5", 1.5, hidden=True)
def adam_matches_reference(adam, reference):
    matches_reference_check(adam, "adam", reference, REFERENCE_SETTINGS["adam"])


@check("adamw", "matches known steps (large lr * weight_decay), with ordinary and tiny gradients", 1.0)
def adamw_known(adamw):
    known_steps_check(adamw, "adamw")


@check("adamw", "keeps one state per parameter", 0.5, property=True)
def adamw_separate_states(adamw):
    separate_states_check(adamw, "adamw")


@check("adamw", "does not modify w or dw", 0.5, property=True)
def adamw_inputs_unchanged(adamw):
    inputs_unchanged_check(adamw, "adamw")


@check("adamw", "converges on a convex quadratic", 0.5)
def adamw_converges(adamw, oracle_adamw):
    convergence_check(adamw, "adamw", oracle_adamw)


@check("adamw", "matches the reference over 25 steps, gradient scales 1 and 1e-5", 1.5, hidden=True)
def adamw_matches_reference(adamw, reference):
    matches_reference_check(adamw, "adamw", reference, REFERENCE_SETTINGS["adamw"])


# --- the quiz: answers that a known mistake gives ------------------------------------------
# Quiz answer -> {wrong answer: hint}, for the quiz checks to show when an answer equals one of
# these (compared as the quiz compares answers). A hint says where the reasoning went wrong and
# never states the right answer.
QUIZ_MISTAKES: dict[str, dict[str | float, str]] = {
    "Q1": {
        "B": "a smaller learning rate makes every step smaller still. Compare what a loss curve looks "
             "like when the steps are too large and when they are too small.",
        "C": "the loss function does not set how far each step moves. Which hyperparameter does?",
    },
    "Q2": {
        30: "check that step in your trajectory: is |x| already below 0.01 there? Row k is x after k "
            "steps.",
        32: "row k of the trajectory is x after k steps and row 0 is x0 itself: did you count rows "
            "instead of steps?",
        66: "that is what a gradient of x would give. The gradient of x² is 2x, so each step "
            "multiplies x by 1 - 2 * lr.",
        21: "that is the count for a start at x = 1; this run starts at x = 10.",
    },
    "Q3": {
        0.271: "that is the EMA form, v = 0.9 v + 0.1 g. The course uses PyTorch's momentum, "
               "v = momentum * v + g.",
        1.9: "that is the velocity after the second step: v starts at 0, so the first step already "
             "makes it g.",
        3.439: "that counts one step too many: v is 0 before the first step and g after it.",
        3.0: "that leaves out the momentum factor: each step multiplies the previous velocity by 0.9 "
             "before adding g.",
        0.729: "that is momentum³ alone: every step also adds the new gradient g.",
        10.0: "that is where v ends up after very many steps, 1 / (1 - momentum); the question asks "
              "after the third.",
    },
}
