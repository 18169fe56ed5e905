"""The checks, one module per assignment, and the decorator that declares them.

A check is a plain function decorated with `check`. Its parameters say what it needs,
and the runner (`autograder.runner`) passes them in by name:

- the graded function's own name (``mse``): the student's function, wrapped in a
  `StudentFunction`;
- another function of the same assignment (``mse`` in a check of ``mse_grad``): an
  *oracle*: the reference's when it is available, so one bug costs only the points of the
  function it is in; otherwise the student's own, only if it passes its own value checks;
- ``oracle_`` and the graded function's own name (``oracle_mlp_loss_and_grads``): the same
  for the function under test (its loss, to check its gradients against);
- ``own_`` and another function's name (``own_linear_forward``): the student's own
  version, for checks that need what it produces (a layer's cache);
- ``reference``: the reference solution's namespace (hidden checks only);
- ``student``: the student's whole namespace.

A check passes by returning and fails by raising `CheckFailed` with the feedback. While it
runs, student code calls the reference's versions of the functions its target is declared to
build on (see `autograder.core`).

A *property* check (no mutation, shapes, normalisation, one state per parameter...) must
also verify the values of the calls it makes: a property of a function that computes nothing
is worth nothing. Value checks (``property=False``) are what decides whether the student's own
version of a function may serve as an oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Check:
    """One graded behaviour of one function (or quiz question).

    Attributes:
        target: the function or quiz answer it grades, e.g. ``"mse"`` or ``"Q1"``.
        title: what it verifies, e.g. ``"matches known values"``.
        points: what it is worth.
        hidden: whether it needs the reference solution (and is hidden from students).
        function: the check itself.
        property: whether it checks a property (no mutation, shapes...) rather than values;
            it must still verify the values of the calls it makes.
    """

    target: str
    title: str
    points: float
    hidden: bool
    function: Callable
    property: bool = False

    @property
    def name(self) -> str:
        """The test name: the graded function first, then what is checked."""
        return f"{self.target}: {self.title}"


def check(target: str, title: str, points: float, *, hidden: bool = False, property: bool = False,
          ) -> Callable:
    """Declare the decorated function as a check of ``target`` worth ``points``."""

    def declare(function: Callable) -> Callable:
        function.check = Check(target, title, points, hidden, function, property)
        return function

    return declare


def checks_in(module: ModuleType) -> list[Check]:
    """The checks a module declares, in the order they are written."""
    found = (getattr(value, "check", None) for value in vars(module).values())
    return [c for c in found if isinstance(c, Check)]
