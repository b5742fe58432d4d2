"""Simulated motor-imagery subjects: labelled left/right trials from :mod:`neurosig.eeg.simulate`.

Each subject is one simulated recording with its own seed; ``mi_effect`` sets how strongly mu/beta
power drops over the motor cortex opposite the imagined hand (0: no effect, so no decoder should beat
chance).
"""

from __future__ import annotations

import numpy as np

from neurosig.core.errors import ConfigError
from neurosig.data.dataset import EpochsSet, concat_sets, epochs_from_raw

__all__ = ["load_simulated"]


def load_simulated(
    n_subjects: int = 3,
    n_trials: int = 40,
    sfreq: float = 128.0,
    n_channels: int = 19,
    mi_effect: float = 0.6,
    seed: int = 0,
    tmin: float = 0.0,
    tmax: float = 4.0,
    l_freq: float | None = None,
    h_freq: float | None = None,
    resample: float | None = None,
    artifacts: bool = False,
) -> EpochsSet:
    """Simulate ``n_subjects`` motor-imagery subjects and cut their trials.

    Parameters
    ----------
    n_subjects : int
        Subjects (``"sim01"``, ``"sim02"``, ...), each simulated with seed ``seed + index``.
    n_trials : int
        Approximate trials per subject (the recording lasts ``7 * n_trials`` seconds; cues come every
        6–8 s).
    sfreq : float
        Sampling rate in Hz.
    n_channels : int
        19, 32 or 64 standard channels.
    mi_effect : float
        Contralateral mu/beta power drop during imagery (0–1).
    seed : int
        Base seed.
    tmin, tmax : float
        Trial window relative to the cue, seconds (the simulated trials last 4 s).
    l_freq, h_freq, resample : float | None
        Continuous band-pass (Hz) and resampling, as in :func:`~neurosig.data.dataset.epochs_from_raw`.
    artifacts : bool
        Keep the simulator's blinks, EMG bursts and 50-Hz line noise (above 100 Hz sampling); off:
        background and rhythms only.
    """
    from neurosig.eeg.simulate import simulate_raw

    if n_subjects < 1 or n_trials < 2:
        raise ConfigError(f"need n_subjects >= 1 and n_trials >= 2, got {n_subjects} and {n_trials}.")
    if artifacts:  # line noise at 50 Hz only where the rate can carry it
        extra = {"line_freq": 50.0 if sfreq > 100.0 else 0.0}
    else:
        extra = {"blink_rate": 0.0, "emg_rate": 0.0, "line_freq": 0.0}
    parts = []
    for k in range(n_subjects):
        raw = simulate_raw(
            duration=7.0 * n_trials,
            sfreq=sfreq,
            n_channels=n_channels,
            seed=seed + k,
            mi_effect=mi_effect,
            **extra,
        )
        X, y, fs, ch_names = epochs_from_raw(
            raw, {"left": "left", "right": "right"}, tmin, tmax, l_freq, h_freq, resample
        )
        name = f"sim{k + 1:02d}"
        parts.append(EpochsSet(X, y, np.full(len(y), name), np.full(len(y), "0"), fs, ch_names, tmin))
    return concat_sets(parts)
