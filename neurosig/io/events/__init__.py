"""Event-camera files: sniff, read whole or in bounded-memory chunks, write, convert, describe.

Formats (one module each): Prophesee EVT 2.0 and EVT 3.0 (``.raw``), Prophesee DAT (``.dat``),
iniVation AEDAT4 (``.aedat4``, through the ``aedat`` package), N-MNIST/ATIS ``.bin``, NumPy ``.npy``
and the suite's HDF5. Every reader gives :data:`~neurosig.core.chunks.EVENTS_DTYPE` events (``t`` int64
µs, ``x``, ``y`` uint16, ``p`` int8) in :class:`~neurosig.core.chunks.EventChunk` s whose info carries
the sensor size. EVT 2.0/3.0 trigger words are a separate stream: :func:`read_triggers`.

Decoding is *strict* by default: the first corrupt word raises :class:`~neurosig.core.errors.FormatError`
with its byte offset. With ``strict=False`` corrupt words are skipped, counted, and reported in one
:class:`EventDecodeWarning` per read (and in :func:`info`'s ``"skipped"``). See ``docs/event_formats.md``.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from neurosig.core.chunks import EventChunk, EventInfo
from neurosig.core.errors import ConfigError, FormatError
from neurosig.core.validate import check_existing_file, check_option, check_positive
from neurosig.io.events._chunking import by_count, by_duration, from_time
from neurosig.io.events._common import (
    TRIGGER_DTYPE,
    EventDecodeWarning,
    empty_triggers,
    parse_percent_header,
)
from neurosig.io.events._convert import TONIC_DTYPE, as_events, to_tonic

__all__ = [
    "FORMATS",
    "WRITABLE",
    "TRIGGER_DTYPE",
    "TONIC_DTYPE",
    "EventDecodeWarning",
    "sniff",
    "read_events",
    "read_triggers",
    "iter_events",
    "write_events",
    "convert",
    "info",
    "as_events",
    "to_tonic",
    "EventFileSource",
]

#: Readable formats and their modules.
FORMATS = ("evt2", "evt3", "dat", "aedat4", "nmnist", "npy", "hdf5")
#: Writable formats.
WRITABLE = ("evt2", "evt3", "dat", "npy", "hdf5")
_SUFFIX = {".raw": "evt3", ".dat": "dat", ".npy": "npy", ".h5": "hdf5", ".hdf5": "hdf5"}
_HOLDS_TRIGGERS = ("evt2", "evt3", "hdf5")


def __getattr__(name: str):
    if name == "EventFileSource":
        from neurosig.io.events.source import EventFileSource

        return EventFileSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _module(fmt: str) -> ModuleType:
    return importlib.import_module(f"neurosig.io.events.{fmt}")


def _unsupported(path: Path, what: str) -> FormatError:
    return FormatError(
        f"{what}; neurosig reads {', '.join(FORMATS)}. Convert the file with its vendor's tools first.",
        path=path,
        offset=0,
    )


def _sniff_percent(path: Path) -> str:
    fields, _ = parse_percent_header(path)
    version = fields.get("evt", "")
    declared = fields.get("format", "").split(";")[0].upper()
    if version == "2.0" or declared == "EVT2":
        return "evt2"
    if version == "3.0" or declared == "EVT3":
        return "evt3"
    if version == "2.1" or declared == "EVT21":
        raise _unsupported(path, "EVT 2.1 (64-bit vectorised words) is not supported yet")
    if path.suffix.lower() == ".dat" or fields.get("data", "").startswith("file containing"):
        return "dat"
    raise FormatError(
        "a Prophesee '%' header without '% evt 2.0', '% evt 3.0' or a '% format' line: the encoding is "
        "unknown. Add the line for the camera's format to the header.",
        path=path,
        offset=0,
    )


def sniff(path: str | Path) -> str:
    """Tell an event file's format from its first bytes (and, for headerless ``.bin``, its name).

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    FormatError
        If the file is no event format neurosig reads (naming what it looks like, when known).
    """
    return _sniff(check_existing_file(path, "event file"))


def _sniff(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"#!AER-DAT4"):
        return "aedat4"
    if head.startswith(b"#!AER-DAT"):
        raise _unsupported(path, f"{head[2:12].decode('ascii', 'replace')} (before 4.0) is not supported")
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if head.startswith(b"%"):
        return _sniff_percent(path)
    if path.suffix.lower() == ".bin":
        return "nmnist"
    if path.suffix.lower() == ".es":
        raise _unsupported(path, "Event Stream (.es) files are not supported")
    raise FormatError(
        f"not an event file neurosig recognises (first bytes {head[:8].hex()}); readable formats are "
        f"{', '.join(FORMATS)} (N-MNIST files need the .bin suffix).",
        path=path,
        offset=0,
    )


def _open(path: str | Path, sensor_size, fmt: str | None = None):
    path = check_existing_file(path, "event file")
    fmt = _sniff(path) if fmt is None else check_option("fmt", fmt, FORMATS)
    mod = _module(fmt)
    return path, mod, mod.probe(path, sensor_size)


def _read(path, strict: bool, sensor_size):
    path, mod, header = _open(path, sensor_size)
    events, triggers, report = mod.read(path, header, strict)
    report.warn()
    return events, triggers, header


def read_events(path: str | Path, *, strict: bool = True, sensor_size=None) -> EventChunk:
    """Read a whole event file.

    Parameters
    ----------
    path : str | Path
        Any format of :data:`FORMATS`; the format is sniffed from the file.
    strict : bool
        Raise at the first corrupt word (``True``) or skip, count and warn once (``False``).
    sensor_size : tuple of int, optional
        ``(width, height, polarities)`` overriding the header's (or the format default).

    Returns
    -------
    EventChunk
        All events, time in µs, sensor size in ``info``.

    Raises
    ------
    FormatError
        Unknown format, or (strict) a corrupt word, with the byte offset where the format has one.
    """
    events, _, header = _read(path, strict, sensor_size)
    return EventChunk(events, EventInfo(header.sensor_size))


def read_triggers(path: str | Path, *, strict: bool = True) -> np.ndarray:
    """Read the external-trigger stream of a file (EVT 2.0/3.0 EXT_TRIGGER words, AEDAT4, HDF5).

    Returns
    -------
    ndarray of TRIGGER_DTYPE
        ``t`` (µs), channel ``id``, ``value`` (0 falling, 1 rising); empty for formats without triggers.
    """
    return _read(path, strict, None)[1]


def _blocks(path, strict, sensor_size, block_bytes: int, fmt: str | None = None):
    path, mod, header = _open(path, sensor_size, fmt)

    def gen() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        report = None
        for events, triggers, rep in mod.blocks(path, header, strict, block_bytes):
            report = rep
            yield events, triggers
        if report is not None:
            report.warn()

    return path, header, gen()


def iter_events(
    path: str | Path,
    *,
    n_events: int | None = None,
    duration: float | None = None,
    start: float | None = None,
    strict: bool = True,
    sensor_size=None,
    block_bytes: int = 1 << 22,
) -> Iterator[EventChunk]:
    """Read an event file chunk by chunk, in memory bounded by one block and one chunk.

    Parameters
    ----------
    path : str | Path
        Any format of :data:`FORMATS`.
    n_events : int, optional
        Events per chunk (the last chunk may be shorter).
    duration : float, optional
        Seconds per chunk: windows ``[t0 + k duration, t0 + (k + 1) duration)`` from the first event's
        time ``t0``; windows without events are skipped. At most one of ``n_events``, ``duration``.
        With neither, chunks are the decoded blocks.
    start : float, optional
        Seek: skip events before this time, in seconds of the file's clock (``t / 1e6``). The skipped
        part is still decoded (the formats have no index), but never held in memory.
    strict : bool
        As in :func:`read_events`; lenient reads warn once when the file is exhausted.
    sensor_size : tuple of int, optional
        Overrides the header's sensor size.
    block_bytes : int
        Bytes decoded at a time.

    Yields
    ------
    EventChunk
    """
    if n_events is not None and duration is not None:
        raise ConfigError("pass n_events or duration, not both.")
    if n_events is not None and n_events < 1:
        raise ConfigError(f"n_events must be a positive number of events, got {n_events!r}.")
    if duration is not None:
        check_positive("duration", duration)
    check_positive("block_bytes", block_bytes)
    _, header, blocks = _blocks(path, strict, sensor_size, block_bytes)
    info_ = EventInfo(header.sensor_size)
    stream: Iterator[np.ndarray] = (ev for ev, _ in blocks)
    if start is not None:
        stream = from_time(stream, round(start * 1e6))
    if n_events is not None:
        stream = by_count(stream, n_events)
    elif duration is not None:
        stream = by_duration(stream, max(round(duration * 1e6), 1))
    for ev in stream:
        if len(ev):
            yield EventChunk(ev, info_)


def _target_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        return check_option("fmt", fmt, WRITABLE)
    suffix = path.suffix.lower()
    if suffix not in _SUFFIX:
        raise ConfigError(
            f"cannot tell the format to write from the suffix {suffix!r} of {path}; pass fmt= one of "
            f"{list(WRITABLE)} or use {sorted(_SUFFIX)}."
        )
    return _SUFFIX[suffix]


def _extent(events: np.ndarray) -> tuple[int, int, int]:
    if not len(events):
        return (1, 1, 2)
    return (int(events["x"].max()) + 1, int(events["y"].max()) + 1, 2)


def write_events(
    path: str | Path,
    chunk_or_events,
    fmt: str | None = None,
    *,
    sensor_size=None,
    triggers: np.ndarray | None = None,
    overwrite: bool = False,
) -> Path:
    """Write events to a file, atomically (``PATH.partial`` renamed on success).

    Parameters
    ----------
    path : str | Path
        Output file.
    chunk_or_events : EventChunk or array-like
        Time-ordered events (anything :func:`as_events` accepts).
    fmt : str, optional
        One of :data:`WRITABLE`; by default from the suffix (``.raw`` → EVT 3.0, ``.dat``, ``.npy``,
        ``.h5``/``.hdf5``).
    sensor_size : tuple of int, optional
        Written to the header; default the chunk's, else the events' extent.
    triggers : ndarray of TRIGGER_DTYPE, optional
        External triggers (EVT 2.0, EVT 3.0 and HDF5 only).
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The written file.
    """
    path = Path(path)
    fmt = _target_format(path, fmt)
    events = as_events(chunk_or_events)
    if sensor_size is None:
        sensor_size = chunk_or_events.info.sensor_size if isinstance(chunk_or_events, EventChunk) else None
    size = tuple(sensor_size) if sensor_size is not None else _extent(events)
    if triggers is not None and len(triggers) and fmt not in _HOLDS_TRIGGERS:
        raise ConfigError(f"{fmt} files cannot hold triggers; write {list(_HOLDS_TRIGGERS)} instead.")
    with _module(fmt).writer(path, size, overwrite) as w:
        w.write(events, triggers)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def convert(
    src: str | Path,
    dst: str | Path,
    fmt: str | None = None,
    *,
    strict: bool = True,
    sensor_size=None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Convert an event file to another format, block by block (bounded memory).

    Parameters
    ----------
    src, dst : str | Path
        Input (any of :data:`FORMATS`) and output (any of :data:`WRITABLE`, by suffix or ``fmt``).
    fmt : str, optional
        Output format.
    strict : bool
        Decoding mode for ``src``.
    sensor_size : tuple of int, optional
        Overrides the input's sensor size.
    overwrite : bool
        Replace an existing ``dst``.

    Returns
    -------
    dict
        ``src``, ``dst``, ``src_format``, ``dst_format``, ``n_events``, ``n_triggers``,
        ``triggers_dropped`` (formats without a trigger stream) and ``sensor_size``.
    """
    dst = Path(dst)
    out_fmt = _target_format(dst, fmt)
    src_path, header, blocks = _blocks(src, strict, sensor_size, 1 << 22)
    kwargs: dict[str, Any] = {}
    if out_fmt == "hdf5":
        kwargs["source"] = {
            "type": "events",
            "path": str(src_path.resolve()),
            "format": header.fmt,
            "sha256": _sha256(src_path),
        }
    dropped = 0
    writer = _module(out_fmt).writer(dst, header.sensor_size, overwrite, **kwargs)
    with writer:
        for events, triggers in blocks:
            if out_fmt not in _HOLDS_TRIGGERS:
                dropped += len(triggers)
                triggers = empty_triggers()
            writer.write(events, triggers)
    if dropped:
        import warnings

        warnings.warn(
            f"{dst}: {dropped} trigger(s) of {src_path} were not written, {out_fmt} has no trigger stream.",
            EventDecodeWarning,
            stacklevel=2,
        )
    return {
        "src": str(src_path),
        "dst": str(dst),
        "src_format": header.fmt,
        "dst_format": out_fmt,
        "n_events": writer.n_events,
        "n_triggers": writer.n_triggers,
        "triggers_dropped": dropped,
        "sensor_size": list(header.sensor_size),
    }


def info(path: str | Path, *, strict: bool = True, sensor_size=None) -> dict[str, Any]:
    """Describe an event file by reading it once in bounded memory.

    Returns
    -------
    dict
        Plain data: ``path``, ``format``, ``bytes``, ``sensor_size`` and ``sensor_from``, ``header``
        (the header's fields), ``n_events``, ``t_first_us``/``t_last_us``, ``t_min_us``/``t_max_us``,
        ``duration_s``, ``rate_ev_per_s``, ``time_sorted``, ``polarity`` (``on``, ``off``,
        ``on_fraction``), ``triggers`` (``count``, ``per_channel``), ``skipped`` (lenient mode counts)
        and ``vendor_words`` (legitimate words without events).
    """
    path, mod, header = _open(path, sensor_size)
    n = n_on = 0
    t_first = t_last = t_min = t_max = None
    last = None
    in_order = True
    channels: dict[int, int] = {}
    report = None
    for events, triggers, rep in mod.blocks(path, header, strict, 1 << 22):
        report = rep
        for cid, count in zip(*np.unique(triggers["id"], return_counts=True), strict=True):
            channels[int(cid)] = channels.get(int(cid), 0) + int(count)
        if not len(events):
            continue
        t = events["t"]
        in_order = in_order and bool(np.all(t[1:] >= t[:-1]) and (last is None or t[0] >= last))
        t_first = int(t[0]) if t_first is None else t_first
        t_last = last = int(t[-1])
        lo, hi = int(t.min()), int(t.max())
        t_min = lo if t_min is None else min(t_min, lo)
        t_max = hi if t_max is None else max(t_max, hi)
        n += len(events)
        n_on += int(np.count_nonzero(events["p"]))
    if report is not None:
        report.warn()
    span = (t_max - t_min) * 1e-6 if n else 0.0
    return {
        "path": str(path),
        "format": header.fmt,
        "bytes": path.stat().st_size,
        "sensor_size": list(header.sensor_size),
        "sensor_from": header.sensor_from,
        "header": dict(header.fields),
        "n_events": n,
        "t_first_us": t_first,
        "t_last_us": t_last,
        "t_min_us": t_min,
        "t_max_us": t_max,
        "duration_s": span,
        "rate_ev_per_s": n / span if span > 0 else None,
        "time_sorted": in_order,
        "polarity": {"on": n_on, "off": n - n_on, "on_fraction": n_on / n if n else None},
        "triggers": {"count": sum(channels.values()), "per_channel": channels},
        "skipped": report.skipped() if report is not None else {},
        "vendor_words": report.vendor_words if report is not None else 0,
    }
