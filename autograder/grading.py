"""Grade many notebooks: one pytest process per notebook, several at a time.

Each notebook gets its own grading process, which in turn runs the notebook's code in a
confined process of its own (see `autograder.isolation`). So one student's notebook
cannot slow down, crash or tamper with another's grading, nor with its own. A grading
process that runs past the notebook's time limit is killed with its process group and the
submission is flagged; processes that student code detached are killed as well.
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
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.assignments import ASSIGNMENTS, get_assignment, recognise
from autograder.isolation import kill_orphans
from autograder.isolation.judge import children
from autograder.notebook import NotebookError, read_cells

DEFAULT_TIMEOUT = 300.0  # seconds for one whole notebook
_running: set[int] = set()  # grading processes alive now (grade_all runs several in threads)
MEMORY_LIMIT = 4 * 2**30  # bytes of address space for one grading process


def limit_memory() -> None:
    """Runs in the grading process before it starts: a huge allocation then fails there
    (MemoryError, reported as feedback) instead of exhausting the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@dataclass
class Test:
    name: str
    score: float
    max_score: float
    output: str = ""


@dataclass
class Submission:
    """One graded notebook, as the reports show it."""

    path: str
    student: str
    assignment: str | None
    tests: list[Test] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hidden: bool = False

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        if self.assignment and not self.tests:
            assignment = get_assignment(self.assignment)
            return sum(c.points for c in assignment.checks() if self.hidden or not c.hidden)
        return sum(t.max_score for t in self.tests)


def find_notebooks(paths: list[str | Path]) -> list[Path]:
    """The notebooks named by ``paths`` (files, or folders searched recursively).

    Raises FileNotFoundError for a path that does not exist.
    """
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        if path.is_file():
            found.append(path)
        else:
            found += sorted(
                p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
            )
    return found


def student_of(path: Path) -> str:
    """The student a notebook belongs to, from the class layout ``<student>/<assignment>/<nb>``.

    Outside that layout, the name of the folder holding the notebook.
    """
    folder = path.resolve().parent
    if folder.name in ASSIGNMENTS and folder.parent.name:
        return folder.parent.name
    return folder.name


def assignment_of(path: Path) -> str | None:
    try:
        cells, metadata = read_cells(path)
    except NotebookError:
        return None
    found = recognise(metadata, cells)
    return found.id if found else None


# Grading processes are forked from a server that imported pytest, NumPy and the checks once,
# rather than each starting Python afresh: about 0.3 s less per notebook.
_judges = multiprocessing.get_context("forkserver")
_judges.set_forkserver_preload(["autograder.grading", "autograder.pytest_plugin", "pytest"])
_infrastructure: set[int] = set()  # our children that are not grading processes (the fork server)


def _judge(argv: list[str], work: str, log: str) -> None:
    """The grading process of one notebook: pytest with the grader plugin (see grade_one)."""
    os.setsid()  # its own process group, killed as a whole afterwards
    limit_memory()
    os.chdir(work)
    # Only this plugin: the other pytest plugins installed alongside Jupyter double start-up time.
    os.environ.update(MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    sys.stdout = sys.stderr = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    import pytest

    code = pytest.main(argv)
    sys.stdout.flush()
    os._exit(int(code))


def start_judges() -> None:
    """Start the fork server (once), and remember it is ours (see `kill_orphans`)."""
    if not _infrastructure:
        multiprocessing.forkserver.ensure_running()
        _infrastructure.update(children())


def grade_one(
    path: Path, solutions: Path | None, timeout: float = DEFAULT_TIMEOUT, public_only: bool = False
) -> Submission:
    """Grade one notebook in a fresh pytest process (see the module docstring)."""
    start_judges()
    submission = Submission(str(path), student_of(path), assignment_of(path))
    with tempfile.TemporaryDirectory(prefix="autograder-") as work:
        results, log = Path(work) / "results.json", Path(work) / "output.txt"
        ini = Path(work) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        argv = [
            str(path.resolve()), "-p", "autograder.pytest_plugin", "--grade", "--grade-json", str(results),
            "-q", "--no-header", "-p", "no:cacheprovider", "--noconftest", "-c", str(ini), "--rootdir", work,
        ]
        if public_only or solutions is None:
            argv.append("--public-only")
        else:
            argv += ["--solutions", str(solutions.resolve())]
        process = _judges.Process(target=_judge, args=(argv, work, str(log)))
        process.start()
        _running.add(process.pid)
        try:
            process.join(timeout)
            if process.exitcode is None:
                submission.flags.append(f"timed out: grading took longer than {timeout:g} s")
                return submission
        finally:
            _kill_group(process)  # anything the notebook left running in the background
            _running.discard(process.pid)
            kill_orphans(keep=_running | _infrastructure)  # ...even if it left its process group
        if not results.exists():
            tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
            submission.flags.append(
                f"crashed: the grading process ended without results (exit code "
                f"{process.exitcode}): " + " | ".join(tail)
            )
            return submission
        _read_results(submission, json.loads(results.read_text(encoding="utf-8")))
    return submission


def _kill_group(process: multiprocessing.process.BaseProcess) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.join()


def _read_results(submission: Submission, payload: dict) -> None:
    (graded,) = payload["submissions"]
    if graded["error"]:
        submission.flags.append(f"not graded: {graded['error']}")
    submission.assignment = graded["assignment"] or submission.assignment
    submission.hidden = graded["hidden"]
    submission.notes = graded["notes"]
    submission.flags += [f"suspicious code, review by hand: {finding}" for finding in graded["suspicious"]]
    submission.tests = [
        Test(t["name"], t["score"], t["max_score"], t["output"]) for t in graded["tests"]
    ]
    if any(t["error"] for t in graded["tests"]):
        submission.flags.append("a check could not complete: review by hand")


def cache_key(path: Path, solutions: Path | None, timeout: float, public_only: bool) -> str:
    """What a result depends on: the notebook's bytes, the references, the grader, the options."""
    digest = hashlib.sha256()
    digest.update(path.read_bytes())
    for reference in sorted(solutions.glob("*/*.ipynb")) if solutions and not public_only else []:
        digest.update(reference.read_bytes())
    for module in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(module.read_bytes())
    digest.update(f"{timeout}:{public_only}".encode())
    return digest.hexdigest()


def grade_cached(path: Path, solutions: Path | None, timeout: float, public_only: bool,
                 cache: Path | None) -> Submission:
    """grade_one, reusing a result from ``cache`` when nothing it depends on has changed.

    A result is stored as soon as its notebook is graded, so a class run that is interrupted
    and started again only grades the notebooks it had not finished.
    """
    if cache is None:
        return grade_one(path, solutions, timeout, public_only)
    stored = cache / f"{cache_key(path, solutions, timeout, public_only)}.json"
    if stored.exists():
        data = json.loads(stored.read_text(encoding="utf-8"))
        submission = Submission(**{**data, "tests": [Test(**t) for t in data["tests"]]})
        submission.path, submission.student = str(path), student_of(path)
        return submission
    submission = grade_one(path, solutions, timeout, public_only)
    cache.mkdir(parents=True, exist_ok=True)
    partial = stored.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(submission)), encoding="utf-8")
    partial.replace(stored)  # never a half-written result
    return submission


def grade_all(
    notebooks: list[Path],
    solutions: Path | None,
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    public_only: bool = False,
    cache: Path | None = None,
) -> list[Submission]:
    """Grade ``notebooks`` with up to ``jobs`` processes at once, in the given order."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda p: grade_cached(p, solutions, timeout, public_only, cache), notebooks))
