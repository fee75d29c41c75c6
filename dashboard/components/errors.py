"""Turn failures into short messages on the page instead of tracebacks; the details go to the server log."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from fer_core.errors import FaceNotFoundError, FerCoreError

from .text import md

logger = logging.getLogger("fer_dashboard")


def report_unexpected(exc: BaseException, where: str) -> str:
    """Log ``exc`` with its traceback under a fresh error id and return the id (what the user quotes)."""
    error_id = uuid.uuid4().hex[:8]
    logger.error("error %s in %s: %s", error_id, where, exc, exc_info=(type(exc), exc, exc.__traceback__))
    return error_id


def unexpected_message(error_id: str, what: str = "This page") -> str:
    return (
        f"{what} hit an unexpected problem (error id `{error_id}`). Nothing you uploaded was kept; the details "
        f"are in the dashboard's server log under that id."
    )


@contextmanager
def user_errors(name: str) -> Iterator[None]:
    """Around the work on one input (a photo, a run): its failure becomes one message, and the page goes on."""
    try:
        yield
    except FaceNotFoundError as exc:
        st.warning(f"**{md(name)}**: {md(exc)}")
    except (FerCoreError, ValueError) as exc:
        st.error(f"**{md(name)}** could not be used: {md(exc)}")
    except Exception as exc:  # noqa: BLE001 - the boundary of one input: report and carry on with the others
        st.error(unexpected_message(report_unexpected(exc, f"input {name!r}"), f"**{md(name)}**"))


@contextmanager
def page_boundary(page: str) -> Iterator[None]:
    """Around a whole page: an uncaught error shows a short message with an id, never a traceback or a path."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - st.stop() and reruns are BaseExceptions and pass through
        st.error(unexpected_message(report_unexpected(exc, f"page {page!r}")))
