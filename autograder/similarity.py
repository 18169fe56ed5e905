"""The similarity review: pairs of submissions worth a second look, for the instructor only.

For each assignment, every submission's functions are fingerprinted (`autograder.fingerprints`:
names, comments, formatting, order and a few rewrites normalised away) and compared with
every other submission's, and with the files of a corpus of public solutions if the
instructor gives one. What makes a pair is shared code that is *unusual*:

- code the release's starter code or the reference solution also holds counts for nothing
  (everyone starts from the one, and the other is the plain way to write it);
- code that many in the class share counts less the more share it, and nothing once a fifth
  of the class does (`rarity`): a short function has few right forms, and a class writes
  ``np.mean((y_pred - y_true) ** 2)`` many times over;
- whole submissions are compared: a pair's `SimilarPair.score` is the share of the smaller
  submission's own code (what is not starter or reference code) that the other has too,
  weighted by rarity, and a pair is listed only when that share is high and the shared code
  is more than a few lines.

A pair is a prompt to read two submissions side by side, never a verdict: it changes no score,
raises no flag and is shown to no student (it is not in any submission's record, only in the
``"similar"`` list of the command line's ``--json`` document and what reads it).

Nothing here runs student code: it reads the definitions the grader keeps
(`autograder.notebook`), to bounded sizes.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import itertools
import math
import os
import re
import stat
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import Any, Protocol

from autograder.errors import NotebookError, ReferenceMissing
from autograder.files import file_problem, read_notebook_bytes
from autograder.fingerprints import Fingerprints, Unit, fingerprint_blocks
from autograder.limits import LIMITS, Limits
from autograder.notebook import Block, Cell, parse_cells, strip_magics
from autograder.text import display_name, one_line, visible

COMMON_SHARE = 0.2  # code shared by this share of the class counts for nothing
COMMON_MOST = 50  # ...or by this many students
MOST_PAIRS = 500  # pairs listed (the most similar); the others are counted in a note
MIN_SCORE = 0.6  # share of the smaller submission's own code that must be shared
MIN_SHARED = 25.0  # weighted fingerprints that must be shared: a few unusual lines
SOURCE_CHARS = 200_000  # code in one notebook or corpus file compared; a larger one is not
CORPUS_FILES = 2_000  # files of a corpus read; the rest are noted
CODE_PER_PAIR = 12  # pairs of functions shown per pair of submissions
SNIPPET_CHARS = 8_000  # characters of a function's source shown
_SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*", re.M | re.S)


class Entry(Protocol):
    """What the review needs of a submission: a graded result or a planned submission."""

    path: str | Path
    student: str
    assignment: str | None


@dataclass(frozen=True)
class Party:
    """One side of a pair: a student's submission, or a file of the corpus (``student`` None)."""

    student: str | None
    path: str

    @property
    def label(self) -> str:
        """How reports name it: the student, or ``corpus: <file>``."""
        return self.student if self.student is not None else f"corpus: {one_line(Path(self.path).name, 120)}"

    def to_dict(self) -> dict[str, Any]:
        return {"student": self.student, "path": self.path}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Party:
        student = data.get("student")
        return cls(None if student is None else str(student), str(data.get("path", "")))


@dataclass(frozen=True)
class Snippet:
    """One function of one side, as written.

    Attributes:
        function: its name (``"Value.__add__"`` for a method).
        cell: where it is (``"<code cell 4>"``; a ``.py`` file of the corpus is one cell).
        first_line: the line of its ``def`` there.
        source: its source, control characters escaped, bounded.
        lines: the lines of ``source`` (1-based) that hold shared code.
    """

    function: str
    cell: str
    first_line: int
    source: str
    lines: tuple[int, ...]

    def rows(self) -> list[tuple[int, str, bool]]:
        """(line number in its cell, text, whether it holds shared code) for every line of
        ``source``: what a report shows side by side, shared lines marked."""
        shared = set(self.lines)
        lines = self.source.splitlines()
        return [(self.first_line + i, text, i + 1 in shared) for i, text in enumerate(lines)]

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "cell": self.cell, "first_line": self.first_line,
                "source": self.source, "lines": list(self.lines)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snippet:
        return cls(str(data["function"]), str(data.get("cell", "")), int(data.get("first_line", 1)),
                   str(data.get("source", "")), tuple(int(n) for n in data.get("lines", [])))


@dataclass(frozen=True)
class SharedCode:
    """A function of one side and the function of the other that shares most code with it."""

    first: Snippet
    second: Snippet
    weight: float  # the shared fingerprints, weighted by rarity

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first.to_dict(), "second": self.second.to_dict(),
                "weight": round(self.weight, 2)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SharedCode:
        return cls(Snippet.from_dict(data["first"]), Snippet.from_dict(data["second"]), float(data["weight"]))


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions of one assignment (or one and a corpus file) worth reading side by side.

    Attributes:
        assignment: the assignment id.
        first, second: the two sides (``second`` is the corpus file for a corpus match).
        score: the share of the smaller side's own code the other has too, weighted by how
            unusual it is (0 to 1; for a corpus match, the share of the student's own code).
        shared: how much code that is (fingerprints, weighted; about 4 per line).
        code: the shared code, function by function, most shared first.
    """

    assignment: str
    first: Party
    second: Party
    score: float
    shared: float
    code: tuple[SharedCode, ...] = ()

    @property
    def corpus(self) -> bool:
        return self.second.student is None

    @property
    def functions(self) -> list[str]:
        """The functions of the first side that share code, most shared first."""
        return list(dict.fromkeys(c.first.function for c in self.code))

    def line(self) -> str:
        """One line for a terminal: assignment, the two sides, the score, the functions."""
        names = self.functions
        shown = ", ".join(one_line(n, 40) for n in names[:3])
        if len(names) > 3:
            shown += f", +{len(names) - 3}"
        return (f"{one_line(self.assignment, 30)}  {one_line(self.first.label, 60)} ~ "
                f"{one_line(self.second.label, 60)}  {self.score:.0%} shared ({shown})")

    def to_dict(self) -> dict[str, Any]:
        return {"assignment": self.assignment, "first": self.first.to_dict(), "second": self.second.to_dict(),
                "corpus": self.corpus, "score": round(self.score, 3), "shared": round(self.shared, 1),
                "code": [c.to_dict() for c in self.code]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimilarPair:
        return cls(str(data["assignment"]), Party.from_dict(data["first"]), Party.from_dict(data["second"]),
                   float(data["score"]), float(data.get("shared", 0.0)),
                   tuple(SharedCode.from_dict(c) for c in data.get("code", [])))


@dataclass
class Review:
    """What the review found: the pairs (most similar first) and what it could not compare."""

    pairs: list[SimilarPair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_similar(document: Any) -> list[SimilarPair] | None:
    """The pairs of a ``--json`` results document; None when the review did not run for it.
    Raises ValueError when the list is malformed."""
    if not isinstance(document, dict) or document.get("similar") is None:
        return None
    try:
        return [SimilarPair.from_dict(p) for p in document["similar"]]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"not a results file: a similar pair is malformed ({error})") from None


def rarity(count: int, class_size: int) -> float:
    """The weight of code that ``count`` submissions of a class of ``class_size`` share: 1 for
    two, less for more, 0 from a fifth of the class on (from 6 students in a class under 30, from
    50 in a class over 250: the work of comparing stays bounded)."""
    common = min(max(6, math.ceil(COMMON_SHARE * class_size)), COMMON_MOST)
    return max(0.0, (common - count) / (common - 2)) if count > 2 else 1.0


def review(entries: Iterable[Entry], *, solutions: Path | None = None, corpus: Path | None = None,
           limits: Limits = LIMITS) -> Review:
    """Pairs of ``entries`` (graded results or planned submissions) worth a second look.

    Args:
        entries: the class's submissions; those of an unknown assignment are passed over.
        solutions: the reference solutions (their code, and the starter code they hold, count
            for nothing); the release beside them (``exercises/``) likewise.
        corpus: a folder of public solutions (notebooks, ``.py`` files) to compare each
            submission with.
        limits: `Limits.notebook_bytes` bounds what is read.
    Returns:
        the pairs, most similar first, and notes on what could not be compared.
    """
    from autograder.assignments import ASSIGNMENTS

    found = Review()
    by_assignment: dict[str, list[tuple[Party, Fingerprints]]] = defaultdict(list)
    for entry in entries:
        assignment = ASSIGNMENTS.get(entry.assignment or "")
        if assignment is None:
            continue
        prints = _fingerprints(Path(entry.path), limits, found.notes, entry.student)
        if prints is not None:
            by_assignment[assignment.id].append((Party(entry.student, str(entry.path)), prints))
    library = _corpus(corpus, limits, found.notes) if corpus is not None else []
    for assignment_id, submissions in by_assignment.items():
        common = _boilerplate(assignment_id, solutions, limits)
        found.pairs += _pairs(assignment_id, submissions, common)
        if library:
            found.pairs += _corpus_pairs(assignment_id, submissions, common, library)
    found.pairs.sort(key=lambda p: (-p.score, -p.shared, p.assignment, p.first.label, p.second.label))
    if len(found.pairs) > MOST_PAIRS:
        found.notes.append(f"{len(found.pairs) - MOST_PAIRS:,} more pairs than the {MOST_PAIRS:,} listed")
        del found.pairs[MOST_PAIRS:]
    return found


def _fingerprints(path: Path, limits: Limits, notes: list[str], who: str) -> Fingerprints | None:
    """The fingerprints of a notebook's definitions, or None (with a note) when it cannot be
    read or is too large to compare."""
    try:
        cells, _ = parse_cells(read_notebook_bytes(path, limits), str(path))
    except NotebookError:
        return None  # grading said why already
    return _of_cells(cells, notes, f"{display_name(who)}'s {path.name}")


def _of_cells(cells: list[Cell], notes: list[str], what: str) -> Fingerprints | None:
    if sum(len(c.source) for c in cells) > SOURCE_CHARS:
        notes.append(one_line(f"{what}: more than {SOURCE_CHARS:,} characters of code, not compared", 400))
        return None
    try:
        return fingerprint_blocks(_definitions(cells), _course_names())
    except (RecursionError, MemoryError):
        notes.append(one_line(f"{what}: its code is nested too deeply to compare it", 400))
        return None


@functools.cache
def _course_names() -> tuple[str, ...]:
    """The names the course contract fixes (every assignment's functions and helpers): kept as
    they are in fingerprints, wherever they are called."""
    from autograder.assignments import ASSIGNMENTS

    return tuple(name for a in ASSIGNMENTS.values() for name in a.functions + a.helpers)


_KEPT = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Assign)


def _definitions(cells: list[Cell]) -> list[Block]:
    """The top-level definitions, imports and assignments of each cell that parses: what
    `autograder.notebook.select_definitions` keeps to grade, and a few assignments more (they
    only name constants here), without its scope analysis, which costs more than the review."""
    blocks = []
    for number, cell in enumerate(cells, start=1):
        if not any(word in cell.source for word in ("def ", "class ", "import ")):
            continue  # a demo, a plot, a check: nothing to compare (and parsing costs)
        source = strip_magics(cell.source)
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # grading told the student; nothing of it can be compared
        body = [node for node in tree.body if isinstance(node, _KEPT)]
        if body:
            blocks.append(Block(f"<code cell {number}>", source, ast.Module(body=body, type_ignores=[])))
    return blocks


def _boilerplate(assignment_id: str, solutions: Path | None, limits: Limits) -> set[int]:
    """The fingerprints of the code everyone may have: the reference solution, and the release
    (``exercises/`` beside the solutions or the package), or without it the reference's starter
    code (the reference with its solutions taken out, as nbgrader releases it)."""
    from autograder.assignments import ASSIGNMENTS
    from autograder.references import reference_notebook

    release_name = ASSIGNMENTS[assignment_id].notebook
    beside_package = Path(__file__).resolve().parents[1] / "exercises"
    roots = [*([solutions.parent / "exercises"] if solutions else []), beside_package]
    release = next((r / assignment_id / release_name for r in roots
                    if (r / assignment_id / release_name).is_file()), None)
    reference = None
    if solutions is not None:
        with contextlib.suppress(ReferenceMissing):
            reference = reference_notebook(solutions, assignment_id)
    versions: list[list[Cell]] = []
    for path in (p for p in (reference, release) if p is not None):
        with contextlib.suppress(NotebookError):
            versions.append(parse_cells(read_notebook_bytes(path, limits), str(path))[0])
    if reference is not None and release is None and versions:
        versions.append([replace(c, source=_SOLUTION.sub("raise NotImplementedError()", c.source))
                         for c in versions[0]])
    common: set[int] = set()
    for cells in versions:
        prints = _of_cells(cells, [], "the reference")
        common |= prints.hashes if prints else set()
    return common


def _own(prints: Fingerprints, common: set[int]) -> set[int]:
    return prints.hashes - common


def _pairs(assignment_id: str, submissions: list[tuple[Party, Fingerprints]],
           common: set[int]) -> list[SimilarPair]:
    """The pairs of one assignment's submissions that share enough unusual code."""
    own = [_own(prints, common) for _, prints in submissions]
    holders: dict[int, list[int]] = defaultdict(list)
    for index, hashes in enumerate(own):
        for h in hashes:
            holders[h].append(index)
    n = len(submissions)
    shared: dict[tuple[int, int], float] = defaultdict(float)
    for indices in holders.values():
        weight = rarity(len(indices), n)
        if weight > 0:
            for pair in combinations(indices, 2):
                shared[pair] += weight
    pairs = []
    for (i, j), amount in shared.items():
        smaller = min(len(own[i]), len(own[j]))
        score = amount / smaller if smaller else 0.0
        if score >= MIN_SCORE and amount >= MIN_SHARED:
            weights = {h: rarity(len(holders[h]), n) for h in own[i] & own[j]}
            (first, a), (second, b) = submissions[i], submissions[j]
            pairs.append(SimilarPair(assignment_id, first, second, min(score, 1.0), amount,
                                     _shared_code(a, b, weights)))
    return pairs


def _corpus_pairs(assignment_id: str, submissions: list[tuple[Party, Fingerprints]], common: set[int],
                  library: list[tuple[Party, Fingerprints]]) -> list[SimilarPair]:
    """Each submission against each corpus file: the share of the student's own code the file
    has too. Code most of the class shares counts for nothing here either."""
    own = [_own(prints, common) for _, prints in submissions]
    counts: dict[int, int] = defaultdict(int)
    for hashes in own:
        for h in hashes:
            counts[h] += 1
    widespread = max(4, len(submissions) // 2)  # more than half the class: what everyone writes
    pairs = []
    for party, prints in library:
        theirs = prints.hashes
        for (student, mine), hashes in zip(submissions, own, strict=True):
            weights = {h: 1.0 for h in hashes & theirs if counts[h] <= widespread}
            amount = sum(weights.values())
            score = amount / len(hashes) if hashes else 0.0
            if score >= MIN_SCORE and amount >= MIN_SHARED:
                pairs.append(SimilarPair(assignment_id, student, party, min(score, 1.0), amount,
                                         _shared_code(mine, prints, weights)))
    return pairs


def _shared_code(a: Fingerprints, b: Fingerprints, weights: dict[int, float]) -> tuple[SharedCode, ...]:
    """For each function of ``a`` that shares code with ``b``, the function of ``b`` it shares
    most with, and the lines of each that hold it."""
    between: dict[tuple[int, int], float] = defaultdict(float)
    lines_a: dict[tuple[int, int], set[int]] = defaultdict(set)
    lines_b: dict[tuple[int, int], set[int]] = defaultdict(set)
    for h, weight in weights.items():
        if weight <= 0:
            continue
        for unit_a, at_a in a.grams[h][:8]:  # the same code repeated: a few places are enough
            for unit_b, at_b in b.grams[h][:8]:
                key = (unit_a, unit_b)
                between[key] += weight
                lines_a[key].update(line + 1 for line in at_a)
                lines_b[key].update(line + 1 for line in at_b)
    best: dict[int, tuple[int, int]] = {}
    for key, weight in between.items():
        if key[0] not in best or weight > between[best[key[0]]]:
            best[key[0]] = key
    chosen = sorted(best.values(), key=lambda key: -between[key])[:CODE_PER_PAIR]
    return tuple(SharedCode(_snippet(a.units[i], lines_a[(i, j)]), _snippet(b.units[j], lines_b[(i, j)]),
                            between[(i, j)]) for i, j in chosen)


def _snippet(unit: Unit, lines: set[int]) -> Snippet:
    source = visible(unit.source)  # control and format characters escaped, line breaks kept
    if len(source) > SNIPPET_CHARS:
        source = source[:SNIPPET_CHARS] + "\n..."
    return Snippet(one_line(unit.name, 100), one_line(unit.cell, 100), unit.first_line, source,
                   tuple(sorted(lines)))


def _corpus(folder: Path, limits: Limits, notes: list[str]) -> list[tuple[Party, Fingerprints]]:
    """The fingerprints of every notebook and ``.py`` file under ``folder`` (links not
    followed, hidden folders passed over, at most `CORPUS_FILES` files)."""
    files: list[Path] = []
    pending = [folder]
    looked = 0  # entries looked at, files and folders: bounded however the corpus is laid out
    while pending and len(files) <= CORPUS_FILES and looked <= limits.submissions:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(itertools.islice(listing, limits.submissions), key=lambda e: e.name)
        except OSError:
            notes.append(one_line(f"corpus: {current} cannot be listed", 400))
            continue
        looked += len(entries)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append(Path(entry.path))
            elif entry.name.endswith((".ipynb", ".py")) and file_problem(info) is None:
                files.append(Path(entry.path))
    if len(files) > CORPUS_FILES or looked > limits.submissions:
        notes.append(f"corpus: only the first {min(len(files), CORPUS_FILES):,} files found were compared")
    library = []
    for path in sorted(files)[:CORPUS_FILES]:
        try:
            data = read_notebook_bytes(path, limits)
            if path.suffix == ".py":
                cells = [Cell(0, strip_magics(data.decode("utf-8", errors="replace")))]
            else:
                cells, _ = parse_cells(data, str(path))
        except NotebookError as problem:
            notes.append(one_line(f"corpus: {problem}", 400))
            continue
        prints = _of_cells(cells, notes, f"corpus file {path}")
        if prints is not None and prints.units:
            library.append((Party(None, str(path)), prints))
    return library


def similar_command(paths: list[str], *, corpus: str | None = None, solutions: str | None = None,
                    json_file: str | None = None) -> int:
    """``python -m autograder similar``: the review alone, without grading (a class graded with
    nbgrader, say), the students and assignments taken as every path takes them
    (`autograder.submissions.plan`; a notebook given alone is recognised from its code). Prints
    the pairs; writes ``{"similar": [...]}`` to ``json_file``. Returns the exit status: 0, or 2
    with a one-line message when a path or the corpus is missing."""
    import json
    import sys

    from autograder.assignments import recognise
    from autograder.classrun import SolutionsAmongSubmissions, find_solutions_for
    from autograder.submissions import plan

    try:
        found = plan(paths)
        reference = find_solutions_for(paths, solutions)
    except (FileNotFoundError, SolutionsAmongSubmissions) as problem:
        print(f"error: {problem.args[0]}", file=sys.stderr)
        return 2
    if corpus is not None and not Path(corpus).is_dir():
        print(f"error: --corpus {corpus}: no such folder", file=sys.stderr)
        return 2
    entries = []
    for submission in found.submissions:
        if submission.assignment is None:
            with contextlib.suppress(NotebookError):
                cells, metadata = parse_cells(read_notebook_bytes(submission.path), str(submission.path))
                recognised = recognise(metadata, cells).assignment
                submission = replace(submission, assignment=recognised.id if recognised else None)
        entries.append(submission)
    result = review(entries, solutions=reference, corpus=Path(corpus) if corpus else None)
    for line in [*summary_lines(result), *(f"note: {n}" for n in result.notes[:10])]:
        print(line)
    if json_file:
        document = {"similar": [p.to_dict() for p in result.pairs]}
        Path(json_file).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


def summary_lines(found: Review, most: int = 10) -> list[str]:
    """The terminal's section: the pairs worth a second look, one line each, at most ``most``."""
    if not found.pairs:
        return ["Similarity review: no pairs worth a second look."]
    lines = ["Pairs worth a second look (similar code: read them side by side; not a verdict, no score "
             "changed, never shown to students):"]
    lines += [f"  {pair.line()}" for pair in found.pairs[:most]]
    if len(found.pairs) > most:
        lines.append(f"  and {len(found.pairs) - most} more in the --json results and the class report")
    return lines


__all__ = ["Party", "Review", "SharedCode", "SimilarPair", "Snippet", "read_similar", "rarity", "review",
           "similar_command", "summary_lines"]
