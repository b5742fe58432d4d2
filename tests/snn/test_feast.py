"""FEAST: naive twin, orientation selectivity on moving edges, convergence signals, stage contract."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosig.core.chunks import EVENTS_DTYPE, EventChunk, EventInfo
from neurosig.core.errors import ConfigError, DataError
from neurosig.snn.feast import ConvergenceLog, Feast, FeastStage
from neurosig.snn.synthetic import moving_edges
from neurosig.testing import check_streaming_invariance

SETTINGS = {"n_neurons": 8, "radius": 3, "tau": 0.001, "eta": 0.01, "d_open": 0.02, "d_close": 0.002}


def naive_feast(events, size, weights, thresholds, radius, tau_us, eta, d_open, d_close):
    """Obviously correct twin of the kernel, written from the paper's description."""
    weights, thresholds = weights.copy(), thresholds.copy()
    last = {}
    out = []
    for e in events:
        t, cx, cy = float(e["t"]), int(e["x"]), int(e["y"])
        last[(cx, cy)] = t
        ctx = []
        for dx in range(-radius, radius + 1):
            for dy in range(-radius, radius + 1):
                px, py = cx + dx, cy + dy
                inside = 0 <= px < size[0] and 0 <= py < size[1] and (px, py) in last
                ctx.append(math.exp((last[(px, py)] - t) / tau_us) if inside else 0.0)
        ctx = np.array(ctx) / np.linalg.norm(ctx)
        d = weights @ ctx
        cand = [i for i in range(len(d)) if d[i] >= thresholds[i]]
        if not cand:
            thresholds -= d_open
            out.append(-1)
            continue
        k = max(cand, key=lambda i: d[i])
        w = weights[k] + eta * (ctx - weights[k])
        weights[k] = w / np.linalg.norm(w)
        thresholds[k] += d_close
        out.append(k)
    return np.array(out), weights, thresholds


def _random_events(rng, n, size):
    ev = np.zeros(n, dtype=EVENTS_DTYPE)
    ev["t"] = np.sort(rng.integers(0, 20_000, n))
    ev["x"], ev["y"] = rng.integers(0, size[0], n), rng.integers(0, size[1], n)
    ev["p"] = rng.integers(0, 2, n)
    return ev


def test_kernel_matches_naive_twin():
    rng = np.random.default_rng(0)
    size = (10, 8, 2)
    events = _random_events(rng, 400, size)
    feast = Feast(size, n_neurons=4, radius=2, tau=0.002, eta=0.05, d_open=0.05, d_close=0.01, seed=1)
    w0, th0 = feast.weights.copy(), feast.thresholds.copy()
    out = feast.process(events)
    features, weights, thresholds = naive_feast(events, size, w0, th0, 2, 2000.0, 0.05, 0.05, 0.01)
    np.testing.assert_array_equal(out.features, features)
    np.testing.assert_allclose(feast.weights, weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(feast.thresholds, thresholds, atol=1e-9)
    assert 0 < out.missed_rate < 1


def test_learns_one_feature_per_orientation_and_converges():
    rng = np.random.default_rng(0)
    train, _ = moving_edges(rng.integers(0, 4, 600).tolist(), size=24, seed=0)
    feast = Feast((24, 24, 2), seed=0, record_every=1000, **SETTINGS)
    trained = feast.process(train)
    test, labels = moving_edges([0, 1, 2, 3] * 10, size=24, seed=1)
    features = feast.process(test, learn=False).features
    wins = np.array([np.bincount(features[(labels == o) & (features >= 0)], minlength=8) for o in range(4)])
    dominant = wins.argmax(axis=1)
    assert len(set(dominant.tolist())) == 4, wins  # each orientation has its own main feature
    purity = wins.max(axis=0).sum() / wins.sum()  # share of wins from each feature's main orientation
    assert purity >= 0.8, wins
    assert np.mean(features < 0) < 0.1
    # convergence: from 0 the thresholds rise to a plateau and then stay in a narrow band (block means
    # over tenths of training barely move), while few events are missed
    history = trained.thresholds
    blocks = np.array([part.mean(axis=0) for part in np.array_split(history, 10)])
    assert blocks[-5:].mean() > 0.4
    assert blocks[-5:].std(axis=0).max() < 0.05, blocks
    assert np.mean(trained.features[-len(train) // 10 :] < 0) < 0.1


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 300), max_size=5), st.integers(0, 1000))
def test_stage_is_chunk_invariant(boundaries, seed):
    rng = np.random.default_rng(seed)
    chunk = EventChunk(_random_events(rng, 300, (12, 9)), EventInfo((12, 9, 2)))
    check_streaming_invariance(
        lambda: FeastStage(n_neurons=5, radius=2, eta=0.05, seed=seed), chunk, boundaries
    )


def test_stage_emits_feature_events():
    events, _ = moving_edges([0, 1], size=12, seed=0)
    out = list(FeastStage(n_neurons=4).process(EventChunk(events, EventInfo((12, 12, 2)))))[0]
    assert out.info.sensor_size == (12, 12, 4)
    assert out.events["p"].min() >= 0 and out.events["p"].max() < 4
    assert np.all(np.diff(out.events["t"]) >= 0)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 1500), max_size=6), st.integers(1, 40), st.integers(3, 12))
def test_convergence_log_is_chunk_invariant_exact_and_bounded(boundaries, record_every, max_points):
    """Thinned to at most max_points samples on a grid that does not depend on the chunking; the
    cumulative missed counts and the thresholds are those of the whole-stream run at every sample."""
    events, _ = moving_edges([0, 1, 2, 3], size=10, seed=3)
    events = events[:1500]
    whole = Feast((10, 10, 2), record_every=record_every, **SETTINGS).process(events)
    cuts = [0, *sorted(boundaries), len(events)]
    feast = Feast((10, 10, 2), record_every=record_every, **SETTINGS)
    log = ConvergenceLog(8, record_every, max_points)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        log.add(feast.process(events[a:b]))
    assert 0 < len(log.events) <= max_points and log.n_events == len(events)
    assert np.all(log.events % (record_every * log.stride) == 0)
    missed = np.cumsum(whole.features < 0)
    np.testing.assert_array_equal(log.missed, missed[log.events - 1])
    np.testing.assert_allclose(log.thresholds, whole.thresholds[log.events // record_every - 1])
    assert log.n_missed == missed[-1] and log.to_dict()["missed_rate"] == pytest.approx(whole.missed_rate)


def test_stage_reports_convergence_with_the_output(tmp_path):
    events, _ = moving_edges([0, 1, 2, 3] * 5, size=16, seed=0)
    stage = FeastStage(n_neurons=4, radius=2, tau=0.001, eta=0.01, report_dir=str(tmp_path / "feast"))
    assert stage.side_output() is None
    for a in range(0, len(events), 5000):
        list(stage.process(EventChunk(events[a : a + 5000], EventInfo((16, 16, 2)))))
    list(stage.flush())
    report = stage.side_output()
    assert report["n_events"] == len(events) and np.shape(report["weights"]) == (4, 25)
    assert len(report["thresholds"]) == len(report["events"]) > 0
    assert json.loads((tmp_path / "feast" / "feast_report.json").read_text()) == report
    assert (tmp_path / "feast" / "feast_report.png").stat().st_size > 20_000


def test_bad_input():
    feast = Feast((8, 8, 2))
    events = np.zeros(3, dtype=EVENTS_DTYPE)
    events["x"] = [1, 9, 2]
    with pytest.raises(DataError, match="outside"):
        feast.process(events)
    events["x"], events["t"] = 1, [5, 3, 7]
    with pytest.raises(DataError, match="sort"):
        feast.process(events)
    with pytest.raises(DataError, match="EVENTS_DTYPE"):
        feast.process(np.zeros((3, 4)))
    with pytest.raises(ConfigError):
        Feast((8, 8, 2), tau=0.0)
    with pytest.raises(ConfigError, match="n_neurons"):
        FeastStage(n_neurons=200)


def test_threshold_history_does_not_depend_on_chunking():
    events, _ = moving_edges([0, 1, 2], size=10, seed=2)
    whole = Feast((10, 10, 2), record_every=7).process(events)
    feast = Feast((10, 10, 2), record_every=7)
    parts = [feast.process(events[a:b]) for a, b in ((0, 33), (33, 101), (101, len(events)))]
    np.testing.assert_allclose(np.concatenate([p.thresholds for p in parts]), whole.thresholds)
    np.testing.assert_array_equal(np.concatenate([p.features for p in parts]), whole.features)
    assert len(whole.thresholds) == len(events) // 7
