"""A local folder of annotated recordings as a motor-imagery dataset.

Layout (any MNE-readable format: EDF, BDF, GDF, FIF, BrainVision ``.vhdr``, EEGLAB ``.set``)::

    ROOT/SUBJECT/recording.edf                  one session per subject
    ROOT/SUBJECT/SESSION/recording.edf          several sessions
    ROOT/recording.edf                          one subject per file (named by the file)

Trials are cut at the annotations named in ``event_map``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.data.dataset import EpochsSet, concat_sets, epochs_from_raw

__all__ = ["RECORDING_SUFFIXES", "find_recordings", "load_local"]

RECORDING_SUFFIXES = (".edf", ".bdf", ".gdf", ".fif", ".vhdr", ".set")
_NOT_RAW = ("-epo.fif", "-ave.fif", "-ica.fif", "-fwd.fif", "-cov.fif")  # FIF files that are not recordings


def find_recordings(root: str | Path) -> list[tuple[str, str, Path]]:
    """List ``(subject, session, file)`` for every recording under ``root`` (sorted).

    Raises
    ------
    DataError
        When ``root`` is not a folder or holds no recording.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"dataset folder {str(root)!r} does not exist (cwd is {Path.cwd()}).")
    found = []
    for file in sorted(root.rglob("*")):
        if file.suffix.lower() not in RECORDING_SUFFIXES or not file.is_file():
            continue
        if file.name.endswith(_NOT_RAW):
            continue
        parts = file.relative_to(root).parts
        subject = parts[0] if len(parts) > 1 else file.stem
        session = parts[1] if len(parts) > 2 else "0"
        found.append((subject, session, file))
    if not found:
        raise DataError(
            f"no recordings ({', '.join(RECORDING_SUFFIXES)}) under {str(root)!r}; lay them out as "
            "ROOT/SUBJECT/[SESSION/]FILE."
        )
    return found


def load_local(
    path: str,
    event_map: Mapping[str, str],
    tmin: float = 0.0,
    tmax: float = 4.0,
    l_freq: float | None = None,
    h_freq: float | None = None,
    resample: float | None = None,
    picks: str | list[str] = "eeg",
    on_mismatch: str = "common",
) -> EpochsSet:
    """Load labelled trials from a folder of annotated recordings.

    Parameters
    ----------
    path : str
        The dataset folder (layout in the module docstring).
    event_map : dict of str to str
        Annotation description → class label, e.g. ``{"T1": "left", "T2": "right"}``.
    tmin, tmax : float
        Trial window after each cue, seconds.
    l_freq, h_freq, resample : float | None
        Continuous band-pass (Hz) and resampling per recording.
    picks : str | list of str
        Channels to keep.
    on_mismatch : {"common", "raise"}
        When recordings' channel sets differ: keep the shared channels, or raise.
    """
    import mne

    if not event_map:
        raise ConfigError("event_map is empty; name the annotations to cut trials at, e.g. {T1: left}.")
    parts = []
    for subject, session, file in find_recordings(path):
        try:
            raw = mne.io.read_raw(file, preload=False, verbose="error")
        except Exception as err:  # noqa: BLE001 - MNE readers raise many kinds of errors
            raise FormatError(f"MNE cannot read this recording ({err}).", path=file) from None
        try:
            X, y, sfreq, ch_names = epochs_from_raw(
                raw, event_map, tmin, tmax, l_freq, h_freq, resample, picks
            )
        except DataError as err:
            raise DataError(f"{file}: {err}") from None
        parts.append(
            EpochsSet(X, y, np.full(len(y), subject), np.full(len(y), session), sfreq, ch_names, tmin)
        )
    return concat_sets(parts, on_mismatch)
