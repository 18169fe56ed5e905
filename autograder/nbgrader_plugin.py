"""nbgrader's ``autograde`` with the course's one grading core.

nbgrader's own autograde step runs every cell of a submission in a Jupyter kernel, and a test
cell earns all of its points or none. This module replaces that one step with small
preprocessors, configured in ``nbgrader_config.py``:

- `GradeWithCore` (instead of nbgrader's ``Execute``) grades the submitted notebook with
  `autograder.classrun.grade_in_process`, exactly as ``python -m autograder grade`` does:
  only the notebook's definitions run, in a contained process, with the command line's limits,
  against the reference solutions of nbgrader's source folder. Each test cell then receives the
  points and feedback of the function (or quiz answer) it checks, as outputs that nbgrader's
  own ``SaveAutoGrades`` reads as partial credit. No notebook cell runs in a kernel.
- `RestoreTestCells` (instead of ``OverwriteCells``) restores locked cells as nbgrader does,
  without the "checksum has changed!" warning for test cells that are exactly as released, and
  puts back test cells a student deleted, so that deleting one changes nothing.
- `FlagForReview` (after ``SaveAutoGrades``) marks the grades of a submission the command line
  would flag (a timeout, a crash, suspicious code) as needing a look in formgrader.
- `RegisterAssignments`, nbgrader's pre-convert hook of ``autograde``, records every assignment
  of the source folder in the gradebook before the first submission is graded, the way
  ``nbgrader generate_assignment`` does, but without writing a release.

A grade cell is matched with what it grades by its own source: the ``check("<assignment>",
"<target>")`` call of the test cell (see `graded_target`). nbgrader restores that source from
the gradebook before grading, so a student cannot change what a cell grades.
"""

from __future__ import annotations

import ast
import filecmp
import fnmatch
import logging
import tempfile
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Float
from traitlets.config import Config

from autograder import marks
from autograder.flags import FlagKind
from autograder.limits import LIMITS
from autograder.nbgrader_intake import not_shown
from autograder.nbgrader_pages import FEEDBACK_KEY, feedback_note
from autograder.results import CheckResult, SubmissionResult
from autograder.submissions import Plan, Submission

RESOURCES_KEY = "autograder"  # what GradeWithCore leaves in the resources for FlagForReview
# Grades given by hand whose autograde a regrade left unchanged (see autograder.nbgrader_term):
# FlagForReview leaves them as the instructor left them.
REVIEWED_KEY = "autograder-reviewed"


def graded_target(source: str, assignment_id: str) -> str | None:
    """What a test cell grades, from its ``check(...)`` calls.

    Args:
        source: the cell's source, e.g. ``'check("01_losses", "mse")'`` (a hidden call
            ``check("01_losses", "mse", hidden=True)`` may follow).
        assignment_id: the assignment being graded.
    Returns:
        The function or quiz answer (``"mse"``, ``"Q1"``) when every ``check`` call of the cell
        names ``assignment_id`` and the same target; None otherwise (no call, another
        assignment, several targets, or source that does not parse).
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    targets = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", None))
        if name != "check":
            continue
        arguments = [a.value if isinstance(a, ast.Constant) else None for a in node.args[:2]]
        if len(arguments) != 2 or arguments[0] != assignment_id or not isinstance(arguments[1], str):
            return None
        targets.add(arguments[1])
    return targets.pop() if len(targets) == 1 else None


def _text(lines: Iterable[str]) -> str:
    return "\n".join(lines) + "\n"


def cell_outputs(target: str, checks: list[CheckResult], points: float) -> tuple[float, list[NotebookNode]]:
    """The score and outputs of the grade cell of ``target``.

    Args:
        target: the function or quiz answer the cell grades.
        checks: the results of its checks (public and hidden), from the grading core.
        points: what the cell is worth in the gradebook.
    Returns:
        (score, outputs). The outputs are, in order: a stream listing each check; the score as
        an ``execute_result``, which nbgrader's ``determine_grade`` reads as partial credit; and,
        when a check failed, an error holding its feedback (nbgrader stops reading at the
        score, so the error does not zero it, but formgrader and the feedback show it).
    """
    earned = sum(c.score for c in checks)
    worth = sum(c.points for c in checks)
    score = earned if worth == points else (earned * points / worth if worth else 0.0)
    score = min(max(score, 0.0), points)  # nbgrader refuses partial credit above the points
    lines = [marks.line(c) for c in checks]  # marked as every page marks checks
    lines.append(f"{target}: {score:g} / {points:g} points")
    if worth != points:
        lines.append(f"(the checks of {target} are worth {worth:g} points and this cell {points:g}: "
                     "the score was scaled; the instructor should make them agree)")
    outputs = [
        new_output("stream", name="stdout", text=_text(lines)),
        new_output("execute_result", data={"text/plain": repr(float(score))}, execution_count=None),
    ]
    failed = [c for c in checks if not c.passed]
    if failed:
        # One traceback entry per failed check: nbgrader's LimitOutput counts entries, and the
        # core already bounds the feedback's length.
        feedback = [f"{marks.mark(c)} {c.name}  ({c.score:g} / {c.points:g})"
                    + (f": {marks.reason(c)}" if c.withheld else "")
                    + ("\n" + textwrap.indent(text, "    ") if text else "")
                    for c, text in marks.feedback_to_show(checks)]
        outputs.append(new_output("error", ename="CheckFailed",
                                  evalue=f"{target}: {score:g} / {points:g} points", traceback=feedback))
    return score, outputs


def not_graded_outputs(reason: str) -> list[NotebookNode]:
    """The outputs of a grade cell that earns nothing because it could not be graded."""
    return [
        new_output("execute_result", data={"text/plain": "0.0"}, execution_count=None),
        new_output("error", ename="NotGraded", evalue=reason, traceback=[f"Not graded: {reason}"]),
    ]


def why_not_graded(result: SubmissionResult, assignment_id: str) -> str | None:
    """Why the core's ``result`` cannot grade the cells of ``assignment_id``, or None if it can.
    (Written for the student: the notebook is named by its file name, not the grader's path,
    and only what students may read is said.)"""
    if result.checks and result.assignment == assignment_id:
        return None
    if result.checks:
        return (f"this notebook is assignment {result.assignment}'s, not {assignment_id}'s: "
                f"submit the {assignment_id} notebook")
    reasons = [f.text for f in result.flags_for_students()]
    reason = "; ".join(reasons) or "the autograder could not grade this notebook"
    return reason.replace(str(Path(result.path).absolute()), Path(result.path).name)


class GradeWithCore(NbGraderPreprocessor):
    """Grade the submission with the course's grading core and write each grade cell's points
    and feedback as its outputs (see the module docstring).

    Never executes a cell. Raises when the reference solution cannot be loaded (an
    instructor's problem: nbgrader then reports the submission as failed rather than recording
    grades without the hidden checks).
    """

    timeout = Float(LIMITS.notebook_seconds,
                    help="Seconds to grade one notebook (the command line's --timeout).").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        from autograder.classrun import Options, grade_class  # not needed to load the config

        info = resources["nbgrader"]
        assignment_id, student_id = info["assignment"], info["student"]
        path, solutions = self._locations(resources)
        options = Options(solutions=solutions, limits=LIMITS.with_notebook_seconds(self.timeout))
        result = grade_class(self._plan(path, student_id, assignment_id), options).results[0]
        problem = why_not_graded(result, assignment_id)
        if problem is None and not result.hidden_run:
            raise RuntimeError(f"cannot grade {path}: the hidden checks did not run "
                               f"({result.hidden_checks})")
        for flag in result.flags:
            self.log.warning("%s/%s: %s", student_id, assignment_id, flag)

        review: set[str] = set()  # grade ids an instructor should look at
        troubled = {c.function for c in result.checks if c.trouble or c.error}
        for cell in nb.cells:
            if not utils.is_grade(cell) or utils.is_solution(cell) or cell.cell_type != "code":
                continue  # manually graded answers stay nbgrader's business
            grade_id = cell.metadata.nbgrader["grade_id"]
            points = float(cell.metadata.nbgrader["points"])
            target = graded_target(cell.source, assignment_id)
            checks = [c for c in result.checks if c.function == target]
            if problem is not None:
                cell.outputs = not_graded_outputs(problem)
            elif target is None or not checks:
                self.log.warning("%s/%s: grade cell %s checks nothing the autograder grades: it scores 0; "
                                 "grade it by hand", student_id, assignment_id, grade_id)
                cell.outputs = not_graded_outputs(
                    "this cell does not call check() for a function of this assignment; "
                    "your instructor will grade it by hand")
                review.add(grade_id)
            else:
                worth = sum(c.points for c in checks)
                if worth != points:
                    self.log.warning("%s/%s: grade cell %s is worth %g points, the checks of %s %g",
                                     student_id, assignment_id, grade_id, points, target, worth)
                _, cell.outputs = cell_outputs(target, checks, points)
                if target in troubled:
                    review.add(grade_id)
            cell.execution_count = None

        # what the feedback page says about the whole submission (always written: never a
        # submission's own); autograder.nbgrader_pages shows it
        course = nb.metadata.get("autograder")
        nb.metadata["autograder"] = (dict(course) if isinstance(course, dict) else {}) | {
            FEEDBACK_KEY: feedback_note(result)}

        # a stand-in (autograder.nbgrader_intake) is not what the student submitted: look at it
        stand_in = not_shown(nb) is not None
        resources[RESOURCES_KEY] = {"review": sorted(review),
                                    "everything": bool(problem) or stand_in or self._submission_flags(result)}
        return nb, resources

    @staticmethod
    def _submission_flags(result: SubmissionResult) -> bool:
        """Whether ``result`` has flags beyond those of single checks (suspicious code...)."""
        per_check = (FlagKind.TIMED_OUT, FlagKind.CRASHED, FlagKind.REFUSED, FlagKind.CHECK_ERROR)
        return any(flag.kind not in per_check for flag in result.flags)

    @staticmethod
    def _plan(path: Path, student_id: str, assignment_id: str) -> Plan:
        """What the class policy grades for this student and assignment: the notebook nbgrader
        is converting (the release's name in the assignment folder, as the policy chooses), with
        the same notes and flags about the student's other files as on every other path."""
        from autograder.submissions import plan

        folder = path.parent.parent  # submitted/<student>/<assignment>/<notebook>.ipynb
        found = plan([folder], assignment=assignment_id, one_student=True) if folder.is_dir() else Plan()
        chosen = [s for s in found.submissions if s.path.absolute() == path.absolute()]
        if not chosen:  # a notebook nbgrader converts is graded, whatever the policy would say
            chosen = [Submission(path, student_id, assignment_id)]
        return Plan(chosen, found.skipped)

    def _locations(self, resources: ResourcesDict) -> tuple[Path, Path | None]:
        """(the submitted notebook, the reference solutions folder).

        The submitted file is graded, not nbgrader's sanitised copy, so that nbgrader and the
        command line read exactly the same bytes. Both come from the course directory of the
        converter running this preprocessor; outside one, the notebook being processed and
        the solutions the core finds by itself.
        """
        info = resources["nbgrader"]
        coursedir = _find_coursedir(self)
        if coursedir is None:
            metadata = resources.get("metadata", {})
            return Path(metadata.get("path", ".")) / f"{info['notebook']}.ipynb", None
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, info["student"],
                                               info["assignment"]))
        source = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]))
        return submitted / f"{info['notebook']}.ipynb", source.resolve().parent


def _find_coursedir(configurable: Any) -> Any:
    """The nbgrader CourseDirectory of the converter a preprocessor belongs to (its exporter's
    parent), or None."""
    seen = 0
    while configurable is not None and seen < 10:
        if getattr(configurable, "coursedir", None) is not None:
            return configurable.coursedir
        configurable, seen = getattr(configurable, "parent", None), seen + 1
    return None


class FlagForReview(NbGraderPreprocessor):
    """Mark as needing a manual look the grades `GradeWithCore` flagged: the cells of checks that
    timed out, crashed or could not complete, and every cell of a submission flagged as a whole
    (suspicious code, not gradable). The scores stay; formgrader lists the submission.

    Runs after nbgrader's ``SaveAutoGrades``, which decides ``needs_manual_grade`` on its own.
    A grade given by hand whose autograde a regrade left unchanged stays as it is.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        findings = resources.get(RESOURCES_KEY)
        if not findings:
            return nb, resources
        info = resources["nbgrader"]
        grade_ids = [c.metadata.nbgrader["grade_id"] for c in nb.cells if utils.is_grade(c)]
        flagged = grade_ids if findings["everything"] else findings["review"]
        if not flagged:
            return nb, resources
        reviewed = set(resources.get(REVIEWED_KEY, ()))
        with Gradebook(info["db_url"]) as gradebook:
            for grade_id in (g for g in flagged if g not in reviewed):
                grade = gradebook.find_grade(grade_id, info["notebook"], info["assignment"], info["student"])
                grade.needs_manual_grade = True
            gradebook.db.commit()
        return nb, resources


class RestoreTestCells(OverwriteCells):
    """nbgrader's ``OverwriteCells``, with three differences.

    - A locked cell that is exactly as released is restored without a warning. nbgrader records
      a test cell in the gradebook *with* its hidden tests and releases it without them, so its
      own ``OverwriteCells`` reports every untouched test cell as "checksum has changed!" while
      it puts the hidden tests back (jupyter/nbgrader#1961). Cells that were really edited
      are still reported and restored.
    - ``add_missing_cells`` is on: a test cell a student deleted is put back (after the nearest
      cell before it that is still there), so it is graded like any other.
    - A cell whose grade id the gradebook does not know (another assignment's notebook, a made-up
      id) becomes an ordinary cell; nbgrader would keep the rest of its nbgrader metadata, which
      then fails validation and stops the submission from being graded at all.
    """

    add_missing_cells = Bool(True, help=OverwriteCells.add_missing_cells.help).tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, cell_index: int,
                        ) -> tuple[NotebookNode, ResourcesDict]:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            try:
                original = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                # nbgrader would only drop the grade id and then fail to validate the rest.
                self.log.warning("Cell '%s' does not exist in the database: it is kept as an "
                                 "ordinary cell", grade_id)
                del cell.metadata["nbgrader"]
                return cell, resources
            if (original.locked and cell.source != original.source
                    and cell.source == self.released_source(original.source)):
                self.log.debug("Restoring the hidden tests of cell %s", grade_id)
                cell.source = original.source
        return super().preprocess_cell(cell, resources, cell_index)

    def released_source(self, source: str) -> str | None:
        """``source`` as ``nbgrader generate_assignment`` releases it (hidden tests removed), or
        None if its hidden-test markers do not pair up."""
        clear = ClearHiddenTests(parent=self)
        cell = NotebookNode(source=source, cell_type="code", metadata={})
        try:
            clear._remove_hidden_test_region(cell)
        except RuntimeError:
            return None
        return cell.source

    def add_missing_grade_cells(self, nb: NotebookNode, resources: ResourcesDict,
                                ) -> tuple[NotebookNode, ResourcesDict]:
        """Put back deleted grade cells, each after the nearest cell before it (in the source
        notebook) that the submission still has, or first. nbgrader's own version fails when
        that neighbour is gone too."""
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [c.name for c in source.source_cells]
        solution_ids = {c.name for c in source.solution_cells}
        present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
        for grade_cell in source.grade_cells:
            if grade_cell.name in present or grade_cell.name not in order:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            original = next(c for c in source.source_cells if c.name == grade_cell.name)
            restored = self.missing_cell_transform(original, grade_cell.max_score,
                                                   is_solution=grade_cell.name in solution_ids)
            earlier = set(order[: order.index(grade_cell.name)])
            position = 0
            for index, cell in enumerate(nb.cells):
                if cell.metadata.get("nbgrader", {}).get("grade_id") in earlier:
                    position = index + 1
            nb.cells.insert(position, restored)
            present.add(grade_cell.name)
        return nb, resources

    def add_missing_task_cells(self, nb: NotebookNode, resources: ResourcesDict,
                               ) -> tuple[NotebookNode, ResourcesDict]:
        """Put back deleted task cells at the end, as nbgrader does; its own version fails on a
        cell whose unknown grade id ``OverwriteCells`` has just removed."""
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        for task_cell in source.task_cells:
            if task_cell.name not in present:
                original = next(c for c in source.source_cells if c.name == task_cell.name)
                nb.cells.append(self.missing_cell_transform(original, task_cell.max_score, is_task=True))
        return nb, resources


class RegisterAssignments:
    """nbgrader's pre-convert hook for ``autograde``: record in the gradebook every assignment
    of the source folder that it does not know yet (see `register_assignments`).

    Usage, in ``nbgrader_config.py``::

        c.Autograde.pre_convert_hook = RegisterAssignments(c)

    ``c`` is read when the hook runs, after the whole configuration file was loaded.
    """

    def __init__(self, config: Config):
        self.config = config
        self.done = False

    def __call__(self, **_: Any) -> None:
        if self.done:  # once per command: nbgrader calls the hook for every submission
            return
        self.done = True
        try:
            register_assignments(self.config)
        except Exception:  # nbgrader would only log it at INFO level
            _log().exception("Could not record the assignments of the source folder in the gradebook")


def _log() -> logging.Logger:
    from traitlets.log import get_logger

    return get_logger()


def register_assignments(config: Config) -> list[str]:
    """Record in the gradebook each assignment of the source folder that it lacks (the
    assignment or one of its notebooks), exactly as ``nbgrader generate_assignment`` would,
    but writing the release into a temporary folder, which is then compared with the release
    folder. Assignments the gradebook knows are left alone; nothing is deleted.

    Args:
        config: the course's nbgrader configuration (``c`` in ``nbgrader_config.py``).
    Returns:
        The ids of the assignments recorded.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    log = _log()
    coursedir = CourseDirectory(config=config)
    source = Path(coursedir.format_path(coursedir.source_directory, ".", "")).resolve()
    wanted = {folder.name: sorted(p.stem for p in folder.glob("*.ipynb"))
              for folder in sorted(source.iterdir())
              if folder.is_dir() and any(folder.glob("*.ipynb")) and not folder.name.startswith(".")
              and not any(fnmatch.fnmatch(folder.name, pattern) for pattern in coursedir.ignore)}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        missing = [a for a, notebooks in wanted.items() if not _known(gradebook, a, notebooks)]
    for assignment_id in missing:
        log.info("Recording assignment %s in the gradebook", assignment_id)
        with tempfile.TemporaryDirectory(prefix="nbgrader-release-") as scratch:
            generate = CourseDirectory(config=config)
            generate.assignment_id = assignment_id
            generate.release_directory = scratch
            GenerateAssignment(coursedir=generate, config=config, log=log).start()
            released = Path(coursedir.format_path(coursedir.release_directory, ".", assignment_id))
            generated = Path(generate.format_path(scratch, ".", assignment_id))
            for notebook in sorted(generated.glob("*.ipynb")):
                release = released / notebook.name
                if not release.is_file():
                    log.warning("%s does not exist: has %s been released?", release, assignment_id)
                elif not filecmp.cmp(notebook, release, shallow=False):
                    log.warning("%s is not what nbgrader generates from %s now: students may have a "
                                "stale release, and edited-cell warnings may follow", release,
                                source / assignment_id)
    return missing


def _known(gradebook: Gradebook, assignment_id: str, notebooks: list[str]) -> bool:
    try:
        assignment = gradebook.find_assignment(assignment_id)
    except MissingEntry:
        return False
    return set(notebooks) <= {n.name for n in assignment.notebooks}
