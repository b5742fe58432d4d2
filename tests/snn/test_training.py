"""Training: the synthetic task only delays solve, SHD-format reading, checkpoints, the YAML job."""

from __future__ import annotations

import datetime
import json
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from neurosig.core.config import build_job, load_config
from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.core.persist import save_checkpoint
from neurosig.data.shd import SHDReader, make_delay_task, split_indices, write_shd
from neurosig.jobs.snn_delays import DelayTrainingJob
from neurosig.snn.models import DelaySNN
from neurosig.snn.train import evaluate, load_checkpoint

PIPELINE = Path(__file__).resolve().parents[2] / "pipelines" / "snn_delays.yaml"


def _job(tmp_path: Path, delays: bool, n_hidden: int) -> DelayTrainingJob:
    config = load_config(PIPELINE)
    params = {**config.job.params, "output_dir": str(tmp_path / f"delays_{delays}")}
    params.update(delays=delays, n_hidden=n_hidden)
    return DelayTrainingJob(**params)


def test_delay_task_is_solved_by_delays_only(tmp_path):
    with_delays = _job(tmp_path, True, n_hidden=16).run()
    without = _job(tmp_path, False, n_hidden=32).run()  # twice the neurons: at least the same budget
    assert without["n_parameters"] >= with_delays["n_parameters"]
    assert with_delays["test_accuracy_rounded_delays"] >= 0.95, with_delays
    assert with_delays["test_accuracy"] >= 0.95, with_delays
    assert without["test_accuracy"] <= 0.60, without
    lines = (tmp_path / "delays_True" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 10 and {"val_accuracy", "train_loss", "sigma"} <= set(json.loads(lines[0]))
    summary = json.loads((tmp_path / "delays_True" / "summary.json").read_text())
    assert summary["n_train"] + summary["n_val"] + summary["n_test"] == 800
    figure = tmp_path / "delays_True" / "training.png"  # learning curves and the learnt delays
    assert summary["figure"] == str(figure) and figure.read_bytes()[:4] == b"\x89PNG"
    assert figure.stat().st_size > 20_000
    headline = _job(tmp_path, True, n_hidden=16).headline(with_delays)
    assert headline.startswith(f"test accuracy {100 * with_delays['test_accuracy']:.1f} % (")
    assert f"best_epoch {summary['best_epoch']} of 0-9" in headline


def test_checkpoint_reloads_the_selected_model(tmp_path):
    job = _job(tmp_path, True, n_hidden=8)
    job.epochs = 2
    summary = job.run()
    model, extra = load_checkpoint(summary["checkpoint"])
    assert extra["epoch"] == summary["best_epoch"]
    reader = SHDReader(tmp_path / "delays_True" / "synthetic_delay_task.h5", n_bins=32)
    val_idx = split_indices(len(reader), [0.7, 0.1, 0.2], seed=0)[1]
    again = evaluate(model, reader.batches(val_idx, 50), rounded=True)
    assert again["accuracy"] == pytest.approx(summary["val_accuracy"])


def test_bad_checkpoints_are_format_errors(tmp_path):
    pickled = tmp_path / "pickled.pt"
    torch.save({"config": datetime.date(2020, 1, 1)}, pickled)  # an object weights_only refuses
    with pytest.raises(FormatError, match="pickled.pt: refused"):
        load_checkpoint(pickled)
    model = DelaySNN(n_inputs=4, n_hidden=3, n_outputs=2)
    save_checkpoint(tmp_path / "other.pt", "denoiser", model.config, model.state_dict())
    with pytest.raises(FormatError, match="other.pt: a checkpoint of a 'denoiser' model"):
        load_checkpoint(tmp_path / "other.pt")
    save_checkpoint(tmp_path / "wide.pt", "snn-delay", {**model.config, "n_hidden": 5}, model.state_dict())
    with pytest.raises(FormatError, match="wide.pt: the saved config and weights do not make"):
        load_checkpoint(tmp_path / "wide.pt")


def test_yaml_job_builds_and_rejects_bad_parameters():
    job = build_job(PIPELINE, overrides=["job.epochs=1"])
    assert isinstance(job, DelayTrainingJob) and job.epochs == 1
    with pytest.raises(ConfigError, match="epochs"):
        build_job(PIPELINE, overrides=["job.epochs=0"])
    with pytest.raises(ConfigError, match="Did you mean"):
        build_job(PIPELINE, overrides=["job.epoch=3"])


def test_reader_bins_spikes_and_groups_channels(tmp_path):
    times = [np.array([0.001, 0.011, 0.012, 0.5]), np.array([])]
    units = [np.array([0, 3, 3, 9]), np.array([], dtype=int)]
    path = write_shd(tmp_path / "tiny.h5", times, units, np.array([1, 0]))
    with SHDReader(path, dt=0.01, n_bins=10, n_units=10, group=5, binary=False) as reader:
        sample = reader.sample(0)
        assert sample.shape == (10, 2)
        assert sample[0, 0] == 1 and sample[1, 0] == 2 and sample.sum() == 3  # t = 0.5 s is dropped
        assert reader.sample(1).sum() == 0
    with SHDReader(path, dt=0.01, n_bins=10, n_units=10, group=5) as reader:
        assert reader.sample(0)[1, 0] == 1  # binary clips counts


def test_reader_events_equal_the_binary_dense_sample(tmp_path):
    rng = np.random.default_rng(0)
    times = [np.sort(rng.uniform(-0.01, 0.3, 200)), np.array([])]
    units = [rng.integers(0, 12, 200), np.array([], dtype=int)]
    path = write_shd(tmp_path / "events.h5", times, units, np.array([1, 0]))
    with SHDReader(path, dt=0.01, n_bins=25, n_units=12, group=3, binary=False) as reader:
        steps, channels = reader.sample_events(0)
        dense = np.zeros((25, 4))
        dense[steps, channels] = 1
        np.testing.assert_array_equal(dense, np.minimum(reader.sample(0), 1))
        assert len(steps) == int(dense.sum())  # one event per bin and channel
        assert np.all(np.diff(steps * 4 + channels) > 0)  # in order of step, then channel
        assert [len(a) for a in reader.sample_events(1)] == [0, 0]


def test_reader_memory_is_bounded_by_the_batch(tmp_path):
    path = make_delay_task(tmp_path / "big.h5", n_samples=1000, n_channels=40, span=60, n_bins=400)
    with SHDReader(path, n_bins=400) as reader:
        batch_bytes = 16 * 400 * reader.n_channels * 4
        whole_dataset = len(reader) * 400 * reader.n_channels * 4
        tracemalloc.start()
        for x, _ in reader.batches(batch_size=16):
            assert x.shape[1] <= 16
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 6 * batch_bytes < whole_dataset / 10, (peak, batch_bytes, whole_dataset)


def test_reader_bad_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        SHDReader(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(FormatError, match="not an HDF5"):
        SHDReader(tmp_path / "text.h5")
    with h5py.File(tmp_path / "nolabels.h5", "w") as f:
        f.create_dataset("spikes/times", data=np.zeros(2))
    with pytest.raises(FormatError, match="labels"):
        SHDReader(tmp_path / "nolabels.h5")
    path = write_shd(tmp_path / "u.h5", [np.array([0.0])], [np.array([12])], np.array([0]))
    with pytest.raises(FormatError, match="outside"), SHDReader(path, n_units=10) as reader:
        reader.sample(0)


def test_split_is_disjoint_and_complete():
    parts = split_indices(101, [0.7, 0.1, 0.2], seed=3)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(101)) and len(parts[1]) == 10


def test_training_batches_are_checked():
    model = DelaySNN(4, 3, 2, n_layers=1, kernel_size=3)
    with pytest.raises(DataError, match="batch"):
        evaluate(model, [(torch.zeros(5, 4), torch.zeros(5))])
    with pytest.raises(DataError, match="binary"):
        model(torch.full((5, 2, 4), 2.0))
    with pytest.raises(DataError, match="shape"):
        model(torch.zeros(5, 2, 7))


@pytest.mark.parametrize("neuron", ["lif", "plif", "alif"])
@pytest.mark.parametrize("delays", [True, False])
def test_networks_train_end_to_end(neuron, delays):
    model = DelaySNN(6, 8, 3, n_layers=2, kernel_size=5, delays=delays, neuron=neuron, tau=2.0, seed=1)
    x = (torch.rand(20, 4, 6) < 0.3).float()
    scores = model(x)
    assert scores.shape == (4, 3)
    torch.nn.functional.cross_entropy(scores, torch.tensor([0, 1, 2, 0])).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_job_with_separate_test_file_keeps_it_out_of_training(tmp_path):
    train = make_delay_task(tmp_path / "train.h5", n_samples=120, seed=1)
    test = make_delay_task(tmp_path / "test.h5", n_samples=40, seed=1)  # same class offsets (same seed)
    config = load_config(PIPELINE)
    params = {**config.job.params, "train": str(train), "test": str(test), "output_dir": str(tmp_path / "o")}
    params.update(epochs=1, n_hidden=4)
    summary = DelayTrainingJob(**params).run()
    assert summary["n_test"] == 40 and summary["n_train"] + summary["n_val"] == 120
    assert summary["n_val"] == 12


def test_progress_bar_shows_loss_and_validation_accuracy(tmp_path, capsys):
    job = _job(tmp_path, True, n_hidden=8)
    job.epochs = 1
    summary = job.run(progress=True)
    err = capsys.readouterr().err
    assert "1/1" in err and f"val_acc={summary['val_accuracy']:.3f}" in err and "loss=" in err
