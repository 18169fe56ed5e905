"""The built course site needs no network: every script, style sheet, image and frame a page
loads is a file of the site itself, and MathJax (with its fonts) is one of them.

The site is built once per test session (``built_site``) and shared with the browser tier in
tests/site/test_browser.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.slow

# Attributes through which a tag makes the browser fetch something.
RESOURCE_ATTRS = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "track": ("src",),
}
# Schemes that do not leave the page.
LOCAL_SCHEMES = {"", "data", "blob", "about", "javascript", "mailto"}

def html_pages(site: Path) -> list[Path]:
    """Every page of the site (not the template fragments some themes leave in _static)."""
    return sorted(
        path for path in site.rglob("*.html")
        if path.relative_to(site).parts[0] not in {"_static", "_sources", "_images"}
    )


class ResourceParser(HTMLParser):
    """Collects (tag, attribute, url) for every fetched resource, and inline script bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str, str]] = []
        self.inline_scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in RESOURCE_ATTRS.get(tag, ()):
            value = values.get(name, "").strip()
            if not value:
                continue
            urls = [part.strip().split()[0] for part in value.split(",") if part.strip()] \
                if name == "srcset" else [value]
            self.resources += [(tag, name, url) for url in urls]
        if tag == "script" and "src" not in values:
            self._in = "script"
        elif tag == "style":
            self._in = "style"

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.inline_scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)


def parse(page: Path) -> ResourceParser:
    parser = ResourceParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme.lower() not in LOCAL_SCHEMES


def local_target(site: Path, page: Path, url: str) -> Path | None:
    """The file a relative URL of ``page`` points to, or None for data: URLs and anchors."""
    parts = urlsplit(url)
    if parts.scheme or not parts.path:
        return None
    base = site if parts.path.startswith("/") else page.parent
    return (base / unquote(parts.path).lstrip("/")).resolve()


ADDRESS = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'`)]*""")
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
CSS_REMOTE = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])\s*((?:https?:)?//[^"')\s]+)""", re.I)


@pytest.fixture(scope="module")
def site(built_site) -> Path:
    return built_site


def test_no_page_loads_anything_from_another_host(site):
    pages = html_pages(site)
    assert len(pages) >= 5, f"only {len(pages)} pages built"
    external = {}
    for page in pages:
        parsed = parse(page)
        found = [f"<{tag} {attr}={url}>" for tag, attr, url in parsed.resources if is_external(url)]
        # an address kept in an inline script is fetched later (thebe's CDN URL was one)
        found += [f"inline script: {m}" for body in parsed.inline_scripts for m in ADDRESS.findall(body)]
        found += [f"inline style: {m}" for body in parsed.styles
                  for m in CSS_REMOTE.findall(CSS_COMMENT.sub("", body))]
        if found:
            external[str(page.relative_to(site))] = found
    assert external == {}


def test_every_local_resource_a_page_loads_is_in_the_site(site):
    missing = {}
    for page in html_pages(site):
        for tag, attr, url in parse(page).resources:
            target = local_target(site, page, url)
            if target is not None and not target.is_file():
                missing.setdefault(str(page.relative_to(site)), []).append(f"<{tag} {attr}={url}>")
    assert missing == {}


def test_style_sheets_import_nothing_from_another_host(site):
    remote = {}
    for sheet in (site / "_static").rglob("*.css"):
        found = CSS_REMOTE.findall(CSS_COMMENT.sub("", sheet.read_text(encoding="utf-8", errors="replace")))
        if found:
            remote[str(sheet.relative_to(site))] = found
    assert remote == {}


def test_pages_with_math_load_mathjax_from_the_site_with_its_fonts(site):
    pages_with_math = 0
    for page in html_pages(site):
        text = page.read_text(encoding="utf-8")
        has_math = re.search(r'class="math[ "]', text) is not None
        scripts = [url for tag, _, url in parse(page).resources
                   if tag == "script" and "mathjax" in url.lower()]
        if not has_math:
            continue
        pages_with_math += 1
        assert len(scripts) == 1, f"{page.name} has math but loads MathJax {len(scripts)} times: {scripts}"
        target = local_target(site, page, scripts[0])
        assert target is not None and target.is_file(), f"{page.name} loads a missing MathJax: {scripts[0]}"
        assert target.stat().st_size > 500_000, f"{target} is too small to be MathJax's tex-chtml bundle"
        assert target.parent == (site / "_static" / "mathjax").resolve()
    assert pages_with_math >= 3, "the chapters' math is missing from the built pages"

    mathjax = site / "_static" / "mathjax"
    fonts = list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) >= 20, "MathJax's CHTML fonts are not in the site"
    # \boldsymbol, \cancel, ... are loaded on demand from the TeX extensions folder
    assert (mathjax / "input" / "tex" / "extensions" / "boldsymbol.js").is_file()


def test_no_thebe_or_cdn_leftovers(site):
    for page in html_pages(site):
        text = page.read_text(encoding="utf-8")
        for marker in ("THEBE_JS_URL", "sphinx-thebe.js", "x-thebe-config", "binderOptions",
                       "cdn.jsdelivr.net", "unpkg.com", "fonts.googleapis.com"):
            assert marker not in text, f"{page.relative_to(site)} still mentions {marker}"
