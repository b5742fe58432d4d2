"""Realistic synthetic EEG for demos and tests, generated as a stream.

The signal is a sum of:

- a 1/f background: pink-noise sources spread over the scalp, mixed to the channels by distance,
  plus independent pink noise per channel;
- posterior alpha (8–12 Hz narrow-band noise);
- sensorimotor mu (9–13 Hz) and beta (18–26 Hz) rhythms over C3 and C4 that desynchronise in the
  hemisphere opposite the imagined hand during labelled motor-imagery trials;
- eye blinks on frontal channels (and on a vertical EOG channel when asked for);
- EMG bursts (broad-band, ≥ 20 Hz) on temporal channels;
- flat and noisy channels, and line noise.

Everything is in volts and seeded. The stream is generated in 1-second blocks whose random numbers
depend only on the seed and the block index, so the signal does not depend on the chunk length asked
for. :attr:`SimulatedEEGSource.truth` tells where every artifact and trial is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import numpy as np
import pydantic
from scipy import signal

from neurosig.core.chunks import Marker, SignalChunk, SignalInfo
from neurosig.core.errors import ConfigError
from neurosig.core.stage import Source
from neurosig.eeg.montage import channel_set, positions

__all__ = ["SimulatedEEGSource", "SimulationTruth", "simulate_raw"]

_UV = 1e-6
# Paul Kellet's economy pink-noise filter (≈ −10 dB/decade over the EEG band).
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])
_TRIAL_SECONDS = 4.0


@dataclass(frozen=True)
class SimulationTruth:
    """Where the simulator put what (times in seconds from the stream start).

    Attributes
    ----------
    flat_channels, noisy_channels : list of str
        Channels made flat or noisy for the whole recording.
    blinks : list of (onset, duration)
        Eye blinks.
    emg_bursts : list of (onset, duration, channels)
        Muscle bursts and the channels they reach.
    trials : list of (onset, duration, label)
        Motor-imagery trials, ``label`` in {"left", "right"}.
    """

    flat_channels: list[str] = field(default_factory=list)
    noisy_channels: list[str] = field(default_factory=list)
    blinks: list[tuple[float, float]] = field(default_factory=list)
    emg_bursts: list[tuple[float, float, tuple[str, ...]]] = field(default_factory=list)
    trials: list[tuple[float, float, str]] = field(default_factory=list)


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def _band_sos(low: float, high: float, sfreq: float) -> np.ndarray:
    high = min(high, 0.45 * sfreq)
    return signal.butter(2, [low, high], btype="bandpass", fs=sfreq, output="sos")


def _unit_gain(sos: np.ndarray, sfreq: float) -> float:
    """Gain that gives a filter's response to unit white noise a unit standard deviation."""
    impulse = np.zeros(int(20 * sfreq))
    impulse[0] = 1.0
    return 1.0 / np.sqrt(np.sum(signal.sosfilt(sos, impulse) ** 2))


def _blink_shape(n: int) -> np.ndarray:
    """A blink: fast rise, slower fall, peak 1."""
    t = np.linspace(0.0, 1.0, n)
    shape = t**2 * np.exp(-6 * t)
    return shape / shape.max()


class SimulatedEEGSource(Source):
    """A stream of simulated EEG with motor-imagery trials and artifacts.

    Parameters
    ----------
    duration : float
        Length of the recording in seconds.
    sfreq : float
        Sampling rate in Hz.
    n_channels : int
        A standard 10-20/10-10 set of 19, 32 or 64 channels (ignored when ``ch_names`` is given).
    ch_names : list of str | None
        Explicit standard channel names.
    seed : int
        Seed of every random choice.
    chunk_duration : float
        Seconds per emitted chunk.
    mi_effect : float
        Fraction (0–1) by which mu/beta power drops over the contralateral motor cortex during a
        trial; 0 gives trials with no effect.
    trials : bool
        Whether to schedule motor-imagery trials (4 s, cue every 6–8 s, left/right balanced).
    blink_rate, emg_rate : float
        Blinks and EMG bursts per minute.
    flat_channels, noisy_channels : list of str
        Channels made flat (0.1 µV noise) or noisy (+60 µV white noise).
    line_freq : float
        Line frequency in Hz (0 for none); amplitude ``line_amplitude`` volts.
    line_amplitude : float
        Line-noise amplitude in volts.
    eog : bool
        Add a vertical EOG channel ``"VEOG"`` (type ``eog``) that sees the blinks.
    """

    name = "simulate"

    def __init__(
        self,
        duration: Annotated[float, pydantic.Field(gt=0)] = 60.0,
        sfreq: Annotated[float, pydantic.Field(gt=0)] = 256.0,
        n_channels: int = 32,
        ch_names: list[str] | None = None,
        seed: int = 0,
        chunk_duration: Annotated[float, pydantic.Field(gt=0)] = 1.0,
        mi_effect: Annotated[float, pydantic.Field(ge=0, le=1)] = 0.6,
        trials: bool = True,
        blink_rate: Annotated[float, pydantic.Field(ge=0)] = 10.0,
        emg_rate: Annotated[float, pydantic.Field(ge=0)] = 4.0,
        flat_channels: list[str] = [],  # noqa: B006 - pydantic copies defaults
        noisy_channels: list[str] = [],  # noqa: B006
        line_freq: Annotated[float, pydantic.Field(ge=0)] = 50.0,
        line_amplitude: Annotated[float, pydantic.Field(ge=0)] = 2e-6,
        eog: bool = False,
    ):
        self.duration = duration
        self.sfreq = sfreq
        self.n_channels = n_channels
        self.ch_names = ch_names
        self.seed = seed
        self.chunk_duration = chunk_duration
        self.mi_effect = mi_effect
        self.trials = trials
        self.blink_rate = blink_rate
        self.emg_rate = emg_rate
        self.flat_channels = flat_channels
        self.noisy_channels = noisy_channels
        self.line_freq = line_freq
        self.line_amplitude = line_amplitude
        self.eog = eog
        self._eeg_names = list(ch_names) if ch_names else channel_set(n_channels)
        self._pos = positions(self._eeg_names)
        self._schedule = self._make_schedule()

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """Flat and noisy channels among the channels; the line frequency below Nyquist."""
        names = list(params["ch_names"]) if params["ch_names"] else channel_set(params["n_channels"])
        unknown = [c for c in [*params["flat_channels"], *params["noisy_channels"]] if c not in names]
        if unknown:
            raise ConfigError(f"flat/noisy channels {unknown} are not among the channels {names}.")
        if params["line_freq"] >= params["sfreq"] / 2:
            raise ConfigError(
                f"line_freq={params['line_freq']} Hz must be below Nyquist ({params['sfreq'] / 2} Hz)."
            )

    # -- public -----------------------------------------------------------------------------
    @property
    def info(self) -> SignalInfo:
        """The stream info: EEG channels (plus VEOG when ``eog=True``), volts."""
        names = [*self._eeg_names, *(["VEOG"] if self.eog else [])]
        types = ["eeg"] * len(self._eeg_names) + (["eog"] if self.eog else [])
        return SignalInfo(self.sfreq, tuple(names), tuple(types))

    @property
    def n_samples(self) -> int:
        """Samples in the whole recording."""
        return int(round(self.duration * self.sfreq))

    @property
    def n_chunks(self) -> int:
        """Chunks the source yields."""
        step = self._chunk_samples()
        return -(-self.n_samples // step)

    @property
    def truth(self) -> SimulationTruth:
        """Where every artifact and trial is."""
        return self._schedule

    def describe(self) -> dict[str, Any]:
        """Provenance: the simulator and its parameters (no file, so no sha256)."""
        return {"type": self.name, "params": self.get_params()}

    def __iter__(self) -> Iterator[SignalChunk]:
        info = self.info
        step = self._chunk_samples()
        markers = self._markers()
        buffer = np.zeros((info.n_channels, 0), dtype=np.float32)
        emitted = 0
        for block in self._blocks():
            buffer = np.concatenate([buffer, block], axis=1)
            while buffer.shape[1] >= step or (
                emitted + buffer.shape[1] == self.n_samples and buffer.shape[1]
            ):
                n = min(step, buffer.shape[1])
                t0, t1 = emitted / self.sfreq, (emitted + n) / self.sfreq
                chunk_markers = tuple(m for m in markers if t0 <= m.onset < t1)
                yield SignalChunk(buffer[:, :n], info, emitted, chunk_markers)
                buffer = buffer[:, n:]
                emitted += n

    # -- schedule ---------------------------------------------------------------------------
    def _chunk_samples(self) -> int:
        return max(1, int(round(self.chunk_duration * self.sfreq)))

    def _make_schedule(self) -> SimulationTruth:
        rng = _rng(self.seed, 1)
        trials = []
        if self.trials:
            t, k = 2.0, 0
            labels = []
            while t + _TRIAL_SECONDS < self.duration:
                if k % 2 == 0:
                    labels = list(rng.permutation(["left", "right"]))
                trials.append((t, _TRIAL_SECONDS, str(labels[k % 2])))
                t += _TRIAL_SECONDS + rng.uniform(2.0, 4.0)
                k += 1
        blinks = [(float(t), 0.4) for t in self._poisson(rng, self.blink_rate, 0.4)]
        temporal = [c for c in self._eeg_names if c.upper().startswith(("T", "FT"))] or self._eeg_names[:2]
        emg = []
        for t in self._poisson(rng, self.emg_rate, 2.0):
            n = int(rng.integers(1, min(4, len(temporal)) + 1))
            chans = tuple(sorted(str(c) for c in rng.choice(temporal, size=n, replace=False)))
            emg.append((float(t), float(rng.uniform(0.5, 1.5)), chans))
        return SimulationTruth(list(self.flat_channels), list(self.noisy_channels), blinks, emg, trials)

    def _poisson(self, rng: np.random.Generator, per_minute: float, length: float) -> list[float]:
        if per_minute <= 0:
            return []
        n = rng.poisson(per_minute * self.duration / 60.0)
        times = np.sort(rng.uniform(0.5, max(0.5, self.duration - length - 0.5), size=n))
        return [float(t) for t in times]

    def _markers(self) -> list[Marker]:
        return [Marker(onset, dur, label) for onset, dur, label in self._schedule.trials]

    # -- signal -----------------------------------------------------------------------------
    def _blocks(self) -> Iterator[np.ndarray]:
        sf, n_eeg = self.sfreq, len(self._eeg_names)
        block = max(1, int(round(sf)))
        rng0 = _rng(self.seed, 2)
        n_src = 20
        src_dirs = rng0.normal(size=(n_src, 3))
        src_dirs /= np.linalg.norm(src_dirs, axis=1, keepdims=True)
        unit = self._pos / np.linalg.norm(self._pos, axis=1, keepdims=True)
        dist = np.linalg.norm(unit[:, None, :] - src_dirs[None, :, :], axis=2)
        mixing = np.exp(-(dist**2) / (2 * 0.5**2))
        mixing *= 12 * _UV / np.sqrt((mixing**2).sum(axis=1, keepdims=True))
        posterior = np.clip(-unit[:, 1], 0, None) ** 2 * 12 * _UV
        c3, c4 = self._motor_weights(unit)
        frontal = np.clip(unit[:, 1], 0, None) ** 4 * 120 * _UV
        line_gain = rng0.uniform(0.5, 1.0, n_eeg) * self.line_amplitude
        line_phase = rng0.uniform(0, 2 * np.pi, n_eeg)
        index = {c: i for i, c in enumerate(self._eeg_names)}
        flat = [index[c] for c in self.flat_channels]
        noisy = [index[c] for c in self.noisy_channels]

        pink_zi = np.zeros((n_src + n_eeg, 3))
        pink_gain = _unit_gain(signal.tf2sos(_PINK_B, _PINK_A), sf)
        sos_alpha, sos_mu, sos_beta = (_band_sos(lo, hi, sf) for lo, hi in ((8, 12), (9, 13), (18, 26)))
        g_alpha, g_mu, g_beta = (_unit_gain(sos, sf) for sos in (sos_alpha, sos_mu, sos_beta))
        zi_alpha = np.zeros((sos_alpha.shape[0], 1, 2))
        zi_mu = np.zeros((sos_mu.shape[0], 2, 2))
        zi_beta = np.zeros((sos_beta.shape[0], 2, 2))
        blink_shape = _blink_shape(int(0.4 * sf))
        emg_noise = self._emg_noise()

        for k, start in enumerate(range(0, self.n_samples, block)):
            n = min(block, self.n_samples - start)
            rng = _rng(self.seed, 3, k)
            white = rng.standard_normal((n_src + n_eeg + 5, n))
            pink, pink_zi = signal.lfilter(_PINK_B, _PINK_A, white[: n_src + n_eeg], axis=1, zi=pink_zi)
            pink *= pink_gain
            data = mixing @ pink[:n_src] + 3 * _UV * pink[n_src:]
            alpha, zi_alpha = signal.sosfilt(sos_alpha, white[-5:-4], axis=1, zi=zi_alpha)
            mu, zi_mu = signal.sosfilt(sos_mu, white[-4:-2], axis=1, zi=zi_mu)
            beta, zi_beta = signal.sosfilt(sos_beta, white[-2:], axis=1, zi=zi_beta)
            t = (start + np.arange(n)) / sf
            gain_left, gain_right = self._mi_gains(t)  # hemisphere gains (left = C3 side)
            data += posterior[:, None] * (g_alpha * alpha)
            mu, beta = g_mu * mu, 0.5 * g_beta * beta
            data += c3[:, None] * gain_left * (mu[0] + beta[0])
            data += c4[:, None] * gain_right * (mu[1] + beta[1])
            blinks = self._blink_trace(start, n, blink_shape)
            data += frontal[:, None] * blinks
            for (onset, dur, chans), noise in zip(self._schedule.emg_bursts, emg_noise, strict=True):
                a, b = int(round(onset * sf)), int(round((onset + dur) * sf))
                lo, hi = max(a, start), min(b, start + n)
                if lo < hi:
                    for c in chans:
                        data[index[c], lo - start : hi - start] += noise[lo - a : hi - a]
            if self.line_freq > 0:
                data += line_gain[:, None] * np.sin(2 * np.pi * self.line_freq * t + line_phase[:, None])
            if noisy:
                data[noisy] += 60 * _UV * rng.standard_normal((len(noisy), n))
            if flat:
                data[flat] = 0.1 * _UV * rng.standard_normal((len(flat), n))
            if self.eog:
                veog = 300 * _UV * blinks + 5 * _UV * rng.standard_normal(n)
                data = np.vstack([data, veog[None]])
            yield data.astype(np.float32)

    def _motor_weights(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        targets = positions(["C3", "C4"])
        targets /= np.linalg.norm(targets, axis=1, keepdims=True)
        d = np.linalg.norm(unit[:, None, :] - targets[None], axis=2)
        w = np.exp(-(d**2) / (2 * 0.25**2)) * 8 * _UV
        return w[:, 0], w[:, 1]

    def _mi_gains(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Amplitude gains of the left (C3) and right (C4) sensorimotor rhythms at times ``t``."""
        left = np.ones_like(t)
        right = np.ones_like(t)
        for onset, dur, label in self._schedule.trials:
            # Smooth desynchronisation: ramps of 0.5 s at both ends of the trial.
            ramp = np.clip(np.minimum(t - onset, onset + dur - t) / 0.5, 0, 1)
            drop = 1 - self.mi_effect * ramp
            if label == "left":  # left hand → right hemisphere (C4)
                right = np.minimum(right, drop)
            else:
                left = np.minimum(left, drop)
        return left, right

    def _blink_trace(self, start: int, n: int, shape: np.ndarray) -> np.ndarray:
        trace = np.zeros(n)
        for k, (onset, _) in enumerate(self._schedule.blinks):
            a = int(round(onset * self.sfreq))
            lo, hi = max(a, start), min(a + len(shape), start + n)
            if lo < hi:
                amp = _rng(self.seed, 4, k).uniform(0.7, 1.3)
                trace[lo - start : hi - start] += amp * shape[lo - a : hi - a]
        return trace

    def _emg_noise(self) -> list[np.ndarray]:
        sos = signal.butter(4, min(20.0, 0.2 * self.sfreq), btype="highpass", fs=self.sfreq, output="sos")
        out = []
        for k, (_, dur, _) in enumerate(self._schedule.emg_bursts):
            n = int(round(dur * self.sfreq)) + 1
            noise = signal.sosfilt(sos, _rng(self.seed, 5, k).standard_normal(n))
            envelope = np.hanning(n)
            out.append(40 * _UV * noise / noise.std() * envelope)
        return out


def simulate_raw(**params: Any):
    """Simulate a whole recording as an :class:`mne.io.RawArray` with a standard montage.

    Parameters
    ----------
    **params
        Any parameter of :class:`SimulatedEEGSource`.

    Returns
    -------
    raw : mne.io.RawArray
        Data in volts; trials as annotations ``left``/``right``; ``raw.info["description"]`` names
        the simulator. The ground truth is ``SimulatedEEGSource(**params).truth``.
    """
    import mne

    from neurosig.eeg.montage import standard_montage

    source = SimulatedEEGSource(**params)
    info = source.info
    data = np.concatenate([c.data for c in source], axis=1).astype(np.float64)
    mne_info = mne.create_info(list(info.ch_names), info.sfreq, list(info.ch_types))
    raw = mne.io.RawArray(data, mne_info, verbose="error")
    raw.set_montage(standard_montage(), on_missing="ignore", verbose="error")
    trials = source.truth.trials
    if trials:
        onsets, durations, labels = zip(*trials, strict=True)
        raw.set_annotations(mne.Annotations(onsets, durations, labels))
    raw.info["description"] = f"neurosig simulator, seed={source.seed}"
    return raw
