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
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import signal

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_finite, check_option
from neurosig.kernels.faster import (
    excess_kurtosis,
    hurst_diff,
    hurst_dispersional,
    median_gradient,
    series_stats,
)

__all__ = [
    "Profile",
    "PROFILES",
    "STEPS",
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
#: Line frequencies (Hz) whose summed Welch power is the ``line_noise`` metric, as in mne-faster.
LINE_FREQS = (50.0, 60.0)


@dataclass(frozen=True)
class Profile:
    """A FASTER metric profile: which metrics each step uses and how they are defined.

    Attributes
    ----------
    name : str
        ``"paper"`` or ``"mne-faster"``.
    metrics : dict of str to tuple of str
        Metric names per step (keys of :data:`STEPS`).
    center : {"median", "mean"}
        What is subtracted before dividing by the standard deviation.
    ddof : int
        Delta degrees of freedom of that standard deviation.
    max_iter : int
        Default number of passes of the outlier rule.
    paper_definitions : bool
        Use the paper's definitions of correlation (``|r|``), Hurst (dispersional), gradient (signed),
        deviation (absolute) and spectral slope (dB/Hz) instead of mne-faster's.
    """

    name: str
    metrics: dict[str, tuple[str, ...]]
    center: Literal["median", "mean"]
    ddof: int
    max_iter: int
    paper_definitions: bool


PROFILES: dict[str, Profile] = {
    "paper": Profile(
        "paper",
        {
            "channels": ("correlation", "variance", "hurst"),
            "epochs": ("amplitude", "variance", "deviation"),
            "components": ("eog_correlation", "kurtosis", "spectral_slope", "hurst", "median_gradient"),
            "channels_in_epochs": ("variance", "median_gradient", "amplitude", "deviation"),
        },
        center="median",
        ddof=1,
        max_iter=1,
        paper_definitions=True,
    ),
    "mne-faster": Profile(
        "mne-faster",
        {
            "channels": ("variance", "correlation", "hurst", "kurtosis", "line_noise"),
            "epochs": ("amplitude", "deviation", "variance"),
            "components": (
                "eog_correlation",
                "kurtosis",
                "power_gradient",
                "hurst",
                "median_gradient",
                "line_noise",
            ),
            "channels_in_epochs": ("amplitude", "deviation", "variance", "median_gradient", "line_noise"),
        },
        center="mean",
        ddof=0,
        max_iter=1,
        paper_definitions=False,
    ),
}


def _profile(metrics: str | Profile) -> Profile:
    if isinstance(metrics, Profile):
        return metrics
    return PROFILES[check_option("metrics", metrics, PROFILES)]


def _use(profile: Profile, step: str, use_metrics: Sequence[str] | None) -> tuple[str, ...]:
    allowed = profile.metrics[step]
    if use_metrics is None:
        return allowed
    for m in use_metrics:
        check_option(f"use_metrics (step {step!r}, profile {profile.name!r})", m, allowed)
    return tuple(use_metrics)


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
    data = np.asarray(data)
    if data.ndim != 3:
        raise DataError(
            f"FASTER {what} must be a 3-D array (n_epochs, n_channels, n_times), got {data.shape}."
        )
    n_ep, n_ch, n_t = data.shape
    if n_ch < min_channels:
        raise DataError(
            f"FASTER needs at least {min_channels} usable EEG channels to z-score across channels, "
            f"got {n_ch}; pick more channels or skip FASTER for this recording."
        )
    if n_ep < 1 or n_t < 8:
        raise DataError(f"FASTER needs at least one epoch of 8 samples or more, got shape {data.shape}.")
    data = check_finite(f"FASTER {what}", np.asarray(data, dtype=np.float64))
    flat = np.ptp(data, axis=2).max(axis=1) == 0
    if flat.any():
        raise DataError(
            f"FASTER {what}: epochs {np.flatnonzero(flat).tolist()} have zero variance on every channel "
            "(a gap or a disconnected amplifier?); drop them before FASTER."
        )
    return data


def _join_epochs(data: np.ndarray) -> np.ndarray:
    """``(n_epochs, n_channels, n_times)`` → ``(n_channels, n_epochs * n_times)``."""
    return data.transpose(1, 0, 2).reshape(data.shape[1], -1)


def _stats3d(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_ep, n_ch, n_t = data.shape
    mean, var, ptp = series_stats(data.reshape(-1, n_t))
    return mean.reshape(n_ep, n_ch), var.reshape(n_ep, n_ch), ptp.reshape(n_ep, n_ch)


def _welch(x: np.ndarray, sfreq: float) -> tuple[np.ndarray, np.ndarray]:
    """Welch spectrum with ~10-s non-overlapping windows (a power of two, capped at the data length)."""
    nperseg = min(x.shape[-1], 2 ** (int(np.log2(10 * sfreq)) + 1))
    return signal.welch(x, sfreq, nperseg=nperseg, noverlap=0, axis=-1)


def _line_noise(x: np.ndarray, sfreq: float) -> np.ndarray:
    """Summed Welch power density (V²/Hz) at the bins of :data:`LINE_FREQS`.

    The same numbers as ``scipy.signal.welch`` (Hann window, constant detrend, one-sided density,
    ~10-s segments without overlap) at the two bins only: one DFT row per bin instead of full FFTs.
    """
    nperseg = min(x.shape[-1], 2 ** (int(np.log2(10 * sfreq)) + 1))
    fs = np.fft.rfftfreq(nperseg, 1.0 / sfreq)
    idx = [int(np.searchsorted(fs, f)) for f in LINE_FREQS]
    if max(idx) >= len(fs):
        raise DataError(
            f"the line_noise metric needs power at {list(LINE_FREQS)} Hz, above Nyquist for sfreq={sfreq:g} "
            "Hz; leave 'line_noise' out of use_metrics."
        )
    n_seg = x.shape[-1] // nperseg
    seg = x[..., : n_seg * nperseg].reshape(*x.shape[:-1], n_seg, nperseg)
    window = signal.get_window("hann", nperseg)
    k = np.asarray(idx, dtype=np.float64)
    phase = 2 * np.pi * np.arange(nperseg)[:, None] * k[None, :] / nperseg
    basis = np.hstack([window[:, None] * np.cos(phase), window[:, None] * np.sin(phase)])
    # The DFT of a mean-removed segment is the DFT of the segment minus its mean times the window's.
    parts = seg @ basis - seg.mean(axis=-1, keepdims=True) * basis.sum(axis=0)
    power = (parts[..., :2] ** 2 + parts[..., 2:] ** 2) / (sfreq * np.sum(window**2))
    one_sided = np.where((k > 0) & (k < nperseg / 2.0), 2.0, 1.0)
    power = (power * one_sided).mean(axis=-2)
    return power[..., 0] + power[..., 1]


def _mean_correlation(x: np.ndarray, absolute: bool) -> np.ndarray:
    r = np.corrcoef(x)
    if absolute:
        r = np.abs(r)
    np.fill_diagonal(r, 0.0)
    return r.sum(axis=0) / (len(x) - 1)


def _hurst(x: np.ndarray, paper: bool) -> np.ndarray:
    return hurst_dispersional(x) if paper else hurst_diff(x)


# -- metrics ----------------------------------------------------------------------------------


def channel_metrics(
    data: np.ndarray, sfreq: float, metrics: str | Profile = "paper", use_metrics: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Step-1 metrics of each channel over all epochs joined in time.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        EEG in volts; no channel may be constant.
    sfreq : float
        Sampling rate in Hz.
    metrics : {"paper", "mne-faster"}
        The profile.
    use_metrics : list of str | None
        A subset of the profile's step-1 metrics.

    Returns
    -------
    scores : dict of str to ndarray, shape (n_channels,)
        ``correlation`` (mean r with the other channels, dimensionless), ``variance`` (V²), ``hurst``
        (dimensionless), ``kurtosis`` (excess), ``line_noise`` (V²/Hz at 50 + 60 Hz).
    """
    profile = _profile(metrics)
    x = _join_epochs(np.asarray(data, dtype=np.float64))
    paper = profile.paper_definitions
    out = {}
    for name in _use(profile, "channels", use_metrics):
        if name == "variance":
            out[name] = series_stats(x)[1]
        elif name == "correlation":
            out[name] = _mean_correlation(x, absolute=paper)
        elif name == "hurst":
            out[name] = _hurst(x, paper)
        elif name == "kurtosis":
            out[name] = excess_kurtosis(x)
        else:
            out[name] = _line_noise(x, sfreq)
    return out


def epoch_metrics(
    data: np.ndarray,
    metrics: str | Profile = "paper",
    use_metrics: Sequence[str] | None = None,
    channel_means: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Step-2 metrics of each epoch, averaged over channels.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        EEG in volts (good channels only).
    metrics : {"paper", "mne-faster"}
        The profile.
    use_metrics : list of str | None
        A subset of the profile's step-2 metrics.
    channel_means : ndarray, shape (n_channels,) | None
        Each channel's mean over epochs (V), the reference of ``deviation``; default: from ``data``
        (online FASTER passes the calibration's).

    Returns
    -------
    scores : dict of str to ndarray, shape (n_epochs,)
        ``amplitude`` (mean peak-to-peak, V), ``variance`` (mean, V²), ``deviation`` (mean deviation
        of the epoch's channel means from the channel means, V; absolute in the paper profile).
    """
    profile = _profile(metrics)
    mean, var, ptp = _stats3d(np.asarray(data, dtype=np.float64))
    out = {}
    for name in _use(profile, "epochs", use_metrics):
        if name == "amplitude":
            out[name] = ptp.mean(axis=1)
        elif name == "variance":
            out[name] = var.mean(axis=1)
        else:
            ref = mean.mean(axis=0) if channel_means is None else np.asarray(channel_means)
            dev = mean - ref
            out[name] = (np.abs(dev) if profile.paper_definitions else dev).mean(axis=1)
    return out


def channel_in_epoch_metrics(
    data: np.ndarray,
    sfreq: float,
    metrics: str | Profile = "paper",
    use_metrics: Sequence[str] | None = None,
    channel_means: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Step-4 metrics of each channel within each epoch.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        EEG in volts.
    sfreq : float
        Sampling rate in Hz.
    metrics : {"paper", "mne-faster"}
        The profile.
    use_metrics : list of str | None
        A subset of the profile's step-4 metrics.
    channel_means : ndarray, shape (n_channels,) | None
        Reference channel means for ``deviation`` (V); default: from ``data``.

    Returns
    -------
    scores : dict of str to ndarray, shape (n_epochs, n_channels)
        ``variance`` (V²), ``median_gradient`` (V/sample), ``amplitude`` (V), ``deviation`` (V),
        ``line_noise`` (V²/Hz).
    """
    profile = _profile(metrics)
    data = np.asarray(data, dtype=np.float64)
    n_ep, n_ch, n_t = data.shape
    mean, var, ptp = _stats3d(data)
    paper = profile.paper_definitions
    out = {}
    for name in _use(profile, "channels_in_epochs", use_metrics):
        if name == "amplitude":
            out[name] = ptp
        elif name == "variance":
            out[name] = var
        elif name == "deviation":
            ref = mean.mean(axis=0) if channel_means is None else np.asarray(channel_means)
            out[name] = np.abs(mean - ref) if paper else mean - ref
        elif name == "median_gradient":
            out[name] = median_gradient(data.reshape(-1, n_t), absolute=not paper).reshape(n_ep, n_ch)
        else:
            out[name] = _line_noise(data, sfreq)
    return out


def eog_correlation(sources: np.ndarray, eog: np.ndarray) -> np.ndarray:
    """Pearson correlation of every component time course with every EOG channel.

    Parameters
    ----------
    sources : ndarray, shape (n_components, n_samples)
        Component time courses.
    eog : ndarray, shape (n_eog, n_samples)
        EOG signals (V).

    Returns
    -------
    r : ndarray, shape (n_eog, n_components)
        Signed correlations (dimensionless); 0 where a series is constant.
    """
    s = sources - sources.mean(axis=1, keepdims=True)
    e = eog - eog.mean(axis=1, keepdims=True)
    norm = np.outer(np.linalg.norm(e, axis=1), np.linalg.norm(s, axis=1))
    return np.divide(e @ s.T, norm, out=np.zeros(norm.shape), where=norm > 0)


def component_metrics(
    sources: np.ndarray,
    maps: np.ndarray,
    sfreq: float,
    band: tuple[float, float],
    metrics: str | Profile = "paper",
    use_metrics: Sequence[str] | None = None,
    eog_scores: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Step-3 metrics of each ICA component.

    Parameters
    ----------
    sources : ndarray, shape (n_components, n_samples)
        Component time courses (epochs joined in time).
    maps : ndarray, shape (n_channels, n_components)
        Component scalp maps (mixing columns).
    sfreq : float
        Sampling rate in Hz.
    band : (float, float)
        The pass band in Hz of the data (high-pass, low-pass): where the spectral slope is taken.
    metrics : {"paper", "mne-faster"}
        The profile.
    use_metrics : list of str | None
        A subset of the profile's step-3 metrics.
    eog_scores : ndarray, shape (n_eog, n_components) | None
        Correlations with the EOG channels (see :func:`eog_correlation`); ``None`` when the montage
        has no EOG, which leaves ``eog_correlation`` out.

    Returns
    -------
    scores : dict of str to ndarray
        ``eog_correlation`` (shape (n_eog, n_components): ``|r|`` in the paper profile, signed r in
        mne-faster's), ``kurtosis`` (spatial, of the maps), ``spectral_slope`` (dB/Hz, paper),
        ``power_gradient`` (mean first difference of the Welch spectrum, mne-faster), ``hurst``,
        ``median_gradient``, ``line_noise``; every other entry has shape (n_components,).
    """
    profile = _profile(metrics)
    x = np.asarray(sources, dtype=np.float64)
    paper = profile.paper_definitions
    out = {}
    for name in _use(profile, "components", use_metrics):
        if name == "eog_correlation":
            if eog_scores is not None:
                r = np.atleast_2d(np.asarray(eog_scores, dtype=np.float64))
                out[name] = np.abs(r) if paper else r
        elif name == "kurtosis":
            out[name] = excess_kurtosis(np.asarray(maps, dtype=np.float64).T)
        elif name in ("spectral_slope", "power_gradient"):
            out[name] = _spectral_slope(x, sfreq, band, db=name == "spectral_slope")
        elif name == "hurst":
            out[name] = _hurst(x, paper)
        elif name == "median_gradient":
            out[name] = median_gradient(x, absolute=not paper)
        else:
            out[name] = _line_noise(x, sfreq)
    return out


def _spectral_slope(x: np.ndarray, sfreq: float, band: tuple[float, float], db: bool) -> np.ndarray:
    fs, ps = _welch(x, sfreq)
    start, stop = (int(np.searchsorted(fs, f)) for f in band)
    if stop - start < 2:
        raise DataError(
            f"the spectral slope needs at least two Welch bins between {band[0]} and {band[1]} Hz "
            f"(sfreq={sfreq:g} Hz, {x.shape[-1]} samples); pass a wider band or longer data."
        )
    ps = ps[:, start:stop]
    if not db:
        return np.mean(np.diff(ps), axis=1)
    tiny = np.finfo(np.float64).tiny
    level = 10.0 * np.log10(np.maximum(ps, tiny))
    return np.mean(np.diff(level), axis=1) / (fs[1] - fs[0])


# -- decisions and the report -----------------------------------------------------------------


def _jsonable(a: np.ndarray) -> Any:
    a = np.asarray(a, dtype=np.float64)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


@dataclass
class StepResult:
    """The decisions of one FASTER step, with every metric's scores and z-scores.

    Attributes
    ----------
    step : str
        One of :data:`STEPS`.
    items : list of str
        The items scored: channel names, epoch labels or component names (step 4: channel names;
        its arrays have a leading epoch axis).
    scores, z : dict of str to ndarray
        Per metric, the score and the decisive z-score of every item (see :func:`find_outliers`).
        The ``eog_correlation:NAME`` metrics hold one EOG channel each; the ``constant`` metric of
        step 1 flags channels that never change (z = inf there, not a z-score).
    flags : dict of str to ndarray of bool
        Per metric, the items it flagged.
    threshold : float
        The ``|z|`` threshold used.
    notes : list of str
        What was skipped and why (e.g. no EOG channel).
    """

    step: str
    items: list[str]
    scores: dict[str, np.ndarray]
    z: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]
    threshold: float
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> np.ndarray:
        """Items flagged by any metric (bool; shape (n_items,), or (n_epochs, n_channels) in step 4)."""
        shape = next(iter(self.flags.values())).shape if self.flags else (len(self.items),)
        out = np.zeros(shape, dtype=bool)
        for f in self.flags.values():
            out |= f
        return out

    def bad_items(self) -> list[str] | list[list[str]]:
        """Names of the flagged items (step 4: one list per epoch)."""
        bad = self.bad
        if bad.ndim == 2:
            return [[self.items[j] for j in np.flatnonzero(row)] for row in bad]
        return [self.items[j] for j in np.flatnonzero(bad)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (non-finite numbers become ``null``)."""
        return {
            "step": self.step,
            "items": list(self.items),
            "threshold": self.threshold,
            "notes": list(self.notes),
            "metrics": {
                m: {
                    "score": _jsonable(self.scores[m]),
                    "z": _jsonable(self.z[m]),
                    "bad": np.asarray(self.flags[m]).tolist(),
                }
                for m in self.scores
            },
            "bad": self.bad_items(),
        }


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


@dataclass
class FasterReport:
    """Everything FASTER decided, and why.

    Attributes
    ----------
    metrics : str
        The profile name.
    steps : dict of str to StepResult
        Per step (keys of :data:`STEPS` that ran).
    kept_epochs : list of int
        Indices (in the input) of the epochs kept.
    interpolated : dict of int to list of str
        Output epoch index → channels interpolated in it (step-1 bad channels included).
    ica : dict
        ``random_state`` (the seed), ``method``, ``n_components`` and ``excluded`` components;
        empty when ICA did not run.
    """

    metrics: str
    steps: dict[str, StepResult]
    kept_epochs: list[int]
    interpolated: dict[int, list[str]] = field(default_factory=dict)
    ica: dict[str, Any] = field(default_factory=dict)

    @property
    def bad_channels(self) -> list[str]:
        """Channels flagged in step 1."""
        return list(self.steps["channels"].bad_items()) if "channels" in self.steps else []

    @property
    def bad_epochs(self) -> list[int]:
        """Input indices of the epochs dropped in step 2."""
        if "epochs" not in self.steps:
            return []
        return [int(i) for i in np.flatnonzero(self.steps["epochs"].bad)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the rejection log stored beside the cleaned epochs)."""
        return {
            "metrics": self.metrics,
            "bad_channels": self.bad_channels,
            "bad_epochs": self.bad_epochs,
            "kept_epochs": list(self.kept_epochs),
            "interpolated": {str(k): v for k, v in self.interpolated.items()},
            "ica": dict(self.ica),
            "steps": {k: v.to_dict() for k, v in self.steps.items()},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""

        return json.dumps(self.to_dict())

    def summary(self) -> str:
        """A markdown table: per step and metric, the threshold and what it flagged."""
        lines = ["| step | metric | threshold | flagged | items |", "|---|---|---|---|---|"]
        for name, res in self.steps.items():
            for metric, flags in res.flags.items():
                if flags.ndim == 2:
                    items = f"{int(flags.any(axis=1).sum())} epochs"
                else:
                    items = ", ".join(res.items[i] for i in np.flatnonzero(flags)) or "-"
                lines.append(f"| {name} | {metric} | {res.threshold:g} | {int(flags.sum())} | {items} |")
            for note in res.notes:
                lines.append(f"| {name} | (note) | | | {note} |")
        if self.ica:
            lines.append(f"| components | ICA seed | | | random_state={self.ica.get('random_state')} |")
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """Write a PNG: z-scores per channel / epoch / component with ±threshold, and step 4's map.

        Parameters
        ----------
        path : str | Path
            The PNG file to write.

        Returns
        -------
        path : Path
            The file written.
        """
        from matplotlib.figure import Figure

        path = Path(path)
        fig = Figure(figsize=(11, 2.8 * max(1, len(self.steps))), layout="constrained")
        axes = fig.subplots(max(1, len(self.steps)), 1, squeeze=False)[:, 0]
        for ax, (name, res) in zip(axes, self.steps.items(), strict=False):
            if next(iter(res.z.values())).ndim == 2:
                worst = np.max([np.abs(np.nan_to_num(z, posinf=0.0)) for z in res.z.values()], axis=0)
                im = ax.imshow(
                    worst.T, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest"
                )
                bad = res.bad
                ep, ch = np.nonzero(bad)
                ax.scatter(ep, ch, marker="x", color="red", s=12, label="interpolated")
                fig.colorbar(im, ax=ax, label="max |z| over metrics")
                ax.set_xlabel("epoch")
                ax.set_ylabel("channel")
                ax.set_title(f"{name}: threshold {res.threshold:g}")
                continue
            x = np.arange(len(res.items))
            for metric, z in res.z.items():
                zz = np.clip(np.nan_to_num(z, posinf=10 * res.threshold), -10 * res.threshold, None)
                ax.plot(x, zz, ".", label=metric)
            ax.axhline(res.threshold, color="k", ls="--", lw=0.8)
            ax.axhline(-res.threshold, color="k", ls="--", lw=0.8)
            for i in np.flatnonzero(res.bad):
                ax.axvline(i, color="red", alpha=0.25, lw=3)
            if len(res.items) <= 70:
                ax.set_xticks(x, res.items, rotation=90, fontsize=6)
            ax.set_ylabel("z")
            ax.set_title(f"{name}: {len(np.flatnonzero(res.bad))} flagged (|z| > {res.threshold:g})")
            ax.legend(fontsize=6, ncol=3, loc="upper right")
        fig.savefig(path, dpi=100)
        return path

    def save(self, directory: str | Path, stem: str = "faster") -> dict[str, Path]:
        """Write ``STEM_report.json``, ``STEM_report.md`` and ``STEM_report.png`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        out = {
            "json": directory / f"{stem}_report.json",
            "md": directory / f"{stem}_report.md",
            "png": directory / f"{stem}_report.png",
        }
        out["json"].write_text(self.to_json())
        out["md"].write_text(self.summary() + "\n")
        self.plot(out["png"])
        return out


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
