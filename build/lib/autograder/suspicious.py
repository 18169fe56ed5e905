"""Spot code an instructor should look at before trusting a grade.

The graded functions of this course compute with NumPy and plain Python. Code that runs
during grading and reaches for files, processes, the interpreter's internals or other
modules' attributes has no place in them: it is how a submission would read the reference
solution from disk, write a results file, or patch NumPy or the grader. The student's
process is confined so that none of this can change a grade (`autograder.isolation`);
the submission is flagged for review as well, with what was found and where.

Only the code grading runs is scanned (the definitions the loader keeps), so a plot cell
or the capstone's loading of earlier notebooks never raises a flag.
"""

from __future__ import annotations

import ast

from autograder.notebook import Block

# Names whose use in graded code is suspicious, with what they are for.
SUSPICIOUS_NAMES = {
    "open": "opens files",
    "exec": "executes code from a string",
    "eval": "evaluates code from a string",
    "compile": "compiles code",
    "__import__": "imports modules dynamically",
    "globals": "reaches into global variables",
    "setattr": "sets attributes dynamically",
    "delattr": "deletes attributes",
    "breakpoint": "starts a debugger",
}
SUSPICIOUS_MODULES = {
    "os": "uses the operating system (files, processes)",
    "sys": "reaches into the interpreter",
    "subprocess": "starts processes",
    "shutil": "copies or deletes files",
    "pathlib": "reads or writes files",
    "glob": "lists files",
    "io": "reads or writes files",
    "importlib": "imports modules dynamically",
    "builtins": "changes Python's built-in functions",
    "ctypes": "calls native code",
    "inspect": "inspects the running program",
    "gc": "walks the interpreter's objects",
    "socket": "opens network connections",
    "signal": "handles signals (time limits)",
    "pickle": "loads pickled data",
    "autograder": "uses the grader itself",
}
ALLOWED = {("sys", "setrecursionlimit"), ("sys", "getrecursionlimit")}


def _module_aliases(blocks: list[Block]) -> dict[str, str]:
    """Local name -> top-level module, for every import in the kept code."""
    aliases = {}
    for block in blocks:
        for node in ast.walk(block.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = node.module.split(".")[0]
    return aliases


def suspicious_code(blocks: list[Block]) -> list[str]:
    """What in ``blocks`` an instructor should review, one line per finding (no duplicates)."""
    aliases = _module_aliases(blocks)
    findings: list[str] = []

    def report(block: Block, node: ast.AST, what: str) -> None:
        line = f"{block.filename.strip('<>')}, line {getattr(node, 'lineno', '?')}: {what}"
        if line not in findings:
            findings.append(line)

    for block in blocks:
        for node in ast.walk(block.tree):
            if isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES and isinstance(node.ctx, ast.Load):
                report(block, node, f"`{node.id}` ({SUSPICIOUS_NAMES[node.id]})")
            elif isinstance(node, ast.Name) and node.id in aliases and aliases[node.id] in SUSPICIOUS_MODULES:
                module = aliases[node.id]
                parent_attr = getattr(getattr(node, "_parent_attr", None), "attr", None)
                if (module, parent_attr) not in ALLOWED:
                    report(block, node, f"`{node.id}` ({SUSPICIOUS_MODULES[module]})")
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
                targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and _root_name(target) in aliases:
                        report(block, node, f"changes `{ast.unparse(target)}`, an attribute of the module "
                                            f"{aliases[_root_name(target)]}")
            for child in ast.iter_child_nodes(node):
                if isinstance(node, ast.Attribute):
                    child._parent_attr = node  # lets a module name see the attribute used on it
    return findings


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
