import numpy as np

from neurosig.core.chunks import concat_chunks
from neurosig.events.filters import DenoiseStage, HotPixelStage
from neurosig.events.simulate import HOT, NOISE, SIGNAL, SimulatedEventSource
from neurosig.testing import run_stage


def _kept(source, stage):
    whole = concat_chunks(list(source)).events
    out = concat_chunks(run_stage(stage, list(source))).events

    def key(e):
        return e["t"] * 10**8 + e["x"].astype(np.int64) * 10**4 + e["y"].astype(np.int64) * 10 + e["p"]

    return np.isin(key(whole), key(out))


def test_stream_is_seeded_sorted_in_sensor_and_labelled():
    a, b = SimulatedEventSource(duration=0.5, seed=2), SimulatedEventSource(duration=0.5, seed=2)
    ea, eb = concat_chunks(list(a)).events, concat_chunks(list(b)).events
    assert np.array_equal(ea, eb) and len(a.truth) == len(ea)
    assert np.all(np.diff(ea["t"]) >= 0) and ea["t"].max() < 500_000
    assert ea["x"].max() < 128 and ea["y"].max() < 96 and set(np.unique(ea["p"])) == {0, 1}
    assert set(np.unique(a.truth)) == {SIGNAL, NOISE, HOT}
    assert len(list(a)) == a.n_chunks == 10


def test_truth_scores_the_event_filters():
    source = SimulatedEventSource(duration=1.0, seed=0)
    kept = _kept(source, DenoiseStage(filter_time=5000, neighbours=8))
    assert kept[source.truth == SIGNAL].mean() > 0.7 and kept[source.truth == NOISE].mean() < 0.1
    kept = _kept(source, HotPixelStage(calibration=200_000, max_rate=100.0))
    # a moving object that crosses a hot pixel loses those few events too
    assert kept[source.truth == HOT].mean() == 0 and kept[source.truth == SIGNAL].mean() > 0.99
