"""Self-checks blame the right function: without the reference (the notebook's own test cells,
``--public-only``, the students' wheel), a function's declared prerequisites are the student's
own, and a check that fails while one of them fails its own checks sends the student to it:
"fix <prerequisite> first", not a failure of the dependant.

The cases are the three every assignment with prerequisites knows: a linear_backward bug under
mlp_loss_and_grads, an iterate_minibatches bug under train, an adam bug under adamw.
"""

from __future__ import annotations

import pytest
from conftest import definitions_with, reference

from autograder import notebook_checks
from autograder.assignments import get_assignment
from autograder.core import run_checks
from autograder.errors import CheckFailed
from autograder.isolation import IsolatedNamespace
from autograder.namespace import execute
from autograder.results import SubmissionResult

CASES = [
    ("02_backprop", "linear_backward", "mlp_loss_and_grads", """
        def linear_backward(dout, cache):
            x, W, _ = cache
            return dout @ W.T, x.T @ dout, dout  # db not summed over the batch
    """),
    ("04_training", "iterate_minibatches", "train", """
        def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
            rng = np.random.default_rng() if rng is None else rng
            n = len(y)
            order = rng.permutation(n) if shuffle else np.arange(n)
            end = n - n % batch_size if not drop_last else n  # drop_last the wrong way round
            for start in range(0, end, batch_size):
                idx = order[start:start + batch_size]
                yield X[idx], y[idx]
    """),
    ("03_optimizers", "adam", "adamw", """
        def adam(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
            t = state.get("t", 0) + 1
            m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
            v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw ** 2
            return w - lr * m / (np.sqrt(v) + eps), {"t": t, "m": m, "v": v}  # no bias correction
    """),
]
IDS = [f"{case[1]} under {case[2]}" for case in CASES]


def sends_to(prerequisite: str, dependant: str) -> str:
    return f"{dependant}: fix {prerequisite} first; then this check can tell whether {dependant} is right"


@pytest.mark.parametrize(("assignment_id", "prerequisite", "dependant", "code"), CASES, ids=IDS)
def test_the_notebooks_test_cell_sends_the_student_to_the_prerequisite(assignment_id, prerequisite, dependant,
                                                                        code, capsys):
    namespace = execute(definitions_with(assignment_id, code)).values  # one kernel's globals, as in Jupyter
    run = namespace | {"check": notebook_checks.check}
    exec(f"check({assignment_id!r}, {dependant!r})", run)  # not a failure of the dependant's cell
    printed = capsys.readouterr().out
    assert sends_to(prerequisite, dependant) in printed
    assert printed.count(sends_to(prerequisite, dependant)) == 1, printed  # said once, not per check
    assert "✗" not in printed and "Likely mistake" not in printed, printed
    with pytest.raises(CheckFailed):  # the prerequisite's own cell fails, with its own feedback
        exec(f"check({assignment_id!r}, {prerequisite!r})", run)
    assert f"✗ {prerequisite}:" in capsys.readouterr().out


@pytest.mark.parametrize(("assignment_id", "prerequisite", "dependant", "code"), CASES, ids=IDS)
def test_public_only_grading_holds_the_dependants_points_back_without_counting_them(
        assignment_id, prerequisite, dependant, code):
    student = IsolatedNamespace(definitions_with(assignment_id, code))
    try:
        checks = run_checks(get_assignment(assignment_id), student, None)
    finally:
        student.close()
    mine = [c for c in checks if c.function == dependant]
    assert any(c.waiting for c in mine) and all(c.passed or c.waiting for c in mine), \
        [(c.name, c.feedback) for c in mine]
    assert all(sends_to(prerequisite, dependant) in c.feedback for c in mine if c.waiting)
    assert not all(c.passed for c in checks if c.function == prerequisite)
    result = SubmissionResult("notebook.ipynb", "student", assignment_id, checks=checks)
    (earned, worth), = [(s, m) for f, s, m in result.by_function() if f == dependant]
    assert earned == worth  # held back, not counted against it
    assert result.max_score == sum(c.points for c in checks if not c.waiting)


def test_with_the_reference_a_prerequisite_never_holds_anything_back():
    assignment_id, _, dependant, code = CASES[0]
    student = IsolatedNamespace(definitions_with(assignment_id, code))
    try:
        checks = run_checks(get_assignment(assignment_id), student, reference(assignment_id))
    finally:
        student.close()
    assert all(c.passed for c in checks if c.function == dependant)
    assert not any(c.withheld for c in checks)
