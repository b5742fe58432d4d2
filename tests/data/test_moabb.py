"""MOABB adapter: PhysionetMI subject 1 offline from the shared files (slow: MOABB's own loading)."""

from __future__ import annotations

import pytest

from neurosig.core.errors import ConfigError
from neurosig.data.eegbci import eegbci_file
from neurosig.data.moabb_data import load_moabb

pytest.importorskip("moabb")


def test_unknown_names_fail_clearly():
    with pytest.raises(ConfigError, match="no dataset or paradigm"):
        load_moabb("NotADataset")


@pytest.mark.slow
@pytest.mark.shared_data
def test_physionet_mi_subject_1_offline(shared_file, tmp_path, monkeypatch):
    for run in range(1, 15):
        target = eegbci_file(tmp_path, 1, run)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(shared_file(f"eeg/eegmmidb/S001/S001R{run:02d}.edf"))
    monkeypatch.setenv("MNE_DATASETS_EEGBCI_PATH", str(tmp_path))
    monkeypatch.setenv("MOABB_DOWNLOAD_PROVIDER", "upstream")  # local files only, no NEMAR look-ups
    data = load_moabb("PhysionetMI", "LeftRightImagery", [1], dataset_options={"imagined": True})
    assert data.X.shape[:2] == (45, 64)
    assert sorted(set(data.y)) == ["left_hand", "right_hand"]
    assert int((data.y == "left_hand").sum()) == 23
