"""What the command line prints: progress of a class run, the summary table, one submission's
scores and feedback; plain and aligned in logs, and never taking student text as markup."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from autograder.flags import Flag, FlagKind
from autograder.results import CheckResult, SubmissionResult
from autograder.summary import late_cell
from autograder.terminal import ClassProgress, print_report, submission_detail, summary_table

TIMED_OUT_MSE, CRASHED = Flag(FlagKind.TIMED_OUT, "timed out: mse"), Flag(FlagKind.CRASHED, "crashed")
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LONG_NAME = "Maximiliana Theodora Wilhelmina von Hohenzollern-Sigmaringen"  # 60 characters
FEEDBACK = ("mse_grad: case (3, 4), seed 0\n  worst element [2, 1]: expected 0.25, got 1 "
            + "(a line longer than any table: " + "0123456789" * 12 + ")\n"
            "  Likely mistake: your gradient is 4 times the expected one.")


def result(student: str = "alice", assignment: str | None = "01_losses", **changes) -> SubmissionResult:
    checks = [
        CheckResult("mse", "matches known values", 2.0, 2.0),
        CheckResult("mse_grad", "matches known values", 1.0, 0.0, feedback=FEEDBACK),
        CheckResult("mse_grad", "matches the reference on random inputs", 1.5, 0.0, hidden=True,
                    feedback=FEEDBACK),
        CheckResult("Q1", "correct answer", 1.0, 0.0, hidden=True, feedback="Q1: expected another answer"),
    ]
    fields = {"path": f"class/{student}/01_losses/losses.ipynb", "student": student,
              "assignment": assignment, "checks": checks, "seconds": 0.42} | changes
    return SubmissionResult(**fields)


def plain_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()  # not a terminal, as in CI or a pipe
    return Console(file=buffer, width=80), buffer


def test_plain_lines_when_not_a_terminal():
    console, buffer = plain_console()
    results = [result(), result(LONG_NAME, seconds=2.0), result("bob", flags=[TIMED_OUT_MSE, CRASHED])]
    with ClassProgress(12, console=console) as progress:
        for r in results:
            progress.advance(r)
    assert buffer.getvalue().splitlines() == [
        "[ 1/12] alice 01_losses 2/5.5 (0.4 s)",
        f"[ 2/12] {LONG_NAME} 01_losses 2/5.5 (2.0 s)",  # one line each, never wrapped
        "[ 3/12] bob 01_losses 2/5.5 (0.4 s) flagged: timed out: mse (+1 more)",
    ]


def test_progress_goes_to_standard_error_by_default(capsys):
    with ClassProgress(1) as progress:  # pytest's captured stderr is not a terminal
        progress.advance(result())
    out, err = capsys.readouterr()
    assert out == "" and err == "[1/1] alice 01_losses 2/5.5 (0.4 s)\n"


def test_a_progress_bar_on_a_terminal():
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=True, force_interactive=True)
    with ClassProgress(3, console=console) as progress:
        for r in [result(), result("[bold]bob[/bold]"), result("carol", flags=[TIMED_OUT_MSE])]:
            progress.advance(r)
    shown = ESCAPE.sub("", buffer.getvalue())
    assert ESCAPE.search(buffer.getvalue())  # drawn in place, with colours
    assert "3/3" in shown and "━" in shown
    assert "[1/3]" not in shown  # no plain lines
    assert "carol 01_losses 2/5.5 flagged: timed out: mse" in shown  # kept above the bar


def rows(table: str) -> list[str]:
    """The data rows of a rendered summary (below the header rule)."""
    lines = table.splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"})
    return [line for line in lines[rule + 1:] if line.strip()]


def test_summary_stays_aligned_with_a_sixty_character_name():
    submissions = [result("al"), result(LONG_NAME), result("bob", "02_backprop"),
                   result("zoe", None, checks=[], max_points=0.0,
                          flags=[Flag(FlagKind.NOT_GRADED, "unreadable notebook")])]
    submissions[1].checks[1].score = 1.0  # 3 / 5.5: a one-digit score next to one of 2.5
    text = summary_table(submissions, width=100)
    assert not ESCAPE.search(text)
    lines = rows(text)
    assert len(lines) == 4  # one line per submission: nothing wrapped
    assert all(len(line) <= 100 for line in text.splitlines())
    # the long name is cut with an ellipsis, and every column starts at the same place
    assert LONG_NAME not in text and LONG_NAME[:20] in lines[1] and "…" in lines[1]
    assert len({line.index(" 01_losses") if "01_losses" in line else None for line in lines[:2]}) == 1
    assert len({line.index(" / ") for line in lines[:3]}) == 1
    assert lines[0].split() == ["al", "01_losses", "2", "/", "5.5"]
    # a notebook that could not be read is "not graded", never a score of 0 / 0
    assert lines[3].split()[:4] == ["zoe", "?", "not", "graded"] and lines[3].endswith("unreadable notebook")
    header = text.splitlines()[next(i for i, line in enumerate(text.splitlines()) if "student" in line)]
    assert header.index("assignment") == lines[0].index("01_losses")


def test_flags_are_wrapped_whole_never_cut():
    long_flag = ("suspicious code, review by hand: mse opens a file (open) and starts a process "
                 "(subprocess.run) in a helper called from three graded functions, " + "x" * 200 + " end")
    submissions = [result("al", flags=[Flag(FlagKind.SUSPICIOUS, long_flag), TIMED_OUT_MSE]), result("bob")]
    text = summary_table(submissions, width=100)
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "shortened" not in text and "…" not in text and "(+1)" not in text
    column = rows(text)[0].index(long_flag[:10])
    flags = "".join(line[column:].strip() for line in rows(text) if not line.lstrip().startswith("bob"))
    assert "".join(flags.split()) == "".join((long_flag + "timed out: mse").split())  # every word, in order


def test_a_late_penalty_is_shown_whole_on_a_narrow_screen():
    """On 80 columns (a pipe, a log), with a long name and a flag beside it, the lateness and its
    penalty stay on one line; the name gives way."""
    from datetime import UTC, datetime

    from autograder.lateness import Lateness, LateStatus

    late = result(LONG_NAME, flags=[TIMED_OUT_MSE])
    late.late = Lateness(LateStatus.LATE, datetime(2025, 2, 7, tzinfo=UTC), penalty=0.55, source="nbgrader",
                         submitted_at=datetime(2025, 2, 8, 11, tzinfo=UTC), seconds_late=39_600, policy="10%")
    text = summary_table([late, result("bob")], width=80)
    assert late_cell(late) == "11 h late: -0.55 = 1.45" and late_cell(late) in text, text
    assert LONG_NAME not in text and "…" in rows(text)[0]


def test_no_escape_codes_off_a_terminal_even_when_colour_is_forced(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    submissions = [result(), result("bob", flags=[TIMED_OUT_MSE])]
    for text in (summary_table(submissions), submission_detail(submissions[1])):
        assert not ESCAPE.search(text) and "\x1b" not in text


def test_submission_detail_keeps_everything_the_text_report_showed():
    r = result(flags=[Flag(FlagKind.TIMED_OUT, "timed out: softmax")],
               notes=["sandbox: Landlock is not available"],
               hidden_checks="no reference solutions found (set AUTOGRADER_SOLUTIONS)")
    r.checks = [c for c in r.checks if not c.hidden]  # only the public checks ran
    text = submission_detail(r, width=80)
    lines = text.splitlines()
    assert lines[:5] == [
        "class/alice/01_losses/losses.ipynb",
        "  student: alice   assignment: 01_losses (Loss functions)",
        "  hidden checks not run: no reference solutions found (set AUTOGRADER_SOLUTIONS); "
        "public checks only",
        "  FLAG: timed out: softmax",
        "  note: sandbox: Landlock is not available",
    ]
    table = [line.split() for line in lines[6:9]]
    assert table == [["ok", "mse", "2", "/", "2"], ["--", "mse_grad", "0", "/", "1"],
                     ["total", "2", "/", "3"]]
    assert "  x mse_grad: matches known values  (0 / 1)" in lines
    # feedback is shown whole and indented, even past the table's width
    assert [line for line in lines if line.startswith("      ")][:3] == [
        "      " + line for line in FEEDBACK.splitlines()]


def test_the_same_feedback_is_shown_once_per_function():
    text = submission_detail(result())
    assert text.count("worst element [2, 1]") == 1
    after = text.split("  x mse_grad: matches the reference on random inputs  (0 / 1.5)\n", 1)[1]
    assert after.startswith("      (same as above)\n")
    assert "  x Q1: correct answer  (0 / 1)\n      Q1: expected another answer" in text
    assert "hidden checks not run" not in text


def test_student_text_is_never_markup_or_terminal_control():
    sneaky = result("[bold red]mallory[/]", flags=[Flag(FlagKind.REVIEW, "[link=http://x]click[/link]")])
    sneaky.checks[1].feedback = "[/] unbalanced markup \x1b[2J and a cleared screen"
    buffer = io.StringIO()
    print_report([sneaky, result()], Console(file=buffer, width=100, force_terminal=True))
    printed = buffer.getvalue()
    assert "\x1b[2J" not in printed and "\x1b]8;" not in printed  # no clear screen, no hyperlink
    shown = ESCAPE.sub("", printed)
    assert "student: [bold red]mallory[/]" in shown
    assert "FLAG: [link=http://x]click[/link]" in shown
    assert "[/] unbalanced markup \\x1b[2J and a cleared screen" in shown  # shown escaped
    assert "Summary" in shown and "[bold red]mallory[/]" in rows(shown)[0]


def test_print_report_lists_details_then_the_summary_of_a_class():
    console, buffer = plain_console()
    print_report([result(), result("bob")], console)
    text = buffer.getvalue()
    assert not ESCAPE.search(text)
    assert text.index("class/alice/") < text.index("class/bob/") < text.index("Summary")
    console, buffer = plain_console()
    print_report([result()], console)
    assert "Summary" not in buffer.getvalue()  # one notebook: its detail is the report


@pytest.mark.parametrize("assignment, title", [("02_backprop", "Backpropagation"),
                                                (None, "unrecognised notebook"),
                                                ("99_unknown", "unknown assignment")])
def test_detail_names_the_assignment(assignment, title):
    text = submission_detail(result(assignment=assignment))
    assert f"assignment: {assignment or '?'} ({title})" in text
