"""The checks' shared toolbox: unpacking results, input mutation, describing cases, and telling
a function that keeps state between calls from one that is merely wrong.

The topic modules (`losses`, `autodiff`, `layers`, `optimizers`, `training`) are siblings
that all build on this module, `compare` and `gradients`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from autograder.checks.compare import type_name
from autograder.errors import CheckFailed, Withheld
from autograder.results import mistake_label

T = TypeVar("T")


def unpack(result: object, who: str, names: tuple[str, ...]) -> tuple:
    """Check that ``result`` is a tuple of len(names) items, and return it."""
    if not isinstance(result, tuple | list) or len(result) != len(names):
        length = f" of length {len(result)}" if isinstance(result, tuple | list) else ""
        raise CheckFailed(
            f"{who} should return a tuple ({', '.join(names)}), "
            f"but it returned {type_name(result)}{length}."
        )
    return tuple(result)


def shape_case(name: str, array: np.ndarray, seed: int | None = None, scale: float | None = None) -> str:
    """``logits of shape (4, 3), scale 10, seed 2``: a case, in words for feedback."""
    parts = [f"{name} of shape {array.shape}"]
    if scale is not None:
        parts.append(f"scale {scale:g}")
    if seed is not None:
        parts.append(f"seed {seed}")
    return ", ".join(parts)


def assert_inputs_unchanged(function, names: tuple[str, ...], result: object = None) -> None:
    """Fail if the last call of ``function`` changed one of its arguments ``names``.

    With ``result`` (already validated), also fail unless it is finite: leaving the inputs
    alone is worth points only for a function that computes something.
    """
    if result is not None and not np.all(np.isfinite(np.asarray(result, dtype=float))):
        raise CheckFailed(f"{function.name} returned NaN or infinity for ordinary inputs; fix that first.")
    changed = [name for name in function.modified if name in names]
    if changed:
        listed = ", ".join(f"`{name}`" for name in changed)
        raise CheckFailed(
            f"{function.name} modified its input {listed} in place. Work on new arrays "
            f"(`x = x - c` instead of `x -= c`, or `x.copy()`) so the caller's data stays as it was."
        )


def same_result(a: object, b: object) -> bool:
    """Whether two results of the same call are the same: arrays and numbers element-wise,
    NaN equal to NaN (a result that is NaN every time is wrong, but it does not change)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_result(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_result(a[k], b[k]) for k in a)
    numeric = (np.ndarray, np.generic, int, float, complex)
    if isinstance(a, numeric) and isinstance(b, numeric) and not isinstance(a, bool | np.bool_):
        a_, b_ = np.asarray(a), np.asarray(b)
        if a_.shape != b_.shape or a_.dtype.kind not in "biufc" or b_.dtype.kind not in "biufc":
            return False
        return bool(np.array_equal(a_, b_, equal_nan=a_.dtype.kind in "fc" and b_.dtype.kind in "fc"))
    try:
        return bool(a == b)
    except Exception:  # an object that cannot be compared is compared by identity
        return a is b


STATE_HINT = (
    "called again with exactly the same inputs, it returns a different result, so it depends on "
    "something besides its arguments: a list, dict or counter at the top level of your notebook (or a "
    "mutable default argument) that it changes from call to call, or part of an np.empty array it never "
    "fills in. Create everything it needs inside the function."
)


def state_hint(call: Callable[[], object]) -> str | None:
    """`STATE_HINT` if two more calls with the same inputs disagree, else None (also when a call
    fails: that is feedback for the check itself, not a sign of state)."""
    try:
        first, second = call(), call()
    except CheckFailed:
        return None
    return None if same_result(first, second) else STATE_HINT


def with_hint(failure: CheckFailed, hint: str) -> CheckFailed:
    """``failure`` with ``hint`` as its likely mistake, in place of the hints it had (a mistake
    found by calling the function again explains the failure better than its numbers do)."""
    lines = [line for line in str(failure).splitlines()
             if not line.lstrip().startswith(("Likely mistake:", "Seen:"))]
    return CheckFailed("\n".join([*lines, f"  Likely mistake: {hint}"]), kind=failure.kind, mistake=hint,
                       withheld=failure.withheld, unclaimed=failure.unclaimed or "\n".join(lines))


def without_claim(failure: CheckFailed) -> CheckFailed:
    """``failure`` with no likely mistake: what was seen only."""
    text = failure.unclaimed or "\n".join(line for line in str(failure).splitlines()
                                          if not line.lstrip().startswith("Likely mistake:"))
    return CheckFailed(text, kind=failure.kind, withheld=failure.withheld)


class FirstFailure:
    """The cases of a check that are independent of one another (inputs of several shapes, seeds,
    settings): the check ends with the first case's failure. A mistake that failure names stands
    only if the next case that fails names it too, when another one fails: one input can make a
    mistake nobody catalogued look like one that is; two different inputs seldom do. Where known
    mistakes coincide on the first input, the next failing input may tell them apart: the one it
    names, if it was among them, is named.

        trials = FirstFailure()
        for case in trials.over(cases):
            with trials:
                ...  # one case
    """

    def __init__(self) -> None:
        self.failures: list[CheckFailed] = []

    @property
    def settled(self) -> bool:
        """Whether more cases can change nothing: no failure yet means go on."""
        if not self.failures:
            return False
        first = self.failures[0]
        return len(self.failures) > 1 or (first.mistake is None and not first.coinciding)

    def over(self, cases: Iterable[T]) -> Iterator[T]:
        """The cases, until more can change nothing; then the first failure, if any, is raised."""
        for case in cases:
            if self.settled:
                break
            yield case
        self.end()

    def __enter__(self) -> FirstFailure:
        return self

    def __exit__(self, kind: type | None, failure: BaseException | None, traceback: object) -> bool:
        if isinstance(failure, CheckFailed) and failure.kind is None and failure.withheld is None:
            self.failures.append(failure)
            return True
        return False

    def end(self) -> None:
        """Raise the first failure (without its claim when the next one does not confirm it)."""
        if not self.failures:
            return
        first = self.failures[0]
        if len(self.failures) == 1:
            raise first
        second = self.failures[1].mistake or ""
        if first.mistake and mistake_label(second) != mistake_label(first.mistake):
            raise without_claim(first)
        if not first.mistake and mistake_label(second) in map(mistake_label, first.coinciding):
            raise with_hint(first, second)  # it fits here too, and the other input tells it apart
        raise first


@contextmanager
def values_first(what: str) -> Iterator[None]:
    """In a property check, around the calls and values the property is judged on: when those
    fail, the property's points are held back ("counted once the values are right"), which is
    no claim that the property itself fails. A call that hung or crashed stays a failure."""
    try:
        yield
    except CheckFailed as failure:
        if failure.kind is not None or failure.withheld is not None:
            raise
        note = f"\n  ({what} counts once the values are right.)"
        raise CheckFailed(f"{failure}{note}", mistake=failure.mistake, withheld=Withheld.VALUES,
                          unclaimed=f"{without_claim(failure)}{note}") from None


@contextmanager
def explained_by_state(call: Callable[[], object]) -> Iterator[None]:
    """Re-raise a failure of the block with `STATE_HINT` when ``call`` (the call the block
    judged) gives different results each time: the numbers then say nothing about the formula."""
    try:
        yield
    except CheckFailed as failure:
        if failure.kind is not None:  # it hung or crashed: calling again tells nothing
            raise
        hint = state_hint(call)
        if hint is None:
            raise
        raise with_hint(failure, hint) from None
