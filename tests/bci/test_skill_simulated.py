"""Acceptance on simulated motor imagery: every model and both baselines find a real lateralised
mu/beta effect, and none of them finds one where the simulator put none (slow: real training)."""

from __future__ import annotations

import numpy as np
import pytest

from neurosig.bci.evaluation import evaluate
from neurosig.bci.pipelines import PIPELINE_NAMES, make_pipeline
from neurosig.bci.protocols import make_folds
from neurosig.data.simulated import load_simulated

TRAINING = {"epochs": 30, "batch_size": 16, "lr": 5e-3, "validation": 0.0, "scale": 1.0}
WINDOW = {
    "n_subjects": 1,
    "n_trials": 96,
    "sfreq": 64.0,
    "n_channels": 19,
    "tmin": 0.5,
    "tmax": 3.5,
    "l_freq": 4.0,
    "h_freq": 30.0,
}


def _run(data):
    pipes = {
        n: (
            lambda seed, n=n: make_pipeline(
                n, data.sfreq, data.ch_names, [{"type": "standardize"}], TRAINING, seed
            )
        )
        for n in PIPELINE_NAMES
    }
    records, _ = evaluate(data, pipes, make_folds(data, "within_subject", 3, seed=0))
    out = {}
    for name in PIPELINE_NAMES:
        rs = [r for r in records if r["pipeline"] == name]
        hits = [t == p for r in rs for t, p in zip(r["y_true"], r["y_pred"], strict=True)]
        out[name] = (float(np.mean(hits)), len(hits))
    return out


@pytest.mark.slow
def test_every_model_beats_chance_on_a_real_effect():
    accuracy = _run(load_simulated(mi_effect=1.0, seed=11, **WINDOW))
    assert all(acc >= 0.75 for acc, _ in accuracy.values()), accuracy


@pytest.mark.slow
def test_no_model_reports_skill_without_an_effect():
    accuracy = _run(load_simulated(mi_effect=0.0, seed=11, **WINDOW))
    # 3.3 binomial standard deviations above chance: a false alarm about once in 2000 per model
    assert all(acc <= 0.5 + 3.3 * np.sqrt(0.25 / n) for acc, n in accuracy.values()), accuracy
