"""Pure functions for the simple event filters: crop, downsample, polarity merge, time slice, hot pixels.

Each takes an events array of :data:`~neurosig.EVENTS_DTYPE` (time in µs) and a sensor size
``(width, height, polarities)`` and returns new arrays (the input is never modified). The filters that
need a per-pixel loop (denoise, refractory period) live in :mod:`neurosig.kernels.event_filters`.
"""

from __future__ import annotations

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.kernels.event_filters import check_events, select

__all__ = [
    "crop",
    "cropped_size",
    "downsample",
    "downsampled_size",
    "merge_polarity",
    "time_slice",
    "hot_pixel_mask",
    "remove_hot_pixels",
]

Size = tuple[int, int, int]


def cropped_size(sensor_size: Size, x0: int, y0: int, width: int, height: int) -> Size:
    """Sensor size after :func:`crop`; raises ``DataError`` if the box is not inside the sensor."""
    w, h, n_pol = sensor_size
    if x0 + width > w or y0 + height > h:
        raise DataError(
            f"crop box x0={x0}, y0={y0}, width={width}, height={height} does not fit the sensor "
            f"{tuple(sensor_size)}; choose a box inside {w}x{h}."
        )
    return (width, height, n_pol)


def crop(events: np.ndarray, sensor_size: Size, x0: int, y0: int, width: int, height: int) -> np.ndarray:
    """Keep events inside ``[x0, x0 + width) x [y0, y0 + height)``, shifted so the box starts at 0."""
    cropped_size(sensor_size, x0, y0, width, height)
    check_events(events, sensor_size)
    x, y = events["x"], events["y"]
    inside = (x >= x0) & (x < x0 + width) & (y >= y0) & (y < y0 + height)
    out = select(events, inside)
    out["x"] -= np.uint16(x0)
    out["y"] -= np.uint16(y0)
    return out


def downsampled_size(sensor_size: Size, spatial_factor: int) -> Size:
    """Sensor size after :func:`downsample`: width and height divided by the factor, rounded up."""
    w, h, n_pol = sensor_size
    return (-(-w // spatial_factor), -(-h // spatial_factor), n_pol)


def downsample(events: np.ndarray, sensor_size: Size, spatial_factor: int = 1, time_resolution: int = 1):
    """Coarsen events in space (``x // f``, ``y // f``) and time (``t`` floored to ``time_resolution`` µs).

    Events are neither merged nor dropped, so several events may share a coarse pixel and timestamp.
    """
    if spatial_factor < 1 or time_resolution < 1:
        raise ConfigError(
            f"spatial_factor and time_resolution must be integers >= 1, got {spatial_factor!r} and "
            f"{time_resolution!r}."
        )
    check_events(events, sensor_size)
    out = events.copy()
    out["x"] //= np.uint16(spatial_factor)
    out["y"] //= np.uint16(spatial_factor)
    out["t"] -= out["t"] % time_resolution
    return out


def merge_polarity(events: np.ndarray, sensor_size: Size) -> np.ndarray:
    """Set every polarity to 0, for a one-channel sensor ``(width, height, 1)``."""
    check_events(events, sensor_size)
    out = events.copy()
    out["p"] = 0
    return out


def time_slice(events: np.ndarray, t_start: int, t_stop: int) -> np.ndarray:
    """Keep events with ``t_start <= t < t_stop`` (µs); events must be in time order."""
    if t_stop <= t_start:
        raise ConfigError(f"t_stop ({t_stop} µs) must be after t_start ({t_start} µs).")
    t = events["t"]
    a, b = np.searchsorted(t, [t_start, t_stop], side="left")
    return events[a:b].copy()


def hot_pixel_mask(events: np.ndarray, sensor_size: Size, calibration: int, max_rate: float) -> np.ndarray:
    """Learn which pixels are hot: more than ``max_rate`` events/s in the first ``calibration`` µs.

    Parameters
    ----------
    events : ndarray of EVENTS_DTYPE
        Events in time order; only those with ``t < t[0] + calibration`` are counted (both polarities).
    sensor_size : tuple of int
        ``(width, height, polarities)``.
    calibration : int
        Calibration window in µs from the first event.
    max_rate : float
        Highest normal event rate of a pixel, in events per second.

    Returns
    -------
    ndarray of bool, shape (height, width)
        True for hot pixels.
    """
    if calibration <= 0 or not max_rate > 0:
        raise ConfigError(
            f"calibration (µs) and max_rate (Hz) must be > 0, got {calibration!r} and {max_rate!r}."
        )
    check_events(events, sensor_size)
    width, height, _ = sensor_size
    if len(events) == 0:
        return np.zeros((height, width), dtype=bool)
    stop = int(np.searchsorted(events["t"], int(events["t"][0]) + calibration, side="left"))
    calib = events[:stop]
    flat = calib["y"].astype(np.int64) * width + calib["x"]
    counts = np.bincount(flat, minlength=width * height).reshape(height, width)
    return counts > max_rate * calibration * 1e-6


def remove_hot_pixels(events: np.ndarray, sensor_size: Size, calibration: int, max_rate: float) -> np.ndarray:
    """Drop every event of the pixels that :func:`hot_pixel_mask` finds hot (calibration window included)."""
    hot = hot_pixel_mask(events, sensor_size, calibration, max_rate)
    return select(events, ~hot[events["y"], events["x"]])
