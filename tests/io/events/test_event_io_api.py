"""The public API: tonic interop, the pipeline source, seeking, time windows, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from _event_streams import random_events

from neurosig.core.chunks import EVENTS_DTYPE, EventChunk, EventInfo
from neurosig.core.config import build_pipeline
from neurosig.core.errors import ConfigError, DataError
from neurosig.io.events import (
    TONIC_DTYPE,
    EventFileSource,
    as_events,
    convert,
    evt3,
    iter_events,
    read_events,
    to_tonic,
    write_events,
)
from neurosig.io.hdf5 import HDF5Source


@pytest.fixture
def stream(tmp_path):
    events = random_events(np.random.default_rng(0), 20_000, 640, 480, 40)
    return write_events(tmp_path / "s.raw", events, "evt2", sensor_size=(640, 480, 2)), events


def test_as_events_is_zero_copy_for_the_suite_layout_and_converts_tonic():
    events = random_events(np.random.default_rng(1), 100, 34, 34, 5)
    assert as_events(events) is events
    assert as_events(EventChunk(events, EventInfo((34, 34, 2)))) is events
    tonic_events = to_tonic(events)
    assert tonic_events.dtype == TONIC_DTYPE
    back = as_events(tonic_events)
    np.testing.assert_array_equal(back, events)
    with pytest.raises(DataError, match="fields t"):
        as_events(np.zeros(3, [("t", "<i8"), ("x", "<u2")]))
    with pytest.raises(DataError, match="'p' must be 0/1"):
        as_events(np.array([(1, 2, 3, -1)], [("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i2")]))


def test_tonic_transforms_accept_our_events(stream):
    transforms = pytest.importorskip("tonic.transforms")
    path, events = stream
    chunk = read_events(path)
    frames = transforms.ToFrame(sensor_size=chunk.info.sensor_size, n_event_bins=1)(to_tonic(chunk))
    assert frames.shape == (1, 2, 480, 640)  # (T, P, H, W): tonic read our (W, H, P) sensor size
    expected = np.zeros((2, 480, 640), int)
    np.add.at(expected, (events["p"], events["y"], events["x"]), 1)
    np.testing.assert_array_equal(frames[0], expected)


def test_seek_and_time_windows(stream):
    path, events = stream
    start_us = int(events["t"][len(events) // 2])
    first = next(iter_events(path, start=start_us / 1e6, n_events=10))
    idx = int(np.searchsorted(events["t"], start_us))
    np.testing.assert_array_equal(first.events, events[idx : idx + 10])
    windows = list(iter_events(path, duration=0.05, block_bytes=4096))
    t0 = int(events["t"][0])
    for w in windows:
        k = (w.events["t"] - t0) // 50_000
        assert len(np.unique(k)) == 1, "every chunk lies in one 50 ms window"
    np.testing.assert_array_equal(np.concatenate([w.events for w in windows]), events)
    with pytest.raises(ConfigError, match="at most one of"):
        next(iter_events(path, n_events=5, duration=1.0))


def test_event_file_source_in_a_yaml_pipeline(stream, tmp_path):
    path, events = stream
    config = {
        "name": "events-to-h5",
        "source": {"type": "events", "path": str(path), "n_events": 3000},
        "sink": {"type": "hdf5", "path": str(tmp_path / "out.h5")},
    }
    summary = build_pipeline(config).run()
    assert summary.chunks_in == 7
    stored = np.concatenate([c.events for c in HDF5Source(str(tmp_path / "out.h5"))])
    np.testing.assert_array_equal(stored, events)
    source = EventFileSource(str(path), duration=0.01)
    assert source.describe()["format"] == "evt2" and len(source.describe()["sha256"]) == 64
    with pytest.raises(ConfigError, match="n_events"):
        EventFileSource(str(path), n_events=0)


def test_chunked_reading_has_bounded_memory(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "long.raw"
    # 2 M events (26 MB decoded) written in pieces
    with evt3.writer(path, (1280, 720, 2)) as w:
        for k in range(10):
            piece = random_events(rng, 200_000, 1280, 720, 3)
            piece["t"] += k * 10**6
            w.write(piece)
    next(iter_events(path, n_events=10))  # compile or load the kernels outside the measurement
    tracemalloc.start()
    n = 0
    for chunk in iter_events(path, n_events=50_000, block_bytes=1 << 19):
        n += len(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 2_000_000
    # about two decoded blocks (512 KiB of words each) and one chunk, whatever the file's length
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB for a 26 MB stream read in chunks"


def test_write_events_validates_input(tmp_path):
    events = random_events(np.random.default_rng(3), 10, 64, 64, 5)
    with pytest.raises(ConfigError, match="suffix"):
        write_events(tmp_path / "x.txt", events)
    with pytest.raises(DataError, match="sort"):
        write_events(tmp_path / "x.raw", events[::-1].copy(), sensor_size=(64, 64, 2))
    with pytest.raises(DataError, match="outside the sensor"):
        write_events(tmp_path / "x.raw", events, sensor_size=(8, 8, 2))
    path = write_events(tmp_path / "x.raw", events)
    with pytest.raises(ConfigError, match="overwrite=True"):
        write_events(path, events)
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.neurosig-lock"))
    assert read_events(path).info.sensor_size == (int(events["x"].max()) + 1, int(events["y"].max()) + 1, 2)
    summary = convert(path, tmp_path / "x.h5")
    assert summary["dst_format"] == "hdf5" and summary["n_events"] == 10
    assert read_events(tmp_path / "x.h5").events.dtype == EVENTS_DTYPE
