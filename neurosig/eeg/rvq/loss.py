"""The phase- and amplitude-aware tokenizer loss."""

from __future__ import annotations

import torch

from neurosig.eeg.rvq.config import EEG_BANDS, TokenizerConfig

__all__ = ["band_error", "band_masks", "spectral_targets", "tokenizer_loss"]

#: Edges of :data:`EEG_BANDS` (contiguous), the lowest band from 0 Hz so that the patch mean counts.
_LOSS_EDGES = [0.0, *(hi for _, hi in EEG_BANDS.values())]


def spectral_targets(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(log1p amplitude, cos phase, sin phase)`` of the real FFT of patches ``(B, n)``.

    The FFT is orthonormal (``norm="ortho"``), so amplitudes are in signal units (Parseval).
    """
    spec = torch.fft.rfft(x, norm="ortho")
    amp = spec.abs()
    safe = amp.clamp(min=1e-8)
    return torch.log1p(amp), spec.real / safe, spec.imag / safe


def band_masks(n: int, sfreq: float, edges: list[float]) -> torch.Tensor:
    """Boolean masks ``(len(edges) - 1, n // 2 + 1)``: the real-FFT bins of ``n`` samples in each
    ``[edges[k], edges[k + 1])`` Hz."""
    freqs = torch.fft.rfftfreq(n, 1.0 / sfreq)
    return torch.stack([(freqs >= lo) & (freqs < hi) for lo, hi in zip(edges, edges[1:], strict=False)])


def band_error(x: torch.Tensor, recon: torch.Tensor, sfreq: float) -> torch.Tensor:
    """Band-normalised spectral error of a batch: mean over :data:`EEG_BANDS` of ‖X̂ − X‖² / ‖X‖².

    Errors and powers are summed over the batch and the band's FFT bins (the lowest band starts at
    0 Hz so that the patch mean counts), so each band weighs the same however little power it holds:
    the time-domain MSE alone is ruled by δ and leaves γ (a hundred times weaker) unlearned.

    Parameters
    ----------
    x, recon : Tensor, shape (B, n)
        Patches and their reconstructions.
    sfreq : float
        Sampling rate in Hz.
    """
    err = torch.fft.rfft(recon - x, norm="ortho").abs().square().sum(0)
    power = torch.fft.rfft(x, norm="ortho").abs().square().sum(0)
    ratios = [
        err[mask].sum() / power[mask].sum().clamp(min=1e-12)
        for mask in band_masks(x.shape[-1], sfreq, _LOSS_EDGES)
        if mask.any()
    ]
    return torch.stack(ratios).mean()


def tokenizer_loss(x: torch.Tensor, out: dict[str, torch.Tensor], config: TokenizerConfig):
    """Total loss and its named parts for a batch.

    Parameters
    ----------
    x : Tensor, shape (B, patch_len)
        Input patches in normalised units.
    out : dict
        :meth:`TokenizerNet.forward` output.
    config : TokenizerConfig
        Loss weights.

    Returns
    -------
    total : Tensor
        Scalar loss: commitment + amplitude MSE + phase (1 - cosine) + unit-circle penalty + time MSE
        + band-normalised error (:func:`band_error`), each with its weight.
    parts : dict of str to float
        The unweighted parts, for logging.
    """
    log_amp, cos_t, sin_t = spectral_targets(x)
    amp = torch.mean((out["log_amp"] - log_amp) ** 2)
    norm = torch.sqrt(out["cos"] ** 2 + out["sin"] ** 2).clamp(min=1e-6)
    cosine = (out["cos"] * cos_t + out["sin"] * sin_t) / norm
    phase = torch.mean(1.0 - cosine)
    unit = torch.mean((out["cos"] ** 2 + out["sin"] ** 2 - 1.0) ** 2)
    time = torch.mean((out["recon"] - x) ** 2)
    band = band_error(x, out["recon"], config.sfreq) if config.band_weight else torch.zeros(())
    commit = out["commit"]
    total = (
        config.commitment_weight * commit
        + config.amp_weight * amp
        + config.phase_weight * (phase + config.unit_weight * unit)
        + config.time_weight * time
        + config.band_weight * band
    )
    parts = {"commit": commit, "amp": amp, "phase": phase, "unit": unit, "time": time, "band": band}
    return total, {k: float(v.detach()) for k, v in parts.items()}
