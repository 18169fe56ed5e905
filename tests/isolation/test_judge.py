"""The grader's side of the student's process: what comes back, what student code may call,
for how long, and how a hung or dying process is replaced. (Containment is in
test_sandbox.py; class-scale attacks in the hostile suite.)"""

from __future__ import annotations

import os
import textwrap
import time
from dataclasses import replace

import numpy as np
import pytest

from autograder.errors import CheckFailed, Trouble
from autograder.isolation import IsolatedNamespace
from autograder.isolation.wire import Handle
from autograder.limits import LIMITS
from autograder.notebook import Cell, Definitions, select_definitions

FAST = replace(LIMITS, call_seconds=1.0, load_seconds=20.0)


def definitions(code: str) -> Definitions:
    cells = [Cell(index=0, source=textwrap.dedent(code))]
    blocks, notes = select_definitions(cells)
    return Definitions(blocks, notes, {}, cells)


@pytest.fixture
def student():
    """Start an isolated namespace for some code; stopped after the test."""
    namespaces = []

    def start(code: str, **kwargs) -> IsolatedNamespace:
        namespace = IsolatedNamespace(definitions(code), limits=kwargs.pop("limits", FAST), **kwargs)
        namespaces.append(namespace)
        return namespace

    yield start
    for namespace in namespaces:
        namespace.close()


# --- what comes back ---

def test_student_objects_come_back_as_inert_handles_and_can_be_passed_back(student):
    namespace = student("""
        class Cache:
            def __float__(self):
                raise SystemExit("the grader must never ask")
            def __array__(self, *args, **kwargs):
                raise SystemExit("the grader must never ask")

        def forward(x):
            cache = Cache()
            cache.x = x
            return x * 2, cache

        def backward(dout, cache):
            return dout * cache.x
        """)
    out, cache = namespace.function("forward")(np.arange(3.0))
    assert isinstance(cache, Handle) and cache.type_name == "Cache"
    assert np.array_equal(out, [0.0, 2.0, 4.0])
    assert np.asarray(cache).dtype == object  # no protocol was called on it
    assert np.array_equal(namespace.function("backward")(np.ones(3), cache), [0.0, 1.0, 2.0])


def test_a_student_function_runs_in_another_process_with_copies(student):
    namespace = student("""
        import os
        import numpy as np

        def where():
            return os.getpid()

        def scale(x, factor):
            x *= factor
            return x

        def shuffled(n, rng):
            return rng.permutation(n)
        """)
    assert namespace.function("where")() != os.getpid()
    scale = namespace.function("scale")
    x = np.ones(3)
    assert np.array_equal(scale(x, 2.0), [2.0, 2.0, 2.0])
    assert np.array_equal(x, np.ones(3)) and scale.modified == ["x"]
    rng = np.random.default_rng(0)
    shuffled = namespace.function("shuffled")
    first, second = shuffled(10, rng), shuffled(10, rng)
    same = np.random.default_rng(0)
    assert np.array_equal(first, same.permutation(10))
    assert np.array_equal(second, same.permutation(10)), "the caller's generator should advance"


def test_a_graph_program_runs_where_the_class_lives(student):
    namespace = student("""
        class Value:
            def __init__(self, data):
                self.data, self.grad = data, 0.0
            def __add__(self, other):
                return Value(self.data + (other.data if isinstance(other, Value) else other))
            __radd__ = __add__
            def backward(self):
                self.grad = 1.0
        """)
    program = [("new", 1.5), ("op", "add", ("c", 2), 0), ("backward", 1)]
    assert namespace.run_program("Value", program, [0, 1]) == [(1.5, 0.0), (3.5, 1.0)]


# --- what student code may call back ---

def test_student_code_calls_lent_functions_with_plain_data_only(student):
    namespace = student("""
        class Sneaky:
            __array_interface__ = {"shape": (8,), "typestr": "<f8", "data": (4096, False), "version": 3}

        def train(step, state):
            for _ in range(3):
                state = step(state)
            return state

        def sneak(step):
            return step(Sneaky())
        """)
    calls = []

    def step(state):
        calls.append(state)
        return {"n": state["n"] + 1}

    assert namespace.function("train")(step, {"n": 0}) == {"n": 3}
    assert calls == [{"n": 0}, {"n": 1}, {"n": 2}]
    with pytest.raises(CheckFailed, match=r"TypeError: the grader's step takes numbers, strings, NumPy "
                                          r"arrays .* not a Sneaky"):
        namespace.function("sneak")(step)
    assert len(calls) == 3  # the grader's function never ran on it


def test_lent_functions_are_callable_and_named_nothing_more(student):
    namespace = student("""
        def peek(helper):
            return helper.__globals__

        def name_of(helper):
            return helper.__name__, repr(helper), hasattr(helper, "__code__")

        def change(helper):
            helper.__name__ = "x"
        """)

    def helper():
        return 1

    with pytest.raises(CheckFailed, match="AttributeError"):
        namespace.function("peek")(helper)
    assert namespace.function("name_of")(helper) == ("helper", "<the grader's function helper>", False)
    with pytest.raises(CheckFailed, match="cannot be changed"):
        namespace.function("change")(helper)


def test_a_lent_function_stops_working_when_its_check_ends(student):
    namespace = student("""
        KEPT = []

        def keep(helper):
            KEPT.append(helper)
            return helper(2.0)

        def later():
            return KEPT[0](3.0)
        """)
    assert namespace.function("keep")(lambda x: x * 10) == 20.0
    namespace.end_check()
    with pytest.raises(CheckFailed, match="lent for an earlier check and no longer works"):
        namespace.function("later")()


def test_lending_binds_names_only_while_the_block_runs(student):
    namespace = student("""
        def softmax(z):
            raise NotImplementedError

        def uses_softmax(z):
            return softmax(z)
        """)
    with namespace.lend({"softmax": lambda z: z + 1}):
        assert np.array_equal(namespace.function("uses_softmax")(np.zeros(2)), [1.0, 1.0])
    namespace.end_check()
    with pytest.raises(CheckFailed, match="NotImplementedError"):
        namespace.function("uses_softmax")(np.zeros(2))


def test_a_lent_function_updates_its_arguments_in_place_as_a_real_one_would(student):
    namespace = student("""
        import numpy as np

        def two_steps(optimizer, w):
            state = {}
            w, returned = optimizer(w, state)
            same = returned is state
            w, returned = optimizer(w, state)
            return w, state, same, returned is state

        def draws(sample, rng):
            first = sample(rng)
            return first, rng.random()

        def batches(make):
            return [b for b in make(3)], type(make(3)).__name__
        """)

    def optimizer(w, state):
        state["steps"] = state.get("steps", 0) + 1
        return w - 1.0, state

    w, state, same_first, same_second = namespace.function("two_steps")(optimizer, np.zeros(2))
    assert np.array_equal(w, [-2.0, -2.0]) and state == {"steps": 2} and same_first and same_second
    rng = np.random.default_rng(1)
    first, second = namespace.function("draws")(lambda r: r.random(), rng)
    expected = np.random.default_rng(1)
    assert first == expected.random() and second == expected.random()

    def make(n):
        yield from range(n)

    assert namespace.function("batches")(make) == ([0, 1, 2], "list_iterator")


# --- failures ---

def test_a_hung_call_is_stopped_and_later_calls_of_it_fail_at_once(student):
    namespace = student("""
        import signal

        def hang():
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                pass

        def fine():
            return 1
        """)
    with pytest.raises(CheckFailed, match=r"hang\(\) did not finish within 1 seconds") as first:
        namespace.function("hang")()
    assert first.value.kind is Trouble.TIMEOUT
    pid = namespace.worker.pid
    assert namespace.function("fine")() == 1
    assert namespace.restarts == 1 and namespace.worker.pid != pid
    with pytest.raises(CheckFailed, match="it hung once") as again:
        namespace.function("hang")()
    assert again.value.kind is Trouble.TIMEOUT and namespace.restarts == 1  # no second wait


def test_a_result_too_deep_or_too_big_to_send_is_explained(student):
    namespace = student("""
        import numpy as np

        def deep():
            x = []
            for _ in range(100_000):
                x = [x]
            return x

        def big():
            return np.ones(300_000)
        """, limits=replace(FAST, call_seconds=5.0, message_bytes=2**21))
    with pytest.raises(CheckFailed, match="nested too deeply"):
        namespace.function("deep")()
    with pytest.raises(CheckFailed, match=r"big\(\) sent a message of 2\.3 MB \(the limit is 2\.0 MB\)"):
        namespace.function("big")()


def test_a_call_that_ends_its_process_is_reported(student):
    namespace = student("""
        import os

        def leave():
            os._exit(3)
        """)
    with pytest.raises(CheckFailed, match=r"leave\(\) ended the grading process \(exit code 3\)") as left:
        namespace.function("leave")()
    assert left.value.kind is Trouble.CRASH


def test_a_forged_message_is_refused_not_unpickled(student, tmp_path):
    namespace = student("""
        import os, pickle, struct, sys

        class Evil:
            def __reduce__(self):
                return os.getpid, ()

        def forge():
            payload = pickle.dumps(("reply", Evil()))
            for fd in range(3, 64):  # whichever descriptor is the pipe to the grader
                try:
                    os.write(fd, struct.pack(">Q", len(payload)) + payload)
                except OSError:
                    pass
            return 0
        """)
    with pytest.raises(CheckFailed, match="not plain data") as refused:
        namespace.function("forge")()
    assert refused.value.kind is Trouble.REFUSED


def test_a_statement_that_kills_the_process_while_loading_is_skipped(student):
    namespace = student("""
        import ctypes
        CRASH = ctypes.string_at(0)

        def f():
            return 1 if True else CRASH

        Q1 = "B"
        """)
    assert namespace.function("f")() == 1 and namespace.get("Q1") == "B"
    (flag,) = namespace.flags
    assert "code cell 1, line 3 (`CRASH = ctypes.string_at(0)`)" in flag and "skipped" in flag


def test_the_notebook_failing_to_load_fails_every_check_with_the_reason(student):
    namespace = student("""
        import os
        STOP = os._exit(0)

        def f():
            return 1 if True else STOP
        """)
    assert namespace.function("f")() == 1  # the statement that ended the process was skipped
    assert any("STOP = os._exit(0)" in note for note in namespace.notes)


def test_closing_stops_the_process(student):
    namespace = student("def f():\n    return 1\n")
    pid = namespace.worker.pid
    os.kill(pid, 0)  # alive
    namespace.close()
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_process_that_cannot_start_is_reported_as_the_graders_problem(monkeypatch):
    monkeypatch.setattr("autograder.isolation.zygote.sys.executable", "/bin/false")
    monkeypatch.setattr("autograder.isolation.zygote._zygote", None)
    namespace = IsolatedNamespace(definitions("def f():\n    return 1\n"), limits=FAST)
    assert any("a problem of the grader's installation" in note for note in namespace.notes)
    with pytest.raises(CheckFailed, match="could not start"):
        namespace.function("f")


def test_a_failing_call_shows_the_start_of_what_it_printed(student):
    namespace = student("""
        def noisy():
            print("shape of x:", (3, 2))
            print("y" * 100_000)
            raise ValueError("boom")
        """)
    with pytest.raises(CheckFailed) as failure:
        namespace.function("noisy")()
    message = str(failure.value)
    assert "raised ValueError: boom" in message and "code cell 1, line 5, in noisy" in message
    assert "what it printed:\n    shape of x: (3, 2)" in message
    assert "more characters)" in message and len(message) < 600


def test_patching_numpy_there_does_not_patch_it_here(student):
    namespace = student("""
        import numpy as np

        def patch():
            np.allclose = lambda *args, **kwargs: True
            return np.allclose(0, 1)
        """)
    assert namespace.function("patch")() is True
    assert not np.allclose(0, 1)
