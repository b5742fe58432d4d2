"""Representation kernels against slow, obviously correct twins; empty and single-event inputs."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.core.errors import ConfigError, DataError
from neurosig.kernels.event_filters import NEVER
from neurosig.kernels.event_repr import (
    accumulate_frames_by_index,
    accumulate_frames_by_time,
    accumulate_voxel_grid,
    fill_time_surfaces,
    fill_time_surfaces_from_events,
    to_frame,
    to_histogram,
    to_local_time_surfaces,
    to_spikes,
    to_time_surface,
    to_voxel_grid,
)

SIZE = (7, 5, 2)
W, H, P = SIZE


def make_events(seed: int, n: int, t_max: int = 20_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENTS_DTYPE)
    ev["t"] = np.sort(rng.integers(0, t_max, n)) + 1_000
    ev["x"] = rng.integers(0, W, n)
    ev["y"] = rng.integers(0, H, n)
    ev["p"] = rng.integers(0, P, n)
    return ev


def naive_frames(ev, bins, n_frames):
    out = np.zeros((n_frames, P, H, W), dtype=np.int64)
    for e, b in zip(ev, bins, strict=True):
        if 0 <= b < n_frames:
            out[b, e["p"], e["y"], e["x"]] += 1
    return out


def naive_voxel(ev, n_bins):
    """Zhu et al. 2019: t* = (B - 1)(t - t0)/(t_N - t0); weights max(0, 1 - |b - t*|)."""
    out = np.zeros((n_bins, 1, H, W))
    t0, t1 = int(ev["t"][0]), int(ev["t"][-1])
    for e in ev:
        ts = 0.0 if t1 == t0 else (n_bins - 1) * (int(e["t"]) - t0) / (t1 - t0)
        for b in range(n_bins):
            out[b, 0, e["y"], e["x"]] += (1 if e["p"] else -1) * max(0.0, 1 - abs(b - ts))
    return out


def naive_surface(ev, t_sample, tau):
    out = np.zeros((P, H, W))
    for e in ev[ev["t"] < t_sample]:
        out[e["p"], e["y"], e["x"]] = math.exp(-(t_sample - int(e["t"])) / tau)
    return out


events_st = st.builds(make_events, st.integers(0, 2**31), st.integers(1, 150))


@settings(max_examples=30, deadline=None)
@given(ev=events_st, window=st.integers(1, 8_000), incomplete=st.booleans())
def test_frames_by_time_window(ev, window, incomplete):
    span = (int(ev["t"][-1]) - int(ev["t"][0])) // window
    n = span + 1 if incomplete else span
    bins = [(int(t) - int(ev["t"][0])) // window for t in ev["t"]]
    np.testing.assert_array_equal(
        to_frame(ev, SIZE, time_window=window, include_incomplete=incomplete), naive_frames(ev, bins, n)
    )


@settings(max_examples=30, deadline=None)
@given(ev=events_st, count=st.integers(1, 40), incomplete=st.booleans())
def test_frames_by_event_count(ev, count, incomplete):
    n = -(-len(ev) // count) if incomplete else len(ev) // count
    bins = [i // count for i in range(len(ev))]
    np.testing.assert_array_equal(
        to_frame(ev, SIZE, event_count=count, include_incomplete=incomplete), naive_frames(ev, bins, n)
    )


@settings(max_examples=30, deadline=None)
@given(ev=events_st, n=st.integers(1, 12))
def test_frames_by_bins_keep_every_event(ev, n):
    t0, t1 = int(ev["t"][0]), int(ev["t"][-1])
    bins = [min(int((int(t) - t0) * n / (t1 - t0)), n - 1) if t1 > t0 else 0 for t in ev["t"]]
    frames = to_frame(ev, SIZE, n_time_bins=n)
    np.testing.assert_array_equal(frames, naive_frames(ev, bins, n))
    assert frames.sum() == len(ev)
    by_count = to_frame(ev, SIZE, n_event_bins=n)
    np.testing.assert_array_equal(by_count, naive_frames(ev, [i * n // len(ev) for i in range(len(ev))], n))


@settings(max_examples=30, deadline=None)
@given(ev=events_st, n=st.integers(1, 9))
def test_voxel_grid_equals_zhu(ev, n):
    np.testing.assert_allclose(to_voxel_grid(ev, SIZE, n), naive_voxel(ev, n), atol=1e-5)


def float32_voxel(ev, n_bins):
    """The voxel grid as one float32 add per event and bin, in event order: the kernel's exact sums."""
    out = np.zeros((n_bins, 1, H, W), np.float32)
    t0, t1 = int(ev["t"][0]), int(ev["t"][-1])
    for e in ev:
        ts = 0.0 if t1 == t0 else ((n_bins - 1) * float(int(e["t"]) - t0)) / (t1 - t0)
        b = int(ts)
        w = [1.0 - (ts - b), ts - b]
        for k in (0, 1):
            if b + k < n_bins:
                v = w[k] if e["p"] > 0 else -w[k]
                out[b + k, 0, e["y"], e["x"]] = np.float32(float(out[b + k, 0, e["y"], e["x"]]) + v)
    return out


@settings(max_examples=30, deadline=None)
@given(
    ev=st.builds(make_events, st.integers(0, 2**31), st.integers(1, 150), st.sampled_from([30, 20_000])),
    n=st.integers(1, 9),
)
def test_voxel_grid_sums_bitwise_as_one_add_per_event(ev, n):
    # the kernel groups the events by timestamp; the float32 sums must stay those of a per-event loop
    want = float32_voxel(ev, n)
    np.testing.assert_array_equal(to_voxel_grid(ev, SIZE, n), want)
    if len(ev):
        t0, span = int(ev["t"][0]), int(ev["t"][-1]) - int(ev["t"][0])
        got = np.zeros_like(want)
        accumulate_voxel_grid(*(ev[name].copy() for name in "txyp"), t0, span, got)
        np.testing.assert_array_equal(got, want)


def test_voxel_events_before_the_window_add_only_to_bins_in_the_grid():
    # bins -4 .. -2 wrapped around to the grid's last bins before (and bin -1's lower weight too)
    t = np.array([2_000, 3_000, 4_000, 5_000], np.int64)
    x, y, p = np.array([1, 2, 3, 4]), np.array([0, 1, 2, 3]), np.array([1, 0, 1, 1], np.int8)
    grid = np.zeros((4, 1, H, W), np.float32)
    # bins (t - 6500) / 1000: -4.5 .. -1.5; only the last event's upper weight (-0.5) lands, in bin 0
    accumulate_voxel_grid(t[:3], x[:3], y[:3], p[:3], 6_500, 3_000, grid)
    assert not grid.any()
    accumulate_voxel_grid(t, x, y, p, 6_500, 3_000, grid)
    assert grid[0, 0, 3, 4] == -0.5 and np.count_nonzero(grid) == 1


@settings(max_examples=25, deadline=None)
@given(ev=events_st, dt=st.integers(500, 6_000), tau=st.floats(100, 10_000), incomplete=st.booleans())
def test_time_surfaces_equal_naive(ev, dt, tau, incomplete):
    surfaces = to_time_surface(ev, SIZE, dt, tau, incomplete)
    t0 = int(ev["t"][0])
    last = (int(ev["t"][-1]) - t0) // dt
    assert len(surfaces) == (last + 1 if incomplete else last)
    for k, surface in enumerate(surfaces):
        np.testing.assert_allclose(surface, naive_surface(ev, t0 + (k + 1) * dt, tau), rtol=1e-6, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(
    ev=events_st,
    dt=st.sampled_from([700, 3_000, 70_000]),  # 70 ms: past the exp table (65536 µs)
    tau=st.sampled_from([5.0, 60.0, 2_000.0, 40_000.0]),  # 5 and 60 µs: values underflow to 0
    cuts=st.lists(st.integers(0, 150), max_size=4),
)
def test_time_surfaces_in_pieces_with_memory(ev, dt, tau, cuts):
    # The kernel's state is the memory alone: calls over pieces (each holding events of windows that
    # are not finished yet, as the stage passes them) equal the naive surfaces; pixels whose value
    # underflowed and that fire again come back; field arrays and records give the same bits.
    ev = ev.copy()
    ev["t"] = ev["t"] * (dt // 700)  # stretch the stream to several windows of any dt
    t0 = int(ev["t"][0])
    n_total = (int(ev["t"][-1]) - t0) // dt
    memory = np.full((P, H, W), NEVER, dtype=np.int64)
    memory_fields = memory.copy()
    got, got_fields = [], []
    k = 0
    bounds = sorted({0, len(ev), *[min(c, len(ev)) for c in cuts]})
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        part = ev[a:b]
        k_done = (int(part["t"][-1]) - t0) // dt
        out = np.zeros((k_done - k, P, H, W), dtype=np.float32)
        fill_time_surfaces_from_events(part, t0, dt, tau, k, memory, out)
        out_fields = np.zeros_like(out)
        t, x, y, p = (part[name] for name in "txyp")
        fill_time_surfaces(t, x, y, p, t0, dt, tau, k, memory_fields, out_fields)
        got.append(out)
        got_fields.append(out_fields)
        k = k_done
    surfaces = np.concatenate(got)
    assert len(surfaces) == n_total
    np.testing.assert_array_equal(np.concatenate(got_fields), surfaces)
    np.testing.assert_array_equal(memory_fields, memory)
    for j, surface in enumerate(surfaces):
        np.testing.assert_allclose(surface, naive_surface(ev, t0 + (j + 1) * dt, tau), rtol=1e-6, atol=1e-7)


def test_time_surface_pixel_returns_after_underflow():
    ev = np.zeros(3, dtype=EVENTS_DTYPE)
    ev["t"] = [0, 10, 2_000]  # tau = 1 µs: the pixel's value underflows before it fires again
    ev["x"], ev["y"] = 2, 3
    surfaces = to_time_surface(ev, SIZE, 100, 1.0, include_incomplete=True)
    assert surfaces[0, 0, 3, 2] == np.float32(math.exp(-90.0)) and surfaces[1, 0, 3, 2] == 0
    assert surfaces[-1, 0, 3, 2] == np.float32(math.exp(-100.0))
    assert np.count_nonzero(surfaces) == 2


@pytest.mark.parametrize("t_first", [0, 1, 2, 777])
def test_time_surfaces_of_streams_starting_at_any_time(t_first):
    # A fresh stream's memory holds t - (t0 - 1): a stream starting at t0 = 1 once passed the same
    # offset (0) as a caller's memory and every pixel read as fired at t = 0 (found by the CI).
    ev = make_events(13, 50)
    ev["t"] += t_first - ev["t"][0]
    surfaces = to_time_surface(ev, SIZE, 400, 300.0)
    assert len(surfaces) > 2
    for k, surface in enumerate(surfaces):
        want = naive_surface(ev, t_first + (k + 1) * 400, 300.0)
        np.testing.assert_allclose(surface, want, rtol=1e-6, atol=1e-7)


def test_time_surfaces_of_a_long_stream_and_of_other_sensors():
    # Streams longer than 2**31 µs keep an int64 memory; calls on other sensor sizes in between (the
    # kernel's scratch is kept per thread and reused) change nothing.
    ev = make_events(10, 60)
    ev["t"][30:] += 2**31
    dt = 2**29
    surfaces = to_time_surface(ev, SIZE, dt, 4e8)
    assert len(surfaces) == (int(ev["t"][-1]) - int(ev["t"][0])) // dt
    for k, surface in enumerate(surfaces):
        want = naive_surface(ev, int(ev["t"][0]) + (k + 1) * dt, 4e8)
        np.testing.assert_allclose(surface, want, rtol=1e-6, atol=1e-7)
    ev = make_events(11, 120)
    first = to_time_surface(ev, SIZE, 900, 700.0)
    big = np.zeros(50, dtype=EVENTS_DTYPE)
    big["t"] = np.arange(50) * 300
    big["x"], big["y"] = np.arange(50) % 40, np.arange(50) % 30
    assert np.count_nonzero(to_time_surface(big, (40, 30, 2), 1_000, 5_000.0)) > 0
    np.testing.assert_array_equal(to_time_surface(ev, SIZE, 900, 700.0), first)


def test_time_surfaces_on_two_threads_are_bitwise_deterministic():
    ev = make_events(12, 150)
    want = to_time_surface(ev, SIZE, 1_500, 2_500.0, include_incomplete=True)
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(lambda e: to_time_surface(e, SIZE, 1_500, 2_500.0, True), [ev.copy() for _ in range(8)])
        )
    for got in runs:
        np.testing.assert_array_equal(got, want)


def test_time_surfaces_check_the_events_in_the_kernel_pass():
    # to_time_surface checks the events in the kernel's own pass: the same DataErrors as check_events,
    # wherever the bad event is (first window, or after the last surface sampled).
    ev = make_events(13, 80)
    for index in (3, 79):
        bad = ev.copy()
        bad["x"][index] = W
        with pytest.raises(DataError, match="outside the sensor_size"):
            to_time_surface(bad, SIZE, 1_000, 500.0)
        bad = ev.copy()
        bad["t"][index] = bad["t"][index - 1] - 1
        with pytest.raises(DataError, match="must not decrease"):
            to_time_surface(bad, SIZE, 1_000, 500.0)
    with pytest.raises(DataError, match="must not decrease"):
        to_time_surface(ev[::-1].copy(), SIZE, 1_000, 500.0)
    # the stateful kernel stops at the event, before writing it
    memory = np.full((P, H, W), NEVER, dtype=np.int64)
    t, x, y, p = (ev[name].copy() for name in "txyp")
    p[5] = P
    with pytest.raises(DataError, match="event 5 .* outside the sensor_size"):
        fill_time_surfaces(t, x, y, p, int(t[0]), 1_000, 500.0, 0, memory, np.zeros((4, P, H, W), np.float32))
    assert (memory != NEVER).sum() == len(np.unique((p[:5] * H + y[:5]) * W + x[:5]))


def test_time_surface_arrays_are_checked():
    ev = make_events(9, 20)
    memory = np.full((P, H, W), NEVER, dtype=np.int64)
    with pytest.raises(ConfigError, match="C-contiguous"):
        fill_time_surfaces_from_events(ev, 0, 100, 50.0, 0, memory, np.zeros((2, P, W, H), np.float32))
    with pytest.raises(ConfigError, match="C-contiguous"):
        fill_time_surfaces_from_events(ev, 0, 100, 50.0, 0, memory.T, np.zeros((2, W, H, P), np.float32))


@settings(max_examples=25, deadline=None)
@given(ev=events_st, radius=st.integers(0, 3), tau=st.floats(100, 10_000))
def test_local_time_surfaces_equal_naive(ev, radius, tau):
    got = to_local_time_surfaces(ev, SIZE, radius, tau)
    side = 2 * radius + 1
    for i in range(0, len(ev), 7):
        e = ev[i]
        want = np.zeros((P, side, side))
        for j in range(i + 1):
            f = ev[j]
            dx, dy = int(f["x"]) - int(e["x"]), int(f["y"]) - int(e["y"])
            if abs(dx) <= radius and abs(dy) <= radius:
                want[f["p"], dy + radius, dx + radius] = math.exp(-(int(e["t"]) - int(f["t"])) / tau)
        np.testing.assert_allclose(got[i], want, rtol=1e-6, atol=1e-7)
        assert got[i, e["p"], radius, radius] == 1.0


def test_histogram_and_spikes_agree_with_frames():
    ev = make_events(3, 300)
    np.testing.assert_array_equal(to_histogram(ev, SIZE), to_frame(ev, SIZE, n_time_bins=1)[0])
    frames = to_frame(ev, SIZE, time_window=2_000)
    counts = to_spikes(ev, SIZE, 2_000, binary=False)
    np.testing.assert_array_equal(counts, frames.reshape(len(frames), -1))
    spikes = to_spikes(ev, SIZE, 2_000)
    assert spikes.dtype == np.uint8 and set(np.unique(spikes)) <= {0, 1}
    np.testing.assert_array_equal(spikes, counts > 0)
    # unit = (p * H + y) * W + x
    e = ev[0]
    assert counts[0, (e["p"] * H + e["y"]) * W + e["x"]] >= 1


def test_empty_input_shapes():
    empty = np.zeros(0, dtype=EVENTS_DTYPE)
    assert to_frame(empty, SIZE, n_time_bins=3).shape == (3, P, H, W)  # (T, P, H, W), never W and H swapped
    assert to_frame(empty, SIZE, time_window=100).shape == (0, P, H, W)
    assert to_frame(empty, SIZE, event_count=10).shape == (0, P, H, W)
    assert to_voxel_grid(empty, SIZE, 4).shape == (4, 1, H, W)
    assert to_time_surface(empty, SIZE, 100, 100.0).shape == (0, P, H, W)
    assert to_local_time_surfaces(empty, SIZE, 2, 100.0).shape == (0, P, 5, 5)
    assert to_histogram(empty, SIZE).sum() == 0
    assert to_spikes(empty, SIZE, 100).shape == (0, P * H * W)


def test_single_event_lands_in_a_frame():
    one = make_events(4, 1)
    for kwargs in ({"n_time_bins": 5}, {"n_event_bins": 5}, {"time_window": 10}, {"event_count": 3}):
        frames = to_frame(one, SIZE, **kwargs)
        assert frames.sum() == 1 and frames[0, one["p"][0], one["y"][0], one["x"][0]] == 1, kwargs
    grid = to_voxel_grid(one, SIZE, 3)  # zero duration: bin 0, no division by zero
    assert grid[0, 0, one["y"][0], one["x"][0]] == (1.0 if one["p"][0] else -1.0) and np.isfinite(grid).all()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(1, 120),
    num=st.integers(0, 7),
    den=st.integers(1, 9_000),
    t0=st.integers(-3_000, 25_000),
    n_frames=st.integers(1, 6),
    clip_last=st.booleans(),
)
def test_frames_by_time_equal_division_per_event_in_any_order(seed, n, num, den, t0, n_frames, clip_last):
    # the kernel divides only when t leaves the current bin's bounds: the same bins as one division
    # per event, for shuffled input, bins below 0 and past the end, and num == 0
    ev = make_events(seed, n)
    np.random.default_rng(seed).shuffle(ev)
    bins = [((int(t) - t0) * num) // den for t in ev["t"]]
    if clip_last:
        bins = [min(b, n_frames - 1) for b in bins]
    frames = np.zeros((n_frames, P, H, W), np.int32)
    accumulate_frames_by_time(ev["t"], ev["x"], ev["y"], ev["p"], t0, num, den, frames, clip_last)
    np.testing.assert_array_equal(frames, naive_frames(ev, bins, n_frames))


def test_frames_and_voxels_check_the_events_in_the_kernel_pass():
    # to_frame, to_histogram and to_voxel_grid check the events in the kernel's own pass: the same
    # DataErrors as check_events, wherever the bad event is
    ev = make_events(17, 60)
    calls = [
        lambda e: to_frame(e, SIZE, n_time_bins=4),
        lambda e: to_frame(e, SIZE, n_event_bins=4),
        lambda e: to_frame(e, SIZE, time_window=500),
        lambda e: to_frame(e, SIZE, event_count=7),
        lambda e: to_histogram(e, SIZE),
        lambda e: to_voxel_grid(e, SIZE, 4),
    ]
    for call in calls:
        for index in (3, 59):
            for field, value in (("x", W), ("y", H), ("p", P)):
                bad = ev.copy()
                bad[field][index] = value
                with pytest.raises(DataError, match=f"event {index} has {field}={value}, outside"):
                    call(bad)
            bad = ev.copy()
            bad["t"][index] = bad["t"][index - 1] - 1
            with pytest.raises(DataError, match=f"event {index} has t="):
                call(bad)


def test_accumulate_kernels_refuse_events_outside_the_output():
    # an event outside the output was written past its end before
    ev = make_events(3, 30)
    t, x, y, p = (ev[name].copy() for name in "txyp")
    x[7] = W
    frames = np.zeros((2, P, H, W), np.int32)
    with pytest.raises(DataError, match="event 7 .* outside the output"):
        accumulate_frames_by_time(t, x, y, p, int(t[0]), 1, 10_000, frames, True)
    assert frames.sum() == 7
    with pytest.raises(DataError, match="event 7 .* outside the output"):
        accumulate_frames_by_index(x, y, p, 0, 1, 10, frames)
    with pytest.raises(DataError, match="event 7 .* outside the output"):
        accumulate_voxel_grid(t, x, y, p, int(t[0]), 10_000, np.zeros((3, 1, H, W), np.float32))


def test_bad_parameters_and_data():
    ev = make_events(5, 20)
    with pytest.raises(ConfigError, match="exactly one"):
        to_frame(ev, SIZE, time_window=10, event_count=3)
    with pytest.raises(ConfigError, match="exactly one"):
        to_frame(ev, SIZE)
    with pytest.raises(ConfigError, match="positive integer"):
        to_frame(ev, SIZE, n_time_bins=0)
    with pytest.raises(ConfigError, match="tau"):
        to_time_surface(ev, SIZE, 100, 0.0)
    with pytest.raises(ConfigError, match="radius"):
        to_local_time_surfaces(ev, SIZE, -1, 10.0)
    with pytest.raises(DataError, match="must not decrease"):
        to_voxel_grid(ev[::-1].copy(), SIZE, 3)
    bad = ev.copy()
    bad["y"][5] = H
    with pytest.raises(DataError, match="outside the sensor_size"):
        to_frame(bad, SIZE, time_window=100)


def test_outputs_are_checked_against_the_memory_budget():
    """100000 x 100000 pixels made to_frame try to allocate 373 GiB."""
    from neurosig.core.chunks import EVENTS_DTYPE
    from neurosig.core.errors import DataError
    from neurosig.kernels.event_repr import to_frame, to_spikes, to_time_surface, to_voxel_grid

    ev = np.zeros(2, EVENTS_DTYPE)
    ev["t"] = [0, 10]
    big = (65536, 65536, 2)
    with pytest.raises(DataError, match=r"would need 34,359,738,368 bytes .* change n_time_bins"):
        to_frame(ev, big, n_time_bins=1)
    with pytest.raises(DataError, match="change time_window"):
        to_frame(ev, big, time_window=5)
    with pytest.raises(DataError, match="change n_time_bins"):
        to_voxel_grid(ev, big, n_time_bins=3)
    with pytest.raises(DataError, match="change dt"):
        to_time_surface(ev, big, dt=5, tau=10.0)
    with pytest.raises(DataError, match="bytes"):
        to_spikes(ev, big, dt=5)
    assert to_frame(ev, (64, 48, 2), n_time_bins=1).shape == (1, 2, 48, 64)


def test_memory_budget_comes_from_the_environment(monkeypatch):
    from neurosig.core.chunks import EVENTS_DTYPE
    from neurosig.core.errors import DataError
    from neurosig.kernels.event_repr import to_frame

    ev = np.zeros(1, EVENTS_DTYPE)
    monkeypatch.setenv("NEUROSIG_MEMORY_BUDGET", "1000")
    with pytest.raises(DataError, match="would need 24,576 bytes .* budget of 1,000 bytes"):
        to_frame(ev, (64, 48, 2), n_event_bins=1)
