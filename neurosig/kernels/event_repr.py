"""Event representations: frames, histograms, voxel grids, time surfaces, spike tensors.

Shape convention: every dense representation is time first, ``(T, P, H, W)`` (bins, polarity channels,
rows, columns), as tonic's ``ToFrame``; voxel grids have one signed channel, ``(T, 1, H, W)``; spike
tensors are the same frames flattened to ``(T, P * H * W)`` in C order. Time is in µs throughout.

The private kernels accumulate into arrays the caller allocates, so that streaming stages can fill one
window at a time; each ``accumulate_*`` function dispatches to the ``numba.cuda`` twin in
:mod:`neurosig.kernels.event_repr_cuda` when the field arrays live on the GPU.
"""

from __future__ import annotations

import numpy as np

from neurosig.core.errors import ConfigError
from neurosig.kernels._numba import njit
from neurosig.kernels.event_filters import NEVER, check_events, on_device

__all__ = [
    "accumulate_frames_by_time",
    "accumulate_frames_by_index",
    "accumulate_voxel_grid",
    "fill_time_surfaces",
    "to_frame",
    "to_histogram",
    "to_voxel_grid",
    "to_time_surface",
    "to_local_time_surfaces",
    "to_spikes",
]


@njit
def _frames_time_cpu(t, x, y, p, t0, num, den, clip_last, frames):  # pragma: no cover - jitted
    n_frames = frames.shape[0]
    for i in range(t.shape[0]):
        b = ((t[i] - t0) * num) // den
        if b >= n_frames:
            if not clip_last:
                continue
            b = n_frames - 1
        if b >= 0:
            frames[b, p[i], y[i], x[i]] += 1


@njit
def _frames_index_cpu(x, y, p, i0, num, den, frames):  # pragma: no cover - jitted
    n_frames = frames.shape[0]
    for i in range(x.shape[0]):
        b = ((i + i0) * num) // den
        if b < n_frames:
            frames[b, p[i], y[i], x[i]] += 1


@njit
def _voxel_cpu(t, x, y, p, t0, scale, duration, grid):  # pragma: no cover - jitted
    n_bins = grid.shape[0]
    for i in range(t.shape[0]):
        ts = 0.0 if duration == 0 else (scale * np.float64(t[i] - t0)) / duration
        ti = np.int64(ts)
        d = ts - ti
        v = 1.0 if p[i] > 0 else -1.0
        if ti < n_bins:
            grid[ti, 0, y[i], x[i]] += v * (1.0 - d)
        if ti + 1 < n_bins:
            grid[ti + 1, 0, y[i], x[i]] += v * d


@njit
def _write_exponent(memory, t_sample, tau, out):  # pragma: no cover - jitted
    # The exponent -(t_sample - t_last) / tau, or -inf where a pixel never fired; the caller applies
    # numpy's vectorised exp to the whole block afterwards.
    mem = memory.ravel()
    dst = out.ravel()
    for k in range(mem.shape[0]):
        m = mem[k]
        dst[k] = -np.inf if m == NEVER else -np.float64(t_sample - m) / tau


@njit
def _surfaces_cpu(t, x, y, p, t0, dt, tau, k_start, memory, out):  # pragma: no cover - jitted
    k_stop = k_start + out.shape[0]
    k = k_start
    for i in range(t.shape[0]):
        w = (t[i] - t0) // dt
        while k < w and k < k_stop:
            _write_exponent(memory, t0 + (k + 1) * dt, tau, out[k - k_start])
            k += 1
        memory[p[i], y[i], x[i]] = t[i]
    while k < k_stop:
        _write_exponent(memory, t0 + (k + 1) * dt, tau, out[k - k_start])
        k += 1


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
    """
    if on_device(t):
        from neurosig.kernels.event_repr_cuda import frames_by_time_cuda

        frames_by_time_cuda(t, x, y, p, t0, num, den, clip_last, frames)
        return
    _frames_time_cpu(t, x, y, p, np.int64(t0), np.int64(num), np.int64(den), clip_last, frames)


def accumulate_frames_by_index(x, y, p, i0: int, num: int, den: int, frames) -> None:
    """Add event ``i`` to frame ``floor((i + i0) * num / den)``; bins ``>= T`` are skipped."""
    if on_device(x):
        from neurosig.kernels.event_repr_cuda import frames_by_index_cuda

        frames_by_index_cuda(x, y, p, i0, num, den, frames)
        return
    _frames_index_cpu(x, y, p, np.int64(i0), np.int64(num), np.int64(den), frames)


def accumulate_voxel_grid(t, x, y, p, t0: int, duration: int, grid) -> None:
    """Add events to a voxel grid ``(B, 1, H, W)`` with bilinear weights in time (Zhu et al. 2019).

    Event times map to ``(B - 1) * (t - t0) / duration`` and each event adds ``±(1 - d)`` to the bin
    below and ``±d`` to the bin above (``+`` for polarity 1, ``-`` for 0); ``duration == 0`` puts every
    event in bin 0.
    """
    scale = float(grid.shape[0] - 1)
    if on_device(t):
        from neurosig.kernels.event_repr_cuda import voxel_grid_cuda

        voxel_grid_cuda(t, x, y, p, t0, scale, float(duration), grid)
        return
    _voxel_cpu(t, x, y, p, np.int64(t0), scale, float(duration), grid)


def fill_time_surfaces(t, x, y, p, t0: int, dt: int, tau: float, k_start: int, memory, out) -> None:
    """Fill ``out[j]`` with the time surface sampled at ``t0 + (k_start + j + 1) * dt``.

    Parameters
    ----------
    t, x, y, p : arrays, shape (n,)
        The events of windows ``k_start ..`` (earlier events are already in ``memory``); the window of
        an event is ``(t - t0) // dt``. Events of windows past the last surface must not be passed.
    t0, dt : int
        Stream origin and sampling interval in µs.
    tau : float
        Decay time constant in µs.
    k_start : int
        Index of the first surface to fill.
    memory : array of int64, shape (P, H, W)
        Last timestamp per pixel and polarity (:data:`NEVER` if none), updated in place.
    out : array of float32, shape (n_surfaces, P, H, W)
        Filled with ``exp(-(t_sample - memory) / tau)``, 0 where a pixel never fired.
    """
    if on_device(t):
        from neurosig.kernels.event_repr_cuda import time_surfaces_cuda

        time_surfaces_cuda(t, x, y, p, t0, dt, tau, k_start, memory, out)
        return
    _surfaces_cpu(t, x, y, p, np.int64(t0), np.int64(dt), float(tau), np.int64(k_start), memory, out)
    np.exp(out, out=out)


def _fields(events: np.ndarray):
    return events["t"], events["x"], events["y"], events["p"]


def _empty(n: int, sensor_size, dtype) -> np.ndarray:
    width, height, n_pol = sensor_size
    return np.zeros((n, n_pol, height, width), dtype=dtype)


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
    check_events(events, sensor_size)
    t, x, y, p = _fields(events)
    n = len(events)
    if n_time_bins is not None or n_event_bins is not None:
        frames = _empty(n_time_bins or n_event_bins, sensor_size, np.int32)
        if n == 0:
            return frames
        if n_time_bins is not None:
            duration = int(t[-1]) - int(t[0])
            num, den = (n_time_bins, duration) if duration > 0 else (0, 1)
            accumulate_frames_by_time(t, x, y, p, int(t[0]), num, den, frames, True)
        else:
            accumulate_frames_by_index(x, y, p, 0, n_event_bins, n, frames)
        return frames
    if n == 0:
        return _empty(0, sensor_size, np.int32)
    if time_window is not None:
        span = (int(t[-1]) - int(t[0])) // time_window
        frames = _empty(span + 1 if include_incomplete else span, sensor_size, np.int32)
        accumulate_frames_by_time(t, x, y, p, int(t[0]), 1, time_window, frames, False)
        return frames
    frames = _empty(-(-n // event_count) if include_incomplete else n // event_count, sensor_size, np.int32)
    accumulate_frames_by_index(x, y, p, 0, 1, event_count, frames)
    return frames


def to_histogram(events: np.ndarray, sensor_size: tuple[int, int, int]) -> np.ndarray:
    """Event counts per polarity and pixel, ``(P, H, W)`` int32."""
    check_events(events, sensor_size)
    hist = _empty(1, sensor_size, np.int32)
    t, x, y, p = _fields(events)
    accumulate_frames_by_time(t, x, y, p, 0, 0, 1, hist, True)
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
    check_events(events, sensor_size)
    width, height, _ = sensor_size
    grid = np.zeros((n_time_bins, 1, height, width), dtype=np.float32)
    if len(events):
        t, x, y, p = _fields(events)
        accumulate_voxel_grid(t, x, y, p, int(t[0]), int(t[-1]) - int(t[0]), grid)
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
    check_events(events, sensor_size)
    if len(events) == 0:
        return _empty(0, sensor_size, np.float32)
    t, x, y, p = _fields(events)
    t0 = int(t[0])
    last_window = (int(t[-1]) - t0) // dt
    n_out = last_window + 1 if include_incomplete else last_window
    out = _empty(n_out, sensor_size, np.float32)
    width, height, n_pol = sensor_size
    memory = np.full((n_pol, height, width), NEVER, dtype=np.int64)
    stop = int(np.searchsorted(t, t0 + n_out * dt, side="left"))
    fill_time_surfaces(t[:stop], x[:stop], y[:stop], p[:stop], t0, dt, tau, 0, memory, out)
    return out


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
    width, height, n_pol = sensor_size
    side = 2 * radius + 1
    out = np.zeros((len(events), n_pol, side, side), dtype=np.float32)
    memory = np.full((n_pol, height, width), NEVER, dtype=np.int64)
    t, x, y, p = _fields(events)
    _local_surfaces_cpu(t, x, y, p, np.int64(radius), float(tau), memory, out)
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
    flat = frames.reshape(len(frames), -1)
    return np.minimum(flat, 1).astype(np.uint8) if binary else flat
