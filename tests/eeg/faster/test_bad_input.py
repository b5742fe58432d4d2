"""Bad input ends in a clear DataError or a documented skip, never a division warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neurosig.core.errors import ConfigError, DataError
from neurosig.eeg import faster as F
from neurosig.eeg.faster import model


def _epochs(n_ep=20, n_ch=8, n_t=128, seed=0):
    return np.random.default_rng(seed).standard_normal((n_ep, n_ch, n_t)) * 1e-5


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("n_ch", [1, 2])
def test_fewer_than_three_channels(n_ch):
    with pytest.raises(DataError, match="at least 3"):
        F.find_bad_channels(_epochs(n_ch=n_ch), 64.0)
    with pytest.raises(DataError, match="at least 3"):
        F.find_bad_channels_in_epochs(_epochs(n_ch=n_ch), 64.0)


def test_fewer_than_three_usable_channels():
    data = _epochs(n_ch=4)
    data[:, :2] = 0.0  # two dead channels leave two usable ones
    with pytest.raises(DataError, match="3 non-constant"):
        F.find_bad_channels(data, 64.0)


def test_constant_channel_is_flagged_not_divided_by():
    data = _epochs()
    data[:, 3] = 1e-6
    result = F.find_bad_channels(data, 256.0, metrics="mne-faster")
    assert result.bad_items() == ["3"]
    assert result.flags["constant"][3] and np.isnan(result.z["correlation"][3])
    assert any("constant" in n for n in result.notes)
    assert result.to_dict()["metrics"]["correlation"]["z"][3] is None  # JSON-safe


def test_zero_variance_epochs():
    data = _epochs()
    data[5] = 0.0
    for call in (
        lambda: F.find_bad_epochs(data),
        lambda: F.find_bad_channels(data, 64.0),
        lambda: F.find_bad_channels_in_epochs(data, 64.0),
    ):
        with pytest.raises(DataError, match=r"epochs \[5\] have zero variance"):
            call()


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_samples(value):
    data = _epochs()
    data[2, 1, 7] = value
    with pytest.raises(DataError, match="NaN or infinite"):
        F.find_bad_epochs(data)


def test_too_few_epochs_and_wrong_shapes():
    with pytest.raises(DataError, match="at least 3 epochs"):
        F.find_bad_epochs(_epochs(n_ep=2))
    with pytest.raises(DataError, match="3-D"):
        F.find_bad_epochs(np.zeros((4, 100)))


def test_line_noise_above_nyquist():
    with pytest.raises(DataError, match="line_noise"):
        F.find_bad_channels(_epochs(), 100.0, metrics="mne-faster")


def test_unknown_profile_and_metric():
    with pytest.raises(ConfigError, match="did you mean|choose one of"):
        F.find_bad_channels(_epochs(), 64.0, metrics="papr")
    with pytest.raises(ConfigError, match="kurtosis"):
        F.find_bad_channels(_epochs(), 64.0, use_metrics=["kurtosis"])  # not a paper metric


def test_channel_constant_within_one_epoch_is_scored_without_warnings():
    data = _epochs(n_ch=16)
    data[4, 2] = 0.0  # a drop-out of one channel in one epoch
    result = F.find_bad_channels_in_epochs(data, 64.0)
    assert result.bad[4, 2]


def test_reference_distance_correction():
    # Channel variance that grows with the distance to the reference hides nothing once corrected.
    rng = np.random.default_rng(0)
    angles = np.linspace(0.1, 2.0, 24)
    data = rng.standard_normal((10, 24, 200)) * (1 + 3 * angles**2)[None, :, None]
    data[:, 5] *= 3.0  # a truly noisy channel near the reference
    plain = F.find_bad_channels(data, 64.0, use_metrics=["variance"])
    corrected = F.find_bad_channels(data, 64.0, use_metrics=["variance"], ref_angles=angles)
    assert not plain.bad[5]
    assert corrected.bad_items() == ["5"]


def test_unknown_reference_electrode():
    import mne

    info = mne.create_info(["Cz", "Pz", "Oz", "Fz"], 100.0, "eeg")
    info.set_montage("standard_1005")
    epochs = mne.EpochsArray(_epochs(n_ch=4, n_t=100), info, verbose="error")
    with pytest.raises(ConfigError, match="reference='XYZ'"):
        F.run_faster(epochs, reference="XYZ", ica=False)
    assert model._ref_angles(info, ["Pz"], "FCz").shape == (1,)  # FCz: not recorded, from the template
