"""Ship the students' checks with the site: the wheel of the package's student edition.

At the start of an HTML build the wheel is built (`autograder.edition`, public checks only)
into ``_downloads/student/`` of the site. The ``student-wheel`` directive shows its download
link and the two commands that set a student up: install it, open the notebook.

    ```{student-wheel}
    ```
"""

from __future__ import annotations

import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

__version__ = "1.0.0"
FOLDER = "_downloads/student"


def wheel_name() -> str:
    from autograder import __version__ as version
    from autograder.edition import DISTRIBUTION

    return f"{DISTRIBUTION.replace('-', '_')}-{version}-py3-none-any.whl"


def build_wheel(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    from autograder.edition import build_student_wheel

    target = Path(app.outdir) / FOLDER
    shutil.rmtree(target, ignore_errors=True)
    try:
        wheel = build_student_wheel(target)
    except RuntimeError as error:
        raise ExtensionError(str(error)) from None
    if wheel.name != wheel_name():
        raise ExtensionError(f"the student wheel is {wheel.name}, the pages link {wheel_name()}")


class StudentWheel(Directive):
    """The wheel's download link and the commands that install it and open a notebook."""

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        name = wheel_name()
        up = "../" * env.docname.count("/")
        html = (
            f'<p class="student-wheel">Download <a class="reference download" href="{up}{FOLDER}/{name}" '
            f'download><code>{name}</code></a> (the course\'s checks: public checks only; they need '
            "NumPy, which comes with them, and the notebooks draw their plots with Matplotlib), then, "
            "in a terminal, in the folder where you saved it and the notebook:</p>\n"
            '<div class="highlight"><pre>'
            f"pip install matplotlib\npip install {name}\njupyter lab losses.ipynb</pre></div>\n"
        )
        return [nodes.raw("", html, format="html")]


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", build_wheel)
    app.add_directive("student-wheel", StudentWheel)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
