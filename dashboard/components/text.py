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


def face_note(face) -> str:
    """What a face's heading adds after its prediction: used as a crop, and the head pose where the mesh measured
    it (`` · head turned left (yaw -24°, pitch +3°, roll +1°)``)."""
    notes = ["used as an aligned crop (no detection needed)"] if face.used_as_crop else []
    if face.pose is not None:
        notes.append(f"head {face.pose.text()}")
    return "".join(f" · {n}" for n in notes)
