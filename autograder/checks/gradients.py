"""Finite-difference gradient checks shared by every assignment."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from autograder.checks.compare import Mistake, as_array, as_number, assert_close

EPS = 1e-6


def central_differences(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """dF/dx by central differences, one coordinate at a time (for small arrays).

    Args:
        f: a function of an array of ``x``'s shape returning a number.
        x: the point, float64, any shape; not modified.
    Returns:
        an array of ``x``'s shape.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x, dtype=np.float64)
        step[index] = eps
        grad[index] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad


FULL_CHECK_SIZE = 64  # arrays up to this size are checked on every element
SAMPLED_COORDINATES = 16
DIRECTIONS = 4


def assert_matches_finite_differences(
    grad: np.ndarray,
    loss: Callable[[np.ndarray], object],
    x: np.ndarray,
    *,
    who: str,
    loss_name: str,
    case: str,
    factors: dict[float, str] | None = None,
    seed: int = 0,
    mistakes: Iterable[Mistake] = (),
) -> None:
    """Fail unless ``grad`` (already computed at ``x``) agrees with central differences of ``loss``.

    Small arrays are checked on every element. For large ones, a full check would cost two
    loss evaluations per element, so we check the derivative along a few random directions
    (which involves every element at once) and a random sample of coordinates.
    The tolerance allows for the O(eps^2) truncation and rounding error of the estimates.
    ``mistakes`` (known wrong gradients) are compared on the full check only.
    """
    grad = as_array(grad, who, x.shape)
    f = lambda z: as_number(loss(z), loss_name)  # noqa: E731
    what = f"{case}, compared with central differences of {loss_name} (eps={EPS:g})"
    if x.size <= FULL_CHECK_SIZE:
        estimate = central_differences(f, x)
        scale = max(1.0, float(np.max(np.abs(estimate))))
        assert_close(grad, estimate, who=who, case=what, rtol=1e-5, atol=1e-7 * scale, factors=factors,
                     mistakes=mistakes)
        return

    rng = np.random.default_rng(seed)
    coordinates = [np.unravel_index(i, x.shape)
                   for i in rng.choice(x.size, SAMPLED_COORDINATES, replace=False)]
    for index in coordinates:
        step = np.zeros_like(x)
        step[index] = EPS
        estimate = (f(x + step) - f(x - step)) / (2 * EPS)
        scale = max(1.0, abs(estimate))
        assert_close(grad[index], estimate, who=who, rtol=1e-5, atol=1e-7 * scale,
                     case=f"{what}, element {list(map(int, index))}")
    for k in range(DIRECTIONS):
        direction = rng.normal(size=x.shape)
        direction /= np.linalg.norm(direction)
        estimate = (f(x + EPS * direction) - f(x - EPS * direction)) / (2 * EPS)
        got = float(np.sum(grad * direction))
        scale = max(1.0, abs(estimate))
        assert_close(got, estimate, who=who, rtol=1e-5, atol=1e-7 * scale,
                     case=f"{what}, derivative along random direction {k + 1} (gradient · direction)")
