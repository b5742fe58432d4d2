"""``Tokenizer``: the array API (``encode`` / ``decode`` / bit rate) around :class:`TokenizerNet`."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from scipy.signal import resample_poly

from neurosig.core.errors import DataError
from neurosig.core.persist import restore, save_checkpoint, shipped_weights
from neurosig.core.validate import check_finite
from neurosig.eeg.rvq.config import TokenizerConfig, preset
from neurosig.eeg.rvq.model import TokenizerNet

__all__ = ["Tokenizer", "KIND", "SHIPPED_CHECKPOINT", "shipped_checkpoint"]

#: The checkpoint kind of tokenizers.
KIND = "rvq-tokenizer"
#: The tokenizer shipped with the package, in ``neurosig/eeg/rvq/weights/`` (see its ``MODEL_CARD.md``).
SHIPPED_CHECKPOINT = "rvq_small.pt"


def shipped_checkpoint() -> Path:
    """The path of the pretrained tokenizer shipped with neurosig (the ``small`` preset, eegmmidb).

    Raises
    ------
    ConfigError
        If the packaged file is missing (a broken install).
    """
    return shipped_weights(
        "neurosig.eeg.rvq",
        SHIPPED_CHECKPOINT,
        "RVQ tokenizer",
        "pass checkpoint=PATH to a tokenizer trained with `neurosig run pipelines/rvq_train.yaml`",
    )


class Tokenizer:
    """Turn EEG into discrete tokens and back.

    Parameters
    ----------
    config : TokenizerConfig
        The architecture.
    net : TokenizerNet | None
        Trained weights; a freshly initialised network when ``None``.
    seed : int
        Seed of the initial weights when ``net`` is ``None``.

    Notes
    -----
    A recording of ``n`` samples gives ``n // patch_len`` patches per channel; the last
    ``n % patch_len`` samples (less than one patch) are not tokenized.
    """

    def __init__(self, config: TokenizerConfig, net: TokenizerNet | None = None, seed: int = 0):
        self.config = config
        if net is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                net = TokenizerNet(config)
        self.net = net.eval()

    @classmethod
    def from_preset(cls, name: str = "small", seed: int = 0, **overrides) -> Tokenizer:
        """An untrained tokenizer of a named configuration (see :func:`~neurosig.eeg.rvq.config.preset`)."""
        return cls(preset(name, **overrides), seed=seed)

    # -- bit rate ---------------------------------------------------------------------------------
    def bitrate(self, n_channels: int = 1) -> dict[str, float]:
        """Bit-rate accounting.

        Returns
        -------
        dict
            ``codes_per_patch``, ``bits_per_code``, ``bits_per_patch`` (per channel),
            ``bits_per_second_per_channel`` and ``bits_per_second`` for ``n_channels`` channels.
        """
        c = self.config
        return {
            "codes_per_patch": c.codes_per_patch,
            "bits_per_code": float(np.log2(c.codebook_size)),
            "bits_per_patch": c.bits_per_patch,
            "bits_per_second_per_channel": c.bits_per_second,
            "bits_per_second": c.bits_per_second * n_channels,
        }

    # -- arrays <-> normalised patches ------------------------------------------------------------
    def patches(self, signal: np.ndarray, sfreq: float, resample: bool = False) -> np.ndarray:
        """Cut a recording into normalised patches.

        Parameters
        ----------
        signal : ndarray, shape (n_channels, n_samples)
            EEG in volts.
        sfreq : float
            Its sampling rate in Hz.
        resample : bool
            Resample to the tokenizer's rate when ``sfreq`` differs; otherwise that is an error.

        Returns
        -------
        ndarray, shape (n_channels, n_patches, patch_len)
            Clipped to ± ``clip_uv`` µV and divided by ``scale_uv`` µV.

        Raises
        ------
        DataError
            On a wrong shape, NaN or infinite samples, a wrong sampling rate (without ``resample``), or
            fewer samples than one patch.
        """
        c = self.config
        signal = np.asarray(signal)
        if signal.ndim != 2:
            raise DataError(f"signal must be (n_channels, n_samples) in volts, got shape {signal.shape}.")
        check_finite("signal", signal)
        if not np.isclose(sfreq, c.sfreq):
            if not resample:
                raise DataError(
                    f"the signal is sampled at {sfreq:g} Hz but the tokenizer works at {c.sfreq:g} Hz; "
                    f"add a 'resample' stage with sfreq: {c.sfreq:g} before it, or pass resample=True."
                )
            ratio = Fraction(c.sfreq / sfreq).limit_denominator(1000)
            signal = resample_poly(signal, ratio.numerator, ratio.denominator, axis=1)
        if signal.shape[1] < c.patch_len:
            raise DataError(
                f"the recording has {signal.shape[1]} samples at {c.sfreq:g} Hz, fewer than one patch "
                f"({c.patch_len} samples = {c.patch_duration:g} s); give at least {c.patch_duration:g} s."
            )
        return self.to_patches(signal)

    def to_patches(self, signal: np.ndarray) -> np.ndarray:
        """Cut checked volts ``(n_channels, n_samples)`` at the model's rate into normalised patches.

        Whole patches only (``n_samples // patch_len`` of them); no checks (see :meth:`patches`).
        """
        c = self.config
        n_patches = signal.shape[1] // c.patch_len
        uv = np.clip(signal[:, : n_patches * c.patch_len] * 1e6, -c.clip_uv, c.clip_uv) / c.scale_uv
        return uv.reshape(signal.shape[0], n_patches, c.patch_len).astype(np.float32)

    # -- encode / decode --------------------------------------------------------------------------
    @torch.no_grad()
    def encode_patches(self, patches: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Codes of normalised patches ``(..., patch_len)``: an int32 array ``(..., scales, levels)``."""
        flat = torch.from_numpy(np.ascontiguousarray(patches, dtype=np.float32)).reshape(
            -1, self.config.patch_len
        )
        self.net.eval()
        out = [
            self.net.nearest_codes(self.net.latents(flat[i : i + batch_size]))
            for i in range(0, len(flat), batch_size)
        ]
        codes = torch.cat(out) if out else torch.zeros(0, *self.config.token_shape, dtype=torch.long)
        return codes.numpy().astype(np.int32).reshape(*patches.shape[:-1], *self.config.token_shape)

    def encode(self, signal: np.ndarray, sfreq: float, resample: bool = False) -> np.ndarray:
        """Tokens of a recording.

        Parameters
        ----------
        signal : ndarray, shape (n_channels, n_samples)
            EEG in volts.
        sfreq : float
            Sampling rate in Hz.
        resample : bool
            Resample when ``sfreq`` is not the tokenizer's rate (otherwise a :class:`DataError`).

        Returns
        -------
        ndarray of int32, shape (n_channels, n_patches, n_scales, n_levels)
        """
        return self.encode_patches(self.patches(signal, sfreq, resample))

    @torch.no_grad()
    def decode_patches(
        self, tokens: np.ndarray, n_levels: int | None = None, batch_size: int = 8192
    ) -> np.ndarray:
        """Normalised patches ``(..., patch_len)`` from codes ``(..., scales, levels)``."""
        c = self.config
        tokens = np.asarray(tokens)
        if tokens.shape[-2:] != c.token_shape:
            raise DataError(
                f"tokens must end in (scales, levels) = {c.token_shape}, got shape {tokens.shape}."
            )
        if tokens.size and (tokens.min() < 0 or tokens.max() >= c.codebook_size):
            raise DataError(
                f"tokens must lie in [0, {c.codebook_size}); got [{tokens.min()}, {tokens.max()}]."
            )
        if n_levels is not None and not 1 <= n_levels <= c.token_shape[1]:
            raise DataError(f"n_levels must be in [1, {c.token_shape[1]}], got {n_levels}.")
        flat = torch.from_numpy(tokens.astype(np.int64)).reshape(-1, *c.token_shape)
        self.net.eval()
        out = [
            self.net.decode(self.net.from_indices(flat[i : i + batch_size], n_levels))
            for i in range(0, len(flat), batch_size)
        ]
        rec = torch.cat(out) if out else torch.zeros(0, c.patch_len)
        return rec.numpy().reshape(*tokens.shape[:-2], c.patch_len)

    def decode(self, tokens: np.ndarray, n_levels: int | None = None) -> np.ndarray:
        """Signal from tokens.

        Parameters
        ----------
        tokens : ndarray, shape (n_channels, n_patches, n_scales, n_levels)
            Codes from :meth:`encode`.
        n_levels : int | None
            Use only the first ``n_levels`` residual levels of every scale (all when ``None``).

        Returns
        -------
        ndarray of float32, shape (n_channels, n_patches * patch_len)
            EEG in volts at ``config.sfreq``.
        """
        rec = self.decode_patches(tokens, n_levels)
        return (rec.reshape(rec.shape[0], -1) * self.config.scale_uv * 1e-6).astype(np.float32)

    # -- persistence ------------------------------------------------------------------------------
    def state(self) -> tuple[str, dict[str, torch.Tensor]]:
        """The configuration as JSON and the weights (codebooks included)."""
        return self.config.model_dump_json(), {k: v.detach().cpu() for k, v in self.net.state_dict().items()}

    @classmethod
    def from_state(cls, config_json: str, state: dict[str, torch.Tensor]) -> Tokenizer:
        """Rebuild a tokenizer from :meth:`state`."""
        config = TokenizerConfig(**json.loads(config_json))
        net = TokenizerNet(config)
        net.load_state_dict(state)
        return cls(config, net)

    def save(self, path: str | Path) -> Path:
        """Write a :mod:`neurosig.core.persist` checkpoint (kind ``rvq-tokenizer``, config and weights)."""
        config_json, state = self.state()
        return save_checkpoint(path, KIND, json.loads(config_json), state)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Tokenizer:
        """Read a checkpoint written by :meth:`save` (``weights_only=True``).

        Parameters
        ----------
        path : str | Path | None
            The checkpoint; ``None`` loads the pretrained tokenizer shipped with neurosig
            (:func:`shipped_checkpoint`).

        Raises
        ------
        DataError
            If the file is missing (train one with ``pipelines/rvq_train.yaml``).
        FormatError
            If the file is not a tokenizer checkpoint, or its config or weights are invalid.
        """
        path = shipped_checkpoint() if path is None else path
        net, _ = restore(path, KIND, lambda config: TokenizerNet(TokenizerConfig(**config)))
        return cls(net.config, net)
