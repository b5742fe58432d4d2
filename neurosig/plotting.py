"""Figures a person would rather look at than read (matplotlib, written to PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_signal_file", "plot_frames_file", "plot_outputs"]


def plot_signal_file(path: str | Path, out: str | Path, seconds: float = 10.0, n_channels: int = 8) -> Path:
    """Plot the first ``seconds`` of a stored signal stream (stacked traces, µV) and the EEG channels' PSD.

    EEG channels share one amplitude scale (drawn as a scale bar); other channels (EOG, EMG, ...)
    get their own lanes below a line, each shrunk to fit its lane, the factor in its label, and are
    left out of the spectra.

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
    sf, names, types = chunk.info.sfreq, chunk.info.ch_names, chunk.info.ch_types
    n = min(chunk.n_samples, int(seconds * sf))
    eeg = [i for i, kind in enumerate(types) if kind == "eeg"] or list(range(len(names)))
    others = [i for i in range(len(names)) if i not in eeg][:2]
    n_eeg = max(1, min(n_channels - len(others), len(eeg)))
    picks = [eeg[j] for j in np.linspace(0, len(eeg) - 1, n_eeg).astype(int)] + others
    traces = chunk.data[picks, :n] * 1e6
    traces -= traces.mean(axis=1, keepdims=True)
    spacing = 6 * float(np.median(np.std(traces[:n_eeg], axis=1))) or 1.0
    fig, (ax_t, ax_f) = subplots(1, 2, figsize=(12, 5.5), gridspec_kw={"width_ratios": [2, 1]})
    t = np.arange(n) / sf
    for k, (i, tr) in enumerate(zip(picks, traces, strict=True)):
        label = names[i]
        if k >= n_eeg:  # its own lane: shrunk to fit between its neighbours
            factor = min(1.0, 0.9 * spacing / max(float(np.ptp(tr)), 1e-12))
            tr = tr * factor
            label = f"{names[i]} ({types[i].upper()}) ×{factor:.2g}" if factor < 1 else names[i]
        colour = f"C{k}" if k < n_eeg else "0.3"
        ax_t.plot(t, tr - k * spacing, lw=0.6, color=colour)
        ax_t.text(-0.01 * t[-1], -k * spacing, label, ha="right", va="center", fontsize=8)
    if others:
        ax_t.axhline(-(n_eeg - 0.5) * spacing, color="0.6", lw=0.6, ls=":")
    bar = float(f"{spacing / 2:.1g}")  # a round scale bar about half a lane high, right of the last EEG
    x_bar, y_bar = t[-1] * 1.02, -(n_eeg - 1) * spacing
    ax_t.plot([x_bar, x_bar], [y_bar, y_bar + bar], color="k", lw=2, clip_on=False)
    ax_t.text(x_bar, y_bar - 0.1 * spacing, f"{bar:g} µV", ha="center", va="top", fontsize=8)
    ax_t.set_ylim(-(len(picks) - 0.4) * spacing, 1.5 * spacing)
    title = f"first {t[-1]:.0f} s (EEG: {spacing:.0f} µV between traces)"
    ax_t.set(xlabel="time (s)", yticks=[], title=title)
    f, psd = signal.welch(chunk.data[eeg], fs=sf, nperseg=min(chunk.n_samples, int(2 * sf)))
    ax_f.semilogy(f, (psd * 1e12).T, lw=0.4, color="0.4", alpha=0.5)
    ax_f.semilogy(f, np.median(psd * 1e12, axis=0), lw=1.5, color="C3", label="median")
    ax_f.set(xlabel="frequency (Hz)", ylabel="PSD (µV²/Hz)", title=f"power spectra ({len(eeg)} EEG channels)")
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
    from matplotlib.ticker import MaxNLocator

    from neurosig.core.chunks import SpikeChunk
    from neurosig.core.errors import DataError
    from neurosig.core.figures import save_figure, subplots
    from neurosig.io.hdf5 import read_hdf5

    chunk, _ = read_hdf5(path)
    if not isinstance(chunk, SpikeChunk) or len(chunk.info.shape) != 3:
        raise DataError(f"{path} holds no (P, H, W) frame stream.")
    frames = chunk.data.reshape(chunk.n_steps, *chunk.info.shape).astype(np.float32)
    picks = np.linspace(0, chunk.n_steps - 1, min(n_frames, chunk.n_steps)).astype(int)
    images = [frames[k, -1] - (frames[k, 0] if frames.shape[1] > 1 else 0) for k in picks]
    limit = max(1.0, max(float(np.abs(image).max()) for image in images))  # one scale for all frames
    cols = min(4, len(picks))
    rows = -(-len(picks) // cols)
    fig, axes = subplots(
        rows, cols, figsize=(3.2 * cols + 1.0, 2.8 * rows), squeeze=False, layout="constrained"
    )
    dt_ms = chunk.info.dt * 1e3
    for ax, k, image in zip(axes.flat, picks, images, strict=False):
        shown = ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set(xticks=[], yticks=[], title=f"{k * dt_ms:.0f}–{(k + 1) * dt_ms:.0f} ms")
    for ax in axes.flat[len(picks) :]:
        ax.set_axis_off()
    bar = fig.colorbar(shown, ax=axes, shrink=0.8, label="ON − OFF events per pixel")
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(
        f"{Path(path).name}: {len(picks)} of {chunk.n_steps} frames of {dt_ms:g} ms each "
        "(red: more ON events, blue: more OFF)"
    )
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
