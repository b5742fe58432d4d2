"""A local folder of annotated recordings: layout, channel mismatches, bad files."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.data.local import find_recordings, load_local


def _write(path, ch_names, labels, seed=0):
    sfreq = 100.0
    rng = np.random.default_rng(seed)
    raw = mne.io.RawArray(
        rng.standard_normal((len(ch_names), 3000)) * 1e-6,
        mne.create_info(list(ch_names), sfreq, "eeg"),
        verbose="error",
    )
    raw.set_annotations(
        mne.Annotations([2.0 + 6 * i for i in range(len(labels))], [4.0] * len(labels), labels)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    raw.save(path, verbose="error")


@pytest.fixture
def folder(tmp_path):
    _write(tmp_path / "alice" / "day1" / "a_raw.fif", ["C3", "Cz", "C4"], ["T1", "T2", "T1", "T2"])
    _write(tmp_path / "alice" / "day2" / "a_raw.fif", ["C3", "Cz", "C4"], ["T2", "T1", "T0", "T2"], 1)
    _write(tmp_path / "bob" / "b_raw.fif", ["C4", "C3", "Pz"], ["T1", "T2", "T1", "T2"], 2)
    (tmp_path / "notes.txt").write_text("not a recording")
    return tmp_path


def test_layout_gives_subjects_and_sessions(folder):
    found = [(s, sess) for s, sess, _ in find_recordings(folder)]
    assert found == [("alice", "day1"), ("alice", "day2"), ("bob", "0")]


def test_load_local_cuts_trials_and_keeps_shared_channels(folder):
    data = load_local(str(folder), {"T1": "left", "T2": "right"}, 0.0, 4.0)
    assert data.X.shape == (11, 2, 400)
    assert data.ch_names == ("C3", "C4")
    assert data.subjects == ["alice", "bob"]
    assert sorted(set(data.session[data.subject == "alice"])) == ["day1", "day2"]
    assert data.y[data.subject == "bob"].tolist() == ["left", "right", "left", "right"]
    with pytest.raises(DataError, match="channel sets differ"):
        load_local(str(folder), {"T1": "left", "T2": "right"}, on_mismatch="raise")


def test_bad_folders_and_files(tmp_path, folder):
    with pytest.raises(DataError, match="does not exist"):
        load_local(str(tmp_path / "nope"), {"T1": "left"})
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no recordings"):
        find_recordings(tmp_path / "empty")
    with pytest.raises(ConfigError, match="event_map is empty"):
        load_local(str(folder), {})
    with pytest.raises(DataError, match="alice.*trials last 4 s"):
        load_local(str(folder), {"T1": "left", "T2": "right"}, 0.0, 6.0)
    broken = tmp_path / "broken" / "carol" / "x.edf"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"0" * 300)
    with pytest.raises(FormatError, match="x.edf"):
        load_local(str(tmp_path / "broken"), {"T1": "left"})
