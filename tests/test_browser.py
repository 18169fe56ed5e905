"""The course site in a real browser, with no network: every page loads without console
errors, shows its figures and typesets its math; quick checks answer clicks and typed
numbers; search finds pages; chapters link to their neighbours.

Drives Debian's Chromium (``/usr/bin/chromium``) through its ``/usr/bin/chromedriver`` with
Selenium; `make test` installs both with apt-get where it can. Selenium Manager is kept offline
and never downloads a browser or a driver. The browser may reach 127.0.0.1 only, where the
built site is served. A full-page screenshot of every page goes to .artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from test_site_offline import html_pages

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("COURSE_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
MAX_SCREENSHOT_HEIGHT = 30_000  # px: more than the longest chapter, bounded for CI artifacts

CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--window-size=1280,900",
    # no network but the loopback site: names do not resolve, and anything else goes to a
    # proxy on the discard port, where nothing listens
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
]


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
    browser_or_skip()  # before the build: a machine without Chromium skips at once
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


def browser_or_skip() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER)
               if not (Path(path).is_file() and os.access(path, os.X_OK))]
    if missing:
        pytest.skip(
            f"{' and '.join(missing)} not found: install Debian's chromium and chromium-driver "
            "(`make test` does it with apt-get when it runs as root)"
        )
    pytest.importorskip("selenium", reason="selenium is not installed: run `make setup`")


@pytest.fixture(scope="module")
def driver(site, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    # the driver's path is given, and Selenium Manager is offline: nothing is ever downloaded
    service = Service(executable_path=CHROMEDRIVER, log_output=str(log))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        try:
            browser = webdriver.Chrome(service=service, options=options)
        except Exception as err:  # a broken install must say why, not hang or skip silently
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"Chromium did not start: {err}\n{tail}")
        browser.set_page_load_timeout(30)
        browser.set_script_timeout(30)
        try:
            yield browser
        finally:
            browser.quit()


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
    pages = html_pages(site)
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
    assert text.startswith("Not quite"), text
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


def test_every_quick_check_responds_to_a_click(site, base_url, driver):
    """Every quick check of every chapter: answering it right gives the "Correct" feedback."""
    from selenium.webdriver.common.by import By

    silent = []
    total = 0
    for name in toc_pages():
        page = site / f"{name}.html"
        if not page.is_file() or "quickcheck" not in page.read_text(encoding="utf-8"):
            continue
        open_page(driver, base_url + f"{name}.html")
        wait_for(driver, "return document.querySelectorAll('.quickcheck.is-ready').length > 0")
        for number, check in enumerate(driver.find_elements(By.CSS_SELECTOR, ".quickcheck"), start=1):
            total += 1
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", check)
            if check.get_attribute("data-kind") == "numeric":
                box = check.find_element(By.CSS_SELECTOR, ".quickcheck-input")
                box.clear()
                box.send_keys(check.get_attribute("data-answer"))
                check.find_element(By.CSS_SELECTOR, ".quickcheck-submit").click()
            else:
                check.find_element(By.CSS_SELECTOR, '.quickcheck-option[data-correct="true"]').click()
            text = feedback_of(check)[0]
            if not text.startswith("Correct"):
                silent.append(f"{name}, quick check {number}: {text!r}")
    assert total >= 3 * 7, f"only {total} quick checks found"
    assert silent == []
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
