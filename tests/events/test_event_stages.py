"""Event stages: streaming invariance over random chunk boundaries, equality with the pure functions,
bad input; the tonic-style transforms and the simple functional filters."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _event_helpers import random_events
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import EVENTS_DTYPE, EventChunk, EventInfo, SignalChunk, SignalInfo, concat_chunks
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.registry import resolve
from neurosig.events import functional as F
from neurosig.events import transforms as TR
from neurosig.kernels import event_filters as EF
from neurosig.kernels import event_repr as ER
from neurosig.testing import check_streaming_invariance, run_stage

SIZE = (12, 9, 2)
W, H, P = SIZE

#: Example parameters per registered stage, and the function of the whole stream it must equal.
CASES = {
    "denoise": ({"filter_time": 3_000}, lambda ev: EF.denoise(ev, SIZE, 3_000, 8)),
    "refractory": ({"period": 2_000}, lambda ev: EF.refractory_period(ev, SIZE, 2_000)),
    "hot_pixels": (
        {"calibration": 20_000, "max_rate": 150.0},
        lambda ev: F.remove_hot_pixels(ev, SIZE, 20_000, 150.0),
    ),
    "crop": ({"x0": 2, "y0": 1, "width": 7, "height": 6}, lambda ev: F.crop(ev, SIZE, 2, 1, 7, 6)),
    "downsample": ({"spatial_factor": 3, "time_resolution": 500}, lambda ev: F.downsample(ev, SIZE, 3, 500)),
    "merge_polarity": ({}, lambda ev: F.merge_polarity(ev, SIZE)),
    "time_slice": ({"t_start": 10_000, "t_stop": 40_000}, lambda ev: F.time_slice(ev, 10_000, 40_000)),
    "to_frames": ({"time_window": 4_000}, lambda ev: ER.to_frame(ev, SIZE, time_window=4_000)),
    "to_spikes": ({"dt": 3_000}, lambda ev: ER.to_spikes(ev, SIZE, 3_000)),
    "to_voxel_grid": ({"n_time_bins": 5}, lambda ev: ER.to_voxel_grid(ev, SIZE, 5)),
    "to_time_surface": (
        {"dt": 4_000, "tau": 3_000.0},
        lambda ev: ER.to_time_surface(ev, SIZE, 4_000, 3_000.0),
    ),
    "to_local_time_surface": (
        {"radius": 2, "tau": 3_000.0},
        lambda ev: ER.to_local_time_surfaces(ev, SIZE, 2, 3_000.0),
    ),
}
EXTRA_FRAMES = [
    {"event_count": 37},
    {"event_count": 37, "include_incomplete": False},
    {"time_window": 4_000, "include_incomplete": False},
    {"n_time_bins": 6},
    {"n_event_bins": 6},
]


def _payload(out):
    joined = concat_chunks(out)
    return joined.events if isinstance(joined, EventChunk) else joined.data


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 400), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_streaming_invariance_and_equality_with_the_function(name, seed, n, cuts):
    params, function = CASES[name]
    cls = resolve("stage", name)
    chunk = EventChunk(random_events(seed, n, SIZE), EventInfo(SIZE))
    check_streaming_invariance(lambda: cls(**params), chunk, cuts)
    out = run_stage(cls(**params), [chunk])
    want = function(chunk.events)
    if not out:  # a representation with no finished frame
        assert len(want) == 0
        return
    if not isinstance(out[0], EventChunk):
        want = want.reshape(len(want), -1)
    got = _payload(out)
    assert got.shape == want.shape
    if got.dtype.names:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("params", EXTRA_FRAMES)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 300), cuts=st.lists(st.integers(0, 300), max_size=6))
def test_frame_modes_stream(params, seed, n, cuts):
    cls = resolve("stage", "to_frames")
    chunk = EventChunk(random_events(seed, n, SIZE), EventInfo(SIZE))
    check_streaming_invariance(lambda: cls(**params), chunk, cuts)
    out = run_stage(cls(**params), [chunk])
    want = ER.to_frame(chunk.events, SIZE, **params)
    got = concat_chunks(out).data if out else np.zeros((0, W * H * P))
    np.testing.assert_array_equal(got, want.reshape(len(want), W * H * P))


def test_spike_chunks_carry_frame_index_and_dt():
    chunk = EventChunk(random_events(0, 500, SIZE), EventInfo(SIZE))
    stage = resolve("stage", "to_frames")(time_window=4_000)
    pieces = [EventChunk(chunk.events[a : a + 100], chunk.info) for a in range(0, 500, 100)]
    out = run_stage(stage, pieces)
    starts = np.cumsum([0] + [c.n_steps for c in out[:-1]])
    assert [c.start for c in out] == list(starts)
    assert all(c.info.dt == pytest.approx(4e-3) and c.info.n_units == W * H * P for c in out)


def test_filters_update_sensor_size():
    chunk = EventChunk(random_events(1, 100, SIZE), EventInfo(SIZE))
    assert run_stage(resolve("stage", "crop")(x0=1, y0=2, width=5, height=4), [chunk])[
        0
    ].info.sensor_size == (5, 4, 2)
    assert run_stage(resolve("stage", "downsample")(spatial_factor=5), [chunk])[0].info.sensor_size == (
        3,
        2,
        2,
    )
    assert run_stage(resolve("stage", "merge_polarity")(), [chunk])[0].info.sensor_size == (12, 9, 1)


def test_chunks_out_of_order_raise():
    ev = random_events(2, 200, SIZE)
    stage = resolve("stage", "denoise")()
    stage.reset()
    list(stage.process(EventChunk(ev[100:], EventInfo(SIZE))))
    with pytest.raises(DataError, match="previous chunk"):
        list(stage.process(EventChunk(ev[:100], EventInfo(SIZE))))


def test_bad_parameters_and_inputs():
    with pytest.raises(ConfigError, match="neighbours"):
        resolve("stage", "denoise")(neighbours=6)
    with pytest.raises(ConfigError, match="filter_time"):
        resolve("stage", "denoise")(filter_time=0)
    with pytest.raises(ConfigError, match="Did you mean .dt."):
        resolve("stage", "to_spikes")(dtt=3)
    chunk = EventChunk(random_events(3, 50, SIZE), EventInfo(SIZE))
    with pytest.raises(ConfigError, match="exactly one"):
        run_stage(resolve("stage", "to_frames")(), [chunk])
    with pytest.raises(DataError, match="does not fit"):
        run_stage(resolve("stage", "crop")(x0=10, y0=0, width=5, height=5), [chunk])
    signal = SignalChunk(np.zeros((1, 4), dtype=np.float32), SignalInfo(100.0, ("a",)))
    with pytest.raises(DataError, match="takes EventChunk"):
        list(resolve("stage", "refractory")().process(signal))
    outside = random_events(4, 50, (20, 9, 2))
    outside["x"][-1] = 15
    with pytest.raises(DataError, match="outside the sensor_size"):
        run_stage(resolve("stage", "to_time_surface")(), [EventChunk(outside, EventInfo(SIZE))])
    with pytest.raises(DataError, match="outside the sensor_size"):
        run_stage(resolve("stage", "to_local_time_surface")(), [EventChunk(outside, EventInfo(SIZE))])
    with pytest.raises(ConfigError, match="radius"):
        resolve("stage", "to_local_time_surface")(radius=-1)


def test_empty_stream_and_single_event():
    empty = EventChunk(np.zeros(0, dtype=EVENTS_DTYPE), EventInfo(SIZE))
    assert all(len(c) == 0 for c in run_stage(resolve("stage", "denoise")(), [empty]))
    frames = run_stage(resolve("stage", "to_frames")(n_time_bins=3), [empty])
    assert frames[0].data.shape == (3, W * H * P) and frames[0].data.sum() == 0
    assert run_stage(resolve("stage", "to_time_surface")(), [empty]) == []
    assert run_stage(resolve("stage", "to_local_time_surface")(), [empty]) == []
    one = EventChunk(random_events(5, 1, SIZE), EventInfo(SIZE))
    spikes = run_stage(resolve("stage", "to_spikes")(dt=1_000), [one])
    assert spikes[0].data.shape == (1, W * H * P) and spikes[0].data.sum() == 1
    (patch,) = run_stage(resolve("stage", "to_local_time_surface")(radius=1), [one])
    e = one.events[0]
    assert patch.data.shape == (1, P * 9) and patch.data.sum() == 1.0
    assert patch.data[0].reshape(P, 3, 3)[e["p"], 1, 1] == 1.0


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_sensor_size_change_within_a_stream_is_refused(name):
    # The stages size their per-pixel state by the first chunk's sensor; a later chunk of another
    # sensor is another stream. After a reset the new sensor is fine.
    params, _ = CASES[name]
    stage = resolve("stage", name)(**params)
    ev = random_events(3, 40, SIZE)
    first = EventChunk(ev[:20], EventInfo(SIZE))
    other = EventChunk(ev[20:], EventInfo((W + 1, H, P)))
    with pytest.raises(DataError, match=f"{name}: sensor_size changed within the stream"):
        run_stage(stage, [first, other])
    run_stage(stage, [other])  # run_stage resets the stage first


def test_local_time_surface_chunks_count_events_and_carry_memory():
    ev = random_events(9, 300, SIZE)
    ev["x"][69], ev["y"][69], ev["p"][69] = 4, 4, 1
    ev["x"][70], ev["y"][70], ev["p"][70] = 5, 4, 1  # the left neighbour fired in the chunk before
    stage = resolve("stage", "to_local_time_surface")(radius=1, tau=2_000.0)
    pieces = [EventChunk(ev[a : a + 70], EventInfo(SIZE)) for a in range(0, 300, 70)]
    out = run_stage(stage, [*pieces[:2], EventChunk(ev[:0], EventInfo(SIZE)), *pieces[2:]])
    assert [c.start for c in out] == [0, 70, 140, 210, 280]
    assert all(c.info.shape == (P, 3, 3) and c.info.dt == 0.0 and c.data.dtype == np.float32 for c in out)
    first = out[1].data[0].reshape(P, 3, 3)
    want = np.float32(np.exp(-(int(ev["t"][70]) - int(ev["t"][69])) / 2_000.0))
    assert first[1, 1, 1] == 1.0 and first[1, 1, 0] == want > 0
    np.testing.assert_array_equal(first, ER.to_local_time_surfaces(ev[:71], SIZE, 1, 2_000.0)[-1])


def test_hot_pixels_are_found_and_removed():
    ev = random_events(6, 2_000, SIZE, t_max=100_000)
    hot = np.zeros(3_000, dtype=EVENTS_DTYPE)
    hot["t"] = np.linspace(0, 99_999, 3_000).astype(np.int64)
    hot["x"], hot["y"] = 4, 7
    both = np.sort(np.concatenate([ev, hot]), order="t", kind="stable")
    mask = F.hot_pixel_mask(both, SIZE, 50_000, max_rate=5_000.0)  # the hot pixel fires at 30 kHz
    assert mask[7, 4] and mask.sum() == 1
    kept = F.remove_hot_pixels(both, SIZE, 50_000, 5_000.0)
    assert not ((kept["x"] == 4) & (kept["y"] == 7)).any()
    assert len(kept) == len(both) - ((both["x"] == 4) & (both["y"] == 7)).sum()


def test_functional_filters_against_direct_definitions():
    ev = random_events(7, 500, SIZE)
    c = F.crop(ev, SIZE, 3, 2, 5, 4)
    inside = ev[(ev["x"] >= 3) & (ev["x"] < 8) & (ev["y"] >= 2) & (ev["y"] < 6)]
    np.testing.assert_array_equal(c["x"], inside["x"] - 3)
    np.testing.assert_array_equal(c["y"], inside["y"] - 2)
    d = F.downsample(ev, SIZE, 4, 1_000)
    np.testing.assert_array_equal(d["x"], ev["x"] // 4)
    np.testing.assert_array_equal(d["t"], ev["t"] // 1_000 * 1_000)
    s = F.time_slice(ev, 5_000, 9_000)
    np.testing.assert_array_equal(s, ev[(ev["t"] >= 5_000) & (ev["t"] < 9_000)])
    with pytest.raises(ConfigError):
        F.time_slice(ev, 10, 10)
    with pytest.raises(ConfigError):
        F.downsample(ev, SIZE, 0)


def test_transforms_are_frozen_and_delegate():
    ev = random_events(8, 300, SIZE)
    pairs = [
        (TR.Denoise(SIZE, 2_000, 4), EF.denoise(ev, SIZE, 2_000, 4)),
        (TR.RefractoryPeriod(SIZE, 500), EF.refractory_period(ev, SIZE, 500)),
        (TR.HotPixels(SIZE, 10_000, 100.0), F.remove_hot_pixels(ev, SIZE, 10_000, 100.0)),
        (TR.Crop(SIZE, 1, 1, 4, 4), F.crop(ev, SIZE, 1, 1, 4, 4)),
        (TR.Downsample(SIZE, 2, 10), F.downsample(ev, SIZE, 2, 10)),
        (TR.MergePolarity(SIZE), F.merge_polarity(ev, SIZE)),
        (TR.TimeSlice(0, 5_000), F.time_slice(ev, 0, 5_000)),
        (TR.ToFrame(SIZE, n_time_bins=4), ER.to_frame(ev, SIZE, n_time_bins=4)),
        (TR.ToHistogram(SIZE), ER.to_histogram(ev, SIZE)),
        (TR.ToVoxelGrid(SIZE, 6), ER.to_voxel_grid(ev, SIZE, 6)),
        (TR.ToTimeSurface(SIZE, 2_000, 1_000.0), ER.to_time_surface(ev, SIZE, 2_000, 1_000.0)),
        (TR.ToLocalTimeSurfaces(SIZE, 2, 1_000.0), ER.to_local_time_surfaces(ev, SIZE, 2, 1_000.0)),
        (TR.ToSpikes(SIZE, 1_000), ER.to_spikes(ev, SIZE, 1_000)),
    ]
    for transform, want in pairs:
        np.testing.assert_array_equal(transform(ev), want, err_msg=repr(transform))
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(transform, dataclasses.fields(transform)[0].name, None)
    assert (
        repr(TR.Denoise(SIZE, 2_000, 4)) == "Denoise(sensor_size=(12, 9, 2), filter_time=2000, neighbours=4)"
    )
