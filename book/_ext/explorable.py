"""Explorables: small interactive figures that a student drives with sliders and fields.

Usage in a MyST page, right after the static (matplotlib) figure of the same thing::

    ```{explorable} gradient-descent
    :title: Move the learning rate

    Drag the slider and watch the path and the loss curve change.
    ```

The argument names one of the explorables that ``_static/explorables.js`` draws (see
``KINDS``). The body is a short instruction shown above the explorable. The page works
without JavaScript: the explorable then shows only a sentence pointing at the static figure
above it, which shows the same thing for fixed settings. Builders other than HTML leave the
explorable out.

Everything runs in the reader's browser from the site's own files: no library, no network.
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective
from static_files import add_static_path

__version__ = "1.0.0"


# The explorables that explorables.js knows how to draw, with what each one is about.
KINDS = {
    "gradient-descent": "gradient descent on x squared, with a learning-rate slider",
    "optimizer-race": "gradient descent, momentum and Adam racing down a narrow valley",
    "backprop-graph": "the backward pass of y = (a + b) * c, one node at a time",
    "minibatches": "how a data set is cut into mini-batches, with and without drop_last",
}

NOJS = (
    "With JavaScript turned on, you can change the settings here and watch the picture "
    "redraw. The figure above shows the same thing for fixed settings."
)


class explorable(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """``<figure class="explorable" data-explorable="...">``, filled in by the script."""


class ExplorableDirective(SphinxDirective):
    """``{explorable} kind`` with an optional ``:title:`` and a short instruction as body."""

    required_arguments = 1
    has_content = True
    option_spec = {"title": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        kind = self.arguments[0].strip()
        if kind not in KINDS:
            raise self.error(
                f"explorable: unknown kind {kind!r}; choose one of {', '.join(sorted(KINDS))}"
            )
        serial = self.env.new_serialno("explorable") + 1
        node = explorable(ids=[f"explorable-{serial}"], kind=kind,
                          title=self.options.get("title", "Try it yourself"))
        self.set_source_info(node)
        if self.content:
            intro = nodes.container(classes=["explorable-intro"])
            self.state.nested_parse(self.content, self.content_offset, intro)
            node += intro
        return [node]


def visit_explorable_html(self, node: explorable) -> None:
    attrs = {"data-explorable": node["kind"], "aria-label": KINDS[node["kind"]]}
    self.body.append(self.starttag(node, "figure", "", CLASS="explorable", **attrs))
    title = self.encode(node["title"])
    self.body.append(f'<p class="explorable-title">{title}</p>\n')


def depart_explorable_html(self, node: explorable) -> None:
    self.body.append('<div class="explorable-body"></div>\n')
    self.body.append(f'<p class="explorable-nojs">{self.encode(NOJS)}</p>\n')
    self.body.append("</figure>\n")


class ExplorableFallback(SphinxPostTransform):
    """Outside HTML there is nothing to explore: the static figure above says it all."""

    default_priority = 100

    def run(self, **kwargs) -> None:
        if self.app.builder.format == "html":
            return
        for node in list(self.document.findall(explorable)):
            node.parent.remove(node)




def add_assets_to_page(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: nodes.document | None
) -> None:
    """Only pages with an explorable load its script and style sheet."""
    if doctree is not None and next(doctree.findall(explorable), None) is not None:
        app.add_css_file("explorables.css")
        app.add_js_file("explorables.js", loading_method="defer")


def setup(app: Sphinx) -> dict:
    app.add_node(explorable, html=(visit_explorable_html, depart_explorable_html))
    app.add_directive("explorable", ExplorableDirective)
    app.add_post_transform(ExplorableFallback)
    app.connect("builder-inited", add_static_path)
    app.connect("html-page-context", add_assets_to_page)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
