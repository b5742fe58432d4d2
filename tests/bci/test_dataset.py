"""Cutting trials from recordings, joining subjects, balancing classes."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from neurosig.core.errors import ConfigError, DataError
from neurosig.data.dataset import EpochsSet, balance_classes, concat_sets, epochs_from_raw


@pytest.fixture(scope="module")
def raw():
    sfreq, n = 100.0, 3000
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, n)) * 1e-6
    r = mne.io.RawArray(data, mne.create_info(["C3", "Cz", "C4"], sfreq, "eeg"), verbose="error")
    r.set_annotations(mne.Annotations([2, 8, 14, 20], [4, 4, 4, 4], ["T1", "T2", "T1", "T0"]))
    return r


def test_epochs_from_raw_cuts_the_mapped_cues(raw):
    X, y, sfreq, ch = epochs_from_raw(raw, {"T1": "left", "T2": "right"}, 0.0, 4.0)
    assert X.shape == (3, 3, 400) and X.dtype == np.float32
    assert y.tolist() == ["left", "right", "left"]
    np.testing.assert_allclose(X[1], raw.get_data()[:, 800:1200], rtol=1e-5)
    assert sfreq == 100.0 and ch == ["C3", "Cz", "C4"]


def test_epochs_from_raw_resamples_and_filters(raw):
    X, _, sfreq, _ = epochs_from_raw(raw, {"T1": "left", "T2": "right"}, 0.5, 2.5, 1.0, 20.0, resample=50.0)
    assert sfreq == 50.0 and X.shape == (3, 3, 100)


def test_window_longer_than_trials_and_other_bad_input(raw):
    with pytest.raises(DataError, match="trials last 4 s"):
        epochs_from_raw(raw, {"T1": "left", "T2": "right"}, 0.0, 5.0)
    with pytest.raises(DataError, match="event map"):
        epochs_from_raw(raw, {"left": "left"})
    with pytest.raises(ConfigError, match="tmax"):
        epochs_from_raw(raw, {"T1": "left"}, 2.0, 1.0)
    late = raw.copy().set_annotations(mne.Annotations([27.0], [0.0], ["T1"]))
    with pytest.raises(DataError, match="edges"):
        epochs_from_raw(late, {"T1": "left"}, 0.0, 4.0)


def _set(ch, subject, n=4):
    y = np.array(["a", "b"] * (n // 2))
    return EpochsSet(np.ones((n, len(ch), 10)), y, [subject] * n, ["0"] * n, 10.0, ch)


def test_concat_keeps_common_channels_or_raises():
    joined = concat_sets([_set(("C3", "Cz", "C4"), "s1"), _set(("C4", "C3", "Pz"), "s2")])
    assert joined.ch_names == ("C3", "C4") and joined.X.shape == (8, 2, 10)
    assert joined.subjects == ["s1", "s2"]
    with pytest.raises(DataError, match="channel sets differ"):
        concat_sets([_set(("C3", "Cz"), "s1"), _set(("C3",), "s2")], on_mismatch="raise")
    with pytest.raises(DataError, match="share no channel"):
        concat_sets([_set(("C3",), "s1"), _set(("C4",), "s2")])
    other_rate = EpochsSet(np.ones((2, 1, 10)), ["a", "b"], ["x", "x"], ["0", "0"], 20.0, ("C3",))
    with pytest.raises(DataError, match="sampling rate"):
        concat_sets([_set(("C3",), "s1"), other_rate])


def test_balance_undersamples_each_subject_to_its_rarest_class():
    y = np.array(["a"] * 7 + ["b"] * 3 + ["a"] * 2 + ["b"] * 5)
    subject = np.array(["s1"] * 10 + ["s2"] * 7)
    d = EpochsSet(np.zeros((17, 1, 4)), y, subject, ["0"] * 17, 10.0, ("C3",))
    b = balance_classes(d, seed=0)
    for s, n in (("s1", 3), ("s2", 2)):
        labels = b.y[b.subject == s]
        assert np.sum(labels == "a") == n and np.sum(labels == "b") == n
    np.testing.assert_array_equal(balance_classes(d, 0).y, b.y)


def test_fingerprint_changes_with_the_data(trials):
    other = trials.subset(np.arange(len(trials.y)))
    assert other.fingerprint() == trials.fingerprint()
    flipped = EpochsSet(
        trials.X, trials.y[::-1], trials.subject, trials.session, trials.sfreq, trials.ch_names
    )
    assert flipped.fingerprint() != trials.fingerprint()
