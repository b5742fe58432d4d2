"""The decoders' vector blocks: EVT 2.0 CD words and EVT 3.0 ADDR_X runs, 8 words at a time.

:func:`neurosig.kernels.event_decoders._cd_block` must write exactly the records the spec gives, and
nothing at all when any of the 8 words is not an in-sensor CD event; whole streams of long CD runs
broken by every other kind of word must decode as the spec says, in strict and lenient mode.
:func:`~neurosig.kernels.event_decoders._x_block` must find the run of in-sensor ADDR_X words that
starts its 8 words and write those records and no other byte; EVT 3.0 streams of ADDR_X runs of any
length broken by every other kind of word must decode as the spec says.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.errors import FormatError
from neurosig.dtypes import EVENTS_DTYPE
from neurosig.io.events import _words as W
from neurosig.io.events import evt2, evt3
from neurosig.io.events._common import FileHeader
from neurosig.kernels import event_decoders as k

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io" / "events"))
from _event_spec import as_tuples, spec_evt2, spec_evt3  # noqa: E402

WIDTH, HEIGHT = 40, 30


@numba.njit  # (not cached: a cached wrapper would keep an old _cd_block after an edit)
def _block(words, i, ev, n, base, width, height):
    return k._cd_block(words, np.uint64(i), ev, np.uint64(n), base, width, height)


@numba.njit  # (not cached, as above)
def _run_block(words, i, ev, n, t, y, width):
    return k._x_block(words, np.uint64(i), ev, np.uint64(n), t, y, width)


def _cd(x: int, y: int, p: int = 1, low: int = 5) -> int:
    return (p << 28) | (low << 22) | (x << 11) | y


in_sensor_cd = st.builds(
    _cd, st.integers(0, WIDTH - 1), st.integers(0, HEIGHT - 1), st.integers(0, 1), st.integers(0, 63)
)

#: Any other word: CD outside the sensor (just outside, too), TIME_HIGH, trigger, vendor, corrupt.
other_word = st.one_of(
    st.builds(_cd, st.integers(WIDTH, 2047) | st.just(WIDTH), st.integers(0, HEIGHT - 1)),
    st.builds(_cd, st.integers(0, WIDTH - 1), st.integers(HEIGHT, 2047) | st.just(HEIGHT)),
    st.integers(0, (1 << 28) - 1).map(lambda raw: (0x8 << 28) | raw),
    st.integers(0, (1 << 28) - 1).map(lambda raw: (0xA << 28) | raw),
    st.sampled_from([0xE, 0xF, 0x2, 0x5, 0xC]).map(lambda kind: kind << 28),
)


def test_the_block_assumes_the_suites_record_layout():
    assert k._VECTOR_RECORDS == (sys.byteorder == "little"), (
        "EVENTS_DTYPE changed: _cd_block writes 13-byte records"
    )
    assert EVENTS_DTYPE.itemsize == 13


@settings(max_examples=300, deadline=None)
@given(
    cds=st.lists(in_sensor_cd, min_size=8, max_size=8),
    others=st.lists(st.tuples(st.integers(0, 7), other_word), max_size=2),
    n=st.integers(0, 5),
    high=st.integers(0, (1 << 28) - 1),
)
def test_cd_block_writes_the_spec_records_or_nothing(cds, others, n, high):
    words = list(cds)
    for at, word in others:  # (half the examples keep all 8 in-sensor CD words)
        words[at] = word
    arr = np.array(words, "<u4")
    ev = np.zeros(n + 12, EVENTS_DTYPE)
    ev["t"] = -7  # a sentinel in every record, to see what is written
    before = ev.copy()
    done = _block(arr, 0, ev, n, high << 6, WIDTH, HEIGHT)
    inside = all(w >> 28 <= 1 and (w >> 11) & 0x7FF < WIDTH and w & 0x7FF < HEIGHT for w in words)
    assert done == inside
    if not inside:
        np.testing.assert_array_equal(ev, before)
        return
    spec, _ = spec_evt2(np.concatenate([np.array([(0x8 << 28) | high], "<u4"), arr]))
    assert as_tuples(ev[n : n + 8]) == spec
    np.testing.assert_array_equal(ev[:n], before[:n])
    # the last record's store spills 3 bytes into the next record, and no further
    raw, raw_before = ev.view(np.uint8), before.view(np.uint8)
    np.testing.assert_array_equal(raw[13 * (n + 8) + 3 :], raw_before[13 * (n + 8) + 3 :])


def _stream(rng: np.random.Generator, n_runs: int, corrupt: bool) -> tuple[np.ndarray, np.ndarray]:
    """Runs of 0-40 in-sensor CD words, each followed by one other word; returns the words and which
    of them a lenient decoder keeps (the rest are corrupt: out-of-sensor CD or an undefined type)."""
    words, kept = [], []
    high = int(rng.integers(0, 1 << 20))
    words.append((0x8 << 28) | high)
    kept.append(True)
    for _ in range(n_runs):
        for _ in range(int(rng.integers(0, 41))):
            x, y, p, low = (int(v) for v in rng.integers(0, (WIDTH, HEIGHT, 2, 64)))
            words.append(_cd(x, y, p, low))
            kept.append(True)
        kind = int(rng.integers(0, 5 if corrupt else 3))
        if kind == 0:
            high += int(rng.integers(0, 3))
            words.append((0x8 << 28) | high)
        elif kind == 1:
            words.append((0xA << 28) | (int(rng.integers(0, 64)) << 22) | (3 << 8) | 1)
        elif kind == 2:
            words.append(0xE << 28)
        elif kind == 3:
            words.append(_cd(WIDTH + int(rng.integers(0, 5)), 0))
        else:
            words.append(0xC << 28)
        kept.append(kind < 3)
    return np.array(words, "<u4"), np.array(kept)


def _decode(words: np.ndarray, strict: bool):
    header = FileHeader(evt2.NAME, 0, (WIDTH, HEIGHT, 2), "argument")
    dec = W.WordDecoder(evt2.LAYOUT, Path("stream.raw"), header, strict)
    return dec.decode(words), dec.report.counts


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_runs=st.integers(0, 30))
def test_long_cd_runs_between_other_words_decode_as_the_spec_says(seed, n_runs):
    words, kept = _stream(np.random.default_rng(seed), n_runs, corrupt=False)
    (events, triggers), _ = _decode(words, strict=True)
    spec_events, spec_triggers = spec_evt2(words)
    assert as_tuples(events) == spec_events
    assert len(triggers) == len(spec_triggers)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_runs=st.integers(1, 30))
def test_corrupt_words_inside_cd_runs_are_skipped_or_raised_as_one_word_at_a_time(seed, n_runs):
    words, kept = _stream(np.random.default_rng(seed), n_runs, corrupt=True)
    (events, _), counts = _decode(words, strict=False)
    assert as_tuples(events) == spec_evt2(words[kept])[0]
    assert counts[k.BAD_OUTSIDE_SENSOR] + counts[k.BAD_WORD_TYPE] == int((~kept).sum())
    if kept.all():
        return
    first_bad = int(np.flatnonzero(~kept)[0])
    with pytest.raises(FormatError) as err:
        _decode(words, strict=True)
    assert err.value.offset == 4 * first_bad


def _x(x: int, p: int = 0) -> int:
    return (0x2 << 12) | (p << 11) | x


#: EVT 3.0 words that end an ADDR_X run: ADDR_X outside the sensor, and every other type.
other_evt3_word = st.one_of(
    st.builds(_x, st.integers(WIDTH, 2047) | st.just(WIDTH), st.integers(0, 1)),
    st.sampled_from([0x0, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0xA, 0xE, 0xF, 0x1, 0xC]).map(lambda t: t << 12),
)


@settings(max_examples=300, deadline=None)
@given(
    xs=st.lists(st.builds(_x, st.integers(0, WIDTH - 1), st.integers(0, 1)), min_size=8, max_size=8),
    stop=st.one_of(st.just(None), st.tuples(st.integers(0, 7), other_evt3_word)),
    n=st.integers(0, 5),
    t=st.integers(0, 2**40),
    y=st.integers(0, HEIGHT - 1),
)
def test_x_block_writes_its_run_and_no_other_byte(xs, stop, n, t, y):
    words = list(xs)
    if stop is not None:
        words[stop[0]] = stop[1]
    run = 8 if stop is None else stop[0]
    ev = np.zeros(n + 10, EVENTS_DTYPE)
    ev["t"] = -7  # a sentinel in every record, to see what is written
    before = ev.copy()
    assert _run_block(np.array(words, "<u2"), 0, ev, n, t, y, WIDTH) == run
    expected = before.copy()
    for j, w in enumerate(words[:run]):
        expected[n + j] = (t, w & 0x7FF, y, (w >> 11) & 1)
    np.testing.assert_array_equal(ev.view(np.uint8), expected.view(np.uint8))


def _evt3_stream(rng: np.random.Generator, n_runs: int) -> np.ndarray:
    """A row and a time, then ADDR_X runs of 0-40 words, each followed by another kind of word (rows,
    times, vectors, triggers, vendor words), so that runs start at every offset of 8."""
    words = [0x8 << 12 | 5, 0x6 << 12 | 9, 0x0 << 12 | 3]
    for _ in range(n_runs):
        words += [_x(int(x), int(p)) for x, p in rng.integers(0, (WIDTH, 2), (int(rng.integers(0, 41)), 2))]
        kind = int(rng.integers(0, 6))
        if kind == 0:
            words.append(0x0 << 12 | int(rng.integers(0, HEIGHT)))
        elif kind == 1:
            words.append(0x6 << 12 | int(rng.integers(0, 4096)))
        elif kind == 2:
            words += [0x3 << 12 | int(rng.integers(0, WIDTH - 12)), 0x4 << 12 | int(rng.integers(0, 4096))]
        elif kind == 3:
            words.append(0xA << 12 | 3 << 8 | 1)
        elif kind == 4:
            words.append(0xE << 12)
        else:
            words.append(0x8 << 12 | 5)
    return np.array(words, "<u2")


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_runs=st.integers(0, 30))
def test_evt3_addr_x_runs_between_other_words_decode_as_the_spec_says(seed, n_runs):
    words = _evt3_stream(np.random.default_rng(seed), n_runs)
    header = FileHeader(evt3.NAME, 0, (WIDTH, HEIGHT, 2), "argument")
    dec = W.WordDecoder(evt3.LAYOUT, Path("stream.raw"), header, True)
    events, triggers = dec.decode(words)
    spec_events, spec_triggers = spec_evt3(words)
    assert as_tuples(events) == spec_events
    assert len(triggers) == len(spec_triggers)
