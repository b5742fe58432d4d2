"""The atat stage: streaming invariance, overlap-add, resampling, flat and NaN channels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import Marker, SignalChunk, SignalInfo, concat_chunks
from neurosig.core.config import build_pipeline
from neurosig.core.errors import ConfigError, DataError
from neurosig.core.registry import resolve
from neurosig.eeg.atat.stage import ATATDenoise
from neurosig.testing import check_streaming_invariance, run_stage, split_chunk

RTOL, ATOL = 1e-4, 1e-10  # float32 model rounding, signal in volts (~1e-5)


def make_chunk(sfreq: float, seconds: float, n_ch: int = 3, seed: int = 0, types=None) -> SignalChunk:
    rng = np.random.default_rng(seed)
    n = int(round(sfreq * seconds))
    data = 1e-5 * np.cumsum(rng.standard_normal((n_ch, n)), axis=1) / np.sqrt(np.arange(1, n + 1))
    data += 2e-6 * rng.standard_normal((n_ch, n))
    info = SignalInfo(sfreq, tuple(f"C{i}" for i in range(n_ch)), types or ("eeg",) * n_ch)
    return SignalChunk(data, info, 0, (Marker(1.5, 0.0, "T1"), Marker(seconds - 0.1, 0.0, "T2")))


def joined(chunks):
    return concat_chunks([c for c in chunks if c.n_samples])


@pytest.mark.parametrize("sfreq", [256.0, 160.0, 250.0])
@settings(max_examples=6, deadline=None)
@given(cuts=st.lists(st.integers(0, 1700), max_size=5))
def test_streaming_invariance(tiny_weights, sfreq, cuts):
    chunk = make_chunk(sfreq, 6.3)
    bounds = [int(c * sfreq / 256) for c in cuts]
    check_streaming_invariance(lambda: ATATDenoise(str(tiny_weights)), chunk, bounds, RTOL, ATOL)


def test_output_covers_the_input_exactly(tiny_weights):
    chunk = make_chunk(160.0, 5.0)
    out = joined(run_stage(ATATDenoise(str(tiny_weights)), split_chunk(chunk, [7, 100, 500])))
    assert out.start == 0 and out.n_samples == chunk.n_samples and out.info == chunk.info
    assert out.markers == chunk.markers
    assert np.all(np.isfinite(out.data))


@pytest.mark.parametrize("seconds", [0.01, 0.9, 1.0, 2.0, 3.3])
def test_short_streams(tiny_weights, seconds):
    chunk = make_chunk(256.0, seconds)
    out = joined(run_stage(ATATDenoise(str(tiny_weights)), [chunk]))
    assert out.n_samples == chunk.n_samples


class _Identity:
    """Stands in for a model that returns its input: overlap-add must then give the input back."""

    def eval(self):
        return self

    def __call__(self, x):
        return x


@pytest.mark.parametrize("sfreq", [256.0, 200.0])
def test_overlap_add_reconstructs_with_an_identity_model(tiny_weights, sfreq):
    stage = ATATDenoise(str(tiny_weights))
    stage._load()
    stage._model = _Identity()
    chunk = make_chunk(sfreq, 7.0)
    out = joined(run_stage(stage, split_chunk(chunk, [300, 301, 1000])))
    # Resampling to 256 Hz and back loses only what lies near Nyquist; the signal is mostly slow.
    err = np.abs(out.data - chunk.data).max() / np.abs(chunk.data).max()
    assert err < (1e-6 if sfreq == 256.0 else 0.05)


def test_flat_channel_passes_through_untouched(tiny_weights):
    chunk = make_chunk(256.0, 5.0)
    data = chunk.data.copy()
    data[1] = 3e-6
    chunk = SignalChunk(data, chunk.info)
    out = joined(run_stage(ATATDenoise(str(tiny_weights)), [chunk]))
    np.testing.assert_array_equal(out.data[1], data[1])
    assert not np.allclose(out.data[0], data[0], atol=1e-9)


def test_nan_channel_is_a_clear_error(tiny_weights):
    chunk = make_chunk(256.0, 3.0)
    data = chunk.data.copy()
    data[2, 100] = np.nan
    with pytest.raises(DataError, match="channel 'C2' has NaN"):
        run_stage(ATATDenoise(str(tiny_weights)), [SignalChunk(data, chunk.info)])


def test_non_eeg_channels_pass_through(tiny_weights):
    chunk = make_chunk(256.0, 5.0, types=("eeg", "eog", "eeg"))
    out = joined(run_stage(ATATDenoise(str(tiny_weights)), [chunk]))
    np.testing.assert_allclose(out.data[1], chunk.data[1], rtol=1e-6)
    assert not np.allclose(out.data[0], chunk.data[0], atol=1e-9)


def test_bad_parameters_and_missing_weights(tmp_path):
    with pytest.raises(ConfigError, match="picks"):
        ATATDenoise(picks="emg")
    with pytest.raises(ConfigError, match="batch_size"):
        ATATDenoise(batch_size=0)
    with pytest.raises(DataError, match="does not exist"):
        run_stage(ATATDenoise(str(tmp_path / "none.pt")), [make_chunk(256.0, 1.0)])


def test_registered_and_built_from_yaml(tiny_weights):
    assert resolve("stage", "atat") is ATATDenoise
    pipe = build_pipeline(
        {
            "source": {"type": "simulate", "duration": 4.0},
            "stages": [{"type": "atat", "weights": str(tiny_weights)}],
        }
    )
    assert isinstance(pipe.stages[0], ATATDenoise)


def test_shipped_weights_remove_real_emg_from_continuous_eeg(real_files):
    """End to end at 160 Hz: held-out EEG run + held-out EMG file, mixed at 0 dB, cleaned by the stage."""
    import mne

    from neurosig.data import denoise
    from neurosig.eeg.atat.pairs import mix

    eeg_files, emg_files = real_files
    raw = mne.io.read_raw(eeg_files[-1], preload=True, verbose="error").pick([0, 10, 20, 30])
    raw.notch_filter(60.0, verbose="error").filter(1.0, 70.0, verbose="error")
    clean = raw.get_data()[:, 1600:6400]  # 30 s at 160 Hz
    emg, sfreq = denoise.read_emg_txt(emg_files[-1])
    emg = denoise._resample(denoise._bandpass(emg, sfreq, 1.0, 70.0), sfreq, 160.0)[:4, 3200:8000]
    noisy = mix(clean, emg, 0.0)
    info = SignalInfo(160.0, tuple(raw.ch_names))
    out = joined(run_stage(ATATDenoise(), split_chunk(SignalChunk(noisy, info), [100, 1000, 2500])))
    rms = lambda a: np.sqrt(np.mean(a**2, axis=1))  # noqa: E731
    before = rms(noisy - clean) / rms(clean)
    after = rms(out.data - clean) / rms(clean)
    np.testing.assert_allclose(before, 1.0, rtol=1e-6)
    assert np.all(after < 0.8 * before), after


def test_gate_counts_do_not_depend_on_chunking_and_rise_with_emg():
    chunk = make_chunk(256.0, 8.0, n_ch=4)
    emg = chunk.data.copy()
    rng = np.random.default_rng(1)
    emg[1, 512:1024] += 3e-5 * rng.standard_normal(512)  # a 2-s muscle burst on one channel
    noisy = SignalChunk(emg, chunk.info)
    stage = ATATDenoise()  # the shipped AT-AT, whose gate is trained
    run_stage(stage, [noisy])
    whole = stage.side_output()
    run_stage(stage, split_chunk(noisy, [100, 777, 1500]))
    again = stage.side_output()
    assert (again["windows"], again["gated"]) == (whole["windows"], whole["gated"])
    assert again["mean_gate"] == pytest.approx(whole["mean_gate"], rel=1e-6)  # sums in another order
    assert whole["windows"] == 4 * 9 and 0 <= whole["gated"] <= whole["windows"]  # 2-s windows, 1-s hop
    assert whole["gated_share"] == whole["gated"] / whole["windows"]
    assert 0 < whole["mean_gate"] < 1
    run_stage(stage, [chunk])
    assert stage.side_output()["mean_gate"] < whole["mean_gate"]
