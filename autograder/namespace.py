"""A notebook's definitions in this process, and calling student functions safely.

`execute` runs what `autograder.notebook` kept, one statement at a time, so a failing
import costs only the names it defines. `Namespace` is the result (the reference solution,
or a notebook's own kernel during a self-check); `autograder.isolation.IsolatedNamespace`
offers the same interface for a notebook run in its own contained process.

`StudentFunction` wraps each graded function so that a check can call it without trusting
it: arguments are copied (a function that writes into its inputs cannot corrupt the check's
data, and we can tell that it tried), a call that runs too long is stopped, and any
exception becomes a `CheckFailed` whose message a student can act on. `student_code` is the
one place that decides what a failure of student code means.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import inspect
import io
import itertools
import linecache
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder.checks.compare import describe
from autograder.errors import CheckFailed, Trouble
from autograder.isolation.protocol import RemoteError
from autograder.limits import LIMITS, Limits
from autograder.notebook import Block, Definitions, load_definitions
from autograder.programs import run_program
from autograder.results import strip_addresses


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


@dataclass
class Namespace:
    """The executed definitions of one notebook, in this process.

    Attributes:
        values: name -> object, as the notebook's global namespace.
        notes: problems found while loading (syntax errors, failing top-level code).
        flags: problems an instructor should look at (an import that cannot work here).
        metadata: the notebook's metadata.
        label: how messages refer to the notebook ("your notebook", "the reference").
    """

    values: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    label: str = "your notebook"
    limits: Limits = LIMITS
    hung: dict[str, CheckFailed] = field(default_factory=dict)
    wrapped: dict[str, StudentFunction] = field(default_factory=dict, repr=False)

    def get(self, name: str) -> Any:
        """The object called ``name``; CheckFailed if the notebook does not define it."""
        if name not in self.values:
            raise not_defined(name, self.label, self.notes)
        return self.values[name]

    def function(self, name: str) -> StudentFunction:
        """``name`` wrapped as a StudentFunction; CheckFailed if it is missing or not callable."""
        value = self.get(name)
        if not callable(value):
            raise CheckFailed(
                f"{name} in {self.label} should be a function, but it is a {type(value).__name__}."
            )
        known = self.wrapped.get(name)
        if known is None or known.function is not value:  # inspecting a signature costs: once
            known = self.wrapped[name] = StudentFunction(name, value, limits=self.limits)
        return known

    def run_program(self, class_name: str, program: list, reads: list[int]) -> list:
        """Build and differentiate a graph with the notebook's class (see `autograder.programs`)."""
        return run_program(self.get(class_name), program, reads)

    def remember_hang(self, name: str, failure: CheckFailed) -> None:
        """In a notebook's own kernel every call gets its own time limit: nothing to remember."""

    @contextmanager
    def lend(self, functions: dict[str, Any]) -> Iterator[None]:
        """Rebind names in the namespace while the block runs.

        The notebook's functions read their globals from ``values`` at call time, so
        swapping entries there is enough; they are restored afterwards.
        """
        missing = object()
        saved = {name: self.values.get(name, missing) for name in functions}
        self.values.update(functions)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is missing:
                    self.values.pop(name, None)
                else:
                    self.values[name] = value

    def end_check(self) -> str | None:
        return None

    def close(self) -> None:
        pass


def not_defined(name: str, label: str, notes: list[str]) -> CheckFailed:
    """The feedback for a graded name that the notebook does not define."""
    hint = f" ({'; '.join(notes)})" if notes else ""
    return CheckFailed(
        f"{name} is not defined in {label}{hint}. Make sure the cell that "
        f"defines {name} is still there and keeps the name given in the assignment."
    )


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


def execute(definitions: Definitions, label: str = "your notebook", limits: Limits = LIMITS) -> Namespace:
    """Execute ``definitions`` statement by statement into a fresh namespace.

    A statement that fails (an import that is not installed, say) adds a note and costs only
    the names it defines; grading goes on with everything else.
    """
    values: dict[str, Any] = {"__name__": "__submission__", "__builtins__": __builtins__}
    notes, flags = list(definitions.notes), []
    prefix = "" if label == "your notebook" else "reference "  # two notebooks, one process
    for block in definitions.blocks:
        filename = register_source(block, prefix)
        for statement in block.tree.body:
            problem = run_statement(block, statement, values, limits, filename)
            if problem:
                notes.append(problem[0])
                if problem[1]:
                    flags.append(problem[0])
    return Namespace(values=values, notes=notes, flags=flags, metadata=definitions.metadata, label=label,
                     limits=limits)


def load_namespace(path: str | Path, label: str = "your notebook") -> Namespace:
    """Load and execute the definitions of the notebook at ``path``.

    Raises NotebookError when the file cannot be read as a notebook.
    """
    return execute(load_definitions(path), label=label)


class StudentFunction:
    """A student's function that checks can call without trusting it.

    Each call passes copies of the arguments. Afterwards ``modified`` lists the parameters
    whose copies the function changed, so a check can tell it wrote into its inputs while
    its other checks still see clean data.

    Args:
        name: the graded name, for feedback.
        function: the function (or, for one in the student's process, its handle).
        signature: its parameters, when ``inspect`` cannot find them itself (a handle).
        caller: ``(args, kwargs, limit) -> (result, args, kwargs)`` as they are after the
            call; the default calls ``function`` here, on deep copies.
        on_timeout: told the failure when a call runs out of time (later calls repeat it).
        sequencer: ``(calls, threaded) -> results`` for `sequence`, in the student's process.
    """

    def __init__(self, name: str, function: Any, limits: Limits = LIMITS,
                 signature: inspect.Signature | None = None, caller: Callable | None = None,
                 on_timeout: Callable[[CheckFailed], Any] | None = None,
                 sequencer: Callable | None = None):
        self.name = name
        self.function = function
        self.limits = limits
        self.caller = caller or self._call_here
        self.sequencer = sequencer
        self.on_timeout = on_timeout
        self.modified: list[str] = []  # parameter names, after each call
        self.modified_positions: list[int] = []  # the same, as positions of positional arguments
        self.signature = signature
        if signature is None and caller is None:
            with contextlib.suppress(TypeError, ValueError):
                self.signature = inspect.signature(function)

    def _parameter_names(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        names = self._positional_names()
        if names is not None and len(args) <= len(names) and not kwargs.keys() & set(names[: len(args)]):
            return dict(zip(names, args, strict=False)) | kwargs  # what bind gives, without its cost
        try:
            return dict(self.signature.bind(*args, **kwargs).arguments)
        except (AttributeError, TypeError):
            named = {f"argument {i + 1}": a for i, a in enumerate(args)}
            return named | kwargs

    def _positional_names(self) -> list[str] | None:
        """The parameters' names when none is positional-only or variadic (else None)."""
        if not hasattr(self, "_names"):
            plain = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
            parameters = self.signature.parameters.values() if self.signature else None
            self._names = (
                [p.name for p in parameters if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
                if parameters is not None and all(p.kind in plain for p in parameters)
                else None
            )
        return self._names

    def _call_here(self, args: tuple, kwargs: dict, limit: int | None) -> tuple[Any, Changes]:
        args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)  # the check keeps its own data
        return call_tracking(self.function, args, kwargs, limit)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._run(args, kwargs, None)

    def sequence(self, calls: list[tuple[tuple, dict]], threaded: int) -> list:
        """Results of calling the function once per (args, kwargs), threading item ``threaded``
        of each result into the next call in place of ``STATE`` (see `run_sequence`): many
        calls in one exchange with the student's process. Nothing tells which arguments were
        modified: a check that needs that, or a failure's place, calls one step at a time."""
        def call() -> str:
            return f"{self.name}, called {len(calls)} times in a row"

        local = self.sequencer is None
        try:
            with student_code(call, self.name, self.limits.call_seconds, local=local):
                if local:
                    return run_sequence(self.function, copy.deepcopy(calls), threaded)
                return self.sequencer(calls, threaded)
        except CheckFailed as failure:
            self._report_hang(failure)
            raise

    def _report_hang(self, failure: CheckFailed) -> None:
        """Tell ``on_timeout`` that this function hung, so later checks of it stop at once."""
        if failure.kind is Trouble.TIMEOUT and self.on_timeout is not None:
            self.on_timeout(CheckFailed(
                f"{failure} (Every later check of {self.name} stops at once: it hung once.)",
                kind=Trouble.TIMEOUT))

    def collect(self, limit: int, *args: Any, **kwargs: Any) -> list:
        """Call the function and return the first ``limit`` items of the iterable it returns
        (a generator runs inside the same time limit and `modified` covers it too)."""
        return self._run(args, kwargs, limit)

    def _run(self, args: tuple, kwargs: dict, limit: int | None) -> Any:
        def call() -> str:  # only formatted when something goes wrong
            return f"{self.name}({describe_arguments(self._parameter_names(args, kwargs))})"

        try:
            local = self.caller == self._call_here
            with student_code(call, self.name, self.limits.call_seconds, local=local):
                result, (positions, keywords, generators) = self.caller(args, kwargs, limit)
        except CheckFailed as failure:
            self._report_hang(failure)
            raise
        share_random_state(args, kwargs, generators)
        names = list(self._parameter_names(args, kwargs))
        self.modified_positions = [i for i in positions if type(i) is int and 0 <= i < len(args)]
        self.modified = [names[i] for i in self.modified_positions if i < len(names)]
        self.modified += [key for key in keywords if key in kwargs]
        return result


class WorkerLost(CheckFailed):
    """The student's process ended, hung, or sent something that is not plain data."""


@contextmanager
def student_code(
    what: str | Callable[[], str], name: str, seconds: float | None = None, local: bool = True
) -> Iterator[None]:
    """Run a block that executes student code; turn whatever goes wrong into feedback.

    This is the one place that decides what a failure of student code means.

    Args:
        what: the code in words, for messages (``"mse(y_pred=..., y_true=...)"``), or a
            function that makes them (called only when something goes wrong).
        name: the graded function or class, for the "not implemented" message.
        seconds: wall-clock limit for the block (default: the call limit).
        local: whether student code runs in this process (its printing and NumPy warnings
            are then kept in bounds here); a call to the student's process needs the clock only.
    Raises:
        CheckFailed: the block raised, ran out of time, or is still a stub; its ``kind``
            says whether the code hung or crashed its process.
    """
    seconds = LIMITS.call_seconds if seconds is None else seconds

    def described() -> str:
        return what() if callable(what) else what

    try:
        with time_limit(seconds), (np.errstate(all="ignore") if local else contextlib.nullcontext()), \
                (bounded_output() if local else contextlib.nullcontext()):
            yield
    except TimeLimitExceeded:
        raise CheckFailed(
            f"{described()} did not finish within {seconds:g} seconds. "
            "Look for a loop that never ends (or one that runs far too many times).",
            kind=Trouble.TIMEOUT,
        ) from None
    except WorkerLost as lost:
        raise CheckFailed(f"{described()} {lost}", kind=lost.kind or Trouble.CRASH) from None
    except CheckFailed:
        raise
    except RemoteError as error:
        raise failure_of(error.type_name, error.message, error.where, described(), name) from None
    except BaseException as error:  # student code in this process: report, never crash the grader
        raise failure_of(type(error).__name__, str(error), student_traceback(error), described(),
                         name) from None


def failure_of(type_name: str, message: str, where: str, call: str, name: str) -> CheckFailed:
    """The feedback for student code that raised ``type_name: message`` during ``call``."""
    message, where = strip_addresses(message), strip_addresses(where)
    if type_name == "NotImplementedError":
        stub = "" if not message else f" ({message[:200]})"
        return CheckFailed(
            f"{call} raised NotImplementedError{stub}: {name} is not implemented yet (or not for these "
            "arguments). Replace the `raise NotImplementedError()` line with your code."
        )
    if type_name == "RecursionError":
        if where == "":  # not in the notebook: sending its result
            return CheckFailed(
                f"{call} returned something nested too deeply to be graded (a list inside a list, "
                "thousands of levels deep). Return arrays, numbers or flat lists and dicts."
            )
        return CheckFailed(
            f"{call} raised RecursionError: maximum recursion depth exceeded. A function that calls "
            "itself once per node cannot handle a graph 1,000 nodes deep at Python's default recursion "
            "limit: walk the graph with an explicit stack (a loop) instead, or raise the limit with "
            "sys.setrecursionlimit."
        )
    text = f"{call} raised {type_name}: {message}"
    if where.startswith("\n"):  # no frame in the notebook, only what it printed
        text += where
    elif where:
        text += f"\n  where it happened:\n{where}"
    return CheckFailed(text)


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

    def changed(before: Any, after: Any) -> bool:
        return before is not _UNCOPYABLE and not isinstance(after, np.random.Generator) \
            and not same_value(before, after)

    positions = [i for i, (a, b) in enumerate(zip(originals[0], args, strict=True)) if changed(a, b)]
    keywords = [k for k, v in kwargs.items() if changed(originals[1][k], v)]
    generators = {key: value.bit_generator.state for key, value in (*enumerate(args), *kwargs.items())
                  if isinstance(value, np.random.Generator)}
    return result, (positions, keywords, generators)


STATE = "<the state the previous call returned>"  # a placeholder in the calls of a sequence


def run_sequence(function: Any, calls: list[tuple[tuple, dict]], threaded: int) -> list:
    """Call ``function`` once per (args, kwargs) in ``calls``; the ``STATE`` placeholder among
    the arguments is item ``threaded`` of what the previous call returned (for the first call,
    an empty dict): an optimizer stepped as a training loop would. Returns every result; stops
    early when a result cannot be threaded (the caller then looks at that step on its own)."""
    state: Any = {}
    results = []
    for args, kwargs in calls:
        args = tuple(state if isinstance(a, str) and a == STATE else a for a in args)
        result = function(*args, **kwargs)
        results.append(result)
        if not isinstance(result, tuple | list) or len(result) <= threaded:
            break
        state = result[threaded]
    return results


_UNCOPYABLE = object()


def _copy_or_none(value: Any) -> Any:
    """A deep copy to compare with after a call; a value that cannot be copied (a lent function,
    an object holding a file) is not compared."""
    try:
        return copy.deepcopy(value)
    except Exception:
        return _UNCOPYABLE


def share_random_state(args: tuple, kwargs: dict, generators: dict) -> None:
    """Advance the caller's NumPy generators as far as the function advanced its copies (their
    states in ``generators``, by position or keyword), as if it had used the caller's own: an
    epoch that shuffles with ``rng`` leaves the next epoch a different order."""
    for key, state in generators.items() if isinstance(generators, dict) else ():
        original = args[key] if type(key) is int and 0 <= key < len(args) else kwargs.get(key)
        if isinstance(original, np.random.Generator):
            with contextlib.suppress(TypeError, ValueError, KeyError):
                original.bit_generator.state = state


def describe_arguments(arguments: dict[str, Any]) -> str:
    """``y_pred=array (4, 3), y_true=array (4, 3)``: a call, short enough for feedback."""
    return ", ".join(f"{name}={describe(value)}" for name, value in arguments.items())


def same_value(a: Any, b: Any) -> bool:
    """Whether ``b`` is still equal to ``a`` (arrays element-wise, NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and (a.tobytes() == b.tobytes() or bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is type(b) and hasattr(a, "__dict__") and not isinstance(a, type):
        return same_value(vars(a), vars(b))  # an object of the student's own class, by its fields
    try:
        return bool(a == b)
    except Exception:
        return a is b


__all__ = [
    "Namespace",
    "StudentFunction",
    "WorkerLost",
    "execute",
    "load_namespace",
    "student_code",
    "time_limit",
]
