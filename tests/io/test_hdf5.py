import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from _format_v1 import FOLDER as GOLDEN
from _format_v1 import META as GOLDEN_META
from _format_v1 import golden_chunks

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
)
from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.core.persist import partial_path
from neurosig.core.stage import RunMeta
from neurosig.io import hdf5
from neurosig.io.hdf5 import HDF5Sink, HDF5Source, atomic_h5, read_attrs, read_hdf5, write_provenance
from neurosig.testing import assert_chunks_close, split_chunk

META = RunMeta(neurosig_version="x", pipeline_yaml="name: a\n", source={"type": "test", "sha256": "00"})
RNG = np.random.default_rng(0)


def _events():
    ev = np.zeros(1000, EVENTS_DTYPE)
    ev["t"] = np.sort(RNG.integers(0, 10**6, 1000))
    ev["x"], ev["y"], ev["p"] = (
        RNG.integers(0, 640, 1000),
        RNG.integers(0, 480, 1000),
        RNG.integers(0, 2, 1000),
    )
    return EventChunk(ev, EventInfo((640, 480, 2)))


CHUNKS = {
    "signal": SignalChunk(
        RNG.standard_normal((3, 5000)),
        SignalInfo(100.0, ("a", "b", "c")),
        0,
        (Marker(1.0, 0.5, "x"), Marker(30.0, 0, "y")),
    ),
    "epochs": EpochsChunk(
        RNG.standard_normal((7, 2, 50)),
        EpochsInfo(100.0, ("a", "b"), ("eeg", "eeg"), -0.1, 50),
        np.arange(7.0),
        list("abcabca"),
    ),
    "events": _events(),
    "spikes": SpikeChunk((RNG.random((400, 5)) < 0.1).astype(np.uint8), SpikeInfo(0.001, 5)),
    "tokens": TokenChunk(
        RNG.integers(0, 256, (4, 30, 2, 3)), TokenInfo(("a", "b", "c", "d"), 1.0, 2, 3, 256)
    ),
}


def _write(path, chunks, meta=META, **kw):
    sink = HDF5Sink(str(path), **kw)
    sink.open(meta)
    for c in chunks:
        sink.write(c)
    return sink.commit()


@pytest.mark.parametrize("kind", sorted(CHUNKS))
def test_every_chunk_type_round_trips(tmp_path, kind):
    chunk = CHUNKS[kind]
    path = tmp_path / f"{kind}.h5"
    _write(path, split_chunk(chunk, [3, 17, 18]))
    source = HDF5Source(str(path), chunk_size=11)
    back = list(source)
    assert_chunks_close([chunk], back, rtol=0, atol=0)
    assert source.n_chunks == len(back)  # the progress bar's total
    whole, attrs = read_hdf5(path)
    assert_chunks_close([chunk], [whole], rtol=0, atol=0)
    assert (
        attrs["complete"] and attrs["source"] == META.source and attrs["pipeline_yaml"] == META.pipeline_yaml
    )


def test_channel_positions_survive_the_stages_and_a_round_trip(tmp_path):
    from neurosig.eeg.epochs import Epochs
    from neurosig.eeg.filters import Pick

    pos = [(0.07, 0.0, 0.04), None, (-0.07, 0.0, 0.04)]
    info = SignalInfo(100.0, ("C4", "EOG", "C3"), ("eeg", "eog", "eeg"), ch_pos=pos)
    signal = SignalChunk(RNG.standard_normal((3, 1000)), info, 0)
    picked = list(Pick(channels=["C3", "EOG"]).process(signal))[0]
    assert picked.info.ch_pos == (pos[2], None)
    epochs = concat_chunks([c for c in Epochs(length=1.0).process(picked) if c.n_epochs])
    assert epochs.info.ch_pos == picked.info.ch_pos
    for chunk in (picked, epochs):
        path = tmp_path / f"{chunk.info.kind}.h5"
        _write(path, split_chunk(chunk, [3]))
        assert HDF5Source(str(path)).info == chunk.info
        assert read_hdf5(path)[0].info.ch_pos == (pos[2], None)


def test_datasets_are_chunked_and_compressed(tmp_path):
    path = tmp_path / "s.h5"
    _write(path, [CHUNKS["signal"]])
    with h5py.File(path) as f:
        assert f["data"].compression == "gzip" and f["data"].chunks is not None


def test_identical_run_is_complete_other_run_needs_overwrite(tmp_path):
    path = tmp_path / "s.h5"
    _write(path, [CHUNKS["signal"]])
    assert HDF5Sink(str(path)).is_complete(META)
    other = META.model_copy(update={"pipeline_yaml": "name: b\n"})
    with pytest.raises(ConfigError, match="overwrite"):
        HDF5Sink(str(path)).is_complete(other)
    assert not HDF5Sink(str(path), overwrite=True).is_complete(other)


@pytest.mark.parametrize("content", [b"plain text", None])
def test_a_file_that_is_not_ours_is_never_replaced(tmp_path, content):
    path = tmp_path / "theirs.h5"
    if content is None:
        with h5py.File(path, "w") as f:
            f["x"] = [1]
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(DataError, match="not"):
        HDF5Sink(str(path), overwrite=True).is_complete(META)
    assert path.read_bytes() == before


def test_empty_stream_and_mixed_streams_are_refused(tmp_path):
    with pytest.raises(DataError, match="empty"):
        _write(tmp_path / "e.h5", [])
    assert sorted(tmp_path.iterdir()) == []
    with pytest.raises(DataError, match="one stream"):
        _write(tmp_path / "m.h5", [CHUNKS["signal"], CHUNKS["events"]])


def test_atomic_h5_renames_on_success_and_cleans_on_failure(tmp_path):
    good, bad = tmp_path / "good.h5", tmp_path / "bad.h5"
    with atomic_h5(good) as f:
        write_provenance(f, META)
        f["codes"] = np.arange(3)
    assert read_attrs(good)["complete"]
    with pytest.raises(RuntimeError), atomic_h5(bad) as f:
        write_provenance(f, META)
        raise RuntimeError("interrupted")
    assert sorted(tmp_path.iterdir()) == [good]


def test_source_refuses_an_incomplete_file(tmp_path):
    path = tmp_path / "half.h5"
    with h5py.File(path, "w") as f:
        write_provenance(f, META)
    with pytest.raises(FormatError, match="never completed"):
        list(HDF5Source(str(path)))


def test_killed_run_leaves_nothing_complete_and_rerun_completes(tmp_path):
    """SIGKILL a long run mid-way: only its partial file remains; the rerun writes NAME."""
    out = tmp_path / "run.h5"
    script = textwrap.dedent(
        f"""
        import sys
        from neurosig.core.config import build_pipeline
        source = {{"type": "simulate", "duration": {{DUR}}, "n_channels": 19, "chunk_duration": 0.5}}
        p = build_pipeline({{"source": source,
                             "stages": [{{"type": "bandpass", "l_freq": 1, "h_freq": 30}}],
                             "sink": {{"type": "hdf5", "path": r"{out}"}}}})
        print(p.run())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script.replace("{DUR}", "3600.0")], stdout=subprocess.PIPE)
    partial = partial_path(out, proc.pid)
    deadline = time.time() + 60
    while not partial.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial.exists() and not out.exists()
    done = subprocess.run(
        [sys.executable, "-c", script.replace("{DUR}", "5.0")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert read_attrs(out)["complete"] and not partial.exists()


def test_stage_side_outputs_are_stored_with_the_output(tmp_path):
    from neurosig.core.pipeline import Pipeline
    from neurosig.core.stage import ChunkSource, Stage
    from neurosig.io.hdf5 import read_reports

    class Count(Stage):
        name = "count_test"

        def reset(self):
            self.seen = 0

        def _process(self, chunk):
            self.seen += chunk.n_samples
            yield chunk

        def side_output(self):
            return {"samples": self.seen}

    chunk = CHUNKS["signal"]
    out = tmp_path / "r.h5"
    Pipeline(ChunkSource(split_chunk(chunk, [100])), [Count()], HDF5Sink(str(out))).run()
    assert read_reports(out) == {"0:count_test": {"samples": 5000}}


def _layout(path) -> dict:
    """Everything about a file's structure but its timestamps: datasets, dtypes, chunking, attributes."""
    out = {}
    with h5py.File(path) as f:
        out["/"] = sorted((k, v) for k, v in f.attrs.items() if k != "created")

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = (
                    str(obj.dtype),
                    h5py.check_string_dtype(obj.dtype),
                    obj.shape,
                    obj.maxshape,
                    obj.chunks,
                    obj.compression,
                    obj.compression_opts,
                    obj.shuffle,
                    sorted((k, int(v)) for k, v in obj.attrs.items()),
                )

        f.visititems(visit)
    return out


@pytest.mark.parametrize("kind", sorted(golden_chunks()))
def test_files_of_format_version_1_still_read_and_are_still_written_alike(tmp_path, kind):
    old = GOLDEN / f"{kind}.h5"
    chunk = golden_chunks()[kind]
    assert_chunks_close([chunk], list(HDF5Source(str(old), chunk_size=4)), rtol=0, atol=0)
    assert_chunks_close([chunk], [read_hdf5(old)[0]], rtol=0, atol=0)
    new = tmp_path / f"{kind}.h5"
    _write(new, split_chunk(chunk, [1, 2]), meta=GOLDEN_META)
    assert _layout(new) == _layout(old)


# libhdf5 loops forever reading a root attribute of this fuzzed event file (a global heap object that
# never advances its parser); found by tests/fuzz (seed 1, case 834).
HEAP_LOOP = Path(__file__).resolve().parents[1] / "fuzz" / "findings" / "hdf5_global_heap_loop.h5"


def test_a_file_that_hangs_libhdf5_is_a_format_error(tmp_path, monkeypatch):
    from neurosig.io.events import read_events

    copy = tmp_path / "damaged.h5"
    copy.write_bytes(HEAP_LOOP.read_bytes())
    monkeypatch.setattr(hdf5, "METADATA_TIMEOUT_S", 1.0)
    start = time.monotonic()
    with pytest.raises(FormatError, match="did not finish reading this file's metadata in 1 s") as err:
        read_attrs(copy)
    assert err.value.path == copy
    for read in (lambda: read_events(copy), lambda: list(HDF5Source(str(copy))), lambda: read_hdf5(copy)):
        with pytest.raises(FormatError, match="did not finish"):
            read()  # the verdict is cached: no second wait
    assert time.monotonic() - start < 30


def test_metadata_check_passes_honest_files_and_reports_a_dead_library(tmp_path, monkeypatch):
    path = tmp_path / "out.h5"
    _write(path, [_events()])
    hdf5.check_metadata(path)  # an honest file passes
    assert read_attrs(path)["complete"]

    def die(_path):
        os.abort()

    monkeypatch.setattr(hdf5, "_walk_metadata", die)
    other = tmp_path / "other.h5"
    _write(other, [_events()])
    with pytest.raises(FormatError, match="killed libhdf5 \\(SIGABRT\\)"):
        hdf5.check_metadata(other)


def test_a_stored_chunk_shorter_than_a_chunk_is_a_format_error(tmp_path):
    """libhdf5 pads a short unfiltered chunk with uninitialised memory and reports nothing (fuzz seed 2,
    case 1698: the filter pipeline was damaged, so a gzip chunk of 2,582 bytes reads as raw)."""
    from neurosig.io.events import iter_events, read_events

    damaged = Path(__file__).resolve().parents[1] / "fuzz" / "findings" / "hdf5_short_unfiltered_chunk.h5"
    for read in (
        lambda: read_events(damaged, strict=False),
        lambda: list(iter_events(damaged, strict=False, block_bytes=4096, n_events=7)),
        lambda: list(HDF5Source(str(damaged))),
    ):
        with pytest.raises(
            FormatError, match="chunk 0 holds 2582 bytes where an unfiltered chunk needs 851968"
        ):
            read()
    # an honest unfiltered file (written by h5py, not neurosig) passes the check
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("events", data=_events().events, chunks=(7,), maxshape=(None,))
        f["group"] = h5py.SoftLink("/nowhere")
    with h5py.File(path, "r") as f:
        assert hdf5.check_dataset(f, "events", path).shape == (len(_events().events),)
        with pytest.raises(FormatError, match="/group is missing"):
            hdf5.check_dataset(f, "group", path)
