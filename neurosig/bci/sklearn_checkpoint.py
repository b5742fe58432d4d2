"""Save and load fitted scikit-learn decoders without pickles: a ``bci-sklearn`` checkpoint.

A fitted :class:`sklearn.pipeline.Pipeline` is written with
:func:`neurosig.core.persist.save_checkpoint` as plain values and tensors: for every step its type
*name* (one of :data:`TRUSTED`), its constructor parameters and its fitted attributes (arrays as
tensors, strings and numbers as plain values; callables a step keeps for fitting, such as MNE CSP's
covariance function, are left out: a loaded decoder predicts, it is not refitted). Loading reads the
file with ``torch.load(weights_only=True)``, looks each type name up in :data:`TRUSTED` (a file
cannot name any other class), calls the constructor with the saved parameters and sets the fitted
attributes back. No code from the file runs: a ``.joblib`` or pickle file could execute anything
when loaded, so neurosig never loads one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.errors import ConfigError, FormatError
from neurosig.core.persist import load_checkpoint, save_checkpoint

__all__ = ["KIND", "TRUSTED", "load_sklearn", "save_sklearn"]

KIND = "bci-sklearn"
_PLAIN = (str, int, float, bool, type(None))


def _scale() -> type:
    from neurosig.bci.preprocessing import Scale

    return Scale


def _csp() -> type:
    from mne.decoding import CSP

    return CSP


def _vectorizer() -> type:
    from mne.decoding import Vectorizer

    return Vectorizer


def _lda() -> type:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    return LinearDiscriminantAnalysis


def _logistic() -> type:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression


def _standard_scaler() -> type:
    from sklearn.preprocessing import StandardScaler

    return StandardScaler


def _covariances() -> type:
    from pyriemann.estimation import Covariances

    return Covariances


def _tangent_space() -> type:
    from pyriemann.tangentspace import TangentSpace

    return TangentSpace


#: The estimator types a ``bci-sklearn`` checkpoint may hold (the classical baselines' steps), by name.
TRUSTED: dict[str, Callable[[], type]] = {
    "neurosig.Scale": _scale,
    "mne.CSP": _csp,
    "mne.Vectorizer": _vectorizer,
    "sklearn.LinearDiscriminantAnalysis": _lda,
    "sklearn.LogisticRegression": _logistic,
    "sklearn.StandardScaler": _standard_scaler,
    "pyriemann.Covariances": _covariances,
    "pyriemann.TangentSpace": _tangent_space,
}


def _type_name(step: Any) -> str:
    for name, load in TRUSTED.items():
        if name.rpartition(".")[2] == type(step).__name__:
            try:
                if type(step) is load():
                    return name
            except ImportError:
                continue
    raise ConfigError(
        f"cannot save a {type(step).__module__}.{type(step).__name__} step as a decoder: only "
        f"{sorted(TRUSTED)} can be saved and loaded without pickles. Build the decoder from these steps "
        "(see neurosig.bci.pipelines.make_baseline), or save a network as an EEGClassifier."
    )


def _split(value: Any, key: str, tensors: dict[str, Any]) -> Any:
    """A plain value for the config; numeric arrays go to ``tensors`` under ``key``."""
    import torch

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        tensors[key] = torch.from_numpy(np.ascontiguousarray(value))
        return {"tensor": key}
    if isinstance(value, np.ndarray) and value.dtype.kind in "US":
        return {"strings": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, list | tuple) and all(isinstance(v, _PLAIN) for v in value):
        return {type(value).__name__: list(value)}
    if isinstance(value, dict) and all(isinstance(v, _PLAIN) for v in value.values()):
        return {"dict": value}
    raise ConfigError(
        f"cannot save the decoder's {key} ({type(value).__name__}) without a pickle; only numbers, "
        "strings and numeric or string arrays can be saved."
    )


def save_sklearn(model: Any, path: str | Path) -> Path:
    """Write a fitted scikit-learn pipeline as a ``bci-sklearn`` checkpoint (exclusive, atomic).

    Parameters
    ----------
    model : sklearn.pipeline.Pipeline | estimator
        Fitted; every step of a type in :data:`TRUSTED`.
    path : str | Path
        The checkpoint file (``.pt``).

    Raises
    ------
    ConfigError
        If a step is of another type or holds a value that is not a number, string or array.
    """
    from sklearn.pipeline import Pipeline

    steps = model.steps if isinstance(model, Pipeline) else [("model", model)]
    config: list[dict[str, Any]] = []
    tensors: dict[str, Any] = {}
    for name, step in steps:
        params = step.get_params(deep=False)
        fitted = {k: v for k, v in vars(step).items() if k not in params and not callable(v)}
        config.append(
            {
                "name": name,
                "type": _type_name(step),
                "params": {k: _split(v, f"{name}.params.{k}", tensors) for k, v in params.items()},
                "fitted": {k: _split(v, f"{name}.{k}", tensors) for k, v in fitted.items()},
            }
        )
    return save_checkpoint(path, KIND, {"steps": config}, tensors)


def _join(value: Any, tensors: dict[str, Any]) -> Any:
    if not isinstance(value, dict):
        return value
    if "tensor" in value:
        return tensors[value["tensor"]].numpy()
    if "strings" in value:
        return np.asarray(value["strings"], dtype=value["dtype"])
    if "tuple" in value:
        return tuple(value["tuple"])
    if "dict" in value:
        return dict(value["dict"])
    return list(value["list"])


def load_sklearn(path: str | Path) -> Any:
    """Rebuild the scikit-learn pipeline of a ``bci-sklearn`` checkpoint; no code from the file runs.

    Raises
    ------
    FormatError
        If the file is not such a checkpoint (see :func:`~neurosig.core.persist.load_checkpoint`), names
        a type outside :data:`TRUSTED`, or its values do not rebuild the steps.
    """
    from sklearn.pipeline import Pipeline

    checkpoint = load_checkpoint(path, KIND)
    steps = []
    try:
        for spec in checkpoint.config["steps"]:
            if spec["type"] not in TRUSTED:
                raise FormatError(
                    f"step {spec['name']!r} is a {spec['type']!r}, which is not among the types a "
                    f"decoder may hold ({sorted(TRUSTED)}); refit the decoder with neurosig.",
                    path=checkpoint.path,
                )
            params = {k: _join(v, checkpoint.state_dict) for k, v in spec["params"].items()}
            step = TRUSTED[spec["type"]]()(**params)
            for key, value in spec["fitted"].items():
                setattr(step, key, _join(value, checkpoint.state_dict))
            steps.append((spec["name"], step))
    except FormatError:
        raise
    except Exception as err:  # noqa: BLE001 - the values come from the file; constructors raise anything
        raise FormatError(
            f"the saved steps do not rebuild a decoder ({type(err).__name__}: {err}); refit it.",
            path=checkpoint.path,
        ) from None
    return Pipeline(steps)
