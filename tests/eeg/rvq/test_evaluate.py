"""Per-band metrics, the evaluation summary and the figure."""

from __future__ import annotations

import numpy as np
import pytest

from neurosig.core.errors import DataError
from neurosig.eeg.rvq.evaluate import BANDS, band_metrics, evaluate, plot_reconstruction


def _tones(freqs, n=4000, sfreq=200.0, channels=2):
    t = np.arange(n) / sfreq
    return np.stack([sum(np.sin(2 * np.pi * f * t + c) for f in freqs) for c in range(channels)]) * 1e-5


def test_perfect_and_zero_reconstructions():
    x = _tones([2.0, 6.0, 10.0, 20.0, 38.0])
    perfect = band_metrics(x, x.copy(), 200.0)
    zero = band_metrics(x, np.zeros_like(x), 200.0)
    for band in BANDS:
        np.testing.assert_allclose(perfect[band]["pcc"], 1.0, atol=1e-9)
        np.testing.assert_allclose(perfect[band]["nmse"], 0.0, atol=1e-12)
        np.testing.assert_allclose(zero[band]["nmse"], 1.0, atol=1e-12)


def test_an_error_in_one_band_shows_in_that_band_only():
    x = _tones([2.0, 6.0, 10.0, 20.0, 38.0])
    y = x - _tones([10.0])  # the alpha tone is lost
    m = band_metrics(x, y, 200.0)
    assert m["alpha"]["nmse"].min() > 0.9
    for band in ("delta", "theta", "beta", "gamma"):
        assert m[band]["nmse"].max() < 0.02, band
    assert 0.1 < m["broadband"]["nmse"].mean() < 0.3  # one tone of five


def test_shape_mismatch():
    with pytest.raises(DataError, match="differ in shape"):
        band_metrics(np.zeros((2, 10)), np.zeros((2, 11)), 200.0)


def test_evaluate_summary(tiny, held_out_signal, tmp_path):
    result = evaluate(tiny, [(held_out_signal, 200.0)])
    assert set(result["bands"]) == set(BANDS)
    assert len(result["nmse_by_levels"]) == tiny.config.n_levels
    assert np.array(result["usage"]["fraction"]).shape == (4, 4)
    assert result["bitrate"]["bits_per_second_per_channel"] == 80.0
    n = held_out_signal.shape[1] // 200 * 200
    assert result["n_channel_seconds"] == held_out_signal.shape[0] * n / 200.0
    rec = tiny.decode(tiny.encode(held_out_signal, 200.0))
    png = plot_reconstruction(
        tmp_path / "r.png", held_out_signal[:, :n], {"RVQ": rec}, 200.0, [f"c{i}" for i in range(19)]
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
