import shutil
from pathlib import Path

import numpy as np
import pytest

from neurosig.core.errors import DataError, FormatError
from neurosig.io.digest import sha256_file
from neurosig.io.eeg import EEGFileSource, check_edf_header, eeg_file_info, open_raw

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
    with pytest.raises(FormatError, match="notes.edf, byte 0: .* neither EDF"):
        eeg_file_info(path)


def _edf_header_edit(src: Path, dst: Path, offset: int, value: bytes) -> Path:
    data = bytearray(src.read_bytes())
    data[offset : offset + len(value)] = value
    dst.write_bytes(bytes(data))
    return dst


def test_bdf_named_edf_is_decided_by_its_header(shared_file, tmp_path):
    """A BDF renamed .edf was read as EDF (2 bytes per sample): wrong data, silently."""
    bdf = shared_file("eeg/format-samples/eeglab/test.bdf")
    renamed = tmp_path / "renamed.edf"
    renamed.write_bytes(bdf.read_bytes())
    assert check_edf_header(bdf) == "bdf"
    with pytest.raises(FormatError, match="header says BDF .* named .edf.* Rename it to renamed.bdf"):
        open_raw(renamed)
    edf = shared_file(S001R04)
    assert check_edf_header(edf) == "edf"
    with pytest.raises(FormatError, match="header says EDF"):
        open_raw(_edf_header_edit(edf, tmp_path / "r04.bdf", 0, b"0"))


def _field(value: str, width: int) -> bytes:
    return value.ljust(width).encode("ascii")


@pytest.mark.parametrize(
    "where, value, match",
    [
        ("duration", "0", "record duration is 0 s"),
        ("duration", "-1", "record duration is -1 s"),
        ("duration", "1e-6", "rate of 1.6e.08 Hz"),  # 160 samples per 1e-6 s: 160 MHz
        ("n_signals", "-1", "-1 signals"),
        ("n_records", "-5", "-5 data records"),
        ("digital", "8092", "signal 0 has digital minimum = maximum = 8092"),
    ],
)
def test_edf_header_that_lies_is_refused(shared_file, tmp_path, where, value, match):
    src = shared_file(S001R04)  # 64 EEG signals and the annotations, 160 samples per 1-s record
    n = 65
    offset, width = {
        "duration": (244, 8),
        "n_signals": (252, 4),
        "n_records": (236, 8),
        "digital": (256 + 120 * n, 8),  # signal 0's digital minimum, set equal to its maximum
    }[where]
    path = _edf_header_edit(src, tmp_path / "bad.edf", offset, _field(value, width))
    with pytest.raises(FormatError, match=match) as err:
        check_edf_header(path)
    assert err.value.path == path and err.value.offset is not None


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


def test_a_run_opens_the_recording_once(tmp_path, monkeypatch):
    import mne

    from neurosig.core.pipeline import Pipeline

    path = tmp_path / "rec_raw.fif"
    info = mne.create_info(["Cz", "Pz", "Oz"], 100.0, "eeg")
    data = 1e-5 * np.random.default_rng(0).standard_normal((3, 1000))
    mne.io.RawArray(data, info, verbose="error").save(path, verbose="error")
    opened = []
    read_raw = mne.io.read_raw

    def counting_read_raw(*args, **kwargs):
        opened.append(args[0])
        return read_raw(*args, **kwargs)

    monkeypatch.setattr(mne.io, "read_raw", counting_read_raw)
    source = EEGFileSource(str(path), chunk_duration=2.0)
    Pipeline(source).run(progress=False)  # asks n_chunks (progress bar), iterates, reads the info
    assert source.n_chunks == 5
    assert len(opened) == 1
