"""The base of every event stage: chunk-order and sensor-bounds checks."""

from __future__ import annotations

from collections.abc import Iterable

from neurosig.core.chunks import EventChunk
from neurosig.core.stage import Stage
from neurosig.kernels.event_filters import check_events

__all__ = ["EventStage"]


class EventStage(Stage):
    """Checks chunk order and sensor bounds; subclasses implement :meth:`_events`."""

    accepts = (EventChunk,)

    def reset(self) -> None:
        self._t_last: int | None = None

    def _process(self, chunk: EventChunk) -> Iterable[EventChunk]:
        if not hasattr(self, "_t_last"):
            self.reset()
        check_events(chunk.events, chunk.info.sensor_size, self._t_last)
        if len(chunk):
            self._t_last = int(chunk.events["t"][-1])
        return self._events(chunk)

    def _events(self, chunk: EventChunk) -> Iterable[EventChunk]:
        raise NotImplementedError
