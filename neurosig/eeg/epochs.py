"""Cut a continuous signal stream into epochs: event-locked or fixed-length, in bounded memory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import numpy as np
import pydantic

from neurosig.core.chunks import EpochsChunk, EpochsInfo, SignalChunk
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.stage import Stage
from neurosig.core.validate import check_increasing, check_one_of

__all__ = ["Epochs"]


class Epochs(Stage):
    """Cut epochs from a signal stream as soon as each one is complete.

    Two modes:

    - **event-locked** (``events`` given): one epoch per marker whose description is in ``events``,
      from ``tmin`` to ``tmax`` seconds around its onset (``round((tmax - tmin) * sfreq) + 1``
      samples, as in MNE);
    - **fixed-length** (``length`` given): consecutive windows of ``length`` seconds every ``step``
      seconds (default: ``length``, no overlap), labelled ``"fixed"``.

    Epochs that would start before the stream or end after it are dropped and counted in
    :attr:`n_dropped`. A marker may arrive after its sample (over LSL the marker stream is separate):
    up to ``marker_delay`` seconds of signal are kept for late markers.

    Parameters
    ----------
    events : list of str | None
        Marker descriptions to lock to (event-locked mode).
    tmin, tmax : float
        Window around each marker, in seconds (event-locked mode).
    length : float | None
        Window length in seconds (fixed-length mode).
    step : float | None
        Seconds between fixed-length windows (default ``length``).
    marker_delay : float
        Seconds a marker may arrive after its onset's sample and still get its epoch (event-locked).
    """

    name = "epochs"
    accepts = (SignalChunk,)

    def __init__(
        self,
        events: Annotated[list[str], pydantic.Field(min_length=1)] | None = None,
        tmin: float = 0.0,
        tmax: float = 4.0,
        length: Annotated[float, pydantic.Field(gt=0)] | None = None,
        step: Annotated[float, pydantic.Field(gt=0)] | None = None,
        marker_delay: Annotated[float, pydantic.Field(ge=0)] = 1.0,
    ):
        self.events = events
        self.tmin = tmin
        self.tmax = tmax
        self.length = length
        self.step = step
        self.marker_delay = marker_delay

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """Event-locked (``events``, ``tmin < tmax``) or fixed-length (``length``, ``step``)."""
        check_one_of(
            "Epochs (events=[...] event-locked, length=... fixed)",
            {"events": params["events"], "length": params["length"]},
        )
        if params["events"] is not None:
            check_increasing(("tmin", "tmax"), params["tmin"], params["tmax"], "s")
        if params["step"] is not None and params["length"] is None:
            raise ConfigError("Epochs: step applies to fixed-length epochs; give length too.")

    def reset(self) -> None:
        self._info: EpochsInfo | None = None
        self._buffer = np.zeros((0, 0), dtype=np.float32)
        self._buffer_start = 0  # stream index of the buffer's first sample
        self._pending: list[tuple[int, float, str]] = []  # (first sample, onset s, label)
        self._next_fixed = 0
        self._n_out = 0
        self.n_dropped = 0

    def _setup(self, chunk: SignalChunk) -> None:
        sf = chunk.info.sfreq
        if self.length is not None:
            n_times, tmin = int(round(self.length * sf)), 0.0
        else:
            n_times, tmin = int(round((self.tmax - self.tmin) * sf)) + 1, self.tmin
        if n_times < 2:
            raise DataError(f"epochs of {n_times} sample(s) at {sf} Hz; make the window longer.")
        info = chunk.info
        self._info = EpochsInfo(sf, info.ch_names, info.ch_types, tmin, n_times, info.unit, info.ch_pos)
        self._buffer = np.zeros((chunk.info.n_channels, 0), dtype=np.float32)
        self._buffer_start = chunk.start

    def _schedule(self, chunk: SignalChunk) -> None:
        sf = chunk.info.sfreq
        if self.length is not None:
            step = int(round((self.step or self.length) * sf))
            while self._next_fixed < chunk.stop:
                self._pending.append((self._next_fixed, self._next_fixed / sf, "fixed"))
                self._next_fixed += step
            return
        for marker in chunk.markers:
            if marker.description in self.events:
                first = int(round((marker.onset + self.tmin) * sf))
                if first < self._buffer_start:
                    self.n_dropped += 1
                else:
                    self._pending.append((first, marker.onset, marker.description))

    def _process(self, chunk: SignalChunk) -> Iterable[EpochsChunk]:
        if self._info is None:
            self._setup(chunk)
        self._buffer = np.concatenate([self._buffer, chunk.data], axis=1)
        self._schedule(chunk)
        n_times = self._info.n_times
        end = self._buffer_start + self._buffer.shape[1]
        ready = [p for p in self._pending if p[0] + n_times <= end]
        self._pending = [p for p in self._pending if p[0] + n_times > end]
        sf = self._info.sfreq
        late = int(np.ceil(self.marker_delay * sf))
        keep_from = end - max(0, int(np.ceil(-self.tmin * sf))) - late if self.events else end
        keep_from = min([keep_from, *(p[0] for p in self._pending)])
        if ready:
            data = np.stack(
                [
                    self._buffer[:, p[0] - self._buffer_start : p[0] - self._buffer_start + n_times]
                    for p in ready
                ]
            )
            out = EpochsChunk(data, self._info, [p[1] for p in ready], [p[2] for p in ready], self._n_out)
            self._n_out += len(ready)
            yield out
        drop = max(0, keep_from - self._buffer_start)
        self._buffer = self._buffer[:, drop:]
        self._buffer_start += drop

    def _flush(self) -> Iterable[EpochsChunk]:
        self.n_dropped += len(self._pending)
        self._pending = []
        return ()
