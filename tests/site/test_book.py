"""The course site builds offline with warnings as errors, and holds what students need
(quick checks, figures, explorables, an honest reading time and a runnable notebook for
every chapter) and nothing they must not see (solution code, quiz answers)."""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import EXPLORABLES, ROOT
from fresh_environments import execute, fresh_environment
from leaks import leaked_lines, secret_lines

pytestmark = pytest.mark.slow


GUIDES = {"book/assignments", "book/instructor-guide"}  # reference pages, not lessons


def chapters() -> list[str]:
    """The lessons: every chapter in the table of contents except the guides."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [entry["file"] for entry in toc["chapters"] if entry["file"] not in GUIDES]


@pytest.fixture(scope="module")
def site(built_site) -> Path:
    return built_site


def page_text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("chapter", chapters())
def test_every_chapter_has_instant_quick_checks_and_figures(site, chapter):
    page = (site / chapter).with_suffix(".html").read_text(encoding="utf-8")
    checks = re.findall(r'class="quickcheck[ "]', page)
    assert len(checks) >= 3, f"{chapter} has {len(checks)} quick checks"
    assert 'data-correct="true"' in page or "data-answer" in page
    assert re.search(r'<img[^>]+src="[^"]*\.png"', page), f"{chapter} shows no executed figure"
    assert "quickcheck.js" in page


def test_site_holds_no_solution_code_or_quiz_answers(site):
    """Not in the pages, not in the downloadable sources and notebooks, not in the scripts
    (the explorables compute what the assignments ask for, in JavaScript of their own)."""
    secrets = secret_lines()
    leaks = {}
    scripts = [path for path in (site / "_static").glob("*.js")]
    for path in [*site.rglob("*.html"), *site.rglob("_sources/**/*"), *scripts]:
        if path.is_file():
            text = page_text(path) if path.suffix == ".html" else path.read_text(errors="replace")
            found = leaked_lines(text, secrets)
            if found:
                leaks[str(path.relative_to(site))] = found
    assert leaks == {}


def test_quick_check_assets_are_shipped(site):
    assert (site / "_static" / "quickcheck.js").is_file()
    assert (site / "_static" / "quickcheck.css").is_file()


# --- explorables ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", EXPLORABLES)
def test_explorable_ships_with_a_static_figure_before_it(site, kind):
    page = (site / EXPLORABLES[kind]).with_suffix(".html").read_text(encoding="utf-8")
    found = re.findall(r'<figure [^>]*class="explorable"[^>]*data-explorable="([\w-]+)"', page)
    assert found == [kind]
    before = page[: page.index(f'data-explorable="{kind}"')]
    section = before[before.rfind("<section"):]
    assert re.search(r'<img alt="[^"]{40,}"[^>]*src="[^"]*\.png"', section), (
        "no static figure (with alt text) in the explorable's section before it"
    )
    assert 'class="explorable-nojs"' in page
    assert re.search(r'<script[^>]+src="[^"]*_static/explorables\.js', page)
    assert (site / "_static" / "explorables.js").is_file()
    assert (site / "_static" / "explorables.css").is_file()


def test_only_pages_with_an_explorable_load_its_script(site):
    loading = {page.relative_to(site).with_suffix("").as_posix()
               for page in site.rglob("book/*.html") if "explorables.js" in page.read_text()}
    assert loading == set(EXPLORABLES.values())


# --- reading time ---------------------------------------------------------------------------


class ProseParser(HTMLParser):
    """The words a student reads in a chapter's article: code, outputs, figures, math,
    quick checks, explorables and the line under the title are left out."""

    SKIP_CLASSES = {"cell", "quickcheck", "explorable", "chapter-meta", "math", "highlight",
                    "headerlink", "toctree-wrapper"}
    VOID = {"br", "img", "input", "hr", "meta", "link", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is it (inside) something skipped?
        self.in_article = 0
        self.words = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = set(dict(attrs).get("class", "") .split())
        skipped = bool(self.stack and self.stack[-1]) or bool(classes & self.SKIP_CLASSES) or \
            tag in {"pre", "script", "style"}
        self.stack.append(skipped)
        if tag == "article":
            self.in_article += 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack:
            self.stack.pop()
        if tag == "article":
            self.in_article -= 1

    def handle_data(self, data):
        if self.in_article and not (self.stack and self.stack[-1]):
            self.words += len(re.findall(r"[A-Za-z]{2,}", data))


def shown_minutes(page: str) -> int:
    match = re.search(r'<p class="chapter-meta" data-minutes="(\d+)">', page)
    assert match, "no reading time under the chapter's title"
    return int(match.group(1))


@pytest.mark.parametrize("chapter", chapters())
def test_reading_time_is_honest(site, chapter):
    """At least the time its prose alone takes at 200 words a minute (the figures, code,
    equations and quick checks come on top), and no more than reading everything on the
    page, code included, at 100 words a minute."""
    page = (site / chapter).with_suffix(".html").read_text(encoding="utf-8")
    parser = ProseParser()
    parser.feed(page)
    minutes = shown_minutes(page)
    assert parser.words > 500
    assert minutes >= math.ceil(parser.words / 200), (parser.words, minutes)
    everything = len(re.findall(r"\S+", page_text((site / chapter).with_suffix(".html"))))
    assert minutes <= math.ceil(everything / 100), (everything, minutes)
    assert re.search(rf'>About {minutes} minutes to read<', page)


def test_home_page_lists_each_chapters_own_reading_time(site):
    intro = page_text(site / "book" / "intro.html")
    for chapter in chapters():
        page = (site / chapter).with_suffix(".html").read_text(encoding="utf-8")
        title = html.unescape(re.search(r'<h1>([^<]*)<a class="headerlink"', page).group(1))
        listed = re.search(re.escape(title) + r"\s*\(about\s+(\d+)\s+minutes\)", intro)
        assert listed, f"the home page lists no reading time for {title!r}"
        assert int(listed.group(1)) == shown_minutes(page), title


# --- runnable notebooks ---------------------------------------------------------------------


def chapter_notebook(site: Path, chapter: str) -> Path:
    return site / "_sources" / f"{chapter}.ipynb"


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_offers_its_notebook(site, chapter):
    page = (site / chapter).with_suffix(".html").read_text(encoding="utf-8")
    name = Path(chapter).name
    link = f'href="../_sources/{chapter}.ipynb"'
    assert re.search(rf'<a class="chapter-notebook" {re.escape(link)} download="{name}\.ipynb"',
                     page), "no notebook link under the title"
    menu = re.search(rf'<a href="{re.escape(f"../_sources/{chapter}.ipynb")}"[^>]*\s+'
                     r'class="[^"]*btn-download-notebook-button', page)
    assert menu, "the page's download menu offers no .ipynb"
    notebook = nbformat.read(chapter_notebook(site, chapter), as_version=4)
    nbformat.validate(notebook)
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    for leftover in ("```{", "{doc}`", "{reading-time}`", ":numeric:", ":answer:"):
        assert leftover not in markdown, f"site-only syntax {leftover!r} left in the notebook"
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "def use_course_style" in code, "the plot-style helper is not pasted in"
    assert not re.search(r"^\s*(from|import) coursekit", code, re.M)
    source = (ROOT / chapter).with_suffix(".md").read_text(encoding="utf-8")
    assert len([c for c in notebook.cells if c.cell_type == "code"]) == \
        len(re.findall(r"^```\{code-cell\}", source, re.M)) + 1  # every cell, and the helper
    assert markdown.count("**Quick check.**") == len(re.findall(r"^```\{quickcheck\}", source,
                                                                re.M))


def page_requirements(site: Path, chapter: str) -> list[str]:
    """What the chapter's page tells a student to install for its notebook: ``pip install``
    arguments, the checks wheel as a file of the site."""
    page = (site / chapter).with_suffix(".html").read_text(encoding="utf-8")
    match = re.search(r'class="chapter-requires" data-requires="([^"]*)"', page)
    assert match, f"{chapter} does not say what its notebook needs"
    wanted = json.loads(html.unescape(match.group(1)))
    folder = (site / chapter).parent
    return [str((folder / item).resolve()) if item.endswith(".whl") else item for item in wanted]


@pytest.fixture(scope="module")
def page_environments(site, tmp_path_factory) -> dict[tuple[str, ...], Path]:
    """One fresh environment for each set of requirements the chapters' pages name, holding
    exactly that (and Jupyter's kernel)."""
    environments = {}
    for wanted in sorted({tuple(page_requirements(site, chapter)) for chapter in chapters()}):
        folder = tmp_path_factory.mktemp("reader")
        fresh_environment(folder, list(wanted))
        environments[wanted] = folder
    return environments


@pytest.mark.parametrize("chapter", chapters())
def test_downloaded_notebook_runs_where_its_page_says(site, chapter, tmp_path, page_environments,
                                                      monkeypatch):
    """Downloaded into a folder of its own, in a fresh environment holding only what the page
    says to install (and Jupyter's kernel): every cell runs, every figure is drawn."""
    notebook_path = tmp_path / f"{Path(chapter).name}.ipynb"
    shutil.copy(chapter_notebook(site, chapter), notebook_path)
    notebook = execute(page_environments[tuple(page_requirements(site, chapter))],
                       nbformat.read(notebook_path, as_version=4), tmp_path, monkeypatch)
    images = sum("image/png" in output.get("data", {})
                 for cell in notebook.cells for output in cell.get("outputs", []))
    page = (site / chapter).with_suffix(".html").read_text(encoding="utf-8")
    assert images == len(re.findall(r'<img [^>]*src="[^"]*_images/', page))
    errors = ["".join(output.get("traceback", []))[-1500:] for cell in notebook.cells
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert errors == []
    assert sorted(os.listdir(tmp_path)) == [notebook_path.name], "the notebook wrote files"
