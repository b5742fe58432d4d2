"""N-MNIST / N-Caltech101 ATIS ``.bin``: 5 bytes per event, no header.

x = byte 0, y = byte 1, polarity = bit 7 of byte 2, timestamp (µs) = the other 23 bits; a record with
y = 240 is a timestamp overflow that adds 2**13 µs to every later event (as tonic reads it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from neurosig.io.events._common import FileHeader, check_sensor_size
from neurosig.io.events._words import BLOCK_BYTES, WordLayout, iter_words, read_words
from neurosig.kernels.event_decoders import decode_nmnist

__all__ = ["NAME", "probe", "read", "blocks", "SENSOR_SIZE"]

NAME = "nmnist"
LAYOUT = WordLayout(decode_nmnist, "u1", 5, (0,))
#: N-MNIST's sensor; pass ``sensor_size`` for N-Caltech101 recordings (up to 240 x 180).
SENSOR_SIZE = (34, 34, 2)


def probe(path: Path, sensor_size=None) -> FileHeader:
    """The file has no header: the sensor is N-MNIST's unless ``sensor_size`` is given."""
    if sensor_size is not None:
        return FileHeader(NAME, 0, check_sensor_size(sensor_size, 240, NAME), "argument")
    return FileHeader(NAME, 0, SENSOR_SIZE, "format default")


def read(path: Path, header: FileHeader, strict: bool = True):
    """Decode the whole file: ``(events, triggers, report)``."""
    return read_words(LAYOUT, path, header, strict)


def blocks(path: Path, header: FileHeader, strict: bool = True, block_bytes: int = BLOCK_BYTES) -> Iterator:
    """Decode block by block: ``(events, triggers, report)`` per block."""
    return iter_words(LAYOUT, path, header, strict, block_bytes)
