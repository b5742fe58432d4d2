"""FASTER on MNE objects: seeded ICA, spherical-spline interpolation and the one orchestration.

:class:`FasterModel` chains the four steps of :mod:`neurosig.eeg.faster.steps`: it learns steps 1–3
(bad channels, bad epochs, bad ICA components) from a set of epochs, then judges and repairs any epochs
of the same channels (step 4, then interpolation). Every user of FASTER goes through it:
:func:`run_faster` (here), the stages ``faster`` and ``faster_online``
(:mod:`neurosig.eeg.faster.stages`), :class:`~neurosig.bci.preprocessing.FasterCleaner` and the
``faster`` cleaning of :mod:`neurosig.data.denoise`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_option
from neurosig.eeg.faster.metrics import (
    Profile,
    _join_epochs,
    _profile,
    _use,
    channel_means,
    eog_correlation,
)
from neurosig.eeg.faster.report import FasterReport, StepResult
from neurosig.eeg.faster.steps import (
    STEPS,
    find_bad_channels,
    find_bad_channels_in_epochs,
    find_bad_components,
    find_bad_epochs,
)

__all__ = [
    "fit_ica",
    "find_bad_components_ica",
    "interpolation_matrix",
    "interpolate_channels_in_epochs",
    "FasterModel",
    "run_faster",
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
            self.ica_ = fit_ica(kept, self.good_, self.n_components, self.ica_method, self.random_state)
            self.steps_["components"] = find_bad_components_ica(
                self.ica_, kept, self.profile, self.thresholds["components"], self.max_iter,
                self.use_metrics.get("components"), self.band,
            )  # fmt: skip
            self.excluded_ = [int(i) for i in np.flatnonzero(self.steps_["components"].bad)]
            self.ica_info_ = {
                "random_state": self.random_state,
                "method": self.ica_method,
                "n_components": int(self.ica_.n_components_),
                "excluded": self.excluded_,
            }
            self.remove_components(kept)
        self.channel_means_ = channel_means(kept.get_data(picks=self.good_))
        return kept

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
