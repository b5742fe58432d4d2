"""The evaluation: no leakage, no skill where none exists, resume, coverage, reports, the YAML job."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binom
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import Pipeline

from neurosig.bci.evaluation import ResultStore, check_coverage, evaluate
from neurosig.bci.pipelines import make_pipeline
from neurosig.bci.protocols import make_folds
from neurosig.core.config import build_job
from neurosig.core.errors import ConfigError, DataError, FormatError

NET = {"epochs": 15, "batch_size": 16, "lr": 1e-2, "validation": 0.0, "scale": 1.0}
STD = [{"type": "standardize"}]


class FitSpy(TransformerMixin, BaseEstimator):
    """Records the trials every ``fit`` sees (as row hashes) in a shared log."""

    def __init__(self, log: list | None = None):
        self.log = log

    def fit(self, X, y=None):
        self.log.append({hash(row.tobytes()) for row in X})
        return self

    def transform(self, X):
        return X


class LogVar(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.log(np.var(X * 1e6, axis=2))


def _trial_ids(data, rows):
    return {hash(data.X[i].tobytes()) for i in rows}


@pytest.mark.parametrize("protocol", ["within_subject", "cross_subject", "cross_session"])
def test_preprocessing_is_fitted_on_training_trials_only(trials, protocol):
    log: list = []
    folds = make_folds(trials, protocol, 3, seed=0)
    pipes = {
        "spy": lambda seed: Pipeline(
            [("spy", FitSpy(log)), ("lv", LogVar()), ("lda", LinearDiscriminantAnalysis())]
        )
    }
    evaluate(trials, pipes, folds)
    assert len(log) == len(folds)
    for fitted, fold in zip(log, folds, strict=True):
        assert fitted == _trial_ids(trials, fold.train)
        assert not fitted & _trial_ids(trials, fold.test)


def test_transfer_fits_preprocessing_on_other_subjects_and_fine_tunes_on_training_folds(trials):
    log: list = []
    folds = make_folds(trials, "transfer", 3, seed=0)

    def factory(seed):
        pipe = make_pipeline("eegnet", trials.sfreq, training={**NET, "epochs": 1}, seed=seed)
        return Pipeline([("spy", FitSpy(log)), *pipe.steps])

    records, _ = evaluate(trials, {"eegnet": factory}, folds)
    assert len(log) == len(trials.subjects)  # one pretraining per subject, none on its own trials
    for fitted, subject in zip(log, trials.subjects, strict=True):
        assert fitted == _trial_ids(trials, np.flatnonzero(trials.subject != subject))
    assert len(records) == len(folds)


def _accuracy(records, pipeline):
    rs = [r for r in records if r["pipeline"] == pipeline]
    return np.mean([t == p for r in rs for t, p in zip(r["y_true"], r["y_pred"], strict=True)]), sum(
        r["n_test"] for r in rs
    )


def _pipes(data, names):
    return {n: (lambda seed, n=n: make_pipeline(n, data.sfreq, data.ch_names, STD, NET, seed)) for n in names}


NAMES = ["csp_lda", "ts_lr", "eegnet"]


def test_decoders_find_a_real_effect(trial_factory):
    data = trial_factory(n_subjects=1, n_trials=36, n_times=128, seed=2)
    records, _ = evaluate(data, _pipes(data, NAMES), make_folds(data, "within_subject", 3, 0))
    for name in NAMES:
        acc, _ = _accuracy(records, name)
        assert acc >= 0.8, (name, acc)


def test_no_skill_is_reported_where_there_is_none(trial_factory):
    """No class effect, and shuffled labels on data with an effect: accuracy stays at chance.

    Bound: 3.3 binomial standard deviations above 0.5 (a false alarm rate of about 1 in 2000).
    """
    null = trial_factory(n_subjects=1, n_trials=60, n_times=128, effect=0.0, seed=3)
    real = trial_factory(n_subjects=1, n_trials=60, n_times=128, seed=4)
    shuffled = real.subset(np.arange(len(real.y)))
    object.__setattr__(shuffled, "y", np.random.default_rng(0).permutation(real.y))
    for data in (null, shuffled):
        records, _ = evaluate(data, _pipes(data, NAMES), make_folds(data, "within_subject", 3, 0))
        for name in NAMES:
            acc, n = _accuracy(records, name)
            assert acc <= 0.5 + 3.3 * np.sqrt(0.25 / n), (name, acc)


def test_progress_bar_shows_the_running_mean_accuracy(trials, capsys):
    folds = make_folds(trials, "within_subject", 3, 0)
    records, _ = evaluate(trials, _pipes(trials, ["csp_lda"]), folds, progress=True)
    err = capsys.readouterr().err
    mean = np.mean([r["metrics"]["accuracy"] for r in records])
    assert f"{len(folds)}/{len(folds)}" in err and f"mean_accuracy={mean:.3f}" in err


def test_resume_reuses_only_matching_folds(tmp_path, trials):
    folds = make_folds(trials, "within_subject", 3, 0)
    pipes = _pipes(trials, ["csp_lda"])
    store = ResultStore(tmp_path)
    first, counts = evaluate(trials, pipes, folds, store, "cfg")
    assert counts == {"computed": 6, "resumed": 0}
    again, counts = evaluate(trials, pipes, folds, store, "cfg")
    assert counts == {"computed": 0, "resumed": 6}
    assert [r["y_pred"] for r in again] == [r["y_pred"] for r in first]
    _, counts = evaluate(trials, pipes, folds, store, "other config")
    assert counts == {"computed": 6, "resumed": 0}
    # a cached result of other data (MOABB #628) is never reused
    other = trials.subset(np.arange(len(trials.y))[::-1])
    _, counts = evaluate(other, pipes, make_folds(other, "within_subject", 3, 0), store, "other config")
    assert counts["resumed"] == 0
    path = store.path("within_subject", "csp_lda", "s0", 0)
    path.write_text("{not json")
    with pytest.raises(FormatError, match="delete the file"):
        evaluate(trials, pipes, folds, store, "cfg")


def test_coverage_check_names_missing_and_duplicated_entries(trials):
    folds = make_folds(trials, "within_subject", 3, 0)
    records, _ = evaluate(trials, _pipes(trials, ["csp_lda"]), folds)
    check_coverage(records, folds, ["csp_lda"])
    with pytest.raises(DataError, match="1 missing .*within_subject/csp_lda/s1/2"):
        check_coverage(records[:-1], folds, ["csp_lda"])
    with pytest.raises(DataError, match="duplicated"):
        check_coverage([*records, records[0]], folds, ["csp_lda"])
    with pytest.raises(DataError, match="6 missing"):
        check_coverage(records, folds, ["csp_lda", "ts_lr"])


def _job_config(tmp_path, **changes):
    job = {
        "type": "bci_eval",
        "dataset": {
            "type": "simulated",
            "n_subjects": 2,
            "n_trials": 16,
            "sfreq": 64.0,
            "tmin": 0.5,
            "tmax": 2.5,
            "l_freq": 4.0,
            "h_freq": 30.0,
        },
        "pipelines": ["csp_lda", "eegnet"],
        "protocols": ["within_subject", "transfer"],
        "n_folds": 2,
        "preprocessing": STD,
        "training": {**NET, "epochs": 2},
        "output": str(tmp_path / "out"),
    }
    job.update(changes)
    return {"name": "bci_eval_test", "job": job}


def test_yaml_job_runs_resumes_and_writes_the_report(tmp_path):
    job = build_job(_job_config(tmp_path))
    summary = job.run()
    out = tmp_path / "out"
    rows = {(r["protocol"], r["pipeline"]): r for r in summary["summary"]}

    def shown(protocol, pipeline):
        r = rows[protocol, pipeline]
        at_chance = " (at chance)" if r["accuracy"] <= r["chance_upper"] else ""
        return f"{pipeline} {100 * r['accuracy']:.1f} % ({protocol}){at_chance}"

    assert job.headline(summary) == (
        f"accuracy over 2 subjects: {shown('within_subject', 'csp_lda')}, "
        f"{shown('within_subject', 'eegnet')}, {shown('transfer', 'eegnet')}; table in {out / 'results.md'}"
    )
    assert summary["folds"] == {"computed": 12, "resumed": 0}  # 2 subjects × 2 folds × (2 + 1)
    results = json.loads((out / "results.json").read_text())
    assert {(r["protocol"], r["pipeline"]) for r in results["summary"]} == {
        ("within_subject", "csp_lda"),
        ("within_subject", "eegnet"),
        ("transfer", "eegnet"),
    }
    assert set(results["transfer_effect"]["eegnet"]) == {"sim01", "sim02"}
    md = (out / "results.md").read_text()
    assert "| within_subject | csp_lda | 2 |" in md
    assert all(t["n_subjects"] == 2 and t["min_p"] == 0.5 for t in results["wilcoxon"])
    assert "| 0.5 |\n" in md and "cannot give p below 2 / 2^n (0.5 for n = 2" in md
    for row in results["summary"]:  # 2 subjects x 2 folds, 2 classes: a guessing decoder's 95 % bound
        n = row["n_test_trials"]
        assert row["chance_upper"] == binom.ppf(0.975, n, 0.5) / n
        note = f"**{row['pipeline']} ({row['protocol']}) is at chance**: {100 * row['accuracy']:.1f} % on {n}"
        assert (note in md) == (row["accuracy"] <= row["chance_upper"])
    for name in (
        "accuracy_per_subject.png",
        "confusion_within_subject.png",
        "confusion_transfer.png",
        "transfer_effect.png",
    ):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert build_job(_job_config(tmp_path)).run()["folds"] == {"computed": 0, "resumed": 12}


def test_yaml_job_bad_parameters(tmp_path):
    with pytest.raises(ConfigError, match="Did you mean"):
        build_job(_job_config(tmp_path, pipelines=["eegnett"]))
    with pytest.raises(ConfigError, match="choose one of"):
        build_job(_job_config(tmp_path, protocols=["loso"]))
    with pytest.raises(ConfigError, match="n_folds"):
        build_job(_job_config(tmp_path, n_folds=1))
    with pytest.raises(ConfigError, match="dataset.type"):
        build_job(_job_config(tmp_path, dataset={"type": "physionet"})).run()
    with pytest.raises(ConfigError, match="training must not set"):
        build_job(_job_config(tmp_path, training={"seed": 1})).run()
    with pytest.raises(ConfigError, match="preprocessing"):
        build_job(_job_config(tmp_path, preprocessing=[{"type": "ica"}])).run()


def test_one_model_per_held_out_block(trial_factory):
    data = trial_factory(n_subjects=4, n_trials=8)
    log: list = []
    folds = make_folds(data, "cross_subject", seed=0, held_out=2)
    pipes = {
        "spy": lambda seed: Pipeline(
            [("spy", FitSpy(log)), ("lv", LogVar()), ("lda", LinearDiscriminantAnalysis())]
        )
    }
    records, _ = evaluate(data, pipes, folds)
    assert len(log) == 2 and len(records) == 4


def test_every_fold_is_seeded_and_reproducible(trials):
    folds = make_folds(trials, "within_subject", 3, 0)
    pipes = {
        "eegnet": lambda seed: make_pipeline(
            "eegnet", trials.sfreq, trials.ch_names, STD, {**NET, "epochs": 3, "validation": 0.25}, seed
        )
    }
    first, _ = evaluate(trials, pipes, folds)
    second, _ = evaluate(trials, pipes, folds)
    assert [r["y_pred"] for r in first] == [r["y_pred"] for r in second]
    assert len({r["seed"] for r in first}) == len(folds)


@pytest.mark.slow
def test_folds_on_two_dask_workers_equal_the_serial_run_and_resume(tmp_path):
    pytest.importorskip("dask.distributed")
    serial = build_job(_job_config(tmp_path / "serial", figures=False)).run()
    dask_config = _job_config(tmp_path / "dask", figures=False, executor="dask", workers=2)
    parallel = build_job(dask_config).run()
    assert parallel["folds"] == serial["folds"] == {"computed": 12, "resumed": 0}
    a, b = tmp_path / "serial" / "out", tmp_path / "dask" / "out"
    results_a, results_b = (json.loads((x / "results.json").read_text()) for x in (a, b))
    assert results_a["summary"] == results_b["summary"]
    assert results_a["transfer_effect"] == results_b["transfer_effect"]
    paths = sorted((a / "folds").rglob("*.json"))
    assert len(paths) == 12
    for path in paths:
        mine, theirs = json.loads(path.read_text()), json.loads((b / path.relative_to(a)).read_text())
        assert (mine["y_pred"], mine["hash"]) == (theirs["y_pred"], theirs["hash"]), path
    (b / paths[0].relative_to(a)).unlink()  # one fold lost: the cluster recomputes only that one
    assert build_job(dask_config).run()["folds"] == {"computed": 1, "resumed": 11}
