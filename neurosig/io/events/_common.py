"""What every event-file format module shares: the trigger dtype, file headers, decode reports."""

from __future__ import annotations

import functools
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.core.errors import DataError, FormatError
from neurosig.kernels import event_decoders as k

__all__ = [
    "TRIGGER_DTYPE",
    "EventDecodeWarning",
    "FileHeader",
    "DecodeReport",
    "file_head",
    "parse_percent_header",
    "prophesee_sensor",
    "MAX_SENSOR_SIDE",
    "header_sensor",
    "check_sensor_size",
    "check_writable_events",
    "empty_events",
    "empty_triggers",
    "join",
]

#: External trigger words of EVT 2.0/3.0 (and AEDAT4 triggers): ``t`` µs, channel ``id``, ``value`` 0/1.
TRIGGER_DTYPE = np.dtype([("t", "<i8"), ("id", "u1"), ("value", "i1")])


class EventDecodeWarning(UserWarning):
    """Lenient decoding skipped corrupt words; the message gives the counts per kind."""


_REASONS = {
    k.BAD_WORD_TYPE: "its type is not defined by the format",
    k.BAD_NO_TIME_BASE: "an event or trigger comes before the first TIME_HIGH (or EVT3 ADDR_Y)",
    k.BAD_TIME_HIGH_BACK: "TIME_HIGH steps back by less than half its range (non-monotonic, not a wrap)",
    k.BAD_VECT_BASE: "a vector word has no valid VECT_BASE_X on its row (invalid VECT_BASE)",
    k.BAD_OUTSIDE_SENSOR: "the pixel lies outside the sensor size",
    k.BAD_PARTIAL_VECTOR: "the vector's valid bits run past the sensor width (partial vector)",
    k.BAD_POLARITY: "the polarity is neither 0 nor 1",
}
_KEYS = {
    k.BAD_WORD_TYPE: "unknown_word_type",
    k.BAD_NO_TIME_BASE: "before_time_base",
    k.BAD_TIME_HIGH_BACK: "time_high_backwards",
    k.BAD_VECT_BASE: "invalid_vect_base",
    k.BAD_OUTSIDE_SENSOR: "outside_sensor",
    k.BAD_PARTIAL_VECTOR: "partial_vector",
    k.BAD_POLARITY: "bad_polarity",
}


@dataclass(frozen=True)
class FileHeader:
    """What a format module learns from a file before decoding it.

    Parameters
    ----------
    fmt : str
        Format name (``"evt2"``, ``"evt3"``, ``"dat"``, ``"aedat4"``, ``"nmnist"``, ``"npy"``, ``"hdf5"``).
    data_offset : int
        Byte offset of the first data word.
    sensor_size : tuple of int
        ``(width, height, polarities)``.
    sensor_from : str
        Where the sensor size came from: ``"header"``, ``"camera model"``, ``"format default"``,
        ``"data extent"`` or ``"argument"``.
    fields : dict
        The header's key/value lines, as text.
    """

    fmt: str
    data_offset: int
    sensor_size: tuple[int, int, int]
    sensor_from: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class DecodeReport:
    """Counts of what a decoder skipped (lenient mode) or consumed without events."""

    path: Path
    fmt: str
    counts: np.ndarray = field(default_factory=lambda: np.zeros(k.N_COUNTS, np.int64))
    truncated_bytes: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def skipped(self) -> dict[str, int]:
        """Corrupt words skipped, by kind (only kinds that occurred)."""
        out = {_KEYS[c]: int(self.counts[c]) for c in _KEYS if self.counts[c]}
        if self.truncated_bytes:
            out["truncated_bytes"] = self.truncated_bytes
        out.update({name: n for name, n in self.extra.items() if n})
        return out

    @property
    def vendor_words(self) -> int:
        """Legitimate words that carry no event (OTHERS, CONTINUED_4, CONTINUED_12)."""
        return int(self.counts[k.VENDOR])

    def warn(self) -> None:
        """Warn once with the counts, if anything was skipped."""
        skipped = self.skipped()
        if skipped:
            what = ", ".join(f"{n} {name}" for name, n in skipped.items())
            warnings.warn(
                f"{self.path}: lenient {self.fmt} decoding skipped corrupt data ({what}); "
                "read with strict=True to stop at the first corrupt word with its byte offset.",
                EventDecodeWarning,
                stacklevel=3,
            )

    def corrupt(self, category: int, word: str, offset: int, sensor_size: tuple[int, ...]) -> FormatError:
        """The strict-mode error for a corrupt word at byte ``offset``."""
        reason = _REASONS[category]
        if category in (k.BAD_OUTSIDE_SENSOR, k.BAD_PARTIAL_VECTOR):
            reason += (
                f" {sensor_size[0]}x{sensor_size[1]}; if the header's size is wrong, pass "
                "sensor_size=(width, height, 2)"
            )
        return FormatError(
            f"corrupt {self.fmt} word {word}: {reason}. The file is damaged or not {self.fmt}; pass "
            "strict=False to skip corrupt words (they are counted and reported).",
            path=self.path,
            offset=offset,
        )

    def truncated(self, n_bytes: int, offset: int, word_bytes: int, strict: bool) -> None:
        """Record (lenient) or raise (strict) a trailing partial word of ``n_bytes`` bytes."""
        if strict:
            raise FormatError(
                f"file ends inside a {word_bytes}-byte {self.fmt} word ({n_bytes} bytes left): it is "
                "truncated; pass strict=False to read the complete words.",
                path=self.path,
                offset=offset,
            )
        self.truncated_bytes += n_bytes


_LINE = re.compile(rb"%[\x20-\x7e\t]*\r?\n")


#: Bytes of a file's start that sniffing and header parsing look at.
HEAD_BYTES = 1 << 16


def file_head(path: Path) -> bytes:
    """The first :data:`HEAD_BYTES` bytes of a file, cached per file version (path, inode, size,
    modification and change times).

    Sniffing, header parsing and probing all look at the start of the file; the cache spares them
    from opening it again and again.
    """
    st = os.stat(path)
    return _file_head(str(path), (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))


@functools.lru_cache(maxsize=8)
def _file_head(path: str, version: tuple[int, ...]) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)


def parse_percent_header(path: Path) -> tuple[dict[str, str], int]:
    """Read Prophesee's ``%`` header lines (RAW and DAT); return ``(fields, data_offset)``.

    A line is ``% key value``; ``% end`` closes the header explicitly. A line that is not printable
    ASCII ends the header (binary data may start with the byte ``%``).
    """
    head = file_head(path)
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(head) and head[pos : pos + 1] == b"%":
        m = _LINE.match(head, pos)
        if m is None:
            break
        line = m.group().decode("ascii").strip("% \t\r\n")
        pos = m.end()
        if line == "end":
            break
        key, _, value = line.partition(" ")
        if key:
            fields[key.lower()] = value.strip()
    return fields, pos


_MODELS = (
    ("gen41", 1280, 720),
    ("imx636", 1280, 720),
    ("gen4", 1280, 720),
    ("gen31", 640, 480),
    ("gen3", 640, 480),
    ("genx320", 320, 320),
    ("imx8", 320, 320),
)


#: Pixels per axis that the events dtype addresses (``x`` and ``y`` are uint16).
MAX_SENSOR_SIDE = 1 << 16


def header_sensor(width, height, path: Path, source: str, polarities=2) -> tuple[int, int, int]:
    """A sensor size read from a file, checked against the events dtype's coordinates.

    Parameters
    ----------
    width, height : int or str
        Pixels per axis, as the file gives them.
    path : Path
        The file (for the message).
    source : str
        Where in the file the size comes from, e.g. ``"'% geometry'"``.
    polarities : int
        1 or 2.

    Raises
    ------
    FormatError
        When a side is not a whole number in ``1..MAX_SENSOR_SIDE``: no events could address it, and
        representations would size their outputs from it.
    """
    try:
        size = (int(width), int(height), int(polarities))
    except (TypeError, ValueError, OverflowError):
        size = (0, 0, 0)
    if not (0 < size[0] <= MAX_SENSOR_SIDE and 0 < size[1] <= MAX_SENSOR_SIDE and size[2] in (1, 2)):
        raise FormatError(
            f"{source} gives a sensor of {width}x{height} pixels and {polarities} polarities; events "
            f"address 1..{MAX_SENSOR_SIDE} pixels per axis (x and y are uint16) and 1 or 2 polarities. "
            "The header is damaged: pass sensor_size=(width, height, 2).",
            path=path,
        )
    return size


def prophesee_sensor(fields: dict[str, str], path: Path) -> tuple[tuple[int, int, int], str] | None:
    """Sensor size from a Prophesee header: geometry lines first, then the camera model.

    Raises
    ------
    FormatError
        When the header's size does not fit the events dtype (see :func:`header_sensor`).
    """
    fmt = fields.get("format", "")
    w = re.search(r"width=(\d+)", fmt)
    h = re.search(r"height=(\d+)", fmt)
    if w and h:
        return header_sensor(w.group(1), h.group(1), path, "'% format'"), "header"
    geo = re.fullmatch(r"(\d+)x(\d+)", fields.get("geometry", ""))
    if geo:
        return header_sensor(geo.group(1), geo.group(2), path, "'% geometry'"), "header"
    if fields.get("width", "").isdigit() and fields.get("height", "").isdigit():
        return header_sensor(fields["width"], fields["height"], path, "'% width'/'% height'"), "header"
    model = (fields.get("plugin_name", "") + " " + fields.get("sensor_generation", "")).lower()
    generation = fields.get("sensor_generation", "")
    if generation.startswith("4"):
        return (1280, 720, 2), "camera model"
    if generation.startswith("3"):
        return (640, 480, 2), "camera model"
    for name, width, height in _MODELS:
        if name in model:
            return (width, height, 2), "camera model"
    return None


def check_sensor_size(sensor_size, limit: int, fmt: str) -> tuple[int, int, int]:
    """Validate a user's ``sensor_size`` against a format's address range."""
    size = tuple(int(s) for s in sensor_size)
    if len(size) == 2:
        size = (*size, 2)
    if len(size) != 3 or not (0 < size[0] <= limit and 0 < size[1] <= limit) or size[2] not in (1, 2):
        raise DataError(
            f"sensor_size must be (width, height, polarities) with 1..{limit} pixels per axis for {fmt} "
            f"and 1 or 2 polarities, got {sensor_size!r}."
        )
    return size


def check_writable_events(events: np.ndarray, last_t: int, sensor_size: tuple[int, ...], fmt: str) -> None:
    """Check that events can be encoded: time-sorted from ``last_t`` µs, pixels inside the sensor."""
    if not len(events):
        return
    t = events["t"]
    if t[0] < max(last_t, 0) or np.any(np.diff(t) < 0):
        raise DataError(
            f"{fmt} stores time-ordered events with t >= 0 µs; sort them first "
            "(events[np.argsort(events['t'], kind='stable')])."
        )
    width, height = sensor_size[:2]
    if int(events["x"].max()) >= width or int(events["y"].max()) >= height:
        raise DataError(
            f"events lie outside the sensor {width}x{height} written to the {fmt} header; "
            "pass the right sensor_size."
        )
    if np.any((events["p"] != 0) & (events["p"] != 1)):
        raise DataError(f"{fmt} stores polarity 0 or 1; map other values first.")


def join(parts: list[np.ndarray], dtype: np.dtype) -> np.ndarray:
    """Concatenate arrays of one dtype (no copy for a single part; empty for none)."""
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.empty(0, dtype)


def empty_events(n: int = 0) -> np.ndarray:
    """An uninitialised events array of length ``n``."""
    return np.empty(n, EVENTS_DTYPE)


def empty_triggers(n: int = 0) -> np.ndarray:
    """An uninitialised trigger array of length ``n``."""
    return np.empty(n, TRIGGER_DTYPE)
