"""Model registry, inference and checkpoints of the EMG-removal networks.

A checkpoint is a :mod:`neurosig.core.persist` checkpoint of kind ``denoiser`` whose config holds the
model name, its constructor parameters and the training settings. The ``atat`` stage reads them;
the training harness (:mod:`neurosig.eeg.atat.train`) writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neurosig.core.persist import restore, save_checkpoint
from neurosig.core.validate import check_option
from neurosig.eeg.atat.baselines import FCNN, ResCNN, SimpleCNN
from neurosig.eeg.atat.model import ATAT, ATATConfig

__all__ = ["MODELS", "KIND", "build_model", "predict", "save_model", "load_model"]

MODELS = ("atat", "fcnn", "simple_cnn", "rescnn")
#: The checkpoint kind of the denoisers.
KIND = "denoiser"


def build_model(name: str, params: dict[str, Any] | None = None) -> nn.Module:
    """Create a fresh model by name (``atat``, ``fcnn``, ``simple_cnn``, ``rescnn``)."""
    check_option("model", name, MODELS)
    params = dict(params or {})
    if name == "atat":
        return ATAT(ATATConfig(**params))
    return {"fcnn": FCNN, "simple_cnn": SimpleCNN, "rescnn": ResCNN}[name](**params)


def predict(model: nn.Module, noisy: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Run a model on normalised epochs ``(n, n_times)`` in batches; returns float32 numpy."""
    model.eval()
    x = torch.as_tensor(np.ascontiguousarray(noisy, dtype=np.float32))
    with torch.inference_mode():
        return torch.cat([model(b) for b in x.split(batch_size)]).numpy() if len(x) else noisy.copy()


def save_model(
    path: str | Path,
    model: nn.Module,
    name: str,
    params: dict[str, Any],
    train_config: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write weights with their config to ``path``, exclusively and atomically.

    Parameters
    ----------
    path : str | Path
        The checkpoint file.
    model : nn.Module
        The network.
    name, params : str, dict
        Its registered name and constructor parameters (see :func:`build_model`).
    train_config, extra : dict | None
        How it was trained, and anything else worth keeping (epoch, validation loss).
    """
    config = {"model": name, "params": dict(params), "train_config": dict(train_config or {})}
    save_checkpoint(path, KIND, config, model.state_dict(), extra)


def load_model(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Load a model written by :func:`save_model` (``weights_only=True``).

    Returns
    -------
    model : nn.Module
        In eval mode.
    meta : dict
        ``model``, ``params``, ``train_config`` and ``extra`` as saved.

    Raises
    ------
    FormatError
        If the file is not a neurosig denoiser checkpoint.
    """
    model, checkpoint = restore(path, KIND, lambda c: build_model(c["model"], c["params"]))
    return model, {**checkpoint.config, "extra": checkpoint.extra}
