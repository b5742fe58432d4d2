"""Fixtures of the dataset tests: a simulated BIDS dataset, an untrained tiny tokenizer, the suite."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory) -> Path:
    """Two simulated subjects (30 s, 19 EEG + VEOG at 128 Hz); Pz marked bad in channels.tsv."""
    pytest.importorskip("mne_bids")
    pytest.importorskip("pybv")
    from neurosig.jobs.dataset import simulate_bids

    root = tmp_path_factory.mktemp("bids")
    simulate_bids(root, subjects=["01", "02"], duration=30.0, seed=3, bad_channels=["Pz"])
    return root


@pytest.fixture(scope="session")
def tokenizer(tmp_path_factory) -> str:
    """An untrained tiny tokenizer's checkpoint (tokens are exact, not meaningful)."""
    from neurosig.eeg.rvq.tokenizer import Tokenizer

    folder = tmp_path_factory.mktemp("rvq")
    return str(Tokenizer.from_preset("tiny", seed=0, kmeans_init=False).save(folder / "tiny.pt"))


def dataset_suite(checkpoint: str | None, chunk_duration: float = 4.0) -> dict:
    """pipelines/dataset.yaml with 50 Hz line noise, a small FASTER ICA and the given tokenizer.

    ``checkpoint=None`` keeps the YAML's tokenizer: the one shipped with neurosig.
    """
    path = Path(__file__).resolve().parents[2] / "pipelines" / "dataset.yaml"
    config = yaml.safe_load(path.read_text())
    clean, tokens = config["pipelines"]
    clean["source"]["chunk_duration"] = chunk_duration
    clean["stages"][0]["freqs"] = [50.0]
    clean["stages"][-1]["n_components"] = 8
    if checkpoint is not None:
        tokens["stages"][0]["checkpoint"] = tokens["sink"]["checkpoint"] = checkpoint
    return config


@pytest.fixture(scope="session")
def suite():
    """:func:`dataset_suite`, for tests to call with their tokenizer."""
    return dataset_suite
