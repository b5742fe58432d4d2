"""Whole-file EVT 2.0/3.0 reads decode two parts at once: the same output as the serial decoder.

Random word streams (mostly well-formed, with corrupt words mixed in) are decoded serially and split at
random word boundaries, in strict and lenient mode: events, triggers, skipped-word counts, the final
state and the strict error's byte offset must all be equal.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.errors import FormatError
from neurosig.io.events import _words as W
from neurosig.io.events import evt2, evt3, read_events
from neurosig.io.events._common import FileHeader

SENSOR = (40, 30, 2)
DATA_OFFSET = 100


def _th(rng, th: int, bits: int, bad: float) -> tuple[int, int]:
    """The next raw TIME_HIGH: mostly a small step forward, sometimes a wrap or a (corrupt) step back."""
    r = rng.random()
    mask = (1 << bits) - 1
    if r < bad:
        return th, (th - int(rng.integers(1, 4))) & mask  # back by a little: BAD_TIME_HIGH_BACK
    if r < 0.1:
        th += 1 << bits  # a wrap
        return th, (th + (1 << bits) - int(rng.integers(1, 4))) & mask  # looks like a large step back
    th += int(rng.integers(0, 3))
    return th, th & mask


def evt2_words(seed: int, n: int, corrupt: bool = True) -> np.ndarray:
    """Random EVT 2.0 words; without ``corrupt``, only well-formed ones inside SENSOR."""
    rng = np.random.default_rng(seed)
    bad = 0.05 if corrupt else 0.0
    width, height = SENSOR[:2]
    th = int(rng.integers(0, 1 << 28))
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.12:
            th, raw = _th(rng, th, 28, bad)
            out.append((0x8 << 28) | raw)
        elif r < 0.8:
            x = int(rng.integers(0, width + (2 if rng.random() < bad else 0)))
            y = int(rng.integers(0, height))
            out.append((int(rng.integers(0, 2)) << 28) | (int(rng.integers(0, 64)) << 22) | (x << 11) | y)
        elif r < 0.88:
            out.append((0xA << 28) | (int(rng.integers(0, 64)) << 22) | (int(rng.integers(0, 32)) << 8) | 1)
        elif r < 0.94:
            out.append((int(rng.choice([0xE, 0xF])) << 28) | int(rng.integers(0, 1 << 28)))
        elif corrupt:
            out.append((int(rng.choice([0x2, 0x5, 0xC])) << 28) | int(rng.integers(0, 1 << 28)))
    return np.array(out, dtype="<u4")


def evt3_words(seed: int, n: int, corrupt: bool = True) -> np.ndarray:
    """Random EVT 3.0 words; without ``corrupt``, only well-formed ones inside SENSOR."""
    rng = np.random.default_rng(seed)
    bad = 0.05 if corrupt else 0.0
    width, height = SENSOR[:2]
    th = int(rng.integers(0, 1 << 12))
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.06:
            th, raw = _th(rng, th, 12, bad)
            out.append((0x8 << 12) | raw)
        elif r < 0.16:
            out.append((0x6 << 12) | int(rng.integers(0, 1 << 12)))
        elif r < 0.28:
            out.append(int(rng.integers(0, height + (2 if rng.random() < bad else 0))))  # ADDR_Y
        elif r < 0.55:
            x = int(rng.integers(0, width + (2 if rng.random() < bad else 0)))
            out.append((0x2 << 12) | (int(rng.integers(0, 2)) << 11) | x)
        elif r < 0.65:
            x = int(rng.integers(0, width + (3 if rng.random() < 2 * bad else 0)))
            out.append((0x3 << 12) | (int(rng.integers(0, 2)) << 11) | x)
        elif r < 0.85:
            kind = int(rng.choice([0x4, 0x5]))
            out.append((kind << 12) | int(rng.integers(0, 1 << (12 if kind == 0x4 else 8))))
        elif r < 0.9:
            out.append((0xA << 12) | int(rng.integers(0, 1 << 12)))
        elif r < 0.95:
            out.append((int(rng.choice([0x7, 0xE, 0xF])) << 12) | int(rng.integers(0, 1 << 12)))
        elif corrupt:
            out.append((int(rng.choice([0x1, 0x9, 0xB, 0xC])) << 12) | int(rng.integers(0, 1 << 12)))
    return np.array(out, dtype="<u2")


class Ready:
    """A pool whose worker runs each job at once: the split path."""

    def submit(self, fn):
        future = Future()
        future.set_result(fn())
        return future


class Busy:
    """A pool whose worker never starts: the calling thread cancels it and decodes on itself."""

    def submit(self, fn):
        return Future()


def _decode(module, words: np.ndarray, strict: bool, split: int | None, pool=None):
    """``(events, triggers, counts, state, error message)`` of a serial or split decode."""
    header = FileHeader(module.NAME, DATA_OFFSET, SENSOR, "argument")
    dec = W.WordDecoder(module.LAYOUT, Path("stream.raw"), header, strict)
    kept, W._POOL = W._POOL, pool
    try:
        events, triggers = dec.decode(words) if split is None else dec.decode_split(words, split)
    except FormatError as err:
        return None, None, dec.report.counts.tolist(), None, str(err)
    finally:
        W._POOL = kept
    return events, triggers, dec.report.counts.tolist(), dec.state.tolist(), None


def _check_split(module, words: np.ndarray, split: int, strict: bool) -> None:
    want = _decode(module, words, strict, None)
    for pool in (Ready(), Busy(), W._pool()):  # (the last: the real worker thread)
        got = _decode(module, words, strict, split, pool)
        assert got[4] == want[4]
        assert got[2] == want[2]
        if want[4] is None:
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
            assert got[3] == want[3]


@settings(max_examples=150, deadline=None)
@given(
    module=st.sampled_from([evt2, evt3]),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    where=st.floats(0, 1),
    strict=st.booleans(),
    corrupt=st.booleans(),
)
def test_split_decode_equals_serial(module, seed, n, where, strict, corrupt):
    # (strict reads of a corrupt stream stop early: clean streams test them over the whole stream)
    words = (evt2_words if module is evt2 else evt3_words)(seed, n, corrupt)
    _check_split(module, words, int(where * len(words)), strict)


@pytest.mark.parametrize("module", [evt2, evt3])
def test_split_decode_at_every_word_of_a_short_stream(module):
    words = (evt2_words if module is evt2 else evt3_words)(7, 120)
    for split in range(len(words) + 1):
        for strict in (False, True):
            _check_split(module, words, split, strict)


def test_split_decode_refills_serially_when_a_part_has_more_events_than_words():
    # EVT3 vectors yield up to 12 events a word: a part that overflows its room is decoded again
    row = [0x8 << 12, 0x6 << 12, 5, (0x3 << 12) | 0, (0x4 << 12) | 0xFFF, (0x4 << 12) | 0xFFF]
    words = np.array(row * 50, dtype="<u2")
    _check_split(evt3, words, 10, True)
    _check_split(evt3, words, 290, True)


@pytest.mark.parametrize(("name", "module"), [("evt2", evt2), ("evt3", evt3)])
def test_whole_file_reads_split_the_real_samples(name, module, monkeypatch, sample):
    path = sample(name)
    calls = []
    real = W.WordDecoder.decode_split

    def spy(self, words, split, fill=None):
        calls.append(split)
        return real(self, words, split, fill)

    monkeypatch.setattr(W, "usable_cores", lambda: 2)
    monkeypatch.setattr(W, "_idle_core", lambda: True)
    monkeypatch.setattr(W.WordDecoder, "decode_split", spy)
    read_events(path)
    assert not calls, "a whole-file read of a file under split_min_words split"
    monkeypatch.setattr(module, "LAYOUT", dataclasses.replace(module.LAYOUT, split_min_words=1))
    monkeypatch.setattr(W, "_idle_core", lambda: False)
    busy = read_events(path).events
    assert not calls, "a whole-file read split while every core was busy"
    monkeypatch.setattr(W, "_idle_core", lambda: True)
    split = read_events(path).events
    assert calls, "the whole-file read of the sample was not split"
    np.testing.assert_array_equal(busy, split)
    monkeypatch.setattr(W, "usable_cores", lambda: 1)
    serial = read_events(path).events
    np.testing.assert_array_equal(split, serial)
    header = module.probe(path)
    raw = np.fromfile(path, np.uint8)[header.data_offset :]
    words = raw[: len(raw) - len(raw) % module.LAYOUT.word_bytes].view(module.LAYOUT.dtype)
    for where in (1, len(words) // 3, len(words) - 1):
        dec = W.WordDecoder(module.LAYOUT, path, header, True)
        events, _ = dec.decode_split(words, where)
        np.testing.assert_array_equal(events, serial)


def test_evt2_split_decodes_on_serially_when_the_presumed_time_base_is_wrong(monkeypatch):
    # the EVT2 pre-scan presumes (raw, raw) of the last TIME_HIGH before the split: wrong after a
    # counter wrap or after a TIME_HIGH that stepped back; the worker's part is then discarded
    def cd(x: int) -> int:
        return (1 << 28) | (5 << 22) | (x << 11) | 3

    def th(raw: int) -> int:
        return (0x8 << 28) | raw

    wrap = np.array([th((1 << 28) - 2), cd(1), th(1), cd(2), cd(3), th(2), cd(4)], "<u4")
    back = np.array([th(100), cd(1), th(99), cd(2), cd(3), th(101), cd(4)], "<u4")
    clean = np.array([th(100), cd(1), th(101), cd(2), cd(3), th(102), cd(4)], "<u4")
    calls = []
    real = W.WordDecoder._decode_on

    def spy(self, *args):
        calls.append(args[1])
        return real(self, *args)

    monkeypatch.setattr(W.WordDecoder, "_decode_on", spy)
    for words, strict, discarded in ((wrap, True, True), (back, False, True), (clean, True, False)):
        calls.clear()
        want = _decode(evt2, words, strict, None)
        got = _decode(evt2, words, strict, 4, Ready())
        assert got[2:] == want[2:]
        np.testing.assert_array_equal(got[0], want[0])
        assert calls == ([4] if discarded else [])


def test_idle_core_counts_runnable_tasks_and_assumes_idle_where_it_cannot_tell(monkeypatch):
    monkeypatch.setattr(W, "usable_cores", lambda: 64)
    assert W._idle_core() is True or not Path("/proc/loadavg").exists()
    monkeypatch.setattr(W, "usable_cores", lambda: 1)
    assert W._idle_core() is False or not Path("/proc/loadavg").exists()  # (this thread is runnable)

    def no_proc(*args):
        raise FileNotFoundError("/proc/loadavg")

    monkeypatch.setattr(W.os, "open", no_proc)
    assert W._idle_core() is True


def test_a_file_that_shrinks_while_a_split_read_reads_it_is_read_again_serially(monkeypatch, sample):
    # the split read starts the worker, then reads as many bytes as the file's size said
    path = sample("evt2")
    want = read_events(path).events
    real = W.os.fstat

    class Grown:
        def __init__(self, st):
            self.st_size = st.st_size + 4096

    monkeypatch.setattr(W, "usable_cores", lambda: 2)
    monkeypatch.setattr(W, "_idle_core", lambda: True)
    monkeypatch.setattr(evt2, "LAYOUT", dataclasses.replace(evt2.LAYOUT, split_min_words=1))
    monkeypatch.setattr(W.os, "fstat", lambda fd: Grown(real(fd)))
    calls = []
    real_split = W.WordDecoder.decode_split

    def spy(self, words, split, fill=None):
        calls.append(split)
        return real_split(self, words, split, fill)

    monkeypatch.setattr(W.WordDecoder, "decode_split", spy)
    np.testing.assert_array_equal(read_events(path).events, want)
    assert calls, "the read was not split"


def test_a_failed_fill_releases_the_worker():
    words = evt2_words(3, 200, corrupt=False)
    header = FileHeader(evt2.NAME, DATA_OFFSET, SENSOR, "argument")
    dec = W.WordDecoder(evt2.LAYOUT, Path("stream.raw"), header, False)

    def fill():
        raise W._ShortRead

    with pytest.raises(W._ShortRead):
        dec.decode_split(words, 100, fill)
    dec = W.WordDecoder(evt2.LAYOUT, Path("stream.raw"), header, False)
    events, _ = dec.decode_split(words, 100)  # (the worker is free again: this read does not hang)
    np.testing.assert_array_equal(events, _decode(evt2, words, False, None)[0])
