"""Opt-in progress bars (tqdm) and a callback form the dashboard wires to st.progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
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


@contextmanager
def tqdm_callback(show: bool, desc: str = "") -> Iterator[ProgressFn | None]:
    """A ``progress(done, total)`` callback that drives a tqdm bar (total may grow; 0 means unknown), or None when
    ``show`` is False. The bar appears at the first update (an input refused up front prints no empty bar) and is
    closed on exit."""
    if not show:
        yield None
        return
    from tqdm.auto import tqdm

    bars: list = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(desc=desc, total=total or None))
        bar = bars[0]
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()
