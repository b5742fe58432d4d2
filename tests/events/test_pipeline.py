"""A YAML pipeline over the real EVT2 sample: file source in chunks → filters → frames → HDF5 equals the
functions applied to the whole recording."""

from __future__ import annotations

import numpy as np
import pytest
from _event_helpers import EVT2_SIZE

from neurosig.core.config import build_pipeline
from neurosig.kernels.event_filters import denoise, refractory_period
from neurosig.kernels.event_repr import to_frame


def test_yaml_pipeline_in_chunks_equals_whole_recording(shared_file, evt2_events, tmp_path):
    pytest.importorskip("neurosig.io.events.source")
    hdf5 = pytest.importorskip("neurosig.io.hdf5")
    path = shared_file("events/expelliarmus_evt2_sample.raw")
    out = tmp_path / "frames.h5"
    config = {
        "name": "events-frames",
        "source": {"type": "events", "path": str(path), "n_events": 60_000},
        "stages": [
            {"type": "denoise", "filter_time": 5_000, "neighbours": 8},
            {"type": "refractory", "period": 500},
            {"type": "to_frames", "time_window": 5_000},
        ],
        "sink": {"type": "hdf5", "path": str(out)},
    }
    summary = build_pipeline(config).run()
    assert summary.chunks_in > 5  # really streamed in pieces
    chunk, attrs = hdf5.read_hdf5(out)
    kept = refractory_period(denoise(evt2_events, EVT2_SIZE, 5_000, 8), EVT2_SIZE, 500)
    want = to_frame(kept, EVT2_SIZE, time_window=5_000)
    np.testing.assert_array_equal(chunk.data.reshape(want.shape), want)
    assert chunk.info.dt == pytest.approx(5e-3)
