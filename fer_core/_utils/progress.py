"""Opt-in progress bars (tqdm) and a callback form the dashboard wires to st.progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
ProgressFn = Callable[[int, int], None]


def progress_iter(
    items: Iterable[T], show: bool = False, desc: str = "", total: int | None = None, callback: ProgressFn | None = None
) -> Iterable[T]:
    """Iterate ``items``, showing a tqdm bar if ``show`` and calling ``callback(done, total)`` after each item."""
    seq = list(items)
    total = total or len(seq)
    if show:
        from tqdm.auto import tqdm

        seq = tqdm(seq, desc=desc, total=total)
    for i, item in enumerate(seq, 1):
        yield item
        if callback is not None:
            callback(i, total)
