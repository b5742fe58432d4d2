"""The chunk types every stage speaks, and their stream info.

A stream is a sequence of chunks of one type that share one ``info``. Units follow MNE: signals in
volts, time in seconds, sampling rates in Hz; events carry time in integer microseconds.

=============== ============================================= ==========================================
chunk           payload                                        position in the stream
=============== ============================================= ==========================================
SignalChunk     ``data`` float32 ``(n_channels, n_samples)``   ``start``: index of the first sample
EpochsChunk     ``data`` float32 ``(n_epochs, n_channels, n)`` ``start``: index of the first epoch
EventChunk      ``events`` structured :data:`EVENTS_DTYPE`    timestamps ``t`` (µs) in the events
SpikeChunk      ``data`` ``(n_steps, n_units)``, time first    ``start``: index of the first time step
TokenChunk      ``tokens`` int ``(channels, patches, scales,   ``start``: index of the first patch
                levels)``
=============== ============================================= ==========================================
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from neurosig.core.errors import DataError
from neurosig.dtypes import EVENTS_DTYPE

__all__ = [
    "EVENTS_DTYPE",
    "Marker",
    "SignalInfo",
    "SignalChunk",
    "EpochsInfo",
    "EpochsChunk",
    "EventInfo",
    "EventChunk",
    "SpikeInfo",
    "SpikeChunk",
    "TokenInfo",
    "TokenChunk",
    "Chunk",
    "concat_chunks",
    "info_from_dict",
]


class _Info:
    """Shared behaviour of the frozen stream-info dataclasses."""

    kind: ClassVar[str]

    def replace(self, **changes: Any):
        """Return a copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict, tagged with the info's kind."""
        d = dataclasses.asdict(self)
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
        return {"kind": self.kind, **d}

    def to_json(self) -> str:
        """Return :meth:`to_dict` as JSON."""
        return json.dumps(self.to_dict())


class _Chunk:
    """Shared behaviour of the chunk dataclasses: where the payload is and which axis streams."""

    payload_field: ClassVar[str] = "data"
    stream_axis: ClassVar[int] = 0

    @property
    def payload(self) -> np.ndarray:
        """The array the chunk carries (``data``, ``events`` or ``tokens``)."""
        return getattr(self, self.payload_field)

    @property
    def length(self) -> int:
        """Items along the streaming axis: samples, epochs, events, steps or patches."""
        return self.payload.shape[self.stream_axis]


@dataclass(frozen=True)
class Marker:
    """An annotation on a stream.

    Parameters
    ----------
    onset : float
        Seconds from the first sample of the stream.
    duration : float
        Seconds (0 for instantaneous markers).
    description : str
        The label, e.g. ``"T1"`` or ``"blink"``.
    """

    onset: float
    duration: float
    description: str


@dataclass(frozen=True)
class SignalInfo(_Info):
    """What a continuous multichannel signal stream is.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    ch_names : tuple of str
        Channel names.
    ch_types : tuple of str
        MNE channel types (``"eeg"``, ``"eog"``, ``"emg"``, ``"misc"``, ...), one per channel.
    unit : str
        Physical unit of the samples (``"V"`` for EEG, as in MNE).
    """

    kind: ClassVar[str] = "signal"
    sfreq: float
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...] = ()
    unit: str = "V"

    def __post_init__(self):
        object.__setattr__(self, "ch_names", tuple(self.ch_names))
        types = tuple(self.ch_types) or ("eeg",) * len(self.ch_names)
        object.__setattr__(self, "ch_types", types)
        if len(types) != len(self.ch_names):
            raise DataError(f"{len(self.ch_names)} channel names but {len(types)} channel types.")
        if len(set(self.ch_names)) != len(self.ch_names):
            raise DataError(f"channel names must be unique, got {list(self.ch_names)}.")
        if not np.isfinite(self.sfreq) or self.sfreq <= 0:
            raise DataError(f"sfreq must be a positive number of Hz, got {self.sfreq!r}.")

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.ch_names)


def _check_array(name: str, data: np.ndarray, ndim: int, what: str) -> None:
    if not isinstance(data, np.ndarray) or data.ndim != ndim:
        shape = getattr(data, "shape", type(data).__name__)
        raise DataError(f"{name} must be a {ndim}-D numpy array {what}, got {shape}.")


@dataclass(frozen=True, eq=False)
class SignalChunk(_Chunk):
    """A piece of a continuous signal stream.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_samples)
        Samples in ``info.unit`` (volts for EEG); stored as float32.
    info : SignalInfo
        The stream's description.
    start : int
        Index of the first sample in the whole stream.
    markers : tuple of Marker
        Annotations whose onset falls inside this chunk (onsets relative to the stream start).
    """

    stream_axis: ClassVar[int] = 1

    data: np.ndarray
    info: SignalInfo
    start: int = 0
    markers: tuple[Marker, ...] = field(default=())

    def __post_init__(self):
        _check_array("SignalChunk.data", self.data, 2, "(n_channels, n_samples)")
        if self.data.shape[0] != self.info.n_channels:
            raise DataError(
                f"SignalChunk.data has {self.data.shape[0]} channels but info names {self.info.n_channels}."
            )
        if self.data.dtype != np.float32:
            object.__setattr__(self, "data", self.data.astype(np.float32))
        object.__setattr__(self, "markers", tuple(self.markers))

    @property
    def n_samples(self) -> int:
        """Number of samples in this chunk."""
        return self.data.shape[1]

    @property
    def stop(self) -> int:
        """Index one past the last sample of this chunk."""
        return self.start + self.n_samples

    @property
    def times(self) -> np.ndarray:
        """Time of each sample in seconds from the stream start."""
        return np.arange(self.start, self.stop) / self.info.sfreq


@dataclass(frozen=True)
class EpochsInfo(_Info):
    """What a stream of fixed-length epochs is.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    ch_names, ch_types : tuple of str
        As in :class:`SignalInfo`.
    tmin : float
        Time of each epoch's first sample relative to its event, in seconds.
    n_times : int
        Samples per epoch.
    unit : str
        Physical unit of the samples.
    """

    kind: ClassVar[str] = "epochs"
    sfreq: float
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    tmin: float
    n_times: int
    unit: str = "V"

    def __post_init__(self):
        object.__setattr__(self, "ch_names", tuple(self.ch_names))
        object.__setattr__(self, "ch_types", tuple(self.ch_types))

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.ch_names)


@dataclass(frozen=True, eq=False)
class EpochsChunk(_Chunk):
    """A batch of epochs cut from a signal stream.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        Samples in ``info.unit``; stored as float32.
    info : EpochsInfo
        The stream's description.
    onsets : ndarray, shape (n_epochs,)
        Time of each epoch's event in seconds from the stream start.
    labels : tuple of str
        Each epoch's event description.
    start : int
        Index of the first epoch in the whole stream.
    """

    data: np.ndarray
    info: EpochsInfo
    onsets: np.ndarray
    labels: tuple[str, ...]
    start: int = 0

    def __post_init__(self):
        _check_array("EpochsChunk.data", self.data, 3, "(n_epochs, n_channels, n_times)")
        if self.data.dtype != np.float32:
            object.__setattr__(self, "data", self.data.astype(np.float32))
        object.__setattr__(self, "onsets", np.asarray(self.onsets, dtype=np.float64))
        object.__setattr__(self, "labels", tuple(self.labels))
        n = self.data.shape[0]
        if self.data.shape[1:] != (self.info.n_channels, self.info.n_times):
            raise DataError(
                f"EpochsChunk.data has shape {self.data.shape}; info expects "
                f"(n_epochs, {self.info.n_channels}, {self.info.n_times})."
            )
        if len(self.onsets) != n or len(self.labels) != n:
            raise DataError(f"{n} epochs but {len(self.onsets)} onsets and {len(self.labels)} labels.")

    @property
    def n_epochs(self) -> int:
        """Number of epochs in this chunk."""
        return self.data.shape[0]


@dataclass(frozen=True)
class EventInfo(_Info):
    """What an event-camera stream is.

    Parameters
    ----------
    sensor_size : tuple of int
        ``(width, height, polarities)``, as tonic orders it.
    """

    kind: ClassVar[str] = "events"
    sensor_size: tuple[int, int, int]

    def __post_init__(self):
        size = tuple(int(s) for s in self.sensor_size)
        if len(size) != 3 or min(size) <= 0:
            raise DataError(f"sensor_size must be (width, height, polarities) > 0, got {size}.")
        object.__setattr__(self, "sensor_size", size)


@dataclass(frozen=True, eq=False)
class EventChunk(_Chunk):
    """A piece of an event stream.

    Parameters
    ----------
    events : ndarray of :data:`EVENTS_DTYPE`
        Events in time order; ``t`` in microseconds.
    info : EventInfo
        The stream's description.
    """

    payload_field: ClassVar[str] = "events"

    events: np.ndarray
    info: EventInfo

    def __post_init__(self):
        if not isinstance(self.events, np.ndarray) or self.events.dtype != EVENTS_DTYPE:
            got = getattr(self.events, "dtype", type(self.events).__name__)
            raise DataError(
                f"EventChunk.events must have neurosig.EVENTS_DTYPE {EVENTS_DTYPE.descr}, got {got}; "
                "convert with neurosig.io.events.as_events()."
            )

    def __len__(self) -> int:
        return len(self.events)


@dataclass(frozen=True)
class SpikeInfo(_Info):
    """What a binned spike stream is.

    Parameters
    ----------
    dt : float
        Time-step length in seconds.
    n_units : int
        Number of input units (channels).
    shape : tuple of int
        Layout of the units when they are a grid, e.g. ``(P, H, W)`` for event frames: a step
        reshapes to ``data[t].reshape(shape)``; empty for plain channels.
    """

    kind: ClassVar[str] = "spikes"
    dt: float
    n_units: int
    shape: tuple[int, ...] = ()

    def __post_init__(self):
        shape = tuple(int(s) for s in self.shape)
        if shape and int(np.prod(shape)) != self.n_units:
            raise DataError(f"SpikeInfo.shape {shape} does not hold {self.n_units} units.")
        object.__setattr__(self, "shape", shape)


@dataclass(frozen=True, eq=False)
class SpikeChunk(_Chunk):
    """A piece of a binned spike stream, time first as in SpikingJelly's multi-step mode.

    Parameters
    ----------
    data : ndarray, shape (n_steps, n_units)
        Spike counts (or 0/1 spikes) per time step.
    info : SpikeInfo
        The stream's description.
    start : int
        Index of the first time step in the whole stream.
    """

    data: np.ndarray
    info: SpikeInfo
    start: int = 0

    def __post_init__(self):
        _check_array("SpikeChunk.data", self.data, 2, "(n_steps, n_units)")
        if self.data.shape[1] != self.info.n_units:
            raise DataError(f"SpikeChunk.data has {self.data.shape[1]} units, info {self.info.n_units}.")

    @property
    def n_steps(self) -> int:
        """Number of time steps in this chunk."""
        return self.data.shape[0]


@dataclass(frozen=True)
class TokenInfo(_Info):
    """What a stream of discrete EEG tokens is.

    Parameters
    ----------
    ch_names : tuple of str
        Channel names.
    patch_duration : float
        Seconds of signal per patch.
    n_scales, n_levels : int
        Scales (encoder branches) and residual levels per scale.
    codebook_size : int
        Codes per codebook; tokens lie in ``[0, codebook_size)``.
    epoch_patches : int
        Patches per epoch when the tokens come from an epochs stream (epoch ``e`` holds patches
        ``e * epoch_patches`` to ``(e + 1) * epoch_patches - 1``); 0 for a continuous stream.
    """

    kind: ClassVar[str] = "tokens"
    ch_names: tuple[str, ...]
    patch_duration: float
    n_scales: int
    n_levels: int
    codebook_size: int
    epoch_patches: int = 0

    def __post_init__(self):
        object.__setattr__(self, "ch_names", tuple(self.ch_names))


@dataclass(frozen=True, eq=False)
class TokenChunk(_Chunk):
    """A piece of a token stream.

    Parameters
    ----------
    tokens : ndarray, shape (n_channels, n_patches, n_scales, n_levels)
        Integer codes.
    info : TokenInfo
        The stream's description.
    start : int
        Index of the first patch in the whole stream.
    """

    payload_field: ClassVar[str] = "tokens"
    stream_axis: ClassVar[int] = 1

    tokens: np.ndarray
    info: TokenInfo
    start: int = 0

    def __post_init__(self):
        _check_array("TokenChunk.tokens", self.tokens, 4, "(channels, patches, scales, levels)")


Chunk = SignalChunk | EpochsChunk | EventChunk | SpikeChunk | TokenChunk

_INFO_TYPES = {cls.kind: cls for cls in (SignalInfo, EpochsInfo, EventInfo, SpikeInfo, TokenInfo)}


def info_from_dict(d: dict[str, Any]):
    """Rebuild a stream info from :meth:`to_dict` output (e.g. an HDF5 attribute)."""
    d = dict(d)
    cls = _INFO_TYPES[d.pop("kind")]
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def concat_chunks(chunks: list[Chunk]) -> Chunk:
    """Join consecutive chunks of one stream into one chunk.

    Raises
    ------
    DataError
        If the list is empty, mixes chunk types, or mixes stream infos.
    """
    if not chunks:
        raise DataError("concat_chunks needs at least one chunk.")
    first = chunks[0]
    if any(type(c) is not type(first) or c.info != first.info for c in chunks):
        raise DataError("concat_chunks needs chunks of one type and one stream info.")
    if isinstance(first, SignalChunk):
        markers = tuple(m for c in chunks for m in c.markers)
        data = np.concatenate([c.data for c in chunks], axis=1)
        return SignalChunk(data, first.info, first.start, markers)
    if isinstance(first, EpochsChunk):
        return EpochsChunk(
            np.concatenate([c.data for c in chunks]),
            first.info,
            np.concatenate([c.onsets for c in chunks]),
            tuple(lab for c in chunks for lab in c.labels),
            first.start,
        )
    if isinstance(first, EventChunk):
        return EventChunk(np.concatenate([c.events for c in chunks]), first.info)
    if isinstance(first, SpikeChunk):
        return SpikeChunk(np.concatenate([c.data for c in chunks]), first.info, first.start)
    return TokenChunk(np.concatenate([c.tokens for c in chunks], axis=1), first.info, first.start)
