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

Every chunk type answers the same small protocol, so that code outside this module never switches
on chunk types: ``payload``/``payload_field`` and ``stream_axis`` (the array and the axis the stream
grows along), ``length`` (items on that axis), ``duration`` (seconds of recording), ``slice(start,
stop)``, ``concatenate(chunks)``, and its stored form (``item_fields``/``items()``: arrays with one row
per item, ``record_fields``/``records()``: tables of the stream, ``payload_attrs()``, and
``from_stored(...)`` to rebuild a chunk). A new chunk type implements these here and joins
:data:`CHUNK_TYPES`; the HDF5 store, the pipeline and :mod:`neurosig.testing` need no change.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np

from neurosig.core.errors import DataError
from neurosig.dtypes import EVENTS_DTYPE, check_events_dtype

__all__ = [
    "EVENTS_DTYPE",
    "Marker",
    "Position",
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
    "CHUNK_TYPES",
    "MARKER_DTYPE",
    "check_events_dtype",
    "concat_chunks",
    "info_from_dict",
]

#: Stored form of a signal's markers: onset and duration in seconds, description as text (object).
MARKER_DTYPE = np.dtype([("onset", "<f8"), ("duration", "<f8"), ("description", object)])


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


#: One channel's position: ``(x, y, z)`` in metres, head frame, or ``None`` when it has none.
Position = tuple[float, float, float] | None


def _check_ch_pos(ch_pos: Sequence[Sequence[float] | None], n_channels: int) -> tuple[Position, ...]:
    """``ch_pos`` as a tuple of ``(x, y, z)`` tuples or ``None``; empty when no channel has one."""
    out: list[Position] = []
    for i, p in enumerate(ch_pos):
        if p is None:
            out.append(None)
            continue
        xyz = tuple(float(v) for v in p)
        if len(xyz) != 3 or not np.all(np.isfinite(xyz)):
            raise DataError(f"ch_pos[{i}] must be (x, y, z) in metres or None, got {p!r}.")
        out.append(xyz)
    if out and len(out) != n_channels:
        raise DataError(f"{n_channels} channel names but {len(out)} channel positions.")
    return tuple(out) if any(p is not None for p in out) else ()


class _ChannelInfo(_Info):
    """Shared behaviour of the infos of channel streams (names, types and optional positions)."""

    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    ch_pos: tuple[Position, ...]

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return len(self.ch_names)

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`_Info.to_dict`, leaving out ``ch_pos`` when no channel has a position (so the
        stored info of a stream without positions reads as it did before positions existed)."""
        d = super().to_dict()
        if not self.ch_pos:
            del d["ch_pos"]
        return d

    def positions(self) -> dict[str, np.ndarray]:
        """Channel name → position ``(x, y, z)`` in metres (head frame), for channels that have one."""
        return {c: np.array(p) for c, p in zip(self.ch_names, self.ch_pos, strict=False) if p is not None}

    def pick(self, index: Sequence[int]):
        """The info of the channels at ``index`` (names, types and positions), in that order."""
        return self.replace(
            ch_names=tuple(self.ch_names[i] for i in index),
            ch_types=tuple(self.ch_types[i] for i in index),
            ch_pos=tuple(self.ch_pos[i] for i in index) if self.ch_pos else (),
        )


class _Chunk:
    """The chunk protocol: where the payload is, which axis streams, and how to cut, join and store.

    Subclasses set the class attributes and implement :attr:`duration`, :meth:`slice`,
    :meth:`concatenate` and :meth:`from_stored`; the stored-form hooks default to "nothing beside the
    payload".
    """

    #: Name of the field that holds the payload array (also its dataset name in a store).
    payload_field: ClassVar[str] = "data"
    #: Axis of the payload along which the stream grows.
    stream_axis: ClassVar[int] = 0
    #: Arrays stored beside the payload with one row per item on the stream axis: name -> dtype
    #: (``object`` means text).
    item_fields: ClassVar[Mapping[str, np.dtype]] = {}
    #: Tables the stream carries that are not one row per item: name -> row dtype.
    record_fields: ClassVar[Mapping[str, np.dtype]] = {}

    @property
    def payload(self) -> np.ndarray:
        """The array the chunk carries (``data``, ``events`` or ``tokens``)."""
        return getattr(self, self.payload_field)

    @property
    def length(self) -> int:
        """Items along the streaming axis: samples, epochs, events, steps or patches."""
        return self.payload.shape[self.stream_axis]

    @property
    def duration(self) -> float:
        """Seconds of recording the chunk covers (for real-time factors)."""
        raise NotImplementedError

    def slice(self, start: int, stop: int) -> Self:
        """The items ``start:stop`` (positions on the stream axis, within this chunk) as a chunk."""
        raise NotImplementedError

    @classmethod
    def concatenate(cls, chunks: Sequence[Self]) -> Self:
        """Join consecutive chunks of one stream (checked by :func:`concat_chunks`)."""
        raise NotImplementedError

    def items(self) -> dict[str, np.ndarray]:
        """The arrays of :attr:`item_fields`, one row per item of this chunk."""
        return {}

    def records(self) -> dict[str, np.ndarray]:
        """The tables of :attr:`record_fields` that this chunk carries."""
        return {}

    def payload_attrs(self) -> dict[str, Any]:
        """Attributes stored once, from the stream's first chunk, on the payload dataset."""
        return {}

    @classmethod
    def from_stored(
        cls,
        payload: np.ndarray,
        info: Any,
        offset: int,
        items: Mapping[str, np.ndarray],
        records: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
    ) -> Self:
        """Rebuild a chunk from a stored stream.

        Parameters
        ----------
        payload : ndarray
            The stored payload's items ``offset:offset + n`` on the stream axis.
        info : stream info
            The stream's info.
        offset : int
            Position of the payload's first item among the stored items.
        items : dict of str to ndarray
            The rows of :attr:`item_fields` for those items (text as ``str``).
        records : dict of str to ndarray
            The whole stream's tables of :attr:`record_fields` (text as ``str``).
        attrs : dict
            What :meth:`payload_attrs` stored.
        """
        raise NotImplementedError


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
class SignalInfo(_ChannelInfo):
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
    ch_pos : tuple of (x, y, z) or None
        Each channel's scalp position in metres (MNE's head frame), ``None`` for a channel without
        one; empty (the default) when no channel has a position.
    """

    kind: ClassVar[str] = "signal"
    sfreq: float
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...] = ()
    unit: str = "V"
    ch_pos: tuple[Position, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "ch_names", tuple(self.ch_names))
        types = tuple(self.ch_types) or ("eeg",) * len(self.ch_names)
        object.__setattr__(self, "ch_types", types)
        object.__setattr__(self, "ch_pos", _check_ch_pos(self.ch_pos, len(self.ch_names)))
        if len(types) != len(self.ch_names):
            raise DataError(f"{len(self.ch_names)} channel names but {len(types)} channel types.")
        if len(set(self.ch_names)) != len(self.ch_names):
            raise DataError(f"channel names must be unique, got {list(self.ch_names)}.")
        if not np.isfinite(self.sfreq) or self.sfreq <= 0:
            raise DataError(f"sfreq must be a positive number of Hz, got {self.sfreq!r}.")


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
    record_fields: ClassVar[Mapping[str, np.dtype]] = {"markers": MARKER_DTYPE}

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

    @property
    def duration(self) -> float:
        """Seconds of signal in this chunk."""
        return self.n_samples / self.info.sfreq

    def _window(self, start: int, stop: int) -> tuple[float, float]:
        """Seconds ``[t0, t1)`` covered by the samples ``start:stop`` of this chunk."""
        sfreq = self.info.sfreq
        return (self.start + start) / sfreq, (self.start + stop) / sfreq

    def slice(self, start: int, stop: int) -> SignalChunk:
        """Samples ``start:stop`` with the markers whose onset falls among them."""
        t0, t1 = self._window(start, stop)
        markers = tuple(m for m in self.markers if t0 <= m.onset < t1)
        return SignalChunk(self.data[:, start:stop], self.info, self.start + start, markers)

    @classmethod
    def concatenate(cls, chunks: Sequence[SignalChunk]) -> SignalChunk:
        """Join samples and markers; the result starts where the first chunk does."""
        first = chunks[0]
        markers = tuple(m for c in chunks for m in c.markers)
        return cls(np.concatenate([c.data for c in chunks], axis=1), first.info, first.start, markers)

    def records(self) -> dict[str, np.ndarray]:
        """The markers as rows of :data:`MARKER_DTYPE`."""
        rows = [(m.onset, m.duration, m.description) for m in self.markers]
        return {"markers": np.array(rows, dtype=MARKER_DTYPE)}

    def payload_attrs(self) -> dict[str, Any]:
        """``first_sample``: the stream's first sample index."""
        return {"first_sample": self.start}

    @classmethod
    def from_stored(
        cls,
        payload: np.ndarray,
        info: SignalInfo,
        offset: int,
        items: Mapping[str, np.ndarray],
        records: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
    ) -> SignalChunk:
        """Samples from ``first_sample + offset``, with the stored markers that fall among them."""
        start = int(attrs["first_sample"]) + offset
        t0, t1 = start / info.sfreq, (start + payload.shape[1]) / info.sfreq
        rows = records["markers"]
        rows = rows[(t0 <= rows["onset"]) & (rows["onset"] < t1)]
        markers = tuple(Marker(float(r["onset"]), float(r["duration"]), str(r["description"])) for r in rows)
        return cls(payload, info, start, markers)


@dataclass(frozen=True)
class EpochsInfo(_ChannelInfo):
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
    ch_pos : tuple of (x, y, z) or None
        As in :class:`SignalInfo`.
    """

    kind: ClassVar[str] = "epochs"
    sfreq: float
    ch_names: tuple[str, ...]
    ch_types: tuple[str, ...]
    tmin: float
    n_times: int
    unit: str = "V"
    ch_pos: tuple[Position, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "ch_names", tuple(self.ch_names))
        object.__setattr__(self, "ch_types", tuple(self.ch_types))
        object.__setattr__(self, "ch_pos", _check_ch_pos(self.ch_pos, len(self.ch_names)))


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

    item_fields: ClassVar[Mapping[str, np.dtype]] = {"onsets": np.dtype("<f8"), "labels": np.dtype(object)}

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

    @property
    def duration(self) -> float:
        """Seconds of signal in the epochs (overlaps counted twice)."""
        return self.n_epochs * self.info.n_times / self.info.sfreq

    def slice(self, start: int, stop: int) -> EpochsChunk:
        """Epochs ``start:stop`` with their onsets and labels."""
        return EpochsChunk(
            self.data[start:stop],
            self.info,
            self.onsets[start:stop],
            self.labels[start:stop],
            self.start + start,
        )

    @classmethod
    def concatenate(cls, chunks: Sequence[EpochsChunk]) -> EpochsChunk:
        """Join epochs, onsets and labels."""
        return cls(
            np.concatenate([c.data for c in chunks]),
            chunks[0].info,
            np.concatenate([c.onsets for c in chunks]),
            tuple(lab for c in chunks for lab in c.labels),
            chunks[0].start,
        )

    def items(self) -> dict[str, np.ndarray]:
        """Each epoch's onset (s) and label."""
        return {"onsets": self.onsets, "labels": np.array(self.labels, dtype=object)}

    @classmethod
    def from_stored(
        cls,
        payload: np.ndarray,
        info: EpochsInfo,
        offset: int,
        items: Mapping[str, np.ndarray],
        records: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
    ) -> EpochsChunk:
        """Epochs from ``offset``, with their stored onsets and labels."""
        return cls(payload, info, items["onsets"], tuple(items["labels"]), offset)


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
        check_events_dtype(self.events, "EventChunk.events")

    def __len__(self) -> int:
        return len(self.events)

    @property
    def duration(self) -> float:
        """Seconds from the first to the last event of this chunk (0 when empty)."""
        if not len(self.events):
            return 0.0
        return (int(self.events["t"][-1]) - int(self.events["t"][0])) * 1e-6

    def slice(self, start: int, stop: int) -> EventChunk:
        """Events ``start:stop``."""
        return EventChunk(self.events[start:stop], self.info)

    @classmethod
    def concatenate(cls, chunks: Sequence[EventChunk]) -> EventChunk:
        """Join the events."""
        return cls(np.concatenate([c.events for c in chunks]), chunks[0].info)

    @classmethod
    def from_stored(
        cls,
        payload: np.ndarray,
        info: EventInfo,
        offset: int,
        items: Mapping[str, np.ndarray],
        records: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
    ) -> EventChunk:
        """The stored events."""
        return cls(payload, info)


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

    @property
    def duration(self) -> float:
        """Seconds covered by the steps (0 when ``info.dt`` is 0, as for event-count frames)."""
        return self.n_steps * self.info.dt

    def slice(self, start: int, stop: int) -> SpikeChunk:
        """Steps ``start:stop``."""
        return SpikeChunk(self.data[start:stop], self.info, self.start + start)

    @classmethod
    def concatenate(cls, chunks: Sequence[SpikeChunk]) -> SpikeChunk:
        """Join the steps."""
        return cls(np.concatenate([c.data for c in chunks]), chunks[0].info, chunks[0].start)

    @classmethod
    def from_stored(
        cls,
        payload: np.ndarray,
        info: SpikeInfo,
        offset: int,
        items: Mapping[str, np.ndarray],
        records: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
    ) -> SpikeChunk:
        """Steps from ``offset``."""
        return cls(payload, info, offset)


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

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`_Info.to_dict`, leaving out ``epoch_patches`` for a continuous stream (so its stored
        info reads as it did before token streams of epochs existed)."""
        d = super().to_dict()
        if not self.epoch_patches:
            del d["epoch_patches"]
        return d


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

    @property
    def duration(self) -> float:
        """Seconds of signal the patches cover."""
        return self.tokens.shape[1] * self.info.patch_duration

    def slice(self, start: int, stop: int) -> TokenChunk:
        """Patches ``start:stop``."""
        return TokenChunk(self.tokens[:, start:stop], self.info, self.start + start)

    @classmethod
    def concatenate(cls, chunks: Sequence[TokenChunk]) -> TokenChunk:
        """Join the patches."""
        return cls(np.concatenate([c.tokens for c in chunks], axis=1), chunks[0].info, chunks[0].start)

    @classmethod
    def from_stored(
        cls,
        payload: np.ndarray,
        info: TokenInfo,
        offset: int,
        items: Mapping[str, np.ndarray],
        records: Mapping[str, np.ndarray],
        attrs: Mapping[str, Any],
    ) -> TokenChunk:
        """Patches from ``offset``."""
        return cls(payload, info, offset)


Chunk = SignalChunk | EpochsChunk | EventChunk | SpikeChunk | TokenChunk

#: Every chunk type by class name (the name a store records to rebuild its chunks).
CHUNK_TYPES: dict[str, type[Chunk]] = {
    cls.__name__: cls for cls in (SignalChunk, EpochsChunk, EventChunk, SpikeChunk, TokenChunk)
}

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
    return type(first).concatenate(chunks)
