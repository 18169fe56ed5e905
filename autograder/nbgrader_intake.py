"""What ``nbgrader autograde`` takes in of a submission: bounded, normalised, never able to
stop the class.

nbgrader reads a submission whole with nbformat and, after every preprocessor, validates it
whole again (a notebook of 200,000 cells costs minutes), and one notebook whose nbgrader
metadata it does not expect (a copied cell, ``"nbgrader": {}``, schema version 99, an upload
that is not a notebook) stops ``autograde`` for every student after it. Two course steps,
configured in ``nbgrader_config.py``, come first:

- `BoundedNotebookExporter` (``c.Autograde.exporter_class``) reads a submission as the grading
  core does (`autograder.files.read_notebook_bytes`: a regular file of at most 16 MB, no link
  followed) and hands nbgrader a notebook rebuilt from it with only what may be shown
  (`autograder.nbgrader_pages.inert_notebook`). A file that is not a notebook, or one larger
  than nbgrader should process (`Admission`: cells, characters of text), is replaced by a
  *stand-in*: the release's graded cells, without the student's work, and a note saying why.
  The grade is still the grading core's, of the file as submitted (so the same as on the
  command line), and the submission is flagged for review. Should nbgrader's own steps still
  fail on a submission, it is graded from its stand-in rather than stopping the class.
- `AdmitSubmission`, the first step of ``autograde``'s sanitizing, makes the nbgrader metadata
  of every cell the gradebook's: a cell whose grade id the gradebook knows gets that cell's
  metadata and type, whatever it had (empty, foreign keys, another schema version); a copy
  of such a cell (of two cells with one grade id, the first of the right type keeps it), a
  cell with an unknown or no grade id becomes an ordinary cell. Each
  change is logged as a warning.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbconvert.exporters import NotebookExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from sqlalchemy.exc import SQLAlchemyError
from traitlets import Integer

from autograder.errors import NotebookError
from autograder.files import read_notebook_bytes
from autograder.limits import LIMITS
from autograder.nbgrader_pages import inert_notebook, text_of
from autograder.notebook import decode_notebook

SAFE_ID = re.compile(r"[\w.@+\-]+")
NOT_SHOWN = "not_shown"  # notebook metadata["autograder"][NOT_SHOWN]: why a stand-in was graded


@dataclass(frozen=True)
class Admission:
    """How much of a submission nbgrader processes: beyond this, a stand-in is (see module).

    Attributes:
        cells: cells of a notebook.
        text: characters of all its cells' sources together.
    """

    cells: int = 2_000
    text: int = 500_000

    def problem(self, raw: dict) -> str | None:
        """Why the notebook JSON ``raw`` is too large for nbgrader, or None."""
        cells = raw["cells"]
        if len(cells) > self.cells:
            return f"it has {len(cells):,} cells (nbgrader is given at most {self.cells:,})"
        text = sum(len(text_of(c.get("source"))) for c in cells if isinstance(c, dict))
        if text > self.text:
            return f"its cells hold {text:,} characters (nbgrader is given at most {self.text:,})"
        return None


def admitted(path: Path, admission: Admission, *, submitted: bool = True) -> NotebookNode:
    """The notebook nbgrader is given for the notebook at ``path``: inert, bounded, or the
    stand-in's marker (no cells, and the reason in its metadata) when it cannot be.

    ``submitted``: the file is a submission (else one ``autograde`` wrote, whose note that it
    is a stand-in is kept; a submission's own such note is not)."""
    try:
        raw = decode_notebook(read_notebook_bytes(path, LIMITS), path.name)
        problem = admission.problem(raw)
    except NotebookError as error:
        raw, problem = {}, str(error).replace(str(path), path.name)
    if problem is not None:
        return marker(problem)
    nb = inert_notebook(raw)
    note = (raw.get("metadata") or {}).get("autograder") if isinstance(raw.get("metadata"), dict) else None
    if not submitted and isinstance(note, dict) and isinstance(note.get(NOT_SHOWN), str):
        nb.metadata["autograder"] = {NOT_SHOWN: note[NOT_SHOWN][:1000]}
    return nb


def marker(problem: str) -> NotebookNode:
    """An empty notebook that stands for a submission that cannot be shown, and why."""
    nb = inert_notebook({})
    nb.metadata["autograder"] = {NOT_SHOWN: problem}
    return nb


def not_shown(nb: NotebookNode) -> str | None:
    """Why ``nb`` is a stand-in, or None."""
    reason = nb.metadata.get("autograder", {}).get(NOT_SHOWN)
    return reason if isinstance(reason, str) else None


def _coursedir(configurable: Any) -> Any:
    from autograder.nbgrader_plugin import _find_coursedir

    return _find_coursedir(configurable)


class BoundedNotebookExporter(NotebookExporter):
    """nbgrader's notebook exporter for ``autograde``, reading submissions with bounds (see the
    module docstring). Notebooks ``autograde`` wrote itself are read the same way."""

    max_cells = Integer(Admission.cells, help="Cells of a submission nbgrader processes.").tag(config=True)
    max_text = Integer(Admission.text, help="Characters of a submission's cells nbgrader "
                       "processes.").tag(config=True)

    def from_filename(self, filename: str, resources: dict | None = None, **kw: Any,
                      ) -> tuple[str, dict]:
        path = Path(filename)
        resources = ResourcesDict() if resources is None else resources
        metadata = resources.setdefault("metadata", ResourcesDict())
        metadata["name"], metadata["path"] = path.stem, str(path.parent)
        try:
            modified = path.lstat().st_mtime
        except OSError:
            modified = 0.0
        metadata["modified_date"] = datetime.datetime.fromtimestamp(modified).strftime("%B %d, %Y")
        submitted = self._is_submission(path)
        nb = admitted(path, Admission(self.max_cells, self.max_text), submitted=submitted)
        if not submitted:
            return self.from_notebook_node(nb, resources, **kw)
        try:
            return self.from_notebook_node(nb, dict(resources), **kw)
        except (SQLAlchemyError, KeyboardInterrupt):
            raise  # the gradebook's or the instructor's problem: nbgrader reports it
        except Exception as error:  # noqa: BLE001 (whatever the upload did, the class goes on)
            reason = f"nbgrader could not process it ({type(error).__name__}: {str(error)[:200]})"
            self.log.warning("%s: %s: graded from a stand-in", filename, reason)
            return self.from_notebook_node(marker(reason), resources, **kw)

    def _is_submission(self, path: Path) -> bool:
        """Whether ``path`` lies in the course's folder of submissions (the sanitizing pass)."""
        coursedir = _coursedir(self)
        if coursedir is None:
            return False
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, ".", ".")).resolve()
        return Path(os.path.abspath(path)).is_relative_to(submitted)


class AdmitSubmission(NbGraderPreprocessor):
    """The first step of ``autograde``'s sanitizing (see the module docstring)."""

    max_cells = Integer(Admission.cells, help="Cells of a submission nbgrader processes.").tag(config=True)
    max_text = Integer(Admission.text, help="Characters of a submission's cells nbgrader "
                       "processes.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        where = f"{info['student']}/{info['assignment']}"
        if not SAFE_ID.fullmatch(info["student"]):
            self.log.warning("%r: this student id is shown as markup on some of formgrader's own pages "
                             "(manage students): rename the folder to letters, digits and . _ - @ +",
                             info["student"])
        source = _source_cells(info)
        reason = not_shown(nb) or Admission(self.max_cells, self.max_text).problem(nb)
        if reason is not None:
            self.log.warning("%s: not shown in nbgrader, graded as submitted: %s", where, reason)
            return stand_in(source, reason), resources
        keep = _kept_cells(nb, source)
        for index, cell in enumerate(nb.cells):
            if "nbgrader" not in cell.metadata:
                continue
            grade_id = cell.metadata.nbgrader.get("grade_id")
            known = source.get(grade_id) if isinstance(grade_id, str) else None
            if known is None or keep.get(grade_id) != index:
                why = ("a copy of another cell" if grade_id in keep
                       else "a grade id the gradebook does not know" if grade_id else "no grade id")
                self.log.warning("%s: cell %d has nbgrader metadata with %s: it is kept as an ordinary "
                                 "cell", where, index + 1, why)
                del cell.metadata["nbgrader"]
                continue
            expected = known.metadata()
            changed = _meaningful(cell.metadata.nbgrader) != _meaningful(expected)
            if changed or cell.cell_type != known.cell_type:
                self.log.warning("%s: the nbgrader metadata of cell %s were changed: restored from the "
                                 "gradebook", where, grade_id)
            cell.metadata["nbgrader"] = expected
            _set_type(cell, known.cell_type)
        return nb, resources


def _kept_cells(nb: NotebookNode, source: dict[str, SourceCell]) -> dict[str, int]:
    """grade id -> the index of the one cell that keeps it: of the cells that have it, the first
    of the gradebook's type, else the first."""
    keep: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in source:
            continue
        first = keep.get(grade_id)
        if first is None or (nb.cells[first].cell_type != source[grade_id].cell_type
                             and cell.cell_type == source[grade_id].cell_type):
            keep[grade_id] = index
    return keep


def _meaningful(metadata: dict) -> dict:
    """What of a cell's nbgrader metadata decides how it is graded (not its checksum)."""
    return {k: v for k, v in metadata.items() if k not in ("checksum", "cell_type") and (k != "task" or v)}


@dataclass(frozen=True)
class SourceCell:
    """A cell of the assignment's source notebook, as the gradebook records it."""

    grade_id: str
    cell_type: str
    source: str
    locked: bool
    checksum: str | None
    grade: bool
    solution: bool
    task: bool
    points: float | None

    def metadata(self) -> dict:
        """The nbgrader metadata a submitted cell of this grade id has (as released)."""
        meta: dict[str, Any] = {"schema_version": 3, "grade": self.grade, "solution": self.solution,
                                "locked": self.locked, "grade_id": self.grade_id, "cell_type": self.cell_type}
        if self.task:
            meta["task"] = True
        if self.points is not None:
            meta["points"] = self.points
        if self.checksum:
            meta["checksum"] = self.checksum
        return meta


def _source_cells(info: dict) -> dict[str, SourceCell]:
    """grade id -> the source cell, in the source notebook's order, from the gradebook."""
    with Gradebook(info["db_url"]) as gradebook:
        notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
        points = {c.name: float(c.max_score) for c in notebook.grade_cells}
        points.update({c.name: float(c.max_score) for c in notebook.task_cells})
        solutions = {c.name for c in notebook.solution_cells}
        tasks = {c.name for c in notebook.task_cells}
        grades = {c.name for c in notebook.grade_cells}
        return {c.name: SourceCell(c.name, c.cell_type, c.source, bool(c.locked), c.checksum,
                                   c.name in grades, c.name in solutions, c.name in tasks, points.get(c.name))
                for c in notebook.source_cells}


def _set_type(cell: NotebookNode, cell_type: str) -> None:
    """Make ``cell`` a cell of ``cell_type`` with the fields nbformat requires of it."""
    if cell.cell_type == cell_type:
        return
    cell.cell_type = cell_type
    for key in ("outputs", "execution_count", "attachments"):
        cell.pop(key, None)
    if cell_type == "code":
        cell.outputs, cell.execution_count = [], None


def stand_in(source: dict[str, SourceCell], reason: str) -> NotebookNode:
    """The notebook graded in place of a submission nbgrader is not given: a note saying why,
    then the source notebook's cells as every student's autograded copy has them (test cells
    with their hidden tests), solution cells empty (so no reference solution is shown)."""
    note = ("**This is not your notebook as submitted:** " + reason.replace("*", "\\*") + ". "
            "Your grade is the autograder's, of the notebook you submitted; the cells below are "
            "the assignment's, without your work.")
    cells = [{"cell_type": "markdown", "metadata": {}, "source": note}]
    for cell in source.values():
        text = "" if cell.solution else cell.source
        node: dict[str, Any] = {"cell_type": cell.cell_type, "metadata": {"nbgrader": cell.metadata()},
                                "source": text}
        if cell.cell_type == "code":
            node |= {"outputs": [], "execution_count": None}
        cells.append(node)
    nb = inert_notebook({"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                                     "display_name": "Python 3",
                                                                     "language": "python"}}})
    nb.metadata["autograder"] = {NOT_SHOWN: reason}
    return from_dict(nb)
