"""Random event streams for the event-file tests (a module of its own: importing ``conftest`` by name
picks whichever test folder's conftest came first on ``sys.path``)."""

from __future__ import annotations

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE


def random_events(rng: np.random.Generator, n: int, width: int, height: int, max_step: int) -> np.ndarray:
    """Time-sorted events with steps of 0..max_step µs (repeats included)."""
    ev = np.empty(n, EVENTS_DTYPE)
    ev["t"] = np.cumsum(rng.integers(0, max_step + 1, n))
    ev["x"] = rng.integers(0, width, n)
    ev["y"] = rng.integers(0, height, n)
    ev["p"] = rng.integers(0, 2, n)
    return ev
