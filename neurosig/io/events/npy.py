"""NumPy ``.npy`` event arrays: any structured array with fields t (µs), x, y, p, memory-mapped.

The file has no header for a sensor size, so it is the data's extent (max x + 1, max y + 1) unless
``sensor_size`` is given. Written files hold :data:`~neurosig.core.chunks.EVENTS_DTYPE` exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.core.errors import FormatError
from neurosig.io.events._common import (
    MAX_SENSOR_SIDE,
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
    except Exception as err:  # noqa: BLE001 - numpy's header parser raises ValueError, SyntaxError, TokenError...
        raise FormatError(
            f"not a readable .npy array ({type(err).__name__}: {err}); the header is damaged or this is "
            "not a NumPy file.",
            path=path,
            offset=0,
        ) from None
    names = arr.dtype.names or ()
    if arr.ndim != 1 or not {"t", "x", "y", "p"} <= set(names):
        raise FormatError(
            f"the .npy array must be 1-D with fields t, x, y, p; got shape {arr.shape}, dtype {arr.dtype}.",
            path=path,
            offset=0,
        )
    kinds = {f: arr.dtype[f] for f in ("t", "x", "y", "p") if arr.dtype[f].kind not in "biu"}
    if kinds:
        raise FormatError(
            f"the .npy fields t, x, y, p must be integer or bool; got {kinds}. Round them first.",
            path=path,
            offset=0,
        )
    return arr


def _bad_values(block: np.ndarray) -> np.ndarray:
    """Rows whose values the events dtype cannot hold: x or y outside ``[0, 2**16)``, p not 0/1,
    t beyond int64."""
    bad = np.zeros(len(block), bool)
    for f in ("x", "y"):
        col = block[f]
        bad |= (col < 0) | (col >= MAX_SENSOR_SIDE)
    p = block["p"]
    bad |= (p != 0) & (p != 1)
    if block.dtype["t"].kind == "u":
        bad |= block["t"] > np.iinfo(np.int64).max
    return bad


def probe(path: Path, sensor_size=None) -> FileHeader:
    """Open the array's header; the sensor size is the extent of the rows the events dtype holds,
    unless given."""
    arr = _open(path)
    if sensor_size is not None:
        return FileHeader(NAME, 0, check_sensor_size(sensor_size, MAX_SENSOR_SIDE, NAME), "argument")
    width = height = 1
    for a in range(0, len(arr), _ROWS):
        block = arr[a : a + _ROWS]
        block = block[~_bad_values(block)]
        if len(block):
            width = max(width, int(block["x"].max()) + 1)
            height = max(height, int(block["y"].max()) + 1)
    return FileHeader(NAME, 0, (width, height, 2), "data extent", {"dtype": str(arr.dtype)})


def blocks(path: Path, header: FileHeader, strict: bool = True, block_bytes: int = 1 << 22) -> Iterator:
    """Yield ``(events, triggers, report)`` for consecutive slices of the memory-mapped array.

    Rows the events dtype cannot hold (``bad_values``) and rows outside the sensor raise with their
    row number (strict) or are skipped and counted (lenient).
    """
    arr = _open(path)
    report = DecodeReport(path, NAME)
    width, height = header.sensor_size[:2]
    rows = max(block_bytes // max(arr.dtype.itemsize, 1), 1)
    for a in range(0, len(arr), rows):
        block = np.array(arr[a : a + rows])
        bad = _bad_values(block)
        outside = ~bad & ((block["x"] >= width) | (block["y"] >= height))
        if strict and (bad.any() or outside.any()):
            i = int(np.argmax(bad | outside))
            row = block[i]
            what = (
                "holds a value the events dtype cannot (x, y in [0, 65536), p 0 or 1, t within int64)"
                if bad[i]
                else f"lies outside the sensor {width}x{height}"
            )
            raise FormatError(
                f"row {a + i} (t={row['t']}, x={row['x']}, y={row['y']}, p={row['p']}) {what}; pass the "
                "right sensor_size, or strict=False to skip and count such rows.",
                path=path,
            )
        if bad.any():
            report.extra["bad_values"] = report.extra.get("bad_values", 0) + int(bad.sum())
        if outside.any():
            report.counts[BAD_OUTSIDE_SENSOR] += int(outside.sum())
        yield as_events(block[~(bad | outside)]), empty_triggers(), report


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
