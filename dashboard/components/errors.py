"""Turn fer_core's errors into messages on the page instead of tracebacks."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from fer_core.errors import FaceNotFoundError, FerCoreError


@contextmanager
def user_errors(name: str) -> Iterator[None]:
    try:
        yield
    except FaceNotFoundError as exc:
        st.warning(f"**{name}**: {exc}")
    except (FerCoreError, ValueError) as exc:
        st.error(f"**{name}** could not be used: {exc}")
