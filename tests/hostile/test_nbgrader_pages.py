"""Student content never runs as script on nbgrader's pages.

Fast: a notebook carrying every attack of `page_attacks` is rendered as formgrader and
``generate_feedback`` render it (nbconvert's HTMLExporter with nbgrader's templates and this
course's configuration), and the page holds nothing active where the student's content is;
with nbgrader's stock configuration the same page does (so the inspection can fail).

Slow, in headless Chromium: the attacker's notebook goes through ``nbgrader autograde`` and
``generate_feedback``; the instructor, logged in, opens formgrader's lists and every
submission, and the students their feedback pages: no script runs, nothing is loaded from the
attacker's server, and the gradebook is exactly as before. Then the attack itself, run by the
test in the same page, does change grades: had it run, the test would have seen it.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import nbformat
import nbgrader
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, require_tool
from nbconvert.exporters import HTMLExporter
from nbgrader_course import Course, filled_in, gradebook_state, start_formgrader
from page_attacks import ATTACKER, GRADE_ATTACK, hostile_notebook, markdown_attacks
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.assignments import get_assignment
from autograder.flags import FlagKind
from autograder.mathml import ATTRIBUTES as MATHML_ATTRIBUTES
from autograder.mathml import ELEMENTS as MATHML_ELEMENTS
from autograder.nbgrader_pages import FeedbackExporter, clean_html, inert_output

CANARY = "http://127.0.0.1:9"  # the fast tests load nothing; the browser test serves its own
# A student id (a folder name) that formgrader's submission page would show as markup.
NAMED = "eve<img src=x onerror=\"(top.__pwned=top.__pwned||[]).push('student id')\">"
NBGRADER_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
ACTIVE_TAGS = {"script", "iframe", "frame", "object", "embed", "form", "input", "button", "textarea",
               "select", "meta", "base", "link", "style", "svg", "math", "noscript", "applet", "portal"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background",
                  "srcset", "ping", "lowsrc", "dynsrc"}


def course_config(tmp_path: Path, *, stock: bool = False) -> Config:
    """The course's nbgrader configuration (read from a copy, so that it makes its grading
    folder there), or nbgrader's stock one."""
    if stock:
        return Config()
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    return PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()


def render(notebook: dict, template: str, config: Config, metadata: dict | None = None) -> str:
    """The page formgrader (``formgrade``) or generate_feedback (``feedback``) makes of
    ``notebook`` with ``config`` (generate_feedback uses the exporter the configuration names,
    the course's `FeedbackExporter`)."""
    config = Config(config)
    config.HTMLExporter.template_name = template
    config.HTMLExporter.extra_template_basedirs = [str(NBGRADER_TEMPLATES)]
    config.HTMLExporter.extra_template_paths = [str(NBGRADER_TEMPLATES.parent / "static" / "node_modules" /
                                                    "bootstrap" / "dist" / "css")]  # as generate_feedback
    resources = {"base_url": "", "assignment_id": "01_losses", "notebook_id": "losses", "submission_id": "1",
                 "index": 0, "total": 1, "student": NAMED, "notebook_path": f"./autograded/{NAMED}/x.ipynb",
                 "first_name": None, "last_name": None,
                 "nbgrader": {"notebook": "losses", "score": 0, "max_score": 23, "late_penalty": 0,
                              "assignment": "01_losses", "student": NAMED}}
    nb = nbformat.reads(json.dumps(notebook), as_version=4)  # as a page reads it from a file
    for cell in nb.cells:  # as nbgrader's GetGrades leaves them for the feedback
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader.score = 0.0
    if metadata:
        nb.metadata.update(metadata)
    feedback = template == "feedback" and "GenerateFeedback" in config  # as generate_feedback renders it
    exporter = FeedbackExporter if feedback else HTMLExporter
    page, _ = exporter(config=config).from_notebook_node(nb, resources=resources)
    return page


def active_content(page: str) -> list[str]:
    """Everything in the notebook part of ``page`` that could run script, load something or
    pose as the page's own controls."""
    soup = BeautifulSoup(page, "html.parser")
    container = soup.find(id="notebook-container")
    assert container is not None, "the page has no notebook"
    for chrome in container.select(".panel-heading, .panel-footer"):
        chrome.extract()  # nbgrader's own controls and labels, made of the gradebook's grade ids
    found = []
    for element in container.find_all(True):
        if element.name == "math" or element.find_parent("math"):
            found += _not_mathml(element)  # made by the page (autograder.mathml), not by the student
        elif element.name in ACTIVE_TAGS:
            found.append(f"<{element.name}> {str(element)[:80]}")
        for name, value in element.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if name.lower().startswith("on") or name.lower() == "srcdoc":
                found.append(f"{element.name} {name}={value[:60]}")
            elif name.lower() == "style" and not (element.name in ("td", "th") and
                                                  re.fullmatch(r"text-align:\s*\w+;?", value.strip())):
                found.append(f"{element.name} style={value[:60]}")
            elif name.lower() in URL_ATTRIBUTES and not _inert_url(element.name, name.lower(), value):
                found.append(f"{element.name} {name}={value[:60]}")
            elif name.lower() == "name" and value in ("submission_id", "base_url", "notebook_id"):
                found.append(f"{element.name} name={value}")
    # the page's own ids: its containers, and a cell's anchor (nbconvert's, from a checked cell id)
    found += [f"id {e['id']}" for e in container.find_all(id=True)
              if not e["id"].startswith(("student-", "cell-id="))
              and e["id"] not in ("notebook", "notebook-container")]
    return found


def _not_mathml(element) -> list[str]:
    """What in a MathML element is not the presentation MathML the course's pages make."""
    if element.name not in MATHML_ELEMENTS:
        return [f"<{element.name}> in math"]
    return [f"{element.name} {name}" for name in element.attrs
            if name not in MATHML_ATTRIBUTES and not (name == "xmlns" and element.name == "math")]


def _inert_url(tag: str, attribute: str, url: str) -> bool:
    url = url.strip().lower()
    if url.startswith("data:"):
        image = re.match(r"data:image/(png|jpeg|gif|webp)[;,]", url)
        return tag == "img" and attribute == "src" and image is not None
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", url)
    if tag == "img" and (scheme or url.startswith(("/", "\\")) or ".." in url.split("/")):
        return False  # an image from another site, or another page of this one (a GET on /logout)
    return scheme is None or scheme.group(1) in ("http", "https", "mailto")


@pytest.fixture(scope="module")
def attacked(tmp_path_factory) -> dict:
    release = json.loads((ROOT / "exercises" / "01_losses" / "losses.ipynb").read_text(encoding="utf-8"))
    return hostile_notebook(release, CANARY)


@pytest.mark.parametrize("template", ["formgrade", "feedback"])
def test_the_pages_show_student_content_inert(attacked, template, tmp_path):
    page = render(attacked, template, course_config(tmp_path))
    assert active_content(page) == []
    soup = BeautifulSoup(page, "html.parser")
    assert not soup.find_all(attrs={"onerror": True}), "the student's id is shown as markup"
    text = BeautifulSoup(page, "html.parser").find(id="notebook-container").get_text()
    assert "click me" in text and "a markdown link" in text, "the student's text is still shown"


@pytest.mark.parametrize("template", ["formgrade", "feedback"])
def test_with_nbgraders_stock_configuration_the_same_page_is_active(attacked, template, tmp_path):
    found = active_content(render(attacked, template, course_config(tmp_path, stock=True)))
    assert any(f.startswith("<script>") for f in found) and any(" onerror=" in f for f in found), found


MATH = "\n\nWith $x_i^2 < 1$ & $\\{a\\}$ and $\\text{<script>window.pwned = 1</script>}$."


def test_math_renders_as_before_on_formgrader(tmp_path):
    """nbconvert's own rendering, cleaned: what MathJax reads (the text) is unchanged."""
    math = markdown_attacks(CANARY)["math"] + MATH
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": math}]}
    course = BeautifulSoup(render(notebook, "formgrade", course_config(tmp_path)), "html.parser")
    stock = BeautifulSoup(render(notebook, "formgrade", course_config(tmp_path, stock=True)), "html.parser")
    shown = course.find(class_="text_cell_render").get_text()
    assert shown == stock.find(class_="text_cell_render").get_text()
    assert r"$L = \frac{1}{N}\sum_i (y_i - \hat y_i)^2$" in shown and "$x_i^2 < 1$" in shown
    assert "$$\\nabla_W L = X^T (\\hat y - y) / N$$" in shown


def test_the_feedback_renders_math_as_mathml_with_no_script(tmp_path):
    """The feedback handed back renders math when it is made (no MathJax, no CDN): MathML of
    the formulas, their text escaped, and no script anywhere on the page."""
    math = markdown_attacks(CANARY)["math"] + MATH
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": math}]}
    page = render(notebook, "feedback", course_config(tmp_path))
    soup = BeautifulSoup(page, "html.parser")
    shown = soup.find(class_="text_cell_render")
    formulas = shown.find_all("math")
    assert len(formulas) == 6 and {f["display"] for f in formulas} == {"inline", "block"}
    assert "$" not in shown.get_text() and "\\frac" not in shown.get_text()
    texts = [m.get_text().replace("\xa0", " ") for m in shown.find_all("mtext")]  # \text's spaces
    assert texts == ["<script>window.pwned = 1</script>"]
    assert soup.find(["mfrac"]) is not None and soup.find("mover") is not None  # \frac, \hat
    assert not soup.find_all("script") and "mathjax" not in page.lower() and "cdnjs" not in page
    assert active_content(page) == []


def test_the_feedback_names_each_function_and_says_what_the_autograder_noted(tmp_path):
    """The contents and each test cell name the function it checks (nbgrader's own say "Test
    cell"); the notes and student flags GradeWithCore keeps are shown as text; flags for the
    instructor were never kept; nothing on the page is loaded from anywhere."""
    from autograder.nbgrader_pages import feedback_note
    from autograder.results import SubmissionResult

    release = json.loads((ROOT / "exercises" / "01_losses" / "losses.ipynb").read_text(encoding="utf-8"))
    result = SubmissionResult("x.ipynb", "eve", "01_losses", notes=["<b>losses (1).ipynb</b> was not graded"])
    result.flag(FlagKind.TIMED_OUT, "timed out: mse")
    result.flag(FlagKind.SUSPICIOUS, "suspicious code: mse opens a file")
    note = {"autograder": {"feedback": feedback_note(result)}}
    soup = BeautifulSoup(render(release, "feedback", course_config(tmp_path), metadata=note), "html.parser")
    toc = [" ".join(li.get_text().split()) for li in soup.find(id="toc").find_all("li")]
    targets = [t for t in get_assignment("01_losses").targets]
    assert [entry.split(" — ")[0] for entry in toc] == targets
    headings = [" ".join(h.get_text().split()) for h in soup.select("#notebook-container .panel-heading")
                if "Checks of" in h.get_text()]
    assert [h.split(" ")[2] for h in headings] == targets
    for link in soup.find(id="toc").find_all("a"):
        assert soup.find(id=link["href"][1:]) is not None
    notes = [li.get_text() for li in soup.select(".notes li")]
    assert notes == ["timed out: mse", "<b>losses (1).ipynb</b> was not graded"]
    assert "suspicious" not in str(soup)
    assert soup.title.get_text() == f"Feedback: losses.ipynb (01_losses), {NAMED}"
    assert not soup.find_all(attrs={"onerror": True}) and not soup.find_all("script")
    styles = " ".join(style.get_text() for style in soup.find_all("style"))
    assert not soup.find_all("link") and "https://" not in styles and "http://" not in styles
    for element in soup.find_all(src=True):
        assert element["src"].startswith("data:"), element["src"][:60]
    policy = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_what_outputs_keep():
    png = "iVBORw0KGgoAAAANSUhEUg=="
    kept = inert_output({"output_type": "display_data", "metadata": {"image/png": {"width": 40, "x": "<"}},
                         "data": {"image/png": png, "text/plain": "<Figure>",
                                  "text/html": "<b>bold</b><script>x()</script>",
                                  "application/javascript": "x()", "image/svg+xml": "<svg/>"}})
    assert kept["data"] == {"image/png": png, "text/plain": "<Figure>", "text/html": "<b>bold</b>"}
    assert kept["metadata"] == {"image/png": {"width": 40}}
    stream = inert_output({"output_type": "stream", "name": 'stdout" x="', "text": ["a", "b"]})
    assert (stream["name"], stream["text"]) == ("stdout", "ab")
    only_script = inert_output({"output_type": "display_data", "metadata": {},
                                "data": {"application/javascript": "x()"}})
    assert only_script["data"] == {"text/plain": "[not shown: application/javascript]"}
    assert inert_output({"output_type": "update_display_data"}) is None


def test_clean_html_keeps_ordinary_markup():
    markup = ('<p>A <b>bold</b> <a href="https://example.org/x">link</a> and a '
              '<img src="figure.png" alt="a figure"></p><table><tbody><tr><td>1</td></tr></tbody></table>')
    assert clean_html(markup) == markup.replace('">link', '" rel="noopener noreferrer nofollow">link')


# --- in a browser ------------------------------------------------------------------------------


class Canary(http.server.BaseHTTPRequestHandler):
    """Records every request: the attacker's server."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Canary.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args):
        pass


@pytest.mark.slow
@pytest.mark.browser
def test_formgrader_and_feedback_run_no_student_script_and_keep_every_grade(tmp_path, tool_env,
                                                                           tmp_path_factory):
    from chromium import headless_chromium

    require_tool("nbgrader")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    canary = f"http://127.0.0.1:{server.server_address[1]}"
    Canary.hits = []

    root = tmp_path / "course"
    root.mkdir()
    course = Course(root, "01_losses", tool_env, clone=True)
    honest = filled_in(course.release, ROOT / "solutions" / "01_losses" / "losses.ipynb")
    course.submit("alice", honest)
    release = json.loads(course.release.read_text(encoding="utf-8"))
    course.submit(ATTACKER, hostile_notebook(release, canary, malformed=True))
    course.submit(NAMED, release)
    course.nbgrader("autograde", "01_losses", "--create")
    course.nbgrader("generate_feedback", "01_losses")
    before = gradebook_state(course.db_url)
    assert before[("alice", "test_mse")][0] == 2.0 and before[(ATTACKER, "test_mse")][0] == 0.0

    with start_formgrader(course, tmp_path / "jupyter") as formgrader, \
            headless_chromium(tmp_path_factory) as browser:
        browser.get(f"{formgrader.url}/formgrader?token={formgrader.token}")  # logs in (a cookie)
        submissions = formgrader.api("submitted_notebooks/01_losses/losses")
        pages = [f"{formgrader.url}/formgrader", f"{formgrader.url}/formgrader/gradebook/01_losses/losses",
                 f"{formgrader.url}/formgrader/manage_submissions/01_losses"]
        pages += [f"{formgrader.url}/formgrader/submissions/{s['id']}/" for s in submissions]
        pages += [(root / "grading" / "feedback" / s / "01_losses" / "losses.html").as_uri()
                  for s in ("alice", ATTACKER, NAMED)]
        for page in pages:
            browser.get(page)
            marks = browser.execute_script("return window.__pwned || []")
            assert marks == [], f"{page}: student script ran: {marks}"
            # a link a curious grader clicks goes to a page, never runs script here
            schemes = browser.execute_script(
                "return [...document.querySelectorAll('#notebook-container a[href]')].map(a => a.protocol)")
            assert set(schemes) <= {"http:", "https:", "mailto:", "file:"}, f"{page}: {set(schemes)}"
        (attacker,) = [s["id"] for s in submissions if s["student"] == ATTACKER]
        attacker_page = f"{formgrader.url}/formgrader/submissions/{attacker}/"
        browser.get(attacker_page)
        shown = browser.find_element("id", "notebook-container").text
        assert "click me" in shown and "a markdown link" in shown, "the attacker's text is shown, as text"
        assert Canary.hits == [], f"the attacker's server was reached: {Canary.hits}"
        assert gradebook_state(course.db_url) == before, "a grade changed"

        # The attack itself, run by the test in the attacker's formgrader page: it would have worked.
        browser.execute_script(GRADE_ATTACK)
        browser.execute_script("return 1")
        for _ in range(100):
            if "grade attack done" in browser.execute_script("return window.__pwned || []"):
                break
            browser.implicitly_wait(0.1)
            browser.execute_script("return new Promise(r => setTimeout(r, 100))")
        after = gradebook_state(course.db_url)
        assert after[("alice", "test_mse")][1] == 0 and after[(ATTACKER, "test_mse")][1] == 2.0
    server.shutdown()

