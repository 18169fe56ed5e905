"""Plot style for the course's figures.

Every chapter calls ``use_course_style()`` once, before its first figure. Figures are then
drawn for the width of the course site's text column (about 660 pixels), with text large
enough to read there (no font below 9 points, which is 12.5 pixels), and shown as sharp
double-resolution PNG images.

A phone's column is about 360 pixels wide: shrunk to it, that text would be 7 pixels high.
So a figure wider than ``PHONE_WIDTH`` is drawn a second time, ``PHONE_WIDTH`` wide with the
same fonts (its layout redone for the narrower canvas), and that PNG travels inside the first
one, in a private chunk (``csPh``) that browsers ignore; the site's build takes it out and
offers it to narrow screens (``book/_ext/phone_figures.py``).

Each PNG also records, in a text chunk named ``course-figure``, the size it is meant to be
shown at and the smallest font it contains, so the site's tests can check, in a real
browser, that no figure is shrunk until its text becomes hard to read.
"""

import base64
import io
import json
import struct
import zlib

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.text import Text

# Width and default height of a figure, in inches. At 100 dots per inch that is the width of
# the site's text column, so figures are shown at the size they were drawn at.
FIGURE_WIDTH = 6.6
FIGURE_HEIGHT = 3.6
DPI = 100
SHARPNESS = 2  # pixels per screen pixel in the PNG: sharp on high-density screens
PHONE_WIDTH = 4.6  # inches: the drawing for narrow screens (460 pixels, shown at about 360)
PHONE_CHUNK = b"csPh"  # ancillary, private, safe to copy: a PNG viewer skips it

# One colour per role, used across the chapters.
COLOURS = {
    "blue": "#1d4ed8",
    "red": "#dc2626",
    "green": "#15803d",
    "purple": "#7c3aed",
    "amber": "#d97706",
    "teal": "#0f766e",
    "slate": "#334155",
    "grey": "#94a3b8",
}

STYLE = {
    "figure.figsize": (FIGURE_WIDTH, FIGURE_HEIGHT),
    "figure.dpi": DPI,
    "figure.facecolor": "white",
    "figure.constrained_layout.use": True,
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9.5,
    "legend.title_fontsize": 9.5,
    "legend.framealpha": 0.9,
    "figure.titlesize": 11.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "axes.prop_cycle": mpl.cycler(
        color=[COLOURS[c] for c in ("blue", "red", "green", "purple", "amber", "teal")]
    ),
}


def use_course_style():
    """Set the course's figure style, and show figures as sharp PNGs in Jupyter."""
    plt.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        # Load the inline backend now: it installs its own PNG formatter when it loads,
        # which would replace ours if that happened at the first figure.
        plt.switch_backend(plt.get_backend())
        png = shell.display_formatter.formatters["image/png"]
        png.for_type(Figure, figure_png)


def figure_png(fig):
    """The PNG of a figure (base64) and the size to show it at (a Jupyter display formatter)."""
    png, shown = _noted_png(fig)
    if fig.get_size_inches()[0] > 1.15 * PHONE_WIDTH:
        png = _add_chunk(png, PHONE_CHUNK, _phone_png(fig))
    # Base64 text, as IPython's own figure formatter returns it: a kernel that does not encode
    # bytes itself (Pyodide's, in the browser) would show a broken image. Only the width: the
    # browser keeps the aspect ratio when a narrow screen shrinks it.
    return base64.b64encode(png).decode("ascii"), {"width": shown["width"]}


def _phone_png(fig):
    """The figure drawn PHONE_WIDTH wide, for phones: titles wrap, legends take one column."""
    width, height = fig.get_size_inches()
    titles = [ax.title for ax in fig.axes] + [t for t in [getattr(fig, "_suptitle", None)] if t]
    legends = {}
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and getattr(legend, "_ncols", 1) > 1:
            legends[ax] = legend
            ax.legend(loc=getattr(legend, "_loc", "best"), fontsize=legend.prop.get_size_in_points())
    try:
        for title in titles:
            title.set_wrap(True)
        fig.set_size_inches(PHONE_WIDTH, height, forward=False)
        return _noted_png(fig)[0]
    finally:
        fig.set_size_inches(width, height, forward=False)
        for title in titles:
            title.set_wrap(False)
        for ax, legend in legends.items():
            ax.legend_ = legend


def _noted_png(fig):
    """The figure as a PNG with its ``course-figure`` note, and the size it is shown at."""
    sizes = []
    draw_text = Text.draw

    def draw_and_note_size(text, renderer):
        if text.get_visible() and text.get_text().strip():
            sizes.append(text.get_fontsize())
        return draw_text(text, renderer)

    buffer = io.BytesIO()
    Text.draw = draw_and_note_size  # note the size of every text that is drawn
    try:
        fig.canvas.print_figure(
            buffer, format="png", dpi=SHARPNESS * fig.dpi, bbox_inches="tight"
        )
    finally:
        Text.draw = draw_text
    png = buffer.getvalue()
    width, height = struct.unpack(">II", png[16:24])  # from the PNG's header chunk
    shown = {"width": width // SHARPNESS, "height": height // SHARPNESS}
    smallest = min(sizes) * fig.dpi / 72 if sizes else None  # points -> pixels
    note = json.dumps({**shown, "scale": SHARPNESS, "min_font_px": smallest})
    return _add_text_chunk(png, "course-figure", note), shown


def _add_text_chunk(png, key, text):
    """Insert a PNG tEXt chunk just before the final IEND chunk (its last 12 bytes)."""
    return _add_chunk(png, b"tEXt", key.encode("latin-1") + b"\0" + text.encode("latin-1"))


def _add_chunk(png, kind, data):
    """Insert a chunk of type ``kind`` just before the final IEND chunk (its last 12 bytes)."""
    body = kind + data
    chunk = struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    return png[:-12] + chunk + png[-12:]
