"""Student-controlled text made safe to show: in a terminal, a CSV cell, a page.

Names, paths, feedback and flags come from students (a folder name, a file name, what their
code printed). Shown as they are, they can clear an instructor's terminal (escape sequences),
make a name read as another (U+202E RIGHT-TO-LEFT OVERRIDE turns "ecila" into "alice" on
screen; zero-width characters make two names look the same) or run as a formula in a
spreadsheet. So, everywhere a report shows them:

- control characters (Unicode category Cc, but line breaks and tabs in multi-line text),
  format characters (Cf: bidi overrides, zero-width characters), line and paragraph
  separators (Zl, Zp) and bytes that were not UTF-8 (surrogates) are shown escaped, as
  ``\\u202e`` or ``\\xff``: visible, and never the same as a clean name;
- memory addresses are dropped (``<function f at 0x7f...>`` becomes ``<function f>``);
- a CSV cell that a spreadsheet would read as a formula is prefixed with ``'`` (OWASP's rule
  for CSV injection), and so is a formula character after a ``;`` inside it: a spreadsheet
  whose list separator is ``;`` (much of Europe) splits the cell there;
- a name that is not in Unicode's composed form (NFC: ``José`` from a Mac is ``Jose`` and a
  combining accent) shows its combining marks escaped, so it never looks like the composed one.
"""

from __future__ import annotations

import re
import unicodedata

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Cs"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# A semicolon: the list separator of spreadsheets in much of Europe. Python's csv module quotes a
# field holding a comma, so a comma cannot split one; a semicolon can.
_FORMULA_AFTER_SEPARATOR = re.compile(r"(;\s*)(?=[=+\-@])")


def strip_addresses(text: str) -> str:
    """``text`` without memory addresses."""
    return _ADDRESS.sub("", text)


def _escape(character: str) -> str:
    code = ord(character)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, multiline: bool = True) -> str:
    """``text`` with every control, format or separator character escaped (see the module
    docstring); with ``multiline``, line breaks and tabs are kept as they are."""
    kept = "\n\t" if multiline else ""
    return "".join(
        _escape(c) if c not in kept and unicodedata.category(c) in _INVISIBLE else c for c in str(text)
    )


def clean_text(text: str, limit: int) -> str:
    """Multi-line ``text`` made visible and without addresses, at most ``limit`` characters."""
    text = visible(strip_addresses(str(text)))
    if len(text) > limit:
        text = text[: max(0, limit - 40)].rstrip() + "\n  ... (feedback shortened)"
    return text


def one_line(text: object, limit: int = 300) -> str:
    """``text`` on one line (runs of white space as one space), made visible, bounded."""
    flat = " ".join(str("" if text is None else text).split())
    return clean_text(visible(flat, multiline=False), limit)


def display_name(name: str) -> str:
    """A student's name (a folder name) as every report shows it: every invisible character
    escaped, white space included (two names that differ never look the same: a space at
    either end, or one that is not U+0020, shows as ``\x20``, ``\xa0``...), bounded."""
    composed = unicodedata.is_normalized("NFC", name)
    shown = "".join(_escape(c) if (c != " " and unicodedata.category(c) == "Zs")
                    or (not composed and unicodedata.combining(c)) else c
                    for c in visible(name, multiline=False))
    core = shown.strip(" ")
    start = shown.index(core) if core else len(shown)
    shown = "\\x20" * start + core + "\\x20" * (len(shown) - start - len(core))
    return clean_text(shown, 200) or "(no name)"


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: numbers pass, and text is made visible and
    prefixed with ``'`` when it would start a formula (=, +, -, @, tab, carriage return)."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return value
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", visible(str(value), multiline=False))
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_START) else text
