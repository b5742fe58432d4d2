"""Fold-fitted preprocessing: standardisation, average reference, FASTER learnt on training trials."""

from __future__ import annotations

import numpy as np
import pytest

from neurosig.bci.pipelines import make_pipeline
from neurosig.bci.preprocessing import AverageReference, FasterCleaner, Standardize, build_preprocessing
from neurosig.core.errors import ConfigError, DataError
from neurosig.data.dataset import epochs_from_raw
from neurosig.eeg.simulate import simulate_raw


def test_standardize_uses_training_statistics_only(trials):
    train, test = trials.X[:20], trials.X[20:] * 3 + 1e-6
    std = Standardize().fit(train)
    out = std.transform(test)
    expected = (test - train.mean(axis=(0, 2))[:, None]) / train.std(axis=(0, 2))[:, None]
    np.testing.assert_allclose(out, expected, rtol=1e-4)
    with pytest.raises(DataError, match="not fitted"):
        Standardize().transform(train)


def test_average_reference_zeroes_the_channel_mean(trials):
    out = AverageReference().fit(trials.X).transform(trials.X)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)


@pytest.fixture(scope="module")
def noisy():
    raw = simulate_raw(
        duration=200.0, sfreq=64.0, n_channels=19, seed=7, noisy_channels=["O1"], line_freq=0.0, emg_rate=0.0
    )
    X, y, sfreq, ch = epochs_from_raw(raw, {"left": "left", "right": "right"}, 0.5, 2.5, 1.0, 30.0)
    return X, y, sfreq, ch


def test_faster_learns_bad_channels_on_training_trials_and_repairs_test_trials(noisy):
    X, _, sfreq, ch = noisy
    cleaner = FasterCleaner(sfreq, ch, ica_method="fastica", random_state=0).fit(X[:18])
    assert "O1" in cleaner.bad_channels_
    out = cleaner.transform(X[18:])
    o1 = ch.index("O1")
    assert out.shape == X[18:].shape
    assert np.std(out[:, o1]) < 0.5 * np.std(X[18:, o1])  # the noisy channel is interpolated
    again = FasterCleaner(sfreq, ch, ica_method="fastica", random_state=0).fit(X[:18])
    np.testing.assert_array_equal(again.transform(X[18:]), out)  # seeded, reproducible


def test_faster_step_in_a_pipeline_and_bad_configs(noisy):
    X, y, sfreq, ch = noisy
    pipe = make_pipeline("csp_lda", sfreq, ch, [{"type": "faster", "ica": False}], seed=0)
    assert pipe.steps[0][1].ch_names == list(ch) and pipe.steps[0][1].sfreq == sfreq
    pipe.fit(X, y)
    assert pipe.predict(X).shape == y.shape
    with pytest.raises(ConfigError, match="channel names"):
        FasterCleaner(sfreq, ch[:3]).fit(X)
    with pytest.raises(ConfigError, match="no 'type'"):
        build_preprocessing([{"ica": False}], sfreq, ch)
    with pytest.raises(ConfigError, match="Did you mean 'threshold'"):
        build_preprocessing([{"type": "faster", "treshold": 3}], sfreq, ch)
