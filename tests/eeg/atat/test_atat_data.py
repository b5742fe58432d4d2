"""EEGdenoiseNet-style data: exact mixing, normalisation, loader errors, split by recording."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.data import denoise
from neurosig.data.denoise import load_eegdenoisenet
from neurosig.eeg.atat.pairs import N_TIMES, make_pairs, measured_snr, mix


@settings(max_examples=40, deadline=None)
@given(snr=st.floats(-20, 20), seed=st.integers(0, 2**31), scale=st.floats(1e-7, 1e3))
def test_mixing_reproduces_target_snr(snr, seed, scale):
    rng = np.random.default_rng(seed)
    clean = scale * rng.standard_normal((3, N_TIMES))
    noise = rng.standard_normal((3, N_TIMES)) * rng.uniform(0.01, 100)
    noisy = mix(clean, noise, snr)
    np.testing.assert_allclose(measured_snr(clean, noisy), snr, atol=1e-9)


def test_mixing_per_epoch_snr_and_lambda_formula():
    rng = np.random.default_rng(1)
    clean, noise = rng.standard_normal((2, 4, N_TIMES))
    snrs = np.array([-7.0, -2.0, 0.0, 2.0])
    noisy = mix(clean, noise, snrs)
    np.testing.assert_allclose(measured_snr(clean, noisy), snrs, atol=1e-9)
    rms = lambda a: np.sqrt(np.mean(a**2, axis=-1))  # noqa: E731
    lam = rms(clean) / (rms(noise) * 10 ** (snrs / 10))
    np.testing.assert_allclose(noisy, clean + lam[:, None] * noise)


def test_pairs_are_divided_by_noisy_std():
    rng = np.random.default_rng(2)
    clean, noise = 1e-5 * rng.standard_normal((2, 5, N_TIMES))
    x, y = make_pairs(clean, noise, -3.0)
    assert x.dtype == y.dtype == np.float32
    np.testing.assert_allclose(x.std(axis=1), 1.0, rtol=1e-5)
    raw = mix(clean, noise, -3.0)
    np.testing.assert_allclose(y, clean / raw.std(axis=1, keepdims=True), rtol=1e-5)


def test_mixing_rejects_flat_noise_and_shape_mismatch():
    with pytest.raises(DataError, match="flat"):
        mix(np.ones((1, 8)), np.zeros((1, 8)), 0.0)
    with pytest.raises(DataError, match="same shape"):
        mix(np.ones((1, 8)), np.ones((2, 8)), 0.0)


def test_loader_names_the_expected_files(tmp_path):
    with pytest.raises(DataError, match=r"EEG_all_epochs\.npy.*EMG_all_epochs\.npy"):
        load_eegdenoisenet(tmp_path)


def test_loader_reads_and_splits_80_10_10(tmp_path):
    rng = np.random.default_rng(3)
    np.save(tmp_path / "EEG_all_epochs.npy", rng.standard_normal((100, N_TIMES)))
    np.save(tmp_path / "EMG_all_epochs.npy", rng.standard_normal((50, N_TIMES)))
    data = load_eegdenoisenet(tmp_path)
    assert [len(data.eeg[s]) for s in ("train", "val", "test")] == [80, 10, 10]
    assert [len(data.emg[s]) for s in ("train", "val", "test")] == [40, 5, 5]
    rows = np.concatenate([data.eeg[s] for s in ("train", "val", "test")])
    assert len({r.tobytes() for r in rows}) == 100  # every epoch in exactly one split


def test_loader_rejects_wrong_layout(tmp_path):
    np.save(tmp_path / "EEG_all_epochs.npy", np.zeros((10, 256)))
    np.save(tmp_path / "EMG_all_epochs.npy", np.zeros((10, N_TIMES)))
    with pytest.raises(FormatError, match="512"):
        load_eegdenoisenet(tmp_path)


def test_unknown_cleaning_is_a_config_error(real_files):
    eeg, emg = real_files
    with pytest.raises(ConfigError, match="cleaning"):
        denoise.build_from_recordings(eeg, emg, cleaning="fastr")


def test_threshold_cleaning_drops_outlier_epochs():
    rng = np.random.default_rng(4)
    epochs = rng.standard_normal((4, 30, N_TIMES))
    epochs[2, 7] *= 50.0
    keep = denoise.CLEANINGS["threshold"](None, epochs)
    assert not keep[2, 7]
    assert keep.mean() > 0.9


def test_builder_splits_by_recording(real_files, real_data):
    eeg, _ = real_files
    split = real_data.provenance["split"]["eeg"]
    assert split == {
        eeg[0].name: "train",
        eeg[1].name: "train",
        eeg[2].name: "train",
        eeg[3].name: "val",
        eeg[4].name: "test",
    }
    # Epochs of one recording land in one split only: no test epoch appears in train or val.
    seen = {r.tobytes() for s in ("train", "val") for r in real_data.eeg[s]}
    assert not any(r.tobytes() in seen for r in real_data.eeg["test"])
    assert all(real_data.eeg[s].shape[1] == N_TIMES for s in ("train", "val", "test"))
    assert len(real_data.eeg["test"]) == 300 and len(real_data.eeg["train"]) == 900


def test_builder_epochs_are_band_limited_eeg(real_data):
    from scipy import signal

    f, p = signal.welch(real_data.eeg["train"], fs=256.0, nperseg=256)
    p = p.mean(axis=0)
    assert p[(f > 90)].sum() < 1e-3 * p.sum()  # nothing above the 70 Hz band edge
    assert np.all(np.abs(real_data.eeg["train"].mean(axis=1)) < 1e-12)
    assert 1e-6 < real_data.eeg["train"].std() < 1e-4  # volts, tens of microvolts


def test_emg_split_in_time_has_no_shared_samples(real_files):
    _, emg = real_files
    wins = denoise._emg_windows(*denoise.read_emg_txt(emg[0]), (1.0, 100.0))
    parts = denoise._split_emg([wins], 0.2, 0.2, 0.0)
    n = wins.shape[1]
    n_test = int(n * 0.2)
    rest = n - n_test - 1
    n_val = int(rest * 0.2)
    # Windows overlap by half, so the dropped boundary window keeps the splits apart in time.
    assert len(parts["test"]) == 8 * n_test
    assert len(parts["val"]) == 8 * n_val
    assert len(parts["train"]) == 8 * (rest - n_val - 1)


def test_read_emg_rejects_non_numeric(tmp_path):
    bad = tmp_path / "emg.txt"
    bad.write_text("time\tchannel1\tclass\n1\tx\t0\n")
    with pytest.raises(FormatError, match="tab-separated"):
        denoise.read_emg_txt(bad)


def test_faster_cleaning_rejects_a_corrupted_channel_epoch():
    pytest.importorskip("neurosig.eeg.faster")
    rng = np.random.default_rng(5)
    epochs = 1e-5 * rng.standard_normal((16, 20, N_TIMES))
    epochs[3, 11] *= 40.0
    keep = denoise.CLEANINGS["faster"](None, epochs)
    assert keep.shape == (16, 20)
    assert not keep[3, 11]
    assert keep.mean() > 0.8
