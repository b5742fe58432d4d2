"""Writing and converting event files, atomically and block by block."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.chunks import EventChunk
from neurosig.core.errors import ConfigError
from neurosig.core.validate import check_option
from neurosig.io.digest import sha256_file
from neurosig.io.events._common import EventDecodeWarning, check_sensor_size, empty_triggers
from neurosig.io.events._convert import as_events
from neurosig.io.events._dispatch import HOLDS_TRIGGERS, WRITABLE, module
from neurosig.io.events._dispatch import blocks as file_blocks

__all__ = ["write_events", "convert"]

_SUFFIX = {".raw": "evt3", ".dat": "dat", ".npy": "npy", ".h5": "hdf5", ".hdf5": "hdf5"}
_ADDRESS_LIMIT = {"evt2": 2048, "evt3": 2048, "dat": 1 << 14}


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
    """Write events to a file, exclusively and atomically (see :mod:`neurosig.core.persist`).

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
    limit = _ADDRESS_LIMIT.get(fmt, 1 << 16)
    size = check_sensor_size(sensor_size, limit, fmt) if sensor_size is not None else _extent(events)
    if triggers is not None and len(triggers) and fmt not in HOLDS_TRIGGERS:
        raise ConfigError(f"{fmt} files cannot hold triggers; write {list(HOLDS_TRIGGERS)} instead.")
    with module(fmt).writer(path, size, overwrite) as w:
        w.write(events, triggers)
    return path


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
    src_path, header, blocks = file_blocks(src, strict, sensor_size, 1 << 22)
    kwargs: dict[str, Any] = {}
    if out_fmt == "hdf5":
        kwargs["source"] = {
            "type": "events",
            "path": str(src_path.resolve()),
            "format": header.fmt,
            "sha256": sha256_file(src_path),
        }
    dropped = 0
    writer = module(out_fmt).writer(dst, header.sensor_size, overwrite, **kwargs)
    with writer:
        for events, triggers in blocks:
            if out_fmt not in HOLDS_TRIGGERS:
                dropped += len(triggers)
                triggers = empty_triggers()
            writer.write(events, triggers)
    if dropped:
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
