"""The grader's side: start the student's process, talk to it, and stop it.

`IsolatedNamespace` looks to the checks like the `Namespace` of an executed notebook:
``get``, ``function`` and ``use_helpers``. Behind it, the notebook runs in a `Worker`,
a separate, confined process (see `autograder.isolation.sandbox`); the checks, the
reference solution and every judgment stay here.

When a call runs out of time, the student's process is killed and a fresh one loads the
notebook again for the next check; after `MAX_RESTARTS` the remaining checks fail.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from autograder.checks.compare import CheckFailed
from autograder.isolation.peer import OPERATIONS, Peer, Proxy
from autograder.isolation.wire import Channel, ChannelClosed, load_untrusted
from autograder.notebook import Definitions
from autograder.submission import CALL_TIME_LIMIT, StudentFunction, WorkerLost, not_defined, time_limit

LOAD_TIME_LIMIT = 60.0  # seconds to start the student's process and run its definitions
MAX_RESTARTS = 20  # fresh processes per notebook, after calls that hung or killed theirs
SENT_BY_VALUE = (np.random.Generator, np.random.RandomState, np.random.BitGenerator,
                 np.random.SeedSequence, slice, range, Definitions)
_workers: set[Worker] = set()


def call_lent_function(function: Any, args: tuple, kwargs: dict) -> Any:
    """The main request the grader serves: call a function it lent to the student's code."""
    if isinstance(function, Proxy) or not callable(function):
        raise TypeError("only the functions the grader passed in can be called back")
    return function(*args, **kwargs)


# What student code may do with other objects the grader lent it (a generator returned by
# a reference helper, say): look, iterate, convert; never reach inside with getattr.
SERVED_OPERATIONS = {"iter", "next", "len", "repr", "str", "bool", "float", "int", "index", "contains",
                     "getitem", "format"}


# Attributes of the grader's functions that student code may read (a training loop that
# prints the optimizer's name, say); any other attribute does not exist for it.
SERVED_ATTRIBUTES = {"__name__", "__qualname__", "__doc__", "__module__"}


def attribute_of_lent(value: Any, name: str) -> Any:
    if isinstance(value, Proxy) or name not in SERVED_ATTRIBUTES:
        kind = type(value).__name__
        raise AttributeError(f"the grader's {kind} exposes no attribute {name!r} to student code")
    return getattr(value, name)


def operate_on_lent(name: str, args: tuple) -> Any:
    if name not in SERVED_OPERATIONS:
        raise PermissionError(f"the grader's objects do not support {name!r} here")
    return OPERATIONS[name](*args)


class JudgePeer(Peer):
    """The grader's end: any failure other than an exception of student code kills the worker."""

    def __init__(self, worker: Worker, channel: Channel):
        handlers = {"call": call_lent_function, "getattr": attribute_of_lent, "operate": operate_on_lent}
        super().__init__("judge", channel, handlers, by_value=SENT_BY_VALUE)
        self.worker = worker

    def request(self, name: str, *args: Any) -> Any:
        if self.worker.lost:
            raise WorkerLost(self.worker.lost)
        try:
            with _default_time_limit():
                return super().request(name, *args)
        except _Timeout:  # outside any call of a graded function: using what one returned
            self.worker.stop(f"Your code did not answer within {CALL_TIME_LIMIT:g} seconds when the grader "
                             "used what it returned: look for a method such as __float__ or __repr__ "
                             "that never returns.")
            raise WorkerLost(self.worker.lost) from None
        except ChannelClosed as closed:
            self.worker.stop(self.worker.ending(str(closed)))
            raise WorkerLost(self.worker.lost) from None
        except BaseException as error:
            if isinstance(error, BrokenPipeError):
                self.worker.stop(self.worker.ending("stopped answering"))
                raise WorkerLost(self.worker.lost) from None
            if not hasattr(error, "student_where"):  # our own time limit (or a bug here)
                self.worker.stop("was stopped: it ran out of time")
            raise


class _Timeout(BaseException):
    pass


@contextmanager
def _default_time_limit() -> Iterator[None]:
    """A limit for requests made outside any `student_code` block (which sets its own)."""
    limited = signal.getitimer(signal.ITIMER_REAL)[0] > 0
    with time_limit(None if limited else CALL_TIME_LIMIT, raising=_Timeout):
        yield


class Worker:
    """One confined process running student code (see `autograder.isolation.worker`)."""

    def __init__(self) -> None:
        self.lost: str | None = None
        self.scratch = Path(tempfile.mkdtemp(prefix="autograder-student-"))
        from_judge, to_worker = os.pipe()
        from_worker, to_judge = os.pipe()
        # nothing about the grader's set-up (where the solutions are) reaches student code
        env = {key: value for key, value in os.environ.items() if not key.startswith("AUTOGRADER_")}
        env["AUTOGRADER_CALL_TIMEOUT"] = str(CALL_TIME_LIMIT)
        env |= {"MPLBACKEND": "Agg", "MPLCONFIGDIR": str(self.scratch), "TMPDIR": str(self.scratch),
                "HOME": str(self.scratch), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONSAFEPATH": "1"}
        errors = self.scratch / "startup-errors.txt"  # read only if the process does not start
        with errors.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "autograder.isolation.worker", str(from_judge), str(to_judge),
                 str(self.scratch)],
                pass_fds=(from_judge, to_judge), cwd=self.scratch, env=env, start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            )
        os.close(from_judge)
        os.close(to_judge)
        self.channel = Channel(from_worker, to_worker, loads=load_untrusted)
        self.peer = JudgePeer(self, self.channel)
        _workers.add(self)
        self.unconfined: list[str] = []
        try:
            with time_limit(LOAD_TIME_LIMIT):
                kind, problems = self.channel.receive()
            self.unconfined = [str(p) for p in problems] if kind == "ready" else ["did not start"]
        except BaseException:
            lines = errors.read_text(errors="replace").strip().splitlines()[-3:]
            self.stop("could not start the process that runs student code (a problem of the "
                      "grader's installation: " + (" | ".join(lines) or "no message") + ")")
            raise WorkerLost(self.lost) from None

    def ending(self, what: str) -> str:
        """How the process ended, in words for feedback."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=0.5)
        code = self.process.returncode
        if code is None:
            return f"{what}; the grader stopped it"
        if code < 0:
            return f"ended the grading process (it was killed by signal {-code}); {what}"
        return f"ended the grading process (exit code {code}): code must return, not exit"

    def stop(self, reason: str = "finished") -> None:
        """Kill the process and everything it started; later requests fail with ``reason``."""
        if self.lost is None:
            self.lost = reason
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        kill_orphans()
        self.channel.close()
        shutil.rmtree(self.scratch, ignore_errors=True)
        _workers.discard(self)


_subreaper = False  # set by become_subreaper


def children() -> set[int]:
    """The processes whose parent is this one."""
    me, found = str(os.getpid()), set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:  # the parent's pid
            found.add(int(entry.name))
    return found


def kill_orphans(keep: set[int] | None = None) -> None:
    """Kill the processes that student code detached from its own (they are re-parented to
    this process once it is a subreaper: see `become_subreaper`), except ``keep``.

    Does nothing in a process that is not a subreaper: its children are its own business.
    """
    if not _subreaper:
        return
    keep = keep if keep is not None else {w.process.pid for w in _workers if w.process.returncode is None}
    for pid in children() - keep:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def become_subreaper() -> None:
    """Make this process the one that inherits (and can then kill) detached descendants, and
    keep other processes of the same user from reading or writing its memory.

    Only for a process whose children are all graders or student processes (the grading
    process of one notebook, the command line's class run).
    """
    import ctypes

    global _subreaper
    libc = ctypes.CDLL(None)
    libc.prctl(36, ctypes.c_ulong(1), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    libc.prctl(4, ctypes.c_ulong(0), 0, 0, 0)  # PR_SET_DUMPABLE: no /proc/<pid>/mem, no ptrace
    _subreaper = True


_P = inspect.Parameter
KINDS = {kind.name: kind for kind in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD, _P.VAR_POSITIONAL,
                                      _P.KEYWORD_ONLY, _P.VAR_KEYWORD)}


def _signature(parameters: Any) -> inspect.Signature | None:
    """The signature the student's process described, or None if it is not a valid one."""
    try:
        return inspect.Signature([
            inspect.Parameter(name, KINDS[kind], default=None if has_default else inspect.Parameter.empty)
            for name, kind, has_default in parameters
        ])
    except (TypeError, ValueError, KeyError):
        return None


class IsolatedNamespace:
    """A notebook's definitions, executed in a `Worker` (see the module docstring)."""

    def __init__(self, definitions: Definitions, label: str = "your notebook"):
        self.definitions, self.label = definitions, label
        self.metadata = definitions.metadata
        self.notes: list[str] = []
        self.restarts = 0
        self.worker: Worker | None = None
        self.broken: str | None = None
        self._start(first=True)

    def _start(self, first: bool = False) -> None:
        try:
            worker = self.worker = Worker()
        except WorkerLost as lost:
            self._give_up(str(lost), first)
            return
        try:
            with time_limit(LOAD_TIME_LIMIT):
                notes = worker.peer.request("load", self.definitions)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            worker.stop(str(error))
            self._give_up(f"while defining its functions, your notebook's code {worker.lost}", first)
            return
        if first:
            self.notes = list(notes) + [f"sandbox: {p}" for p in worker.unconfined]

    def _give_up(self, reason: str, first: bool) -> None:
        """Every later check fails with ``reason`` (a first failure is also a note)."""
        self.broken = reason
        if first:
            self.notes.append(reason)

    def _live(self) -> Worker:
        """The worker, restarted if the previous one was stopped."""
        if self.broken:
            raise WorkerLost(self.broken)
        if self.worker is None or self.worker.lost:
            if self.restarts >= MAX_RESTARTS:
                raise WorkerLost(f"grading stopped restarting your code after {MAX_RESTARTS} failures")
            self.restarts += 1
            self._start()
            if self.broken:
                raise WorkerLost(self.broken)
        return self.worker

    def get(self, name: str) -> Any:
        """The value called ``name`` (plain data, or a proxy); CheckFailed if it is missing."""
        found, value, _ = self._live().peer.request("lookup", name)
        if not found:
            raise not_defined(name, self.label, self.notes)
        return value

    def function(self, name: str) -> StudentFunction:
        """``name`` wrapped as a StudentFunction whose calls run in the worker."""
        peer = self._live().peer
        found, value, is_callable = peer.request("lookup", name)
        if not found:
            raise not_defined(name, self.label, self.notes)
        if not is_callable:
            kind = type(value).__name__
            raise CheckFailed(f"{name} in {self.label} should be a function, but it is a {kind}.")
        signature = _signature(peer.request("signature", value))

        def call(args: tuple, kwargs: dict, limit: int | None) -> tuple[Any, tuple, dict]:
            return peer.request("tracked", value, args, kwargs, limit)

        return StudentFunction(name, value, signature=signature, caller=call)

    @contextmanager
    def use_helpers(self, helpers: dict[str, Any]) -> Iterator[None]:
        """Rebind names in the student's namespace while the block runs (to the grader's
        functions: calls to them come back here)."""
        worker = self._live()
        previous = worker.peer.request("swap", helpers)
        try:
            yield
        finally:
            if not worker.lost:
                worker.peer.request("restore", *previous)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
