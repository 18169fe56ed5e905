"""nbgrader with the course file: due dates, the late policy, the roster, and regrades that keep
the grades an instructor gave by hand.

``nbgrader_config.py`` calls `use_course`, which configures three things:

- `CourseLatePenalty`, nbgrader's late-penalty plugin (``AssignLatePenalties.plugin_class``):
  the course file's policy (`autograder.lateness.LatePolicy.penalty`), the one every other
  path applies, on the lateness nbgrader measures (its recorded ``timestamp.txt`` against the
  due date in its gradebook).
- `RecordCourse`, added to ``autograde``'s pre-convert hook: before the first submission is
  graded, the gradebook gets the course file's due dates, the roster's students (names,
  e-mails, LMS ids: ``nbgrader export`` and formgrader show them, and list every student of the
  roster, submitted or not) and the LMS's submission times for submissions without a
  ``timestamp.txt``. ``python -m autograder nbgrader-sync`` does the same without grading.
- nothing else: `SaveAutoGradesKeepingReviews` (instead of nbgrader's ``SaveAutoGrades``) is
  listed in ``nbgrader_config.py``'s autograde steps.

A regrade (``autograde`` runs every submission again: ``nbgrader_config.py`` sets ``force``)
never changes a grade given by hand: nbgrader keeps manual scores, and
`SaveAutoGradesKeepingReviews` leaves a hand-graded cell reviewed when its autograde is what it
was, so that formgrader asks again only where the autograder's score under a manual grade
changed (a new submission, a fixed check).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import SaveAutoGrades
from traitlets import Unicode
from traitlets.config import Config

from autograder.course import Course, CourseError, load_course
from autograder.nbgrader_plugin import REVIEWED_KEY


def use_course(config: Config, course_file: str | Path) -> None:
    """Configure nbgrader from the course file (see the module docstring). Call it in
    ``nbgrader_config.py`` after ``c.Autograde.pre_convert_hook`` is set. A course file that
    cannot be used stops nbgrader here, with the one-line reason; a missing one changes nothing.

    Raises:
        SystemExit: the course file cannot be used. (traitlets logs any other exception of a
            configuration file and carries on without the whole file: stock nbgrader, with
            another gradebook and student code run in a kernel. That must not happen quietly.)
    """
    course_file = Path(course_file)
    if not course_file.is_file():
        return
    try:
        load_course(course_file)  # a clear error now rather than in the middle of grading
    except CourseError as problem:
        raise SystemExit(f"error: {problem}") from None
    config.AssignLatePenalties.plugin_class = f"{__name__}.CourseLatePenalty"
    config.CourseLatePenalty.course_file = str(course_file)
    previous = config.Autograde.get("pre_convert_hook")
    config.Autograde.pre_convert_hook = RecordCourse(config, course_file, previous)


class CourseLatePenalty(LateSubmissionPlugin):
    """nbgrader's late-penalty plugin, with the course file's policy: the same points as on
    every other path for the same lateness (nbgrader calls it only for a late notebook)."""

    course_file = Unicode("course.toml", help="The course file with the late policy.").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        assignment_id = getattr(self.parent, "assignment_id", None)
        term = load_course(self.course_file, files=False).term(assignment_id)
        if term.due is not None and term.late_due is not None and \
                total_seconds_late > (term.late_due - term.due).total_seconds():
            self.log.warning("%s/%s was handed in after the last date for late submissions: not accepted",
                             student_id, assignment_id)
            return score
        penalty = term.policy.penalty(total_seconds_late, score, self._max_score(student_id, assignment_id))
        self.log.info("%s/%s: late penalty %g (%s)", student_id, assignment_id, penalty,
                      term.policy.describe())
        return penalty

    def _max_score(self, student_id: str, assignment_id: str | None) -> float:
        """The notebook's maximum, from the gradebook nbgrader's AssignLatePenalties has open."""
        parent = self.parent
        notebook = parent.gradebook.find_submission_notebook(parent.notebook_id, assignment_id, student_id)
        return float(notebook.max_score)


class RecordCourse:
    """``autograde``'s pre-convert hook: run ``then`` (the hook configured before), then, once
    per command, record the course file in the gradebook (`record_course`)."""

    def __init__(self, config: Config, course_file: str | Path, then: Any = None):
        self.config, self.course_file, self.then = config, Path(course_file), then
        self.done = False

    def __call__(self, **kwargs: Any) -> None:
        if callable(self.then):
            self.then(**kwargs)
        if self.done:
            return
        self.done = True
        from traitlets.log import get_logger

        log = get_logger()
        try:
            for line in record_course(self.config, self.course_file):
                log.info(line)
        except CourseError as error:
            log.error("%s", error)
            raise
        except Exception as error:
            log.error("%s", gradebook_problem(self.config, error))
            raise


def gradebook_problem(config: Config, error: Exception) -> str:
    """What went wrong opening the gradebook, in words an instructor can act on (nbgrader reports
    every database error as "run `nbgrader db upgrade`", whatever it was)."""
    from nbgrader.coursedir import CourseDirectory
    from sqlalchemy.engine import make_url

    try:
        url = make_url(CourseDirectory(config=config).db_url).render_as_string(hide_password=True)
    except Exception:
        url = "the configured db_url"
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0] if str(error).strip() else \
        type(error).__name__
    hint = ""
    if "does not exist" in reason and "database" in reason:
        hint = (" Create the database first (for example `createdb -h HOST -U USER gradebook`, or "
                "`CREATE DATABASE gradebook;` in psql); nbgrader creates its tables on first use.")
    return f"cannot use the gradebook at {url}: {reason}.{hint}"


def record_course(config: Config, course_file: str | Path) -> list[str]:
    """Record the course file in nbgrader's gradebook: each assignment's due date, each roster
    student's names, e-mail and LMS id, and the LMS's submission time of each submission whose
    folder has no ``timestamp.txt`` (nbgrader reads that file itself). Returns what it did, in
    lines for a log.

    Raises:
        CourseError: the course file cannot be used.
        sqlalchemy.exc.OperationalError (and the like): the gradebook cannot be opened.
    """
    from nbgrader.coursedir import CourseDirectory

    course = load_course(course_file)
    coursedir = CourseDirectory(config=config)
    done = []
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        for assignment_id, term in course.assignments.items():
            if term.due is not None:
                gradebook.update_or_create_assignment(assignment_id, duedate=term.due)
                done.append(f"due date of {assignment_id}: {term.due.isoformat()}")
        for entry in (course.roster.entries.values() if course.roster else []):
            gradebook.update_or_create_student(
                entry.id, first_name=entry.first_name or None,
                last_name=(entry.last_name or entry.name_given) or None,  # a lone "name" column
                email=entry.email or None, lms_user_id=entry.lms_user_id or None)
        if course.roster:
            done.append(f"{len(course.roster)} students of the roster")
        done += _record_times(gradebook, coursedir, course)
    return done


def _record_times(gradebook: Gradebook, coursedir: Any, course: Course) -> list[str]:
    recorded = []
    for (student, assignment_id), when in course.times.items():
        folder = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment_id))
        if not folder.is_dir() or (folder / "timestamp.txt").exists():
            continue
        try:
            gradebook.find_assignment(assignment_id)
        except MissingEntry:
            continue  # not released yet: autograde records it first, then this on the next run
        gradebook.update_or_create_student(student)
        gradebook.update_or_create_submission(assignment_id, student, timestamp=when.at)
        recorded.append(f"{student}/{assignment_id}")
    return [f"submission times from the LMS: {len(recorded)}"] if recorded else []


class SaveAutoGradesKeepingReviews(SaveAutoGrades):
    """nbgrader's ``SaveAutoGrades``, without undoing an instructor's review on a regrade.

    nbgrader marks every grade that has a manual score as needing manual grading again
    whenever it autogrades, so each regrade sends every hand-graded cell back to formgrader's
    list. Here a cell with a manual score stays as it was when its autograde score is
    unchanged; when the score under it changed (a new submission, a fixed check), it is marked
    for review, as nbgrader does. Manual scores themselves are never touched (nbgrader's score
    is the manual one when there is one). The cells left as they were are passed on to
    `autograder.nbgrader_plugin.FlagForReview`, which leaves them alone too.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        self._kept: list[str] = []
        nb, resources = super().preprocess(nb, resources)
        resources[REVIEWED_KEY] = list(self._kept)
        return nb, resources

    def _add_score(self, cell: NotebookNode, resources: ResourcesDict) -> None:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        grade = self.gradebook.find_grade(grade_id, self.notebook_id, self.assignment_id, self.student_id)
        before, was_flagged = grade.auto_score, grade.needs_manual_grade
        super()._add_score(cell, resources)
        if grade.manual_score is not None and before is not None and grade.auto_score == before:
            grade.needs_manual_grade = was_flagged
            self.gradebook.db.commit()
            self._kept.append(grade_id)


def course_configuration(folder: Path) -> Config:
    """nbgrader's configuration of the course directory ``folder`` (its ``nbgrader_config.py``).

    Raises:
        CourseError: there is none there, or it cannot be loaded (one line saying why).
    """
    from traitlets.config.loader import PyFileConfigLoader

    if not (folder / "nbgrader_config.py").is_file():
        raise CourseError(f"no nbgrader_config.py in {folder}: run from the course directory")
    try:
        return PyFileConfigLoader("nbgrader_config.py", path=str(folder)).load_config()
    except Exception as error:  # the instructor's configuration file: say what it raised
        raise CourseError(f"{folder / 'nbgrader_config.py'} cannot be loaded: {error}") from None


def sync_command(course: Course) -> int:
    """``python -m autograder nbgrader-sync``: record ``course`` in the gradebook that
    ``nbgrader_config.py`` in the working directory configures. Returns 0, or 2 with one line."""
    import sys

    if course.path is None:
        print("error: no course file (course.toml) to record", file=sys.stderr)
        return 2
    try:
        config = course_configuration(Path.cwd())
        lines = record_course(config, course.path)
    except CourseError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except Exception as problem:
        print(f"error: {gradebook_problem(config, problem)}", file=sys.stderr)
        return 2
    for line in lines or ["nothing to record"]:
        print(f"recorded {line}")
    return 0
