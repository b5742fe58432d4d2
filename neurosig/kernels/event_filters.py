"""Event filters: background-activity denoise, refractory period, and the shared input checks.

Each filter is a private Numba kernel over the event fields (``t`` int64 µs, ``x``, ``y`` uint16) plus a
per-pixel state array, so that a streaming stage can carry the state from one chunk to the next. The
public functions beside them validate a whole events array, build a fresh state and return the kept
events; :mod:`neurosig.kernels.event_filters_cuda` holds the ``numba.cuda`` twins, chosen when the
field arrays live on the GPU.

State arrays hold the last timestamp (µs) seen at each pixel of the sensor padded by one pixel on
every side, flattened as ``(y + 1) * (width + 2) + (x + 1)``, so that neighbour look-ups need no bounds
checks; a pixel that has never fired (and the border) holds :data:`NEVER`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from neurosig.dtypes import check_events_dtype
from neurosig.errors import ConfigError, DataError
from neurosig.kernels._numba import njit, on_gpu

__all__ = [
    "NEVER",
    "check_events",
    "on_device",
    "select",
    "new_pixel_state",
    "denoise_mask",
    "refractory_mask",
    "denoise",
    "refractory_period",
]

#: Timestamp (µs) held by a pixel that has never fired: far enough below any real time that
#: ``t - NEVER`` neither overflows nor falls inside any window.
NEVER = np.int64(np.iinfo(np.int64).min // 4)


def check_events(events: np.ndarray, sensor_size: tuple[int, int, int], t_min: int | None = None) -> None:
    """Check that an events array can be processed on a sensor.

    Parameters
    ----------
    events : ndarray of EVENTS_DTYPE
        The events; ``t`` in µs.
    sensor_size : tuple of int
        ``(width, height, polarities)``.
    t_min : int | None
        Earliest allowed timestamp in µs (the last timestamp of the previous chunk of a stream).

    Raises
    ------
    DataError
        If the dtype is wrong, timestamps decrease, or an event lies outside the sensor.
    """
    check_events_dtype(events)
    if len(events) == 0:
        return
    t = events["t"]
    width, height, n_pol = sensor_size
    bad, field = _first_invalid(t, events["x"], events["y"], events["p"], width, height, n_pol)
    if bad >= 0 and field == 0:
        raise DataError(
            f"event timestamps must not decrease, but event {bad} has t={int(t[bad])} µs after "
            f"t={int(t[bad - 1])} µs; sort with np.sort(events, order='t', kind='stable') first."
        )
    if bad >= 0 and field > 0:
        name, limit = (("x", width), ("y", height), ("p", n_pol))[field - 1]
        raise DataError(
            f"event {bad} has {name}={int(events[name][bad])}, outside the sensor_size "
            f"{tuple(sensor_size)} (valid {name} is 0..{limit - 1}); crop the events or declare the "
            "right sensor_size."
        )
    if t_min is not None and int(t[0]) < t_min:
        raise DataError(
            f"this chunk starts at t={int(t[0])} µs, before the previous chunk's last event "
            f"(t={t_min} µs); feed chunks in time order, or call reset() before a new stream."
        )


@njit
def _first_invalid(t, x, y, p, width, height, n_pol):  # pragma: no cover - jitted
    """Index of the first bad event and what is wrong (0 time order, 1 x, 2 y, 3 p), or (-1, -1)."""
    for i in range(t.shape[0]):
        if i > 0 and t[i] < t[i - 1]:
            return i, 0
        if x[i] >= width:
            return i, 1
        if y[i] >= height:
            return i, 2
        if p[i] < 0 or p[i] >= n_pol:
            return i, 3
    return -1, -1


@njit
def _compact(t, x, y, p, keep, ot, ox, oy, op):  # pragma: no cover - jitted
    j = 0
    for i in range(t.shape[0]):
        if keep[i]:
            ot[j] = t[i]
            ox[j] = x[i]
            oy[j] = y[i]
            op[j] = p[i]
            j += 1


def select(events: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``events[keep]`` for a boolean mask, in one compiled pass.

    NumPy's boolean indexing of the packed 13-byte :data:`~neurosig.EVENTS_DTYPE` costs several times
    the filters themselves; this copies the four fields directly.
    """
    out = np.empty(int(np.count_nonzero(keep)), dtype=events.dtype)
    _compact(events["t"], events["x"], events["y"], events["p"], keep, out["t"], out["x"], out["y"], out["p"])
    return out


def on_device(array) -> bool:
    """Whether a field array lives on a CUDA device: :func:`~neurosig.kernels._numba.on_gpu`, plus the
    CUDA simulator's arrays, which lack ``__cuda_array_interface__`` (they have ``copy_to_host``)."""
    return on_gpu(array) or hasattr(array, "copy_to_host")


def new_pixel_state(sensor_size: tuple[int, int, int]) -> np.ndarray:
    """A fresh per-pixel state: last timestamp (µs) of each padded pixel, all :data:`NEVER`."""
    width, height, _ = sensor_size
    return np.full((width + 2) * (height + 2), NEVER, dtype=np.int64)


@njit
def _denoise_cpu(t, x, y, width, filter_time, neighbours, last, keep):  # pragma: no cover - jitted
    row = width + 2
    for i in range(t.shape[0]):
        k = (np.int64(y[i]) + 1) * row + np.int64(x[i]) + 1
        ti = t[i]
        last[k] = ti
        since = ti - filter_time
        ok = last[k - 1] > since or last[k + 1] > since or last[k - row] > since or last[k + row] > since
        if not ok and neighbours == 8:
            ok = (
                last[k - row - 1] > since
                or last[k - row + 1] > since
                or last[k + row - 1] > since
                or last[k + row + 1] > since
            )
        keep[i] = ok


@njit
def _refractory_cpu(t, x, y, width, period, last, keep):  # pragma: no cover - jitted
    row = width + 2
    for i in range(t.shape[0]):
        k = (np.int64(y[i]) + 1) * row + np.int64(x[i]) + 1
        keep[i] = t[i] - last[k] > period
        last[k] = t[i]


def _check_neighbours(neighbours: int) -> None:
    if neighbours not in (4, 8):
        raise ConfigError(f"neighbours must be 4 or 8, got {neighbours!r}.")


def denoise_mask(t, x, y, width: int, filter_time: int, neighbours: int, last):
    """Which events have a neighbour that fired less than ``filter_time`` µs before them.

    Parameters
    ----------
    t, x, y : arrays, shape (n,)
        Timestamps (int64 µs, non-decreasing) and pixel coordinates (inside the sensor); numpy arrays
        run the CPU kernel, CUDA device arrays the ``numba.cuda`` twin.
    width : int
        Sensor width in pixels.
    filter_time : int
        Support window in µs.
    neighbours : {4, 8}
        4 (edge neighbours, as tonic's ``Denoise``) or 8 (edges and corners).
    last : array of int64, shape ((width + 2) * (height + 2),)
        Per-pixel state, updated in place (see :func:`new_pixel_state`).

    Returns
    -------
    keep : array of bool, shape (n,)
        On the same device as ``t``.
    """
    _check_neighbours(neighbours)
    if on_device(t):
        from neurosig.kernels.event_filters_cuda import denoise_mask_cuda

        return denoise_mask_cuda(t, x, y, width, filter_time, neighbours, last)
    keep = np.empty(len(t), dtype=np.bool_)
    _denoise_cpu(t, x, y, width, np.int64(filter_time), neighbours, last, keep)
    return keep


def refractory_mask(t, x, y, width: int, period: int, last):
    """Which events come more than ``period`` µs after the previous event at their pixel.

    Every event, kept or not, restarts its pixel's refractory period (as in tonic). Arguments and
    device dispatch as in :func:`denoise_mask`; the polarity is ignored.
    """
    if on_device(t):
        from neurosig.kernels.event_filters_cuda import refractory_mask_cuda

        return refractory_mask_cuda(t, x, y, width, period, last)
    keep = np.empty(len(t), dtype=np.bool_)
    _refractory_cpu(t, x, y, width, np.int64(period), last, keep)
    return keep


def denoise(
    events: np.ndarray,
    sensor_size: tuple[int, int, int],
    filter_time: int,
    neighbours: Literal[4, 8] = 8,
) -> np.ndarray:
    """Drop background activity: keep events whose spatial neighbourhood fired recently.

    An event at pixel ``(x, y)`` and time ``t`` is kept when at least one neighbouring pixel (any
    polarity) had an event at a time ``t_n <= t`` with ``t - t_n < filter_time``. The event's own pixel
    does not count.

    Parameters
    ----------
    events : ndarray of EVENTS_DTYPE
        Events in time order.
    sensor_size : tuple of int
        ``(width, height, polarities)``.
    filter_time : int
        Support window in µs.
    neighbours : {4, 8}
        8 (default) counts edges and corners; 4 counts edges only, as tonic's ``Denoise``.

    Returns
    -------
    ndarray of EVENTS_DTYPE
        The kept events (a copy).

    Notes
    -----
    tonic's ``denoise_numpy`` starts every pixel's memory at ``filter_time``, i.e. as if every pixel had
    fired at ``t = 0``, so events with ``t < filter_time`` pass unconditionally there; here a pixel that
    has never fired supports nothing.
    """
    check_events(events, sensor_size)
    keep = denoise_mask(
        events["t"],
        events["x"],
        events["y"],
        sensor_size[0],
        filter_time,
        neighbours,
        new_pixel_state(sensor_size),
    )
    return select(events, keep)


def refractory_period(events: np.ndarray, sensor_size: tuple[int, int, int], period: int) -> np.ndarray:
    """Drop events that follow the previous event at their pixel by ``period`` µs or less.

    Parameters
    ----------
    events : ndarray of EVENTS_DTYPE
        Events in time order.
    sensor_size : tuple of int
        ``(width, height, polarities)``.
    period : int
        Refractory period in µs.

    Returns
    -------
    ndarray of EVENTS_DTYPE
        The kept events (a copy).

    Notes
    -----
    tonic starts every pixel at ``-period``, so an event at ``t = 0`` is dropped there; here the first
    event of every pixel is kept.
    """
    check_events(events, sensor_size)
    keep = refractory_mask(
        events["t"], events["x"], events["y"], sensor_size[0], period, new_pixel_state(sensor_size)
    )
    return select(events, keep)
