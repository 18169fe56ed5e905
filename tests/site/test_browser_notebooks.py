"""With only a browser and the built site, offline: every assignment opens from its page in
the site's in-browser Jupyter (JupyterLite, Pyodide), its test cells pass with a correct
solution and give the usual friendly messages with the stubs, an endless loop is stopped, the
capstone of 04 finds the student's 02 and 03 next to it, the notebook downloads as the file to
submit, and every chapter opens from its page and runs.

Headless Chromium (tests/chromium.py) reaches 127.0.0.1 only, where the built site is served;
every request to another host goes to a recording proxy that refuses it, from the page, the
kernel's web worker or JupyterLite's service worker alike, and fails the test. The one change
to the served site is JupyterLite's own switch ``exposeAppInBrowser``, which hands these tests
the application object they drive the notebook through (as a student's clicks would).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from chromium import ForeignRequests, headless_chromium, require_chromium
from conftest import EXERCISES, ROOT, SOLUTIONS
from nbgrader_course import filled_in, grade_cell_targets

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ASSIGNMENTS = {path.parent.name: path.name for path in sorted(EXERCISES.glob("*/*.ipynb"))}
KERNEL_START = 120  # seconds: Pyodide, NumPy and the checks load from the site
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"


class LiteHandler(http.server.SimpleHTTPRequestHandler):
    """The built site as a static host serves it, with JupyterLite's app exposed to scripts."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript"}

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def do_GET(self):  # noqa: N802 (the base class's name)
        if self.path.split("?")[0] == "/lite/jupyter-lite.json":
            config = json.loads((Path(self.directory) / "lite" / "jupyter-lite.json").read_text())
            config["jupyter-config-data"]["exposeAppInBrowser"] = True
            body = json.dumps(config).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


@pytest.fixture(scope="module")
def site(request) -> Path:
    require_chromium()
    return request.getfixturevalue("built_site")


@pytest.fixture(scope="module")
def base_url(site) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(LiteHandler, directory=str(site)))
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
def foreign() -> Iterator[ForeignRequests]:
    with ForeignRequests() as recorder:
        yield recorder


@pytest.fixture
def driver(site, foreign, tmp_path_factory):
    """A browser of its own for each test: a new profile, so nothing saved by another test."""
    with headless_chromium(tmp_path_factory, foreign, leave_pages=True) as browser:
        browser.set_script_timeout(600)
        yield browser
    assert foreign.seen == [], f"the browser asked other hosts for {foreign.seen}"


# --- driving the notebook --------------------------------------------------------------------

APP = "const app = window.jupyterapp; const panel = app && app.shell.currentWidget;"

KERNEL_STATE = APP + """
if (!panel || !panel.sessionContext) { return "loading"; }
const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
return kernel ? kernel.status + ":" + panel.content.model.cells.length : "no kernel";
"""

SET_SOURCES = APP + """
const cells = panel.content.model.cells, sources = arguments[0];
if (cells.length !== sources.length) { return cells.length; }
for (let i = 0; i < cells.length; i++) { cells.get(i).sharedModel.setSource(sources[i]); }
return cells.length;
"""

RUN_CELL = APP + """
const done = arguments[arguments.length - 1];
panel.content.activeCellIndex = arguments[0];
const started = Date.now();
app.commands.execute("notebook:run-cell").then(() => done((Date.now() - started) / 1000),
                                                error => done({error: String(error)}));
"""

OUTPUTS = APP + """
const cells = panel.content.model.cells, outputs = [];
for (let i = 0; i < cells.length; i++) {
  outputs.push(cells.get(i).type === "code" ? cells.get(i).outputs.toJSON() : null);
}
return JSON.stringify(outputs);  // one string: WebDriver chokes on some output objects
"""

SAVE = APP + """
const done = arguments[arguments.length - 1];
app.commands.execute("docmanager:save").then(() => done(panel.context.model.dirty), e => done(String(e)));
"""


def text_of(outputs: list[dict]) -> str:
    """What a cell shows: its printed text, results and errors."""
    parts = []
    for output in outputs or []:
        if output.get("output_type") == "stream":
            parts.append("".join(output["text"]))
        elif output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
        elif "text/plain" in output.get("data", {}):
            parts.append("".join(output["data"]["text/plain"]))
    return "\n".join(parts)


def sources_of(notebook: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in notebook["cells"]]


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def open_from_page(driver, base_url: str, page: str, notebook: str) -> int:
    """Click the page's link that opens ``notebook`` in the browser; wait for its kernel.
    Returns the number of cells shown."""
    driver.get(base_url + page)
    selector = f'a.lite-link[href$="path={notebook}"]'
    deadline = time.monotonic() + 10
    while not driver.find_elements("css selector", selector) and time.monotonic() < deadline:
        time.sleep(0.2)
    links = driver.find_elements("css selector", selector)
    assert len(links) == 1, f"{page} has {len(links)} links that open {notebook} in the browser " \
        f"(at {driver.current_url})"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", links[0])
    links[0].click()
    deadline = time.monotonic() + KERNEL_START
    state = ""
    while time.monotonic() < deadline:
        state = driver.execute_script(KERNEL_STATE) or ""
        if state.startswith("idle:") and int(state.split(":")[1]) > 0:
            return int(state.split(":")[1])
        time.sleep(0.5)
    raise AssertionError(f"{notebook}: the kernel did not start in {KERNEL_START} s ({state}); "
                         f"console: {console_errors(driver)[-5:]}")


def run(driver, cells: list[int]) -> dict:
    """Run the cells one at a time, as Shift+Enter does (a failing cell does not stop the next
    one); their outputs and the seconds each took."""
    seconds = {}
    for index in cells:
        took = driver.execute_async_script(RUN_CELL, index)
        assert not isinstance(took, dict), took
        seconds[index] = took
    return {"outputs": json.loads(driver.execute_script(OUTPUTS)), "seconds": seconds}


def checked_targets(notebook: dict) -> dict[int, str]:
    """index -> the function or quiz answer each test cell checks."""
    found = {}
    for index, source in enumerate(sources_of(notebook)):
        match = re.search(r'check\("\w+", "(\w+)"\)', source)
        if match:
            found[index] = match.group(1)
    return found


def code_cells(notebook: dict) -> list[int]:
    return [i for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"]


def release(assignment_id: str) -> dict:
    return json.loads((EXERCISES / assignment_id / ASSIGNMENTS[assignment_id]).read_text(encoding="utf-8"))


def solved(assignment_id: str) -> dict:
    name = ASSIGNMENTS[assignment_id]
    return filled_in(EXERCISES / assignment_id / name, SOLUTIONS / assignment_id / name)


# --- the assignments -------------------------------------------------------------------------


def test_every_assignment_checks_itself_in_the_browser_when_solved(base_url, driver):
    """In the order a student works: each opens from the assignments page, is solved, its test
    cells all pass, and it is saved in the browser; the capstone then trains on the student's
    own 02 and 03, found next to it, and reaches the lesson's accuracy."""
    seconds = {}
    for assignment_id, name in ASSIGNMENTS.items():
        notebook = solved(assignment_id)
        assert open_from_page(driver, base_url, "book/assignments.html", name) == \
            len(notebook["cells"])
        assert driver.execute_script(SET_SOURCES, sources_of(notebook)) == len(notebook["cells"])
        result = run(driver, code_cells(notebook))
        seconds[assignment_id] = result["seconds"]
        targets = checked_targets(notebook)
        assert set(targets.values()) >= set(grade_cell_targets(
            SOLUTIONS / assignment_id / name, assignment_id).values())
        for index, target in targets.items():
            shown = text_of(result["outputs"][index])
            assert f"All public checks of {target} passed." in shown, (assignment_id, target, shown)
            assert "✗" not in shown and "Error" not in shown, (assignment_id, target, shown)
        errors = {i: text_of(o) for i, o in enumerate(result["outputs"])
                  if o and any(x.get("output_type") == "error" for x in o)}
        assert errors == {}, (assignment_id, errors)
        assert driver.execute_async_script(SAVE) is False, f"{name} was not saved"
        if assignment_id == "04_training":
            printed = "\n".join(text_of(o) for o in result["outputs"] if o)
            assert "Your layers come from backprop.ipynb, your optimizers from optimizers.ipynb." in printed
            test_accuracy = float(re.search(r"test accuracy: ([\d.]+)%", printed)[1])
            assert test_accuracy >= 97, printed[-2000:]
        assert console_errors(driver) == []
    (SCREENSHOTS / "lite").mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "lite" / "training-solved.png"))


def test_the_stubs_give_the_usual_friendly_messages_in_the_browser(base_url, driver):
    """Unchanged releases: every test cell says its function is not implemented yet (no
    missing module, no crash of the kernel), and the capstone says what to complete first."""
    for assignment_id, name in ASSIGNMENTS.items():
        notebook = release(assignment_id)
        open_from_page(driver, base_url, "book/assignments.html", name)
        result = run(driver, code_cells(notebook))
        for index, target in checked_targets(notebook).items():
            shown = text_of(result["outputs"][index])
            assert "ModuleNotFoundError" not in shown and "Traceback" not in shown, shown
            if target.startswith("Q"):
                assert f"{target} is not" in shown or "expected form" in shown, (target, shown)
            else:
                if "✗" in shown:
                    assert f"{target} is not implemented yet" in shown, (target, shown)
                else:
                    # Prerequisites first: a function whose every check depends on an
                    # unfinished one names that one instead of failing on its behalf.
                    assert re.search(r"depends on your \w+, which does not pass", shown), (target, shown)
        if assignment_id == "04_training":
            printed = "\n".join(text_of(o) for o in result["outputs"] if o)
            assert "backprop.ipynb: mlp_loss_and_grads, linear_forward, relu_forward, sigmoid_forward " \
                "still raise NotImplementedError" in printed, printed[-3000:]
    assert console_errors(driver) == []


def test_a_notebook_downloads_as_the_file_to_submit(base_url, driver, tmp_path):
    """File → Download gives the student's notebook; graded, it earns every public point."""
    assignment_id, name = "01_losses", ASSIGNMENTS["01_losses"]
    notebook = solved(assignment_id)
    open_from_page(driver, base_url, "book/assignments.html", name)
    driver.execute_script(SET_SOURCES, sources_of(notebook))
    run(driver, code_cells(notebook)[:3])
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.execute_script(APP + 'app.commands.execute("docmanager:download");')
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(downloads.glob("*.ipynb")):
        time.sleep(0.2)
    (downloaded,) = downloads.glob("*.ipynb")
    assert downloaded.name == name
    document = nbformat.read(downloaded, as_version=4)
    nbformat.validate(document)
    assert [cell.source for cell in document.cells] == sources_of(notebook)
    report = tmp_path / "grade.json"
    grading = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(downloaded), "--public-only",
         "--json", str(report)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert grading.returncode == 0, grading.stdout[-2000:] + grading.stderr[-2000:]
    (submission,) = json.loads(report.read_text())["submissions"]
    assert submission["assignment"] == assignment_id
    assert submission["score"] == submission["max_score"] > 0, submission


def test_an_endless_loop_is_stopped_in_the_browser(base_url, driver):
    """No signals and no threads in Pyodide: the checks' time limit still ends the cell, with
    the usual feedback, and the kernel goes on working."""
    notebook = release("01_losses")
    open_from_page(driver, base_url, "book/assignments.html", "losses.ipynb")
    sources = sources_of(notebook)
    stub = next(i for i, s in enumerate(sources) if s.startswith("def mse("))
    sources[stub] = "def mse(y_pred, y_true):\n    total = 0.0\n    while True:\n        total += 1.0\n"
    driver.execute_script(SET_SOURCES, sources)
    check = next(i for i, target in checked_targets(notebook).items() if target == "mse")
    started = time.monotonic()
    result = run(driver, [0, 1, stub, check])
    shown = text_of(result["outputs"][check])
    assert "did not finish within 10 seconds" in shown and "Look for a loop that never ends" in shown, shown
    assert time.monotonic() - started < 120
    after = run(driver, [code_cells(notebook)[0]])  # the kernel still answers
    assert after["outputs"] is not None
    assert console_errors(driver) == []


# --- the chapters ----------------------------------------------------------------------------


def chapter_pages(site: Path) -> dict[str, Path]:
    """page -> its notebook, for every chapter (the pages with a notebook download)."""
    return {f"book/{path.stem}.html": path for path in sorted((site / "_sources" / "book").glob("*.ipynb"))}


def test_every_chapter_opens_from_its_page_and_runs_in_the_browser(site, base_url, driver):
    chapters = chapter_pages(site)
    assert len(chapters) >= 7
    for page, path in chapters.items():
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert open_from_page(driver, base_url, page, f"chapters/{path.name}") == len(notebook["cells"])
        result = run(driver, code_cells(notebook))
        errors = {i: text_of(o) for i, o in enumerate(result["outputs"])
                  if o and any(x.get("output_type") == "error" for x in o)}
        assert errors == {}, (page, errors)
        images = [output["data"]["image/png"] for outputs in result["outputs"] if outputs
                  for output in outputs if "image/png" in output.get("data", {})]
        broken = [str(image)[:40] for image in images
                  if not (isinstance(image, str) and image.startswith("iVBORw0KGgo"))]  # a PNG, in base64
        assert broken == [], (page, broken)
        figures = len(images)
        page_figures = len(re.findall(r"<img [^>]*src=\"[^\"]*_images/", (site / page).read_text()))
        assert figures == page_figures, (page, figures, page_figures)
    assert console_errors(driver) == []
