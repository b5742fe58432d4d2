"""Event representations: frames, histograms, voxel grids, time surfaces, spike tensors.

Shape convention: every dense representation is time first, ``(T, P, H, W)`` (bins, polarity channels,
rows, columns), as tonic's ``ToFrame``; voxel grids have one signed channel, ``(T, 1, H, W)``; spike
tensors are the same frames flattened to ``(T, P * H * W)`` in C order. Time is in µs throughout.

The private kernels accumulate into arrays the caller allocates, so that streaming stages can fill one
window at a time; each ``accumulate_*`` function dispatches to the ``numba.cuda`` twin in
:mod:`neurosig.kernels.event_repr_cuda` when the field arrays live on the GPU.
"""

from __future__ import annotations

import threading

import numpy as np
from numba import types
from numba.extending import overload

from neurosig.errors import ConfigError, DataError
from neurosig.kernels._numba import njit
from neurosig.kernels.budget import check_output_bytes
from neurosig.kernels.event_filters import NEVER, check_events, on_device

__all__ = [
    "accumulate_frames_by_time",
    "accumulate_frames_by_index",
    "accumulate_voxel_grid",
    "fill_time_surfaces",
    "fill_time_surfaces_from_events",
    "fill_local_time_surfaces",
    "new_surface_memory",
    "to_frame",
    "to_histogram",
    "to_voxel_grid",
    "to_time_surface",
    "to_local_time_surfaces",
    "to_spikes",
]


def _n_events(src):  # pragma: no cover - replaced by the overload below inside jitted code
    raise NotImplementedError


def _event(src, i):  # pragma: no cover - replaced by the overload below inside jitted code
    raise NotImplementedError


@overload(_n_events)
def _n_events_impl(src):
    if isinstance(src, types.BaseTuple):
        return lambda src: src[0].shape[0]
    return lambda src: src.shape[0]


@overload(_event)
def _event_impl(src, i):
    # Event ``i`` as (t, x, y, p) from either the field arrays ``(t, x, y, p)`` or an EVENTS_DTYPE
    # record array. Reading the records directly is about twice as fast as reading the four field views
    # of the same array, whose stride (13 bytes) the compiler cannot see.
    if isinstance(src, types.BaseTuple):

        def from_fields(src, i):
            return src[0][i], src[1][i], src[2][i], src[3][i]

        return from_fields

    def from_records(src, i):
        e = src[i]
        return e.t, e.x, e.y, e.p

    return from_records


@njit
def _time_bin(t, t0, num, den):  # pragma: no cover - jitted
    # Bin floor((t - t0) num / den) of time t, and the times [lo, hi) that share it: with num > 0,
    # floor(d num / den) == b exactly when ceil(b den / num) <= d < ceil((b + 1) den / num).
    b = ((t - t0) * num) // den
    if num == 0:
        return b, np.iinfo(np.int64).min, np.iinfo(np.int64).max
    return b, t0 - ((-b * den) // num), t0 - ((-(b + 1) * den) // num)


@njit
def _frames_time_cpu(src, t0, num, den, clip_last, ordered, frames):  # pragma: no cover - jitted
    # Returns the index of the first event outside ``frames``' (P, H, W), or (with ``ordered``) before
    # the event ahead of it, or -1; the events before it are already counted. The bin is recomputed by
    # division only when t leaves the current bin's [lo, hi): once per bin for events in time order.
    n_frames, n_pol, height, width = frames.shape
    lo = np.int64(1)
    hi = np.int64(0)
    b = np.int64(0)
    t_prev = np.iinfo(np.int64).min
    for i in range(_n_events(src)):
        t, x, y, p = _event(src, i)
        if x < 0 or x >= width or y < 0 or y >= height or p < 0 or p >= n_pol or (ordered and t < t_prev):
            return i
        t_prev = t
        if t < lo or t >= hi:
            b, lo, hi = _time_bin(t, t0, num, den)
        k = b
        if k >= n_frames:
            if not clip_last:
                continue
            k = n_frames - 1
        if k >= 0:
            frames[k, p, y, x] += 1
    return -1


@njit
def _frames_index_cpu(src, i0, num, den, ordered, frames):  # pragma: no cover - jitted
    # Returns the index of the first event outside ``frames``' (P, H, W), or (with ``ordered``) before
    # the event ahead of it, or -1.
    n_frames, n_pol, height, width = frames.shape
    t_prev = np.iinfo(np.int64).min
    for i in range(_n_events(src)):
        t, x, y, p = _event(src, i)
        if x < 0 or x >= width or y < 0 or y >= height or p < 0 or p >= n_pol or (ordered and t < t_prev):
            return i
        t_prev = t
        b = ((i + i0) * num) // den
        if b < n_frames:
            frames[b, p, y, x] += 1
    return -1


@njit
def _voxel_cpu(src, t0, scale, duration, ordered, n_pol, grid):  # pragma: no cover - jitted
    # Returns the index of the first event outside the grid's (H, W) or (n_pol > 0) polarities
    # 0 .. n_pol - 1, or (with ``ordered``) before the event ahead of it, or -1.
    # Layout for speed (about 30 instructions per event): the events come in runs of one timestamp
    # (about 10 per timestamp in a real recording), and a run shares its bin, its weights and the
    # plane offsets, computed with the one division in the outer loop. The inner loop only reads the
    # event, checks it with unsigned compares (a negative x, y or p wraps to a huge value, so one
    # compare covers both bounds; indices are unsigned so Numba adds no negative-index wrap), and adds
    # the signed weight looked up by polarity (no select): the same numbers as (+1 or -1) * weight,
    # added in the same order, so the float32 sums are bitwise those of a plain per-event loop.
    n_bins, _, height, width = grid.shape
    plane = np.uint64(height * width)
    uw = np.uint64(width)
    uh = np.uint64(height)
    p_max = np.uint64(n_pol - 1) if n_pol > 0 else np.uint64(0xFFFFFFFFFFFFFFFF)
    flat = grid.reshape(grid.size)  # one index computation per add instead of four
    signed = np.empty(4, np.float64)  # [-w0, -w1, w0, w1]: index 2 (p > 0) + (0: bin below, 1: above)
    n = _n_events(src)
    t_prev = np.iinfo(np.int64).min
    i = 0
    while i < n:
        t = _event(src, np.uint64(i))[0]
        if ordered and t < t_prev:
            return i
        ts = 0.0 if duration == 0 else (scale * np.float64(t - t0)) / duration
        ti = np.int64(ts)
        w1 = ts - ti
        w0 = 1.0 - w1
        signed[0] = -w0
        signed[1] = -w1
        signed[2] = w0
        signed[3] = w1
        below = 0 <= ti < n_bins
        above = -1 <= ti < n_bins - 1
        k0 = np.uint64(ti) * plane  # (ti == -1 wraps, and k0 + plane is then the right offset)
        j = i
        while j < n:
            tj, x, y, p = _event(src, np.uint64(j))
            if tj != t:
                break
            ux = np.uint64(np.int64(x))
            uy = np.uint64(np.int64(y))
            if ux >= uw or uy >= uh or np.uint64(np.int64(p)) > p_max:
                return j
            k = k0 + uy * uw + ux
            s = np.uint64(2) * np.uint64(p > 0)
            if below:
                flat[k] += signed[s]
            if above:
                flat[k + plane] += signed[s + np.uint64(1)]
            j += 1
        t_prev = t
        i = j
    return -1


#: Longest sampling interval (µs) for which the global time-surface kernel tabulates exp(-d / tau),
#: d = 0 .. dt, instead of calling exp for each pixel that fired in a window.
_EXP_TABLE_MAX = 1 << 16


@njit
def _sort_pixels(a, n, tmp):  # pragma: no cover - jitted
    # Sort a[:n] (pixel indices >= 0) in place: LSD radix sort on 11-bit digits, using tmp[:n].
    if n < 2:
        return
    top = 0
    for i in range(n):
        top = max(top, a[i])
    count = np.empty(2049, dtype=np.int64)
    shift = 0
    passes = 0
    while (top >> shift) > 0:
        src, dst = (a, tmp) if passes % 2 == 0 else (tmp, a)
        count[:] = 0
        for i in range(n):
            count[((src[i] >> shift) & 2047) + 1] += 1
        for d in range(2048):
            count[d + 1] += count[d]
        for i in range(n):
            d = (src[i] >> shift) & 2047
            dst[count[d]] = src[i]
            count[d] += 1
        shift += 11
        passes += 1
    if passes % 2 == 1:
        a[:n] = tmp[:n]


@njit
def _emit_surface(
    t_sample, dt, tau, decay, table, mem, pixels, values, side, n_cur, fired, n_fired, dst
):  # pragma: no cover - jitted
    # One surface into ``dst`` (flat, zero on entry), writing only the pixels whose value is not 0.
    # ``pixels[side, :n_cur]`` is the active list, sorted by pixel, with each pixel's value at the
    # previous surface in ``values``; ``fired[:n_fired]`` holds each pixel that fired in this window
    # once. Both are merged into the other side in pixel order, so that the writes sweep upwards
    # through ``dst``. A pixel that fired takes exp(-(t_sample - m) / tau), from ``table`` when there is
    # one (the same float64 numbers); the others decay by the constant factor exp(-dt / tau), in
    # float64, which matches the direct exp to ~1e-16 relative before the rounding to float32. A pixel
    # leaves the list once its float32 value underflows to 0 (it stays 0 until it fires again).
    # Returns the new length of the active list.
    cur_pix, cur_val = pixels[side], values[side]
    nxt_pix, nxt_val = pixels[1 - side], values[1 - side]
    _sort_pixels(fired, n_fired, nxt_pix)
    n_pix_max = dst.shape[0]
    n_tab = table.shape[0]
    i = 0
    n = 0
    for j in range(n_fired + 1):
        # the active pixels below the next fired one only decay: a tight loop
        stop = fired[j] if j < n_fired else n_pix_max
        while i < n_cur and cur_pix[i] < stop:
            v = cur_val[i] * decay
            f = np.float32(v)
            if f != 0:
                pix = cur_pix[i]
                dst[pix] = f
                nxt_pix[n] = pix
                nxt_val[n] = v
                n += 1
            i += 1
        if j == n_fired:
            break
        pix = fired[j]
        if j > 0 and fired[j - 1] == pix:
            continue  # only out-of-order input repeats a pixel; it must not enter the list twice
        if i < n_cur and cur_pix[i] == pix:
            i += 1
        d = t_sample - mem[pix]  # (t_sample and mem in the same frame, see _surfaces_cpu)
        v = table[d] if 0 <= d < n_tab else np.exp(-np.float64(d) / tau)
        f = np.float32(v)
        if f != 0:
            dst[pix] = f
            nxt_pix[n] = pix
            nxt_val[n] = v
            n += 1
    return n


@njit
def _window_events(
    src, i, t_win, t_next, base, n_pol, height, width, mem, fired, n_fired
):  # pragma: no cover
    # Record the events from ``i`` on that come before ``t_next`` in ``mem`` (as ``t - base``); the first
    # event of a pixel in the window ``[t_win, t_next)`` appends it to ``fired``, branch-free (the pixel
    # is always written, the count moves on only if it is new). Returns the index of the first later
    # event and the new count, or the index of the first invalid event (a timestamp below the one
    # before, or outside the sensor) and -1: the input check runs in the same pass, before any write.
    since = t_win - base
    n = _n_events(src)
    n_pix = mem.shape[0]
    t_prev = _event(src, i - 1)[0] if i > 0 else np.iinfo(np.int64).min
    while i < n:
        t, x, y, p = _event(src, i)
        if t >= t_next:
            break
        if t < t_prev or x < 0 or x >= width or y < 0 or y >= height or p < 0 or p >= n_pol:
            return i, -1
        t_prev = t
        pix = (np.int64(p) * height + np.int64(y)) * width + np.int64(x)
        fired[n_fired] = pix
        # (the bound only matters for out-of-order input, which could count a pixel twice)
        n_fired = min(n_fired + (mem[pix] < since), n_pix)
        mem[pix] = t - base
        i += 1
    return i, n_fired


@njit
def _surfaces_cpu(  # pragma: no cover - jitted
    src, t0, dt, tau, k_start, memory, out, pixels, values, fired, fresh, base
):
    # ``memory`` and ``out`` are C-contiguous; ``out`` holds zeros on entry. ``memory`` holds ``t - base``.
    # Without ``fresh`` it is the caller's state (``base == 0``, NEVER where a pixel never fired) and the
    # pixels that fired before are looked up first; a ``fresh`` stream passes zeros with
    # ``base = t0 - 1``, so that 0 means "never" and is below any window (``base`` alone cannot tell
    # the two apart: a stream that starts at t0 = 1 has base 0 too). The active list (pixels whose
    # value is not 0) lives in one of two halves of the buffers (``side``); each surface merges it with
    # the pixels that fired in its window into the other half. (Arrays are never rebound inside the
    # event loop: Numba would then count references per event.)
    n_pol, height, width = memory.shape
    mem = memory.ravel()
    n_pix = mem.shape[0]
    dst = out.reshape(out.shape[0], n_pix)
    decay = np.exp(-np.float64(dt) / tau)
    table = np.empty(dt + 1 if dt <= _EXP_TABLE_MAX else 0, dtype=np.float64)
    for d in range(table.shape[0]):
        table[d] = np.exp(-np.float64(d) / tau)
    k_stop = k_start + out.shape[0]
    k = k_start
    t_next = t0 + (k + 1) * dt  # surface k is due before the first event at or after t_next
    side = 0
    n_cur = 0
    n_fired = 0
    for pix in range(0 if fresh else n_pix):
        # pixels that fired before this call's first window: their value at its start
        m = mem[pix]
        if m != NEVER:
            if m < t_next - dt:
                pixels[0, n_cur] = pix
                values[0, n_cur] = np.exp(-np.float64(t_next - dt - m) / tau)
                n_cur += 1
            else:
                fired[n_fired] = pix
                n_fired += 1
    i = 0
    while k < k_stop:
        i, n_fired = _window_events(
            src, i, t_next - dt, t_next, base, n_pol, height, width, mem, fired, n_fired
        )
        if n_fired < 0:
            return i
        n_cur = _emit_surface(
            t_next - base,
            dt,
            tau,
            decay,
            table,
            mem,
            pixels,
            values,
            side,
            n_cur,
            fired,
            n_fired,
            dst[k - k_start],
        )
        side = 1 - side
        n_fired = 0
        k += 1
        t_next += dt
    # events past the last surface only update the memory
    i, n_fired = _window_events(
        src, i, t_next - dt, np.iinfo(np.int64).max, base, n_pol, height, width, mem, fired, 0
    )
    return i if n_fired < 0 else -1


@njit
def _local_surfaces_cpu(t, x, y, p, radius, tau, memory, out):  # pragma: no cover - jitted
    n_pol, height, width = memory.shape
    for i in range(t.shape[0]):
        xi = np.int64(x[i])
        yi = np.int64(y[i])
        memory[p[i], yi, xi] = t[i]
        for q in range(n_pol):
            for dy in range(-radius, radius + 1):
                r = yi + dy
                for dx in range(-radius, radius + 1):
                    c = xi + dx
                    v = 0.0
                    if 0 <= r < height and 0 <= c < width and memory[q, r, c] != NEVER:
                        v = np.exp(-np.float64(t[i] - memory[q, r, c]) / tau)
                    out[i, q, dy + radius, dx + radius] = v


def accumulate_frames_by_time(t, x, y, p, t0: int, num: int, den: int, frames, clip_last: bool) -> None:
    """Add each event to frame ``floor((t - t0) * num / den)`` of ``frames`` (shape ``(T, P, H, W)``).

    Events whose bin is negative are skipped; bins ``>= T`` are skipped, or put into the last frame when
    ``clip_last``. Field arrays on the GPU run the CUDA twin (``frames`` must then be a device array).

    Raises
    ------
    DataError
        (CPU) An event outside ``frames``' ``(P, H, W)``; the events before it are already counted.
    """
    if on_device(t):
        from neurosig.kernels.event_repr_cuda import frames_by_time_cuda

        frames_by_time_cuda(t, x, y, p, t0, num, den, clip_last, frames)
        return
    bad = _frames_time_cpu((t, x, y, p), np.int64(t0), np.int64(num), np.int64(den), clip_last, False, frames)
    _raise_outside(bad, (t, x, y, p), frames.shape)


def accumulate_frames_by_index(x, y, p, i0: int, num: int, den: int, frames) -> None:
    """Add event ``i`` to frame ``floor((i + i0) * num / den)``; bins ``>= T`` are skipped.

    Raises
    ------
    DataError
        (CPU) An event outside ``frames``' ``(P, H, W)``; the events before it are already counted.
    """
    if on_device(x):
        from neurosig.kernels.event_repr_cuda import frames_by_index_cuda

        frames_by_index_cuda(x, y, p, i0, num, den, frames)
        return
    # (x stands in for the times, which the kernel does not read)
    bad = _frames_index_cpu((x, x, y, p), np.int64(i0), np.int64(num), np.int64(den), False, frames)
    _raise_outside(bad, (None, x, y, p), frames.shape)


def accumulate_voxel_grid(t, x, y, p, t0: int, duration: int, grid) -> None:
    """Add events to a voxel grid ``(B, 1, H, W)`` with bilinear weights in time (Zhu et al. 2019).

    Event times map to ``(B - 1) * (t - t0) / duration`` and each event adds ``±(1 - d)`` to the bin
    below and ``±d`` to the bin above (``+`` for polarity 1, ``-`` for 0); ``duration == 0`` puts every
    event in bin 0. A bin outside ``0 .. B - 1`` (an event far before ``t0`` or after the window) gets
    nothing.

    Raises
    ------
    DataError
        (CPU) An event outside the grid's ``(H, W)``; the events before it are already added.
    """
    scale = float(grid.shape[0] - 1)
    if on_device(t):
        from neurosig.kernels.event_repr_cuda import voxel_grid_cuda

        voxel_grid_cuda(t, x, y, p, t0, scale, float(duration), grid)
        return
    bad = _voxel_cpu((t, x, y, p), np.int64(t0), scale, float(duration), False, 0, grid)
    _raise_outside(bad, (t, x, y, p), grid.shape)


def _raise_outside(bad: int, fields: tuple, shape: tuple) -> None:
    """Raise the DataError for event ``bad`` that a CPU kernel found outside its output (none if -1)."""
    if bad < 0:
        return
    _, x, y, p = (None if f is None else int(f[bad]) for f in fields)
    raise DataError(
        f"event {bad} (x={x}, y={y}, p={p}) lies outside the output's (P, H, W) = {tuple(shape[1:])}; "
        "crop the events (neurosig.kernels.event_filters.check_events names the problem) or size the "
        "output to the sensor."
    )


def fill_time_surfaces(t, x, y, p, t0: int, dt: int, tau: float, k_start: int, memory, out) -> None:
    """Fill ``out[j]`` with the time surface sampled at ``t0 + (k_start + j + 1) * dt``.

    Parameters
    ----------
    t, x, y, p : arrays, shape (n,)
        The events of windows ``k_start ..`` in time order (earlier events are already in
        ``memory``); the window of an event is ``(t - t0) // dt``. Events of windows past the last
        surface only update ``memory``.
    t0, dt : int
        Stream origin and sampling interval in µs.
    tau : float
        Decay time constant in µs.
    k_start : int
        Index of the first surface to fill.
    memory : array of int64, shape (P, H, W)
        Last timestamp per pixel and polarity (:data:`NEVER` if none), updated in place.
    out : array of float32, shape (n_surfaces, P, H, W)
        Zeros on entry (``np.zeros``); filled with ``exp(-(t_sample - memory) / tau)``. The CPU kernel
        writes only the pixels whose value is not 0 in float32, so that the pages of a fresh ``np.zeros``
        array that hold no active pixel are never touched.

    Notes
    -----
    The CPU kernel keeps a list of the pixels whose value is not 0, sorted by pixel. At each sample, a
    pixel that fired in the window takes ``exp(-(t_sample - t_last) / tau)`` (tabulated over the
    window's µs when ``dt <= 65536``); the others decay by the factor ``exp(-dt / tau)``, multiplied in
    float64, which equals the direct exp to ~1e-16 relative before the rounding to float32. A pixel
    leaves the list when its float32 value underflows to 0 (as tonic's float64 surfaces, within
    ``1e-45``). Field arrays on the GPU run the CUDA twin (``memory`` and ``out`` on the device too).
    """
    if on_device(t):
        from neurosig.kernels.event_repr_cuda import time_surfaces_cuda

        time_surfaces_cuda(t, x, y, p, t0, dt, tau, k_start, memory, out)
        return
    _fill_surfaces_cpu((t, x, y, p), t0, dt, tau, k_start, memory, out)


def fill_time_surfaces_from_events(
    events: np.ndarray, t0: int, dt: int, tau: float, k_start: int, memory: np.ndarray, out: np.ndarray
) -> None:
    """:func:`fill_time_surfaces` for an ``EVENTS_DTYPE`` array on the CPU.

    The kernel reads the records directly, which is faster than the four field views of the array.
    """
    _fill_surfaces_cpu(events, t0, dt, tau, k_start, memory, out)


#: Per-thread scratch of the time-surface kernel, kept between calls (see :func:`_surface_scratch`).
_SCRATCH = threading.local()

#: Largest sensor (pixels x polarities) whose scratch is kept between calls: 36 bytes a pixel, of which
#: only the pages that calls used are resident.
_SCRATCH_KEEP_MAX = 1 << 22


def _surface_scratch(n_pix: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scratch for the time-surface kernel: the active list, twice (it is merged from one half into the
    other), the pixels that fired in a window (+1: the branch-free append writes one past the count),
    and an int32 memory for a fresh stream (not cleared: the caller zeroes the part it uses).

    Only the entries in use are touched, and the arrays are kept per thread and reused: the first
    touch of a fresh page costs more than the kernel's work on it (1 to 3 µs a 4 KiB page on the
    benchmark machine, a VM that hands freed memory back to its host)."""
    kept = getattr(_SCRATCH, "arrays", None)
    if kept is not None and kept[0].shape[1] >= n_pix:
        return kept
    arrays = (
        np.empty((2, n_pix), dtype=np.int32),
        np.empty((2, n_pix), dtype=np.float64),
        np.empty(n_pix + 1, dtype=np.int32),
        np.empty(n_pix, dtype=np.int32),
    )
    if n_pix <= _SCRATCH_KEEP_MAX:
        _SCRATCH.arrays = arrays
    return arrays


def _fill_surfaces_cpu(
    src, t0: int, dt: int, tau: float, k_start: int, memory, out, fresh_base: int | None = None
) -> None:
    """Run the CPU kernel on ``src`` (field arrays ``(t, x, y, p)`` or an ``EVENTS_DTYPE`` array).
    ``memory`` is the caller's state (:data:`NEVER` where a pixel never fired), or with ``fresh_base``
    a fresh stream's zeros holding ``t - fresh_base``.

    Raises
    ------
    DataError
        Naming the first event out of order or outside the sensor (the kernel stops there, before
        writing it).
    """
    if not (memory.flags.c_contiguous and out.flags.c_contiguous) or out.shape[1:] != memory.shape:
        raise ConfigError(
            f"time surfaces need C-contiguous memory (P, H, W) and out (T, P, H, W) arrays, got "
            f"memory {memory.shape} and out {out.shape}."
        )
    n_pix = memory.size
    if n_pix >= 2**31:
        raise ConfigError(f"time surfaces support up to 2**31 pixels and polarities, got {n_pix}.")
    pixels, values, fired, _ = _surface_scratch(n_pix)
    bad = _surfaces_cpu(
        src,
        np.int64(t0),
        np.int64(dt),
        float(tau),
        np.int64(k_start),
        memory,
        out,
        pixels,
        values,
        fired,
        fresh_base is not None,
        np.int64(fresh_base or 0),
    )
    if bad >= 0:
        t, x, y, p = (src[k][bad] for k in range(4)) if isinstance(src, tuple) else src[bad]
        n_pol, height, width = memory.shape
        raise DataError(
            f"event {bad} (t={int(t)} µs, x={int(x)}, y={int(y)}, p={int(p)}) comes before the event ahead "
            f"of it or lies outside the sensor_size {(width, height, n_pol)}; time surfaces need events in "
            "time order inside the sensor (neurosig.kernels.event_filters.check_events names the problem)."
        )


def fill_local_time_surfaces(t, x, y, p, radius: int, tau: float, memory, out) -> None:
    """Fill ``out[i]`` with the local time surface of event ``i``, carrying ``memory`` across calls.

    Events are taken in order: event ``i`` first sets its pixel's memory, then reads the
    ``(P, 2r + 1, 2r + 1)`` patch around it, ``exp(-(t_i - memory) / tau)`` (0 outside the sensor and
    where a pixel never fired), so the centre of its own polarity is 1.

    Parameters
    ----------
    t, x, y, p : arrays, shape (n,)
        Events in time order, inside the sensor; numpy arrays run the CPU kernel, CUDA device arrays
        the ``numba.cuda`` twin (``memory`` and ``out`` on the device too).
    radius : int
        Patch half-width in pixels (``r >= 0``).
    tau : float
        Decay time constant in µs.
    memory : array of int64, shape (P, H, W)
        Last timestamp per pixel and polarity (:data:`NEVER` if none), updated in place.
    out : array of float32, shape (n, P, 2r + 1, 2r + 1)
        Every entry is written.
    """
    side = 2 * int(radius) + 1
    if len(memory.shape) != 3 or tuple(out.shape) != (t.shape[0], memory.shape[0], side, side):
        raise ConfigError(
            f"local time surfaces need memory (P, H, W) and out (n, P, {side}, {side}) for {t.shape[0]} "
            f"events, got memory {tuple(memory.shape)} and out {tuple(out.shape)}."
        )
    if on_device(t):
        from neurosig.kernels.event_repr_cuda import local_time_surfaces_cuda

        local_time_surfaces_cuda(t, x, y, p, radius, tau, memory, out)
        return
    _local_surfaces_cpu(t, x, y, p, np.int64(radius), float(tau), memory, out)


def _fields(events: np.ndarray):
    return events["t"], events["x"], events["y"], events["p"]


def _empty(n: int, sensor_size, dtype, parameter: str = "sensor_size") -> np.ndarray:
    """Zeros ``(n, P, H, W)``, checked against the memory budget first (naming ``parameter``)."""
    width, height, n_pol = sensor_size
    shape = check_output_bytes((n, n_pol, height, width), dtype, "the output (T, P, H, W)", parameter)
    return np.zeros(shape, dtype=dtype)


def _positive(name: str, value: int | None) -> None:
    if value is not None and (int(value) != value or value <= 0):
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")


def to_frame(
    events: np.ndarray,
    sensor_size: tuple[int, int, int],
    *,
    time_window: int | None = None,
    event_count: int | None = None,
    n_time_bins: int | None = None,
    n_event_bins: int | None = None,
    include_incomplete: bool = True,
) -> np.ndarray:
    """Count events into frames ``(T, P, H, W)`` (int32), sliced one of four ways.

    Parameters
    ----------
    events : ndarray of EVENTS_DTYPE
        Events in time order.
    sensor_size : tuple of int
        ``(width, height, polarities)``.
    time_window : int | None
        Frames of ``time_window`` µs from the first event: frame ``k`` holds ``[t0 + k w, t0 + (k+1) w)``.
    event_count : int | None
        Frames of ``event_count`` consecutive events.
    n_time_bins : int | None
        Exactly this many frames of equal duration spanning ``[t0, t_last]``; the last frame is closed,
        so every event lands in a frame (one event, or one timestamp, lands in frame 0).
    n_event_bins : int | None
        Exactly this many frames; event ``i`` of ``N`` goes to frame ``floor(i * n / N)``.
    include_incomplete : bool
        With ``time_window`` or ``event_count``: keep the last, incomplete frame (default), so no event
        is lost. ``False`` keeps only frames whose window ended (the trailing events are dropped).

    Returns
    -------
    ndarray of int32, shape (T, P, H, W)
        ``T = 0`` for an empty input with ``time_window``/``event_count``; zeros for the bin modes.
    """
    modes = {
        "time_window": time_window,
        "event_count": event_count,
        "n_time_bins": n_time_bins,
        "n_event_bins": n_event_bins,
    }
    given = [k for k, v in modes.items() if v is not None]
    if len(given) != 1:
        raise ConfigError(f"give exactly one of {list(modes)}, got {given or 'none'}.")
    for name, value in modes.items():
        _positive(name, value)
    check_events(events[:0], sensor_size)  # the dtype: the kernels check the events in their own pass
    t = events["t"]
    n = len(events)
    if n_time_bins is not None or n_event_bins is not None:
        frames = _empty(n_time_bins or n_event_bins, sensor_size, np.int32, given[0] + " or sensor_size")
        if n == 0:
            return frames
        if n_time_bins is not None:
            duration = int(t[-1]) - int(t[0])
            num, den = (n_time_bins, duration) if duration > 0 else (0, 1)
            _count_by_time(events, sensor_size, int(t[0]), num, den, frames, True)
        else:
            _count_by_index(events, sensor_size, n_event_bins, n, frames)
        return frames
    if n == 0:
        return _empty(0, sensor_size, np.int32)
    if time_window is not None:
        span = (int(t[-1]) - int(t[0])) // time_window
        if span < 0:
            check_events(events, sensor_size)  # raises: the timestamps decrease
        n_frames = span + 1 if include_incomplete else span
        frames = _empty(n_frames, sensor_size, np.int32, "time_window (longer) or sensor_size")
        _count_by_time(events, sensor_size, int(t[0]), 1, time_window, frames, False)
        return frames
    n_frames = -(-n // event_count) if include_incomplete else n // event_count
    frames = _empty(n_frames, sensor_size, np.int32, "event_count (larger) or sensor_size")
    _count_by_index(events, sensor_size, 1, event_count, frames)
    return frames


def _checked(bad: int, events: np.ndarray, sensor_size: tuple[int, int, int]) -> None:
    """After a kernel that stopped at event ``bad`` (-1: none), raise check_events' DataError."""
    if bad >= 0:
        check_events(events, sensor_size)  # names the problem and what to do
        raise AssertionError(f"a kernel rejected event {bad}, which check_events accepts")  # pragma: no cover


def _count_by_time(events, sensor_size, t0: int, num: int, den: int, frames, clip_last: bool) -> None:
    """The records kernel of :func:`accumulate_frames_by_time`, with check_events' checks fused in."""
    bad = _frames_time_cpu(events, np.int64(t0), np.int64(num), np.int64(den), clip_last, True, frames)
    _checked(bad, events, sensor_size)


def _count_by_index(events, sensor_size, num: int, den: int, frames) -> None:
    """The records kernel of :func:`accumulate_frames_by_index`, with check_events' checks fused in."""
    bad = _frames_index_cpu(events, np.int64(0), np.int64(num), np.int64(den), True, frames)
    _checked(bad, events, sensor_size)


def to_histogram(events: np.ndarray, sensor_size: tuple[int, int, int]) -> np.ndarray:
    """Event counts per polarity and pixel, ``(P, H, W)`` int32."""
    check_events(events[:0], sensor_size)
    hist = _empty(1, sensor_size, np.int32)
    _count_by_time(events, sensor_size, 0, 0, 1, hist, True)
    return hist[0]


def to_voxel_grid(events: np.ndarray, sensor_size: tuple[int, int, int], n_time_bins: int) -> np.ndarray:
    """Voxel grid ``(B, 1, H, W)`` float32 with bilinear interpolation in time (Zhu et al. 2019).

    Timestamps are normalised to ``(B - 1)(t - t0)/(t_last - t0)`` as in the paper (and in E2VID), so the
    first event sits on bin 0 and the last on bin ``B - 1``. Polarity 1 adds ``+1``, polarity 0 ``-1``.

    Notes
    -----
    tonic's ``to_voxel_grid_numpy`` normalises to ``B (t - t0)/(t_last - t0)``: its bins are ours for
    ``B + 1`` bins without the last one, and the last event contributes nothing there. It also divides by
    zero when all events share one timestamp (here they all go to bin 0) and overwrites the polarity
    field of its input.
    """
    _positive("n_time_bins", n_time_bins)
    check_events(events[:0], sensor_size)  # the dtype: the kernel checks the events in its own pass
    width, height, n_pol = sensor_size
    shape = check_output_bytes((n_time_bins, 1, height, width), np.float32, "the voxel grid", "n_time_bins")
    grid = np.zeros(shape, dtype=np.float32)
    if len(events):
        t = events["t"]
        t0, duration = int(t[0]), int(t[-1]) - int(t[0])
        bad = _voxel_cpu(events, np.int64(t0), float(n_time_bins - 1), float(duration), True, n_pol, grid)
        _checked(bad, events, sensor_size)
    return grid


def to_time_surface(
    events: np.ndarray,
    sensor_size: tuple[int, int, int],
    dt: int,
    tau: float,
    include_incomplete: bool = False,
) -> np.ndarray:
    """Global exponentially decaying time surfaces ``(T, P, H, W)`` float32, sampled every ``dt`` µs.

    Surface ``k`` is sampled at ``t0 + (k + 1) dt`` after the events of ``[t0, t0 + (k + 1) dt)``, as
    ``exp(-(t_sample - t_last(p, y, x)) / tau)`` with ``t_last`` the pixel's latest event (0 where a pixel
    never fired). Without ``include_incomplete`` only windows that ended by the last event are sampled
    (as tonic's ``ToTimesurface``); with it, one more surface covers the trailing events.

    Parameters
    ----------
    events : ndarray of EVENTS_DTYPE
        Events in time order.
    sensor_size : tuple of int
        ``(width, height, polarities)``.
    dt : int
        Sampling interval in µs.
    tau : float
        Decay time constant in µs.
    include_incomplete : bool
        Also sample the window that holds the last event.
    """
    _positive("dt", dt)
    if not tau > 0:
        raise ConfigError(f"tau must be a positive number of µs, got {tau!r}.")
    check_events(events[:0], sensor_size)  # the dtype: the kernel checks the events in its own pass
    if len(events) == 0:
        return _empty(0, sensor_size, np.float32)
    t = events["t"]
    t0 = int(t[0])
    last_window = (int(t[-1]) - t0) // dt
    if last_window < 0:
        check_events(events, sensor_size)  # raises: the timestamps decrease
    n_out = last_window + 1 if include_incomplete else last_window
    out = _empty(n_out, sensor_size, np.float32, "dt (longer) or sensor_size")
    # A fresh stream: the kernel's memory starts as zeros, holding t - (t0 - 1) (see _surfaces_cpu),
    # in the thread's int32 scratch when the stream is shorter than 2**31 µs (35 min). ``out`` comes
    # from np.zeros: the kernel writes only nonzero values, so pages that no event reaches stay
    # untouched.
    width, height, n_pol = sensor_size
    n_pix = n_pol * height * width
    if int(t[-1]) - t0 + 1 < 2**31:
        memory = _surface_scratch(n_pix)[3][:n_pix].reshape(n_pol, height, width)
        memory.fill(0)
    else:
        memory = np.zeros((n_pol, height, width), dtype=np.int64)
    # (the events after the last surface only update the memory, and are checked)
    try:
        _fill_surfaces_cpu(events, t0, dt, tau, 0, memory, out, fresh_base=t0 - 1)
    except DataError:
        check_events(events, sensor_size)  # raises the DataError that names the problem and what to do
        raise
    return out


def new_surface_memory(sensor_size: tuple[int, int, int]) -> np.ndarray:
    """A fresh time-surface memory: the last timestamp (µs) of each ``(p, y, x)``, all :data:`NEVER`."""
    width, height, n_pol = sensor_size
    return np.full((n_pol, height, width), NEVER, dtype=np.int64)


def to_local_time_surfaces(
    events: np.ndarray, sensor_size: tuple[int, int, int], radius: int, tau: float
) -> np.ndarray:
    """Per-event local time surfaces ``(N, P, 2r + 1, 2r + 1)`` float32, for HOTS/FEAST-style features.

    For event ``i`` at ``(x, y)`` and time ``t``, entry ``[i, q, r + dy, r + dx]`` is
    ``exp(-(t - t_last(q, y + dy, x + dx)) / tau)``, where ``t_last`` includes event ``i`` itself (so the
    centre of its own polarity is 1); pixels outside the sensor or never fired give 0.

    Parameters
    ----------
    radius : int
        Patch half-width in pixels (``r >= 0``).
    tau : float
        Decay time constant in µs.
    """
    if int(radius) != radius or radius < 0:
        raise ConfigError(f"radius must be an integer >= 0, got {radius!r}.")
    if not tau > 0:
        raise ConfigError(f"tau must be a positive number of µs, got {tau!r}.")
    check_events(events, sensor_size)
    radius = int(radius)
    side = 2 * radius + 1
    shape = (len(events), sensor_size[2], side, side)
    out = np.zeros(check_output_bytes(shape, np.float32, "the local surfaces", "radius"), dtype=np.float32)
    memory = new_surface_memory(sensor_size)
    t, x, y, p = _fields(events)
    fill_local_time_surfaces(t, x, y, p, radius, tau, memory, out)
    return out


def to_spikes(
    events: np.ndarray, sensor_size: tuple[int, int, int], dt: int, binary: bool = True
) -> np.ndarray:
    """Spike tensor ``(T, P * H * W)`` for spiking networks: events binned in steps of ``dt`` µs.

    Step ``k`` holds ``[t0 + k dt, t0 + (k + 1) dt)``; the last step may be incomplete so that no event
    is lost. Units are the ``(P, H, W)`` pixels in C order: ``unit = (p * H + y) * W + x``.

    Parameters
    ----------
    dt : int
        Step length in µs.
    binary : bool
        0/1 spikes (uint8) if True, else event counts (int32).
    """
    frames = to_frame(events, sensor_size, time_window=dt, include_incomplete=True)
    flat = frames.reshape(len(frames), int(np.prod(frames.shape[1:])))  # -1 fails for no frames
    return np.minimum(flat, 1).astype(np.uint8) if binary else flat
