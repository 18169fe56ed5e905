"""Code as fingerprints: what the similarity review (`autograder.similarity`) compares.

Each function a notebook defines (and each method of a class it defines) becomes a sequence
of tokens, read from its syntax tree so that what does not change what the code computes is
gone, then fingerprinted as the hashes of every ``K`` consecutive tokens. Two copies of one
function share most fingerprints however they are disguised; two functions share one only
where ``K`` tokens of them are the same code.

What the tokens leave out or make the same:

- names: parameters by position (``P0``, ``P1``: the contract fixes the signatures), local
  variables all as ``V``, the notebook's own helper functions as ``F``; module aliases
  resolved (``np.mean``, ``numpy.mean`` and ``from numpy import mean`` are ``numpy.mean``);
  top-level constants replaced by their values (``EPS`` by ``1e-12``);
- comments, formatting, docstrings, type annotations, ``pass``, ``print(...)``, string
  statements, code after ``return``/``raise``/``break``/``continue``, the branch of an
  ``if`` on a constant that never runs, and assignments to names that are never read;
- the order of functions (each is fingerprinted on its own);
- ``x += y`` is ``x = x + y``; the operands of ``+ * & | ^ == !=`` come in one order; ``a > b`` is
  ``b < a``; ``x ** 2`` is ``x * x``; ``2`` is ``2.0``.

What they keep: the structure of each statement and expression, the library functions and
attributes used (``np.sum`` is not ``np.mean``), constants, and the order of statements
within a function (statements moved around change only the fingerprints across the places
moved). A different algorithm (a loop for ``np.sum``, ``np.square(x)`` for ``x ** 2``) is
different code.

The work is bounded whatever a notebook holds: trees are read to a fixed depth (deeper
parts count as one token) and a function, a notebook, keep at most a fixed number of tokens.
Nothing here runs student code: it reads syntax trees (`autograder.notebook`).
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from autograder.notebook import Block

K = 10  # tokens per fingerprint: about one line of code
MAX_DEPTH = 40  # syntax-tree levels read; deeper parts are one token
TOKENS_PER_UNIT = 4_000
TOKENS_PER_SOURCE = 40_000
UNITS_PER_SOURCE = 300
UNIT_SOURCE_CHARS = 6_000  # characters of a function's source kept to show it

_COMMUTATIVE = (ast.Add, ast.Mult, ast.BitOr, ast.BitAnd, ast.BitXor)
_ENDS_BLOCK = (ast.Return, ast.Raise, ast.Break, ast.Continue)
_FLIPPED = {ast.Gt: "Lt", ast.GtE: "LtE"}
_SYMMETRIC = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)
_BUILTINS = frozenset(dir(builtins))
_SKIPPED_FIELDS = {"ctx", "type_comment", "annotation", "returns", "type_params", "decorator_list",
                   "kind"}


@dataclass(frozen=True)
class Unit:
    """One function (or method) of a notebook, as the review shows it.

    Attributes:
        name: its name (``"mse"``, ``"Value.__add__"``), as written (hostile text).
        cell: the cell it is in (``"<code cell 3>"``).
        first_line: the line of its ``def`` in that cell (1-based).
        source: its source as written, at most `UNIT_SOURCE_CHARS` characters.
    """

    name: str
    cell: str
    first_line: int
    source: str


@dataclass
class Fingerprints:
    """The fingerprints of one notebook (or file).

    Attributes:
        units: its functions and methods, in notebook order.
        grams: fingerprint -> where it occurs: (unit index, the lines of its tokens), lines
            counted from the unit's ``def`` (0 is its first line).
        truncated: whether bounds were reached (part of the code was not fingerprinted).
    """

    units: list[Unit] = field(default_factory=list)
    grams: dict[int, list[tuple[int, tuple[int, ...]]]] = field(default_factory=dict)
    truncated: bool = False

    @property
    def hashes(self) -> set[int]:
        return set(self.grams)


def fingerprint_blocks(blocks: list[Block], functions: tuple[str, ...] = ()) -> Fingerprints:
    """The fingerprints of the definitions in ``blocks`` (`autograder.notebook.Block`).

    Args:
        blocks: a notebook's kept statements, cell by cell.
        functions: names the course fixes (the assignments' functions and helpers): kept as
            they are when called, where another function the notebook defines is ``F``.
    """
    statements = [(b, node) for b in blocks for node in b.tree.body]
    context = _Context.of([node for _, node in statements], functions)
    result = Fingerprints()
    budget = TOKENS_PER_SOURCE
    for block, node in statements:
        for name, unit in _units(node):
            if len(result.units) >= UNITS_PER_SOURCE or budget <= 0:
                result.truncated = True
                return result
            tokens = _Tokens(context, unit, min(TOKENS_PER_UNIT, budget)).of_unit()
            budget -= len(tokens.items)
            result.truncated |= tokens.truncated
            index = len(result.units)
            result.units.append(Unit(name, block.filename, unit.lineno, _source_of(block.source, unit)))
            for gram, lines in _grams(tokens.items, unit.lineno):
                result.grams.setdefault(gram, []).append((index, lines))
    return result


def _units(node: ast.stmt) -> list[tuple[str, ast.AST]]:
    """The functions a top-level statement defines: itself, or a class's methods."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return [(node.name, node)]
    if isinstance(node, ast.ClassDef):
        return [(f"{node.name}.{m.name}", m) for m in node.body
                if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)]
    return []


def _source_of(source: str, node: ast.AST) -> str:
    lines = source.splitlines()[node.lineno - 1: getattr(node, "end_lineno", node.lineno)]
    text = "\n".join(lines)
    return text if len(text) <= UNIT_SOURCE_CHARS else text[:UNIT_SOURCE_CHARS] + "\n..."


def _grams(items: list[tuple[str, int]], first_line: int) -> list[tuple[int, tuple[int, ...]]]:
    """(hash, the lines its tokens are on) of every K consecutive tokens; a unit shorter than
    K is one fingerprint."""
    tokens = tuple(t for t, _ in items)
    lines = [line - first_line for _, line in items]
    if not tokens:
        return []
    if len(tokens) < K:
        return [(hash(tokens), tuple(sorted(set(lines))))]
    return [(hash(tokens[i:i + K]), tuple(sorted(set(lines[i:i + K])))) for i in range(len(tokens) - K + 1)]


@dataclass(frozen=True)
class _Context:
    """What the top level of a notebook says about names: module aliases, constants, its own
    functions."""

    modules: dict[str, str]  # local name -> dotted module path ("np" -> "numpy")
    constants: dict[str, str]  # name -> the token of its constant value
    helpers: frozenset[str]  # the notebook's own functions and classes
    fixed: frozenset[str]  # names the assignment fixes

    @classmethod
    def of(cls, statements: list[ast.stmt], fixed: tuple[str, ...]) -> _Context:
        modules: dict[str, str] = {}
        constants: dict[str, str] = {}
        helpers: set[str] = set()
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        modules[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        modules[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1
                  and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant)):
                constants[node.targets[0].id] = _constant(node.value.value)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                helpers.add(node.name)
        return cls(modules, constants, frozenset(helpers), frozenset(fixed))


def _constant(value: object) -> str:
    if isinstance(value, bool) or value is None or value is Ellipsis:
        return repr(value)
    if isinstance(value, int | float):
        try:
            return repr(float(value))
        except OverflowError:
            return "int"
    if isinstance(value, str):
        return repr(value) if len(value) <= 30 else "str"
    return type(value).__name__


class _Tokens:
    """The tokens of one function: (token, line) in reading order."""

    def __init__(self, context: _Context, unit: ast.AST, budget: int) -> None:
        self.context = context
        self.budget = budget
        self.items: list[tuple[str, int]] = []
        self.truncated = False
        self.params: dict[str, str] = {}
        self.locals: set[str] = set()
        self.read: set[str] = set()
        self.unit = unit

    def of_unit(self) -> _Tokens:
        unit = self.unit
        assert isinstance(unit, ast.FunctionDef | ast.AsyncFunctionDef)
        arguments = unit.args
        every = [*arguments.posonlyargs, *arguments.args, *([arguments.vararg] if arguments.vararg else []),
                 *arguments.kwonlyargs, *([arguments.kwarg] if arguments.kwarg else [])]
        self.params = {a.arg: f"P{i}" for i, a in enumerate(every)}
        self._scan(unit)
        line = unit.lineno
        self._emit(f"def/{len(every)}", line)
        for default in [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]:
            self._expression(default, line, 1)
        self._body(unit.body, line, 1, docstring=True)
        return self

    def _scan(self, unit: ast.AST) -> None:
        """The unit's local names (stored anywhere in it) and the names it reads."""
        for node in ast.walk(unit):
            kind = type(node)
            if kind is ast.Name:
                (self.read if type(node.ctx) is ast.Load else self.locals).add(node.id)
            elif kind is ast.arg:
                if node.arg not in self.params:
                    self.locals.add(node.arg)
            elif (kind is ast.ExceptHandler and node.name) or (
                    kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef) and node is not unit):
                self.locals.add(node.name)

    def _emit(self, token: str, line: int) -> bool:
        if len(self.items) >= self.budget:
            self.truncated = True
            return False
        self.items.append((token, line))
        return True

    def _body(self, statements: list[ast.stmt], line: int, depth: int, docstring: bool = False) -> None:
        for index, node in enumerate(statements):
            if docstring and index == 0 and _is_string(node):
                continue
            if not self._statement(node, depth):
                return
            if isinstance(node, _ENDS_BLOCK):
                return  # what follows never runs

    def _statement(self, node: ast.stmt, depth: int) -> bool:
        """Emit one statement; False when the budget is spent."""
        line = node.lineno
        if len(self.items) >= self.budget:
            self.truncated = True
            return False
        if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and (
                _is_string(node) or isinstance(node.value, ast.Constant) or _is_print(node.value))):
            return True
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and self._unused(node):
            return True
        if isinstance(node, ast.If) and isinstance(node.test, ast.Constant):  # only one branch runs
            self._body(node.body if node.test.value else node.orelse, line, depth + 1)
            return True
        if isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and not node.test.value:
            self._body(node.orelse, line, depth + 1)
            return True
        if isinstance(node, ast.AugAssign):
            self._emit("Assign", line)
            self._expression(node.target, line, depth + 1)
            self._binary(node.op, node.target, node.value, line, depth + 1)
            return True
        if isinstance(node, ast.AnnAssign):
            if node.value is None:
                return True
            node = ast.Assign(targets=[node.target], value=node.value, lineno=line)
        self._node(node, line, depth)
        return True

    def _unused(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> bool:
        """An assignment only to local names the function never reads."""
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = []
        for target in targets:
            for part in ast.walk(target) if isinstance(target, ast.Tuple | ast.List) else [target]:
                if isinstance(part, ast.Tuple | ast.List | ast.Starred):
                    continue
                if not isinstance(part, ast.Name):
                    return False
                names.append(part.id)
        return bool(names) and not any(n in self.read for n in names)

    def _node(self, node: ast.AST, line: int, depth: int) -> None:
        """Emit any node: its kind, then its fields in order."""
        line = getattr(node, "lineno", line)
        if depth > MAX_DEPTH:
            self._emit("deep", line)
            return
        if not self._emit(type(node).__name__, line):
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            self._node(node.args, line, depth + 1)
            if isinstance(node, ast.Lambda):
                self._expression(node.body, line, depth + 1)
            else:
                self._body(node.body, line, depth + 1, docstring=True)
            return
        for name, value in ast.iter_fields(node):
            if name in _SKIPPED_FIELDS:
                continue
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    self._body(value, line, depth + 1)
                else:
                    for item in value:
                        self._child(item, line, depth + 1)
            else:
                self._child(value, line, depth + 1)

    def _child(self, value: object, line: int, depth: int) -> None:
        if isinstance(value, ast.stmt):
            self._statement(value, depth)
        elif isinstance(value, ast.expr):
            self._expression(value, line, depth)
        elif isinstance(value, ast.AST):
            if isinstance(value, ast.arg):
                self._emit(self.params.get(value.arg, "V"), line)
            elif isinstance(value, ast.operator | ast.unaryop | ast.cmpop | ast.boolop):
                self._emit(type(value).__name__, line)
            else:
                self._node(value, line, depth)
        elif isinstance(value, str):
            self._emit(value if len(value) <= 40 else "str", line)  # keyword names, attributes
        elif value is not None:
            self._emit(_constant(value), line)

    def _expression(self, node: ast.expr, line: int, depth: int) -> None:
        line = getattr(node, "lineno", line)
        if depth > MAX_DEPTH:
            self._emit("deep", line)
            return
        if isinstance(node, ast.Name):
            self._emit(self._name(node.id), line)
        elif isinstance(node, ast.Constant):
            self._emit(_constant(node.value), line)
        elif isinstance(node, ast.Attribute) and (dotted := self._module_path(node)):
            self._emit(dotted, line)
        elif isinstance(node, ast.Attribute):
            self._expression(node.value, line, depth + 1)
            self._emit("." + (node.attr if len(node.attr) <= 40 else "attr"), line)
        elif isinstance(node, ast.BinOp):
            if (isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant)
                    and node.right.value == 2 and isinstance(node.left, ast.Name | ast.Attribute)):
                self._binary(ast.Mult(), node.left, node.left, line, depth)
            else:
                self._binary(node.op, node.left, node.right, line, depth)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIPPED:
            self._emit("Compare", line)
            self._expression(node.comparators[0], line, depth + 1)
            self._emit(_FLIPPED[type(node.ops[0])], line)
            self._expression(node.left, line, depth + 1)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], _SYMMETRIC):
            self._emit(f"Compare.{type(node.ops[0]).__name__}", line)
            self._in_order([node.left, node.comparators[0]], line, depth + 1)
        else:
            self._node(node, line, depth)

    def _binary(self, op: ast.operator, left: ast.expr, right: ast.expr, line: int, depth: int) -> None:
        self._emit(f"BinOp.{type(op).__name__}", line)
        if not isinstance(op, _COMMUTATIVE):
            self._expression(left, line, depth + 1)
            self._expression(right, line, depth + 1)
            return
        self._in_order([left, right], line, depth + 1)

    def _in_order(self, operands: list[ast.expr], line: int, depth: int) -> None:
        """The tokens of ``operands`` (whose order does not matter), in one order."""
        parts = []
        for operand in operands:  # each on its own, then sorted
            start = len(self.items)
            self._expression(operand, line, depth)
            parts.append(self.items[start:])
            del self.items[start:]
        for part in sorted(parts, key=lambda items: [t for t, _ in items]):
            self.items += part

    def _name(self, name: str) -> str:
        if name in self.params:
            return self.params[name]
        if name in self.locals:
            return "V"
        context = self.context
        if name in context.modules:
            return context.modules[name]
        if name in context.constants:
            return context.constants[name]
        if name in context.fixed or name in _BUILTINS:
            return name
        if name in context.helpers:
            return "F"
        return "G"

    def _module_path(self, node: ast.Attribute) -> str | None:
        """``numpy.linalg.norm`` for ``np.linalg.norm`` when ``np`` is a module alias."""
        parts = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute) and len(parts) < 8:
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name) or current.id in self.params or current.id in self.locals:
            return None
        module = self.context.modules.get(current.id)
        if module is None:
            return None
        dotted = ".".join([module, *reversed(parts)])
        return dotted if len(dotted) <= 80 else module


def _is_string(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(
        node.value.value, str)


def _is_print(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
