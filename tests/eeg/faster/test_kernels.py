"""Each FASTER kernel against a slow, obviously correct twin."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from neurosig.core.errors import DataError
from neurosig.kernels.faster import (
    excess_kurtosis,
    hurst_diff,
    hurst_dispersional,
    median_gradient,
    series_stats,
)


def _hurst_diff_twin(x):
    # Literally mne-faster's recipe: cumsum of diff, then two FIR second differences, trimmed.
    y = np.cumsum(np.diff(x, axis=1), axis=1)
    y1 = scipy.signal.lfilter([1, -2, 1], 1, y, axis=1)[:, 2:-1]
    y2 = scipy.signal.lfilter([1, 0, -2, 0, 1], 1, y, axis=1)[:, 4:-1]
    return 0.5 * np.log2(np.mean(y2**2, axis=1) / np.mean(y1**2, axis=1))


def _hurst_dispersional_twin(x, min_bins=8):
    out = []
    for row in x:
        sizes, sds = [], []
        m = 1
        while len(row) // m >= min_bins:
            means = [row[b * m : (b + 1) * m].mean() for b in range(len(row) // m)]
            sizes.append(m)
            sds.append(np.std(means))
            m *= 2
        out.append(1 + np.polyfit(np.log(sizes), np.log(sds), 1)[0])
    return np.array(out)


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(8, 200)), elements=finite))
def test_series_stats_and_gradient_match_numpy(x):
    mean, var, ptp = series_stats(x)
    np.testing.assert_allclose(mean, x.mean(axis=1), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(var, x.var(axis=1), rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(ptp, np.ptp(x, axis=1))
    np.testing.assert_array_equal(median_gradient(x), np.median(np.diff(x), axis=1))
    np.testing.assert_array_equal(median_gradient(x, absolute=True), np.median(np.abs(np.diff(x)), axis=1))
    if np.all(np.ptp(x, axis=1) > 1e-3):
        np.testing.assert_allclose(excess_kurtosis(x), stats.kurtosis(x, axis=1), rtol=1e-6, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 400), st.sampled_from([0.5, 3.0, 1e3]), st.integers(0, 2**16))
def test_median_gradient_is_numpys_median_exactly(n, spread, seed):
    """Odd and even lengths, many ties (rounded values) and strided input: the same bits as np.median."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal((3, 2 * n)) * spread)[:, ::2]
    for absolute in (False, True):
        d = np.diff(x, axis=1)
        want = np.median(np.abs(d) if absolute else d, axis=1)
        np.testing.assert_array_equal(median_gradient(x, absolute), want)


def test_median_gradient_of_sorted_and_constant_series():
    """Inputs that defeat a median-of-3 pivot still give the median (the sort fallback)."""
    ramp = np.cumsum(np.cumsum(np.ones((2, 3001)), axis=1), axis=1)  # increasing, sorted differences
    saw = np.tile(np.r_[0.0, 1.0, 3.0, 6.0], (1, 400))
    for x in (ramp, -ramp, saw, np.zeros((1, 50))):
        np.testing.assert_array_equal(median_gradient(x), np.median(np.diff(x), axis=1))


def test_line_noise_equals_welch():
    from neurosig.eeg.faster.metrics import LINE_FREQS, _line_noise, _welch

    rng = np.random.default_rng(0)
    for shape, sfreq in [((4, 5000), 160.0), ((3, 5, 320), 160.0), ((2, 999), 256.0)]:
        t = np.arange(shape[-1]) / sfreq
        x = rng.standard_normal(shape) + 2.0 + np.sin(2 * np.pi * 50 * t) + 0.3 * np.sin(2 * np.pi * 60 * t)
        fs, ps = _welch(x, sfreq)
        idx = [np.searchsorted(fs, f) for f in LINE_FREQS]
        np.testing.assert_allclose(_line_noise(x, sfreq), ps[..., idx[0]] + ps[..., idx[1]], rtol=1e-10)


def test_hurst_diff_matches_mne_faster_recipe():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.standard_normal((5, 3000)), axis=1) + rng.standard_normal((5, 3000))
    np.testing.assert_allclose(hurst_diff(x), _hurst_diff_twin(x), rtol=1e-9)


@pytest.mark.parametrize("n", [64, 1000, 4097])
def test_hurst_dispersional_matches_twin(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((3, n))
    x[1] = np.cumsum(x[1]) * 0.01 + x[2]
    np.testing.assert_allclose(hurst_dispersional(x), _hurst_dispersional_twin(x), rtol=1e-9)


def test_hurst_dispersional_known_values():
    rng = np.random.default_rng(1)
    white = rng.standard_normal((4, 2**14))
    h = hurst_dispersional(white)
    assert np.all(np.abs(h - 0.5) < 0.06), h  # white noise: H = 0.5
    smooth = scipy.signal.lfilter([1.0], [1.0, -0.99], white, axis=1)
    assert np.all(hurst_dispersional(smooth) > 0.8)  # strongly persistent series


def test_constant_series_give_nan_not_warnings():
    x = np.ones((2, 100))
    assert np.isnan(hurst_diff(x)).all()
    assert np.isnan(hurst_dispersional(x)).all()


def test_kernels_reject_bad_shapes():
    with pytest.raises(DataError, match="2-D"):
        series_stats(np.zeros(10))
    with pytest.raises(DataError, match="at least 8 samples"):
        hurst_diff(np.zeros((1, 5)))
