"""The class report: one self-contained HTML page about a graded class.

For every assignment the page shows the score distribution, the pass rate of every check
(most-failed first), the most common recognised mistakes (each as the checks told one of the
students who made it), the flagged submissions, lateness, the roster's students who handed in
nothing and the grading time; then one row per submission with links to its details, the
student's feedback page (`autograder.feedback`) and the notebook; the roster; the similarity
review's pairs with their shared code side by side, to review by hand; and the files that
were not graded, with why.

It lays out one `autograder.summary.ClassSummary` with the template
``templates/class_report.html.j2`` (autoescaping: names, paths, flags and feedback come from
students and are always text). The page works offline and without JavaScript: figures are
PNG ``data:`` URIs drawn with matplotlib's Agg canvas (no pyplot, so no figure outlives a
call), the detail sections are ``<details>`` elements, and a Content-Security-Policy forbids
scripts and every request.

Public functions::

    write_class_report(summary: ClassSummary | list[SubmissionResult], path, *, title="Class report",
                       skipped=(), feedback: Path | None = None) -> Path
    report_command(results_json: Path, html: Path | None, feedback: Path | None = None, *,
                   hidden: str = "shown") -> int

Figures need matplotlib (part of the ``course`` extra).
"""

from __future__ import annotations

import base64
import io
import json
import os
import statistics
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.rendering import number, percent, plural, render
from autograder.results import CheckResult, SubmissionResult
from autograder.summary import (
    AssignmentSummary,
    ClassSummary,
    finite,
    late_cell,
    summarise,
    summary_of_document,
    text,
)

DEFAULT_TITLE = "Class report"

# Bounds that keep a class of 500 submissions to a page of a few megabytes.
DETAIL_FAILED = 12  # failed checks listed in one submission's section
DETAIL_FEEDBACK = 2_500  # characters of feedback shown in one submission's section
CHECK_FEEDBACK = 1_200  # characters of feedback shown for one check
FIGURE_CHECKS = 40  # rows of the pass-rate figure (the table lists every check)
MISTAKE_ROWS = 30  # rows of the mistakes table of one assignment
CODE_PAIRS = 40  # similar pairs shown with their code side by side (the others are listed)
DPI = 100  # CSS pixels per inch of a figure

PUBLIC_COLOUR, HIDDEN_COLOUR, SCORE_COLOUR = "#3b6ea8", "#d9822b", "#4a8c5c"


def missing_for_report() -> str | None:
    """What to install for the class report, in one line, or None when nothing is missing (the
    grading-only install has no matplotlib: the command line says so before it grades)."""
    try:
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
        import PIL  # noqa: F401
    except ImportError:
        pass
    else:
        return None
    return ("--report draws its figures with matplotlib and Pillow and lays out the page with Jinja2: "
            "install them (pip install matplotlib jinja2, or the package's [course] extra), or grade "
            "without --report")


def write_class_report(
    summary: ClassSummary | list[SubmissionResult], path: str | Path, *, title: str = DEFAULT_TITLE,
    skipped: list[Any] | tuple = (), feedback: Path | None = None,
) -> Path:
    """Write the class report as one self-contained HTML page.

    Inputs:
    - summary: the class (`autograder.summary.ClassSummary`), or its graded notebooks alone.
    - path: the HTML file to write; its folder must exist.
    - title: the page's heading.
    - skipped: with a list of results, the files of the class that were not graded.
    - feedback: the folder of the students' feedback pages (`autograder.feedback`), linked from
      each submission's row; None: no links.

    Returns:
    - path, as a Path.

    Raises OSError when the file cannot be written, ImportError without matplotlib.
    """
    if not isinstance(summary, ClassSummary):
        summary = summarise(summary, skipped)
    path = Path(path)
    page = render("class_report.html.j2", **_context(summary, title, path.parent, feedback))
    path.write_text(page, encoding="utf-8", errors="replace")  # names that are not UTF-8 too
    return path


def report_command(results_json: Path, html: Path | None, feedback: Path | None = None, *,
                   hidden: str = "shown") -> int:
    """``python -m autograder report RESULTS.json [--html FILE] [--feedback DIR]``: the class
    report and/or the students' feedback pages of a ``--json`` results file.

    Returns:
    - 0 when they were written (one line on stdout for each says where); 2, with a one-line
      error on stderr, when the results file is missing or invalid or a page cannot be written.
    """
    try:
        text_ = Path(results_json).read_text(encoding="utf-8")
        summary = summary_of_document(json.loads(text_))
    except OSError as error:
        return _fail(f"{results_json}: {error.strerror or error}")
    except UnicodeDecodeError:
        return _fail(f"{results_json}: not a results file (not UTF-8 text)")
    except json.JSONDecodeError as error:
        return _fail(f"{results_json}: not a results file (invalid JSON: {error.msg}, line {error.lineno})")
    except ValueError as error:  # read_results's message says what is wrong
        return _fail(f"{results_json}: {error}")
    if html is None and feedback is None:
        return _fail("nothing to write: give --html FILE, --feedback DIR or both")
    missing = missing_for_report() if html is not None else None
    if missing:
        return _fail(missing)
    if feedback is not None:
        from autograder.feedback import write_feedback_pages

        try:
            pages = write_feedback_pages(summary, feedback, hidden=hidden)
        except OSError as error:
            return _fail(f"{feedback}: {error.strerror or error}")
        print(f"Wrote {plural(len(pages) - 1, 'feedback page')} to {feedback} (for you: {pages[-1]}).")
    if html is not None:
        try:
            write_class_report(summary, html, feedback=feedback)
        except OSError as error:
            return _fail(f"{html}: {error.strerror or error}")
        print(f"Wrote {html}: class report of {plural(len(summary.results), 'submission')}, "
              f"{plural(len(summary.assignments), 'assignment')}.")
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


# --- what the template is given ------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """An embedded PNG: its ``data:`` URI, display size and description (caption and alt text)."""

    uri: str
    width: int
    height: int
    description: str


@dataclass(frozen=True)
class FailedCheck:
    """A failed check as a submission's section shows it: its feedback once per function, and
    within the section's bounds."""

    check: CheckResult
    name: str
    feedback: str = ""
    same: bool = False  # the same text as a check above
    full: bool = False  # the section's feedback budget is spent


def _context(summary: ClassSummary, title: str, folder: Path, feedback: Path | None) -> dict[str, Any]:
    anchors = {id(r): f"sub-{i}" for i, r in enumerate(summary.results)}
    figures = {a.id: {"histogram": _histogram(a) if any(r.max_score for r in a.submissions) else None,
                      "rates": _pass_rate_figure(a) if a.rates else None} for a in summary.assignments}

    def feedback_href(result: SubmissionResult) -> str | None:
        if feedback is None:
            return None
        from autograder.feedback import page_path

        return _href(Path(feedback) / page_path(result, summary.results), folder)

    def notebook_href(result: SubmissionResult) -> str | None:
        notebook = Path(result.path)
        try:
            return _href(notebook, folder) if notebook.is_file() else None
        except (OSError, ValueError):  # a path from a results file: anything
            return None

    def failed_count(result: SubmissionResult) -> int:
        return sum(1 for c in result.checks if not c.passed)

    return {
        "title": title, "summary": summary, "figures": figures,
        "named": any(r.person for r in summary.results), "dated": any(r.late for r in summary.results),
        "feedback_links": feedback is not None, "mistake_rows": MISTAKE_ROWS, "code_pairs": CODE_PAIRS,
        "detail_failed": DETAIL_FAILED,
        "not_graded": sorted(summary.not_graded, key=lambda n: (n.student or "", n.path)),
        "anchor": lambda r: anchors[id(r)], "student": _student, "person": _person,
        "path": lambda r: text(r.path, 500),
        # flags whole (bounded when raised): never cut
        "flags": lambda r: [text(f.text, 2_000) for f in r.flags[:20]],
        "late": late_cell, "failed": _failed, "failed_count": failed_count,
        "students_of": lambda a: max(1, len({_student(r) for r in a.submissions})),
        "feedback_href": feedback_href, "notebook_href": notebook_href,
    }


def _student(result: SubmissionResult) -> str:
    return text(result.student) or "(unknown)"


def _person(result: SubmissionResult) -> str:
    """The roster's name, when it says more than the folder name."""
    person = result.person
    return text(person.name, 200) if person and person.name != result.student else ""


def _href(target: Path, folder: Path) -> str:
    """A relative link from a page in ``folder`` to ``target`` (percent-encoded: file names
    come from students)."""
    relative = os.path.relpath(os.path.abspath(target), os.path.abspath(folder))
    return urllib.parse.quote(relative.replace(os.sep, "/"), safe="/")


def _failed(result: SubmissionResult) -> list[FailedCheck]:
    """The failed checks of a submission's section: the first `DETAIL_FAILED`, each text once
    per function, within `DETAIL_FEEDBACK` characters."""
    shown: list[FailedCheck] = []
    budget = DETAIL_FEEDBACK
    seen: set[tuple[str, str]] = set()
    for check in [c for c in result.checks if not c.passed][:DETAIL_FAILED]:
        name = text(check.name, 200)
        feedback = str(check.feedback or "").strip()
        key = (str(check.function), feedback)
        if key in seen:
            shown.append(FailedCheck(check, name, same=True))
        elif budget <= 0:
            shown.append(FailedCheck(check, name, full=True))
        else:
            bounded = text(feedback, min(CHECK_FEEDBACK, max(budget, 200)))
            budget -= len(bounded)
            seen.add(key)
            shown.append(FailedCheck(check, name, bounded))
    return shown


# --- figures -------------------------------------------------------------------------------


def _figure(fig, description: str) -> Figure:
    """The figure as an embedded PNG.

    Drawn at 1.5 times its display size for sharp high-density screens, then reduced to 64
    colours (flat bars and anti-aliased text need no more): a third of the bytes.
    """
    import numpy as np
    from PIL import Image

    fig.set_dpi(DPI * 1.5)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    image = Image.fromarray(pixels).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    width, height = (round(size * DPI) for size in fig.get_size_inches())
    return Figure(uri, width, height, description)


def _canvas(width: float, height: float):
    """A figure on its own Agg canvas: never registered with pyplot, so nothing leaks between
    calls and nothing needs closing (it is freed with its last reference)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MatplotlibFigure

    fig = MatplotlibFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _histogram(assignment: AssignmentSummary) -> Figure:
    """The assignment's score distribution."""
    from matplotlib.ticker import MaxNLocator

    results = assignment.submissions
    maxima = {r.max_score for r in results}
    if len(maxima) == 1:  # points out of the common maximum
        top = max(maxima) if finite(maxima) and max(maxima) > 0 else 1.0
        scores = finite(r.score for r in results)
        label = f"score (out of {number(top)} points)"
        if top <= 30:  # one bar per point, on whole-point edges
            top = float(int(-(-top // 1)))
        bins = int(top) if top <= 30 else 20
    else:  # public-only notebooks have other maxima: compare fractions
        top = 100.0
        scores = finite(100 * r.score / r.max_score for r in results if r.max_score)
        bins = 20
        label = "score (% of each submission's maximum; maximums differ)"
    fig = _canvas(6.4, 2.6)
    ax = fig.add_subplot()
    ax.hist([min(max(s, 0.0), top) for s in scores], bins=bins, range=(0, top),
            color=SCORE_COLOUR, edgecolor="white")
    if scores:
        median = statistics.median(scores)
        ax.axvline(median, color="#1f2933", linestyle="--", linewidth=1, label=f"median {number(median)}")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_xlim(0, top)
    ax.set_xlabel(label)
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    return _figure(fig, f"Histogram of {len(scores)} scores; {label}.")


def _pass_rate_figure(assignment: AssignmentSummary) -> Figure:
    """The pass rates of the most-failed checks."""
    from matplotlib.patches import Patch

    rates = assignment.rates
    shown = rates[:FIGURE_CHECKS]
    fig = _canvas(8.0, 0.8 + 0.2 * len(shown))
    ax = fig.add_subplot()
    positions = list(range(len(shown)))
    bars = ax.barh(positions, [r.rate for r in shown], height=0.7,
                   color=[HIDDEN_COLOUR if r.hidden else PUBLIC_COLOUR for r in shown])
    ax.bar_label(bars, labels=[percent(r.rate) for r in shown], padding=2, fontsize=7)
    labels = [r.name if len(r.name) <= 58 else r.name[:57] + "…" for r in shown]
    # check names are data: never parse them as mathtext
    ax.set_yticks(positions, labels=labels, fontsize=8, parse_math=False)
    ax.invert_yaxis()  # the most-failed check on top
    ax.set_xlim(0, 1.1)
    ax.xaxis.set_major_formatter(lambda x, _: percent(x) if x <= 1 else "")
    ax.set_xlabel("submissions that passed")
    ax.spines[["top", "right"]].set_visible(False)
    kinds = [Patch(color=PUBLIC_COLOUR, label="public"), Patch(color=HIDDEN_COLOUR, label="hidden")]
    ax.legend(handles=kinds, loc="lower right", bbox_to_anchor=(1, 1), ncols=2, fontsize=7, frameon=False)
    what = "every check" if len(shown) == len(rates) else f"the {len(shown)} most-failed checks"
    return _figure(fig, f"Pass rate of {what}, most-failed first.")
