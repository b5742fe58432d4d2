"""Drive the word-decoding kernels over a whole file or over blocks, with state kept between blocks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosig.io.events._common import DecodeReport, FileHeader, empty_events, empty_triggers
from neurosig.kernels import event_decoders as k

__all__ = ["WordLayout", "WordDecoder", "read_words", "iter_words"]

#: Default block size of chunked reading, in bytes (rounded down to whole words).
BLOCK_BYTES = 1 << 22


@dataclass(frozen=True)
class WordLayout:
    """How one word-based format is laid out and decoded.

    Parameters
    ----------
    kernel : callable
        A decoder from :mod:`neurosig.kernels.event_decoders`.
    dtype : str
        Numpy dtype of one item of a word (``"<u4"``, ``"<u2"``, ``"u1"``).
    items : int
        Items per word (``words`` is ``(n, items)`` when ``items > 1``).
    state : tuple of int
        The kernel's initial state.
    events_per_word : int
        Most events one word can yield.
    """

    kernel: Callable
    dtype: str
    items: int
    state: tuple[int, ...]
    events_per_word: int = 1

    @property
    def word_bytes(self) -> int:
        """Bytes per word."""
        return np.dtype(self.dtype).itemsize * self.items


def _grow(arr: np.ndarray, n: int, at_least: int) -> np.ndarray:
    new = np.empty(max(2 * len(arr), at_least), arr.dtype)
    new[:n] = arr[:n]
    return new


class WordDecoder:
    """Decode consecutive blocks of one file's words, carrying the kernel's state across blocks."""

    def __init__(self, layout: WordLayout, path: Path, header: FileHeader, strict: bool):
        self.layout = layout
        self.header = header
        self.strict = strict
        self.state = np.array(layout.state, np.int64)
        self.report = DecodeReport(path, header.fmt)
        self.words_done = 0

    def as_words(self, raw: np.ndarray) -> np.ndarray:
        """View whole words of a byte buffer in the layout's shape."""
        words = raw.view(self.layout.dtype)
        return words.reshape(-1, self.layout.items) if self.layout.items > 1 else words

    def decode(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode one block of words; return ``(events, triggers)``."""
        lay = self.layout
        width, height = self.header.sensor_size[:2]
        ev = empty_events(len(words) + lay.events_per_word)
        tr = empty_triggers(16)
        i = n = nt = 0
        while True:
            i, n, nt, status, cat = lay.kernel(
                words, i, self.state, ev, n, tr, nt, width, height, self.strict, self.report.counts
            )
            if status == k.DONE:
                break
            if status == k.EVENTS_FULL:
                ev = _grow(ev, n, n + lay.events_per_word)
            elif status == k.TRIGGERS_FULL:
                tr = _grow(tr, nt, nt + 1)
            else:
                word = np.ascontiguousarray(words[i]).tobytes()[::-1].hex()
                offset = self.header.data_offset + (self.words_done + i) * lay.word_bytes
                raise self.report.corrupt(cat, "0x" + word, offset, self.header.sensor_size)
        self.words_done += len(words)
        # EVT3 needs room for 12 events per word; give back an output that is mostly empty
        return (ev[:n].copy() if 2 * n < len(ev) else ev[:n]), tr[:nt]


def read_words(layout: WordLayout, path: Path, header: FileHeader, strict: bool):
    """Decode a whole file at once; return ``(events, triggers, report)``."""
    dec = WordDecoder(layout, path, header, strict)
    with open(path, "rb", buffering=0) as f:
        raw = np.empty(max(os.fstat(f.fileno()).st_size - header.data_offset, 0), np.uint8)
        f.seek(header.data_offset)
        raw = raw[: f.readinto(memoryview(raw))]
    whole = len(raw) - len(raw) % layout.word_bytes
    if whole < len(raw):
        dec.report.truncated(len(raw) - whole, header.data_offset + whole, layout.word_bytes, strict)
    events, triggers = dec.decode(dec.as_words(raw[:whole]))
    return events, triggers, dec.report


def iter_words(
    layout: WordLayout, path: Path, header: FileHeader, strict: bool, block_bytes: int = BLOCK_BYTES
) -> Iterator[tuple[np.ndarray, np.ndarray, DecodeReport]]:
    """Decode a file block by block (memory: one block); yield ``(events, triggers, report)``."""
    dec = WordDecoder(layout, path, header, strict)
    size = max(block_bytes // layout.word_bytes, 1) * layout.word_bytes
    buf = np.empty(size, np.uint8)
    with open(path, "rb") as f:
        f.seek(header.data_offset)
        while True:
            got = f.readinto(memoryview(buf))
            if not got:
                break
            whole = got - got % layout.word_bytes
            if whole < got:
                offset = header.data_offset + dec.words_done * layout.word_bytes + whole
                dec.report.truncated(got - whole, offset, layout.word_bytes, strict)
            events, triggers = dec.decode(dec.as_words(buf[:whole]))
            yield events, triggers, dec.report
            if got < size:
                break
