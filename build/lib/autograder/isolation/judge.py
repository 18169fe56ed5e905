"""The grader's side: start the student's process, talk to it, and stop it.

`IsolatedNamespace` looks to the checks like the `Namespace` of an executed notebook
(``get``, ``function``, ``run_program``, ``lend``). Behind it, the notebook runs in a `Worker`,
a separate, contained process (see `autograder.isolation.sandbox`); the checks, the reference
solution and every judgment stay here.

What comes back is plain data, or an inert `Handle`. What the grader lends (the functions a
graded function is declared to build on, a check's model or optimizer) student code can only
call, and only until the check that lent it ends (`IsolatedNamespace.end_check`). Calls back
accept plain data only.

When a call runs out of time or ends the process, the process is killed (with everything it
started) and a fresh one loads the notebook again for the next check; a statement that kills
the process while the notebook loads is skipped on the next try, so one failing import costs
only what it defines.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from autograder.errors import CheckFailed, Trouble
from autograder.isolation.peer import Peer
from autograder.isolation.protocol import Callback, Kind, ProtocolError, RemoteError, Request, parse
from autograder.isolation.sandbox import PACKAGE, PACKAGE_INSIDE, Containment, launch
from autograder.isolation.wire import Channel, Handle, Iter, Ref, Same, load_untrusted
from autograder.limits import LIMITS, Limits
from autograder.namespace import StudentFunction, WorkerLost, not_defined, time_limit
from autograder.notebook import Definitions, blocks_to_plain

_workers: set[Worker] = set()
PLAIN_ARGUMENT_TYPES = (type(None), bool, int, float, complex, str, bytes, np.ndarray, np.generic,
                        np.random.Generator)


def plain_only(value: Any, where: str) -> None:
    """TypeError unless ``value`` is plain data through and through (no `Handle` inside)."""
    if isinstance(value, Handle):
        raise TypeError(f"{where} takes numbers, strings, NumPy arrays and lists, tuples and dicts of "
                        f"them, not a {value.type_name}")
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            plain_only(item, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            plain_only(key, where)
            plain_only(item, where)


class JudgePeer(Peer):
    """The grader's end: any failure other than an exception of student code kills the worker."""

    def __init__(self, worker: Worker, channel: Channel):
        super().__init__("judge", channel, {Callback.CALL: self.call_lent}, served=Callback)
        self.worker = worker
        self.loading_statement: int | None = None

    def resolve(self, ref: Ref) -> Any:
        """Anything the student's process refers to, its own objects or the grader's lent
        functions, is an inert `Handle` here (`call_lent` looks a lent function up by it)."""
        if ref.owner not in ("worker", "judge") or type(ref.id) is not int:
            raise ValueError("a reference of the wrong form")
        return Handle(ref)

    def export(self, value: Any) -> Ref:
        if isinstance(value, Handle):
            return value.ref
        ref = super().export(value)
        return ref._replace(type_name=getattr(value, "__name__", "function"))

    def gone_message(self, ref: Ref) -> str:
        return ("this function of the grader was lent for an earlier check and no longer works: call "
                "only what you are given, while you are given it (do not keep it in a global variable)")

    def loading(self, statement: Any) -> None:
        self.loading_statement = statement if type(statement) is int else None

    def call_lent(self, ref: Any, args: Any, kwargs: Any) -> tuple[Any, list]:
        """Callback.CALL: run a function the grader lent, on plain copies of the arguments.

        Returns the result (its parts that are arguments marked `Same`, an iterator's items as
        `Iter`) and the updates of the arguments it changed in place.
        """
        if not isinstance(ref, Handle) or ref.ref.owner != self.side:
            raise TypeError("only the grader's functions can be called back")
        function = self.exported(ref.ref)
        if not callable(function) or not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise TypeError("only the grader's functions can be called back")
        name = getattr(function, "__name__", "function")
        plain_only(args, f"the grader's {name}")
        plain_only(kwargs, f"the grader's {name}")
        mutable = {**dict(enumerate(args)), **kwargs}
        mutable = {k: v for k, v in mutable.items() if isinstance(v, dict | list | np.random.Generator)}
        before = {k: _snapshot(v) for k, v in mutable.items()}
        result = function(*args, **kwargs)
        if isinstance(result, Iterator | types.GeneratorType) and not isinstance(result, str | bytes):
            result = Iter(list(result))
        updates = [(k, v) for k, v in mutable.items() if _snapshot(v) != before[k]]
        by_identity = {id(v): k for k, v in {**dict(enumerate(args)), **kwargs}.items()
                       if isinstance(v, dict | list | np.ndarray)}

        def mark(value: Any) -> Any:
            return Same(by_identity[id(value)]) if id(value) in by_identity else value

        result = tuple(mark(item) for item in result) if type(result) is tuple else mark(result)
        return result, updates

    def describe_error(self, error: BaseException) -> str:
        text = super().describe_error(error)
        return text[:300]

    def request(self, name: Request, *args: Any) -> Any:
        if self.worker.lost:
            raise WorkerLost(self.worker.lost)
        try:
            with _default_time_limit(self.worker.limits):
                return super().request(name, *args)
        except _Timeout:  # outside any call of a graded function
            self.worker.stop(f"Your code did not answer within {self.worker.limits.call_seconds:g} seconds.",
                             Trouble.TIMEOUT)
            raise WorkerLost(self.worker.lost, kind=Trouble.TIMEOUT) from None
        except ProtocolError as error:
            refused = "not plain data" in str(error) or "nested" in str(error) or "MB" in str(error)
            self.worker.stop(self.worker.ending(str(error)), Trouble.REFUSED if refused else Trouble.CRASH)
            raise WorkerLost(self.worker.lost, kind=self.worker.trouble) from None
        except (BrokenPipeError, ConnectionError):
            self.worker.stop(self.worker.ending("stopped answering"), Trouble.CRASH)
            raise WorkerLost(self.worker.lost, kind=Trouble.CRASH) from None
        except BaseException as error:
            if not isinstance(error, RemoteError | CheckFailed):  # our own time limit (or a bug here)
                self.worker.stop("was stopped: it ran out of time", Trouble.TIMEOUT)
            raise


def _snapshot(value: Any) -> Any:
    if isinstance(value, np.random.Generator):
        return repr(value.bit_generator.state)
    try:
        return _Frozen(copy.deepcopy(value))
    except Exception:
        return object()


class _Frozen:
    """A deep copy compared by content (arrays element-wise), for detecting in-place updates."""

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        from autograder.namespace import same_value

        return isinstance(other, _Frozen) and same_value(self.value, other.value)


class _Timeout(BaseException):
    pass


@contextmanager
def _default_time_limit(limits: Limits) -> Iterator[None]:
    """A limit for requests made outside any `student_code` block (which sets its own)."""
    limited = signal.getitimer(signal.ITIMER_REAL)[0] > 0
    with time_limit(None if limited else limits.call_seconds, raising=_Timeout):
        yield


class Worker:
    """One contained process running student code (see `autograder.isolation.worker`)."""

    def __init__(self, containment: Containment, limits: Limits = LIMITS) -> None:
        self.lost: str | None = None
        self.trouble: Trouble | None = None
        self.limits = limits
        self.containment = containment
        self.host_scratch = Path(tempfile.mkdtemp(prefix="autograder-student-"))
        scratch = containment.scratch or str(self.host_scratch)
        from_judge, to_worker = os.pipe()
        from_worker, to_judge = os.pipe()
        env = {"MPLBACKEND": "Agg", "MPLCONFIGDIR": scratch, "TMPDIR": scratch, "HOME": scratch,
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONSAFEPATH": "1", "PYTHONHASHSEED": "0",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PATH": "/usr/bin:/bin", "AUTOGRADER_CALL_TIMEOUT": str(limits.call_seconds)}
        if containment.namespaced:
            env["PYTHONPATH"] = PACKAGE_INSIDE
        else:  # the package alone, never the folder around it (a clone's solutions/)
            env["PATH"] = os.environ.get("PATH", env["PATH"])
            (self.host_scratch / ".grader").mkdir()
            (self.host_scratch / ".grader" / "autograder").symlink_to(PACKAGE)
            env["PYTHONPATH"] = str(self.host_scratch / ".grader")
        argv = [*containment.argv_prefix]
        if containment.namespaced:
            for key, value in env.items():
                argv += ["--setenv", key, value]
            argv.append("--")
        argv += [sys.executable, "-m", "autograder.isolation.worker", str(from_judge), str(to_judge), scratch,
                 json.dumps(asdict(limits))]
        errors = self.host_scratch / "startup-errors.txt"  # read only if the process does not start
        with errors.open("wb") as stderr:
            self.process = subprocess.Popen(
                argv, pass_fds=(from_judge, to_judge), cwd=self.host_scratch, env=env,
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            )
        os.close(from_judge)
        os.close(to_judge)
        self.channel = Channel(from_worker, to_worker, loads=load_untrusted, max_message=limits.message_bytes)
        self.peer = JudgePeer(self, self.channel)
        _workers.add(self)
        self.unconfined: list[str] = list(containment.missing)
        try:
            with time_limit(limits.load_seconds):
                message = self.channel.receive()
            if not (isinstance(message, tuple) and len(message) == 2
                    and parse(Kind, message[0]) is Kind.READY and isinstance(message[1], list)):
                raise ProtocolError("did not start")
            self.unconfined += [str(p)[:300] for p in message[1]]
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
        if code > 128 and self.containment.namespaced:
            return f"ended the grading process (it was killed by signal {code - 128}); {what}"
        return f"ended the grading process (exit code {code}): code must return, not exit"

    def scratch_used(self) -> int:
        """Bytes in the scratch folder (only for a process without its own tmpfs)."""
        total = 0
        for folder, _, files in os.walk(self.host_scratch):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(folder, name)).st_size
        return total

    def stop(self, reason: str = "finished", trouble: Trouble | None = None) -> None:
        """Kill the process and everything it started; later requests fail with ``reason``."""
        if self.lost is None:
            self.lost, self.trouble = reason, trouble
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        kill_orphans()
        self.channel.close()
        _remove_tree(self.host_scratch)
        _workers.discard(self)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


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
    this process once it is a subreaper: see `become_subreaper`), except ``keep``; repeat until
    none is left, so a chain that forks while it is being killed does not escape.

    Does nothing in a process that is not a subreaper: its children are its own business.
    """
    if not _subreaper:
        return
    keep = keep if keep is not None else {w.process.pid for w in _workers if w.process.returncode is None}
    for _ in range(100):
        orphans = children() - keep
        if not orphans:
            return
        for pid in orphans:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in orphans:
            with contextlib.suppress(OSError):
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


def statement_text(definitions: Definitions, number: int) -> str:
    """Where statement ``number`` (1-based, in load order) is, and its first line."""
    count = 0
    for block in definitions.blocks:
        for statement in block.tree.body:
            count += 1
            if count == number:
                line = block.source.splitlines()[statement.lineno - 1].strip() if block.source else ""
                return f"{block.filename.strip('<>')}, line {statement.lineno} (`{line[:80]}`)"
    return f"statement {number}"


class IsolatedNamespace:
    """A notebook's definitions, executed in a `Worker` (see the module docstring)."""

    MAX_SKIPPED = 5  # statements that kill the process while loading, before giving up

    def __init__(self, definitions: Definitions, label: str = "your notebook", limits: Limits = LIMITS,
                 use_namespaces: bool = True):
        self.definitions, self.label, self.limits = definitions, label, limits
        self.containment = launch(limits, use_namespaces)
        self.metadata = definitions.metadata
        self.notes: list[str] = list(definitions.notes)  # cells that could not be parsed
        self.flags: list[str] = []
        self.restarts = 0
        self.skip: list[int] = []
        self.worker: Worker | None = None
        self.broken: str | None = None
        self.hung: dict[str, CheckFailed] = {}  # function -> the failure every later call repeats
        self._start(first=True)

    # --- the student's process ---------------------------------------------------------------
    def _start(self, first: bool = False) -> None:
        while True:
            try:
                worker = self.worker = Worker(self.containment, self.limits)
            except WorkerLost as lost:
                self._give_up(str(lost), first)
                return
            try:
                with time_limit(self.limits.load_seconds):
                    problems = worker.peer.request(Request.LOAD, blocks_to_plain(self.definitions.blocks),
                                                   list(self.skip))
            except KeyboardInterrupt:
                raise
            except BaseException as error:
                statement = worker.peer.loading_statement
                worker.stop(str(error))
                if statement is not None and statement not in self.skip and len(self.skip) < self.MAX_SKIPPED:
                    self.skip.append(statement)
                    where = statement_text(self.definitions, statement)
                    self._problem(f"{where} stopped the process that runs your code while it was defining "
                                  "your functions (it crashed or hung), so it was skipped", flag=True)
                    continue
                self._give_up(f"while defining its functions, your notebook's code {worker.lost}", first)
                return
            if first:
                for text, flag in problems or []:
                    self._problem(str(text), bool(flag))
                self.notes += [f"sandbox: {p}" for p in worker.unconfined]
            return

    def _problem(self, text: str, flag: bool) -> None:
        if text not in self.notes:
            self.notes.append(text)
        if flag and text not in self.flags:
            self.flags.append(text)

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
            if self.restarts >= self.limits.restarts:
                raise WorkerLost(
                    f"grading stopped restarting your code after {self.limits.restarts} failures")
            self.restarts += 1
            self._start()
            if self.broken:
                raise WorkerLost(self.broken)
        return self.worker

    # --- what the checks use ------------------------------------------------------------------
    def get(self, name: str) -> Any:
        """The value called ``name`` (plain data, or a `Handle`); CheckFailed if it is missing."""
        found, value, _ = self._live().peer.request(Request.LOOKUP, name)
        if not found:
            raise not_defined(name, self.label, self.notes)
        return value

    def function(self, name: str) -> StudentFunction:
        """``name`` wrapped as a StudentFunction whose calls run in the worker."""
        if name in self.hung:
            failure = self.hung[name]
            return StudentFunction(name, None, caller=_raise(failure), limits=self.limits)
        peer = self._live().peer
        found, value, is_callable = peer.request(Request.LOOKUP, name)
        if not found:
            raise not_defined(name, self.label, self.notes)
        if not is_callable:
            kind = value.type_name if isinstance(value, Handle) else type(value).__name__
            raise CheckFailed(f"{name} in {self.label} should be a function, but it is a {kind}.")
        signature = _signature(peer.request(Request.SIGNATURE, value))

        def call(args: tuple, kwargs: dict, limit: int | None) -> tuple[Any, tuple, dict]:
            result = self._live().peer.request(Request.CALL, value, args, kwargs, limit)
            if not (isinstance(result, tuple) and len(result) == 3):
                raise WorkerLost("sent a reply of the wrong form", kind=Trouble.REFUSED)
            return result

        return StudentFunction(name, value, signature=signature, caller=call, limits=self.limits,
                               on_timeout=lambda failure: self.hung.setdefault(name, failure))

    def run_program(self, class_name: str, program: list, reads: list[int]) -> list:
        """Build and differentiate a graph with the notebook's class (see `autograder.programs`)."""
        if class_name in self.hung:
            raise self.hung[class_name]
        cls = self.get(class_name)
        return self._live().peer.request(Request.RUN_PROGRAM, cls, program, reads)

    def remember_hang(self, name: str, failure: CheckFailed) -> None:
        self.hung.setdefault(name, failure)

    @contextmanager
    def lend(self, functions: dict[str, Callable]) -> Iterator[None]:
        """Bind names in the student's namespace to the grader's functions while the block
        runs; student code can call them (plain data in, plain data out) until `end_check`."""
        if not functions:
            yield
            return
        worker = self._live()
        previous = worker.peer.request(Request.LEND, functions)
        try:
            yield
        finally:
            if not worker.lost and isinstance(previous, tuple) and len(previous) == 2:
                with contextlib.suppress(WorkerLost, RemoteError, CheckFailed):
                    worker.peer.request(Request.RECLAIM, *previous)

    def end_check(self) -> str | None:
        """Take back everything lent during the check that just ended. Returns a problem to
        flag (a scratch folder over its limit) or None."""
        worker = self.worker
        if worker is None or worker.lost:
            return None
        worker.peer.forget()
        problem = None
        if not self.containment.namespaced and worker.scratch_used() > self.limits.scratch_disk:
            problem = (f"wrote more than {self.limits.scratch_disk / 2**20:g} MB to disk; its process was "
                       "stopped")
            worker.stop(problem, Trouble.CRASH)
            return problem
        with contextlib.suppress(WorkerLost, RemoteError, CheckFailed):
            worker.peer.request(Request.FORGET)
        return problem

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()


def _raise(failure: CheckFailed) -> Callable:
    def caller(args: tuple, kwargs: dict, limit: int | None) -> Any:
        raise CheckFailed(str(failure), kind=failure.kind)

    return caller
