"""Reading event files whole or in chunks of bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neurosig.core.chunks import EventChunk, EventInfo
from neurosig.core.errors import ConfigError
from neurosig.core.validate import check_one_of, check_positive
from neurosig.io.events._chunking import by_count, by_duration, from_time
from neurosig.io.events._dispatch import blocks as file_blocks
from neurosig.io.events._dispatch import read_file

__all__ = ["read_events", "read_triggers", "iter_events"]


def read_events(path: str | Path, *, strict: bool = True, sensor_size=None) -> EventChunk:
    """Read a whole event file.

    Parameters
    ----------
    path : str | Path
        Any format of :data:`FORMATS`; the format is sniffed from the file.
    strict : bool
        Raise at the first corrupt word (``True``) or skip, count and warn once (``False``).
    sensor_size : tuple of int, optional
        ``(width, height, polarities)`` overriding the header's (or the format default).

    Returns
    -------
    EventChunk
        All events, time in µs, sensor size in ``info``.

    Raises
    ------
    FormatError
        Unknown format, or (strict) a corrupt word, with the byte offset where the format has one.
    """
    events, _, header = read_file(path, strict, sensor_size)
    return EventChunk(events, EventInfo(header.sensor_size))


def read_triggers(path: str | Path, *, strict: bool = True) -> np.ndarray:
    """Read the external-trigger stream of a file (EVT 2.0/3.0 EXT_TRIGGER words, AEDAT4, HDF5).

    Returns
    -------
    ndarray of TRIGGER_DTYPE
        ``t`` (µs), channel ``id``, ``value`` (0 falling, 1 rising); empty for formats without triggers.
    """
    return read_file(path, strict, None)[1]


def iter_events(
    path: str | Path,
    *,
    n_events: int | None = None,
    duration: float | None = None,
    start: float | None = None,
    strict: bool = True,
    sensor_size=None,
    block_bytes: int = 1 << 22,
) -> Iterator[EventChunk]:
    """Read an event file chunk by chunk, in memory bounded by one block and one chunk.

    Parameters
    ----------
    path : str | Path
        Any format of :data:`FORMATS`.
    n_events : int, optional
        Events per chunk (the last chunk may be shorter).
    duration : float, optional
        Seconds per chunk: windows ``[t0 + k duration, t0 + (k + 1) duration)`` from the first event's
        time ``t0``; windows without events are skipped. At most one of ``n_events``, ``duration``.
        With neither, chunks are the decoded blocks.
    start : float, optional
        Seek: skip events before this time, in seconds of the file's clock (``t / 1e6``). The skipped
        part is still decoded (the formats have no index), but never held in memory.
    strict : bool
        As in :func:`read_events`; lenient reads warn once when the file is exhausted.
    sensor_size : tuple of int, optional
        Overrides the header's sensor size.
    block_bytes : int
        Bytes decoded at a time.

    Yields
    ------
    EventChunk
    """
    check_one_of("iter_events", {"n_events": n_events, "duration": duration}, required=False)
    if n_events is not None and n_events < 1:
        raise ConfigError(f"n_events must be a positive number of events, got {n_events!r}.")
    if duration is not None:
        check_positive("duration", duration)
    check_positive("block_bytes", block_bytes)
    _, header, blocks = file_blocks(path, strict, sensor_size, block_bytes)
    info_ = EventInfo(header.sensor_size)
    stream: Iterator[np.ndarray] = (ev for ev, _ in blocks)
    if start is not None:
        stream = from_time(stream, round(start * 1e6))
    if n_events is not None:
        stream = by_count(stream, n_events)
    elif duration is not None:
        stream = by_duration(stream, max(round(duration * 1e6), 1))
    for ev in stream:
        if len(ev):
            yield EventChunk(ev, info_)
