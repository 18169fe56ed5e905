"""The pages the course writes, rendered from Jinja2 templates that escape everything.

The class report (`autograder.class_report`) and the students' feedback pages
(`autograder.feedback`) are templates under ``autograder/templates/``, rendered by one
environment: autoescaping on for every template (names, paths, flags and feedback come from
students, and are always shown as text), undefined names an error rather than an empty
string, and the small formatting helpers every page shares. Jinja2 is the templating
nbconvert and nbgrader already use for their own pages.

Every page is one self-contained file: styles inline, figures as ``data:`` URIs, math as
MathML (`autograder.mathml`), no script, and a Content-Security-Policy that forbids scripts
and every request, as a second line of defence behind the escaping.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

from autograder.marks import outcome

TEMPLATES = Path(__file__).parent / "templates"
# Nothing on a page may run or load; links still lead to other files.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def number(x: float) -> str:
    """A score as reports show it: at most two decimals, no trailing zeros (``?`` if not finite)."""
    return f"{round(x, 2):g}" if isinstance(x, int | float) and math.isfinite(x) else "?"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def percent(fraction: float) -> str:
    return f"{100 * fraction:.0f}%" if math.isfinite(fraction) else "?"


def seconds(x: float) -> str:
    if not isinstance(x, int | float) or not math.isfinite(x):
        return "?"
    return f"{x:.1f} s" if x < 120 else f"{x / 60:.1f} min"


@functools.cache
def environment() -> Any:
    """The Jinja2 environment of the course's pages (autoescaping every template)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(number=number, plural=plural, percent=percent, seconds=seconds, mark=outcome, csp=CSP)
    return env


def render(template: str, **context: Any) -> str:
    """The page ``template`` (a file of ``autograder/templates``) rendered with ``context``."""
    return environment().get_template(template).render(**context)
