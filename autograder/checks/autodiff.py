"""Checks for assignment 02, part A: the scalar automatic-differentiation class ``Value``.

Each graph is described as a plain program (`autograder.programs`) that runs where the class
lives; only the numbers it reads (each node's data and grad) come back. Public checks build
small graphs and compare with known values and with central differences of the same
expression in plain ``math``; hidden checks run random expression graphs (nodes reused at
different depths, every operation, reverse operators) through the student's and the
reference's classes side by side.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograder.checks import check
from autograder.checks.compare import CheckFailed, Mistake, as_number, describe, fmt
from autograder.checks.diagnosis import diagnose
from autograder.checks.toolbox import with_hint
from autograder.namespace import student_code
from autograder.programs import Program, Symbol, const

H = 1e-6


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


@dataclass(frozen=True)
class Operation:
    """An expression in two inputs, written once as program steps and once for floats."""

    text: str
    on_nodes: Callable  # (program, a, b) -> the output node
    on_floats: Callable  # (a, b) -> float


# Operations built from others come after them (a - b from + and -, a / b from * and **, as
# micrograd builds them): the first one that fails is the one to fix.
OPERATIONS = [
    Operation("a + b", lambda p, a, b: p.op("add", a, b), lambda a, b: a + b),
    Operation("a * b", lambda p, a, b: p.op("mul", a, b), lambda a, b: a * b),
    Operation("a ** 3", lambda p, a, b: p.op("pow", a, const(3)), lambda a, b: a**3),
    Operation("b ** -1.5", lambda p, a, b: p.op("pow", b, const(-1.5)), lambda a, b: b**-1.5),
    Operation("-a", lambda p, a, b: p.op("neg", a), lambda a, b: -a),
    Operation("a.exp()", lambda p, a, b: p.call("exp", a), lambda a, b: math.exp(a)),
    Operation("b.log()", lambda p, a, b: p.call("log", b), lambda a, b: math.log(b)),
    Operation("a.tanh()", lambda p, a, b: p.call("tanh", a), lambda a, b: math.tanh(a)),
    Operation("a.relu()", lambda p, a, b: p.call("relu", a), lambda a, b: max(a, 0.0)),
    Operation("(-a).relu()", lambda p, a, b: p.call("relu", p.op("neg", a)), lambda a, b: max(-a, 0.0)),
    Operation("a.sigmoid()", lambda p, a, b: p.call("sigmoid", a), lambda a, b: sigmoid(a)),
    Operation("a + 2", lambda p, a, b: p.op("add", a, const(2)), lambda a, b: a + 2),
    Operation("2 + a", lambda p, a, b: p.op("add", const(2), a), lambda a, b: 2 + a),
    Operation("3 * a", lambda p, a, b: p.op("mul", const(3), a), lambda a, b: 3 * a),
    Operation("a - b", lambda p, a, b: p.op("sub", a, b), lambda a, b: a - b),
    Operation("a - 2", lambda p, a, b: p.op("sub", a, const(2)), lambda a, b: a - 2),
    Operation("2 - a", lambda p, a, b: p.op("sub", const(2), a), lambda a, b: 2 - a),
    Operation("a / b", lambda p, a, b: p.op("truediv", a, b), lambda a, b: a / b),
    Operation("a / 4", lambda p, a, b: p.op("truediv", a, const(4)), lambda a, b: a / 4),
    Operation("2 / a", lambda p, a, b: p.op("truediv", const(2), a), lambda a, b: 2 / a),
]
A, B = 0.7, 1.3  # test point: b > 0 for log and fractional powers, a away from relu's kink


# Known wrong derivatives: (operation, input, what the wrong _backward gives at (a, b), what is wrong).
# Each is named only where it differs clearly from the right one at the test point.
WRONG_DERIVATIVES: list[tuple[str, str, Callable[[float, float], float], str]] = [
    ("a * b", "a", lambda a, b: a,
     "uses its own data (self.data * out.grad); with respect to a it is b: other.data * out.grad"),
    ("a * b", "b", lambda a, b: b,
     "uses its own data; with respect to b it is a: self.data * out.grad"),
    ("a / b", "a", lambda a, b: b, "is b; with respect to a it is 1 / b"),
    ("a / b", "a", lambda a, b: -1 / b, "has the wrong sign: with respect to a it is +1 / b"),
    ("a / b", "b", lambda a, b: a / b**2, "has the wrong sign: with respect to b it is -a / b²"),
    ("a / b", "b", lambda a, b: -1 / b**2, "misses the factor a: with respect to b it is -a / b²"),
    ("a / b", "b", lambda a, b: -a / b, "divides by b once: with respect to b it is -a / b² (b squared)"),
    ("a / b", "b", lambda a, b: a, "is a; with respect to b it is -a / b²"),
    ("2 / a", "a", lambda a, b: 2 / a**2, "has the wrong sign: it is -2 / a²"),
    ("2 / a", "a", lambda a, b: -1 / a**2, "misses the constant: it is -2 / a²"),
    ("a ** 3", "a", lambda a, b: 3 * a**3, "is k x^k; the power rule gives k x^(k-1): 3 a²"),
    ("a ** 3", "a", lambda a, b: a**2, "misses the factor k: the power rule gives k x^(k-1): 3 a²"),
    ("a ** 3", "a", lambda a, b: 3 * a, "is k x; the power rule gives k x^(k-1): 3 a²"),
    ("b ** -1.5", "b", lambda a, b: -1.5 * b**-1.5, "is k x^k; the power rule gives k x^(k-1): -1.5 b^-2.5"),
    ("b ** -1.5", "b", lambda a, b: b**-2.5, "misses the factor k: the power rule gives -1.5 b^-2.5"),
    ("b ** -1.5", "b", lambda a, b: -1.5 * b**-0.5,
     "uses k + 1 as the exponent: the power rule gives -1.5 b^-2.5"),
    ("a.exp()", "a", lambda a, b: a, "is x; the derivative of exp(x) is exp(x) itself (out.data)"),
    ("a.exp()", "a", lambda a, b: 1.0, "is 1; the derivative of exp(x) is exp(x) itself (out.data)"),
    ("a.exp()", "a", lambda a, b: a * math.exp(a), "is x exp(x); the derivative of exp(x) is exp(x) itself"),
    ("b.log()", "b", lambda a, b: b, "is x; the derivative of log(x) is 1 / x"),
    ("b.log()", "b", lambda a, b: math.log(b), "is log(x); the derivative of log(x) is 1 / x"),
    ("b.log()", "b", lambda a, b: -1 / b, "has the wrong sign: the derivative of log(x) is 1 / x"),
    ("b.log()", "b", lambda a, b: 1 / b**2, "is 1 / x²; the derivative of log(x) is 1 / x"),
    ("a.tanh()", "a", lambda a, b: 1 - math.tanh(a),
     "is 1 - tanh(x); the derivative of tanh is 1 - tanh(x)² (the square is missing)"),
    ("a.tanh()", "a", lambda a, b: math.tanh(a) ** 2, "is tanh(x)²; the derivative of tanh is 1 - tanh(x)²"),
    ("a.tanh()", "a", lambda a, b: 1 - a**2,
     "is 1 - x² of the input x; the derivative of tanh is 1 - t² with t = tanh(x), the output"),
    ("a.tanh()", "a", lambda a, b: math.tanh(a), "is tanh(x); the derivative of tanh is 1 - tanh(x)²"),
    ("a.relu()", "a", lambda a, b: a,
     "is the input (or the output's data); the derivative of relu is 1 where x > 0 and 0 elsewhere"),
    ("(-a).relu()", "a", lambda a, b: -1.0,
     "passes the gradient where relu's input was negative: its derivative is 0 where x < 0 "
     "(out.data > 0)"),
    ("a.sigmoid()", "a", lambda a, b: sigmoid(a), "is s; the derivative of the sigmoid s is s (1 - s)"),
    ("a.sigmoid()", "a", lambda a, b: 1 - sigmoid(a), "is 1 - s; the sigmoid's derivative is s (1 - s)"),
    ("a.sigmoid()", "a", lambda a, b: a * (1 - a),
     "is x (1 - x) of the input x; the derivative of the sigmoid is s (1 - s) of its output s"),
]


# Operations that chain two _backward functions (as micrograd writes them): a wrong gradient there
# may come from the chain rule rather than from a derivative.
CHAINED = {"(-a).relu()", "a - b", "a - 2", "2 - a", "a / b", "a / 4", "2 / a"}
CHAIN_HINT = ("a _backward ignores the gradient arriving from above: multiply each local derivative by "
              "out.grad (the chain rule), e.g. self.grad += other.data * out.grad.")


def chain_rule(student) -> str:
    """How out = (a * b) * c passes gradient back (a=1.5, b=2, c=3; a.grad should be b c = 6):
    "right", "local" (a.grad is b, the local derivative alone: out.grad is ignored) or "other"."""
    p = Program()
    a, b, c = p.new(1.5), p.new(2.0), p.new(3.0)
    out = p.op("mul", p.op("mul", a, b), c)
    p.backward(out)
    try:
        ((_, grad),) = run(student, p, [a], "out = (a * b) * c with a=1.5, b=2, c=3")
    except CheckFailed:
        return "other"
    return "right" if math.isclose(grad, 6.0) else "local" if math.isclose(grad, 2.0) else "other"


def derivative_hint(operation: Operation, name: str, got: float, expected: float) -> str | None:
    """The known wrong derivative of ``operation`` with respect to ``name`` that ``got`` proves."""
    known = [Mistake(f"the derivative of {operation.text} with respect to {name} {hint}.",
                     lambda f=f: f(A, B))
             for text, which, f, hint in WRONG_DERIVATIVES if text == operation.text and which == name]
    if not any(math.isclose(m.produce(), -expected, rel_tol=1e-9) for m in known):
        known.append(Mistake(f"the derivative of {operation.text} with respect to {name} has the wrong sign.",
                             lambda: -expected))
    return diagnose(got, expected, known, rtol=1e-6, atol=1e-8).named


def run(student, program: Program, reads: list[int], what: str) -> list[tuple[float, float]]:
    """Run ``program`` with the student's Value; (data, grad) of each node in ``reads``, as
    numbers (CheckFailed if they are not)."""
    with student_code(f"Value: {what}", "Value"):
        values = student.run_program("Value", program.steps, reads)
    if not isinstance(values, list) or len(values) != len(reads):
        raise CheckFailed(f"Value: {what} gave something the grader could not read.")
    return [(number(data, ".data"), number(grad, ".grad")) for data, grad in (_pair(v) for v in values)]


def number(value: object, attribute: str) -> float:
    try:
        return as_number(value, f"Value's {attribute}")
    except CheckFailed:
        raise CheckFailed(f"Value: {attribute} should be a number (a float), but it is {describe(value)}. "
                          f"Store the number itself in {attribute}, not a Value or another object.") from None


def _pair(value: object) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) and len(value) == 2 else (value, None)


STATE_HINT = (
    "building and differentiating the same graph again gives different numbers. Either backward() "
    "depends on the order in which it meets the nodes (a set of children comes out in a different "
    "order each run; with a topological order that order no longer matters), or your class keeps "
    "something from one graph to the next (a list or set shared by every Value, a mutable default "
    "argument such as visited=set(), a global variable)."
)
NAN_HINT = (
    "a NaN or infinity: look for a grad that does not start at 0.0, or an operation such as "
    "inf - inf or 0 * inf in a _backward."
)


def failure(student, program: Program, reads: list[int], what: str, text: str,
            mistake: str | None = None) -> CheckFailed:
    """The failure ``text`` (with ``mistake``, already proven), or else explained by state when
    the same program gives other numbers when it runs again (NaN counts as equal to NaN: a result
    that is NaN every time is not state)."""
    try:
        again = None if mistake else [run(student, program, reads, what) for _ in range(2)]
    except CheckFailed:
        again = None
    if mistake is None and again is not None and not same_numbers(*again):
        # with overwritten gradients, the order of the _backward calls decides which use's survives
        return with_hint(CheckFailed(text), OVERWRITE_HINT if overwrites(student) else STATE_HINT)
    return CheckFailed(text, mistake=mistake)


def same_numbers(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """Two runs of one program agree: to rounding (gradients summed in another order differ in the
    last bits), NaN where the other has NaN."""
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
        for pair_a, pair_b in zip(a, b, strict=True) for x, y in zip(pair_a, pair_b, strict=True))


def not_finite(*numbers: float) -> bool:
    return not all(math.isfinite(x) for x in numbers)


def operation_program(operation: Operation, a: float, b: float) -> tuple[Program, list[int], str]:
    """The program of ``operation`` on a and b, then out.backward(); reads a, b and out."""
    p = Program()
    va, vb = p.new(a), p.new(b)
    out = operation.on_nodes(p, va, vb)
    p.backward(out)
    return p, [va, vb, out], f"computing {operation.text} with a={a:g}, b={b:g}"


@check("Value", "forward values of every operation", 1.0)
def value_forward(student):
    p = Program()
    p.new(2.0)
    ((data, grad),) = run(student, p, [0], "Value(2.0)")
    if data != 2.0 or grad != 0.0:
        raise CheckFailed(f"Value(2.0) should have data 2.0 and grad 0.0, got data {fmt(data)}, "
                          f"grad {fmt(grad)}." + (f" It is {NAN_HINT}" if not_finite(data, grad) else ""))
    for operation in OPERATIONS:
        program = operation_program(operation, A, B)
        got = run(student, *program)[2][0]
        expected = operation.on_floats(A, B)
        if not math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-15):
            raise failure(student, *program,
                          f"Value: {operation.text} with a={A}, b={B} should have data {fmt(expected)}, "
                          f"got {fmt(got)}.")


@check("Value", "the lesson's graph y = (a + b) * c", 0.5)
def value_lesson_example(student):
    p = Program()
    a, b, c = p.new(2.0), p.new(-3.0), p.new(10.0)
    s = p.op("add", a, b)
    y = p.op("mul", s, c)
    p.backward(y)
    values = run(student, p, [a, b, c, s, y], "y = (a + b) * c with a=2, b=-3, c=10")
    got = dict(zip(["a", "b", "c", "a + b", "y"], values, strict=True))
    expected = {"a": (2, 10), "b": (-3, 10), "c": (10, -1), "a + b": (-1, 10), "y": (-10, 1)}
    wrong = [f"{name}: expected data {e[0]}, grad {e[1]}; "
             f"got data {fmt(got[name][0])}, grad {fmt(got[name][1])}"
             for name, e in expected.items() if not np.allclose(got[name], e, rtol=1e-12)]
    if wrong:
        nan = f"\n  Some are {NAN_HINT}" if not_finite(*(x for pair in values for x in pair)) else ""
        raise failure(student, p, [a, b, c, s, y], "y = (a + b) * c with a=2, b=-3, c=10",
                      "Value: for y = (a + b) * c with a=2, b=-3, c=10 after y.backward():\n  "
                      + "\n  ".join(wrong) + nan)


@check("Value", "the gradient of every operation agrees with finite differences", 1.5)
def value_gradients(student):
    for operation in OPERATIONS:
        program = operation_program(operation, A, B)
        (_, grad_a), (_, grad_b), (data, _) = run(student, *program)
        if not math.isclose(data, operation.on_floats(A, B), rel_tol=1e-9, abs_tol=1e-12):
            raise failure(student, *program,
                          f"Value: {operation.text} with a={A}, b={B} computes the wrong value "
                          f"({fmt(data)}), so its gradient cannot be right either: fix the forward "
                          "value first.")
        expected = {
            "a": (operation.on_floats(A + H, B) - operation.on_floats(A - H, B)) / (2 * H),
            "b": (operation.on_floats(A, B + H) - operation.on_floats(A, B - H)) / (2 * H),
        }
        for name, got in (("a", grad_a), ("b", grad_b)):
            if not math.isclose(got, expected[name], rel_tol=1e-6, abs_tol=1e-8):
                seen = f" It is {NAN_HINT}" if not_finite(got) else ""
                chain = chain_rule(student) if operation.text in CHAINED and not seen else "right"
                hint = None if seen or chain == "other" else CHAIN_HINT if chain == "local" else \
                    derivative_hint(operation, name, got, expected[name])
                if hint is None and not seen and f"{name}" not in operation.text:
                    seen = f" {operation.text} does not depend on {name}, so its gradient stays 0."
                said = (f"Value: after ({operation.text}).backward() with a={A}, b={B}, {name}.grad should "
                        f"be {fmt(expected[name])} (central differences), got {fmt(got)}.{seen} Look at the "
                        f"_backward of the operation(s) in {operation.text}.")
                raise failure(student, *program, said + (f"\n  Likely mistake: {hint}" if hint else ""),
                              mistake=hint)


REUSE = [
    # (expression, builder, expected gradient of a, at a = 3); only inputs are reused here,
    # so the order in which backward() visits nodes does not matter.
    ("a * a", lambda p, a: p.op("mul", a, a), 6.0),
    ("a + a", lambda p, a: p.op("add", a, a), 2.0),
    ("a * a * a", lambda p, a: p.op("mul", p.op("mul", a, a), a), 27.0),
    ("a * 2 + a.exp() * a",
     lambda p, a: p.op("add", p.op("mul", a, const(2)), p.op("mul", p.call("exp", a), a)),
     2 + 4 * math.exp(3.0)),
]


def reuse_program(text: str, expression: Callable) -> tuple[Program, list[int], str]:
    """(expression of a = 3).backward(); reads a and the output."""
    p = Program()
    a = p.new(3.0)
    out = expression(p, a)
    p.backward(out)
    return p, [a, out], f"{text} with a=3"


def reused_grad(student, text: str, expression: Callable) -> tuple[float, float]:
    """(a.grad, out.data) after (expression of a = 3).backward()."""
    (_, grad), (data, _) = run(student, *reuse_program(text, expression))
    return grad, data


SEED_HINT = ("after out.backward(), out.grad should be 1 (the output's gradient with respect to itself): "
             "backward() starts by setting self.grad = 1.0 before it calls the _backward functions.")
OVERWRITE_HINT = ("a node used more than once keeps only the gradient of its last use: each _backward must "
                  "add to the gradient, `self.grad += ...`, not set it with `self.grad = ...`.")
# What overwriting (``self.grad = ...``) gives for the reused expressions at a = 3, where the order of
# the _backward calls cannot change it; the right values are 2, 6 and 27.
OVERWRITTEN = {"a + a": 1.0, "a * a": 3.0, "a * a * a": 9.0}


def scaled(student) -> tuple[float, float] | None:
    """(out.grad, a.grad) after out = a * 2, out.backward() with a = 3 (None if that fails)."""
    p = Program()
    a = p.new(3.0)
    out = p.op("mul", a, const(2))
    p.backward(out)
    try:
        (_, out_grad), (_, a_grad) = run(student, p, [out, a], "out = a * 2 with a=3")
    except CheckFailed:
        return None
    return out_grad, a_grad


def seeded(student) -> bool:
    """Whether backward() seeds the output's gradient with 1 (no evidence counts as seeded: the
    other checks say what goes wrong)."""
    grads = scaled(student)
    return grads is None or math.isclose(grads[0], 1.0)


def single_use_right(student, texts: tuple[str, ...]) -> bool:
    """Whether each operation in ``texts``, and a * 2, gives the right gradients where each input
    is used once."""
    if scaled(student) != (1.0, 2.0):
        return False
    for operation in (o for o in OPERATIONS if o.text in texts):
        try:
            (_, grad_a), (_, grad_b), _ = run(student, *operation_program(operation, A, B))
        except CheckFailed:
            return False
        right = {"a + b": (1.0, 1.0), "a * b": (B, A)}[operation.text]
        if not np.allclose((grad_a, grad_b), right, rtol=1e-9):
            return False
    return True


def overwrites(student) -> bool:
    """Whether reused nodes lose gradient exactly as overwriting (``self.grad = ...``) does, while the
    output is seeded and single uses of + and * are right: proof enough to name it."""
    try:
        if not seeded(student) or not single_use_right(student, ("a + b", "a * b")):
            return False
        wrong = [(text, got) for text, expression, expected in REUSE if text in OVERWRITTEN
                 if not math.isclose(got := reused_grad(student, text, expression)[0], expected)]
    except CheckFailed:
        return False
    return bool(wrong) and all(math.isclose(got, OVERWRITTEN[text], rel_tol=1e-12) for text, got in wrong)


def accumulates(student) -> bool:
    """Whether a * a and a + a give a.grad = 2a and 2 (the simplest reuse)."""
    return all(math.isclose(reused_grad(student, text, expression)[0], expected)
               for text, expression, expected in REUSE[:2])


@check("Value", "a node used more than once accumulates its gradient", 1.0)
def value_reuse(student):
    for text, expression, expected in REUSE:
        got, data = reused_grad(student, text, expression)
        if not math.isclose(got, expected, rel_tol=1e-12):
            program = reuse_program(text, expression)
            said = (f"Value: after ({text}).backward() with a=3, a.grad should be {fmt(expected)}, "
                    f"got {fmt(got)}.")
            if not_finite(got, data):
                raise failure(student, *program, f"{said} It is {NAN_HINT}")
            hint = (SEED_HINT if not seeded(student) else CHAIN_HINT if chain_rule(student) == "local"
                    else OVERWRITE_HINT if overwrites(student) else None)
            raise failure(student, *program, said + (f"\n  Likely mistake: {hint}" if hint else
                          " A node used more than once collects the gradient of every use."), mistake=hint)


@check("Value", "backward visits nodes in reverse topological order", 1.0)
def value_topological_order(student):
    # b reaches the output directly and through a longer path (d, c); b must collect both
    # contributions before passing them on to a, and must pass them on only once.
    p = Program()
    a = p.new(1.5)
    b = p.op("mul", a, const(2))
    d = p.op("mul", b, const(3))
    c = p.op("mul", d, const(2))
    out = p.op("add", c, b)
    p.backward(out)
    what = "out = c + b with b = 2a, d = 3b, c = 2d (a=1.5)"
    (_, grad_a), (_, grad_b) = run(student, p, [a, b], what)
    got = grad_a, grad_b
    if not np.allclose(got, (14.0, 7.0), rtol=1e-12):
        said = (f"Value: for {what}, after out.backward() expected b.grad = 7 and a.grad = 14, got "
                f"b.grad = {fmt(got[1])} and a.grad = {fmt(got[0])}.")
        if not_finite(*got):
            raise failure(student, p, [a, b], what, f"{said} It is {NAN_HINT}")
        # The graph adds nothing to a * b and a + b but a node reached along two paths: with those
        # right, gradients that accumulate and a seeded output, only the order is left to blame.
        chain = chain_rule(student)
        if not seeded(student):
            hint = SEED_HINT
        elif chain == "local":
            hint = CHAIN_HINT
        elif chain == "other" or not single_use_right(student, ("a + b", "a * b")):
            raise failure(student, p, [a, b], what, f"{said} Gradients through + and * (alone, or one after "
                          "the other) are not right yet either: fix those first.")
        elif not accumulates(student):
            raise failure(student, p, [a, b], what, f"{said} Gradients do not accumulate yet either (a * a "
                          "and a + a already give wrong gradients): fix that first.")
        else:
            hint = ("backward() must call each node's _backward exactly once, after every node that uses it: "
                    "build a topological order of the graph and walk it in reverse.")
        raise failure(student, p, [a, b], what, f"{said}\n  Likely mistake: {hint}", mistake=hint)


@check("Value", "graphs 1,000 nodes deep", 1.0)
def value_deep_graph(student):
    p = Program()
    x = p.new(0.5)
    y = x
    for _ in range(1000):
        y = p.op("add", y, x)
    p.backward(y)
    what = "y = x + x + ... (1,000 additions, a graph 1,000 nodes deep)"
    (_, grad), (data, _) = run(student, p, [x, y], what)
    if not np.allclose((grad, data), (1001.0, 500.5), rtol=1e-12):
        raise failure(
            student, p, [x, y], what,
            f"Value: y = x + x + ... + x (1,001 times x) should give y.data = 500.5 and x.grad = 1001, "
            f"got y.data = {fmt(data)}, x.grad = {fmt(grad)}."
            + (f" It is {NAN_HINT}" if not_finite(grad, data) else "")
        )


# --- hidden: random expression graphs -------------------------------------------------------

STEPS = {
    # name: (arity, text, builder); builders keep every value in the domain of the op
    "add": (2, "{0} + {1}", lambda p, q: p + q),
    "sub": (2, "{0} - {1}", lambda p, q: p - q),
    "mul": (2, "{0} * {1}", lambda p, q: p * q),
    "div": (2, "{0} / ({1} ** 2 + 1)", lambda p, q: p / (q**2 + 1)),
    "radd": (1, "1.5 + {0}", lambda p: 1.5 + p),
    "rsub": (1, "2 - {0}", lambda p: 2 - p),
    "rmul": (1, "0.5 * {0}", lambda p: 0.5 * p),
    "rdiv": (1, "2 / ({0} * {0} + 1)", lambda p: 2 / (p * p + 1)),
    "neg": (1, "-{0}", lambda p: -p),
    "pow": (1, "{0} ** 3", lambda p: p**3),
    "sqrt": (1, "({0} ** 2 + 1) ** 0.5", lambda p: (p**2 + 1) ** 0.5),
    "exp": (1, "(0.3 * {0}).exp()", lambda p: (0.3 * p).exp()),
    "log": (1, "({0} * {0} + 1).log()", lambda p: (p * p + 1).log()),
    "tanh": (1, "{0}.tanh()", lambda p: p.tanh()),
    "relu": (1, "{0}.relu()", lambda p: p.relu()),
    "sigmoid": (1, "{0}.sigmoid()", lambda p: p.sigmoid()),
}


def random_program(seed: int, inputs: int = 3, steps: int = 24) -> tuple[list[float], list[tuple]]:
    """Inputs and steps ``(name, operand indices)``; operands are drawn from every earlier
    node, so nodes are reused at different depths. Every kind of step appears."""
    rng = np.random.default_rng(seed)
    names = list(STEPS)
    order = names + list(rng.choice(names, size=max(0, steps - len(names))))
    rng.shuffle(order)
    program = []
    for position, name in enumerate(order):
        available = inputs + position
        arity = STEPS[name][0]
        # favour recent nodes (deep graphs) but reuse old ones too
        picks = [int(min(available - 1, rng.integers(0, available) + rng.integers(0, 3)))
                 for _ in range(arity)]
        program.append((name, picks))
    values = [float(v) for v in rng.uniform(-1.5, 1.5, size=inputs)]
    values = [v if abs(v) > 0.1 else v + 0.3 for v in values]  # keep relu away from its kink
    return values, program


def build_program(values: list[float], program: list[tuple]) -> tuple[Program, list[int]]:
    """The random program as program steps; the output is the sum of the last four nodes.
    Returns the program and the index of every node the random program names."""
    p = Program()
    nodes = [Symbol(p, p.new(v)) for v in values]
    for name, picks in program:
        nodes.append(STEPS[name][2](*(nodes[i] for i in picks)))
    out = nodes[-1] + nodes[-2] + nodes[-3] + nodes[-4]
    p.backward(out.index)
    return p, [n.index for n in nodes]


def describe_node(index: int, inputs: int, program: list[tuple]) -> str:
    if index < inputs:
        return f"input {index}"
    name, picks = program[index - inputs]
    return f"node {index} = " + STEPS[name][1].format(*(f"node {i}" for i in picks))


@check("Value", "matches the reference on random expression graphs", 2.0, hidden=True)
def value_matches_reference(student, reference):
    for seed in range(8):
        values, program = random_program(1000 + seed)
        steps, named = build_program(values, program)
        expected = reference.run_program("Value", steps.steps, named)
        if any(abs(data) > 1e6 for data, _ in expected):  # keep the comparison well conditioned
            continue
        got = run(student, steps, named, f"a random expression graph (seed {1000 + seed})")
        for index, ((data, grad), (ref_data, ref_grad)) in enumerate(zip(got, expected, strict=True)):
            for what, mine, theirs in (("data", data, ref_data), ("grad", grad, ref_grad)):
                if not math.isclose(mine, theirs, rel_tol=1e-7, abs_tol=1e-10):
                    raise failure(
                        student, steps, named, f"a random expression graph (seed {1000 + seed})",
                        f"Value: on a random expression graph (seed {1000 + seed}, inputs "
                        f"{[round(v, 4) for v in values]}), {describe_node(index, len(values), program)} "
                        f"has {what} {fmt(mine)}, expected {fmt(theirs)}. The output is the sum of the "
                        f"last four nodes. Compare the {what} of each operation in that line."
                        + (f" It is {NAN_HINT}" if not_finite(mine) else "")
                    )


# --- the quiz: answers that a known mistake gives ------------------------------------------
# Quiz answer -> {wrong answer: hint}, for the quiz checks to show when an answer equals one of
# these (compared as the quiz compares answers). A hint says where the reasoning went wrong and
# never states the right answer. (The questions of 02 are all here, layers.py has none.)
QUIZ_MISTAKES: dict[str, dict[str | float, str]] = {
    # 02 Q1: in which order backpropagation visits the nodes
    "Q1": {
        "A": "that is the order of the forward pass, in which the values are computed. Ask which "
            "gradients a node's own gradient is made of, and where the loss is measured.",
        "C": "the order matters: a node may pass its gradient on only once it has collected the "
            "contribution of every node that uses it, otherwise part of the gradient is lost.",
    },
    # 02 Q2: dy/da for y = (a + b) c with a = 3, b = -1, c = 4
    "Q2": {
        3 + -1: "that is ∂y/∂c (which equals a + b); the question asks for ∂y/∂a.",
        (3 + -1) * 4: "that is the value of y itself, not a derivative.",
        1: "that is ∂(a + b)/∂a alone: the chain rule multiplies it by the gradient arriving from "
            "above, ∂y/∂(a + b).",
        3: "that is the value of a; the question asks how fast y changes when a changes.",
        -4: "check the sign: with c positive, increasing a increases y.",
    },
    # 02 Q3: the change of a weight whose gradient is +0.8, learning rate 0.1
    "Q3": {
        0.1 * 0.8: "check the sign: gradient descent moves *against* the gradient, so a positive "
            "gradient makes the weight decrease.",
        0.8: "the step is the gradient scaled by the learning rate (and against it).",
        -0.8: "the step is the gradient scaled by the learning rate.",
        0.8 / 0.1: "the learning rate multiplies the gradient; you divided by it.",
        -0.8 / 0.1: "the learning rate multiplies the gradient; you divided by it.",
        0.8 - 0.1 * 0.8: "that subtracts the step from the gradient; the question asks for the "
            "change of the weight itself.",
        0.8 - 0.1: "the learning rate multiplies the gradient; it is not subtracted from it.",
        0.1 - 0.8: "the learning rate multiplies the gradient; it is not subtracted from it.",
    },
}
