"""What must never reach students: solution code and quiz answers from ``solutions/``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import SOLUTIONS

REGIONS = [("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")]
MIN_LENGTH = 12  # shorter lines ("return out") are too generic to call a leak


def secret_lines() -> set[str]:
    """Distinctive lines inside solution and hidden-test regions of every reference notebook.

    Lines the notebooks also show outside those regions (in code given to students) are
    public by design and not counted.
    """
    secrets, public = set(), set()
    for notebook in SOLUTIONS.glob("*/*.ipynb"):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for begin, end in REGIONS:
                for region in re.findall(re.escape(begin) + r"(.*?)" + re.escape(end), source, re.S):
                    for line in region.splitlines():
                        line = line.strip()
                        if len(line) >= MIN_LENGTH or re.match(r"Q\d+\s*=", line):
                            secrets.add(line)
                source = re.sub(re.escape(begin) + r".*?" + re.escape(end), "", source, flags=re.S)
            public |= {line.strip() for line in source.splitlines()}
    return secrets - public


def leaked_lines(text: str, secrets: set[str]) -> set[str]:
    lines = {line.strip() for line in text.splitlines()}
    return secrets & lines


def leaks_in(paths: list[Path], secrets: set[str]) -> dict[str, set[str]]:
    found = {}
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(c["source"]) for c in cells)
        leaked = leaked_lines(text, secrets)
        if leaked:
            found[str(path)] = leaked
    return found
