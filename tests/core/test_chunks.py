import numpy as np
import pytest

from neurosig.core.chunks import (
    CHUNK_TYPES,
    EVENTS_DTYPE,
    EpochsChunk,
    EpochsInfo,
    EventChunk,
    EventInfo,
    Marker,
    SignalChunk,
    SignalInfo,
    SpikeChunk,
    SpikeInfo,
    TokenChunk,
    TokenInfo,
    concat_chunks,
    info_from_dict,
)
from neurosig.core.errors import DataError
from neurosig.testing import assert_chunks_close

INFO = SignalInfo(100.0, ("a", "b"))


def test_signal_chunk_casts_to_float32_and_knows_its_times():
    chunk = SignalChunk(np.ones((2, 5)), INFO, start=10)
    assert chunk.data.dtype == np.float32
    assert chunk.stop == 15
    np.testing.assert_allclose(chunk.times, np.arange(10, 15) / 100.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SignalChunk(np.ones((3, 5)), INFO),
        lambda: SignalChunk(np.ones(5), INFO),
        lambda: SignalInfo(0.0, ("a",)),
        lambda: SignalInfo(100.0, ("a", "a")),
        lambda: SignalInfo(100.0, ("a", "b"), ("eeg",)),
        lambda: EventChunk(np.zeros(3, dtype=[("t", "<i8")]), EventInfo((4, 4, 2))),
        lambda: EventInfo((4, 0, 2)),
        lambda: SpikeChunk(np.zeros((4, 3)), SpikeInfo(0.001, 2)),
        lambda: EpochsChunk(
            np.zeros((2, 2, 5)), EpochsInfo(100.0, ("a", "b"), ("eeg", "eeg"), 0.0, 5), [0.0], ["x"]
        ),
        lambda: TokenChunk(np.zeros((2, 3)), TokenInfo(("a",), 1.0, 4, 8, 256)),
    ],
)
def test_malformed_chunks_raise_data_error(make):
    with pytest.raises(DataError):
        make()


def test_concat_joins_payloads_and_markers():
    a = SignalChunk(np.zeros((2, 3)), INFO, 0, (Marker(0.01, 0, "x"),))
    b = SignalChunk(np.ones((2, 2)), INFO, 3, (Marker(0.04, 0, "y"),))
    joined = concat_chunks([a, b])
    assert joined.n_samples == 5 and [m.description for m in joined.markers] == ["x", "y"]
    events = np.zeros(3, dtype=EVENTS_DTYPE)
    ev = concat_chunks([EventChunk(events, EventInfo((4, 4, 2)))] * 2)
    assert len(ev) == 6


def test_concat_rejects_mixed_streams():
    a = SignalChunk(np.zeros((2, 3)), INFO)
    b = SignalChunk(np.zeros((2, 3)), INFO.replace(sfreq=50.0))
    with pytest.raises(DataError):
        concat_chunks([a, b])
    with pytest.raises(DataError):
        concat_chunks([])


@pytest.mark.parametrize(
    "info",
    [
        INFO,
        EpochsInfo(100.0, ("a",), ("eeg",), -0.5, 10),
        SignalInfo(100.0, ("a", "b"), ch_pos=[(0.01, -0.02, 0.09), None]),
        EpochsInfo(100.0, ("a", "b"), ("eeg", "eog"), 0.0, 10, ch_pos=[None, (0.0, 0.08, 0.02)]),
        EventInfo((640, 480, 2)),
        SpikeInfo(0.01, 140),
        TokenInfo(("Cz",), 1.0, 4, 8, 1024),
    ],
)
def test_info_round_trips_through_json_dict(info):
    assert info_from_dict(info.to_dict()) == info


def test_channel_positions_are_checked_picked_and_left_out_when_there_are_none():
    info = SignalInfo(100.0, ("a", "b", "c"), ch_pos=[[0.0, 0.0, 0.1], None, (0.05, 0.0, 0.08)])
    assert info.ch_pos == ((0.0, 0.0, 0.1), None, (0.05, 0.0, 0.08))
    assert set(info.positions()) == {"a", "c"}
    assert info.pick([2, 1]).ch_pos == ((0.05, 0.0, 0.08), None)
    assert info.pick([1]).ch_pos == ()  # no channel left with a position: as a stream without any
    assert SignalInfo(100.0, ("a",), ch_pos=[None]).ch_pos == ()
    assert "ch_pos" not in SignalInfo(100.0, ("a",)).to_dict()  # stored infos keep their old form
    with pytest.raises(DataError, match="3 channel names but 2 channel positions"):
        SignalInfo(100.0, ("a", "b", "c"), ch_pos=[(0, 0, 1), None])
    with pytest.raises(DataError, match=r"ch_pos\[0\] must be \(x, y, z\) in metres"):
        EpochsInfo(100.0, ("a",), ("eeg",), 0.0, 5, ch_pos=[(0.0, float("nan"), 0.1)])


def _examples():
    events = np.zeros(6, dtype=EVENTS_DTYPE)
    events["t"] = [0, 10, 20, 500_000, 500_010, 1_500_000]
    epochs_info = EpochsInfo(100.0, ("a", "b"), ("eeg", "eeg"), 0.0, 5)
    return {
        "signal": SignalChunk(
            np.arange(12.0).reshape(2, 6), INFO, 4, (Marker(0.05, 0, "x"), Marker(0.09, 0, "y"))
        ),
        "epochs": EpochsChunk(np.zeros((6, 2, 5)), epochs_info, np.arange(6.0), list("abcdef"), 3),
        "events": EventChunk(events, EventInfo((4, 4, 2))),
        "spikes": SpikeChunk(np.eye(6, 3), SpikeInfo(0.002, 3), 2),
        "tokens": TokenChunk(np.arange(72).reshape(2, 6, 2, 3), TokenInfo(("a", "b"), 0.5, 2, 3, 128), 1),
    }


@pytest.mark.parametrize("kind", sorted(_examples()))
def test_slices_join_back_into_the_chunk(kind):
    chunk = _examples()[kind]
    pieces = [chunk.slice(0, 2), chunk.slice(2, 2), chunk.slice(2, 6)]
    assert [type(p) for p in pieces] == [type(chunk)] * 3
    assert [p.length for p in pieces] == [2, 0, 4]
    assert_chunks_close([chunk], [concat_chunks(pieces)], rtol=0, atol=0)
    assert_chunks_close(
        [chunk.slice(2, 4)], [type(chunk).concatenate([chunk.slice(2, 3), chunk.slice(3, 4)])]
    )


def test_a_signal_slice_keeps_its_position_and_the_markers_inside():
    piece = _examples()["signal"].slice(1, 4)  # samples 5..7 of the stream: 0.05 s to 0.08 s
    assert piece.start == 5 and [m.description for m in piece.markers] == ["x"]
    assert _examples()["epochs"].slice(4, 6).labels == ("e", "f")


@pytest.mark.parametrize(
    ("kind", "seconds"),
    [("signal", 0.06), ("epochs", 0.3), ("events", 1.5), ("spikes", 0.012), ("tokens", 3.0)],
)
def test_duration_is_the_seconds_of_recording(kind, seconds):
    assert _examples()[kind].duration == pytest.approx(seconds)


def test_every_chunk_type_is_listed_by_name():
    assert {type(c).__name__ for c in _examples().values()} == set(CHUNK_TYPES)


def test_assert_chunks_close_compares_what_travels_beside_the_payload():
    epochs = _examples()["epochs"]
    relabelled = EpochsChunk(epochs.data, epochs.info, epochs.onsets, list("abcdeX"), epochs.start)
    with pytest.raises(AssertionError, match="labels"):
        assert_chunks_close([epochs], [relabelled])
    signal = _examples()["signal"]
    with pytest.raises(AssertionError, match="markers"):
        assert_chunks_close([signal], [SignalChunk(signal.data, signal.info, signal.start)])
