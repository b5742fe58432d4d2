"""Preprocessing steps fitted on the training folds only.

Each step is a scikit-learn transformer over trials ``(n_trials, n_channels, n_times)``; the
evaluation puts the steps at the head of every evaluated pipeline, so ``fit`` only ever sees the
training trials of a fold and the test trials are only ever transformed. Steps that need no fitting
(average reference) are stateless.

YAML names (``preprocessing: [{type: ...}, ...]`` in a ``bci_eval`` job):

================= ===================================================================================
``average_reference`` subtract the mean over channels (stateless)
``standardize``    per-channel mean and standard deviation learnt on the training trials
``faster``         FASTER (Nolan et al. 2010) fitted on the training trials, when
                   :mod:`neurosig.eeg.faster` is installed
================= ===================================================================================
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from neurosig.core.errors import ConfigError, DataError
from neurosig.core.validate import check_option

__all__ = ["AverageReference", "Standardize", "Scale", "build_preprocessing", "PREPROCESSORS"]


def _check_3d(X: Any) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 3:
        raise DataError(f"preprocessing expects trials (n_trials, n_channels, n_times), got {X.shape}.")
    return X


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


#: YAML name → "module:Class" of a fold-fitted step; FASTER is resolved when it is used.
PREPROCESSORS: dict[str, str] = {
    "average_reference": "neurosig.bci.preprocessing:AverageReference",
    "standardize": "neurosig.bci.preprocessing:Standardize",
    "faster": "neurosig.eeg.faster:FasterTransformer",
}


def _resolve(name: str) -> type:
    module, _, attr = PREPROCESSORS[name].partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(
            f"preprocessing step {name!r} needs {PREPROCESSORS[name]}, which is not available ({err}); "
            "remove the step or install the module that provides it."
        ) from None


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
        cls = _resolve(kind)
        accepted = getattr(cls, "_get_param_names", lambda: [])()
        if "sfreq" in accepted:
            params.setdefault("sfreq", sfreq)
        if "ch_names" in accepted:
            params.setdefault("ch_names", list(ch_names))
        try:
            steps.append((f"{i}_{kind}", cls(**params)))
        except TypeError as err:
            raise ConfigError(f"preprocessing[{i}] ({kind}): {err}.") from None
    return steps
