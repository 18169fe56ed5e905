"""Figures that stay readable on a phone.

A figure drawn for the text column (about 660 pixels) shrinks to about 360 on a phone, and
its lettering to 7 pixels. ``book/coursekit.py`` therefore draws every wide figure a second
time, narrower with the same fonts, and packs that PNG into the first one (chunk ``csPh``).

When a page is read, this extension takes the narrow drawing out into a file of its own
(``<image>-phone.png``, next to the executed notebook's image, which it rewrites without the
chunk, so wide screens do not download both), and shows the two as one ``<picture>``: the
narrow one below ``PHONE_MEDIA``, the wide one elsewhere. A browser downloads only the one it
shows.
"""

from __future__ import annotations

import posixpath
import struct
from pathlib import Path
from urllib.parse import quote

from docutils import nodes
from sphinx.application import Sphinx
from static_files import add_static_path

__version__ = "1.0.0"

PHONE_CHUNK = b"csPh"
PHONE_MEDIA = "(max-width: 540px)"  # the column is then narrower than about 510 pixels


class phone_picture(nodes.General, nodes.Element):  # noqa: N801 (docutils node naming)
    """A figure's two drawings: the phone's (first child) and the column's (second)."""


class phone_image(nodes.image):  # noqa: N801
    """The narrow drawing: an image Sphinx copies into the site, shown as the picture's source."""


def split_png(data: bytes) -> tuple[bytes, bytes | None]:
    """(the PNG without its phone chunk, the phone PNG or None)."""
    offset = 8  # after the signature
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        end = offset + 12 + length
        if kind == PHONE_CHUNK:
            return data[:offset] + data[end:], data[offset + 8:offset + 8 + length]
        offset = end
    return data, None


def phone_file(path: Path) -> Path:
    return path.with_name(path.stem + "-phone" + path.suffix)


def add_phone_drawings(app: Sphinx, doctree: nodes.document) -> None:
    """Runs before Sphinx collects the page's images, so that both drawings are copied."""
    for image in list(doctree.findall(nodes.image)):
        uri = image.get("uri", "")
        if isinstance(image, phone_image) or not uri.endswith(".png") or "://" in uri:
            continue
        _, absolute = app.env.relfn2path(uri, app.env.docname)
        path = Path(absolute)
        if not path.is_file():
            continue
        wide, phone = split_png(path.read_bytes())
        if phone is not None:  # first reading: take the phone drawing out
            phone_file(path).write_bytes(phone)
            path.write_bytes(wide)
        if not phone_file(path).is_file():
            continue  # a figure narrow enough as it is
        narrow = phone_image(uri=posixpath.join(posixpath.dirname(uri), phone_file(path).name),
                             alt=image.get("alt", ""), phone=True)
        picture = phone_picture()
        image.replace_self(picture)
        picture += [narrow, image]


def visit_phone_picture_html(self, node: phone_picture) -> None:
    """``<a href=wide><picture><source phone><img wide></picture></a>``: the link Sphinx puts
    around a figure shown smaller than it was drawn, outside, where it keeps ``<img>`` a child
    of ``<picture>`` (which only then picks the source)."""
    narrow = next(node.findall(phone_image))
    # Sphinx may have wrapped the wide one in a link to itself (html_scaled_image_link)
    wide = next(image for image in node.findall(nodes.image) if not isinstance(image, phone_image))

    def src(image: nodes.image) -> str:
        return posixpath.join(self.builder.imgpath, quote(self.builder.images[image["uri"]]))

    width = wide.get("width", "")
    width = f"{width}px" if width.isdigit() else width
    style = f' style="width: {width};"' if width else ""
    classes = " ".join(wide.get("classes", []))
    self.body.append(
        f'<a class="reference internal image-reference" href="{self.attval(src(wide))}">'
        f'<picture class="phone-picture">'
        f'<source media="{PHONE_MEDIA}" srcset="{self.attval(src(narrow))} 2x">'
        f'<img alt="{self.attval(wide.get("alt", ""))}" src="{self.attval(src(wide))}"'
        + (f' class="{self.attval(classes)}"' if classes else "") + f"{style} /></picture></a>\n"
    )
    raise nodes.SkipNode


def skip_node(self, node: nodes.Element) -> None:
    raise nodes.SkipNode


def depart_nothing(self, node: nodes.Element) -> None:
    """Never called: the matching visit raises SkipNode."""


def setup(app: Sphinx) -> dict:
    app.add_node(phone_picture, html=(visit_phone_picture_html, depart_nothing))
    app.add_node(phone_image, html=(skip_node, depart_nothing))
    # before Sphinx's image collector (priority 500) notes the page's images
    app.connect("doctree-read", add_phone_drawings, priority=400)
    app.connect("builder-inited", add_static_path)
    app.add_css_file("phone_figures.css")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
