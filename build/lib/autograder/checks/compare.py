"""Compare a student's result with what was expected, and explain the difference.

Every comparison is element-wise over the whole array. When a result is wrong, the
message names the case, the worst element (index, expected, got) and, when the
difference has a recognisable shape, the likely mistake:

- a *factor*: the result is a constant multiple of the expected one (``factors`` maps
  known multiples such as the batch size to what they usually mean);
- a *mistake*: the result equals what a known wrong implementation would give
  (``mistakes``, computed lazily only when the comparison fails).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.errors import CheckFailed
from autograder.isolation.wire import Handle

RTOL = 1e-7
ATOL = 1e-12


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation: what it would return, and what to tell the student."""

    hint: str
    produce: Callable[[], Any]


def type_name(value: object) -> str:
    """The type of ``value`` in words, for feedback (a student's object by its own class name)."""
    return value.type_name if isinstance(value, Handle) else type(value).__name__


def describe(value: Any, depth: int = 0) -> str:
    """A short description of a value for feedback: shapes for arrays, repr for the rest."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0 or value.size <= 4:
            return np.array2string(value, precision=4, separator=", ").replace("\n", "")
        return f"array of shape {value.shape}"
    if isinstance(value, dict) and depth < 2:
        items = [f"{describe(k, depth + 1)}: {describe(v, depth + 1)}" for k, v in list(value.items())[:8]]
        return "{" + ", ".join(items) + (", ..." if len(value) > 8 else "") + "}"
    text = None
    if isinstance(value, Handle | str | int | float | bool | type(None)):
        try:
            text = repr(value if not isinstance(value, str) else value[:60])
        except ValueError:  # an integer with more digits than Python will print
            text = "a very large integer"
    if text is None:
        text = f"a {type_name(value)}" if not isinstance(value, list | tuple) else (
            f"a {type_name(value)} of length {len(value)}")
    return text if len(text) <= 40 else text[:37] + "..."


def fmt(x: float) -> str:
    return f"{x:.10g}"


def as_number(value: Any, who: str) -> float:
    """``value`` as a Python float; CheckFailed unless it is a single real number."""
    if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        raise CheckFailed(f"{who} should return a single number (a float), not {describe(value)}.")
    if isinstance(value, list | tuple) or (isinstance(value, np.ndarray) and value.ndim > 0):
        shape = np.shape(value)
        raise CheckFailed(
            f"{who} should return a single number (a float), but it returned "
            f"something of shape {shape}. Did you forget to reduce (take the mean) at the end?"
        )
    try:
        number = complex(value)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"{who} should return a single number (a float), not a {type_name(value)}."
        ) from None
    if number.imag != 0:
        raise CheckFailed(f"{who} returned a complex number ({number}); it should be real.")
    return float(number.real)


def as_array(value: Any, who: str, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 ndarray of ``shape``; CheckFailed if it is not one."""
    if not isinstance(value, np.ndarray):
        hint = ""
        if isinstance(value, list | tuple):
            hint = " Build it with NumPy operations so the result stays an ndarray."
        raise CheckFailed(
            f"{who} should return a NumPy array of shape {shape}, "
            f"but it returned {describe(value)} ({type_name(value)}).{hint}"
        )
    if value.shape != shape:
        raise CheckFailed(
            f"{who} should return an array of shape {shape}, but its result has shape "
            f"{value.shape}.{shape_hint(value.shape, shape)}"
        )
    if value.dtype.kind not in "fiu":
        raise CheckFailed(f"{who} should return real numbers, but its result has dtype {value.dtype}.")
    return value.astype(np.float64, copy=False)


def shape_hint(got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    if got == expected[::-1]:
        return " It looks transposed."
    if got == expected[:-1] or got == expected[1:] or len(got) < len(expected):
        return " Did a sum or mean collapse an axis that should stay?"
    if len(got) > len(expected):
        return " Did broadcasting add an axis (for example (N,) against (N, 1))?"
    return ""


def assert_close(
    got: Any,
    expected: Any,
    *,
    who: str,
    case: str,
    rtol: float = RTOL,
    atol: float = ATOL,
    factors: dict[float, str] | None = None,
    mistakes: Iterable[Mistake] = (),
) -> None:
    """Fail with an explained message unless ``got`` matches ``expected`` element-wise.

    Args:
        got: the student's result, already validated by `as_number` or `as_array`.
        expected: the correct result, same shape.
        who: the function being graded, e.g. ``"mse_grad"``.
        case: the inputs in words, e.g. ``"y_pred of shape (4, 3), seed 2"``.
        rtol, atol: tolerance: ``|got - expected| <= atol + rtol * |expected|``.
        factors: known constant multiples and what they usually mean.
        mistakes: known wrong implementations to recognise.
    """
    got_a = np.asarray(got, dtype=np.float64)
    expected_a = np.asarray(expected, dtype=np.float64)
    bad = ~np.isclose(got_a, expected_a, rtol=rtol, atol=atol, equal_nan=False)
    if not bad.any():
        return

    lines = [f"{who} gives a wrong result for {case}."]
    if got_a.ndim == 0:
        lines.append(f"  expected {fmt(expected_a)}, got {fmt(got_a)}.")
    else:
        excess = np.abs(got_a - expected_a) / (atol + rtol * np.abs(expected_a))
        excess = np.where(np.isfinite(got_a), excess, np.inf)
        worst = np.unravel_index(int(np.argmax(excess)), got_a.shape)
        index = ", ".join(str(int(i)) for i in worst)
        lines.append(
            f"  worst element [{index}]: expected {fmt(expected_a[worst])}, "
            f"got {fmt(got_a[worst])} ({int(bad.sum())} of {bad.size} elements differ)."
        )
    hints = diagnose(got_a, expected_a, factors, mistakes)
    lines.extend(f"  Likely mistake: {hint}" for hint in hints)
    raise CheckFailed("\n".join(lines), mistake=hints[0] if hints else None)


def diagnose(
    got: np.ndarray,
    expected: np.ndarray,
    factors: dict[float, str] | None = None,
    mistakes: Iterable[Mistake] = (),
) -> list[str]:
    """Hints for why ``got`` differs from ``expected`` (see the module docstring)."""
    if not np.all(np.isfinite(got)):
        return [
            "the result contains NaN or infinity. Look for an overflow (exp of a large "
            "number), a log of 0, or a division by 0."
        ]
    for mistake in mistakes:
        try:
            alternative = np.asarray(mistake.produce(), dtype=np.float64)
        except Exception:  # a mistake that cannot apply to this case
            continue
        if alternative.shape == got.shape and np.allclose(got, alternative, rtol=1e-6, atol=1e-12):
            return [mistake.hint]

    ratio = constant_ratio(got, expected)
    if ratio is None:
        return []
    for factor, hint in (factors or {}).items():
        if np.isclose(ratio, factor, rtol=1e-5):
            return [hint]
    if got.size < 2 or abs(ratio - 1) < 1e-3:  # only a clear, known factor says something
        return []
    if np.isclose(ratio, -1.0, rtol=1e-6):
        return ["the result has the opposite sign everywhere. Check the order of a subtraction."]
    return [f"the result is {ratio:.6g} times the expected one everywhere; look for a wrong constant factor."]


def constant_ratio(got: np.ndarray, expected: np.ndarray) -> float | None:
    """``r`` if ``got == r * expected`` for one constant ``r`` (ignoring zeros), else None."""
    nonzero = np.abs(expected) > 1e-300
    if not nonzero.any() or not np.allclose(got[~nonzero], 0.0, atol=1e-12):
        return None
    ratios = got[nonzero] / expected[nonzero]
    r = float(ratios.flat[0])
    if r == 0.0 or not np.allclose(ratios, r, rtol=1e-5, atol=0.0):
        return None
    return r
