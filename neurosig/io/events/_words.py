"""Drive the word-decoding kernels over a whole file or over blocks, with state kept between blocks."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosig.core.host import usable_cores
from neurosig.io.events._common import DecodeReport, FileHeader, empty_events, empty_triggers
from neurosig.kernels import event_decoders as k

__all__ = ["WordLayout", "WordDecoder", "read_words", "iter_words"]

#: Default block size of chunked reading, in bytes (rounded down to whole words).
BLOCK_BYTES = 1 << 22

_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """The one worker thread that decodes the second part of split reads (started on first use)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(1, thread_name_prefix="neurosig-decode")
    return _POOL


def _idle_core() -> bool:
    """Whether a core is idle now: fewer runnable tasks than cores, this thread included (the kernel's
    count in ``/proc/loadavg``; ``True`` where it cannot be read). A split read waits for the slower
    part: on a machine whose cores are all busy, the worker's part stalls behind other processes and
    the read takes longer than the serial decode."""
    try:
        fd = os.open("/proc/loadavg", os.O_RDONLY)
        try:
            running = int(os.read(fd, 128).split()[3].split(b"/")[0])
        finally:
            os.close(fd)
    except (OSError, ValueError, IndexError):
        return True
    return running < usable_cores()


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
    prescan : callable, optional
        ``prescan(words, stop, width, height, state) -> bound``: the kernel's state at word ``stop``
        (exact, or presumed: the split checks it against the state the first part ends with) and an
        upper bound of the events of ``words[:stop]`` (see
        :func:`~neurosig.kernels.event_decoders.prescan_evt2`), so that a whole file can be decoded
        in two parts at once.
    split_share : float
        Share of the words that the calling thread decodes in a split read: the other thread first
        pre-scans those words, then decodes the rest, so that both finish together (about 0.5 when
        the pre-scan is one vectorised count; more when it walks the words as EVT3's does).
    split_min_words : int
        Whole-file reads of at least this many words are decoded in two parts at once (on a machine
        with two cores or more, one of them idle); below it, waking the second thread and its core
        costs more than it saves (measured by ``bench_event_io.py --split-sizes``).
    """

    kernel: Callable
    dtype: str
    items: int
    state: tuple[int, ...]
    events_per_word: int = 1
    prescan: Callable | None = None
    split_share: float = 0.5
    split_min_words: int = 1 << 16

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

    def _run(self, words, state, ev, counts, grow: bool, i: int = 0, n: int = 0):
        """Run the kernel over ``words`` from word ``i`` into ``ev`` from event ``n`` on (growing the
        triggers, and ``ev`` if ``grow``).

        Returns ``(ev, n, triggers, status, i, category)``: ``status`` is DONE, CORRUPT (at word ``i``)
        or, without ``grow``, EVENTS_FULL.
        """
        lay = self.layout
        width, height = self.header.sensor_size[:2]
        tr = empty_triggers(16)
        nt = 0
        while True:
            i, n, nt, status, cat = lay.kernel(
                words, i, state, ev, n, tr, nt, width, height, self.strict, counts
            )
            if status == k.TRIGGERS_FULL:
                tr = _grow(tr, nt, nt + 1)
            elif status == k.EVENTS_FULL and grow:
                ev = _grow(ev, n, n + lay.events_per_word)
            else:
                return ev, n, tr[:nt], status, i, cat

    def _raise_corrupt(self, words: np.ndarray, i: int, cat: int):
        word = np.ascontiguousarray(words[i]).tobytes()[::-1].hex()
        offset = self.header.data_offset + (self.words_done + i) * self.layout.word_bytes
        raise self.report.corrupt(cat, "0x" + word, offset, self.header.sensor_size)

    def decode(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode one block of words; return ``(events, triggers)``."""
        ev = empty_events(len(words) + self.layout.events_per_word)
        ev, n, tr, status, i, cat = self._run(words, self.state, ev, self.report.counts, True)
        if status == k.CORRUPT:
            self._raise_corrupt(words, i, cat)
        self.words_done += len(words)
        return _trimmed(ev, n), tr

    def decode_split(
        self, words: np.ndarray, split: int, fill: Callable[[], None] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decode ``words[:split]`` here and ``words[split:]`` on the worker thread, at once, into one
        output; the same events, triggers, counts and errors as :meth:`decode`.

        The worker first pre-scans ``words[:split]`` for the kernel's state at ``split`` and a bound
        ``b`` of the first part's events, then decodes the second part into the output from index
        ``b`` on; the first part's events end at or before ``b`` (the second part's are moved down to
        follow them when they end before). A corrupt word in the first part (strict) is the error,
        whatever the second part holds. Should an output fill up (an EVT3 part with more events than
        words), the block is decoded again by :meth:`decode`. This thread decodes on from ``split``
        itself, as :meth:`decode` would, when the worker has not started by the time the first part
        is done (every core busy: the worker is cancelled), or when the state the pre-scan presumed
        is not the one the first part ends with (an EVT2 counter wrap or a corrupt TIME_HIGH before
        ``split``: the worker's part is discarded). ``fill``, when given, fills ``words`` (reads the
        file) right after the worker is started, which waits for it: the worker's start-up overlaps
        the read.
        """
        lay = self.layout
        width, height = self.header.sensor_size[:2]
        state0 = self.state.copy()
        counts0 = np.zeros_like(self.report.counts)
        counts1 = np.zeros_like(self.report.counts)
        ev = empty_events(max(len(words), split) + lay.events_per_word)

        filled = threading.Event()
        if fill is None:
            filled.set()

        def second():
            filled.wait()
            state1 = np.array(lay.state, np.int64)
            bound = int(lay.prescan(words, split, width, height, state1))
            presumed = state1.copy()
            if bound >= len(ev):
                return bound, presumed, state1, (ev, 0, None, k.EVENTS_FULL, 0, -1)
            return bound, presumed, state1, self._run(words[split:], state1, ev[bound:], counts1, False)

        future = _pool().submit(second)
        if fill is not None:
            try:
                fill()
            finally:
                filled.set()  # (after a failed fill the worker decodes garbage into ``ev``, then is ignored)
        # (the first part never writes past its bound, so it may share the second part's room)
        _, n0, tr0, status0, i0, cat0 = self._run(words[:split], state0, ev, counts0, False)
        if future.cancel():
            return self._decode_on(words, split, ev, n0, tr0, status0, i0, cat0, state0, counts0)
        bound, presumed, state1, (_, n1, tr1, status1, i1, cat1) = future.result()
        if status0 == k.DONE and not np.array_equal(state0, presumed):
            return self._decode_on(words, split, ev, n0, tr0, status0, i0, cat0, state0, counts0)
        if k.EVENTS_FULL in (status0, status1):
            return self.decode(words)
        if status0 == k.CORRUPT:
            self.report.counts += counts0
            self._raise_corrupt(words, i0, cat0)
        self.report.counts += counts0 + counts1
        if status1 == k.CORRUPT:
            self._raise_corrupt(words, split + i1, cat1)
        if n0 < bound:
            ev[n0 : n0 + n1] = ev[bound : bound + n1]
        self.state[:] = state1
        self.words_done += len(words)
        return _trimmed(ev, n0 + n1), np.concatenate([tr0, tr1])

    def _decode_on(self, words, split, ev, n0, tr0, status0, i0, cat0, state0, counts0):
        """The end of a split read without the worker's part: decode on from ``split`` here."""
        if status0 == k.EVENTS_FULL:
            return self.decode(words)
        if status0 == k.DONE:
            ev, n0, tr1, status0, i0, cat0 = self._run(words, state0, ev, counts0, True, split, n0)
            tr0 = np.concatenate([tr0, tr1])
        self.report.counts += counts0
        if status0 == k.CORRUPT:
            self._raise_corrupt(words, i0, cat0)
        self.state[:] = state0
        self.words_done += len(words)
        return _trimmed(ev, n0), tr0


def _trimmed(ev: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` events; a copy when the output is mostly empty (EVT3 makes room for 12 events
    per word)."""
    return ev[:n].copy() if 2 * n < len(ev) else ev[:n]


class _ShortRead(Exception):
    """The file held fewer bytes than its size said when it was read (it shrank meanwhile)."""


def _split_wanted(layout: WordLayout, n_words: int) -> bool:
    """Whether a whole-file read of ``n_words`` words is decoded in two parts at once."""
    return (
        layout.prescan is not None
        and n_words >= layout.split_min_words
        and usable_cores() > 1
        and _idle_core()
    )


def read_words(layout: WordLayout, path: Path, header: FileHeader, strict: bool):
    """Decode a whole file at once; return ``(events, triggers, report)``."""
    with open(path, "rb", buffering=0) as f:
        raw = np.empty(max(os.fstat(f.fileno()).st_size - header.data_offset, 0), np.uint8)
        n_words = len(raw) // layout.word_bytes
        if _split_wanted(layout, n_words):
            try:
                return _read_split(layout, path, header, strict, f, raw)
            except _ShortRead:
                pass  # (read it again as it is now, serially)
        f.seek(header.data_offset)
        raw = raw[: f.readinto(memoryview(raw))]
    dec = WordDecoder(layout, path, header, strict)
    whole = len(raw) - len(raw) % layout.word_bytes
    if whole < len(raw):
        dec.report.truncated(len(raw) - whole, header.data_offset + whole, layout.word_bytes, strict)
    events, triggers = dec.decode(dec.as_words(raw[:whole]))
    return events, triggers, dec.report


def _read_split(layout: WordLayout, path: Path, header: FileHeader, strict: bool, f, raw: np.ndarray):
    """:func:`read_words` in two parts at once: the worker thread is started before the file is read
    into ``raw`` (its start-up, about 0.1 ms, overlaps the read). Raises :class:`_ShortRead` when the
    file yields fewer bytes than ``raw`` holds."""
    dec = WordDecoder(layout, path, header, strict)
    whole = len(raw) - len(raw) % layout.word_bytes
    if whole < len(raw):
        dec.report.truncated(len(raw) - whole, header.data_offset + whole, layout.word_bytes, strict)
    words = dec.as_words(raw[:whole])

    def fill() -> None:
        f.seek(header.data_offset)
        if f.readinto(memoryview(raw)) != len(raw):
            raise _ShortRead

    events, triggers = dec.decode_split(words, int(len(words) * layout.split_share), fill)
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
