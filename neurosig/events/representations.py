"""Streaming representations: event streams in, :class:`~neurosig.core.chunks.SpikeChunk` streams out.

Representations leave the event stream. Every stage here emits dense frames as a ``SpikeChunk`` whose
``data`` is ``(T, P * H * W)``: the ``(T, P, H, W)`` frames (time, polarity channel, row, column) of
:mod:`neurosig.kernels.event_repr` flattened in C order, so ``chunk.data.reshape(T, P, H, W)`` with the
input's ``sensor_size = (W, H, P)`` gives them back (voxel grids have ``P = 1``). ``SpikeChunk.start``
counts frames from the first event; ``info.dt`` is the frame length in seconds (0 for event-count
frames, whose duration varies).

Time-window frames, spikes and time surfaces stream in bounded memory (one window is held back).
Frames over a fixed number of bins and voxel grids are normalised by the whole stream's duration, so
those stages hold every event until :meth:`~neurosig.core.stage.Stage.flush`.

Local time surfaces are one step per event instead: ``(N, P * (2r + 1)**2)``, whose ``info.shape`` is
the ``(P, 2r + 1, 2r + 1)`` patch; ``start`` counts events from the first one and ``info.dt`` is 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from neurosig.core.chunks import EVENTS_DTYPE, EventChunk, SpikeChunk, SpikeInfo
from neurosig.core.validate import check_one_of, check_output_bytes
from neurosig.events._base import EventStage
from neurosig.kernels.event_repr import (
    accumulate_frames_by_index,
    accumulate_frames_by_time,
    fill_local_time_surfaces,
    fill_time_surfaces_from_events,
    new_surface_memory,
    to_frame,
    to_voxel_grid,
)

__all__ = [
    "ToFramesStage",
    "ToSpikesStage",
    "ToVoxelGridStage",
    "ToTimeSurfaceStage",
    "ToLocalTimeSurfaceStage",
]

PositiveInt = Annotated[int, Field(gt=0)]


def _zeros(n: int, sensor_size: tuple[int, int, int], dtype) -> np.ndarray:
    w, h, n_pol = sensor_size
    shape = check_output_bytes(
        (n, n_pol, h, w), dtype, "the output (T, P, H, W)", "the time step or sensor_size"
    )
    return np.zeros(shape, dtype=dtype)


def _spikes(frames: np.ndarray, dt_s: float, start: int) -> SpikeChunk:
    flat = frames.reshape(frames.shape[0], int(np.prod(frames.shape[1:])))
    return SpikeChunk(flat, SpikeInfo(dt=dt_s, n_units=flat.shape[1], shape=frames.shape[1:]), start)


class _ReprStage(EventStage):
    """Holds the stream origin, the next frame index, and the events not yet in a finished frame."""

    def reset(self) -> None:
        super().reset()
        self._size: tuple[int, int, int] | None = None
        self._t0: int | None = None
        self._next = 0
        self._pending = np.empty(0, dtype=EVENTS_DTYPE)

    def _take(self, chunk: EventChunk) -> np.ndarray:
        self._size = chunk.info.sensor_size
        ev = np.concatenate([self._pending, chunk.events]) if len(self._pending) else chunk.events
        if self._t0 is None and len(ev):
            self._t0 = int(ev["t"][0])
        return ev


class ToFramesStage(_ReprStage):
    """Event-count frames, sliced by time window, event count, or a fixed number of bins.

    Parameters are those of :func:`neurosig.kernels.event_repr.to_frame` (give exactly one of the four
    slicing parameters); the output is a ``SpikeChunk`` of int32 counts ``(T, P * H * W)``.

    Parameters
    ----------
    time_window : int | None
        Frame length in µs (streams).
    event_count : int | None
        Events per frame (streams).
    n_time_bins, n_event_bins : int | None
        Fixed number of frames over the whole stream (emitted at the end of the stream).
    include_incomplete : bool
        Emit the last, unfinished frame of ``time_window``/``event_count`` slicing.
    """

    name = "to_frames"

    def __init__(
        self,
        time_window: PositiveInt | None = None,
        event_count: PositiveInt | None = None,
        n_time_bins: PositiveInt | None = None,
        n_event_bins: PositiveInt | None = None,
        include_incomplete: bool = True,
    ):
        self.time_window = time_window
        self.event_count = event_count
        self.n_time_bins = n_time_bins
        self.n_event_bins = n_event_bins
        self.include_incomplete = include_incomplete

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """Exactly one way of slicing the stream into frames."""
        modes = ("time_window", "event_count", "n_time_bins", "n_event_bins")
        check_one_of("to_frames", {m: params[m] for m in modes})

    def reset(self) -> None:
        super().reset()
        self._held: list[np.ndarray] = []

    def _mode(self) -> tuple[int | None, int | None, int | None, int | None, bool]:
        """``(time_window, event_count, n_time_bins, n_event_bins, include_incomplete)``."""
        windows = (self.time_window, self.event_count, self.n_time_bins, self.n_event_bins)
        return (*windows, self.include_incomplete)

    def _events(self, chunk: EventChunk) -> Iterable[SpikeChunk]:
        w, count, n_time_bins, n_event_bins, _ = self._mode()
        if n_time_bins or n_event_bins:
            self._size = chunk.info.sensor_size
            self._held.append(chunk.events)
            return
        ev = self._take(chunk)
        if not len(ev):
            return
        x, y, p = ev["x"], ev["y"], ev["p"]
        if count:
            n_full = len(ev) // count
            if n_full:
                cut = n_full * count
                frames = _zeros(n_full, self._size, np.int32)
                accumulate_frames_by_index(x[:cut], y[:cut], p[:cut], 0, 1, count, frames)
                yield _spikes(frames, 0.0, self._next)
                self._next += n_full
                ev = ev[cut:]
            self._pending = ev
            return
        k_done = (int(ev["t"][-1]) - self._t0) // w
        if k_done > self._next:
            cut = int(np.searchsorted(ev["t"], self._t0 + k_done * w, side="left"))
            frames = _zeros(k_done - self._next, self._size, np.int32)
            t0 = self._t0 + self._next * w
            accumulate_frames_by_time(ev["t"][:cut], x[:cut], y[:cut], p[:cut], t0, 1, w, frames, False)
            yield _spikes(frames, w * 1e-6, self._next)
            self._next = k_done
            ev = ev[cut:]
        self._pending = ev

    def _flush(self) -> Iterable[SpikeChunk]:
        if self._size is None:
            return
        w, count, n_time_bins, n_event_bins, include_incomplete = self._mode()
        if n_time_bins or n_event_bins:
            events = np.concatenate(self._held)
            frames = to_frame(events, self._size, n_time_bins=n_time_bins, n_event_bins=n_event_bins)
            dt = 0.0
            if n_time_bins and len(events):
                dt = (int(events["t"][-1]) - int(events["t"][0])) / n_time_bins * 1e-6
            yield _spikes(frames, dt, 0)
        elif include_incomplete and len(self._pending):
            ev = self._pending
            frames = _zeros(1, self._size, np.int32)
            if count:
                accumulate_frames_by_index(ev["x"], ev["y"], ev["p"], 0, 0, 1, frames)
                yield _spikes(frames, 0.0, self._next)
            else:
                t0 = self._t0 + self._next * w
                accumulate_frames_by_time(ev["t"], ev["x"], ev["y"], ev["p"], t0, 1, w, frames, False)
                yield _spikes(frames, w * 1e-6, self._next)


class ToSpikesStage(ToFramesStage):
    """Spike tensors for spiking networks: events binned in steps of ``dt`` µs, ``(T, P * H * W)``.

    Step ``k`` holds ``[t0 + k dt, t0 + (k + 1) dt)`` from the first event ``t0``; the last, incomplete
    step is emitted at the end of the stream so that no event is lost. Units are the pixels in C order,
    ``unit = (p * H + y) * W + x``.

    Parameters
    ----------
    dt : int
        Step length in µs.
    binary : bool
        0/1 spikes (uint8) if True (default), else event counts (int32).
    """

    name = "to_spikes"

    def __init__(self, dt: PositiveInt = 1_000, binary: bool = True):
        self.dt = dt
        self.binary = binary

    def _mode(self) -> tuple[int | None, int | None, int | None, int | None, bool]:
        """Time windows of ``dt``, the last, incomplete one included."""
        return (self.dt, None, None, None, True)

    def _binarise(self, chunks: Iterable[SpikeChunk]) -> Iterable[SpikeChunk]:
        for c in chunks:
            data = np.minimum(c.data, 1).astype(np.uint8) if self.binary else c.data
            yield SpikeChunk(data, c.info, c.start)

    def _events(self, chunk: EventChunk) -> Iterable[SpikeChunk]:
        return self._binarise(super()._events(chunk))

    def _flush(self) -> Iterable[SpikeChunk]:
        return self._binarise(super()._flush())


class ToVoxelGridStage(_ReprStage):
    """Voxel grid over the whole stream (Zhu et al. 2019), emitted at the end as ``(B, H * W)`` float32.

    See :func:`neurosig.kernels.event_repr.to_voxel_grid`. ``info.dt`` is the bin spacing in seconds,
    ``(t_last - t0) / (B - 1)``.

    Parameters
    ----------
    n_time_bins : int
        Number of time bins ``B``.
    """

    name = "to_voxel_grid"

    def __init__(self, n_time_bins: PositiveInt = 10):
        self.n_time_bins = n_time_bins

    def reset(self) -> None:
        super().reset()
        self._held: list[np.ndarray] = []

    def _events(self, chunk: EventChunk) -> Iterable[SpikeChunk]:
        self._size = chunk.info.sensor_size
        self._held.append(chunk.events)
        return ()

    def _flush(self) -> Iterable[SpikeChunk]:
        if self._size is None:
            return
        events = np.concatenate(self._held)
        grid = to_voxel_grid(events, self._size, self.n_time_bins)
        dt = 0.0
        if len(events) and self.n_time_bins > 1:
            dt = (int(events["t"][-1]) - int(events["t"][0])) / (self.n_time_bins - 1) * 1e-6
        yield _spikes(grid, dt, 0)


class ToTimeSurfaceStage(_ReprStage):
    """Global time surfaces sampled every ``dt`` µs, ``(T, P * H * W)`` float32, in bounded memory.

    See :func:`neurosig.kernels.event_repr.to_time_surface`: surface ``k`` is sampled at
    ``t0 + (k + 1) dt`` as ``exp(-(t_sample - t_last) / tau)`` per pixel and polarity.

    Parameters
    ----------
    dt : int
        Sampling interval in µs.
    tau : float
        Decay time constant in µs.
    include_incomplete : bool
        Also sample the window holding the last event, at the end of the stream.
    """

    name = "to_time_surface"

    def __init__(
        self,
        dt: PositiveInt = 5_000,
        tau: Annotated[float, Field(gt=0)] = 5_000.0,
        include_incomplete: bool = False,
    ):
        self.dt = dt
        self.tau = tau
        self.include_incomplete = include_incomplete

    def reset(self) -> None:
        super().reset()
        self._memory: np.ndarray | None = None

    def _fill(self, ev: np.ndarray, n_out: int) -> SpikeChunk:
        if self._memory is None:
            self._memory = new_surface_memory(self._size)
        out = _zeros(n_out, self._size, np.float32)
        fill_time_surfaces_from_events(ev, self._t0, self.dt, self.tau, self._next, self._memory, out)
        chunk = _spikes(out, self.dt * 1e-6, self._next)
        self._next += n_out
        return chunk

    def _events(self, chunk: EventChunk) -> Iterable[SpikeChunk]:
        ev = self._take(chunk)
        if not len(ev):
            return
        k_done = (int(ev["t"][-1]) - self._t0) // self.dt
        out = self._fill(ev, k_done - self._next)
        if out.n_steps:
            yield out

    def _flush(self) -> Iterable[SpikeChunk]:
        if self.include_incomplete and self._t0 is not None:
            yield self._fill(np.empty(0, dtype=EVENTS_DTYPE), 1)


class ToLocalTimeSurfaceStage(EventStage):
    """Per-event local time surfaces (HOTS/FEAST-style features), ``(N, P * (2r + 1)**2)`` float32.

    See :func:`neurosig.kernels.event_repr.to_local_time_surfaces`: each event first sets its pixel's
    memory, then reads the ``(P, 2r + 1, 2r + 1)`` patch around it as ``exp(-(t - t_last) / tau)`` (0
    outside the sensor and where a pixel never fired). The per-pixel memory is carried across chunks,
    so any chunking gives the same output as the whole stream; nothing is held back. Each input chunk
    gives one ``SpikeChunk`` of one step per event, ``info.shape = (P, 2r + 1, 2r + 1)``, ``info.dt = 0``
    (events are not evenly spaced) and ``start`` the index of its first event in the stream.

    Parameters
    ----------
    radius : int
        Patch half-width in pixels (``r >= 0``).
    tau : float
        Decay time constant in µs.
    """

    name = "to_local_time_surface"

    def __init__(
        self,
        radius: Annotated[int, Field(ge=0)] = 2,
        tau: Annotated[float, Field(gt=0)] = 5_000.0,
    ):
        self.radius = radius
        self.tau = tau

    def reset(self) -> None:
        super().reset()
        self._memory: np.ndarray | None = None
        self._next = 0

    def _events(self, chunk: EventChunk) -> Iterable[SpikeChunk]:
        size = chunk.info.sensor_size
        if self._memory is None:
            self._memory = new_surface_memory(size)
        ev = chunk.events
        if not len(ev):
            return
        side = 2 * self.radius + 1
        shape = check_output_bytes((len(ev), size[2], side, side), np.float32, "the local surfaces", "radius")
        out = np.zeros(shape, dtype=np.float32)
        fill_local_time_surfaces(ev["t"], ev["x"], ev["y"], ev["p"], self.radius, self.tau, self._memory, out)
        yield _spikes(out, 0.0, self._next)
        self._next += len(ev)
