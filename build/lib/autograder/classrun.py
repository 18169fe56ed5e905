"""Grade notebooks in grading processes of their own: one notebook, one process.

`grade_in_process` runs `autograder.core.grade_notebook` in a fresh grading process with the
notebook's time limit and memory limit, and reads its result back through a pipe. So one
notebook cannot slow down, crash or tamper with another's grading; a grading process that runs
past the limit is killed with its process group and the submission is flagged, as is one that
ends without a result. `grade_many` does this for a class, several at a time, optionally
reusing results from a cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.core import student_of
from autograder.errors import NotebookError
from autograder.files import read_notebook_bytes
from autograder.isolation import kill_orphans
from autograder.isolation.judge import children
from autograder.limits import LIMITS, Limits
from autograder.results import SubmissionResult

RESULT_BYTES = 8 * 2**20  # a bounded result is far smaller; anything larger is not one
_running: set[int] = set()  # grading processes alive now (grade_many runs several in threads)
_infrastructure: set[int] = set()  # our children that are not grading processes (the fork server)


@dataclass(frozen=True)
class Options:
    """How to grade: where the reference solutions are, which checks, which limits."""

    solutions: Path | None = None
    public_only: bool = False
    limits: Limits = LIMITS


# Grading processes are forked from a server that imported pytest, NumPy and the checks once,
# rather than each starting Python afresh.
_judges = multiprocessing.get_context("forkserver")
_judges.set_forkserver_preload(["autograder.classrun", "autograder.core", "autograder.checks.losses",
                                "autograder.checks.layers", "autograder.checks.autodiff",
                                "autograder.checks.optimizers", "autograder.checks.training"])


def start_judges() -> None:
    """Start the fork server (once), and remember it is ours (see `kill_orphans`)."""
    if not _infrastructure:
        multiprocessing.forkserver.ensure_running()
        _infrastructure.update(children())


def _grading_process(writer, path: str, options: Options) -> None:
    """The grading process of one notebook: grade it, send the result, exit."""
    os.setsid()  # its own process group, killed as a whole afterwards
    limit = options.limits.grader_memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from autograder.core import grade_notebook
    from autograder.isolation import become_subreaper

    become_subreaper()
    result = grade_notebook(path, solutions=options.solutions, public_only=options.public_only,
                            limits=options.limits)
    writer.send_bytes(json.dumps(result.to_dict()).encode())
    writer.close()
    os._exit(0)


def grade_in_process(path: str | Path, options: Options = Options()) -> SubmissionResult:  # noqa: B008
    """Grade one notebook in a fresh grading process (see the module docstring)."""
    start_judges()
    path = Path(path)
    started = time.monotonic()
    reader, writer = _judges.Pipe(duplex=False)
    process = _judges.Process(target=_grading_process, args=(writer, str(path.absolute()), options))
    process.start()
    writer.close()
    _running.add(process.pid)
    seconds = options.limits.notebook_seconds
    try:
        payload = None
        if reader.poll(seconds):
            with contextlib.suppress(EOFError, OSError):
                payload = reader.recv_bytes(RESULT_BYTES)
        elif process.is_alive():
            return _failed(path, f"timed out: grading took longer than {seconds:g} s", started)
    finally:
        reader.close()
        _kill_group(process)  # anything the notebook left running in the background
        _running.discard(process.pid)
        kill_orphans(keep=_running | _infrastructure)  # ...even if it left its process group
    if payload is None:
        return _failed(path, f"crashed: the grading process ended without a result (exit code "
                             f"{process.exitcode})", started)
    try:
        result = SubmissionResult.from_dict(json.loads(payload))
    except (ValueError, KeyError, TypeError):
        return _failed(path, "crashed: the grading process sent a truncated result", started)
    result.path, result.student = str(path), student_of(path)
    return result


def _failed(path: Path, flag: str, started: float) -> SubmissionResult:
    result = SubmissionResult(str(path), student_of(path), flags=[flag],
                              hidden_checks="the notebook could not be graded (see the flags)")
    result.seconds = time.monotonic() - started
    return result


def _kill_group(process: multiprocessing.process.BaseProcess) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.join()


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


def grade_cached(path: Path, options: Options, cache: Path | None) -> SubmissionResult:
    """grade_in_process, reusing a result from ``cache`` when nothing it depends on changed.

    A result is stored as soon as its notebook is graded, so a class run that is interrupted
    and started again only grades the notebooks it had not finished.
    """
    key = cache_key(path, options) if cache is not None else None
    if cache is None or key is None:
        return grade_in_process(path, options)
    stored = cache / f"{key}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        result = SubmissionResult.from_dict(json.loads(stored.read_text(encoding="utf-8")))
        result.path, result.student = str(path), student_of(path)
        return result
    result = grade_in_process(path, options)
    if not any(flag.startswith(("timed out", "crashed")) for flag in result.flags):
        cache.mkdir(parents=True, exist_ok=True)
        partial = stored.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(result.to_dict()), encoding="utf-8")
        partial.replace(stored)  # never a half-written result
    return result


def grade_many(
    notebooks: list[Path],
    options: Options = Options(),  # noqa: B008
    jobs: int = 1,
    cache: Path | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade ``notebooks`` with up to ``jobs`` processes at once; results in the given order.

    ``on_result`` is told about each result as soon as it is ready (a progress bar).
    """
    def one(path: Path) -> SubmissionResult:
        result = grade_cached(path, options, cache)
        if on_result is not None:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, notebooks))
