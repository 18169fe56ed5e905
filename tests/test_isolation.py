"""The student's process: what crosses to the grader, what student code can reach, and how a
hung or dying process is replaced. (The class-scale cases are in test_hostile.py.)"""

from __future__ import annotations

import os
import pickle
import textwrap
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from conftest import SOLUTIONS

from autograder.checks.compare import CheckFailed
from autograder.isolation import IsolatedNamespace
from autograder.isolation.sandbox import landlock_abi
from autograder.isolation.wire import Array, Ref, decode, encode, load_untrusted
from autograder.notebook import Cell, Definitions, select_definitions

needs_landlock = pytest.mark.skipif(not landlock_abi(), reason="this kernel has no Landlock")


def definitions(code: str) -> Definitions:
    cells = [Cell(index=0, source=textwrap.dedent(code))]
    blocks, notes = select_definitions(cells)
    return Definitions(blocks, notes, {}, cells)


@pytest.fixture
def student(request):
    """An isolated namespace for the code in the test's ``code`` marker."""
    namespaces = []

    def start(code: str) -> IsolatedNamespace:
        namespace = IsolatedNamespace(definitions(code))
        namespaces.append(namespace)
        return namespace

    yield start
    for namespace in namespaces:
        namespace.close()


# --- the wire ---

class Evil:
    def __reduce__(self):
        return os.system, ("echo pwned",)


def test_untrusted_messages_may_hold_plain_data_only():
    data = {"a": np.arange(6.0).reshape(2, 3).T, "b": [np.float64(2.5), 3, "x", None, (1, 2)],
            "c": {1.5, 2.5}, "d": np.array([True, False])}
    sent = pickle.dumps(encode(data, export=None), protocol=5)
    loaded = decode(load_untrusted(sent), resolve=None)
    assert np.array_equal(loaded["a"], data["a"]) and loaded["a"].flags.writeable
    assert loaded["b"] == data["b"] and type(loaded["b"][0]) is np.float64
    assert loaded["c"] == data["c"] and loaded["d"].dtype == bool
    with pytest.raises(pickle.UnpicklingError, match="refused to load posix.system"):
        load_untrusted(pickle.dumps(Evil()))
    for forbidden in (OrderedDict(a=1), np.zeros(2)):  # not even NumPy's own reconstructors
        with pytest.raises(pickle.UnpicklingError, match="refused"):
            load_untrusted(pickle.dumps(forbidden))
    with pytest.raises(ValueError, match="Python objects"):
        decode(Array("|O", (1,), b"\0" * 8), resolve=None)


def test_plain_data_travels_by_value_and_the_rest_by_reference():
    kept = []

    def export(value):
        kept.append(value)
        return Ref("worker", len(kept), type(value).__name__)

    Pair = namedtuple("Pair", "loss grads")
    cyclic: list = []
    cyclic.append(cyclic)
    sent = encode([Pair(1.5, {"W": np.ones(2)}), OrderedDict(k=True), len, cyclic], export)
    assert sent[0] == (1.5, {"W": sent[0][1]["W"]}) and type(sent[0]) is tuple
    assert type(sent[1]) is dict and sent[1] == {"k": True}
    assert sent[2] == Ref("worker", 1, "builtin_function_or_method")
    assert sent[3] == [Ref("worker", 2, "list")] and kept[1] is cyclic
    assert decode(sent, lambda ref: kept[ref.id - 1])[2] is len


# --- using student objects from the grader ---

def test_student_objects_are_used_through_proxies(student):
    namespace = student("""
        class Value:
            def __init__(self, data):
                self.data, self.grad = data, 0.0
            def __add__(self, other):
                other = other if isinstance(other, Value) else Value(other)
                return Value(self.data + other.data)
            __radd__ = __add__
            def __neg__(self):
                return Value(-self.data)

        def count(n):
            yield from range(n)
        """)
    Value = namespace.get("Value")
    total = 2.0 + Value(1.5) + Value(0.25)
    assert type(total).__name__ == "Value"
    assert total.data == 3.75 and (-total).data == -3.75 and total.grad == 0.0
    total.grad = 7.0
    assert total.grad == 7.0
    assert list(namespace.get("count")(3)) == [0, 1, 2]
    with pytest.raises(AttributeError):
        _ = total.missing


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


def test_student_code_calls_back_the_graders_functions(student):
    namespace = student("""
        def train(step, state):
            for _ in range(3):
                state = step(state)
            return state
        """)
    calls = []

    def step(state):
        calls.append(state)
        return {"n": state["n"] + 1}

    assert namespace.function("train")(step, {"n": 0}) == {"n": 3}
    assert calls == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_student_code_cannot_reach_inside_the_graders_functions(student):
    namespace = student("""
        def peek(helper):
            return helper.__globals__

        def name_of(helper):
            return helper.__name__, hasattr(helper, "__code__")
        """)
    helper = test_student_code_calls_back_the_graders_functions
    with pytest.raises(CheckFailed, match="AttributeError: the grader's function exposes no attrib"):
        namespace.function("peek")(helper)
    assert namespace.function("name_of")(helper) == (helper.__name__, False)


def test_patching_numpy_there_does_not_patch_it_here(student):
    namespace = student("""
        import numpy as np

        def patch():
            np.allclose = lambda *args, **kwargs: True
            return np.allclose(0, 1)
        """)
    assert namespace.function("patch")() is True
    assert not np.allclose(0, 1)


# --- failures ---

def test_a_hung_call_is_stopped_and_the_next_call_gets_a_fresh_process(student, monkeypatch):
    monkeypatch.setattr("autograder.submission.CALL_TIME_LIMIT", 1.0)
    namespace = student("""
        import signal

        def hang():
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                pass

        def fine():
            return 1
        """)
    hang = namespace.function("hang")
    hang.time_limit = 1.0
    with pytest.raises(CheckFailed, match=r"hang\(\) did not finish within 1 seconds"):
        hang()
    pid = namespace.worker.process.pid
    assert namespace.function("fine")() == 1
    assert namespace.restarts == 1 and namespace.worker.process.pid != pid


def test_a_result_too_deep_or_too_big_to_send_is_explained(student):
    namespace = student("""
        import numpy as np

        def deep():
            x = []
            for _ in range(100_000):
                x = [x]
            return x

        def big():
            return np.ones(40_000_000)
        """)
    with pytest.raises(CheckFailed, match="nested too deeply to be graded"):
        namespace.function("deep")()
    with pytest.raises(CheckFailed, match=r"big\(\) sent a message of 305 MB \(the limit is 256 MB\)"):
        namespace.function("big")()


def test_a_call_that_ends_its_process_is_reported(student):
    namespace = student("""
        import os

        def leave():
            os._exit(3)
        """)
    with pytest.raises(CheckFailed, match=r"leave\(\) ended the grading process \(exit code 3\)"):
        namespace.function("leave")()


def test_a_forged_message_is_refused_not_unpickled(student, tmp_path):
    marker = tmp_path / "pwned"
    namespace = student(f"""
        import os, pickle, struct, sys

        class Evil:
            def __reduce__(self):
                return os.system, ("touch {marker}",)

        def forge():
            payload = pickle.dumps(("reply", Evil()))
            os.write(int(sys.argv[2]), struct.pack(">Q", len(payload)) + payload)
            return 0
        """)
    with pytest.raises(CheckFailed, match="not plain data"):
        namespace.function("forge")()
    assert not marker.exists()


def test_the_notebook_failing_to_load_fails_every_check_with_the_reason(student):
    namespace = student("""
        import os
        STOP = os._exit(0)

        def f():
            return STOP
        """)
    assert namespace.notes[0].startswith("while defining its functions, your notebook's code ended")
    with pytest.raises(CheckFailed, match="while defining its functions"):
        namespace.function("f")


def test_closing_stops_the_process(student):
    namespace = student("def f():\n    return 1\n")
    process = namespace.worker.process
    namespace.close()
    assert process.poll() is not None


# --- the sandbox ---

@needs_landlock
def test_student_code_cannot_read_the_solutions_or_write_outside_its_scratch_folder(student, tmp_path):
    namespace = student("""
        def read(path):
            with open(path) as file:
                return file.read()

        def write(path):
            with open(path, "w") as file:
                file.write("fake")
            return "written"
        """)
    reference = SOLUTIONS / "01_losses" / "losses.ipynb"
    with pytest.raises(CheckFailed, match="PermissionError"):
        namespace.function("read")(str(reference))
    with pytest.raises(CheckFailed, match="PermissionError"):
        namespace.function("write")(str(tmp_path / "results.json"))
    assert not (tmp_path / "results.json").exists()
    assert namespace.function("write")("scratch.txt") == "written"  # its own folder is fine
    assert namespace.function("read")(np.__file__).startswith('"""')  # and Python's files
    assert namespace.notes == []


def test_a_process_that_cannot_start_is_reported_as_the_graders_problem(monkeypatch):
    monkeypatch.setattr("autograder.isolation.judge.sys.executable", "/bin/false")
    namespace = IsolatedNamespace(definitions("def f():\n    return 1\n"))
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


def test_a_returned_object_that_hangs_when_used_is_stopped(student, monkeypatch):
    monkeypatch.setattr("autograder.isolation.judge.CALL_TIME_LIMIT", 1.0)
    namespace = student("""
        class Stuck:
            def __float__(self):
                while True:
                    pass

        def make():
            return Stuck()
        """)
    stuck = namespace.function("make")()
    with pytest.raises(CheckFailed, match="did not answer within 1 seconds .* __float__"):
        float(stuck)
    assert namespace.function("make")() is not None  # a fresh process answers the next call
