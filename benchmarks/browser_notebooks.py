"""What the in-browser notebooks cost a student: the site's size, and the time from clicking
"Open it in your browser" to the first result of a test cell.

Serves a built site (default `_build/html`, made by `make`) on the loopback address, opens the
assignments page in headless Chromium (Debian's, with no network but the loopback: see
tests/chromium.py), clicks the link of `01_losses`, and times, from the click:

* the kernel ready: Pyodide, NumPy and the checks loaded, the notebook shown;
* the first result: the notebook's first two cells run (`import numpy`, and `mse` solved as
  the reference solves it), then its test cell, which prints a ✓ per check.

Cold is a new browser profile (nothing cached); warm opens the same link again in the same
browser (its HTTP cache holds the files; JupyterLite re-downloads nothing it has).

    python benchmarks/browser_notebooks.py [--site _build/html] [--repeat N]

Prints Markdown tables (the README quotes them).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "site")]

from chromium import ForeignRequests, headless_chromium  # noqa: E402 (tests/ is on the path now)
from test_browser_notebooks import (  # noqa: E402
    KERNEL_START,
    KERNEL_STATE,
    RUN_CELL,
    LiteHandler,
    code_cells,
    solved,
    sources_of,
    text_of,
)

MB = 1024 * 1024


class CountingHandler(LiteHandler):
    """Counts the bytes of every file it serves (what a browser downloads)."""

    served = 0
    lock = threading.Lock()

    def copyfile(self, source, outputfile):
        data = source.read()
        with CountingHandler.lock:
            CountingHandler.served += len(data)
        outputfile.write(data)


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Folders:
    """Fresh folders for the browser's profile and logs (what pytest's tmp_path_factory gives)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name, dir=self.root))


def first_result(driver, base_url: str) -> dict[str, float]:
    """Seconds from the click to a kernel ready and to the first test cell's ✓, and the MB
    served meanwhile."""
    notebook = solved("01_losses")
    sources = sources_of(notebook)
    cells = code_cells(notebook)
    check = next(i for i in cells if 'check("01_losses", "mse")' in sources[i])
    driver.get(base_url + "book/assignments.html")
    link = driver.find_element("css selector", 'a.lite-link[href$="path=losses.ipynb"]')
    CountingHandler.served = 0
    clicked = time.perf_counter()
    link.click()
    while not (driver.execute_script(KERNEL_STATE) or "").startswith("idle:"):
        if time.perf_counter() - clicked > KERNEL_START:
            sys.exit("the kernel did not start")
        time.sleep(0.05)
    ready = time.perf_counter()
    driver.execute_script(
        "const cells = window.jupyterapp.shell.currentWidget.content.model.cells;"
        "for (const [i, s] of arguments[0]) { cells.get(i).sharedModel.setSource(s); }",
        [[i, sources[i]] for i in cells if i <= check])
    for index in (i for i in cells if i <= check):
        driver.execute_async_script(RUN_CELL, index)
    shown = driver.execute_script(
        "return JSON.stringify(window.jupyterapp.shell.currentWidget.content.model.cells"
        ".get(arguments[0]).outputs.toJSON())", check)
    result = time.perf_counter()
    if "✓" not in text_of(json.loads(shown)):
        sys.exit(f"the first test cell did not pass: {shown}")
    return {"ready": ready - clicked, "result": result - clicked, "downloaded": CountingHandler.served / MB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=str(ROOT / "_build" / "html"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    site = Path(args.site)
    if not (site / "lite" / "jupyter-lite.json").is_file():
        sys.exit(f"{site} has no in-browser notebooks: build the site with `make` first")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(CountingHandler, directory=str(site)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    cold, warm = [], []
    with tempfile.TemporaryDirectory(prefix="browser-bench-") as tmp, ForeignRequests() as foreign:
        factory = Folders(Path(tmp))
        for _ in range(args.repeat):
            with headless_chromium(factory, foreign, leave_pages=True) as driver:
                driver.set_script_timeout(600)
                cold.append(first_result(driver, base_url))
                warm.append(first_result(driver, base_url))
        if foreign.seen:
            sys.exit(f"the browser asked other hosts for {foreign.seen}")
    server.shutdown()

    lite, pyodide = site / "lite", site / "lite" / "static" / "pyodide"
    print(f"Site `{site.relative_to(ROOT) if site.is_relative_to(ROOT) else site}`, "
          f"median of {args.repeat} run(s)\n")
    print("| part of the site | size |")
    print("| --- | ---: |")
    print(f"| the whole site | {size(site) / MB:.1f} MB |")
    print(f"| in-browser notebooks (`lite/`) | {size(lite) / MB:.1f} MB |")
    print(f"| of which Pyodide and its packages | {size(pyodide) / MB:.1f} MB |")
    print("\n| opening `01_losses` in the browser | kernel ready | first ✓ | downloaded |")
    print("| --- | ---: | ---: | ---: |")
    for name, runs in (("cold (empty cache)", cold), ("warm (opened before)", warm)):
        print(f"| {name} | {statistics.median(r['ready'] for r in runs):.1f} s "
              f"| {statistics.median(r['result'] for r in runs):.1f} s "
              f"| {statistics.median(r['downloaded'] for r in runs):.1f} MB |")


if __name__ == "__main__":
    main()
