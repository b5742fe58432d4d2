"""Evaluation: per-band reconstruction, residual levels, codebook usage, bit rate, a figure."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal as sps

from neurosig.core.errors import DataError
from neurosig.eeg.rvq.config import EEG_BANDS
from neurosig.eeg.rvq.tokenizer import Tokenizer

__all__ = ["BANDS", "band_metrics", "codebook_usage", "evaluate", "plot_reconstruction"]

#: The bands evaluated, in Hz: :data:`~neurosig.eeg.rvq.config.EEG_BANDS`, and ``None`` for broadband.
BANDS: dict[str, tuple[float, float] | None] = {**EEG_BANDS, "broadband": None}


def _pcc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean(-1, keepdims=True)
    den = np.sqrt((a * a).sum(-1) * (b * b).sum(-1))
    return np.where(den > 0, (a * b).sum(-1) / np.where(den > 0, den, 1.0), np.nan)


def _nmse(ref: np.ndarray, est: np.ndarray) -> np.ndarray:
    power = (ref * ref).sum(-1)
    return np.where(power > 0, ((ref - est) ** 2).sum(-1) / np.where(power > 0, power, 1.0), np.nan)


def band_metrics(original: np.ndarray, recon: np.ndarray, sfreq: float) -> dict[str, dict[str, np.ndarray]]:
    """Per-channel PCC and NMSE in each band of :data:`BANDS`.

    Both signals are band-passed with the same zero-phase Butterworth filter (order 4) first.

    Parameters
    ----------
    original, recon : ndarray, shape (n_channels, n_samples)
        The reference and its reconstruction (any unit, the same for both).
    sfreq : float
        Hz.

    Returns
    -------
    dict
        ``{band: {"pcc": (n_channels,), "nmse": (n_channels,)}}``; NMSE = ‖x − x̂‖² / ‖x‖².
    """
    if original.shape != recon.shape:
        raise DataError(f"original {original.shape} and reconstruction {recon.shape} differ in shape.")
    x = original.astype(np.float64)
    y = recon.astype(np.float64)
    out = {}
    for band, edges in BANDS.items():
        if edges is None:
            xb, yb = x, y
        else:
            sos = sps.butter(4, [edges[0], min(edges[1], 0.49 * sfreq)], "bandpass", fs=sfreq, output="sos")
            xb, yb = sps.sosfiltfilt(sos, x, axis=-1), sps.sosfiltfilt(sos, y, axis=-1)
        out[band] = {"pcc": _pcc(xb, yb), "nmse": _nmse(xb, yb)}
    return out


def codebook_usage(tokens: np.ndarray, codebook_size: int, min_fraction: float = 0.5) -> dict[str, Any]:
    """How much of each codebook the tokens use; flags collapsed codebooks.

    Parameters
    ----------
    tokens : ndarray, shape (..., n_scales, n_levels)
        Codes.
    codebook_size : int
        Codes per codebook.
    min_fraction : float
        A codebook using fewer than this fraction of its codes is reported as collapsed.

    Returns
    -------
    dict
        ``fraction`` and ``perplexity`` (exp of the code entropy, at most ``codebook_size``), each
        ``(n_scales, n_levels)`` as nested lists; ``collapsed``: ``[scale, level]`` pairs below
        ``min_fraction``; ``min_fraction``. A warning names the collapsed codebooks.
    """
    flat = np.asarray(tokens).reshape(-1, *tokens.shape[-2:])
    n_scales, n_levels = flat.shape[1:]
    fraction = np.zeros((n_scales, n_levels))
    perplexity = np.zeros((n_scales, n_levels))
    for s in range(n_scales):
        for lev in range(n_levels):
            counts = np.bincount(flat[:, s, lev], minlength=codebook_size)
            p = counts[counts > 0] / counts.sum()
            fraction[s, lev] = (counts > 0).mean()
            perplexity[s, lev] = float(np.exp(-(p * np.log(p)).sum()))
    collapsed = [[int(s), int(lev)] for s, lev in zip(*np.nonzero(fraction < min_fraction), strict=True)]
    if collapsed:
        warnings.warn(
            f"codebook collapse: {len(collapsed)} of {n_scales * n_levels} codebooks use fewer than "
            f"{min_fraction:.0%} of their {codebook_size} codes ([scale, level]: {collapsed[:8]}); "
            "train longer, or raise dead_code_threshold so that unused codes are restarted.",
            UserWarning,
            stacklevel=2,
        )
    return {
        "fraction": fraction.round(4).tolist(),
        "perplexity": perplexity.round(2).tolist(),
        "collapsed": collapsed,
        "min_fraction": min_fraction,
    }


def _summary(per_band: list[dict[str, dict[str, np.ndarray]]]) -> dict[str, dict[str, float]]:
    out = {}
    for band in BANDS:
        pcc = np.concatenate([m[band]["pcc"] for m in per_band])
        nmse = np.concatenate([m[band]["nmse"] for m in per_band])
        out[band] = {"pcc": float(np.nanmean(pcc)), "nmse": float(np.nanmean(nmse))}
    return out


def evaluate(tokenizer: Tokenizer, recordings: list[tuple[np.ndarray, float]]) -> dict[str, Any]:
    """Reconstruction quality, residual levels, codebook usage and bit rate on held-out recordings.

    Parameters
    ----------
    tokenizer : Tokenizer
        The trained tokenizer.
    recordings : list of (signal, sfreq)
        Held-out signals in volts, ``(n_channels, n_samples)``, at the tokenizer's rate.

    Returns
    -------
    dict
        ``bands`` (mean PCC/NMSE over channels of all recordings, per band), ``nmse_by_levels``
        (broadband NMSE decoding from the first 1..L levels), ``usage`` (:func:`codebook_usage`; one
        pooled codebook for the baseline),
        ``bitrate`` and ``n_channel_seconds``.
    """
    config = tokenizer.config
    per_band, all_tokens = [], []
    levels = config.token_shape[1] if config.quantizer == "rvq" else 1
    by_level = np.zeros(levels)
    total = 0.0
    for sig, sfreq in recordings:
        tokens = tokenizer.encode(sig, sfreq)
        all_tokens.append(tokens.reshape(-1, *config.token_shape))
        ref = np.clip(
            sig[:, : tokens.shape[1] * config.patch_len], -config.clip_uv * 1e-6, config.clip_uv * 1e-6
        )
        per_band.append(band_metrics(ref, tokenizer.decode(tokens), sfreq))
        for lev in range(levels):
            rec = tokenizer.decode(tokens, lev + 1 if config.quantizer == "rvq" else None)
            by_level[lev] += float(((ref - rec) ** 2).sum())
        total += float((ref.astype(np.float64) ** 2).sum())
    tokens = np.concatenate(all_tokens)
    channel_seconds = float(len(tokens) * config.patch_duration)
    if config.quantizer == "single":  # one codebook shared by every group
        tokens = tokens.reshape(-1, 1, 1)
    n_channels = recordings[0][0].shape[0]
    return {
        "bands": _summary(per_band),
        "nmse_by_levels": (by_level / total).round(5).tolist(),
        "usage": codebook_usage(tokens, config.codebook_size),
        "bitrate": tokenizer.bitrate(n_channels),
        "n_channel_seconds": channel_seconds,
    }


def plot_reconstruction(
    path: str | Path,
    original: np.ndarray,
    recons: dict[str, np.ndarray],
    sfreq: float,
    ch_names: list[str],
    seconds: float = 4.0,
    channels: int = 3,
) -> Path:
    """Save a PNG of original vs reconstructed traces (left) and their Welch spectra (right).

    Each row's title gives every reconstruction's PCC and NMSE on that channel (whole recording),
    the figure's title their means over all channels; the spectra's axis spans the data shown.

    Parameters
    ----------
    path : str | Path
        The ``.png`` to write.
    original : ndarray, shape (n_channels, n_samples)
        Volts.
    recons : dict of str to ndarray
        Label → reconstruction of the same shape (e.g. ``{"RVQ": ..., "single VQ": ...}``).
    sfreq : float
        Hz.
    ch_names : list of str
        Channel names.
    seconds : float
        Length of the traces shown.
    channels : int
        Channels shown (the first ones).
    """
    from neurosig.core.figures import save_figure, subplots

    n = min(original.shape[1], int(seconds * sfreq))
    t = np.arange(n) / sfreq
    f_max = min(50.0, sfreq / 2)
    scores = {label: (_pcc(original, rec), _nmse(original, rec)) for label, rec in recons.items()}
    fig, axes = subplots(channels, 2, figsize=(12, 2.6 * channels + 0.4), squeeze=False, layout="constrained")
    for row in range(channels):
        ax, ax_psd = axes[row]
        ax.plot(t, original[row, :n] * 1e6, color="k", lw=1.2, label="original")
        f, p = sps.welch(original[row], sfreq, nperseg=min(original.shape[1], int(4 * sfreq)))
        shown = [p[f <= f_max]]
        ax_psd.semilogy(f, p * 1e12, color="k", lw=1.2, label="original")
        for label, rec in recons.items():
            ax.plot(t, rec[row, :n] * 1e6, lw=0.9, label=label)
            f, p = sps.welch(rec[row], sfreq, nperseg=min(rec.shape[1], int(4 * sfreq)))
            ax_psd.semilogy(f, p * 1e12, lw=0.9, label=label)
            shown.append(p[f <= f_max])
        ax.set_ylabel(f"{ch_names[row]} (µV)")
        ax.set_title(
            "; ".join(f"{label}: PCC {s[0][row]:.2f}, NMSE {s[1][row]:.2f}" for label, s in scores.items()),
            loc="left",
            fontsize=9,
        )
        positive = np.concatenate(shown)[np.concatenate(shown) > 0] * 1e12
        if positive.size:
            ax_psd.set_ylim(positive.min() / 2, positive.max() * 2)
        ax_psd.set_ylabel("PSD (µV²/Hz)")
        ax_psd.set_xlim(0, f_max)
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 1].set_xlabel("frequency (Hz)")
    axes[0, 0].legend(loc="upper right", fontsize=8)
    overall = "; ".join(
        f"{label} PCC {np.nanmean(s[0]):.3f}, NMSE {np.nanmean(s[1]):.3f}" for label, s in scores.items()
    )
    fig.suptitle(
        f"Reconstruction of the first {channels} of {len(ch_names)} channels; mean over all: {overall}"
    )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return save_figure(fig, path, dpi=110)
