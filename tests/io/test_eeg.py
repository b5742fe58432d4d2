import shutil

import numpy as np
import pytest

from neurosig.core.errors import DataError, FormatError
from neurosig.io.digest import sha256_file
from neurosig.io.eeg import EEGFileSource, eeg_file_info

S001R04 = "eeg/eegmmidb/S001/S001R04.edf"


def test_info_of_the_physionet_run(shared_file):
    info = eeg_file_info(shared_file(S001R04))
    assert info["n_channels"] == 64
    assert info["sfreq"] == 160.0
    assert info["duration"] == 125.0
    assert info["annotations"] == {"T0": 15, "T1": 8, "T2": 7}


def test_dot_padded_eegmmidb_labels_are_standardised_as_mne_eegbci_does(shared_file):
    import mne
    from mne.datasets import eegbci

    path = shared_file(S001R04)
    raw = mne.io.read_raw_edf(path, verbose="error")
    assert raw.ch_names[:2] == ["Fc5.", "Fc3."]
    eegbci.standardize(raw)
    assert eeg_file_info(path)["channels"] == raw.ch_names
    assert EEGFileSource(str(path)).info.ch_names[:4] == ("FC5", "FC3", "FC1", "FCz")
    assert {"Cz", "Fp1", "AFz", "Iz"} <= set(raw.ch_names)


def test_chunks_cover_the_file_lazily_with_markers(shared_file):
    import mne

    path = shared_file(S001R04)
    source = EEGFileSource(str(path), chunk_duration=3.0)
    chunks = list(source)
    assert len(chunks) == source.n_chunks == 42
    assert chunks[-1].n_samples == 20000 - 41 * 480
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    whole = np.concatenate([c.data for c in chunks], axis=1)
    np.testing.assert_allclose(whole, raw.get_data(), rtol=1e-6, atol=1e-12)
    markers = [m for c in chunks for m in c.markers]
    assert len(markers) == 30
    for chunk in chunks:
        assert all(chunk.start / 160 <= m.onset < chunk.stop / 160 for m in chunk.markers)
    assert source.describe()["sha256"] == sha256_file(path)


@pytest.mark.parametrize(
    "relative, n_channels, sfreq",
    [
        ("eeg/format-samples/mne/brainvision/test.vhdr", 32, 1000.0),
        ("eeg/format-samples/mne/edf_test.bdf", 73, 2048.0),
        ("eeg/format-samples/mne/egi_test_egi.raw", 262, 250.0),
        ("eeg/format-samples/eeglab/test.bdf", 17, 256.0),
        ("eeg/format-samples/eeglab/sub-S1_ses-01_task-Experiment_run-01_eeg.edf", 16, 256.0),
    ],
)
def test_other_mne_formats_stream(shared_file, relative, n_channels, sfreq):
    path = shared_file(relative)
    info = eeg_file_info(path)
    assert (info["n_channels"], info["sfreq"]) == (n_channels, sfreq)
    first = next(iter(EEGFileSource(str(path), chunk_duration=0.5, picks="all")))
    assert first.data.shape == (n_channels, min(int(0.5 * sfreq), info["n_samples"]))


def test_missing_file():
    with pytest.raises(DataError, match="does not exist"):
        _ = EEGFileSource("no/such.edf").info


def test_unknown_extension_lists_formats(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match="EDF/BDF/GDF"):
        _ = EEGFileSource(str(path)).info


def test_file_that_is_not_eeg(tmp_path):
    path = tmp_path / "notes.edf"
    path.write_bytes(b"this is not a recording" * 20)
    with pytest.raises(FormatError, match="notes.edf, byte 184"):
        eeg_file_info(path)


def test_truncated_edf_is_refused_with_its_offset(shared_file, tmp_path):
    data = shared_file(S001R04).read_bytes()
    path = tmp_path / "short.edf"
    path.write_bytes(data[:1_500_000])
    with pytest.raises(FormatError, match=r"byte 1500000: truncated.*125 data records.*71 complete"):
        eeg_file_info(path)


def test_discontinuous_edf_is_refused(shared_file, tmp_path):
    path = tmp_path / "gappy.edf"
    shutil.copy(shared_file(S001R04), path)
    with open(path, "r+b") as f:
        f.seek(192)
        f.write(b"EDF+D".ljust(44))
    with pytest.raises(FormatError, match="discontinuous"):
        _ = EEGFileSource(str(path)).info


def test_bad_picks(shared_file):
    with pytest.raises(FormatError, match="selects no channel"):
        _ = EEGFileSource(str(shared_file(S001R04)), picks="eog").info
