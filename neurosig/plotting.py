"""Figures a person would rather look at than read (matplotlib, written to PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_signal_file", "plot_frames_file", "plot_outputs"]


def plot_signal_file(path: str | Path, out: str | Path, seconds: float = 10.0, n_channels: int = 8) -> Path:
    """Plot the first ``seconds`` of a stored signal stream (stacked traces, µV) and every channel's PSD.

    Parameters
    ----------
    path : str | Path
        A neurosig HDF5 file holding a signal stream.
    out : str | Path
        The PNG to write.
    seconds : float
        Seconds of traces to show.
    n_channels : int
        Number of channels to draw as traces.

    Returns
    -------
    Path
        ``out``.
    """
    from scipy import signal

    from neurosig.core.chunks import SignalChunk
    from neurosig.core.errors import DataError
    from neurosig.core.figures import save_figure, subplots
    from neurosig.io.hdf5 import read_hdf5

    chunk, _ = read_hdf5(path)
    if not isinstance(chunk, SignalChunk):
        raise DataError(f"{path} holds {type(chunk).__name__}s, not a signal stream.")
    sf, names = chunk.info.sfreq, chunk.info.ch_names
    n = min(chunk.n_samples, int(seconds * sf))
    picks = np.linspace(0, len(names) - 1, min(n_channels, len(names))).astype(int)
    traces = chunk.data[picks, :n] * 1e6
    spacing = 4 * np.median(np.std(traces, axis=1)) or 1.0
    fig, (ax_t, ax_f) = subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [2, 1]})
    t = np.arange(n) / sf
    for k, (i, tr) in enumerate(zip(picks, traces, strict=True)):
        ax_t.plot(t, tr - k * spacing, lw=0.6)
        ax_t.text(-0.01 * t[-1], -k * spacing, names[i], ha="right", va="center", fontsize=8)
    ax_t.set(xlabel="time (s)", yticks=[], title=f"first {t[-1]:.0f} s, {spacing:.0f} µV between traces")
    f, psd = signal.welch(chunk.data, fs=sf, nperseg=min(chunk.n_samples, int(2 * sf)))
    ax_f.semilogy(f, (psd * 1e12).T, lw=0.4, color="0.4", alpha=0.5)
    ax_f.semilogy(f, np.median(psd * 1e12, axis=0), lw=1.5, color="C3", label="median")
    ax_f.set(xlabel="frequency (Hz)", ylabel="PSD (µV²/Hz)", title="power spectra")
    ax_f.legend()
    fig.suptitle(Path(path).name)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return save_figure(fig, out)


def plot_frames_file(path: str | Path, out: str | Path, n_frames: int = 8) -> Path:
    """Plot ``n_frames`` evenly spaced frames of a stored frame stream (ON minus OFF counts).

    Parameters
    ----------
    path : str | Path
        A neurosig HDF5 file holding a spike stream whose info has a ``(P, H, W)`` shape.
    out : str | Path
        The PNG to write.
    n_frames : int
        Frames to show.

    Returns
    -------
    Path
        ``out``.
    """
    from neurosig.core.chunks import SpikeChunk
    from neurosig.core.errors import DataError
    from neurosig.core.figures import save_figure, subplots
    from neurosig.io.hdf5 import read_hdf5

    chunk, _ = read_hdf5(path)
    if not isinstance(chunk, SpikeChunk) or len(chunk.info.shape) != 3:
        raise DataError(f"{path} holds no (P, H, W) frame stream.")
    frames = chunk.data.reshape(chunk.n_steps, *chunk.info.shape).astype(np.float32)
    picks = np.linspace(0, chunk.n_steps - 1, min(n_frames, chunk.n_steps)).astype(int)
    fig, axes = subplots(1, len(picks), figsize=(2.2 * len(picks), 2.4), squeeze=False)
    for ax, k in zip(axes[0], picks, strict=True):
        image = frames[k, -1] - (frames[k, 0] if frames.shape[1] > 1 else 0)
        limit = max(1.0, float(np.abs(image).max()))
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set(xticks=[], yticks=[], title=f"t = {k * chunk.info.dt * 1e3:.0f} ms")
    fig.suptitle(f"{Path(path).name}: ON (red) minus OFF (blue) events per frame")
    fig.tight_layout()
    return save_figure(fig, out)


def plot_outputs(paths: list[str | Path]) -> list[Path]:
    """Write a PNG beside each output that has a natural picture (signals, event frames)."""
    from neurosig.io.hdf5 import read_attrs

    figures = []
    for path in map(Path, paths):
        attrs = read_attrs(path)
        kind, shape = attrs.get("chunk_type"), attrs.get("stream_info", {}).get("shape", [])
        if kind == "SignalChunk":
            figures.append(plot_signal_file(path, path.with_suffix(".png")))
        elif kind == "SpikeChunk" and len(shape) == 3:
            figures.append(plot_frames_file(path, path.with_suffix(".png")))
    return figures
