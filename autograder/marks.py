"""How a check's outcome reads wherever it is shown (terminal, text report, nbgrader's cells,
the notebook's own test cells, the feedback pages and the class report): what the mark claims
must be true, and every format asks this module.

- passed: ``✓``;
- failed: ``✗``, what it checks was found wrong;
- withheld (`autograder.errors.Withheld`): ``·``, nothing was found wrong with what it checks,
  its points wait for something else ("counted once the values are right", "waits for ...").

`mark` and `line` are the text forms; `outcome` is the same for a page (a symbol, its words,
a CSS class).

`feedback_to_show` gives each failed check's feedback once per function: feedback already shown
becomes "(same as above)", a likely mistake already named is not named again, and a withheld
check says no more than its reason when its function has a failure that shows the values.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from autograder.errors import Withheld
from autograder.results import CheckResult

LIKELY = re.compile(r"^\s*Likely mistake: .*$\n?", re.MULTILINE)
SAME_AS_ABOVE = "(same as above)"


def mark(check: CheckResult, *, ascii: bool = False) -> str:
    """``✓``, ``✗`` or ``·`` (``ok``-style ASCII: ``+``, ``x``, ``-``)."""
    if check.passed:
        return "+" if ascii else "✓"
    if check.withheld:
        return "-" if ascii else "·"
    return "x" if ascii else "✗"


def reason(check: CheckResult) -> str:
    """Why a withheld check's points wait, in words ("" for any other check)."""
    if check.withheld == Withheld.PREREQUISITE:
        return "waits for another function to pass its checks"
    return check.withheld or ""


def line(check: CheckResult) -> str:
    """``✓ mse: matches known values``, or with why a withheld check's points wait."""
    why = reason(check)
    return f"{mark(check)} {check.name}" + (f" ({why})" if why else "")


check_line = line  # the name the pages use


class Outcome(NamedTuple):
    """A check's outcome on a page: its symbol, the words for it, and a CSS class."""

    symbol: str
    words: str
    css: str


def outcome(check: CheckResult) -> Outcome:
    """The outcome of ``check`` for a page (`mark`'s symbol; why its points wait, if they do)."""
    if check.passed:
        return Outcome(mark(check), "passed", "passed")
    if check.withheld:
        return Outcome(mark(check), reason(check), "withheld")
    return Outcome(mark(check), "failed", "failed")


def function_mark(checks: list[CheckResult], function: str) -> str:
    """``ok`` when every check of ``function`` passed (a 0-point check too: an unanswered quiz
    question is not ``ok`` because it is worth nothing without the key), ``..`` when the only
    ones that did not are waiting for a prerequisite, else ``--``."""
    left = [c for c in checks if c.function == function and not c.passed]
    if not left:
        return "ok"
    return ".." if all(c.waiting for c in left) else "--"


def feedback_to_show(checks: list[CheckResult]) -> list[tuple[CheckResult, str]]:
    """(check, the feedback to show under it) for every check that did not pass, in order."""
    failed = [c for c in checks if not c.passed]
    value_failures = {c.function for c in failed if not c.withheld}
    shown: set[tuple[str, str]] = set()
    named: set[tuple[str, str]] = set()
    result = []
    for check in failed:
        text = check.feedback.strip()
        if check.withheld == Withheld.VALUES and check.function in value_failures:
            result.append((check, ""))  # its function's failed value checks say what is wrong
            continue
        if (check.function, text) in shown:
            result.append((check, SAME_AS_ABOVE))
            continue
        shown.add((check.function, text))
        if check.mistake and (check.function, check.mistake) in named:
            text = LIKELY.sub("", text).rstrip() + "\n(The likely mistake is named above.)"
        elif check.mistake:
            named.add((check.function, check.mistake))
        result.append((check, text))
    return result
