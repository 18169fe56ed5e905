"""The checks' shared toolbox: unpacking results, input mutation, and describing cases.

The topic modules (`losses`, `autodiff`, `layers`, `optimizers`, `training`) are siblings
that all build on this module, `compare` and `gradients`.
"""

from __future__ import annotations

import numpy as np

from autograder.checks.compare import type_name
from autograder.errors import CheckFailed


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
