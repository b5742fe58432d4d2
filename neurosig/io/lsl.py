"""Lab Streaming Layer (LSL): a live source, an outlet sink, replay of recordings, live latency.

Built on mne-lsl's low-level :class:`~mne_lsl.lsl.StreamInlet` and :class:`~mne_lsl.lsl.StreamOutlet`
(the ``lsl`` extra: ``pip install 'neurosig[lsl]'``; its wheel ships liblsl).

Time. Every sample keeps its place in the stream: ``SignalChunk.start`` counts the samples received,
and :meth:`LSLSource.lsl_time` maps stream time (sample index / rate) back to LSL time (seconds on
the local LSL clock, after LSL's clock synchronisation). Markers from the marker stream are placed
on the sample grid by their timestamps.

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
#: Seconds without a sample after which the source looks for its stream again (a restarted outlet).
RECONNECT = 1.0
#: Markers pulled at a time: mne-lsl frees a string pull's whole buffer in Python (4096 slots: 3 ms).
MARKER_BATCH = 16

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


def _pull(inlet, timeout: float, max_samples: int = 4096):
    """Pull what an inlet holds; nothing once its outlet is gone (lost, or clock sync timed out)."""
    try:
        return inlet.pull_chunk(timeout=timeout, max_samples=max_samples)
    except (TimeoutError, _lost_error()):
        return [], []


def _lost_error() -> type[Exception]:
    from mne_lsl.lsl._utils import LostError  # raised by an inlet without recovery whose outlet is gone

    return LostError


def _open_inlet(sinfo, timeout: float, **kwargs):
    """An open inlet on a resolved stream (clock-synchronised, no liblsl recovery) and its full info.

    liblsl's own recovery is off: the source finds a restarted outlet itself (:data:`RECONNECT`).
    """
    inlet = _lsl().StreamInlet(sinfo, processing_flags=["clocksync"], recover=False, **kwargs)
    try:
        inlet.open_stream(timeout=timeout)
        # the channel names travel in the full description, which the open inlet fetches
        return inlet, inlet.get_sinfo(timeout=timeout)
    except (TimeoutError, _lost_error()):
        inlet._del()
        raise DataError(
            f"LSL stream {sinfo.name!r} went away while connecting (or did not answer within "
            f"{timeout:g} s); check that its outlet is running and start again."
        ) from None
    except BaseException:
        inlet._del()
        raise


def _restarted(sinfo, timeout: float):
    """The stream ``sinfo`` from a new outlet (same source id, name and type; another uid), or None."""
    found = _lsl().resolve_streams(
        timeout, name=sinfo.name, stype=sinfo.stype, source_id=sinfo.source_id or None
    )
    return next((s for s in found if s.uid != sinfo.uid), None)


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

    def lsl_time(self, seconds: float | np.ndarray) -> float | np.ndarray:
        """LSL time (local clock, seconds) of stream time ``seconds`` (sample index / rate) of this run.

        Sample ``i`` is at stream time ``i / sfreq``; across a gap, the time is counted from the
        first sample after it.
        """
        index = np.asarray(seconds, dtype=np.float64) * self._info.sfreq
        firsts = np.array([s[0] for s in self._segments], dtype=np.float64)
        pos = np.maximum(np.searchsorted(firsts, index + 1e-6, side="right") - 1, 0)
        times = np.array([s[1] for s in self._segments])[pos] + (index - firsts[pos]) / self._info.sfreq
        return float(times) if times.ndim == 0 else times

    def _index(self, t: float) -> int:
        """Sample index of LSL time ``t`` (the segment that holds it, by timestamp)."""
        times = [s[1] for s in self._segments]
        pos = max(0, int(np.searchsorted(times, t + self.max_jitter, side="right")) - 1)
        first, t0 = self._segments[pos]
        return first + int(round((t - t0) * self._info.sfreq))

    def __iter__(self) -> Iterator[SignalChunk]:
        sinfo = find_stream(self.name, self.stream_type, self.source_id, self.resolve_timeout)
        marker_info = None
        if self.markers is not None:
            marker_info = find_stream(self.markers, timeout=self.resolve_timeout)
        self._inlets: dict[str, Any] = {}
        try:
            self._inlets["signal"], sinfo = _open_inlet(sinfo, self.resolve_timeout, max_buffered=60)
            info = self._info = self.stream_info(sinfo)
            if marker_info is not None:
                self._inlets["markers"], marker_info = _open_inlet(marker_info, self.resolve_timeout)
            self._sinfos = {"signal": sinfo, "markers": marker_info}
            self._segments: list[tuple[int, float]] = []
            self.n_dropped = 0
            self.n_received = 0
            self.n_reconnects = 0
            self.last_timestamp = float("nan")
            self._stop_event.clear()
            yield from self._pull(info)
        finally:
            for inlet in self._inlets.values():
                inlet._del()

    def _reconnect(self) -> bool:
        """Replace the inlets of streams whose outlet restarted; True if the signal's did.

        The signal stream is looked up again by its source id, name and type, and taken when it
        comes from a new outlet (another uid); the marker stream likewise. A stream that came back
        with another rate or other channels is refused.
        """
        found = _restarted(self._sinfos["signal"], 0.5)
        if found is None:
            return False
        try:
            inlet, sinfo = _open_inlet(found, self.resolve_timeout, max_buffered=60)
        except DataError:  # gone again: the next look finds it or not
            return False
        self._inlets.pop("signal")._del()
        self._inlets["signal"] = inlet
        info = self.stream_info(sinfo)
        if (info.sfreq, info.ch_names) != (self._info.sfreq, self._info.ch_names):
            raise DataError(
                f"LSL stream {sinfo.name!r} came back at {info.sfreq:g} Hz with channels "
                f"{list(info.ch_names)}, not {self._info.sfreq:g} Hz with {list(self._info.ch_names)}; "
                "restart the live run for the new stream."
            )
        self._sinfos["signal"] = sinfo
        markers = self._sinfos["markers"]
        found = None if markers is None else _restarted(markers, 2.0)  # it may come up a little later
        if found is not None:
            try:
                inlet, self._sinfos["markers"] = _open_inlet(found, self.resolve_timeout)
            except DataError:
                logger.warning("LSL marker stream %s went away again while reconnecting.", found.name)
            else:
                self._inlets.pop("markers")._del()
                self._inlets["markers"] = inlet
        self.n_reconnects += 1
        logger.warning("LSL stream %s: reconnected to its restarted outlet.", sinfo.name)
        return True

    def _pull_markers(self, queue: list[tuple[float, float, str]]) -> None:
        inlet, sinfo = self._inlets.get("markers"), self._sinfos["markers"]
        if inlet is None:
            return
        names = None
        while True:
            values, stamps = _pull(inlet, 0.0, MARKER_BATCH)
            if sinfo.dtype == "string":
                for row, t in zip(values, stamps, strict=True):
                    queue.append((float(t), 0.0, str(row[0])))
            elif len(stamps):  # mne-lsl's one-hot annotations: the column says which, its value how long
                names = (
                    names or _strings(sinfo.get_channel_names()) or [str(i) for i in range(sinfo.n_channels)]
                )
                for row, t in zip(np.asarray(values), stamps, strict=True):
                    col = int(np.argmax(np.abs(row)))
                    queue.append((float(t), max(float(row[col]), 0.0), names[col]))
            if len(stamps) < MARKER_BATCH:
                return

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

    def _pull(self, info: SignalInfo) -> Iterator[SignalChunk]:
        sfreq = info.sfreq
        began = last_sample = looked = time.monotonic()
        expected = None
        queue: list[tuple[float, float, str]] = []  # (LSL time, duration, description) not yet placed
        while not self._stop_event.is_set():
            now = time.monotonic()
            if self.duration is not None and now - began >= self.duration:
                break
            # what has arrived, without waiting (a timeout would hold every chunk for its length);
            # mne-lsl reuses its buffers between pulls: copy before the next one
            values, stamps = _pull(self._inlets["signal"], 0.0)
            if not len(stamps):
                if self.timeout is not None and now - last_sample > self.timeout:
                    logger.warning("LSL stream %s: no sample for %g s; ending.", self.name, self.timeout)
                    break
                if now - max(last_sample, looked) > RECONNECT:  # the outlet may have restarted
                    self._reconnect()
                    looked = time.monotonic()
                    continue
                self._stop_event.wait(POLL)
                continue
            last_sample = now
            self._pull_markers(queue)  # with the samples, not at every empty poll
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

    In a live run (an :class:`LSLSource`) every output carries the LSL timestamp of the input sample
    it derives from: a signal sample its own, an epoch (or its decision) its last sample's, a token
    its patch's end. A consumer's clock minus that stamp is the latency up to its receipt. Outputs of
    a run from a file are stamped with the time of their push.

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
        self._clock = None

    def follow(self, source: Source) -> None:
        """Stamp outputs with a live source's LSL clock (other sources: the time of the push)."""
        self._clock = source.lsl_time if isinstance(source, LSLSource) else None

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
        clock = self._clock
        if isinstance(chunk, SignalChunk):
            last = (chunk.start + chunk.n_samples - 1) / chunk.info.sfreq
            data, stamp = np.ascontiguousarray(chunk.data.T), 0.0 if clock is None else clock(last)
            if len(data) == 1:
                self._outlet.push_sample(data[0], timestamp=stamp)
            else:
                self._outlet.push_chunk(data, timestamp=stamp)
        elif isinstance(chunk, EpochsChunk):
            info = chunk.info
            ends = chunk.onsets + info.tmin + (info.n_times - 1) / info.sfreq
            stamps = np.zeros(len(ends)) if clock is None else clock(ends)
            for label, stamp in zip(chunk.labels, stamps, strict=True):
                self._outlet.push_sample([str(label)], timestamp=float(stamp))
        else:
            tokens = np.moveaxis(chunk.tokens, 1, 0).reshape(chunk.tokens.shape[1], -1)
            ends = (chunk.start + np.arange(1, chunk.length + 1)) * chunk.info.patch_duration
            self._outlet.push_chunk(
                np.ascontiguousarray(tokens, dtype=np.int32), timestamp=None if clock is None else clock(ends)
            )
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
    warmup : float
        Seconds from the first chunk during which output latencies are not kept (the first chunk
        loads the compiled kernels from Numba's cache, a few hundred ms once per process).
    """

    def __init__(self, source: LSLSource, window: int = 100_000, warmup: float = 0.0):
        self.source = source
        self.warmup = warmup
        self.latency: deque[float] = deque(maxlen=window)
        self.stages: dict[str, deque[float]] = {}
        self._began = time.monotonic()
        self._first: float | None = None  # monotonic time of the first chunk

    def stage(self, label: str, seconds: float) -> None:
        """Record one chunk's compute time in a stage."""
        self._first = self._first or time.monotonic()
        self.stages.setdefault(label, deque(maxlen=self.latency.maxlen)).append(seconds)

    def output(self, chunk: Chunk) -> None:
        """Record the push of an output chunk."""
        latency = local_clock() - self.source.last_timestamp
        now = time.monotonic()
        self._first = self._first or now
        if now - self._first >= self.warmup:
            self.latency.append(latency)

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
        Start again at the end (for ever) instead of stopping. A recording whose length is a
        multiple of ``chunk_size`` loops without its last sample: PlayerLSL (mne-lsl 1.14) would
        push the whole file again in one chunk at each wrap, with timestamps one file length back.
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
    if loop and raw.n_times % chunk_size == 0 and raw.n_times > chunk_size:
        # PlayerLSL (mne-lsl 1.14) wraps such a file by pushing all of it again in one chunk,
        # stamped as one chunk: the samples repeat and the timestamps step back one file length
        raw.crop(tmax=raw.times[-2], verbose="error")
        logger.warning("%s: replayed in a loop without its last sample (see neurosig.io.lsl.replay).", name)
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
