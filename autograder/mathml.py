"""Math on the course's pages, rendered before the page is written: MathML, with no script.

The students' feedback pages and nbgrader's feedback (`autograder.nbgrader_pages`) show
markdown with LaTeX math. Instead of MathJax loaded from a CDN (raw LaTeX without a network),
or a copy of MathJax with every page (megabytes, and script), each formula is converted to
MathML when the page is made, with latex2mathml, and the browser draws it (MathML Core:
Chromium and Edge since 2023, Firefox, Safari). A formula costs a few hundred bytes, the page
needs no script and no font of its own, and it reads the same offline as online.

MathML is built from latex2mathml's element tree and serialised here: only MathML elements and
presentation attributes are kept (no ``href``, no style), and every text is escaped, so a
formula in a student's markdown (``$\\text{<script>}$``) stays text.

Public functions::

    tex_to_mathml(tex: str, display: bool) -> str        # MathML markup, or the TeX as text
    markdown_with_math(source, clean, **options) -> str  # markdown rendered, cleaned, math filled in
"""

from __future__ import annotations

import functools
import html
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable

MATHML = "http://www.w3.org/1998/Math/MathML"
ELEMENTS = {
    "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot", "mstyle",
    "merror", "mpadded", "mphantom", "msub", "msup", "msubsup", "munder", "mover", "munderover",
    "mmultiscripts", "mprescripts", "none", "mtable", "mtr", "mtd", "menclose", "semantics",
}
ATTRIBUTES = {
    "display", "mathvariant", "stretchy", "fence", "form", "accent", "accentunder", "linethickness",
    "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines", "frame",
    "displaystyle", "scriptlevel", "lspace", "rspace", "width", "height", "depth", "movablelimits",
    "largeop", "symmetric", "separator", "minsize", "maxsize", "notation", "linebreak", "columnspan",
    "rowspan",
}
FORMULA_CHARS = 4_000  # a longer formula is shown as its TeX source
PAGE_MATHML = 1_000_000  # characters of MathML in one render; past it, formulas are shown as TeX


def tex_to_mathml(tex: str, display: bool) -> str:
    """MathML markup for the LaTeX ``tex`` (``display``: a formula on its own line), or, when it
    cannot be converted (too long, an error in it), the TeX source as escaped text."""
    if len(tex) > FORMULA_CHARS:
        return _source(tex, display)
    try:
        from latex2mathml.converter import convert_to_element

        root = convert_to_element(tex, display="block" if display else "inline")
        _keep_mathml(root)
        return ET.tostring(root, encoding="unicode", short_empty_elements=False)
    except Exception:  # noqa: BLE001 (any error of a formula: RecursionError, a TeX error...)
        return _source(tex, display)


def _source(tex: str, display: bool) -> str:
    delimiter = "$$" if display else "$"
    return f'<code class="tex">{html.escape(delimiter + tex + delimiter)}</code>'


def _keep_mathml(element: ET.Element, depth: int = 0) -> None:
    """Keep only MathML elements (others become ``mrow``) and presentation attributes, with their
    text read as characters (latex2mathml writes entities like ``&#x02211;`` as text)."""
    if depth > 200:
        raise RecursionError("formula nested too deeply")
    name = element.tag.rsplit("}", 1)[-1]
    element.tag = name if name in ELEMENTS else "mrow"
    kept = {k: v for k, v in element.attrib.items() if k in ATTRIBUTES}
    element.attrib.clear()
    element.attrib.update(kept)
    if element.tag == "math":
        element.set("xmlns", MATHML)
    element.text = html.unescape(element.text) if element.text else element.text
    element.tail = html.unescape(element.tail) if element.tail else element.tail
    for child in element:
        _keep_mathml(child, depth + 1)


# Tags of serialised HTML, attributes in double quotes (as html5ever, nh3's parser, writes them).
_TAG = re.compile(r'<(?:[^>"]|"[^"]*")*>')


def markdown_with_math(source: str, clean: Callable[[str], str], **options: object) -> str:
    """Markdown with its math as MathML.

    Args:
        source: the markdown.
        clean: makes the rendered HTML inert (`autograder.nbgrader_pages.clean_html`).
        options: for nbconvert's ``IPythonRenderer`` (attachments, anchor links...), which renders
            the markdown exactly as nbconvert does, but holds each formula back as a placeholder.
    Returns:
        the cleaned HTML, each formula filled in as MathML where it stands in text (inside a tag,
        such as a heading's id, as its TeX source).
    """
    from nbconvert.filters.markdown_mistune import MarkdownWithMath

    renderer = _placeholder_renderer()(escape=False, **options)
    page = clean(MarkdownWithMath(renderer=renderer).render(source))
    placeholder = re.compile(rf"MATH{renderer.nonce}N(\d+)X")
    formulas = renderer.formulas
    budget = [PAGE_MATHML]

    def as_mathml(match: re.Match) -> str:
        index = int(match.group(1))
        if index >= len(formulas):
            return ""
        tex, display = formulas[index]
        markup = tex_to_mathml(tex, display) if budget[0] > 0 else _source(tex, display)
        budget[0] -= len(markup)
        return markup

    def as_source(match: re.Match) -> str:
        index = int(match.group(1))
        return html.escape(formulas[index][0]) if index < len(formulas) else ""

    parts, position = [], 0
    for tag in _TAG.finditer(page):
        parts.append(placeholder.sub(as_mathml, page[position:tag.start()]))
        parts.append(placeholder.sub(as_source, tag.group(0)))
        position = tag.end()
    parts.append(placeholder.sub(as_mathml, page[position:]))
    return "".join(parts)


@functools.cache
def _placeholder_renderer() -> type:
    """nbconvert's ``IPythonRenderer`` with its math held back as placeholders (with a random
    nonce per render, so that no text a student writes can pose as one)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class PlaceholderRenderer(IPythonRenderer):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.nonce = secrets.token_hex(8)
            self.formulas: list[tuple[str, bool]] = []

        def _hold(self, tex: str, display: bool) -> str:
            self.formulas.append((tex, display))
            return f"MATH{self.nonce}N{len(self.formulas) - 1}X"

        def block_math(self, body: str) -> str:
            return self._hold(body, True)

        def inline_math(self, body: str) -> str:
            return self._hold(body, False)

        def latex_environment(self, name: str, body: str) -> str:
            return self._hold(f"\\begin{{{name}}}{body}\\end{{{name}}}", True)

    return PlaceholderRenderer
