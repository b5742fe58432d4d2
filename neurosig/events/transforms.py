"""tonic-style transforms: frozen dataclasses whose ``__call__`` delegates to a pure function.

Each transform holds its parameters (and the ``sensor_size`` ``(width, height, polarities)``), never
state, so its ``repr`` identifies it and it can be reused on any number of recordings::

    from neurosig.events.transforms import Denoise, ToFrame
    frames = ToFrame((640, 480, 2), n_time_bins=10)(Denoise((640, 480, 2), filter_time=10_000)(events))

For streams that arrive in chunks use the stages of :mod:`neurosig.events.filters` and
:mod:`neurosig.events.representations`, which carry the state across chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosig.events import functional as F
from neurosig.kernels import event_filters as EF
from neurosig.kernels import event_repr as ER

__all__ = [
    "Denoise",
    "RefractoryPeriod",
    "HotPixels",
    "Crop",
    "Downsample",
    "MergePolarity",
    "TimeSlice",
    "ToFrame",
    "ToHistogram",
    "ToVoxelGrid",
    "ToTimeSurface",
    "ToLocalTimeSurfaces",
    "ToSpikes",
]

Size = tuple[int, int, int]


@dataclass(frozen=True)
class Denoise:
    """:func:`neurosig.kernels.event_filters.denoise`: ``filter_time`` µs, 4 or 8 neighbours."""

    sensor_size: Size
    filter_time: int = 10_000
    neighbours: int = 8

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return EF.denoise(events, self.sensor_size, self.filter_time, self.neighbours)


@dataclass(frozen=True)
class RefractoryPeriod:
    """:func:`neurosig.kernels.event_filters.refractory_period`: ``period`` µs per pixel."""

    sensor_size: Size
    period: int = 1_000

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return EF.refractory_period(events, self.sensor_size, self.period)


@dataclass(frozen=True)
class HotPixels:
    """:func:`neurosig.events.functional.remove_hot_pixels`: over ``max_rate`` Hz in ``calibration`` µs."""

    sensor_size: Size
    calibration: int = 100_000
    max_rate: float = 1000.0

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return F.remove_hot_pixels(events, self.sensor_size, self.calibration, self.max_rate)


@dataclass(frozen=True)
class Crop:
    """:func:`neurosig.events.functional.crop` to the box ``[x0, x0 + width) x [y0, y0 + height)``."""

    sensor_size: Size
    x0: int
    y0: int
    width: int
    height: int

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return F.crop(events, self.sensor_size, self.x0, self.y0, self.width, self.height)


@dataclass(frozen=True)
class Downsample:
    """:func:`neurosig.events.functional.downsample` by ``spatial_factor`` and ``time_resolution`` µs."""

    sensor_size: Size
    spatial_factor: int = 2
    time_resolution: int = 1

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return F.downsample(events, self.sensor_size, self.spatial_factor, self.time_resolution)


@dataclass(frozen=True)
class MergePolarity:
    """:func:`neurosig.events.functional.merge_polarity`: every polarity becomes 0."""

    sensor_size: Size

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return F.merge_polarity(events, self.sensor_size)


@dataclass(frozen=True)
class TimeSlice:
    """:func:`neurosig.events.functional.time_slice`: events with ``t_start <= t < t_stop`` µs."""

    t_start: int
    t_stop: int

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return F.time_slice(events, self.t_start, self.t_stop)


@dataclass(frozen=True)
class ToFrame:
    """:func:`neurosig.kernels.event_repr.to_frame`: ``(T, P, H, W)`` int32 counts."""

    sensor_size: Size
    time_window: int | None = None
    event_count: int | None = None
    n_time_bins: int | None = None
    n_event_bins: int | None = None
    include_incomplete: bool = True

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return ER.to_frame(
            events,
            self.sensor_size,
            time_window=self.time_window,
            event_count=self.event_count,
            n_time_bins=self.n_time_bins,
            n_event_bins=self.n_event_bins,
            include_incomplete=self.include_incomplete,
        )


@dataclass(frozen=True)
class ToHistogram:
    """:func:`neurosig.kernels.event_repr.to_histogram`: ``(P, H, W)`` int32 counts."""

    sensor_size: Size

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return ER.to_histogram(events, self.sensor_size)


@dataclass(frozen=True)
class ToVoxelGrid:
    """:func:`neurosig.kernels.event_repr.to_voxel_grid`: ``(B, 1, H, W)`` float32."""

    sensor_size: Size
    n_time_bins: int = 10

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return ER.to_voxel_grid(events, self.sensor_size, self.n_time_bins)


@dataclass(frozen=True)
class ToTimeSurface:
    """:func:`neurosig.kernels.event_repr.to_time_surface`: ``(T, P, H, W)`` float32 every ``dt`` µs."""

    sensor_size: Size
    dt: int = 5_000
    tau: float = 5_000.0
    include_incomplete: bool = False

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return ER.to_time_surface(events, self.sensor_size, self.dt, self.tau, self.include_incomplete)


@dataclass(frozen=True)
class ToLocalTimeSurfaces:
    """:func:`neurosig.kernels.event_repr.to_local_time_surfaces`: ``(N, P, 2r+1, 2r+1)`` float32."""

    sensor_size: Size
    radius: int = 3
    tau: float = 5_000.0

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return ER.to_local_time_surfaces(events, self.sensor_size, self.radius, self.tau)


@dataclass(frozen=True)
class ToSpikes:
    """:func:`neurosig.kernels.event_repr.to_spikes`: ``(T, P * H * W)`` spikes in steps of ``dt`` µs."""

    sensor_size: Size
    dt: int = 1_000
    binary: bool = True

    def __call__(self, events: np.ndarray) -> np.ndarray:
        return ER.to_spikes(events, self.sensor_size, self.dt, self.binary)
