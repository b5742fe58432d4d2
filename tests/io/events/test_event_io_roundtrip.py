"""Property tests: random streams → write → read back equal, across block boundaries and wraps."""

from __future__ import annotations

import numpy as np
import pytest
from _event_spec import as_tuples, spec_evt2, spec_evt3
from _event_streams import random_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import EventChunk, EventInfo
from neurosig.io.events import (
    TRIGGER_DTYPE,
    convert,
    iter_events,
    read_events,
    read_triggers,
    write_events,
)

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# steps up to 2**25 µs cross the EVT3 24-bit wrap; 2**36 µs crosses EVT2's 2**34 µs range
streams = st.builds(
    lambda seed, n, step, dense: (seed, n, step, dense),
    st.integers(0, 2**32 - 1),
    st.integers(0, 400),
    st.sampled_from([0, 3, 5000, 2**25, 2**36]),
    st.booleans(),
)


def _make(seed: int, n: int, step: int, dense: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = random_events(rng, n, 1280, 720, step)
    if dense and n:  # groups of 8 pixels on one row, one time, one polarity: exercises VECT_12 / VECT_8
        group = np.arange(n) // 8
        n_groups = int(group[-1]) + 1 if n else 0
        ev["t"] = np.cumsum(rng.integers(0, step + 1, n_groups))[group]
        ev["y"] = rng.integers(0, 720, n_groups)[group]
        ev["p"] = rng.integers(0, 2, n_groups)[group]
        offsets = np.concatenate([np.sort(rng.choice(20, 8, replace=False)) for _ in range(n_groups)])
        ev["x"] = rng.integers(0, 1260, n_groups)[group] + offsets[:n]
    return ev


def _triggers(seed: int, events: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    n = int(rng.integers(0, 6))
    tr = np.zeros(n, TRIGGER_DTYPE)
    hi = int(events["t"][-1]) if len(events) else 1000
    tr["t"] = np.sort(rng.integers(0, hi + 1, n))
    tr["id"] = rng.integers(0, 16, n)
    tr["value"] = rng.integers(0, 2, n)
    return tr


@SETTINGS
@given(
    stream=streams,
    fmt=st.sampled_from(["evt2", "evt3"]),
    block=st.integers(1, 64),
    n_events=st.integers(1, 50),
)
def test_raw_roundtrip(tmp_path_factory, stream, fmt, block, n_events):
    events = _make(*stream)
    triggers = _triggers(stream[0], events)
    path = tmp_path_factory.mktemp("rt") / f"s.{fmt}.raw"
    write_events(path, EventChunk(events, EventInfo((1280, 720, 2))), fmt, triggers=triggers)
    back = read_events(path)
    assert back.info.sensor_size == (1280, 720, 2)
    np.testing.assert_array_equal(back.events, events)
    np.testing.assert_array_equal(read_triggers(path), triggers)
    # random block boundaries (in words) and chunk sizes give the same stream
    word = 4 if fmt == "evt2" else 2
    chunks = list(iter_events(path, n_events=n_events, block_bytes=block * word))
    joined = np.concatenate([c.events for c in chunks]) if chunks else events[:0]
    np.testing.assert_array_equal(joined, events)
    assert all(len(c) == n_events for c in chunks[:-1])


@SETTINGS
@given(stream=streams, fmt=st.sampled_from(["dat", "npy", "hdf5"]), n_events=st.integers(1, 50))
def test_store_roundtrip(tmp_path_factory, stream, fmt, n_events):
    events = _make(*stream)
    if fmt == "dat":
        events["t"] %= 2**31  # DAT stores 32-bit timestamps
        events.sort(order="t", kind="stable")
    path = tmp_path_factory.mktemp("rt") / f"s.{ {'hdf5': 'h5'}.get(fmt, fmt) }"
    write_events(path, EventChunk(events, EventInfo((1280, 720, 2))), sensor_size=(1280, 720, 2))
    back = read_events(path, sensor_size=(1280, 720, 2) if fmt == "npy" else None)
    assert back.info.sensor_size == (1280, 720, 2)
    np.testing.assert_array_equal(back.events, events)
    chunks = list(iter_events(path, n_events=n_events, block_bytes=64, sensor_size=(1280, 720, 2)))
    joined = np.concatenate([c.events for c in chunks]) if chunks else events[:0]
    np.testing.assert_array_equal(joined, events)


@SETTINGS
@given(stream=streams, fmt=st.sampled_from(["evt2", "evt3"]))
def test_kernels_match_the_spec_twins(tmp_path_factory, stream, fmt):
    events = _make(*stream)
    triggers = _triggers(stream[0], events)
    path = tmp_path_factory.mktemp("tw") / "s.raw"
    write_events(path, events, fmt, sensor_size=(1280, 720, 2), triggers=triggers)
    raw = path.read_bytes()
    words = np.frombuffer(raw[raw.index(b"% end\n") + 6 :], "<u4" if fmt == "evt2" else "<u2")
    spec_events, spec_triggers = (spec_evt2 if fmt == "evt2" else spec_evt3)(words)
    assert as_tuples(read_events(path).events) == spec_events
    assert [tuple(int(v) for v in r) for r in read_triggers(path).tolist()] == spec_triggers


def test_evt3_writer_uses_vectors_and_wraps(tmp_path):
    events = _make(7, 400, 2**25, True)
    path = write_events(tmp_path / "v.raw", events, "evt3", sensor_size=(1280, 720, 2))
    raw = path.read_bytes()
    kinds = np.frombuffer(raw[raw.index(b"% end\n") + 6 :], "<u2") >> 12
    assert {0x3, 0x4, 0x5} <= set(kinds.tolist())
    high = np.frombuffer(raw[raw.index(b"% end\n") + 6 :], "<u2")[kinds == 0x8] & 0xFFF
    assert np.any(np.diff(high.astype(int)) < -2048), "the stream crosses a 24-bit wrap"
    np.testing.assert_array_equal(read_events(path).events, events)


@pytest.mark.parametrize("dst", ["c.raw", "c.h5", "c.npy", "c.dat"])
def test_convert_streams_between_formats(tmp_path, dst):
    events = _make(3, 3000, 50, False)
    src = write_events(tmp_path / "a.raw", events, "evt2", sensor_size=(1280, 720, 2))
    summary = convert(src, tmp_path / dst)
    assert summary["n_events"] == 3000 and summary["src_format"] == "evt2"
    np.testing.assert_array_equal(read_events(tmp_path / dst, sensor_size=(1280, 720, 2)).events, events)
