"""A simulated event camera: moving bars and dots over background noise and hot pixels, seeded.

For demos and tests that must run offline. Every event is labelled by what made it
(:attr:`SimulatedEventSource.truth`), so denoising and hot-pixel removal can be scored.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import numpy as np
import pydantic

from neurosig.core.chunks import EVENTS_DTYPE, EventChunk, EventInfo
from neurosig.core.stage import Source

__all__ = ["SimulatedEventSource", "SIGNAL", "NOISE", "HOT"]

#: Event origins in :attr:`SimulatedEventSource.truth`.
SIGNAL, NOISE, HOT = 0, 1, 2


class SimulatedEventSource(Source):
    """Events of a camera watching bars and dots move, in time windows of ``chunk_duration``.

    Parameters
    ----------
    duration : float
        Seconds of recording.
    width, height : int
        Sensor size in pixels.
    n_objects : int
        Moving bars and dots (alternating), each with a random direction and speed.
    noise_rate : float
        Background-activity events per pixel per second.
    n_hot_pixels : int
        Pixels that fire at ``hot_rate`` events per second.
    hot_rate : float
        Firing rate of a hot pixel in Hz.
    seed : int
        Seed of every random choice.
    chunk_duration : float
        Seconds per emitted chunk.
    """

    name = "simulate_events"

    def __init__(
        self,
        duration: Annotated[float, pydantic.Field(gt=0)] = 1.0,
        width: Annotated[int, pydantic.Field(ge=8, le=4096)] = 128,
        height: Annotated[int, pydantic.Field(ge=8, le=4096)] = 96,
        n_objects: Annotated[int, pydantic.Field(ge=0)] = 4,
        noise_rate: Annotated[float, pydantic.Field(ge=0)] = 0.5,
        n_hot_pixels: Annotated[int, pydantic.Field(ge=0)] = 3,
        hot_rate: Annotated[float, pydantic.Field(gt=0)] = 500.0,
        seed: int = 0,
        chunk_duration: Annotated[float, pydantic.Field(gt=0)] = 0.05,
    ):
        self.duration = duration
        self.width = width
        self.height = height
        self.n_objects = n_objects
        self.noise_rate = noise_rate
        self.n_hot_pixels = n_hot_pixels
        self.hot_rate = hot_rate
        self.seed = seed
        self.chunk_duration = chunk_duration
        self._events, self._truth = self._generate()

    @property
    def info(self) -> EventInfo:
        """Sensor size ``(width, height, 2)``."""
        return EventInfo((self.width, self.height, 2))

    @property
    def truth(self) -> np.ndarray:
        """Origin of every event, in stream order: :data:`SIGNAL`, :data:`NOISE` or :data:`HOT`."""
        return self._truth

    @property
    def n_chunks(self) -> int:
        """Time windows the source yields."""
        return int(np.ceil(self.duration / self.chunk_duration))

    def describe(self) -> dict[str, Any]:
        """Provenance: the simulator and its parameters."""
        return {"type": self.name, "params": self.get_params()}

    def __iter__(self) -> Iterator[EventChunk]:
        step = int(round(self.chunk_duration * 1e6))
        edges = np.arange(0, int(round(self.duration * 1e6)) + step, step)
        bounds = np.searchsorted(self._events["t"], edges)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            yield EventChunk(self._events[a:b].copy(), self.info)

    def _generate(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        t_end = int(round(self.duration * 1e6))
        parts = [self._objects(rng, t_end), self._noise(rng, t_end), self._hot(rng, t_end)]
        events = np.concatenate(parts)
        truth = np.concatenate([np.full(len(p), k, np.int8) for k, p in enumerate(parts)])
        order = np.argsort(events["t"], kind="stable")
        return events[order], truth[order]

    def _pack(self, t, x, y, p) -> np.ndarray:
        ev = np.zeros(len(t), EVENTS_DTYPE)
        ev["t"], ev["x"], ev["y"], ev["p"] = t, x, y, p
        return ev

    def _objects(self, rng, t_end) -> np.ndarray:
        w, h = self.width, self.height
        out = []
        for k in range(self.n_objects):
            speed = rng.uniform(0.5, 2.0) * max(w, h)  # pixels per second
            angle = rng.uniform(0, 2 * np.pi)
            dx, dy = np.cos(angle), np.sin(angle)
            x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
            times = np.arange(0, t_end, int(1e6 / speed))  # one pixel of travel per step
            cx = (x0 + dx * speed * times * 1e-6) % w
            cy = (y0 + dy * speed * times * 1e-6) % h
            if k % 2 == 0:  # a bar perpendicular to the motion, 9 pixels long
                offsets = np.arange(-4, 5)
                px = (cx[:, None] - dy * offsets[None]).round().astype(int) % w
                py = (cy[:, None] + dx * offsets[None]).round().astype(int) % h
            else:  # a 3 x 3 dot
                ox, oy = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2))
                px = (cx[:, None] + ox.ravel()[None]).round().astype(int) % w
                py = (cy[:, None] + oy.ravel()[None]).round().astype(int) % h
            tt = np.repeat(times, px.shape[1]) + rng.integers(0, 200, px.size)
            on = np.ones(px.size, np.int8)  # leading edge ON, trailing OFF one step later
            out.append(self._pack(tt, px.ravel(), py.ravel(), on))
            out.append(self._pack(tt + int(3e6 / speed), px.ravel(), py.ravel(), np.zeros_like(on)))
        if not out:
            return np.zeros(0, EVENTS_DTYPE)
        ev = np.concatenate(out)
        return ev[ev["t"] < t_end]

    def _noise(self, rng, t_end) -> np.ndarray:
        n = rng.poisson(self.noise_rate * self.width * self.height * t_end * 1e-6)
        t, x = rng.integers(0, t_end, n), rng.integers(0, self.width, n)
        return self._pack(t, x, rng.integers(0, self.height, n), rng.integers(0, 2, n))

    def _hot(self, rng, t_end) -> np.ndarray:
        out = []
        for _ in range(self.n_hot_pixels):
            x, y = rng.integers(0, self.width), rng.integers(0, self.height)
            n = rng.poisson(self.hot_rate * t_end * 1e-6)
            t = rng.integers(0, t_end, n)
            out.append(self._pack(t, np.full(n, x), np.full(n, y), rng.integers(0, 2, n)))
        return np.concatenate(out) if out else np.zeros(0, EVENTS_DTYPE)
