"""Preprocessing steps fitted on the training folds only.

Each step is a scikit-learn transformer over trials ``(n_trials, n_channels, n_times)``; the
evaluation puts the steps at the head of every evaluated pipeline, so ``fit`` only ever sees the
training trials of a fold and the test trials are only ever transformed. Steps that need no fitting
(average reference) are stateless.

YAML names (``preprocessing: [{type: ...}, ...]`` in a ``bci_eval`` job):

================= ===================================================================================
``average_reference`` subtract the mean over channels (stateless)
``standardize``    per-channel mean and standard deviation learnt on the training trials
``faster``         FASTER (Nolan et al. 2010): channels, ICA and components learnt on the
                   training trials (:class:`FasterCleaner`)
================= ===================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.registry import load
from neurosig.core.validate import check_epochs_array, check_option, did_you_mean

__all__ = [
    "AverageReference",
    "Standardize",
    "Scale",
    "FasterCleaner",
    "build_preprocessing",
    "PREPROCESSORS",
]


def _check_3d(X: Any) -> np.ndarray:
    return check_epochs_array(X, "preprocessing input", hint="give trials, not a continuous recording")


class AverageReference(TransformerMixin, BaseEstimator):
    """Re-reference every trial to the mean of its channels (stateless)."""

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> AverageReference:
        """Nothing to learn."""
        _check_3d(X)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Subtract the channel mean at every sample."""
        X = _check_3d(X)
        return (X - X.mean(axis=1, keepdims=True)).astype(np.float32)


class Standardize(TransformerMixin, BaseEstimator):
    """Scale each channel to zero mean and unit variance with statistics of the training trials.

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (n_channels, 1)
        Per-channel statistics learnt by :meth:`fit`.
    """

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> Standardize:
        """Learn per-channel mean and standard deviation over all training trials and samples."""
        X = _check_3d(X)
        self.mean_ = X.mean(axis=(0, 2))[:, None]
        std = X.std(axis=(0, 2))[:, None]
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Apply the learnt statistics (the data's scale becomes 1, so use ``scale=1`` downstream)."""
        X = _check_3d(X)
        if not hasattr(self, "mean_"):
            raise DataError("Standardize is not fitted; fit it on the training trials first.")
        return ((X - self.mean_) / self.scale_).astype(np.float32)


class Scale(TransformerMixin, BaseEstimator):
    """Multiply by a constant (e.g. 1e6: volts → microvolts for the classical baselines)."""

    def __init__(self, factor: float = 1e6):
        self.factor = factor

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> Scale:
        """Nothing to learn."""
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Return ``X * factor`` as float64 (the covariance estimators work in float64)."""
        return np.asarray(X, dtype=np.float64) * self.factor


class FasterCleaner(TransformerMixin, BaseEstimator):
    """FASTER (Nolan et al. 2010) learnt on the training trials, applied to any trial.

    ``fit`` runs the steps that learn from the data set (:class:`neurosig.eeg.faster.FasterModel`):
    step 1 (bad channels), step 2 (bad epochs, left out of the ICA fit only: a transformer cannot drop
    trials) and step 3 (a seeded ICA on the good channels, bad components chosen). ``transform``
    applies the learnt ICA removal, then step 4 (bad channels within each trial, z-scored across
    channels of that trial, deviations against the training means) and interpolates the step-1 and
    step-4 channels with spherical splines. Test trials are only transformed, never used to decide anything.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz (the evaluation fills it in).
    ch_names : list of str
        Channel names; standard 10-05 names get template positions for the interpolation.
    metrics : {"paper", "mne-faster"}
        FASTER metric profile.
    threshold : float
        ``|z|`` threshold of every step (the paper: 3).
    ica : bool
        Run step 3.
    ica_method : {"fastica", "infomax", "picard"}
        ICA algorithm (the paper: infomax).
    random_state : int
        ICA seed.
    interpolate : bool
        Interpolate bad channels (needs standard channel names).

    Attributes
    ----------
    bad_channels_ : list of str
        Step-1 channels, interpolated in every trial.
    excluded_components_ : list of int
        ICA components removed.
    model_ : neurosig.eeg.faster.FasterModel
        What was learnt, applied by ``transform``.
    """

    def __init__(
        self,
        sfreq: float | None = None,
        ch_names: list[str] | None = None,
        metrics: str = "paper",
        threshold: float = 3.0,
        ica: bool = True,
        ica_method: str = "infomax",
        random_state: int = 0,
        interpolate: bool = True,
    ):
        self.sfreq = sfreq
        self.ch_names = ch_names
        self.metrics = metrics
        self.threshold = threshold
        self.ica = ica
        self.ica_method = ica_method
        self.random_state = random_state
        self.interpolate = interpolate

    def _info(self, n_channels: int, n_times: int):
        from neurosig.core.chunks import EpochsInfo
        from neurosig.eeg.faster.stages import mne_info

        if self.sfreq is None or self.ch_names is None or len(self.ch_names) != n_channels:
            raise ConfigError(
                f"FasterCleaner needs sfreq and the {n_channels} channel names of the trials "
                f"(got sfreq={self.sfreq!r}, {len(self.ch_names or [])} names)."
            )
        names = tuple(self.ch_names)
        return mne_info(EpochsInfo(float(self.sfreq), names, ("eeg",) * len(names), 0.0, n_times))

    def _epochs(self, X: np.ndarray, info):
        import mne

        return mne.EpochsArray(np.asarray(X, dtype=np.float64), info, verbose="error")

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> FasterCleaner:
        """Learn bad channels, the ICA and its bad components from the training trials."""
        from neurosig.eeg.faster import FasterModel

        X = _check_3d(X)
        info = self._info(X.shape[1], X.shape[2])
        self.model_ = FasterModel(
            self.metrics, self.threshold, ica=self.ica, ica_method=self.ica_method,
            random_state=self.random_state,
        )  # fmt: skip
        self.model_.learn(self._epochs(X, info))
        self.bad_channels_ = list(self.model_.bad_channels_)
        self.excluded_components_ = list(self.model_.excluded_)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Remove the learnt components, then find and interpolate bad channels trial by trial."""
        X = _check_3d(X)
        if not hasattr(self, "model_"):
            raise DataError("FasterCleaner is not fitted; fit it on the training trials first.")
        epochs = self.model_.remove_components(self._epochs(X, self.model_.info_))
        out = epochs.get_data(copy=False)
        if self.interpolate:
            out, _, _ = self.model_.repair(out)
        return out.astype(np.float32)


#: YAML name → "module:Class" of a fold-fitted step (imported when used).
PREPROCESSORS: dict[str, str] = {
    "average_reference": "neurosig.bci.preprocessing:AverageReference",
    "standardize": "neurosig.bci.preprocessing:Standardize",
    "faster": "neurosig.bci.preprocessing:FasterCleaner",
}


def build_preprocessing(
    specs: Sequence[Mapping[str, Any]], sfreq: float, ch_names: Sequence[str]
) -> list[tuple[str, Any]]:
    """Build the fold-fitted preprocessing steps named in a job's ``preprocessing`` list.

    Parameters
    ----------
    specs : sequence of dict
        ``{"type": NAME, **params}`` per step, in order.
    sfreq : float
        Sampling rate in Hz, passed to steps that take ``sfreq``.
    ch_names : sequence of str
        Channel names, passed to steps that take ``ch_names``.

    Returns
    -------
    list of (name, transformer)
        Ready for :class:`sklearn.pipeline.Pipeline`.
    """
    steps = []
    for i, spec in enumerate(specs):
        params = dict(spec)
        kind = params.pop("type", None)
        if kind is None:
            raise ConfigError(f"preprocessing[{i}] has no 'type'; choose one of {sorted(PREPROCESSORS)}.")
        check_option(f"preprocessing[{i}].type", kind, PREPROCESSORS)
        cls = load(PREPROCESSORS[kind], f"preprocessing step {kind!r}")
        accepted = getattr(cls, "_get_param_names", lambda: [])()
        if "sfreq" in accepted:
            params.setdefault("sfreq", sfreq)
        if "ch_names" in accepted:
            params.setdefault("ch_names", list(ch_names))
        for key in params:
            if key not in accepted:
                raise ConfigError(
                    f"preprocessing[{i}] ({kind}) has no parameter {key!r}; valid parameters are "
                    f"{accepted}.{did_you_mean(key, accepted)}"
                )
        steps.append((f"{i}_{kind}", cls(**params)))
    return steps
