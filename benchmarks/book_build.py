"""How long the course site takes to build: from scratch, and again after one page changes.

In a temporary copy of the repository (the repository itself is never touched), with the
command `make` runs (`jupyter-book build . --warningiserror --nitpick --keep-going`):

1. a full clean build: empty output folder, so every notebook page is executed;
2. a cached rebuild after one chapter's text changes (a sentence appended to it): Sphinx
   re-reads that page only, and its notebook outputs come from the execution cache.

    python benchmarks/book_build.py [--page book/gradient-descent.md] [--repeat N]

Needs `make setup mathjax pyodide` first (run with .venv/bin first on PATH, or .venv/bin/python).
Prints a Markdown table (the README quotes it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Not needed to build the site, or rebuilt by it.
SKIP = (".git", ".venv", ".build", "_build", ".artifacts", ".pytest_cache", ".ruff_cache",
        "grading", "__pycache__", "*.egg-info", ".ipynb_checkpoints")
EDIT = "\n\nThis sentence was appended by benchmarks/book_build.py.\n"


def build_command(repo: Path) -> list[str]:
    book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent) + os.pathsep
                        + os.environ.get("PATH", ""))
    if book is None:
        sys.exit("jupyter-book is not installed: run `make setup` first")
    return [book, "build", str(repo), "--warningiserror", "--nitpick", "--keep-going"]


def build_env() -> dict[str, str]:
    env = os.environ | {"PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    env.pop("MPLBACKEND", None)  # notebooks must use Jupyter's inline backend, as in `make`
    return env


def timed_build(repo: Path) -> tuple[float, str]:
    """Wall seconds of one build, and what Sphinx said it re-read."""
    start = time.perf_counter()
    result = subprocess.run(build_command(repo), cwd=repo, env=build_env(),
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"the build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    found = re.search(r"updating environment: (?:\[[^\]]*\] )?(\d+) added, (\d+) changed, (\d+) removed",
                      plain)
    read = f"{found[1]} added, {found[2]} changed" if found else "?"
    return wall, read


def copy_repository(target: Path) -> Path:
    repo = target / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(*SKIP), symlinks=True)
    mathjax = ROOT / ".build"
    if not (mathjax / "node_modules" / "mathjax").is_dir():
        sys.exit("MathJax is not installed: run `make mathjax` first")
    (repo / ".build").symlink_to(mathjax, target_is_directory=True)
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="book/gradient-descent.md",
                        help="the chapter whose text changes before the cached rebuild")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each build; the table shows the median")
    args = parser.parse_args()
    if not (ROOT / args.page).is_file():
        sys.exit(f"no such page: {args.page}")

    full, cached = [], []
    full_read = cached_read = ""
    with tempfile.TemporaryDirectory(prefix="book-build-") as tmp:
        for _ in range(args.repeat):
            repo = copy_repository(Path(tmp) / f"run{len(full)}")
            wall, full_read = timed_build(repo)
            full.append(wall)
            with (repo / args.page).open("a", encoding="utf-8") as page:
                page.write(EDIT)
            wall, cached_read = timed_build(repo)
            cached.append(wall)
            shutil.rmtree(repo.parent)

    full_s, cached_s = statistics.median(full), statistics.median(cached)
    cores = os.cpu_count()
    print(f"Course site build, {cores} cores, Python {sys.version.split()[0]}, "
          f"median of {args.repeat} run(s); command: jupyter-book build . --warningiserror "
          "--nitpick --keep-going\n")
    print("| build | pages re-read | wall time (s) |")
    print("| --- | --- | ---: |")
    print(f"| full clean build (empty output folder, every notebook executed) | {full_read} "
          f"| {full_s:.1f} |")
    print(f"| cached rebuild after a text change to `{args.page}` | {cached_read} | {cached_s:.1f} |")
    print(f"| ratio full / cached | | {full_s / cached_s:.1f}x |")


if __name__ == "__main__":
    main()
