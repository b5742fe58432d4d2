"""Format dispatch: sniff a file, pick its module, open its header, iterate its decoded blocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np

from neurosig.core.errors import FormatError
from neurosig.core.registry import load
from neurosig.core.validate import check_existing_file, check_option
from neurosig.io.events._common import FileHeader, file_head, parse_percent_header

__all__ = [
    "FORMATS",
    "WRITABLE",
    "HOLDS_TRIGGERS",
    "sniff",
    "module",
    "open_file",
    "read_file",
    "blocks",
]

#: Readable formats, each a module of this package.
FORMATS = ("evt2", "evt3", "dat", "aedat4", "nmnist", "npy", "hdf5")
#: Writable formats.
WRITABLE = ("evt2", "evt3", "dat", "npy", "hdf5")
#: Formats with a trigger stream.
HOLDS_TRIGGERS = ("evt2", "evt3", "hdf5")


def module(fmt: str) -> ModuleType:
    """The module that reads (and maybe writes) one format."""
    return load(f"neurosig.io.events.{fmt}")


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
    head = file_head(path)[:16]
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


def open_file(path: str | Path, sensor_size, fmt: str | None = None) -> tuple[Path, ModuleType, FileHeader]:
    """Check the path, sniff (or check) the format, and probe the header: ``(path, module, header)``."""
    path = check_existing_file(path, "event file")
    fmt = _sniff(path) if fmt is None else check_option("fmt", fmt, FORMATS)
    mod = module(fmt)
    return path, mod, mod.probe(path, sensor_size)


def read_file(path: str | Path, strict: bool, sensor_size) -> tuple[np.ndarray, np.ndarray, FileHeader]:
    """Decode a whole file: ``(events, triggers, header)``; lenient reads warn once."""
    path, mod, header = open_file(path, sensor_size)
    events, triggers, report = mod.read(path, header, strict)
    report.warn()
    return events, triggers, header


def blocks(path: str | Path, strict: bool, sensor_size, block_bytes: int, fmt: str | None = None):
    """Open a file for block-wise decoding: ``(path, header, iterator of (events, triggers))``.

    The iterator warns once with the skipped counts when it is exhausted (lenient mode).
    """
    path, mod, header = open_file(path, sensor_size, fmt)

    def gen() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        report = None
        for events, triggers, rep in mod.blocks(path, header, strict, block_bytes):
            report = rep
            yield events, triggers
        if report is not None:
            report.warn()

    return path, header, gen()
