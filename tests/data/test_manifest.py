import shutil

import pytest

from neurosig.core.errors import ConfigError, DataError
from neurosig.data.manifest import load_manifest, manifest_names, require, verify


def test_every_manifest_validates():
    assert {"eegmmidb", "bci_iv_2a", "eegdenoisenet", "shd", "nmnist", "dvs_gesture"} <= set(manifest_names())
    for name in manifest_names():
        manifest = load_manifest(name)
        assert manifest.licence and manifest.citation and manifest.layout


def test_unknown_dataset_suggests():
    with pytest.raises(ConfigError, match="Did you mean 'eegmmidb'"):
        load_manifest("eegmmdb")


def test_real_files_verify_against_the_manifest(shared_data):
    report = verify("eegmmidb", shared_data / "eeg" / "eegmmidb")
    assert len(report["ok"]) == 14 and not report["missing"] and not report["corrupt"]


def test_missing_and_corrupt_files_give_one_clear_error(shared_file, tmp_path):
    (tmp_path / "S001").mkdir()
    shutil.copy(shared_file("eeg/eegmmidb/S001/S001R01.edf"), tmp_path / "S001" / "S001R01.edf")
    bad = tmp_path / "S001" / "S001R02.edf"
    bad.write_bytes(b"x" * 1275936)
    report = verify("eegmmidb", tmp_path)
    assert report["ok"] == ["S001/S001R01.edf"] and report["corrupt"] == ["S001/S001R02.edf"]
    assert len(report["missing"]) == 12
    with pytest.raises(DataError, match=r"13 file\(s\) missing / corrupt.*physionet.org.*ODC-By"):
        require("eegmmidb", tmp_path)
    assert require("eegmmidb", tmp_path, paths=["S001/S001R01.edf"]) == tmp_path
