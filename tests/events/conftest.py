"""Fixtures for the event tests: the real EVT2 sample, random event streams."""

from __future__ import annotations

import numpy as np
import pytest

from neurosig.core.chunks import EVENTS_DTYPE

EVT2 = "events/expelliarmus_evt2_sample.raw"


@pytest.fixture(scope="session")
def evt2_events(shared_file) -> np.ndarray:
    """The 539,481 events of the shared EVT2 sample (640x480), as EVENTS_DTYPE."""
    path = shared_file(EVT2)
    try:
        from neurosig.io.events import read_events
    except ImportError:
        from expelliarmus import Wizard

        raw = Wizard(encoding="evt2").read(str(path))
        events = np.empty(len(raw), dtype=EVENTS_DTYPE)
        for name in EVENTS_DTYPE.names:
            events[name] = raw[name]
        return events
    return read_events(path).events
