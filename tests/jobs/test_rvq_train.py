"""The rvq_train job on real recordings (tiny model, a few steps) and its configuration errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from neurosig.core.config import build_job
from neurosig.core.errors import ConfigError
from neurosig.eeg.rvq.store import decode_file
from neurosig.jobs.rvq_train import RVQTrainJob

pytestmark = pytest.mark.filterwarnings("ignore:codebook collapse")
ROOT = Path(__file__).resolve().parents[2]


def test_pipeline_file_builds_the_job():
    job = build_job(ROOT / "pipelines" / "rvq_train.yaml")
    assert isinstance(job, RVQTrainJob)
    assert job.preset == "small" and job.cleaning == "faster" and job.baseline
    assert job.max_seconds is None and job.steps == 2000  # the shipped model's run: every step
    # the preprocessing of pipelines/dataset.yaml, whose epochs the shipped tokenizer receives
    assert [s["type"] for s in job.preprocessing["stages"]] == ["notch", "bandpass", "atat", "resample"]
    dataset = yaml.safe_load((ROOT / "pipelines" / "dataset.yaml").read_text())
    clean = dataset["pipelines"][0]["stages"]
    assert clean[: len(job.preprocessing["stages"])] == job.preprocessing["stages"]


@pytest.mark.shared_data
def test_tiny_job_on_real_recordings(shared_file, tmp_path):
    train = str(shared_file("eeg/eegmmidb/S001/S001R01.edf"))
    held = str(shared_file("eeg/eegmmidb/S001/S001R02.edf"))
    job = RVQTrainJob(
        train_files=[train], held_out_files=[held], cleaning="none", preset="tiny", steps=15, batch_size=32,
        out_dir=str(tmp_path),
    )  # fmt: skip
    summary = job.run()
    assert set(summary["models"]) == {"rvq", "single"}
    rvq, single = summary["models"]["rvq"], summary["models"]["single"]
    assert rvq["held_out"]["bitrate"]["bits_per_second_per_channel"] == 80.0
    assert single["held_out"]["bitrate"]["bits_per_second_per_channel"] == 80.0
    assert len(rvq["held_out"]["nmse_by_levels"]) == 4 and rvq["train_steps"] == 15
    assert summary["data"]["held_out"] == [{"file": "S001R02.edf", "cleaning": {"method": "none"}}]
    assert json.loads((tmp_path / "metrics.json").read_text())["models"]["rvq"]["n_params"] == rvq["n_params"]
    assert (tmp_path / "reconstruction.png").read_bytes()[:4] == b"\x89PNG"
    headline = job.headline(summary)
    assert headline.startswith(f"held out: rvq PCC {rvq['held_out']['bands']['broadband']['pcc']:.3f}, ")
    assert "; single PCC " in headline and headline.endswith(f"details in {tmp_path / 'metrics.json'}")
    decoded = decode_file(tmp_path / "tokens.h5")
    assert decoded.data.shape[0] == 64 and decoded.info.sfreq == 200.0 and np.isfinite(decoded.data).all()
    assert len(list((tmp_path / "data").iterdir())) == 2  # the prepared recordings, kept for reruns


@pytest.mark.shared_data
def test_preprocessing_must_reach_the_model_rate(shared_file, tmp_path):
    path = str(shared_file("eeg/eegmmidb/S001/S001R01.edf"))
    no_resample = {"source": {"type": "file", "path": "", "picks": "eeg"}, "stages": []}
    job = RVQTrainJob(
        train_files=[path], held_out_files=[path], preprocessing=no_resample, cleaning="none", preset="tiny",
        out_dir=str(tmp_path),
    )  # fmt: skip
    with pytest.raises(ConfigError, match="160.0\\] Hz but the tokenizer works at 200 Hz"):
        job.run()


def test_unmatched_pattern(tmp_path):
    job = RVQTrainJob(train_files=[str(tmp_path / "*.edf")], out_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="matches no file"):
        job.run()
