"""PhysioNet EEG Motor Movement/Imagery (eegmmidb) through MNE's ``eegbci`` loader, cached locally.

109 subjects, 64 channels at 160 Hz (Schalk et al. 2004; Goldberger et al. 2000; ODC-By 1.0). Runs
4/8/12 are imagined left/right fist (cues T1/T2), runs 6/10/14 imagined both fists/both feet. Files
live where MNE keeps them: ``PATH/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf``. Nothing is
downloaded unless ``download=True``; otherwise missing files raise an error that lists them and says
where to put them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_option
from neurosig.data.dataset import EpochsSet, concat_sets, epochs_from_raw

__all__ = ["TASKS", "BAD_SUBJECTS", "eegbci_file", "load_eegbci"]

#: Task → (runs, annotation → class label).
TASKS: dict[str, tuple[tuple[int, ...], dict[str, str]]] = {
    "left_right_imagery": ((4, 8, 12), {"T1": "left_hand", "T2": "right_hand"}),
    "hands_feet_imagery": ((6, 10, 14), {"T1": "hands", "T2": "feet"}),
    "left_right_execution": ((3, 7, 11), {"T1": "left_hand", "T2": "right_hand"}),
    "hands_feet_execution": ((5, 9, 13), {"T1": "hands", "T2": "feet"}),
}

#: Subjects whose recordings the comparison paper drops (wrong timing or sampling rate).
BAD_SUBJECTS = (88, 89, 92, 100)


def _root(path: str | Path | None) -> Path:
    if path is None:
        path = os.environ.get("MNE_DATASETS_EEGBCI_PATH") or Path.home() / "mne_data"
    return Path(path).expanduser()


def eegbci_file(path: str | Path | None, subject: int, run: int) -> Path:
    """Where MNE's loader keeps one run: ``PATH/MNE-eegbci-data/files/eegmmidb/1.0.0/SxxxRyy.edf``."""
    return (
        _root(path)
        / "MNE-eegbci-data"
        / "files"
        / "eegmmidb"
        / "1.0.0"
        / f"S{subject:03d}"
        / f"S{subject:03d}R{run:02d}.edf"
    )


def _paths(path: str | Path | None, subject: int, runs: Sequence[int], download: bool) -> list[Path]:
    from mne.datasets import eegbci

    wanted = [eegbci_file(path, subject, r) for r in runs]
    missing = [p for p in wanted if not p.is_file()]
    if missing and not download:
        raise DataError(
            f"PhysioNet eegmmidb files are missing: {[str(p) for p in missing]}. Put the EDF files there "
            f"(folder {missing[0].parent}), point path= or MNE_DATASETS_EEGBCI_PATH at the folder that "
            "holds MNE-eegbci-data, or pass download=True to fetch them from physionet.org."
        )
    try:
        return [
            Path(p)
            for p in eegbci.load_data(
                subject, list(runs), path=str(_root(path)), update_path=False, verbose="error"
            )
        ]
    except Exception as err:  # noqa: BLE001 - network and checksum failures come in many types
        raise DataError(
            f"could not get subject {subject} runs {list(runs)} from PhysioNet into {_root(path)} ({err}); "
            "check the connection or place the files there by hand."
        ) from None


def load_eegbci(
    subjects: Sequence[int] | None = None,
    task: str = "left_right_imagery",
    runs: Sequence[int] | None = None,
    path: str | None = None,
    download: bool = False,
    tmin: float = 0.0,
    tmax: float = 4.0,
    l_freq: float | None = 1.0,
    h_freq: float | None = 45.0,
    resample: float | None = None,
    on_mismatch: str = "common",
) -> EpochsSet:
    """Load motor-imagery trials of PhysioNet subjects.

    Parameters
    ----------
    subjects : list of int | None
        Subject numbers 1–109; ``None`` takes all but :data:`BAD_SUBJECTS`.
    task : str
        One of :data:`TASKS`; sets the runs and the class labels.
    runs : list of int | None
        Override the task's runs (they must carry the same cues).
    path : str | None
        Folder that holds (or will hold) ``MNE-eegbci-data``; default ``MNE_DATASETS_EEGBCI_PATH`` or
        ``~/mne_data``.
    download : bool
        Fetch missing files from PhysioNet (needs the network).
    tmin, tmax : float
        Trial window after the cue, seconds (the cues last 4.1 s).
    l_freq, h_freq : float | None
        Zero-phase Butterworth band (Hz) applied to each run before cutting (1–45 Hz as in the paper).
    resample : float | None
        New sampling rate in Hz.
    on_mismatch : {"common", "raise"}
        When subjects' channel sets differ: keep the shared channels, or raise.

    Returns
    -------
    EpochsSet
        Trials in volts; subjects named ``"S001"``, ...; one session per subject.
    """
    import mne
    from mne.datasets import eegbci

    check_option("task", task, TASKS)
    task_runs, event_map = TASKS[task]
    runs = tuple(runs) if runs else task_runs
    subjects = [s for s in range(1, 110) if s not in BAD_SUBJECTS] if subjects is None else list(subjects)
    bad = [s for s in subjects if not 1 <= int(s) <= 109]
    if bad or not subjects:
        raise ConfigError(f"subjects must be numbers in 1..109, got {subjects}.")
    parts = []
    for subject in subjects:
        for file in _paths(path, int(subject), runs, download):
            raw = mne.io.read_raw_edf(file, preload=True, verbose="error")
            eegbci.standardize(raw)
            X, y, sfreq, ch_names = epochs_from_raw(raw, event_map, tmin, tmax, l_freq, h_freq, resample)
            name = f"S{int(subject):03d}"
            parts.append(EpochsSet(X, y, np.full(len(y), name), np.full(len(y), "0"), sfreq, ch_names, tmin))
    return concat_sets(parts, on_mismatch)
