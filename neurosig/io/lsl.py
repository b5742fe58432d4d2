"""Lab Streaming Layer (LSL): a live source, an outlet sink, replay of recordings, live latency.

Built on mne-lsl's low-level :class:`~mne_lsl.lsl.StreamInlet` and :class:`~mne_lsl.lsl.StreamOutlet`
(the ``lsl`` extra: ``pip install 'neurosig[lsl]'``; its wheel ships liblsl).

Time. Every sample keeps its place in the stream: ``SignalChunk.start`` counts the samples received,
and :meth:`LSLSource.timestamp` maps a sample index back to its LSL time (seconds on the local LSL
clock, after LSL's clock synchronisation). Markers from the marker stream are placed on the sample
grid by their timestamps.

Faults are written into the stream as markers, never absorbed: ``lsl_gap`` (samples missing, e.g.
the outlet went away and came back; the marker sits at the first sample after the gap and its
duration is the gap in seconds) and ``lsl_clock_jump`` (the timestamps went backwards; duration =
the jump in seconds, negative; a warning is issued too). Samples are not invented for a gap: the
next sample received gets the next index.
"""

from __future__ import annotations

import functools
import itertools
import logging
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pydantic

from neurosig.core.chunks import Chunk, EpochsChunk, Marker, SignalChunk, SignalInfo, TokenChunk
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.stage import RunMeta, Sink, Source

__all__ = ["LSLSource", "LSLSink", "LiveMonitor", "find_stream", "replay", "stop_player", "GAP", "CLOCK_JUMP"]

logger = logging.getLogger(__name__)

#: Marker description of a gap in the samples (duration = the gap in seconds).
GAP = "lsl_gap"
#: Marker description of a jump in the LSL clock (duration = the jump in seconds, negative backwards).
CLOCK_JUMP = "lsl_clock_jump"
#: Seconds the source sleeps when no sample has arrived (bounds the latency it adds).
POLL = 0.0005

Seconds = Annotated[float, pydantic.Field(gt=0)]


def _lsl():
    try:
        import mne_lsl.lsl as lsl
    except ImportError:  # pragma: no cover - the lsl extra is part of dev
        raise ConfigError(
            "LSL streaming needs mne-lsl; install it with pip install 'neurosig[lsl]'."
        ) from None
    return lsl


def local_clock() -> float:
    """Seconds on the local LSL clock (the clock LSL timestamps use)."""
    return _lsl().local_clock()


def find_stream(
    name: str | None = None,
    stream_type: str | None = None,
    source_id: str | None = None,
    timeout: float = 5.0,
):
    """Resolve one LSL stream by name, type and/or source id.

    Returns
    -------
    sinfo : mne_lsl.lsl.StreamInfo

    Raises
    ------
    DataError
        When no stream matches within ``timeout`` seconds, listing the streams that are visible.
    """
    lsl = _lsl()
    found = lsl.resolve_streams(timeout, name=name, stype=stream_type, source_id=source_id, minimum=1)
    if found:
        return found[0]
    visible = sorted(f"{s.name} ({s.stype}, {s.n_channels} ch)" for s in lsl.resolve_streams(0.5))
    wanted = ", ".join(
        f"{k}={v!r}" for k, v in (("name", name), ("type", stream_type), ("source_id", source_id)) if v
    )
    raise DataError(
        f"no LSL stream with {wanted or 'any name'} within {timeout:g} s; visible streams: "
        f"{visible or 'none'}. Start the amplifier's LSL app, or `neurosig replay FILE --name NAME`."
    )


def _strings(values: Any) -> list[str]:
    return [str(v) for v in values] if values else []


def _pull(inlet, timeout: float):
    """Pull what an inlet holds; nothing while its outlet is away (clock sync then times out)."""
    try:
        return inlet.pull_chunk(timeout=timeout, max_samples=4096)
    except TimeoutError:
        return [], []


class LSLSource(Source):
    """A live signal stream from LSL, with events from an LSL marker stream.

    Parameters
    ----------
    name, stream_type, source_id : str | None
        Which stream to resolve (any combination; at least one).
    markers : str | None
        Name of a marker stream whose markers become :class:`~neurosig.core.chunks.Marker` s (string
        markers, or mne-lsl's one-hot annotation streams).
    sfreq : float | None
        The rate in Hz the pipeline expects; a stream at another rate is refused before any sample
        is processed.
    channels : list of str | None
        The channels the pipeline expects, in order; a stream with other channels is refused.
    unit_scale : float
        Factor that turns the stream's samples into the pipeline's unit (1 for volts, 1e-6 for an
        amplifier that sends microvolts).
    duration : float | None
        Stop after this many seconds of wall-clock time (``None``: run until :meth:`stop`).
    timeout : float | None
        End the stream after this many seconds without a sample (``None``: wait for ever; a stream
        that comes back within it is reconnected).
    resolve_timeout : float
        Seconds to wait for the stream to appear.
    max_jitter : float
        Timestamp deviation in seconds tolerated between consecutive chunks before a gap or a
        clock jump is reported.
    """

    name = "lsl"

    def __init__(
        self,
        name: str | None = None,
        stream_type: str | None = None,
        source_id: str | None = None,
        markers: str | None = None,
        sfreq: Seconds | None = None,
        channels: list[str] | None = None,
        unit_scale: Seconds = 1.0,
        duration: Seconds | None = None,
        timeout: Seconds | None = 10.0,
        resolve_timeout: Seconds = 5.0,
        max_jitter: Seconds = 0.02,
    ):
        self.name = name
        self.stream_type = stream_type
        self.source_id = source_id
        self.markers = markers
        self.sfreq = sfreq
        self.channels = channels
        self.unit_scale = unit_scale
        self.duration = duration
        self.timeout = timeout
        self.resolve_timeout = resolve_timeout
        self.max_jitter = max_jitter
        if name is None and stream_type is None and source_id is None:
            raise ConfigError("the lsl source needs name, stream_type or source_id to find its stream.")

    # -- live state (not parameters) ----------------------------------------------------------------
    @functools.cached_property
    def _stop_event(self) -> threading.Event:
        return threading.Event()

    def stop(self) -> None:
        """Ask the stream to end after the chunk in progress (safe from another thread or a signal)."""
        self._stop_event.set()

    def describe(self) -> dict[str, Any]:
        """Provenance: the stream asked for and when the live run started (live runs never repeat)."""
        return {
            "type": type(self).name,
            "stream": {"name": self.name, "type": self.stream_type, "source_id": self.source_id},
            "markers": self.markers,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def stream_info(self, sinfo) -> SignalInfo:
        """The :class:`SignalInfo` of a resolved stream, checked against ``sfreq`` and ``channels``.

        Raises
        ------
        DataError
            When the stream is irregular, or its rate or channels differ from those expected.
        """
        where = f"LSL stream {sinfo.name!r}"
        if sinfo.sfreq <= 0:
            raise DataError(
                f"{where} has an irregular rate; the lsl source needs a regularly sampled signal."
            )
        names = tuple(_strings(sinfo.get_channel_names())) or tuple(f"ch{i}" for i in range(sinfo.n_channels))
        types = tuple(t if t else "eeg" for t in _strings(sinfo.get_channel_types())) or ("eeg",) * len(names)
        if self.sfreq is not None and abs(sinfo.sfreq - self.sfreq) > 1e-6:
            raise DataError(
                f"{where} runs at {sinfo.sfreq:g} Hz but the pipeline expects sfreq={self.sfreq:g} Hz; "
                "add a resample stage or set source.sfreq to the stream's rate."
            )
        if self.channels is not None and list(names) != list(self.channels):
            missing = [c for c in self.channels if c not in names]
            extra = [c for c in names if c not in self.channels]
            raise DataError(
                f"{where} has channels {list(names)} but the pipeline expects {list(self.channels)} "
                f"(missing {missing}, unexpected {extra}); fix source.channels or the amplifier montage."
            )
        return SignalInfo(float(sinfo.sfreq), names, types)

    def timestamp(self, index: int) -> float:
        """LSL time (local clock, seconds) of sample ``index`` of the current run."""
        segments = self._segments
        pos = max(0, int(np.searchsorted([s[0] for s in segments], index, side="right")) - 1)
        first, t0 = segments[pos]
        return t0 + (index - first) / self._info.sfreq

    def _index(self, t: float) -> int:
        """Sample index of LSL time ``t`` (the segment that holds it, by timestamp)."""
        times = [s[1] for s in self._segments]
        pos = max(0, int(np.searchsorted(times, t + self.max_jitter, side="right")) - 1)
        first, t0 = self._segments[pos]
        return first + int(round((t - t0) * self._info.sfreq))

    def __iter__(self) -> Iterator[SignalChunk]:
        lsl = _lsl()
        sinfo = find_stream(self.name, self.stream_type, self.source_id, self.resolve_timeout)
        marker_info = None
        if self.markers is not None:
            marker_info = find_stream(self.markers, timeout=self.resolve_timeout)
        inlet = lsl.StreamInlet(sinfo, max_buffered=60, processing_flags=["clocksync"])
        marker_inlet = None
        try:
            inlet.open_stream(timeout=self.resolve_timeout)
            # the channel names travel in the full description, which the open inlet fetches
            info = self._info = self.stream_info(inlet.get_sinfo(timeout=self.resolve_timeout))
            if marker_info is not None:
                marker_inlet = lsl.StreamInlet(marker_info, processing_flags=["clocksync"])
                marker_inlet.open_stream(timeout=self.resolve_timeout)
                marker_info = marker_inlet.get_sinfo(timeout=self.resolve_timeout)
            self._segments: list[tuple[int, float]] = []
            self.n_dropped = 0
            self.n_received = 0
            self.last_timestamp = float("nan")
            self._stop_event.clear()
            yield from self._pull(inlet, marker_inlet, info, marker_info)
        finally:
            for each in (inlet, marker_inlet):
                if each is not None:
                    each.close_stream()

    def _pull_markers(self, inlet, sinfo, queue: list[tuple[float, float, str]]) -> None:
        values, stamps = _pull(inlet, 0.0)
        if not len(stamps):
            return
        if sinfo.dtype == "string":
            for row, t in zip(values, stamps, strict=True):
                queue.append((float(t), 0.0, str(row[0])))
            return
        names = _strings(sinfo.get_channel_names()) or [str(i) for i in range(sinfo.n_channels)]
        for row, t in zip(np.asarray(values), stamps, strict=True):  # mne-lsl one-hot annotations
            col = int(np.argmax(np.abs(row)))
            queue.append((float(t), max(float(row[col]), 0.0), names[col]))

    def _discontinuity(self, index: int, jump: float, sfreq: float) -> Marker:
        """The marker of a jump of ``jump`` seconds in the timestamps at sample ``index``."""
        if jump > 0:
            self.n_dropped += int(round(jump * sfreq))
            logger.warning("LSL stream %s: %.3f s of samples missing at sample %d.", self.name, jump, index)
            return Marker(index / sfreq, jump, GAP)
        warnings.warn(
            f"LSL stream {self.name!r}: the clock jumped by {jump:+.3f} s at sample {index}; "
            f"marked {CLOCK_JUMP!r} in the stream.",
            RuntimeWarning,
            stacklevel=4,
        )
        return Marker(index / sfreq, jump, CLOCK_JUMP)

    def _pull(self, inlet, marker_inlet, info: SignalInfo, marker_info) -> Iterator[SignalChunk]:
        sfreq = info.sfreq
        began = last_sample = time.monotonic()
        expected = None
        queue: list[tuple[float, float, str]] = []  # (LSL time, duration, description) not yet placed
        while not self._stop_event.is_set():
            now = time.monotonic()
            if self.duration is not None and now - began >= self.duration:
                break
            # what has arrived, without waiting (a timeout would hold every chunk for its length);
            # mne-lsl reuses its buffers between pulls: copy before the next one
            values, stamps = _pull(inlet, 0.0)
            if marker_inlet is not None:
                self._pull_markers(marker_inlet, marker_info, queue)
            if not len(stamps):
                if self.timeout is not None and now - last_sample > self.timeout:
                    logger.warning("LSL stream %s: no sample for %g s; ending.", self.name, self.timeout)
                    break
                self._stop_event.wait(POLL)
                continue
            last_sample = now
            stamps = np.array(stamps, dtype=np.float64)
            data = np.array(values, dtype=np.float32).T
            if self.unit_scale != 1.0:
                data *= np.float32(self.unit_scale)
            start = self.n_received
            events: list[Marker] = []
            if expected is None:
                self._segments.append((start, float(stamps[0])))
                expected = float(stamps[0])
            # deviations of each sample's timestamp from one period after the previous one
            jumps = np.diff(stamps, prepend=expected - 1.0 / sfreq) - 1.0 / sfreq
            for j in np.flatnonzero(np.abs(jumps) > self.max_jitter):
                events.append(self._discontinuity(start + int(j), float(jumps[j]), sfreq))
                self._segments.append((start + int(j), float(stamps[j])))
            expected = float(stamps[-1]) + 1.0 / sfreq
            self.n_received += len(stamps)
            self.last_timestamp = float(stamps[-1])
            still = []
            for t, dur, desc in queue:  # markers are placed once their sample has arrived
                index = self._index(t)
                if index < self.n_received:
                    events.append(Marker(index / sfreq, dur, desc))
                else:
                    still.append((t, dur, desc))
            queue = still
            yield SignalChunk(data, info, start, tuple(sorted(events, key=lambda m: m.onset)))


class LSLSink(Sink):
    """Publish a stream on an LSL outlet.

    Signals go out as a float32 stream at their rate; epochs as a string marker stream, one marker
    per epoch holding its label (after ``classify``, the prediction); tokens as an int32 stream of
    irregular rate, one sample per patch (channels × scales × levels).

    Parameters
    ----------
    name : str
        Name of the outlet's stream.
    stream_type : str
        LSL type of the stream.
    source_id : str
        A unique id, so that inlets reconnect to this outlet after a restart.
    """

    name = "lsl"

    def __init__(self, name: str, stream_type: str = "neurosig", source_id: str = ""):
        self.name = name
        self.stream_type = stream_type
        self.source_id = source_id

    def open(self, meta: RunMeta) -> None:
        """Nothing is published until the first chunk says what the stream is."""
        self._outlet = None
        self._type: type | None = None
        self.n_pushed = 0

    def _create(self, chunk: Chunk) -> None:
        lsl = _lsl()
        stream_name = self.name
        if isinstance(chunk, SignalChunk):
            sinfo = lsl.StreamInfo(
                stream_name,
                self.stream_type,
                chunk.info.n_channels,
                chunk.info.sfreq,
                "float32",
                self.source_id,
            )
            sinfo.set_channel_names(list(chunk.info.ch_names))
            sinfo.set_channel_types(list(chunk.info.ch_types))
        elif isinstance(chunk, EpochsChunk):
            sinfo = lsl.StreamInfo(stream_name, "Markers", 1, 0.0, "string", self.source_id)
        elif isinstance(chunk, TokenChunk):
            n = int(np.prod(chunk.tokens.shape)) // max(1, chunk.tokens.shape[1])
            sinfo = lsl.StreamInfo(stream_name, self.stream_type, n, 0.0, "int32", self.source_id)
        else:
            raise DataError(
                f"the lsl sink publishes signals, epochs (their labels) and tokens, not "
                f"{type(chunk).__name__}; add a stage that turns the stream into one of those."
            )
        self._outlet = lsl.StreamOutlet(sinfo)
        self._type = type(chunk)

    def write(self, chunk: Chunk) -> None:
        """Push one chunk now."""
        if self._outlet is None:
            self._create(chunk)
        elif type(chunk) is not self._type:
            raise DataError("the lsl sink publishes one stream; got a chunk of another type.")
        if chunk.length == 0:
            return
        if isinstance(chunk, SignalChunk):
            self._outlet.push_chunk(np.ascontiguousarray(chunk.data.T))
        elif isinstance(chunk, EpochsChunk):
            for label in chunk.labels:
                self._outlet.push_sample([str(label)])
        else:
            tokens = np.moveaxis(chunk.tokens, 1, 0).reshape(chunk.tokens.shape[1], -1)
            self._outlet.push_chunk(np.ascontiguousarray(tokens, dtype=np.int32))
        self.n_pushed += chunk.length

    def commit(self) -> str | None:
        """Close the outlet; return ``lsl:NAME``."""
        self.abort()
        return f"lsl:{self.name}"

    def abort(self) -> None:
        """Close the outlet."""
        outlet, self._outlet = getattr(self, "_outlet", None), None
        if outlet is not None:
            outlet._del()


class LiveMonitor:
    """Latency, rate and dropped samples of a live run, fed by :class:`~neurosig.core.pipeline.Pipeline`.

    The latency of an output is the LSL time of its push minus the LSL timestamp of the newest
    sample of the input chunk that produced it: transport plus compute. Per-stage compute times are
    kept for the last ``window`` chunks.

    Parameters
    ----------
    source : LSLSource
        The live source.
    window : int
        Chunks kept for the percentiles.
    """

    def __init__(self, source: LSLSource, window: int = 100_000):
        self.source = source
        self.latency: deque[float] = deque(maxlen=window)
        self.stages: dict[str, deque[float]] = {}
        self._began = time.monotonic()

    def stage(self, label: str, seconds: float) -> None:
        """Record one chunk's compute time in a stage."""
        self.stages.setdefault(label, deque(maxlen=self.latency.maxlen)).append(seconds)

    def output(self, chunk: Chunk) -> None:
        """Record the push of an output chunk."""
        self.latency.append(local_clock() - self.source.last_timestamp)

    def postfix(self) -> str:
        """One line for the progress bar: rate, latency p50/p99 of the last 500 outputs, dropped samples."""
        wall = max(time.monotonic() - self._began, 1e-9)
        rate = getattr(self.source, "n_received", 0) / wall
        recent = list(itertools.islice(reversed(self.latency), 500))
        lat = np.percentile(recent, [50, 99]) * 1e3 if recent else (np.nan, np.nan)
        dropped = getattr(self.source, "n_dropped", 0)
        return f"{rate:.0f} Hz, latency p50 {lat[0]:.1f} ms p99 {lat[1]:.1f} ms, dropped {dropped}"

    def summary(self) -> dict[str, Any]:
        """Percentiles in milliseconds of the latency and of each stage's compute per chunk."""

        def pct(values) -> dict[str, float]:
            if not values:
                return {}
            p = np.percentile(np.asarray(values) * 1e3, [50, 95, 99])
            return {"p50_ms": float(p[0]), "p95_ms": float(p[1]), "p99_ms": float(p[2])}

        return {
            "latency": pct(self.latency),
            "stages": {k: pct(v) for k, v in self.stages.items()},
            "samples": int(getattr(self.source, "n_received", 0)),
            "dropped_samples": int(getattr(self.source, "n_dropped", 0)),
        }


def stop_player(player) -> None:
    """Stop a player from :func:`replay`, whether or not it already reached the end."""
    if player.running:
        player.stop()


def replay(
    path: str | Path,
    name: str | None = None,
    chunk_size: int = 16,
    loop: bool = False,
    source_id: str | None = None,
):
    """Publish a recording on LSL with mne-lsl's PlayerLSL, its annotations as a marker stream.

    The signal stream is called ``name`` (default: the file's stem) and the markers
    ``NAME-annotations`` (strings). PlayerLSL stamps an annotation one sample before the sample it
    belongs to; the annotations are shifted by one sample here so that they land on their sample.

    Parameters
    ----------
    path : str | Path
        Any recording MNE reads.
    name : str | None
        Stream name.
    chunk_size : int
        Samples per pushed chunk.
    loop : bool
        Start again at the end (for ever) instead of stopping.
    source_id : str | None
        Source id of the streams (default: the name), so that inlets recover after a restart.

    Returns
    -------
    player : mne_lsl.player.PlayerLSL
        Started; call ``player.stop()`` to end it.
    """
    _lsl()
    import mne
    from mne_lsl.player import PlayerLSL

    from neurosig.io.eeg import open_raw

    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be at least 1 sample, got {chunk_size}.")
    raw = open_raw(path).load_data(verbose="error")
    name = name or Path(path).stem
    has_annotations = len(raw.annotations) > 0
    if has_annotations:
        a = raw.annotations
        raw.set_annotations(
            mne.Annotations(a.onset + 1.0 / raw.info["sfreq"], a.duration, a.description, a.orig_time),
            verbose="error",
        )
    player = PlayerLSL(
        raw,
        chunk_size=chunk_size,
        n_repeat=np.inf if loop else 1,
        name=name,
        source_id=source_id or name,
        annotations=has_annotations,
        annotations_encoding="string",
    )
    return player.start()
