"""FEAST feature extraction on event streams: a stateful extractor and a stage.

See :mod:`neurosig.kernels.feast` for the algorithm (Afshar et al. 2020). :class:`Feast` keeps the
neurons' weights, thresholds and the per-pixel last timestamps between calls, so learning continues
across chunks; it exposes the convergence signals the paper uses: the missed-event rate and the
threshold trajectories, which :class:`ConvergenceLog` keeps for a whole stream in bounded memory.
:class:`FeastStage` turns an :class:`~neurosig.core.chunks.EventChunk` stream into a feature-event
stream whose "polarity" is the winning feature, and reports the convergence with the output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pydantic

from neurosig.core.chunks import EventChunk, EventInfo
from neurosig.core.errors import ConfigError
from neurosig.core.stage import Stage
from neurosig.kernels.feast import feast

__all__ = ["ConvergenceLog", "Feast", "FeastOutput", "FeastStage"]


@dataclass(frozen=True)
class FeastOutput:
    """What one :meth:`Feast.process` call produced.

    Attributes
    ----------
    features : ndarray of int64, shape (n_events,)
        Winning neuron per input event, ``-1`` for a missed event.
    thresholds : ndarray, shape (n_records, n_neurons)
        Thresholds sampled every ``record_every`` events (the trajectories).
    missed_rate : float
        Fraction of this call's events that no neuron claimed.
    """

    features: np.ndarray
    thresholds: np.ndarray
    missed_rate: float


class Feast:
    """Stateful FEAST extractor.

    Parameters
    ----------
    sensor_size : tuple of int
        ``(width, height, polarities)``.
    n_neurons : int
        Number of features (at most 127 for a feature-event stream).
    radius : int
        Context window radius ``r`` in pixels (window ``(2r + 1)²``).
    tau : float
        Time-surface decay in seconds.
    eta : float
        Learning rate of the winner's weights.
    d_open, d_close : float
        Threshold decrease on a missed event (all neurons) and increase of the winner.
    seed : int
        Seed of the random unit-norm initial weights.
    record_every : int
        Sample the thresholds every this many events.
    """

    def __init__(
        self,
        sensor_size: tuple[int, int, int],
        n_neurons: int = 8,
        radius: int = 3,
        tau: float = 0.005,
        eta: float = 0.005,
        d_open: float = 0.02,
        d_close: float = 0.002,
        seed: int = 0,
        record_every: int = 100,
    ) -> None:
        if n_neurons < 1 or radius < 0 or tau <= 0 or not 0 < eta <= 1 or d_open < 0 or d_close < 0:
            raise ConfigError(
                "FEAST needs n_neurons >= 1, radius >= 0, tau > 0 s, 0 < eta <= 1, d_open >= 0 and "
                "d_close >= 0; "
                f"got n_neurons={n_neurons}, radius={radius}, tau={tau}, eta={eta}, d_open={d_open}, "
                f"d_close={d_close}."
            )
        self.info = EventInfo(sensor_size)
        self.n_neurons, self.radius, self.tau, self.eta = int(n_neurons), int(radius), float(tau), float(eta)
        self.d_open, self.d_close, self.seed, self.record_every = (
            float(d_open),
            float(d_close),
            seed,
            record_every,
        )
        self.reset()

    def reset(self) -> None:
        """Back to the initial weights, zero thresholds, and an empty time surface."""
        size = (2 * self.radius + 1) ** 2
        w = np.random.default_rng(self.seed).random((self.n_neurons, size))
        self.weights = w / np.linalg.norm(w, axis=1, keepdims=True)
        self.thresholds = np.zeros(self.n_neurons)
        width, height = self.info.sensor_size[:2]
        self.last_ts = np.full((width, height), -np.inf)
        self._seen = 0

    def process(self, events: np.ndarray, learn: bool = True) -> FeastOutput:
        """Feed events (:data:`EVENTS_DTYPE`, time-ordered); learn unless ``learn=False``.

        Raises
        ------
        DataError
            On a wrong dtype, pixels outside the sensor, or timestamps that go back in time.
        """
        features, history = feast(
            events,
            self.last_ts,
            self.weights,
            self.thresholds,
            self.radius,
            self.tau,
            self.eta,
            self.d_open,
            self.d_close,
            learn=learn,
            record_every=self.record_every,
            offset=self._seen,
        )
        self._seen += len(events)
        missed = float(np.mean(features < 0)) if len(events) else 0.0
        return FeastOutput(features, history, missed)


class ConvergenceLog:
    """FEAST's convergence signals over a whole stream, in bounded memory.

    Every :meth:`Feast.process` result is added in stream order. A sample is kept after every
    ``record_every``-th event of the stream (where :class:`Feast` records the thresholds): the events
    seen so far, the missed events so far, and the thresholds. When more than ``max_points`` samples
    are kept, the grid's step doubles (samples after multiples of ``2 × record_every`` events, then
    ``4 ×`` ...), so the log is the same however the stream was chunked, and the missed-event rate
    between any two kept samples stays exact (the counts are cumulative).

    Parameters
    ----------
    n_neurons : int
        The extractor's number of neurons.
    record_every : int
        The extractor's ``record_every``, in events.
    max_points : int
        Most samples kept.
    """

    def __init__(self, n_neurons: int, record_every: int, max_points: int = 2000) -> None:
        self.record_every, self.max_points = int(record_every), int(max_points)
        self.stride = 1
        self.events = np.zeros(0, dtype=np.int64)
        self.missed = np.zeros(0, dtype=np.int64)
        self.thresholds = np.zeros((0, n_neurons))
        self.n_events = self.n_missed = 0

    def add(self, output: FeastOutput) -> None:
        """Take the next :meth:`Feast.process` result of the stream."""
        every = self.record_every
        is_missed = output.features < 0
        first = (every - 1 - self.n_events) % every  # local index of the first recorded event
        at = np.arange(first, len(output.features), every)[: len(output.thresholds)]
        events = self.n_events + at + 1
        keep = (events // every) % self.stride == 0
        missed = self.n_missed + np.cumsum(is_missed)[at]
        self.events = np.concatenate([self.events, events[keep]])
        self.missed = np.concatenate([self.missed, missed[keep]])
        self.thresholds = np.concatenate([self.thresholds, output.thresholds[keep]])
        self.n_events += len(output.features)
        self.n_missed += int(is_missed.sum())
        while len(self.events) > self.max_points:
            self.stride *= 2
            thin = (self.events // every) % self.stride == 0
            self.events, self.missed = self.events[thin], self.missed[thin]
            self.thresholds = self.thresholds[thin]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the totals, the sample grid and, per sample, events, missed events, thresholds."""
        return {
            "n_events": self.n_events,
            "n_missed": self.n_missed,
            "missed_rate": self.n_missed / self.n_events if self.n_events else 0.0,
            "sample_every_events": self.record_every * self.stride,
            "events": self.events.tolist(),
            "missed_events": self.missed.tolist(),
            "thresholds": self.thresholds.tolist(),
        }


class FeastStage(Stage):
    """FEAST as a stage: events in, feature events out (``p`` = winning feature; missed events dropped).

    Parameters
    ----------
    n_neurons : int
        Number of features (1–127); the output's ``sensor_size`` is ``(width, height, n_neurons)``.
    radius : int
        Context window radius in pixels.
    tau : float
        Time-surface decay in seconds.
    eta : float
        Winner learning rate.
    d_open, d_close : float
        Threshold changes on a missed event and for a winner.
    learn : bool
        Keep adapting while streaming (``False``: a frozen extractor after :meth:`reset`).
    seed : int
        Seed of the initial weights.
    report_dir : str | None
        Where to write ``feast_report.json`` and ``feast_report.png`` (the learnt features, the
        threshold trajectories and the missed-event rate) when the stream ends. Either way the same
        report is stored with the output (:meth:`side_output`).
    """

    name = "feast"
    accepts = (EventChunk,)

    def __init__(
        self,
        n_neurons: Annotated[int, pydantic.Field(ge=1, le=127)] = 8,
        radius: Annotated[int, pydantic.Field(ge=0)] = 3,
        tau: Annotated[float, pydantic.Field(gt=0)] = 0.005,
        eta: Annotated[float, pydantic.Field(gt=0, le=1)] = 0.005,
        d_open: Annotated[float, pydantic.Field(ge=0)] = 0.02,
        d_close: Annotated[float, pydantic.Field(ge=0)] = 0.002,
        learn: bool = True,
        seed: int = 0,
        report_dir: str | None = None,
    ) -> None:
        self.n_neurons = n_neurons
        self.radius = radius
        self.tau = tau
        self.eta = eta
        self.d_open = d_open
        self.d_close = d_close
        self.learn = learn
        self.seed = seed
        self.report_dir = report_dir
        self.reset()

    def reset(self) -> None:
        """Forget the learnt state, the time surface and the convergence log."""
        self.extractor: Feast | None = None
        self.log: ConvergenceLog | None = None

    def side_output(self) -> dict[str, Any] | None:
        """The convergence log (:class:`ConvergenceLog`) and the learnt weights, stored with the output."""
        if self.extractor is None or self.log is None:
            return None
        return {**self.log.to_dict(), "radius": self.radius, "weights": self.extractor.weights.tolist()}

    def _process(self, chunk: EventChunk) -> Iterable[EventChunk]:
        if self.extractor is None:
            self.extractor = Feast(
                chunk.info.sensor_size,
                self.n_neurons,
                self.radius,
                self.tau,
                self.eta,
                self.d_open,
                self.d_close,
                self.seed,
            )
            self.log = ConvergenceLog(self.n_neurons, self.extractor.record_every)
        result = self.extractor.process(chunk.events, learn=self.learn)
        self.log.add(result)
        keep = result.features >= 0
        out = chunk.events[keep].copy()
        out["p"] = result.features[keep]
        width, height = chunk.info.sensor_size[:2]
        return [EventChunk(out, EventInfo((width, height, self.n_neurons)))]

    def _flush(self) -> Iterable[EventChunk]:
        report = self.side_output()
        if self.report_dir is not None and report is not None:
            from neurosig.snn.report import plot_feast

            folder = Path(self.report_dir)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "feast_report.json").write_text(json.dumps(report))
            plot_feast(report, folder / "feast_report.png")
        return ()
