"""Training loop for delay networks (the ``snn_delays`` job in :mod:`neurosig.jobs.snn_delays` runs it).

Each epoch appends a JSON line of metrics to ``metrics.jsonl``; the best and the last states are saved
as :mod:`neurosig.core.persist` checkpoints of kind ``snn-delay`` (model config beside the weights,
loaded with ``weights_only=True``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from neurosig.core import persist
from neurosig.core.errors import ConfigError, DataError
from neurosig.snn.delays import sigma_schedule
from neurosig.snn.models import DelaySNN, build_model

__all__ = ["fit", "evaluate", "load_checkpoint", "KIND"]

#: The checkpoint kind of delay networks.
KIND = "snn-delay"

Batches = Iterable[tuple[Any, Any]]


def _tensors(x, y, device: torch.device | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, dtype=torch.float32, device=device)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y, dtype=torch.int64, device=device)
    if x.dim() != 3 or y.dim() != 1 or x.shape[1] != y.shape[0]:
        raise DataError(
            f"batches must be (x, y) with x of shape (T, batch, channels) and y of shape (batch,); "
            f"got {tuple(x.shape)} and {tuple(y.shape)}."
        )
    return x, y


@torch.no_grad()
def evaluate(model: nn.Module, batches: Batches, rounded: bool = False) -> dict[str, float]:
    """Mean cross-entropy and accuracy of ``model`` (in eval mode) over ``batches``.

    With ``rounded=True`` every delay layer runs with integer delays (as deployed), and is switched
    back afterwards.
    """
    model.eval()
    layers = [m for m in model.modules() if hasattr(m, "round_delays")]
    before = [layer.rounded for layer in layers]
    for layer in layers:
        layer.rounded = rounded or layer.rounded
    try:
        return _evaluate(model, batches)
    finally:
        for layer, flag in zip(layers, before, strict=True):
            layer.rounded = flag


def _evaluate(model: nn.Module, batches: Batches) -> dict[str, float]:
    total, correct, loss = 0, 0, 0.0
    device = next(model.parameters()).device
    for x, y in batches:
        x, y = _tensors(x, y, device)
        scores = model(x)
        loss += float(F.cross_entropy(scores, y, reduction="sum"))
        correct += int((scores.argmax(1) == y).sum())
        total += len(y)
    if total == 0:
        raise DataError("no samples to evaluate; check the split fractions and the data file.")
    return {"loss": loss / total, "accuracy": correct / total}


def _optimizer(model: DelaySNN, lr: float, position_lr: float, weight_decay: float) -> torch.optim.Optimizer:
    positions = [p for n, p in model.named_parameters() if n.endswith(".P")]
    others = [p for n, p in model.named_parameters() if not n.endswith(".P")]
    groups = [{"params": others, "lr": lr, "weight_decay": weight_decay}]
    if positions:
        groups.append({"params": positions, "lr": position_lr, "weight_decay": 0.0})
    return torch.optim.Adam(groups)


def _save(path: Path, model: DelaySNN, **extra: Any) -> None:
    persist.save_checkpoint(path, KIND, model.config, model.state_dict(), extra)


def load_checkpoint(path: str | Path) -> tuple[DelaySNN, dict[str, Any]]:
    """Rebuild a network from a checkpoint (``weights_only=True``); return it and the extras.

    The network is a :class:`DelaySNN` or a :class:`~neurosig.snn.models.ConvSNN` (``build_model``).

    Raises
    ------
    FormatError
        If the file is not a delay-network checkpoint, or its config or weights are invalid.
    """
    model, checkpoint = persist.restore(path, KIND, build_model)
    return model, dict(checkpoint.extra)


def fit(
    model: DelaySNN,
    train_batches: Callable[[int], Batches],
    val_batches: Callable[[], Batches],
    epochs: int,
    lr: float = 1e-3,
    position_lr: float = 0.1,
    weight_decay: float = 1e-5,
    sigma_start: float | None = None,
    sigma_end: float = 0.23,
    sigma_fraction: float = 0.25,
    output_dir: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train ``model`` and keep the state with the best validation accuracy (with rounded delays).

    Parameters
    ----------
    model : DelaySNN
        The network (trained in place, on the device it is on; on return it holds the best validation
        state).
    train_batches : callable
        ``train_batches(epoch)`` returns the epoch's iterable of ``(x (T, batch, C), y (batch,))``.
    val_batches : callable
        ``val_batches()`` returns the validation batches.
    epochs : int
        Number of passes over the training data.
    lr, position_lr : float
        Adam learning rates of the weights and of the delay positions (cosine-annealed).
    weight_decay : float
        L2 penalty on the weights (not on positions).
    sigma_start, sigma_end, sigma_fraction : float
        Gaussian width schedule of the delays in steps (default start: ``kernel_size // 2``), see
        :func:`~neurosig.snn.delays.sigma_schedule`.
    output_dir : str | Path | None
        Where ``metrics.jsonl``, ``best.pt`` and ``last.pt`` go (nothing is written when ``None``).
    progress : bool
        Show a progress bar over epochs.

    Returns
    -------
    dict
        ``history`` (one dict per epoch), ``best_epoch``, ``best_val_accuracy``.
    """
    if epochs < 1:
        raise ConfigError(f"epochs must be >= 1, got {epochs}.")
    from tqdm.auto import tqdm

    out = None if output_dir is None else Path(output_dir)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.jsonl").write_text("")
    optimizer = _optimizer(model, lr, position_lr, weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    start = float(model.config["kernel_size"] // 2) if sigma_start is None else sigma_start
    history, best_acc, best_epoch, best_state = [], -1.0, -1, None
    device = next(model.parameters()).device  # batches go where the model is
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        tic = time.perf_counter()
        sigma = sigma_schedule(epoch, epochs, start=start, end=sigma_end, fraction=sigma_fraction)
        for layer in model.delay_layers():
            layer.set_sigma(sigma)
        model.train()
        seen, loss_sum, correct = 0, 0.0, 0
        for x, y in train_batches(epoch):
            x, y = _tensors(x, y, device)
            scores = model(x)
            loss = F.cross_entropy(scores, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            for layer in model.delay_layers():
                layer.clamp_positions()
            seen += len(y)
            loss_sum += float(loss.detach()) * len(y)
            correct += int((scores.argmax(1) == y).sum())
        scheduler.step()
        val = evaluate(model, val_batches(), rounded=True)
        row = {
            "epoch": epoch,
            "sigma": sigma,
            "train_loss": loss_sum / max(seen, 1),
            "train_accuracy": correct / max(seen, 1),
            "val_loss": val["loss"],
            "val_accuracy": val["accuracy"],
            "seconds": time.perf_counter() - tic,
        }
        history.append(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{val['accuracy']:.3f}")
        if val["accuracy"] > best_acc:
            best_acc, best_epoch = val["accuracy"], epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if out is not None:
                _save(out / "best.pt", model, epoch=epoch, val_accuracy=best_acc)
        if out is not None:
            with open(out / "metrics.jsonl", "a") as log:
                log.write(json.dumps(row) + "\n")
            _save(out / "last.pt", model, epoch=epoch, val_accuracy=val["accuracy"])
    model.load_state_dict(best_state)
    return {"history": history, "best_epoch": best_epoch, "best_val_accuracy": best_acc}
