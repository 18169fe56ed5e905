"""The README's "Adding an assignment", followed step by step in a fresh copy of the repository.

A small fifth assignment, ``05_regularization`` (an L2 penalty, its gradient and one quiz answer),
is added exactly as the guide says: its reference notebook, its checks module, its registry entry,
``make exercises``, its catalogue of test variants and its section of the assignments page. Then:
the reference earns full marks and the release 0 on the command line, with ``pytest --grade``, in
nbgrader and in its Gradescope bundle; the students' wheel runs its public checks; the class
policy grades its release file name; and the repository's own tests take it in. Nothing else of
the repository is edited: no path holds a list of the assignments of its own.

The strings below are a complete small example of each file the guide asks for.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, require_tool, venv_bin
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader_course import filled_in

pytestmark = pytest.mark.slow

ID = "05_regularization"
RELEASE = "regularization.ipynb"
POINTS = {"l2_penalty": 2.5, "l2_penalty_grad": 2.0, "Q1": 1.0}  # what each test cell is worth
PUBLIC = 2.5  # of which the public checks: the known values and inputs of l2_penalty, its gradient's check
TOTAL = sum(POINTS.values())


# --- step 1: the reference notebook, solutions/05_regularization/regularization.ipynb -----------

def nbgrader_cell(grade_id: str, *, solution: bool = False, grade: bool = False, points: float | None = None,
                  ) -> dict:
    """The metadata nbgrader's Create Assignment toolbar gives a cell."""
    metadata = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
                "solution": solution}
    return {"nbgrader": metadata | ({"points": points} if points is not None else {})}


def checks_cell(target: str) -> nbformat.NotebookNode:
    source = (f'from autograder import check\n\ncheck("{ID}", "{target}")\n### BEGIN HIDDEN TESTS\n'
              f'check("{ID}", "{target}", hidden=True)\n### END HIDDEN TESTS')
    return new_code_cell(source, metadata=nbgrader_cell(f"test_{target}", grade=True, points=POINTS[target]))


def reference_notebook() -> nbformat.NotebookNode:
    def text(grade_id, source):
        return new_markdown_cell(source, metadata=nbgrader_cell(grade_id))

    def answer(grade_id, source):
        return new_code_cell(source, metadata=nbgrader_cell(grade_id, solution=True))

    cells = [
        text("text_01", "# Assignment 05 — Regularization\n\nAn L2 penalty pulls every weight "
                        "towards 0: $\\frac{\\lambda}{2} \\sum w^2$ is added to the loss."),
        new_code_cell("import numpy as np"),
        text("text_02", "## 1. The L2 penalty\n\n`l2_penalty(w, lam)` returns "
                        "$\\frac{\\lambda}{2} \\sum w^2$ over every element of `w`, as a float."),
        answer("l2_penalty", 'def l2_penalty(w, lam):\n    """(lam / 2) * the sum of w ** 2 over every '
                             'element.\n\n    Args:\n        w: weights, ndarray of any shape.  lam: the '
                             'strength, a float.\n    Returns:\n        a float.\n    """\n'
                             "    ### BEGIN SOLUTION\n    return 0.5 * lam * float(np.sum(w ** 2))\n"
                             "    ### END SOLUTION"),
        checks_cell("l2_penalty"),
        text("text_03", "## 2. Its gradient\n\n`l2_penalty_grad(w, lam)` returns $\\lambda w$."),
        answer("l2_penalty_grad", 'def l2_penalty_grad(w, lam):\n    """d l2_penalty / dw.\n\n    Returns:\n'
                                  '        an ndarray shaped like w.\n    """\n'
                                  "    ### BEGIN SOLUTION\n    return lam * w\n    ### END SOLUTION"),
        checks_cell("l2_penalty_grad"),
        text("text_04", "## Quick check\n\n**Q1.** What is the penalty of `w = [3, 4]` with `lam = 0.1`? "
                        "Set `Q1` to a number."),
        answer("answer_Q1", "# Q1 = a number\n### BEGIN SOLUTION\nQ1 = 1.25\n### END SOLUTION"),
        checks_cell("Q1"),
    ]
    return new_notebook(cells=cells, metadata={
        "autograder": {"assignment": ID},
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })


# --- step 2: the checks, autograder/checks/regularization.py -------------------------------------

CHECKS = '''"""Checks for assignment 05: the L2 penalty and its gradient.

Public checks use known values (w = [3, 4] has squared norm 25), finite differences of the
gradient against the penalty, and the inputs left alone; hidden checks compare with the reference
on fresh random inputs of several shapes and scales.
"""

from __future__ import annotations

import numpy as np

from autograder.checks import check
from autograder.checks.compare import as_array, as_number, assert_close
from autograder.checks.gradients import assert_matches_finite_differences
from autograder.checks.toolbox import FirstFailure, assert_inputs_unchanged, shape_case, values_first

SHAPES = [(5,), (3, 4), (2, 3, 2)]
LAMS = [0.01, 0.5, 3.0]
PENALTY_FACTORS = {2.0: "the penalty is twice the expected one: did you leave out the factor 1/2?"}
GRAD_FACTORS = {2.0: "the gradient is twice the expected one: the derivative of (lam / 2) w² is lam w."}


def weights(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


@check("l2_penalty", "matches known values", 1.0)
def penalty_known_values(l2_penalty):
    trials = FirstFailure()
    for w, lam, expected in [(np.array([3.0, 4.0]), 0.1, 1.25), (np.ones((2, 3)), 2.0, 6.0)]:
        if trials.settled:
            break
        with trials:
            got = as_number(l2_penalty(w, lam), "l2_penalty")
            assert_close(got, expected, who="l2_penalty", case=f"w={w.tolist()}, lam={lam}",
                         factors=PENALTY_FACTORS)
    trials.end()


@check("l2_penalty", "does not modify its inputs", 0.5, property=True)
def penalty_inputs_unchanged(l2_penalty):
    w = np.array([[1.0, -2.0], [0.5, 3.0]])  # |w|² = 14.25
    with values_first("Leaving the inputs unchanged"):
        got = as_number(l2_penalty(w, 0.2), "l2_penalty")
    assert_inputs_unchanged(l2_penalty, ("w",))
    with values_first("Leaving the inputs unchanged"):
        assert_close(got, 1.425, who="l2_penalty", case=shape_case("w", w), factors=PENALTY_FACTORS)


@check("l2_penalty", "matches the reference on random inputs", 1.0, hidden=True)
def penalty_matches_reference(l2_penalty, reference):
    ref = reference.function("l2_penalty")
    trials = FirstFailure()
    for seed, (shape, lam) in enumerate(zip(SHAPES, LAMS, strict=True)):
        if trials.settled:
            break
        with trials:
            w = weights(100 + seed, shape)
            got = as_number(l2_penalty(w, lam), "l2_penalty")
            assert_close(got, ref(w, lam), who="l2_penalty", case=shape_case("w", w, 100 + seed),
                         factors=PENALTY_FACTORS)
    trials.end()


@check("l2_penalty_grad", "agrees with finite differences of l2_penalty", 1.0)
def grad_finite_differences(l2_penalty_grad, l2_penalty):
    trials = FirstFailure()
    for seed, shape in enumerate(SHAPES[:2]):
        if trials.settled:
            break
        with trials:
            w = weights(10 + seed, shape)
            assert_matches_finite_differences(
                l2_penalty_grad(w, 0.5), lambda v: l2_penalty(v, 0.5), w, who="l2_penalty_grad",
                loss_name="l2_penalty", case=shape_case("w", w, 10 + seed), factors=GRAD_FACTORS)
    trials.end()


@check("l2_penalty_grad", "matches the reference on random inputs", 1.0, hidden=True)
def grad_matches_reference(l2_penalty_grad, reference):
    ref = reference.function("l2_penalty_grad")
    trials = FirstFailure()
    for seed, (shape, lam) in enumerate(zip(SHAPES, LAMS, strict=True)):
        if trials.settled:
            break
        with trials:
            w = weights(200 + seed, shape)
            got = as_array(l2_penalty_grad(w, lam), "l2_penalty_grad", shape)
            assert_close(got, ref(w, lam), who="l2_penalty_grad", case=shape_case("w", w, 200 + seed),
                         factors=GRAD_FACTORS)
    trials.end()


# Quiz answer -> {wrong answer: hint}; a hint says where the reasoning went wrong, never the answer.
QUIZ_MISTAKES: dict[str, dict[str | float, str]] = {
    "Q1": {2.5: "that is lam * |w|²: the penalty has a factor 1/2 in front."},
}
'''

# --- step 3: the registry entry, in ASSIGNMENTS of autograder/assignments.py ---------------------

REGISTRY_ENTRY = '''        Assignment(
            id="05_regularization",
            title="Regularization",
            notebook="regularization.ipynb",
            functions=("l2_penalty", "l2_penalty_grad"),
            quiz={"Q1": Number()},
            checks_modules=("autograder.checks.regularization",),
            builds_on={},
        ),
'''

# --- step 5: the tests' variants, tests/checks/test_regularization_catalogue.py ------------------

CATALOGUE = '''"""Assignment 05: a notebook that does nothing earns 0, known-wrong implementations lose the
points of what they break with the mistake named, correct variants earn full marks."""

from __future__ import annotations

from catalogue import Wrong

ASSIGNMENT = "05_regularization"

NULL = """
    import numpy as np

    def l2_penalty(w, lam):
        return 0.0

    def l2_penalty_grad(w, lam):
        return np.zeros_like(w)

    Q1 = None
    """

WRONG = [
    Wrong("l2_penalty", "no factor 1/2", """
        def l2_penalty(w, lam):
            return lam * float(np.sum(w ** 2))
        """, r"leave out the factor 1/2"),
    Wrong("l2_penalty", "squares w in place", """
        def l2_penalty(w, lam):
            w **= 2
            return 0.5 * lam * float(np.sum(w))
        """, r"modified its input `w` in place"),
    Wrong("l2_penalty_grad", "twice the gradient", """
        def l2_penalty_grad(w, lam):
            return 2 * lam * w
        """, r"derivative of \\(lam / 2\\) w² is lam w"),
]

CORRECT = {
    "a dot product, a NumPy scalar, another quiz form": """
        def l2_penalty(w, lam):
            return lam / 2 * np.vdot(w, w)

        def l2_penalty_grad(w, lam):
            return np.multiply(lam, w)

        Q1 = 5 / 4
        """,
}
'''

# --- step 6: the site, a section of book/assignments.md -----------------------------------------

BOOK_SECTION = """### `05_regularization`: regularization

Download {download}`regularization.ipynb <../exercises/05_regularization/regularization.ipynb>`.

You write `l2_penalty` and its gradient `l2_penalty_grad`.

"""


def tracked_files(root: Path) -> list[str]:
    """The files a clone of ``root``'s working tree holds (tracked, or new and not ignored)."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=root, capture_output=True, timeout=120)
    if listing.returncode != 0:
        pytest.fail("this test copies the repository's files with git: run it from a clone")
    return [name for name in listing.stdout.decode().split("\0") if name and (root / name).is_file()]


def run(args: list[str], course: Path, env: dict, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=kwargs.pop("cwd", course), env=env, capture_output=True, text=True,
                            timeout=900, **kwargs)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def course(tmp_path_factory, tool_env) -> tuple[Path, dict]:
    """A fresh copy of the repository with 05_regularization added as the guide says; the
    environment in which its tools import the copy's `autograder`."""
    require_tool("nbgrader")
    course = tmp_path_factory.mktemp("added") / "course"
    for name in tracked_files(ROOT):
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, course / name)
    env = tool_env | {"PYTHONPATH": str(course), "PYTHONDONTWRITEBYTECODE": "1"}

    # 1. the reference notebook
    (course / "solutions" / ID).mkdir()
    nbformat.write(reference_notebook(), course / "solutions" / ID / RELEASE)
    # 2. its checks module
    (course / "autograder" / "checks" / "regularization.py").write_text(CHECKS, encoding="utf-8")
    # 3. its entry in the registry, after the last one
    registry = course / "autograder" / "assignments.py"
    text = registry.read_text(encoding="utf-8")
    assert text.count("\n    ]\n}\n") == 1, "the registry's list of assignments has moved: update the guide"
    registry.write_text(text.replace("\n    ]\n}\n", "\n" + REGISTRY_ENTRY + "    ]\n}\n"), encoding="utf-8")
    # 4. the release: `make exercises` (with this test's environment, which `setup` would make)
    venv = Path(venv_bin()).parent
    run(["make", "-o", "setup", "exercises", f"VENV={venv}"], course, env)
    # 5. the tests' variants
    (course / "tests" / "checks" / "test_regularization_catalogue.py").write_text(CATALOGUE, encoding="utf-8")
    # 6. its section on the assignments page
    page = course / "book" / "assignments.md"
    text, anchor = page.read_text(encoding="utf-8"), "\n## How your work is graded\n"
    assert anchor in text
    page.write_text(text.replace(anchor, "\n" + BOOK_SECTION + anchor[1:]), encoding="utf-8")
    return course, env


def grade_json(course: Path, env: dict, *paths: str | Path, cwd: Path | None = None) -> dict:
    """``python -m autograder grade PATH... --json``: its report."""
    report = course / "grade.json"
    run([sys.executable, "-m", "autograder", "grade", *map(str, paths), "--json", str(report)], course, env,
        cwd=cwd or course)
    return json.loads(report.read_text(encoding="utf-8"))


def folder(submission: dict) -> str:
    """``solutions`` or ``exercises``: where a graded notebook came from."""
    return Path(submission["path"]).parent.parent.name


def points(submission: dict) -> dict[str, float]:
    """function or quiz answer -> the points it earned."""
    earned: dict[str, float] = {}
    for test in submission["tests"]:
        earned[test["function"]] = earned.get(test["function"], 0.0) + test["score"]
    return earned


def test_the_guide_names_every_file_this_test_writes():
    guide = re.search(r"(?ms)^### Adding an assignment\n(.*?)(?=^### )", (ROOT / "README.md").read_text())
    assert guide, "README.md has no 'Adding an assignment' section"
    for step in ["solutions/<id>/", "autograder/checks/<topic>.py", "autograder/assignments.py",
                 "make exercises", "tests/checks/test_<topic>_catalogue.py", "book/assignments.md",
                 'check("<id>", "<function>")', "hidden=True", "builds_on", "NULL", "WRONG", "CORRECT"]:
        assert step in guide[1], f"the guide does not mention {step}"


def test_make_exercises_writes_its_release_and_leaves_the_others_as_they_were(course):
    course, _ = course
    release = (course / "exercises" / ID / RELEASE).read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in release and "BEGIN HIDDEN TESTS" not in release
    assert "np.sum(w ** 2)" not in release and "Q1 = 1.25" not in release
    assert release.count("raise NotImplementedError()") == 3
    for notebook in (ROOT / "exercises").glob("*/*.ipynb"):
        assert (course / notebook.relative_to(ROOT)).read_bytes() == notebook.read_bytes(), notebook


def test_the_command_line_gives_the_reference_full_marks_and_the_release_zero(course):
    course, env = course
    report = grade_json(course, env, course / "solutions" / ID, course / "exercises" / ID)
    reference, release = report["submissions"]
    assert reference["assignment"] == release["assignment"] == ID
    assert reference["score"] == reference["max_score"] == release["max_score"] == TOTAL
    assert points(reference) == POINTS and release["score"] == 0
    assert reference["flags"] == release["flags"] == []
    assert "is not implemented yet" in json.dumps(release)


def test_pytest_grade_agrees_with_the_command_line(course):
    course, env = course
    notebooks = [course / "solutions" / ID / RELEASE, course / "exercises" / ID / RELEASE]
    report = course / "pytest-grade.json"
    result = subprocess.run([sys.executable, "-m", "pytest", "--grade", *map(str, notebooks),
                             "--grade-json", str(report), "-q", "-p", "no:cacheprovider"],
                            cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]  # the release fails
    by_pytest = {folder(s): s for s in json.loads(report.read_text())["submissions"]}
    by_cli = {folder(s): s for s in grade_json(course, env, *notebooks)["submissions"]}
    for where in ("solutions", "exercises"):
        mine, theirs = by_pytest[where], by_cli[where]
        assert mine["assignment"] == ID
        assert (mine["score"], mine["max_score"]) == (theirs["score"], theirs["max_score"])
        assert [(t["name"], t["score"]) for t in mine["tests"]] == [(t["name"], t["score"])
                                                                    for t in theirs["tests"]]
    assert by_pytest["solutions"]["score"] == TOTAL and by_pytest["exercises"]["score"] == 0


def test_nbgrader_autograde_agrees(course):
    course, env = course
    release = course / "exercises" / ID / RELEASE
    submitted = {"alice": filled_in(release, course / "solutions" / ID / RELEASE),
                 "bob": json.loads(release.read_text(encoding="utf-8"))}
    for student, notebook in submitted.items():
        folder = course / "grading" / "submitted" / student / ID
        folder.mkdir(parents=True)
        (folder / RELEASE).write_text(json.dumps(notebook), encoding="utf-8")
    run(["nbgrader", "autograde", ID, "--create"], course, env)
    run(["nbgrader", "generate_feedback", ID], course, env)
    run(["nbgrader", "export", "--to", "grades.csv"], course, env)
    with open(course / "grades.csv", newline="") as f:
        grades = {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                  for row in csv.DictReader(f) if row["assignment"] == ID}
    assert grades == {"alice": (TOTAL, TOTAL), "bob": (0.0, TOTAL)}

    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(course / "grading" / "gradebook.db")) as gradebook:
        cells = gradebook.find_submission_notebook(Path(RELEASE).stem, ID, "alice").grades
        assert {g.name: g.score for g in cells} == {f"test_{t}": p for t, p in POINTS.items()}
    feedback = (course / "grading" / "feedback" / "bob" / ID / "regularization.html").read_text()
    assert "l2_penalty is not implemented yet" in feedback


def test_the_gradescope_bundle_builds_and_grades_it(course, tmp_path):
    from test_gradescope import autograde

    course, env = course
    bundle = tmp_path / f"{ID}-gradescope.zip"
    run([sys.executable, "-m", "autograder", "gradescope-bundle", ID, "--output", str(bundle)], course, env)
    assert f"solutions/{ID}/{RELEASE}" in zipfile.ZipFile(bundle).namelist()
    solved = autograde(bundle, tmp_path / "alice", course / "solutions" / ID / RELEASE)
    assert solved["score"] == solved["max_score"] == TOTAL
    stubs = autograde(bundle, tmp_path / "bob", course / "exercises" / ID / RELEASE)
    assert stubs["score"] == 0 and stubs["max_score"] == TOTAL


def test_the_students_wheel_runs_its_public_checks(course, tmp_path):
    course, env = course
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "autograder", "student-wheel", "--output", str(dist)], course, env)
    (wheel,) = dist.glob("*.whl")
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)  # a pure-Python wheel: what pip would install
    public = (installed / "autograder" / "checks" / "regularization.py").read_text(encoding="utf-8")
    assert "hidden=True" not in public and "grad_finite_differences" in public
    student = os.environ | {"PYTHONPATH": str(installed), "PYTHONSAFEPATH": "1"}
    work = tmp_path / "student"
    work.mkdir()
    solved = filled_in(course / "exercises" / ID / RELEASE, course / "solutions" / ID / RELEASE)
    (work / RELEASE).write_text(json.dumps(solved), encoding="utf-8")

    # the notebook's own test cells, as Jupyter runs them, with only the wheel installed
    script = "\n".join([
        "import json, sys", "import autograder",
        "assert autograder.EDITION == 'student', autograder.__file__",
        "scope = {}",
        "for cell in json.load(open(sys.argv[1]))['cells']:",
        "    if cell['cell_type'] == 'code':",
        "        exec(''.join(cell['source']), scope)",
    ])
    cells = subprocess.run([sys.executable, "-c", script, RELEASE], cwd=work, env=student,
                           capture_output=True, text=True, timeout=300)
    assert cells.returncode == 0, cells.stdout + cells.stderr
    assert "All public checks of l2_penalty passed." in cells.stdout
    assert "All public checks of l2_penalty_grad passed." in cells.stdout

    graded = subprocess.run([sys.executable, "-m", "autograder", "grade", RELEASE, "--json", "public.json"],
                            cwd=work, env=student, capture_output=True, text=True, timeout=300)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    (submission,) = json.loads((work / "public.json").read_text())["submissions"]
    assert submission["score"] == submission["max_score"] == PUBLIC
    assert not any(t["hidden"] for t in submission["tests"])


def test_the_class_policy_grades_its_release_file_name(course, tmp_path):
    course, env = course
    solved = filled_in(course / "exercises" / ID / RELEASE, course / "solutions" / ID / RELEASE)
    stubs = json.loads((course / "exercises" / ID / RELEASE).read_text(encoding="utf-8"))
    files = {f"alice/{ID}/{RELEASE}": solved, f"alice/{ID}/regularization (1).ipynb": stubs,
             f"bob/{RELEASE}": solved, "bob/draft.ipynb": stubs}
    for name, notebook in files.items():
        (tmp_path / "class" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "class" / name).write_text(json.dumps(notebook), encoding="utf-8")
    report = grade_json(course, env, tmp_path / "class")
    graded = {(s["student"], Path(s["path"]).name, s["assignment"], s["score"])
              for s in report["submissions"]}
    assert graded == {("alice", RELEASE, ID, TOTAL), ("bob", RELEASE, ID, TOTAL)}
    skipped = {Path(s["path"]).name for s in report["skipped"]}
    assert skipped == {"regularization (1).ipynb", "draft.ipynb"}


def test_the_repositorys_own_tests_take_it_in(course):
    """The registry, catalogue, null notebook, quiz slips, release and book tests of the copy,
    for every assignment, and so for the new one."""
    course, env = course
    every = ["tests/core/test_registry.py", "tests/course/test_releases.py",
             "tests/checks/test_catalogues.py::"
             "test_every_assignment_has_a_catalogue_of_a_null_notebook_and_wrong_and_correct_variants",
             "tests/site/test_book_coverage.py::test_assignments_page_offers_every_release_notebook_and_the_digits"]
    whole = run([sys.executable, "-m", "pytest", *every, "-m", "not slow", "-q", "-p", "no:cacheprovider"],
                course, env)
    assert " passed" in whole.stdout and "failed" not in whole.stdout
    taken_in = ["tests/checks/test_catalogues.py", "tests/checks/test_null_notebooks.py",
                "tests/checks/test_quiz_slips.py", "tests/core/test_core.py"]
    new = run([sys.executable, "-m", "pytest", *taken_in, "-k", ID, "-v", "-p", "no:cacheprovider"],
              course, env)
    passed = "\n".join(line for line in new.stdout.splitlines() if " PASSED" in line)
    expected = ["test_a_notebook_that_does_nothing_earns_zero_on_every_function[05_regularization]",
                "test_wrong_implementation_loses_its_own_points_with_a_named_mistake[05_regularization: "
                "l2_penalty: no factor 1/2]", "[05_regularization: l2_penalty: squares w in place]",
                "[05_regularization: l2_penalty_grad: twice the gradient]",
                "test_correct_variant_earns_full_marks[05_regularization-",
                "test_every_slip_is_a_wrong_answer_whose_hint_keeps_the_right_one_to_itself[05_regularization-Q1]",
                "test_without_a_reference_a_correct_solution_passes_every_public_check[05_regularization]"]
    for name in expected:
        assert name in passed, f"{name} did not pass in the copy:\n{new.stdout[-3000:]}"
    assert not re.search(r"\b(failed|error)\b", new.stdout.splitlines()[-1]), new.stdout[-3000:]
