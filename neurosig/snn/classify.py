"""``snn_classify``: a trained event-stream model as a streaming stage over raw events, by window."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import numpy as np
import pydantic

from neurosig.core.chunks import EventChunk, SpikeChunk, SpikeInfo
from neurosig.core.errors import DataError
from neurosig.events._base import EventStage
from neurosig.snn.event_inference import EventDrivenSNN, load_event_model

__all__ = ["SNNClassify"]


class SNNClassify(EventStage):
    """Classify each time window of an event stream with a trained model, event by event.

    Windows are ``[t0 + k window, t0 + (k + 1) window)`` from the stream's first event ``t0``. When a
    window closes (an event at or after its end arrives, or the stream ends), its events go through
    the model's own preprocessing (transforms, then the spike representation) and through
    :class:`~neurosig.snn.event_inference.EventDrivenSNN` (event-driven delayed synapses). The scores
    equal the offline evaluation of the same windows (:func:`~neurosig.snn.event_inference.window_events`
    then the model), whatever the chunking of the stream.

    Parameters
    ----------
    checkpoint : str
        ``model.pt`` written by the ``event_train`` job.
    window : float | None
        Window length in seconds (default: the training samples' length, ``n_steps × dt``).

    Notes
    -----
    Output: a :class:`SpikeChunk` of class scores, one step per closed window (``dt = window``,
    ``start`` = the window's index), units = classes; the prediction is the argmax. Empty windows
    between events are scored too. The per-pixel filters start fresh in every window, as in training.
    """

    name = "snn_classify"

    def __init__(self, checkpoint: str, window: Annotated[float, pydantic.Field(gt=0)] | None = None) -> None:
        self.checkpoint = checkpoint
        self.window = window

    def reset(self) -> None:
        super().reset()
        if not hasattr(self, "_net"):
            model, self._pre, self.classes = load_event_model(self.checkpoint)
            self._net = EventDrivenSNN(model)
            length = self._pre.n_steps * self._pre.dt if self.window is None else self.window
            self._window_us = max(int(round(length * 1e6)), 1)
        self._t0: int | None = None
        self._k = 0
        self._held: list[np.ndarray] = []

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
        first = self._k
        inputs = []
        while len(ev):
            end = self._t0 + (self._k + 1) * self._window_us
            cut = int(np.searchsorted(ev["t"], end, side="left"))
            if cut:
                self._held.append(ev[:cut])
            if cut == len(ev):
                break
            inputs.append(self._pre(np.concatenate(self._held) if self._held else ev[:0]))
            self._held = []
            self._k += 1
            ev = ev[cut:]
        return self._emit(inputs, first)

    def _emit(self, inputs: list[np.ndarray], first: int) -> list[SpikeChunk]:
        if not inputs:
            return []
        scores = self._net(np.stack(inputs)).astype(np.float32)
        info = SpikeInfo(dt=self._window_us * 1e-6, n_units=scores.shape[1])
        return [SpikeChunk(scores, info, first)]

    def _flush(self) -> Iterable[SpikeChunk]:
        if not self._held:
            return []
        inputs = [self._pre(np.concatenate(self._held))]
        self._held = []
        self._k += 1
        return self._emit(inputs, self._k - 1)
