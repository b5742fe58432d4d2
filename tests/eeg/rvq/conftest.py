"""Fixtures of the RVQ tests: one thread for torch, simulated EEG, a tiny tokenizer trained once."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosig.core.chunks import concat_chunks
from neurosig.eeg.rvq.config import preset
from neurosig.eeg.rvq.tokenizer import Tokenizer
from neurosig.eeg.rvq.train import fit
from neurosig.eeg.simulate import SimulatedEEGSource


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    torch.set_num_threads(1)


def simulated(seed: int, duration: float = 60.0, n_channels: int = 19) -> np.ndarray:
    """Simulated EEG in volts, ``(n_channels, duration * 200)`` at 200 Hz, without line noise."""
    source = SimulatedEEGSource(
        duration=duration, sfreq=200.0, n_channels=n_channels, seed=seed, line_freq=0.0
    )
    return concat_chunks(list(source)).data


@pytest.fixture(scope="session")
def train_signal() -> np.ndarray:
    return simulated(seed=1, duration=90.0)


@pytest.fixture(scope="session")
def held_out_signal() -> np.ndarray:
    """A recording never seen in training (another seed)."""
    return simulated(seed=2, duration=20.0)


@pytest.fixture(scope="session")
def tiny(train_signal) -> Tokenizer:
    """The tiny tokenizer trained for a few seconds on simulated EEG."""
    config = preset("tiny")
    patches = Tokenizer(config).to_patches(train_signal).reshape(-1, config.patch_len)
    return fit(patches, config, steps=150, batch_size=64, lr=3e-3, seed=0).tokenizer


@pytest.fixture(scope="session")
def tiny_checkpoint(tiny, tmp_path_factory) -> str:
    return str(tiny.save(tmp_path_factory.mktemp("rvq") / "tiny.pt"))
