"""Any file MNE reads (EDF, BDF, GDF, FIF, BrainVision, EEGLAB, EGI, ...) as a stream of chunks.

Reading is lazy: the file is opened with ``preload=False`` and each chunk reads only its own
samples, so a long recording never sits in memory whole. Annotations become :class:`Marker`s in the
chunk where they start. EDF/BDF headers are checked before MNE sees the file, because MNE silently
shortens truncated files and treats discontinuous (EDF+D) files as continuous.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
import pydantic

from neurosig.core.chunks import Marker, SignalChunk, SignalInfo
from neurosig.core.errors import FormatError
from neurosig.core.stage import Source
from neurosig.core.validate import check_existing_file
from neurosig.io.digest import sha256_file

__all__ = ["EEGFileSource", "open_raw", "eeg_file_info", "check_edf_header"]

_MNE_EXTENSIONS = (
    ".edf .bdf .gdf .fif .fif.gz .vhdr .set .cnt .mff .raw .nxe .eeg .data .lay .nedf .snirf "
    ".ds .sqd .con .ahdr .nwb"
).split()


def check_edf_header(path: str | Path) -> None:
    """Check an EDF/BDF file's header against its size and its continuity.

    Raises
    ------
    FormatError
        When the file is shorter than its header promises (truncated: MNE would silently read
        fewer samples) or is EDF+D/BDF+D (discontinuous: MNE would join the segments).
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        fixed = f.read(256)
        if len(fixed) < 256:
            raise FormatError(f"EDF header needs 256 bytes, the file has {size}.", path=path, offset=size)
        try:
            header_bytes = int(fixed[184:192])
            n_records = int(fixed[236:244])
            n_signals = int(fixed[252:256])
        except ValueError:
            raise FormatError(
                "not a valid EDF/BDF header (header size, record count or signal count is not a number).",
                path=path,
                offset=184,
            ) from None
        reserved = fixed[192:236].decode("ascii", "replace").strip()
        if reserved.startswith(("EDF+D", "BDF+D")):
            raise FormatError(
                f"{reserved[:5]} (discontinuous) recordings are not supported: their records have gaps "
                "that a continuous stream would hide. Export the continuous segments separately.",
                path=path,
                offset=192,
            )
        f.seek(256 + n_signals * 216)
        counts = f.read(8 * n_signals)
    try:
        per_record = sum(int(counts[8 * i : 8 * i + 8]) for i in range(n_signals))
    except ValueError:
        raise FormatError("samples-per-record fields are not numbers.", path=path, offset=256) from None
    bytes_per_sample = 3 if path.suffix.lower() == ".bdf" else 2
    if n_records < 0:  # -1: still being recorded; nothing to check against
        return
    expected = header_bytes + n_records * per_record * bytes_per_sample
    if size < expected:
        complete = (size - header_bytes) // max(1, per_record * bytes_per_sample)
        raise FormatError(
            f"truncated: the header promises {n_records} data records ({expected} bytes) but the file "
            f"has {size} bytes ({complete} complete records). Re-download or repair the file.",
            path=path,
            offset=size,
        )


def open_raw(path: str | Path):
    """Open any MNE-readable file lazily (``preload=False``), with clear errors.

    Raises
    ------
    DataError
        If the file does not exist.
    FormatError
        If the format is unknown, the file is not a valid recording of its format, or it is
        truncated or discontinuous.
    """
    import mne

    path = check_existing_file(path, "recording")
    name = path.name.lower()
    if not any(name.endswith(ext) for ext in _MNE_EXTENSIONS):
        raise FormatError(
            f"unknown recording format {path.suffix!r}; MNE-readable formats include "
            "EDF/BDF/GDF, FIF, BrainVision (.vhdr), EEGLAB (.set), EGI (.raw, .mff) and CNT.",
            path=path,
        )
    if path.suffix.lower() in (".edf", ".bdf"):
        check_edf_header(path)
    reader = mne.io.read_raw_egi if name.endswith(".raw") else mne.io.read_raw
    try:
        return reader(path, preload=False, verbose="error")
    except Exception as err:  # noqa: BLE001 - MNE raises many types for unreadable files
        raise FormatError(f"MNE cannot read this file as {path.suffix}: {err}", path=path) from None


def _markers(raw) -> list[Marker]:
    annotations = raw.annotations
    offset = raw.first_samp / raw.info["sfreq"] if annotations.orig_time is not None else 0.0
    return [
        Marker(float(on - offset), float(dur), str(desc))
        for on, dur, desc in zip(
            annotations.onset, annotations.duration, annotations.description, strict=True
        )
    ]


def eeg_file_info(path: str | Path) -> dict[str, Any]:
    """What ``neurosig info`` prints for a recording: format, channels, rate, duration, annotations."""
    raw = open_raw(path)
    markers = _markers(raw)
    counts: dict[str, int] = {}
    for m in markers:
        counts[m.description] = counts.get(m.description, 0) + 1
    types: dict[str, int] = {}
    for t in raw.get_channel_types():
        types[t] = types.get(t, 0) + 1
    return {
        "path": str(path),
        "format": type(raw).__name__.removeprefix("Raw") or "FIF",
        "n_channels": len(raw.ch_names),
        "channel_types": types,
        "channels": list(raw.ch_names),
        "sfreq": float(raw.info["sfreq"]),
        "n_samples": int(raw.n_times),
        "duration": float(raw.n_times / raw.info["sfreq"]),
        "annotations": counts,
        "meas_date": None if raw.info["meas_date"] is None else str(raw.info["meas_date"]),
    }


class EEGFileSource(Source):
    """Stream a recording from any MNE-readable file in chunks.

    Parameters
    ----------
    path : str
        The recording (for multi-file formats, the header: ``.vhdr``, ``.set``, ...).
    chunk_duration : float
        Seconds per chunk (the last chunk may be shorter).
    picks : str | list of str
        MNE picks: ``"data"`` (all data channels, the default), ``"eeg"``, or channel names.

    Notes
    -----
    Data are volts (MNE's unit for EEG), float32. Markers carry onsets in seconds from the first
    sample of the file.
    """

    name = "file"

    def __init__(
        self,
        path: str,
        chunk_duration: Annotated[float, pydantic.Field(gt=0)] = 1.0,
        picks: str | list[str] = "data",
    ):
        self.path = path
        self.chunk_duration = chunk_duration
        self.picks = picks

    # channels left out whatever the picks: () for none, "bads" for those marked bad
    _exclude: ClassVar[str | tuple[()]] = ()

    def _read_raw(self):
        return open_raw(self.path)

    def _open(self):
        raw = self._read_raw()
        try:
            picks = raw.copy().pick(self.picks, exclude=self._exclude).ch_names
        except ValueError as err:
            raise FormatError(f"picks={self.picks!r} selects no channel: {err}", path=self.path) from None
        return raw, [raw.ch_names.index(c) for c in picks]

    @property
    def info(self) -> SignalInfo:
        """The stream info of the picked channels."""
        raw, idx = self._open()
        types = raw.get_channel_types()
        return SignalInfo(
            float(raw.info["sfreq"]), tuple(raw.ch_names[i] for i in idx), tuple(types[i] for i in idx)
        )

    def _chunk_samples(self, sfreq: float) -> int:
        return max(1, int(round(self.chunk_duration * sfreq)))

    @property
    def n_chunks(self) -> int:
        """Number of chunks the file gives."""
        raw, _ = self._open()
        return -(-raw.n_times // self._chunk_samples(raw.info["sfreq"]))

    def describe(self) -> dict[str, Any]:
        """Provenance: the path and the file's sha256."""
        path = Path(self.path).resolve()
        return {"type": self.name, "path": str(path), "sha256": sha256_file(path), "picks": self.picks}

    def __iter__(self) -> Iterator[SignalChunk]:
        raw, idx = self._open()
        info = self.info
        sfreq = info.sfreq
        step = self._chunk_samples(sfreq)
        markers = _markers(raw)
        for start in range(0, raw.n_times, step):
            stop = min(start + step, raw.n_times)
            data = raw.get_data(picks=idx, start=start, stop=stop).astype(np.float32)
            t0, t1 = start / sfreq, stop / sfreq
            in_chunk = tuple(m for m in markers if t0 <= m.onset < t1 or (start == 0 and m.onset < 0))
            yield SignalChunk(data, info, start, in_chunk)
