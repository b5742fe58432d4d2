"""FASTER's decisions as data: :class:`StepResult` (one step) and :class:`FasterReport` (a whole run).

Scores keep the units of their metric (see :mod:`neurosig.eeg.faster.metrics`: V, V², V²/Hz, or
dimensionless); z-scores are in standard deviations. The report serialises to JSON (non-finite numbers
become ``null``), summarises as a markdown table and plots the z-scores to a PNG (matplotlib, imported
on first use); :meth:`FasterReport.save` writes all three. Built by the step functions and
:func:`~neurosig.eeg.faster.run_faster` in :mod:`neurosig.eeg.faster`; this module imports nothing from
the rest of FASTER.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.figures import save_figure, subplots

__all__ = ["StepResult", "FasterReport"]


def _jsonable(a: np.ndarray) -> Any:
    a = np.asarray(a, dtype=np.float64)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


@dataclass
class StepResult:
    """The decisions of one FASTER step, with every metric's scores and z-scores.

    Attributes
    ----------
    step : str
        One of :data:`~neurosig.eeg.faster.STEPS`.
    items : list of str
        The items scored: channel names, epoch labels or component names (step 4: channel names;
        its arrays have a leading epoch axis).
    scores, z : dict of str to ndarray
        Per metric, the score and the decisive z-score of every item (see
        :func:`~neurosig.eeg.faster.find_outliers`). The ``eog_correlation:NAME`` metrics hold one EOG
        channel each; the ``constant`` metric of step 1 flags channels that never change (z = inf
        there, not a z-score).
    flags : dict of str to ndarray of bool
        Per metric, the items it flagged.
    threshold : float
        The ``|z|`` threshold used.
    notes : list of str
        What was skipped and why (e.g. no EOG channel).
    """

    step: str
    items: list[str]
    scores: dict[str, np.ndarray]
    z: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]
    threshold: float
    notes: list[str] = field(default_factory=list)

    @property
    def bad(self) -> np.ndarray:
        """Items flagged by any metric (bool; shape (n_items,), or (n_epochs, n_channels) in step 4)."""
        shape = next(iter(self.flags.values())).shape if self.flags else (len(self.items),)
        out = np.zeros(shape, dtype=bool)
        for f in self.flags.values():
            out |= f
        return out

    @classmethod
    def concat_epochs(cls, parts: Sequence[StepResult]) -> StepResult:
        """Step-4 results of consecutive blocks of epochs as one (arrays joined on the epoch axis)."""
        first = parts[0]

        def join(key: str) -> dict[str, np.ndarray]:
            return {m: np.concatenate([getattr(p, key)[m] for p in parts]) for m in getattr(first, key)}

        return cls(first.step, list(first.items), join("scores"), join("z"), join("flags"), first.threshold,
                   list(first.notes))  # fmt: skip

    def bad_items(self) -> list[str] | list[list[str]]:
        """Names of the flagged items (step 4: one list per epoch)."""
        bad = self.bad
        if bad.ndim == 2:
            return [[self.items[j] for j in np.flatnonzero(row)] for row in bad]
        return [self.items[j] for j in np.flatnonzero(bad)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (non-finite numbers become ``null``)."""
        return {
            "step": self.step,
            "items": list(self.items),
            "threshold": self.threshold,
            "notes": list(self.notes),
            "metrics": {
                m: {
                    "score": _jsonable(self.scores[m]),
                    "z": _jsonable(self.z[m]),
                    "bad": np.asarray(self.flags[m]).tolist(),
                }
                for m in self.scores
            },
            "bad": self.bad_items(),
        }


@dataclass
class FasterReport:
    """Everything FASTER decided, and why.

    Attributes
    ----------
    metrics : str
        The profile name.
    steps : dict of str to StepResult
        Per step (keys of :data:`~neurosig.eeg.faster.STEPS` that ran).
    kept_epochs : list of int
        Indices (in the input) of the epochs kept.
    interpolated : dict of int to list of str
        Output epoch index → channels interpolated in it (step-1 bad channels included).
    ica : dict
        ``random_state`` (the seed), ``method``, ``n_components`` and ``excluded`` components;
        empty when ICA did not run.
    """

    metrics: str
    steps: dict[str, StepResult]
    kept_epochs: list[int]
    interpolated: dict[int, list[str]] = field(default_factory=dict)
    ica: dict[str, Any] = field(default_factory=dict)

    @property
    def bad_channels(self) -> list[str]:
        """Channels flagged in step 1."""
        return list(self.steps["channels"].bad_items()) if "channels" in self.steps else []

    @property
    def bad_epochs(self) -> list[int]:
        """Input indices of the epochs dropped in step 2."""
        if "epochs" not in self.steps:
            return []
        return [int(i) for i in np.flatnonzero(self.steps["epochs"].bad)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the rejection log stored beside the cleaned epochs)."""
        return {
            "metrics": self.metrics,
            "bad_channels": self.bad_channels,
            "bad_epochs": self.bad_epochs,
            "kept_epochs": list(self.kept_epochs),
            "interpolated": {str(k): v for k, v in self.interpolated.items()},
            "ica": dict(self.ica),
            "steps": {k: v.to_dict() for k, v in self.steps.items()},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""

        return json.dumps(self.to_dict())

    def summary(self) -> str:
        """A markdown table: per step and metric, the threshold and what it flagged."""
        lines = ["| step | metric | threshold | flagged | items |", "|---|---|---|---|---|"]
        for name, res in self.steps.items():
            for metric, flags in res.flags.items():
                if flags.ndim == 2:
                    items = f"{int(flags.any(axis=1).sum())} epochs"
                else:
                    items = ", ".join(res.items[i] for i in np.flatnonzero(flags)) or "-"
                lines.append(f"| {name} | {metric} | {res.threshold:g} | {int(flags.sum())} | {items} |")
            for note in res.notes:
                lines.append(f"| {name} | (note) | | | {note} |")
        if self.ica:
            lines.append(f"| components | ICA seed | | | random_state={self.ica.get('random_state')} |")
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """Write a PNG: z-scores per channel / epoch / component with ±threshold, and step 4's map.

        Parameters
        ----------
        path : str | Path
            The PNG file to write.

        Returns
        -------
        path : Path
            The file written.
        """
        heights = [6.0 if res.bad.ndim == 2 else 3.2 for res in self.steps.values()] or [3.2]
        fig, axes = subplots(
            len(heights),
            1,
            figsize=(12, sum(heights)),
            layout="constrained",
            squeeze=False,
            height_ratios=heights,
        )
        axes = axes[:, 0]
        for ax, (name, res) in zip(axes, self.steps.items(), strict=False):
            if res.bad.ndim == 2:
                self._plot_channels_in_epochs(fig, ax, name, res)
                continue
            x = np.arange(len(res.items))
            for metric, z in res.z.items():
                zz = np.clip(np.nan_to_num(z, posinf=10 * res.threshold), -10 * res.threshold, None)
                ax.plot(x, zz, ".", ms=7, label=metric)
            ax.axhline(res.threshold, color="k", ls="--", lw=0.8)
            ax.axhline(-res.threshold, color="k", ls="--", lw=0.8)
            for i in np.flatnonzero(res.bad):
                ax.axvline(i, color="red", alpha=0.25, lw=3)
            every = max(1, -(-len(res.items) // 40))  # at most 40 labels, so each stays legible
            ax.set_xticks(x[::every], [str(item) for item in res.items][::every], rotation=90, fontsize=9)
            ax.set_xlim(-1, len(res.items))
            ax.set_ylabel("z")
            n_bad = len(np.flatnonzero(res.bad))
            ax.set_title(f"{name}: {n_bad} flagged (|z| > {res.threshold:g})", loc="left")
            # above the axes, right of the title: never over a point
            ax.legend(fontsize=9, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=5, frameon=False)
        return save_figure(fig, path)

    def _plot_channels_in_epochs(self, fig, ax, name: str, res: StepResult) -> None:
        """Step 4's heat map: channels (by name) against kept epochs (by input index)."""
        worst = np.max([np.abs(np.nan_to_num(z, posinf=0.0)) for z in res.z.values()], axis=0)
        im = ax.imshow(worst.T, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest")
        ep, ch = np.nonzero(res.bad)
        ax.scatter(ep, ch, marker="x", color="red", s=20)
        fig.colorbar(im, ax=ax, label="max |z| over metrics")
        ax.set_yticks(np.arange(len(res.items)), res.items, fontsize=8)
        n_epochs = worst.shape[0]
        labels = self.kept_epochs if len(self.kept_epochs) == n_epochs else list(range(n_epochs))
        every = max(1, -(-n_epochs // 40))
        ticks = np.arange(n_epochs)[::every]
        ax.set_xticks(ticks, [str(labels[i]) for i in ticks], rotation=90, fontsize=9)
        ax.set_xlabel("epoch (input index; dropped epochs are absent)")
        ax.set_ylabel("channel")
        ax.set_title(
            f"{name}: {int(res.bad.sum())} channel-epochs interpolated (red x: |z| > {res.threshold:g})",
            loc="left",
        )

    def save(self, directory: str | Path, stem: str = "faster") -> dict[str, Path]:
        """Write ``STEM_report.json``, ``STEM_report.md`` and ``STEM_report.png`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        out = {
            "json": directory / f"{stem}_report.json",
            "md": directory / f"{stem}_report.md",
            "png": directory / f"{stem}_report.png",
        }
        out["json"].write_text(self.to_json())
        out["md"].write_text(self.summary() + "\n")
        self.plot(out["png"])
        return out
