"""The site's own CSS and JavaScript (``book/_static``), shared by the extensions that ship some."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

STATIC_DIR = Path(__file__).resolve().parent.parent / "_static"


def add_static_path(app: Sphinx) -> None:
    """Serve ``book/_static`` with the site (once, however many extensions ask)."""
    static = str(STATIC_DIR)
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)
