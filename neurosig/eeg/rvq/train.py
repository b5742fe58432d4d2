"""The training loop: seeded, checkpointed, with a progress bar and a wall-clock budget."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from neurosig.core.errors import DataError
from neurosig.eeg.rvq.config import TokenizerConfig
from neurosig.eeg.rvq.loss import tokenizer_loss
from neurosig.eeg.rvq.model import TokenizerNet
from neurosig.eeg.rvq.tokenizer import Tokenizer

__all__ = ["TrainResult", "fit", "train_steps"]


@dataclass
class TrainResult:
    """What :func:`fit` produced.

    Attributes
    ----------
    tokenizer : Tokenizer
        The trained tokenizer (in eval mode).
    steps : int
        Optimiser steps taken (fewer than asked when the time budget ran out).
    seconds : float
        Wall-clock training time.
    history : list of dict
        Mean loss parts every ``log_every`` steps.
    """

    tokenizer: Tokenizer
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def train_steps(
    net: TokenizerNet,
    patches: np.ndarray,
    steps: int,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    batch_size: int = 256,
) -> dict[str, float]:
    """Run ``steps`` optimiser steps on random batches of ``patches``; return the last loss parts."""
    net.train()
    parts: dict[str, float] = {}
    for _ in range(steps):
        x = torch.from_numpy(patches[rng.integers(0, len(patches), batch_size)])
        loss, parts = tokenizer_loss(x, net(x), net.config)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
    net.eval()
    return parts


def fit(
    patches: np.ndarray,
    config: TokenizerConfig,
    steps: int = 3000,
    batch_size: int = 256,
    lr: float = 2e-3,
    seed: int = 0,
    max_seconds: float | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    log_every: int = 50,
    progress: bool = False,
) -> TrainResult:
    """Train a tokenizer on normalised patches.

    Parameters
    ----------
    patches : ndarray, shape (n_patches, patch_len)
        Training patches in normalised units (see :meth:`Tokenizer.patches`).
    config : TokenizerConfig
        The model to train.
    steps, batch_size : int
        Optimiser steps and patches per step.
    lr : float
        Peak learning rate of AdamW (linear warm-up over 5 % of the steps, cosine decay).
    seed : int
        Seeds the weights and the batch draws.
    max_seconds : float | None
        Stop early when this wall-clock budget (s) is spent; the learning-rate schedule is stretched
        over ``steps`` regardless.
    checkpoint : str | Path | None
        Where to save the model every ``checkpoint_every`` steps and at the end.
    log_every : int
        Steps per entry of the history.
    progress : bool
        Show a progress bar.

    Raises
    ------
    DataError
        If there are fewer patches than one batch, or they have the wrong length.
    """
    patches = np.ascontiguousarray(patches, dtype=np.float32)
    if patches.ndim != 2 or patches.shape[1] != config.patch_len:
        raise DataError(f"patches must be (n, {config.patch_len}), got {patches.shape}.")
    if len(patches) < batch_size:
        raise DataError(f"{len(patches)} training patches are fewer than one batch ({batch_size}); add data.")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = TokenizerNet(config)
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    warmup = max(1, steps // 20)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history: list[dict[str, float]] = []
    sums: dict[str, float] = {}
    t0 = time.perf_counter()
    done = 0
    bar = tqdm(total=steps, disable=not progress, desc=f"rvq {config.quantizer}", unit="step")
    try:
        while done < steps:
            parts = train_steps(net, patches, 1, optimizer, rng, batch_size)
            scheduler.step()
            done += 1
            bar.update()
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value
            if done % log_every == 0 or done == steps:
                n = log_every if done % log_every == 0 else done % log_every
                history.append({"step": done, **{k: v / n for k, v in sums.items()}})
                bar.set_postfix(time_loss=f"{history[-1]['time']:.3f}", amp_loss=f"{history[-1]['amp']:.3f}")
                sums = {}
            if checkpoint is not None and done % checkpoint_every == 0:
                Tokenizer(config, net).save(checkpoint)
                net.train()
            if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
                bar.set_description(f"rvq {config.quantizer} (stopped by the {max_seconds:g}-s budget)")
                break
    finally:
        bar.close()
    tokenizer = Tokenizer(config, net)
    if checkpoint is not None:
        tokenizer.save(checkpoint)
    return TrainResult(tokenizer, done, time.perf_counter() - t0, history)
