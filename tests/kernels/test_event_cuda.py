"""CUDA twins of the event kernels equal the CPU kernels.

Without a GPU, the launcher test reruns this module in a subprocess under ``NUMBA_ENABLE_CUDASIM=1``
(the variable must be set before numba.cuda is first imported). The simulator runs every thread in
Python, so the inputs are small.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.kernels import event_filters as EF
from neurosig.kernels import event_repr as ER
from neurosig.kernels._numba import cuda_enabled

SIM = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
SIZE = (7, 5, 2)
W, H, P = SIZE

twin = pytest.mark.skipif(not (SIM or cuda_enabled()), reason="no GPU; run by the simulator launcher")


@pytest.mark.skipif(SIM, reason="already inside the simulator")
def test_twins_under_the_cuda_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    cmd = [sys.executable, "-m", "pytest", __file__, "-q", "-x", "-p", "no:cacheprovider", "-k", "twin_"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout


def make_events(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENTS_DTYPE)
    ev["t"] = np.sort(rng.integers(0, 20_000, n)) + 500
    ev["x"] = rng.integers(0, W, n)
    ev["y"] = rng.integers(0, H, n)
    ev["p"] = rng.integers(0, P, n)
    return ev


def dev(a):
    from numba import cuda

    return cuda.to_device(np.ascontiguousarray(a))


def fields(ev, on_device):
    out = [ev[k] for k in "txyp"]
    return [dev(a) for a in out] if on_device else out


@twin
@pytest.mark.parametrize("neighbours", [4, 8])
def test_twin_denoise_with_state_across_chunks(neighbours):
    ev = make_events(0, 120)
    cpu_state, gpu_state = EF.new_pixel_state(SIZE), dev(EF.new_pixel_state(SIZE))
    for part in (ev[:70], ev[70:], ev[:0]):
        t, x, y, _ = fields(part, False)
        want = EF.denoise_mask(t, x, y, W, 1_500, neighbours, cpu_state)
        t, x, y, _ = fields(part, True)
        got = EF.denoise_mask(t, x, y, W, 1_500, neighbours, gpu_state).copy_to_host()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(gpu_state.copy_to_host(), cpu_state)


@twin
@pytest.mark.parametrize("n", [1, 255, 256, 257, 700])
def test_twin_prefix_sum_spans_blocks(n):
    from neurosig.kernels.event_filters_cuda import _inclusive_scan

    values = np.random.default_rng(n).integers(0, 5, n).astype(np.int64)
    out = dev(np.full(n, -1, dtype=np.int64))
    _inclusive_scan(dev(values), out)
    np.testing.assert_array_equal(out.copy_to_host(), np.cumsum(values))


@twin
def test_twin_denoise_on_a_sensor_of_several_blocks_of_pixels():
    # 42 x 32 padded pixels: the pixel grouping's prefix sum spans 6 thread blocks.
    size = (40, 30, 2)
    rng = np.random.default_rng(5)
    ev = np.zeros(400, dtype=EVENTS_DTYPE)
    ev["t"] = np.sort(rng.integers(0, 30_000, 400))
    ev["x"], ev["y"] = rng.integers(0, 40, 400), rng.integers(0, 30, 400)
    cpu_state, gpu_state = EF.new_pixel_state(size), dev(EF.new_pixel_state(size))
    t, x, y, _ = fields(ev, False)
    want = EF.denoise_mask(t, x, y, 40, 4_000, 8, cpu_state)
    assert 0 < want.sum() < len(ev)
    t, x, y, _ = fields(ev, True)
    np.testing.assert_array_equal(EF.denoise_mask(t, x, y, 40, 4_000, 8, gpu_state).copy_to_host(), want)
    np.testing.assert_array_equal(gpu_state.copy_to_host(), cpu_state)


@twin
def test_twin_refractory_with_state_across_chunks():
    ev = make_events(1, 120)
    cpu_state, gpu_state = EF.new_pixel_state(SIZE), dev(EF.new_pixel_state(SIZE))
    for part in (ev[:50], ev[50:]):
        t, x, y, _ = fields(part, False)
        want = EF.refractory_mask(t, x, y, W, 900, cpu_state)
        t, x, y, _ = fields(part, True)
        got = EF.refractory_mask(t, x, y, W, 900, gpu_state).copy_to_host()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(gpu_state.copy_to_host(), cpu_state)


@twin
@pytest.mark.parametrize("n", [0, 1, 90])
def test_twin_frames_and_voxel_grid(n):
    ev = make_events(2, n)
    t0 = int(ev["t"][0]) if n else 0
    span = max(int(ev["t"][-1]) - t0, 1) if n else 1
    for args in ((t0, 4, span, True), (t0, 1, 3_000, False)):
        want = np.zeros((4, P, H, W), np.int32)
        ER.accumulate_frames_by_time(*fields(ev, False), *args[:3], want, args[3])
        got = dev(np.zeros((4, P, H, W), np.int32))
        ER.accumulate_frames_by_time(*fields(ev, True), *args[:3], got, args[3])
        np.testing.assert_array_equal(got.copy_to_host(), want)
    want = np.zeros((3, P, H, W), np.int32)
    ER.accumulate_frames_by_index(*fields(ev, False)[1:], 5, 1, 30, want)
    got = dev(np.zeros((3, P, H, W), np.int32))
    ER.accumulate_frames_by_index(*fields(ev, True)[1:], 5, 1, 30, got)
    np.testing.assert_array_equal(got.copy_to_host(), want)
    for start in (t0, t0 + 2 * span):  # (the second: every event in bin -4 or below: none added)
        want = np.zeros((5, 1, H, W), np.float32)
        ER.accumulate_voxel_grid(*fields(ev, False), start, span, want)
        got = dev(np.zeros((5, 1, H, W), np.float32))
        ER.accumulate_voxel_grid(*fields(ev, True), start, span, got)
        np.testing.assert_allclose(got.copy_to_host(), want, atol=1e-5)
        assert start == t0 or not want.any()


@twin
def test_twin_time_surfaces_with_memory_across_calls():
    ev = make_events(3, 120)
    t0, dt, tau = int(ev["t"][0]), 2_500, 2_000.0
    cpu_mem, gpu_mem = np.full((P, H, W), EF.NEVER), dev(np.full((P, H, W), EF.NEVER))
    k = 0
    for part in (ev[:40], ev[40:]):
        k_done = (int(part["t"][-1]) - t0) // dt
        want = np.zeros((k_done - k, P, H, W), np.float32)
        ER.fill_time_surfaces(*fields(part, False), t0, dt, tau, k, cpu_mem, want)
        got = dev(np.zeros((k_done - k, P, H, W), np.float32))
        ER.fill_time_surfaces(*fields(part, True), t0, dt, tau, k, gpu_mem, got)
        np.testing.assert_allclose(got.copy_to_host(), want, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(gpu_mem.copy_to_host(), cpu_mem)
        k = k_done


@twin
@pytest.mark.parametrize("radius", [0, 2])
def test_twin_local_time_surfaces_with_memory_across_calls(radius):
    ev = make_events(4, 50)
    ev["t"][10:14] = ev["t"][10]  # equal timestamps: each event still sees those before it
    ev["x"][10:14], ev["y"][10:14] = ev["x"][10], ev["y"][10]
    ev["x"][20], ev["y"][20] = 0, H - 1  # patches that cross the sensor's edges
    tau, side = 3_000.0, 2 * radius + 1
    cpu_mem, gpu_mem = np.full((P, H, W), EF.NEVER), dev(np.full((P, H, W), EF.NEVER))
    later = ev[-1:].copy()
    later["t"] += 1_000
    for part in (ev[:23], ev[23:], ev[:0], later):
        want = np.full((len(part), P, side, side), np.nan, np.float32)
        ER.fill_local_time_surfaces(*fields(part, False), radius, tau, cpu_mem, want)
        got = dev(np.full((len(part), P, side, side), np.nan, np.float32))
        ER.fill_local_time_surfaces(*fields(part, True), radius, tau, gpu_mem, got)
        if SIM:  # the simulator's exp is the CPU's: the same bits
            np.testing.assert_array_equal(got.copy_to_host(), want)
        else:
            np.testing.assert_allclose(got.copy_to_host(), want, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(gpu_mem.copy_to_host(), cpu_mem)
    assert want[0, later["p"][0], radius, radius] == 1.0
