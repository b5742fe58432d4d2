"""Tokenizer configuration: one validated model that fixes the architecture, the quantiser and the loss.

A configuration is saved beside every checkpoint and inside every token file, so a model can always be
rebuilt from what was stored with it.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import pydantic
from pydantic import Field

from neurosig.core.errors import ConfigError
from neurosig.core.validate import check_option

__all__ = ["TokenizerConfig", "preset", "single_codebook_baseline", "PRESETS"]

PosInt = Annotated[int, Field(gt=0)]


class TokenizerConfig(pydantic.BaseModel):
    """Everything that defines a tokenizer.

    Parameters
    ----------
    sfreq : float
        Sampling rate the model works at, in Hz (200 Hz as in NeuroRVQ).
    patch_len : int
        Samples per patch (200 = 1 s at 200 Hz). Must be divisible by 8 (two pooling steps, ×2 and ×4).
    kernels : list of int
        First-layer kernel length of each encoder branch, in samples; one branch per scale. The
        defaults (21, 15, 9, 5) aim at δ, α/θ, β and γ at 200 Hz.
    branch_channels : int
        Feature maps per branch; a branch token has ``branch_channels * patch_len / 8`` values.
    d_model, depth, heads : int
        Width, layers and attention heads of the shared transformer (and of the decoder's).
    code_dim : int
        Dimension of each quantised vector.
    quantizer : {"rvq", "single"}
        ``"rvq"``: one residual VQ of ``n_levels`` levels per scale (NeuroRVQ). ``"single"``: one
        L2-normalised codebook shared by ``n_groups`` vectors per patch (LaBraM-style baseline).
    n_levels : int
        Residual levels per scale (``"rvq"``).
    n_groups : int
        Vectors per patch quantised by the one codebook (``"single"``).
    codebook_size : int
        Codes per codebook.
    ema_decay : float
        EMA decay of the codebook updates.
    dead_code_threshold : float
        A code whose EMA cluster size falls below this is restarted from a batch vector (0 disables).
    kmeans_init : bool
        Initialise codebooks by k-means on the first training batch.
    commitment_weight, amp_weight, phase_weight, unit_weight, time_weight : float
        Loss weights: commitment, log-amplitude MSE, phase (1 - cosine), unit-circle penalty of the
        predicted (cos, sin), time-domain MSE.
    level_dropout : bool
        Train with random truncation of the residual levels, so that decoding from the first
        ``l`` levels gives a usable coarse signal (the residual property).
    scale_uv : float
        Signals are divided by this many µV before entering the network (20 µV puts typical EEG at
        unit scale, where the time-domain and amplitude losses weigh as much as the phase term).
    clip_uv : float
        Samples are clipped to ± this many µV (NeuroRVQ clips at 500 µV).
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    sfreq: Annotated[float, Field(gt=0)] = 200.0
    patch_len: PosInt = 200
    kernels: list[PosInt] = [21, 15, 9, 5]
    branch_channels: PosInt = 8
    d_model: PosInt = 64
    depth: PosInt = 2
    heads: PosInt = 4
    code_dim: PosInt = 32
    quantizer: Literal["rvq", "single"] = "rvq"
    n_levels: PosInt = 8
    n_groups: PosInt = 32
    codebook_size: Annotated[int, Field(ge=2)] = 256
    ema_decay: Annotated[float, Field(gt=0, lt=1)] = 0.99
    dead_code_threshold: Annotated[float, Field(ge=0)] = 2.0
    kmeans_init: bool = True
    commitment_weight: Annotated[float, Field(ge=0)] = 0.25
    amp_weight: Annotated[float, Field(ge=0)] = 1.0
    phase_weight: Annotated[float, Field(ge=0)] = 0.5
    unit_weight: Annotated[float, Field(ge=0)] = 0.1
    time_weight: Annotated[float, Field(ge=0)] = 1.0
    level_dropout: bool = True
    scale_uv: Annotated[float, Field(gt=0)] = 20.0
    clip_uv: Annotated[float, Field(gt=0)] = 500.0

    @pydantic.model_validator(mode="after")
    def _check(self) -> TokenizerConfig:
        if self.patch_len % 8:
            raise ValueError(f"patch_len must be divisible by 8 (two pooling steps), got {self.patch_len}")
        if self.d_model % self.heads:
            raise ValueError(f"d_model={self.d_model} must be divisible by heads={self.heads}")
        if not self.kernels:
            raise ValueError("kernels needs at least one branch")
        return self

    @property
    def n_scales(self) -> int:
        """Encoder branches, i.e. residual quantisers (1 for the single-codebook baseline)."""
        return len(self.kernels) if self.quantizer == "rvq" else 1

    @property
    def codes_per_patch(self) -> int:
        """Tokens emitted per channel and patch."""
        return self.n_scales * self.n_levels if self.quantizer == "rvq" else self.n_groups

    @property
    def token_shape(self) -> tuple[int, int]:
        """``(scales, levels)`` of one channel-patch; ``(1, n_groups)`` for the baseline."""
        return (self.n_scales, self.n_levels) if self.quantizer == "rvq" else (1, self.n_groups)

    @property
    def patch_duration(self) -> float:
        """Seconds per patch."""
        return self.patch_len / self.sfreq

    @property
    def bits_per_patch(self) -> float:
        """Bits per channel and patch: codes per patch × log2(codebook size)."""
        return self.codes_per_patch * math.log2(self.codebook_size)

    @property
    def bits_per_second(self) -> float:
        """Bits per second per channel."""
        return self.bits_per_patch / self.patch_duration


PRESETS: dict[str, dict] = {
    # trains in seconds: for tests
    "tiny": dict(
        branch_channels=2,
        d_model=16,
        depth=1,
        heads=2,
        code_dim=8,
        n_levels=4,
        codebook_size=32,
        dead_code_threshold=1.0,
    ),
    # the default model: trains on the shared real data on a 2-core CPU in well under 30 minutes
    "small": dict(),
}


def preset(name: str, **overrides) -> TokenizerConfig:
    """A named configuration (``"tiny"`` or ``"small"``) with optional field overrides.

    Raises
    ------
    ConfigError
        On an unknown preset name or an invalid field.
    """
    check_option("preset", name, PRESETS)
    try:
        return TokenizerConfig(**{**PRESETS[name], **overrides})
    except pydantic.ValidationError as err:
        raise ConfigError(f"tokenizer config {name!r}: {err}") from None


def single_codebook_baseline(config: TokenizerConfig) -> TokenizerConfig:
    """The LaBraM-style baseline at the same bit budget as ``config``.

    One L2-normalised codebook of the same size quantises as many vectors per patch as ``config``
    emits codes, so both spend exactly the same bits; one encoder branch (the middle kernel), and
    LaBraM's loss (amplitude and phase, no time-domain term).
    """
    if config.quantizer != "rvq":
        raise ConfigError("single_codebook_baseline expects an 'rvq' config to match.")
    changes = dict(
        quantizer="single",
        kernels=[sorted(config.kernels)[len(config.kernels) // 2]],
        n_groups=config.codes_per_patch,
        time_weight=0.0,
        level_dropout=False,
    )
    return TokenizerConfig(**{**config.model_dump(), **changes})
