"""Checks for assignment 02, part A: the scalar automatic-differentiation class ``Value``.

Public checks build small graphs with the student's ``Value`` and compare with known
values and with central differences of the same expression in plain ``math``; hidden
checks run random expression graphs (nodes reused at different depths, every operation,
reverse operators) through the student's and the reference's classes side by side.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograder.checks import check
from autograder.checks.compare import CheckFailed, as_number, fmt
from autograder.submission import student_code

H = 1e-6


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


@dataclass(frozen=True)
class Operation:
    """An expression in two inputs, written once for ``Value`` and once for floats."""

    text: str
    on_values: Callable  # (V, a, b) -> Value, where V is the class
    on_floats: Callable  # (a, b) -> float


OPERATIONS = [
    Operation("a + b", lambda V, a, b: a + b, lambda a, b: a + b),
    Operation("a - b", lambda V, a, b: a - b, lambda a, b: a - b),
    Operation("a * b", lambda V, a, b: a * b, lambda a, b: a * b),
    Operation("a / b", lambda V, a, b: a / b, lambda a, b: a / b),
    Operation("a + 2", lambda V, a, b: a + 2, lambda a, b: a + 2),
    Operation("2 + a", lambda V, a, b: 2 + a, lambda a, b: 2 + a),
    Operation("3 * a", lambda V, a, b: 3 * a, lambda a, b: 3 * a),
    Operation("a - 2", lambda V, a, b: a - 2, lambda a, b: a - 2),
    Operation("2 - a", lambda V, a, b: 2 - a, lambda a, b: 2 - a),
    Operation("a / 4", lambda V, a, b: a / 4, lambda a, b: a / 4),
    Operation("2 / a", lambda V, a, b: 2 / a, lambda a, b: 2 / a),
    Operation("a ** 3", lambda V, a, b: a**3, lambda a, b: a**3),
    Operation("b ** -1.5", lambda V, a, b: b**-1.5, lambda a, b: b**-1.5),
    Operation("-a", lambda V, a, b: -a, lambda a, b: -a),
    Operation("a.exp()", lambda V, a, b: a.exp(), lambda a, b: math.exp(a)),
    Operation("b.log()", lambda V, a, b: b.log(), lambda a, b: math.log(b)),
    Operation("a.tanh()", lambda V, a, b: a.tanh(), lambda a, b: math.tanh(a)),
    Operation("a.relu()", lambda V, a, b: a.relu(), lambda a, b: max(a, 0.0)),
    Operation("(-a).relu()", lambda V, a, b: (-a).relu(), lambda a, b: max(-a, 0.0)),
    Operation("a.sigmoid()", lambda V, a, b: a.sigmoid(), lambda a, b: sigmoid(a)),
]
A, B = 0.7, 1.3  # test point: b > 0 for log and fractional powers, a away from relu's kink


def number(value: object, what: str) -> float:
    return as_number(value, what)


def build(Value, operation: Operation, a: float, b: float):
    """Inputs and output of ``operation`` built with the student's class, after backward()."""
    with student_code(f"Value: computing {operation.text} with a={a:g}, b={b:g}", "Value"):
        va, vb = Value(a), Value(b)
        out = operation.on_values(Value, va, vb)
        out.backward()
        return va, vb, out


@check("Value", "forward values of every operation", 1.0)
def value_forward(Value):
    with student_code("Value(2.0)", "Value"):
        fresh = Value(2.0)
        data, grad = fresh.data, fresh.grad
    if number(data, "Value(2.0).data") != 2.0 or number(grad, "Value(2.0).grad") != 0.0:
        raise CheckFailed(f"Value(2.0) should have data 2.0 and grad 0.0, got data {data!r}, grad {grad!r}.")
    for operation in OPERATIONS:
        _, _, out = build(Value, operation, A, B)
        got = number(out.data, f"({operation.text}).data")
        expected = operation.on_floats(A, B)
        if not math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-15):
            raise CheckFailed(
                f"Value: {operation.text} with a={A}, b={B} should have data {fmt(expected)}, got {fmt(got)}."
            )


@check("Value", "the lesson's graph y = (a + b) * c", 0.5)
def value_lesson_example(Value):
    with student_code("Value: y = (a + b) * c with a=2, b=-3, c=10", "Value"):
        a, b, c = Value(2.0), Value(-3.0), Value(10.0)
        s = a + b
        y = s * c
        y.backward()
        got = {name: (number(v.data, f"{name}.data"), number(v.grad, f"{name}.grad"))
               for name, v in [("a", a), ("b", b), ("c", c), ("a + b", s), ("y", y)]}
    expected = {"a": (2, 10), "b": (-3, 10), "c": (10, -1), "a + b": (-1, 10), "y": (-10, 1)}
    wrong = [f"{name}: expected data {e[0]}, grad {e[1]}; "
             f"got data {fmt(got[name][0])}, grad {fmt(got[name][1])}"
             for name, e in expected.items() if not np.allclose(got[name], e, rtol=1e-12)]
    if wrong:
        raise CheckFailed("Value: for y = (a + b) * c with a=2, b=-3, c=10 after y.backward():\n  "
                          + "\n  ".join(wrong))


@check("Value", "the gradient of every operation agrees with finite differences", 1.5)
def value_gradients(Value):
    for operation in OPERATIONS:
        va, vb, _ = build(Value, operation, A, B)
        expected = {
            "a": (operation.on_floats(A + H, B) - operation.on_floats(A - H, B)) / (2 * H),
            "b": (operation.on_floats(A, B + H) - operation.on_floats(A, B - H)) / (2 * H),
        }
        for name, node in (("a", va), ("b", vb)):
            got = number(node.grad, f"{name}.grad")
            if not math.isclose(got, expected[name], rel_tol=1e-6, abs_tol=1e-8):
                hint = ""
                if math.isclose(got, -expected[name], rel_tol=1e-6):
                    hint = " It has the wrong sign: check the order of the subtraction."
                elif expected[name] == 0 and got != 0:
                    hint = f" {operation.text} does not depend on {name}."
                raise CheckFailed(
                    f"Value: after ({operation.text}).backward() with a={A}, b={B}, {name}.grad should "
                    f"be {fmt(expected[name])} (central differences), got {fmt(got)}.{hint} Look at the "
                    f"_backward of the operation(s) in {operation.text}."
                )


REUSE = [
    # (expression, builder, expected gradient of a, at a = 3); only inputs are reused here,
    # so the order in which backward() visits nodes does not matter.
    ("a * a", lambda a: a * a, 6.0),
    ("a + a", lambda a: a + a, 2.0),
    ("a * a * a", lambda a: a * a * a, 27.0),
    ("a * 2 + a.exp() * a", lambda a: a * 2 + a.exp() * a, 2 + 4 * math.exp(3.0)),
]


def accumulates(Value) -> bool:
    """Whether a * a gives a.grad = 2a (the simplest reuse)."""
    with student_code("Value: a * a with a=3", "Value"):
        a = Value(3.0)
        (a * a).backward()
        return math.isclose(number(a.grad, "a.grad"), 6.0)


@check("Value", "a node used more than once accumulates its gradient", 1.0)
def value_reuse(Value):
    for text, expression, expected in REUSE:
        with student_code(f"Value: {text} with a=3", "Value"):
            a = Value(3.0)
            expression(a).backward()
            got = number(a.grad, "a.grad")
        if not math.isclose(got, expected, rel_tol=1e-12):
            raise CheckFailed(
                f"Value: after ({text}).backward() with a=3, a.grad should be {fmt(expected)}, got "
                f"{fmt(got)}. A node used more than once must add up the gradient from every use: "
                "write `self.grad += ...` in each _backward, not `self.grad = ...`."
            )


@check("Value", "backward visits nodes in reverse topological order", 1.0)
def value_topological_order(Value):
    # b reaches the output directly and through a longer path (d, c); b must collect both
    # contributions before passing them on to a, and must pass them on only once.
    with student_code("Value: out = c + b with b = 2a, d = 3b, c = 2d (a=1.5)", "Value"):
        a = Value(1.5)
        b = a * 2
        d = b * 3
        c = d * 2
        out = c + b
        out.backward()
        got = number(a.grad, "a.grad"), number(b.grad, "b.grad")
    if not np.allclose(got, (14.0, 7.0), rtol=1e-12):
        if not accumulates(Value):
            raise CheckFailed(
                "Value: for out = c + b with b = 2a, d = 3b, c = 2d, after out.backward() expected "
                f"b.grad = 7 and a.grad = 14, got b.grad = {fmt(got[1])} and a.grad = {fmt(got[0])}. "
                "First make gradients accumulate (`self.grad += ...` in each _backward): a * a "
                "already gives the wrong gradient."
            )
        raise CheckFailed(
            "Value: for out = c + b with b = 2a, d = 3b, c = 2d, after out.backward() expected "
            f"b.grad = 7 and a.grad = 14, got b.grad = {fmt(got[1])} and a.grad = {fmt(got[0])}. "
            "backward() must call each node's _backward exactly once, after every node that uses "
            "it: build a topological order of the graph and walk it in reverse."
        )


@check("Value", "graphs 1,000 nodes deep", 1.0)
def value_deep_graph(Value):
    with student_code("Value: y = x + x + ... (1,000 additions, a graph 1,000 nodes deep)", "Value"):
        x = Value(0.5)
        y = x
        for _ in range(1000):
            y = y + x
        y.backward()
        got = number(x.grad, "x.grad"), number(y.data, "y.data")
    if not np.allclose(got, (1001.0, 500.5), rtol=1e-12):
        raise CheckFailed(
            f"Value: y = x + x + ... + x (1,001 times x) should give y.data = 500.5 and x.grad = 1001, "
            f"got y.data = {fmt(got[1])}, x.grad = {fmt(got[0])}."
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


def run_program(Value, values: list[float], program: list[tuple]):
    """Every node of the program built with ``Value``; the output is the sum of the last four."""
    nodes = [Value(v) for v in values]
    for name, picks in program:
        nodes.append(STEPS[name][2](*(nodes[i] for i in picks)))
    out = nodes[-1] + nodes[-2] + nodes[-3] + nodes[-4]
    out.backward()
    return nodes, out


def describe_node(index: int, inputs: int, program: list[tuple]) -> str:
    if index < inputs:
        return f"input {index}"
    name, picks = program[index - inputs]
    return f"node {index} = " + STEPS[name][1].format(*(f"node {i}" for i in picks))


@check("Value", "matches the reference on random expression graphs", 2.0, hidden=True)
def value_matches_reference(Value, reference):
    RefValue = reference.get("Value")
    for seed in range(8):
        values, program = random_program(1000 + seed)
        ref_nodes, ref_out = run_program(RefValue, values, program)
        if any(abs(n.data) > 1e6 for n in ref_nodes):  # keep the comparison well conditioned
            continue
        with student_code(f"Value: a random expression graph (seed {1000 + seed})", "Value"):
            nodes, out = run_program(Value, values, program)
            got = [(number(n.data, "data"), number(n.grad, "grad")) for n in nodes]
        for index, ((data, grad), ref) in enumerate(zip(got, ref_nodes, strict=True)):
            for what, mine, theirs in (("data", data, ref.data), ("grad", grad, ref.grad)):
                if not math.isclose(mine, theirs, rel_tol=1e-7, abs_tol=1e-10):
                    raise CheckFailed(
                        f"Value: on a random expression graph (seed {1000 + seed}, inputs "
                        f"{[round(v, 4) for v in values]}), {describe_node(index, len(values), program)} "
                        f"has {what} {fmt(mine)}, expected {fmt(theirs)}. The output is the sum of the "
                        f"last four nodes. Compare the {what} of each operation in that line."
                    )
