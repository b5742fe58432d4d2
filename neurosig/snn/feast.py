"""FEAST feature extraction on event streams: a stateful extractor and a stage.

See :mod:`neurosig.kernels.feast` for the algorithm (Afshar et al. 2020). :class:`Feast` keeps the
neurons' weights, thresholds and the per-pixel last timestamps between calls, so learning continues
across chunks; it exposes the convergence signals the paper uses: the missed-event rate and the
threshold trajectories. :class:`FeastStage` turns an :class:`~neurosig.core.chunks.EventChunk` stream
into a feature-event stream whose "polarity" is the winning feature.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import pydantic

from neurosig.core.chunks import EventChunk, EventInfo
from neurosig.core.errors import ConfigError
from neurosig.core.stage import Stage
from neurosig.kernels.feast import feast

__all__ = ["Feast", "FeastOutput", "FeastStage"]


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
    ) -> None:
        self.n_neurons = n_neurons
        self.radius = radius
        self.tau = tau
        self.eta = eta
        self.d_open = d_open
        self.d_close = d_close
        self.learn = learn
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        """Forget the learnt state and the time surface."""
        self.extractor: Feast | None = None

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
        result = self.extractor.process(chunk.events, learn=self.learn)
        keep = result.features >= 0
        out = chunk.events[keep].copy()
        out["p"] = result.features[keep]
        width, height = chunk.info.sensor_size[:2]
        return [EventChunk(out, EventInfo((width, height, self.n_neurons)))]
