"""Decode epochs online: the ``classify`` stage publishes one prediction per epoch."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.chunks import EpochsChunk, EpochsInfo
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.stage import Stage
from neurosig.core.validate import check_existing_file

__all__ = ["Classify", "fit_decoder", "load_decoder", "save_decoder"]


def save_decoder(model: Any, path: str | Path) -> Path:
    """Save a fitted decoder for :class:`Classify`.

    An :class:`~neurosig.bci.classifier.EEGClassifier` is written with its own ``save`` (``.pt``,
    weights with their config); any other scikit-learn estimator with joblib (``.joblib``).
    """
    from neurosig.bci.classifier import EEGClassifier

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(model, EEGClassifier):
        return model.save(path.with_suffix(".pt"))
    import joblib

    joblib.dump(model, path.with_suffix(".joblib"))
    return path.with_suffix(".joblib")


def load_decoder(path: str | Path) -> Any:
    """Load a decoder saved by :func:`save_decoder` (``.pt`` EEGClassifier or ``.joblib`` estimator).

    Raises
    ------
    ConfigError
        For another extension. A ``.joblib`` file is a pickle: load only files you made.
    """
    path = check_existing_file(path, "decoder")
    if path.suffix == ".pt":
        from neurosig.bci.classifier import load_classifier

        return load_classifier(path)
    if path.suffix == ".joblib":
        import joblib

        return joblib.load(path)
    raise ConfigError(
        f"{path}: decoders are .pt (EEGClassifier.save) or .joblib (a scikit-learn pipeline saved with "
        "neurosig.bci.online.save_decoder), not {path.suffix!r}."
    )


class Classify(Stage):
    """Predict the class of every epoch with a saved decoder.

    Each epochs chunk becomes one of decisions: the same onsets, ``labels`` the predicted classes, and
    ``data`` the class probabilities ``(n_epochs, n_classes, 1)`` (channels named after the classes;
    one-hot when the decoder has no ``predict_proba``). An ``lsl`` sink publishes the labels as
    markers, an ``hdf5`` sink stores them with their onsets.

    Parameters
    ----------
    model : str
        A decoder file from :func:`save_decoder`: an EEGClassifier (``.pt``) or a scikit-learn
        pipeline (``.joblib``) that takes epochs ``(n, channels, samples)`` in volts.
    """

    name = "classify"
    accepts = (EpochsChunk,)

    def __init__(self, model: str):
        self.model = model

    def reset(self) -> None:
        self._decoder = None
        self._info: EpochsInfo | None = None

    def _setup(self, info: EpochsInfo) -> None:
        self._decoder = load_decoder(self.model)
        classes = [str(c) for c in getattr(self._decoder, "classes_", [])]
        if not classes:
            raise DataError(f"{self.model}: the decoder is not fitted (it has no classes_).")
        self._info = EpochsInfo(info.sfreq, tuple(classes), ("misc",) * len(classes), info.tmin, 1, "1")

    def _process(self, chunk: EpochsChunk) -> Iterable[EpochsChunk]:
        if self._decoder is None:
            self._setup(chunk.info)
        if chunk.n_epochs == 0:
            return
        classes = np.asarray(self._info.ch_names)
        if hasattr(self._decoder, "predict_proba"):
            proba = np.asarray(self._decoder.predict_proba(chunk.data))
        else:
            predicted = np.asarray(self._decoder.predict(chunk.data)).astype(str)
            proba = (predicted[:, None] == classes[None, :]).astype(np.float64)
        labels = classes[np.argmax(proba, axis=1)]
        yield EpochsChunk(proba[:, :, None], self._info, chunk.onsets, tuple(labels), chunk.start)


def fit_decoder(
    pipeline: str | Path | dict[str, Any],
    files: list[str | Path],
    out: str | Path,
    baseline: str = "csp_lda",
) -> Path:
    """Fit a classical decoder on recordings cut by a pipeline's own stages, for :class:`Classify`.

    Each file runs through the pipeline's stages up to (not including) ``classify`` — the same
    causal filters and epochs as online — and the epochs with their marker labels train
    ``baseline`` (see :func:`neurosig.bci.pipelines.make_baseline`).

    Parameters
    ----------
    pipeline : str | Path | dict
        The online pipeline (e.g. ``pipelines/realtime.yaml``); its source is replaced by each file.
    files : list of path
        Training recordings (any format MNE reads), with the markers the epochs stage locks to.
    out : str | Path
        Where to save the decoder (``.joblib``).
    baseline : str
        ``"csp_lda"`` or ``"ts_lr"``.

    Returns
    -------
    path : Path
        The saved decoder.
    """
    from sklearn.pipeline import Pipeline as SkPipeline

    from neurosig.bci.pipelines import make_baseline
    from neurosig.core.config import build_pipeline, load_config

    config = load_config(pipeline)
    stages = []
    for spec in config.stages:
        if spec.type == Classify.name:
            break
        stages.append(spec.model_dump(exclude_none=True))
    X, y = [], []
    for path in files:
        run = build_pipeline({"source": {"type": "file", "path": str(path)}, "stages": stages})
        for chunk in run.iter_chunks():
            if isinstance(chunk, EpochsChunk):
                X.append(chunk.data)
                y.extend(chunk.labels)
    if not X:
        raise DataError(f"the pipeline's stages cut no epochs from {[str(f) for f in files]}.")
    model = SkPipeline(make_baseline(baseline)).fit(np.concatenate(X), np.asarray(y))
    return save_decoder(model, out)
