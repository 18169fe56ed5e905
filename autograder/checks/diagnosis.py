"""A diagnosis is a claim: a known mistake is named only when the evidence proves it.

`diagnose` looks at a wrong result next to the right one and the known mistakes of the same
call (what each wrong implementation would have returned). Distances are measured in units of
the comparison's own tolerance, ``atol + rtol * |expected|``, element by element:

- a mistake is *separated* on this input when its output differs from the right one by at
  least `SEPARATION` units (far more than a right answer may differ);
- it *fits* when the student's result lies within `FIT` units of that output (as close as a
  right result must be to the right one, with room for rounding), and `CLOSER` times closer to
  it than that output is to the right one;
- it is *named* when it is separated, fits, and no mistake with another hint fits too. Two
  that fit at once coincide on this input: neither is named (`Finding.coinciding` says which,
  so a check can call again with an input that separates them). A result that is all zeros
  names nothing: too many mistakes give nothing at all.

Without a named mistake the feedback shows *evidence* instead: what was seen (a constant
ratio, a constant offset, the sign, where the differences lie), and where to look, never a
cause. A constant factor known to mean something is a mistake like any other (its output is
``factor * expected``), so it is named by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEPARATION = 100.0  # a mistake's output differs from the right one by at least this many tolerances
FIT = 10.0  # the student's result lies within this many tolerances of the mistake's output...
CLOSER = 100.0  # ...and this many times closer to it than the mistake's output is to the right one


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation: what it would return, and what to tell the student."""

    hint: str
    produce: Callable[[], Any]


@dataclass
class Finding:
    """What a wrong result shows: a named mistake, or evidence.

    Attributes:
        named: the hint of the one mistake the evidence proves, or None.
        coinciding: hints of mistakes that all fit this result (none of them is named).
        evidence: what was seen, each a sentence (shown when no mistake is named, or when another
            input does not confirm the one named: see `toolbox.FirstFailure`).
    """

    named: str | None = None
    coinciding: tuple[str, ...] = ()
    evidence: list[str] = field(default_factory=list)


def units(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> float:
    """The largest element-wise distance between ``a`` and ``b`` in tolerances ``scale`` (one per
    element); infinite when a shape differs or only one of them is finite somewhere."""
    if a.shape != b.shape:
        return np.inf
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(finite_a, finite_b):
        return np.inf
    if not np.array_equal(a[~finite_a], b[~finite_b], equal_nan=True):
        return np.inf
    if not finite_a.any():
        return 0.0
    with np.errstate(all="ignore"):
        distance = np.abs(a[finite_a] - b[finite_a]) / np.broadcast_to(scale, a.shape)[finite_a]
    return float(np.max(distance))


def tolerance(rtol: float, atol: float, *sizes: np.ndarray) -> np.ndarray:
    """``atol + rtol * |x|`` element by element, for the largest finite |x| of ``sizes``."""
    largest = np.max([np.abs(np.where(np.isfinite(x), x, 0.0)) for x in sizes], axis=0)
    return atol + rtol * largest


def outputs(mistakes: Iterable[Mistake], shape: tuple[int, ...]) -> list[tuple[str, np.ndarray]]:
    """(hint, output) of every mistake that applies to this call (a mistake whose output cannot
    be computed here, or has another shape, does not)."""
    found = []
    for mistake in mistakes:
        try:
            with np.errstate(all="ignore"):
                output = np.asarray(mistake.produce(), dtype=np.float64)
        except Exception:  # a mistake that cannot apply to this case
            continue
        if output.shape == shape:
            found.append((mistake.hint, output))
    return found


def factor_mistakes(expected: np.ndarray, factors: dict[float, str] | None) -> list[Mistake]:
    """Known constant factors as mistakes: each one's output is ``factor * expected``."""
    return [Mistake(hint, lambda factor=factor: factor * expected)
            for factor, hint in (factors or {}).items()]


def diagnose(got: Any, expected: Any, mistakes: Iterable[Mistake] = (), *, rtol: float, atol: float,
             ) -> Finding:
    """What a wrong ``got`` shows next to ``expected`` (see the module docstring).

    Args:
        got: the student's result (a number or an array, validated).
        expected: the right result, same shape.
        mistakes: known wrong implementations of this very call.
        rtol, atol: the comparison's tolerance.
    """
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    fitting: dict[str, float] = {}
    for hint, output in outputs(mistakes, got.shape):
        separation = units(output, expected, tolerance(rtol, atol, expected))
        if separation < SEPARATION:
            continue  # on this input the mistake gives (almost) the right answer: it proves nothing
        fit = units(got, output, tolerance(rtol, atol, expected, output))
        if fit <= min(FIT, separation / CLOSER):
            fitting[hint] = min(fit, fitting.get(hint, np.inf))
    seen = evidence(got, expected, rtol, atol)
    if not np.any(got):  # a result of nothing but zeros is what too many mistakes give to tell one
        fitting = {}
    if len(fitting) == 1:
        return Finding(named=next(iter(fitting)), evidence=seen)
    return Finding(coinciding=tuple(fitting), evidence=seen)


def evidence(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> list[str]:
    """What a wrong result looks like next to the right one, in words: facts, not causes."""
    if not np.all(np.isfinite(got)):
        bad = int(np.sum(~np.isfinite(got)))
        where = "every element" if bad == got.size else f"{bad} of {got.size} elements"
        return [f"{where} of the result is NaN or infinite: look for an overflow (exp of a large "
                "number), a log of 0 or a division by 0 on the way."]
    if got.ndim == 0 or got.size == 1:
        ratio = constant_ratio(got, expected)
        if ratio is not None and abs(ratio - 1) > rtol:
            return [f"it is {ratio:.10g} times the expected value."]
        return []
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    ratio = constant_ratio(got, expected)
    if ratio is not None and np.isclose(ratio, -1.0, rtol=1e-6):
        return ["every element has the expected size and the opposite sign: look at the order of a "
                "subtraction, or a minus sign."]
    if ratio is not None and abs(ratio - 1) > rtol:
        return [f"every element is {ratio:.10g} times the expected one (a constant factor): look for a "
                "factor, a division or a count that should not be there, or one that is missing."]
    if np.allclose(got, 0.0, atol=1e-300):
        return ["every element of the result is 0."]
    offset = got - expected
    if np.allclose(offset, offset.flat[0], rtol=1e-6, atol=atol) and abs(offset.flat[0]) > atol:
        return [f"every element is off by the same amount, {offset.flat[0]:+.6g}: look for a constant "
                "added or left out."]
    seen = []
    flipped = bad & np.isclose(got, -expected, rtol=max(rtol, 1e-9), atol=atol)
    if flipped.any() and np.array_equal(flipped, bad):
        seen.append(f"the {int(flipped.sum())} elements that differ have the expected size and the "
                    "opposite sign.")
    if got.ndim == 2 and bad.sum() > 1:
        rows, columns = np.flatnonzero(bad.any(axis=1)), np.flatnonzero(bad.any(axis=0))
        if len(rows) < got.shape[0]:
            seen.append(f"only {counted('row', rows)} of {got.shape[0]} {verb(rows)}.")
        elif len(columns) < got.shape[1]:
            seen.append(f"only {counted('column', columns)} of {got.shape[1]} {verb(columns)}.")
    zero = np.abs(expected) <= atol
    if bad.any() and np.array_equal(bad, zero & bad) and zero.sum() < got.size:
        seen.append("it differs only where the expected value is 0.")
    return seen


def verb(indices: np.ndarray) -> str:
    return "differ" if len(indices) > 1 else "differs"


def counted(what: str, indices: np.ndarray, most: int = 6) -> str:
    """``row 2`` or ``rows 0, 3, ...``."""
    shown = ", ".join(str(int(i)) for i in indices[:most]) + (", ..." if len(indices) > most else "")
    return f"{what}{'s' if len(indices) > 1 else ''} {shown}"


def constant_ratio(got: np.ndarray, expected: np.ndarray) -> float | None:
    """``r`` if ``got == r * expected`` for one constant ``r`` (ignoring zeros), else None. The
    ratios must agree far better than ``r`` differs from 1: a nearly right result is not "a
    constant factor" merely because each of its elements is nearly right."""
    nonzero = np.abs(expected) > 1e-300
    if not nonzero.any() or not np.allclose(got[~nonzero], 0.0, atol=1e-12):
        return None
    ratios = got[nonzero] / expected[nonzero]
    r = float(np.median(ratios))
    if r == 0.0 or not np.all(np.abs(ratios - r) <= 1e-3 * abs(r - 1) + 1e-12 * abs(r)):
        return None
    return r
