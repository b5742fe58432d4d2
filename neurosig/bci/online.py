"""Decode epochs online: the ``classify`` stage publishes one prediction per epoch."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.chunks import EpochsChunk, EpochsInfo
from neurosig.core.errors import DataError, FormatError
from neurosig.core.stage import Stage
from neurosig.core.validate import check_existing_file

__all__ = ["Classify", "fit_decoder", "load_decoder", "save_decoder"]


def save_decoder(model: Any, path: str | Path) -> Path:
    """Save a fitted decoder for :class:`Classify` as a checkpoint (``.pt``) that loads without pickles.

    An :class:`~neurosig.bci.classifier.EEGClassifier` is written with its own ``save`` (kind
    ``bci-classifier``: weights with their config); a scikit-learn pipeline of the classical steps as a
    ``bci-sklearn`` checkpoint (:mod:`neurosig.bci.sklearn_checkpoint`: parameters and fitted arrays).
    """
    from neurosig.bci.classifier import EEGClassifier
    from neurosig.bci.sklearn_checkpoint import save_sklearn

    path = Path(path).with_suffix(".pt")
    if isinstance(model, EEGClassifier):
        return model.save(path)
    return save_sklearn(model, path)


def load_decoder(path: str | Path) -> Any:
    """Load a decoder saved by :func:`save_decoder`; nothing in the file is executed.

    Raises
    ------
    FormatError
        For a pickle (``.joblib``, ``.pkl``, ...): pickles can run any code when loaded, and neurosig
        never loads one. For a ``.pt`` file that is not a decoder checkpoint.
    """
    from neurosig.bci.classifier import KIND as CLASSIFIER
    from neurosig.bci.classifier import load_classifier
    from neurosig.bci.sklearn_checkpoint import KIND as SKLEARN
    from neurosig.bci.sklearn_checkpoint import load_sklearn
    from neurosig.core.persist import load_checkpoint

    path = check_existing_file(path, "decoder")
    if path.suffix != ".pt":
        raise FormatError(
            f"a decoder is a .pt checkpoint written by neurosig.bci.online.save_decoder or "
            f"`neurosig fit-decoder`, not a {path.suffix!r} file. neurosig does not load pickles "
            "(.joblib, .pkl): loading one can run any code it holds. Refit the decoder with "
            "`neurosig fit-decoder` to get a .pt file.",
            path=path,
        )
    if load_checkpoint(path, (CLASSIFIER, SKLEARN)).kind == CLASSIFIER:
        return load_classifier(path)
    return load_sklearn(path)


class Classify(Stage):
    """Predict the class of every epoch with a saved decoder.

    Each epochs chunk becomes one of decisions: the same onsets, ``labels`` the predicted classes, and
    ``data`` the class probabilities ``(n_epochs, n_classes, 1)`` (channels named after the classes;
    one-hot when the decoder has no ``predict_proba``). A decision's one sample sits at its epoch's
    last sample, where it becomes known (``tmin`` = that sample's time after the onset, s). An
    ``lsl`` sink publishes the labels as markers, an ``hdf5`` sink stores them with their onsets.

    Parameters
    ----------
    model : str
        A decoder checkpoint (``.pt``) from :func:`save_decoder`: an EEGClassifier or a scikit-learn
        pipeline that takes epochs ``(n, channels, samples)`` in volts.
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
        end = info.tmin + (info.n_times - 1) / info.sfreq  # the epoch's last sample
        self._info = EpochsInfo(info.sfreq, tuple(classes), ("misc",) * len(classes), end, 1, "1")

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
        Where to save the decoder (a ``.pt`` checkpoint; another suffix is replaced).
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
