"""Causal, stateful filter stages whose chunked output equals one-shot filtering.

The array functions (:func:`design_sos`, :func:`notch_sos`, :func:`resampling_filter`) hold the
design; the stages keep the per-channel filter state between chunks. IIR stages run the Numba kernel
:func:`neurosig.kernels.sosfilt.sosfilt_stateful` in float64 and emit float32, so their chunked
output equals ``scipy.signal.sosfilt`` over the whole signal.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Annotated, Any, Literal

import numpy as np
import pydantic
from scipy import signal

from neurosig.core.chunks import SignalChunk, SignalInfo
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.stage import Stage
from neurosig.core.validate import check_band, check_finite, check_increasing, check_one_of
from neurosig.kernels.sosfilt import sos_state, sosfilt_stateful

__all__ = [
    "design_sos",
    "notch_sos",
    "resampling_filter",
    "BandPass",
    "HighPass",
    "LowPass",
    "Notch",
    "Rereference",
    "Resample",
    "Pick",
]

PositiveHz = Annotated[float, pydantic.Field(gt=0)]
Order = Annotated[int, pydantic.Field(ge=1, le=10)]


def design_sos(sfreq: float, l_freq: float | None, h_freq: float | None, order: int = 4) -> np.ndarray:
    """Butterworth second-order sections for a band-, high- or low-pass filter.

    Parameters
    ----------
    sfreq : float
        Sampling rate in Hz.
    l_freq, h_freq : float | None
        Lower and upper cut-off in Hz (-3 dB); ``None`` leaves that side open.
    order : int
        Filter order (per side for band-pass).

    Returns
    -------
    sos : ndarray, shape (n_sections, 6)
    """
    check_band(l_freq, h_freq, sfreq)
    if l_freq is not None and h_freq is not None:
        return signal.butter(order, [l_freq, h_freq], btype="bandpass", fs=sfreq, output="sos")
    if l_freq is not None:
        return signal.butter(order, l_freq, btype="highpass", fs=sfreq, output="sos")
    if h_freq is not None:
        return signal.butter(order, h_freq, btype="lowpass", fs=sfreq, output="sos")
    raise ConfigError("give l_freq, h_freq or both.")


def notch_sos(sfreq: float, freqs: list[float], quality: float = 30.0) -> np.ndarray:
    """Cascaded IIR notch filters (``scipy.signal.iirnotch``) at ``freqs`` Hz, as SOS."""
    sections = []
    for f in freqs:
        check_band(f, None, sfreq)
        b, a = signal.iirnotch(f, quality, fs=sfreq)
        sections.append(signal.tf2sos(b, a))
    return np.vstack(sections)


class _SOSStage(Stage):
    """A causal IIR filter applied channel-wise with state carried across chunks."""

    accepts = (SignalChunk,)

    def reset(self) -> None:
        self._sos: np.ndarray | None = None
        self._zi: np.ndarray | None = None
        self._info: SignalInfo | None = None

    def _design(self, sfreq: float) -> np.ndarray:
        raise NotImplementedError

    def _process(self, chunk: SignalChunk) -> Iterable[SignalChunk]:
        if self._sos is None:
            self._sos = np.ascontiguousarray(self._design(chunk.info.sfreq), dtype=np.float64)
            self._zi = sos_state(self._sos.shape[0], chunk.info.n_channels)
            self._info = chunk.info
        elif chunk.info is not self._info and chunk.info != self._info:
            raise DataError(
                f"{type(self).__name__} got a chunk of another stream ({chunk.info.n_channels} "
                f"channels at {chunk.info.sfreq} Hz); call reset() between streams."
            )
        if chunk.n_samples == 0:
            yield chunk
            return
        out = sosfilt_stateful(self._sos, chunk.data, self._zi)
        if out is None:  # the kernel found a NaN or inf (state untouched): say where
            check_finite(f"{type(self).__name__} input", chunk.data)
        yield SignalChunk(out, chunk.info, chunk.start, chunk.markers)


class BandPass(_SOSStage):
    """Causal Butterworth band-pass filter.

    Parameters
    ----------
    l_freq, h_freq : float
        Pass band edges in Hz (-3 dB points).
    order : int
        Butterworth order (the band-pass has twice as many poles).
    """

    name = "bandpass"

    def __init__(self, l_freq: PositiveHz, h_freq: PositiveHz, order: Order = 4):
        self.l_freq = l_freq
        self.h_freq = h_freq
        self.order = order

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """The band's edges in increasing order."""
        check_increasing(("l_freq", "h_freq"), params["l_freq"], params["h_freq"], "Hz")

    def _design(self, sfreq: float) -> np.ndarray:
        return design_sos(sfreq, self.l_freq, self.h_freq, self.order)


class HighPass(_SOSStage):
    """Causal Butterworth high-pass filter (``l_freq`` Hz cut-off)."""

    name = "highpass"

    def __init__(self, l_freq: PositiveHz, order: Order = 4):
        self.l_freq = l_freq
        self.order = order

    def _design(self, sfreq: float) -> np.ndarray:
        return design_sos(sfreq, self.l_freq, None, self.order)


class LowPass(_SOSStage):
    """Causal Butterworth low-pass filter (``h_freq`` Hz cut-off)."""

    name = "lowpass"

    def __init__(self, h_freq: PositiveHz, order: Order = 4):
        self.h_freq = h_freq
        self.order = order

    def _design(self, sfreq: float) -> np.ndarray:
        return design_sos(sfreq, None, self.h_freq, self.order)


class Notch(_SOSStage):
    """Causal IIR notch filters, e.g. at the line frequency and its harmonics.

    Parameters
    ----------
    freqs : list of float
        Centre frequencies in Hz.
    quality : float
        Quality factor: centre frequency / -3 dB bandwidth.
    """

    name = "notch"

    def __init__(
        self,
        freqs: Annotated[list[PositiveHz], pydantic.Field(min_length=1)] = [50.0],  # noqa: B006
        quality: PositiveHz = 30.0,
    ):
        self.freqs = freqs
        self.quality = quality

    def _design(self, sfreq: float) -> np.ndarray:
        return notch_sos(sfreq, self.freqs, self.quality)


class Rereference(Stage):
    """Re-reference EEG channels to their average or to given channels (stateless).

    Parameters
    ----------
    ref : "average" | list of str
        ``"average"`` subtracts the mean over EEG channels; a list subtracts the mean of those
        channels. Non-EEG channels (EOG, EMG, misc) are left untouched.
    """

    name = "rereference"
    accepts = (SignalChunk,)

    def __init__(
        self, ref: Literal["average"] | Annotated[list[str], pydantic.Field(min_length=1)] = "average"
    ):
        self.ref = ref

    def _process(self, chunk: SignalChunk) -> Iterable[SignalChunk]:
        names, types = chunk.info.ch_names, chunk.info.ch_types
        eeg = np.array([t == "eeg" for t in types])
        if self.ref == "average":
            ref_idx = np.flatnonzero(eeg)
        else:
            missing = [c for c in self.ref if c not in names]
            if missing:
                raise DataError(f"reference channels {missing} are not in the stream {list(names)}.")
            ref_idx = np.array([names.index(c) for c in self.ref])
        if len(ref_idx) == 0:
            raise DataError("the stream has no EEG channels to re-reference.")
        data = chunk.data.copy()
        data[eeg] -= data[ref_idx].mean(axis=0, keepdims=True)
        yield SignalChunk(data, chunk.info, chunk.start, chunk.markers)


class Pick(Stage):
    """Keep some channels, by name or by type (stateless).

    Parameters
    ----------
    channels : list of str | None
        Channel names to keep, in this order.
    types : list of str | None
        Channel types to keep (e.g. ``["eeg"]``), applied when ``channels`` is None.
    """

    name = "pick"
    accepts = (SignalChunk,)

    def __init__(self, channels: list[str] | None = None, types: list[str] | None = None):
        self.channels = channels
        self.types = types

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """Channels by name or by type, not both."""
        check_one_of("Pick", {"channels": params["channels"], "types": params["types"]})

    def reset(self) -> None:
        self._index: np.ndarray | None = None
        self._info: SignalInfo | None = None

    def _process(self, chunk: SignalChunk) -> Iterable[SignalChunk]:
        if self._index is None:
            names, types = chunk.info.ch_names, chunk.info.ch_types
            if self.channels is not None:
                missing = [c for c in self.channels if c not in names]
                if missing:
                    raise DataError(f"channels {missing} are not in the stream {list(names)}.")
                index = [names.index(c) for c in self.channels]
            else:
                index = [i for i, t in enumerate(types) if t in self.types]
                if not index:
                    raise DataError(f"no channel of types {self.types}; the stream has {sorted(set(types))}.")
            self._index = np.array(index)
            self._info = chunk.info.pick(index)
        yield SignalChunk(chunk.data[self._index], self._info, chunk.start, chunk.markers)


def resampling_filter(up: int, down: int, taps_per_phase: int = 16) -> np.ndarray:
    """Anti-aliasing low-pass FIR for rational resampling by ``up/down`` (Kaiser window, β = 5).

    Returns the taps scaled by ``up``, padded to a multiple of ``up``.
    """
    n = taps_per_phase * up
    h = signal.firwin(n, 1.0 / max(up, down), window=("kaiser", 5.0)) * up
    return h


class Resample(Stage):
    """Causal polyphase resampling to a new rate.

    Output sample ``m`` is the FIR-filtered, zero-stuffed input at upsampled index ``m·down``, i.e.
    ``scipy.signal.upfirdn(h, x, up, down)[m]``: the same sum whatever the chunking. The filter is
    causal, so the output lags by ``(len(h) - 1) / 2`` upsampled samples (see :meth:`delay`).
    A stream already at ``sfreq`` passes through unchanged.
    Markers keep their onsets (seconds).

    Parameters
    ----------
    sfreq : float
        New sampling rate in Hz; ``sfreq / input rate`` must be a ratio of integers ≤ 1000.
    taps_per_phase : int
        FIR length per polyphase branch (longer is sharper and slower).
    """

    name = "resample"
    accepts = (SignalChunk,)

    def __init__(self, sfreq: PositiveHz, taps_per_phase: Annotated[int, pydantic.Field(ge=2, le=256)] = 16):
        self.sfreq = sfreq
        self.taps_per_phase = taps_per_phase

    def reset(self) -> None:
        self._setup: tuple | None = None
        self._history: np.ndarray | None = None
        self._n_in = 0
        self._n_out = 0

    def delay(self, input_sfreq: float) -> float:
        """Group delay in seconds of the causal anti-aliasing filter for an input rate in Hz."""
        up, _ = self._ratio(input_sfreq)
        if up == 1 and self.sfreq == input_sfreq:
            return 0.0
        return (self.taps_per_phase * up - 1) / 2 / (up * input_sfreq)

    def _ratio(self, input_sfreq: float) -> tuple[int, int]:
        ratio = Fraction(self.sfreq / input_sfreq).limit_denominator(1000)
        if abs(float(ratio) - self.sfreq / input_sfreq) > 1e-9:
            raise DataError(
                f"cannot resample {input_sfreq} Hz to {self.sfreq} Hz by a ratio of integers ≤ 1000; "
                "choose a rate with a simpler ratio."
            )
        return ratio.numerator, ratio.denominator

    def _prepare(self, info: SignalInfo) -> None:
        up, down = self._ratio(info.sfreq)
        h = resampling_filter(up, down, self.taps_per_phase)
        n_phase_taps = len(h) // up
        # polyphase[r, q] = h[r + q*up]: output with phase r sums x[i0 - q] * polyphase[r, q].
        polyphase = h.reshape(n_phase_taps, up).T.copy()
        out_info = info.replace(sfreq=float(self.sfreq))
        self._setup = (up, down, h, polyphase, out_info)
        self._history = np.zeros((info.n_channels, n_phase_taps - 1))

    def _process(self, chunk: SignalChunk) -> Iterable[SignalChunk]:
        if chunk.info.sfreq == self.sfreq:
            yield chunk
            return
        if self._setup is None:
            self._prepare(chunk.info)
        up, down, _, polyphase, out_info = self._setup
        n_hist = self._history.shape[1]
        x = np.concatenate([self._history, chunk.data.astype(np.float64)], axis=1)
        n_in = self._n_in + chunk.n_samples
        # outputs m whose newest input index floor(m*down/up) is available: m*down < n_in*up
        m_stop = -(-n_in * up // down)
        m = np.arange(self._n_out, m_stop)
        k = m * down
        newest = k // up - (self._n_in - n_hist)  # index into x of the newest input used
        phase = k % up
        q = np.arange(polyphase.shape[1])
        gathered = x[:, newest[:, None] - q[None, :]]  # (channels, outputs, taps)
        y = np.einsum("cmq,mq->cm", gathered, polyphase[phase])
        self._history = x[:, x.shape[1] - n_hist :] if n_hist else x[:, :0]
        start = self._n_out
        self._n_in, self._n_out = n_in, m_stop
        yield SignalChunk(y, out_info, start, chunk.markers)
