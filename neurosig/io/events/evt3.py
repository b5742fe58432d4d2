"""Prophesee EVT 3.0 (``.raw``): 16-bit stateful words with a 24-bit time base and pixel vectors.

Word types (bits 15..12): ADDR_Y 0x0, ADDR_X 0x2 (one event), VECT_BASE_X 0x3, VECT_12 0x4, VECT_8 0x5,
TIME_LOW 0x6, CONTINUED_4 0x7, TIME_HIGH 0x8, EXT_TRIGGER 0xA, OTHERS 0xE, CONTINUED_12 0xF. The time
base wraps (2**24 µs) only when TIME_HIGH steps back by half its range or more; TIME_LOW never infers a
wrap. See ``docs/event_formats.md`` for the checks against the real sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from neurosig.io.events._common import FileHeader
from neurosig.io.events._prophesee import probe_raw, raw_header_text
from neurosig.io.events._words import BLOCK_BYTES, WordLayout, iter_words, read_words
from neurosig.io.events._writers import WordWriter
from neurosig.kernels.event_decoders import MAX_EVENTS_PER_WORD, decode_evt3, encode_evt3, prescan_evt3

__all__ = ["NAME", "probe", "read", "blocks", "writer"]

NAME = "evt3"
#: Whole reads split from 1M words (2 MiB): with ADDR_X runs decoded 8 words at a time, split reads of
#: neurosig-written files ran 0.97x-0.99x as fast as serial ones at 0.84M words and 1.14x-1.55x from
#: 1.7M (two runs of ``bench_event_io --split-sizes``; 1.22x at 0.84M with the scalar loop).
LAYOUT = WordLayout(
    decode_evt3,
    "<u2",
    1,
    (0, -1, 0, -1, -1, 0),
    MAX_EVENTS_PER_WORD,
    prescan_evt3,
    split_share=0.58,
    split_min_words=1 << 20,
)


def probe(path: Path, sensor_size=None) -> FileHeader:
    """Parse the header of an EVT 3.0 file."""
    return probe_raw(path, NAME, sensor_size)


def read(path: Path, header: FileHeader, strict: bool = True):
    """Decode the whole file: ``(events, triggers, report)``."""
    return read_words(LAYOUT, path, header, strict)


def blocks(path: Path, header: FileHeader, strict: bool = True, block_bytes: int = BLOCK_BYTES) -> Iterator:
    """Decode block by block: ``(events, triggers, report)`` per block."""
    return iter_words(LAYOUT, path, header, strict, block_bytes)


def writer(path: Path, sensor_size: tuple[int, int, int], overwrite: bool = False) -> WordWriter:
    """A streaming EVT 3.0 writer."""
    return WordWriter(
        path, sensor_size, raw_header_text(NAME, sensor_size), encode_evt3, "<u2", 3, NAME, overwrite
    )
