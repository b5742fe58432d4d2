"""Decoders are saved and loaded without pickles: nothing in a decoder file is executed."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from neurosig.bci.online import load_decoder, save_decoder
from neurosig.bci.pipelines import make_baseline
from neurosig.bci.sklearn_checkpoint import KIND
from neurosig.core.errors import ConfigError, FormatError
from neurosig.core.persist import save_checkpoint


def _trials(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 8, 100)) * 1e-5
    y = np.array(["T1", "T2"] * 20)
    X[y == "T2", 0] *= 3.0  # one channel's variance tells the classes apart
    return X, y


@pytest.mark.parametrize("baseline", ["csp_lda", "ts_lr"])
def test_saved_baseline_predicts_what_the_fitted_one_does(baseline, tmp_path):
    if baseline == "ts_lr":
        pytest.importorskip("pyriemann")
    X, y = _trials()
    model = Pipeline(make_baseline(baseline)).fit(X, y)
    path = save_decoder(model, tmp_path / "decoder.joblib")
    assert path.suffix == ".pt"
    loaded = load_decoder(path)
    X_new, _ = _trials(seed=1)
    np.testing.assert_array_equal(loaded.predict(X_new), model.predict(X_new))
    np.testing.assert_allclose(loaded.predict_proba(X_new), model.predict_proba(X_new), rtol=1e-12)
    assert list(loaded.classes_) == ["T1", "T2"]


class _Payload:
    """Writes a file when unpickled: the proof that a loader ran code from the file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("name", ["evil.joblib", "evil.pkl", "evil.pt"])
def test_a_pickle_is_refused_and_runs_no_code(name, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / name
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(FormatError, match=r"pickle|not a torch checkpoint") as err:
        load_decoder(path)
    assert str(path) in str(err.value)
    assert not marker.exists()


def test_a_pickle_inside_a_torch_zip_is_refused_and_runs_no_code(tmp_path):
    import torch

    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"format": "neurosig-checkpoint", "kind": KIND, "x": _Payload(marker)}, path)
    with pytest.raises(FormatError, match="refused"):
        load_decoder(path)
    assert not marker.exists()


def test_a_checkpoint_naming_an_untrusted_type_is_refused(tmp_path):
    steps = [{"name": "x", "type": "os.system", "params": {"command": "touch pwned"}, "fitted": {}}]
    path = save_checkpoint(tmp_path / "evil.pt", KIND, {"steps": steps}, {})
    with pytest.raises(FormatError, match="'os.system', which is not among the types"):
        load_decoder(path)


def test_an_untrusted_step_cannot_be_saved(tmp_path):
    from sklearn.svm import SVC

    from neurosig.bci.preprocessing import Scale

    X, y = _trials()
    model = Pipeline([("scale", Scale(1e6)), ("flat", _Flatten()), ("svc", SVC())]).fit(X, y)
    with pytest.raises(ConfigError, match="only .* can be saved and loaded without pickles"):
        save_decoder(model, tmp_path / "svc.pt")
    assert not (tmp_path / "svc.pt").exists()


class _Flatten:
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.reshape(len(X), -1)

    def get_params(self, deep=True):
        return {}
