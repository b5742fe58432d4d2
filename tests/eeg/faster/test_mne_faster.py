"""``metrics="mne-faster"`` makes the same decisions as the mne-faster package on eegmmidb S001."""

from __future__ import annotations

import numpy as np
import pytest

from neurosig.eeg import faster as F

mne_faster = pytest.importorskip("mne_faster")

CHANNEL_METRICS = ["variance", "correlation", "hurst", "kurtosis", "line_noise"]
EPOCH_METRICS = ["amplitude", "deviation", "variance"]
CIE_METRICS = ["amplitude", "deviation", "variance", "median_gradient", "line_noise"]
# The montage has no EOG channel: mne-faster 1.2.2 then needs eog_correlation left out.
COMPONENT_METRICS = ["kurtosis", "power_gradient", "hurst", "median_gradient", "line_noise"]


def _eeg(epochs):
    return epochs.get_data(picks="eeg"), epochs.info["sfreq"], epochs.ch_names


S001_RUNS = range(1, 15)
FAST_RUNS = (1, 4)
RUNS = [r if r in FAST_RUNS else pytest.param(r, marks=pytest.mark.slow) for r in S001_RUNS]


@pytest.mark.parametrize("run", RUNS)
def test_steps_1_2_4_equal_mne_faster(s001_epochs, run):
    epochs = s001_epochs(run)
    data, sfreq, names = _eeg(epochs)
    for thres in (2.0, 3.0):
        ours = F.find_bad_channels(data, sfreq, names, "mne-faster", thres)
        theirs = mne_faster.find_bad_channels(epochs, thres=thres, return_by_metric=True)
        for m in CHANNEL_METRICS:
            assert sorted(theirs[m]) == sorted(names[i] for i in np.flatnonzero(ours.flags[m])), (run, m)
        assert sorted(mne_faster.find_bad_channels(epochs, thres=thres)) == sorted(ours.bad_items())

        theirs = mne_faster.find_bad_epochs(epochs, thres=thres, return_by_metric=True)
        ours = F.find_bad_epochs(data, None, "mne-faster", thres)
        for m in EPOCH_METRICS:
            assert sorted(theirs[m]) == np.flatnonzero(ours.flags[m]).tolist(), (run, m)

        theirs = mne_faster.find_bad_channels_in_epochs(epochs, thres=thres, return_by_metric=True)
        ours = F.find_bad_channels_in_epochs(data, sfreq, names, "mne-faster", thres)
        for m in CIE_METRICS:
            mine = [sorted(names[j] for j in np.flatnonzero(row)) for row in ours.flags[m]]
            assert [sorted(t) for t in theirs[m]] == mine, (run, m)


@pytest.mark.parametrize(
    "run", [4, pytest.param(8, marks=pytest.mark.slow), pytest.param(12, marks=pytest.mark.slow)]
)
def test_step_3_equal_mne_faster_on_the_same_ica(s001_epochs, run):
    epochs = s001_epochs(run)
    ica = F.fit_ica(epochs, epochs.ch_names, n_components=20, random_state=0)
    for thres in (1.5, 2.0, 3.0):
        theirs = mne_faster.find_bad_components(
            ica, epochs, thres=thres, use_metrics=COMPONENT_METRICS, return_by_metric=True
        )
        ours = F.find_bad_components_ica(ica, epochs, "mne-faster", thres)
        assert ours.notes == ["no EOG channel: the eog_correlation metric was skipped"]
        for m in COMPONENT_METRICS:
            assert sorted(theirs[m]) == np.flatnonzero(ours.flags[m]).tolist(), (run, m, thres)


def test_ica_is_seeded(s001_epochs):
    epochs = s001_epochs(1)
    picks = epochs.ch_names[:16]
    a = F.fit_ica(epochs, picks, n_components=8, random_state=3).get_components()
    b = F.fit_ica(epochs, picks, n_components=8, random_state=3).get_components()
    np.testing.assert_array_equal(a, b)
