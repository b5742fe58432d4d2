"""The event_train job end to end: data, cache, training, test, stream and NIR in one run."""

from __future__ import annotations

import json
from pathlib import Path

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


@pytest.mark.slow
def test_shipped_yaml_learns_the_directions(tmp_path):
    summary = _job(tmp_path).run()
    assert summary["test_accuracy"] > 0.6  # chance is 1/8
    assert summary["stream_agrees_with_offline"] == 1.0 and summary["nir_agrees_with_offline"] == 1.0
