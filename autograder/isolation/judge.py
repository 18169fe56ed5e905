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
import os
import re
import signal
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograder.errors import CheckFailed, Trouble
from autograder.isolation.peer import Peer
from autograder.isolation.protocol import Callback, Gap, Kind, ProtocolError, RemoteError, Request, parse
from autograder.isolation.wire import Channel, Handle, Iter, Ref, Same, load_untrusted
from autograder.isolation.zygote import ZygoteLost, zygote
from autograder.limits import LIMITS, Limits
from autograder.namespace import StudentFunction, WorkerLost, not_defined
from autograder.notebook import Definitions, blocks_to_plain
from autograder.running import same_value, time_limit

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
        numbers = sum(_numbers(a) for a in (*args, *kwargs.values()))
        if numbers > self.worker.limits.lent_numbers:
            raise ValueError(f"the grader's {name} takes at most {self.worker.limits.lent_numbers:,} numbers "
                             f"per call; this call passed {numbers:,}")
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
        """What student code learns of an error in a lent function: its message, short, with
        no address of the grader's memory."""
        return re.sub(r" at 0x[0-9a-fA-F]+", "", super().describe_error(error))[:300]

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
            trouble = Trouble.REFUSED if error.refused else Trouble.CRASH
            self.worker.stop(self.worker.ending(str(error)), trouble)
            raise WorkerLost(self.worker.lost, kind=self.worker.trouble) from None
        except (BrokenPipeError, ConnectionError):
            self.worker.stop(self.worker.ending("stopped answering"), Trouble.CRASH)
            raise WorkerLost(self.worker.lost, kind=Trouble.CRASH) from None
        except BaseException as error:
            if not isinstance(error, RemoteError | CheckFailed):  # our own time limit (or a bug here)
                self.worker.stop("was stopped: it ran out of time", Trouble.TIMEOUT)
            raise


def _numbers(value: Any) -> int:
    """How many numbers ``value`` (plain data) holds."""
    if isinstance(value, np.ndarray):
        return value.size
    if isinstance(value, list | tuple | set | frozenset):
        return sum(_numbers(item) for item in value)
    if isinstance(value, dict):
        return sum(_numbers(item) for item in value.values())
    return 1


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

    def __init__(self, limits: Limits = LIMITS, namespaces: bool = True) -> None:
        self.lost: str | None = None
        self.trouble: Trouble | None = None
        self.limits = limits
        self.exit_code: int | None = None
        try:
            # AUTOGRADER_NO_NAMESPACES=1 grades as a container that refuses namespaces would
            namespaces = namespaces and os.environ.get("AUTOGRADER_NO_NAMESPACES") != "1"
            self.spawned = zygote().spawn(limits, namespaces)
        except ZygoteLost as error:
            self.spawned = None
            self.lost = ("could not start the process that runs student code (a problem of the grader's "
                         f"installation: {error})")
            raise WorkerLost(self.lost) from None
        self.namespaced = not any(gap is Gap.NAMESPACES for gap, _ in self.spawned.missing)
        self.channel = Channel(self.spawned.read_fd, self.spawned.write_fd, loads=load_untrusted,
                               max_message=limits.message_bytes)
        self.peer = JudgePeer(self, self.channel)
        self.functions: dict[str, tuple[Handle, inspect.Signature | None]] = {}  # name -> (handle, signature)
        _workers.add(self)
        self.unconfined: list[tuple[Gap, str]] = []
        try:
            with time_limit(limits.load_seconds):
                message = self.channel.receive()
            if not (isinstance(message, tuple) and len(message) == 2
                    and parse(Kind, message[0]) is Kind.READY and isinstance(message[1], list)):
                raise ProtocolError("did not start")
            self.unconfined = [(parse(Gap, gap), str(text)[:300]) for gap, text in message[1]]
        except BaseException as error:
            self.stop("could not start the process that runs student code (a problem of the grader's "
                      f"installation: {self.ending(str(error))})")
            raise WorkerLost(self.lost) from None

    @property
    def pid(self) -> int | None:
        return self.spawned.pid if self.spawned else None

    def ending(self, what: str) -> str:
        """How the process ended, in words for feedback."""
        if self.exit_code is None and self.spawned is not None:
            self.exit_code = self.spawned.ended()
        code = self.exit_code
        if code is None:
            return f"{what}; the grader stopped it"
        if code < 0:
            return f"ended the grading process (it was killed by signal {-code}); {what}"
        return f"ended the grading process (exit code {code}): code must return, not exit"

    def scratch_used(self) -> tuple[int, int]:
        """(bytes, files and folders) in the scratch folder (for a process without a tmpfs of
        its own, whose limits the kernel enforces)."""
        total, count = 0, 0
        for folder, folders, files in os.walk(self.spawned.scratch):
            count += len(folders) + len(files)
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(folder, name)).st_size
        return total, count

    def stop(self, reason: str = "finished", trouble: Trouble | None = None) -> None:
        """Kill the process and everything it started; later requests fail with ``reason``."""
        if self.lost is None:
            self.lost, self.trouble = reason, trouble
        if self.spawned is not None:
            with contextlib.suppress(OSError):
                self.channel.close()
            if self.exit_code is None:
                with contextlib.suppress(OSError):
                    import select

                    if select.select([self.spawned.status_fd], [], [], 0)[0]:  # it has already ended
                        self.exit_code = self.spawned.ended(0)
            self.spawned.kill()
            self.spawned = None
        _workers.discard(self)


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
        self.use_namespaces = use_namespaces
        self.metadata = definitions.metadata
        self.notes: list[str] = list(definitions.notes)  # cells that could not be parsed
        self.flags: list[str] = []  # what student code did that an instructor should review
        self.untrusted: list[str] = []  # what this machine could not enforce
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
                worker = self.worker = Worker(self.limits, self.use_namespaces)
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
                self.notes += [f"sandbox: {text}" for _, text in worker.unconfined]
                if any(gap is Gap.LANDLOCK for gap, _ in worker.unconfined):
                    self.untrusted.append("the student's process could read the grader's files (no Landlock "
                                      "on this machine): this grade cannot be trusted")
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
        worker = self._live()
        known = worker.functions.get(name)  # a notebook's functions do not change between checks
        if known is None:
            found, value, is_callable = worker.peer.request(Request.LOOKUP, name)
            if not found:
                raise not_defined(name, self.label, self.notes)
            if not is_callable:
                kind = value.type_name if isinstance(value, Handle) else type(value).__name__
                raise CheckFailed(f"{name} in {self.label} should be a function, but it is a {kind}.")
            signature = _signature(worker.peer.request(Request.SIGNATURE, value))
            known = worker.functions[name] = (value, signature)
        value, signature = known

        def call(args: tuple, kwargs: dict, limit: int | None) -> tuple[Any, tuple]:
            reply = self._live().peer.request(Request.CALL, value, args, kwargs, limit)
            changes = reply[1] if isinstance(reply, tuple) and len(reply) == 2 else None
            if not (isinstance(changes, tuple) and len(changes) == 3
                    and isinstance(changes[0], list) and isinstance(changes[1], list)):
                raise WorkerLost("sent a reply of the wrong form", kind=Trouble.REFUSED)
            return reply

        def sequence(calls: list, threaded: int, reuse: bool = False) -> list:
            results = self._live().peer.request(Request.SEQUENCE, value, calls, threaded, reuse)
            if not isinstance(results, list):
                raise WorkerLost("sent a reply of the wrong form", kind=Trouble.REFUSED)
            return results

        return StudentFunction(name, value, signature=signature, caller=call, limits=self.limits,
                               on_timeout=lambda failure: self.hung.setdefault(name, failure),
                               sequencer=sequence)

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
                try:
                    worker.peer.request(Request.RECLAIM, *previous)
                except WorkerLost:
                    self.stopped_after_check = True
                except (RemoteError, CheckFailed):
                    pass

    # A process alive when its check ended but silent since (a thread that holds the
    # interpreter, a reply forged before the call returned) is stopped; that is flagged too.
    STOPPED_AFTER_CHECK = "stopped answering the grader once the check was over; its process was stopped"
    stopped_after_check = False

    def end_check(self) -> str | None:
        """Take back everything lent during the check that just ended. Returns a problem to
        flag (a scratch folder over its limit, a process that stopped answering) or None."""
        worker = self.worker
        if self.stopped_after_check:
            self.stopped_after_check = False
            return self.STOPPED_AFTER_CHECK
        if worker is None or worker.lost:
            return None
        worker.peer.forget()
        problem = None
        written, files = (0, 0) if worker.namespaced else worker.scratch_used()
        if files > self.limits.scratch_files:
            problem = (f"created more than {self.limits.scratch_files:,} files; its process was stopped")
            worker.stop(problem, Trouble.CRASH)
            return problem
        if written > self.limits.scratch_disk:
            problem = (f"wrote more than {self.limits.scratch_disk / 2**20:g} MB to disk; its process was "
                       "stopped")
            worker.stop(problem, Trouble.CRASH)
            return problem
        try:  # also tells a process that stopped answering once its check was over
            worker.peer.request(Request.FORGET)
        except WorkerLost:
            return self.STOPPED_AFTER_CHECK
        except (RemoteError, CheckFailed):
            pass
        return problem

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()


def _raise(failure: CheckFailed) -> Callable:
    def caller(args: tuple, kwargs: dict, limit: int | None) -> Any:
        raise CheckFailed(str(failure), kind=failure.kind)

    return caller
