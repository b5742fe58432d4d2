"""Fixtures for the AT-AT tests: few torch threads, small real-data sets, untrained tiny weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from neurosig.data.denoise import build_from_recordings
from neurosig.eeg.atat.checkpoint import build_model, save_model
from neurosig.eeg.atat.train import SIZES

EEG_RUNS = ("R01", "R02", "R03", "R13", "R14")
EMG_FILES = (
    "emg/uci_emg_gestures_1_raw_data_11-08_21.03.16.txt",
    "emg/uci_emg_gestures_1_raw_data_12-04_27.04.16.txt",
)


@pytest.fixture(autouse=True)
def _few_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def real_files(shared_file):
    """Five eegmmidb runs (train R01–R03, val R13, test R14) and both EMG files."""
    eeg = [shared_file(f"eeg/eegmmidb/S001/S001{run}.edf") for run in EEG_RUNS]
    return eeg, [shared_file(p) for p in EMG_FILES]


@pytest.fixture(scope="session")
def real_data(real_files):
    """Benchmark data from real recordings, capped at 300 channel-epochs per recording."""
    eeg, emg = real_files
    return build_from_recordings(
        eeg, emg, cleaning="threshold", val_fraction=0.2, test_fraction=0.2, max_epochs_per_recording=300
    )


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """An untrained tiny AT-AT checkpoint (enough for the stage's contract tests)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("atat") / "tiny.pt"
    save_model(path, build_model("atat", SIZES["tiny"]), "atat", SIZES["tiny"])
    return path
