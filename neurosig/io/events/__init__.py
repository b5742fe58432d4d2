"""Event-camera files: sniff, read whole or in bounded-memory chunks, write, convert, describe.

Formats (one module each): Prophesee EVT 2.0 and EVT 3.0 (``.raw``), Prophesee DAT (``.dat``),
iniVation AEDAT4 (``.aedat4``, through the ``aedat`` package), N-MNIST/ATIS ``.bin``, NumPy ``.npy``
and the suite's HDF5. Every reader gives :data:`~neurosig.core.chunks.EVENTS_DTYPE` events (``t`` int64
µs, ``x``, ``y`` uint16, ``p`` int8) in :class:`~neurosig.core.chunks.EventChunk` s whose info carries
the sensor size. EVT 2.0/3.0 trigger words are a separate stream: :func:`read_triggers`.

Decoding is *strict* by default: the first corrupt word raises :class:`~neurosig.core.errors.FormatError`
with its byte offset. With ``strict=False`` corrupt words are skipped, counted, and reported in one
:class:`EventDecodeWarning` per read (and in :func:`info`'s ``"skipped"``). See ``docs/event_formats.md``.
"""

from __future__ import annotations

from neurosig.io.events._common import TRIGGER_DTYPE, EventDecodeWarning
from neurosig.io.events._convert import TONIC_DTYPE, as_events, to_tonic
from neurosig.io.events._dispatch import FORMATS, WRITABLE, sniff
from neurosig.io.events._info import info
from neurosig.io.events._reading import iter_events, read_events, read_triggers
from neurosig.io.events._writing import convert, write_events

__all__ = [
    "FORMATS",
    "WRITABLE",
    "TRIGGER_DTYPE",
    "TONIC_DTYPE",
    "EventDecodeWarning",
    "sniff",
    "read_events",
    "read_triggers",
    "iter_events",
    "write_events",
    "convert",
    "info",
    "as_events",
    "to_tonic",
    "EventFileSource",
]


def __getattr__(name: str):
    if name == "EventFileSource":
        from neurosig.io.events.source import EventFileSource

        return EventFileSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
