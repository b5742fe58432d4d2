"""Our kernels equal tonic 1.7 on the real EVT2 sample where tonic's semantics are the intended ones;
where tonic is wrong, the test shows its output and that ours is right."""

from __future__ import annotations

import numpy as np
import pytest
from _event_helpers import EVT2_SIZE, as_tonic, random_events

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.kernels.event_filters import denoise, refractory_period
from neurosig.kernels.event_repr import to_frame, to_time_surface, to_voxel_grid

F = pytest.importorskip("tonic.functional")
T = pytest.importorskip("tonic.transforms")


def test_denoise_four_neighbours_equals_tonic(evt2_events):
    ours = denoise(evt2_events, EVT2_SIZE, 10_000, neighbours=4)
    theirs = F.denoise_numpy(as_tonic(evt2_events), filter_time=10_000)
    assert 0 < len(ours) < len(evt2_events)
    for name in EVENTS_DTYPE.names:
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_eight_neighbours_keep_a_superset(evt2_events):
    four = denoise(evt2_events[:100_000], EVT2_SIZE, 2_000, neighbours=4)
    eight = denoise(evt2_events[:100_000], EVT2_SIZE, 2_000, neighbours=8)
    assert len(eight) > len(four)
    assert np.isin(
        four["t"] * 1_000_000 + four["y"] * 1000 + four["x"],
        eight["t"] * 1_000_000 + eight["y"] * 1000 + eight["x"],
    ).all()


def test_refractory_equals_tonic(evt2_events):
    ours = refractory_period(evt2_events, EVT2_SIZE, 1_000)
    theirs = F.refractory_period_numpy(as_tonic(evt2_events), refractory_period=1_000)
    assert 0 < len(ours) < len(evt2_events)
    for name in EVENTS_DTYPE.names:
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_filters_equal_tonic_on_random_streams_after_its_start_up():
    # tonic's memories start at "fired at t = 0"; from t > filter_time on, the two agree exactly.
    size = (12, 9, 2)
    ev = random_events(1, 4_000, size, t_max=200_000)
    ev["t"] += 20_000
    np.testing.assert_array_equal(denoise(ev, size, 3_000, 4)["t"], F.denoise_numpy(as_tonic(ev), 3_000)["t"])
    ours = refractory_period(ev, size, 3_000)
    np.testing.assert_array_equal(ours["x"], F.refractory_period_numpy(as_tonic(ev), 3_000)["x"])


def test_frames_by_time_window_equal_tonic(evt2_events):
    ours = to_frame(evt2_events, EVT2_SIZE, time_window=5_000, include_incomplete=False)
    theirs = F.to_frame_numpy(as_tonic(evt2_events), EVT2_SIZE, time_window=5_000)
    assert ours.shape == theirs.shape == (10, 2, 480, 640)
    np.testing.assert_array_equal(ours, theirs)


def test_frames_by_event_count_equal_tonic(evt2_events):
    ours = to_frame(evt2_events, EVT2_SIZE, event_count=50_000, include_incomplete=False)
    theirs = F.to_frame_numpy(as_tonic(evt2_events), EVT2_SIZE, event_count=50_000)
    np.testing.assert_array_equal(ours, theirs)


def test_frames_by_bins_equal_tonic_plus_the_events_it_drops(evt2_events):
    # tonic's bins are half-open, so it drops the events at the last timestamp; ours close the last bin.
    # With a duration divisible by n the bin edges coincide and that is the only difference.
    n = 10
    t = evt2_events["t"]
    stop = int(np.nonzero((t - t[0]) % n == 0)[0][-1]) + 1
    ev = evt2_events[:stop]
    ours = to_frame(ev, EVT2_SIZE, n_time_bins=n)
    theirs = F.to_frame_numpy(as_tonic(ev), EVT2_SIZE, n_time_bins=n)
    tail = ev[ev["t"] == ev["t"][-1]]
    np.add.at(theirs, (n - 1, tail["p"].astype(int), tail["y"], tail["x"]), 1)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.sum() == len(ev)


def test_voxel_grid_equals_tonic_up_to_its_normalisation(evt2_events):
    # tonic maps times to B (t - t0)/T instead of the paper's (B - 1)(t - t0)/T: its B bins are our
    # first B of B + 1 bins.
    ours = to_voxel_grid(evt2_events, EVT2_SIZE, 11)
    theirs = F.to_voxel_grid_numpy(as_tonic(evt2_events), EVT2_SIZE, n_time_bins=10)
    np.testing.assert_allclose(ours[:10], theirs, atol=2e-3)
    assert np.abs(ours[:10] - theirs).mean() < 1e-6


def test_time_surfaces_equal_tonic(evt2_events):
    ours = to_time_surface(evt2_events, EVT2_SIZE, dt=5_000, tau=5_000.0)
    theirs = F.to_timesurface_numpy(as_tonic(evt2_events), EVT2_SIZE, dt=5_000, tau=5_000.0)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_tonic_empty_frame_swaps_width_and_height_ours_does_not():
    size = (40, 30, 2)
    empty = np.zeros(0, dtype=EVENTS_DTYPE)
    assert T.ToFrame(size, n_time_bins=3)(as_tonic(empty)).shape == (3, 2, 40, 30)  # (T, P, W, H): wrong
    assert to_frame(empty, size, n_time_bins=3).shape == (3, 2, 30, 40)  # (T, P, H, W)


def test_tonic_single_event_frame_is_empty_ours_is_not():
    size = (40, 30, 2)
    one = np.zeros(1, dtype=EVENTS_DTYPE)
    one["t"], one["x"], one["y"], one["p"] = 100, 5, 3, 1
    assert F.to_frame_numpy(as_tonic(one), size, n_time_bins=3).sum() == 0  # tonic issue #313
    frames = to_frame(one, size, n_time_bins=3)
    assert frames.sum() == 1 and frames[0, 1, 3, 5] == 1


def test_tonic_voxel_grid_divides_by_zero_and_overwrites_its_input_ours_does_not():
    size = (12, 9, 2)
    ev = random_events(2, 50, size)
    theirs_in = as_tonic(ev)
    F.to_voxel_grid_numpy(theirs_in, size, n_time_bins=3)
    assert (theirs_in["p"] == -1).any()  # polarity 0 rewritten to -1 in the caller's array
    before = ev.copy()
    to_voxel_grid(ev, size, 3)
    np.testing.assert_array_equal(ev, before)
    same_time = ev.copy()
    same_time["t"] = 1_000
    with np.errstate(all="ignore"):
        assert not np.isfinite(F.to_voxel_grid_numpy(as_tonic(same_time), size, n_time_bins=3)).all()
    assert np.isfinite(to_voxel_grid(same_time, size, 3)).all()


def test_tonic_start_up_memories_ours_start_empty():
    size = (12, 9, 2)
    isolated = np.zeros(1, dtype=EVENTS_DTYPE)
    isolated["t"], isolated["x"], isolated["y"] = 5, 4, 4
    assert len(F.denoise_numpy(as_tonic(isolated), filter_time=1_000)) == 1  # "supported" by nothing
    assert len(denoise(isolated, size, 1_000, neighbours=4)) == 0
    at_zero = np.zeros(1, dtype=EVENTS_DTYPE)
    assert len(F.refractory_period_numpy(as_tonic(at_zero), refractory_period=10)) == 0  # first event lost
    assert len(refractory_period(at_zero, size, 10)) == 1
