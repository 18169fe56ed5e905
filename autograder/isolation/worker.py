"""The student's process: it runs the notebook's definitions and answers the grader.

Forked by the zygote (`autograder.isolation.zygote`) into namespaces of its own, it confines
itself (`autograder.isolation.sandbox.confine_self`), reports ready, then serves `Request`s
(`serve`) until the grader closes the pipe. Everything student code raises, even SystemExit,
goes back to the grader as a `RemoteError`. Printing is captured: the start of what a failing
call printed comes back with its error, the rest is dropped.

Functions the grader lends (a reference helper, a check's model or optimizer) are
`LentFunction`s here: calling one sends plain copies of the arguments to the grader, which
runs it and sends back the result and whatever it updated in place (an optimizer's state
dict, a random generator), so the student's code sees what a real function would do.
"""

from __future__ import annotations

import builtins
import inspect
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from autograder.isolation.peer import Peer
from autograder.isolation.protocol import Callback, Gap, Kind, ProtocolError, Request
from autograder.isolation.sandbox import confine_self
from autograder.isolation.wire import Channel, Iter, Ref, Same
from autograder.limits import LIMITS, Limits
from autograder.notebook import blocks_from_plain
from autograder.programs import run_program
from autograder.running import (
    BoundedOutput,
    call_tracking,
    register_source,
    run_sequence,
    run_statement,
    student_traceback,
)

# Errors a lent function may raise here as themselves (so `except ValueError` in student code
# works); anything else arrives as a plain Exception with the same message.
TRAVELLING_ERRORS = {name: getattr(builtins, name) for name in
                     ("ValueError", "TypeError", "KeyError", "IndexError", "ZeroDivisionError",
                      "ArithmeticError", "OverflowError", "FloatingPointError", "AttributeError",
                      "LookupError", "RuntimeError", "NotImplementedError", "PermissionError",
                      "RecursionError", "MemoryError", "StopIteration")}


class Printed(BoundedOutput):
    """The student's stdout and stderr: keeps the first characters printed since the last
    `clear` (shown with the feedback when a call fails) and drops the rest."""

    def __init__(self, limit: int = LIMITS.printed_shown) -> None:
        super().__init__(limit)

    def clear(self) -> None:
        self.kept, self.size = [], 0

    def report(self) -> str:
        """What was printed, indented for feedback ("" if nothing)."""
        text = "".join(self.kept).rstrip()
        if not text:
            return ""
        more = f"\n    ... ({self.size - self.limit:,} more characters)" if self.size > self.limit else ""
        lines = [line if len(line) <= 120 else line[:117] + "..." for line in text.splitlines()[:12]]
        return "\n  what it printed:\n" + "\n".join("    " + line for line in lines) + more


class LentFunction:
    """A function of the grader's, as student code sees it: callable, named, nothing more."""

    __slots__ = ("_peer", "_ref", "__name__", "__qualname__")

    def __init__(self, peer: WorkerPeer, ref: Ref):
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_ref", ref)
        name = ref.type_name if isinstance(ref.type_name, str) else "function"
        for attribute in ("__name__", "__qualname__"):
            object.__setattr__(self, attribute, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result, updates = self._peer.request(Callback.CALL, self._ref, args, kwargs)
        for key, value in updates:
            original = args[key] if isinstance(key, int) else kwargs[key]
            update_in_place(original, value)

        def restore(value: Any) -> Any:
            if isinstance(value, Same):
                return args[value.key] if isinstance(value.key, int) else kwargs[value.key]
            if isinstance(value, Iter):
                return iter(value.items)
            if type(value) in (tuple, list):
                return type(value)(restore(item) for item in value)
            return value

        return restore(result)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the grader's {self.__name__} cannot be changed")

    def __copy__(self) -> LentFunction:
        return self

    def __deepcopy__(self, memo: dict) -> LentFunction:
        return self

    def __repr__(self) -> str:
        return f"<the grader's function {self.__name__}>"


def update_in_place(original: Any, value: Any) -> None:
    """Make ``original`` (an argument of a lent function) what the grader's copy became."""
    if isinstance(original, dict) and isinstance(value, dict):
        original.clear()
        original.update(value)
    elif isinstance(original, list) and isinstance(value, list):
        original[:] = value
    elif isinstance(original, np.random.Generator) and isinstance(value, np.random.Generator):
        original.bit_generator.state = value.bit_generator.state
    elif isinstance(original, np.ndarray) and isinstance(value, np.ndarray) and original.shape == value.shape:
        original[...] = value


class Student:
    """The notebook's namespace and the requests the grader may make of it."""

    def __init__(self, peer_ref: list, limits: Limits) -> None:
        self.values: dict[str, Any] = {}
        self.limits = limits
        self._peer_ref = peer_ref  # [WorkerPeer], set once the peer exists

    def load(self, blocks: list, skip: list[int]) -> list[tuple[str, bool]]:
        """Run the definitions (see `notebook.blocks_to_plain`) statement by statement;
        (problem, flag for review?) of each that failed. Statements numbered in ``skip`` are
        not run (they stopped an earlier process)."""
        self.values = {"__name__": "__submission__", "__builtins__": __builtins__}
        problems = []
        number = 0
        for block in blocks_from_plain(blocks):
            filename = register_source(block)
            for statement in block.tree.body:
                number += 1
                if number in skip:
                    continue
                self._peer_ref[0].channel.send((Kind.LOADING.value, number))
                problem = run_statement(block, statement, self.values, self.limits, filename)
                if problem:
                    problems.append(problem)
        return problems

    def lookup(self, name: str) -> tuple[bool, Any, bool]:
        """(defined?, value, callable?) of a top-level name."""
        if name not in self.values:
            return False, None, False
        value = self.values[name]
        if callable(value):
            self._peer_ref[0].pin(value)  # the grader keeps its handle from check to check
        return True, value, callable(value)

    def lend(self, functions: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Bind names to the grader's functions; returns what `reclaim` needs: the previous
        values, and the names that were not defined."""
        previous = {name: self.values[name] for name in functions if name in self.values}
        absent = [name for name in functions if name not in self.values]
        self.values.update(functions)
        return previous, absent

    def reclaim(self, previous: dict[str, Any], absent: list[str]) -> None:
        self.values.update(previous)
        for name in absent:
            self.values.pop(name, None)

    def forget(self) -> None:
        self._peer_ref[0].forget()

    @staticmethod
    def signature(function: Any) -> list[tuple[str, str, bool]] | None:
        """(name, kind, has a default?) of each parameter, or None when there is no signature."""
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            return None
        return [(p.name, p.kind.name, p.default is not inspect.Parameter.empty) for p in parameters]

    def call(self, function: Any, args: tuple, kwargs: dict, limit: int | None) -> tuple:
        """Call ``function``: its result and what it changed of its arguments (see
        `namespace.call_tracking`)."""
        self._peer_ref[0].printed.clear()
        return call_tracking(function, args, kwargs, limit)

    def sequence(self, function: Any, calls: list, threaded: int, reuse: bool = False) -> list:
        self._peer_ref[0].printed.clear()
        return run_sequence(function, calls, threaded, reuse=reuse is True)

    def program(self, cls: Any, program: list, reads: list[int]) -> list:
        self._peer_ref[0].printed.clear()
        return run_program(cls, program, reads)

    def handlers(self) -> dict:
        return {
            Request.LOAD: self.load,
            Request.LOOKUP: self.lookup,
            Request.SIGNATURE: self.signature,
            Request.CALL: self.call,
            Request.RUN_PROGRAM: self.program,
            Request.SEQUENCE: self.sequence,
            Request.LEND: self.lend,
            Request.RECLAIM: self.reclaim,
            Request.FORGET: self.forget,
        }


class WorkerPeer(Peer):
    """The student's end: serves the grader; the grader's objects become `LentFunction`s."""

    catches = BaseException  # student code: anything can happen, even SystemExit

    def __init__(self, channel: Channel, student: Student, printed: Printed) -> None:
        super().__init__("worker", channel, student.handlers(), served=Request)
        self.printed = printed

    def resolve(self, ref: Ref) -> Any:
        if ref.owner == self.side:
            return self.exported(ref)
        return LentFunction(self, ref)

    def raised(self, type_name: str, message: str, where: str) -> BaseException:
        cls = TRAVELLING_ERRORS.get(type_name) or Exception
        return cls(message)

    def where(self, error: BaseException) -> str:
        return student_traceback(error) + self.printed.report()


def serve(read_fd: int, write_fd: int, scratch: Path, limits: Limits, missing: list[tuple[Gap, str]]) -> None:
    """Be the student's process: confine, report ready, answer the grader until it hangs up."""
    os.environ.clear()  # nothing of the grader's set-up reaches student code
    os.environ.update(HOME=str(scratch), TMPDIR=str(scratch), MPLCONFIGDIR=str(scratch), MPLBACKEND="Agg",
                      OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                      PATH="/usr/bin:/bin")
    tempfile.tempdir = str(scratch)  # the zygote's choice (/tmp) is cached: libraries' caches go here
    sys.path[:] = [path for path in sys.path if path and Path(path).resolve().is_relative_to(sys.base_prefix)
                   or "site-packages" in path]
    os.chdir(scratch)
    channel = Channel(read_fd, write_fd, max_message=limits.message_bytes)
    unconfined = list(missing) + confine_self(scratch, limits)
    sys.stdout = sys.stderr = printed = Printed(limits.printed_shown)
    np.seterr(all="ignore")
    peer_ref: list = []
    student = Student(peer_ref, limits)
    peer = WorkerPeer(channel, student, printed)
    peer_ref.append(peer)
    channel.send((Kind.READY.value, [[gap.value, text] for gap, text in unconfined]))
    # Standard error was the grader's file for messages of a failed start: from now on student
    # code could write there, outside its scratch folder.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    while True:
        try:
            message = channel.receive()
        except ProtocolError:
            return
        if isinstance(message, tuple) and len(message) == 3 and message[0] == Kind.REQUEST.value:
            try:
                request = Request(message[1])
            except ValueError:
                return
            peer.serve(request, message[2])
