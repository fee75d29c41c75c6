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
