"""Fixtures for the event-file tests: random streams and the real samples' paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from neurosig.core.chunks import EVENTS_DTYPE

SAMPLES = {
    "evt2": "events/expelliarmus_evt2_sample.raw",
    "evt3": "events/expelliarmus_evt3_sample.raw",
    "dat": "events/tonic_sample_ncars.dat",
    "aedat4": "events/tonic_sample.aedat4",
    "nmnist": "spikes/tonic_sample_nmnist.bin",
}


def random_events(rng: np.random.Generator, n: int, width: int, height: int, max_step: int) -> np.ndarray:
    """Time-sorted events with steps of 0..max_step µs (repeats included)."""
    ev = np.empty(n, EVENTS_DTYPE)
    ev["t"] = np.cumsum(rng.integers(0, max_step + 1, n))
    ev["x"] = rng.integers(0, width, n)
    ev["y"] = rng.integers(0, height, n)
    ev["p"] = rng.integers(0, 2, n)
    return ev


@pytest.fixture
def sample(shared_file: Callable[[str], Path]) -> Callable[[str], Path]:
    """``sample("evt3")``: the real sample of one format, or skip."""
    return lambda fmt: shared_file(SAMPLES[fmt])
