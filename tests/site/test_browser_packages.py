"""The in-browser Python is Pyodide's own build: every package file the site ships matches the
sha256 of Pyodide's lock file (the npm package's), and a file that does not stops the build."""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import browser_notebooks  # noqa: E402 (a Sphinx extension of the book, not a package)
from sphinx.errors import ExtensionError  # noqa: E402


def test_a_package_file_that_differs_from_pyodides_lock_stops_the_build(tmp_path):
    real = b"the real numpy wheel"
    entry = {"file_name": "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl",
             "sha256": hashlib.sha256(real).hexdigest()}
    with zipfile.ZipFile(tmp_path / "carrier-1.0-py3-none-any.whl", "w") as carrier:
        carrier.writestr(f"carrier/assets/pyodide/{entry['file_name']}", b"something else")
    files = browser_notebooks.PackageFiles(tmp_path)
    with pytest.raises(ExtensionError, match="does not match Pyodide"):
        browser_notebooks.verified(files, entry)
    with zipfile.ZipFile(tmp_path / "carrier-1.0-py3-none-any.whl", "w") as carrier:
        carrier.writestr(f"carrier/assets/pyodide/{entry['file_name']}", real)
    assert browser_notebooks.verified(browser_notebooks.PackageFiles(tmp_path), entry) == real
    with pytest.raises(ExtensionError, match="no downloaded package holds"):
        files.read("scipy-1.14.1-cp312-cp312-pyodide_2024_0_wasm32.whl")


def test_the_kernel_packages_and_their_dependencies_are_all_pinned():
    """numpy, matplotlib and the kernel's own packages, with every dependency Pyodide lists."""
    lock = {"packages": {
        "numpy": {"name": "numpy", "depends": [], "file_name": "n.whl"},
        "matplotlib": {"name": "matplotlib", "depends": ["numpy", "pyparsing"], "file_name": "m.whl"},
        "pyparsing": {"name": "pyparsing", "depends": [], "file_name": "p.whl"},
        "micropip": {"name": "micropip", "depends": [], "file_name": "mi.whl"},
        "ssl": {"name": "ssl", "depends": [], "file_name": "s.whl"},
        "sqlite3": {"name": "sqlite3", "depends": [], "file_name": "q.whl"},
        "ipython": {"name": "ipython", "depends": ["prompt_toolkit"], "file_name": "i.whl"},
        "prompt-toolkit": {"name": "prompt_toolkit", "depends": [], "file_name": "pt.whl"},
        "jedi": {"name": "jedi", "depends": [], "file_name": "j.whl"},
        "scipy": {"name": "scipy", "depends": ["numpy"], "file_name": "sc.whl"},
    }}
    entries = browser_notebooks.needed_entries(lock)
    assert set(entries) == {"numpy", "matplotlib", "pyparsing", "micropip", "ssl", "sqlite3", "ipython",
                            "prompt-toolkit", "jedi", "comm"}  # a dependency under the lock's own name
    assert entries["comm"]["sha256"] == browser_notebooks.pinned_hashes()["comm"]


@pytest.mark.slow
def test_the_site_ships_pyodides_own_files_and_nothing_else(built_site):
    official = json.loads((ROOT / ".build" / "pyodide" / "node_modules" / "pyodide" / "pyodide-lock.json")
                          .read_text(encoding="utf-8"))
    assert official["info"]["version"] == browser_notebooks.PYODIDE_VERSION
    by_file = {entry["file_name"]: entry["sha256"] for entry in official["packages"].values()}
    pyodide = built_site / "lite" / "static" / "pyodide"
    shipped = json.loads((pyodide / "pyodide-lock.json").read_text(encoding="utf-8"))["packages"]
    own = {browser_notebooks.checks_package(), "comm"}
    for name, entry in shipped.items():
        data = (pyodide / entry["file_name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        if name not in own:
            assert by_file[entry["file_name"]] == entry["sha256"], f"{name} is not Pyodide's own"
    wheels = {path.name for path in pyodide.glob("*.whl")} | {path.name for path in pyodide.glob("*.zip")}
    assert wheels - {"python_stdlib.zip"} == {entry["file_name"] for entry in shipped.values()}
    assert not list((built_site / "lite").rglob("*.map")), "source maps are shipped"
    config = json.loads((built_site / "lite" / "jupyter-lite.json").read_text(encoding="utf-8"))
    settings = config["jupyter-config-data"]["litePluginSettings"][browser_notebooks.KERNEL_SETTINGS]
    assert settings["pyodideUrl"] == "./static/pyodide/pyodide.js" and settings["disablePyPIFallback"]
    assert settings["loadPyodideOptions"]["packages"][:2] == ["numpy", browser_notebooks.checks_package()]
