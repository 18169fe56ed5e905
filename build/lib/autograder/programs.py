"""Build a computation graph with a student's class, from a plain description.

The checks of ``Value`` describe each graph as a *program* of plain steps; the program runs
where the class lives (the student's own process during official grading, the notebook's
kernel during a self-check) and only the numbers it reads come back. So the grader never
holds one of the student's objects, let alone calls a method on one.

A program is a list of steps, each making node ``len(nodes)`` (or nothing, for backward):

    ("new", 2.0)              Value(2.0)
    ("op", "add", 0, ("c", 2.0))  nodes[0] + 2.0     (an operand is a node index or ("c", x))
    ("op", "neg", 3)          -nodes[3]
    ("call", "exp", 1)        nodes[1].exp()
    ("backward", 5)           nodes[5].backward()

`run_program` returns ``[(node.data, node.grad) for each node index in reads]``.
"""

from __future__ import annotations

import operator
from typing import Any

BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
          "pow": operator.pow}
UNARY = {"neg": operator.neg}
METHODS = ("exp", "log", "tanh", "relu", "sigmoid")

Step = tuple


def run_program(cls: Any, program: list[Step], reads: list[int]) -> list[tuple[Any, Any]]:
    """Run ``program`` with the class ``cls`` (see the module docstring)."""
    nodes: list[Any] = []

    def operand(item: Any) -> Any:
        if isinstance(item, tuple) and len(item) == 2 and item[0] == "c":
            return item[1]
        return nodes[int(item)]

    for step in program:
        kind = step[0]
        if kind == "new":
            nodes.append(cls(step[1]))
        elif kind == "op" and step[1] in BINARY:
            nodes.append(BINARY[step[1]](operand(step[2]), operand(step[3])))
        elif kind == "op" and step[1] in UNARY:
            nodes.append(UNARY[step[1]](operand(step[2])))
        elif kind == "call" and step[1] in METHODS:
            nodes.append(getattr(operand(step[2]), step[1])())
        elif kind == "backward":
            operand(step[1]).backward()
        else:
            raise ValueError(f"unknown program step {kind!r}")
    return [(nodes[i].data, nodes[i].grad) for i in reads]


def const(value: float) -> tuple[str, float]:
    """A constant operand (``2`` in ``a + 2``), kept as the number it is."""
    return ("c", value)


class Program:
    """A program under construction: ``p.new(2.0)`` returns node indices to combine."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.count = 0

    def _add(self, step: Step) -> int:
        self.steps.append(step)
        self.count += 1
        return self.count - 1

    def new(self, value: float) -> int:
        return self._add(("new", float(value)))

    def op(self, name: str, a: int | tuple, b: int | tuple | None = None) -> int:
        """``a <name> b`` (or ``<name> a``); operands are node indices or `const` values."""
        return self._add(("op", name, a) if b is None else ("op", name, a, b))

    def call(self, method: str, node: int) -> int:
        return self._add(("call", method, node))

    def backward(self, node: int) -> None:
        self.steps.append(("backward", node))


class Symbol:
    """A node of a `Program` under construction that records the operations applied to it,
    so a graph can be written as ordinary code: ``(a * b + 2).exp()``."""

    __slots__ = ("program", "index")

    def __init__(self, program: Program, index: int):
        self.program, self.index = program, index

    @staticmethod
    def operand(value: Symbol | float) -> int | tuple:
        return value.index if isinstance(value, Symbol) else const(value)

    def _binary(self, name: str, other: Symbol | float, reflected: bool = False) -> Symbol:
        a, b = (self.operand(other), self.index) if reflected else (self.index, self.operand(other))
        return Symbol(self.program, self.program.op(name, a, b))

    def __add__(self, other): return self._binary("add", other)
    def __radd__(self, other): return self._binary("add", other, True)
    def __sub__(self, other): return self._binary("sub", other)
    def __rsub__(self, other): return self._binary("sub", other, True)
    def __mul__(self, other): return self._binary("mul", other)
    def __rmul__(self, other): return self._binary("mul", other, True)
    def __truediv__(self, other): return self._binary("truediv", other)
    def __rtruediv__(self, other): return self._binary("truediv", other, True)
    def __pow__(self, other): return self._binary("pow", other)
    def __neg__(self): return Symbol(self.program, self.program.op("neg", self.index))

    def _method(self, name: str) -> Symbol:
        return Symbol(self.program, self.program.call(name, self.index))

    def exp(self): return self._method("exp")
    def log(self): return self._method("log")
    def tanh(self): return self._method("tanh")
    def relu(self): return self._method("relu")
    def sigmoid(self): return self._method("sigmoid")
