"""Finite-difference gradient checks shared by every assignment."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder.checks.compare import as_array, as_number, assert_close

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


def assert_matches_finite_differences(
    grad: np.ndarray,
    loss: Callable[[np.ndarray], object],
    x: np.ndarray,
    *,
    who: str,
    loss_name: str,
    case: str,
    factors: dict[float, str] | None = None,
) -> None:
    """Fail unless ``grad`` (already computed at ``x``) agrees with central differences of ``loss``.

    The tolerance allows for the O(eps^2) truncation and rounding error of the estimate.
    """
    grad = as_array(grad, who, x.shape)
    estimate = central_differences(lambda z: as_number(loss(z), loss_name), x)
    scale = max(1.0, float(np.max(np.abs(estimate))))
    assert_close(
        grad,
        estimate,
        who=who,
        case=f"{case}, compared with central differences of {loss_name} (eps={EPS:g})",
        rtol=1e-5,
        atol=1e-7 * scale,
        factors=factors,
    )
