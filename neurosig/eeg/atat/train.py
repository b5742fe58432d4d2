"""One training harness for AT-AT and the baselines: seeded, early stopping, checkpoints.

Every epoch draws fresh training pairs (random clean epoch, random EMG epoch with random sign,
SNR uniform in [−7, 2] dB); validation uses fixed seeded pairs and the training loss. The best model
on validation is kept and written as a checkpoint (``torch.save`` of plain tensors and a config dict,
loadable with ``weights_only=True``). AT-AT first pre-trains its autoencoder on clean EEG, then trains
the transformer with the loss plus a least-squares adversarial term from its discriminator.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from neurosig.core.validate import check_option
from neurosig.eeg.atat.checkpoint import build_model, predict, save_model
from neurosig.eeg.atat.metrics import METRICS, cc, rrmse_s, rrmse_t
from neurosig.eeg.atat.model import ATAT, Discriminator
from neurosig.eeg.atat.pairs import SFREQ, TEST_SNRS, TRAIN_SNR_RANGE, DenoiseData, make_pairs

__all__ = ["SIZES", "TrainConfig", "TrainResult", "fit", "evaluate"]

#: AT-AT sizes: ``tiny`` for tests, ``small`` for the benchmark and the shipped weights.
SIZES: dict[str, dict[str, int]] = {
    "tiny": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32, "ae_channels": 4},
    "small": {"d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 64, "ae_channels": 8},
    "medium": {"d_model": 48, "n_heads": 4, "n_layers": 3, "d_ff": 96, "ae_channels": 8},
}


@dataclass
class TrainConfig:
    """How to train one model.

    Parameters
    ----------
    model : str
        ``atat``, ``fcnn``, ``simple_cnn`` or ``rescnn``.
    size : str
        AT-AT size preset (see :data:`SIZES`); ignored by the baselines.
    epochs : int
        Maximum passes; each pass draws ``samples_per_epoch`` fresh pairs.
    samples_per_epoch, batch_size : int
        Pairs per pass and per optimiser step.
    lr : float
        Adam learning rate, decayed by a cosine over ``epochs``.
    patience : int
        Stop after this many passes without a better validation MSE.
    seed : int
        Seeds torch and the pair draws.
    adv_weight : float
        Weight of the adversarial term for AT-AT (0 turns the discriminator off).
    ae_epochs : int
        AT-AT autoencoder pre-training passes on clean EEG.
    val_samples : int
        Validation pairs (fixed, seeded).
    max_seconds : float | None
        Wall-clock budget for the training passes; stops early when exceeded.
    loss : {"mse", "relative"}
        ``mse`` (EEGdenoiseNet's loss), or ``relative``: each epoch's squared error divided by its
        clean target's mean power, so low-SNR pairs (small targets after normalisation) count as
        much as high-SNR ones.
    """

    model: str = "atat"
    size: str = "small"
    epochs: int = 40
    samples_per_epoch: int = 8192
    batch_size: int = 64
    lr: float = 2e-3
    patience: int = 6
    seed: int = 0
    adv_weight: float = 0.02
    ae_epochs: int = 3
    val_samples: int = 2048
    max_seconds: float | None = None
    loss: str = "mse"

    def model_params(self) -> dict[str, Any]:
        """Constructor parameters of the model this config trains."""
        if self.model == "atat":
            check_option("size", self.size, SIZES)
            return dict(SIZES[self.size])
        return {}


@dataclass
class TrainResult:
    """A trained model and how training went.

    Attributes
    ----------
    model : nn.Module
        The best model on validation (eval mode).
    history : list of dict
        Per pass: ``epoch``, ``train_loss``, ``val_loss``, ``seconds``.
    best_epoch : int
        The pass whose weights were kept.
    seconds : float
        Wall-clock training time (autoencoder pre-training included).
    n_params : int
        Trainable parameters used at inference (the discriminator excluded).
    """

    model: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    n_params: int = 0


def _draw_pairs(data: DenoiseData, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    eeg = data.eeg["train"][rng.integers(0, len(data.eeg["train"]), n)]
    emg = data.emg["train"][rng.integers(0, len(data.emg["train"]), n)]
    emg = emg * rng.choice([-1.0, 1.0], (n, 1))
    snr = rng.uniform(*TRAIN_SNR_RANGE, n)
    noisy, clean = make_pairs(eeg, emg, snr)
    return torch.from_numpy(noisy), torch.from_numpy(clean)


def _pretrain_autoencoder(model: ATAT, data: DenoiseData, cfg: TrainConfig, rng: np.random.Generator):
    ae = model.autoencoder
    opt = torch.optim.Adam(ae.parameters(), lr=cfg.lr)
    ae.train()
    for _ in range(cfg.ae_epochs):
        clean = data.eeg["train"][rng.integers(0, len(data.eeg["train"]), cfg.samples_per_epoch)]
        x = torch.from_numpy((clean / clean.std(axis=1, keepdims=True)).astype(np.float32))
        for batch in x.split(cfg.batch_size):
            loss = torch.mean((ae(batch) - batch) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for p in ae.parameters():
        p.requires_grad_(False)


def _loss(out: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    err = torch.mean((out - target) ** 2, dim=1)
    if kind == "relative":
        err = err / torch.mean(target**2, dim=1).clamp_min(1e-6)
    return err.mean()


def _lsgan_step(disc, opt, real, fake):
    loss = 0.5 * (torch.mean((disc(real) - 1) ** 2) + torch.mean(disc(fake) ** 2))
    opt.zero_grad()
    loss.backward()
    opt.step()


def fit(
    data: DenoiseData,
    cfg: TrainConfig,
    checkpoint: str | Path | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train one model with the shared harness.

    Parameters
    ----------
    data : DenoiseData
        Train and validation epochs.
    cfg : TrainConfig
        What and how to train.
    checkpoint : str | Path | None
        Where to write the best model whenever validation improves (see
        :func:`neurosig.eeg.atat.checkpoint.save_model`).
    progress : bool
        Show a progress bar over epochs with the training and validation losses.

    Returns
    -------
    TrainResult
    """
    check_option("loss", cfg.loss, ("mse", "relative"))
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = build_model(cfg.model, cfg.model_params())
    t0 = time.perf_counter()
    disc = disc_opt = None
    if isinstance(model, ATAT):
        _pretrain_autoencoder(model, data, cfg, rng)
        if cfg.adv_weight > 0:
            disc = Discriminator(n_times=model.config.n_times)
            disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    val_snr = np.random.default_rng(cfg.seed + 1).uniform(*TRAIN_SNR_RANGE, cfg.val_samples)
    val_x, val_y = data.fixed_pairs(
        "val",
        val_snr[: min(cfg.val_samples, len(data.eeg["val"]))],
        seed=cfg.seed + 1,
        max_epochs=cfg.val_samples,
    )
    result = TrainResult(model, n_params=sum(p.numel() for p in model.parameters()))
    best, best_state, stale = np.inf, copy.deepcopy(model.state_dict()), 0
    bar = tqdm(range(1, cfg.epochs + 1), desc=cfg.model, unit="epoch", disable=not progress)
    for epoch in bar:
        model.train()
        x, y = _draw_pairs(data, cfg.samples_per_epoch, rng)
        total = 0.0
        for xb, yb in zip(x.split(cfg.batch_size), y.split(cfg.batch_size), strict=True):
            out = model(xb)
            loss = _loss(out, yb, cfg.loss)
            total += float(loss.detach()) * len(xb)
            if disc is not None:
                _lsgan_step(disc, disc_opt, yb, out.detach())
                loss = loss + cfg.adv_weight * torch.mean((disc(out) - 1) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        val = float(_loss(torch.from_numpy(predict(model, val_x)), torch.from_numpy(val_y), cfg.loss))
        elapsed = time.perf_counter() - t0
        result.history.append(
            {"epoch": epoch, "train_loss": total / len(x), "val_loss": val, "seconds": elapsed}
        )
        bar.set_postfix(
            train_loss=f"{total / len(x):.4f}", val_loss=f"{val:.4f}", best=f"{min(best, val):.4f}"
        )
        if val < best:
            best, best_state, stale, result.best_epoch = val, copy.deepcopy(model.state_dict()), 0, epoch
            if checkpoint is not None:
                extra = {"epoch": epoch, "val_loss": val}
                save_model(checkpoint, model, cfg.model, cfg.model_params(), asdict(cfg), extra)
        else:
            stale += 1
        if stale >= cfg.patience or (cfg.max_seconds is not None and elapsed > cfg.max_seconds):
            break
    bar.close()
    model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - t0
    return result


def evaluate(
    denoise: Callable[[np.ndarray], np.ndarray],
    data: DenoiseData,
    snrs: np.ndarray = TEST_SNRS,
    max_epochs: int | None = None,
    seed: int = 0,
    split: str = "test",
) -> dict[str, list[float]]:
    """Mean metrics per SNR level on a split.

    Parameters
    ----------
    denoise : callable
        Maps normalised noisy epochs ``(n, 512)`` float32 to denoised epochs of the same shape.
    data : DenoiseData
        The epochs; pairs are drawn with a fixed seed, so every model sees the same pairs.
    snrs : ndarray
        SNR levels in dB.
    max_epochs : int | None
        Clean epochs per level (seeded subset), ``None`` for all.
    seed : int
        Seed of the pairing.
    split : str
        Which split to evaluate on.

    Returns
    -------
    dict
        ``snr_db`` and, per metric, one mean per level.
    """
    out: dict[str, list[float]] = {"snr_db": [float(s) for s in snrs], **{m: [] for m in METRICS}}
    funcs = {"cc": cc, "rrmse_t": rrmse_t, "rrmse_s": lambda p, c: rrmse_s(p, c, SFREQ)}
    for i, snr in enumerate(snrs):
        noisy, clean = data.fixed_pairs(split, float(snr), seed + i, max_epochs)
        pred = np.asarray(denoise(noisy), dtype=np.float64)
        for name in METRICS:
            out[name].append(float(np.mean(funcs[name](pred, clean.astype(np.float64)))))
    return out
