"""nbgrader grades with the course's grading core.

For every assignment, a catalogue of submissions (the reference, the untouched release, two
partly correct ones made of known-wrong functions from the catalogue tests, a hostile one, one
with an edited and a deleted test cell) goes through ``nbgrader autograde`` and through
``python -m autograder grade --json``: the gradebook holds exactly the command line's points
per function, the feedback of every failed check reaches ``nbgrader generate_feedback``, and no
Jupyter kernel starts. Then the README's recipe, verbatim, in a fresh copy of the repository.
"""

from __future__ import annotations

import copy
import csv
import html
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from catalogue import catalogue
from conftest import EXERCISES, SOLUTIONS, require_tool
from nbgrader_course import Course, filled_in, grade_cell_targets, replace_definition

from autograder.assignments import get_assignment

pytestmark = pytest.mark.slow

ASSIGNMENTS = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir())
WRONG = {assignment_id: catalogue(assignment_id).WRONG for assignment_id in ASSIGNMENTS}
# Known-wrong versions of Value whose results depend on the order of a set of nodes, which
# changes from run to run, and so does the feedback that quotes them: left out, so that the
# two graders' feedback can be compared word for word.
ORDER_DEPENDENT = {"= instead of += (a reused node loses gradient)",
                   "walks the graph without a topological order", "breadth-first order with a visited set"}
# A kernel that only leaves a mark: if anything starts the course's kernel, the test sees it.
FAKE_KERNEL = {"argv": ["/bin/sh", "-c", 'echo started > "$0"; exit 1', "MARKER"],
               "display_name": "Python 3", "language": "python"}


def source_of(assignment_id: str) -> Path:
    return next((SOLUTIONS / assignment_id).glob("*.ipynb"))


def hanging(name: str) -> str:
    if name[0].isupper():  # a class (Value)
        return f"class {name}:\n    def __init__(self, *args, **kwargs):\n        while True:\n" \
               "            pass\n"
    return f"def {name}(*args, **kwargs):\n    while True:\n        pass\n"


def exiting(name: str) -> str:
    if name[0].isupper():
        return f"import os\nclass {name}:\n    def __init__(self, *args, **kwargs):\n        os._exit(3)\n"
    return f"import os\ndef {name}(*args, **kwargs):\n    os._exit(3)\n"


def code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def catalogue(course: Course, marker: Path) -> dict[str, dict]:
    """student -> the notebook they submit (see the module docstring)."""
    assignment_id = course.assignment_id
    assignment = get_assignment(assignment_id)
    reference = filled_in(course.release, source_of(assignment_id))
    first_wrong = {}
    for wrong in WRONG[assignment_id]:
        if wrong.mistake not in ORDER_DEPENDENT:
            first_wrong.setdefault(wrong.target, textwrap.dedent(wrong.code))
    broken = [t for t in assignment.targets if t in first_wrong]

    def with_wrong(targets: list[str]) -> dict:
        notebook = copy.deepcopy(reference)
        for target in targets:
            replace_definition(notebook, target, first_wrong[target])
        return notebook

    cheapest = sorted(assignment.functions, key=lambda f: sum(c.target == f for c in assignment.checks()))
    hostile = copy.deepcopy(reference)
    replace_definition(hostile, cheapest[0], hanging(cheapest[0]))
    replace_definition(hostile, cheapest[1], exiting(cheapest[1]))
    hostile["cells"] += [code_cell(f"open({str(marker)!r}, 'w').write('top-level code ran')"),
                         code_cell("import os\nos._exit(1)"), code_cell("while True:\n    pass")]

    # A student who hides two broken functions by deleting one test cell and editing another.
    edited = with_wrong(broken[:2])
    tests = grade_cell_targets(course.release, assignment_id)
    test_of = {target: grade_id for grade_id, target in tests.items()}
    edited["cells"] = [c for c in edited["cells"]
                       if c["metadata"].get("nbgrader", {}).get("grade_id") != test_of[broken[0]]]
    for cell in edited["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == test_of[broken[1]]:
            cell["source"] = 'print("All checks passed.")'

    submissions = {
        "reference": reference,
        "release": json.loads(course.release.read_text(encoding="utf-8")),
        "bugs_a": with_wrong(broken[0::2]),
        "bugs_b": with_wrong(broken[1::2]),
        "hostile": hostile,
        "edited": edited,
    }
    if assignment_id == "01_losses":
        # Notebooks the core cannot grade as this assignment: another assignment's, and one
        # larger than the grader reads (a plot output of 17 MB).
        submissions["other"] = json.loads(source_of("02_backprop").read_text(encoding="utf-8"))
        huge = copy.deepcopy(reference)
        huge["cells"].append(code_cell("plot()") | {"outputs": [
            {"output_type": "stream", "name": "stdout", "text": "x" * (17 * 2**20)}]})
        submissions["huge"] = huge
    return submissions


@dataclass
class Graded:
    course: Course
    students: list[str]
    cli: dict[str, dict]
    log: str
    markers: list[Path]
    modified: list[str]  # students whose submitted file grading changed

    def feedback_page(self, student: str) -> str:
        page = self.course.root / "grading" / "feedback" / student / self.course.assignment_id / \
            f"{self.course.release.stem}.html"
        return html.unescape(page.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory, tool_env) -> Graded:
    """One assignment's catalogue graded by nbgrader (autograde, generate_feedback) and by the
    command line."""
    require_tool("nbgrader")
    assignment_id = request.param
    root = tmp_path_factory.mktemp(assignment_id)
    course_root = root / "course"
    course_root.mkdir()
    markers = [root / "top-level-code-ran", root / "a-kernel-started"]
    kernel = root / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    spec = FAKE_KERNEL | {"argv": [*FAKE_KERNEL["argv"][:-1], str(markers[1])]}
    (kernel / "kernel.json").write_text(json.dumps(spec))
    env = tool_env | {"AUTOGRADER_CALL_TIMEOUT": "2", "JUPYTER_PATH": str(root / "jupyter")}

    course = Course(course_root, assignment_id, env)
    course.nbgrader("generate_assignment", assignment_id, "--force")
    submissions = catalogue(course, markers[0])
    submitted = {student: course.submit(student, notebook) for student, notebook in submissions.items()}
    before = {student: path.read_bytes() for student, path in submitted.items()}
    autograde = course.nbgrader("autograde", assignment_id, "--create")
    course.nbgrader("generate_feedback", assignment_id)
    cli = course.command_line(course_root / "grading" / "submitted")
    modified = [student for student, path in submitted.items() if path.read_bytes() != before[student]]
    return Graded(course, list(submissions), cli, autograde.stdout + autograde.stderr, markers, modified)


def by_target(graded: Graded, student: str) -> dict[str, tuple[float, float]]:
    """target -> (score, max score) in nbgrader's gradebook."""
    targets = grade_cell_targets(source_of(graded.course.assignment_id), graded.course.assignment_id)
    cells = graded.course.cell_grades(student)
    assert set(cells) == set(targets), "every grade cell of the notebook is graded"
    return {targets[grade_id]: (score, max_score) for grade_id, (score, max_score, _) in cells.items()}


def command_line_by_target(graded: Graded, student: str) -> dict[str, tuple[float, float]]:
    """target -> (score, max score) in the command line's report; a notebook it could not grade
    scores 0 on every target."""
    assignment = get_assignment(graded.course.assignment_id)
    scores = {t: (0.0, assignment.points(t)) for t in assignment.targets}
    for test in graded.cli[student]["tests"]:
        score, max_score = scores[test["function"]]
        scores[test["function"]] = (score + test["score"], max_score)
    return scores


def test_the_gradebook_holds_the_command_lines_points_per_function(graded):
    assignment = get_assignment(graded.course.assignment_id)
    total = sum(assignment.points(t) for t in assignment.targets)
    exported = graded.course.grades()
    for student in graded.students:
        if student == "other":
            continue  # the command line grades it as the assignment it is; see the next test
        nbgrader = by_target(graded, student)
        cli = command_line_by_target(graded, student)
        assert nbgrader == cli, f"{student}: nbgrader {nbgrader} != command line {cli}"
        assert exported[student] == (graded.cli[student]["score"], total), student
    assert exported["reference"] == (total, total)
    assert exported["release"] == (0.0, total)
    for student in ("bugs_a", "bugs_b", "hostile", "edited"):
        assert 0 < exported[student][0] < total, f"{student} should be partly correct: {exported[student]}"
    assert graded.modified == [], "grading must not modify a submission"


def test_a_notebook_the_core_cannot_grade_scores_zero_with_the_reason(graded):
    cases = [("other", "losses.ipynb holds the code of 02_backprop (Backpropagation), none of 01_losses's"),
             ("huge", "too large to be a notebook")]
    cases = [(student, reason) for student, reason in cases if student in graded.students]
    assert cases or graded.course.assignment_id != "01_losses"  # the catalogue of 01 has them
    for student, reason in cases:
        assert {s for s, _ in by_target(graded, student).values()} == {0.0}, student
        assert reason in graded.feedback_page(student), student


def test_the_feedback_of_every_failed_check_reaches_the_students_feedback(graded):
    for student in ("bugs_a", "bugs_b", "hostile", "edited"):
        page = graded.feedback_page(student)
        failed = [t for t in graded.cli[student]["tests"] if t["score"] < t["max_score"]]
        assert failed, student
        for test in failed:
            # a property whose points wait for right values is marked as such, not as failed; its
            # function's failed checks show what is wrong (a likely mistake is named once)
            mark = "·" if test.get("withheld") else "✗"
            assert f"{mark} {test['name']}" in page, f"{student}: {test['name']} is missing"
            if test.get("withheld"):
                continue
            named_before = any(t["function"] == test["function"] and t["mistake"] == test["mistake"]
                               for t in failed[:failed.index(test)]) and test["mistake"]
            for line in test["output"].splitlines():
                if named_before and line.strip().startswith("Likely mistake:"):
                    continue  # the same mistake (on another input) is named once per function
                assert line.strip() in page, f"{student}: feedback line missing: {line!r}"


def test_autograde_starts_no_kernel_and_runs_no_top_level_code(graded):
    for marker in graded.markers:
        assert not marker.exists(), f"{marker.name}: {marker.read_text()}"


def test_only_edited_test_cells_raise_checksum_warnings(graded):
    """nbgrader's own OverwriteCells warns about every test cell with hidden tests; the
    course's warns only about cells a student really changed."""
    warned, student = set(), None
    for line in graded.log.splitlines():
        sanitizing = re.search(r"Sanitizing .*/submitted/([^/]+)/", line)
        student = sanitizing.group(1) if sanitizing else student
        changed = re.search(r"Attribute 'checksum' for cell (\S+) has changed", line)
        if changed and student != "other":  # another assignment's notebook differs everywhere
            warned.add((student, changed.group(1)))
    targets = grade_cell_targets(source_of(graded.course.assignment_id), graded.course.assignment_id)
    edited = json.loads((graded.course.root / "grading" / "submitted" / "edited" /
                         graded.course.assignment_id / graded.course.release.name).read_text())
    changed = {c["metadata"]["nbgrader"]["grade_id"] for c in edited["cells"]
               if c["metadata"].get("nbgrader", {}).get("grade_id") in targets
               and "".join(c["source"]) == 'print("All checks passed.")'}
    assert len(changed) == 1
    assert warned == {("edited", grade_id) for grade_id in changed}


def test_hostile_submissions_are_flagged_for_review(graded):
    assert graded.cli["hostile"]["flags"], "the command line flags the hostile submission"
    assert any(needs for _, _, needs in graded.course.cell_grades("hostile").values())
    assert not any(needs for _, _, needs in graded.course.cell_grades("reference").values())


def test_edited_and_deleted_test_cells_gain_nothing(graded):
    assignment = get_assignment(graded.course.assignment_id)
    broken = [t for t in assignment.targets if t in {w.target for w in WRONG[assignment.id]}][:2]
    scores = by_target(graded, "edited")
    for target in broken:
        assert scores[target][0] < scores[target][1], f"{target} kept points its test cell hid"


def test_the_readme_recipe_works_in_a_fresh_clone(tmp_path, tool_env):
    """No `make exercises`, no `nbgrader generate_assignment`: the recipe as the README gives it."""
    require_tool("nbgrader")
    clone = tmp_path / "clone"
    clone.mkdir()
    course = Course(clone, "01_losses", tool_env, clone=True)
    alice = course.submit("alice", filled_in(course.release, source_of("01_losses")))
    course.submit("bob", json.loads(course.release.read_text(encoding="utf-8")))
    before = alice.read_bytes()

    autograde = course.nbgrader("autograde", "01_losses", "--create")
    course.nbgrader("generate_feedback", "01_losses")
    course.nbgrader("export", "--to", "grades.csv")

    log = autograde.stdout + autograde.stderr
    assert "checksum" not in log
    assert not [line for line in log.splitlines() if "| WARNING]" in line], log
    total = get_assignment("01_losses").points
    full = sum(total(t) for t in get_assignment("01_losses").targets)
    with open(clone / "grades.csv", newline="") as f:
        rows = {(r["assignment"], r["student_id"]): float(r["score"]) for r in csv.DictReader(f)}
    assert rows[("01_losses", "alice")] == full
    assert rows[("01_losses", "bob")] == 0.0
    assert (clone / "grading" / "feedback" / "alice" / "01_losses" / "losses.html").exists()
    assert alice.read_bytes() == before, "grading must not modify the submission"
    for folder in EXERCISES.iterdir():  # exercises/ is left as committed
        for notebook in folder.glob("*.ipynb"):
            assert (clone / "exercises" / folder.name / notebook.name).read_bytes() == notebook.read_bytes()

    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gradebook:
        known = {a.name: [n.name for n in a.notebooks] for a in gradebook.assignments}
    assert known == {a: [source_of(a).stem] for a in ASSIGNMENTS}, "every assignment, before grading it"

    # A later submission of another assignment: graded as well, and nothing graded before is lost.
    course.assignment_id = "03_optimizers"
    course.submit("alice", filled_in(course.release, source_of("03_optimizers")))
    course.nbgrader("autograde", "03_optimizers", "--create")
    course.nbgrader("export", "--to", "grades.csv")
    with open(clone / "grades.csv", newline="") as f:
        rows = {(r["assignment"], r["student_id"]): float(r["score"]) for r in csv.DictReader(f)}
    assert rows[("01_losses", "alice")] == full
    assert rows[("03_optimizers", "alice")] == sum(get_assignment("03_optimizers").points(t)
                                                   for t in get_assignment("03_optimizers").targets)


def test_the_feedback_shows_every_function_as_the_command_lines_feedback_page_does(graded):
    """For every function, nbgrader's feedback page names it in its contents and on its test
    cell, with its points, and shows every check as the command line's feedback page marks it;
    the page loads nothing, runs nothing and shows its math as MathML."""
    from bs4 import BeautifulSoup

    from autograder.feedback import feedback_page
    from autograder.marks import SAME_AS_ABOVE, check_line, feedback_to_show
    from autograder.results import SubmissionResult

    assignment = get_assignment(graded.course.assignment_id)
    for student in ("reference", "bugs_a", "hostile"):
        raw = (graded.course.root / "grading" / "feedback" / student / assignment.id /
               f"{graded.course.release.stem}.html").read_text(encoding="utf-8")
        soup = BeautifulSoup(raw, "html.parser")
        text = " ".join(soup.get_text().split())
        result = SubmissionResult.from_dict(graded.cli[student])
        ours = " ".join(BeautifulSoup(feedback_page(result), "html.parser").get_text().split())
        toc = [" ".join(li.get_text().split()) for li in soup.find(id="toc").find_all("li")]
        for function, score, points in result.by_function():
            assert any(entry.startswith(f"{function} — {score:.1f} / {points:.1f}") for entry in toc), \
                (student, function, toc)
            for check in (c for c in result.checks if c.function == function):
                line = check_line(check)
                assert line in text, f"{student}: {line!r} not on nbgrader's page"
                assert line in ours, f"{student}: {line!r} not on the command line's page"
        for check, feedback in feedback_to_show(result.checks):  # each feedback once, on both pages
            for shown in (feedback.splitlines() if feedback != SAME_AS_ABOVE else []):
                assert shown.strip() in text and shown.strip() in ours, (student, check.name, shown)
        assert not soup.find_all("script") and not soup.find_all("link")
        assert not [e for e in soup.find_all(src=True) if not e["src"].startswith("data:")]
        assert soup.find("math") is not None and "$$" not in soup.find(id="notebook-container").get_text()
