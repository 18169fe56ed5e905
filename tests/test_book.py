"""The course site builds offline with warnings as errors, and holds what students need
(quick checks, figures) and nothing they must not see (solution code, quiz answers)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
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
    secrets = secret_lines()
    leaks = {}
    for path in [*site.rglob("*.html"), *site.rglob("_sources/**/*")]:
        if path.is_file():
            text = page_text(path) if path.suffix == ".html" else path.read_text(errors="replace")
            found = leaked_lines(text, secrets)
            if found:
                leaks[str(path.relative_to(site))] = found
    assert leaks == {}


def test_quick_check_assets_are_shipped(site):
    assert (site / "_static" / "quickcheck.js").is_file()
    assert (site / "_static" / "quickcheck.css").is_file()
