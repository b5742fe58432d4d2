"""The scikit-learn wrapper: contract, determinism, training behaviour, persistence, errors."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from neurosig.bci.classifier import EEGClassifier, load_classifier
from neurosig.bci.preprocessing import Standardize
from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.core.persist import load_checkpoint, save_checkpoint

FAST = {"epochs": 15, "batch_size": 16, "lr": 1e-2, "validation": 0.0, "sfreq": 32.0}


@pytest.fixture(scope="module")
def data(trial_factory):
    d = trial_factory(n_subjects=1, n_trials=40, n_times=128)
    return d.X, d.y


def test_sklearn_contract_get_params_clone_and_pipelines(data):
    clf = EEGClassifier(model="eegnet", **{**FAST, "epochs": 3})
    params = clf.get_params()
    assert params["model"] == "eegnet" and params["epochs"] == 3
    twin = clone(clf)
    assert twin.get_params() == params and not hasattr(twin, "model_")
    scores = cross_val_score(
        make_pipeline(Standardize(), clone(clf).set_params(scale=1.0)),
        *data,
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    )
    assert scores.shape == (2,)


def test_fit_predict_proba_learns_a_clear_effect(data):
    X, y = data
    clf = EEGClassifier(model="eegnet", **FAST).fit(X[:30], y[:30])
    proba = clf.predict_proba(X[30:])
    assert proba.shape == (10, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert list(clf.classes_) == ["left", "right"]
    assert np.mean(clf.predict(X[30:]) == y[30:]) >= 0.8
    assert clf.history_["train_loss"][-1] < clf.history_["train_loss"][0]


def test_same_seed_same_model_other_seed_other_model(data):
    X, y = data
    a = EEGClassifier(model="eegnet", seed=3, **FAST).fit(X, y).predict_proba(X)
    b = EEGClassifier(model="eegnet", seed=3, **FAST).fit(X, y).predict_proba(X)
    c = EEGClassifier(model="eegnet", seed=4, **FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_does_not_modify_its_input(data):
    X, y = data
    X0, y0 = X.copy(), y.copy()
    EEGClassifier(model="eegnet", **{**FAST, "epochs": 1}).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_max_norm_holds_after_training(data):
    clf = EEGClassifier(model="eegnet", **{**FAST, "lr": 0.1}).fit(*data)
    assert torch.all(clf.model_.classifier.weight.norm(dim=1) <= 0.25 + 1e-5)


def test_early_stopping_keeps_the_best_validation_weights(trial_factory):
    null = trial_factory(n_subjects=1, n_trials=40, n_times=128, effect=0.0, seed=5)
    clf = EEGClassifier(
        model="eegnet",
        recalibrate_bn=False,
        **{**FAST, "lr": 0.05, "validation": 0.25, "patience": 2, "epochs": 60},
    )
    clf.fit(null.X, null.y)
    val = clf.history_["val_loss"]
    assert len(val) < 60  # no skill to learn: the validation loss stops improving
    assert len(val) - 1 - int(np.argmin(val)) == 2  # exactly `patience` epochs without improvement
    _, held_out = clf._split(np.searchsorted(clf.classes_, null.y))
    proba = clf.predict_proba(null.X[held_out])
    loss = -np.mean(np.log(proba[np.arange(len(held_out)), np.searchsorted(clf.classes_, null.y[held_out])]))
    assert loss == pytest.approx(min(val), rel=1e-4)


def test_fine_tune_continues_from_pretrained_weights(data):
    X, y = data
    clf = EEGClassifier(model="eegnet", **FAST).fit(X[:20], y[:20])
    before = {k: v.clone() for k, v in clf.model_.state_dict().items()}
    clf.fine_tune(X[20:], y[20:], epochs=2)
    after = clf.model_.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    with pytest.raises(DataError, match="never saw"):
        clf.fine_tune(X[:4], np.array(["up"] * 4))
    with pytest.raises(DataError, match="fit"):
        EEGClassifier(model="eegnet", **FAST).fine_tune(X, y)


def test_save_and_load_round_trip(tmp_path, data):
    X, y = data
    clf = EEGClassifier(model="shallow", **{**FAST, "epochs": 2}).fit(X, y)
    path = clf.save(tmp_path / "clf.pt")
    again = load_classifier(path)
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    assert again.get_params() == clf.get_params()


def test_bad_checkpoints_are_format_errors(tmp_path, data):
    pickled = tmp_path / "pickled.pt"
    torch.save({"config": datetime.date(2020, 1, 1)}, pickled)  # an object weights_only refuses
    with pytest.raises(FormatError, match="pickled.pt: refused"):
        load_classifier(pickled)
    (tmp_path / "cut.pt").write_bytes(pickled.read_bytes()[:100])
    with pytest.raises(FormatError, match="cut.pt: not a torch checkpoint"):
        load_classifier(tmp_path / "cut.pt")
    X, y = data
    clf = EEGClassifier(model="shallow", **{**FAST, "epochs": 1}).fit(X, y)
    clf.save(tmp_path / "clf.pt")
    checkpoint = load_checkpoint(tmp_path / "clf.pt", "bci-classifier")
    del checkpoint.config["classes"]
    save_checkpoint(tmp_path / "nolabels.pt", "bci-classifier", checkpoint.config, checkpoint.state_dict)
    with pytest.raises(FormatError, match="nolabels.pt: the saved config and weights do not make"):
        load_classifier(tmp_path / "nolabels.pt")


def test_bad_input_errors(data):
    X, y = data
    clf = EEGClassifier(model="eegnet", **FAST)
    with pytest.raises(DataError, match="at least 2"):
        clf.fit(X, np.full(len(y), "left"))
    with pytest.raises(DataError, match="n_epochs, n_channels, n_times"):
        clf.fit(X[:, 0], y)
    bad = X.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        clf.fit(bad, y)
    with pytest.raises(DataError, match="one label per trial"):
        clf.fit(X, y[:-1])
    with pytest.raises(DataError, match="not fitted"):
        clf.predict(X)
    with pytest.raises(ConfigError, match="sfreq"):
        EEGClassifier(model="eegnet").fit(X, y)
    with pytest.raises(ConfigError, match="choose one of"):
        EEGClassifier(model="eegnot", sfreq=32.0).fit(X, y)
    fitted = EEGClassifier(model="eegnet", **{**FAST, "epochs": 1}).fit(X, y)
    with pytest.raises(DataError, match="same channels and window"):
        fitted.predict(X[:, :, :100])


def test_batch_norm_statistics_are_re_estimated_on_the_training_trials(data):
    X, y = data
    clf = EEGClassifier(model="eegnet", **{**FAST, "epochs": 2, "scale": 1e6}).fit(X, y)
    first_bn = clf.model_.features[1]
    with torch.no_grad():
        conv = clf.model_.features[0](torch.as_tensor(X * 1e6, dtype=torch.float32).unsqueeze(1))
    torch.testing.assert_close(first_bn.running_mean, conv.mean(dim=(0, 2, 3)), rtol=1e-3, atol=1e-4)
    assert first_bn.momentum == pytest.approx(0.01)  # the Keras momentum is restored
    keras = EEGClassifier(model="eegnet", recalibrate_bn=False, **{**FAST, "epochs": 2}).fit(X, y)
    assert not torch.allclose(keras.model_.features[1].running_mean, first_bn.running_mean, atol=1e-3)
