"""A simulated event camera: moving bars and dots over background noise and hot pixels, seeded.

For demos and tests that must run offline. Every event is labelled by what made it
(:attr:`SimulatedEventSource.truth`), so denoising and hot-pixel removal can be scored.
:func:`motion_sample` gives one short recording of a bar or a dot moving in one of eight directions,
the class of the simulated training set (:func:`neurosig.data.event_dataset.simulated_motion`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import numpy as np
import pydantic

from neurosig.core.chunks import EVENTS_DTYPE, EventChunk, EventInfo
from neurosig.core.errors import ConfigError
from neurosig.core.stage import Source

__all__ = [
    "SimulatedEventSource",
    "SIGNAL",
    "NOISE",
    "HOT",
    "moving_object",
    "background_noise",
    "hot_pixels",
    "motion_sample",
    "N_DIRECTIONS",
]

#: Directions of :func:`motion_sample`: class ``k`` moves at ``k * 45`` degrees (0: +x, 90: +y).
N_DIRECTIONS = 8

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

    def _objects(self, rng, t_end) -> np.ndarray:
        w, h = self.width, self.height
        out = []
        for k in range(self.n_objects):
            speed = rng.uniform(0.5, 2.0) * max(w, h)  # pixels per second
            angle = rng.uniform(0, 2 * np.pi)
            x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
            out.append(moving_object(rng, t_end, (w, h), (x0, y0), angle, speed, bar=k % 2 == 0))
        if not out:
            return np.zeros(0, EVENTS_DTYPE)
        return np.concatenate(out)

    def _noise(self, rng, t_end) -> np.ndarray:
        return background_noise(rng, t_end, (self.width, self.height), self.noise_rate)

    def _hot(self, rng, t_end) -> np.ndarray:
        return hot_pixels(rng, t_end, (self.width, self.height), self.n_hot_pixels, self.hot_rate)


def motion_sample(
    direction: int,
    seed: int,
    duration: float = 0.1,
    width: int = 32,
    height: int = 32,
    speed: tuple[float, float] = (100.0, 200.0),
    noise_rate: float = 1.0,
    n_hot_pixels: int = 1,
    hot_rate: float = 300.0,
) -> np.ndarray:
    """One labelled recording: a bar or a dot moving in one of :data:`N_DIRECTIONS` directions.

    Parameters
    ----------
    direction : int
        Class ``0 .. 7``; the object moves at ``direction * 45`` degrees (image axes: +x right, +y down).
    seed : int
        Seed of the shape (bar or dot, even odds), start near the centre, speed, noise and hot pixels.
    duration : float
        Seconds of recording.
    width, height : int
        Sensor size in pixels.
    speed : tuple of float
        Range of speeds in pixels per second (drawn uniformly).
    noise_rate : float
        Background events per pixel per second.
    n_hot_pixels : int
        Pixels firing at ``hot_rate`` Hz.
    hot_rate : float
        Hot-pixel rate in Hz.

    Returns
    -------
    ndarray of EVENTS_DTYPE
        Events in time order, ``t`` in µs from 0.
    """
    if not 0 <= direction < N_DIRECTIONS:
        raise ConfigError(f"direction must be a class in 0..{N_DIRECTIONS - 1}, got {direction!r}.")
    rng = np.random.default_rng(seed)
    t_end = int(round(duration * 1e6))
    bar = bool(rng.integers(0, 2))
    start = (
        width / 2 + rng.uniform(-width / 8, width / 8),
        height / 2 + rng.uniform(-height / 8, height / 8),
    )
    pace = rng.uniform(*speed)
    angle = direction * 2 * np.pi / N_DIRECTIONS
    parts = [
        moving_object(rng, t_end, (width, height), start, angle, pace, bar),
        background_noise(rng, t_end, (width, height), noise_rate),
        hot_pixels(rng, t_end, (width, height), n_hot_pixels, hot_rate),
    ]
    events = np.concatenate(parts)
    return events[np.argsort(events["t"], kind="stable")]


def _pack(t, x, y, p) -> np.ndarray:
    ev = np.zeros(len(t), EVENTS_DTYPE)
    ev["t"], ev["x"], ev["y"], ev["p"] = t, x, y, p
    return ev


def moving_object(
    rng: np.random.Generator,
    t_end: int,
    size: tuple[int, int],
    start: tuple[float, float],
    angle: float,
    speed: float,
    bar: bool,
) -> np.ndarray:
    """Events of one bar or dot crossing the sensor in a straight line (wrapping at the edges).

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the timing jitter of each event (0-200 µs).
    t_end : int
        End of the recording in µs; events at or after it are dropped.
    size : tuple of int
        Sensor ``(width, height)`` in pixels.
    start : tuple of float
        Position ``(x, y)`` of the object's centre at ``t = 0``, in pixels.
    angle : float
        Direction of motion in radians (0: +x, pi / 2: +y).
    speed : float
        Pixels per second.
    bar : bool
        A 9-pixel bar perpendicular to the motion (True) or a 3 x 3 dot (False).

    Returns
    -------
    ndarray of EVENTS_DTYPE
        ON events at the leading edge and OFF events ``3 / speed`` s later, not in time order.
    """
    w, h = size
    dx, dy = np.cos(angle), np.sin(angle)
    times = np.arange(0, t_end, int(1e6 / speed))  # one pixel of travel per step
    cx = (start[0] + dx * speed * times * 1e-6) % w
    cy = (start[1] + dy * speed * times * 1e-6) % h
    if bar:  # perpendicular to the motion, 9 pixels long
        offsets = np.arange(-4, 5)
        px = (cx[:, None] - dy * offsets[None]).round().astype(int) % w
        py = (cy[:, None] + dx * offsets[None]).round().astype(int) % h
    else:
        ox, oy = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2))
        px = (cx[:, None] + ox.ravel()[None]).round().astype(int) % w
        py = (cy[:, None] + oy.ravel()[None]).round().astype(int) % h
    tt = np.repeat(times, px.shape[1]) + rng.integers(0, 200, px.size)
    on = np.ones(px.size, np.int8)  # leading edge ON, trailing OFF one step later
    ev = np.concatenate(
        [_pack(tt, px.ravel(), py.ravel(), on), _pack(tt + int(3e6 / speed), px.ravel(), py.ravel(), 0 * on)]
    )
    return ev[ev["t"] < t_end]


def background_noise(rng: np.random.Generator, t_end: int, size: tuple[int, int], rate: float) -> np.ndarray:
    """Uniform background activity: ``rate`` events per pixel per second over ``[0, t_end)`` µs."""
    w, h = size
    n = rng.poisson(rate * w * h * t_end * 1e-6)
    t, x = rng.integers(0, t_end, n), rng.integers(0, w, n)
    return _pack(t, x, rng.integers(0, h, n), rng.integers(0, 2, n))


def hot_pixels(rng: np.random.Generator, t_end: int, size: tuple[int, int], n_pixels: int, rate: float):
    """Events of ``n_pixels`` random pixels firing at ``rate`` Hz over ``[0, t_end)`` µs."""
    w, h = size
    out = []
    for _ in range(n_pixels):
        x, y = rng.integers(0, w), rng.integers(0, h)
        n = rng.poisson(rate * t_end * 1e-6)
        t = rng.integers(0, t_end, n)
        out.append(_pack(t, np.full(n, x), np.full(n, y), rng.integers(0, 2, n)))
    return np.concatenate(out) if out else np.zeros(0, EVENTS_DTYPE)
