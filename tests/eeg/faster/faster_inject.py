"""Ground-truth artifacts injected on top of the simulator's EEG, for the FASTER tests.

Every helper takes epochs ``(n_epochs, n_channels, n_times)`` in volts and returns a modified copy;
amplitudes are typical of real recordings (blinks ~100–200 µV frontally, EMG tens of µV above 20 Hz).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from neurosig.eeg.montage import positions
from neurosig.eeg.simulate import simulate_raw

UV = 1e-6


def simulated_epochs(
    seed: int, n_channels: int = 32, duration: float = 120.0, sfreq: float = 128.0, band=(1.0, 40.0), **kw
):
    """Clean simulated EEG (no blinks, no EMG), band-passed, in 2-s epochs: (data, ch_names, sfreq, raw)."""
    params = {"blink_rate": 0.0, "emg_rate": 0.0, "trials": False} | kw
    raw = simulate_raw(duration=duration, sfreq=sfreq, n_channels=n_channels, seed=seed, **params)
    if band is not None:
        raw.filter(*band, verbose="error")
    n_t = int(2 * sfreq)
    eeg = raw.get_data(picks="eeg")
    n_ep = eeg.shape[1] // n_t
    data = eeg[:, : n_ep * n_t].reshape(eeg.shape[0], n_ep, n_t).transpose(1, 0, 2).copy()
    return data, [raw.ch_names[i] for i in range(eeg.shape[0])], sfreq, raw


def frontal_weights(ch_names: list[str]) -> np.ndarray:
    """How much of a blink each channel sees (1 at the front pole, 0 behind the ears)."""
    pos = positions(ch_names)
    unit = pos / np.linalg.norm(pos, axis=1, keepdims=True)
    return np.clip(unit[:, 1], 0, None) ** 3


def drifting_channels(data: np.ndarray, channels: list[int], rng: np.random.Generator) -> np.ndarray:
    """Slow electrode drift: a 150 µV-scale random walk, low-passed below 0.5 Hz, over the whole recording."""
    out = data.copy()
    n_ep, _, n_t = data.shape
    sos = signal.butter(2, 0.5, fs=n_t / 2.0, output="sos")
    for c in channels:
        walk = signal.sosfiltfilt(sos, np.cumsum(rng.standard_normal(n_ep * n_t)))
        walk = 150 * UV * (walk - walk.mean()) / walk.std()
        out[:, c] += walk.reshape(n_ep, n_t)
    return out


def blink_epochs(data, ch_names, epochs: list[int], rng, peak_uv=(150, 250)) -> np.ndarray:
    """A 0.4-s blink of ``peak_uv`` µV at the front pole, somewhere inside each listed epoch."""
    out = data.copy()
    n_t = data.shape[2]
    w = frontal_weights(ch_names)
    n = int(0.4 * n_t / 2)
    t = np.linspace(0, 1, n)
    shape = t**2 * np.exp(-6 * t)
    shape /= shape.max()
    for e in epochs:
        a = int(rng.integers(0, n_t - n))
        out[e, :, a : a + n] += rng.uniform(*peak_uv) * UV * w[:, None] * shape
    return out


def emg_epochs(data, ch_names, epochs: list[int], rng, rms_uv=30.0, n_channels=4) -> np.ndarray:
    """A 1-s burst of > 20 Hz noise (``rms_uv`` µV rms) on ``n_channels`` temporal channels per epoch."""
    out = data.copy()
    n_t = data.shape[2]
    sfreq = n_t / 2.0
    temporal = [
        i for i, c in enumerate(ch_names) if c.upper().startswith(("T", "FT", "FC5", "FC6", "CP5", "CP6"))
    ]
    sos = signal.butter(4, 20, btype="highpass", fs=sfreq, output="sos")
    n = int(sfreq)
    for e in epochs:
        chans = rng.choice(temporal, size=min(n_channels, len(temporal)), replace=False)
        a = int(rng.integers(0, n_t - n))
        noise = signal.sosfilt(sos, rng.standard_normal((len(chans), n)), axis=1)
        noise = rms_uv * UV * noise / noise.std(axis=1, keepdims=True) * np.hanning(n)
        out[e, chans, a : a + n] += noise
    return out


def trend_epochs(data, epochs: list[int], rng) -> np.ndarray:
    """A linear trend of 60–100 µV across the epoch, on every channel (gain 0.5–1.5 per channel)."""
    out = data.copy()
    n_ch, n_t = data.shape[1:]
    ramp = np.linspace(-0.5, 0.5, n_t)
    for e in epochs:
        gain = rng.uniform(0.5, 1.5, n_ch) * rng.uniform(60, 100) * UV
        out[e] += gain[:, None] * ramp
    return out


def white_noise_epochs(data, epochs: list[int], rng) -> np.ndarray:
    """White noise of 20 µV rms on every channel in each listed epoch (an amplifier or cable fault)."""
    out = data.copy()
    for e in epochs:
        out[e] += 20 * UV * rng.standard_normal(data.shape[1:])
    return out


def channel_pops(data, cells: list[tuple[int, int]], rng) -> np.ndarray:
    """An electrode pop (a 100 µV step that decays over 0.25 s) on one channel in one epoch."""
    out = data.copy()
    n_t = data.shape[2]
    decay = np.exp(-np.arange(n_t) / (0.125 * n_t / 2.0))
    for e, c in cells:
        a = int(rng.integers(0, n_t // 2))
        out[e, c, a:] += 100 * UV * decay[: n_t - a]
    return out


def sens_spec(flagged: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Sensitivity and specificity of boolean decisions against boolean ground truth."""
    flagged, truth = np.asarray(flagged, bool), np.asarray(truth, bool)
    sens = (flagged & truth).sum() / max(truth.sum(), 1)
    spec = (~flagged & ~truth).sum() / max((~truth).sum(), 1)
    return float(sens), float(spec)
