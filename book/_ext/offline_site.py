"""Make the HTML site work with no network at all.

* MathJax 3 is served from the site itself. ``make`` installs the npm package ``mathjax``
  (pinned in the Makefile) into ``.build/node_modules``; this extension copies the parts a
  browser needs (the entry script named by ``mathjax_path``, the TeX extensions it may
  autoload, the CHTML fonts, the menu and the accessibility components) to
  ``_static/mathjax/``. ``mathjax_path`` (set in ``_config.yml``) must be a path relative
  to ``_static``, such as ``mathjax/tex-chtml.js``.
* Scripts and style sheets that Jupyter Book adds but the site does not use (sphinx-thebe,
  which would fetch thebe from a CDN and start a Binder kernel when a launch button is
  pressed; the site has no launch buttons) are left out of the pages, and so is the Binder
  configuration sphinx-thebe appends to every page.
* The theme's colour mode defaults to ``auto``: left empty, pydata-sphinx-theme logs a
  console error ("Got invalid theme mode") on a reader's first visit.
* The root ``index.html`` that sends readers to the first page is a small HTML document with
  the site's icon (the bare redirect sphinx-external-toc writes has none, so browsers ask
  the server for a missing ``/favicon.ico``).
* Any other script or style sheet on another host is a build warning (an error with
  ``--warningiserror``), so a new extension cannot quietly make the site depend on a CDN.
* Opened from a file (``file://``), the search page lists its results without the snippet
  under each: Sphinx fetches the result pages for those, which a browser refuses for files
  (a CORS error per result). Served over HTTP, snippets are shown as usual.

Config values:

``offline_mathjax_dir``
    Folder of the MathJax ``es5`` distribution; by default the npm install under ``.build``
    at the repository root. The environment variable ``COURSE_MATHJAX_DIR`` overrides both.
"""

from __future__ import annotations

import html
import os
import posixpath
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset

__version__ = "1.0.0"

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MATHJAX_DIR = ROOT / ".build" / "node_modules" / "mathjax" / "es5"
STATIC_PREFIX = "mathjax/"

# What a browser may load from the MathJax distribution, besides the entry script: TeX
# extensions (autoloaded by macros such as \boldsymbol), CHTML output and its woff fonts,
# the context menu, and the accessibility tools the menu can switch on.
MATHJAX_FOLDERS = ("input", "output/chtml", "ui", "a11y", "sre")

# Assets Jupyter Book always adds that an offline site without launch buttons does not use.
UNUSED_SCRIPTS = ("sphinx-thebe.js",)
UNUSED_STYLES = ("sphinx-thebe.css",)
UNUSED_INLINE_MARKERS = ("THEBE_JS_URL",)


def _is_external(url: str) -> bool:
    return "://" in url or url.startswith("//")


def _mathjax_dir(app: Sphinx) -> Path:
    configured = os.environ.get("COURSE_MATHJAX_DIR") or app.config.offline_mathjax_dir
    return Path(configured) if configured else DEFAULT_MATHJAX_DIR


def _entry_script(app: Sphinx) -> str:
    """The path of the MathJax entry script inside the distribution (``tex-chtml.js``)."""
    path = app.config.mathjax_path
    if _is_external(path) or not path.startswith(STATIC_PREFIX):
        raise ExtensionError(
            f"offline_site: mathjax_path is {path!r}; set it to a file under {STATIC_PREFIX!r} "
            "(for example 'mathjax/tex-chtml.js') so MathJax is served from the site itself"
        )
    return path[len(STATIC_PREFIX):]


def check_mathjax(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    entry = _mathjax_dir(app) / _entry_script(app)
    if not entry.is_file():
        raise ExtensionError(
            f"offline_site: MathJax is not installed ({entry} is missing). "
            "Run `make mathjax` (it installs the npm package into .build/), "
            "or point COURSE_MATHJAX_DIR at a MathJax 3 'es5' folder."
        )


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = _mathjax_dir(app)
    entry = _entry_script(app)
    keep_files = {entry}
    keep_folders = set(MATHJAX_FOLDERS)

    def excluded(path: str) -> bool:
        """Leave out what a browser never loads (other bundles, SVG output, Node files)."""
        if path in keep_files:
            return False
        # keep a folder that is, is inside, or leads to (output/ for output/chtml) a kept one
        return not any(
            path == folder or path.startswith(folder + "/") or folder.startswith(path + "/")
            for folder in keep_folders
        )

    target = Path(app.outdir) / "_static" / "mathjax"
    copy_asset(str(source), str(target), excluded=excluded)
    licence = source.parent / "LICENSE"
    if licence.is_file():
        copy_asset(str(licence), str(target))


def drop_thebe_config(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Remove the ``text/x-thebe-config`` and ``kernelName`` scripts sphinx-thebe appends."""
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "text/x-thebe-config" in text or text.lstrip().startswith("<script>kernelName ="):
            node.parent.remove(node)


def drop_unused_and_check_external(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Leave sphinx-thebe out of the page; warn about any other asset on another host."""
    _keep_local(context.get("script_files"), "script", UNUSED_SCRIPTS, pagename)
    _keep_local(context.get("css_files"), "style sheet", UNUSED_STYLES, pagename)


def _keep_local(assets: Any, kind: str, unused: tuple[str, ...], pagename: str) -> None:
    """Drop the ``unused`` assets (and inline scripts of sphinx-thebe) from the list in place;
    warn about those served from another host."""
    if not isinstance(assets, list):
        return
    kept = []
    for asset in assets:
        filename = getattr(asset, "filename", str(asset)) or ""
        body = getattr(asset, "attributes", {}).get("body", "")
        if posixpath.basename(filename) in unused:
            continue
        if body and any(marker in body for marker in UNUSED_INLINE_MARKERS):
            continue
        if _is_external(filename):
            logger.warning(
                "offline_site: page %s loads the %s %s from another host; "
                "ship it under _static instead", pagename, kind, filename,
                type="offline_site", subtype="external",
            )
        kept.append(asset)
    assets[:] = kept


REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta http-equiv="Refresh" content="0; url={url}">
<title>{title}</title>
{icon}</head>
<body><p><a href="{url}">{title}</a></p></body>
</html>
"""


def write_redirect_page(app: Sphinx, exception: Exception | None) -> None:
    """Runs before sphinx-external-toc's own redirect writer, which then leaves it alone."""
    if exception is not None or app.builder.name != "html" or app.config.root_doc == "index":
        return
    url = app.builder.get_target_uri(app.config.root_doc)
    favicon = app.config.html_favicon
    icon = ""
    if favicon:
        href = favicon if _is_external(favicon) else f"_static/{posixpath.basename(favicon)}"
        icon = f'<link rel="icon" href="{html.escape(href)}">\n'
    page = REDIRECT_PAGE.format(
        lang=html.escape(app.config.language or "en"), url=html.escape(url),
        title=html.escape(app.config.html_title or app.config.project), icon=icon,
    )
    (Path(app.outdir) / "index.html").write_text(page, encoding="utf-8")


def default_colour_mode(app: Sphinx, config: Config) -> None:
    """pydata-sphinx-theme reads ``default_mode`` from ``html_context``; "" is not a mode."""
    if not config.html_context.get("default_mode"):
        config.html_context = {**config.html_context, "default_mode": "auto"}


# after documentation_options.js (priority 200), before a search runs
# (documentation_options.js declares a const: a global name, not a property of window)
NO_SNIPPETS_FROM_FILES = (
    'if (location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") '
    "{ DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false; }"
)


def setup(app: Sphinx) -> dict:
    app.add_config_value("offline_mathjax_dir", "", "html", types=[str])
    app.add_js_file(None, body=NO_SNIPPETS_FROM_FILES, priority=300)
    app.connect("config-inited", default_colour_mode)
    app.connect("builder-inited", check_mathjax)
    app.connect("doctree-resolved", drop_thebe_config, priority=900)  # after sphinx-thebe's
    # after sphinx.ext.mathjax (priority 500) has added MathJax to the page
    app.connect("html-page-context", drop_unused_and_check_external, priority=900)
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", write_redirect_page, priority=400)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
