"""The grader's side of student code: a notebook's definitions, and calling its functions safely.

`execute` runs what `autograder.notebook` kept, one statement at a time, so a failing
import costs only the names it defines. `Namespace` is the result (the reference solution,
or a notebook's own kernel during a self-check); `autograder.isolation.IsolatedNamespace`
offers the same interface for a notebook run in its own contained process.

`StudentFunction` wraps each graded function so that a check can call it without trusting
it: arguments are copied (a function that writes into its inputs cannot corrupt the check's
data, and we can tell that it tried), a call that runs too long is stopped, and any
exception becomes a `CheckFailed` whose message a student can act on. `student_code` is the
one place that decides what a failure of student code means.

What runs the student's code itself lives in `autograder.running`, imported by the student's
process too; this module is the grader's (it imports the checks' comparisons), and what crosses
between the two is in `autograder.isolation.protocol`.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
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
from autograder.notebook import Definitions, load_definitions
from autograder.programs import run_program
from autograder.results import strip_addresses
from autograder.running import (
    Changes,
    TimeLimitExceeded,
    bounded_output,
    call_tracking,
    register_source,
    run_sequence,
    run_statement,
    student_traceback,
    time_limit,
)


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
        sequencer: ``(calls, threaded, reuse) -> results`` for `sequence`, in the student's process.
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

    def sequence(self, calls: list[tuple[tuple, dict]], threaded: int, reuse: bool = False) -> list:
        """Results of calling the function once per (args, kwargs), threading item ``threaded``
        of each result into the next call in place of ``STATE`` (see `run_sequence`, also for
        ``reuse``): many calls in one exchange with the student's process. Nothing tells which
        arguments were modified: a check that needs that, or a failure's place, calls one step
        at a time."""
        def call() -> str:
            return f"{self.name}, called {len(calls)} times in a row"

        local = self.sequencer is None
        try:
            with student_code(call, self.name, self.limits.call_seconds, local=local):
                if local:
                    return run_sequence(self.function, copy.deepcopy(calls), threaded, reuse=reuse)
                return self.sequencer(calls, threaded, reuse)
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


__all__ = [
    "Namespace",
    "StudentFunction",
    "WorkerLost",
    "execute",
    "load_namespace",
    "student_code",
]
