"""iniVation AEDAT4 (``.aedat4``) through the maintained ``aedat`` package (FlatBuffers, LZ4, Zstd).

The container is never parsed here: ``aedat.Decoder`` yields packets, of which the first ``events``
stream becomes the event stream (its width/height are the sensor size) and ``triggers`` packets the
trigger stream (``id`` = the trigger's source, ``value`` = 1). Frames and IMU samples are skipped.
``aedat`` reports no byte offsets, so a corrupt packet raises :class:`FormatError` without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.core.errors import DataError, FormatError
from neurosig.io.events._common import (
    TRIGGER_DTYPE,
    DecodeReport,
    FileHeader,
    check_sensor_size,
    empty_events,
    empty_triggers,
    join,
)
from neurosig.kernels.event_decoders import BAD_OUTSIDE_SENSOR

__all__ = ["NAME", "probe", "read", "blocks"]

NAME = "aedat4"


def _decoder(path: Path):
    try:
        import aedat
    except ImportError:
        raise DataError(
            f"reading the AEDAT4 file {path} needs the aedat package: pip install -c constraints.txt aedat"
        ) from None

    try:
        return aedat.Decoder(path)
    except Exception as err:  # noqa: BLE001 - the Rust decoder raises several kinds of errors
        raise FormatError(
            f"the aedat package cannot open this AEDAT4 file ({err}); check that it is a complete "
            "AEDAT 4.0 recording.",
            path=path,
            offset=0,
        ) from None


def probe(path: Path, sensor_size=None) -> FileHeader:
    """Read the stream table of an AEDAT4 file."""
    streams = _decoder(path).id_to_stream()
    events = [(sid, s) for sid, s in sorted(streams.items()) if s.get("type") == "events"]
    if not events:
        raise FormatError("this AEDAT4 file has no events stream.", path=path)
    sid, stream = events[0]
    fields = {"stream_id": str(sid), "streams": ",".join(str(s.get("type")) for s in streams.values())}
    if sensor_size is not None:
        return FileHeader(NAME, 0, check_sensor_size(sensor_size, 1 << 16, NAME), "argument", fields)
    return FileHeader(NAME, 0, (int(stream["width"]), int(stream["height"]), 2), "header", fields)


def _convert(packets: list[np.ndarray]) -> np.ndarray:
    """aedat's event packets → one EVENTS_DTYPE array (field by field: no structured concatenation)."""
    out = empty_events(sum(len(p) for p in packets))
    a = 0
    for packet in packets:
        b = a + len(packet)
        block = out[a:b]
        block["t"] = packet["t"]
        block["x"] = packet["x"]
        block["y"] = packet["y"]
        block["p"] = packet["on"]
        a = b
    return out


def _triggers(packet: np.ndarray) -> np.ndarray:
    out = empty_triggers(len(packet))
    out["t"] = packet["t"]
    out["id"] = packet["source"] if "source" in (packet.dtype.names or ()) else 0
    out["value"] = 1
    return out


def _checked(packets: list[np.ndarray], path: Path, header: FileHeader, strict: bool, report, first: int):
    events = _convert(packets)
    width, height = header.sensor_size[:2]
    bad = (events["x"] >= width) | (events["y"] >= height)
    if bad.any():
        if strict:
            raise FormatError(
                f"AEDAT4 event {first + int(np.argmax(bad))} lies outside the sensor {width}x{height}; "
                "pass sensor_size=(width, height, 2) if the header is wrong, or strict=False to skip "
                "such events.",
                path=path,
            )
        report.counts[BAD_OUTSIDE_SENSOR] += int(bad.sum())
        events = events[~bad]
    return events


def blocks(path: Path, header: FileHeader, strict: bool = True, block_bytes: int = 1 << 22) -> Iterator:
    """Yield ``(events, triggers, report)``, joining packets into blocks of about ``block_bytes``."""
    report = DecodeReport(path, NAME)
    sid = int(header.fields["stream_id"])
    decoder = _decoder(path)
    pending: list[np.ndarray] = []
    n_pending = n_done = index = 0
    while True:
        try:
            packet = next(decoder)
        except StopIteration:
            break
        except Exception as err:  # noqa: BLE001 - the Rust decoder raises several kinds of errors
            if strict:
                raise FormatError(
                    f"AEDAT4 packet {index} cannot be decoded ({err}); the file is damaged or truncated. "
                    "Pass strict=False to keep the packets before it.",
                    path=path,
                ) from None
            report.extra["unreadable_packets"] = 1
            break
        index += 1
        if packet.get("stream_id") == sid and "events" in packet:
            pending.append(packet["events"])
            n_pending += len(packet["events"])
            if n_pending * EVENTS_DTYPE.itemsize >= block_bytes:
                yield _checked(pending, path, header, strict, report, n_done), empty_triggers(), report
                pending, n_done, n_pending = [], n_done + n_pending, 0
        elif "triggers" in packet:
            yield empty_events(), _triggers(packet["triggers"]), report
    if pending:
        yield _checked(pending, path, header, strict, report, n_done), empty_triggers(), report


def read(path: Path, header: FileHeader, strict: bool = True):
    """Decode the whole file: ``(events, triggers, report)``."""
    parts = list(blocks(path, header, strict, block_bytes=1 << 62))
    report = parts[-1][2] if parts else DecodeReport(path, NAME)
    events = [p[0] for p in parts if len(p[0])]
    triggers = [p[1] for p in parts if len(p[1])]
    return join(events, EVENTS_DTYPE), join(triggers, TRIGGER_DTYPE), report
