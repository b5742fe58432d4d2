"""The EMG-removal task of EEGdenoiseNet (Zhang et al., J Neural Eng 2021): pairs and their splits.

Epochs are 2 s at 256 Hz (512 samples), one channel each. A noisy epoch is ``y = x + λ·n`` with
``λ = RMS(x) / (RMS(n)·10^(SNR/10))``; training SNRs are drawn uniformly in [−7, 2] dB and the test
SNRs are ``linspace(−7, 2, 10)``. Each pair (noisy, clean) is divided by the standard deviation of the
noisy epoch. The training harness uses this module alone; :mod:`neurosig.data.denoise` reads or builds
the epochs into a :class:`DenoiseData`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosig.core.errors import DataError

__all__ = [
    "SFREQ",
    "N_TIMES",
    "TRAIN_SNR_RANGE",
    "TEST_SNRS",
    "SPLITS",
    "DenoiseData",
    "mix",
    "measured_snr",
    "make_pairs",
    "rms",
]

#: Sampling rate of the benchmark epochs, Hz.
SFREQ = 256.0
#: Samples per epoch (2 s at 256 Hz).
N_TIMES = 512
#: Range of the training SNRs, dB.
TRAIN_SNR_RANGE = (-7.0, 2.0)
#: The test SNR levels, dB.
TEST_SNRS = np.linspace(-7.0, 2.0, 10)
SPLITS = ("train", "val", "test")


def rms(a: np.ndarray) -> np.ndarray:
    """Root mean square over the last axis, in the unit of ``a`` (float64)."""
    return np.sqrt(np.mean(np.square(a, dtype=np.float64), axis=-1))


def mix(clean: np.ndarray, noise: np.ndarray, snr_db: float | np.ndarray) -> np.ndarray:
    """Mix clean epochs with noise epochs at a given SNR.

    Parameters
    ----------
    clean, noise : ndarray, shape (n_epochs, n_times)
        Clean EEG and artifact epochs (any unit, the same for both).
    snr_db : float | ndarray, shape (n_epochs,)
        Signal-to-noise ratio in dB, ``10·log10(RMS(clean) / RMS(λ·noise))`` (EEGdenoiseNet's
        definition: ten times the log of an RMS ratio).

    Returns
    -------
    noisy : ndarray, shape (n_epochs, n_times)
        ``clean + λ·noise``, float64.

    Raises
    ------
    DataError
        If shapes differ or a noise epoch is flat (its RMS is zero).
    """
    clean = np.atleast_2d(np.asarray(clean, dtype=np.float64))
    noise = np.atleast_2d(np.asarray(noise, dtype=np.float64))
    if clean.shape != noise.shape:
        raise DataError(f"clean {clean.shape} and noise {noise.shape} epochs must have the same shape.")
    noise_rms = rms(noise)
    if np.any(noise_rms == 0):
        raise DataError("a noise epoch is flat (RMS 0); drop flat epochs before mixing.")
    snr = np.broadcast_to(np.asarray(snr_db, dtype=np.float64), clean.shape[:1])
    lam = rms(clean) / (noise_rms * 10.0 ** (snr / 10.0))
    return clean + lam[:, None] * noise


def measured_snr(clean: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    """SNR in dB computed back from a mixture: ``10·log10(RMS(clean) / RMS(noisy − clean))``."""
    clean = np.asarray(clean, dtype=np.float64)
    return 10.0 * np.log10(rms(clean) / rms(np.asarray(noisy, dtype=np.float64) - clean))


def make_pairs(
    clean: np.ndarray, noise: np.ndarray, snr_db: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mix and normalise: both the noisy epoch and its target are divided by the noisy epoch's std.

    Returns
    -------
    noisy, target : ndarray, shape (n_epochs, n_times), float32
    """
    noisy = mix(clean, noise, snr_db)
    scale = noisy.std(axis=-1, keepdims=True)
    return (noisy / scale).astype(np.float32), (np.asarray(clean) / scale).astype(np.float32)


@dataclass
class DenoiseData:
    """Clean EEG and EMG epochs per split.

    Attributes
    ----------
    eeg, emg : dict of str to ndarray, shape (n_epochs, 512)
        Epochs for ``"train"``, ``"val"`` and ``"test"`` (unit as read: volts for recordings).
    provenance : dict
        Where the epochs came from (files, cleaning, filters, split), for outputs and model cards.
    """

    eeg: dict[str, np.ndarray]
    emg: dict[str, np.ndarray]
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        for kind in ("eeg", "emg"):
            parts = getattr(self, kind)
            for split in SPLITS:
                arr = parts.get(split)
                if arr is None or arr.ndim != 2 or arr.shape[1] != N_TIMES or len(arr) == 0:
                    shape = None if arr is None else arr.shape
                    raise DataError(
                        f"{kind} epochs for split {split!r} must be a non-empty (n, {N_TIMES}) array, "
                        f"got {shape}; give more recordings or lower the rejection threshold."
                    )

    def fixed_pairs(self, split: str, snr_db: float | np.ndarray, seed: int = 0, max_epochs=None):
        """Seeded pairs of one split: each clean epoch with a seeded EMG epoch of random sign.

        Parameters
        ----------
        split : {"train", "val", "test"}
        snr_db : float | ndarray
            One SNR level in dB, or one per epoch.
        seed : int
            Seed of the subset and the pairing.
        max_epochs : int | None
            Take a seeded subset of at most this many clean epochs.

        Returns
        -------
        noisy, target : ndarray, shape (n, 512), float32
        """
        rng = np.random.default_rng(seed)
        eeg = self.eeg[split]
        if max_epochs is not None and len(eeg) > max_epochs:
            eeg = eeg[np.sort(rng.choice(len(eeg), max_epochs, replace=False))]
        emg = self.emg[split][rng.integers(0, len(self.emg[split]), len(eeg))]
        return make_pairs(eeg, emg * rng.choice([-1.0, 1.0], (len(eeg), 1)), snr_db)
