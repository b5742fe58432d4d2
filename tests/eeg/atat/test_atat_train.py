"""The training harness and the atat_train job on real recordings."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from neurosig.core.config import build_job
from neurosig.core.errors import ConfigError
from neurosig.eeg.atat.checkpoint import predict
from neurosig.eeg.atat.train import TrainConfig, evaluate, fit

TINY = {"model": "atat", "size": "tiny", "epochs": 6, "samples_per_epoch": 2048, "val_samples": 256}


def test_tiny_training_lowers_rrmse_on_held_out_data(real_data, tmp_path):
    t0 = time.perf_counter()
    result = fit(real_data, TrainConfig(**TINY), checkpoint=tmp_path / "m.pt")
    assert time.perf_counter() - t0 < 120  # the budget for the tiny configuration
    noisy = evaluate(lambda x: x, real_data, max_epochs=200)
    cleaned = evaluate(lambda x: predict(result.model, x), real_data, max_epochs=200)
    # Held-out recordings (test split): lower time-domain error at every SNR level, much lower overall.
    before, after = np.array(noisy["rrmse_t"]), np.array(cleaned["rrmse_t"])
    assert np.all(after < before) and after.mean() < 0.7 * before.mean()
    assert result.history[-1]["val_loss"] < result.history[0]["val_loss"]
    assert (tmp_path / "m.pt").is_file()


def test_training_is_seeded(real_data):
    cfg = TrainConfig(**{**TINY, "epochs": 1, "samples_per_epoch": 256})
    a, b = fit(real_data, cfg).model, fit(real_data, cfg).model
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(pa, pb, msg=name)


def test_early_stopping_keeps_the_best_epoch(real_data):
    cfg = TrainConfig(**{**TINY, "epochs": 6, "samples_per_epoch": 256, "lr": 0.5, "patience": 1})
    result = fit(real_data, cfg)
    losses = [h["val_loss"] for h in result.history]
    assert result.best_epoch == 1 + int(np.argmin(losses))
    assert len(losses) <= result.best_epoch + 1


def test_job_from_yaml_writes_model_and_metrics(real_files, tmp_path):
    eeg, emg = real_files
    job = build_job(
        {
            "job": {
                "type": "atat_train",
                "eeg_files": [str(p) for p in eeg],
                "emg_files": [str(p) for p in emg],
                "cleaning": "threshold",
                "max_epochs_per_recording": 100,
                "size": "tiny",
                "epochs": 1,
                "samples_per_epoch": 256,
                "eval_epochs": 20,
                "out_dir": str(tmp_path / "out"),
            }
        }
    )
    summary = job.run()
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert saved["model"] == summary["model"] == "atat"
    assert set(saved["test"]) == {"noisy", "atat"} and len(saved["test"]["atat"]["cc"]) == 10
    assert (tmp_path / "out" / "model.pt").is_file()
    cc = saved["test"]["atat"]["cc"]
    assert f"-> {cc[0]:.3f}" in job.headline(summary) and f"-> {cc[-1]:.3f}" in job.headline(summary)


def test_unknown_loss_is_a_config_error(real_data):
    with pytest.raises(ConfigError, match="loss"):
        fit(real_data, TrainConfig(**{**TINY, "loss": "l1"}))


def test_relative_loss_trains(real_data):
    cfg = TrainConfig(**{**TINY, "epochs": 2, "samples_per_epoch": 512, "loss": "relative"})
    result = fit(real_data, cfg)
    noisy = evaluate(lambda x: x, real_data, max_epochs=100)
    cleaned = evaluate(lambda x: predict(result.model, x), real_data, max_epochs=100)
    assert np.mean(cleaned["rrmse_t"]) < np.mean(noisy["rrmse_t"])


def test_progress_is_a_bar_with_the_losses_not_printed_lines(real_data, capsys):
    cfg = TrainConfig(**{**TINY, "epochs": 2, "samples_per_epoch": 256})
    result = fit(real_data, cfg, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2/2" in captured.err and f"val_loss={result.history[-1]['val_loss']:.4f}" in captured.err
