"""Fixtures for the event-file tests: the real samples' paths (random streams: ``_event_streams.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLES = {
    "evt2": "events/expelliarmus_evt2_sample.raw",
    "evt3": "events/expelliarmus_evt3_sample.raw",
    "dat": "events/tonic_sample_ncars.dat",
    "aedat4": "events/tonic_sample.aedat4",
    "nmnist": "spikes/tonic_sample_nmnist.bin",
}


@pytest.fixture
def sample(shared_file: Callable[[str], Path]) -> Callable[[str], Path]:
    """``sample("evt3")``: the real sample of one format, or skip."""
    return lambda fmt: shared_file(SAMPLES[fmt])
