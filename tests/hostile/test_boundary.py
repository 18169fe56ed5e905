"""Attacks on what crosses between the student's process and the grader: forged messages on
the pipe, values the grader cannot read, exceptions that misbehave, and the functions the
grader lends (kept for later checks, forged, probed, fed hostile data).

One class run grades every hostile submission next to honest ones. Each hostile submission
earns nothing its own code did not earn (compared with an honest baseline in the same run),
or is flagged; the honest students get full marks.
"""

from __future__ import annotations

import pytest
from hostile_support import (
    EXERCISES,
    assert_graded_cleanly,
    cells_of,
    digest,
    earned,
    feedback,
    flags,
    grade_class,
    notebook,
    total,
    troubled,
    write_class,
)

from autograder.assignments import ASSIGNMENTS, get_assignment

pytestmark = pytest.mark.slow

NOTEBOOK_SECONDS = 60

# Student code that writes raw bytes to the grader: the write end of its pipe is the one
# descriptor it may write to that is a pipe opened write-only.
FORGE = '''
import numpy as np

def _to_grader(data):
    import fcntl, os, stat, struct
    for fd in range(3, 64):
        try:
            write_only = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and write_only:
                os.write(fd, data)
                return
        except OSError:
            continue
    raise OSError("no pipe to the grader")

def _forge(message):
    import pickle, struct, time
    data = message if isinstance(message, bytes) else pickle.dumps(message, protocol=5)
    _to_grader(struct.pack(">Q", len(data)) + data)
    time.sleep(60)
'''


WIRE = '__import__("autograder.isolation.wire", fromlist=["wire"])'


def forged_mse(make: str) -> str:
    """An mse that sends the grader ``make`` (an expression) as its reply instead of returning."""
    return FORGE + f"\ndef mse(y_pred, y_true):\n    _forge({make})\n"


FORGED = {
    # lists sharing their items: a small pickle that means 2**60 lists once expanded
    "forged_laughs": forged_mse('("reply", (_laughs(), (), {}))') + (
        "\ndef _laughs():\n    a = [1.0]\n    for _ in range(60):\n        a = [a, a]\n    return a\n"),
    # one 48 MB array, referenced 200 times: 9.6 GB once rebuilt
    "forged_array_bomb": forged_mse(
        f'("reply", ([{WIRE}.Array("<f8", (6_000_000,), bytes(48_000_000))] * 200, (), {{}}))'),
    "forged_dtype": forged_mse(f'("reply", ({WIRE}.Array("<f3", None, b"abc"), (), {{}}))'),
    "forged_random_state": forged_mse(f'("reply", ({WIRE}.Rng("PCG64", {{"state": 1}}), (), {{}}))'),
    # a pickle that would run os.system("true") if the grader loaded it as Python's pickle does
    "forged_global": forged_mse('("reply", (_Runs(), (), {}))') + (
        "\nclass _Runs:\n    def __reduce__(self):\n        import os\n"
        "        return (os.system, ('true',))\n"),
    "forged_kind": forged_mse('("hello", 1)'),
    "forged_marker": forged_mse(f'("reply", ({WIRE}.Same(0), (), {{}}))'),  # only the grader sends these
    "forged_request": forged_mse('("request", "lend", ({"mse": 1},))'),  # only the grader asks this
    "forged_size": FORGE + "\ndef mse(y_pred, y_true):\n    _to_grader((2**62).to_bytes(8, 'big'))\n"
                           "    import time\n    time.sleep(60)\n",
    "forged_truncated": FORGE + "\ndef mse(y_pred, y_true):\n"
                                "    _to_grader((100).to_bytes(8, 'big') + b'x' * 10)\n"
                                "    import os\n    os._exit(3)\n",
    "forged_grader_refs": forged_mse(
        f'("reply", ([{WIRE}.Ref("judge", i, "mse") for i in range(1, 50)], (), {{}}))'),
}

# Objects that would run code or read memory if the grader used them as NumPy does: they never
# reach the grader as such (what crosses is plain data or an inert handle).
PROTOCOL_OBJECTS = {"mse_grad": '''
import numpy as np

class _Interface:
    __array_interface__ = {"shape": (1 << 20,), "typestr": "<f8", "data": (8, False), "version": 3}
    def __array__(self, *args, **kwargs):
        raise SystemExit("the grader asked")
    def __float__(self):
        raise SystemExit("the grader asked")

class _Lying(np.ndarray):
    @property
    def shape(self):
        return (2, 2)
    def tobytes(self, *args, **kwargs):
        return b"\\0" * 32

def _objects(shape):
    objects = np.empty(shape, dtype=object)
    objects.fill(_Interface())
    return objects

def mse_grad(y_pred, y_true):
    choices = [_Interface, lambda shape: np.zeros(shape, dtype=[("a", "<f8"), ("b", "O")]), _objects,
               lambda shape: np.ones(shape).view(_Lying), lambda shape: np.broadcast_to(1.0, (10**6, 10**6)),
               lambda shape: np.ones(shape, dtype=np.float16).view(np.uint16)]
    choice = choices[sum(y_pred.shape) % len(choices)]  # another one for each check
    return choice(y_pred.shape) if choice is not _Interface else _Interface()
'''}

HUGE_INT_MSE = "def mse(y_pred, y_true):\n    return 10 ** 400\n"

# Lent functions kept for a later check stop working when their check ends.
KEEPS_SOFTMAX = {
    "cross_entropy": '''
KEPT = []

def cross_entropy(logits, labels):
    KEPT.append(softmax)
    softmax(logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(labels)), labels]))
''',
    "cross_entropy_grad": '''
def cross_entropy_grad(logits, labels):
    p = KEPT[0](logits)  # softmax as lent for cross_entropy's check, not this one
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)
''',
}

# What the student's process holds of the grader: nothing that leads to the reference.
SEARCHES_THE_PROCESS = {"cross_entropy": '''
def _reference_in_sight(helper):
    import gc, linecache, sys
    found = []
    for name in ("__globals__", "__wrapped__", "__code__", "__closure__", "__self__", "__func__"):
        try:
            found.append(getattr(helper, name))
        except Exception:
            pass
    for value in gc.get_objects():
        if callable(value) and getattr(value, "__name__", "") == "cross_entropy":
            code = getattr(value, "__code__", None)
            if code is not None and "reference" in code.co_filename:
                found.append(value)
        if isinstance(value, dict) and "cross_entropy" in value and value is not globals():
            found.append(value)
    for filename in list(linecache.cache):
        if "reference" in filename:  # the grader registers the reference's cells under this name
            found.append(filename)
    for module in list(sys.modules.values()):
        if "solution" in (getattr(module, "__file__", None) or ""):
            found.append(module)
    return found

def cross_entropy(logits, labels):
    found = _reference_in_sight(softmax)
    if found:
        p = softmax(logits)
        return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))
    raise LookupError("nothing of the reference in sight")
'''}

# Hostile plain data through the functions the grader lends, then an honest computation: the
# grader must survive all of it and still grade what the function returns.
STRESSES_THE_LAYERS = {"mlp_loss_and_grads": cells_of("02_backprop")["mlp_loss_and_grads"].replace(
    '    layers = sum(1 for key in params if key.startswith("W"))\n',
    '''    _stress()
    layers = sum(1 for key in params if key.startswith("W"))
''') + '''

def _stress():
    nan = float("nan")
    attempts = [
        lambda: linear_forward(np.zeros((10**9, 0)), np.zeros((0, 10**9)), np.zeros(10**9 // 10**9)),
        lambda: linear_forward(np.zeros((2**40, 0)), np.zeros((0, 3)), np.zeros(3)),
        lambda: relu_forward(np.zeros((2**62, 0))),
        lambda: sigmoid_backward(np.ones(3), {nan: nan, (1, 2): [nan] * 3}),
        lambda: linear_backward(np.ones((2, 2)), [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]),
        lambda: softmax_cross_entropy(np.ones((3, 3), dtype=np.complex128), np.array([0, 1, 2])),
        lambda: softmax_cross_entropy(np.ones((3, 3)), np.array([0, 1, 2**62])),
        lambda: relu_backward(np.ones(3), np.ones(3), **{"x" * 10_000: 1}),
        lambda: relu_forward(x=np.ones(3), **{"x": 2}),
        lambda: relu_forward(10**10_000),
        lambda: relu_forward(np.ones(3, dtype=np.float16)),
        lambda: relu_forward({1, 2, 3}),
    ]
    for attempt in attempts:
        try:
            attempt()
        except Exception:
            pass
'''}

# The grader's own f, kept by numerical_gradient and called while linear_forward is checked.
KEEPS_F = {
    "numerical_gradient": "KEPT = []\n" + cells_of("02_backprop")["numerical_gradient"].replace(
        "    grad = np.zeros(x.shape)\n", "    KEPT.append(f)\n    grad = np.zeros(x.shape)\n"),
    "linear_forward": "def linear_forward(x, W, b):\n    KEPT[0](np.zeros(3))\n"
                      "    return x @ W + b, (x, W, b)\n",
}

# 03: a state that contains itself, and keys NumPy cannot order, through the lent adam.
ALIASED_STATE = {"adamw": '''
def adamw(w, dw, state, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    loop = {}
    loop["self"] = loop
    for odd in (loop, {float("nan"): 1, (1, "a"): 2, None: [loop]}, [state, state, [state]]):
        try:
            adam(w, dw, odd, lr=lr)
        except Exception:
            pass
    return adam(w - lr * weight_decay * w, dw, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
'''}

TRAIN = cells_of("04_training")["train"]
ITERATE = cells_of("04_training")["iterate_minibatches"]
FLOOR = "def num_iterations(n_samples, batch_size, drop_last=False):\n    return n_samples // batch_size\n"

QUIZ_OWN = {"num_iterations": FLOOR, "answer_Q1": "Q1 = 50000 // 128\n"}  # what this student's code says
QUIZ_FROM_STANDIN = QUIZ_OWN | {"iterate_minibatches": ITERATE.replace("    n = len(y)\n", (
    "    global Q1\n    Q1 = num_iterations(50000, 128)  # the reference's, lent here\n    n = len(y)\n"))}

KEEPS_NUM_ITERATIONS = {
    "iterate_minibatches": "KEPT = []\n" + ITERATE.replace(
        "    n = len(y)\n", "    KEPT.append(num_iterations)\n    n = len(y)\n"),
    "accuracy": "def accuracy(logits, labels):\n    KEPT[0](10, 3)\n"
                "    return float(np.mean(np.argmax(logits, axis=1) == labels))\n",
}
FORGES_LENT = {
    "iterate_minibatches": KEEPS_NUM_ITERATIONS["iterate_minibatches"],
    "accuracy": '''
def accuracy(logits, labels):
    lent = KEPT[0]
    kind, peer, ref = type(lent), lent._peer, lent._ref
    for number in range(1, 400):  # every function the grader ever lent, under any name
        try:
            kind(peer, ref._replace(id=number, type_name="accuracy"))(np.eye(2), np.array([0, 1]))
        except Exception:
            continue
        return float(np.mean(np.argmax(logits, axis=1) == labels))
    raise LookupError("no function of the grader answers outside its check")
''',
}
STRESSES_THE_RECORDER = {"train": TRAIN.replace(
    "    rng = rng if rng is not None else np.random.default_rng()\n",
    '''    for attempt in (lambda: loss_and_grads(params, np.zeros((10**9, 0)), np.zeros(10**9 // 10**9)),
                    lambda: loss_and_grads({"W": np.zeros((0, 10**12)), "b": 1}, np.ones((2, 0)), [0, 1]),
                    lambda: loss_and_grads({float("nan"): [{}] * 1000}, np.ones((2, 3)), [0, 1]),
                    lambda: optimizer(np.ones(2), np.ones(2), [1, 2], **hyper),  # fails before it counts
                    lambda: iterate_minibatches(np.zeros((2**50, 0)), np.zeros(0), 1),
                    lambda: accuracy(np.ones((3, 2)), np.array([0, 1, 2**70 % 7]))):
        try:
            attempt()
        except Exception:
            pass
    rng = rng if rng is not None else np.random.default_rng()
''')}
SHARED_STATE = {"train": TRAIN.replace(
    "params[name], states[name] = optimizer(params[name], grads[name], states[name], **hyper)",
    "params[name], _ = optimizer(params[name], grads[name], {}, **hyper)")}
EMPTY_STATE = {"train": TRAIN.replace(
    "params[name], states[name] = optimizer(params[name], grads[name], states[name], **hyper)",
    'params[name], _ = optimizer(params[name], grads[name], {"steps": np.array([])}, **hyper)')}
WRONG_EPOCH = {"train": TRAIN.replace('record = {"epoch": epoch,', 'record = {"epoch": epoch - 1,')}
EMPTY_EPOCH = {"train": TRAIN.replace('record = {"epoch": epoch,', 'record = {"epoch": np.array([]),')}

HONEST = {f"honest_{assignment_id}": assignment_id for assignment_id in ASSIGNMENTS}  # one per assignment
STUDENTS = {
    **{student: (assignment_id, {}) for student, assignment_id in HONEST.items()},
    "release_01": ("01_losses", None),
    **{name: ("01_losses", {"mse": code}) for name, code in FORGED.items()},
    "huge_int": ("01_losses", {"mse": HUGE_INT_MSE, "answer_Q2": "Q2 = 10 ** 400\n"}),
    "protocol_objects": ("01_losses", PROTOCOL_OBJECTS),
    "keeps_softmax": ("01_losses", KEEPS_SOFTMAX),
    "searches_its_process": ("01_losses", SEARCHES_THE_PROCESS),
    "stresses_the_layers": ("02_backprop", STRESSES_THE_LAYERS),
    "keeps_f": ("02_backprop", KEEPS_F),
    "aliased_state": ("03_optimizers", ALIASED_STATE),
    "quiz_own": ("04_training", QUIZ_OWN),
    "quiz_from_standin": ("04_training", QUIZ_FROM_STANDIN),
    "keeps_num_iterations": ("04_training", KEEPS_NUM_ITERATIONS),
    "forges_lent": ("04_training", FORGES_LENT),
    "stresses_the_recorder": ("04_training", STRESSES_THE_RECORDER),
    "shared_state": ("04_training", SHARED_STATE),
    "empty_state": ("04_training", EMPTY_STATE),
    "wrong_epoch": ("04_training", WRONG_EPOCH),
    "empty_epoch": ("04_training", EMPTY_EPOCH),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("boundary")
    folder = tmp / "class"
    write_class(folder, {student: (assignment, notebook(assignment, cells) if cells is not None
                                   else notebook(assignment, base=EXERCISES))
                         for student, (assignment, cells) in STUDENTS.items()})
    before = digest(folder)
    run = grade_class(folder, tmp, timeout=NOTEBOOK_SECONDS)
    return run, folder, before


def test_the_class_is_graded_cleanly(graded):
    run, folder, before = graded
    assert_graded_cleanly(run, folder, before, HONEST, seconds=300)
    assert set(run.submissions) == set(STUDENTS)


def others_intact(submission: dict, assignment: str, *targets: str) -> None:
    """Every function and quiz answer but ``targets`` keeps full marks."""
    for target in get_assignment(assignment).targets:
        if target not in targets:
            assert earned(submission, target) == get_assignment(assignment).points(target), (
                target, feedback(submission, target))


@pytest.mark.parametrize("student", FORGED)
def test_a_forged_message_earns_nothing_and_is_flagged(graded, student):
    run, *_ = graded
    submission = run.submissions[student]
    assert earned(submission, "mse") == earned(run.submissions["release_01"], "mse") == 0
    others_intact(submission, "01_losses", "mse")
    trouble = {f for f in troubled(submission) if f.endswith(": mse")}
    assert trouble, submission["flags"]
    assert not flags(submission, "check_error"), submission["flags"]


def test_an_integer_too_large_for_a_float_is_a_wrong_answer_not_an_error(graded):
    run, *_ = graded
    submission = run.submissions["huge_int"]
    assert earned(submission, "mse") == earned(submission, "Q2") == 0
    others_intact(submission, "01_losses", "mse", "Q2")
    assert submission["flags"] == []
    for target in ("mse", "Q2"):
        assert "integer too large" in feedback(submission, target)


def test_objects_with_array_protocols_cross_as_nothing_but_data(graded):
    run, *_ = graded
    submission = run.submissions["protocol_objects"]
    assert earned(submission, "mse_grad") == earned(run.submissions["release_01"], "mse_grad") == 0
    others_intact(submission, "01_losses", "mse_grad")
    assert not flags(submission, "check_error"), submission["flags"]
    assert "the grader asked" not in feedback(submission)


def test_a_lent_function_kept_for_a_later_check_no_longer_works(graded):
    run, *_ = graded
    submission = run.submissions["keeps_softmax"]
    assert earned(submission, "cross_entropy") == get_assignment("01_losses").points("cross_entropy")
    assert earned(submission, "cross_entropy_grad") == 0
    assert "lent for an earlier check and no longer works" in feedback(submission, "cross_entropy_grad")
    others_intact(submission, "01_losses", "cross_entropy_grad")


def test_nothing_of_the_reference_is_in_the_students_process(graded):
    run, *_ = graded
    submission = run.submissions["searches_its_process"]
    assert earned(submission, "cross_entropy") == 0
    assert "nothing of the reference in sight" in feedback(submission, "cross_entropy")
    others_intact(submission, "01_losses", "cross_entropy")


def test_hostile_data_through_the_lent_layers_leaves_the_grader_grading(graded):
    run, *_ = graded
    submission = run.submissions["stresses_the_layers"]
    assert submission["score"] == total("02_backprop"), feedback(submission)
    assert submission["flags"] == [] or all(f.startswith("suspicious code") for f in submission["flags"])


def test_the_graders_own_f_stops_working_after_its_check(graded):
    run, *_ = graded
    submission = run.submissions["keeps_f"]
    points = get_assignment("02_backprop").points("numerical_gradient")
    assert earned(submission, "numerical_gradient") == points
    assert earned(submission, "linear_forward") == 0
    assert "lent for an earlier check and no longer works" in feedback(submission, "linear_forward")


def test_states_that_contain_themselves_cross_nothing(graded):
    run, *_ = graded
    submission = run.submissions["aliased_state"]
    assert submission["score"] == total("03_optimizers"), feedback(submission)


def test_a_quiz_answer_cannot_be_computed_with_a_lent_reference_function(graded):
    run, *_ = graded
    own, standin = run.submissions["quiz_own"], run.submissions["quiz_from_standin"]
    assert earned(own, "Q1") == 0, "the baseline's own num_iterations gives 390, not 391"
    assert earned(standin, "Q1") == earned(own, "Q1")
    assert standin["score"] == own["score"]


def test_a_lent_function_cannot_be_called_outside_its_check_under_any_number(graded):
    run, *_ = graded
    for student in ("keeps_num_iterations", "forges_lent"):
        submission = run.submissions[student]
        assert earned(submission, "accuracy") == 0, student
        others_intact(submission, "04_training", "accuracy")
    assert "no longer works" in feedback(run.submissions["keeps_num_iterations"])
    assert "no function of the grader answers" in feedback(run.submissions["forges_lent"])


def test_hostile_data_through_the_checks_model_and_optimizer_leaves_the_grader_grading(graded):
    run, *_ = graded
    submission = run.submissions["stresses_the_recorder"]
    assert submission["score"] == total("04_training"), feedback(submission)
    assert troubled(submission) == []


@pytest.mark.parametrize("baseline, hostile", [("shared_state", "empty_state"),
                                               ("wrong_epoch", "empty_epoch")])
def test_values_numpy_cannot_compare_earn_no_more_than_wrong_ones(graded, baseline, hostile):
    run, *_ = graded
    honest, crafted = run.submissions[baseline], run.submissions[hostile]
    assert earned(honest, "train") < get_assignment("04_training").points("train")
    assert earned(crafted, "train") <= earned(honest, "train")
