"""The class report: one self-contained HTML page about a graded class.

For every assignment in the results the page shows the score distribution, the pass rate of
every check (most-failed first), the most common named mistakes, the flagged submissions and
the grading time; then one row per submission and, per submission, a collapsible section with
the feedback of its failed checks.

The page works offline and without JavaScript: figures are PNG ``data:`` URIs drawn with
matplotlib's Agg canvas (no pyplot, so no figure outlives a call), the detail sections are
``<details>`` elements, and a Content-Security-Policy forbids scripts and every request. Names,
paths, flags and feedback come from students and are HTML-escaped everywhere.

Public functions::

    write_class_report(submissions: list[SubmissionResult], path: str | Path, *,
                       title: str = "Class report") -> Path
        Write the page to ``path`` (its folder must exist); return ``path``.

    report_command(results_json: Path, html: Path) -> int
        ``python -m autograder report RESULTS.json --html FILE``: read a ``--json`` results
        file, write the page, print one line; return 0. A missing or invalid results file, or
        a page that cannot be written, prints a one-line error on stderr and returns 2.

Figures need matplotlib (part of the ``course`` extra).
"""

from __future__ import annotations

import base64
import io
import json
import math
import statistics
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from autograder import marks
from autograder.results import CheckResult, Skipped, SubmissionResult, clean_text, read_results

DEFAULT_TITLE = "Class report"

# Bounds that keep a class of 500 submissions to a page of a few megabytes.
DETAIL_FAILED = 12  # failed checks listed in one submission's section
DETAIL_FEEDBACK = 2_500  # characters of feedback shown in one submission's section
CHECK_FEEDBACK = 1_200  # characters of feedback shown for one check
FIGURE_CHECKS = 40  # rows of the pass-rate figure (the table lists every check)
MISTAKE_ROWS = 30  # rows of the mistakes table of one assignment
SLOWEST = 3  # slowest submissions named per assignment
DPI = 100  # CSS pixels per inch of a figure

UNRECOGNISED = "unrecognised"
PUBLIC_COLOUR, HIDDEN_COLOUR, SCORE_COLOUR = "#3b6ea8", "#d9822b", "#4a8c5c"

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933;
       max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.5rem 4rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.8rem; border-bottom: 2px solid #e4e7eb; }
h3 { margin: 1.8rem 0 .4rem; } h4 { margin: .9rem 0 .2rem; font-size: 14px; }
a { color: #2f5f98; }
.muted { color: #616e7c; } .flag { color: #a15c07; } .low { color: #b42318; }
.stats { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: .6rem 0; }
.stats div b { display: block; font-size: 1.25rem; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: 14px; }
th, td { padding: .2rem .7rem; border-bottom: 1px solid #e4e7eb; text-align: left; vertical-align: top; }
th { background: #f5f7fa; } tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.name { max-width: 24rem; overflow-wrap: anywhere; }
img { max-width: 100%; height: auto; } figure { margin: .8rem 0; }
figcaption { font-size: 13px; color: #616e7c; }
details { border: 1px solid #e4e7eb; border-radius: 6px; margin: .35rem 0; padding: .3rem .8rem; }
details[open] { padding-bottom: .8rem; }
details:target { border-color: #2f5f98; box-shadow: 0 0 0 3px #cfe0f5; }
summary { cursor: pointer; font-weight: 600; overflow-wrap: anywhere; }
pre { background: #f5f7fa; padding: .5rem .75rem; overflow-x: auto; font-size: 13px; margin: .2rem 0; }
ul.flags { margin: .2rem 0; padding-left: 1.2rem; }
"""

# Nothing on the page may run or load: a second line of defence behind the escaping.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def missing_for_report() -> str | None:
    """What to install for the class report, in one line, or None when nothing is missing (the
    grading-only install has no matplotlib: the command line says so before it grades)."""
    try:
        import matplotlib  # noqa: F401
        import PIL  # noqa: F401
    except ImportError:
        pass
    else:
        return None
    return ("--report draws its figures with matplotlib and Pillow: install them (pip install matplotlib, "
            "or the package's [course] extra), or grade without --report")


def write_class_report(
    submissions: list[SubmissionResult], path: str | Path, *, title: str = DEFAULT_TITLE,
    skipped: list[Skipped] | tuple = (),
) -> Path:
    """Write the class report of ``submissions`` as one self-contained HTML page.

    Inputs:
    - submissions: graded notebooks, in any order (the order fixes each one's anchor).
    - path: the HTML file to write; its folder must exist.
    - title: the page's heading.
    - skipped: the files of the class that were not graded, listed with why.

    Returns:
    - path, as a Path.

    Raises OSError when the file cannot be written, ImportError without matplotlib.
    """
    entries = [_Entry(i, s) for i, s in enumerate(submissions)]
    page = _page(entries, title, list(skipped))
    path = Path(path)
    path.write_text(page, encoding="utf-8", errors="replace")  # names that are not UTF-8 too
    return path


def report_command(results_json: Path, html: Path) -> int:
    """Write the class report of a ``--json`` results file (the ``report`` subcommand).

    Inputs:
    - results_json: a file written by ``python -m autograder grade --json``.
    - html: the page to write.

    Returns:
    - 0 when the page was written (one line on stdout says where); 2, with a one-line error
      on stderr, when the results file is missing or invalid or the page cannot be written.
    """
    try:
        text = Path(results_json).read_text(encoding="utf-8")
        submissions, skipped = read_results(json.loads(text))
    except OSError as error:
        return _fail(f"{results_json}: {error.strerror or error}")
    except UnicodeDecodeError:
        return _fail(f"{results_json}: not a results file (not UTF-8 text)")
    except json.JSONDecodeError as error:
        return _fail(f"{results_json}: not a results file (invalid JSON: {error.msg}, line {error.lineno})")
    except ValueError as error:  # read_results_document's message says what is wrong
        return _fail(f"{results_json}: {error}")
    try:
        missing = missing_for_report()
        if missing:
            return _fail(missing)
        write_class_report(submissions, html, skipped=skipped)
    except OSError as error:
        return _fail(f"{html}: {error.strerror or error}")
    groups = len({_assignment(s) for s in submissions})
    print(f"Wrote {html}: class report of {_plural(len(submissions), 'submission')}, "
          f"{_plural(groups, 'assignment')}.")
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


# --- what the page is made of --------------------------------------------------------------


@dataclass
class _Entry:
    """A submission and its place on the page."""

    index: int
    result: SubmissionResult

    @property
    def anchor(self) -> str:
        return f"sub-{self.index}"

    @property
    def student(self) -> str:
        return _text(self.result.student) or "(unknown)"

    @property
    def who(self) -> str:
        """Who to count as one student: the name, or the notebook when there is none."""
        return self.student if self.result.student else _text(self.result.path)


@dataclass
class _CheckRate:
    name: str
    hidden: bool
    order: int  # first appearance, to keep assignment order among equal rates
    passed: int = 0
    ran: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.ran if self.ran else 1.0


@dataclass
class _Mistake:
    function: str
    label: str
    students: set[str] = field(default_factory=set)


def _text(value: object, limit: int = 300) -> str:
    """A student-controlled value as bounded text without control characters (not escaped)."""
    return clean_text("" if value is None else str(value), limit)


def _assignment(s: SubmissionResult) -> str:
    # Results files are data: an odd value here must not crash the page.
    return _text(s.assignment, 100) if s.assignment else UNRECOGNISED


def _assignment_title(assignment: str) -> str:
    from autograder.assignments import get_assignment

    try:
        return get_assignment(assignment).title
    except KeyError:
        return "unrecognised notebooks" if assignment == UNRECOGNISED else "unknown assignment"


def _number(x: float) -> str:
    return f"{round(x, 2):g}" if math.isfinite(x) else "?"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.0f}%"


def _seconds(x: float) -> str:
    if not math.isfinite(x):
        return "?"
    return f"{x:.1f} s" if x < 120 else f"{x / 60:.1f} min"


def _grouped(entries: list[_Entry]) -> list[tuple[str, list[_Entry]]]:
    """Entries by assignment: known ids in order, then others, unrecognised notebooks last."""
    groups: dict[str, list[_Entry]] = {}
    for entry in entries:
        groups.setdefault(_assignment(entry.result), []).append(entry)
    return sorted(groups.items(), key=lambda item: (item[0] == UNRECOGNISED, item[0]))


def _check_rates(entries: list[_Entry]) -> list[_CheckRate]:
    """Every check's pass rate over the submissions it ran in, most-failed first."""
    rates: dict[str, _CheckRate] = {}
    for entry in entries:
        for check in entry.result.checks:
            name = _text(check.name, 200)
            rate = rates.setdefault(name, _CheckRate(name, bool(check.hidden), len(rates)))
            rate.ran += 1
            rate.passed += check.passed
    return sorted(rates.values(), key=lambda r: (r.rate, r.order))


def _mistakes(entries: list[_Entry]) -> list[_Mistake]:
    """Named mistakes with the students who made them, grouped by function (the function of
    the most common mistake first), most common first within a function."""
    found: dict[tuple[str, str], _Mistake] = {}
    for entry in entries:
        for check in entry.result.checks:
            if check.mistake and not check.passed:
                function, label = _text(check.function, 100), _text(check.mistake, 200)
                found.setdefault((function, label), _Mistake(function, label)).students.add(entry.who)
    top: dict[str, int] = {}
    for m in found.values():
        top[m.function] = max(top.get(m.function, 0), len(m.students))
    return sorted(found.values(), key=lambda m: (-top[m.function], m.function, -len(m.students), m.label))


def _failed(result: SubmissionResult) -> list[CheckResult]:
    return [c for c in result.checks if not c.passed]


def _finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if isinstance(v, int | float) and math.isfinite(v)]


# --- figures -------------------------------------------------------------------------------


def _figure_html(fig, description: str) -> str:
    """The figure as an embedded PNG with its description as caption and alternative text.

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
    return (f'<figure><img src="{uri}" width="{width}" height="{height}" alt="{escape(description)}">'
            f"<figcaption>{escape(description)}</figcaption></figure>")


def _figure(width: float, height: float):
    """A figure on its own Agg canvas: never registered with pyplot, so nothing leaks between
    calls and nothing needs closing (it is freed with its last reference)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _histogram(entries: list[_Entry]) -> str:
    """The assignment's score distribution, as a <figure>."""
    from matplotlib.ticker import MaxNLocator

    results = [e.result for e in entries]
    maxima = {r.max_score for r in results}
    same_max = len(maxima) == 1
    if same_max:  # points out of the common maximum
        top = max(maxima) if math.isfinite(max(maxima)) and max(maxima) > 0 else 1.0
        scores = _finite(r.score for r in results)
        label = f"score (out of {_number(top)} points)"
        if top <= 30:  # one bar per point, on whole-point edges
            top = math.ceil(top)
        bins = top if top <= 30 else 20
    else:  # public-only or unrecognised notebooks have other maxima: compare fractions
        top = 100.0
        scores = _finite(100 * r.score / r.max_score for r in results if r.max_score)
        bins = 20
        label = "score (% of each submission's maximum; maximums differ)"
    fig = _figure(6.4, 2.6)
    ax = fig.add_subplot()
    ax.hist([min(max(s, 0.0), top) for s in scores], bins=bins, range=(0, top),
            color=SCORE_COLOUR, edgecolor="white")
    if scores:
        median = statistics.median(scores)
        ax.axvline(median, color="#1f2933", linestyle="--", linewidth=1, label=f"median {_number(median)}")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_xlim(0, top)
    ax.set_xlabel(label)
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    return _figure_html(fig, f"Histogram of {len(scores)} scores; {label}.")


def _pass_rate_figure(rates: list[_CheckRate]) -> str:
    """The pass rates of the most-failed checks, as a <figure>."""
    from matplotlib.patches import Patch

    shown = rates[:FIGURE_CHECKS]
    fig = _figure(8.0, 0.8 + 0.2 * len(shown))
    ax = fig.add_subplot()
    positions = list(range(len(shown)))
    bars = ax.barh(positions, [r.rate for r in shown], height=0.7,
                   color=[HIDDEN_COLOUR if r.hidden else PUBLIC_COLOUR for r in shown])
    ax.bar_label(bars, labels=[_percent(r.rate) for r in shown], padding=2, fontsize=7)
    labels = [r.name if len(r.name) <= 58 else r.name[:57] + "…" for r in shown]
    # check names are data: never parse them as mathtext
    ax.set_yticks(positions, labels=labels, fontsize=8, parse_math=False)
    ax.invert_yaxis()  # the most-failed check on top
    ax.set_xlim(0, 1.1)
    ax.xaxis.set_major_formatter(lambda x, _: _percent(x) if x <= 1 else "")
    ax.set_xlabel("submissions that passed")
    ax.spines[["top", "right"]].set_visible(False)
    kinds = [Patch(color=PUBLIC_COLOUR, label="public"), Patch(color=HIDDEN_COLOUR, label="hidden")]
    ax.legend(handles=kinds, loc="lower right", bbox_to_anchor=(1, 1), ncols=2, fontsize=7, frameon=False)
    what = "every check" if len(shown) == len(rates) else f"the {len(shown)} most-failed checks"
    return _figure_html(fig, f"Pass rate of {what}, most-failed first.")


# --- the page ------------------------------------------------------------------------------


def _page(entries: list[_Entry], title: str, skipped: list[Skipped]) -> str:
    groups = _grouped(entries)
    students = {e.who for e in entries}
    total_seconds = sum(_finite(e.result.seconds for e in entries))
    flagged = sum(1 for e in entries if e.result.flags)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">{_plural(len(entries), "submission")} from {_plural(len(students), "student")}, '
        f'{_plural(len(groups), "assignment")}; {_plural(flagged, "submission")} flagged for review; '
        f"grading took {_seconds(total_seconds)} in total (summed over notebooks).</p>",
        "<nav><ul>",
        *(f'<li><a href="#a-{i}">{escape(name)}</a> — {escape(_assignment_title(name))} '
          f"({_plural(len(group), 'submission')})</li>" for i, (name, group) in enumerate(groups)),
        '<li><a href="#students">Every submission</a></li>',
        *(['<li><a href="#skipped">Files not graded</a></li>'] if skipped else []),
        "</ul></nav>",
    ]
    for i, (name, group) in enumerate(groups):
        parts += _assignment_section(f"a-{i}", name, group)
    parts += _students_section(entries)
    parts += _skipped_section(skipped)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _skipped_section(skipped: list[Skipped]) -> list[str]:
    """The files of the class that were not graded, by student, with why."""
    if not skipped:
        return []
    rows = "".join(f"<tr><td class=name>{escape(_text(s.student or '(no student folder)', 200))}</td>"
                   f"<td>{escape(_text(s.path, 500))}</td><td>{escape(_text(s.reason, 500))}</td></tr>"
                   for s in sorted(skipped, key=lambda s: (s.student or "", s.path)))
    return ['<section><h2 id="skipped">Files not graded</h2>',
            "<table><thead><tr><th>student</th><th>file</th><th>why</th></tr></thead>",
            f"<tbody>{rows}</tbody></table></section>"]


def _link(entry: _Entry, text: str | None = None) -> str:
    return f'<a href="#{entry.anchor}">{escape(entry.student if text is None else text)}</a>'


def _assignment_section(anchor: str, name: str, entries: list[_Entry]) -> list[str]:
    results = [e.result for e in entries]
    scores = _finite(r.score for r in results)
    full = sum(1 for r in results if r.checks and r.score == r.max_score)
    public_only = [r for r in results if r.checks and not r.hidden_run]
    parts = [
        f'<section><h2 id="{anchor}">{escape(name)} — {escape(_assignment_title(name))}</h2>',
        '<div class="stats">',
        f"<div><b>{len(results)}</b>submissions</div>",
        f"<div><b>{_number(statistics.mean(scores)) if scores else '?'}</b>mean score</div>",
        f"<div><b>{_number(statistics.median(scores)) if scores else '?'}</b>median score</div>",
        f"<div><b>{full}</b>full marks</div>",
        f"<div><b>{sum(1 for r in results if r.flags)}</b>flagged</div>",
        "</div>",
    ]
    if public_only:
        reasons = sorted({_text(r.hidden_checks) for r in public_only})
        parts.append(f'<p class="flag">Hidden checks did not run for '
                     f'{_plural(len(public_only), "submission")} ({escape("; ".join(reasons))}): '
                     "their scores are out of the public checks only.</p>")

    parts.append("<h3>Score distribution</h3>")
    if any(r.max_score for r in results):
        parts.append(_histogram(entries))
    else:
        parts.append('<p class="muted">No scores: none of these notebooks could be graded.</p>')

    rates = _check_rates(entries)
    if rates:
        parts += [
            "<h3>Pass rate of every check</h3>",
            _pass_rate_figure(rates),
            "<table><thead><tr><th>check</th><th>kind</th><th class=num>passed</th>"
            "<th class=num>pass rate</th></tr></thead><tbody>",
            *(f"<tr{' class=low' if r.rate < 0.5 else ''}><td class=name>{escape(r.name)}</td>"
              f"<td>{'hidden' if r.hidden else 'public'}</td><td class=num>{r.passed} / {r.ran}</td>"
              f"<td class=num>{_percent(r.rate)}</td></tr>" for r in rates),
            "</tbody></table>",
        ]

    parts += _mistakes_part(entries)
    parts += _flagged_part(entries)
    parts += _timing_part(entries)
    parts.append("</section>")
    return parts


def _mistakes_part(entries: list[_Entry]) -> list[str]:
    mistakes = _mistakes(entries)
    parts = ["<h3>Most common mistakes</h3>"]
    if not mistakes:
        return [*parts, '<p class="muted">No recognised mistakes.</p>']
    students = len({e.who for e in entries})
    parts.append("<table><thead><tr><th>function</th><th>mistake</th><th class=num>students</th>"
                 "</tr></thead><tbody>")
    previous = None
    for m in mistakes[:MISTAKE_ROWS]:
        # the function is named once, on the first row of its group
        function = escape(m.function) if m.function != previous else ""
        previous = m.function
        parts.append(f"<tr><td>{function}</td><td class=name>{escape(m.label)}</td>"
                     f"<td class=num>{len(m.students)} ({_percent(len(m.students) / students)})</td></tr>")
    parts.append("</tbody></table>")
    if len(mistakes) > MISTAKE_ROWS:
        parts.append(f'<p class="muted">… and {len(mistakes) - MISTAKE_ROWS} rarer mistakes.</p>')
    return parts


def _flagged_part(entries: list[_Entry]) -> list[str]:
    flagged = [e for e in entries if e.result.flags]
    parts = ["<h3>Flagged for review</h3>"]
    if not flagged:
        return [*parts, '<p class="muted">No submission was flagged.</p>']
    parts.append("<table><thead><tr><th>student</th><th>why</th></tr></thead><tbody>")
    for e in flagged:
        reasons = "".join(f"<li>{escape(_text(f, 500))}</li>" for f in e.result.flags[:20])
        parts.append(f"<tr><td class=name>{_link(e)}</td><td><ul class=flags>{reasons}</ul></td></tr>")
    parts.append("</tbody></table>")
    return parts


def _timing_part(entries: list[_Entry]) -> list[str]:
    timed = [e for e in entries if _finite([e.result.seconds])]
    if not timed:
        return []
    seconds = [e.result.seconds for e in timed]
    slowest = sorted(timed, key=lambda e: -e.result.seconds)[:SLOWEST]
    named = ", ".join(f"{_link(e)} ({_seconds(e.result.seconds)})" for e in slowest)
    return [
        "<h3>Grading time</h3>",
        f"<p>{_seconds(sum(seconds))} in total (summed over notebooks: parallel jobs take less wall time), "
        f"median {_seconds(statistics.median(seconds))} per submission; slowest: {named}.</p>",
    ]


def _students_section(entries: list[_Entry]) -> list[str]:
    ordered = sorted(entries, key=lambda e: (e.student.casefold(), _assignment(e.result), e.index))
    parts = [
        '<section><h2 id="students">Every submission</h2>',
        "<table><thead><tr><th>student</th><th>assignment</th><th class=num>score</th>"
        "<th class=num>flags</th><th>details</th></tr></thead><tbody>",
    ]
    for e in ordered:
        r = e.result
        flags = f'<span class="flag">{len(r.flags)}</span>' if r.flags else "0"
        parts.append(
            f"<tr><td class=name>{escape(e.student)}</td><td>{escape(_assignment(r))}</td>"
            f"<td class=num>{_number(r.score)} / {_number(r.max_score)}</td><td class=num>{flags}</td>"
            f"<td>{_link(e, 'feedback')}</td></tr>"
        )
    parts += ["</tbody></table>", "<h3>Feedback per submission</h3>"]
    parts += [_detail(e) for e in ordered]
    parts.append("</section>")
    return parts


def _detail(entry: _Entry) -> str:
    """One submission's collapsible section: where it is, why it was flagged, its score per
    function and the feedback of its failed checks (bounded)."""
    r = entry.result
    flag_note = f' <span class="flag">· {_plural(len(r.flags), "flag")}</span>' if r.flags else ""
    parts = [
        f'<details id="{entry.anchor}"><summary>{escape(entry.student)} · {escape(_assignment(r))} · '
        f"{_number(r.score)} / {_number(r.max_score)}{flag_note}</summary>",
        f'<p class="muted">{escape(_text(r.path, 500))}</p>',
    ]
    if r.checks and not r.hidden_run:
        parts.append(f'<p class="flag">Hidden checks did not run: {escape(_text(r.hidden_checks))}. '
                     "Public checks only.</p>")
    if r.flags:
        parts.append('<ul class="flags">' + "".join(
            f'<li class="flag">{escape(_text(f, 500))}</li>' for f in r.flags[:20]) + "</ul>")
    if r.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(_text(n, 1000))}</li>" for n in r.notes[:20]) + "</ul>")
    if r.checks:
        rows = "".join(
            f"<tr><td>{mark_cell(marks.function_mark(r.checks, f))}</td><td>{escape(_text(f, 100))}</td>"
            f"<td class=num>{_number(s)} / {_number(m)}</td></tr>"
            for f, s, m in r.by_function()
        )
        parts.append(f"<table><tbody>{rows}<tr><td></td><th>total</th>"
                     f"<th class=num>{_number(r.score)} / {_number(r.max_score)}</th></tr></tbody></table>")
    parts += _feedback(_failed(r))
    parts.append("</details>")
    return "\n".join(parts)


def mark_cell(sign: str) -> str:
    """A function's ``ok``, ``--`` or ``..`` (waiting for a prerequisite) in the score table."""
    return sign if sign == "ok" else f"<span class=low>{escape(sign)}</span>"


def _feedback(failed: list[CheckResult]) -> list[str]:
    """The failed checks' feedback, each text once per function, within the section's bounds."""
    parts: list[str] = []
    budget = DETAIL_FEEDBACK
    shown: set[tuple[str, str]] = set()
    for check in failed[:DETAIL_FAILED]:
        why = f": {marks.reason(check)}" if check.withheld else ""
        parts.append(f"<h4>{marks.mark(check)} {escape(_text(check.name, 200))} ({_number(check.score)} / "
                     f"{_number(check.points)}){escape(why)}</h4>")
        feedback = str(check.feedback or "").strip()
        key = (str(check.function), feedback)
        if key in shown:
            parts.append('<p class="muted">(same as above)</p>')
        elif budget <= 0:
            parts.append('<p class="muted">(feedback not shown: this section is full; the results '
                         "file has it)</p>")
        else:
            text = _text(feedback, min(CHECK_FEEDBACK, max(budget, 200)))
            budget -= len(text)
            shown.add(key)
            parts.append(f"<pre>{escape(text)}</pre>" if text else '<p class="muted">(no feedback)</p>')
    if len(failed) > DETAIL_FAILED:
        parts.append(f'<p class="muted">… and {len(failed) - DETAIL_FAILED} more failed checks: '
                     "the results file and the terminal report have them all.</p>")
    return parts
