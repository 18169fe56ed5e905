"""What the command line prints: a class run's progress, the summary table, and one
submission's scores with the feedback of its failed checks.

On an interactive terminal rich draws a live progress bar and colours. Anywhere else (CI
logs, a pipe, a file) the same information comes as plain lines without escape codes, one per
graded notebook, so that logs stay readable and greppable. Names, paths, flags and feedback
come from students: they are printed as plain text, never read as rich markup, and stripped of
control characters.

Public API::

    ClassProgress(total: int, *, console: Console | None = None)   # a context manager
        .advance(result: SubmissionResult) -> None
    summary_table(summary: ClassSummary | list[SubmissionResult], *, width: int = 100) -> str
    closing_lines(summary: ClassSummary) -> list[str]
    submission_detail(result: SubmissionResult, *, width: int = 100) -> str
    print_report(submissions: list[SubmissionResult], console: Console | None = None) -> None

The two ``-> str`` functions return plain text; `print_report` prints every submission's
detail, then the summary of a class, in colour when ``console`` is a terminal.
"""

from __future__ import annotations

import io
import textwrap
from types import TracebackType

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from autograder import marks
from autograder.results import SubmissionResult, clean_text
from autograder.summary import ClassSummary, late_cell, summarise
from autograder.text import one_line

NAME_WIDTH = 30  # characters of a student's name shown in a table; longer names end in "…"
FLAGS_MIN_WIDTH = 24  # the flags column is never narrower (flags wrap within it)
LATE_WIDTH = 36  # characters of the late column


def _plain(value: object, limit: int = 300) -> str:
    """Student-controlled text on one line, without control characters."""
    return " ".join(clean_text("" if value is None else str(value), limit).split())


def _number(x: float) -> str:
    return f"{round(x, 2):g}"


def _score(result: SubmissionResult) -> str:
    return f"{_number(result.score)}/{_number(result.max_score)}"


class ClassProgress:
    """Progress of grading a class, one `advance` per graded notebook.

    On an interactive terminal: a progress bar with the count, the time elapsed and the time
    left. Otherwise one plain line per notebook::

        [12/50] alice 01_losses 21/23 (0.4 s)

    Inputs:
    - total: how many notebooks will be graded.
    - console: where to print (default: standard error, so that standard output keeps only
      the report). Whether it draws a bar is the console's ``is_interactive``: a Console on a
      StringIO gets lines, one made with ``force_terminal=True`` gets the bar.

    Example::

        with ClassProgress(len(notebooks)) as progress:
            for result in results:
                progress.advance(result)
    """

    def __init__(self, total: int, *, console: Console | None = None) -> None:
        self.total = total
        self.done = 0
        self.console = console if console is not None else Console(stderr=True)
        # a bar needs a terminal that redraws in place; a log gets lines
        self.live = self.console.is_interactive
        self._progress: Progress | None = None
        self._task = None

    def __enter__(self) -> ClassProgress:
        if self.live:
            self._progress = Progress(
                TextColumn("grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("elapsed,"),
                TimeRemainingColumn(),
                TextColumn("left"),
                # the last notebook graded: student text, so never read as markup
                TextColumn("{task.fields[last]}", markup=False),
                console=self.console,
            )
            self._progress.start()
            self._task = self._progress.add_task("grading", total=self.total, last="")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def advance(self, result: SubmissionResult) -> None:
        """Count one graded notebook and show it."""
        self.done += 1
        what = f"{_plain(result.student, 100)} {_plain(result.assignment, 60) or '?'} {_score(result)}"
        flags = ""
        if result.flags:
            more = f" (+{len(result.flags) - 1} more)" if len(result.flags) > 1 else ""
            flags = f" flagged: {one_line(result.flags[0].text, 2_000)}{more}"
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, last=what)
            if flags:  # above the bar, so that it stays on screen
                self._progress.console.print(Text(f"{what}{flags}", style="yellow"))
            return
        width = len(str(self.total))
        line = f"[{self.done:>{width}}/{self.total}] {what} ({result.seconds:.1f} s){flags}"
        self.console.print(Text(line), soft_wrap=True, highlight=False)


def _render(renderable: RenderableType, width: int) -> str:
    """Plain text of a renderable: no colours or escape codes, whatever the environment says
    (an explicit ``force_terminal=False`` overrides FORCE_COLOR and TTY_COMPATIBLE)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, force_jupyter=False,
                      color_system=None, highlight=False, emoji=False, legacy_windows=False)
    console.print(renderable, crop=False)  # feedback lines are never cut
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _summary(summary: ClassSummary) -> Table:
    submissions = summary.results
    table = Table(box=box.SIMPLE_HEAD, title="Summary", title_justify="left", pad_edge=False)
    table.add_column("student", max_width=NAME_WIDTH, no_wrap=True, overflow="ellipsis")
    named = any(s.person for s in submissions)
    if named:  # names from the roster, an instructor's file (still shown as plain text)
        table.add_column("name", max_width=NAME_WIDTH, no_wrap=True, overflow="ellipsis")
    from autograder.assignments import ASSIGNMENTS

    # as wide as the longest id the course has: an unknown one (from a results file) may be cut
    widest = max((len(a) for a in ASSIGNMENTS), default=0)
    table.add_column("assignment", no_wrap=True, overflow="ellipsis", max_width=max(16, widest))
    table.add_column("score", no_wrap=True)  # left-justified: the cells are padded to one width
    dated = any(s.late for s in submissions)
    if dated:  # a penalty is never cut: on a narrow screen the names give way first
        longest = max(len(late_cell(s)) for s in submissions)
        table.add_column("late", min_width=min(LATE_WIDTH, longest), max_width=LATE_WIDTH, overflow="fold")
    # flags are wrapped, never cut: they are bounded when raised, and each one matters
    table.add_column("flags", min_width=FLAGS_MIN_WIDTH, overflow="fold")
    # the slash at one place in every row: scores right-aligned before it, maxima left-aligned
    scores = [_number(s.score) for s in submissions]
    maxima = [_number(s.max_score) for s in submissions]
    left = max((len(x) for x in scores), default=0)
    right = max((len(x) for x in maxima), default=0)
    for s, score, maximum in zip(submissions, scores, maxima, strict=True):
        style = "green" if s.checks and s.score == s.max_score else ("red" if s.score == 0 else "")
        shown = f"{score:>{left}} / {maximum:<{right}}" if s.assignment else "not graded"
        cells = [
            Text(_plain(s.student, 200) or "?"),
            *([Text(_plain(s.person.name if s.person else "", 200))] if named else []),
            Text(_plain(s.assignment, 60) or "?"),
            Text(shown, style=style),
            *([Text(late_cell(s), style="yellow" if s.penalty else "")] if dated else []),
            Text("\n".join(one_line(flag.text, 2_000) for flag in s.flags), style="yellow"),
        ]
        table.add_row(*cells)
    return table


def summary_table(summary: ClassSummary | list[SubmissionResult], *, width: int = 100) -> str:
    """The class at a glance: one row per submission, aligned whatever the names' lengths.

    Inputs:
    - summary: the class (`autograder.summary.ClassSummary`), or its graded notebooks, in the
      order to list them.
    - width: the widest line, in characters.

    Returns:
    - plain text (no escape codes): student (long names end in "…"), assignment, score / max
      ("not graded" for a notebook that could not be read or recognised), and every flag,
      one per line, wrapped (never cut).
    """
    return _render(_summary(summary if isinstance(summary, ClassSummary) else summarise(summary)), width)


def closing_lines(summary: ClassSummary) -> list[str]:
    """What follows the table: the run's wall time, then what the roster says."""
    lines = []
    if summary.wall_seconds is not None:
        count = len(summary.results)
        lines.append(f"Graded {count} notebook{'' if count == 1 else 's'} in {summary.wall_seconds:.1f} s.")
    if summary.roster is not None:
        lines += summary.roster.lines()
    return lines


def _line(text: str, style: str = "") -> Text:
    """A line shown whole: never wrapped or cut, like the feedback it sits with."""
    return Text(text, style=style, no_wrap=True, overflow="ignore")


def _detail(s: SubmissionResult) -> Group:
    from autograder.assignments import get_assignment

    try:
        title = get_assignment(str(s.assignment)).title if s.assignment else "unrecognised notebook"
    except KeyError:
        title = "unknown assignment"
    parts: list[RenderableType] = [
        _line(_plain(s.path, 500), "bold"),
        _line(f"  student: {_plain(s.student, 200)}{_named(s)}   "
              f"assignment: {_plain(s.assignment, 60) or '?'} ({title})"),
    ]
    if s.late:
        parts.append(_line(f"  late: {_plain(s.late.text(), 500)}", "yellow" if s.penalty else ""))
    if not s.hidden_run:
        reason = _plain(s.hidden_checks)
        parts.append(_line(f"  hidden checks not run: {reason}; public checks only", "yellow"))
    parts += [_line(f"  FLAG: {_plain(flag, 500)}", "bold yellow") for flag in s.flags]
    parts += [_line(f"  note: {_plain(note, 1000)}") for note in s.notes]

    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    table.add_column(no_wrap=True)  # ok / --
    table.add_column(no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    for function, score, maximum in s.by_function():
        sign = marks.function_mark(s.checks, function)
        table.add_row(Text(sign, style={"ok": "green", "--": "red"}.get(sign, "yellow")),
                      Text(_plain(function, 100)), Text(_number(score)), Text(f"/ {_number(maximum)}"))
    table.add_row(Text(""), Text("total", style="bold"), Text(_number(s.score), style="bold"),
                  Text(f"/ {_number(s.max_score)}", style="bold"))
    if s.penalty:
        table.add_row(Text(""), Text("late penalty"), Text(f"-{_number(s.penalty)}"), Text(""))
        table.add_row(Text(""), Text("grade", style="bold"), Text(_number(s.final_score), style="bold"),
                      Text(f"/ {_number(s.max_score)}", style="bold"))
    parts += [Text(""), Padding(table, (0, 0, 0, 2), expand=False)]

    failed = marks.feedback_to_show(s.checks)
    if failed:
        parts += [Text(""), _line("  Feedback:", "bold")]
    for check, shown in failed:
        # one message per function when all its checks fail the same way (a stub, say)
        feedback = clean_text(shown, 10_000).strip()
        points = f"({_number(check.score)} / {_number(check.points)})"
        why = f": {marks.reason(check)}" if check.withheld else ""
        sign = (f"  {marks.mark(check, ascii=True)} ", "yellow" if check.withheld else "red")
        parts.append(Text.assemble(sign, f"{_plain(check.name, 300)}  {points}{why}", no_wrap=True,
                                   overflow="ignore"))
        if feedback == "(same as above)":
            parts.append(_line("      (same as above)", "dim"))
        elif feedback:
            parts.append(_line(textwrap.indent(feedback, "      ")))
    return Group(*parts)


def _named(result: SubmissionResult) -> str:
    """" (Name)" from the roster, when it says more than the folder name."""
    person = result.person
    return f" ({_plain(person.name, 200)})" if person and person.name != result.student else ""


def submission_detail(result: SubmissionResult, *, width: int = 100) -> str:
    """One submission: where it is, who and what, why hidden checks did not run, its flags
    and notes, its score per function, then the feedback of every failed check.

    Inputs:
    - result: a graded notebook.
    - width: the widest line of the score table (feedback lines are never cut).

    Returns:
    - plain text, no escape codes.
    """
    return _render(_detail(result), width)


def print_report(submissions: list[SubmissionResult], console: Console | None = None) -> None:
    """Print every submission's detail, then the summary when there are several.

    Inputs:
    - submissions: graded notebooks.
    - console: where to print (default: standard output); colours only on a terminal.
    """
    console = console if console is not None else Console(highlight=False)
    for s in submissions:
        console.print(_detail(s), highlight=False, crop=False)
        console.print()
    if len(submissions) > 1:
        console.print(_summary(summarise(submissions)), highlight=False)
