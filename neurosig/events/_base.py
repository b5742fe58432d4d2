"""The base of every event stage: chunk-order, sensor-bounds and sensor-size checks."""

from __future__ import annotations

from collections.abc import Iterable

from neurosig.core.chunks import EventChunk
from neurosig.core.errors import DataError
from neurosig.core.stage import Stage
from neurosig.kernels.event_filters import check_events

__all__ = ["EventStage"]


class EventStage(Stage):
    """Checks chunk order, sensor bounds and that the ``sensor_size`` stays that of the stream's first
    chunk (the stages' per-pixel state is sized by it); subclasses implement :meth:`_events`."""

    accepts = (EventChunk,)

    def reset(self) -> None:
        self._t_last: int | None = None
        self._sensor_size: tuple[int, int, int] | None = None

    def _process(self, chunk: EventChunk) -> Iterable[EventChunk]:
        if not hasattr(self, "_t_last"):
            self.reset()
        size = tuple(chunk.info.sensor_size)
        if self._sensor_size is None:
            self._sensor_size = size
        elif size != self._sensor_size:
            raise DataError(
                f"{self.name}: sensor_size changed within the stream, from {self._sensor_size} to {size}; "
                "start a new stream (reset the stage) for another sensor."
            )
        check_events(chunk.events, chunk.info.sensor_size, self._t_last)
        if len(chunk):
            self._t_last = int(chunk.events["t"][-1])
        return self._events(chunk)

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        raise NotImplementedError
