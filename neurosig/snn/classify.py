"""``snn_classify``: a trained event model as a stage over raw events, windows side by side or sliding."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import numpy as np
import pydantic

from neurosig.core.chunks import EventChunk, SpikeChunk, SpikeInfo
from neurosig.core.errors import DataError
from neurosig.dtypes import EVENTS_DTYPE
from neurosig.events._base import EventStage
from neurosig.snn.event_inference import EventDrivenSNN, load_event_model

__all__ = ["SNNClassify"]


class SNNClassify(EventStage):
    """Classify time windows of an event stream with a trained model, event by event.

    Windows are ``[t0 + k hop, t0 + k hop + window)`` from the stream's first event ``t0``: side by
    side by default (``hop = window``), or sliding (continuous classification) with a shorter ``hop``.
    When a window closes (an event at or after its end arrives, or the stream ends), its events go
    through the model's own preprocessing (transforms, then the spike representation) and through
    :class:`~neurosig.snn.event_inference.EventDrivenSNN` (event-driven delayed synapses). The scores
    equal the offline evaluation of the same windows (:func:`~neurosig.snn.event_inference.window_events`
    then the model), whatever the chunking of the stream.

    Parameters
    ----------
    checkpoint : str
        ``model.pt`` written by the ``event_train`` job.
    window : float | None
        Window length in seconds (default: the training samples' length, ``n_steps × dt``).
    hop : float | None
        Seconds from one window's start to the next (default: ``window``). Only the events from the
        oldest open window's start on are held, so memory stays bounded by one window's events (plus
        the chunk being processed).

    Notes
    -----
    Output: a :class:`SpikeChunk` of class scores, one step per closed window (``dt = hop``,
    ``start`` = the window's index), units = classes; the prediction is the argmax. Empty windows
    between events are scored too; the last window scored at the end of the stream is the last one
    that starts at or before its last event. The per-pixel filters start fresh in every window, as in
    training.
    """

    name = "snn_classify"

    def __init__(
        self,
        checkpoint: str,
        window: Annotated[float, pydantic.Field(gt=0)] | None = None,
        hop: Annotated[float, pydantic.Field(gt=0)] | None = None,
    ) -> None:
        self.checkpoint = checkpoint
        self.window = window
        self.hop = hop

    def reset(self) -> None:
        super().reset()
        if not hasattr(self, "_net"):
            model, self._pre, self.classes = load_event_model(self.checkpoint)
            self._net = EventDrivenSNN(model)
            length = self._pre.n_steps * self._pre.dt if self.window is None else self.window
            self._window_us = max(int(round(length * 1e6)), 1)
            self._hop_us = self._window_us if self.hop is None else max(int(round(self.hop * 1e6)), 1)
        self._t0: int | None = None
        self._k = 0
        self._held = np.zeros(0, dtype=EVENTS_DTYPE)

    def _events(self, chunk: EventChunk) -> Iterable[SpikeChunk]:
        if tuple(chunk.info.sensor_size) != self._pre.sensor_size:
            raise DataError(
                f"snn_classify: the model was trained on sensor size {self._pre.sensor_size}, the stream has "
                f"{tuple(chunk.info.sensor_size)}; crop or downsample the stream to the training size."
            )
        ev = chunk.events
        if not len(ev):
            return []
        if self._t0 is None:
            self._t0 = int(ev["t"][0])
        self._held = np.concatenate([self._held, ev])
        return self._close(int(ev["t"][-1]), final=False)

    def _close(self, t_last: int, final: bool) -> list[SpikeChunk]:
        """Score the windows that end at or before ``t_last`` (``final``: also those starting by it)."""
        first, inputs = self._k, []
        while True:
            start = self._t0 + self._k * self._hop_us
            end = start + self._window_us
            if not (end <= t_last or (final and start <= t_last)):
                break
            t = self._held["t"]
            a, b = np.searchsorted(t, [start, end], side="left")
            inputs.append(self._pre(self._held[a:b]))
            self._k += 1
            self._held = self._held[int(np.searchsorted(t, start + self._hop_us, side="left")) :]
        if not inputs:
            return []
        scores = self._net(np.stack(inputs)).astype(np.float32)
        info = SpikeInfo(dt=self._hop_us * 1e-6, n_units=scores.shape[1])
        return [SpikeChunk(scores, info, first)]

    def _flush(self) -> Iterable[SpikeChunk]:
        if self._t0 is None or not len(self._held):
            return []
        return self._close(int(self._held["t"][-1]), final=True)
