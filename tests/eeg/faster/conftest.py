"""Fixtures of the FASTER tests: eegmmidb S001 runs as MNE epochs, and quiet MNE logging."""

from __future__ import annotations

import functools

import pytest


@pytest.fixture(autouse=True, scope="session")
def _quiet_mne():
    import mne

    mne.set_log_level("error")


@functools.cache
def _load(path: str, duration: float):
    import mne

    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    mne.datasets.eegbci.standardize(raw)
    raw.set_montage("standard_1005", verbose="error")
    return mne.make_fixed_length_epochs(raw, duration=duration, preload=True, verbose="error")


@pytest.fixture(scope="session")
def s001_epochs(shared_file):
    """``s001_epochs(run)``: 2-s fixed-length MNE epochs of eegmmidb S001 run ``run`` (skip if absent)."""

    def get(run: int, duration: float = 2.0):
        path = shared_file(f"eeg/eegmmidb/S001/S001R{run:02d}.edf")
        return _load(str(path), duration).copy()

    return get
