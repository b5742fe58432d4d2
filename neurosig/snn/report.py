"""Figures of the spiking-network tools: a delay network's training run and confusion matrix, FEAST's
convergence and HD-SNN's pruning trade-off."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.figures import save_figure, subplots

__all__ = ["plot_confusion", "plot_feast", "plot_pruning", "plot_training"]


def plot_training(
    history: Sequence[dict[str, Any]],
    delays: Mapping[str, np.ndarray],
    path: str | Path,
    dt: float,
    best_epoch: int | None = None,
) -> Path:
    """Write a PNG of accuracy and loss per epoch, and of the rounded delays of each delay layer.

    Parameters
    ----------
    history : sequence of dict
        One row per epoch with ``epoch`` (counted from 0), ``train_accuracy``, ``val_accuracy``,
        ``train_loss``, ``val_loss`` and ``sigma`` (as :func:`neurosig.snn.train.fit` returns and
        ``metrics.jsonl`` holds).
    delays : mapping of str to ndarray of int
        Rounded delays in time steps, one ``(out, in)`` array per delay layer, by the layer's name
        (empty for a network without delays).
    path : str | Path
        The PNG to write.
    dt : float
        Length of one time step, s (the delays are drawn in ms).
    best_epoch : int | None
        The epoch kept (``summary.json``'s ``best_epoch``, from 0), marked on the curves.

    Returns
    -------
    Path
        The written file.
    """
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in history]  # from 0, as in metrics.jsonl and summary.json
    n_panels = 2 + (len(delays) > 0)
    fig, axes = subplots(1, n_panels, figsize=(4.4 * n_panels, 3.6), layout="constrained")
    ax_acc, ax_loss = axes[0], axes[1]
    for split, style in (("train", "o-"), ("val", "s-")):
        ax_acc.plot(epochs, [100 * row[f"{split}_accuracy"] for row in history], style, label=split)
        ax_loss.plot(epochs, [row[f"{split}_loss"] for row in history], style, label=split)
    ax_acc.set(
        xlabel="epoch (from 0)", ylabel="accuracy (%)", ylim=(0, 102), title="accuracy (val: rounded delays)"
    )
    ax_loss.set(xlabel="epoch (from 0)", ylabel="cross-entropy", title="loss")
    sigma_axis = ax_loss.twinx()
    sigma_axis.plot(epochs, [row["sigma"] for row in history], ":", color="grey")
    sigma_axis.set_ylabel("delay kernel σ (steps, dotted)", color="grey")
    for ax, corner in ((ax_acc, "lower right"), (ax_loss, "upper right")):  # where the curves are not
        if best_epoch is not None:
            ax.axvline(best_epoch, color="k", lw=0.8, ls="--", label=f"best_epoch = {best_epoch}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="small", loc=corner)
    if delays:
        ax_delay = axes[2]
        step_ms = 1000.0 * dt
        largest = max(int(d.max(initial=0)) for d in delays.values())
        bins = (np.arange(largest + 2) - 0.5) * step_ms
        for name, layer_delays in delays.items():
            ax_delay.hist(layer_delays.ravel() * step_ms, bins=bins, histtype="step", lw=1.5, label=name)
        ax_delay.set(xlabel=f"delay (ms; one step = {step_ms:g} ms)", ylabel="synapses")
        ax_delay.set_title("learnt delays (rounded)")
        ax_delay.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax_delay.legend(fontsize="small")
    return save_figure(fig, path)


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: str | Path, title: str = "test") -> Path:
    """Write a PNG of a confusion matrix (rows: true class, columns: predicted), counts in the cells.

    Parameters
    ----------
    matrix : ndarray of int, shape (n_classes, n_classes)
        ``matrix[i, j]``: samples of class ``i`` predicted as ``j``.
    classes : sequence of str
        Class names, in label order.
    path : str | Path
        The PNG to write.
    title : str
        What the samples are (shown in the title with the accuracy).
    """
    matrix = np.asarray(matrix)
    n = len(classes)
    fig, ax = subplots(figsize=(1.2 + 0.45 * n, 1.0 + 0.45 * n), layout="constrained")
    ax.imshow(matrix, cmap="Blues")
    for i in range(n):
        for j in range(n):
            colour = "white" if matrix[i, j] > matrix.max() / 2 else "black"
            ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize="small", color=colour)
    accuracy = np.trace(matrix) / max(int(matrix.sum()), 1)
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true")
    ax.set_xticklabels(classes, rotation=90, fontsize="small")
    ax.set_yticklabels(classes, fontsize="small")
    ax.set_title(f"{title}: accuracy {100 * accuracy:.1f} %")
    return save_figure(fig, path)


def plot_feast(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write a PNG of FEAST's learnt features, threshold trajectories and missed-event rate.

    Parameters
    ----------
    report : mapping
        :meth:`neurosig.snn.feast.FeastStage.side_output`: ``weights`` (one row of ``(2r + 1)²``
        context weights per neuron), ``radius``, and the :class:`~neurosig.snn.feast.ConvergenceLog`
        samples ``events``, ``missed_events`` and ``thresholds``.
    path : str | Path
        The PNG to write.

    Returns
    -------
    Path
        The written file.
    """
    weights = np.asarray(report["weights"], dtype=float)
    side = 2 * int(report["radius"]) + 1
    n_neurons = len(weights)
    cols = min(n_neurons, 4)
    rows = -(-n_neurons // cols)
    mosaic = np.full((rows * (side + 1) - 1, cols * (side + 1) - 1), np.nan)
    for index, row in enumerate(weights):
        r, c = divmod(index, cols)
        mosaic[r * (side + 1) : r * (side + 1) + side, c * (side + 1) : c * (side + 1) + side] = row.reshape(
            side, side
        )
    events = np.asarray(report["events"], dtype=float)
    fig, (ax_w, ax_th, ax_miss) = subplots(1, 3, figsize=(13, 3.6), layout="constrained")
    image = ax_w.imshow(mosaic, cmap="viridis")
    for index in range(n_neurons):
        r, c = divmod(index, cols)
        ax_w.text(c * (side + 1), r * (side + 1), str(index), color="white", fontsize=7, va="top")
    ax_w.set(title=f"learnt features ({side}×{side} context each)", xticks=[], yticks=[])
    fig.colorbar(image, ax=ax_w, shrink=0.8, label="weight")
    thresholds = np.asarray(report["thresholds"], dtype=float).reshape(len(events), n_neurons)
    ax_th.plot(events, thresholds, lw=1)
    ax_th.set(xlabel="events seen", ylabel="threshold", title="threshold per neuron")
    if len(events):
        seen = np.concatenate([[0.0], events])
        missed = np.concatenate([[0.0], np.asarray(report["missed_events"], dtype=float)])
        ax_miss.step(seen[1:], 100 * np.diff(missed) / np.diff(seen), where="pre")
        ax_miss.set_ylim(0, max(1.0, 1.15 * float(np.max(100 * np.diff(missed) / np.diff(seen)))))
    ax_miss.set(
        xlabel="events seen",
        ylabel="missed events (%, per interval)",
        title=f"missed-event rate (overall {100 * report['missed_rate']:.1f} %)",
    )
    return save_figure(fig, path)


def plot_pruning(curve: Sequence[Mapping[str, float]], path: str | Path, chance: float | None = None) -> Path:
    """Write a PNG of accuracy against event-driven operations, one point per pruned fraction.

    Parameters
    ----------
    curve : sequence of mapping
        :func:`neurosig.snn.hdsnn.pruning_curve`: ``fraction``, ``accuracy`` and ``ops_per_sample``.
    path : str | Path
        The PNG to write.
    chance : float | None
        Chance accuracy (e.g. ``1 / n_directions``), drawn as a dashed line.

    Returns
    -------
    Path
        The written file.
    """
    ops = [row["ops_per_sample"] for row in curve]
    accuracy = [100 * row["accuracy"] for row in curve]
    fig, ax = subplots(figsize=(5.5, 3.6), layout="constrained")
    ax.semilogx(ops, accuracy, "o-")
    for row, x, y in zip(curve, ops, accuracy, strict=True):
        label = f"{100 * row['fraction']:g} %"
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(0, -13), ha="center", fontsize=7)
    ax.margins(x=0.15)
    if chance is not None:
        ax.axhline(100 * chance, color="grey", ls="--", lw=0.8, label="chance")
        ax.legend(fontsize="small")
    ax.set(
        xlabel="operations per sample (events × non-zero weights)",
        ylabel="accuracy (%)",
        ylim=(0, 105),
        title="accuracy vs operations (labels: weights pruned)",
    )
    return save_figure(fig, path)
