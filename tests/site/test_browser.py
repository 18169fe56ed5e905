"""The course site in a real browser, with no network: every page loads without console
errors, shows its figures and typesets its math; figures are drawn for the text column, with
alt text and readable lettering, and no open code cell runs past the column; quick checks
answer clicks and typed numbers, and explain every wrong answer; the four explorables redraw
when a slider or field moves, show the numbers of the course's reference functions, and fall
back to their static figure without JavaScript; search finds pages; chapters link to their
neighbours.

Drives Debian's Chromium (``/usr/bin/chromium``) through its ``/usr/bin/chromedriver`` with
Selenium; `make test` installs both with apt-get where it can. Selenium Manager is kept offline
and never downloads a browser or a driver. The browser may reach 127.0.0.1 only, where the
built site is served. A full-page screenshot of every page goes to .artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import math
import re
import shutil
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
import yaml
from chromium import headless_chromium, require_chromium
from conftest import ROOT, reference
from test_site_offline import html_pages

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
MAX_SCREENSHOT_HEIGHT = 30_000  # px: more than the longest chapter, bounded for CI artifacts

def book_pages(site: Path) -> list[Path]:
    """The course's pages: not those of its in-browser Jupyter (test_browser_notebooks.py)."""
    return [page for page in html_pages(site) if page.relative_to(site).parts[0] != "lite"]


def toc_pages() -> list[str]:
    """Page names (``book/intro``, ...) in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"], *(entry["file"] for entry in toc["chapters"])]


# --- the site, served and browsed ----------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site(request) -> Path:
    require_chromium()  # before the build: a machine without Chromium says so at once
    return request.getfixturevalue("built_site")


@pytest.fixture(scope="module")
def base_url(site) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def driver(site, tmp_path_factory):
    with headless_chromium(tmp_path_factory) as browser:
        yield browser


@pytest.fixture(scope="module")
def screenshots() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def wait_for(driver, script: str, timeout: float = 10.0, *args):
    """Poll a JavaScript expression (``return ...``) until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script, *args)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


SETTLE_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(img => { img.loading = "eager"; });
Promise.all(images.map(img => img.complete ? null :
    new Promise(ok => { img.addEventListener("load", ok); img.addEventListener("error", ok);
                        setTimeout(ok, 10000); })))
  .then(() => done(images.filter(img => !img.complete || img.naturalWidth === 0)
                         .map(img => img.getAttribute("src"))));
"""

SETTLE_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done("no MathJax"); }
else { MathJax.startup.promise.then(() => done("ok"), err => done("failed: " + err)); }
"""

UNTYPESET_MATH = """
return Array.from(document.querySelectorAll(".math"))
  .filter(e => !e.querySelector("mjx-container")).map(e => e.textContent.trim().slice(0, 60));
"""

FOREIGN_REQUESTS = """
const origin = location.origin;
return performance.getEntriesByType("resource").map(e => e.name)
  .filter(name => !name.startsWith(origin + "/") && !name.startsWith("data:"));
"""


def screenshot(driver, path: Path) -> None:
    """A PNG of the whole page (up to MAX_SCREENSHOT_HEIGHT), not only the window.

    The viewport is stretched to the page's height for the shot: Chrome's own
    ``captureBeyondViewport`` leaves code cells and figures below the window unpainted.
    """
    import base64

    width, height = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollHeight]")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": min(height, MAX_SCREENSHOT_HEIGHT),
        "deviceScaleFactor": 1, "mobile": False,
    })
    try:
        driver.execute_async_script(  # two frames: the stretched page is laid out and painted
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done));")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.write_bytes(base64.b64decode(shot["data"]))


def element_screenshot(driver, element, path: Path) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.screenshot(str(path))


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait_for(driver, "return document.readyState === 'complete'")


# --- every page ----------------------------------------------------------------------------


def test_every_page_renders_offline(site, base_url, driver, screenshots):
    """Each page: no console error, no broken image, math typeset, nothing fetched elsewhere."""
    driver.get_log("browser")  # start from an empty console log
    problems: dict[str, list[str]] = {}
    pages = book_pages(site)
    for page in pages:
        rel = page.relative_to(site).as_posix()
        html = page.read_text(encoding="utf-8")
        found: list[str] = []
        open_page(driver, base_url + rel)

        redirect = re.search(r'http-equiv="Refresh" content="\d+;\s*url=([^"]+)"', html, re.I)
        if redirect:  # index.html sends the reader to the first page
            target = redirect.group(1)
            if not wait_for(driver, "return location.pathname.endsWith(arguments[0])", 10, target):
                found.append(f"does not redirect to {target} (at {driver.current_url})")
            wait_for(driver, "return document.readyState === 'complete'")

        broken = driver.execute_async_script(SETTLE_IMAGES)
        found += [f"image not shown: {src}" for src in broken]

        if re.search(r'class="math[ "]', html):
            state = driver.execute_async_script(SETTLE_MATHJAX)
            typeset = driver.execute_script("return document.querySelectorAll('mjx-container').length")
            errors = driver.execute_script("return document.querySelectorAll('mjx-merror').length")
            if state != "ok" or typeset == 0:
                found.append(f"math not typeset (MathJax: {state}, {typeset} formulas)")
            untyped = driver.execute_script(UNTYPESET_MATH)
            if untyped:
                found.append(f"{len(untyped)} formulas left as TeX, such as {untyped[:3]}")
            if errors:
                found.append(f"{errors} formulas with TeX errors")
            fonts = driver.execute_script(
                "return performance.getEntriesByType('resource')"
                ".filter(e => /mathjax.*\\.woff/.test(e.name)).length")
            if not fonts:
                found.append("MathJax loaded none of its fonts")

        found += [f"request to another host: {url}" for url in driver.execute_script(FOREIGN_REQUESTS)]
        found += [f"console error: {message}" for message in console_errors(driver)]
        screenshot(driver, screenshots / (rel.removesuffix(".html").replace("/", "-") + ".png"))
        if found:
            problems[rel] = found
    assert len(pages) >= 5
    assert problems == {}


# --- quick checks --------------------------------------------------------------------------


def chapter_with_checks(site: Path) -> str:
    """The first chapter with both a multiple-choice and a numeric check (else a choice one)."""
    choice = []
    for name in toc_pages():
        page = site / f"{name}.html"
        if not page.is_file():
            continue
        html = page.read_text(encoding="utf-8")
        if 'data-kind="choice"' in html and 'data-kind="numeric"' in html:
            return f"{name}.html"
        if 'data-kind="choice"' in html:
            choice.append(f"{name}.html")
    assert choice, "no chapter has a multiple-choice quick check"
    return choice[0]


def feedback_of(check) -> tuple[str, str]:
    feedback = check.find_element("css selector", ".quickcheck-feedback")
    return feedback.text.strip(), feedback.get_attribute("class")


def test_quick_checks_answer_in_the_browser(site, base_url, driver, screenshots):
    from selenium.webdriver.common.by import By

    chapter = chapter_with_checks(site)
    open_page(driver, base_url + chapter)
    assert wait_for(driver, "return document.querySelectorAll('.quickcheck.is-ready').length > 0"), \
        "quickcheck.js did not set up the checks"

    check = driver.find_element(By.CSS_SELECTOR, '.quickcheck[data-kind="choice"]')
    wrong = check.find_element(By.CSS_SELECTOR, '.quickcheck-option[data-correct="false"]')
    right = check.find_element(By.CSS_SELECTOR, '.quickcheck-option[data-correct="true"]')
    assert feedback_of(check)[0] == ""

    wrong.click()
    text, classes = feedback_of(check)
    own = check.find_element(
        By.CSS_SELECTOR,
        f'.quickcheck-option-feedback[data-option="{wrong.get_attribute("data-option")}"]')
    assert text.startswith("Not quite"), text
    assert own.text.strip() and own.text.strip() in text, "the option's own feedback is not shown"
    assert "is-wrong" in classes and wrong.get_attribute("aria-pressed") == "true"

    right.click()
    text, classes = feedback_of(check)
    assert text.startswith("Correct"), text
    assert "is-correct" in classes and "is-wrong" not in classes
    assert right.get_attribute("aria-pressed") == "true" and wrong.get_attribute("aria-pressed") == "false"
    assert "is-solved" in check.get_attribute("class")

    element_screenshot(driver, check, screenshots / "quickcheck-choice.png")

    numeric = driver.find_elements(By.CSS_SELECTOR, '.quickcheck[data-kind="numeric"]')
    if not numeric:
        return
    check = numeric[0]
    answer = float(check.get_attribute("data-answer"))
    tolerance = float(check.get_attribute("data-tolerance"))
    box = check.find_element(By.CSS_SELECTOR, ".quickcheck-input")
    submit = check.find_element(By.CSS_SELECTOR, ".quickcheck-submit")

    def answer_with(text: str) -> str:
        box.clear()
        box.send_keys(text)
        submit.click()
        return feedback_of(check)[0]

    assert answer_with("not a number").startswith("Please type a number")
    assert box.get_attribute("aria-invalid") == "true"
    assert answer_with(repr(answer + 10 * tolerance + 1)).startswith("Not quite")
    assert answer_with(check.get_attribute("data-answer")).startswith("Correct")
    assert box.get_attribute("aria-invalid") == "false"
    assert "is-solved" in check.get_attribute("class")
    assert driver.current_url.startswith(base_url + chapter), "submitting the answer left the page"
    element_screenshot(driver, check, screenshots / "quickcheck-numeric.png")
    assert console_errors(driver) == []


ANSWER_EVERY_CHECK = """
// Give every quick check of the page every answer it knows about, through its own controls,
// and note what it says: each option of a multiple-choice check (the right one last); each
// listed wrong value of a numeric check, then an unlisted wrong number, then the answer.
const feedback = check => check.querySelector(".quickcheck-feedback");
const said = check => {
  const region = feedback(check);
  return {text: region.textContent.replace(/\\s+/g, " ").trim(),
          verdictClass: region.className, solved: check.classList.contains("is-solved")};
};
const norm = el => el ? el.textContent.replace(/\\s+/g, " ").trim() : null;
return Array.from(document.querySelectorAll(".quickcheck")).map((check, index) => {
  const result = {index: index + 1, kind: check.getAttribute("data-kind"), answers: []};
  if (result.kind === "numeric") {
    const input = check.querySelector(".quickcheck-input");
    const form = check.querySelector(".quickcheck-numeric");
    const submit = value => { input.value = value; form.requestSubmit(); return said(check); };
    const answer = parseFloat(check.getAttribute("data-answer"));
    const tolerance = parseFloat(check.getAttribute("data-tolerance")) || 0;
    for (const wrong of check.querySelectorAll(".quickcheck-wrong-value")) {
      const value = wrong.getAttribute("data-value");
      result.answers.push({given: value, expected: norm(wrong), ...submit(value)});
    }
    const other = String(answer + 1000 * (tolerance + 1) + 7.25);
    result.answers.push({given: other, expected: norm(check.querySelector(".quickcheck-hint")),
                         unlisted: true, ...submit(other)});
    result.answers.push({given: check.getAttribute("data-answer"), right: true,
                         expected: norm(check.querySelector(".quickcheck-explanation")),
                         ...submit(check.getAttribute("data-answer"))});
  } else {
    const options = Array.from(check.querySelectorAll(".quickcheck-option"));
    options.sort((a, b) => (a.dataset.correct === "true") - (b.dataset.correct === "true"));
    for (const option of options) {
      const own = check.querySelector(
        '.quickcheck-option-feedback[data-option="' + option.dataset.option + '"]');
      option.click();
      result.answers.push({given: norm(option), right: option.dataset.correct === "true",
                           expected: norm(own), pressed: option.getAttribute("aria-pressed"),
                           ...said(check)});
    }
  }
  return result;
});
"""


def test_every_answer_of_every_quick_check_is_explained(site, base_url, driver):
    """A wrong answer says "Not quite." followed by what is wrong with that very answer, a
    number nobody expected gets the check's hint, and the right answer its explanation."""
    problems = []
    total = 0
    for name in toc_pages():
        page = site / f"{name}.html"
        if not page.is_file() or 'class="quickcheck"' not in page.read_text(encoding="utf-8"):
            continue
        open_page(driver, base_url + f"{name}.html")
        assert wait_for(driver, "return document.querySelectorAll('.quickcheck.is-ready').length")
        for check in driver.execute_script(ANSWER_EVERY_CHECK):
            total += 1
            where = f"{name}, quick check {check['index']}"
            seen = set()
            for answer in check["answers"]:
                text, expected = answer["text"], answer["expected"]
                if answer.get("right"):
                    if not (text.startswith("Correct") and answer["solved"]):
                        problems.append(f"{where}: the right answer gets {text!r}")
                elif answer.get("unlisted"):
                    if not text.startswith("Not quite") or (expected and expected not in text):
                        problems.append(f"{where}: an unexpected number gets {text!r}")
                else:
                    if not expected or not text.startswith("Not quite. ") or expected not in text:
                        problems.append(f"{where}: {answer['given']!r} gets {text!r}")
                    if "is-wrong" not in answer["verdictClass"] or answer["solved"]:
                        problems.append(f"{where}: {answer['given']!r} is not marked wrong")
                    seen.add(expected)
                if answer.get("right") and expected and expected not in text:
                    problems.append(f"{where}: the right answer does not explain itself")
            wrong = [a for a in check["answers"] if not a.get("right") and not a.get("unlisted")]
            if len(seen) != len(wrong) or not wrong:
                problems.append(f"{where}: {len(wrong)} wrong answers, {len(seen)} explanations")
    assert total >= 3 * 7 + 1, f"only {total} quick checks found"
    assert problems == []
    assert console_errors(driver) == []


# --- search and navigation -----------------------------------------------------------------


def test_search_finds_pages(base_url, driver, screenshots):
    open_page(driver, base_url + "search.html?q=gradient")
    count = wait_for(driver, "return document.querySelectorAll('#search-results li').length", 20)
    assert count, "search for 'gradient' listed no page"
    links = driver.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a')).map(a => a.href)")
    assert any("gradient-descent.html" in link for link in links), links
    assert console_errors(driver) == []
    screenshot(driver, screenshots / "search-gradient.png")


def test_search_works_from_a_file(site, driver):
    """Opened as a file, as a student may after downloading the site: results, no CORS errors."""
    driver.get_log("browser")
    driver.get((site / "search.html").as_uri() + "?q=gradient")
    count = wait_for(driver, "return document.querySelectorAll('#search-results li').length", 20)
    assert count, "search for 'gradient' listed no page"
    assert wait_for(driver, "return /Search finished/.test(document.getElementById('search-results')"
                            ".textContent)", 20)
    time.sleep(1)  # a snippet's request would fail by now
    assert console_errors(driver) == []


def test_chapters_link_to_previous_and_next(site, base_url, driver):
    names = [name for name in toc_pages() if (site / f"{name}.html").is_file()]
    assert len(names) >= 3
    missing = []
    for i, name in enumerate(names):
        open_page(driver, base_url + f"{name}.html")
        links = driver.execute_script("""
            const href = sel => { const a = document.querySelector(sel); return a ? a.href : null; };
            return {prev: href('.prev-next-area a.left-prev'), next: href('.prev-next-area a.right-next')};
        """)
        expected = {"prev": names[i - 1] if i > 0 else None,
                    "next": names[i + 1] if i + 1 < len(names) else None}
        for side, target in expected.items():
            link = links[side]
            if target is None:
                if link is not None:
                    missing.append(f"{name}: unexpected {side} link to {link}")
            elif link is None or not link.split("#")[0].endswith(f"/{target}.html"):
                missing.append(f"{name}: {side} link is {link}, expected {target}.html")
    assert missing == []

    # and following one works
    open_page(driver, base_url + f"{names[1]}.html")
    with contextlib.suppress(Exception):
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    driver.find_element("css selector", ".prev-next-area a.right-next").click()
    assert wait_for(driver, "return location.pathname.endsWith(arguments[0])", 10, f"/{names[2]}.html")


# --- figures and code, measured where they stand -------------------------------------------

MAX_SHRINK = 1.25  # a figure may be drawn at most this much wider than it is shown
MIN_TEXT_PX = 10  # smallest lettering in a figure, on screen


def png_note(path: Path) -> dict | None:
    """The ``course-figure`` text chunk that book/coursekit.py writes into each figure: the
    size it was drawn for (CSS pixels), its pixel density and its smallest font, in pixels."""
    data = path.read_bytes()
    offset = 8  # after the PNG signature
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"tEXt" and body.startswith(b"course-figure\0"):
            return json.loads(body.split(b"\0", 1)[1])
        offset += 12 + length
    return None


MEASURE_PAGE = """
const done = arguments[arguments.length - 1];
const article = document.querySelector("article.bd-article") || document.body;
const images = Array.from(article.querySelectorAll("img"));
images.forEach(img => { img.loading = "eager"; });
Promise.all(images.map(img => img.complete ? null : new Promise(ok => {
    img.addEventListener("load", ok); img.addEventListener("error", ok); setTimeout(ok, 10000);
}))).then(() => done({
  column: (article.querySelector("section") || article).getBoundingClientRect().width,
  images: images.map(img => ({src: img.getAttribute("src"), alt: img.getAttribute("alt"),
                              natural: img.naturalWidth, shown: img.getBoundingClientRect().width})),
  // code and its printed output, as a reader sees them: folded cells do not count
  overflowing: Array.from(article.querySelectorAll("pre"))
    .filter(pre => pre.checkVisibility() && pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => pre.textContent.split("\\n").reduce((a, b) => a.length >= b.length ? a : b)),
  open_code: Array.from(article.querySelectorAll(".cell_input pre, .highlight-python pre"))
    .filter(pre => pre.checkVisibility()).length,
  svg_text: Array.from(article.querySelectorAll("svg.explorable-svg text"))
    .filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize) *
              t.ownerSVGElement.getBoundingClientRect().width /
              t.ownerSVGElement.viewBox.baseVal.width),
}));
"""


@pytest.fixture(scope="module")
def measured(site, base_url, driver) -> dict[str, dict]:
    """Every page at 1280 px: its figures (drawn and shown widths), overflowing code, and the
    size of the lettering in its explorables."""
    pages = {}
    for page in book_pages(site):
        rel = page.relative_to(site).as_posix()
        if 'http-equiv="Refresh"' in page.read_text(encoding="utf-8"):
            continue  # the redirect to the first page
        open_page(driver, base_url + rel)
        if driver.find_elements("css selector", ".explorable"):
            wait_for(driver, "return document.querySelectorAll('.explorable.is-ready').length")
        pages[rel] = driver.execute_async_script(MEASURE_PAGE)
    return pages


def test_figures_are_drawn_for_the_column(site, measured):
    """No figure is shrunk by more than MAX_SHRINK to fit the column, its smallest lettering
    is at least MIN_TEXT_PX on screen, and it says what it shows in its alt text."""
    problems, figures = [], 0
    for rel, page in measured.items():
        for image in page["images"]:
            figures += 1
            src = image["src"]
            path = (site / rel).parent / unquote(urlsplit(src).path)
            note = png_note(path)
            name = f"{rel}: {Path(src).name[:12]}"
            alt = image["alt"] or ""
            if len(alt.split()) < 12 or alt.endswith(".png") or "_images/" in alt:
                problems.append(f"{name}: no meaningful alt text ({alt[:40]!r})")
            if note is None:
                problems.append(f"{name}: not drawn with the course style (no size note)")
                continue
            drawn = image["natural"] / note["scale"]  # the width it was drawn for, in CSS px
            shrink = drawn / image["shown"]
            if shrink > MAX_SHRINK:
                problems.append(f"{name}: drawn {drawn:.0f} px wide, shown {image['shown']:.0f}")
            if drawn > page["column"] * MAX_SHRINK:
                problems.append(f"{name}: {drawn:.0f} px wide for a {page['column']:.0f} px column")
            on_screen = note["min_font_px"] / max(shrink, 1.0)
            if on_screen < MIN_TEXT_PX:
                problems.append(f"{name}: smallest text {on_screen:.1f} px on screen")
    assert figures >= 28, f"only {figures} figures measured"
    assert problems == []


def test_explorable_lettering_is_readable(measured):
    sizes = [size for page in measured.values() for size in page["svg_text"]]
    assert len(sizes) > 50, "the explorables drew no text"
    assert min(sizes) >= MIN_TEXT_PX


def test_no_open_code_cell_is_wider_than_the_column(measured):
    overflowing = {rel: page["overflowing"] for rel, page in measured.items() if page["overflowing"]}
    assert sum(page["open_code"] for page in measured.values()) >= 30, "no open code found"
    assert overflowing == {}


# --- on a phone ----------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}  # an iPhone 14's
MIN_PHONE_TEXT_PX = 9

MEASURE_ON_A_PHONE = """
const done = arguments[arguments.length - 1];
const article = document.querySelector("article.bd-article") || document.body;
const column = (article.querySelector("section") || article).getBoundingClientRect();
const images = Array.from(article.querySelectorAll("img"));
images.forEach(img => { img.loading = "eager"; });
Promise.all(images.map(img => img.complete ? null : new Promise(ok => {
    img.addEventListener("load", ok); img.addEventListener("error", ok); setTimeout(ok, 10000);
}))).then(() => done({
  viewport: window.innerWidth,
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  images: images.map(img => {
    const box = img.getBoundingClientRect();
    return {src: img.currentSrc, shown: box.width, right: box.right - column.right,
            left: box.left - column.left};
  }),
  svg_text: Array.from(article.querySelectorAll("svg.explorable-svg text"))
    .filter(t => t.textContent.trim() && t.checkVisibility())
    .map(t => {
      const svg = t.ownerSVGElement.getBoundingClientRect(), box = t.getBoundingClientRect();
      return {text: t.textContent.trim().slice(0, 40),
              px: parseFloat(getComputedStyle(t).fontSize) * svg.width /
                  t.ownerSVGElement.viewBox.baseVal.width,
              cut: Math.max(svg.left - box.left, box.right - svg.right,
                            svg.top - box.top, box.bottom - svg.bottom)};
    }),
}));
"""


@pytest.fixture(scope="module")
def on_a_phone(site, base_url, driver, screenshots) -> dict[str, dict]:
    """Every page as a 390-pixel-wide phone shows it: its figures (which drawing, how wide),
    and the lettering of its explorables. A screenshot of each goes to the artifacts."""
    pages = {}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        for page in book_pages(site):
            rel = page.relative_to(site).as_posix()
            if 'http-equiv="Refresh"' in page.read_text(encoding="utf-8"):
                continue
            open_page(driver, base_url + rel)
            if driver.find_elements("css selector", ".explorable"):
                wait_for(driver, "return document.querySelectorAll('.explorable.is-ready').length")
            pages[rel] = driver.execute_async_script(MEASURE_ON_A_PHONE)
            if rel.startswith("book/") and driver.find_elements("css selector", "article img"):
                driver.save_screenshot(str(screenshots / ("phone-" + Path(rel).stem + ".png")))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return pages


def test_figures_are_legible_on_a_phone(site, on_a_phone):
    """At 390 pixels, every figure fits the column and its smallest lettering is at least
    MIN_PHONE_TEXT_PX on screen: wide figures show the narrow drawing made for phones."""
    problems, figures, narrow = [], 0, 0
    for rel, page in on_a_phone.items():
        assert page["viewport"] == PHONE["width"]
        if page["overflow"] > 1:
            problems.append(f"{rel}: the page is {page['overflow']} px wider than the screen")
        for image in page["images"]:
            figures += 1
            path = site / unquote(urlsplit(image["src"]).path).lstrip("/")
            note = png_note(path)
            name = f"{rel}: {path.name[:12]}"
            if note is None:
                problems.append(f"{name}: no course-figure note")
                continue
            narrow += path.stem.endswith("-phone")
            on_screen = note["min_font_px"] * min(1.0, image["shown"] / note["width"])
            if on_screen < MIN_PHONE_TEXT_PX:
                problems.append(f"{name}: smallest text {on_screen:.1f} px on a phone")
            outside = max(image["right"], -image["left"])
            if outside > 1:
                problems.append(f"{name}: sticks out of the column by {outside:.0f} px")
    assert figures >= 28, f"only {figures} figures measured"
    assert narrow >= 20, f"only {narrow} figures show a drawing made for phones"
    assert problems == []


def test_explorables_are_legible_and_uncut_on_a_phone(on_a_phone):
    texts = [(rel, text) for rel, page in on_a_phone.items() for text in page["svg_text"]]
    assert len(texts) > 50, "the explorables drew no text"
    small = [(rel, t["text"], round(t["px"], 1)) for rel, t in texts if t["px"] < MIN_PHONE_TEXT_PX]
    cut = [(rel, t["text"], round(t["cut"], 1)) for rel, t in texts if t["cut"] > 1]
    assert small == []
    assert cut == [], "lettering cut off at the edge of an explorable"


# --- explorables ----------------------------------------------------------------------------

EXPLORABLE_PAGES = {
    "gradient-descent": "book/gradient-descent.html",
    "optimizer-race": "book/optimizers.html",
    "backprop-graph": "book/backpropagation.html",
    "minibatches": "book/batches-epochs.html",
}


def open_explorable(driver, base_url, kind: str):
    open_page(driver, base_url + EXPLORABLE_PAGES[kind])
    selector = f'.explorable[data-explorable="{kind}"]'
    assert wait_for(driver, f"return document.querySelector('{selector}.is-ready')"), \
        f"explorables.js did not set up {kind}"
    figure = driver.find_element("css selector", selector)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
    return figure


def set_slider(driver, figure, name: str, value: str) -> None:
    """Move a slider to one of its values, as dragging it would (an input event)."""
    moved = driver.execute_script("""
        const input = arguments[0].querySelector('input[data-setting="' + arguments[1] + '"]');
        const index = JSON.parse(input.dataset.values).indexOf(arguments[2]);
        if (index < 0) { return false; }
        input.value = index;
        input.dispatchEvent(new Event("input", {bubbles: true}));
        return input.dataset.value === arguments[2];
    """, figure, name, value)
    assert moved, f"slider {name} cannot take {value}"


def type_into(figure, name: str, value: str) -> None:
    field = figure.find_element("css selector", f'input[data-setting="{name}"]')
    field.clear()
    field.send_keys(value)


def drawing(driver, figure) -> str:
    """What is drawn, as SVG markup: to tell whether a change redrew the picture."""
    return driver.execute_script(
        "return arguments[0].querySelector('svg.explorable-svg').outerHTML", figure)


def shown_numbers(text: str) -> list[float]:
    """The numbers in a piece of shown text (with Unicode minus signs and ×10ⁿ)."""
    superscripts = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
    text = re.sub(r"×10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", lambda m: "e" + m.group(1).translate(superscripts),
                  text.replace("\u2212", "-"))
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def test_gradient_descent_explorable(site, base_url, driver, screenshots):
    """x² from x = 10, twelve steps: the path matches the reference gradient_descent for a
    rate that is too small, one that is about right and one that diverges."""
    gradient_descent = reference("03_optimizers").values["gradient_descent"]
    figure = open_explorable(driver, base_url, "gradient-descent")
    before = drawing(driver, figure)
    seen = {}
    for rate, verdict in (("0.01", "too small"), ("0.1", "about right"), ("1.05", "diverges")):
        set_slider(driver, figure, "lr", rate)
        assert figure.get_attribute("data-lr") == rate
        xs = driver.execute_script("""
            return Array.from(arguments[0].querySelectorAll('.explorable-point'))
              .map(p => [+p.dataset.step, parseFloat(p.dataset.x)]);""", figure)
        xs = np.array([x for _, x in sorted(xs)])
        expected = gradient_descent(lambda x: 2 * x, np.array(10.0), float(rate), 12)
        np.testing.assert_allclose(xs, expected, rtol=1e-12, atol=0)
        readout = figure.find_element("css selector", ".explorable-readout").text
        assert verdict in readout, readout
        shown = shown_numbers(readout.split("x =")[1])[0]
        assert math.isclose(shown, expected[-1], rel_tol=1e-3), (shown, expected[-1])
        sequence = shown_numbers(figure.find_element("css selector", ".explorable-sequence").text)
        np.testing.assert_allclose(sequence, expected, rtol=1e-3)
        seen[rate] = drawing(driver, figure)
    assert abs(expected[-1]) > 10, "1.05 should diverge"
    assert len({before, *seen.values()}) == 3, "moving the slider did not redraw the picture"
    assert seen["0.1"] == before  # the page opens at 0.1
    figure.find_element("css selector", '[data-preset="0.01"]').click()
    assert figure.get_attribute("data-lr") == "0.01"
    element_screenshot(driver, figure, screenshots / "explorable-gradient-descent.png")
    assert console_errors(driver) == []


def valley_run(step, settings: dict) -> np.ndarray:
    """100 steps of a reference optimizer on the chapter's valley, from (-8, 1)."""
    w, state = np.array([-8.0, 1.0]), {}
    path = [w]
    for _ in range(100):
        w, state = step(w, np.array([w[0], 100 * w[1]]), state, **settings)
        path.append(w)
    return np.array(path)


def test_optimizer_race_explorable(site, base_url, driver, screenshots):
    """Gradient descent, momentum and Adam on the narrow valley: every drawn trajectory is the
    one the reference sgd, sgd_momentum and adam take, before and after the sliders move."""
    ref = reference("03_optimizers").values
    figure = open_explorable(driver, base_url, "optimizer-race")
    settings = [
        {"sgd-lr": "0.019", "momentum-lr": "0.004", "momentum": "0.9",
         "adam-lr": "0.3", "beta1": "0.9", "beta2": "0.999"},  # the chapter's
        {"sgd-lr": "0.021", "momentum-lr": "0.002", "momentum": "0.5",
         "adam-lr": "0.05", "beta1": "0.8", "beta2": "0.99"},
        {"sgd-lr": "0.005", "momentum-lr": "0.01", "momentum": "0.99",
         "adam-lr": "1", "beta1": "0", "beta2": "0.9"},
    ]
    drawings = []
    for chosen in settings:
        for name, value in chosen.items():
            set_slider(driver, figure, name, value)
        runs = {
            "sgd": valley_run(ref["sgd"], {"lr": float(chosen["sgd-lr"])}),
            "momentum": valley_run(ref["sgd_momentum"], {"lr": float(chosen["momentum-lr"]),
                                                         "momentum": float(chosen["momentum"])}),
            "adam": valley_run(ref["adam"], {"lr": float(chosen["adam-lr"]),
                                             "beta1": float(chosen["beta1"]),
                                             "beta2": float(chosen["beta2"])}),
        }
        drawn = driver.execute_script("""
            const out = {};
            arguments[0].querySelectorAll('.explorable-trajectory').forEach(path => {
              out[path.dataset.optimizer] = JSON.parse(path.dataset.trajectory); });
            arguments[0].querySelectorAll('.explorable-results li').forEach(item => {
              out[item.dataset.optimizer + '-loss'] = [parseFloat(item.dataset.finalLoss),
                                                       item.textContent]; });
            return out;""", figure)
        for key, expected in runs.items():
            np.testing.assert_allclose(np.array(drawn[key], dtype=float), expected,
                                       rtol=1e-9, atol=1e-12, err_msg=f"{key} with {chosen}")
            final = 0.5 * expected[-1, 0] ** 2 + 50 * expected[-1, 1] ** 2
            value, text = drawn[key + "-loss"]
            assert math.isclose(value, final, rel_tol=1e-9)
            assert math.isclose(shown_numbers(text.split("steps")[1])[0], final, rel_tol=1e-2)
        drawings.append(drawing(driver, figure))
    assert len(set(drawings)) == len(settings), "moving the sliders did not redraw the paths"
    set_slider(driver, figure, "sgd-lr", "0.025")
    assert "diverged" in figure.find_element(
        "css selector", '.explorable-results li[data-optimizer="sgd"]').text
    figure.find_element("css selector", '[data-preset="chapter"]').click()
    assert drawing(driver, figure) == drawings[0]
    element_screenshot(driver, figure, screenshots / "explorable-optimizer-race.png")
    assert console_errors(driver) == []


def test_backprop_graph_explorable(site, base_url, driver, screenshots):
    """y = (a + b) · c: stepping node by node fills in values forward and gradients backward,
    and they are those of the reference Value class, for the chapter's and other inputs."""
    value_class = reference("02_backprop").values["Value"]
    figure = open_explorable(driver, base_url, "backprop-graph")

    def nodes() -> dict:
        return driver.execute_script("""
            const out = {};
            arguments[0].querySelectorAll('.explorable-node').forEach(node => {
              out[node.dataset.node] = {value: node.dataset.value, grad: node.dataset.grad}; });
            return out;""", figure)

    next_button = figure.find_element("css selector", '[data-action="next"]')
    figure.find_element("css selector", '[data-action="reset"]').click()
    order = []
    for _ in range(7):  # forward s, y; backward y, c, s, a, b
        known = {name for name, node in nodes().items() if node["value"] and node["grad"]}
        next_button.click()
        now = nodes()
        order += [name for name, node in now.items() if node["grad"] and name not in known]
        if not order:  # still in the forward pass: values appear, no gradients yet
            assert all(not node["grad"] for node in now.values())
    assert order == ["y", "c", "s", "a", "b"], order
    assert next_button.get_attribute("disabled") is not None
    for a, b, c in ((2, -3, 10), (1.5, -4, 2.5), (-0.75, 3, -6)):
        type_into(figure, "a", str(a))
        type_into(figure, "b", str(b))
        type_into(figure, "c", str(c))
        figure.find_element("css selector", '[data-action="all"]').click()
        A, B, C = value_class(a), value_class(b), value_class(c)
        S = A + B
        Y = S * C
        Y.backward()
        expected = {"a": A, "b": B, "c": C, "s": S, "y": Y}
        for name, node in nodes().items():
            assert float(node["value"]) == pytest.approx(expected[name].data, rel=1e-12), name
            assert float(node["grad"]) == pytest.approx(expected[name].grad, rel=1e-12), name
        story = figure.find_element("css selector", ".explorable-readout").text
        assert shown_numbers(story)[-1] == pytest.approx(B.grad, rel=1e-5)
    element_screenshot(driver, figure, screenshots / "explorable-backprop-graph.png")
    assert console_errors(driver) == []


def test_minibatch_explorable(site, base_url, driver, screenshots):
    """Data set size and batch size in, batches and iterations per epoch out, with and without
    drop_last, as the reference num_iterations and iterate_minibatches count them."""
    ref = reference("04_training").values
    figure = open_explorable(driver, base_url, "minibatches")
    drop = figure.find_element("css selector", 'input[data-setting="drop_last"]')
    pictures = set()
    for n, batch in ((10_000, 32), (10_000, 100), (1197, 128), (10, 4), (5, 8), (1, 1)):
        type_into(figure, "n", str(n))
        type_into(figure, "batch", str(batch))
        for drop_last in (False, True):
            if drop.is_selected() != drop_last:
                drop.click()
            iterations = int(figure.get_attribute("data-iterations"))
            assert iterations == ref["num_iterations"](n, batch, drop_last=drop_last)
            sizes = [size for size, count in json.loads(figure.get_attribute("data-batches"))
                     for _ in range(count)]
            X, y = np.zeros((n, 1)), np.arange(n)
            expected = [len(yb) for _, yb in ref["iterate_minibatches"](
                X, y, batch, shuffle=False, drop_last=drop_last)]
            assert sizes == expected, (n, batch, drop_last)
            headline = figure.find_element("css selector", ".explorable-headline").text
            assert shown_numbers(headline.replace(",", ""))[0] == iterations
            pictures.add(drawing(driver, figure))
    type_into(figure, "n", "10000")
    type_into(figure, "batch", "32")
    if drop.is_selected():
        drop.click()
    assert "313" in figure.find_element("css selector", ".explorable-headline").text
    drop.click()
    assert "312" in figure.find_element("css selector", ".explorable-headline").text
    assert "16 examples sit out" in figure.text.replace("\n", " ")
    assert len(pictures) >= 6, "changing the fields did not redraw the batches"
    element_screenshot(driver, figure, screenshots / "explorable-minibatches.png")
    assert console_errors(driver) == []


def test_explorables_fall_back_to_their_static_figure_without_javascript(site, base_url, driver):
    """With scripts off, each explorable page still shows the static figure of the same thing
    (loaded, with alt text) and a sentence pointing at it instead of dead controls."""
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        for kind, page in EXPLORABLE_PAGES.items():
            open_page(driver, base_url + page)
            state = driver.execute_script("""
                const figure = document.querySelector('.explorable[data-explorable="' +
                                                      arguments[0] + '"]');
                const section = figure.closest('section');
                const before = Array.from(section.querySelectorAll('img')).filter(img =>
                  img.compareDocumentPosition(figure) & Node.DOCUMENT_POSITION_FOLLOWING);
                const img = before[before.length - 1];
                return {ready: figure.classList.contains('is-ready'),
                        body: figure.querySelector('.explorable-body').checkVisibility(),
                        note: figure.querySelector('.explorable-nojs').checkVisibility(),
                        image: img ? [img.alt, img.complete, img.naturalWidth,
                                      img.checkVisibility()] : null};""", kind)
            assert not state["ready"] and not state["body"] and state["note"], (kind, state)
            alt, complete, width, visible = state["image"]
            assert len(alt.split()) >= 12 and complete and width > 0 and visible, (kind, state)
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
