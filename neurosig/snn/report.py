"""Figures of a delay-network training run: learning curves and the learnt delays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_training"]


def plot_training(
    history: Sequence[dict[str, Any]], delays: Mapping[str, np.ndarray], path: str | Path
) -> Path:
    """Write a PNG of accuracy and loss per epoch, and of the rounded delays of each delay layer.

    Parameters
    ----------
    history : sequence of dict
        One row per epoch with ``train_accuracy``, ``val_accuracy``, ``train_loss``, ``val_loss``
        and ``sigma`` (as :func:`neurosig.snn.train.fit` returns and ``metrics.jsonl`` holds).
    delays : mapping of str to ndarray of int
        Rounded delays in time steps, one ``(out, in)`` array per delay layer, by the layer's name
        (empty for a network without delays).
    path : str | Path
        The PNG to write.

    Returns
    -------
    Path
        The written file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    epochs = [row["epoch"] + 1 for row in history]
    n_panels = 2 + (len(delays) > 0)
    fig, axes = plt.subplots(1, n_panels, figsize=(4.2 * n_panels, 3.4), constrained_layout=True)
    ax_acc, ax_loss = axes[0], axes[1]
    for split, style in (("train", "o-"), ("val", "s-")):
        ax_acc.plot(epochs, [100 * row[f"{split}_accuracy"] for row in history], style, label=split)
        ax_loss.plot(epochs, [row[f"{split}_loss"] for row in history], style, label=split)
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(0, 100), title="accuracy (val: rounded delays)")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    sigma_axis = ax_loss.twinx()
    sigma_axis.plot(epochs, [row["sigma"] for row in history], ":", color="grey")
    sigma_axis.set_ylabel("delay kernel σ (steps, dotted)", color="grey")
    for ax in (ax_acc, ax_loss):
        ax.legend(fontsize="small")
    if delays:
        ax_delay = axes[2]
        largest = max(int(d.max(initial=0)) for d in delays.values())
        bins = np.arange(largest + 2) - 0.5
        for name, layer_delays in delays.items():
            ax_delay.hist(layer_delays.ravel(), bins=bins, histtype="step", lw=1.5, label=name)
        ax_delay.set(xlabel="delay (steps)", ylabel="synapses", title="learnt delays (rounded)")
        ax_delay.legend(fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
