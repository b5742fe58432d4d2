"""NumPy ``.npy`` event arrays: any structured array with fields t (µs), x, y, p, memory-mapped.

The file has no header for a sensor size, so it is the data's extent (max x + 1, max y + 1) unless
``sensor_size`` is given. Written files hold :data:`~neurosig.core.chunks.EVENTS_DTYPE` exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.core.errors import DataError, FormatError
from neurosig.io.events._common import (
    DecodeReport,
    FileHeader,
    check_sensor_size,
    check_writable_events,
    empty_triggers,
    join,
)
from neurosig.io.events._convert import as_events
from neurosig.io.events._writers import AtomicWriter
from neurosig.kernels.event_decoders import BAD_OUTSIDE_SENSOR

__all__ = ["NAME", "probe", "read", "blocks", "writer"]

NAME = "npy"
_ROWS = 1 << 20


def _open(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise FormatError(f"not a readable .npy array ({err}).", path=path, offset=0) from None
    if arr.ndim != 1 or not arr.dtype.names or not {"t", "x", "y", "p"} <= set(arr.dtype.names):
        raise FormatError(
            f"the .npy array must be 1-D with fields t, x, y, p; got shape {arr.shape}, dtype {arr.dtype}.",
            path=path,
            offset=0,
        )
    return arr


def probe(path: Path, sensor_size=None) -> FileHeader:
    """Open the array's header; the sensor size is the data's extent unless given."""
    arr = _open(path)
    if sensor_size is not None:
        return FileHeader(NAME, 0, check_sensor_size(sensor_size, 1 << 16, NAME), "argument")
    width = height = 1
    for a in range(0, len(arr), _ROWS):
        block = arr[a : a + _ROWS]
        width = max(width, int(block["x"].max()) + 1)
        height = max(height, int(block["y"].max()) + 1)
    return FileHeader(NAME, 0, (width, height, 2), "data extent", {"dtype": str(arr.dtype)})


def blocks(path: Path, header: FileHeader, strict: bool = True, block_bytes: int = 1 << 22) -> Iterator:
    """Yield ``(events, triggers, report)`` for consecutive slices of the memory-mapped array."""
    arr = _open(path)
    report = DecodeReport(path, NAME)
    width, height = header.sensor_size[:2]
    rows = max(block_bytes // max(arr.dtype.itemsize, 1), 1)
    for a in range(0, len(arr), rows):
        try:
            events = as_events(np.array(arr[a : a + rows]))
        except DataError as err:
            raise FormatError(f"rows {a}..{a + rows}: {err}", path=path) from None
        bad = (events["x"] >= width) | (events["y"] >= height)
        if bad.any():
            first = a + int(np.argmax(bad))
            if strict:
                raise FormatError(
                    f"event {first} lies outside the sensor {width}x{height}; pass the right "
                    "sensor_size, or strict=False to skip such events.",
                    path=path,
                )
            report.counts[BAD_OUTSIDE_SENSOR] += int(bad.sum())
            events = events[~bad]
        yield events, empty_triggers(), report


def read(path: Path, header: FileHeader, strict: bool = True):
    """Read the whole array: ``(events, triggers, report)``."""
    parts = list(blocks(path, header, strict, block_bytes=1 << 62))
    report = parts[-1][2] if parts else DecodeReport(path, NAME)
    return join([p[0] for p in parts], EVENTS_DTYPE), empty_triggers(), report


class NpyWriter(AtomicWriter):
    """Write events as one ``.npy`` array of EVENTS_DTYPE, appended block by block."""

    fmt = NAME

    def __init__(self, path: Path, sensor_size: tuple[int, int, int], overwrite: bool = False):
        super().__init__(path, overwrite)
        self.sensor_size = sensor_size
        self.body = self.partial.with_name(self.partial.name + ".body")
        self.file = open(self.body, "wb")  # noqa: SIM115 - closed in _finish

    def write(self, events: np.ndarray, triggers: np.ndarray | None = None) -> None:
        """Append time-ordered events; ``.npy`` has no trigger stream, so ``triggers`` must be empty."""
        if triggers is not None and len(triggers):
            raise FormatError("NPY files hold events only; write EVT2/EVT3 or HDF5 to keep triggers.")
        check_writable_events(events, self.last_t, self.sensor_size, NAME)
        self.file.write(np.ascontiguousarray(events, EVENTS_DTYPE).tobytes())
        if len(events):
            self.last_t = int(events["t"][-1])
        self.n_events += len(events)

    def _finish(self) -> None:
        if self.file.closed:
            return
        self.file.close()
        with open(self.partial, "wb") as out, open(self.body, "rb") as body:
            header = {"descr": np.lib.format.dtype_to_descr(EVENTS_DTYPE), "fortran_order": False}
            np.lib.format.write_array_header_1_0(out, {**header, "shape": (self.n_events,)})
            while block := body.read(1 << 24):
                out.write(block)
        self.body.unlink()

    def abort(self) -> None:
        """Drop the partial files."""
        super().abort()
        self.body.unlink(missing_ok=True)


def writer(path: Path, sensor_size: tuple[int, int, int], overwrite: bool = False) -> NpyWriter:
    """A streaming ``.npy`` writer."""
    return NpyWriter(path, sensor_size, overwrite)
