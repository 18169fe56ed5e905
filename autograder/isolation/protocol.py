"""The conversation between the grader and the student's process, as a typed interface.

Every message is a tuple whose first item is a `Kind`; a request names a `Request` (what the
grader asks of the student's process) or a `Callback` (what student code asks of the grader:
only calling a function the grader lent it). Receivers parse these names with the enums, so a
name that is not part of the protocol is refused, never dispatched.

    grader -> student   (REQUEST, Request.X, args)          student -> grader   (READY, problems)
    student -> grader   (REPLY, value) | (RAISED, RemoteError fields) | (LOADING, statement)
    student -> grader   (REQUEST, Callback.CALL, (ref, args, kwargs))  during a student call

`RemoteError` is the one type in which an exception raised by student code reaches the grader.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

STATE = "<the state the previous call returned>"  # in a sequence's calls: where the state goes


class Kind(StrEnum):
    READY = "ready"  # the student's process is confined and listening; body: what it could not confine
    REQUEST = "request"
    REPLY = "reply"
    RAISED = "raised"
    LOADING = "loading"  # about to run statement N of the notebook's definitions


class Request(StrEnum):
    """What the grader asks of the student's process (served by `worker.Student`)."""

    LOAD = "load"  # run the notebook's definitions; returns what failed
    LOOKUP = "lookup"  # (defined?, value, callable?) of a top-level name
    SIGNATURE = "signature"  # parameters of a function
    CALL = "call"  # call a function with copies; returns the result and what it changed
    SEQUENCE = "sequence"  # call a function several times, a result threaded into the next call
    RUN_PROGRAM = "program"  # build and differentiate a graph with a class (see `programs`)
    LEND = "lend"  # bind names to functions the grader lends for one check
    RECLAIM = "reclaim"  # undo LEND
    FORGET = "forget"  # drop every object the grader holds a handle to


class Gap(StrEnum):
    """A layer of the sandbox this machine did not give in full (the body of READY is a list of
    ``(Gap, sentence)``; see `autograder.isolation.sandbox`)."""

    NAMESPACES = "namespaces"
    SCRATCH = "scratch"  # the scratch folder is not a size-limited tmpfs
    LIMIT = "limit"  # a resource limit could not be set
    LOWERED = "lowered"  # a resource limit was lowered to the hard limit in force
    PRIVILEGES = "privileges"
    SECCOMP = "seccomp"
    LANDLOCK = "landlock"
    CAPABILITIES = "capabilities"


class Callback(StrEnum):
    """What student code may ask of the grader: call a function it was lent."""

    CALL = "call"


class RemoteError(Exception):
    """An exception raised by student code in its own process, as the grader sees it.

    Attributes:
        type_name: the exception's class name (``"NotImplementedError"``).
        message: its message, bounded.
        where: the notebook lines where it happened and what the call printed, for feedback.
    """

    def __init__(self, type_name: str, message: str, where: str = ""):
        super().__init__(message)
        self.type_name, self.message, self.where = type_name, message, where

    def __str__(self) -> str:
        return self.message


class ProtocolError(Exception):
    """The other side sent something that is not part of the protocol, or is gone.

    Attributes:
        refused: what it sent was refused as not plain data (too large, nested too deeply, a
            class the loader does not rebuild), rather than broken or missing.
    """

    def __init__(self, message: str, *, refused: bool = False):
        super().__init__(message)
        self.refused = refused


def parse(enum: type[Enum], value: Any) -> Any:
    """``value`` as a member of ``enum``; ProtocolError if it is not one."""
    try:
        return enum(value)
    except (ValueError, TypeError):
        raise ProtocolError(f"sent an unknown {enum.__name__.lower()} ({str(value)[:40]!r})") from None
