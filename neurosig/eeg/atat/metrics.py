"""EEGdenoiseNet metrics per SNR level, a markdown table and plots.

RRMSE_t = RMS(ŷ − x) / RMS(x); RRMSE_s = RMS(PSD(ŷ) − PSD(x)) / RMS(PSD(x)); CC = Pearson(ŷ, x);
each is computed per epoch; :func:`neurosig.eeg.atat.train.evaluate` averages them per SNR level.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal

from neurosig.core.figures import save_figure, subplots

__all__ = ["METRICS", "rrmse_t", "rrmse_s", "cc", "markdown_table", "plot_metrics", "plot_examples"]

#: Sampling rate of the benchmark epochs, Hz.
SFREQ = 256.0

METRICS = ("cc", "rrmse_t", "rrmse_s")


def _rms(a: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(a, dtype=np.float64), axis=-1))


def rrmse_t(pred: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Relative RMS error in time, per epoch (rows of ``(n, n_times)``)."""
    return _rms(pred - clean) / _rms(clean)


def rrmse_s(pred: np.ndarray, clean: np.ndarray, sfreq: float = SFREQ) -> np.ndarray:
    """Relative RMS error of the Welch power spectrum (1-s Hann segments), per epoch."""
    _, p_pred = signal.welch(pred, fs=sfreq, nperseg=int(sfreq), axis=-1)
    _, p_clean = signal.welch(clean, fs=sfreq, nperseg=int(sfreq), axis=-1)
    return _rms(p_pred - p_clean) / _rms(p_clean)


def cc(pred: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Pearson correlation coefficient per epoch."""
    p = pred - pred.mean(axis=-1, keepdims=True)
    c = clean - clean.mean(axis=-1, keepdims=True)
    return np.sum(p * c, axis=-1) / np.sqrt(np.sum(p * p, axis=-1) * np.sum(c * c, axis=-1))


def markdown_table(results: dict[str, dict[str, list[float]]], metric: str = "cc") -> str:
    """One row per model, one column per SNR level, for ``metric``."""
    snrs = next(iter(results.values()))["snr_db"]
    head = f"| {metric} | " + " | ".join(f"{s:.0f} dB" for s in snrs) + " | mean |"
    rule = "|---" * (len(snrs) + 2) + "|"
    rows = [
        f"| {name} | " + " | ".join(f"{v:.3f}" for v in res[metric]) + f" | {np.mean(res[metric]):.3f} |"
        for name, res in results.items()
    ]
    return "\n".join([head, rule, *rows])


def plot_metrics(results: dict[str, dict[str, list[float]]], path: str | Path) -> Path:
    """Save a PNG with one panel per metric: metric vs SNR, one line per model."""
    fig, axes = subplots(1, len(METRICS), figsize=(4 * len(METRICS), 3.2))
    for ax, metric in zip(axes, METRICS, strict=True):
        for name, res in results.items():
            ax.plot(res["snr_db"], res[metric], marker="o", ms=3, label=name)
        ax.set_xlabel("SNR (dB)")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


def plot_examples(
    noisy: np.ndarray, clean: np.ndarray, cleaned: dict[str, np.ndarray], path: str | Path, sfreq=SFREQ
) -> Path:
    """Save a PNG of a few epochs: noisy input, clean target and each model's output."""
    n = len(noisy)
    t = np.arange(noisy.shape[1]) / sfreq
    fig, axes = subplots(n, 1, figsize=(9, 2.2 * n), squeeze=False)
    for i, ax in enumerate(axes[:, 0]):
        ax.plot(t, noisy[i], color="0.75", lw=0.8, label="noisy")
        ax.plot(t, clean[i], color="k", lw=1.0, label="clean")
        for name, out in cleaned.items():
            ax.plot(t, out[i], lw=0.9, label=name)
        ax.set_ylabel("a.u.")
    axes[-1, 0].set_xlabel("time (s)")
    axes[0, 0].legend(fontsize=7, ncol=len(cleaned) + 2)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)
