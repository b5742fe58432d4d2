"""Re-cut a stream of event blocks by event count or by time window, and skip to a start time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from neurosig.io.events._common import empty_events

__all__ = ["by_count", "by_duration", "from_time"]


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def by_count(blocks: Iterable[np.ndarray], n_events: int) -> Iterator[np.ndarray]:
    """Yield arrays of exactly ``n_events`` events (the last one may be shorter)."""
    pending: list[np.ndarray] = []
    have = 0
    for ev in blocks:
        while len(ev):
            take = min(n_events - have, len(ev))
            pending.append(ev[:take])
            have += take
            ev = ev[take:]
            if have == n_events:
                yield _join(pending)
                pending, have = [], 0
    if have:
        yield _join(pending)


def by_duration(blocks: Iterable[np.ndarray], window_us: int) -> Iterator[np.ndarray]:
    """Yield the events of consecutive windows ``[t0 + k w, t0 + (k + 1) w)``, ``t0`` the first event.

    Windows without events are skipped. Cuts are found by binary search on ``t``; a stream that is
    not quite time-sorted is still split without loss (stragglers stay in the window they arrive in).
    """
    pending: list[np.ndarray] = []
    end = None
    for ev in blocks:
        if not len(ev):
            continue
        if end is None:
            end = int(ev["t"][0]) + window_us
        while len(ev):
            cut = int(np.searchsorted(ev["t"], end))
            if cut == len(ev):
                pending.append(ev)
                break
            if ev["t"][0] < end:
                cut = max(cut, 1)  # progress even where t is not sorted
            if cut:
                pending.append(ev[:cut])
            if pending:
                yield _join(pending)
                pending = []
            ev = ev[cut:]
            end += window_us * ((int(ev["t"][0]) - end) // window_us + 1)
    if pending:
        yield _join(pending)


def from_time(blocks: Iterable[np.ndarray], start_us: int) -> Iterator[np.ndarray]:
    """Drop the events before the first one at or after ``start_us``; pass the rest unchanged."""
    started = False
    for ev in blocks:
        if not started:
            after = np.flatnonzero(ev["t"] >= start_us)
            if not len(after):
                yield empty_events()
                continue
            started = True
            ev = ev[int(after[0]) :]
        yield ev
