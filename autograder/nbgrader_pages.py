"""Student content on nbgrader's pages, made inert.

Formgrader and ``nbgrader generate_feedback`` render an autograded notebook with nbconvert's
``HTMLExporter``, and nbgrader's templates put a markdown cell's HTML on the page as it is
(``HTMLExporter.sanitize_html`` does not reach those templates' markdown cells): a
``<script>`` in a student's markdown runs in the instructor's logged-in formgrader, where it
can call formgrader's grading API. ``nbgrader_config.py`` configures that exporter, for
formgrader and for the feedback alike, with:

- `SafeMarkdown`, nbconvert's own ``markdown2html`` followed by `clean_html`: the same HTML as
  before (math is left as text for MathJax, exactly as nbconvert renders it), less anything
  that could run or load: scripts, event handlers, ``javascript:`` and other URLs but
  ``http``, ``https``, ``mailto`` and relative ones, frames, forms, styles, SVG, and images
  from anywhere but beside the notebook (or a data URL of PNG, JPEG, GIF or WebP: an
  attachment), so that not even a request leaves the page on the student's behalf.
- `InertNotebook`, a preprocessor that rebuilds every cell from what may be shown
  (`inert_cell`): outputs keep plain text, errors and PNG/JPEG/GIF images, and HTML through
  `clean_html`; JavaScript, SVG, widgets and other types are dropped; attachments keep images
  only (another kind becomes a blank image); raw cells are shown as nothing; prompts are
  numbers; metadata is nbgrader's only. It also escapes the student's id and names, which
  formgrader's submission page shows as they are. The autograde step rebuilds cells by the
  same rules when it reads a submission (`autograder.nbgrader_intake`).

Ids in student HTML are prefixed (``student-``), so they cannot take the place of the page's own.

The feedback handed back (``nbgrader generate_feedback``) is made by `FeedbackExporter`, the
same configuration with the template ``autograder/templates/nbgrader/course_feedback``:
function names in the contents and on each test cell, what the grading core noted for the
student (`feedback_note`, kept in the autograded notebook by ``GradeWithCore``), long lines
wrapped, no script, and markdown math rendered as MathML when the page is made
(`autograder.mathml`): nbgrader's own page loads MathJax from a CDN, so offline it showed raw
LaTeX.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import nh3
from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode, from_dict
from pygments.token import STANDARD_TYPES
from traitlets.config import LoggingConfigurable

ID_PREFIX = "student-"
TAGS = nh3.ALLOWED_TAGS - {"area", "map"}
ATTRIBUTES = {
    "*": {"title", "id", "lang", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "scope", "style"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "data"}  # data: only for images (see _attribute)
# Classes nbconvert gives highlighted code and heading anchors; any other class is dropped, so
# student HTML cannot dress up as formgrader's controls (which its script finds by class).
CLASSES = {"span": {c for c in STANDARD_TYPES.values() if c}, "div": {"highlight"},
           "a": {"anchor-link"}}
IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp)[;,]", re.IGNORECASE)
REMOTE = re.compile(r"[a-z][a-z0-9+.-]*:|//", re.IGNORECASE)


def _attribute(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: the value to keep, or None to drop the attribute."""
    if name in ("href", "src"):
        url = value.strip()
        if url.lower().startswith("data:"):
            return url if tag == "img" and name == "src" and IMAGE_DATA.match(url) else None
        if tag == "img" and (REMOTE.match(url) or url.startswith(("/", "\\")) or ".." in url.split("/")):
            return None  # an image loads only from beside the notebook (not another site or page)
        if url.startswith("#"):
            return "#" + ID_PREFIX + url[1:]
    if name == "id":
        return ID_PREFIX + value
    return value


def clean_html(markup: str) -> str:
    """``markup`` (HTML) with only inert markup left (see the module docstring); text is kept."""
    return nh3.clean(
        markup, tags=TAGS, clean_content_tags={"script", "style"}, attributes=ATTRIBUTES,
        attribute_filter=_attribute, url_schemes=URL_SCHEMES, allowed_classes=CLASSES,
        filter_style_properties={"text-align"}, link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


class SafeMarkdown(LoggingConfigurable):
    """The ``markdown2html`` filter of an HTMLExporter (its parent), cleaned by `clean_html`.

    Configured as ``c.HTMLExporter.filters = {"markdown2html": "...SafeMarkdown"}``; nbconvert
    builds it with the exporter as parent, and Jinja passes it the template context (for a
    cell's attachments) as it does to the exporter's own filter.
    """

    jinja_pass_arg = pass_context(lambda: None).jinja_pass_arg

    def __call__(self, context: Any, source: str) -> str:
        if isinstance(self.parent, FeedbackExporter):  # cleans its markdown itself, math and all
            return self.parent.markdown2html(context, source)
        try:
            return clean_html(self.parent.markdown2html(context, source))
        except Exception as error:  # noqa: BLE001 (a cell nbconvert cannot render is shown as text)
            self.log.warning("A markdown cell is shown as text: %s", str(error)[:200])
            return "<pre>" + html.escape(source) + "</pre>"


# --- cells and outputs -------------------------------------------------------------------

SHOWN_IMAGES = ("image/png", "image/jpeg", "image/gif")
BLANK_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
NBGRADER_KEYS = {"schema_version": int, "grade": bool, "locked": bool, "solution": bool,
                 "task": bool, "grade_id": str, "points": (int, float), "checksum": str,
                 "cell_type": str, "score": (int, float), "comment": str}  # the last two: GetGrades
GRADE_ID = re.compile(r"[A-Za-z0-9_\-]+")
CELL_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def text_of(value: Any) -> str:
    """A notebook text field (a string or a list of strings) as one string; anything else is ''."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return ""


def _image(value: Any) -> str | None:
    text = text_of(value)
    return text if text and BASE64.fullmatch(text) else None


def inert_output(output: Any) -> NotebookNode | None:
    """An output of a code cell with only what may be shown (see the module docstring), or
    None when nothing of it may."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return from_dict({"output_type": "stream", "name": name, "text": text_of(output.get("text"))})
    if kind == "error":
        traceback = output.get("traceback")
        return from_dict({"output_type": "error", "ename": text_of(output.get("ename")),
                          "evalue": text_of(output.get("evalue")),
                          "traceback": [t for t in traceback if isinstance(t, str)]
                          if isinstance(traceback, list) else []})
    if kind not in ("execute_result", "display_data"):
        return None
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    shown: dict[str, str] = {}
    metadata: dict[str, dict] = {}
    for mimetype in SHOWN_IMAGES:
        image = _image(data.get(mimetype))
        if image:
            shown[mimetype] = image
            size = (output.get("metadata") or {}).get(mimetype) if isinstance(output.get("metadata"), dict) \
                else None
            if isinstance(size, dict):
                metadata[mimetype] = {k: v for k, v in size.items()
                                      if k in ("width", "height") and type(v) in (int, float)}
    if "text/html" in data:
        shown["text/html"] = clean_html(text_of(data["text/html"]))
    dropped = sorted(k for k in data if k not in shown and k != "text/plain")
    plain = text_of(data.get("text/plain"))
    if plain or not shown:
        shown["text/plain"] = plain or f"[not shown: {', '.join(dropped) or 'empty output'}]"
    node = {"output_type": kind, "data": shown, "metadata": metadata}
    if kind == "execute_result":
        count = output.get("execution_count")
        node["execution_count"] = count if type(count) is int else None
    return from_dict(node)


def inert_nbgrader(metadata: Any) -> dict | None:
    """nbgrader's metadata of a cell with only its own keys of the right types, or None when
    it is not a dict or its grade id could not be shown as it is."""
    if not isinstance(metadata, dict):
        return None
    kept = {k: v for k, v in metadata.items() if k in NBGRADER_KEYS and _typed(NBGRADER_KEYS[k], v)}
    grade_id = kept.get("grade_id")
    if grade_id is not None and not GRADE_ID.fullmatch(grade_id):
        return None
    return kept


def _typed(kind: Any, value: Any) -> bool:
    """Whether ``value`` is of ``kind`` (a bool is not a number here)."""
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def inert_cell(cell: Any, index: int = 0) -> NotebookNode:
    """A cell with only what may be shown: its type (an unknown one becomes markdown), source,
    nbgrader's metadata (and whether it may be edited or deleted), image attachments, inert
    outputs and a numeric prompt. A raw cell keeps its text but no format, so no page renders
    it as HTML."""
    cell = cell if isinstance(cell, dict) else {}
    kind = cell.get("cell_type") if cell.get("cell_type") in ("code", "markdown", "raw") else "markdown"
    cell_id = cell.get("id") if isinstance(cell.get("id"), str) and CELL_ID.fullmatch(cell["id"]) \
        else f"cell-{index}"
    metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    node: dict[str, Any] = {"cell_type": kind, "id": cell_id, "source": text_of(cell.get("source")),
                            "metadata": {}}
    nbgrader = inert_nbgrader(metadata.get("nbgrader")) if "nbgrader" in metadata else None
    if nbgrader is not None:
        node["metadata"]["nbgrader"] = nbgrader
    for key in ("deletable", "editable"):  # how Jupyter treats locked cells
        if isinstance(metadata.get(key), bool):
            node["metadata"][key] = metadata[key]
    if kind == "code":
        count = cell.get("execution_count")
        node["execution_count"] = count if type(count) is int else None
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        node["outputs"] = [o for o in map(inert_output, outputs) if o is not None]
    else:
        attachments = cell.get("attachments") if isinstance(cell.get("attachments"), dict) else {}
        kept = {}
        for name, bundle in attachments.items():
            images = {m: _image(bundle.get(m)) for m in SHOWN_IMAGES} if isinstance(bundle, dict) else {}
            images = {m: v for m, v in images.items() if v}
            if re.fullmatch(r"[\w.\- ]{1,200}", name):  # others cannot be referred to as they are
                kept[name] = images or {"image/png": BLANK_PNG}  # a reference to it still renders
        if kept:
            node["attachments"] = kept
    return from_dict(node)


def inert_notebook(nb: Any) -> NotebookNode:
    """A notebook of inert cells (`inert_cell`), its metadata reduced to the kernel's name and
    language, nbformat 4.5."""
    nb = nb if isinstance(nb, dict) else {}
    cells = nb.get("cells") if isinstance(nb.get("cells"), list) else []
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    kept: dict[str, dict] = {}
    for key, fields in (("kernelspec", ("name", "display_name", "language")), ("language_info", ("name",))):
        value = metadata.get(key)
        if isinstance(value, dict):
            kept[key] = {f: value[f] for f in fields if isinstance(value.get(f), str)
                         and re.fullmatch(r"[\w .+\-]{1,64}", value[f])}
    node = {"nbformat": 4, "nbformat_minor": 5, "metadata": kept,
            "cells": [inert_cell(c, i) for i, c in enumerate(cells)]}
    _unique_ids(node["cells"])
    return from_dict(node)


def _unique_ids(cells: list[NotebookNode]) -> None:
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        if cell.id in seen:
            cell.id = f"cell-{index}"
            while cell.id in seen:
                cell.id += "-"
        seen.add(cell.id)


# What formgrader's submission page puts on the page from its resources without escaping,
# and could come from a student: the student's id (a folder name) and names.
NAMED = ("student", "first_name", "last_name", "notebook_path")


class InertNotebook(Preprocessor):
    """Replace the notebook by `inert_notebook` of it, before a page is made of it (keeping the
    grading core's feedback note, typed), and escape the student's id and names that
    formgrader's template shows as they are."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        for key in NAMED:
            if isinstance(resources.get(key), str):
                resources[key] = html.escape(resources[key])
        note = _feedback_of(nb)
        nb = inert_notebook(nb)
        if note is not None:  # written by GradeWithCore, read back typed
            nb.metadata["autograder"] = {FEEDBACK_KEY: note}
        return nb, resources


# --- the feedback handed back ------------------------------------------------------------------

FEEDBACK_TEMPLATES = str(Path(__file__).parent / "templates" / "nbgrader")
FEEDBACK_KEY = "feedback"  # notebook metadata["autograder"][FEEDBACK_KEY]: what GradeWithCore adds


def feedback_note(result: Any) -> dict[str, Any]:
    """What the feedback page says about a whole submission, beyond its grade cells: the
    grading core's notes and the flags students may read (never those for the instructor
    only), and why the hidden checks did not run. Kept in the autograded notebook's metadata
    (``GradeWithCore`` writes it on every autograde, over anything a submission brought)."""
    hidden = "" if result.hidden_run or not result.checks else \
        f"Only the public checks ran: {result.hidden_checks}"
    from autograder.feedback import for_student

    return {"notes": [for_student(str(n), result)[:1000] for n in result.notes[:20]],
            "flags": [for_student(f.text, result)[:1000] for f in result.flags_for_students()[:20]],
            "hidden_checks": hidden[:500]}


def _feedback_of(nb: Any) -> dict[str, Any] | None:
    """The feedback note of an autograded notebook, with only its keys of the right types."""
    metadata = nb.get("metadata") if isinstance(nb, dict) else None
    course = metadata.get("autograder") if isinstance(metadata, dict) else None
    note = course.get(FEEDBACK_KEY) if isinstance(course, dict) else None
    if not isinstance(note, dict):
        return None
    lines = {key: [str(v)[:1000] for v in note.get(key, [])[:20] if isinstance(v, str)]
             for key in ("notes", "flags") if isinstance(note.get(key), list)}
    hidden = note.get("hidden_checks")
    return lines | {"hidden_checks": hidden[:500] if isinstance(hidden, str) else ""}


def graded_function(cell: Any) -> str:
    """The function (or quiz answer) a test cell checks, from its ``check("<assignment>",
    "<function>")`` call (nbgrader restores test cells from the gradebook, so a student cannot
    change it); "" when it checks none, or several."""
    from autograder.nbgrader_plugin import graded_target

    source = text_of(cell.get("source")) if isinstance(cell, dict) else ""
    found = re.search(r"""check\(\s*["']([\w.-]+)["']""", source)
    return (graded_target(source, found.group(1)) or "") if found else ""


class FeedbackExporter(HTMLExporter):
    """The HTMLExporter of ``nbgrader generate_feedback`` (``c.GenerateFeedback.exporter_class``):
    the course's configuration of every page (`InertNotebook`, `SafeMarkdown`) with the
    template ``course_feedback`` (``autograder/templates/nbgrader``): function names in the
    contents and on each test cell, the autograder's notes, no script, long lines wrapped; and
    markdown math rendered as MathML (`autograder.mathml`), so the page needs no network."""

    def markdown2html(self, context: Any, source: str) -> str:
        """Markdown rendered as nbconvert renders it, cleaned (`clean_html`), math as MathML."""
        from autograder.mathml import markdown_with_math

        cell = context.get("cell", {})
        try:
            return markdown_with_math(
                source, clean_html, attachments=cell.get("attachments", {}), embed_images=False,
                path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links)
        except Exception as error:  # noqa: BLE001 (a cell nbconvert cannot render is shown as text)
            self.log.warning("A markdown cell is shown as text: %s", str(error)[:200])
            return "<pre>" + html.escape(source) + "</pre>"

    def default_filters(self) -> Any:
        yield from super().default_filters()
        yield ("graded_function", graded_function)
