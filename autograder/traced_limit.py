"""A time limit for Pythons without alarms or threads.

In the browser (Pyodide in JupyterLite) a notebook's self-check has no ``signal.setitimer``,
no threads and no subprocesses, and on Windows there is no ``setitimer`` either. A loop that
never ends must still be stopped, with the same feedback as anywhere else. So while a limit
runs, a trace function (``sys.settrace``) looks at the clock whenever a function starts and,
in code that is not the checks', NumPy's or the standard library's, on every line; once the
time is up it raises in the code that is running.

What it cannot stop is a single call into C that never returns (a huge NumPy allocation, a
``time.sleep``), nor, before Python 3.12, a loop written on one line (``while True: pass``
has no line events there): the kernel then has to be interrupted or restarted, as the
assignments page says. Tracing slows the student's own pure-Python lines (up to about 5x for
a loop that does next to nothing per line); library code runs at full speed.

Limits nest as ``autograder.running.time_limit``'s do: whichever ends first raises its
exception.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any

import numpy as np

# Code that is never the student's: its lines are not traced (its calls still are), which
# keeps the cost of the limit to the student's own code.
_LIBRARIES = tuple(
    os.path.dirname(path) + os.sep
    for path in (os.path.dirname(__file__) + os.sep, np.__file__, os.__file__)
)

_limits: list[tuple[float, type[BaseException]]] = []  # (deadline, what it raises), innermost last
_first: tuple[float, type[BaseException]] | None = None  # the limit that ends first
_watched: dict[CodeType, bool] = {}


def _is_students(code: CodeType) -> bool:
    known = _watched.get(code)
    if known is None:
        known = _watched[code] = not code.co_filename.startswith(_LIBRARIES)
    return known


def _trace(frame: FrameType, event: str, arg: Any) -> Any:
    if _first is not None and time.monotonic() > _first[0]:
        raise _first[1]  # CPython unsets a trace function that raises: the limit is spent
    if event == "call" and not _is_students(frame.f_code):
        return None  # no line events in library code
    return _trace


@contextmanager
def traced_time_limit(seconds: float, raising: type[BaseException]) -> Iterator[None]:
    """Raise ``raising`` in the block's Python code once ``seconds`` of wall time have passed."""
    global _first
    previous = sys.gettrace()
    _limits.append((time.monotonic() + seconds, raising))
    _first = min(_limits, key=lambda limit: limit[0])
    sys.settrace(_trace)
    try:
        yield
    finally:
        _limits.pop()
        _first = min(_limits, key=lambda limit: limit[0]) if _limits else None
        sys.settrace(previous)
