"""Grade notebooks in grading processes of their own: one notebook, one process.

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
from dataclasses import dataclass
from pathlib import Path

from autograder.core import student_of
from autograder.errors import NotebookError
from autograder.files import read_notebook_bytes
from autograder.limits import LIMITS, Limits
from autograder.results import SubmissionResult

RESULT_BYTES = 8 * 2**20  # a bounded result is far smaller; anything larger is not one
_forking = multiprocessing.get_context("fork")  # cheap: this process has imported what grading needs


@dataclass(frozen=True)
class Options:
    """How to grade: where the reference solutions are, which checks, which limits."""

    solutions: Path | None = None
    public_only: bool = False
    limits: Limits = LIMITS


def _grading_process(writer, path: str, options: Options, cpu: int | None) -> None:
    """The grading process of one notebook: grade it, send the result, exit."""
    os.setsid()  # its own process group, killed as a whole afterwards
    if cpu is not None:  # its student's process will share it (see the zygote)
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})
    limit = options.limits.grader_memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from autograder.core import grade_notebook
    from autograder.isolation.sandbox import keep_memory_private

    keep_memory_private()
    result = grade_notebook(path, solutions=options.solutions, public_only=options.public_only,
                            limits=options.limits)
    writer.send_bytes(json.dumps(result.to_dict()).encode())
    writer.close()
    os._exit(0)


@dataclass
class _Running:
    path: Path
    process: multiprocessing.process.BaseProcess
    reader: multiprocessing.connection.Connection
    started: float
    cpu: int | None


def _start(path: Path, options: Options, cpu: int | None) -> _Running:
    reader, writer = _forking.Pipe(duplex=False)
    process = _forking.Process(target=_grading_process, args=(writer, str(path.absolute()), options, cpu))
    process.start()
    writer.close()
    return _Running(path, process, reader, time.monotonic(), cpu)


def _finish(running: _Running, options: Options, timed_out: bool) -> SubmissionResult:
    """The result of a grading process that sent it, ended, or ran out of time."""
    payload = None
    if not timed_out:
        with contextlib.suppress(EOFError, OSError):
            payload = running.reader.recv_bytes(RESULT_BYTES)
    running.reader.close()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.process.pid, signal.SIGKILL)  # anything it left running
    running.process.join()
    path = running.path
    if timed_out:
        return _failed(path, f"timed out: grading took longer than {options.limits.notebook_seconds:g} s",
                       running.started)
    if payload is None:
        return _failed(path, f"crashed: the grading process ended without a result (exit code "
                             f"{running.process.exitcode})", running.started)
    try:
        result = SubmissionResult.from_dict(json.loads(payload))
    except (ValueError, KeyError, TypeError):
        return _failed(path, "crashed: the grading process sent a truncated result", running.started)
    result.path, result.student = str(path), student_of(path)
    return result


def _failed(path: Path, flag: str, started: float) -> SubmissionResult:
    result = SubmissionResult(str(path), student_of(path), flags=[flag],
                              hidden_checks="the notebook could not be graded (see the flags)")
    result.seconds = time.monotonic() - started
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


def grade_in_process(path: str | Path, options: Options = Options()) -> SubmissionResult:  # noqa: B008
    """Grade one notebook in a fresh grading process (see the module docstring)."""
    return grade_many([Path(path)], options)[0]


def cache_key(path: Path, options: Options) -> str | None:
    """What a result depends on: the notebook's bytes, the references, the grader, the options
    (None when the notebook cannot be read: such a result is not cached)."""
    try:
        data = read_notebook_bytes(path, options.limits)
    except NotebookError:
        return None
    digest = hashlib.sha256(data)
    solutions = options.solutions
    for reference in sorted(solutions.glob("*/*.ipynb")) if solutions and not options.public_only else []:
        digest.update(reference.read_bytes())
    for module in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(module.read_bytes())
    digest.update(repr((options.public_only, options.limits)).encode())
    return digest.hexdigest()


def _cached(path: Path, options: Options, cache: Path | None) -> tuple[SubmissionResult | None, Path | None]:
    """(the stored result, None) when ``cache`` holds one for this notebook as it is now; else
    (None, where to store it once graded, or None when it cannot be cached)."""
    key = cache_key(path, options) if cache is not None else None
    if key is None:
        return None, None
    stored = cache / f"{key}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        result = SubmissionResult.from_dict(json.loads(stored.read_text(encoding="utf-8")))
        result.path, result.student = str(path), student_of(path)
        return result, None
    return None, stored


def _store(result: SubmissionResult, stored: Path) -> None:
    if any(flag.startswith(("timed out", "crashed")) for flag in result.flags):
        return  # the machine may have been busy: grade it again next time
    stored.parent.mkdir(parents=True, exist_ok=True)
    partial = stored.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    partial.replace(stored)  # never a half-written result


def grade_many(
    notebooks: list[Path],
    options: Options = Options(),  # noqa: B008
    jobs: int = 1,
    cache: Path | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade ``notebooks`` with up to ``jobs`` grading processes at once; results in the given
    order. With ``cache``, a notebook graded before (same bytes, references, grader and
    options) is not graded again, and each result is stored as soon as it is ready, so an
    interrupted class run resumes where it stopped. ``on_result`` is told about each result
    as it arrives (a progress bar)."""
    from autograder.isolation.zygote import ZygoteLost, start_zygote, zygote

    start_zygote()  # one for the whole run, shared by every grading process forked below
    _prepare(options, references=len(notebooks) > 1)  # ...while it starts
    with contextlib.suppress(ZygoteLost):
        zygote()
    results: dict[int, SubmissionResult] = {}
    waiting: list[tuple[int, Path, Path | None]] = []
    for index, path in enumerate(notebooks):
        stored_result, store_at = _cached(path, options, cache)
        if stored_result is not None:
            results[index] = stored_result
            if on_result is not None:
                on_result(stored_result)
        else:
            waiting.append((index, path, store_at))
    running: dict[multiprocessing.connection.Connection, tuple[int, _Running, Path | None]] = {}
    limit = options.limits.notebook_seconds
    cpus = sorted(os.sched_getaffinity(0))
    while waiting or running:
        while waiting and len(running) < max(1, jobs):
            index, path, store_at = waiting.pop(0)
            busy = [state.cpu for _, state, _ in running.values()]
            cpu = min(cpus, key=busy.count)  # the least used processor
            started = _start(path, options, cpu)
            running[started.reader] = (index, started, store_at)
        now = time.monotonic()
        deadline = min(r.started + limit for _, r, _ in running.values())
        ready = multiprocessing.connection.wait(list(running), timeout=max(0.0, deadline - now))
        now = time.monotonic()
        for reader in list(running):
            index, state, store_at = running[reader]
            if reader in ready or now >= state.started + limit:
                del running[reader]
                result = _finish(state, options, timed_out=reader not in ready)
                if store_at is not None:
                    _store(result, store_at)
                results[index] = result
                if on_result is not None:
                    on_result(result)
    return [results[i] for i in range(len(notebooks))]
