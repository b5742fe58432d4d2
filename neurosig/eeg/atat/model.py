"""The AT-AT denoiser: autoencoder noise proxy, gated compact transformer, and its discriminator.

AT-AT (Choi 2025) removes EMG from single-channel EEG epochs (2 s at 256 Hz, normalised by the
noisy epoch's std):

1. a small convolutional **autoencoder**, trained on clean EEG, reconstructs the input; where the
   input is contaminated its reconstruction correlates poorly with it, so ``1 − corr`` per segment is
   a **noise proxy**;
2. a compact **transformer** over patches of the epoch estimates the artifact; its correction is
   applied through a per-patch **gate** ``sigmoid(k·(proxy − τ))`` whose slope ``k`` and threshold
   ``τ`` are learned, so clean-looking segments are left (mostly) as they are;
3. a **discriminator** judges epochs as real EEG or denoised output, so adversarial training keeps
   the output's spectral and temporal character EEG-like.

This module holds the networks only; training is in :mod:`neurosig.eeg.atat.train`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["ATATConfig", "ConvAutoencoder", "ATAT", "Discriminator", "segment_correlation"]


@dataclass(frozen=True)
class ATATConfig:
    """Sizes of an AT-AT model.

    Parameters
    ----------
    n_times : int
        Samples per epoch (512: 2 s at 256 Hz).
    patch : int
        Samples per transformer token.
    d_model, n_heads, n_layers, d_ff : int
        Transformer width, attention heads, encoder layers and feed-forward width.
    ae_channels : int
        Channels of the autoencoder's first convolution (the second has twice as many).
    proxy_segment : int
        Samples per noise-proxy segment (a multiple of ``patch``).
    dropout : float
        Dropout inside the transformer.
    """

    n_times: int = 512
    patch: int = 16
    d_model: int = 32
    n_heads: int = 4
    n_layers: int = 2
    d_ff: int = 64
    ae_channels: int = 8
    proxy_segment: int = 64
    dropout: float = 0.0

    def to_dict(self) -> dict:
        """Plain dict, saved beside the weights."""
        return asdict(self)


def segment_correlation(x: torch.Tensor, y: torch.Tensor, segment: int) -> torch.Tensor:
    """Pearson correlation of ``x`` and ``y`` in consecutive segments.

    Parameters
    ----------
    x, y : Tensor, shape (batch, n_times)
    segment : int
        Samples per segment; ``n_times`` must be a multiple of it.

    Returns
    -------
    Tensor, shape (batch, n_times // segment)
        Correlation per segment (0 where a segment is flat).
    """
    xs = x.reshape(x.shape[0], -1, segment)
    ys = y.reshape(y.shape[0], -1, segment)
    xs = xs - xs.mean(-1, keepdim=True)
    ys = ys - ys.mean(-1, keepdim=True)
    num = (xs * ys).sum(-1)
    den = torch.sqrt((xs * xs).sum(-1) * (ys * ys).sum(-1)).clamp_min(1e-8)
    return num / den


class ConvAutoencoder(nn.Module):
    """A three-level 1-D convolutional autoencoder (stride 2 per level) for 512-sample epochs."""

    def __init__(self, channels: int = 8):
        super().__init__()
        c1, c2 = channels, 2 * channels
        self.encoder = nn.Sequential(
            nn.Conv1d(1, c1, 7, stride=2, padding=3),
            nn.GELU(),
            nn.Conv1d(c1, c2, 7, stride=2, padding=3),
            nn.GELU(),
            nn.Conv1d(c2, c2, 7, stride=2, padding=3),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose1d(c2, c2, 8, stride=2, padding=3),
            nn.GELU(),
            nn.ConvTranspose1d(c2, c1, 8, stride=2, padding=3),
            nn.GELU(),
            nn.ConvTranspose1d(c1, 1, 8, stride=2, padding=3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct epochs ``(batch, n_times)``."""
        return self.decoder(self.encoder(x.unsqueeze(1))).squeeze(1)


class ATAT(nn.Module):
    """Autoencoder-targeted transformer for EMG removal from normalised single-channel epochs.

    Parameters
    ----------
    config : ATATConfig
        Model sizes.
    """

    def __init__(self, config: ATATConfig = ATATConfig()):
        super().__init__()
        c = config
        if c.n_times % c.proxy_segment or c.proxy_segment % c.patch:
            raise ValueError("n_times must be a multiple of proxy_segment, and proxy_segment of patch.")
        self.config = c
        self.n_tokens = c.n_times // c.patch
        self.autoencoder = ConvAutoencoder(c.ae_channels)
        self.embed = nn.Linear(c.patch + 1, c.d_model)
        self.position = nn.Parameter(torch.zeros(1, self.n_tokens, c.d_model))
        layer = nn.TransformerEncoderLayer(
            c.d_model, c.n_heads, c.d_ff, c.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, c.n_layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(c.d_model), nn.Linear(c.d_model, c.patch))
        self.gate_slope = nn.Parameter(torch.tensor(8.0))
        self.gate_threshold = nn.Parameter(torch.tensor(0.1))
        nn.init.normal_(self.position, std=0.02)

    def noise_proxy(self, x: torch.Tensor) -> torch.Tensor:
        """``1 − corr(x, AE(x))`` per proxy segment, repeated to one value per patch ``(batch, tokens)``.

        The autoencoder is not trained through this path (its output is detached).
        """
        with torch.no_grad():
            recon = self.autoencoder(x)
        proxy = 1.0 - segment_correlation(x, recon, self.config.proxy_segment)
        return proxy.repeat_interleave(self.config.proxy_segment // self.config.patch, dim=1)

    def gate(self, proxy: torch.Tensor) -> torch.Tensor:
        """Soft gate in (0, 1) per patch from the proxy."""
        return torch.sigmoid(self.gate_slope * (proxy - self.gate_threshold))

    def denoise(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Denoised epochs ``(batch, n_times)`` and the gate ``(batch, tokens)`` that weighed them."""
        batch = x.shape[0]
        proxy = self.noise_proxy(x)
        patches = x.reshape(batch, self.n_tokens, self.config.patch)
        tokens = self.embed(torch.cat([patches, proxy.unsqueeze(-1)], dim=-1)) + self.position
        artifact = self.head(self.transformer(tokens))
        gate = self.gate(proxy)
        return (patches - gate.unsqueeze(-1) * artifact).reshape(batch, -1), gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise normalised epochs ``(batch, n_times)``; returns the same shape."""
        return self.denoise(x)[0]


class Discriminator(nn.Module):
    """Scores epochs ``(batch, n_times)`` as clean EEG (high) or denoised output (low).

    It sees the waveform and its log power spectrum, so both temporal and spectral character count.
    """

    def __init__(self, channels: int = 16, n_times: int = 512):
        super().__init__()
        self.time = nn.Sequential(
            nn.Conv1d(1, channels, 9, stride=4, padding=4),
            nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, 9, stride=4, padding=4),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool1d(1),
        )
        n_freq = n_times // 2 + 1
        self.spectrum = nn.Sequential(nn.Linear(n_freq, channels), nn.LeakyReLU(0.2))
        self.out = nn.Linear(2 * channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logit per epoch, shape ``(batch,)``."""
        t = self.time(x.unsqueeze(1)).squeeze(-1)
        s = self.spectrum(torch.log1p(torch.fft.rfft(x).abs() ** 2))
        return self.out(torch.cat([t, s], dim=-1)).squeeze(-1)
