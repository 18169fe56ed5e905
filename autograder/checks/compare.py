"""Compare a student's result with what was expected, and explain the difference.

Every comparison is element-wise over the whole array. When a result is wrong, the
message names the case, the worst element (index, expected, got) and then either the one
known mistake the evidence proves, or what was seen (see `autograder.checks.diagnosis`):

- a *factor*: a known constant multiple of the expected result (``factors`` maps multiples
  such as the batch size to what they usually mean);
- a *mistake*: what a known wrong implementation would return (``mistakes``, computed
  lazily only when the comparison fails).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from autograder.checks.diagnosis import Finding, Mistake, diagnose, factor_mistakes
from autograder.errors import CheckFailed
from autograder.isolation.wire import Handle

RTOL = 1e-7
ATOL = 1e-12


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
    except OverflowError:
        raise CheckFailed(f"{who} should return a single number (a float), not an integer too large "
                          "to be one.") from None
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
    if value.dtype.kind == "f" and value.dtype.itemsize < 8:
        raise CheckFailed(
            f"{who} returned numbers of dtype {value.dtype}, which keep only about "
            f"{np.finfo(value.dtype).precision} significant digits. Compute in float64, as the inputs are: "
            f"look for a conversion to {value.dtype} (astype, dtype=..., np.{value.dtype}(...)).",
            mistake=LOW_PRECISION,
        )
    return value.astype(np.float64, copy=False)


LOW_PRECISION = "the result is computed in a lower precision than float64."


def shape_hint(got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    """What a wrong shape has in common with the right one (facts for feedback, not causes)."""
    if len(got) == len(expected) and sorted(got) == sorted(expected) and got != expected:
        return (" Its axes are those of the expected shape in another order: look for a transpose (.T) "
                "or the operands of a product swapped.")
    if int(np.prod(got)) == int(np.prod(expected)):
        return f" It holds the expected number of elements ({int(np.prod(got))}) in another shape."
    if len(got) == len(expected) + 1 and (got[1:] == expected or got[:-1] == expected):
        extra = got[0] if got[1:] == expected else got[-1]
        where = "in front" if got[1:] == expected else "at the end"
        return f" It has an extra axis of length {extra} {where}."
    if len(got) + 1 == len(expected) and (expected[1:] == got or expected[:-1] == got):
        lost = expected[0] if expected[1:] == got else expected[-1]
        return f" It lacks the axis of length {lost} that the expected shape has."
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

    A mistake or factor is named only when the evidence proves it (`diagnosis.diagnose`).
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
    finding = diagnose(got_a, expected_a, [*mistakes, *factor_mistakes(expected_a, factors)],
                       rtol=rtol, atol=atol)
    unclaimed = "\n".join([*lines, *(f"  Seen: {line}" for line in finding.evidence)])
    raise CheckFailed("\n".join([*lines, *explained(finding)]), mistake=finding.named, unclaimed=unclaimed,
                      coinciding=finding.coinciding)


def explained(finding: Finding) -> list[str]:
    """The feedback lines of a finding: the mistake it names, or what was seen."""
    if finding.named:
        return [f"  Likely mistake: {finding.named}"]
    return [f"  Seen: {line}" for line in finding.evidence]


