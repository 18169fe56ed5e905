"""What runs student code, in whichever process runs it: the student's contained process (the
official grade, `autograder.isolation.worker`), a notebook's own kernel (its test cells), or
the grading process for the reference solution.

- `run_statement` runs one kept statement of a notebook (`register_source` makes its cell's
  source known to tracebacks), within `time_limit` and with its printing bounded
  (`bounded_output`);
- `call_tracking` calls a function and tells which of its arguments it changed;
  `run_sequence` steps a function as a training loop would, its state threaded from call to
  call (`autograder.isolation.protocol.STATE` marks where);
- `same_value` compares what a call left with what it was given.

Nothing here judges student code: `autograder.namespace` (the grader's side) decides what a
failure means. The grader's side may import this module; this module imports nothing of the
grader's side (the checks, the references, the results), so the student's process never
holds them.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import itertools
import linecache
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograder.isolation.protocol import STATE
from autograder.limits import LIMITS, Limits
from autograder.notebook import Block


class BoundedOutput(io.TextIOBase):
    """A stdout/stderr replacement that keeps the first ``limit`` characters and drops the
    rest, so printing (even hundreds of megabytes) never fills memory."""

    def __init__(self, limit: int = LIMITS.printed_kept) -> None:
        self.limit = limit
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        if self.size < self.limit:
            self.kept.append(text[: self.limit - self.size])
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
def time_limit(
    seconds: float | None, raising: type[BaseException] = TimeLimitExceeded
) -> Iterator[None]:
    """Interrupt the block with ``raising`` after ``seconds`` of wall-clock time (main thread
    only).

    Elsewhere, or with ``seconds=None``, the block runs unlimited; the process-level
    timeout of the grader still applies. Without ``setitimer`` (Pyodide in the browser,
    Windows) the clock is read by a trace function instead (`autograder.traced_limit`).
    """
    if seconds and not hasattr(signal, "setitimer"):
        from autograder.traced_limit import traced_time_limit

        with traced_time_limit(seconds, raising):
            yield
        return
    usable = seconds and hasattr(signal, "setitimer")
    if not usable or threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGALRM) is not _on_alarm:  # installed once: a call costs less
        signal.signal(signal.SIGALRM, _on_alarm)
    outer = signal.getitimer(signal.ITIMER_REAL)[0]  # a limit around this one keeps running
    started = time.monotonic()
    _raising.append(raising if not outer or seconds <= outer else _raising[-1] if _raising else raising)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer else seconds)
    try:
        yield
    finally:
        left = outer - (time.monotonic() - started) if outer else 0
        signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6) if outer else 0)
        _raising.pop()


_raising: list[type[BaseException]] = []  # what the alarm raises, innermost limit last


def _on_alarm(signum: int, frame: Any) -> None:
    raise _raising[-1] if _raising else TimeLimitExceeded


def student_traceback(error: BaseException, limit: int = 3) -> str:
    """The last frames of ``error``'s traceback that lie in notebook code, formatted (for an
    error raised in the student's process, what that process found)."""
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


def register_source(block: Block, prefix: str = "") -> str:
    """Make the cell's source known to tracebacks and ``inspect``; returns its file name."""
    filename = f"<{prefix}{block.filename.strip('<>')}>"
    linecache.cache[filename] = (len(block.source), None, block.source.splitlines(keepends=True), filename)
    return filename


def run_statement(block: Block, statement: ast.stmt, values: dict, limits: Limits = LIMITS,
                  filename: str | None = None) -> tuple[str, bool] | None:
    """Run one kept statement of a notebook into ``values`` (``filename``: see
    `register_source`).

    Returns None, or (what went wrong, whether an instructor should review it): an import
    that cannot work during grading is flagged, since the student's own Jupyter had it.
    """
    filename = filename or register_source(block)
    where = f"{filename.strip('<>')}, line {statement.lineno}"
    try:
        code = compile(ast.Module(body=[statement], type_ignores=[]), filename, "exec")
        with time_limit(limits.call_seconds), bounded_output():
            exec(code, values)
    except TimeLimitExceeded:
        return (f"{where} took longer than {limits.call_seconds:g} s to run; what it defines cannot be "
                "graded", True)
    except BaseException as error:  # student code: anything can happen, even SystemExit
        message = f"{type(error).__name__}: {str(error)[:200]}"
        if isinstance(statement, ast.Import | ast.ImportFrom):
            text = ast.unparse(statement)[:80]
            return (f"{where}: `{text}` failed during grading ({message}). Graded functions may use "
                    "NumPy and Python's standard library only; the rest of your notebook is graded as usual",
                    True)
        return (f"{where} failed while defining your functions ({message}); what it defines cannot be "
                "graded", False)
    return None


Changes = tuple[list[int], list[str], dict]  # positions and keywords modified; generators' states


def call_tracking(function: Any, args: tuple, kwargs: dict, limit: int | None) -> tuple[Any, Changes]:
    """Call ``function`` and tell what it changed of its arguments: (result, (positions and
    keywords of the arguments it modified, {position or keyword: state} of the random
    generators it used)). With ``limit``, the result is the first ``limit`` items of the
    iterable it returns (a generator runs within the call)."""
    originals = [_copy_or_none(a) for a in args], {k: _copy_or_none(v) for k, v in kwargs.items()}
    result = function(*args, **kwargs)
    if limit is not None:
        result = list(itertools.islice(iter(result), limit))

    def changed(before: tuple[Any, dict], after: Any) -> bool:
        copied, memo = before
        return copied is not _UNCOPYABLE and not isinstance(after, np.random.Generator) \
            and not (same_value(copied, after, objects=False) and arrays_kept(memo))

    positions = [i for i, (a, b) in enumerate(zip(originals[0], args, strict=True)) if changed(a, b)]
    keywords = [k for k, v in kwargs.items() if changed(originals[1][k], v)]
    generators = {key: value.bit_generator.state for key, value in (*enumerate(args), *kwargs.items())
                  if isinstance(value, np.random.Generator)}
    return result, (positions, keywords, generators)


def run_sequence(function: Any, calls: list[tuple[tuple, dict]], threaded: int, reuse: bool = False) -> list:
    """Call ``function`` once per (args, kwargs) in ``calls``; the ``STATE`` placeholder among
    the arguments is item ``threaded`` of what the previous call returned (for the first call,
    an empty dict): an optimizer stepped as a training loop would. Returns every result; stops
    early when a result cannot be threaded (the caller then looks at that step on its own).

    With ``reuse``, the caller keeps one array per positional argument, as a training loop that
    reuses its parameter and gradient buffers does: each call's arrays are written into the
    first call's, in place, after the previous call has returned. (Each result is then kept as
    it was when it was returned.)"""
    state: Any = {}
    results = []
    buffers: dict[int, np.ndarray] = {}
    for args, kwargs in calls:
        args = tuple(state if isinstance(a, str) and a == STATE else a for a in args)
        if reuse:
            args = tuple(_written_into(buffers, i, a) for i, a in enumerate(args))
        result = function(*args, **kwargs)
        results.append(_kept(result) if reuse else result)
        if not isinstance(result, tuple | list) or len(result) <= threaded:
            break
        state = result[threaded]
    return results


def _written_into(buffers: dict[int, np.ndarray], position: int, value: Any) -> Any:
    """``value`` written into the array the caller keeps for ``position`` (the first call's)."""
    if not isinstance(value, np.ndarray):
        return value
    held = buffers.setdefault(position, value)
    if held is not value and held.shape == value.shape and held.dtype == value.dtype:
        held[...] = value
        return held
    return value


def _kept(result: Any) -> Any:
    """``result`` as it is now, unaffected by later writes into the caller's arrays."""
    try:
        return copy.deepcopy(result)
    except Exception:
        return result


_UNCOPYABLE = object()


def _copy_or_none(value: Any) -> tuple[Any, dict]:
    """A deep copy to compare with after a call, and the copy's memo (which original became which
    copy); a value that cannot be copied (a lent function, an object holding a file) is not
    compared."""
    memo: dict = {}
    try:
        return copy.deepcopy(value, memo), memo
    except Exception:
        return _UNCOPYABLE, {}


def arrays_kept(memo: dict) -> bool:
    """Whether every array the copy in ``memo`` was made of still holds what it held then: an
    argument's arrays written into in place, wherever they sit (in a student's object too)."""
    return all(same_value(memo[id(original)], original)
               for original in memo.get(id(memo), ()) if isinstance(original, np.ndarray))


def same_value(a: Any, b: Any, objects: bool = True) -> bool:
    """Whether ``b`` is still equal to ``a`` (arrays element-wise, NaN equal to NaN). Without
    ``objects``, objects of the student's own classes count as equal: what they hold is theirs to
    change (a layer keeping its gradients), and their arrays are watched by `arrays_kept`."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and (a.tobytes() == b.tobytes() or bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], objects) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y, objects) for x, y in zip(a, b, strict=True))
    if type(a) is type(b) and hasattr(a, "__dict__") and not isinstance(a, type):
        return not objects or same_value(vars(a), vars(b))  # a student's object, by its fields
    try:
        return bool(a == b)
    except Exception:
        return a is b
