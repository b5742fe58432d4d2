"""Decoding metrics and the statistics of a comparison across subjects.

Chance level is ``1 / n_classes`` (classes are balanced per subject). The comparison paper's
"accuracy improvement from chance level" and "transfer-learning effect" are not computed in its code;
until its definition is checked we report

- improvement over chance = accuracy − chance (points of accuracy), and normalised = that / chance;
- transfer-learning effect = transfer accuracy − within-subject accuracy, per subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, cohen_kappa_score, confusion_matrix

__all__ = [
    "fold_metrics",
    "per_subject",
    "summarise",
    "transfer_effect",
    "wilcoxon_pairs",
    "confusion",
]


def fold_metrics(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]) -> dict[str, float]:
    """Accuracy, balanced accuracy, Cohen's kappa and improvement over chance of one fold.

    Parameters
    ----------
    y_true, y_pred : sequence of str
        True and predicted labels.
    classes : sequence of str
        All classes of the task (sets chance = 1 / len(classes)).
    """
    chance = 1.0 / len(classes)
    acc = float(accuracy_score(y_true, y_pred))
    kappa = cohen_kappa_score(y_true, y_pred, labels=list(classes))
    return {
        "accuracy": acc,
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "kappa": float(kappa) if np.isfinite(kappa) else 0.0,
        "chance": chance,
        "improvement": acc - chance,
        "improvement_normalised": (acc - chance) / chance,
    }


_METRICS = ("accuracy", "balanced_accuracy", "kappa", "improvement", "improvement_normalised")


def per_subject(records: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """Mean of each metric over folds, per (protocol, pipeline) and subject."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["protocol"], r["pipeline"], r["subject"]), []).append(r)
    out: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for (protocol, pipeline, subject), rs in groups.items():
        out.setdefault((protocol, pipeline), {})[subject] = {
            m: float(np.mean([r["metrics"][m] for r in rs])) for m in _METRICS
        }
    return out


def summarise(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd over subjects of each metric, one row per (protocol, pipeline).

    The sd is across subjects (of their fold means), with ``ddof=1`` (0 for one subject). Each row
    also has ``n_test_trials`` (test trials over all folds and subjects) and ``chance_upper``: the
    accuracy a guessing decoder stays below with 95 % probability on that many trials (binomial),
    so an accuracy at or below it is not distinguishable from chance.
    """
    from scipy.stats import binom

    rows = []
    for (protocol, pipeline), subjects in per_subject(records).items():
        row: dict[str, Any] = {"protocol": protocol, "pipeline": pipeline, "n_subjects": len(subjects)}
        for m in _METRICS:
            values = np.array([s[m] for s in subjects.values()])
            row[m] = float(values.mean())
            row[f"{m}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        rs = [r for r in records if r["protocol"] == protocol and r["pipeline"] == pipeline]
        n = int(sum(len(r["y_true"]) for r in rs))
        row["n_test_trials"] = n
        row["chance_upper"] = float(binom.ppf(0.975, n, rs[0]["metrics"]["chance"]) / n) if n else 1.0
        rows.append(row)
    return rows


def transfer_effect(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Transfer accuracy − within-subject accuracy, per pipeline and subject (both protocols needed)."""
    subj = per_subject(records)
    out: dict[str, dict[str, float]] = {}
    for (protocol, pipeline), tl in subj.items():
        within = subj.get(("within_subject", pipeline))
        if protocol != "transfer" or within is None:
            continue
        out[pipeline] = {s: tl[s]["accuracy"] - within[s]["accuracy"] for s in tl if s in within}
    return out


def wilcoxon_pairs(records: Sequence[dict[str, Any]], metric: str = "accuracy") -> list[dict[str, Any]]:
    """Paired Wilcoxon signed-rank tests between pipelines across subjects, per protocol.

    Returns one row per protocol and pipeline pair: the mean difference (first − second), the number
    of subjects, the statistic and the two-sided p-value (``None`` when fewer than two subjects or all
    differences are zero, where the test is undefined), and ``min_p``: the smallest two-sided p the
    exact test can give with that many non-zero differences, 2 / 2**n (0.5 for two subjects), so
    that a p-value at that floor is read as "too few subjects", not as "no difference".
    """
    from scipy.stats import wilcoxon

    subj = per_subject(records)
    rows = []
    protocols = sorted({p for p, _ in subj})
    for protocol in protocols:
        pipelines = sorted(pl for p, pl in subj if p == protocol)
        for a, b in combinations(pipelines, 2):
            common = sorted(set(subj[protocol, a]) & set(subj[protocol, b]))
            diff = np.array([subj[protocol, a][s][metric] - subj[protocol, b][s][metric] for s in common])
            stat = p = None
            if len(diff) >= 2 and np.any(diff != 0):
                res = wilcoxon(diff)
                stat, p = float(res.statistic), float(res.pvalue)
            rows.append(
                {
                    "protocol": protocol,
                    "a": a,
                    "b": b,
                    "n_subjects": len(common),
                    "mean_difference": float(diff.mean()) if len(diff) else 0.0,
                    "statistic": stat,
                    "p_value": p,
                    "min_p": min(1.0, 2.0 / 2.0 ** int(np.count_nonzero(diff))),
                }
            )
    return rows


def confusion(
    records: Sequence[dict[str, Any]], protocol: str, pipeline: str
) -> tuple[np.ndarray, list[str]]:
    """Confusion matrix (rows: true class, columns: predicted) summed over all folds and subjects."""
    rs = [r for r in records if r["protocol"] == protocol and r["pipeline"] == pipeline]
    classes = sorted({c for r in rs for c in r["classes"]})
    y_true = [t for r in rs for t in r["y_true"]]
    y_pred = [p for r in rs for p in r["y_pred"]]
    return confusion_matrix(y_true, y_pred, labels=classes), classes
