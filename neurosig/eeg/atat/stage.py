"""The ``atat`` stage: a trained denoiser applied to continuous EEG, window by window with overlap-add.

The stream is cut into 2-s windows (rounded to an even number of samples at the stream's rate) with
50 % overlap on a grid fixed by the stream start, so the output does not depend on chunk sizes. Each
window of each EEG channel has its mean removed, is resampled to the model's 512 samples (256 Hz),
divided by its std, denoised, scaled back, resampled back and weighted by a periodic Hann window;
two overlapping Hann windows sum to one, so every sample is a weighted mean of two model outputs.
The stream's first and last half-windows are completed by mirroring the signal at its ends.

The stage holds back one window (2 s) of signal: its latency is 2 s.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import numpy as np
import pydantic
from scipy import signal

from neurosig.core.chunks import Marker, SignalChunk, SignalInfo
from neurosig.core.errors import DataError
from neurosig.core.persist import shipped_weights
from neurosig.core.stage import Stage

__all__ = ["ATATDenoise", "DEFAULT_WEIGHTS", "FLAT_STD", "GATE_OPEN"]

#: The weights shipped with the package (see ``weights/MODEL_CARD.md``).
DEFAULT_WEIGHTS = "atat_small.pt"
#: A window whose std is at or below this (in the stream's unit) is flat and passed through untouched.
FLAT_STD = 1e-13
#: A channel-window counts as gated when the gate exceeds this on at least one of its patches.
GATE_OPEN = 0.5


def _default_weights() -> Path:
    return shipped_weights(
        "neurosig.eeg.atat",
        DEFAULT_WEIGHTS,
        "AT-AT weights",
        "pass weights=PATH to a model trained with `neurosig run pipelines/atat_train.yaml`",
    )


class ATATDenoise(Stage):
    """Remove EMG from continuous EEG with a trained AT-AT (or baseline) denoiser.

    Parameters
    ----------
    weights : str | None
        Checkpoint written by the ``atat_train`` job (weights with their config); ``None`` uses the
        small AT-AT shipped with neurosig.
    picks : {"eeg", "all"}
        Denoise channels of type ``eeg`` only (others pass through, delayed like the rest), or all.
    batch_size : int
        Windows × channels per model call.
    threads : int
        Torch CPU threads during the model calls (restored afterwards). The model is small: one
        thread is fastest unless batches are large, and avoids oversubscribing a busy machine.

    Notes
    -----
    A channel whose window is flat (std ≤ :data:`FLAT_STD`) passes through that window untouched.
    NaN or infinite samples raise :class:`~neurosig.core.errors.DataError` naming the channel.
    Streaming invariance holds to float32 rounding of the model (tested at ``rtol=1e-4``).

    The side output (stored with the output under ``reports/``) counts the channel-windows the model
    denoised, those whose gate exceeded :data:`GATE_OPEN` on some patch, and the mean gate. The
    shipped weights' gate sits near 0.94 even on clean simulated EEG, so nearly every window counts
    as gated; the mean gate is the more telling number (it rises towards 1 with EMG).
    """

    name: ClassVar[str] = "atat"
    accepts: ClassVar[tuple[type, ...]] = (SignalChunk,)

    def __init__(
        self,
        weights: str | None = None,
        picks: Literal["eeg", "all"] = "eeg",
        batch_size: Annotated[int, pydantic.Field(gt=0)] = 256,
        threads: Annotated[int, pydantic.Field(gt=0)] = 1,
    ):
        self.weights = weights
        self.picks = picks
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self.reset()

    def reset(self) -> None:
        """Forget the stream (the loaded model is kept)."""
        self._info: SignalInfo | None = None
        self._pending: np.ndarray | None = None  # raw samples before the front mirror exists
        self._buf: np.ndarray | None = None  # padded stream from the next window's start
        self._acc: np.ndarray | None = None  # weighted outputs for the next half-window
        self._next_window = 0
        self._emitted = 0
        self._n_in = 0
        self._markers: list[Marker] = []
        self._windows = 0  # channel-windows denoised by the model
        self._gated = 0  # of which the AT-AT gate opened (> GATE_OPEN on some patch)
        self._gate_sum = 0.0  # sum over channel-windows of the mean gate

    # -- set-up ------------------------------------------------------------------------------------

    def _load(self):
        if self._model is None:
            from neurosig.eeg.atat.checkpoint import load_model  # noqa: PLC0415 - torch only when used

            path = _default_weights() if self.weights is None else self.weights
            self._model, meta = load_model(path)
            self._n_model = int(meta["params"].get("n_times", 512))
        return self._model

    def _start(self, info: SignalInfo) -> None:
        self._load()
        self._info = info
        self._n = 2 * max(1, round(info.sfreq * self._n_model / 512.0))
        self._hop = self._n // 2
        ratio = Fraction(self._n_model, self._n)
        self._up, self._down = ratio.numerator, ratio.denominator
        self._taper = signal.windows.hann(self._n, sym=False).astype(np.float64)
        self._rows = np.array([self.picks == "all" or t == "eeg" for t in info.ch_types], dtype=bool)

    # -- the work ----------------------------------------------------------------------------------

    def _denoise(self, windows: np.ndarray) -> np.ndarray:
        """Denoise windows ``(n_windows, n_channels, n)`` of the picked channels, Hann-weighted."""
        import torch  # noqa: PLC0415 - torch only when used

        out = windows.copy()
        picked = windows[:, self._rows]
        flat = picked.reshape(-1, self._n)
        mean = flat.mean(axis=1, keepdims=True)
        x = flat - mean
        if (self._up, self._down) != (1, 1):
            x = signal.resample_poly(x, self._up, self._down, axis=1)
        std = x.std(axis=1, keepdims=True)
        live = std[:, 0] > FLAT_STD
        y = x.copy()
        if live.any():
            previous = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            try:
                y[live] = self._predict(x[live] / std[live]) * std[live]
            finally:
                torch.set_num_threads(previous)
        if (self._up, self._down) != (1, 1):
            y = signal.resample_poly(y, self._down, self._up, axis=1)
        y = y + mean
        y[~live] = flat[~live]
        out[:, self._rows] = y.reshape(picked.shape)
        return out * self._taper

    def _predict(self, x: np.ndarray) -> np.ndarray:
        """The model on normalised windows; an AT-AT model also counts how its gate opened."""
        import torch  # noqa: PLC0415 - torch only when used

        from neurosig.eeg.atat.checkpoint import predict  # noqa: PLC0415

        if not hasattr(self._model, "denoise"):  # baselines have no gate
            return predict(self._model, x, self.batch_size)
        self._model.eval()
        out = []
        with torch.inference_mode():
            for batch in torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32)).split(self.batch_size):
                y, gate = self._model.denoise(batch)
                out.append(y)
                self._gated += int((gate.amax(dim=1) > GATE_OPEN).sum())
                self._gate_sum += float(gate.double().mean(dim=1).sum())
        self._windows += len(x)
        return torch.cat(out).numpy()

    def side_output(self) -> dict[str, float | int] | None:
        """How the gate opened: channel-windows seen, gated (and their share), the mean gate (AT-AT)."""
        if not self._windows:
            return None
        return {
            "windows": self._windows,
            "gated": self._gated,
            "gated_share": self._gated / self._windows,
            "mean_gate": self._gate_sum / self._windows,
            "gate_open": GATE_OPEN,
        }

    def _run_windows(self, final: bool) -> list[np.ndarray]:
        """Process every complete window in the buffer; return the completed output samples."""
        n, hop = self._n, self._hop
        count = 0 if self._buf.shape[1] < n else (self._buf.shape[1] - n) // hop + 1
        if final:
            # Mirror the tail so the last real sample is covered by two windows.
            total = self._buf.shape[1]
            count = -(-total // hop)
            need = (count - 1) * hop + n
            if need > total:
                self._buf = np.pad(self._buf, ((0, 0), (0, need - total)), mode="reflect")
        if count == 0:
            return []
        idx = np.arange(count)[:, None] * hop + np.arange(n)
        windows = self._denoise(np.transpose(self._buf[:, idx], (1, 0, 2)))
        done = []
        for w in windows:
            first = self._acc + w[:, :hop]
            self._acc = w[:, hop:].copy()
            if self._next_window > 0:  # window 0's first half is the mirrored front pad
                done.append(first)
            self._next_window += 1
        self._buf = self._buf[:, count * hop :]
        return done

    def _emit(self, parts: list[np.ndarray], final: bool) -> list[SignalChunk]:
        if not parts:
            return []
        data = np.concatenate(parts, axis=1)
        if final:
            data = data[:, : self._n_in - self._emitted]
        start, self._emitted = self._emitted, self._emitted + data.shape[1]
        end_t = self._emitted / self._info.sfreq
        markers = tuple(m for m in self._markers if final or m.onset < end_t)
        self._markers = [m for m in self._markers if m not in markers]
        return [SignalChunk(data.astype(np.float32), self._info, start, markers)]

    def _process(self, chunk: SignalChunk):
        if self._info is None:
            self._start(chunk.info)
        elif chunk.info != self._info:
            raise DataError("the stream info changed mid-stream; reset the stage before a new stream.")
        bad = ~np.isfinite(chunk.data)
        if bad.any():
            ch = self._info.ch_names[int(np.argwhere(bad)[0][0])]
            raise DataError(
                f"atat: channel {ch!r} has NaN or infinite samples (first at sample "
                f"{chunk.start + int(np.argwhere(bad)[0][1])}); interpolate or drop it before this stage."
            )
        self._markers.extend(chunk.markers)
        self._n_in += chunk.n_samples
        data = chunk.data.astype(np.float64)
        if self._buf is None:
            self._pending = data if self._pending is None else np.concatenate([self._pending, data], axis=1)
            if self._pending.shape[1] <= self._hop:
                return []
            self._begin_buffer()
        else:
            self._buf = np.concatenate([self._buf, data], axis=1)
        return self._emit(self._run_windows(final=False), final=False)

    def _begin_buffer(self) -> None:
        """Prefix the stream with its mirror image (one hop long) and start the window buffer."""
        p = self._pending
        # Only the first hop + 1 samples shape the mirror, so it does not depend on chunk sizes.
        front = np.pad(p[:, : self._hop + 1], ((0, 0), (self._hop, 0)), mode="reflect")[:, : self._hop]
        self._buf = np.concatenate([front, p], axis=1)
        self._acc = np.zeros((p.shape[0], self._hop))
        self._pending = None

    def _flush(self):
        if self._info is None or self._n_in == 0:
            return []
        if self._buf is None:
            self._begin_buffer()
        return self._emit(self._run_windows(final=True), final=True)
