"""Feedback from a hostile notebook: gigabytes printed, exception messages of 50 MB or 100,000
lines, exceptions whose message or class name cannot be computed, results too long or too
deep to show, terminal escape sequences and HTML in messages, names and answers. Every report
(the terminal, --json, --csv, --report) stays bounded, free of control characters, and inert."""

from __future__ import annotations

import csv
import json
import re

import pytest
from hostile_support import (
    assert_graded_cleanly,
    digest,
    earned,
    feedback,
    flags,
    grade_class,
    notebook,
    write_class,
)

from autograder.limits import LIMITS

pytestmark = pytest.mark.slow

TAINT = "\x1b[2J\x1b]0;owned\x07\x1b[31m<script>alert(1)</script><img src=x onerror=alert(2)>\r\x00\x9b"

FLOODS = {
    "mse": ("def mse(y_pred, y_true):\n    print('x' * 200_000_000)\n    print(" + repr(TAINT) + " * 1000)\n"
            "    raise ValueError('y' * 50_000_000)\n"),
    "mse_grad": "def mse_grad(y_pred, y_true):\n    raise ValueError(" + repr(TAINT + "\n") + " * 100_000)\n",
    "binary_cross_entropy": ("def binary_cross_entropy(probs, targets):\n"
                             "    return " + repr(TAINT) + " * 100_000\n"),
    "binary_cross_entropy_grad": (
        "class Endless(Exception):\n    def __str__(self):\n        while True:\n            pass\n"
        "def binary_cross_entropy_grad(probs, targets):\n    raise Endless()\n"),
    "softmax": (
        "class Unprintable(Exception):\n    def __str__(self):\n        raise RuntimeError('no message')\n"
        "def softmax(logits):\n    raise Unprintable()\n"),
    "cross_entropy": (
        "class Nameless(type):\n    @property\n    def __name__(cls):\n        raise SystemExit('no name')\n"
        "class Odd(Exception, metaclass=Nameless):\n    pass\n"
        "def cross_entropy(logits, labels):\n    raise Odd()\n"),
    "cross_entropy_grad": (
        "def cross_entropy_grad(logits, labels):\n    deep = []\n    for _ in range(10_000):\n"
        "        deep = [deep]\n    return deep\n"),
    "answer_Q1": "Q1 = 'A' * 50_000_000\n",
    "answer_Q3": "Q3 = " + repr(TAINT * 100) + "\n",
}
NAME = "<svg onload=alert(3)>"  # a student folder; the notebook's name holds HTML too


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("feedback")
    folder = tmp / "class"
    write_class(folder, {"honest": ("01_losses", notebook("01_losses")), "floods": ("01_losses", notebook(
        "01_losses", FLOODS))})
    tainted = folder / NAME / "01_losses" / "losses.ipynb"
    tainted.parent.mkdir(parents=True)
    tainted.write_text(json.dumps(notebook("01_losses", {"mse": FLOODS["mse"]})))
    beside = tainted.parent / "<img src=x onerror=alert(4)>.ipynb"  # not graded, but named in every report
    beside.write_text(tainted.read_text())
    before = digest(folder)
    run = grade_class(folder, tmp, "--details", "--csv", str(tmp / "grades.csv"), "--report",
                      str(tmp / "class.html"), timeout=90)
    return run, folder, before, tmp


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_the_class_is_graded_cleanly(graded):
    run, folder, before, _ = graded
    assert_graded_cleanly(run, folder, before, {"honest": "01_losses"}, seconds=180)


def test_feedback_is_bounded_and_free_of_control_characters(graded):
    run, *_ = graded
    for submission in run.submissions.values():
        outputs = [t["output"] for t in submission["tests"]]
        assert all(len(output) <= LIMITS.feedback_per_check for output in outputs)
        assert sum(map(len, outputs)) <= LIMITS.feedback_per_submission + 200 * len(outputs)
        assert len(submission["flags"]) <= 21 and all(len(flag) <= 500 for flag in flags(submission))
        assert len(submission["notes"]) <= 20 and all(len(note) <= 1000 for note in submission["notes"])
        for text in [*outputs, *flags(submission), *submission["notes"], submission["student"]]:
            assert not CONTROL.search(text), repr(text[:300])
    assert len(json.dumps(list(run.submissions.values()))) < 500_000


def test_each_flood_earns_nothing_and_says_what_happened(graded):
    run, *_ = graded
    floods = run.submissions["floods"]
    for target in ("mse", "mse_grad", "binary_cross_entropy", "binary_cross_entropy_grad", "softmax",
                   "cross_entropy", "cross_entropy_grad", "Q1", "Q3"):
        assert earned(floods, target) == 0, target
    assert "raised ValueError: yyyy" in feedback(floods, "mse")
    assert "what it printed" in feedback(floods, "mse")
    assert "should return a single number" in feedback(floods, "binary_cross_entropy")
    assert "timed out: binary_cross_entropy_grad" in flags(floods, "timed_out")
    assert "its message could not be shown" in feedback(floods, "softmax")
    assert "crashed: cross_entropy" in flags(floods, "crashed")
    assert "nested too deeply" in feedback(floods, "cross_entropy_grad")
    assert earned(floods, "Q2") == 1  # the one answer left alone


def test_the_terminal_report_is_bounded_and_inert(graded):
    run, *_ = graded
    assert len(run.stdout) < 1_000_000
    printed = run.stdout.replace("\n", "").replace("\t", "")
    assert not CONTROL.search(printed), "escape sequences reached the terminal"


def test_the_html_report_is_bounded_and_inert(graded):
    *_, tmp = graded
    page = (tmp / "class.html").read_text(encoding="utf-8")
    assert len(page) < 5_000_000
    assert "Content-Security-Policy" in page
    assert "<script" not in page.lower() and "<img src=x" not in page and "<svg onload" not in page
    assert "&lt;svg onload=alert(3)&gt;" in page  # the student's name, shown as text
    assert "&lt;img src=x onerror=alert(4)&gt;.ipynb" in page  # a file not graded, listed as text


def test_the_gradebook_holds_only_plain_values(graded):
    *_, tmp = graded
    with (tmp / "grades.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(row["student_id"] for row in rows) == sorted(["honest", "floods", NAME])
    for row in rows:
        assert not any(CONTROL.search(value) for value in row.values())
        float(row["score"])
