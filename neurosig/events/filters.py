"""Streaming event filters: stages over :class:`~neurosig.core.chunks.EventChunk` streams.

Each stage is a thin wrapper over a kernel or a function of :mod:`neurosig.events.functional`; the
stateful ones (denoise, refractory period, hot pixels) carry their per-pixel state from chunk to chunk,
so any split of a stream gives the same events as the whole stream. Every stage checks that chunks
arrive in time order and that events lie inside the declared ``sensor_size``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from neurosig.core.chunks import EventChunk, EventInfo
from neurosig.core.validate import check_increasing
from neurosig.events import functional as F
from neurosig.events._base import EventStage
from neurosig.kernels.event_filters import denoise_mask, new_pixel_state, refractory_mask, select

__all__ = [
    "DenoiseStage",
    "RefractoryStage",
    "HotPixelStage",
    "CropStage",
    "DownsampleStage",
    "MergePolarityStage",
    "TimeSliceStage",
]

PositiveInt = Annotated[int, Field(gt=0)]


class DenoiseStage(EventStage):
    """Background-activity filter: keep events whose neighbourhood fired in the last ``filter_time`` µs.

    Parameters
    ----------
    filter_time : int
        Support window in µs.
    neighbours : {4, 8}
        8 (default) counts the edge and corner neighbours; 4 only the edge ones, like tonic's
        ``Denoise`` (see :func:`neurosig.kernels.event_filters.denoise`).
    """

    name = "denoise"

    def __init__(self, filter_time: PositiveInt = 10_000, neighbours: Literal[4, 8] = 8):
        self.filter_time = filter_time
        self.neighbours = neighbours

    def reset(self) -> None:
        super().reset()
        self._last: np.ndarray | None = None

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        if self._last is None:
            self._last = new_pixel_state(chunk.info.sensor_size)
        ev = chunk.events
        width = chunk.info.sensor_size[0]
        keep = denoise_mask(ev["t"], ev["x"], ev["y"], width, self.filter_time, self.neighbours, self._last)
        yield EventChunk(select(ev, keep), chunk.info)


class RefractoryStage(EventStage):
    """Drop events within ``period`` µs of the previous event at the same pixel (either polarity).

    Parameters
    ----------
    period : int
        Refractory period in µs; every event restarts it, as in tonic's ``RefractoryPeriod``.
    """

    name = "refractory"

    def __init__(self, period: PositiveInt = 1_000):
        self.period = period

    def reset(self) -> None:
        super().reset()
        self._last: np.ndarray | None = None

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        if self._last is None:
            self._last = new_pixel_state(chunk.info.sensor_size)
        ev = chunk.events
        keep = refractory_mask(ev["t"], ev["x"], ev["y"], chunk.info.sensor_size[0], self.period, self._last)
        yield EventChunk(select(ev, keep), chunk.info)


class HotPixelStage(EventStage):
    """Remove hot pixels, learned from their event rate over a calibration window.

    Events of the first ``calibration`` µs are held back until the window has passed (or the stream
    ends); pixels with more than ``max_rate`` events/s in it are then dropped from the whole stream,
    calibration window included (see :func:`neurosig.events.functional.hot_pixel_mask`).

    Parameters
    ----------
    calibration : int
        Calibration window in µs from the first event.
    max_rate : float
        Highest normal event rate of a pixel, in events per second.
    """

    name = "hot_pixels"

    def __init__(self, calibration: PositiveInt = 100_000, max_rate: Annotated[float, Field(gt=0)] = 1000.0):
        self.calibration = calibration
        self.max_rate = max_rate

    def reset(self) -> None:
        super().reset()
        self._held: list[np.ndarray] = []
        self._info: EventInfo | None = None
        self._hot: np.ndarray | None = None

    def _learn(self) -> EventChunk:
        held = np.concatenate(self._held)
        self._held = []
        self._hot = F.hot_pixel_mask(held, self._info.sensor_size, self.calibration, self.max_rate)
        return EventChunk(select(held, ~self._hot[held["y"], held["x"]]), self._info)

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        ev = chunk.events
        if self._hot is not None:
            yield EventChunk(select(ev, ~self._hot[ev["y"], ev["x"]]), chunk.info)
            return
        self._info = chunk.info
        self._held.append(ev)
        first = next((int(h["t"][0]) for h in self._held if len(h)), None)
        if first is not None and len(ev) and int(ev["t"][-1]) >= first + self.calibration:
            yield self._learn()

    def _flush(self) -> Iterable[EventChunk]:
        if self._hot is None and self._held:
            yield self._learn()


class CropStage(EventStage):
    """Keep the events inside a box and shift them to it; the stream's ``sensor_size`` becomes the box.

    Parameters
    ----------
    x0, y0 : int
        Top-left corner of the box in pixels.
    width, height : int
        Box size in pixels.
    """

    name = "crop"

    def __init__(
        self,
        x0: Annotated[int, Field(ge=0)],
        y0: Annotated[int, Field(ge=0)],
        width: PositiveInt,
        height: PositiveInt,
    ):
        self.x0 = x0
        self.y0 = y0
        self.width = width
        self.height = height

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        box = (self.x0, self.y0, self.width, self.height)
        info = EventInfo(F.cropped_size(chunk.info.sensor_size, *box))
        yield EventChunk(F.crop(chunk.events, chunk.info.sensor_size, *box), info)


class DownsampleStage(EventStage):
    """Coarsen events in space and time; the ``sensor_size`` shrinks by ``spatial_factor`` (rounded up).

    Parameters
    ----------
    spatial_factor : int
        Pixels per coarse pixel along x and y.
    time_resolution : int
        Timestamps are floored to multiples of this many µs.
    """

    name = "downsample"

    def __init__(self, spatial_factor: PositiveInt = 2, time_resolution: PositiveInt = 1):
        self.spatial_factor = spatial_factor
        self.time_resolution = time_resolution

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        size = chunk.info.sensor_size
        info = EventInfo(F.downsampled_size(size, self.spatial_factor))
        yield EventChunk(F.downsample(chunk.events, size, self.spatial_factor, self.time_resolution), info)


class MergePolarityStage(EventStage):
    """Set every polarity to 0; the stream's ``sensor_size`` gets one polarity channel."""

    name = "merge_polarity"

    def __init__(self) -> None:
        """No parameters."""

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        w, h, _ = chunk.info.sensor_size
        yield EventChunk(F.merge_polarity(chunk.events, chunk.info.sensor_size), EventInfo((w, h, 1)))


class TimeSliceStage(EventStage):
    """Keep the events with ``t_start <= t < t_stop`` (absolute µs).

    Parameters
    ----------
    t_start, t_stop : int
        Window in µs, in the stream's own time base.
    """

    name = "time_slice"

    def __init__(self, t_start: Annotated[int, Field(ge=0)] = 0, t_stop: PositiveInt = 2**62):
        self.t_start = t_start
        self.t_stop = t_stop

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """A window that ends after it starts."""
        check_increasing(("t_start", "t_stop"), params["t_start"], params["t_stop"], "µs")

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        yield EventChunk(F.time_slice(chunk.events, self.t_start, self.t_stop), chunk.info)
