import mne
import numpy as np
import pytest

from neurosig.core.chunks import SignalChunk, SignalInfo, concat_chunks
from neurosig.core.errors import ConfigError, DataError
from neurosig.eeg.epochs import Epochs
from neurosig.io.eeg import EEGFileSource
from neurosig.testing import run_stage, split_chunk


def test_event_locked_epochs_equal_mne(shared_file):
    path = shared_file("eeg/eegmmidb/S001/S001R04.edf")
    chunks = list(EEGFileSource(str(path), chunk_duration=0.7))
    stage = Epochs(events=["T1", "T2"], tmin=-0.5, tmax=4.0)
    ours = concat_chunks(run_stage(stage, chunks))
    raw = mne.io.read_raw_edf(path, verbose="error")
    events, event_id = mne.events_from_annotations(raw, event_id={"T1": 1, "T2": 2}, verbose="error")
    theirs = mne.Epochs(raw, events, event_id, -0.5, 4.0, baseline=None, preload=True, verbose="error")
    assert ours.data.shape == theirs.get_data().shape
    np.testing.assert_allclose(ours.data, theirs.get_data(), rtol=1e-6, atol=1e-12)
    labels = [{1: "T1", 2: "T2"}[e] for e in events[:, 2]]
    assert list(ours.labels) == labels
    np.testing.assert_allclose(ours.onsets, events[:, 0] / raw.info["sfreq"])


def test_fixed_length_windows_with_overlap_and_drop_count():
    info = SignalInfo(100.0, ("a",))
    x = np.arange(1050, dtype=float)[None]
    stage = Epochs(length=2.0, step=1.0)
    out = concat_chunks(run_stage(stage, split_chunk(SignalChunk(x, info), [33, 500])))
    assert out.data.shape == (9, 1, 200)
    np.testing.assert_array_equal(out.data[:, 0, 0], np.arange(9) * 100)
    assert stage.n_dropped == 2  # windows at 9 s and 10 s do not fit in 10.5 s


def test_epoch_before_stream_start_is_dropped():
    from neurosig.core.chunks import Marker

    info = SignalInfo(100.0, ("a",))
    chunk = SignalChunk(np.zeros((1, 500)), info, 0, (Marker(0.1, 0, "x"), Marker(2.0, 0, "x")))
    stage = Epochs(events=["x"], tmin=-0.5, tmax=1.0)
    out = run_stage(stage, [chunk])
    assert sum(c.n_epochs for c in out) == 1 and stage.n_dropped == 1


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"events": ["a"], "length": 1.0},
        {"events": ["a"], "tmin": 1.0, "tmax": 0.5},
        {"events": ["a"], "step": 1.0},
    ],
)
def test_ambiguous_or_inverted_windows_are_config_errors(params):
    with pytest.raises(ConfigError):
        Epochs(**params)


def test_too_short_window_is_a_data_error():
    with pytest.raises(DataError, match="longer"):
        list(Epochs(length=0.001).process(SignalChunk(np.zeros((1, 10)), SignalInfo(100.0, ("a",)))))


def test_marker_arriving_chunks_after_its_sample_still_gets_its_epoch():
    """Over LSL a marker can ride on a later chunk than its sample (the marker stream is separate)."""
    from neurosig.core.chunks import Marker

    info = SignalInfo(100.0, ("a",))
    x = np.arange(1000, dtype=np.float32)[None]
    marker = Marker(2.0, 0.0, "T1")
    on_time = SignalChunk(x, info, 0, (marker,))
    late = [SignalChunk(x[:, i : i + 50], info, i, (marker,) if i == 250 else ()) for i in range(0, 1000, 50)]
    expected = list(Epochs(events=["T1"], tmin=0.0, tmax=1.0).process(on_time))[0].data
    stage = Epochs(events=["T1"], tmin=0.0, tmax=1.0)  # default marker_delay: 1 s
    got = [c for chunk in late for c in stage.process(chunk)]
    assert len(got) == 1 and stage.n_dropped == 0
    np.testing.assert_array_equal(got[0].data, expected)
    stage = Epochs(events=["T1"], tmin=0.0, tmax=1.0, marker_delay=0.0)
    assert not [c for chunk in late for c in stage.process(chunk)] and stage.n_dropped == 1
