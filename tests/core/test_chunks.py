import numpy as np
import pytest

from neurosig.core.chunks import (
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
        EventInfo((640, 480, 2)),
        SpikeInfo(0.01, 140),
        TokenInfo(("Cz",), 1.0, 4, 8, 1024),
    ],
)
def test_info_round_trips_through_json_dict(info):
    assert info_from_dict(info.to_dict()) == info
