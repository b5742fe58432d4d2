"""EMG-removal benchmark data following the EEGdenoiseNet protocol (Zhang et al., J Neural Eng 2021).

The protocol itself (2 s epochs at 256 Hz, mixing at an SNR, normalised pairs, :class:`DenoiseData`)
lives in :mod:`neurosig.eeg.atat.pairs`; this module gets the epochs.

Two ways to get the clean EEG and the EMG epochs:

- :func:`load_eegdenoisenet` reads the published files (``EEG_all_epochs.npy``,
  ``EMG_all_epochs.npy``) when a user has them;
- :func:`build_from_recordings` builds the same kind of data from real recordings: clean EEG epochs
  from cleaned EEG files (band-passed, resampled to 256 Hz) and real surface EMG (band-passed,
  resampled, segmented), split by recording, never by epoch of one recording.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.core.validate import check_existing_file, check_option
from neurosig.eeg.atat.pairs import N_TIMES, SFREQ, SPLITS, DenoiseData, rms

__all__ = [
    "load_eegdenoisenet",
    "build_from_recordings",
    "read_emg_txt",
    "CLEANINGS",
]


def load_eegdenoisenet(root: str | Path, seed: int = 0) -> DenoiseData:
    """Read the published EEGdenoiseNet epochs and split them 80/10/10 (by epoch, as published).

    Parameters
    ----------
    root : str | Path
        Folder holding ``EEG_all_epochs.npy`` (4514 × 512) and ``EMG_all_epochs.npy`` (5598 × 512),
        as distributed by the EEGdenoiseNet authors.
    seed : int
        Seed of the shuffle before splitting.

    Raises
    ------
    DataError
        If a file is missing, naming the expected layout.
    FormatError
        If a file is not a 2-D array of 512-sample epochs.
    """
    root = Path(root).expanduser()
    arrays = {}
    for kind, name in (("eeg", "EEG_all_epochs.npy"), ("emg", "EMG_all_epochs.npy")):
        path = root / name
        if not path.is_file():
            raise DataError(
                f"EEGdenoiseNet file {name!r} not found in {str(root)!r}. Expected layout: "
                f"{root}/EEG_all_epochs.npy (4514 × 512 float) and {root}/EMG_all_epochs.npy "
                "(5598 × 512 float), from the EEGdenoiseNet release; or build data from local "
                "recordings with neurosig.data.denoise.build_from_recordings()."
            )
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as err:
            raise FormatError(f"not a numpy .npy array file ({err}).", path=path) from None
        if arr.ndim != 2 or arr.shape[1] != N_TIMES:
            raise FormatError(f"expected (n_epochs, {N_TIMES}) epochs, got shape {arr.shape}.", path=path)
        arrays[kind] = np.asarray(arr, dtype=np.float64)
    rng = np.random.default_rng(seed)
    parts: dict[str, dict[str, np.ndarray]] = {"eeg": {}, "emg": {}}
    for kind, arr in arrays.items():
        order = rng.permutation(len(arr))
        n_train, n_val = int(0.8 * len(arr)), int(0.1 * len(arr))
        bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, None)}
        for split, (a, b) in bounds.items():
            parts[kind][split] = arr[order[a:b]]
    return DenoiseData(parts["eeg"], parts["emg"], {"source": "EEGdenoiseNet", "root": str(root)})


# ---------------------------------------------------------------------------------------------------
# Building from recordings


def _resample(data: np.ndarray, sfreq: float, new_sfreq: float) -> np.ndarray:
    ratio = Fraction(new_sfreq / sfreq).limit_denominator(1000)
    return signal.resample_poly(data, ratio.numerator, ratio.denominator, axis=-1)


def _bandpass(data: np.ndarray, sfreq: float, low: float, high: float) -> np.ndarray:
    sos = signal.butter(4, [low, min(high, 0.45 * sfreq)], btype="band", fs=sfreq, output="sos")
    return signal.sosfiltfilt(sos, data, axis=-1)


def _zscore_keep(values: np.ndarray, threshold: float, min_spread: float = 0.05) -> np.ndarray:
    """True where a robust z-score (median / MAD) of ``values`` stays within ``threshold``.

    The MAD is floored at ``min_spread`` so that near-identical values do not make tiny deviations
    look extreme.
    """
    med = np.median(values)
    mad = max(1.4826 * np.median(np.abs(values - med)), min_spread)
    return np.abs(values - med) / mad <= threshold


def _clean_threshold(raw, epochs: np.ndarray) -> np.ndarray:
    """Keep (channel, epoch) pieces whose variance and range are not outliers.

    A deterministic stand-in for FASTER's channel and epoch criteria: robust z ≤ 3 on each channel's
    median log variance, and on the log variance and log amplitude range of every channel-epoch.
    """
    n_ch, n_ep, _ = epochs.shape
    log_var = np.log(epochs.var(axis=2) + 1e-30)
    keep = np.repeat(_zscore_keep(np.median(log_var, axis=1), 3.0)[:, None], n_ep, axis=1)
    for stat in (log_var, np.log(np.ptp(epochs, axis=2) + 1e-30)):
        keep &= _zscore_keep(stat.ravel(), 3.0).reshape(n_ch, n_ep)
    return keep


def _clean_faster(raw, epochs: np.ndarray) -> np.ndarray:
    """FASTER's channel, epoch and channel-in-epoch steps (1, 2, 4; no ICA), rejecting what they flag.

    Bad channels, bad epochs and bad channel-epochs are dropped rather than interpolated: the
    benchmark needs clean epochs, not repaired ones.
    """
    if importlib.util.find_spec("neurosig.eeg.faster") is None:
        raise ConfigError(
            "cleaning='faster' needs neurosig.eeg.faster, which this installation lacks; "
            "use cleaning='threshold' (or 'auto')."
        )
    import mne  # noqa: PLC0415

    from neurosig.eeg.faster import FasterModel, channel_means  # noqa: PLC0415 - optional module

    sfreq = float(raw.info["sfreq"]) if raw is not None else SFREQ
    data = np.transpose(epochs, (1, 0, 2))  # FASTER takes (n_epochs, n_channels, n_times)
    info = mne.create_info(data.shape[1], sfreq, "eeg")
    model = FasterModel(ica=False)
    model.learn(mne.EpochsArray(data, info, verbose="error"))
    good = np.isin(info.ch_names, model.good_)
    # Step 4 judges every epoch here, so its deviation is against the means of all epochs.
    bad_in_epoch = model.find_bad_channels_in_epochs(data, channel_means(data[:, good])).bad
    keep = np.zeros(epochs.shape[:2], dtype=bool)
    keep[good] = (~model.steps_["epochs"].bad[None, :]) & ~bad_in_epoch.T  # (n_good, n_epochs)
    return keep


def _clean_none(raw, epochs: np.ndarray) -> np.ndarray:
    return np.ones(epochs.shape[:2], dtype=bool)


#: Cleaning steps for :func:`build_from_recordings`: each takes the MNE Raw (after filtering and
#: resampling) and its epochs ``(n_channels, n_epochs, 512)`` and returns a keep-mask
#: ``(n_channels, n_epochs)``.
CLEANINGS: dict[str, Callable[[Any, np.ndarray], np.ndarray]] = {
    "faster": _clean_faster,
    "threshold": _clean_threshold,
    "none": _clean_none,
}


def _resolve_cleaning(cleaning: str | Callable) -> tuple[str, Callable]:
    if callable(cleaning):
        return getattr(cleaning, "__name__", "custom"), cleaning
    if cleaning == "auto":
        faster_ok = importlib.util.find_spec("neurosig.eeg.faster") is not None
        cleaning = "faster" if faster_ok else "threshold"
    check_option("cleaning", cleaning, [*CLEANINGS, "auto"])
    return cleaning, CLEANINGS[cleaning]


def _eeg_epochs(path: Path, clean_fn: Callable, band: tuple[float, float], line_freq: float | None):
    import mne  # noqa: PLC0415 - heavy import only where needed

    try:
        raw = mne.io.read_raw(path, preload=True, verbose="error")
    except (ValueError, OSError, RuntimeError) as err:
        raise FormatError(f"MNE cannot read this EEG recording ({err}).", path=path) from None
    raw.pick("eeg")
    if line_freq is not None and line_freq < raw.info["sfreq"] / 2:
        raw.notch_filter(line_freq, verbose="error")
    raw.filter(band[0], min(band[1], 0.45 * raw.info["sfreq"]), verbose="error")
    raw.resample(SFREQ, verbose="error")
    data = raw.get_data()
    n_ep = data.shape[1] // N_TIMES
    epochs = data[:, : n_ep * N_TIMES].reshape(data.shape[0], n_ep, N_TIMES)
    keep = np.asarray(clean_fn(raw, epochs), dtype=bool)
    if keep.shape != epochs.shape[:2]:
        raise DataError(f"cleaning returned a mask of shape {keep.shape}, expected {epochs.shape[:2]}.")
    epochs = epochs - epochs.mean(axis=2, keepdims=True)
    return epochs[keep], float(keep.mean())


def read_emg_txt(path: str | Path) -> tuple[np.ndarray, float]:
    """Read a UCI 'EMG data for gestures' text file onto a uniform 1 kHz grid.

    Parameters
    ----------
    path : str | Path
        Tab-separated file with a header; columns time (ms), channel1..channel8, class.

    Returns
    -------
    data : ndarray, shape (8, n_samples)
        EMG in the file's unit (volts), linearly interpolated onto a 1-ms grid.
    sfreq : float
        1000.0 Hz.
    """
    path = check_existing_file(path, "EMG file")
    try:
        table = np.loadtxt(path, skiprows=1, dtype=np.float64)
    except ValueError as err:
        raise FormatError(
            f"expected tab-separated numbers after one header line ({err}).", path=path
        ) from None
    if table.ndim != 2 or table.shape[1] < 3:
        raise FormatError(f"expected columns time, channel1.., class; got shape {table.shape}.", path=path)
    t = table[:, 0]
    if np.any(np.diff(t) <= 0):
        raise FormatError("the time column (ms) must increase strictly.", path=path)
    grid = np.arange(t[0], t[-1] + 1e-9, 1.0)
    channels = table[:, 1:-1].T
    return np.stack([np.interp(grid, t, ch) for ch in channels]), 1000.0


def _emg_windows(data: np.ndarray, sfreq: float, band: tuple[float, float]) -> np.ndarray:
    """Band-pass, resample to 256 Hz and cut 512-sample windows with 50 % overlap.

    Returns
    -------
    windows : ndarray, shape (n_channels, n_windows, 512)
        In time order along the second axis; each window has zero mean.
    """
    data = _resample(_bandpass(data, sfreq, *band), sfreq, SFREQ)
    starts = np.arange(0, data.shape[1] - N_TIMES + 1, N_TIMES // 2)
    wins = np.stack([data[:, s : s + N_TIMES] for s in starts], axis=1)
    return wins - wins.mean(axis=2, keepdims=True)


def _active(wins: np.ndarray, min_quantile: float) -> np.ndarray:
    """Flatten windows, dropping those below the ``min_quantile`` of RMS.

    Rest periods, where the Myo gives only quantisation steps, fall below it.
    """
    flat = wins.reshape(-1, N_TIMES)
    level = rms(flat)
    return flat[level >= np.quantile(level, min_quantile)]


def _split_names(n: int, val_fraction: float, test_fraction: float) -> list[str]:
    """Assign ``n`` recordings, in order, to train / val / test (at least one each)."""
    if n < 3:
        raise DataError(f"splitting by recording needs at least 3 EEG recordings, got {n}.")
    n_test = max(1, round(n * test_fraction))
    n_val = max(1, round(n * val_fraction))
    return ["train"] * (n - n_val - n_test) + ["val"] * n_val + ["test"] * n_test


def build_from_recordings(
    eeg_files: Sequence[str | Path],
    emg_files: Sequence[str | Path],
    cleaning: str | Callable = "auto",
    eeg_band: tuple[float, float] = (1.0, 70.0),
    emg_band: tuple[float, float] = (1.0, 100.0),
    line_freq: float | None = 60.0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    max_epochs_per_recording: int | None = None,
    emg_min_quantile: float = 0.3,
    seed: int = 0,
) -> DenoiseData:
    """Build EEGdenoiseNet-style data from real recordings, split by recording.

    Parameters
    ----------
    eeg_files : sequence of path
        MNE-readable EEG recordings. Each is band-passed (``eeg_band``, Hz, upper edge capped at
        0.45·sfreq), notched at ``line_freq``, resampled to 256 Hz, cut into 2-s single-channel
        epochs and cleaned. Recordings are assigned, in the order given, to train, validation and test.
    emg_files : sequence of path
        UCI gesture EMG text files (see :func:`read_emg_txt`), band-passed (``emg_band``, Hz),
        resampled to 256 Hz and cut into 2-s windows (50 % overlap). With three or more files they
        are split by file like the EEG; with one or two, the last file is the test set and the
        others (or the one) are split in time: the last ``val_fraction`` for validation.
    cleaning : {"auto", "faster", "threshold", "none"} or callable
        How bad channel-epochs are rejected. ``"faster"`` uses :mod:`neurosig.eeg.faster`;
        ``"threshold"`` is a robust-z rejection on variance and range; ``"auto"`` takes FASTER when
        it is installed, else ``"threshold"``. A callable gets ``(raw, epochs)`` with epochs shaped
        ``(n_channels, n_epochs, 512)`` and returns a boolean keep-mask ``(n_channels, n_epochs)``.
    eeg_band, emg_band : tuple of float
        Pass bands in Hz.
    line_freq : float | None
        Power-line frequency to notch in the EEG, Hz (60 for PhysioNet's eegmmidb).
    val_fraction, test_fraction : float
        Share of recordings for validation and test.
    max_epochs_per_recording : int | None
        Keep at most this many clean channel-epochs per EEG recording (seeded choice).
    emg_min_quantile : float
        Drop EMG windows below this quantile of window RMS (rest with quantisation noise only).
    seed : int
        Seed of the subsampling.

    Returns
    -------
    DenoiseData
        Epochs in volts, with provenance naming files, cleaning, bands and split.
    """
    if not eeg_files or not emg_files:
        raise ConfigError("build_from_recordings needs at least one EEG file and one EMG file.")
    name, clean_fn = _resolve_cleaning(cleaning)
    rng = np.random.default_rng(seed)
    eeg_paths = [check_existing_file(p, "EEG recording") for p in eeg_files]
    eeg: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    kept = {}
    split_of = dict(
        zip(
            [p.name for p in eeg_paths],
            _split_names(len(eeg_paths), val_fraction, test_fraction),
            strict=True,
        )
    )
    for path in eeg_paths:
        split = split_of[path.name]
        epochs, kept[path.name] = _eeg_epochs(path, clean_fn, eeg_band, line_freq)
        if max_epochs_per_recording is not None and len(epochs) > max_epochs_per_recording:
            epochs = epochs[np.sort(rng.choice(len(epochs), max_epochs_per_recording, replace=False))]
        eeg[split].append(epochs)
    emg_paths = [check_existing_file(p, "EMG file") for p in emg_files]
    emg_wins = [_emg_windows(*read_emg_txt(p), emg_band) for p in emg_paths]
    emg = _split_emg(emg_wins, val_fraction, test_fraction, emg_min_quantile)
    provenance = {
        "source": "recordings",
        "eeg_files": [p.name for p in eeg_paths],
        "emg_files": [p.name for p in emg_paths],
        "cleaning": name,
        "kept_fraction": kept,
        "eeg_band_hz": list(eeg_band),
        "emg_band_hz": list(emg_band),
        "line_freq_hz": line_freq,
        "split": {
            "eeg": split_of,
            "emg": "by file" if len(emg_paths) >= 3 else "in time within the first file; second file test",
        },
    }
    return DenoiseData({s: np.concatenate(v) for s, v in eeg.items()}, emg, provenance)


def _split_emg(
    wins: list[np.ndarray], val_fraction: float, test_fraction: float, min_quantile: float
) -> dict[str, np.ndarray]:
    """Split EMG windows ``(n_channels, n_windows, 512)`` per file by file, or in time."""
    if len(wins) >= 3:
        names = _split_names(len(wins), val_fraction, test_fraction)
        return {
            s: _active(
                np.concatenate([w for w, n in zip(wins, names, strict=True) if n == s], axis=1), min_quantile
            )
            for s in SPLITS
        }
    # The boundary windows are dropped: with 50 % overlap they share samples with both sides.
    if len(wins) == 1:
        n_test = max(1, int(wins[0].shape[1] * test_fraction))
        rest, test = wins[0][:, : -n_test - 1], wins[0][:, -n_test:]
    else:
        rest, test = wins[0], wins[1]
    n_val = max(1, int(rest.shape[1] * val_fraction))
    parts = {"train": rest[:, : -n_val - 1], "val": rest[:, -n_val:], "test": test}
    return {s: _active(w, min_quantile) for s, w in parts.items()}
