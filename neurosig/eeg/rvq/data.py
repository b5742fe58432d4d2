"""Recordings → preprocessed, cleaned signals and training patches, through the suite's EEG pipeline.

Preprocessing is a stream pipeline (a YAML path or mapping, NeuroRVQ's by default: notch, 0.5–45 Hz
band-pass, resample to 200 Hz) whose ``source.path`` is set to each recording in turn. Cleaning
then runs FASTER (:func:`neurosig.eeg.faster.run_faster`) on patch-length epochs: bad channels and
bad epochs are dropped, bad ICA components removed, and bad channels within an epoch are left out of
training.
"""

from __future__ import annotations

import copy
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.chunks import concat_chunks
from neurosig.core.config import build_pipeline, load_config
from neurosig.core.errors import DataError
from neurosig.core.validate import check_option

__all__ = ["DEFAULT_PREPROCESSING", "Recording", "preprocess", "prepare", "resolve_cleaning"]

#: NeuroRVQ's preprocessing with the suite's causal stages (60 Hz mains for the PhysioNet data).
DEFAULT_PREPROCESSING: dict[str, Any] = {
    "name": "rvq_preprocessing",
    "source": {"type": "file", "path": "", "chunk_duration": 10.0, "picks": "eeg"},
    "stages": [
        {"type": "notch", "freqs": [60.0]},
        {"type": "bandpass", "l_freq": 0.5, "h_freq": 45.0},
        {"type": "resample", "sfreq": 200.0},
    ],
}


@dataclass
class Recording:
    """One preprocessed, cleaned recording.

    Attributes
    ----------
    name : str
        The file's name.
    data : ndarray, shape (n_channels, n_samples)
        Volts at ``sfreq``; with FASTER cleaning, the kept epochs (ICA-cleaned) end to end and the
        bad channels removed.
    sfreq : float
        Hz.
    ch_names : list of str
        The channels of ``data``.
    good : ndarray of bool, shape (n_channels, n_patches)
        Channel-patches fit for training (not flagged by FASTER step 4).
    cleaning : dict
        What cleaning did (method, bad channels, dropped epochs, ICA components removed).
    """

    name: str
    data: np.ndarray
    sfreq: float
    ch_names: list[str]
    good: np.ndarray
    cleaning: dict[str, Any] = field(default_factory=dict)


def resolve_cleaning(cleaning: str) -> str:
    """``"auto"`` → ``"faster"`` when :mod:`neurosig.eeg.faster` is installed, else ``"none"``."""
    check_option("cleaning", cleaning, ["auto", "faster", "none"])
    if cleaning == "auto":
        return "faster" if importlib.util.find_spec("neurosig.eeg.faster") else "none"
    return cleaning


def preprocess(path: str, preprocessing: str | dict[str, Any] = DEFAULT_PREPROCESSING):
    """Run the preprocessing pipeline over one recording; return it as one :class:`SignalChunk`."""
    config = load_config(copy.deepcopy(preprocessing) if isinstance(preprocessing, dict) else preprocessing)
    raw = config.model_dump(exclude_none=True)
    raw["source"]["path"] = str(path)
    raw.pop("sink", None)
    chunks = list(build_pipeline(raw).iter_chunks())
    if not chunks:
        raise DataError(f"{path}: the preprocessing pipeline gave no data.")
    return concat_chunks(chunks)


def _faster(data: np.ndarray, sfreq: float, ch_names: list[str], patch_len: int, seed: int, n_components):
    import mne

    from neurosig.eeg.faster import run_faster

    n = data.shape[1] // patch_len
    epochs_data = data[:, : n * patch_len].reshape(len(ch_names), n, patch_len).transpose(1, 0, 2)
    info = mne.create_info(ch_names, sfreq, "eeg")
    epochs = mne.EpochsArray(epochs_data.astype(np.float64), info, verbose="error")
    clean, report = run_faster(epochs, n_components=n_components, random_state=seed, interpolate=False)
    keep = [i for i, c in enumerate(ch_names) if c not in report.bad_channels]
    kept = clean.get_data()[:, keep]  # (epochs, channels, times)
    in_epoch = report.steps["channels_in_epochs"].bad  # (epochs, good channels)
    summary = {
        "method": "faster",
        "bad_channels": report.bad_channels,
        "dropped_epochs": report.bad_epochs,
        "n_epochs": n,
        "ica_excluded": report.ica.get("excluded", []),
        "bad_channel_epochs": int(in_epoch.sum()),
    }
    data = kept.transpose(1, 0, 2).reshape(len(keep), -1).astype(np.float32)
    return data, [ch_names[i] for i in keep], ~in_epoch.T, summary


def prepare(
    path: str,
    preprocessing: str | dict[str, Any] = DEFAULT_PREPROCESSING,
    cleaning: str = "auto",
    patch_len: int = 200,
    settle_seconds: float = 5.0,
    seed: int = 0,
    n_components: int | None = 20,
) -> Recording:
    """Preprocess and clean one recording.

    Parameters
    ----------
    path : str
        Any MNE-readable recording.
    preprocessing : str | dict
        A stream-pipeline YAML path or mapping; its ``source.path`` is replaced by ``path``.
    cleaning : {"auto", "faster", "none"}
        FASTER (``"auto"`` uses it when installed) or nothing.
    patch_len : int
        Samples per patch (FASTER epochs have this length).
    settle_seconds : float
        Seconds dropped at the start while the causal filters settle.
    seed : int
        Seed of FASTER's ICA.
    n_components : int | None
        ICA components in FASTER's step 3 (``None``: one per good channel).
    """
    method = resolve_cleaning(cleaning)
    chunk = preprocess(path, preprocessing)
    sfreq = chunk.info.sfreq
    data = chunk.data[:, int(round(settle_seconds * sfreq)) :]
    names = list(chunk.info.ch_names)
    if data.shape[1] < patch_len:
        raise DataError(f"{path}: fewer than one patch ({patch_len} samples) left after {settle_seconds} s.")
    if method == "faster":
        data, names, good, summary = _faster(data, sfreq, names, patch_len, seed, n_components)
    else:
        data = data[:, : data.shape[1] // patch_len * patch_len]
        good = np.ones((len(names), data.shape[1] // patch_len), dtype=bool)
        summary = {"method": "none"}
    return Recording(Path(path).name, data, sfreq, names, good, summary)
