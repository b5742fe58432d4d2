"""``numba.cuda`` twins of the representation kernels in :mod:`neurosig.kernels.event_repr`.

Same arguments and results, on device arrays. Frames and voxel grids are one thread per event with
atomic adds (float32 voxel sums may differ from the CPU kernel in the last bits, since the order of
additions differs). Time surfaces first take, per window and pixel, the latest event time with an
atomic max; one thread per pixel then sweeps the windows in order, carrying the pixel's memory.

Imported only when a device array reaches a kernel, or under ``NUMBA_ENABLE_CUDASIM=1`` in tests.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from neurosig.kernels.event_filters import NEVER

__all__ = ["frames_by_time_cuda", "frames_by_index_cuda", "voxel_grid_cuda", "time_surfaces_cuda"]

_THREADS = 256
_NEVER = int(NEVER)


def _blocks(n: int) -> int:
    return max(1, math.ceil(n / _THREADS))


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
        if ti < n_bins:
            cuda.atomic.add(grid, (ti, 0, y[i], x[i]), np.float32(v * (1.0 - d)))
        if ti + 1 < n_bins:
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


def frames_by_time_cuda(t, x, y, p, t0: int, num: int, den: int, clip_last: bool, frames) -> None:
    """CUDA twin of :func:`neurosig.kernels.event_repr.accumulate_frames_by_time`."""
    if t.shape[0]:
        _frames_time_kernel[_blocks(t.shape[0]), _THREADS](
            t, x, y, p, np.int64(t0), np.int64(num), np.int64(den), clip_last, frames
        )


def frames_by_index_cuda(x, y, p, i0: int, num: int, den: int, frames) -> None:
    """CUDA twin of :func:`neurosig.kernels.event_repr.accumulate_frames_by_index`."""
    if x.shape[0]:
        _frames_index_kernel[_blocks(x.shape[0]), _THREADS](
            x, y, p, np.int64(i0), np.int64(num), np.int64(den), frames
        )


def voxel_grid_cuda(t, x, y, p, t0: int, scale: float, duration: float, grid) -> None:
    """CUDA twin of the voxel kernel behind :func:`neurosig.kernels.event_repr.accumulate_voxel_grid`."""
    if t.shape[0]:
        _voxel_kernel[_blocks(t.shape[0]), _THREADS](t, x, y, p, np.int64(t0), scale, duration, grid)


def time_surfaces_cuda(t, x, y, p, t0: int, dt: int, tau: float, k_start: int, memory, out) -> None:
    """CUDA twin of :func:`neurosig.kernels.event_repr.fill_time_surfaces` (device arrays)."""
    n_out = out.shape[0]
    latest = cuda.to_device(np.full((n_out + 1, *memory.shape), NEVER, dtype=np.int64))
    if t.shape[0]:
        _latest_kernel[_blocks(t.shape[0]), _THREADS](t, x, y, p, np.int64(t0), np.int64(dt), k_start, latest)
    n_pix = int(np.prod(memory.shape))
    sweep = _sweep_kernel[_blocks(n_pix), _THREADS]
    sweep(latest, np.int64(t0), np.int64(dt), float(tau), k_start, memory, out)
