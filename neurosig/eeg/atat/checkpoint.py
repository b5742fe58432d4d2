"""Model registry, inference and checkpoints of the EMG-removal networks.

A checkpoint is one ``torch.save`` file of plain tensors and a config dict (model name, constructor
parameters, training settings), loadable with ``weights_only=True``. The ``atat`` stage reads them;
the training harness (:mod:`neurosig.eeg.atat.train`) writes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neurosig.core.errors import ConfigError, FormatError
from neurosig.core.validate import check_existing_file, check_option
from neurosig.eeg.atat.baselines import FCNN, ResCNN, SimpleCNN
from neurosig.eeg.atat.model import ATAT, ATATConfig

__all__ = ["MODELS", "build_model", "predict", "save_model", "load_model"]

MODELS = ("atat", "fcnn", "simple_cnn", "rescnn")


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
    """Write weights with their config to ``path`` (via ``PATH.partial``, renamed when complete).

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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": name,
        "params": dict(params),
        "train_config": dict(train_config or {}),
        "extra": dict(extra or {}),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
    }
    tmp = path.with_name(path.name + ".partial")
    torch.save(payload, tmp)
    tmp.replace(path)


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
    path = check_existing_file(path, "model weights")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many kinds of errors on bad files
        raise FormatError(f"cannot read torch weights ({err}).", path=path) from None
    if not isinstance(payload, dict) or not {"model", "params", "state_dict"} <= set(payload):
        raise FormatError(
            "not a neurosig denoiser checkpoint (needs 'model', 'params', 'state_dict'); "
            "write one with neurosig.eeg.atat.checkpoint.save_model or the atat_train job.",
            path=path,
        )
    try:
        model = build_model(payload["model"], payload["params"])
        model.load_state_dict(payload["state_dict"])
    except (ConfigError, RuntimeError, TypeError) as err:
        raise FormatError(f"weights do not match their saved config ({err}).", path=path) from None
    model.eval()
    meta = {k: v for k, v in payload.items() if k != "state_dict"}
    return model, meta
