"""The one grading core: what a check receives, what student code may call while it runs, in
which order checks run, and what grading one notebook produces."""

from __future__ import annotations

import inspect
import json
import textwrap

import numpy as np
import pytest
from conftest import SOLUTIONS, namespace_with, reference

from autograder.assignments import ASSIGNMENTS, get_assignment
from autograder.checks import Check
from autograder.core import Oracles, arguments_for, grade_notebook, run_check, run_checks
from autograder.errors import CheckFailed
from autograder.namespace import Namespace

LOSSES = get_assignment("01_losses")


def probe(*parameters: str, target: str = "mse_grad") -> Check:
    """A check of ``target`` that asks for ``parameters``."""

    def function(**arguments):
        pass

    kind = inspect.Parameter.KEYWORD_ONLY
    function.__signature__ = inspect.Signature([inspect.Parameter(p, kind) for p in parameters])
    return Check(target, "probe", 1.0, False, function)


def labelled(label: str, code: str = "") -> Namespace:
    namespace = namespace_with("01_losses", code)
    namespace.values["LABEL"] = label
    return namespace


def test_the_target_is_the_students_and_other_functions_are_the_references():
    student, ref = labelled("student"), reference("01_losses")
    arguments = arguments_for(probe("mse_grad", "mse", "own_mse", "oracle_mse_grad", "student", "reference"),
                              LOSSES, student, ref, Oracles(LOSSES, student))
    assert arguments["mse_grad"].function is student.values["mse_grad"]
    assert arguments["own_mse"].function is student.values["mse"]
    assert arguments["mse"].function is ref.values["mse"]
    assert arguments["oracle_mse_grad"].function is ref.values["mse_grad"]
    assert arguments["student"] is student and arguments["reference"] is ref


def test_without_a_reference_an_oracle_is_the_students_own_only_if_it_passes_its_value_checks():
    good = labelled("student")
    arguments = arguments_for(probe("mse"), LOSSES, good, None, Oracles(LOSSES, good))
    assert arguments["mse"].function is good.values["mse"]
    summing = labelled("student", "def mse(p, t):\n    return float(np.sum((p - t) ** 2))\n")
    with pytest.raises(CheckFailed, match="fix mse first; then this check can tell whether mse_grad is"):
        arguments_for(probe("mse"), LOSSES, summing, None, Oracles(LOSSES, summing))


@pytest.mark.parametrize("assignment_id", sorted(ASSIGNMENTS))
def test_without_a_reference_a_correct_solution_passes_every_public_check(assignment_id):
    # A check that compares a function with itself as an oracle must not count itself among
    # the checks that vouch for that oracle (a cycle that failed every such check).
    results = run_checks(get_assignment(assignment_id), reference(assignment_id), None)
    failed = [f"{r.function}: {r.name}: {r.feedback}" for r in results if not r.passed]
    assert not failed, failed


def test_an_unknown_parameter_is_a_bug_in_the_check():
    with pytest.raises(TypeError, match="unknown argument 'nonsense'"):
        arguments_for(probe("nonsense"), LOSSES, labelled("s"), None, Oracles(LOSSES, labelled("s")))


def test_only_the_declared_functions_are_lent_and_only_while_the_check_runs():
    student = namespace_with("01_losses", """
        SEEN = []

        def cross_entropy(logits, labels):
            SEEN.append(softmax.__module__ if hasattr(softmax, "__module__") else None)
            SEEN.append(mse is ORIGINAL_MSE)
            return 0.0
        ORIGINAL_MSE = mse
        """)
    own_softmax = student.values["softmax"]
    check = next(c for c in LOSSES.checks() if c.target == "cross_entropy" and "known" in c.title)
    run_check(check, LOSSES, student, reference("01_losses"))
    assert student.values["SEEN"][1] is True, "mse is not declared for cross_entropy: never lent"
    assert student.values["softmax"] is own_softmax, "what was lent is taken back when the check ends"
    assert LOSSES.lent_to("cross_entropy") == ("softmax",) and LOSSES.lent_to("softmax") == ()


def test_no_function_is_lent_one_whose_value_can_be_read_off():
    for assignment in ASSIGNMENTS.values():
        for target, lent in assignment.builds_on.items():
            assert target not in lent
            for name in lent:
                assert target not in assignment.builds_on.get(name, ()), (assignment.id, name, target)
    assert get_assignment("01_losses").lent_to("softmax") == ()  # never cross_entropy_grad


@pytest.mark.parametrize("assignment_id", sorted(ASSIGNMENTS))
def test_every_check_of_a_function_runs_before_those_of_functions_that_build_on_it(assignment_id):
    assignment = get_assignment(assignment_id)
    order = [c.target for c in assignment.checks()]
    for target, lent in assignment.builds_on.items():
        for name in lent:
            if name in order:
                assert max(i for i, t in enumerate(order) if t == name) < order.index(target)


def test_a_self_check_blames_the_function_that_is_wrong(capsys):
    from autograder import notebook_checks

    namespace = dict(reference("01_losses").values)
    exec(textwrap.dedent("""
        def binary_cross_entropy(probs, targets):
            p = np.clip(probs, 1e-12, 1 - 1e-12)
            return float(-np.sum(targets * np.log(p) + (1 - targets) * np.log(1 - p)))
        """), namespace)
    # Not a failure of binary_cross_entropy_grad: its cell says which function to fix, and passes.
    exec("check('01_losses', 'binary_cross_entropy_grad')", namespace | {"check": notebook_checks.check})
    printed = capsys.readouterr().out
    assert ("· binary_cross_entropy_grad: agrees with finite differences of binary_cross_entropy (waits for "
            "another function to pass its checks)") in printed
    assert ("fix binary_cross_entropy first; then this check can tell whether binary_cross_entropy_grad is "
            "right") in printed
    assert "constant factor" not in printed and "✗" not in printed and "All public checks" not in printed


def test_grading_one_notebook_produces_one_record(tmp_path):
    path = SOLUTIONS / "01_losses" / "losses.ipynb"
    result = grade_notebook(path)
    assert result.assignment == "01_losses" and result.hidden_checks == "run"
    assert result.score == result.max_score == sum(c.points for c in LOSSES.checks())
    assert result.flags == [] and result.seconds > 0
    assert [c.name for c in result.checks] == [c.name for c in LOSSES.checks()]
    document = json.loads(json.dumps(result.to_dict()))
    assert {"path", "student", "assignment", "score", "max_score", "tests", "flags"} <= set(document)


def test_public_only_grading_says_why(tmp_path):
    result = grade_notebook(SOLUTIONS / "01_losses" / "losses.ipynb", public_only=True)
    assert result.hidden_checks == "--public-only was given" and not any(c.hidden for c in result.checks)


def test_run_checks_keeps_partial_credit_per_function():
    student = namespace_with("01_losses", "def softmax(logits):\n    return np.ones_like(logits)\n")
    results = run_checks(LOSSES, student, reference("01_losses"))
    lost = {r.function for r in results if not r.passed}
    assert lost == {"softmax"}, lost  # cross_entropy(_grad) ran with the reference's softmax
    kept = sum(r.score for r in results if r.function != "softmax")
    assert np.isclose(kept, sum(c.points for c in LOSSES.checks()) - LOSSES.points("softmax"))
