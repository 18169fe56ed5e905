"""Read a notebook and keep only its definitions.

A submitted notebook holds more than the functions we grade: plots, demos, prints,
slow experiments, test cells. Grading must neither run them (they cost time and may
fail) nor depend on them. So we parse every code cell and keep only:

- ``def`` and ``class`` statements (the graded code),
- quiz answers (top-level ``Q1 = ...``) and ``sys.setrecursionlimit(...)`` calls,
- imports and assignments whose names those definitions use (``import numpy as np``,
  ``EPS = 1e-12``), found by following names to a fixed point.

Everything else (expressions, loops, ``plt.plot(...)``, ``check("mse")``) is dropped.
"""

from __future__ import annotations

import ast
import json
import re
import symtable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import NotebookError
from autograder.files import read_notebook_bytes
from autograder.limits import LIMITS, Limits

QUIZ_NAME = re.compile(r"^Q\d+$")


@dataclass
class Cell:
    """One code cell: its position among all cells, its source and nbgrader metadata."""

    index: int
    source: str
    nbgrader: dict = field(default_factory=dict)


@dataclass
class Definitions:
    """What a notebook defines, as code ready to execute.

    Attributes:
        blocks: the kept statements, cell by cell, in notebook order.
        notes: problems a student should hear about (a cell that does not parse...).
        metadata: the notebook's top-level metadata.
        cells: every code cell, for callers that need more (recognising an assignment).
    """

    blocks: list[Block]
    notes: list[str]
    metadata: dict
    cells: list[Cell]


def read_cells(path: str | Path, limits: Limits = LIMITS) -> tuple[list[Cell], dict]:
    """Return the code cells and the metadata of the notebook at ``path``.

    The file is read safely (`autograder.files.read_notebook_bytes`). Raises NotebookError
    with a one-line message when it is missing, too large, not JSON, or not shaped like a
    notebook.
    """
    return parse_cells(read_notebook_bytes(path, limits), str(path))


def decode_notebook(data: bytes, name: str = "the notebook") -> dict:
    """The JSON of a notebook given as bytes: a dict with a list of cells, nothing checked
    below that. Raises NotebookError with a one-line message otherwise."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a valid notebook file (not UTF-8 text)") from None
    except RecursionError:
        raise NotebookError(f"{name} is not a valid notebook file (JSON nested too deeply)") from None
    except ValueError as error:  # not JSON, or a number JSON can hold and Python will not read
        raise NotebookError(f"{name} is not a valid notebook file (not JSON: {str(error)[:200]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookError(f"{name} is not a Jupyter notebook (no list of cells)")
    return raw


def parse_cells(data: bytes, name: str = "the notebook") -> tuple[list[Cell], dict]:
    """The code cells and metadata of a notebook given as bytes (see `read_cells`)."""
    raw = decode_notebook(data, name)
    cells = []
    for index, cell in enumerate(raw["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(line for line in source if isinstance(line, str))
        if not isinstance(source, str):
            source = ""
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbgrader = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
        cells.append(Cell(index=index, source=source, nbgrader=nbgrader))
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    return cells, metadata


def strip_magics(source: str) -> str:
    """Blank out IPython syntax (``%matplotlib inline``, ``!pip ...``, ``%%time``).

    Lines keep their numbers so that error messages point at the right line.
    """
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        lines[0] = ""
    return "\n".join("" if line.lstrip()[:1] in ("%", "!") else line for line in lines)


DEFINITION = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
BINDING = (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)


def _bound_names(node: ast.stmt) -> set[str]:
    """Names a top-level import or assignment binds."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {
        name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)
    }


def _free_names(node: ast.stmt) -> set[str]:
    """Global names a top-level statement reads, found by Python's own scope analysis
    (a function's parameters and locals do not count)."""
    table = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    names = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    tables = list(table.get_children())
    while tables:
        inner = tables.pop()
        names |= {s.get_name() for s in inner.get_symbols() if s.is_global()}
        tables.extend(inner.get_children())
    return names


def _is_setting(node: ast.stmt) -> bool:
    """``sys.setrecursionlimit(...)``: a top-level call that changes how definitions run."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute | ast.Name)
        and getattr(node.value.func, "attr", getattr(node.value.func, "id", "")) == "setrecursionlimit"
    )


def _is_quiz_answer(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and QUIZ_NAME.match(t.id) for t in node.targets
    )


@dataclass
class Block:
    """Kept statements of one cell, with the cell's source for tracebacks."""

    filename: str
    source: str
    tree: ast.Module


def select_definitions(cells: list[Cell]) -> tuple[list[Block], list[str]]:
    """Keep the definitions of ``cells`` (see the module docstring).

    Returns one Block per cell that keeps anything, and notes about cells that could not
    be parsed.
    """
    parsed: list[tuple[str, str, list[ast.stmt]]] = []
    free: dict[int, set[str]] = {}  # id(statement) -> the global names it reads
    notes = []
    for number, cell in enumerate(cells, start=1):
        source = strip_magics(cell.source)
        try:
            tree = ast.parse(source)
            free.update({id(node): _free_names(node) for node in tree.body})
        except SyntaxError as error:
            notes.append(
                f"code cell {number} has a syntax error (line {error.lineno}: {error.msg}); "
                "it was skipped, so nothing it defines can be graded"
            )
            continue
        except (RecursionError, MemoryError, ValueError):
            notes.append(f"code cell {number} is nested too deeply to be read; it was skipped")
            continue
        parsed.append((f"<code cell {number}>", source, tree.body))

    statements = [node for _, _, body in parsed for node in body]
    kept = {
        id(n) for n in statements if isinstance(n, DEFINITION) or _is_quiz_answer(n) or _is_setting(n)
    }
    # Follow names used by kept code back to the imports and assignments that bind them.
    needed = set().union(*(free[id(n)] for n in statements if id(n) in kept))
    changed = True
    while changed:
        changed = False
        for node in statements:
            if id(node) in kept or not isinstance(node, BINDING):
                continue
            if _bound_names(node) & needed:
                kept.add(id(node))
                needed |= free[id(node)]
                changed = True

    blocks = []
    for filename, source, body in parsed:
        body = [node for node in body if id(node) in kept]
        if body:
            blocks.append(Block(filename, source, ast.Module(body=body, type_ignores=[])))
    return blocks, notes


def defined_in_locked_cells(cells: list[Cell]) -> dict[str, list[str]]:
    """grade id -> the names (functions, classes, quiz answers) defined at the top of each code
    cell that nbgrader's metadata marks as locked (a test cell, a read-only cell). nbgrader shows
    such a cell as released, whatever the submission holds, so code graded from it is code no
    nbgrader page shows."""
    found: dict[str, list[str]] = {}
    for cell in cells:
        meta = cell.nbgrader if isinstance(cell.nbgrader, dict) else {}
        test_cell = meta.get("grade") is True and meta.get("solution") is not True
        if not (meta.get("locked") is True or test_cell):
            continue
        try:
            body = ast.parse(strip_magics(cell.source)).body
        except (SyntaxError, RecursionError, MemoryError, ValueError):
            continue
        names = [node.name for node in body if isinstance(node, DEFINITION)]
        names += [t.id for node in body if _is_quiz_answer(node)
                  for t in node.targets if isinstance(t, ast.Name)]
        if names:
            found[str(meta.get("grade_id", f"cell {cell.index}"))] = names
    return found


def blocks_to_plain(blocks: list[Block]) -> list[tuple[str, str, list[int]]]:
    """The kept statements as plain data (cell name, cell source, first line of each kept
    statement), for the student's process, which parses them again (`blocks_from_plain`)."""
    return [(b.filename, b.source, [node.lineno for node in b.tree.body]) for b in blocks]


def blocks_from_plain(plain: list[tuple[str, str, list[int]]]) -> list[Block]:
    """The inverse of `blocks_to_plain`."""
    blocks = []
    for filename, source, lines in plain:
        kept = set(lines)
        body = [node for node in ast.parse(source).body if node.lineno in kept]
        blocks.append(Block(filename, source, ast.Module(body=body, type_ignores=[])))
    return blocks


def load_definitions(path: str | Path, limits: Limits = LIMITS, data: bytes | None = None) -> Definitions:
    """Read the notebook at ``path`` (or, when given, its bytes ``data``, already read) and return
    its definitions (see the module docstring)."""
    cells, metadata = read_cells(path, limits) if data is None else parse_cells(data, str(path))
    blocks, notes = select_definitions(cells)
    return Definitions(blocks=blocks, notes=notes, metadata=metadata, cells=cells)
