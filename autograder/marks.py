"""How a check's outcome is marked, in one place for every page and report.

A check passed (✓), failed (✗), or was *withheld*: a property (no mutation, shapes,
normalisation) that scores only together with correct values, not counted because the values
were wrong. Every format that marks checks asks `mark` (the feedback pages, the class report,
nbgrader's grade cells), so a new outcome is added here once.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Mark(NamedTuple):
    """A check's outcome as shown: a symbol, the words for it, and a CSS class."""

    symbol: str
    words: str
    css: str


PASSED = Mark("✓", "passed", "passed")
FAILED = Mark("✗", "failed", "failed")
WITHHELD = Mark("○", "counted once the values are right", "withheld")


def mark(check: Any) -> Mark:
    """The mark of a `autograder.results.CheckResult` (withheld when it says so)."""
    if getattr(check, "withheld", False):
        return WITHHELD
    return PASSED if check.passed else FAILED


def check_line(check: Any) -> str:
    """One line for a check: its mark and name, and why when it was withheld
    (``"✓ mse: matches known values"``)."""
    shown = mark(check)
    line = f"{shown.symbol} {check.name}"
    return f"{line} ({shown.words})" if shown is WITHHELD else line
