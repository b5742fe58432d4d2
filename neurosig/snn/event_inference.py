"""A trained delay network run event by event, and the checkpoint of an event-stream model.

:class:`EventDrivenSNN` runs a :class:`~neurosig.snn.models.DelaySNN` with every synapse layer (with
its delays rounded, as deployed) replaced by :class:`~neurosig.kernels.delays.EventDrivenDelays`: each
spike adds its synapses' weights ``delay`` steps later, at a cost that follows the spikes, not
``T × in × out × K``. Batch norm, neurons and the readout are the model's own code
(:meth:`DelaySNN.run`), so the scores equal the dense network's with rounded delays up to the order
of float sums.

:func:`save_event_model` / :func:`load_event_model` keep the model with the
:class:`~neurosig.events.preprocess.EventPreprocessing` that made its inputs and the class names, so
the deployed stage (:class:`neurosig.snn.classify.SNNClassify`) and the NIR export need nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neurosig.core import persist
from neurosig.core.errors import DataError
from neurosig.events.preprocess import EventPreprocessing
from neurosig.kernels.delays import EventDrivenDelays, check_binary
from neurosig.snn.delays import DelayedSynapses
from neurosig.snn.models import ConvSNN, DelaySNN, build_model

__all__ = ["EventDrivenSNN", "synapse_tables", "save_event_model", "load_event_model", "window_events"]


def synapse_tables(layer: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """``(weight (out, in) float32, delay (out, in) int64 steps)`` of a synapse layer, delays rounded."""
    if isinstance(layer, DelayedSynapses):
        return layer.rounded_numpy()
    weight = layer.weight.detach().cpu().numpy().astype(np.float32)
    return weight, np.zeros(weight.shape, dtype=np.int64)


class EventDrivenSNN:
    """Event-driven inference of a trained :class:`DelaySNN` or :class:`ConvSNN` (rounded delays), on the CPU.

    Parameters
    ----------
    model : DelaySNN | ConvSNN
        The trained network (put in eval mode; its weights are read once). A ConvSNN's convolutional
        front end runs densely (torch) on each window; its delay layers and readout run event by event.
    """

    def __init__(self, model: DelaySNN | ConvSNN):
        self.model = model.cpu().eval()
        self._synapses = {
            id(m): EventDrivenDelays(*synapse_tables(m))
            for m in self.model.modules()
            if isinstance(m, DelayedSynapses) or type(m).__name__ == "_TimeLinear"
        }

    def _apply(self, layer: nn.Module, h: torch.Tensor) -> torch.Tensor:
        spikes = h.detach().numpy()  # (T, batch, in), binary: the input or a spiking layer's output
        steps, rows, units = np.nonzero(spikes)
        order = np.lexsort((steps, rows))
        out = self._synapses[id(layer)].apply_events(
            steps[order], units[order], spikes.shape[0], rows=rows[order], n_rows=spikes.shape[1]
        )
        return torch.from_numpy(np.ascontiguousarray(out.transpose(1, 0, 2)))

    @torch.no_grad()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Class scores ``(batch, classes)`` (or ``(classes,)``) for spikes ``(batch, T, in)`` or ``(T, in)``.

        Raises
        ------
        DataError
            If the spikes are not binary or have the wrong number of inputs.
        """
        x = np.asarray(x)
        squeeze = x.ndim == 2
        x = x[None] if squeeze else x
        n_in = self.model.n_inputs
        if x.ndim != 3 or x.shape[2] != n_in:
            raise DataError(f"spikes must have shape (batch, T, {n_in}) or (T, {n_in}); got {np.shape(x)}.")
        check_binary(x)
        h = torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2), dtype=np.float32))
        scores = self.model.run(h, self._apply).numpy()
        return scores[0] if squeeze else scores


#: The checkpoint kind of an event model: a delay network with its preprocessing and class names.
KIND = "snn-event-model"


def save_event_model(
    path: str | Path,
    model: DelaySNN | ConvSNN,
    preprocessing: EventPreprocessing,
    classes: list[str],
    **extra: Any,
) -> Path:
    """Save the model with its preprocessing and class names as a :mod:`neurosig.core.persist` checkpoint."""
    extra = {"preprocessing": preprocessing.to_dict(), "classes": list(classes), **extra}
    return persist.save_checkpoint(path, KIND, model.config, model.state_dict(), extra)


def load_event_model(path: str | Path) -> tuple[DelaySNN | ConvSNN, EventPreprocessing, list[str]]:
    """The model (eval mode, rounded delays), its preprocessing and class names from :func:`save_event_model`.

    Raises
    ------
    DataError
        If the file does not exist.
    FormatError
        If the file is not an event-model checkpoint (e.g. an ``snn_delays`` one, which has no
        preprocessing; use the ``model.pt`` that the ``event_train`` job writes), or is damaged.
    """
    model, checkpoint = persist.restore(path, KIND, build_model)
    for layer in model.delay_layers():
        layer.round_delays()
    extra = checkpoint.extra
    return model.eval(), EventPreprocessing.from_config(**extra["preprocessing"]), list(extra["classes"])


def window_events(
    events: np.ndarray, window: int, t0: int | None = None, hop: int | None = None
) -> list[np.ndarray]:
    """Cut time-ordered events into windows ``[t0 + k hop, t0 + k hop + window)`` µs, empty ones included.

    ``t0`` defaults to the first event's time and ``hop`` to ``window`` (windows side by side; a
    smaller hop gives overlapping, sliding windows). The last window is the last one that starts at
    or before the last event.
    """
    if len(events) == 0:
        return []
    hop = window if hop is None else hop
    t = events["t"]
    start = int(t[0]) if t0 is None else int(t0)
    starts = start + hop * np.arange((int(t[-1]) - start) // hop + 1)
    first = np.searchsorted(t, starts, side="left")
    last = np.searchsorted(t, starts + window, side="left")
    return [events[a:b] for a, b in zip(first, last, strict=True)]
