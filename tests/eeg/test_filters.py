import numpy as np
import pytest
from scipy import signal

from neurosig.core.chunks import SignalChunk, SignalInfo, concat_chunks
from neurosig.core.errors import ConfigError, DataError
from neurosig.eeg.filters import (
    BandPass,
    HighPass,
    LowPass,
    Notch,
    Pick,
    Rereference,
    Resample,
    design_sos,
    notch_sos,
    resampling_filter,
)
from neurosig.testing import run_stage, split_chunk

SF = 250.0
RNG = np.random.default_rng(1)
X = RNG.standard_normal((4, 2500)) * 1e-5
INFO = SignalInfo(SF, ("Fz", "Cz", "Pz", "EOG"), ("eeg", "eeg", "eeg", "eog"))
CHUNK = SignalChunk(X, INFO)
CUTS = [1, 2, 250, 251, 1000, 2499]


@pytest.mark.parametrize(
    "stage, sos",
    [
        (BandPass(1.0, 40.0), design_sos(SF, 1.0, 40.0)),
        (HighPass(0.5, order=2), design_sos(SF, 0.5, None, 2)),
        (LowPass(30.0), design_sos(SF, None, 30.0)),
        (Notch([50.0, 100.0]), notch_sos(SF, [50.0, 100.0])),
    ],
)
def test_chunked_filtering_equals_one_shot_sosfilt(stage, sos):
    expected = signal.sosfilt(sos, X.astype(np.float32).astype(np.float64), axis=1)
    out = concat_chunks(run_stage(stage, split_chunk(CHUNK, CUTS)))
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())


def test_notch_removes_line_noise():
    t = np.arange(5000) / SF
    x = np.sin(2 * np.pi * 50 * t)[None] * np.ones((4, 1))
    out = concat_chunks(run_stage(Notch([50.0]), [SignalChunk(x, INFO)]))
    assert np.abs(out.data[:, -500:]).max() < 0.05


@pytest.mark.parametrize("l_freq, h_freq", [(1.0, 200.0), (130.0, None)])
def test_band_above_nyquist_says_what_to_do(l_freq, h_freq):
    stage = BandPass(l_freq, h_freq) if h_freq else HighPass(l_freq)
    with pytest.raises(DataError, match="Nyquist.*resample"):
        list(stage.process(CHUNK))


def test_inverted_band_is_a_config_error():
    with pytest.raises(ConfigError, match="below"):
        BandPass(40.0, 1.0)


def test_nan_input_is_refused():
    bad = X.copy()
    bad[1, 7] = np.nan
    with pytest.raises(DataError, match="NaN"):
        list(BandPass(1.0, 40.0).process(SignalChunk(bad, INFO)))


def test_another_stream_without_reset_is_refused():
    stage = BandPass(1.0, 40.0)
    list(stage.process(CHUNK))
    with pytest.raises(DataError, match="reset"):
        list(stage.process(SignalChunk(X, INFO.replace(sfreq=500.0))))


def test_average_reference_leaves_non_eeg_channels():
    out = next(Rereference("average").process(CHUNK))
    np.testing.assert_allclose(out.data[:3].mean(axis=0), 0, atol=1e-11)
    np.testing.assert_array_equal(out.data[3], CHUNK.data[3])
    with pytest.raises(DataError, match="not in the stream"):
        list(Rereference(["T7"]).process(CHUNK))


def test_pick_by_type_and_name():
    assert next(Pick(types=["eog"]).process(CHUNK)).info.ch_names == ("EOG",)
    assert next(Pick(channels=["Pz", "Fz"]).process(CHUNK)).info.ch_names == ("Pz", "Fz")
    with pytest.raises(ConfigError):
        Pick()


@pytest.mark.parametrize("new_sfreq", [100.0, 128.0, 500.0])
def test_resample_equals_upfirdn_and_keeps_rate_info(new_sfreq):
    stage = Resample(new_sfreq)
    out = concat_chunks(run_stage(stage, split_chunk(CHUNK, CUTS)))
    from fractions import Fraction

    ratio = Fraction(new_sfreq / SF).limit_denominator(1000)
    h = resampling_filter(ratio.numerator, ratio.denominator)
    x32 = X.astype(np.float32).astype(np.float64)
    ref = signal.upfirdn(h, x32, ratio.numerator, ratio.denominator, axis=1)[:, : out.n_samples]
    assert out.info.sfreq == new_sfreq
    assert out.n_samples == int(np.ceil(X.shape[1] * new_sfreq / SF))
    np.testing.assert_allclose(out.data, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())


def test_resample_preserves_a_slow_sine_after_the_delay():
    t = np.arange(5000) / SF
    x = np.sin(2 * np.pi * 5 * t)[None].repeat(4, 0)
    stage = Resample(100.0)
    out = concat_chunks(run_stage(stage, [SignalChunk(x, INFO)]))
    t_out = np.arange(out.n_samples) / 100.0 - stage.delay(SF)
    expected = np.sin(2 * np.pi * 5 * t_out)
    np.testing.assert_allclose(out.data[0, 200:], expected[200:], atol=0.02)


def test_resample_rejects_irrational_ratio():
    with pytest.raises(DataError, match="ratio"):
        list(Resample(np.pi * 100).process(CHUNK))
