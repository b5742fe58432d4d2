"""Conformance on the real samples: expelliarmus (x, y, p; t for EVT2/DAT), aedat, tonic, the spec."""

from __future__ import annotations

import numpy as np
import pytest
from _event_spec import as_tuples, spec_evt3

from neurosig.io.events import info, iter_events, read_events, read_triggers, sniff

pytestmark = pytest.mark.shared_data


def _expelliarmus(path, encoding: str) -> np.ndarray:
    wizard = pytest.importorskip("expelliarmus").Wizard(encoding=encoding)
    return wizard.read(path)


@pytest.mark.parametrize("fmt, encoding", [("evt2", "EVT2"), ("evt3", "EVT3"), ("dat", "DAT")])
def test_xyp_equal_expelliarmus(sample, fmt, encoding):
    path = sample(fmt)
    ours = read_events(path).events
    ref = _expelliarmus(path, encoding)
    assert len(ours) == len(ref) > 0
    for field in "xyp":
        np.testing.assert_array_equal(ours[field].astype(int), ref[field].astype(int), err_msg=field)
    if fmt != "evt3":  # expelliarmus's EVT3 timestamps carry its TIME_LOW wrap bug
        np.testing.assert_array_equal(ours["t"], ref["t"])


def test_evt3_timestamps_follow_the_spec(sample):
    path = sample("evt3")
    ours = read_events(path).events
    header_end = 166  # the sample's 7 header lines
    words = np.fromfile(path, "<u2", offset=header_end)
    spec_events, spec_triggers = spec_evt3(words)
    assert as_tuples(ours) == spec_events
    assert not spec_triggers and not len(read_triggers(path))
    t = ours["t"]
    assert np.all(np.diff(t) >= 0), "spec-decoded EVT3 timestamps are monotonic"
    assert t[-1] - t[0] == 8801  # ≈ 8.8 ms; expelliarmus reports 53.9 ms (its TIME_LOW wrap bug)
    assert len(np.unique(t >> 12)) == 3  # TIME_HIGH takes 3 values: the span is under 12.3 ms
    expelliarmus_t = _expelliarmus(path, "EVT3")["t"]
    assert expelliarmus_t[-1] - expelliarmus_t[0] > 50_000  # documents the bug we do not follow


def test_aedat4_equals_aedat_package(sample):
    aedat = pytest.importorskip("aedat")
    path = sample("aedat4")
    chunk = read_events(path)
    packets = [p["events"] for p in aedat.Decoder(path) if "events" in p]
    ref = np.concatenate(packets)
    np.testing.assert_array_equal(chunk.events["t"], ref["t"].astype(np.int64))
    np.testing.assert_array_equal(chunk.events["x"], ref["x"])
    np.testing.assert_array_equal(chunk.events["y"], ref["y"])
    np.testing.assert_array_equal(chunk.events["p"], ref["on"].astype(np.int8))
    assert chunk.info.sensor_size == (320, 240, 2)


def test_nmnist_equals_tonic(sample):
    tonic_io = pytest.importorskip("tonic.io")
    path = sample("nmnist")
    ours = read_events(path)
    ref = tonic_io.read_mnist_file(str(path), dtype=tonic_io.events_struct)
    assert len(ours) == len(ref) == 4325
    for field in "txy":
        np.testing.assert_array_equal(ours.events[field].astype(int), ref[field].astype(int), err_msg=field)
    np.testing.assert_array_equal(ours.events["p"].astype(bool), ref["p"])
    assert ours.info.sensor_size == (34, 34, 2)


@pytest.mark.parametrize("fmt", ["evt2", "evt3", "dat", "aedat4", "nmnist"])
def test_chunked_reading_equals_whole(sample, fmt):
    path = sample(fmt)
    whole = read_events(path).events
    for kwargs in ({"n_events": 7777, "block_bytes": 4096}, {"duration": 0.003, "block_bytes": 10_000}):
        chunks = list(iter_events(path, **kwargs))
        np.testing.assert_array_equal(np.concatenate([c.events for c in chunks]), whole)
    counts = [len(c) for c in iter_events(path, n_events=1000, block_bytes=5000)]
    assert set(counts[:-1]) == {1000}


def test_sniff_and_info_of_samples(sample):
    assert sniff(sample("evt2")) == "evt2"
    assert sniff(sample("evt3")) == "evt3"
    assert sniff(sample("dat")) == "dat"
    assert sniff(sample("aedat4")) == "aedat4"
    assert sniff(sample("nmnist")) == "nmnist"
    d = info(sample("evt2"))
    assert d["format"] == "evt2" and d["sensor_size"] == [640, 480, 2] and d["sensor_from"] == "camera model"
    assert d["n_events"] == 539_481 and d["t_max_us"] - d["t_min_us"] == 50_000
    assert d["polarity"]["on"] + d["polarity"]["off"] == d["n_events"]
    assert d["time_sorted"] is True and d["skipped"] == {}
    d3 = info(sample("evt3"))
    assert d3["sensor_size"] == [1280, 720, 2] and d3["n_events"] == 219_596
    assert d3["duration_s"] == pytest.approx(8801e-6)
