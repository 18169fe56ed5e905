"""The class run: the class policy for every front end, and one grading process per notebook.

The command line, ``pytest --grade``, Gradescope and nbgrader all grade the same way: the
class policy (`autograder.submissions.plan`) says who each student is, which one notebook per
student and assignment is graded and what is not graded and why; `grade_class` grades what it
chose and adds what the layout showed to each result; `find_solutions_for` is the one place
that decides which reference solutions grade a class.

`grade_many` runs `autograder.core.grade_notebook` for each notebook in a fresh grading
process, forked from this one, several at a time, with the notebook's time and memory limits,
and reads each result back through a pipe. So one notebook cannot slow down, crash or tamper
with another's grading; a grading process that runs past the limit is killed with its process
group and the submission is flagged, as is one that ends without a result. Student code runs
one level further down, in processes forked by the zygote (`autograder.isolation.zygote`),
which this process starts once for the whole run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.errors import NotebookError
from autograder.files import read_notebook_bytes
from autograder.flags import FlagKind
from autograder.limits import LIMITS, Limits, set_limit
from autograder.results import Skipped, SubmissionResult
from autograder.submissions import Plan, Submission, student_of_file

if TYPE_CHECKING:
    from autograder.course import Course
    from autograder.lateness import Recorded
    from autograder.roster import RosterSummary

RESULT_BYTES = 8 * 2**20  # a bounded result is far smaller; anything larger is not one
_forking = multiprocessing.get_context("fork")  # cheap: this process has imported what grading needs


@dataclass(frozen=True)
class Options:
    """How to grade: where the reference solutions are, which checks, which limits."""

    solutions: Path | None = None
    public_only: bool = False
    limits: Limits = LIMITS


def _grading_process(writer, submission: Submission, options: Options, cpu: int | None) -> None:
    """The grading process of one notebook: grade it, send the result, exit. The assignment
    is sent as soon as it is known, so that a notebook that runs out of time keeps it."""
    os.setsid()  # its own process group, killed as a whole afterwards
    if cpu is not None:  # its student's process will share it (see the zygote)
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})
    lowered = set_limit(resource.RLIMIT_AS, options.limits.grader_memory, "the grading process's memory")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from autograder.core import grade_notebook
    from autograder.isolation.sandbox import keep_memory_private

    keep_memory_private()

    def announce(assignment: str) -> None:
        writer.send_bytes(json.dumps({"assignment": assignment}).encode())

    try:  # read once: the bytes graded are the bytes hashed (a file may change meanwhile)
        data: bytes | None = read_notebook_bytes(submission.path, options.limits)
    except NotebookError:
        data = None  # grade_notebook reads it again and says why it cannot
    result = grade_notebook(submission.path, student=submission.student, assignment=submission.assignment,
                            solutions=options.solutions, public_only=options.public_only,
                            limits=options.limits, announce=announce, data=data)
    if lowered:
        result.note(f"sandbox: {lowered}")
    graded = hashlib.sha256(data).hexdigest() if data is not None else None
    writer.send_bytes(json.dumps({"result": result.to_dict(), "graded": graded}).encode())
    writer.close()
    os._exit(0)


@dataclass
class _Running:
    submission: Submission
    process: multiprocessing.process.BaseProcess
    reader: multiprocessing.connection.Connection
    started: float
    cpu: int | None
    assignment: str | None = None  # as announced by the grading process
    payload: dict | None = None  # its result, once sent
    graded: str | None = None  # the SHA-256 of the bytes it graded


def _start(submission: Submission, options: Options, cpu: int | None) -> _Running:
    reader, writer = _forking.Pipe(duplex=False)
    absolute = replace(submission, path=submission.path.absolute())
    process = _forking.Process(target=_grading_process, args=(writer, absolute, options, cpu))
    process.start()
    writer.close()
    return _Running(submission, process, reader, time.monotonic(), cpu, submission.assignment)


def _read(running: _Running) -> bool:
    """Read one message of a grading process whose pipe is ready: True when it is done (it sent
    its result, or ended without one), False after an announcement of its assignment."""
    try:
        message = json.loads(running.reader.recv_bytes(RESULT_BYTES))
    except (EOFError, OSError, ValueError):
        return True
    if isinstance(message, dict) and isinstance(message.get("assignment"), str):
        running.assignment = message["assignment"]
        return False
    if isinstance(message, dict):
        running.payload = message.get("result")
        running.graded = message.get("graded") if isinstance(message.get("graded"), str) else None
    return True


def _finish(running: _Running, options: Options, timed_out: bool) -> SubmissionResult:
    """The result of a grading process that sent it, ended, or ran out of time."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.process.pid, signal.SIGKILL)  # anything it left running
    running.process.join()
    if timed_out:  # what it announced before its time was up (its pipe has ended now)
        with contextlib.suppress(OSError):
            while running.reader.poll(0) and not _read(running):
                pass
    running.reader.close()
    if timed_out:
        return _failed(running, options, FlagKind.TIMED_OUT,
                       f"timed out: grading took longer than {options.limits.notebook_seconds:g} s")
    if running.payload is None:
        return _failed(running, options, FlagKind.CRASHED, "crashed: the grading process ended without a "
                       f"result (exit code {running.process.exitcode})")
    try:
        result = SubmissionResult.from_dict(running.payload)
    except (ValueError, KeyError, TypeError, AttributeError):
        return _failed(running, options, FlagKind.CRASHED,
                       "crashed: the grading process sent a truncated result")
    result.path = str(running.submission.path)
    return result


def _failed(running: _Running, options: Options, kind: FlagKind, text: str) -> SubmissionResult:
    """The result of a notebook whose grading did not finish: 0 of its assignment's points."""
    from autograder.assignments import ASSIGNMENTS
    from autograder.core import max_points

    submission = running.submission
    result = SubmissionResult(str(submission.path), submission.student, running.assignment,
                              hidden_checks="the notebook could not be graded (see the flags)")
    result.flag(kind, text)
    if running.assignment in ASSIGNMENTS:
        result.max_points = max_points(ASSIGNMENTS[running.assignment], options.solutions,
                                       options.public_only)
    result.seconds = time.monotonic() - running.started
    return result


def _prepare(options: Options, references: bool) -> None:
    """Import every check here, and for a class load the reference solutions too, once: the
    grading processes forked from this one start with them."""
    from autograder.assignments import ASSIGNMENTS
    from autograder.errors import ReferenceMissing
    from autograder.references import load_reference

    for assignment in ASSIGNMENTS.values():
        assignment.checks()
        if references and not options.public_only and options.solutions is not None:
            with contextlib.suppress(ReferenceMissing):
                load_reference(assignment.id, options.solutions)


def grade_in_process(path: str | Path | Submission, options: Options = Options()) -> SubmissionResult:  # noqa: B008
    """Grade one notebook in a fresh grading process (see the module docstring)."""
    if not isinstance(path, Submission):
        path = Submission(Path(path), student_of_file(Path(path)))
    return grade_many([path], options)[0]


def cache_key(submission: Submission, options: Options) -> tuple[str, str] | None:
    """(what a result depends on, the SHA-256 of the notebook's bytes). A result depends on the
    notebook's bytes, the assignment its place names, the reference notebooks (quiz keys
    included), every module of the grader (the checks included), the options, and the versions of
    Python and NumPy (None when the notebook cannot be read: such a result is not cached). A fix
    of the checks or of a reference therefore regrades every notebook; the course's late policy
    and roster are applied after the cache. A result is stored only when the grading process
    graded the bytes hashed here (a file may change in between)."""
    try:
        data = read_notebook_bytes(submission.path, options.limits)
    except NotebookError:
        return None
    content = hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256(data)
    digest.update(repr(submission.assignment).encode())  # the student's name is the layout's, added after
    solutions = options.solutions
    for reference in sorted(solutions.glob("*/*.ipynb")) if solutions and not options.public_only else []:
        digest.update(reference.read_bytes())
    for module in sorted(Path(__file__).parent.rglob("*.py")):  # the checks among them
        digest.update(module.read_bytes())
    digest.update(repr((options.public_only, options.limits)).encode())
    digest.update(_runtime().encode())
    return digest.hexdigest(), content


def _runtime() -> str:
    """The versions results also depend on: Python's and NumPy's (an upgrade may change a last
    digit, and with it a comparison)."""
    import platform

    import numpy

    return f"python {platform.python_version()}, numpy {numpy.__version__}"


def _cached(submission: Submission, options: Options, cache: Path | None,
            ) -> tuple[SubmissionResult | None, tuple[Path, str] | None]:
    """(the stored result, None) when ``cache`` holds one for this notebook as it is now; else
    (None, (where to store it once graded, the SHA-256 of the bytes hashed), or None when it
    cannot be cached)."""
    found = cache_key(submission, options) if cache is not None else None
    if found is None:
        return None, None
    key, content = found
    stored = cache / f"{key}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
        result = SubmissionResult.from_dict(json.loads(stored.read_text(encoding="utf-8")))
        result.path = str(submission.path)
        return result, None
    return None, (stored, content)


def _store(result: SubmissionResult, stored: Path) -> None:
    if result.has(FlagKind.TIMED_OUT, FlagKind.CRASHED):
        return  # the machine may have been busy: grade it again next time
    stored.parent.mkdir(parents=True, exist_ok=True)
    partial = stored.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    partial.replace(stored)  # never a half-written result


def grade_many(
    submissions: list[Submission],
    options: Options = Options(),  # noqa: B008
    jobs: int = 1,
    cache: Path | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade ``submissions`` with up to ``jobs`` grading processes at once; results in the given
    order. With ``cache``, a notebook graded before (same bytes, place, references, grader and
    options) is not graded again, and each result is stored as soon as it is ready, so an
    interrupted class run resumes where it stopped. ``on_result`` is told about each result
    as it arrives (a progress bar). The layout's flags and notes are added to each result."""
    from autograder.isolation.zygote import ZygoteLost, start_zygote, zygote

    start_zygote()  # one for the whole run, shared by every grading process forked below
    _prepare(options, references=len(submissions) > 1)  # ...while it starts
    with contextlib.suppress(ZygoteLost):
        zygote()
    results: dict[int, SubmissionResult] = {}

    def done(index: int, result: SubmissionResult) -> None:
        results[index] = with_layout(result, submissions[index])
        if on_result is not None:
            on_result(results[index])

    waiting: list[tuple[int, Submission, tuple[Path, str] | None]] = []
    for index, submission in enumerate(submissions):
        stored_result, store_at = _cached(submission, options, cache)
        if stored_result is not None:
            done(index, stored_result)
        else:
            waiting.append((index, submission, store_at))
    running: dict[multiprocessing.connection.Connection, tuple[int, _Running, tuple[Path, str] | None]] = {}
    limit = options.limits.notebook_seconds
    cpus = sorted(os.sched_getaffinity(0))
    while waiting or running:
        while waiting and len(running) < max(1, jobs):
            index, submission, store_at = waiting.pop(0)
            busy = [state.cpu for _, state, _ in running.values()]
            cpu = min(cpus, key=busy.count)  # the least used processor
            started = _start(submission, options, cpu)
            running[started.reader] = (index, started, store_at)
        now = time.monotonic()
        deadline = min(r.started + limit for _, r, _ in running.values())
        ready = multiprocessing.connection.wait(list(running), timeout=max(0.0, deadline - now))
        now = time.monotonic()
        for reader in list(running):
            index, state, store_at = running[reader]
            finished = reader in ready and _read(state)
            if finished or now >= state.started + limit:
                del running[reader]
                result = _finish(state, options, timed_out=not finished)
                if store_at is not None and state.graded == store_at[1]:
                    _store(result, store_at[0])
                elif store_at is not None and state.graded is not None:
                    result.flag(FlagKind.REVIEW, "the notebook changed while it was being graded: the grade "
                                "is of one of its versions; grade it again")
                done(index, result)
    return [results[i] for i in range(len(submissions))]


def with_layout(result: SubmissionResult, submission: Submission) -> SubmissionResult:
    """``result`` named as the class layout names its student, with the layout's flags and notes
    (a result read from the cache was graded for the same place, perhaps under another name)."""
    result.student = submission.student
    for flag in submission.flags:
        result.flag(flag.kind, flag.text)
    for note in submission.notes:
        result.note(note)
    return result


@dataclass
class ClassRun:
    """What a class run graded, and every file it did not grade with why."""

    results: list[SubmissionResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    roster: RosterSummary | None = None  # who handed in nothing, who is not on the roster

    @property
    def graded(self) -> bool:
        """Whether grading ran for at least one notebook (the command line's exit status)."""
        return any(r.graded for r in self.results)


def grade_class(
    found: Plan,
    options: Options = Options(),  # noqa: B008
    *,
    jobs: int = 1,
    cache: Path | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
    course: Course | None = None,
    recorded: Callable[[Submission], Recorded | None] | None = None,
) -> ClassRun:
    """Grade the submissions the class policy chose (``found``, from `autograder.submissions.plan`:
    one notebook per student and assignment, students named from the layout); the files it did
    not choose stay listed as skipped. With ``course`` (`autograder.course`), each result gets
    its student's roster entry and its lateness and penalty, with submission times from
    ``recorded`` (a front end's own source, such as Gradescope's) or the course's, and the run
    says who on the roster handed in nothing."""
    results = grade_many(found.submissions, options, jobs, cache, on_result) if found.submissions else []
    if course is None:
        return ClassRun(results, list(found.skipped))
    for result, submission in zip(results, found.submissions, strict=True):
        course.apply(result, submission, recorded)
    return ClassRun(results, list(found.skipped), course.summary(results))


class SolutionsAmongSubmissions(Exception):
    """A ``solutions/`` folder found from the working directory lies among the submissions."""


def find_solutions_for(paths: list[str | Path], given: str | Path | None = None) -> Path | None:
    """The reference solutions to grade ``paths`` with: ``given`` (the instructor's option),
    else ``$AUTOGRADER_SOLUTIONS``, else the ``solutions/`` folder found from the working
    directory, which must not lie among the submissions (a student's upload could hold one: its
    quiz key would be the student's own answers, and its code would run in the grader).

    Raises:
        FileNotFoundError: ``given`` is not a folder.
        SolutionsAmongSubmissions: the folder found lies among ``paths``.
    """
    from autograder.references import SOLUTIONS_ENV, among_submissions, find_solutions

    if given is not None:
        solutions = Path(given).resolve()
        if not solutions.is_dir():
            raise FileNotFoundError(f"{given}: no such folder")
        return solutions
    found = find_solutions()
    if found and not os.environ.get(SOLUTIONS_ENV) and among_submissions(found, list(paths)):
        raise SolutionsAmongSubmissions(
            f"{found}, found from the working directory, lies among the submissions to grade: a student's "
            "upload could hold it. Run from the course directory, or pass --solutions.")
    return found
