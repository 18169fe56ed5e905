"""What every chapter offers besides its text: an honest reading time, and the chapter as a
Jupyter notebook that runs on its own.

Reading time
    Worked out from the chapter as it is built, and shown under its title. Reading is
    slower than skimming, so each part is given the time a careful first reading takes:
    ``WORDS_PER_MINUTE`` for prose (tables and the questions of quick checks included), and
    ``SECONDS`` for each displayed equation, line of open code, line of printed output,
    figure, quick check and explorable. Folded code costs nothing: it is read only by those
    who open it. The role ``{reading-time}`chapter``` writes a chapter's minutes elsewhere
    (the home page lists them).

Notebook download
    Each chapter is converted from its MyST source to ``_sources/<page>.ipynb``, offered in
    the page's download menu and by a link under the title. Directives and roles that only
    the site understands become plain Markdown: quick checks keep their question and options,
    with the answer and every option's feedback folded in a ``<details>`` block. The helper
    module that pages import (``coursekit``) is pasted into the notebook. The line under the
    title says what the notebook needs (``pip install numpy matplotlib``, and the course's
    checks wheel for a chapter that imports ``autograder``), worked out from its imports, and
    so does the notebook's first cell; it also links the notebook in the site's in-browser
    Jupyter (``browser_notebooks``), where it runs as it is.

Config values: ``course_non_chapters`` (pages without a reading time or a notebook),
``course_helper_module`` (the helper to inline, a path relative to the configuration
directory) and ``course_notebook_packages`` (module a notebook imports -> what to install:
a distribution on PyPI, ``"<checks wheel>"`` for the students' wheel, or ``""`` for a module
that comes with Jupyter; the standard library needs nothing). When the helper changes, the
pages that import it are read again and the notebook execution cache is cleared, so no
figure is left over from an older helper.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import math
import posixpath
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole
from static_files import add_static_path
from student_wheel import FOLDER as WHEEL_FOLDER
from student_wheel import wheel_name

__version__ = "1.0.0"

logger = logging.getLogger(__name__)

WORDS_PER_MINUTE = 200
SECONDS = {
    "equation": 10,  # a displayed equation, read term by term
    "code_line": 4,  # a line of open code
    "output_line": 2,  # a line of printed output
    "figure": 20,
    "quick_check": 30,  # thinking about the answer, on top of reading the question
    "explorable": 90,  # trying a few settings
}


# --- reading time ---------------------------------------------------------------------------


class chapter_meta(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """The line under a chapter's title: reading time and the notebook download."""


class reading_time_ref(nodes.Inline, nodes.Element):  # noqa: N801
    """A chapter's reading time, written where the role was used (resolved late)."""


def _is_folded(cell: nodes.Element) -> bool:
    return cell.get("hide_mode") in ("all", "input", "input+output")


def measure(doctree: nodes.document) -> dict[str, int]:
    """Count what a reader of the page goes through: words, equations, code, figures, ..."""
    counts = dict.fromkeys(
        ("words", "equations", "code_lines", "output_lines", "figures", "quick_checks",
         "explorables"), 0)

    def words(text: str) -> int:
        return len(re.findall(r"[\w$\\][\w'’.,$\\-]*", text))

    def walk(node: nodes.Node, in_output: bool = False) -> None:
        name = type(node).__name__
        if isinstance(node, (nodes.comment, nodes.raw, nodes.system_message)):
            return
        if isinstance(node, nodes.container) and node.get("nb_element") == "cell_code":
            folded = _is_folded(node)
            for part in node.children:
                if part.get("nb_element") == "cell_code_source":
                    if not folded:
                        counts["code_lines"] += sum(
                            len(block.astext().splitlines())
                            for block in part.findall(nodes.literal_block))
                else:
                    walk(part, in_output=True)
            return
        if name == "quickcheck":
            counts["quick_checks"] += 1
            for part in node.children:  # the question and the options, not the feedback
                if type(part).__name__ in ("quickcheck_question", "quickcheck_options"):
                    counts["words"] += words(part.astext())
            return
        if name == "explorable":
            counts["explorables"] += 1
            return
        if isinstance(node, nodes.math_block):
            counts["equations"] += 1
            return
        if isinstance(node, nodes.math):
            counts["words"] += 1
            return
        if isinstance(node, nodes.image):
            counts["figures"] += not node.get("phone")  # a figure's phone drawing is the same figure
            return
        if isinstance(node, nodes.literal_block):
            key = "output_lines" if in_output else "code_lines"
            counts[key] += len(node.astext().splitlines())
            return
        if isinstance(node, nodes.Text):
            counts["words"] += words(node.astext())
            return
        for child in node.children:
            walk(child, in_output)

    walk(doctree)
    return counts


def minutes(counts: dict[str, int]) -> int:
    seconds = 60 * counts["words"] / WORDS_PER_MINUTE
    seconds += SECONDS["equation"] * counts["equations"]
    seconds += SECONDS["code_line"] * counts["code_lines"]
    seconds += SECONDS["output_line"] * counts["output_lines"]
    seconds += SECONDS["figure"] * counts["figures"]
    seconds += SECONDS["quick_check"] * counts["quick_checks"]
    seconds += SECONDS["explorable"] * counts["explorables"]
    return max(1, math.ceil(seconds / 60))


def is_chapter(app: Sphinx, docname: str) -> bool:
    return docname not in app.config.course_non_chapters and docname != app.config.root_doc


def add_chapter_meta(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not is_chapter(app, docname) or app.builder.format != "html":
        return
    counts = measure(doctree)
    info = {**counts, "minutes": minutes(counts)}
    app.env.course_reading[docname] = info
    title = next(doctree.findall(nodes.title), None)
    if title is None:
        return
    meta = chapter_meta(docname=docname, requires=json.dumps(notebook_requirements(app, docname)),
                        **{k: str(v) for k, v in info.items()})
    title.parent.insert(title.parent.index(title) + 1, meta)


def _plural(count: int, word: str) -> str:
    plural = word + ("es" if word.endswith("h") else "s")
    return f"{count:,} {word if count == 1 else plural}"


def describe(info: dict[str, Any]) -> str:
    parts = [_plural(int(info["words"]), "word")]
    for key, word in (("code_lines", "line of code"), ("figures", "figure"),
                      ("quick_checks", "quick check"), ("explorables", "explorable")):
        if int(info[key]):
            parts.append(_plural(int(info[key]), word).replace("line of codes", "lines of code"))
    return ", ".join(parts)


def visit_chapter_meta_html(self, node: chapter_meta) -> None:
    from browser_notebooks import CHAPTERS, lite_url

    docname = node["docname"]
    notebook = posixpath.relpath(f"_sources/{docname}.ipynb", posixpath.dirname(docname) or ".")
    name = posixpath.basename(docname) + ".ipynb"
    requires = json.loads(node["requires"])
    wheel = posixpath.relpath(f"{WHEEL_FOLDER}/{wheel_name()}", posixpath.dirname(docname) or ".")
    installs = [wheel if r == CHECKS_WHEEL else r for r in requires]  # what the tests install
    sep = '<span class="chapter-meta-sep" aria-hidden="true"> · </span>'
    self.body.append(
        f'<p class="chapter-meta" data-minutes="{node["minutes"]}">'
        f'<span class="chapter-reading-time" title="{self.attval(describe(node.attributes))}">'
        f'About {node["minutes"]} minutes to read</span>{sep}'
        f'<a class="chapter-lite lite-link" href="{self.attval(lite_url(docname, f"{CHAPTERS}/{name}"))}">'
        f"Run it in your browser</a>{sep}"
        f'<a class="chapter-notebook" href="{self.attval(notebook)}" download="{name}">'
        f"Download as a notebook ({name})</a>"
        f'<span class="chapter-requires" data-requires="{self.attval(json.dumps(installs))}">, '
        f"which runs after {requirements_html(docname, requires)}</span></p>\n"
    )
    raise nodes.SkipNode


def depart_nothing(self, node: nodes.Element) -> None:
    """Never called: the matching visit raises SkipNode."""


class ReadingTimeRole(SphinxRole):
    """``{reading-time}`chapter```: that chapter's reading time, in minutes ("12")."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        target = self.text.strip().removesuffix(".md")
        docname = posixpath.normpath(posixpath.join(posixpath.dirname(self.env.docname), target))
        self.env.course_reading_refs.add(self.env.docname)
        return [reading_time_ref(docname=docname)], []


def resolve_reading_times(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for ref in list(doctree.findall(reading_time_ref)):
        info = app.env.course_reading.get(ref["docname"])
        if info is None:
            logger.warning("reading-time: %s is not a chapter", ref["docname"],
                           location=ref, type="chapters", subtype="reading_time")
            ref.replace_self(nodes.Text("?"))
        else:
            ref.replace_self(nodes.Text(str(info["minutes"])))


# --- environment bookkeeping ----------------------------------------------------------------


def init_env(app: Sphinx) -> None:
    env = app.env
    if not hasattr(env, "course_reading"):
        env.course_reading = {}
    if not hasattr(env, "course_reading_refs"):
        env.course_reading_refs = set()


def purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.course_reading.pop(docname, None)
    env.course_reading_refs.discard(docname)


def merge_info(app: Sphinx, env: BuildEnvironment, docnames: set[str],
               other: BuildEnvironment) -> None:
    env.course_reading.update(other.course_reading)
    env.course_reading_refs |= other.course_reading_refs


def outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
             removed: set[str]) -> list[str]:
    """Pages that must be read again although their own source did not change."""
    again: set[str] = set()
    helper = _helper_path(app)
    digest = hashlib.sha256(helper.read_bytes()).hexdigest() if helper.is_file() else ""
    if getattr(env, "course_helper_digest", None) != digest:
        if getattr(env, "course_helper_digest", None) is not None:
            _clear_execution_cache(app)
        env.course_helper_digest = digest
        again |= {doc for doc in env.found_docs if _uses_helper(app, doc)}
    if added | changed | removed | again:
        again |= env.course_reading_refs  # their minutes may have changed
    return sorted(again - added - changed)


def _clear_execution_cache(app: Sphinx) -> None:
    config = getattr(app.env, "mystnb_config", None)
    cache = Path(getattr(config, "execution_cache_path", "") or "")
    if cache.name and cache.is_dir():
        logger.info("chapters: %s changed, clearing the notebook cache %s",
                    app.config.course_helper_module, cache)
        shutil.rmtree(cache)


# --- what a chapter's notebook needs -------------------------------------------------------

CHECKS_WHEEL = "<checks wheel>"  # in course_notebook_packages: the students' wheel of the site


def imported_modules(source: str) -> set[str]:
    """The top-level names of the modules a piece of code imports."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def notebook_requirements(app: Sphinx, docname: str) -> list[str]:
    """What ``pip install`` needs to run the chapter's notebook (CHECKS_WHEEL for the wheel),
    in the order of ``course_notebook_packages``; an import that it does not list is an error."""
    from myst_nb.core.read import read_myst_markdown_notebook

    path = Path(app.env.doc2path(docname))
    notebook = read_myst_markdown_notebook(path.read_text(encoding="utf-8"), path=path)
    modules = set().union(*(imported_modules(cell.source) for cell in notebook.cells
                            if cell.cell_type == "code"))
    if _helper_name(app) in modules:  # pasted into the notebook, with its own imports
        modules.discard(_helper_name(app))
        modules |= imported_modules(_helper_path(app).read_text(encoding="utf-8"))
    packages = app.config.course_notebook_packages
    unknown = sorted(m for m in modules if m not in packages and m not in sys.stdlib_module_names)
    if unknown:
        raise ExtensionError(
            f"chapters: {docname} imports {', '.join(unknown)}: say in course_notebook_packages "
            "(_config.yml) what a student installs for it"
        )
    return list(dict.fromkeys(packages[m] for m in packages if m in modules and packages[m]))


def requirements_html(docname: str, requires: list[str]) -> str:
    """``pip install numpy matplotlib`` and, if needed, a link to the checks wheel."""
    pip = [name for name in requires if name != CHECKS_WHEEL]
    parts = [f"<code>pip install {' '.join(pip)}</code>"] if pip else []
    if CHECKS_WHEEL in requires:
        wheel = posixpath.relpath(f"{WHEEL_FOLDER}/{wheel_name()}", posixpath.dirname(docname) or ".")
        parts.append(f'the course\'s <a class="reference download" href="{wheel}" download>checks wheel</a>')
    return " and ".join(parts)


def requirements_text(requires: list[str]) -> str:
    """The same, in a notebook's Markdown."""
    pip = [name for name in requires if name != CHECKS_WHEEL]
    text = f"`pip install {' '.join(pip)}`" if pip else ""
    if CHECKS_WHEEL in requires:
        wheel = f"the course's checks wheel (`pip install {wheel_name()}`, from the site's Assignments page)"
        text = f"{text} and {wheel}" if text else wheel
    return text


# --- notebook download ----------------------------------------------------------------------


def _helper_path(app: Sphinx) -> Path:
    return Path(app.confdir) / app.config.course_helper_module


def _helper_name(app: Sphinx) -> str:
    return Path(app.config.course_helper_module).stem


def _uses_helper(app: Sphinx, docname: str) -> bool:
    try:
        text = Path(app.env.doc2path(docname)).read_text(encoding="utf-8")
    except OSError:
        return False
    return re.search(rf"^\s*(from|import)\s+{_helper_name(app)}\b", text, re.M) is not None


FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>.*)$")
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]+)`")
TARGET = re.compile(r"^\((?P<label>[^)\s]+)\)=\s*$")
EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _split_directive(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """Options (``:key: value`` lines or a ``---`` YAML block) and the body of a directive."""
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = lines.index("---", 1)
        for line in lines[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        lines = lines[end + 1:]
    else:
        while lines and re.match(r"^:[\w-]+:", lines[0]):
            key, value = re.match(r"^:([\w-]+):\s*(.*)$", lines.pop(0)).groups()
            options[key] = value
    while lines and not lines[0].strip():
        lines.pop(0)
    return options, lines


def _list_items(lines: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The text before a final bullet list, and the list's (first line, rest) items."""
    start = next((i for i, line in enumerate(lines) if line.startswith("- ")), len(lines))
    items: list[tuple[str, list[str]]] = []
    for line in lines[start:]:
        if line.startswith("- "):
            items.append((line[2:].strip(), []))
        elif items:
            items[-1][1].append(line[2:] if line.startswith("  ") else line)
    return lines[:start], [(head, "\n".join(rest).strip()) for head, rest in items]


def _indent(text: str) -> str:
    """Continuation lines of a list item, indented to stay inside it."""
    return text.replace("\n", "\n  ")


def _quickcheck(question: str, options: dict[str, str], body: list[str]) -> str:
    before, items = _list_items(body)
    text = ["**Quick check.** " + question.strip(), ""]
    if "\n".join(before).strip():
        text += ["\n".join(before).strip(), ""]
    answer = ["<details>", "<summary>Show the answer</summary>", ""]
    if "numeric" in options:
        text += ["*Work it out, then open the answer below.*", ""]
        answer += [f"**{options['numeric']}.** {options.get('explanation', '')}".strip(), ""]
        if items:
            answer += ["Likely slips:", ""]
            answer += [f"- **{value}**: {_indent(feedback)}" for value, feedback in items]
            answer.append("")
    else:
        right = int(options["answer"]) - 1
        text += [f"- **({LETTERS[i]})** {option}" for i, (option, _) in enumerate(items)]
        text.append("")
        answer += [f"**({LETTERS[right]}) is right.** {items[right][1]}", ""]
        if options.get("explanation"):
            answer += [options["explanation"], ""]
        answer += [f"- **({LETTERS[i]})** {_indent(feedback)}"
                   for i, (_, feedback) in enumerate(items) if i != right] + [""]
    answer.append("</details>")
    return "\n".join(text + answer)


def _admonition(title: str, body: list[str]) -> str:
    quoted = [f"> {line}" if line.strip() else ">" for line in body]
    return "\n".join([f"> **{title.strip()}**", ">", *quoted])


def convert_markdown(app: Sphinx, docname: str, text: str) -> str:
    """A MyST markdown cell as plain Jupyter Markdown."""
    env = app.env

    def role(match: re.Match[str]) -> str:
        name, content = match.group("role"), match.group("text")
        explicit = EXPLICIT.match(content)
        shown, target = (explicit.group("text"), explicit.group("target")) if explicit else (
            None, content)
        if name == "doc":
            other = posixpath.normpath(posixpath.join(posixpath.dirname(docname),
                                                      target.removesuffix(".md")))
            title = env.titles[other].astext() if other in env.titles else target
            return f"*{shown or title}*"
        if name in ("math", "eq"):
            return f"${content}$"
        if name == "reading-time":
            target_doc = posixpath.normpath(posixpath.join(posixpath.dirname(docname), content))
            return str(env.course_reading.get(target_doc, {}).get("minutes", "?"))
        return shown or target

    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = FENCE.match(line)
        if TARGET.match(line):
            i += 1
            continue
        if not opening:
            out.append(ROLE.sub(role, line))
            i += 1
            continue
        fence, name, arg = opening.group("fence", "name", "arg")
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
        if end is None:
            raise ExtensionError(f"chapters: {docname}: unclosed {{{name}}} directive")
        options, body = _split_directive(lines[i + 1:end])
        body = [ROLE.sub(role, b) for b in body]
        arg = ROLE.sub(role, arg)
        if name == "quickcheck":
            out.append(_quickcheck(arg, {k: ROLE.sub(role, v) for k, v in options.items()},
                                   body))
        elif name == "admonition":
            out.append(_admonition(arg, body))
        elif name in ("note", "tip", "important", "warning", "caution", "hint", "seealso"):
            out.append(_admonition(name.capitalize(), ([arg] if arg else []) + body))
        elif name == "explorable":
            title = options.get("title", "Try it yourself")
            out.append(_admonition("Try it on the course site",
                                   [f"This chapter's web page has an interactive version of the "
                                    f"figure above, *{title}*, with sliders and fields to play "
                                    "with."]))
        else:
            raise ExtensionError(
                f"chapters: {docname}: the {{{name}}} directive has no notebook form yet; "
                "teach convert_markdown() in book/_ext/chapters.py how to write it"
            )
        i = end + 1
    return "\n".join(out).strip("\n")


def _without_helper_imports(app: Sphinx, source: str) -> tuple[str, bool]:
    """Drop ``from coursekit import ...`` lines; report whether there were any."""
    name = _helper_name(app)
    pattern = re.compile(rf"^from {name} import (\([^)]*\)|[^\n]*)\n?", re.M)
    stripped, count = pattern.subn("", source)
    return stripped.strip("\n"), count > 0


def chapter_notebook(app: Sphinx, docname: str) -> nbformat.NotebookNode:
    from myst_nb.core.read import read_myst_markdown_notebook

    path = Path(app.env.doc2path(docname))
    notebook = read_myst_markdown_notebook(path.read_text(encoding="utf-8"), path=path)
    helper_name = _helper_name(app)
    cells = []
    inlined = False
    for cell in notebook.cells:
        cell = copy.deepcopy(cell)
        if cell.cell_type == "markdown":
            cell.source = convert_markdown(app, docname, cell.source)
            if not cell.source.strip():
                continue
        elif cell.cell_type == "code":
            source, imported = _without_helper_imports(app, cell.source)
            if imported and not inlined:
                helper = _helper_path(app).read_text(encoding="utf-8").strip("\n")
                cells.append(nbformat.v4.new_markdown_cell(
                    f"The course site keeps its plot style in a small module, "
                    f"`{helper_name}.py`. Here it is, so that this notebook runs on its own."))
                cells.append(nbformat.v4.new_code_cell(
                    helper, metadata={"jupyter": {"source_hidden": True}}))
                inlined = True
            if re.search(rf"\b{helper_name}\b", source):
                raise ExtensionError(
                    f"chapters: {docname} uses {helper_name} other than through "
                    f"'from {helper_name} import ...', which the notebook cannot inline"
                )
            cell.source = source
            tags = cell.metadata.get("tags", [])
            if any(tag in tags for tag in ("hide-input", "hide-cell", "remove-input",
                                           "remove-cell")):
                cell.metadata["jupyter"] = {"source_hidden": True}
            if not source.strip():
                continue
        cells.append(cell)
    title = app.env.titles[docname].astext() if docname in app.env.titles else docname
    course = app.config.html_title or app.config.project
    cells.insert(0, nbformat.v4.new_markdown_cell(
        f"*{course}*, the chapter “{title}”. It runs as it is in the course site's "
        "in-browser Jupyter; on your computer it needs "
        f"{requirements_text(notebook_requirements(app, docname))}, installed in the Python "
        "environment your Jupyter uses."))
    result = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "title": title,
    })
    for number, cell in enumerate(result.cells):  # the same ids at every build
        cell["id"] = f"cell-{number}"
    nbformat.validate(result)
    return result


def write_notebook(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                   doctree: nodes.document | None) -> None:
    """Write the page's notebook next to its sources and offer it in the download menu."""
    if doctree is None or pagename not in app.env.course_reading:
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(chapter_notebook(app, pagename), str(target))
    context["ipynb_source"] = f"{pagename}.ipynb"  # sphinx-book-theme's download menu


# --- setup ----------------------------------------------------------------------------------





def setup(app: Sphinx) -> dict:
    app.add_config_value("course_non_chapters", [], "env", types=[list])
    app.add_config_value("course_helper_module", "book/coursekit.py", "env", types=[str])
    app.add_config_value("course_notebook_packages", {}, "env", types=[dict])
    app.add_node(chapter_meta, html=(visit_chapter_meta_html, depart_nothing))
    app.add_node(reading_time_ref)
    app.add_role("reading-time", ReadingTimeRole())
    app.connect("builder-inited", init_env)
    app.connect("builder-inited", add_static_path)
    app.add_css_file("chapters.css")
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    app.connect("env-get-outdated", outdated)
    app.connect("doctree-read", add_chapter_meta)
    app.connect("doctree-resolved", resolve_reading_times)
    # before sphinx-book-theme builds its header buttons (priority 501)
    app.connect("html-page-context", write_notebook, priority=400)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
