"""Prophesee EVT 2.0 (``.raw``): 32-bit words, CD events with 6 timestamp LSBs, TIME_HIGH, triggers.

Word types (bits 31..28): CD_OFF 0x0, CD_ON 0x1 (timestamp LSBs 27..22, x 21..11, y 10..0),
EVT_TIME_HIGH 0x8 (timestamp bits 33..6 in 27..0), EXT_TRIGGER 0xA (LSBs 27..22, channel 12..8,
value bit 0), OTHERS 0xE and CONTINUED 0xF (consumed, no event). Any other type is corrupt.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from neurosig.io.events._common import FileHeader
from neurosig.io.events._prophesee import probe_raw, raw_header_text
from neurosig.io.events._words import BLOCK_BYTES, WordLayout, iter_words, read_words
from neurosig.io.events._writers import WordWriter
from neurosig.kernels.event_decoders import decode_evt2, encode_evt2, prescan_evt2

__all__ = ["NAME", "probe", "read", "blocks", "writer"]

NAME = "evt2"
#: Whole reads split from 8M words (32 MiB): with the 8-word vector block, split reads ran 0.92x-1.04x as
#: fast as serial ones up to 2.2M words, 0.93x at 4.3M and 1.14x-1.20x from 8.6M
#: (``bench_event_io --split-sizes``, split and serial alternating alone).
LAYOUT = WordLayout(
    decode_evt2, "<u4", 1, (0, -1), prescan=prescan_evt2, split_share=0.75, split_min_words=1 << 23
)


def probe(path: Path, sensor_size=None) -> FileHeader:
    """Parse the header of an EVT 2.0 file."""
    return probe_raw(path, NAME, sensor_size)


def read(path: Path, header: FileHeader, strict: bool = True):
    """Decode the whole file: ``(events, triggers, report)``."""
    return read_words(LAYOUT, path, header, strict)


def blocks(path: Path, header: FileHeader, strict: bool = True, block_bytes: int = BLOCK_BYTES) -> Iterator:
    """Decode block by block: ``(events, triggers, report)`` per block."""
    return iter_words(LAYOUT, path, header, strict, block_bytes)


def writer(path: Path, sensor_size: tuple[int, int, int], overwrite: bool = False) -> WordWriter:
    """A streaming EVT 2.0 writer."""
    return WordWriter(
        path, sensor_size, raw_header_text(NAME, sensor_size), encode_evt2, "<u4", 1, NAME, overwrite
    )
