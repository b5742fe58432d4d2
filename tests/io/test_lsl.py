"""The LSL source, sink and replay on loopback: each test starts its own uniquely named streams."""

from __future__ import annotations

import threading
import time
import uuid
import warnings

import numpy as np
import pytest

pytest.importorskip("mne_lsl")

from neurosig.core.chunks import SignalChunk, SignalInfo  # noqa: E402
from neurosig.core.config import build_pipeline  # noqa: E402
from neurosig.core.errors import DataError  # noqa: E402
from neurosig.core.pipeline import Pipeline  # noqa: E402
from neurosig.core.stage import ChunkSource  # noqa: E402
from neurosig.io.hdf5 import read_hdf5  # noqa: E402
from neurosig.io.lsl import CLOCK_JUMP, GAP, LSLSink, LSLSource, find_stream, replay, stop_player  # noqa: E402

SFREQ = 100.0
N = 700  # 7 s


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A FIF file: a ramp (sample index, misc) and three EEG channels, with three annotations."""
    import mne

    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, N)) * 1e-5
    x[0] = np.arange(N)
    info = mne.create_info(["ramp", "C3", "Cz", "C4"], SFREQ, ["misc", "eeg", "eeg", "eeg"])
    raw = mne.io.RawArray(x, info, verbose="error")
    raw.set_annotations(mne.Annotations([4.5, 5.23, 6.0], [0, 0, 0], ["T1", "T2", "T1"]))
    path = tmp_path_factory.mktemp("lsl") / "rec_raw.fif"
    raw.save(path, verbose="error")
    return path


@pytest.fixture
def player(recording):
    """Start a replay of ``recording`` under a unique name; stop it afterwards."""
    started = []

    def start(name: str | None = None, **kwargs):
        p = replay(recording, name=name or uuid.uuid4().hex, chunk_size=10, **kwargs)
        started.append(p)
        return p

    yield start
    for p in started:
        stop_player(p)


def _received(chunks):
    data = np.concatenate([c.data for c in chunks], axis=1)
    return data, int(round(data[0, 0]))  # the ramp gives the file index of the first sample


def test_source_streams_samples_in_order_with_markers_on_their_samples(player):
    p = player()
    chunks = list(LSLSource(name=p.name, markers=f"{p.name}-annotations", timeout=1.0))
    data, first = _received(chunks)
    assert np.array_equal(data[0], np.arange(first, N, dtype=np.float32))
    assert [c.start for c in chunks] == list(np.cumsum([0] + [c.n_samples for c in chunks[:-1]]))
    markers = [(round(m.onset * SFREQ) + first, m.description) for c in chunks for m in c.markers]
    expected = [(450, "T1"), (523, "T2"), (600, "T1")]
    assert markers == [e for e in expected if e[0] >= first]
    for c in chunks:  # each marker rides on the chunk that holds its sample, or a later one
        assert all(m.onset * SFREQ < c.stop for m in c.markers)


def test_looped_replay_wraps_without_repeating_or_stepping_back(tmp_path):
    """100 samples in chunks of 10: PlayerLSL alone would push the whole file again at each wrap."""
    import mne

    raw = mne.io.RawArray(np.arange(100.0)[None], mne.create_info(["ramp"], SFREQ, "misc"), verbose="error")
    raw.save(tmp_path / "short_raw.fif", verbose="error")
    p = replay(tmp_path / "short_raw.fif", name=uuid.uuid4().hex, chunk_size=10, loop=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a clock jump would warn
            chunks = list(LSLSource(name=p.name, duration=2.5))
    finally:
        stop_player(p)
    ramp = np.concatenate([c.data[0] for c in chunks])
    steps = np.diff(ramp)
    assert np.all((steps == 1) | (steps == -98))  # 0, 1, ..., 98, 0, 1, ...: the last sample is left out
    assert np.count_nonzero(steps == -98) >= 1
    assert not [m for c in chunks for m in c.markers]


def test_rate_or_channels_that_differ_from_the_pipeline_fail_before_any_sample(player):
    p = player()
    with pytest.raises(DataError, match="runs at 100 Hz but the pipeline expects sfreq=160"):
        next(iter(LSLSource(name=p.name, sfreq=160.0)))
    with pytest.raises(DataError, match=r"missing \['Fz'\]"):
        next(iter(LSLSource(name=p.name, channels=["ramp", "C3", "Cz", "Fz"])))


def test_missing_stream_lists_what_is_visible():
    with pytest.raises(DataError, match="no LSL stream with name='nothing-"):
        find_stream(name=f"nothing-{uuid.uuid4().hex}", timeout=0.2)


def _offline(path, stages, first, tmp_path):
    """``neurosig run`` on the same file cropped to the live run's first sample."""
    import mne

    raw = mne.io.read_raw_fif(path, verbose="error").crop(tmin=first / SFREQ)
    cropped = tmp_path / "cropped_raw.fif"
    raw.save(cropped, verbose="error")
    config = {
        "source": {"type": "file", "path": str(cropped), "picks": "all"},
        "stages": stages,
        "sink": {"type": "hdf5", "path": str(tmp_path / "offline.h5")},
    }
    build_pipeline(config).run()
    return read_hdf5(tmp_path / "offline.h5")[0]


@pytest.mark.parametrize(
    "stages",
    [
        [{"type": "notch", "freqs": [30.0]}, {"type": "bandpass", "l_freq": 1.0, "h_freq": 20.0}],
        [{"type": "highpass", "l_freq": 1.0}, {"type": "atat"}],
    ],
    ids=["filters", "atat"],
)
def test_live_hdf5_recording_equals_the_offline_run(player, recording, tmp_path, stages):
    p = player()
    out = p.name + "-out"
    config = {
        "source": {"type": "lsl", "name": p.name, "markers": f"{p.name}-annotations", "timeout": 3.0},
        "stages": stages,
        "sink": {
            "type": "tee",
            "sinks": [{"type": "hdf5", "path": str(tmp_path / "live.h5")}, {"type": "lsl", "name": out}],
        },
    }
    summary = build_pipeline(config).run()
    assert summary.output == f"{tmp_path / 'live.h5'} + lsl:{out}"
    live, attrs = read_hdf5(tmp_path / "live.h5")
    # the live run joined the replay late: its markers say where it started in the file
    first = 600 - int(round(live.markers[-1].onset * SFREQ))
    assert [m.description for m in live.markers] == ["T1", "T2", "T1"]
    assert first + live.data.shape[1] == N  # and it saw the replay to its end
    offline = _offline(recording, stages, first, tmp_path)
    assert live.data.shape == offline.data.shape
    np.testing.assert_allclose(live.data, offline.data, rtol=1e-5, atol=1e-12)
    assert attrs["source"]["type"] == "lsl"


def test_rereference_and_faster_online_live_equal_the_offline_run(player, recording, tmp_path):
    """Average reference, fixed-length epochs and online FASTER over LSL: the epochs `neurosig run` cuts."""
    p = player()
    stages = [
        {"type": "rereference"},
        {"type": "epochs", "length": 0.5},
        {"type": "faster_online", "calibration_epochs": 5, "interpolate": False, "drop": False},
    ]
    config = {
        "source": {"type": "lsl", "name": p.name, "timeout": 3.0},
        "stages": stages,
        "sink": {"type": "hdf5", "path": str(tmp_path / "live.h5")},
    }
    build_pipeline(config).run()
    live, _ = read_hdf5(tmp_path / "live.h5")
    first = int(round(live.data[0, 0, 0]))  # the ramp (misc, not re-referenced) of the first epoch
    assert live.n_epochs >= 5 + 3  # past the calibration
    offline = _offline(recording, stages, first, tmp_path)
    assert live.data.shape == offline.data.shape
    np.testing.assert_allclose(live.data, offline.data, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(live.onsets, offline.onsets)


def test_outlet_that_goes_away_and_returns_gives_a_gap_marker_recorded_in_hdf5(player, tmp_path):
    name, source_id = uuid.uuid4().hex, uuid.uuid4().hex
    first = player(name, source_id=source_id)
    source = LSLSource(name=name, timeout=15.0, max_jitter=0.05)
    pipeline = Pipeline(source, [], None)

    def received_more_than(n: int) -> None:
        deadline = time.monotonic() + 30
        while getattr(source, "n_received", 0) <= n and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart():
        received_more_than(50)
        stop_player(first)
        time.sleep(1.0)
        # looping, so that a reconnection slowed by a busy machine still finds samples to receive
        player(name, source_id=source_id, loop=True)
        received_more_than(source.n_received + 100)
        source.stop()

    thread = threading.Thread(target=restart)
    thread.start()
    from neurosig.io.hdf5 import HDF5Sink

    pipeline.sink = HDF5Sink(str(tmp_path / "gap.h5"))
    pipeline.run()
    thread.join()
    chunk, _ = read_hdf5(tmp_path / "gap.h5")
    gaps = [m for m in chunk.markers if m.description == GAP]
    assert len(gaps) == 1
    at = int(round(gaps[0].onset * SFREQ))
    assert chunk.data[0, at] < chunk.data[0, at - 1]  # the replay started again from the top
    # 1 s stopped, plus the restart and the source's own re-resolution (about 1 s without samples)
    assert 0.5 < gaps[0].duration < 6.0
    assert source.n_dropped == pytest.approx(gaps[0].duration * SFREQ, abs=1)
    assert source.n_reconnects == 1


def _outlet(name: str, n_channels: int = 2):
    from mne_lsl.lsl import StreamInfo, StreamOutlet

    sinfo = StreamInfo(name, "EEG", n_channels, SFREQ, "float32", name)
    sinfo.set_channel_names([f"ch{i}" for i in range(n_channels)])
    return StreamOutlet(sinfo)


def test_stream_that_comes_back_with_other_channels_is_refused():
    name = uuid.uuid4().hex
    outlets = [_outlet(name)]
    source = LSLSource(name=name, timeout=10.0)

    def push():
        outlets[0].wait_for_consumers(timeout=10)
        deadline = time.monotonic() + 20
        while getattr(source, "n_received", 0) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
            outlets[0].push_chunk(np.zeros((10, 2), np.float32))
        outlets.pop()._del()  # the amplifier restarts with a third channel
        outlets.append(_outlet(name, n_channels=3))

    thread = threading.Thread(target=push)
    thread.start()
    try:
        with pytest.raises(DataError, match=r"came back at 100 Hz with channels \['ch0', 'ch1', 'ch2'\]"):
            list(source)
    finally:
        thread.join()
        for outlet in outlets:
            outlet._del()


def test_clock_jump_is_reported_and_marked():
    from mne_lsl.lsl import local_clock

    name = uuid.uuid4().hex
    outlet = _outlet(name)
    source = LSLSource(name=name, timeout=0.5)
    received = []

    def push():
        outlet.wait_for_consumers(timeout=10)
        time.sleep(0.3)
        t = local_clock()
        for i in range(6):
            time.sleep(0.1)
            t += 0.1 if i != 3 else -5.0  # the sender's clock steps back by 5 s
            outlet.push_chunk(np.zeros((10, 2), np.float32), timestamp=t)

    iterator = iter(source)
    thread = threading.Thread(target=push)
    with pytest.warns(RuntimeWarning, match="clock jumped by -5"):
        thread.start()
        received.extend(iterator)
    thread.join()
    outlet._del()
    jumps = [m for c in received for m in c.markers if m.description == CLOCK_JUMP]
    assert len(jumps) == 1 and jumps[0].duration == pytest.approx(-5.1, abs=0.05)


def test_lsl_sink_publishes_signals_and_epoch_labels():
    from mne_lsl.lsl import StreamInlet

    from neurosig.core.chunks import EpochsChunk, EpochsInfo

    name = uuid.uuid4().hex
    info = SignalInfo(SFREQ, ("a", "b"))
    data = np.arange(20, dtype=np.float32).reshape(2, 10)
    sink = LSLSink(name)
    sink.open(None)
    sink.write(SignalChunk(data[:, :0], info))  # the outlet exists before the inlet looks
    inlet = StreamInlet(find_stream(name))
    inlet.open_stream(timeout=2)
    time.sleep(0.2)
    sink.write(SignalChunk(data, info))
    sink.write(SignalChunk(data[:, :1] + 100, info, 10))  # one sample goes out with push_sample
    got, deadline = [], time.monotonic() + 2
    while len(got) < 11 and time.monotonic() < deadline:
        values, _ = inlet.pull_chunk(timeout=0.2)
        got += [list(v) for v in values]
    np.testing.assert_array_equal(np.array(got).T, np.concatenate([data, data[:, :1] + 100], axis=1))
    assert inlet.get_sinfo().get_channel_names() == ["a", "b"]
    inlet.close_stream()
    assert sink.commit() == f"lsl:{name}"

    markers = LSLSink(name + "-m")
    markers.open(None)
    einfo = EpochsInfo(SFREQ, ("a",), ("eeg",), 0.0, 2)
    markers.write(EpochsChunk(np.zeros((0, 1, 2)), einfo, [], []))
    inlet = StreamInlet(find_stream(name + "-m"))
    inlet.open_stream(timeout=2)
    time.sleep(0.2)
    markers.write(EpochsChunk(np.zeros((2, 1, 2)), einfo, [1.0, 2.0], ["left", "right"]))
    got = []
    deadline = time.monotonic() + 2
    while len(got) < 2 and time.monotonic() < deadline:
        values, _ = inlet.pull_chunk(timeout=0.2)
        got += [v[0] for v in values]
    assert got == ["left", "right"]
    inlet.close_stream()
    markers.commit()


@pytest.mark.parametrize(
    "stages", [[], [{"type": "epochs", "events": ["T1", "T2"], "tmin": 0.0, "tmax": 0.5}]]
)
def test_live_outputs_carry_the_lsl_timestamp_of_their_input_sample(stages):
    """Signals keep each sample's stamp, an epoch gets its last sample's: not the time of the push."""
    from mne_lsl.lsl import StreamInfo, StreamInlet, StreamOutlet, local_clock

    name = uuid.uuid4().hex
    signal = _outlet(name)
    markers = StreamOutlet(StreamInfo(name + "-m", "Markers", 1, 0.0, "string", name + "-m"))
    base = local_clock() - 1000.0  # stamps far from now: an output stamped at its push stands out
    reader_ready, received, outlets = threading.Event(), [], [signal, markers]
    source = LSLSource(name=name, markers=name + "-m", timeout=10.0)
    pipeline = Pipeline(
        source,
        build_pipeline({"source": {"type": "lsl", "name": name}, "stages": stages}).stages,
        LSLSink(name + "-out"),
    )

    def push():
        signal.wait_for_consumers(timeout=10)
        markers.wait_for_consumers(timeout=10)
        for start in range(0, 400, 10):
            if start == 200:  # the output stream exists now (an epoch 100-150 made it): wait for its reader
                reader_ready.wait(timeout=20)
            if start in (100, 250):
                markers.push_sample(["T1" if start == 100 else "T2"], timestamp=base + start / SFREQ)
            ramp = np.arange(start, start + 10, dtype=np.float32)
            signal.push_chunk(np.stack([ramp, ramp], axis=1), timestamp=base + (start + 9) / SFREQ)
            time.sleep(0.02)

    def read():
        inlet = StreamInlet(find_stream(name + "-out", timeout=20))
        inlet.open_stream(timeout=5)
        reader_ready.set()
        deadline = time.monotonic() + 30
        last = "T2" if stages else 399.0  # what the output ends with
        while not (received and received[-1][0] == last) and time.monotonic() < deadline:
            values, stamps = inlet.pull_chunk(timeout=0.1)
            received.extend(zip([v[0] for v in values], stamps, strict=True))
        inlet._del()
        source.stop()

    pusher = threading.Thread(target=push)
    pipeline_thread = threading.Thread(target=pipeline.run)
    reader = threading.Thread(target=read)
    try:
        pusher.start()
        pipeline_thread.start()
        reader.start()
        for thread in (pusher, pipeline_thread, reader):
            thread.join(timeout=60)
    finally:
        for outlet in outlets:
            outlet._del()
    if stages:  # the epoch [250, 300] is marked T2 at its last sample's stamp
        assert received[-1] == ("T2", pytest.approx(base + 300 / SFREQ, abs=1e-3))
    else:  # every sample keeps its stamp: the ramp's value v was stamped base + v / SFREQ
        values, stamps = np.array(received).T
        assert len(values) >= 200  # those pushed after the reader joined, at least
        np.testing.assert_allclose(stamps, base + values / SFREQ, rtol=0, atol=1e-3)


def test_lsl_sink_refuses_event_chunks():
    from neurosig.core.chunks import EVENTS_DTYPE, EventChunk, EventInfo

    sink = LSLSink(uuid.uuid4().hex)
    sink.open(None)
    with pytest.raises(DataError, match="publishes signals, epochs"):
        sink.write(EventChunk(np.zeros(1, EVENTS_DTYPE), EventInfo((4, 4, 2))))


def test_tee_sink_needs_typed_entries():
    from neurosig.core.errors import ConfigError

    pipeline = Pipeline(ChunkSource([]), [], None)
    with pytest.raises(ConfigError, match="needs a type"):
        from neurosig.core.tee import TeeSink

        pipeline.sink = TeeSink([{"path": "x.h5"}])
        pipeline.run()
