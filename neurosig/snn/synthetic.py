"""Synthetic event streams with known answers: oriented moving edges and moving dots.

Both return time-ordered :data:`~neurosig.core.chunks.EVENTS_DTYPE` arrays and the label of every
event (or sample), from an explicit seed.
"""

from __future__ import annotations

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.core.errors import ConfigError

__all__ = ["moving_edges", "moving_dots", "DIRECTIONS"]

#: Unit steps (dx, dy) of the eight motion directions, counter-clockwise from +x (``y`` grows down).
DIRECTIONS = np.array([(1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1)])


def moving_edges(
    orientations: list[int], size: int = 24, step_us: int = 1000, gap_us: int = 50_000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Edges sweeping across a square sensor, one sweep per entry of ``orientations``.

    Parameters
    ----------
    orientations : list of int
        Per sweep: 0 horizontal edge moving down, 1 vertical moving right, 2 diagonal (``x + y``
        constant) moving down-right, 3 anti-diagonal (``x - y`` constant) moving up-right.
    size : int
        Sensor width and height in pixels.
    step_us : int
        Time between two positions of the edge, in µs.
    gap_us : int
        Silence between sweeps, in µs (long against the time surface's decay).
    seed : int
        Seed of the order of events within one edge position.

    Returns
    -------
    events : ndarray of EVENTS_DTYPE
        ON events (``p = 1``).
    labels : ndarray of int
        The orientation of each event's sweep.
    """
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    xs, ys = xs.ravel(), ys.ravel()
    keys = {0: ys, 1: xs, 2: xs + ys, 3: xs - ys + size - 1}
    parts, labels, t0 = [], [], 0
    for ori in orientations:
        if ori not in keys:
            raise ConfigError(f"orientation {ori} is not one of 0, 1, 2, 3.")
        key = keys[ori]
        order = np.lexsort((rng.random(key.size), key))
        ev = np.zeros(key.size, dtype=EVENTS_DTYPE)
        ev["t"] = t0 + key[order] * step_us
        ev["x"], ev["y"], ev["p"] = xs[order], ys[order], 1
        parts.append(ev)
        labels.append(np.full(key.size, ori))
        t0 = int(ev["t"][-1]) + gap_us
    return np.concatenate(parts), np.concatenate(labels)


def moving_dots(
    n_samples: int,
    size: int = 16,
    n_steps: int = 12,
    step_us: int = 1000,
    noise: float = 0.02,
    seed: int = 0,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Samples of a 2×2 dot moving one pixel per step in one of :data:`DIRECTIONS`.

    Each step emits ON events at the dot's new pixels and OFF events at the pixels it left; ``noise``
    adds that fraction of sensor pixels as random events per step.

    Returns
    -------
    samples : list of ndarray of EVENTS_DTYPE
        One time-ordered event array per sample (times from 0).
    labels : ndarray of int, shape (n_samples,)
        The direction index of each sample.
    """
    if size < n_steps + 2:
        raise ConfigError(f"size={size} must be >= n_steps + 2 = {n_steps + 2} for the dot to fit.")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(DIRECTIONS), size=n_samples)
    samples = []
    for label in labels:
        dx, dy = DIRECTIONS[label]
        travel = n_steps - 1
        x0, y0 = (rng.integers(max(0, -d * travel), size - 1 - max(0, d * travel)) for d in (dx, dy))
        rows = []
        prev: set[tuple[int, int]] = set()
        for step in range(n_steps):
            cx, cy = x0 + dx * step, y0 + dy * step
            cur = {(cx + i, cy + j) for i in (0, 1) for j in (0, 1)}
            t = step * step_us
            rows += [(t, px, py, 1) for px, py in sorted(cur - prev)]
            rows += [(t, px, py, 0) for px, py in sorted(prev - cur)]
            n_noise = rng.binomial(size * size, noise)
            rows += [(t, *rng.integers(0, size, 2), rng.integers(0, 2)) for _ in range(n_noise)]
            prev = cur
        ev = np.array(rows, dtype=[("t", "<i8"), ("x", "<i8"), ("y", "<i8"), ("p", "<i8")])
        ev = ev[np.argsort(ev["t"], kind="stable")]
        out = np.zeros(len(ev), dtype=EVENTS_DTYPE)
        for name in ("t", "x", "y", "p"):
            out[name] = ev[name]
        samples.append(out)
    return samples, labels
