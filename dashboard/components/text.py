"""User text (file, run, model, label and group names, error messages) shown safely inside Streamlit markdown."""

from __future__ import annotations

import html
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$:~^=&\"'])")


def md(text: object) -> str:
    """``text`` with every markdown, colour, icon and LaTeX marker backslash-escaped, on one line: a name shows
    exactly as typed and never becomes a link, an image (which the browser would fetch), a formula or an icon."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\r", " ").replace("\n", " ")


def html_text(text: object) -> str:
    """``text`` escaped for the few places that render HTML (coloured legend swatches)."""
    return html.escape(str(text), quote=True)


def signed_percent(change: float) -> str:
    """A probability change as text a reader can trust: "+12%" for large ones, "+0.3%" for small ones (never a
    "+0%" under a visible change), and "±0%" only for no change at all (under 0.05 points)."""
    if abs(change) < 0.0005:
        return "±0%"
    return f"{change:+.1%}" if abs(change) < 0.01 else f"{change:+.0%}"
