"""Feedback pages handed back to students: one self-contained, offline page per student and
assignment.

``python -m autograder grade PATH --feedback DIR`` (or ``report RESULTS.json --feedback DIR``)
writes ``DIR/<student>/<assignment>.html`` for every graded notebook, and ``DIR/index.html``
for the instructor (every page, with its student and score; not for students). A page says
what the student handed in and what it earned: the score, the grade after a late penalty and
how late it was, the notes and flags meant for students (never those for the instructor only:
`autograder.flags.Flag.students_see`), then one section per function (or quiz answer) with
what it had to do (the assignment's own text, math rendered as MathML by
`autograder.mathml`), each check marked (`autograder.marks`) with its points, and the
feedback of each failed check.

Hidden checks, those against the reference solution, are shown as the instructor chooses
(``--feedback-hidden``):

- ``shown`` (default): like public checks, with their feedback, as nbgrader's feedback and
  Gradescope (once grades are published) show them. The feedback names the case (a shape, a
  seed) and the worst element, never the reference's code.
- ``results``: each hidden check's title, mark and points, without its feedback, so that its
  cases stay private.
- ``summary``: no hidden check listed; each function says how many checks against the
  reference passed and what they earned.

The pages come from the template ``templates/feedback.html.j2`` (autoescaping: everything a
student wrote is text), work without a network and without JavaScript, and forbid scripts and
requests with a Content-Security-Policy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder import marks
from autograder.flags import FlagKind
from autograder.rendering import plural, render
from autograder.results import CheckResult, SubmissionResult
from autograder.summary import ClassSummary, NotGraded, assignment_of, summarise, text

HIDDEN_CHOICES = ("shown", "results", "summary")
NAME_CHARS = 60  # characters of a student's name kept in a file name
_SAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def missing_for_feedback() -> str | None:
    """What to install for the feedback pages, in one line, or None when nothing is missing."""
    try:
        import jinja2  # noqa: F401
        import latex2mathml  # noqa: F401
        import nbconvert  # noqa: F401
        import nh3  # noqa: F401
    except ImportError:
        return ("--feedback lays out pages with Jinja2 and renders the assignment's math with nbconvert, nh3 "
                "and latex2mathml: install the package's [course] extra, or grade without --feedback")
    return None


@dataclass(frozen=True)
class CheckView:
    """One check as a page lists it: its mark, name, points and the feedback to show."""

    check: CheckResult
    feedback: str = ""
    same: bool = False  # the same feedback as a check above, not repeated


@dataclass
class FunctionView:
    """One function (or quiz answer) of a page: its checks and what it had to do."""

    name: str
    score: float
    points: float
    anchor: str
    checks: list[CheckView] = field(default_factory=list)
    hidden_summary: tuple[int, int, float, float] | None = None  # passed, ran, score, points
    task: str = ""  # the assignment's text about it, as inert HTML with MathML

    @property
    def complete(self) -> bool:
        return self.score == self.points


def safe_name(name: str) -> str:
    """A file name for ``name`` (a student's folder name, an assignment id): letters, digits
    and ``. _ @ + -`` kept, anything else ``_``, bounded; with a short hash of the name when
    it had to change, so that two names never share a file."""
    kept = _SAFE.sub("_", name)[:NAME_CHARS].lstrip(".") or "_"
    if kept != name:
        kept += "-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return kept


def page_paths(results: list[SubmissionResult]) -> list[PurePosixPath]:
    """Where each result's page goes under the feedback folder (in the order of ``results``):
    ``<student>/<assignment>.html``; a second page of one student and name gets ``-2``, and
    so on (names that differ only in case are told apart for file systems that do not)."""
    paths, seen = [], set()
    for r in results:
        folder = safe_name(text(r.student, 200) or "unknown")
        stem = safe_name(assignment_of(r) or "not-graded")
        path, n = PurePosixPath(folder, f"{stem}.html"), 1
        while str(path).casefold() in seen:
            n += 1
            path = PurePosixPath(folder, f"{stem}-{n}.html")
        seen.add(str(path).casefold())
        paths.append(path)
    return paths


def page_path(result: SubmissionResult, results: list[SubmissionResult]) -> PurePosixPath:
    """The page of ``result`` among ``results`` (see `page_paths`)."""
    index = next(i for i, r in enumerate(results) if r is result)
    return page_paths(results)[index]


def write_feedback_pages(summary: ClassSummary | list[SubmissionResult], folder: str | Path, *,
                         hidden: str = "shown", solutions: Path | None = None) -> list[Path]:
    """Write one feedback page per graded notebook, and the instructor's index.

    Inputs:
    - summary: the class (`autograder.summary.ClassSummary`), or its results.
    - folder: where to write (made if needed); each page is ``<student>/<assignment>.html``.
    - hidden: how hidden checks are shown: one of `HIDDEN_CHOICES` (see the module docstring).
    - solutions: the reference solutions folder, whose notebooks give each function's task
      text (default: the one found as grading finds it; none: pages without it).

    Returns:
    - the pages written (the index last).
    """
    if hidden not in HIDDEN_CHOICES:
        raise ValueError(f"hidden must be one of {', '.join(HIDDEN_CHOICES)}, not {hidden!r}")
    if not isinstance(summary, ClassSummary):
        summary = summarise(summary)
    if solutions is None:
        from autograder.references import find_solutions

        solutions = find_solutions()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    pages = summary.results + nothing_graded(summary)
    paths = page_paths(pages)
    for result, relative in zip(pages, paths, strict=True):
        page = folder / relative
        page.parent.mkdir(exist_ok=True)
        page.write_text(feedback_page(result, hidden=hidden, solutions=solutions), encoding="utf-8",
                        errors="replace")
        written.append(page)
    index = folder / "index.html"
    rows = sorted(zip(pages, paths, strict=True),
                  key=lambda item: (text(item[0].student).casefold(), assignment_of(item[0])))
    index.write_text(render("feedback_index.html.j2", rows=rows, student=_student, person=_person,
                            assignment=assignment_of),
                     encoding="utf-8", errors="replace")
    written.append(index)
    return written


def nothing_graded(summary: ClassSummary) -> list[SubmissionResult]:
    """For each student none of whose files was graded (a renamed notebook, one in a subfolder),
    a result without checks whose notes say what was found and why it was not graded: their
    feedback page, so that they hear of it as their classmates hear of their grades."""
    graded = {r.student for r in summary.results}
    files: dict[str, list[NotGraded]] = {}
    for entry in summary.not_graded:
        if entry.student and entry.student not in graded:
            files.setdefault(entry.student, []).append(entry)
    pages = []
    for student, entries in files.items():
        result = SubmissionResult(entries[0].path, student, hidden_checks="nothing was graded")
        result.flag(FlagKind.NOT_GRADED, "none of your files was graded")
        for entry in entries:
            result.note(f"{Path(entry.path).name}: {entry.why}")
        pages.append(result)
    return pages


def feedback_page(result: SubmissionResult, *, hidden: str = "shown", solutions: Path | None = None) -> str:
    """The feedback page of one graded notebook, as HTML (see the module docstring)."""
    from autograder.assignments import ASSIGNMENTS

    assignment = ASSIGNMENTS.get(assignment_of(result))
    tasks = _tasks(assignment.id, str(solutions)) if assignment and solutions else {}
    functions = _functions(result, hidden, tasks)
    flags = [text(for_student(f.text, result), 2_000) for f in result.flags_for_students()]
    graded = bool(result.checks)
    return render(
        "feedback.html.j2", result=result, student=_student(result), person=_person(result),
        assignment_id=assignment_of(result), title=assignment.title if assignment else "",
        functions=functions, flags=flags,
        notes=[text(for_student(n, result), 1_000) for n in result.notes[:20]],
        graded=graded, notebook=text(Path(str(result.path)).name, 200), hidden=hidden,
        late=text(result.late.text(), 500) if result.late else "",
        hidden_status="" if result.hidden_run or not graded else text(result.hidden_checks, 300),
        plural=plural,
    )


def for_student(line: str, result: SubmissionResult) -> str:
    """``line`` with the grader's path of the notebook shown as its file name (the student
    need not learn where the instructor keeps submissions)."""
    path = Path(str(result.path))
    for shown in {str(path.absolute()), str(path)} - {"", "."}:
        line = line.replace(shown, path.name)
    return line


def _student(result: SubmissionResult) -> str:
    return text(result.student, 200) or "(unknown)"


def _person(result: SubmissionResult) -> str:
    person = result.person
    return text(person.name, 200) if person and person.name != result.student else ""


def _functions(result: SubmissionResult, hidden: str, tasks: dict[str, str]) -> list[FunctionView]:
    """The sections of a page: one per function, in assignment order."""
    views: dict[str, FunctionView] = {}
    for check in result.checks:
        name = text(check.function, 100)
        view = views.setdefault(name, FunctionView(name, 0.0, 0.0, f"f-{len(views)}",
                                                   task=tasks.get(name, "")))
        view.score += check.score
        view.points += check.points
    listed = [c for c in result.checks if not (c.hidden and hidden in ("summary", "results"))]
    # what every format shows of failed checks: each feedback once, a likely mistake named once
    to_show = {id(check): feedback for check, feedback in marks.feedback_to_show(listed)}
    for check in result.checks:
        view = views[text(check.function, 100)]
        if check.hidden and hidden == "summary":
            passed, ran, score, points = view.hidden_summary or (0, 0, 0.0, 0.0)
            view.hidden_summary = (passed + check.passed, ran + 1, score + check.score, points + check.points)
            continue
        feedback = to_show.get(id(check), "")
        if feedback == marks.SAME_AS_ABOVE:
            view.checks.append(CheckView(check, same=True))
            continue
        view.checks.append(CheckView(check, text(feedback, 10_000)))
    return list(views.values())


@functools.cache
def _tasks(assignment_id: str, solutions: str) -> dict[str, str]:
    """What each function (or quiz answer) of an assignment had to do: the markdown cell before
    its solution cell in the reference notebook, as inert HTML with MathML (only the
    assignment's locked text cells are read: never a solution or a test)."""
    from autograder.mathml import markdown_with_math
    from autograder.nbgrader_pages import clean_html

    tasks: dict[str, str] = {}
    for path in sorted((Path(solutions) / assignment_id).glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        text_before = None
        for cell in cells:
            meta = (cell.get("metadata") or {}).get("nbgrader") or {}
            source = "".join(cell.get("source") or "")
            if cell.get("cell_type") == "markdown" and meta.get("locked") and not meta.get("solution") \
                    and not meta.get("grade"):
                text_before = source
            elif meta.get("solution"):
                target = str(meta.get("grade_id", "")).removeprefix("answer_")
                if text_before and target:
                    tasks.setdefault(target, markdown_with_math(text_before, clean_html,
                                                                exclude_anchor_links=True))
                text_before = None
    return tasks


__all__ = ["HIDDEN_CHOICES", "feedback_page", "missing_for_feedback", "page_path", "page_paths", "safe_name",
           "write_feedback_pages"]
