"""The decoding pipelines an evaluation compares, by name.

=============== ==========================================================================================
name            pipeline (after the job's fold-fitted preprocessing)
=============== ==========================================================================================
csp_lda         µV → MNE ``CSP`` (8 components, log-variance) → LDA
ts_lr           µV → pyriemann ``Covariances("oas")`` → ``TangentSpace`` → logistic regression
shallow, deep,  :class:`~neurosig.bci.classifier.EEGClassifier` with that model
eegnet, ...
=============== ==========================================================================================

CSP+LDA and tangent space + logistic regression are MOABB's strongest classical pipelines for motor
imagery. Everything is a :class:`sklearn.pipeline.Pipeline`, so the preprocessing steps are fitted on
the training folds only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sklearn.pipeline import Pipeline

from neurosig.bci.classifier import EEGClassifier
from neurosig.bci.models import MODELS
from neurosig.bci.preprocessing import Scale, build_preprocessing
from neurosig.core.errors import ConfigError
from neurosig.core.validate import check_option

__all__ = ["BASELINES", "PIPELINE_NAMES", "make_baseline", "make_pipeline"]

BASELINES = ("csp_lda", "ts_lr")
PIPELINE_NAMES = (*BASELINES, *MODELS)


def make_baseline(name: str, seed: int = 0) -> list[tuple[str, Any]]:
    """The steps of a classical baseline (``"csp_lda"`` or ``"ts_lr"``)."""
    check_option("pipeline", name, BASELINES)
    if name == "csp_lda":
        from mne.decoding import CSP
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        return [
            ("scale", Scale(1e6)),
            ("csp", CSP(n_components=8, log=True)),
            ("lda", LinearDiscriminantAnalysis()),
        ]
    try:
        from pyriemann.estimation import Covariances
        from pyriemann.tangentspace import TangentSpace
    except ImportError:
        raise ConfigError(
            "ts_lr needs pyriemann; install it with `pip install -c constraints.txt pyriemann` "
            "(or the [anchors] extra), or drop ts_lr from the pipelines."
        ) from None
    from sklearn.linear_model import LogisticRegression

    return [
        ("scale", Scale(1e6)),
        ("cov", Covariances("oas")),
        ("ts", TangentSpace(metric="riemann")),
        ("lr", LogisticRegression(max_iter=1000, random_state=seed)),
    ]


def make_pipeline(
    name: str,
    sfreq: float,
    ch_names: Sequence[str] = (),
    preprocessing: Sequence[Mapping[str, Any]] = (),
    training: Mapping[str, Any] | None = None,
    seed: int = 0,
    deterministic: bool = True,
) -> Pipeline:
    """Build one evaluated pipeline: fold-fitted preprocessing, then the decoder.

    Parameters
    ----------
    name : str
        One of :data:`PIPELINE_NAMES`.
    sfreq : float
        Sampling rate of the trials in Hz.
    ch_names : sequence of str
        Channel names (for preprocessing steps that need them).
    preprocessing : sequence of dict
        Fold-fitted steps, see :func:`~neurosig.bci.preprocessing.build_preprocessing`.
    training : dict | None
        :class:`~neurosig.bci.classifier.EEGClassifier` parameters for the networks (``epochs``,
        ``batch_size``, ``lr``, ``validation``, ``patience``, ``model_options``, ``device``).
    seed : int
        Seed of the fold.
    deterministic : bool
        Deterministic torch algorithms.
    """
    check_option("pipeline", name, PIPELINE_NAMES)
    steps = build_preprocessing(preprocessing, sfreq, ch_names)
    if name in BASELINES:
        return Pipeline([*steps, *make_baseline(name, seed)])
    options = dict(training or {})
    bad = sorted(set(options) & {"model", "sfreq", "seed", "deterministic"})
    if bad:
        raise ConfigError(f"training must not set {bad}; the evaluation sets them per pipeline and fold.")
    clf = EEGClassifier(model=name, sfreq=sfreq, seed=seed, deterministic=deterministic, **options)
    return Pipeline([*steps, ("net", clf)])
