"""Prophesee DAT (``.dat``): ``%`` header, 2 bytes (event type, event size = 8), then 8-byte events.

Each event is a uint32 timestamp (µs) and a uint32 address: x in bits 13..0, y in 27..14, polarity in
31..28. Geometry comes from ``% Width``/``% Height`` or ``% geometry`` lines when present.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neurosig.core.errors import FormatError
from neurosig.io.events._common import (
    FileHeader,
    check_sensor_size,
    file_head,
    parse_percent_header,
    prophesee_sensor,
)
from neurosig.io.events._words import BLOCK_BYTES, WordLayout, iter_words, read_words
from neurosig.io.events._writers import AtomicWriter
from neurosig.kernels.event_decoders import decode_dat

__all__ = ["NAME", "probe", "read", "blocks", "writer"]

NAME = "dat"
LAYOUT = WordLayout(decode_dat, "<u4", 2, (0, -1))
#: DAT addresses 14 bits per axis.
ADDRESS_LIMIT = 1 << 14


def probe(path: Path, sensor_size=None) -> FileHeader:
    """Parse a DAT header and its event-type/size bytes."""
    fields, offset = parse_percent_header(path)
    type_size = file_head(path)[offset : offset + 2]
    if len(type_size) < 2 or type_size[1] != 8:
        got = type_size.hex() or "end of file"
        raise FormatError(
            f"expected the DAT event type and an event size of 8 bytes after the header, got {got}; "
            "this is not a CD-event DAT file.",
            path=path,
            offset=offset,
        )
    if sensor_size is not None:
        size, origin = check_sensor_size(sensor_size, ADDRESS_LIMIT, NAME), "argument"
    else:
        size, origin = prophesee_sensor(fields, path) or ((ADDRESS_LIMIT, ADDRESS_LIMIT, 2), "format default")
    fields["event_type"] = str(type_size[0])
    return FileHeader(NAME, offset + 2, size, origin, fields)


def read(path: Path, header: FileHeader, strict: bool = True):
    """Decode the whole file: ``(events, triggers, report)``."""
    return read_words(LAYOUT, path, header, strict)


def blocks(path: Path, header: FileHeader, strict: bool = True, block_bytes: int = BLOCK_BYTES) -> Iterator:
    """Decode block by block: ``(events, triggers, report)`` per block."""
    return iter_words(LAYOUT, path, header, strict, block_bytes)


class DatWriter(AtomicWriter):
    """Write CD events as DAT (timestamps modulo 2**32 µs, as the format stores them)."""

    fmt = NAME

    def __init__(self, path: Path, sensor_size: tuple[int, int, int], overwrite: bool = False):
        super().__init__(path, overwrite)
        self.sensor_size = sensor_size
        self.file = open(self.partial, "wb")  # noqa: SIM115 - closed in _finish
        width, height = sensor_size[:2]
        head = f"% Data file containing CD events.\n% Version 2\n% Width {width}\n% Height {height}\n"
        self.file.write(head.encode("ascii") + bytes([12, 8]))

    def write(self, events: np.ndarray, triggers: np.ndarray | None = None) -> None:
        """Append time-ordered events (DAT has no trigger stream; ``triggers`` must be empty)."""
        from neurosig.io.events._common import check_writable_events

        if triggers is not None and len(triggers):
            raise FormatError("DAT files have no trigger stream; write EVT2/EVT3 to keep triggers.")
        check_writable_events(events, self.last_t, self.sensor_size, NAME)
        words = np.empty((len(events), 2), "<u4")
        words[:, 0] = events["t"] & 0xFFFFFFFF
        words[:, 1] = (
            events["x"].astype(np.uint32)
            | (events["y"].astype(np.uint32) << 14)
            | (events["p"].astype(np.uint32) << 28)
        )
        self.file.write(words.tobytes())
        if len(events):
            self.last_t = int(events["t"][-1])
        self.n_events += len(events)

    def _finish(self) -> None:
        if not self.file.closed:
            self.file.close()


def writer(path: Path, sensor_size: tuple[int, int, int], overwrite: bool = False) -> DatWriter:
    """A streaming DAT writer."""
    return DatWriter(path, sensor_size, overwrite)
