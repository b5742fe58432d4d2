"""PhysioNet eegmmidb via MNE's loader, offline, on the shared S001 files; the whole evaluation on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from neurosig.core.config import build_job
from neurosig.core.errors import ConfigError, DataError
from neurosig.data.eegbci import eegbci_file, load_eegbci

RUNS = (4, 8, 12)


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def eegbci_root(shared_file, tmp_path_factory) -> Path:
    """A folder laid out as MNE keeps eegmmidb, with links to the shared S001 imagery runs."""
    root = tmp_path_factory.mktemp("eegbci")
    for run in RUNS:
        target = eegbci_file(root, 1, run)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(shared_file(f"eeg/eegmmidb/S001/S001R{run:02d}.edf"))
    return root


@pytest.mark.shared_data
def test_s001_left_right_imagery_loads_offline(eegbci_root):
    data = load_eegbci([1], path=str(eegbci_root))
    assert data.X.shape == (45, 64, 640)  # 15 cues per run, 4 s at 160 Hz
    assert data.sfreq == 160.0
    assert data.classes == ["left_hand", "right_hand"]
    assert int(np.sum(data.y == "left_hand")) == 23  # MOABB's PhysionetMI gives 23 left / 22 right
    assert data.ch_names[:3] == ("FC5", "FC3", "FC1")  # BCI2000 labels standardised
    assert data.subjects == ["S001"]
    assert 1e-7 < float(np.std(data.X)) < 1e-4  # volts


def test_missing_files_say_which_and_where(tmp_path):
    with pytest.raises(DataError, match=r"S002R04\.edf.*download=True"):
        load_eegbci([2], path=str(tmp_path))
    with pytest.raises(ConfigError, match="1..109"):
        load_eegbci([0], path=str(tmp_path))
    with pytest.raises(ConfigError, match="choose one of"):
        load_eegbci([1], task="left_right", path=str(tmp_path))


@pytest.mark.shared_data
def test_whole_evaluation_runs_end_to_end_on_s001(eegbci_root, tmp_path):
    config = {
        "name": "bci_eval_s001",
        "job": {
            "type": "bci_eval",
            "dataset": {
                "type": "eegbci",
                "subjects": [1],
                "path": str(eegbci_root),
                "resample": 80.0,
                "tmin": 0.0,
                "tmax": 4.0,
            },
            "pipelines": ["csp_lda", "ts_lr", "eegnet"],
            "protocols": ["within_subject"],
            "n_folds": 2,
            "preprocessing": [{"type": "average_reference"}],
            "training": {"epochs": 3, "validation": 0.0},
            "output": str(tmp_path / "s001"),
        },
    }
    summary = build_job(config).run()
    assert summary["folds"]["computed"] == 6
    results = json.loads((tmp_path / "s001" / "results.json").read_text())
    assert {r["pipeline"] for r in results["summary"]} == {"csp_lda", "ts_lr", "eegnet"}
    assert all(r["n_test"] + r["n_train"] == 44 for r in results["folds"])  # balanced: 22 + 22
    assert (tmp_path / "s001" / "results.md").is_file()
    assert (tmp_path / "s001" / "accuracy_per_subject.png").is_file()
