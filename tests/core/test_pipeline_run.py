import numpy as np
import pytest

from neurosig.core.chunks import SignalChunk
from neurosig.core.errors import DataError
from neurosig.core.pipeline import Pipeline
from neurosig.core.stage import Stage
from neurosig.eeg.filters import BandPass
from neurosig.eeg.simulate import SimulatedEEGSource
from neurosig.io.hdf5 import HDF5Sink


class Explode(Stage):
    name = "explode_test"
    accepts = (SignalChunk,)

    def __init__(self, after: int = 3):
        self.after = after

    def reset(self):
        self._seen = 0

    def _process(self, chunk):
        self._seen += 1
        if self._seen > self.after:
            raise DataError("boom")
        yield chunk


def test_run_without_sink_counts_chunks_and_seconds():
    source = SimulatedEEGSource(duration=5.0, n_channels=19, chunk_duration=0.5)
    summary = Pipeline(source, [BandPass(1.0, 30.0)]).run()
    assert summary.chunks_in == summary.chunks_out == 10
    assert summary.stream_seconds == pytest.approx(5.0)
    assert set(summary.stage_seconds) == {"source", "0:bandpass"}
    assert "10 chunks in" in str(summary)


def test_iter_chunks_matches_whole_stream_filtering():
    source = SimulatedEEGSource(duration=3.0, n_channels=19, chunk_duration=0.25)
    out = np.concatenate([c.data for c in Pipeline(source, [BandPass(1.0, 30.0)]).iter_chunks()], axis=1)
    assert out.shape == (19, 768)
    assert np.isfinite(out).all()


def test_failure_mid_run_leaves_no_output(tmp_path):
    target = tmp_path / "x.h5"
    source = SimulatedEEGSource(duration=5.0, n_channels=19, chunk_duration=0.5)
    with pytest.raises(DataError, match="boom"):
        Pipeline(source, [Explode(3)], HDF5Sink(str(target))).run()
    assert list(tmp_path.iterdir()) == []  # no output, no partial file, no lock


def test_a_run_without_progress_makes_no_progress_bar(monkeypatch):
    # even a disabled tqdm takes tqdm's lock, shared across fork: a forked writer killed while holding
    # it hung the fifty-trial kill test's parent at its next run
    from neurosig.core import pipeline as module

    made = []
    monkeypatch.setattr(module, "tqdm", lambda **kwargs: made.append(kwargs) or _NullBar())
    source = SimulatedEEGSource(duration=2.0, n_channels=19, chunk_duration=0.5)
    Pipeline(source, [BandPass(1.0, 40.0)]).run()
    assert made == []
    Pipeline(source, [BandPass(1.0, 40.0)]).run(progress=True)
    assert len(made) == 1


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass
