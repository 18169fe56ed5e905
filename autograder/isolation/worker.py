"""The student's process: it runs the notebook's definitions and answers the grader.

Started by `autograder.isolation.judge.Worker` as

    python -m autograder.isolation.worker READ_FD WRITE_FD SCRATCH_DIR

It confines itself (`autograder.isolation.sandbox`), reports ready, then serves requests
until the grader closes the pipe. Everything student code raises, even SystemExit, goes
back to the grader as an error. Printing is captured: the start of what a failing call
printed comes back with its error, the rest is dropped.
"""

from __future__ import annotations

import inspect
import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np

from autograder.isolation.peer import OPERATIONS, Peer
from autograder.isolation.sandbox import confine, die_with_parent
from autograder.isolation.wire import Channel, ChannelClosed
from autograder.notebook import Definitions
from autograder.submission import BoundedOutput, execute, student_traceback


class Printed(BoundedOutput):
    """The student's stdout and stderr: keeps the first ``limit`` characters printed since the
    last `clear` (shown with the feedback when a call fails) and drops the rest."""

    def __init__(self, limit: int = 800) -> None:
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


class Student:
    """The notebook's namespace and the requests the grader may make of it."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def load(self, definitions: Definitions) -> list[str]:
        namespace = execute(definitions)
        self.values = namespace.values
        return namespace.notes

    def lookup(self, name: str) -> tuple[bool, Any, bool]:
        """(defined?, value, callable?) of a top-level name."""
        if name not in self.values:
            return False, None, False
        value = self.values[name]
        return True, value, callable(value)

    def swap(self, replacements: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Rebind top-level names; returns what `restore` needs to undo it: the previous
        values, and the names that were not defined."""
        previous = {name: self.values[name] for name in replacements if name in self.values}
        absent = [name for name in replacements if name not in self.values]
        self.values.update(replacements)
        return previous, absent

    def restore(self, previous: dict[str, Any], absent: list[str]) -> None:
        self.values.update(previous)
        for name in absent:
            self.values.pop(name, None)

    @staticmethod
    def signature(function: Any) -> list[tuple[str, str, bool]] | None:
        """(name, kind, has a default?) of each parameter, or None when there is no signature."""
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            return None
        return [(p.name, p.kind.name, p.default is not inspect.Parameter.empty) for p in parameters]

    @staticmethod
    def tracked(function: Any, args: tuple, kwargs: dict, limit: int | None) -> tuple:
        """Call ``function`` and return (result, args, kwargs) as they are afterwards, so the
        grader can tell which arguments were modified; with ``limit``, the first ``limit``
        items of the iterable it returns. Random generators come back as their state."""
        result = function(*args, **kwargs)
        if limit is not None:
            result = list(itertools.islice(iter(result), limit))

        def plain(value: Any) -> Any:
            return value.bit_generator.state if isinstance(value, np.random.Generator) else value

        return result, tuple(map(plain, args)), {k: plain(v) for k, v in kwargs.items()}

    def handlers(self) -> dict:
        return {
            "load": self.load,
            "lookup": self.lookup,
            "swap": self.swap,
            "restore": self.restore,
            "signature": self.signature,
            "tracked": self.tracked,
            "call": lambda function, args, kwargs: function(*args, **kwargs),
            "getattr": getattr,
            "setattr": setattr,
            "operate": lambda name, args: OPERATIONS[name](*args),
        }


class WorkerPeer(Peer):
    catches = BaseException  # student code: anything can happen, even SystemExit

    def __init__(self, *args: Any, printed: Printed, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.printed = printed

    def serve(self, name: str, args: Any) -> None:
        if name == "tracked":  # a call of a graded function starts afresh
            self.printed.clear()
        super().serve(name, args)

    def where(self, error: BaseException) -> str:
        where = getattr(error, "student_where", "") or student_traceback(error)
        return where + self.printed.report()


def main(argv: list[str]) -> None:
    read_fd, write_fd, scratch = int(argv[1]), int(argv[2]), Path(argv[3])
    die_with_parent()
    channel = Channel(read_fd, write_fd)
    unconfined = confine(scratch)
    sys.stdout = sys.stderr = printed = Printed()
    np.seterr(all="ignore")
    peer = WorkerPeer("worker", channel, Student().handlers(), printed=printed)
    channel.send(("ready", unconfined))
    while True:
        try:
            kind, *body = channel.receive()
        except ChannelClosed:
            return
        if kind == "request":
            peer.serve(*body)


if __name__ == "__main__":
    main(sys.argv)
