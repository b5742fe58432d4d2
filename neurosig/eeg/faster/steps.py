"""FASTER's outlier rule and its four steps on arrays.

Each step function scores its items with :mod:`neurosig.eeg.faster.metrics`, z-scores every metric with
:func:`find_outliers` and returns a :class:`~neurosig.eeg.faster.report.StepResult`. Input arrays are
EEG in volts, ``(n_epochs, n_channels, n_times)``; sampling rates are in Hz. The MNE side (seeded ICA,
interpolation) and the orchestration of the steps are in :mod:`neurosig.eeg.faster.model`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_epochs_array, check_finite
from neurosig.eeg.faster.metrics import (
    Profile,
    _join_epochs,
    _per_series,
    _profile,
    _use,
    channel_in_epoch_metrics,
    channel_metrics,
    component_metrics,
    epoch_metrics,
)
from neurosig.eeg.faster.report import StepResult
from neurosig.kernels.faster import series_stats

__all__ = [
    "STEPS",
    "find_outliers",
    "find_bad_channels",
    "find_bad_epochs",
    "find_bad_components",
    "find_bad_channels_in_epochs",
    "usable_channels",
    "decide_channels",
    "decide_epochs",
]

logger = logging.getLogger(__name__)

STEPS = ("channels", "epochs", "components", "channels_in_epochs")


# -- the outlier rule -------------------------------------------------------------------------


def find_outliers(
    scores: np.ndarray,
    threshold: float = 3.0,
    max_iter: int = 1,
    center: Literal["median", "mean"] = "median",
    ddof: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Flag outliers by (iterated) z-scoring along the last axis.

    Each pass centres the values not yet flagged (median or mean), divides by their standard
    deviation, and flags those with ``|z| > threshold``; passes repeat until nothing new is flagged or
    ``max_iter`` passes ran. Rows of a 2-D input are independent.

    Parameters
    ----------
    scores : ndarray, shape (n_items,) or (n_rows, n_items)
        Metric values (any unit).
    threshold : float
        Flag ``|z|`` strictly above this (standard deviations).
    max_iter : int
        Most passes (1 = the paper's single pass).
    center : {"median", "mean"}
        Centre subtracted before scaling (the paper: median; MNE/mne-faster: mean).
    ddof : int
        Delta degrees of freedom of the standard deviation (paper's MATLAB: 1; mne-faster: 0).

    Returns
    -------
    bad : ndarray of bool, same shape as ``scores``
        Flagged items.
    z : ndarray of float, same shape as ``scores``
        The decisive z-score of every item: for a flagged item the z of the pass that flagged it, for
        the others the z of the last pass. ``bad == |z| > threshold`` always holds. A row whose
        remaining values are all equal gives z = 0 (nothing is flagged), never a division by zero.
    """
    if threshold <= 0 or max_iter < 1:
        raise ConfigError(f"threshold must be > 0 and max_iter >= 1, got {threshold} and {max_iter}.")
    s = np.asarray(scores, dtype=np.float64)
    one_d = s.ndim == 1
    s = np.atleast_2d(s)
    check_finite("FASTER metric scores", s)
    bad = np.zeros(s.shape, dtype=bool)
    z = np.zeros(s.shape)
    for _ in range(max_iter):
        good = ~bad
        n = good.sum(axis=1, keepdims=True)
        usable = n > ddof
        n_safe = np.where(usable, n, ddof + 1)
        mean = np.where(good, s, 0.0).sum(axis=1, keepdims=True) / n_safe
        if center == "median":
            filled = np.where(good, s, np.nan)
            filled[~usable[:, 0]] = 0.0
            c = np.nanmedian(filled, axis=1, keepdims=True)
        else:
            c = mean
        ss = np.where(good, (s - mean) ** 2, 0.0).sum(axis=1, keepdims=True)
        std = np.sqrt(ss / (n_safe - ddof))
        # A spread below 1e-12 of the values' own scale is rounding noise, not variation.
        scale = np.maximum(np.abs(c), np.abs(mean))
        ok = usable & (std > 1e-12 * scale) & (std > 0)
        zi = np.divide(s - c, std, out=np.zeros_like(s), where=ok)
        new = good & (np.abs(zi) > threshold)
        z = np.where(bad, z, zi)
        bad |= new
        if not new.any():
            break
    return (bad[0], z[0]) if one_d else (bad, z)


# -- input checks -----------------------------------------------------------------------------


def _check_epochs(
    data: np.ndarray, what: str = "epochs", min_channels: int = 3, offset: int = 0
) -> np.ndarray:
    """Validate a ``(n_epochs, n_channels, n_times)`` array and return it as float64.

    ``offset`` is the index of the first epoch in the whole recording, for the message (a block of it).
    """
    hint = "FASTER z-scores across usable EEG channels; pick more channels or skip FASTER for this recording"
    data = check_epochs_array(data, f"FASTER {what}", min_channels=min_channels, min_times=8, hint=hint)
    data = check_finite(f"FASTER {what}", np.asarray(data, dtype=np.float64))
    flat = _per_series(series_stats, data)[2].max(axis=1) == 0
    if flat.any():
        raise DataError(
            f"FASTER {what}: epochs {(offset + np.flatnonzero(flat)).tolist()} have zero variance on every "
            "channel (a gap or a disconnected amplifier?); drop them before FASTER."
        )
    return data


# -- decisions --------------------------------------------------------------------------------


def _decide(
    step: str,
    items: list[str],
    scores: dict[str, np.ndarray],
    threshold: float,
    max_iter: int,
    profile: Profile,
    notes: list[str] | None = None,
) -> StepResult:
    z, flags = {}, {}
    out_scores = {}
    for name, s in scores.items():
        s = np.asarray(s, dtype=np.float64)
        if name == "eog_correlation" and s.ndim == 2 and step == "components":
            for k, row in enumerate(s):
                key = f"eog_correlation:{k}"
                flags[key], z[key] = find_outliers(row, threshold, max_iter, profile.center, profile.ddof)
                out_scores[key] = row
            continue
        flags[name], z[name] = find_outliers(s, threshold, max_iter, profile.center, profile.ddof)
        out_scores[name] = s
    return StepResult(step, items, out_scores, z, flags, threshold, list(notes or []))


def _reference_correction(scores: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Regress a quadratic in the angular distance to the reference electrode out of the scores."""
    fit = np.polyfit(angles, scores, 2)
    return scores - np.polyval(fit, angles)


def find_bad_channels(
    data: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str] | None = None,
    metrics: str | Profile = "paper",
    threshold: float = 3.0,
    max_iter: int | None = None,
    use_metrics: Sequence[str] | None = None,
    ref_angles: np.ndarray | None = None,
) -> StepResult:
    """FASTER step 1: bad channels over the whole recording.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        EEG epochs in volts (EEG channels only).
    sfreq : float
        Sampling rate in Hz.
    ch_names : list of str | None
        Channel names (default ``"0"``, ``"1"``, ...).
    metrics : {"paper", "mne-faster"}
        The metric profile.
    threshold : float
        ``|z|`` above which a channel is bad.
    max_iter : int | None
        Passes of the outlier rule (default: the profile's, 1).
    use_metrics : list of str | None
        A subset of the profile's metrics.
    ref_angles : ndarray, shape (n_channels,) | None
        Angular distance (radians) of each channel to the reference electrode; when given, a
        quadratic in it is regressed out of every metric (for single-electrode references).

    Returns
    -------
    result : StepResult
        ``items`` are the channel names.
    """
    profile = _profile(metrics)
    data = _check_epochs(data, "channels")
    names = list(ch_names) if ch_names is not None else [str(i) for i in range(data.shape[1])]
    constant = series_stats(_join_epochs(data))[2] == 0
    usable = usable_channels(constant, names)
    scores = channel_metrics(data[:, usable] if constant.any() else data, sfreq, profile, use_metrics)
    return decide_channels(scores, constant, names, profile, threshold, max_iter, ref_angles)


def usable_channels(constant: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Indices of the channels step 1 scores: the non-constant ones, at least 3.

    Raises
    ------
    DataError
        With fewer than 3 non-constant channels.
    """
    usable = np.flatnonzero(~constant)
    if len(usable) < 3:
        raise DataError(
            f"FASTER needs at least 3 non-constant EEG channels, got {len(usable)} of {len(names)}; "
            "check the recording (disconnected cap?) or skip FASTER for it."
        )
    return usable


def decide_channels(
    scores: dict[str, np.ndarray],
    constant: np.ndarray,
    names: Sequence[str],
    profile: Profile,
    threshold: float,
    max_iter: int | None,
    ref_angles: np.ndarray | None,
) -> StepResult:
    """Step 1's decisions from the metrics of the non-constant channels (see :func:`find_bad_channels`).

    ``scores`` hold one value per channel of :func:`usable_channels`; ``constant`` (bool, one per
    channel) marks the channels flagged without z-scoring.
    """
    names = list(names)
    usable = usable_channels(constant, names)
    if ref_angles is not None:
        angles = np.asarray(ref_angles, dtype=np.float64)[usable]
        scores = {k: _reference_correction(v, angles) for k, v in scores.items()}
    result = _decide(
        "channels", [names[i] for i in usable], scores, threshold, max_iter or profile.max_iter, profile
    )
    if not constant.any():
        return result
    # Put the constant channels back, flagged by the rule-based "constant" metric.
    full = {}
    for key in ("scores", "z", "flags"):
        part = getattr(result, key)
        expanded = {}
        for m, v in part.items():
            arr = np.full(len(names), False if key == "flags" else np.nan, dtype=v.dtype)
            arr[usable] = v
            expanded[m] = arr
        full[key] = expanded
    full["scores"]["constant"] = constant.astype(np.float64)
    full["z"]["constant"] = np.where(constant, np.inf, 0.0)
    full["flags"]["constant"] = constant
    note = f"constant channels {[names[i] for i in np.flatnonzero(constant)]} flagged without z-scoring"
    return StepResult("channels", names, full["scores"], full["z"], full["flags"], threshold, [note])


def find_bad_epochs(
    data: np.ndarray,
    labels: Sequence[str] | None = None,
    metrics: str | Profile = "paper",
    threshold: float = 3.0,
    max_iter: int | None = None,
    use_metrics: Sequence[str] | None = None,
) -> StepResult:
    """FASTER step 2: bad epochs.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        EEG epochs in volts, good channels only; at least 3 epochs.
    labels : list of str | None
        A name per epoch (default its index).
    metrics, threshold, max_iter, use_metrics
        As in :func:`find_bad_channels`.

    Returns
    -------
    result : StepResult
        ``items`` are the epoch labels.
    """
    profile = _profile(metrics)
    data = _check_epochs(data, "epochs")
    items = list(labels) if labels is not None else [str(i) for i in range(data.shape[0])]
    return decide_epochs(epoch_metrics(data, profile, use_metrics), items, profile, threshold, max_iter)


def decide_epochs(
    scores: dict[str, np.ndarray],
    labels: Sequence[str],
    metrics: str | Profile = "paper",
    threshold: float = 3.0,
    max_iter: int | None = None,
) -> StepResult:
    """Step 2's decisions from the epoch metrics (:func:`~neurosig.eeg.faster.metrics.epoch_scores`).

    Raises
    ------
    DataError
        With fewer than 3 epochs.
    """
    profile = _profile(metrics)
    if len(labels) < 3:
        raise DataError(f"FASTER step 2 needs at least 3 epochs to z-score, got {len(labels)}.")
    return _decide("epochs", list(labels), scores, threshold, max_iter or profile.max_iter, profile)


def find_bad_components(
    sources: np.ndarray,
    maps: np.ndarray,
    sfreq: float,
    band: tuple[float, float],
    metrics: str | Profile = "paper",
    threshold: float = 3.0,
    max_iter: int | None = None,
    use_metrics: Sequence[str] | None = None,
    eog_scores: np.ndarray | None = None,
    eog_names: Sequence[str] = (),
) -> StepResult:
    """FASTER step 3: bad ICA components (arguments as in :func:`component_metrics`).

    Returns
    -------
    result : StepResult
        ``items`` are ``"ICA000"``, ``"ICA001"``, ...; EOG correlations appear as one metric
        ``eog_correlation:NAME`` per EOG channel. Without EOG scores the metric is skipped and a
        note says so.
    """
    profile = _profile(metrics)
    sources = check_finite("ICA sources", np.asarray(sources, dtype=np.float64))
    if sources.shape[0] < 3:
        raise DataError(f"FASTER step 3 needs at least 3 ICA components, got {sources.shape[0]}.")
    scores = component_metrics(sources, maps, sfreq, band, profile, use_metrics, eog_scores)
    notes = []
    if eog_scores is None and "eog_correlation" in _use(profile, "components", use_metrics):
        notes.append("no EOG channel: the eog_correlation metric was skipped")
        logger.info("FASTER step 3: %s.", notes[-1])
    items = [f"ICA{k:03d}" for k in range(sources.shape[0])]
    result = _decide("components", items, scores, threshold, max_iter or profile.max_iter, profile, notes)
    names = list(eog_names)
    for key in [k for k in result.scores if k.startswith("eog_correlation:")]:
        k = int(key.split(":")[1])
        new = f"eog_correlation:{names[k] if k < len(names) else k}"
        for part in (result.scores, result.z, result.flags):
            part[new] = part.pop(key)
    return result


def find_bad_channels_in_epochs(
    data: np.ndarray,
    sfreq: float,
    ch_names: Sequence[str] | None = None,
    metrics: str | Profile = "paper",
    threshold: float = 3.0,
    max_iter: int | None = None,
    use_metrics: Sequence[str] | None = None,
    channel_means: np.ndarray | None = None,
    ref_angles: np.ndarray | None = None,
) -> StepResult:
    """FASTER step 4: bad channels within each epoch (z-scored across channels, epoch by epoch).

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        EEG epochs in volts, good channels only.
    sfreq : float
        Sampling rate in Hz.
    ch_names, metrics, threshold, max_iter, use_metrics, ref_angles
        As in :func:`find_bad_channels`.
    channel_means : ndarray, shape (n_channels,) | None
        Reference channel means for ``deviation`` (default: over ``data``).

    Returns
    -------
    result : StepResult
        ``items`` are the channel names; arrays have shape (n_epochs, n_channels).
    """
    profile = _profile(metrics)
    data = _check_epochs(data, "epochs")
    names = list(ch_names) if ch_names is not None else [str(i) for i in range(data.shape[1])]
    scores = channel_in_epoch_metrics(data, sfreq, profile, use_metrics, channel_means)
    if ref_angles is not None:
        angles = np.asarray(ref_angles, dtype=np.float64)
        scores = {k: np.array([_reference_correction(r, angles) for r in v]) for k, v in scores.items()}
    return _decide("channels_in_epochs", names, scores, threshold, max_iter or profile.max_iter, profile)
