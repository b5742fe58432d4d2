"""The suite's own HDF5 event store, on the lead's :mod:`neurosig.io.hdf5` layout.

``/events`` (EVENTS_DTYPE, chunked, gzip + shuffle) and ``/triggers`` (TRIGGER_DTYPE), with the root
attributes every neurosig HDF5 output carries (format, neurosig version, source with sha256, stream
info holding the sensor size, ``chunk_type = "EventChunk"``). Files written here are read by
:class:`neurosig.io.hdf5.HDF5Source` too; writes are atomic through :func:`neurosig.io.hdf5.atomic_h5`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from neurosig._version import __version__
from neurosig.core.chunks import EVENTS_DTYPE, EventInfo
from neurosig.core.errors import DataError, FormatError
from neurosig.core.stage import RunMeta
from neurosig.io.events._common import (
    TRIGGER_DTYPE,
    DecodeReport,
    FileHeader,
    check_sensor_size,
    check_writable_events,
    empty_events,
    header_sensor,
    join,
)

__all__ = ["NAME", "probe", "read", "blocks", "writer"]

NAME = "hdf5"
_CHUNK_ROWS = 1 << 16


def probe(path: Path, sensor_size=None) -> FileHeader:
    """Read the root attributes of a neurosig HDF5 event file."""
    from neurosig.io.hdf5 import read_attrs

    try:
        attrs = read_attrs(path)
    except (DataError, OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        # h5py raises all of these for damaged files (bad object headers, heaps, attribute tables)
        raise FormatError(
            f"not a readable neurosig HDF5 file ({type(err).__name__}: {err}).", path=path, offset=0
        ) from None
    if attrs.get("chunk_type") != "EventChunk":
        raise FormatError(
            f"this neurosig HDF5 file holds a {attrs.get('chunk_type')} stream, not events; read it with "
            "neurosig.io.hdf5.read_hdf5.",
            path=path,
        )
    fields = {"complete": str(attrs["complete"]), "source": str(attrs.get("source", ""))}
    if sensor_size is not None:
        return FileHeader(NAME, 0, check_sensor_size(sensor_size, 1 << 16, NAME), "argument", fields)
    try:
        width, height, polarities = attrs["stream_info"]["sensor_size"]
    except (KeyError, TypeError, ValueError):
        width = height = polarities = None
    size = header_sensor(width, height, path, "the stream info's sensor_size", polarities)
    return FileHeader(NAME, 0, size, "header", fields)


def blocks(path: Path, header: FileHeader, strict: bool = True, block_bytes: int = 1 << 22) -> Iterator:
    """Yield ``(events, triggers, report)`` for consecutive slices of ``/events`` then ``/triggers``."""
    import h5py

    from neurosig.io.hdf5 import check_dataset

    report = DecodeReport(path, NAME)
    if header.fields.get("complete") != "True":
        if strict:
            raise FormatError(
                "this HDF5 file was never completed (an interrupted write); pass strict=False to read "
                "what it holds.",
                path=path,
            )
        report.extra["incomplete_file"] = 1
    rows = max(block_bytes // EVENTS_DTYPE.itemsize, 1)
    try:
        with h5py.File(path, "r") as f:
            for name, dtype in (("events", EVENTS_DTYPE), ("triggers", TRIGGER_DTYPE)):
                if name not in f and name == "triggers":
                    continue
                data = check_dataset(f, name, path)
                if data.dtype != dtype or data.ndim != 1:
                    raise FormatError(
                        f"/{name} holds {data.shape} {data.dtype}, not a 1-D array of {dtype}; the file "
                        "is damaged or was not written by neurosig.",
                        path=path,
                    )
                for a in range(0, data.shape[0], rows):
                    if name == "events":
                        yield data[a : a + rows], np.empty(0, TRIGGER_DTYPE), report
                    else:
                        yield empty_events(), data[a : a + rows], report
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        raise FormatError(
            f"HDF5 cannot read this file's events ({type(err).__name__}: {err}); the file is damaged.",
            path=path,
        ) from None


def read(path: Path, header: FileHeader, strict: bool = True):
    """Read the whole file: ``(events, triggers, report)``."""
    parts = list(blocks(path, header, strict, block_bytes=1 << 62))
    report = parts[-1][2] if parts else DecodeReport(path, NAME)
    events = join([p[0] for p in parts if len(p[0])], EVENTS_DTYPE)
    return events, join([p[1] for p in parts if len(p[1])], TRIGGER_DTYPE), report


class Hdf5EventWriter:
    """Append events and triggers to ``/events`` and ``/triggers``; atomic through ``atomic_h5``.

    Parameters
    ----------
    path : Path
        The output file.
    sensor_size : tuple of int
        ``(width, height, polarities)``, stored in the stream info.
    overwrite : bool
        Replace an existing neurosig output.
    source : dict, optional
        Provenance of the events (e.g. the input file's path, format and sha256).
    compression_level : int
        gzip level 0–9.
    """

    fmt = NAME

    def __init__(
        self,
        path: Path,
        sensor_size: tuple[int, int, int],
        overwrite: bool = False,
        source: dict[str, Any] | None = None,
        compression_level: int = 4,
    ):
        from neurosig.io.hdf5 import atomic_h5, write_provenance

        self.path = Path(path)
        self.sensor_size = sensor_size
        self.last_t = 0
        self.n_events = 0
        self.n_triggers = 0
        self._stack = contextlib.ExitStack()
        f = self._stack.enter_context(atomic_h5(self.path, overwrite=overwrite))
        meta = RunMeta(neurosig_version=__version__, pipeline_yaml="", source=source or {"type": "events"})
        write_provenance(f, meta)
        f.attrs["stream_info"] = EventInfo(sensor_size).to_json()
        f.attrs["chunk_type"] = "EventChunk"
        opts = {"compression": "gzip", "compression_opts": compression_level, "shuffle": True}
        for name, dtype in (("events", EVENTS_DTYPE), ("triggers", TRIGGER_DTYPE)):
            f.create_dataset(name, shape=(0,), maxshape=(None,), chunks=(_CHUNK_ROWS,), dtype=dtype, **opts)
        self.file = f

    @staticmethod
    def _append(dataset, values: np.ndarray) -> None:
        old = dataset.shape[0]
        dataset.resize(old + len(values), axis=0)
        dataset[old:] = values

    def write(self, events: np.ndarray, triggers: np.ndarray | None = None) -> None:
        """Append time-ordered events (and triggers)."""
        check_writable_events(events, self.last_t, self.sensor_size, NAME)
        if len(events):
            self._append(self.file["events"], events)
            self.last_t = int(events["t"][-1])
            self.n_events += len(events)
        if triggers is not None and len(triggers):
            self._append(self.file["triggers"], np.asarray(triggers, TRIGGER_DTYPE))
            self.n_triggers += len(triggers)

    def close(self) -> Path:
        """Mark the file complete and rename it into place."""
        self._stack.close()
        return self.path

    def abort(self) -> None:
        """Remove the partial file."""
        err = FormatError("write aborted", path=self.path)
        self._stack.__exit__(type(err), err, None)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def writer(
    path: Path, sensor_size: tuple[int, int, int], overwrite: bool = False, **kwargs: Any
) -> Hdf5EventWriter:
    """A streaming HDF5 event writer."""
    return Hdf5EventWriter(path, sensor_size, overwrite, **kwargs)
