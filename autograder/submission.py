"""Run a notebook's definitions and call its functions safely.

`load_namespace` executes what `autograder.notebook` kept; `StudentFunction` wraps each
function so that a check can call it without trusting it: arguments are copied (a
function that writes into its inputs cannot corrupt the check's data, and we can tell
that it tried), a call that runs too long is stopped, and any exception becomes a
`CheckFailed` whose message a student can act on.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import linecache
import os
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.checks.compare import CheckFailed, describe
from autograder.notebook import Definitions, NotebookError, load_definitions

# seconds for one call of a student function (the environment variable lets tests shorten it)
CALL_TIME_LIMIT = float(os.environ.get("AUTOGRADER_CALL_TIMEOUT", "10"))


OUTPUT_LIMIT = 10_000  # characters of a student's printing kept per block of student code


class BoundedOutput(io.TextIOBase):
    """A stdout/stderr replacement that keeps the first ``OUTPUT_LIMIT`` characters and drops
    the rest, so printing (even hundreds of megabytes) never fills the grader's memory."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.size < OUTPUT_LIMIT:
            self.kept.append(str(text)[: OUTPUT_LIMIT - self.size])
        self.size += len(text)
        return len(text)


# True while grading; the notebook's own test cells turn it off so students see their prints.
BOUND_OUTPUT = True


@contextmanager
def bounded_output() -> Iterator[None]:
    if not BOUND_OUTPUT:
        yield
        return
    output = BoundedOutput()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        yield


class TimeLimitExceeded(BaseException):
    """Raised inside student code when its time is up (a BaseException so that a bare
    ``except Exception`` in student code cannot swallow it)."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` of wall-clock time (main thread only).

    Elsewhere, or with ``seconds=None``, the block runs unlimited; the process-level
    timeout of the grader still applies.
    """
    usable = seconds and hasattr(signal, "setitimer")
    if not usable or threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise TimeLimitExceeded

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def student_traceback(error: BaseException, limit: int = 3) -> str:
    """The last frames of ``error``'s traceback that lie in notebook code, formatted."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename.startswith("<") and "cell" in frame.filename
    ]
    lines = []
    for frame in frames[-limit:]:
        where = frame.filename.strip("<>")
        line = f"    {where}, line {frame.lineno}, in {frame.name}"
        if frame.line:
            line += f": {frame.line.strip()}"
        lines.append(line)
    return "\n".join(lines)


@dataclass
class Namespace:
    """The executed definitions of one notebook.

    Attributes:
        values: name -> object, as the notebook's global namespace.
        notes: problems found while loading (syntax errors, failing top-level code).
        metadata: the notebook's metadata.
        label: how messages refer to the notebook ("your notebook", "the reference").
    """

    values: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    label: str = "your notebook"

    def get(self, name: str) -> Any:
        """The object called ``name``; CheckFailed if the notebook does not define it."""
        if name not in self.values:
            hint = ""
            if self.notes:
                hint = " (" + "; ".join(self.notes) + ")"
            raise CheckFailed(
                f"{name} is not defined in {self.label}{hint}. Make sure the cell that "
                f"defines {name} is still there and keeps the name given in the assignment."
            )
        return self.values[name]

    def function(self, name: str) -> StudentFunction:
        """``name`` wrapped as a StudentFunction; CheckFailed if it is missing or not callable."""
        value = self.get(name)
        if not callable(value):
            raise CheckFailed(
                f"{name} in {self.label} should be a function, but it is a {type(value).__name__}."
            )
        return StudentFunction(name, value)


def execute(definitions: Definitions, label: str = "your notebook") -> Namespace:
    """Execute ``definitions`` cell by cell into a fresh namespace.

    A cell whose kept code fails (an import that is not installed, say) adds a note and
    grading goes on with whatever the other cells define.
    """
    prefix = "reference " if label != "your notebook" else ""
    values: dict[str, Any] = {"__name__": "__submission__", "__builtins__": __builtins__}
    notes = list(definitions.notes)
    for block in definitions.blocks:
        filename = f"<{prefix}{block.filename.strip('<>')}>"
        lines = block.source.splitlines(keepends=True)
        linecache.cache[filename] = (len(block.source), None, lines, filename)
        try:
            code = compile(block.tree, filename, "exec")
            with time_limit(CALL_TIME_LIMIT), bounded_output():
                exec(code, values)
        except TimeLimitExceeded:
            notes.append(f"{filename.strip('<>')} took longer than {CALL_TIME_LIMIT:g} s to run")
        except BaseException as error:  # student code: anything can happen, even SystemExit
            where = student_traceback(error, limit=1).strip()
            notes.append(
                f"{filename.strip('<>')} failed while defining its functions "
                f"({type(error).__name__}: {error}; {where})"
            )
    return Namespace(values=values, notes=notes, metadata=definitions.metadata, label=label)


def load_namespace(path: str | Path, label: str = "your notebook") -> Namespace:
    """Load and execute the definitions of the notebook at ``path``.

    Raises NotebookError when the file cannot be read as a notebook.
    """
    return execute(load_definitions(path), label=label)


class StudentFunction:
    """A student's function that checks can call without trusting it.

    Each call passes deep copies of the arguments. Afterwards ``modified`` lists the
    parameters whose copies the function changed, so a check can tell it wrote into its
    inputs while its other checks still see clean data.
    """

    def __init__(self, name: str, function: Callable, time_limit: float = CALL_TIME_LIMIT):
        self.name = name
        self.function = function
        self.time_limit = time_limit
        self.modified: list[str] = []
        try:
            self.signature: inspect.Signature | None = inspect.signature(function)
        except (TypeError, ValueError):
            self.signature = None

    def _parameter_names(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        try:
            return dict(self.signature.bind(*args, **kwargs).arguments)
        except (AttributeError, TypeError):
            named = {f"argument {i + 1}": a for i, a in enumerate(args)}
            return named | kwargs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arg_copies = copy.deepcopy(args)
        kwarg_copies = copy.deepcopy(kwargs)
        def call() -> str:  # only formatted when something goes wrong
            return f"{self.name}({describe_arguments(self._parameter_names(args, kwargs))})"

        with student_code(call, self.name, self.time_limit):
            result = self.function(*arg_copies, **kwarg_copies)
        before = self._parameter_names(args, kwargs)
        after = self._parameter_names(arg_copies, kwarg_copies)
        self.modified = [name for name in before if not _same(before[name], after.get(name))]
        return result


@contextmanager
def student_code(
    what: str | Callable[[], str], name: str, seconds: float = CALL_TIME_LIMIT
) -> Iterator[None]:
    """Run a block that executes student code; turn whatever goes wrong into feedback.

    Args:
        what: the code in words, for messages (``"mse(y_pred=..., y_true=...)"``), or a
            function that makes them (called only when something goes wrong).
        name: the graded function or class, for the "not implemented" message.
        seconds: wall-clock limit for the block.
    Raises:
        CheckFailed: the block raised, ran out of time, or is still a stub.
    """
    def described() -> str:
        return what() if callable(what) else what

    try:
        with time_limit(seconds), np.errstate(all="ignore"), bounded_output():
            yield
    except NotImplementedError:
        raise CheckFailed(
            f"{name} is not implemented yet: it still raises NotImplementedError. "
            "Replace the `raise NotImplementedError()` line with your code."
        ) from None
    except TimeLimitExceeded:
        raise CheckFailed(
            f"{described()} did not finish within {seconds:g} seconds. "
            "Look for a loop that never ends (or one that runs far too many times)."
        ) from None
    except CheckFailed:
        raise
    except RecursionError:
        raise CheckFailed(
            f"{described()} raised RecursionError: maximum recursion depth exceeded. A function that "
            "calls itself once per node cannot handle a graph 1,000 nodes deep at Python's "
            "default recursion limit: walk the graph with an explicit stack (a loop) instead, "
            "or raise the limit with sys.setrecursionlimit."
        ) from None
    except BaseException as error:  # student code: report, never crash the grader
        where = student_traceback(error)
        message = f"{described()} raised {type(error).__name__}: {error}"
        if where:
            message += f"\n  where it happened:\n{where}"
        raise CheckFailed(message) from None


def describe_arguments(arguments: dict[str, Any]) -> str:
    """``y_pred=array (4, 3), y_true=array (4, 3)``: a call, short enough for feedback."""
    return ", ".join(f"{name}={describe(value)}" for name, value in arguments.items())


def _same(a: Any, b: Any) -> bool:
    """Whether ``b`` is still equal to ``a`` (arrays element-wise, NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        return bool(a == b)
    except Exception:
        return a is b


__all__ = [
    "Namespace",
    "NotebookError",
    "StudentFunction",
    "execute",
    "load_namespace",
    "student_code",
    "time_limit",
]
