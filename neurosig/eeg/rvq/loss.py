"""The phase- and amplitude-aware tokenizer loss."""

from __future__ import annotations

import torch

from neurosig.eeg.rvq.config import TokenizerConfig

__all__ = ["spectral_targets", "tokenizer_loss"]


def spectral_targets(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(log1p amplitude, cos phase, sin phase)`` of the real FFT of patches ``(B, n)``.

    The FFT is orthonormal (``norm="ortho"``), so amplitudes are in signal units (Parseval).
    """
    spec = torch.fft.rfft(x, norm="ortho")
    amp = spec.abs()
    safe = amp.clamp(min=1e-8)
    return torch.log1p(amp), spec.real / safe, spec.imag / safe


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
        Scalar loss: commitment + amplitude MSE + phase (1 - cosine) + unit-circle penalty + time MSE,
        each with its weight.
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
    commit = out["commit"]
    total = (
        config.commitment_weight * commit
        + config.amp_weight * amp
        + config.phase_weight * (phase + config.unit_weight * unit)
        + config.time_weight * time
    )
    parts = {"commit": commit, "amp": amp, "phase": phase, "unit": unit, "time": time}
    return total, {k: float(v.detach()) for k, v in parts.items()}
