"""Any file MNE reads (EDF, BDF, GDF, FIF, BrainVision, EEGLAB, EGI, ...) as a stream of chunks.

Reading is lazy: the file is opened with ``preload=False`` (once per source: its info, chunk count
and chunks share that handle) and each chunk reads only its own samples, so a long recording never
sits in memory whole. Annotations become :class:`Marker`s in the
chunk where they start. EDF/BDF headers are checked before MNE sees the file, because MNE silently
shortens truncated files and treats discontinuous (EDF+D) files as continuous.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar

import numpy as np
import pydantic

from neurosig.core.chunks import Marker, Position, SignalChunk, SignalInfo
from neurosig.core.errors import ConfigError, FormatError
from neurosig.core.stage import Source
from neurosig.core.validate import check_existing_file, did_you_mean
from neurosig.io.digest import sha256_file

__all__ = [
    "EEGFileSource",
    "open_raw",
    "read_montage",
    "channel_positions",
    "eeg_file_info",
    "check_edf_header",
    "MAX_EDF_SFREQ",
]

_MNE_EXTENSIONS = (
    ".edf .bdf .gdf .fif .fif.gz .vhdr .set .cnt .mff .raw .nxe .eeg .data .lay .nedf .snirf "
    ".ds .sqd .con .ahdr .nwb"
).split()


#: Highest sampling rate (Hz) an EDF/BDF header may declare; more means the header lies.
MAX_EDF_SFREQ = 1e6


def _edf_numbers(raw: bytes, n: int, width: int, what: str, path: Path, offset: int, kind=int) -> list:
    """``n`` ASCII numbers of ``width`` bytes each, as EDF stores per-signal fields."""
    values = []
    for i in range(n):
        try:
            values.append(kind(raw[i * width : (i + 1) * width]))
        except ValueError:
            raise FormatError(
                f"the {what} of signal {i} is {raw[i * width : (i + 1) * width]!r}, not a number.",
                path=path,
                offset=offset + i * width,
            ) from None
    return values


def check_edf_header(path: str | Path) -> str:
    """Check an EDF/BDF file's header against its size, its continuity and itself.

    The format comes from the header, never the suffix: BDF starts with byte 0xFF and ``BIOSEMI``
    (3 bytes per sample), EDF with ``0`` (2 bytes per sample).

    Returns
    -------
    str
        ``"edf"`` or ``"bdf"``.

    Raises
    ------
    FormatError
        When the header is neither EDF nor BDF, disagrees with the file's suffix (MNE would read the
        samples with the wrong width), has negative record or signal counts, a record duration
        <= 0 s or a rate above :data:`MAX_EDF_SFREQ`, a signal whose digital minimum equals its
        maximum, or when the file is shorter than its header promises (truncated: MNE would silently
        read fewer samples) or is EDF+D/BDF+D (discontinuous: MNE would join the segments).
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        fixed = f.read(256)
        if len(fixed) < 256:
            raise FormatError(f"EDF header needs 256 bytes, the file has {size}.", path=path, offset=size)
        if fixed[:8] == b"\xffBIOSEMI":
            fmt, bytes_per_sample = "bdf", 3
        elif fixed[:8].strip() == b"0":
            fmt, bytes_per_sample = "edf", 2
        else:
            raise FormatError(
                f"the header starts with {fixed[:8]!r}: neither EDF ('0') nor BDF (0xFF 'BIOSEMI').",
                path=path,
                offset=0,
            )
        suffix = path.suffix.lower().lstrip(".")
        if suffix in ("edf", "bdf") and suffix != fmt:
            raise FormatError(
                f"the header says {fmt.upper()} ({bytes_per_sample} bytes per sample) but the file is "
                f"named .{suffix}, so its samples would be read with the wrong width. Rename it to "
                f"{path.stem}.{fmt}.",
                path=path,
                offset=0,
            )
        try:
            header_bytes = int(fixed[184:192])
            n_records = int(fixed[236:244])
            duration = float(fixed[244:252])
            n_signals = int(fixed[252:256])
        except ValueError:
            raise FormatError(
                "not a valid EDF/BDF header (header size, record count, record duration or signal count "
                "is not a number).",
                path=path,
                offset=184,
            ) from None
        if n_signals < 1 or n_records < -1:
            raise FormatError(
                f"the header gives {n_signals} signals and {n_records} data records; a recording has "
                "at least one signal and a record count >= 0 (-1 while recording). The header is damaged.",
                path=path,
                offset=252 if n_signals < 1 else 236,
            )
        if header_bytes != 256 * (n_signals + 1):
            raise FormatError(
                f"the header size field says {header_bytes} bytes, but {n_signals} signals need "
                f"{256 * (n_signals + 1)}. The header is damaged.",
                path=path,
                offset=184,
            )
        reserved = fixed[192:236].decode("ascii", "replace").strip()
        if reserved.startswith(("EDF+D", "BDF+D")):
            raise FormatError(
                f"{reserved[:5]} (discontinuous) recordings are not supported: their records have gaps "
                "that a continuous stream would hide. Export the continuous segments separately.",
                path=path,
                offset=192,
            )
        signals = f.read(256 * n_signals)
    if len(signals) < 256 * n_signals:
        raise FormatError(
            f"the header of {n_signals} signals needs {header_bytes} bytes, the file has {size}.",
            path=path,
            offset=size,
        )
    low_at, high_at = 256 + 120 * n_signals, 256 + 128 * n_signals
    low = _edf_numbers(signals[low_at - 256 :], n_signals, 8, "digital minimum", path, low_at, float)
    high = _edf_numbers(signals[high_at - 256 :], n_signals, 8, "digital maximum", path, high_at, float)
    for i, (a, b) in enumerate(zip(low, high, strict=True)):
        if a == b:
            raise FormatError(
                f"signal {i} has digital minimum = maximum = {a:g}: its samples cannot be scaled to "
                "physical units. The header is damaged.",
                path=path,
                offset=low_at + 8 * i,
            )
    counts_at = 256 + 216 * n_signals
    counts = _edf_numbers(signals[counts_at - 256 :], n_signals, 8, "samples per record", path, counts_at)
    if min(counts) < 0:
        raise FormatError(
            f"signal {counts.index(min(counts))} has {min(counts)} samples per record.",
            path=path,
            offset=counts_at,
        )
    rate = max(counts) / duration if duration > 0 else 0.0
    if not 0 < rate <= MAX_EDF_SFREQ:
        raise FormatError(
            f"the record duration is {duration:g} s for {max(counts)} samples per record, a rate of "
            f"{rate:g} Hz; a record lasts > 0 s and gives at most {MAX_EDF_SFREQ:g} Hz. The header is "
            "damaged.",
            path=path,
            offset=244,
        )
    per_record = sum(counts)
    if n_records == -1:  # still being recorded; nothing to check against
        return fmt
    expected = header_bytes + n_records * per_record * bytes_per_sample
    if size < expected:
        complete = (size - header_bytes) // max(1, per_record * bytes_per_sample)
        raise FormatError(
            f"truncated: the header promises {n_records} data records ({expected} bytes) but the file "
            f"has {size} bytes ({complete} complete records). Re-download or repair the file.",
            path=path,
            offset=size,
        )
    return fmt


def open_raw(path: str | Path):
    """Open any MNE-readable file lazily (``preload=False``), with clear errors.

    Channel labels padded with dots (PhysioNet eegmmidb: ``Fc5.``, ``Cz..``) are standardised as
    :func:`mne.datasets.eegbci.standardize` does (``FC5``, ``Cz``).

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
        raw = reader(path, preload=False, verbose="error")
    except Exception as err:  # noqa: BLE001 - MNE raises many types for unreadable files
        raise FormatError(f"MNE cannot read this file as {path.suffix}: {err}", path=path) from None
    if any(ch.endswith(".") for ch in raw.ch_names):
        # EDF labels padded with dots (PhysioNet eegmmidb: "Fc5.", "Cz.."): rename them as MNE's
        # eegbci loader does ("FC5", "Cz"), so that they match the 10-05 names.
        from mne.datasets import eegbci

        eegbci.standardize(raw)
    return raw


def read_montage(montage: str) -> Any:
    """A montage by name or file.

    Parameters
    ----------
    montage : str
        An MNE built-in montage (``mne.channels.get_builtin_montages()``: ``standard_1005``, which
        MNE ≥ 1.13 calls ``colin27_1005``, ``biosemi64``, ``GSN-HydroCel-128``, ...) or a file
        :func:`mne.channels.read_custom_montage` reads (``.elc``, ``.sfp``, ``.loc``, ``.bvef``, ...).

    Returns
    -------
    mne.channels.DigMontage
        In MNE's head frame when the montage has fiducials (built-in templates come in their MRI
        frame; their head frame is where recordings' digitised positions are).

    Raises
    ------
    ConfigError
        If ``montage`` is neither a built-in name nor an existing file (with the closest name).
    FormatError
        If the file is not a montage MNE reads.
    """
    import mne

    builtin = mne.channels.get_builtin_montages()
    renamed = "colin27_" + montage.removeprefix("standard_")  # MNE 1.13 renamed standard_1005 and kin
    if montage.startswith("standard_") and renamed in builtin:
        montage = renamed
    if montage in builtin:
        return _in_head_frame(mne.channels.make_standard_montage(montage))
    path = Path(montage)
    if not path.is_file():
        raise ConfigError(
            f"montage={montage!r} is neither an MNE built-in montage nor an existing montage file; "
            f"name one of {sorted(builtin)} or the path of a montage file (.elc, .sfp, .loc, .bvef, ...)."
            f"{did_you_mean(montage, [*builtin, 'standard_1005', 'standard_1020'])}"
        )
    try:
        return _in_head_frame(mne.channels.read_custom_montage(path, verbose="error"))
    except Exception as err:  # noqa: BLE001 - MNE raises many types for unreadable montage files
        raise FormatError(f"MNE cannot read this file as a montage: {err}", path=path) from None


def _in_head_frame(montage: Any) -> Any:
    """``montage`` moved into MNE's head frame, when it is elsewhere and has the fiducials to do so."""
    import mne

    pos = montage.get_positions()
    if pos["coord_frame"] != "head" and all(pos[k] is not None for k in ("nasion", "lpa", "rpa")):
        montage.apply_trans(mne.channels.compute_native_head_t(montage))
    return montage


def channel_positions(raw: Any, idx: list[int]) -> tuple[Position, ...]:
    """The positions of channels ``idx`` of an MNE recording, in metres (head frame).

    A channel whose location is unset (all zeros or NaN, as MNE leaves channels without one) gets
    ``None``.
    """
    out: list[Position] = []
    for i in idx:
        loc = np.asarray(raw.info["chs"][i]["loc"][:3], dtype=float)
        ok = np.all(np.isfinite(loc)) and np.any(loc != 0)
        out.append((float(loc[0]), float(loc[1]), float(loc[2])) if ok else None)
    return tuple(out)


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
    ch_types : dict of str to str | None
        Channel types to set before picking, by channel name (MNE types: ``eeg``, ``eog``, ``emg``,
        ``misc``, ...), e.g. ``{EOG1: eog, EOG2: eog}`` for EOG channels a file types as EEG.
    montage : str | None
        Channel positions to use instead of those stored in the file: an MNE built-in montage
        (``standard_1005``, ``biosemi64``, ...) or a montage file (see :func:`read_montage`),
        matched to the channel names case-insensitively. Channels it does not name have no position.
        ``None``: the positions stored in the file (EEGLAB chanlocs, FIF digitisation, ...), if any.

    Notes
    -----
    Data are volts (MNE's unit for EEG), float32. Markers carry onsets in seconds from the first
    sample of the file. The stream info carries the picked channels' positions in metres
    (``SignalInfo.ch_pos``), so that stages such as FASTER interpolate from the recording's own
    positions.
    """

    name = "file"

    def __init__(
        self,
        path: str,
        chunk_duration: Annotated[float, pydantic.Field(gt=0)] = 1.0,
        picks: str | list[str] = "data",
        ch_types: dict[str, str] | None = None,
        montage: str | None = None,
    ):
        self.path = path
        self.chunk_duration = chunk_duration
        self.picks = picks
        self.ch_types = ch_types
        self.montage = montage
        self._opened: tuple[tuple[str, ...], Any, list[int]] | None = None

    def _set_montage(self, raw: Any) -> None:
        """Replace the file's positions by :attr:`montage`'s; refuse one that names no channel."""
        montage = read_montage(self.montage)
        names = {c.lower() for c in montage.ch_names}
        if not any(c.lower() in names for c in raw.ch_names):
            raise ConfigError(
                f"montage={self.montage!r} names none of the channels of {self.path} "
                f"({raw.ch_names[:8]}{' ...' if len(raw.ch_names) > 8 else ''}); choose the montage "
                "the recording follows, or leave montage out to use the positions stored in the file."
            )
        raw.set_montage(montage, match_case=False, on_missing="ignore", verbose="error")

    # channels left out whatever the picks: () for none, "bads" for those marked bad
    _exclude: ClassVar[str | tuple[()]] = ()

    def _read_raw(self) -> Any:
        return open_raw(self.path)

    def _open(self) -> tuple[Any, list[int]]:
        """The lazily opened recording and the indices of the picked channels, opened once per path."""
        key = (self.path, repr(self.picks), repr(self.ch_types), repr(self.montage))
        if self._opened is None or self._opened[0] != key:
            raw = self._read_raw()
            if self.ch_types:
                unknown = sorted(set(self.ch_types) - set(raw.ch_names))
                if unknown:
                    raise ConfigError(
                        f"ch_types names {unknown}, which {self.path} does not have; its channels are "
                        f"{raw.ch_names}.{did_you_mean(unknown[0], raw.ch_names)}"
                    )
                try:
                    raw.set_channel_types(dict(self.ch_types), on_unit_change="ignore", verbose="error")
                except ValueError as err:
                    raise ConfigError(f"ch_types={self.ch_types!r}: {err}") from None
            if self.montage is not None:
                self._set_montage(raw)
            try:
                picks = raw.copy().pick(self.picks, exclude=self._exclude).ch_names
            except ValueError as err:
                raise FormatError(f"picks={self.picks!r} selects no channel: {err}", path=self.path) from None
            self._opened = (key, raw, [raw.ch_names.index(c) for c in picks])
        return self._opened[1], self._opened[2]

    @property
    def info(self) -> SignalInfo:
        """The stream info of the picked channels, with their positions when the file or montage has any."""
        raw, idx = self._open()
        types = raw.get_channel_types()
        return SignalInfo(
            float(raw.info["sfreq"]),
            tuple(raw.ch_names[i] for i in idx),
            tuple(types[i] for i in idx),
            ch_pos=channel_positions(raw, idx),
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
        path = check_existing_file(self.path, "recording").resolve()
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
