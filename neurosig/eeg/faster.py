"""FASTER: fully automated statistical thresholding for EEG artifact rejection.

Nolan, Whelan & Reilly (2010), J Neurosci Methods 192:152–162. Four steps, each computes a few metrics
per item, turns every metric into z-scores and flags items with ``|z| > threshold``:

============================ ==================================== ==============================
step                         items                                paper metrics
============================ ==================================== ==============================
1 ``channels``               channels (epochs joined in time)     correlation, variance, Hurst
2 ``epochs``                 epochs (good channels)               amplitude, variance, deviation
3 ``components``             ICA components                       EOG correlation, kurtosis,
                                                                  spectral slope, Hurst, gradient
4 ``channels_in_epochs``     channels, separately in each epoch   variance, gradient, amplitude,
                                                                  deviation
============================ ==================================== ==============================

Two metric profiles (``metrics=``):

``"paper"`` (default)
    The paper's definitions: z = (x − median) / std (sample std), mean ``|r|`` correlation, Hurst by
    dispersional analysis, signed median gradient, absolute deviation, spectral slope in dB/Hz
    over the pass band.
``"mne-faster"``
    The mne-faster 1.2.2 package's metric set and definitions, giving the same decisions: mean-centred
    z with population std, signed correlation, Hurst from second differences, median ``|diff|``,
    signed deviation, mean first difference of the linear Welch spectrum, plus kurtosis and line
    noise (50 + 60 Hz) where mne-faster has them.

Array functions do the work; :func:`run_faster` applies all four steps to an :class:`mne.Epochs`
(ICA seeded by ``random_state``, channels interpolated with spherical splines through MNE's public
``interpolate_bads``) and returns the cleaned epochs with a :class:`FasterReport`.

Bad input: NaN or infinite samples and epochs in which every channel is constant raise
:class:`~neurosig.core.errors.DataError`; so do fewer than 3 usable channels or epochs. A channel that
is constant over the whole recording is flagged bad in step 1 under the metric ``"constant"`` and left
out of the other channel metrics (their z-scores would divide by zero).

The code is split in three modules; this one re-exports the public names of the other two, so
``from neurosig.eeg.faster import ...`` reaches all of FASTER:

- :mod:`neurosig.eeg.faster_metrics`: the profiles (:class:`Profile`, :data:`PROFILES`) and the
  per-item metrics of each step (:func:`channel_metrics`, :func:`epoch_metrics`,
  :func:`component_metrics`, :func:`channel_in_epoch_metrics`, :func:`eog_correlation`);
- :mod:`neurosig.eeg.faster_report`: :class:`StepResult` and :class:`FasterReport`;
- here: the outlier rule (:func:`find_outliers`), the four step functions, seeded ICA,
  spherical-spline interpolation and :func:`run_faster`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_epochs_array, check_finite, check_option
from neurosig.eeg.faster_metrics import (
    LINE_FREQS,
    PROFILES,
    Profile,
    _join_epochs,
    _profile,
    _use,
    channel_in_epoch_metrics,
    channel_metrics,
    component_metrics,
    eog_correlation,
    epoch_metrics,
)
from neurosig.eeg.faster_report import FasterReport, StepResult

__all__ = [
    "Profile",
    "PROFILES",
    "STEPS",
    "LINE_FREQS",
    "find_outliers",
    "StepResult",
    "FasterReport",
    "channel_metrics",
    "epoch_metrics",
    "component_metrics",
    "channel_in_epoch_metrics",
    "find_bad_channels",
    "find_bad_epochs",
    "find_bad_components",
    "find_bad_channels_in_epochs",
    "eog_correlation",
    "fit_ica",
    "find_bad_components_ica",
    "interpolation_matrix",
    "interpolate_channels_in_epochs",
    "run_faster",
]

logger = logging.getLogger(__name__)

STEPS = ("channels", "epochs", "components", "channels_in_epochs")
MetricsName = Literal["paper", "mne-faster"]


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


def _check_epochs(data: np.ndarray, what: str = "epochs", min_channels: int = 3) -> np.ndarray:
    """Validate a ``(n_epochs, n_channels, n_times)`` array and return it as float64."""
    hint = "FASTER z-scores across usable EEG channels; pick more channels or skip FASTER for this recording"
    data = check_epochs_array(data, f"FASTER {what}", min_channels=min_channels, min_times=8, hint=hint)
    data = check_finite(f"FASTER {what}", np.asarray(data, dtype=np.float64))
    flat = np.ptp(data, axis=2).max(axis=1) == 0
    if flat.any():
        raise DataError(
            f"FASTER {what}: epochs {np.flatnonzero(flat).tolist()} have zero variance on every channel "
            "(a gap or a disconnected amplifier?); drop them before FASTER."
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
    constant = np.ptp(_join_epochs(data), axis=1) == 0
    usable = np.flatnonzero(~constant)
    if len(usable) < 3:
        raise DataError(
            f"FASTER needs at least 3 non-constant EEG channels, got {len(usable)} of {len(names)}; "
            "check the recording (disconnected cap?) or skip FASTER for it."
        )
    scores = channel_metrics(data[:, usable], sfreq, profile, use_metrics)
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
    if data.shape[0] < 3:
        raise DataError(f"FASTER step 2 needs at least 3 epochs to z-score, got {data.shape[0]}.")
    items = list(labels) if labels is not None else [str(i) for i in range(data.shape[0])]
    scores = epoch_metrics(data, profile, use_metrics)
    return _decide("epochs", items, scores, threshold, max_iter or profile.max_iter, profile)


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


# -- ICA, interpolation and the whole run (MNE objects) ---------------------------------------


def fit_ica(
    epochs: Any,
    picks: Sequence[str],
    n_components: int | float | None = None,
    method: Literal["fastica", "infomax", "picard"] = "infomax",
    random_state: int = 0,
) -> Any:
    """Fit a seeded ICA on the given channels of an :class:`mne.Epochs`.

    Parameters
    ----------
    epochs : mne.Epochs
        The epochs (volts).
    picks : list of str
        Channels to decompose (the good EEG channels).
    n_components : int | float | None
        As in :class:`mne.preprocessing.ICA` (``None``: as many as channels, up to the data rank).
    method : {"fastica", "infomax", "picard"}
        The ICA algorithm: infomax (default) as in the FASTER paper (EEGLAB's runica); ``picard``
        needs the python-picard package.
    random_state : int
        The seed; the same seed gives the same decomposition.

    Returns
    -------
    ica : mne.preprocessing.ICA
        The fitted decomposition.
    """
    import inspect

    import mne

    # MNE 1.13 names the seed ``rng``; older releases ``random_state``.
    seed_name = "rng" if "rng" in inspect.signature(mne.preprocessing.ICA).parameters else "random_state"
    ica = mne.preprocessing.ICA(
        n_components=n_components, method=method, max_iter="auto", **{seed_name: random_state}
    )
    return ica.fit(epochs, picks=list(picks), verbose="error")


def find_bad_components_ica(
    ica: Any,
    epochs: Any,
    metrics: str | Profile = "paper",
    threshold: float = 3.0,
    max_iter: int | None = None,
    use_metrics: Sequence[str] | None = None,
    band: tuple[float, float] | None = None,
) -> StepResult:
    """FASTER step 3 on a fitted :class:`mne.preprocessing.ICA` and its epochs.

    EOG channels of ``epochs`` (type ``eog``) give the EOG correlations: plain Pearson r of each
    component with each EOG channel in the paper profile, ``ICA.find_bads_eog`` scores (1–10 Hz) in the
    mne-faster profile. Without EOG channels that metric is skipped with a note.

    Parameters
    ----------
    ica : mne.preprocessing.ICA
        Fitted on ``epochs``.
    epochs : mne.Epochs
        The epochs the ICA was fitted on.
    metrics, threshold, max_iter, use_metrics
        As in :func:`find_bad_components`.
    band : (float, float) | None
        Pass band in Hz for the spectral slope; default ``(info["highpass"], info["lowpass"])``.

    Returns
    -------
    result : StepResult
    """
    import mne

    profile = _profile(metrics)
    src = ica.get_sources(epochs).get_data(copy=True)
    sources = _join_epochs(src)
    band = band or (ica.info["highpass"], ica.info["lowpass"])
    eog_picks = mne.pick_types(epochs.info, meg=False, eeg=False, eog=True, exclude="bads")
    eog_names = [epochs.ch_names[i] for i in eog_picks]
    eog_scores = None
    wanted = _use(profile, "components", use_metrics)
    if len(eog_picks) and "eog_correlation" in wanted:
        if profile.paper_definitions:
            eog_scores = eog_correlation(sources, _join_epochs(epochs.get_data(picks=eog_picks)))
        else:
            eog_scores = np.atleast_2d(ica.find_bads_eog(epochs, verbose="error")[1])
    return find_bad_components(
        sources,
        ica.get_components(),
        ica.info["sfreq"],
        band,
        profile,
        threshold,
        max_iter,
        use_metrics,
        eog_scores,
        eog_names,
    )


def interpolation_matrix(info: Any, bads: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spherical-spline interpolation of ``bads`` from the other EEG channels, as a matrix.

    MNE's ``interpolate_bads`` is linear in the data, so interpolating an identity signal through
    the public API gives its matrix once per set of bad channels.

    Parameters
    ----------
    info : mne.Info
        With channel positions (a montage).
    bads : list of str
        The channels to interpolate.

    Returns
    -------
    good_idx, bad_idx : ndarray of int
        Indices (in ``info``) of the EEG channels used and of those interpolated.
    matrix : ndarray, shape (n_bad, n_good)
        ``data[bad_idx] = matrix @ data[good_idx]``.
    """
    import mne

    info = info.copy()
    eeg = mne.pick_types(info, meg=False, eeg=True, exclude=[])
    names = [info.ch_names[i] for i in eeg]
    missing = [c for c in bads if c not in names]
    if missing:
        raise DataError(f"cannot interpolate {missing}: not EEG channels of this recording.")
    bad_idx = np.array([info.ch_names.index(c) for c in bads], dtype=int)
    good_idx = np.array([i for i in eeg if info.ch_names[i] not in set(bads)], dtype=int)
    pos = np.array([info["chs"][i]["loc"][:3] for i in eeg])
    if not np.all(np.isfinite(pos)) or np.any(np.all(pos == 0, axis=1)):
        raise DataError(
            "interpolating channels needs their positions; set a montage first "
            "(e.g. raw.set_montage('standard_1005')) or pass interpolate=False."
        )
    probe = np.zeros((len(info.ch_names), len(good_idx)))
    probe[good_idx, np.arange(len(good_idx))] = 1.0
    info["bads"] = list(bads)
    evoked = mne.EvokedArray(probe, info, verbose="error")
    evoked.interpolate_bads(reset_bads=True, verbose="error")
    return good_idx, bad_idx, evoked.data[bad_idx]


def interpolate_channels_in_epochs(
    data: np.ndarray, info: Any, bad: np.ndarray
) -> tuple[np.ndarray, dict[int, list[str]]]:
    """Interpolate, epoch by epoch, the channels flagged in ``bad`` (spherical splines).

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        Epochs in volts, channels as in ``info``.
    info : mne.Info
        With a montage.
    bad : ndarray of bool, shape (n_epochs, n_channels)
        Channels to replace in each epoch.

    Returns
    -------
    clean : ndarray, shape (n_epochs, n_channels, n_times)
        A copy with the flagged channels interpolated (one matrix per distinct set of bad channels).
    interpolated : dict of int to list of str
        Epoch index → interpolated channels, for epochs that had any.
    """
    clean = np.array(data, dtype=np.float64, copy=True)
    cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    done = {}
    for e in np.flatnonzero(bad.any(axis=1)):
        key = tuple(np.flatnonzero(bad[e]).tolist())
        if key not in cache:
            cache[key] = interpolation_matrix(info, [info.ch_names[i] for i in key])
        good_idx, bad_idx, matrix = cache[key]
        clean[e, bad_idx] = matrix @ clean[e, good_idx]
        done[int(e)] = [info.ch_names[i] for i in key]
    return clean, done


def _ref_angles(info: Any, names: Sequence[str], reference: str | None) -> np.ndarray | None:
    if reference is None:
        return None
    from neurosig.eeg.montage import standard_montage

    pos = {info.ch_names[i]: info["chs"][i]["loc"][:3] for i in range(len(info.ch_names))}
    # The reference is usually not a recorded channel: look it up among the channels, then in the
    # 10-05 template (both in MNE's head frame).
    known = {k.lower(): v for k, v in standard_montage().get_positions()["ch_pos"].items()}
    known.update({k.lower(): v for k, v in pos.items() if np.any(v)})
    ref = known.get(reference.lower())
    if ref is None:
        raise ConfigError(
            f"reference={reference!r} has no known position; name a 10-05 electrode (e.g. 'Cz') or pass "
            "reference=None (average or linked references need no correction)."
        )
    p = np.array([pos[n] for n in names])
    p = p / np.linalg.norm(p, axis=1, keepdims=True)
    r = np.asarray(ref) / np.linalg.norm(ref)
    return np.arccos(np.clip(p @ r, -1.0, 1.0))


def run_faster(
    epochs: Any,
    metrics: MetricsName = "paper",
    threshold: float = 3.0,
    thresholds: dict[str, float] | None = None,
    max_iter: int | None = None,
    use_metrics: dict[str, Sequence[str]] | None = None,
    ica: bool = True,
    n_components: int | float | None = None,
    ica_method: Literal["fastica", "infomax", "picard"] = "infomax",
    random_state: int = 0,
    band: tuple[float, float] | None = None,
    reference: str | None = None,
    interpolate: bool = True,
) -> tuple[Any, FasterReport]:
    """Run the four FASTER steps on an :class:`mne.Epochs`.

    1. bad channels (over all epochs); 2. bad epochs (dropped); 3. ICA on the good channels of the
    kept epochs, bad components removed; 4. bad channels within each epoch. Finally every epoch's
    step-4 channels, and the step-1 channels in every epoch, are interpolated with spherical splines.

    Parameters
    ----------
    epochs : mne.Epochs
        EEG epochs in volts with a montage (for interpolation); EOG channels, if any, feed step 3.
        Channels already in ``info["bads"]`` are left out of every step and interpolated.
    metrics : {"paper", "mne-faster"}
        The metric profile (see the module docstring).
    threshold : float
        ``|z|`` threshold of every step (the paper: 3).
    thresholds : dict of str to float | None
        Per-step overrides, e.g. ``{"channels": 5}`` (mne-faster's ``run_faster`` uses 5 there).
    max_iter : int | None
        Passes of the outlier rule (default: the profile's, 1).
    use_metrics : dict of str to list of str | None
        Per-step metric subsets, keys from :data:`STEPS`.
    ica : bool
        Run step 3.
    n_components : int | float | None
        ICA components (``None``: as many as good channels).
    ica_method : {"fastica", "infomax", "picard"}
        ICA algorithm.
    random_state : int
        ICA seed, reported in ``report.ica``.
    band : (float, float) | None
        Pass band in Hz for the spectral slope (default: the info's high-pass and low-pass).
    reference : str | None
        Reference electrode for the distance correction of steps 1 and 4 (``None``: no correction).
    interpolate : bool
        Interpolate the bad channels (needs channel positions).

    Returns
    -------
    clean : mne.EpochsArray
        The kept epochs, ICA-cleaned and interpolated; ``info["bads"]`` empty when interpolated.
    report : FasterReport
        Every score, z-score and decision.
    """
    import mne

    profile = _profile(metrics)
    thr = {step: threshold for step in STEPS} | dict(thresholds or {})
    for step in thr:
        check_option("thresholds key", step, STEPS)
    use = dict(use_metrics or {})
    for step in use:
        check_option("use_metrics key", step, STEPS)
    info = epochs.info
    sfreq = info["sfreq"]
    prior = list(info["bads"])
    eeg = [info.ch_names[i] for i in mne.pick_types(info, meg=False, eeg=True, exclude=prior)]
    steps: dict[str, StepResult] = {}

    data = epochs.get_data(picks=eeg)
    steps["channels"] = find_bad_channels(
        data, sfreq, eeg, profile, thr["channels"], max_iter, use.get("channels"),
        _ref_angles(info, eeg, reference),
    )  # fmt: skip
    bad_channels = prior + list(steps["channels"].bad_items())
    good = [c for c in eeg if c not in bad_channels]
    good_idx = [eeg.index(c) for c in good]
    labels = [str(i) for i in range(len(epochs))]
    steps["epochs"] = find_bad_epochs(
        data[:, good_idx], labels, profile, thr["epochs"], max_iter, use.get("epochs")
    )
    kept = [int(i) for i in np.flatnonzero(~steps["epochs"].bad)]
    cleaned = epochs[kept].copy() if len(kept) < len(epochs) else epochs.copy()
    cleaned.info["bads"] = list(bad_channels)

    ica_info: dict[str, Any] = {}
    if ica:
        decomposition = fit_ica(cleaned, good, n_components, ica_method, random_state)
        steps["components"] = find_bad_components_ica(
            decomposition, cleaned, profile, thr["components"], max_iter, use.get("components"), band
        )
        excluded = [int(i) for i in np.flatnonzero(steps["components"].bad)]
        decomposition.apply(cleaned, exclude=excluded, verbose="error")
        ica_info = {
            "random_state": random_state,
            "method": ica_method,
            "n_components": int(decomposition.n_components_),
            "excluded": excluded,
        }

    kept_data = cleaned.get_data(picks=good)
    steps["channels_in_epochs"] = find_bad_channels_in_epochs(
        kept_data, sfreq, good, profile, thr["channels_in_epochs"], max_iter,
        use.get("channels_in_epochs"), ref_angles=_ref_angles(info, good, reference),
    )  # fmt: skip
    out = cleaned.get_data()
    interpolated: dict[int, list[str]] = {}
    if interpolate:
        bad = np.zeros((len(kept), len(info.ch_names)), dtype=bool)
        bad[:, [info.ch_names.index(c) for c in bad_channels]] = True
        in_epoch = steps["channels_in_epochs"].bad
        bad[:, [info.ch_names.index(c) for c in good]] |= in_epoch
        out, interpolated = interpolate_channels_in_epochs(out, cleaned.info, bad)
    out_info = cleaned.info.copy()
    out_info["bads"] = [] if interpolate else list(bad_channels)
    clean = mne.EpochsArray(
        out, out_info, events=cleaned.events, tmin=cleaned.tmin, event_id=cleaned.event_id,
        baseline=None, verbose="error",
    )  # fmt: skip
    report = FasterReport(profile.name, steps, kept, interpolated, ica_info)
    return clean, report
