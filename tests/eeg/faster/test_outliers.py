"""The outlier rule: equal to MNE's iterated z-scoring (mne-faster), paper median variant, edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from mne.preprocessing.bads import _find_outliers

from neurosig.core.errors import ConfigError, DataError
from neurosig.eeg.faster import find_outliers

# Distinct values on a 1/8 grid: no pass ever sees a (nearly) constant remainder, where scipy's zscore
# turns rounding noise into huge z-scores while ours reports z = 0 (see test_constant_scores...).
scores = arrays(
    np.float64, st.integers(3, 60), elements=st.integers(-8000, 8000).map(lambda v: v / 8), unique=True
)


@settings(max_examples=80, deadline=None)
@given(scores, st.floats(0.5, 4.0), st.integers(1, 4))
def test_mean_rule_equals_mne(x, threshold, max_iter):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _find_outliers(x, threshold, max_iter)
    bad, z = find_outliers(x, threshold, max_iter, center="mean", ddof=0)
    np.testing.assert_array_equal(np.flatnonzero(bad), expected)
    np.testing.assert_array_equal(bad, np.abs(z) > threshold)


def _median_twin(x, threshold, max_iter):
    bad = np.zeros(len(x), bool)
    for _ in range(max_iter):
        g = x[~bad]
        z = (x - np.median(g)) / np.std(g, ddof=1)
        new = ~bad & (np.abs(z) > threshold)
        bad |= new
        if not new.any():
            break
    return bad


@settings(max_examples=60, deadline=None)
@given(scores, st.floats(0.5, 4.0), st.integers(1, 3))
def test_median_rule_equals_loop(x, threshold, max_iter):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad, z = find_outliers(x, threshold, max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the twin divides by the std of one value when all else is flagged
        expected = _median_twin(x, threshold, max_iter)
    np.testing.assert_array_equal(bad, expected)
    np.testing.assert_array_equal(bad, np.abs(z) > threshold)


def test_rows_are_independent():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 40))
    x[2, 7] = 50
    bad, _ = find_outliers(x)
    for r in range(5):
        np.testing.assert_array_equal(bad[r], find_outliers(x[r])[0])
    assert bad[2, 7] and bad.sum() == 1


def test_single_outlier_found_and_iteration_finds_more():
    x = np.r_[np.linspace(-1, 1, 40), 9.0, 30.0]
    assert np.flatnonzero(find_outliers(x, 3, 1)[0]).tolist() == [41]
    assert np.flatnonzero(find_outliers(x, 3, 3)[0]).tolist() == [40, 41]


def test_constant_scores_flag_nothing_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad, z = find_outliers(np.full(10, 2.5))
    assert not bad.any() and not z.any()


def test_bad_arguments():
    with pytest.raises(DataError, match="NaN"):
        find_outliers(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ConfigError, match="threshold"):
        find_outliers(np.arange(5.0), threshold=0)
