"""Helpers shared by the event tests (imported as ``_event_helpers``)."""

from __future__ import annotations

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE

EVT2_SIZE = (640, 480, 2)


def random_events(seed: int, n: int, size=(12, 9, 2), t_max: int = 50_000) -> np.ndarray:
    """``n`` random events on a sensor of ``size``, sorted in time (ties included)."""
    rng = np.random.default_rng(seed)
    ev = np.zeros(n, dtype=EVENTS_DTYPE)
    ev["t"] = np.sort(rng.integers(0, t_max, n))
    ev["x"] = rng.integers(0, size[0], n)
    ev["y"] = rng.integers(0, size[1], n)
    ev["p"] = rng.integers(0, size[2], n)
    return ev


def as_tonic(events: np.ndarray) -> np.ndarray:
    """A copy in tonic's own dtype (x, y int16), which its functions may modify in place."""
    out = np.empty(len(events), dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "<i1")])
    for name in EVENTS_DTYPE.names:
        out[name] = events[name]
    return out
