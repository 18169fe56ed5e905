"""Marks that tell the truth, wherever a check's outcome is shown: a property whose points wait for
right values is "counted once the values are right", never a failed claim; a check waiting for a
prerequisite says so; a likely mistake is named once per function; an unanswered question is never
"ok"; the students' wheel offers students' commands only."""

from __future__ import annotations

import textwrap

import pytest
from conftest import definitions_with

from autograder import marks, notebook_checks
from autograder.assignments import get_assignment
from autograder.cli import build_parser
from autograder.core import run_checks
from autograder.errors import CheckFailed, Withheld
from autograder.isolation import IsolatedNamespace
from autograder.namespace import execute
from autograder.nbgrader_plugin import cell_outputs
from autograder.report import text_report
from autograder.results import CheckResult, SubmissionResult
from autograder.terminal import submission_detail

HINT = "Likely mistake: the result is N times too large: did you sum instead of taking the mean?"
LABEL = "the result is N times too large"
VALUES = CheckResult("mse", "matches known values", 0.5, feedback=f"mse gives a wrong result.\n  {HINT}",
                     mistake="the result is N times too large")
HIDDEN = CheckResult("mse", "matches the reference on random inputs", 1.0, hidden=True,
                     feedback=f"mse gives a wrong result for another case.\n  {HINT}",
                     mistake="the result is N times too large")
PROPERTY = CheckResult("mse", "does not modify its inputs", 0.5, withheld=Withheld.VALUES,
                       feedback=f"mse gives a wrong result.\n  {HINT}\n  (Leaving the inputs unchanged "
                                "counts once the values are right.)", mistake=LABEL)
GOOD = CheckResult("mse_grad", "matches known values", 0.5, score=0.5)
CHECKS = [VALUES, PROPERTY, HIDDEN, GOOD]


def test_a_withheld_property_is_marked_as_waiting_for_right_values_not_as_failed():
    assert marks.line(PROPERTY) == "· mse: does not modify its inputs (counted once the values are right)"
    assert marks.line(VALUES) == "✗ mse: matches known values" and marks.line(GOOD).startswith("✓")
    shown = dict((c.title, text) for c, text in marks.feedback_to_show(CHECKS))
    assert shown["does not modify its inputs"] == ""  # the value checks above say what is wrong
    assert shown["matches known values"].count("Likely mistake") == 1
    assert "Likely mistake" not in shown["matches the reference on random inputs"]  # named once


def test_every_report_shows_the_same_marks():
    result = SubmissionResult("losses.ipynb", "ada", "01_losses", checks=CHECKS)
    for text in (submission_detail(result), text_report([result])):
        assert "- mse: does not modify its inputs  (0 / 0.5): counted once the values are right" in text
        assert "x mse: matches known values  (0 / 0.5)" in text
        assert text.count(HINT) == 1, text
    _, outputs = cell_outputs("mse", [VALUES, PROPERTY, HIDDEN], 2.0)
    listed = outputs[0]["text"]
    assert "· mse: does not modify its inputs (counted once the values are right)" in listed
    assert "✗ mse: does not modify" not in listed
    assert "\n".join(outputs[-1]["traceback"]).count(HINT) == 1


def test_a_withheld_property_round_trips_through_the_json_record():
    again = CheckResult.from_dict(PROPERTY.to_dict())
    assert again.withheld == Withheld.VALUES and not again.passed and not again.waiting
    assert CheckResult.from_dict(dict(PROPERTY.to_dict(), withheld="anything else")).withheld is None


def test_a_function_that_computes_wrong_values_keeps_its_inputs_but_loses_the_property_without_a_claim():
    student = IsolatedNamespace(definitions_with("01_losses", """
        def mse(y_pred, y_true):
            return float(np.sum((y_pred - y_true) ** 2))
    """))
    try:
        checks = run_checks(get_assignment("01_losses"), student, None, targets=("mse",))
    finally:
        student.close()
    (unchanged,) = [c for c in checks if c.title == "does not modify its inputs"]
    assert unchanged.score == 0 and unchanged.withheld == Withheld.VALUES
    assert "modified" not in unchanged.feedback


def test_a_property_that_fails_on_its_own_is_a_failure():
    student = IsolatedNamespace(definitions_with("01_losses", """
        def mse(y_pred, y_true):
            y_pred -= y_true
            return float(np.mean(y_pred ** 2))
    """))
    try:
        checks = run_checks(get_assignment("01_losses"), student, None, targets=("mse",))
    finally:
        student.close()
    (unchanged,) = [c for c in checks if c.title == "does not modify its inputs"]
    assert unchanged.withheld is None and "modified its input `y_pred` in place" in unchanged.feedback


def test_a_test_cell_names_a_mistake_once(capsys):
    namespace = execute(definitions_with("01_losses", """
        def mse_grad(y_pred, y_true):
            return (y_pred - y_true) / y_pred.size
    """)).values
    with pytest.raises(CheckFailed) as raised:
        exec("check('01_losses', 'mse_grad')", namespace | {"check": notebook_checks.check})
    assert str(raised.value).count("did you forget the factor 2?") == 1, raised.value
    printed = capsys.readouterr().out
    assert "· mse_grad: does not modify its inputs (counted once the values are right)" in printed


def test_an_unanswered_question_says_so(capsys):
    namespace = execute(definitions_with("01_losses", "")).values
    del namespace["Q1"]
    with pytest.raises(CheckFailed, match=r"Q1 is not answered yet: set it in the answer cell below the "
                                          r'question \(Q1 = "A", "B" or "C"\)'):
        exec("check('01_losses', 'Q1')", namespace | {"check": notebook_checks.check})
    unanswered = CheckResult("Q1", "answer has the expected form", 0.0, feedback="Q1 is not answered yet")
    assert marks.function_mark([unanswered], "Q1") == "--"
    assert marks.function_mark([GOOD], "mse_grad") == "ok"


def test_the_students_wheel_offers_students_commands_only():
    def commands(edition: str) -> set[str]:
        parser = build_parser(edition)
        return set(parser._subparsers._group_actions[0].choices)

    assert commands("student") == {"grade", "limits"}
    assert {"report", "student-wheel", "gradescope-bundle", "gradescope-run"} <= commands("full")
    grade_help = build_parser("student").parse_args(["grade", "x.ipynb"])
    assert grade_help.solutions is None and grade_help.csv is None
    with pytest.raises(SystemExit):
        build_parser("student").parse_args(["grade", "x.ipynb", "--solutions", "elsewhere"])


def test_feedback_to_show_keeps_a_withheld_checks_feedback_when_nothing_else_explains_it():
    alone = CheckResult("softmax", "does not modify its inputs", 0.5, withheld=Withheld.VALUES,
                        feedback="softmax gives a wrong result for logits of shape (4, 5).")
    ((_, text),) = marks.feedback_to_show([alone])
    assert text == textwrap.dedent(alone.feedback)
