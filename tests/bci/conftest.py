"""Fixtures for the BCI tests: one thread, small simulated motor-imagery subjects."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from neurosig.data.dataset import EpochsSet


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch and one BLAS thread: the CPU is shared, and oversubscription slows everything."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(previous)


def make_trials(
    n_subjects: int = 2,
    n_trials: int = 24,
    effect: float = 1.0,
    seed: int = 0,
    n_channels: int = 4,
    n_times: int = 64,
    sfreq: float = 32.0,
) -> EpochsSet:
    """Tiny synthetic trials: class ``left`` lowers a 10-Hz rhythm on channel 1, ``right`` on channel 0.

    Volts (µV-sized values); ``effect`` = 0 gives classes that differ in nothing.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / sfreq
    parts = []
    for s in range(n_subjects):
        y = np.array(["left", "right"] * (n_trials // 2))
        X = rng.standard_normal((len(y), n_channels, n_times))
        phase = rng.uniform(0, 2 * np.pi, (len(y), n_channels, 1))
        amp = np.full((len(y), n_channels, 1), 3.0)
        amp[y == "left", 1] *= 1 - effect
        amp[y == "right", 0] *= 1 - effect
        X += amp * np.sin(2 * np.pi * 10 * t + phase)
        session = np.where(np.arange(len(y)) < len(y) // 2, "a", "b")
        parts.append((X * 1e-6, y, np.full(len(y), f"s{s}"), session))
    X, y, subject, session = (np.concatenate(p) for p in zip(*parts, strict=True))
    return EpochsSet(X, y, subject, session, sfreq, tuple(f"ch{i}" for i in range(n_channels)))


@pytest.fixture(scope="session")
def trial_factory():
    """:func:`make_trials`, for tests that need other sizes."""
    return make_trials


@pytest.fixture(scope="session")
def trials() -> EpochsSet:
    """Two subjects, 24 trials each, a strong class effect."""
    return make_trials()


@pytest.fixture(scope="session")
def null_trials() -> EpochsSet:
    """Two subjects, 40 trials each, no class effect at all."""
    return make_trials(n_trials=40, effect=0.0, seed=1)
