"""Metrics and statistics against hand-computed values and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wilcoxon

from neurosig.bci.metrics import (
    confusion,
    fold_metrics,
    per_subject,
    summarise,
    transfer_effect,
    wilcoxon_pairs,
)


def test_fold_metrics_by_hand():
    y_true = ["a", "a", "a", "b", "b", "b", "b", "b"]
    y_pred = ["a", "a", "b", "b", "b", "b", "b", "a"]
    m = fold_metrics(y_true, y_pred, ["a", "b"])
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    po, pe = 6 / 8, (3 / 8) * (3 / 8) + (5 / 8) * (5 / 8)
    assert m["kappa"] == pytest.approx((po - pe) / (1 - pe))
    assert m["chance"] == 0.5
    assert m["improvement"] == pytest.approx(0.25)
    assert m["improvement_normalised"] == pytest.approx(0.5)
    three = fold_metrics(["a", "b", "c"], ["a", "b", "c"], ["a", "b", "c"])
    assert three["improvement"] == pytest.approx(2 / 3)


def _record(protocol, pipeline, subject, fold, acc):
    n = 10
    y_true = ["a", "b"] * (n // 2)
    k = round(acc * n)
    y_pred = y_true[:k] + [("b" if t == "a" else "a") for t in y_true[k:]]
    return {
        "protocol": protocol,
        "pipeline": pipeline,
        "subject": subject,
        "fold": fold,
        "classes": ["a", "b"],
        "y_true": y_true,
        "y_pred": y_pred,
        "metrics": fold_metrics(y_true, y_pred, ["a", "b"]),
    }


@pytest.fixture
def records():
    accs = {"x": [0.9, 0.8, 0.7, 0.6, 1.0], "y": [0.5, 0.6, 0.4, 0.6, 0.7]}
    out = []
    for pipe, values in accs.items():
        for s, acc in enumerate(values):
            out.append(_record("within_subject", pipe, f"s{s}", 0, acc))
            out.append(_record("within_subject", pipe, f"s{s}", 1, acc))
            out.append(_record("transfer", pipe, f"s{s}", 0, min(acc + 0.1, 1.0)))
    return out


def test_summary_mean_and_sd_over_subjects(records):
    rows = {(r["protocol"], r["pipeline"]): r for r in summarise(records)}
    x = rows["within_subject", "x"]
    assert x["n_subjects"] == 5
    assert x["accuracy"] == pytest.approx(0.8)
    assert x["accuracy_sd"] == pytest.approx(np.std([0.9, 0.8, 0.7, 0.6, 1.0], ddof=1))
    assert per_subject(records)["within_subject", "y"]["s2"]["accuracy"] == pytest.approx(0.4)


def test_summary_gives_the_chance_bound_and_wilcoxon_the_smallest_possible_p(records):
    from scipy.stats import binom

    x = next(r for r in summarise(records) if (r["protocol"], r["pipeline"]) == ("within_subject", "x"))
    n = x["n_test_trials"]
    mine = [r for r in records if (r["protocol"], r["pipeline"]) == ("within_subject", "x")]
    assert n == sum(len(r["y_true"]) for r in mine)
    assert x["chance_upper"] == binom.ppf(0.975, n, 0.5) / n and 0.5 < x["chance_upper"] < 0.7
    row = next(r for r in wilcoxon_pairs(records) if r["protocol"] == "within_subject")
    assert row["min_p"] == 2 / 2**4  # five subjects, one difference of zero (s3: 0.6 - 0.6)


def test_transfer_effect_is_transfer_minus_within(records):
    eff = transfer_effect(records)
    assert eff["x"]["s0"] == pytest.approx(0.1)
    assert eff["x"]["s4"] == pytest.approx(0.0)
    assert eff["y"]["s3"] == pytest.approx(0.1)


def test_wilcoxon_matches_scipy(records):
    row = next(r for r in wilcoxon_pairs(records) if r["protocol"] == "within_subject")
    expected = wilcoxon(np.array([0.9, 0.8, 0.7, 0.6, 1.0]) - np.array([0.5, 0.6, 0.4, 0.6, 0.7]))
    assert (row["a"], row["b"]) == ("x", "y")
    assert row["p_value"] == pytest.approx(expected.pvalue)
    assert row["statistic"] == pytest.approx(expected.statistic)
    assert row["mean_difference"] == pytest.approx(0.24)


def test_wilcoxon_undefined_cases_give_none(records):
    one = [r for r in records if r["subject"] == "s0"]
    assert all(r["p_value"] is None for r in wilcoxon_pairs(one))


def test_confusion_sums_all_folds(records):
    cm, classes = confusion(records, "within_subject", "x")
    assert classes == ["a", "b"]
    assert cm.sum() == 100
    assert np.trace(cm) == round(100 * 0.8)
