"""FASTER's metric profiles and the per-item metrics of its four steps, on arrays.

Nolan, Whelan & Reilly (2010), J Neurosci Methods 192:152–162. Each function scores every item of one
step; :mod:`neurosig.eeg.faster` z-scores these scores and decides. Input arrays are EEG in volts,
``(n_epochs, n_channels, n_times)`` for the channel and epoch steps and ``(n_components, n_samples)``
component time courses for the ICA step; sampling rates and pass bands are in Hz.

- :class:`Profile`, :data:`PROFILES`: which metrics each step uses and how they are defined
  (``"paper"`` or ``"mne-faster"``; see :mod:`neurosig.eeg.faster`).
- :func:`channel_metrics` (step 1): correlation (dimensionless), variance (V²), Hurst exponent
  (dimensionless), excess kurtosis, line noise (V²/Hz at :data:`LINE_FREQS`).
- :func:`epoch_metrics` (step 2): amplitude range (V), variance (V²), deviation (V).
- :func:`component_metrics` (step 3), with :func:`eog_correlation`: EOG correlation (dimensionless),
  spatial kurtosis of the maps, spectral slope (dB/Hz) or power gradient (mean first difference of the
  Welch spectrum), Hurst, median gradient, line noise; components are in ICA source units, not volts.
- :func:`channel_in_epoch_metrics` (step 4): variance (V²), median gradient (V/sample), amplitude (V),
  deviation (V), line noise (V²/Hz).

The hot loops (Hurst, median gradient, per-series statistics, kurtosis) are Numba kernels in
:mod:`neurosig.kernels.faster`. This module imports nothing from the rest of FASTER; the input checks
(:class:`~neurosig.core.errors.DataError` on bad data) happen in the step functions of
:mod:`neurosig.eeg.faster`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import signal

from neurosig.core.errors import DataError
from neurosig.core.validate import check_option
from neurosig.kernels.faster import (
    excess_kurtosis,
    hurst_diff,
    hurst_dispersional,
    median_gradient,
    series_stats,
)

__all__ = [
    "LINE_FREQS",
    "Profile",
    "PROFILES",
    "channel_metrics",
    "epoch_metrics",
    "component_metrics",
    "channel_in_epoch_metrics",
    "eog_correlation",
    "channel_means",
    "epoch_scores",
    "mean_correlation",
]

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
        Metric names per step (keys of :data:`~neurosig.eeg.faster.STEPS`).
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


# -- helpers ----------------------------------------------------------------------------------


def _join_epochs(data: np.ndarray) -> np.ndarray:
    """``(n_epochs, n_channels, n_times)`` → ``(n_channels, n_epochs * n_times)``."""
    return data.transpose(1, 0, 2).reshape(data.shape[1], -1)


def _per_series(kernel, data: np.ndarray, *args) -> np.ndarray | tuple[np.ndarray, ...]:
    """``kernel`` (a reduction of :mod:`neurosig.kernels.faster`) on every ``(epoch, channel)`` series.

    ``data`` is ``(n_epochs, n_channels, n_times)``; each output has shape ``(n_epochs, n_channels)``.
    MNE stores epochs channel-major (``get_data`` returns a transposed view), so when
    ``data.transpose(1, 0, 2)`` is the contiguous one the series are read from it in place instead
    of being copied by a reshape.
    """
    n_ep, n_ch, n_t = data.shape
    by_channel = data.transpose(1, 0, 2)
    if by_channel.flags.c_contiguous and not data.flags.c_contiguous:
        out = kernel(by_channel.reshape(-1, n_t), *args)
        shape = lambda a: a.reshape(n_ch, n_ep).T  # noqa: E731
    else:
        out = kernel(data.reshape(-1, n_t), *args)
        shape = lambda a: a.reshape(n_ep, n_ch)  # noqa: E731
    return tuple(shape(a) for a in out) if isinstance(out, tuple) else shape(out)


def channel_means(data: np.ndarray) -> np.ndarray:
    """Each channel's mean over epochs: the reference of the ``deviation`` metrics of steps 2 and 4.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        EEG epochs in volts.

    Returns
    -------
    means : ndarray, shape (n_channels,)
        The mean over epochs of each channel's epoch means (V), as those metrics compute it by default.
    """
    return _per_series(series_stats, np.asarray(data, dtype=np.float64))[0].mean(axis=0)


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
    return mean_correlation(np.corrcoef(x), absolute)


def mean_correlation(r: np.ndarray, absolute: bool) -> np.ndarray:
    """Each channel's mean correlation with the others (step 1's ``correlation``), from the matrix ``r``.

    Parameters
    ----------
    r : ndarray, shape (n_channels, n_channels)
        Pearson correlations (dimensionless); overwritten.
    absolute : bool
        Average ``|r|`` (the paper) rather than ``r`` (mne-faster).

    Returns
    -------
    mean : ndarray, shape (n_channels,)
    """
    if absolute:
        r = np.abs(r)
    np.fill_diagonal(r, 0.0)
    return r.sum(axis=0) / (len(r) - 1)


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
    mean, var, ptp = _per_series(series_stats, np.asarray(data, dtype=np.float64))
    return epoch_scores(mean, var, ptp, metrics, use_metrics, channel_means)


def epoch_scores(
    mean: np.ndarray,
    var: np.ndarray,
    ptp: np.ndarray,
    metrics: str | Profile = "paper",
    use_metrics: Sequence[str] | None = None,
    channel_means: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Step-2 metrics from each epoch's per-channel statistics (what :func:`epoch_metrics` returns).

    Parameters
    ----------
    mean, var, ptp : ndarray, shape (n_epochs, n_channels)
        Mean (V), variance (V²) and peak-to-peak amplitude (V) of every channel in every epoch, as
        :func:`neurosig.kernels.faster.series_stats` gives them.
    metrics, use_metrics, channel_means
        As in :func:`epoch_metrics`.

    Returns
    -------
    scores : dict of str to ndarray, shape (n_epochs,)
    """
    profile = _profile(metrics)
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
    mean, var, ptp = _per_series(series_stats, data)
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
            out[name] = _per_series(median_gradient, data, not paper)
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
