"""The self-checks' time limit where there is no alarm signal (Pyodide in the browser, Windows):
a trace function stops a student's endless loop with the usual feedback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import ROOT

from autograder import traced_limit
from autograder.traced_limit import traced_time_limit


class Outer(BaseException):
    pass


class Inner(BaseException):
    pass


def spin() -> None:
    while True:
        pass


def spin_calling() -> None:
    while True:
        abs(-1)


def spin_swallowing() -> None:
    """A loop that catches Exception: the limit is a BaseException, so it still gets out."""
    while True:
        try:  # noqa: SIM105 (written as a student would)
            spin()
        except Exception:
            pass


@pytest.mark.parametrize("loop", [spin, spin_calling, spin_swallowing])
def test_an_endless_loop_is_stopped_in_time(loop):
    started = time.monotonic()
    with pytest.raises(Outer), traced_time_limit(0.2, Outer):
        loop()
    assert 0.2 <= time.monotonic() - started < 2
    assert sys.gettrace() is None


def test_nested_limits_raise_whichever_ends_first():
    with pytest.raises(Outer), traced_time_limit(0.2, Outer), traced_time_limit(30, Inner):
        spin()
    started = time.monotonic()
    with pytest.raises(Outer), traced_time_limit(0.6, Outer):
        with pytest.raises(Inner), traced_time_limit(0.1, Inner):
            spin()
        assert time.monotonic() - started < 0.5
        spin()  # the outer limit still runs after the inner one ended


def test_a_tracer_that_was_there_is_put_back():
    seen = []

    def tracer(frame, event, arg):
        seen.append(event)

    sys.settrace(tracer)
    try:
        with pytest.raises(Outer), traced_time_limit(0.1, Outer):
            spin()
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)


def test_finished_work_is_untouched_and_library_lines_are_not_traced():
    with traced_time_limit(5, Outer):
        total = sum(range(1000))
        assert np.allclose(np.linalg.inv(np.eye(3)), np.eye(3))
    assert total == 499500
    assert not traced_limit._is_students(np.testing.assert_allclose.__code__)
    assert not traced_limit._is_students(traced_limit._trace.__code__)
    assert traced_limit._is_students(spin.__code__)


def test_a_self_check_stops_an_endless_loop_without_alarm_signals(tmp_path):
    """As in the browser: no signal.setitimer; the test cell still ends with the feedback."""
    script = tmp_path / "cell.py"
    script.write_text(textwrap.dedent("""
        import signal
        del signal.setitimer  # as in Pyodide
        import numpy as np
        from autograder import check

        def mse(y_pred, y_true):
            total = 0.0
            while True:
                total += 1.0

        try:
            check("01_losses", "mse")
        except Exception as failure:
            print(type(failure).__name__, failure)
    """))
    env = os.environ | {"AUTOGRADER_CALL_TIMEOUT": "1", "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                         timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "CheckFailed" in run.stdout and "did not finish within 1 seconds" in run.stdout, run.stdout
    assert "Look for a loop that never ends" in run.stdout
    assert time.monotonic() - started < 60
