"""Baseline EMG-removal networks of the EEGdenoiseNet benchmark, plus no-op and band-pass references.

All map normalised epochs ``(batch, 512)`` to denoised epochs of the same shape and are trained by
the same harness as AT-AT (:mod:`neurosig.eeg.atat.train`). Layer sizes follow the descriptions in
Zhang et al. 2021 (FCNN, simple CNN) and Sun et al. 2020 (1D-ResCNN).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import signal
from torch import nn

__all__ = ["FCNN", "SimpleCNN", "ResCNN", "bandpass_reference"]


class FCNN(nn.Module):
    """EEGdenoiseNet's fully-connected network: four hidden layers of ``n_times`` units, ReLU, dropout."""

    def __init__(self, n_times: int = 512, n_hidden: int = 4, dropout: float = 0.1):
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(n_hidden):
            layers += [nn.Linear(n_times, n_times), nn.ReLU(), nn.Dropout(dropout)]
        self.net = nn.Sequential(*layers, nn.Linear(n_times, n_times))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise ``(batch, n_times)``."""
        return self.net(x)


class SimpleCNN(nn.Module):
    """EEGdenoiseNet's simple CNN: four conv–BN–ReLU layers (64 filters, kernel 3), then a dense map."""

    def __init__(self, n_times: int = 512, channels: int = 64, n_layers: int = 4):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for _ in range(n_layers):
            layers += [nn.Conv1d(c_in, channels, 3, padding=1), nn.BatchNorm1d(channels), nn.ReLU()]
            c_in = channels
        self.features = nn.Sequential(*layers)
        self.dense = nn.Linear(channels * n_times, n_times)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise ``(batch, n_times)``."""
        return self.dense(self.features(x.unsqueeze(1)).flatten(1))


class _ResBlock(nn.Module):
    def __init__(self, channels: int, kernel: int):
        super().__init__()
        pad = kernel // 2
        self.body = nn.Sequential(
            nn.Conv1d(channels, channels, kernel, padding=pad),
            nn.BatchNorm1d(channels),
            nn.ReLU(),
            nn.Conv1d(channels, channels // 2, kernel, padding=pad),
            nn.BatchNorm1d(channels // 2),
            nn.ReLU(),
            nn.Conv1d(channels // 2, channels, kernel, padding=pad),
            nn.BatchNorm1d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class ResCNN(nn.Module):
    """1D-ResCNN (Sun et al. 2020): three residual branches (kernels 3, 5, 7), fused, then a dense map."""

    def __init__(self, n_times: int = 512, channels: int = 32, blocks: int = 3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(1, channels, 5, padding=2), nn.BatchNorm1d(channels), nn.ReLU())
        self.branches = nn.ModuleList(
            nn.Sequential(*[_ResBlock(channels, k) for _ in range(blocks)]) for k in (3, 5, 7)
        )
        self.fuse = nn.Sequential(nn.Conv1d(3 * channels, channels, 1), nn.BatchNorm1d(channels), nn.ReLU())
        self.dense = nn.Linear(channels * n_times, n_times)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise ``(batch, n_times)``."""
        h = self.stem(x.unsqueeze(1))
        h = self.fuse(torch.cat([b(h) for b in self.branches], dim=1))
        return self.dense(h.flatten(1))


def bandpass_reference(noisy: np.ndarray, sfreq: float = 256.0, band: tuple[float, float] = (1.0, 40.0)):
    """Zero-phase Butterworth band-pass (order 4) of epochs ``(n, n_times)``; band in Hz."""
    sos = signal.butter(4, band, btype="band", fs=sfreq, output="sos")
    return signal.sosfiltfilt(sos, noisy, axis=-1).astype(np.float32)
