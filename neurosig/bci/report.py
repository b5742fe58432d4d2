"""Reports of an evaluation: JSON results, a markdown table, PNG figures.

Written only after :func:`~neurosig.bci.evaluation.check_coverage` passed. Files in the output folder:

- ``results.json``: every fold record, the per-subject means, the summary rows, the transfer effects
  and the paired Wilcoxon tests;
- ``results.md``: the paper-style table (mean ± sd over subjects) and the tests;
- ``accuracy_per_subject.png``, ``confusion_PROTOCOL.png`` and, with the transfer protocol,
  ``transfer_effect.png``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.bci.metrics import confusion, per_subject, summarise, transfer_effect, wilcoxon_pairs
from neurosig.core.figures import save_figure, subplots
from neurosig.core.persist import write_text

__all__ = ["write_report", "markdown_table"]


def markdown_table(summary: Sequence[dict[str, Any]]) -> str:
    """The summary rows as a markdown table (accuracy and kappa as mean ± sd over subjects)."""
    lines = [
        "| protocol | pipeline | subjects | accuracy | balanced acc. | kappa | over chance (points) |"
        " over chance / chance |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary:
        lines.append(
            f"| {r['protocol']} | {r['pipeline']} | {r['n_subjects']} "
            f"| {100 * r['accuracy']:.1f} ± {100 * r['accuracy_sd']:.1f} "
            f"| {100 * r['balanced_accuracy']:.1f} ± {100 * r['balanced_accuracy_sd']:.1f} "
            f"| {r['kappa']:.3f} ± {r['kappa_sd']:.3f} "
            f"| {100 * r['improvement']:+.1f} | {r['improvement_normalised']:+.2f} |"
        )
    return "\n".join(lines)


def _tests_table(tests: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| protocol | A | B | subjects (n) | mean A − B (points) | W | p | smallest possible p |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for t in tests:
        w = "–" if t["statistic"] is None else f"{t['statistic']:.1f}"
        p = "–" if t["p_value"] is None else f"{t['p_value']:.3g}"
        lines.append(
            f"| {t['protocol']} | {t['a']} | {t['b']} | {t['n_subjects']} "
            f"| {100 * t['mean_difference']:+.1f} | {w} | {p} | {t['min_p']:.3g} |"
        )
    floor = [t for t in tests if t["n_subjects"] < 6]
    if floor:
        n = min(t["n_subjects"] for t in floor)
        lines += [
            "",
            "With n subjects the exact two-sided test cannot give p below 2 / 2^n "
            f"({2 / 2**n:.3g} for n = {n}; below 0.05 needs n ≥ 6). Here p cannot reach 0.05, so "
            "these tests cannot show a difference, whatever the accuracies; evaluate more subjects "
            "to test one.",
        ]
    return "\n".join(lines)


def _figures(records: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    paths = []
    subj = per_subject(records)
    keys = sorted(subj)
    subjects = sorted({s for k in keys for s in subj[k]})
    fig, ax = subplots(
        figsize=(max(6, 0.6 * len(subjects) * max(1, len(keys)) ** 0.5) + 2.5, 4), layout="constrained"
    )
    width = 0.8 / max(len(keys), 1)
    for i, key in enumerate(keys):
        folds = [
            [
                100 * r["metrics"]["accuracy"]
                for r in records
                if (r["protocol"], r["pipeline"], r["subject"]) == (*key, s)
            ]
            for s in subjects
        ]
        acc = np.array([np.mean(f) if f else np.nan for f in folds])
        spread = [
            [a - min(f, default=a) for a, f in zip(acc, folds, strict=True)],
            [max(f, default=a) - a for a, f in zip(acc, folds, strict=True)],
        ]
        ax.bar(np.arange(len(subjects)) + i * width, acc, width, yerr=spread, capsize=3, label="/".join(key))
    chance = 100 * records[0]["metrics"]["chance"]
    ax.axhline(chance, color="k", ls="--", lw=1, label="chance")
    ax.set_xticks(np.arange(len(subjects)) + 0.4 - width / 2, subjects, rotation=45, ha="right")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Per-subject accuracy: mean over folds, whiskers from worst to best fold")
    paths.append(save_figure(fig, out / "accuracy_per_subject.png"))

    for protocol in sorted({p for p, _ in keys}):
        pipes = [pl for p, pl in keys if p == protocol]
        fig, axes = subplots(
            1, len(pipes), figsize=(3.0 * len(pipes), 3.3), squeeze=False, layout="constrained"
        )
        for ax, pipe in zip(axes[0], pipes, strict=True):
            cm, classes = confusion(records, protocol, pipe)
            im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=max(int(cm.sum(axis=1).max()), 1))
            for (i, j), v in np.ndenumerate(cm):  # white on the dark half of the colour map only
                colour = "white" if im.norm(v) > 0.5 else "black"
                ax.text(j, i, str(v), ha="center", va="center", fontsize=11, color=colour)
            ax.set_xticks(range(len(classes)), classes, fontsize=9)
            ax.set_yticks(range(len(classes)), classes, fontsize=9)
            ax.set_title(pipe, fontsize=10)
            ax.set_xlabel("predicted", fontsize=9)
        axes[0][0].set_ylabel("true", fontsize=9)
        fig.suptitle(f"Confusion matrices ({protocol}, trials over all folds and subjects)", fontsize=10)
        paths.append(save_figure(fig, out / f"confusion_{protocol}.png"))

    effects = transfer_effect(records)
    if effects:
        fig, ax = subplots(figsize=(6, 3.5))
        names = sorted(effects)
        data = [[100 * v for v in effects[n].values()] for n in names]
        ax.boxplot(data, tick_labels=names)
        for i, d in enumerate(data):
            ax.scatter(np.full(len(d), i + 1), d, s=12, color="k", zorder=3)
        ax.axhline(0, color="k", lw=1, ls="--")
        ax.set_ylabel("transfer − within-subject accuracy (points)")
        ax.set_title("Transfer-learning effect per subject")
        fig.tight_layout()
        paths.append(save_figure(fig, out / "transfer_effect.png"))
    return paths


def write_report(
    records: Sequence[dict[str, Any]],
    out: str | Path,
    meta: dict[str, Any] | None = None,
    figures: bool = True,
) -> dict[str, Any]:
    """Write ``results.json``, ``results.md`` and the figures; return the paths and the summary.

    Parameters
    ----------
    records : sequence of dict
        Fold records that passed the coverage check.
    out : str | Path
        Output folder.
    meta : dict | None
        Provenance stored in ``results.json`` (configuration, dataset, versions).
    figures : bool
        Also draw the PNG figures.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(records)
    tests = wilcoxon_pairs(records)
    effects = transfer_effect(records)
    subj = {"/".join(k): v for k, v in per_subject(records).items()}
    results = {
        "meta": meta or {},
        "summary": summary,
        "per_subject": subj,
        "transfer_effect": effects,
        "wilcoxon": tests,
        "folds": list(records),
    }
    write_text(out / "results.json", json.dumps(results, indent=1))
    md = ["# BCI decoding evaluation", "", markdown_table(summary), ""]
    at_chance = [r for r in summary if r["accuracy"] <= r["chance_upper"]]
    for r in at_chance:
        md.append(
            f"**{r['pipeline']} ({r['protocol']}) is at chance**: {100 * r['accuracy']:.1f} % on "
            f"{r['n_test_trials']} test trials, where guessing stays below {100 * r['chance_upper']:.1f} % "
            "with 95 % probability. Its accuracy says nothing about the decoder: too few training "
            "trials per fold for it (common for networks), or no signal it can use."
        )
    if at_chance:
        md.append("")
    if effects:
        md += [
            "## Transfer-learning effect (transfer − within-subject accuracy, points)",
            "",
            "| pipeline | mean | sd | subjects |",
            "|---|---:|---:|---:|",
        ]
        for name, per in sorted(effects.items()):
            v = 100 * np.array(list(per.values()))
            sd = v.std(ddof=1) if len(v) > 1 else 0.0
            md.append(f"| {name} | {v.mean():+.1f} | {sd:.1f} | {len(v)} |")
        md.append("")
    md += [
        "## Paired Wilcoxon signed-rank tests across subjects (accuracy)",
        "",
        _tests_table(tests),
        "",
        'Chance = 1 / n_classes; "over chance" = accuracy − chance, and that divided by chance.',
        "",
    ]
    write_text(out / "results.md", "\n".join(md))
    paths = _figures(records, out) if figures else []
    return {
        "results_json": str(out / "results.json"),
        "table_md": str(out / "results.md"),
        "figures": [str(p) for p in paths],
        "summary": summary,
    }
