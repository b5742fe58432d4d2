"""``numba.cuda`` twins of the representation kernels in :mod:`neurosig.kernels.event_repr`.

Same arguments and results, on device arrays. Frames and voxel grids are one thread per event with
atomic adds (float32 voxel sums may differ from the CPU kernel in the last bits, since the order of
additions differs). Time surfaces first take, per window and pixel, the latest event time with an
atomic max; one thread per pixel then sweeps the windows in order, carrying the pixel's memory.

Local time surfaces are sequential on the CPU (event ``i`` sees the memory after events ``0 .. i``), so
the twin first groups the events by pixel and polarity (the counting sort of
:mod:`neurosig.kernels.event_filters_cuda`: each pixel's list of event indices in stream order). One
thread per (event, patch cell) then finds, by binary search in that cell's pixel list, the latest event
at or before ``i``, or falls back to the memory carried from earlier calls; a last kernel stores each
pixel's latest time in the memory. Each entry is the same float64 ``exp`` of the same time difference
as on the CPU, rounded to float32, so the twins agree exactly (up to the last bit of the device's
``exp``).

Imported only when a device array reaches a kernel, or under ``NUMBA_ENABLE_CUDASIM=1`` in tests.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from neurosig.kernels._cuda import THREADS, blocks, device_full
from neurosig.kernels.event_filters import NEVER
from neurosig.kernels.event_filters_cuda import _group_by_pixel, _update_last

__all__ = [
    "frames_by_time_cuda",
    "frames_by_index_cuda",
    "voxel_grid_cuda",
    "time_surfaces_cuda",
    "local_time_surfaces_cuda",
]

_NEVER = int(NEVER)


@cuda.jit
def _frames_time_kernel(t, x, y, p, t0, num, den, clip_last, frames):  # pragma: no cover - device code
    i = cuda.grid(1)
    if i < t.shape[0]:
        n_frames = frames.shape[0]
        b = ((t[i] - t0) * num) // den
        if b >= n_frames and clip_last:
            b = n_frames - 1
        if 0 <= b < n_frames:
            cuda.atomic.add(frames, (b, p[i], y[i], x[i]), 1)


@cuda.jit
def _frames_index_kernel(x, y, p, i0, num, den, frames):  # pragma: no cover - device code
    i = cuda.grid(1)
    if i < x.shape[0]:
        b = ((i + i0) * num) // den
        if b < frames.shape[0]:
            cuda.atomic.add(frames, (b, p[i], y[i], x[i]), 1)


@cuda.jit
def _voxel_kernel(t, x, y, p, t0, scale, duration, grid):  # pragma: no cover - device code
    i = cuda.grid(1)
    if i < t.shape[0]:
        n_bins = grid.shape[0]
        ts = 0.0
        if duration != 0:
            ts = (scale * np.float64(t[i] - t0)) / duration
        ti = np.int64(ts)
        d = ts - ti
        v = 1.0 if p[i] > 0 else -1.0
        if 0 <= ti < n_bins:
            cuda.atomic.add(grid, (ti, 0, y[i], x[i]), np.float32(v * (1.0 - d)))
        if 0 <= ti + 1 < n_bins:
            cuda.atomic.add(grid, (ti + 1, 0, y[i], x[i]), np.float32(v * d))


@cuda.jit
def _latest_kernel(t, x, y, p, t0, dt, k_start, latest):  # pragma: no cover - device code
    i = cuda.grid(1)
    if i < t.shape[0]:
        j = (t[i] - t0) // dt - k_start
        if j >= latest.shape[0]:
            j = latest.shape[0] - 1
        cuda.atomic.max(latest, (j, p[i], y[i], x[i]), t[i])


@cuda.jit
def _sweep_kernel(latest, t0, dt, tau, k_start, memory, out):  # pragma: no cover - device code
    n_pol, height, width = memory.shape
    k = cuda.grid(1)
    if k < n_pol * height * width:
        q = k // (height * width)
        r = (k // width) % height
        c = k % width
        m = memory[q, r, c]
        for j in range(out.shape[0]):
            if latest[j, q, r, c] > m:
                m = latest[j, q, r, c]
            t_sample = t0 + (k_start + j + 1) * dt
            out[j, q, r, c] = 0.0 if m == _NEVER else math.exp(-np.float64(t_sample - m) / tau)
        tail = latest[out.shape[0], q, r, c]
        memory[q, r, c] = tail if tail > m else m


@cuda.jit
def _local_pixel_index(x, y, p, height, width, pix, counts):  # pragma: no cover - device code
    i = cuda.grid(1)
    if i < x.shape[0]:
        k = (np.int64(p[i]) * height + np.int64(y[i])) * width + np.int64(x[i])
        pix[i] = k
        cuda.atomic.add(counts, k, 1)


@cuda.jit
def _local_kernel(t, x, y, order, offsets, memory, radius, tau, out):  # pragma: no cover - device code
    # Grid: events along x, patch cells along y (a grid-stride loop past the 65535 blocks a grid has
    # along y).
    i, c0 = cuda.grid(2)
    n_pol, height, width = memory.shape
    side = 2 * radius + 1
    if i >= t.shape[0]:
        return
    for c in range(c0, n_pol * side * side, cuda.gridDim.y):
        q = c // (side * side)
        dy = (c // side) % side
        dx = c % side
        r = np.int64(y[i]) + dy - radius
        col = np.int64(x[i]) + dx - radius
        v = 0.0
        if 0 <= r < height and 0 <= col < width:
            # latest event of pixel (q, r, col) among events 0 .. i (event i included), else the memory
            k = (q * height + r) * width + col
            lo = offsets[k]
            hi = offsets[k + 1]
            while lo < hi:
                mid = (lo + hi) // 2
                if order[mid] <= i:
                    lo = mid + 1
                else:
                    hi = mid
            m = t[order[lo - 1]] if lo > offsets[k] else memory[q, r, col]
            if m != _NEVER:
                v = math.exp(-np.float64(t[i] - m) / tau)
        out[i, q, dy, dx] = v


def frames_by_time_cuda(t, x, y, p, t0: int, num: int, den: int, clip_last: bool, frames) -> None:
    """CUDA twin of :func:`neurosig.kernels.event_repr.accumulate_frames_by_time`."""
    if t.shape[0]:
        _frames_time_kernel[blocks(t.shape[0]), THREADS](
            t, x, y, p, np.int64(t0), np.int64(num), np.int64(den), clip_last, frames
        )


def frames_by_index_cuda(x, y, p, i0: int, num: int, den: int, frames) -> None:
    """CUDA twin of :func:`neurosig.kernels.event_repr.accumulate_frames_by_index`."""
    if x.shape[0]:
        _frames_index_kernel[blocks(x.shape[0]), THREADS](
            x, y, p, np.int64(i0), np.int64(num), np.int64(den), frames
        )


def voxel_grid_cuda(t, x, y, p, t0: int, scale: float, duration: float, grid) -> None:
    """CUDA twin of the voxel kernel behind :func:`neurosig.kernels.event_repr.accumulate_voxel_grid`."""
    if t.shape[0]:
        _voxel_kernel[blocks(t.shape[0]), THREADS](t, x, y, p, np.int64(t0), scale, duration, grid)


def time_surfaces_cuda(t, x, y, p, t0: int, dt: int, tau: float, k_start: int, memory, out) -> None:
    """CUDA twin of :func:`neurosig.kernels.event_repr.fill_time_surfaces` (device arrays)."""
    n_out = out.shape[0]
    latest = device_full((n_out + 1, *memory.shape), NEVER)
    if t.shape[0]:
        _latest_kernel[blocks(t.shape[0]), THREADS](t, x, y, p, np.int64(t0), np.int64(dt), k_start, latest)
    n_pix = int(np.prod(memory.shape))
    sweep = _sweep_kernel[blocks(n_pix), THREADS]
    sweep(latest, np.int64(t0), np.int64(dt), float(tau), k_start, memory, out)


def local_time_surfaces_cuda(t, x, y, p, radius: int, tau: float, memory, out) -> None:
    """CUDA twin of :func:`neurosig.kernels.event_repr.fill_local_time_surfaces` (device arrays)."""
    n = t.shape[0]
    if n == 0:
        return
    n_pol, height, width = memory.shape
    n_pix = n_pol * height * width
    _, offsets, order = _group_by_pixel(_local_pixel_index, (x, y, p, height, width), n, n_pix)
    side = 2 * int(radius) + 1
    threads = min(THREADS, 32 * math.ceil(n / 32))  # few events (and the simulator): fewer idle threads
    grid = (math.ceil(n / threads), min(n_pol * side * side, 65535))
    _local_kernel[grid, (threads, 1)](t, x, y, order, offsets, memory, int(radius), float(tau), out)
    _update_last[blocks(n_pix), THREADS](t, order, offsets, memory.reshape(n_pix))
