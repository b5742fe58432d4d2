"""iniVation AEDAT4 (``.aedat4``) through the maintained ``aedat`` package (FlatBuffers, LZ4, Zstd).

``aedat.Decoder`` decodes the packets, of which the first ``events`` stream becomes the event stream
(its width/height are the sensor size) and ``triggers`` packets the trigger stream (``id`` = the
trigger's source, ``value`` = 1). Frames and IMU samples are skipped.

The container's framing is checked here first, because ``aedat`` trusts it: it reads the header's
FlatBuffer unchecked (a wrong size panics) and allocates whatever a size field says (a corrupt one
asks for up to 4 GiB). :func:`_layout` checks the header size, the header table and every packet's
size against the file, so no field drives an allocation larger than the file and the decoder only
ever sees packets that lie inside it; framing errors carry byte offsets. A Rust panic that still
escapes (pyo3's ``PanicException`` is a ``BaseException``) becomes a :class:`FormatError`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    header_sensor,
    join,
)
from neurosig.kernels.event_decoders import BAD_OUTSIDE_SENSOR

__all__ = ["NAME", "probe", "read", "blocks"]

NAME = "aedat4"


_MAGIC = b"#!AER-DAT4.0\r\n"
_HEAD = len(_MAGIC) + 4  # magic, then the header's size (uint32)
_COMPRESSIONS = ("none", "lz4", "lz4_high", "zstd", "zstd_high")
_PACKET_HEAD = 8  # stream id (int32), then the packet's size (uint32)
_MIN_PACKET = 12  # a size-prefixed FlatBuffer with its file identifier
_KEEP_BEFORE = " Pass strict=False to keep the packets before it."


def _is_panic(err: BaseException) -> bool:
    """A Rust panic raised through pyo3 (``pyo3_runtime.PanicException``, a ``BaseException``)."""
    return type(err).__name__ == "PanicException"


def _call(path: Path, what: str, call: Callable[[], Any], hint: str = "") -> Any:
    """Run one call into ``aedat``; its errors and panics become a :class:`FormatError`."""
    try:
        return call()
    except StopIteration:
        raise
    except BaseException as err:
        if not (isinstance(err, Exception) or _is_panic(err)):
            raise
        raise FormatError(
            f"the aedat package cannot {what} ({type(err).__name__}: {err}); the file is damaged or "
            "not a complete AEDAT 4.0 recording." + hint,
            path=path,
        ) from None


def _decoder(path: Path):
    try:
        import aedat
    except ImportError:
        raise DataError(
            f"reading the AEDAT4 file {path} needs the aedat package: pip install -c constraints.txt aedat"
        ) from None
    return _call(path, "open this AEDAT4 file", lambda: aedat.Decoder(path))


def _table_field(buf: bytes, table: int, vtable: int, index: int, size: int, path: Path) -> int | None:
    """Byte position of field ``index`` of a FlatBuffer table in ``buf``, or None when absent."""
    vt_size, table_size = struct.unpack_from("<HH", buf, vtable)
    if 4 + 2 * index + 2 > vt_size:
        return None
    (offset,) = struct.unpack_from("<H", buf, vtable + 4 + 2 * index)
    if offset == 0:
        return None
    if offset + size > table_size or table + offset + size > len(buf):
        raise FormatError(
            f"AEDAT4 header field {index} lies outside the header table; the header is damaged.",
            path=path,
            offset=_HEAD + table,
        )
    return table + offset


def _ioheader(buf: bytes, path: Path) -> tuple[int, int]:
    """Check the header's FlatBuffer (``IOHeader``) field by field: ``(compression, data end)``.

    ``data end`` is the ``file_data_position`` (the start of the packet index), or -1 when absent.
    """

    def bad(what: str, at: int) -> FormatError:
        return FormatError(
            f"AEDAT4 header {what}; the header is damaged (or its size field, bytes 14-17, is wrong).",
            path=path,
            offset=_HEAD + at,
        )

    if len(buf) < 8:
        raise bad(f"of {len(buf)} bytes cannot hold a FlatBuffer table", 0)
    (table,) = struct.unpack_from("<I", buf, 0)
    if table + 4 > len(buf):
        raise bad(f"table offset {table} lies past its {len(buf)} bytes", 0)
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    if not 0 <= vtable <= len(buf) - 4:
        raise bad(f"vtable offset {vtable} lies outside its {len(buf)} bytes", table)
    vt_size, table_size = struct.unpack_from("<HH", buf, vtable)
    if vt_size < 4 or vt_size % 2 or vtable + vt_size > len(buf) or table + table_size > len(buf):
        raise bad(f"vtable ({vt_size} bytes) or table ({table_size} bytes) runs past its end", vtable)
    at = _table_field(buf, table, vtable, 0, 4, path)
    compression = 0 if at is None else struct.unpack_from("<i", buf, at)[0]
    if not 0 <= compression < len(_COMPRESSIONS):
        raise bad(f"names compression {compression}, not one of 0..{len(_COMPRESSIONS) - 1}", at or 0)
    at = _table_field(buf, table, vtable, 1, 8, path)
    data_end = -1 if at is None else struct.unpack_from("<q", buf, at)[0]
    at = _table_field(buf, table, vtable, 2, 4, path)
    if at is None:
        raise bad("has no stream description", vtable)
    text = at + struct.unpack_from("<I", buf, at)[0]
    if text + 4 > len(buf):
        raise bad(f"description offset {text} lies past its {len(buf)} bytes", at)
    (length,) = struct.unpack_from("<I", buf, text)
    if text + 4 + length + 1 > len(buf):
        raise bad(f"description of {length} bytes runs past its {len(buf)} bytes", text)
    try:
        buf[text + 4 : text + 4 + length].decode("utf-8")
    except UnicodeDecodeError as err:
        raise bad(f"description is not UTF-8 text ({err.reason})", text + 4 + err.start) from None
    return compression, data_end


def _layout(path: Path) -> dict[str, str]:
    """Check an AEDAT4 file's framing against its size, before ``aedat`` reads any of it.

    Returns
    -------
    dict
        ``packets``: how many packets lie wholly inside the data section; ``packets_end``: the byte
        where they end; ``problem``: what is wrong there (empty when the data section ends there).

    Raises
    ------
    FormatError
        When the header's size, its FlatBuffer table or its compression does not fit the file, or the
        end of the packets (``file_data_position``) lies before their start. A damaged or truncated
        packet section is not raised here but described in ``problem``.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(_HEAD)
        if len(head) < _HEAD or not head.startswith(_MAGIC):
            raise FormatError(
                f"an AEDAT4 file starts with {_MAGIC!r} and a 4-byte header size; it has {size} bytes.",
                path=path,
                offset=0,
            )
        (header_size,) = struct.unpack_from("<I", head, len(_MAGIC))
        if header_size > size - _HEAD:
            raise FormatError(
                f"the AEDAT4 header size field says {header_size} bytes, but only {size - _HEAD} follow; "
                "the file is truncated or its header is damaged.",
                path=path,
                offset=len(_MAGIC),
            )
        compression, data_end = _ioheader(f.read(header_size), path)
        start = _HEAD + header_size
        if data_end != -1 and data_end < start:
            raise FormatError(
                f"the AEDAT4 header puts the end of the packets (file_data_position) at byte {data_end}, "
                f"before the data section starts at byte {start}; the header is damaged.",
                path=path,
                offset=_HEAD,
            )
        end = size if data_end == -1 else min(data_end, size)
        pos, n_packets, problem = start, 0, ""
        while pos < end:
            f.seek(pos)
            packet_head = f.read(_PACKET_HEAD)
            if pos + _PACKET_HEAD > end:
                problem = f"{end - pos} bytes are left, too few for a packet header"
                break
            (packet_size,) = struct.unpack_from("<I", packet_head, 4)
            if pos + _PACKET_HEAD + packet_size > end:
                problem = (
                    f"packet {n_packets} declares {packet_size} bytes, but only "
                    f"{end - pos - _PACKET_HEAD} are left before byte {end}"
                )
                break
            if compression == 0 and packet_size < _MIN_PACKET:
                problem = f"packet {n_packets} of {packet_size} bytes is too short for a FlatBuffer"
                break
            pos += _PACKET_HEAD + packet_size
            n_packets += 1
        if not problem and data_end > size:
            problem = f"data ends at byte {size}, before the end of the packets ({data_end}) in the header"
    return {
        "compression": _COMPRESSIONS[compression],
        "packets": str(n_packets),
        "packets_end": str(pos),
        "problem": problem,
    }


def probe(path: Path, sensor_size=None) -> FileHeader:
    """Check the container's framing (see :func:`_layout`) and read the stream table."""
    fields = _layout(path)
    decoder = _decoder(path)
    streams = _call(path, "read the stream table", decoder.id_to_stream)
    events = [(sid, s) for sid, s in sorted(streams.items()) if s.get("type") == "events"]
    if not events:
        raise FormatError("this AEDAT4 file has no events stream.", path=path)
    sid, stream = events[0]
    fields["stream_id"] = str(sid)
    fields["streams"] = ",".join(str(s.get("type")) for s in streams.values())
    if sensor_size is not None:
        return FileHeader(NAME, 0, check_sensor_size(sensor_size, 1 << 16, NAME), "argument", fields)
    size = header_sensor(stream["width"], stream["height"], path, "the events stream's sizeX/sizeY")
    return FileHeader(NAME, 0, size, "header", fields)


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
    """Yield ``(events, triggers, report)``, joining packets into blocks of about ``block_bytes``.

    Only the packets that :func:`_layout` found inside the file reach the decoder; a damaged rest
    raises (strict) or is reported as ``unreadable_packets`` (lenient).
    """
    report = DecodeReport(path, NAME)
    sid = int(header.fields["stream_id"])
    decoder = _decoder(path)
    pending: list[np.ndarray] = []
    n_pending = n_done = 0
    n_packets = int(header.fields["packets"])
    for index in range(n_packets + 1):
        if index == n_packets:
            problem = header.fields["problem"]
            if problem and strict:
                raise FormatError(
                    f"AEDAT4 {problem}: the file is truncated or damaged." + _KEEP_BEFORE,
                    path=path,
                    offset=int(header.fields["packets_end"]),
                )
            if problem:
                report.extra["unreadable_packets"] = 1
            break
        try:
            packet = _call(path, f"decode packet {index}", decoder.__next__, _KEEP_BEFORE)
        except StopIteration:
            break
        except FormatError:
            if strict:
                raise
            report.extra["unreadable_packets"] = 1
            break
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
    if report.skipped() and not pending:
        yield empty_events(), empty_triggers(), report  # the report reaches the reader's warning


def read(path: Path, header: FileHeader, strict: bool = True):
    """Decode the whole file: ``(events, triggers, report)``."""
    parts = list(blocks(path, header, strict, block_bytes=1 << 62))
    report = parts[-1][2] if parts else DecodeReport(path, NAME)
    events = [p[0] for p in parts if len(p[0])]
    triggers = [p[1] for p in parts if len(p[1])]
    return join(events, EVENTS_DTYPE), join(triggers, TRIGGER_DTYPE), report
