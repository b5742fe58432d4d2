"""The event_train job end to end: data, cache, training, test, stream and NIR in one run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from neurosig.core.config import build_job, load_config
from neurosig.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _job(tmp_path, **overrides):
    sets = [f"job.output_dir={tmp_path / 'out'}", f"job.cache_dir={tmp_path / 'cache'}"]
    sets += [f"job.{k}={json.dumps(v)}" for k, v in overrides.items()]
    return build_job(load_config(REPO / "pipelines" / "event_train.yaml", sets))


def test_tiny_run_trains_evaluates_streams_and_exports(tmp_path):
    tiny = {
        "dataset": {"type": "simulated", "n_per_class": 4},
        "epochs": 1,
        "n_hidden": 8,
        "val_fraction": 0.25,
    }
    summary = _job(tmp_path, **tiny, test_fraction=0.25).run()
    out = tmp_path / "out"
    for name in (
        "model.pt",
        "best.pt",
        "last.pt",
        "metrics.jsonl",
        "training.png",
        "confusion.png",
        "model.nir",
    ):
        assert (out / name).is_file(), name
    assert (summary["n_train"], summary["n_val"], summary["n_test"]) == (16, 8, 8)
    assert summary["stream_agrees_with_offline"] == 1.0
    assert summary["nir_agrees_with_offline"] == 1.0
    assert json.loads((out / "summary.json").read_text())["test_accuracy"] == summary["test_accuracy"]
    cached = list((tmp_path / "cache").glob("*.h5"))
    _job(tmp_path, **tiny, test_fraction=0.25).run()  # a rerun reuses the cache
    assert list((tmp_path / "cache").glob("*.h5")) == cached


def test_bad_configs_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="dataset.type"):
        _job(tmp_path, dataset={"type": "simulatd"}).run()
    with pytest.raises(ConfigError, match="binary"):
        _job(tmp_path, representation={"type": "voxel_grid"}).run()
    with pytest.raises(ConfigError, match="neuron"):
        _job(tmp_path, neuron="izhikevich")
    with pytest.raises(ConfigError, match="model.type"):
        _job(tmp_path, model={"type": "recurrent"}).run()
    with pytest.raises(ConfigError, match="channel"):
        _job(tmp_path, model={"type": "conv", "chanels": [4]}).run()


def test_conv_model_trains_streams_and_is_not_exported(tmp_path):
    summary = _job(
        tmp_path,
        dataset={"type": "simulated", "n_per_class": 4, "width": 16, "height": 16},
        transforms=[],
        model={"type": "conv", "channels": [4], "conv_kernel": 3, "pool": 2},
        epochs=1,
        n_hidden=8,
        val_fraction=0.25,
        test_fraction=0.25,
    ).run()
    assert (summary["n_train"], summary["n_val"], summary["n_test"]) == (16, 8, 8)
    assert summary["stream_agrees_with_offline"] == 1.0
    assert summary["nir"].startswith("not exported") and not (tmp_path / "out" / "model.nir").exists()


@pytest.mark.slow
def test_shipped_yaml_learns_the_directions(tmp_path):
    summary = _job(tmp_path).run()
    assert summary["test_accuracy"] > 0.6  # chance is 1/8
    assert summary["stream_agrees_with_offline"] == 1.0 and summary["nir_agrees_with_offline"] == 1.0


def _nmnist_label_file(sample: Path, folder: Path, n_per_class: int) -> Path:
    """A label CSV of the real N-MNIST ``.bin`` sample and variants of it, in two classes.

    ``as_recorded``: the file itself, then copies that drop a random 20 % of its events;
    ``mirrored``: the same with x mirrored. All are (34, 34, 2); the variants are HDF5 files.
    """
    from neurosig.io.events import read_events, write_events

    chunk = read_events(sample)
    width = chunk.info.sensor_size[0]
    shutil.copy(sample, folder / sample.name)
    rows = [f"{sample.name},as_recorded"]
    rng = np.random.default_rng(0)
    for k in range(2 * n_per_class - 1):
        events = chunk.events[rng.random(len(chunk.events)) >= 0.2]
        label = "mirrored" if k % 2 == 0 else "as_recorded"
        if label == "mirrored":
            events["x"] = width - 1 - events["x"]
        write_events(folder / f"variant{k}.h5", events, sensor_size=chunk.info.sensor_size)
        rows.append(f"variant{k}.h5,{label}")
    (folder / "labels.csv").write_text("file,label\n" + "\n".join(rows) + "\n")
    return folder / "labels.csv"


def test_nmnist_sample_trains_end_to_end_from_a_label_file(tmp_path, shared_file):
    """The real N-MNIST reader, cache, training, test, stream and NIR on a tiny model (a smoke run)."""
    labels = _nmnist_label_file(shared_file("spikes/tonic_sample_nmnist.bin"), tmp_path, 4)
    dataset = {"type": "files", "root": str(tmp_path), "labels": str(labels)}
    summary = _job(
        tmp_path,
        dataset=dataset,
        transforms=[{"type": "downsample", "spatial_factor": 2}],
        representation={"type": "spikes", "dt": 20000},
        n_steps=16,
        augment=None,
        epochs=1,
        n_hidden=8,
        val_fraction=0.25,
        test_fraction=0.25,
    ).run()
    assert summary["classes"] == ["as_recorded", "mirrored"]
    assert summary["sensor_size"] == [34, 34, 2] and summary["n_inputs"] == 17 * 17 * 2
    assert (summary["n_train"], summary["n_val"], summary["n_test"]) == (4, 2, 2)
    assert summary["stream_agrees_with_offline"] == 1.0
    assert summary["nir_agrees_with_offline"] == 1.0
