"""FASTER on MNE objects: seeded ICA, spherical-spline interpolation and the one orchestration.

:class:`FasterModel` chains the four steps of :mod:`neurosig.eeg.faster.steps`: it learns steps 1–3
(bad channels, bad epochs, bad ICA components) from a set of epochs, then judges and repairs any epochs
of the same channels (step 4, then interpolation). Every user of FASTER goes through it:
:func:`run_faster` (here), the stages ``faster`` and ``faster_online``
(:mod:`neurosig.eeg.faster.stages`), :class:`~neurosig.bci.preprocessing.FasterCleaner` and the
``faster`` cleaning of :mod:`neurosig.data.denoise`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_option
from neurosig.eeg.faster.metrics import (
    Profile,
    _join_epochs,
    _per_series,
    _profile,
    _use,
    channel_means,
    channel_metrics,
    eog_correlation,
    epoch_scores,
    mean_correlation,
)
from neurosig.eeg.faster.report import FasterReport, StepResult
from neurosig.eeg.faster.steps import (
    STEPS,
    _check_epochs,
    decide_channels,
    decide_epochs,
    find_bad_channels,
    find_bad_channels_in_epochs,
    find_bad_components,
    find_bad_epochs,
    usable_channels,
)
from neurosig.kernels.faster import series_stats

__all__ = [
    "fit_ica",
    "find_bad_components_ica",
    "SphericalSplines",
    "interpolation_matrix",
    "interpolate_channels_in_epochs",
    "FasterModel",
    "run_faster",
    "run_faster_blocked",
]

MetricsName = Literal["paper", "mne-faster"]


# -- ICA and interpolation --------------------------------------------------------------------


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


#: Perrin et al.'s (1989) spline: stiffness m = 4, 50 Legendre terms, regularisation 1e-5 (MNE's values).
_SPLINE_STIFFNESS, _SPLINE_TERMS, _SPLINE_ALPHA = 4, 50, 1e-5


def _spline_g(cosang: np.ndarray) -> np.ndarray:
    """Perrin's g function of the cosines of the angles between electrodes (dimensionless)."""
    from numpy.polynomial.legendre import legval

    m = _SPLINE_STIFFNESS
    factors = [(2 * n + 1) / (n**m * (n + 1) ** m * 4 * np.pi) for n in range(1, _SPLINE_TERMS + 1)]
    return legval(cosang, [0, *factors])


class SphericalSplines:
    """Spherical-spline interpolation between the EEG channels of one recording.

    The same interpolation as MNE's ``interpolate_bads`` (spline method: Perrin et al. 1989, MNE's
    stiffness, terms and regularisation; positions about the sphere fitted to the head's
    digitisation), with the g function of every electrode pair computed once: each set of bad
    channels then costs one small pseudo-inverse instead of a pass through MNE's checks.

    Parameters
    ----------
    info : mne.Info
        With positions for every EEG channel (a montage).

    Raises
    ------
    DataError
        When an EEG channel has no position.
    """

    def __init__(self, info: Any):
        import mne

        self.eeg = mne.pick_types(info, meg=False, eeg=True, exclude=[])
        self.names = [info.ch_names[i] for i in self.eeg]
        pos = np.array([info["chs"][i]["loc"][:3] for i in self.eeg])
        if not np.all(np.isfinite(pos)) or np.any(np.all(pos == 0, axis=1)):
            raise DataError(
                "interpolating channels needs their positions; set a montage first "
                "(e.g. raw.set_montage('standard_1005')) or pass interpolate=False."
            )
        origin = mne.bem.fit_sphere_to_headshape(info, units="m", verbose="error")[1]
        unit = pos - origin
        unit /= np.linalg.norm(unit, axis=1, keepdims=True)
        self._g = _spline_g(unit @ unit.T)

    def matrix(self, bads: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The interpolation of ``bads`` from the other EEG channels (see :func:`interpolation_matrix`)."""
        from scipy.linalg import pinv

        missing = [c for c in bads if c not in self.names]
        if missing:
            raise DataError(f"cannot interpolate {missing}: not EEG channels of this recording.")
        out = set(bads)
        bad = np.array([self.names.index(c) for c in bads], dtype=int)
        good = np.array([k for k, c in enumerate(self.names) if c not in out], dtype=int)
        n = len(good)
        g_good = self._g[np.ix_(good, good)]
        g_good.flat[:: n + 1] += _SPLINE_ALPHA
        system = np.block([[g_good, np.ones((n, 1))], [np.ones((1, n)), np.zeros((1, 1))]])
        weights = pinv(system)[:, :-1]
        matrix = np.hstack([self._g[np.ix_(bad, good)], np.ones((len(bad), 1))]) @ weights
        return self.eeg[good], self.eeg[bad], matrix


def interpolation_matrix(info: Any, bads: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spherical-spline interpolation of ``bads`` from the other EEG channels, as a matrix.

    As MNE's ``interpolate_bads`` computes it (see :class:`SphericalSplines`).

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
    return SphericalSplines(info).matrix(bads)


def interpolate_channels_in_epochs(
    data: np.ndarray,
    info: Any,
    bad: np.ndarray,
    cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
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
    cache : dict | None
        Interpolation matrices by tuple of bad-channel indices, filled as they are computed; pass the
        same dict across calls on one channel set to compute each matrix once (default: this call).

    Returns
    -------
    clean : ndarray, shape (n_epochs, n_channels, n_times)
        A copy with the flagged channels interpolated (one matrix per distinct set of bad channels).
    interpolated : dict of int to list of str
        Epoch index → interpolated channels, for epochs that had any.
    """
    clean = np.array(data, dtype=np.float64, copy=True)
    cache = {} if cache is None else cache
    splines = None
    done = {}
    for e in np.flatnonzero(bad.any(axis=1)):
        key = tuple(np.flatnonzero(bad[e]).tolist())
        if key not in cache:
            splines = SphericalSplines(info) if splines is None else splines
            cache[key] = splines.matrix([info.ch_names[i] for i in key])
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


def _per_block(budget: int, row_bytes: int) -> int:
    """How many rows of ``row_bytes`` bytes fit in ``budget`` bytes (at least one)."""
    return max(1, int(budget) // max(1, int(row_bytes)))


def _blocks(data: Any, rows: np.ndarray, picks: Sequence[int], size: int):
    """``(offset, block)`` over ``data[rows][:, picks]``, ``size`` epochs at a time, as float64."""
    picks = np.asarray(picks, dtype=int)
    for a in range(0, len(rows), size):
        yield a, np.asarray(np.asarray(data[rows[a : a + size]])[:, picks], dtype=np.float64)


def _channels(data: Any, picks: Sequence[int], size: int) -> np.ndarray:
    """``data[:, picks]`` as float64, read ``size`` epochs at a time."""
    out = np.empty((len(data), len(picks), data.shape[2]))
    for a, x in _blocks(data, np.arange(len(data)), picks, size):
        out[a : a + len(x)] = x
    return out


def _even_subset(n: int, m: int) -> np.ndarray:
    """``m`` indices spread evenly over ``range(n)`` (all of them when ``m >= n``)."""
    if m >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, m).round().astype(int))


# -- the orchestration ------------------------------------------------------------------------


class FasterModel:
    """The four FASTER steps: learnt from a set of epochs, applied to any epochs of the same channels.

    :meth:`learn` runs step 1 (bad channels, over all epochs), step 2 (bad epochs, on the good
    channels) and, with ``ica``, step 3 (a seeded ICA on the good channels of the kept epochs, its bad
    components removed); it keeps the channel means of the kept, component-free epochs as the reference
    of step 4's deviation. :meth:`remove_components`, :meth:`find_bad_channels_in_epochs` (step 4, each
    epoch's good channels z-scored against each other) and :meth:`interpolate` then apply what was learnt
    to any epochs: the learning epochs themselves (:func:`run_faster`), later epochs (online FASTER) or
    test trials (:class:`~neurosig.bci.preprocessing.FasterCleaner`); :meth:`repair` chains the last two.

    Parameters
    ----------
    metrics : {"paper", "mne-faster"}
        The metric profile (see :mod:`neurosig.eeg.faster`).
    threshold : float
        ``|z|`` threshold of every step (standard deviations; the paper: 3).
    thresholds : dict of str to float | None
        Per-step overrides, keys from :data:`~neurosig.eeg.faster.steps.STEPS`.
    max_iter : int | None
        Passes of the outlier rule (default: the profile's, 1).
    use_metrics : dict of str to list of str | None
        Per-step metric subsets, keys from :data:`~neurosig.eeg.faster.steps.STEPS`.
    ica : bool
        Run step 3.
    n_components : int | float | None
        ICA components (``None``: as many as good channels).
    ica_method : {"fastica", "infomax", "picard"}
        ICA algorithm.
    random_state : int
        ICA seed.
    band : (float, float) | None
        Pass band in Hz for the spectral slope of step 3 (default: the info's high-pass and low-pass).
    reference : str | None
        Reference electrode for the distance correction of steps 1 and 4 (``None``: no correction).

    Attributes
    ----------
    steps_ : dict of str to StepResult
        ``"channels"``, ``"epochs"`` and, with ICA, ``"components"``.
    bad_channels_ : list of str
        The channels already in ``info["bads"]``, then those of step 1.
    good_ : list of str
        The other EEG channels, judged in steps 2–4.
    kept_ : list of int
        Indices of the epochs kept by step 2.
    ica_ : mne.preprocessing.ICA | None
        The fitted decomposition (``None`` without ICA).
    excluded_ : list of int
        The bad components.
    ica_info_ : dict
        Seed, method, number of components and excluded components (empty without ICA).
    channel_means_ : ndarray, shape (n_good,)
        Means (V) of the good channels over the kept, component-free epochs.
    info_ : mne.Info
        The learning epochs' info with ``bads`` set to :attr:`bad_channels_`.
    """

    def __init__(
        self,
        metrics: MetricsName | Profile = "paper",
        threshold: float = 3.0,
        thresholds: Mapping[str, float] | None = None,
        max_iter: int | None = None,
        use_metrics: Mapping[str, Sequence[str]] | None = None,
        ica: bool = True,
        n_components: int | float | None = None,
        ica_method: Literal["fastica", "infomax", "picard"] = "infomax",
        random_state: int = 0,
        band: tuple[float, float] | None = None,
        reference: str | None = None,
    ):
        self.profile = _profile(metrics)
        self.thresholds = {step: threshold for step in STEPS} | dict(thresholds or {})
        for step in self.thresholds:
            check_option("thresholds key", step, STEPS)
        self.use_metrics = dict(use_metrics or {})
        for step in self.use_metrics:
            check_option("use_metrics key", step, STEPS)
        self.max_iter = max_iter
        self.ica = ica
        self.n_components = n_components
        self.ica_method = ica_method
        self.random_state = random_state
        self.band = band
        self.reference = reference
        self._matrices: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def learn(self, epochs: Any) -> Any:
        """Steps 1–3 on ``epochs``.

        Parameters
        ----------
        epochs : mne.Epochs
            EEG epochs in volts; EOG channels, if any, feed step 3. Channels already in
            ``info["bads"]`` are left out of every step (and interpolated by :meth:`repair`).

        Returns
        -------
        kept : mne.Epochs
            A copy of the epochs kept by step 2, the bad ICA components removed, ``info["bads"]`` set
            to :attr:`bad_channels_`.
        """
        import mne

        info = epochs.info
        sfreq = info["sfreq"]
        prior = list(info["bads"])
        eeg = [info.ch_names[i] for i in mne.pick_types(info, meg=False, eeg=True, exclude=prior)]
        data = epochs.get_data(picks=eeg)
        channels = find_bad_channels(
            data, sfreq, eeg, self.profile, self.thresholds["channels"], self.max_iter,
            self.use_metrics.get("channels"), _ref_angles(info, eeg, self.reference),
        )  # fmt: skip
        self.bad_channels_ = prior + list(channels.bad_items())
        self.good_ = [c for c in eeg if c not in self.bad_channels_]
        good_idx = [eeg.index(c) for c in self.good_]
        labels = [str(i) for i in range(len(epochs))]
        bad_epochs = find_bad_epochs(
            data[:, good_idx], labels, self.profile, self.thresholds["epochs"], self.max_iter,
            self.use_metrics.get("epochs"),
        )  # fmt: skip
        self.steps_ = {"channels": channels, "epochs": bad_epochs}
        self.kept_ = [int(i) for i in np.flatnonzero(~bad_epochs.bad)]
        kept = epochs[self.kept_].copy() if len(self.kept_) < len(epochs) else epochs.copy()
        kept.info["bads"] = list(self.bad_channels_)
        self.info_ = kept.info
        self.ica_, self.excluded_, self.ica_info_ = None, [], {}
        if self.ica:
            self._learn_components(kept)
            self.remove_components(kept)
        self.channel_means_ = channel_means(kept.get_data(picks=self.good_))
        return kept

    def _learn_components(self, epochs: Any) -> None:
        """Step 3: fit the ICA on ``epochs`` (``mne.Epochs``), score its components, record the
        excluded ones and what the report says of the fit."""
        self.ica_ = fit_ica(epochs, self.good_, self.n_components, self.ica_method, self.random_state)
        self.steps_["components"] = find_bad_components_ica(
            self.ica_, epochs, self.profile, self.thresholds["components"], self.max_iter,
            self.use_metrics.get("components"), self.band,
        )  # fmt: skip
        self.excluded_ = [int(i) for i in np.flatnonzero(self.steps_["components"].bad)]
        self.ica_info_ = {
            "random_state": self.random_state,
            "method": self.ica_method,
            "n_components": int(self.ica_.n_components_),
            "excluded": self.excluded_,
        }

    def learn_blocked(self, data: Any, info: Any, block_bytes: int, ica_bytes: int | None = None) -> None:
        """Steps 1–3 as in :meth:`learn`, reading the epochs a block at a time.

        For recordings too long to hold as float64: ``data`` may be on disk. What is
        held at once is a few times ``block_bytes`` of signal, plus the metrics:

        - step 1 reads blocks of whole channels (Hurst, kurtosis and line noise need each channel's
          whole series, so at least one channel: 1/n_channels of the recording) and accumulates the
          channel correlations over blocks of epochs;
        - step 2 needs only each epoch's per-channel statistics, gathered block by block;
        - step 3 fits the ICA, and scores its components, on at most ``ica_bytes`` of the kept
          epochs, spread evenly over the recording (all of them when they fit);
        - the channel means of step 4 come from the kept epochs, block by block, components removed.

        With every epoch in one block the decisions and scores are those of :meth:`learn`; in
        several blocks only the channel correlations are summed in another order (equal to rounding).

        Parameters
        ----------
        data : array-like, shape (n_epochs, n_channels, n_times)
            EEG epochs in volts, channels as in ``info``: an ndarray, or anything with its ``shape``
            that ``data[rows]`` reads (rows: integer indices) into one, such as
            :class:`~neurosig.core.persist.ArraySpill`.
        info : mne.Info
            The epochs' info, with positions for interpolation; channels in ``info["bads"]`` are left
            out as in :meth:`learn`.
        block_bytes : int
            The float64 signal read at once (bytes).
        ica_bytes : int | None
            The most float64 signal the ICA is fitted on (bytes; default ``block_bytes``).
        """
        import mne

        sfreq = info["sfreq"]
        prior = list(info["bads"])
        eeg_idx = mne.pick_types(info, meg=False, eeg=True, exclude=prior)
        eeg = [info.ch_names[i] for i in eeg_idx]
        n_ep, n_ch, n_t = data.shape
        all_epochs = np.arange(n_ep)
        per_epoch = _per_block(block_bytes, n_ch * n_t * 8)
        # Step 1: constant channels and input checks over blocks of epochs, metrics over blocks of channels.
        lo = hi = None
        for a, x in _blocks(data, all_epochs, eeg_idx, per_epoch):
            x = _check_epochs(x, "channels", offset=a)
            lo = x.min(axis=(0, 2)) if lo is None else np.minimum(lo, x.min(axis=(0, 2)))
            hi = x.max(axis=(0, 2)) if hi is None else np.maximum(hi, x.max(axis=(0, 2)))
        constant = hi == lo
        usable = usable_channels(constant, eeg)
        wanted = _use(self.profile, "channels", self.use_metrics.get("channels"))
        rowwise = [m for m in wanted if m != "correlation"]
        parts: dict[str, list[np.ndarray]] = {m: [] for m in wanted}
        means = []
        per_channel = _per_block(block_bytes, n_ep * n_t * 8)
        for c in range(0, len(usable), per_channel):
            picks = eeg_idx[usable[c : c + per_channel]]
            x = _channels(data, picks, per_epoch)
            for m, v in (channel_metrics(x, sfreq, self.profile, rowwise) if rowwise else {}).items():
                parts[m].append(v)
            if "correlation" in wanted:
                means.append(series_stats(_join_epochs(x))[0])
            del x
        if "correlation" in wanted:
            mean = np.concatenate(means)
            gram = np.zeros((len(usable), len(usable)))
            for _, x in _blocks(data, all_epochs, eeg_idx[usable], per_epoch):
                centred = _join_epochs(x) - mean[:, None]
                gram += centred @ centred.T
            sd = np.sqrt(np.diag(gram))
            r = np.clip(gram / sd[:, None] / sd[None, :], -1.0, 1.0)
            parts["correlation"] = [mean_correlation(r, self.profile.paper_definitions)]
        scores = {m: np.concatenate(parts[m]) for m in wanted}
        channels = decide_channels(
            scores, constant, eeg, self.profile, self.thresholds["channels"], self.max_iter,
            _ref_angles(info, eeg, self.reference),
        )  # fmt: skip
        self.bad_channels_ = prior + list(channels.bad_items())
        self.good_ = [c for c in eeg if c not in self.bad_channels_]
        good_idx = [info.ch_names.index(c) for c in self.good_]
        # Step 2: each epoch's per-channel statistics, block by block.
        stats = [
            _per_series(series_stats, _check_epochs(x, "epochs", offset=a))
            for a, x in _blocks(data, all_epochs, good_idx, per_epoch)
        ]
        mean, var, ptp = (np.concatenate([s[k] for s in stats]) for k in range(3))
        bad_epochs = decide_epochs(
            epoch_scores(mean, var, ptp, self.profile, self.use_metrics.get("epochs")),
            [str(i) for i in range(n_ep)], self.profile, self.thresholds["epochs"], self.max_iter,
        )  # fmt: skip
        self.steps_ = {"channels": channels, "epochs": bad_epochs}
        self.kept_ = [int(i) for i in np.flatnonzero(~bad_epochs.bad)]
        self.info_ = info.copy()
        self.info_["bads"] = list(self.bad_channels_)
        kept = np.asarray(self.kept_, dtype=int)
        # Step 3: the ICA on at most ica_bytes of the kept epochs, spread over the recording.
        self.ica_, self.excluded_, self.ica_info_ = None, [], {}
        if self.ica:
            ica_epochs = _per_block(block_bytes if ica_bytes is None else ica_bytes, n_ch * n_t * 8)
            sample = kept[_even_subset(len(kept), ica_epochs)]
            fit_on = mne.EpochsArray(np.asarray(data[sample], dtype=np.float64), self.info_, verbose="error")
            self._learn_components(fit_on)
            if len(sample) < len(kept):
                self.ica_info_["fit_epochs"] = [int(i) for i in sample]
            del fit_on
        # The reference of step 4's deviation: channel means of the kept epochs, components removed.
        good_in_info = [self.info_.ch_names.index(c) for c in self.good_]
        means = [
            _per_series(series_stats, self._without_components(x)[:, good_in_info])[0]
            for _, x in _blocks(data, kept, range(n_ch), per_epoch)
        ]
        self.channel_means_ = np.concatenate(means).mean(axis=0)

    def _without_components(self, x: np.ndarray) -> np.ndarray:
        """``x`` (float64 epochs of :attr:`info_`'s channels) with the bad components removed."""
        if self.ica_ is None:
            return x
        import mne

        return self.remove_components(mne.EpochsArray(x, self.info_, verbose="error")).get_data()

    def clean_blocked(
        self, data: Any, block_bytes: int, interpolate: bool = True
    ) -> Iterator[tuple[np.ndarray, np.ndarray, StepResult, dict[int, list[str]]]]:
        """The kept epochs, components removed and repaired (:meth:`repair`), a block at a time.

        Parameters
        ----------
        data : array-like, shape (n_epochs, n_channels, n_times)
            The epochs :meth:`learn_blocked` learnt from.
        block_bytes : int
            The float64 signal read at once (bytes).
        interpolate : bool
            As in :meth:`repair`.

        Yields
        ------
        rows : ndarray of int
            Input indices of the block's epochs (all kept).
        clean : ndarray, shape (len(rows), n_channels, n_times)
            Their cleaned data (float64, V).
        step4 : StepResult
            Step 4 on the block.
        interpolated : dict of int to list of str
            Index among the kept epochs → interpolated channels.
        """
        n_ep, n_ch, n_t = data.shape
        kept = np.asarray(self.kept_, dtype=int)
        for a, x in _blocks(data, kept, range(n_ch), _per_block(block_bytes, n_ch * n_t * 8)):
            clean, step4, interpolated = self.repair(self._without_components(x), interpolate)
            yield kept[a : a + len(x)], clean, step4, {a + k: v for k, v in interpolated.items()}

    def remove_components(self, epochs: Any) -> Any:
        """Remove the bad ICA components from ``epochs`` in place (nothing without ICA).

        Parameters
        ----------
        epochs : mne.Epochs
            Epochs of the learnt channels, preloaded.

        Returns
        -------
        epochs : mne.Epochs
            The same object.
        """
        if self.ica_ is not None:
            self.ica_.apply(epochs, exclude=self.excluded_, verbose="error")
        return epochs

    def find_bad_channels_in_epochs(
        self, data: np.ndarray, channel_means: np.ndarray | None = None
    ) -> StepResult:
        """Step 4 on the good channels of ``data``.

        Parameters
        ----------
        data : ndarray, shape (n_epochs, n_channels, n_times)
            Epochs in volts, channels as in :attr:`info_`, bad components removed.
        channel_means : ndarray, shape (n_good,) | None
            Reference of the deviation metric (V); default :attr:`channel_means_`.

        Returns
        -------
        result : StepResult
            ``items`` are :attr:`good_`; arrays have shape (n_epochs, n_good).
        """
        idx = [self.info_.ch_names.index(c) for c in self.good_]
        return find_bad_channels_in_epochs(
            data[:, idx], self.info_["sfreq"], self.good_, self.profile,
            self.thresholds["channels_in_epochs"], self.max_iter,
            self.use_metrics.get("channels_in_epochs"),
            self.channel_means_ if channel_means is None else channel_means,
            _ref_angles(self.info_, self.good_, self.reference),
        )  # fmt: skip

    def bad_cells(self, in_epochs: np.ndarray) -> np.ndarray:
        """The channels to interpolate in each epoch: :attr:`bad_channels_` everywhere, plus step 4's.

        Parameters
        ----------
        in_epochs : ndarray of bool, shape (n_epochs, n_good)
            Step 4's flags (``StepResult.bad`` of :meth:`find_bad_channels_in_epochs`).

        Returns
        -------
        bad : ndarray of bool, shape (n_epochs, n_channels)
            Over all channels of :attr:`info_`.
        """
        names = self.info_.ch_names
        bad = np.zeros((len(in_epochs), len(names)), dtype=bool)
        bad[:, [names.index(c) for c in self.bad_channels_]] = True
        bad[:, [names.index(c) for c in self.good_]] |= in_epochs
        return bad

    def interpolate(self, data: np.ndarray, bad: np.ndarray) -> tuple[np.ndarray, dict[int, list[str]]]:
        """Interpolate the ``bad`` channels of each epoch (spherical splines, each matrix computed once).

        Parameters
        ----------
        data : ndarray, shape (n_epochs, n_channels, n_times)
            Epochs in volts, channels as in :attr:`info_` (which needs a montage).
        bad : ndarray of bool, shape (n_epochs, n_channels)
            Channels to replace in each epoch (e.g. :meth:`bad_cells`).

        Returns
        -------
        clean, interpolated
            As in :func:`interpolate_channels_in_epochs`.
        """
        return interpolate_channels_in_epochs(data, self.info_, bad, self._matrices)

    def repair(
        self, data: np.ndarray, interpolate: bool = True
    ) -> tuple[np.ndarray, StepResult, dict[int, list[str]]]:
        """Step 4, then interpolation of the step-1 and step-4 channels.

        Parameters
        ----------
        data : ndarray, shape (n_epochs, n_channels, n_times)
            Epochs in volts, channels as in :attr:`info_`, bad components removed.
        interpolate : bool
            Interpolate (otherwise ``data`` comes back as it is, with step 4's result).

        Returns
        -------
        clean : ndarray, shape (n_epochs, n_channels, n_times)
            The repaired epochs (float64).
        step4 : StepResult
            Step 4's scores and decisions.
        interpolated : dict of int to list of str
            Epoch index → interpolated channels (empty without interpolation).
        """
        step4 = self.find_bad_channels_in_epochs(data)
        if not interpolate:
            return data, step4, {}
        clean, interpolated = self.interpolate(data, self.bad_cells(step4.bad))
        return clean, step4, interpolated


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

    model = FasterModel(
        metrics, threshold, thresholds, max_iter, use_metrics, ica, n_components, ica_method,
        random_state, band, reference,
    )  # fmt: skip
    cleaned = model.learn(epochs)
    out, step4, interpolated = model.repair(cleaned.get_data(), interpolate)
    out_info = cleaned.info.copy()
    out_info["bads"] = [] if interpolate else list(model.bad_channels_)
    clean = mne.EpochsArray(
        out, out_info, events=cleaned.events, tmin=cleaned.tmin, event_id=cleaned.event_id,
        baseline=None, verbose="error",
    )  # fmt: skip
    steps = model.steps_ | {"channels_in_epochs": step4}
    report = FasterReport(model.profile.name, steps, model.kept_, interpolated, model.ica_info_)
    return clean, report


def run_faster_blocked(
    data: Any,
    info: Any,
    block_bytes: int,
    metrics: MetricsName = "paper",
    threshold: float = 3.0,
    max_iter: int | None = None,
    ica: bool = True,
    n_components: int | float | None = None,
    ica_method: Literal["fastica", "infomax", "picard"] = "infomax",
    random_state: int = 0,
    band: tuple[float, float] | None = None,
    reference: str | None = None,
    interpolate: bool = True,
    ica_bytes: int | None = None,
) -> Generator[tuple[np.ndarray, np.ndarray], None, FasterReport]:
    """:func:`run_faster` on epochs read a block at a time (see :meth:`FasterModel.learn_blocked`).

    Parameters
    ----------
    data : array-like, shape (n_epochs, n_channels, n_times)
        EEG epochs in volts, channels as in ``info`` (an ndarray or an
        :class:`~neurosig.core.persist.ArraySpill`; see :meth:`FasterModel.learn_blocked`).
    info : mne.Info
        Their info, with positions for interpolation.
    block_bytes : int
        The float64 signal read at once (bytes).
    metrics, threshold, max_iter, ica, n_components, ica_method, random_state, band, reference, interpolate
        As in :func:`run_faster`.
    ica_bytes : int | None
        The most float64 signal the ICA is fitted on (bytes; default ``block_bytes``).

    Yields
    ------
    rows : ndarray of int
        Input indices of a block of kept epochs.
    clean : ndarray, shape (len(rows), n_channels, n_times)
        Those epochs cleaned (float64, V).

    Returns
    -------
    report : FasterReport
        As :func:`run_faster`'s (``ica["fit_epochs"]`` lists the epochs the ICA was fitted on when it
        was not all the kept ones), once every block was yielded.
    """
    model = FasterModel(
        metrics, threshold, None, max_iter, None, ica, n_components, ica_method, random_state, band, reference
    )
    model.learn_blocked(data, info, block_bytes, ica_bytes)
    step4, interpolated = [], {}
    for rows, clean, part, fixed in model.clean_blocked(data, block_bytes, interpolate):
        step4.append(part)
        interpolated.update(fixed)
        yield rows, clean
    steps = model.steps_
    if step4:
        steps = steps | {"channels_in_epochs": StepResult.concat_epochs(step4)}
    return FasterReport(model.profile.name, steps, model.kept_, interpolated, model.ica_info_)
