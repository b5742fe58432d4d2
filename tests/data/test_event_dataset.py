"""Labelled event datasets, their splits, the representation cache and the Dataset reading it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurosig.core.errors import ConfigError, DataError
from neurosig.data.event_cache import CachedEventDataset, EventAugment, build_cache, cache_key
from neurosig.data.event_dataset import labelled_files, simulated_motion, split_by_group, tonic_recordings
from neurosig.events.preprocess import EventPreprocessing
from neurosig.events.simulate import motion_sample
from neurosig.io.events import write_events

PRE = {
    "transforms": [{"type": "denoise", "filter_time": 5000}, {"type": "downsample", "spatial_factor": 2}],
    "representation": {"type": "spikes", "dt": 5000},
    "n_steps": 20,
}


def _pre(**changes) -> EventPreprocessing:
    return EventPreprocessing.from_config((32, 32, 2), **{**PRE, **changes})


def test_simulated_dataset_is_deterministic_and_labelled_by_direction():
    a, b = simulated_motion(2, seed=3), simulated_motion(2, seed=3)
    assert [r.label for r in a] == [0, 1, 2, 3, 4, 5, 6, 7] * 2
    for ra, rb in zip(a, b, strict=True):
        ea, size = ra.load()
        np.testing.assert_array_equal(ea, rb.load()[0])
        assert size == (32, 32, 2) and np.all(np.diff(ea["t"]) >= 0)
    assert not np.array_equal(a[0].load()[0], simulated_motion(2, seed=4)[0].load()[0])


def test_simulated_object_moves_in_its_direction():
    for direction, (dx, dy) in {0: (1, 0), 2: (0, 1), 4: (-1, 0), 6: (0, -1)}.items():
        ev = motion_sample(direction, seed=1, noise_rate=0.0, n_hot_pixels=0, duration=0.05)
        on = ev[ev["p"] == 1]
        early, late = on[: len(on) // 4], on[-len(on) // 4 :]
        shift = np.array([late["x"].mean() - early["x"].mean(), late["y"].mean() - early["y"].mean()])
        assert shift @ np.array([dx, dy]) > 2  # pixels along the direction


def test_bad_simulated_parameters_name_the_function():
    with pytest.raises(ConfigError, match="motion_sample"):
        simulated_motion(1, colour="red")


def _write(path, seed, size=(32, 32, 2)):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_events(path, motion_sample(seed % 8, seed, width=size[0], height=size[1]), sensor_size=size)
    return path


def test_folder_per_class(tmp_path):
    for k, cls in enumerate(["left", "right"]):
        for i in range(3):
            _write(tmp_path / cls / f"r{i}.h5", 3 * k + i)
    recs, classes = labelled_files(tmp_path)
    assert classes == ["left", "right"] and [r.label for r in recs] == [0, 0, 0, 1, 1, 1]
    events, size = recs[4].load()
    assert size == (32, 32, 2) and len(events) > 0


def test_label_files_csv_and_json_with_groups(tmp_path):
    for i in range(4):
        _write(tmp_path / f"f{i}.h5", i)
    (tmp_path / "labels.csv").write_text("file,label,group\nf0.h5,a,u1\nf1.h5,b,u1\nf2.h5,a,u2\nf3.h5,b,u2\n")
    recs, classes = labelled_files(tmp_path, tmp_path / "labels.csv")
    assert classes == ["a", "b"] and [r.group for r in recs] == ["u1", "u1", "u2", "u2"]
    (tmp_path / "labels.json").write_text(json.dumps({"f0.h5": "x", "f3.h5": "y"}))
    recs, classes = labelled_files(tmp_path, tmp_path / "labels.json")
    assert [r.label for r in recs] == [0, 1] and recs[1].name.endswith("f3.h5")


def test_unlabelled_files_are_an_error(tmp_path):
    _write(tmp_path / "a" / "r0.h5", 0)
    _write(tmp_path / "loose.h5", 1)
    with pytest.raises(DataError, match="no label.*loose.h5"):
        labelled_files(tmp_path)


def test_label_file_naming_missing_files_is_an_error(tmp_path):
    _write(tmp_path / "f0.h5", 0)
    (tmp_path / "labels.csv").write_text("file,label\nf0.h5,a\ngone.h5,b\n")
    with pytest.raises(DataError, match="gone.h5"):
        labelled_files(tmp_path, tmp_path / "labels.csv")


def test_mixed_sensor_sizes_are_an_error(tmp_path):
    _write(tmp_path / "a" / "r0.h5", 0)
    _write(tmp_path / "b" / "r1.h5", 1, size=(40, 32, 2))
    recs, _ = labelled_files(tmp_path)
    with pytest.raises(DataError, match="mixed sensor sizes.*r1.h5"):
        build_cache(recs, _pre(), tmp_path / "cache")


def test_tonic_dataset_offline_error(tmp_path):
    pytest.importorskip("tonic")
    with pytest.raises(DataError, match="does not download"):
        tonic_recordings("nmnist", tmp_path, train=False)


def test_split_keeps_groups_apart_and_covers_everything(tmp_path):
    recs = simulated_motion(10, seed=0)
    train, val, test = split_by_group(recs, [0.6, 0.2, 0.2], seed=1)
    assert sorted(train + val + test) == list(range(len(recs)))
    assert len(test) == 16 and {recs[i].label for i in test} == set(range(8))
    for i in range(4):
        _write(tmp_path / f"f{i}.h5", i)
    rows = "".join(f"f{i}.h5,{'ab'[i % 2]},user{i // 2}\n" for i in range(4))
    (tmp_path / "labels.csv").write_text("file,label,group\n" + rows)
    recs, _ = labelled_files(tmp_path, tmp_path / "labels.csv")
    parts = split_by_group(recs, [0.5, 0.5], seed=0)
    groups = [{recs[i].group for i in part} for part in parts]
    assert not groups[0] & groups[1]


def test_cache_is_reused_and_invalidated_by_a_config_change(tmp_path):
    recs = simulated_motion(2, seed=0)
    path = build_cache(recs, _pre(), tmp_path)
    stamp = path.stat().st_mtime_ns
    assert build_cache(recs, _pre(), tmp_path) == path and path.stat().st_mtime_ns == stamp  # reused
    changed = build_cache(recs, _pre(representation={"type": "spikes", "dt": 4000}), tmp_path)
    assert changed != path and changed.is_file()
    other_data = build_cache(simulated_motion(2, seed=1), _pre(), tmp_path)
    assert other_data not in (path, changed)
    assert cache_key(recs, _pre()) != cache_key(recs[::-1], _pre())
    ds = CachedEventDataset(path)
    pre = _pre()
    for i in (0, 5):  # the stored representation is the preprocessing's output
        x, y = ds[i]
        np.testing.assert_array_equal(x, pre(recs[i].load()[0]).astype(np.float32))
        assert y == recs[i].label


def test_augmentations_act_on_events_and_are_reproducible(tmp_path):
    recs = simulated_motion(1, seed=0)
    path = build_cache(recs, _pre(), tmp_path)
    plain = CachedEventDataset(path)
    aug = CachedEventDataset(path, augment=EventAugment(max_shift=2, time_jitter=300.0, drop=0.2), seed=5)
    again = CachedEventDataset(path, augment=EventAugment(max_shift=2, time_jitter=300.0, drop=0.2), seed=5)
    assert not np.array_equal(aug[3][0], plain[3][0])
    np.testing.assert_array_equal(aug[3][0], again[3][0])
    aug.set_epoch(1)
    assert not np.array_equal(aug[3][0], again[3][0])
    events = plain.events(3)
    rng = np.random.default_rng(0)
    out = EventAugment(drop=0.5)(events, (16, 16, 2), rng)
    assert 0 < len(out) < len(events) and np.all(np.diff(out["t"]) >= 0)
    flipped = EventAugment(flip_x=1.0)(events, (16, 16, 2), rng)
    np.testing.assert_array_equal(flipped["x"], 15 - events["x"])
    with pytest.raises(ConfigError, match="drop"):
        EventAugment(drop=1.0)


def test_loader_with_workers_gives_batches(tmp_path):
    path = build_cache(simulated_motion(2, seed=0), _pre(), tmp_path)
    ds = CachedEventDataset(path, indices=[0, 1, 2, 3, 4])
    batches = list(ds.loader(batch_size=2, workers=1))
    assert [tuple(b[0].shape) for b in batches] == [(2, 20, 512), (2, 20, 512), (1, 20, 512)]
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), ds.labels)
    np.testing.assert_array_equal(batches[1][0][1].numpy(), ds[3][0])
    batch = ds.__getitems__([3, 1, 3])  # one HDF5 read, in the order asked, repeats kept
    for (x, y), i in zip(batch, [3, 1, 3], strict=True):
        np.testing.assert_array_equal(x, ds[i][0])
        assert y == ds[i][1]


def test_preprocessing_config_errors():
    with pytest.raises(ConfigError, match="Did you mean 'denoise'"):
        _pre(transforms=[{"type": "denoize"}])
    with pytest.raises(ConfigError, match="downsample"):
        _pre(transforms=[{"type": "downsample", "factor": 2}])
    with pytest.raises(ConfigError, match="representation"):
        _pre(representation={"type": "image"})
