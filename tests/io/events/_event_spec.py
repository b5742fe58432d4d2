"""Slow, obviously correct readings of the EVT 2.0 and EVT 3.0 specs, word by word in plain Python.

Written from the word layouts in REFERENCES.md, independently of the Numba kernels, to check them.
They handle only well-formed streams.
"""

from __future__ import annotations

import numpy as np


def spec_evt2(words: np.ndarray) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int]]]:
    """Events ``(t, x, y, p)`` and triggers ``(t, id, value)`` of EVT 2.0 words."""
    events, triggers = [], []
    high = None
    wraps = 0
    for w in (int(v) for v in words):
        kind = w >> 28
        if kind == 0x8:
            new = w & ((1 << 28) - 1)
            if high is not None and new < high:
                wraps += 1
            high = new
        elif kind in (0x0, 0x1):
            t = (((wraps << 28) + high) << 6) + ((w >> 22) & 0x3F)
            events.append((t, (w >> 11) & 0x7FF, w & 0x7FF, kind))
        elif kind == 0xA:
            t = (((wraps << 28) + high) << 6) + ((w >> 22) & 0x3F)
            triggers.append((t, (w >> 8) & 0x1F, w & 1))
    return events, triggers


def spec_evt3(words: np.ndarray) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int]]]:
    """Events ``(t, x, y, p)`` and triggers of EVT 3.0 words: 24-bit base, wraps only on TIME_HIGH."""
    events, triggers = [], []
    high = low = y = None
    base = pol = 0
    loops = 0
    for w in (int(v) for v in words):
        kind, payload = w >> 12, w & 0xFFF
        if kind == 0x8:
            if high is not None and high - payload >= 2048:
                loops += 1
            high = payload
        elif kind == 0x6:
            low = payload
        elif kind == 0x0:
            y = payload & 0x7FF
        elif kind == 0x2:
            events.append(((loops << 24) + (high << 12) + (low or 0), payload & 0x7FF, y, payload >> 11))
        elif kind == 0x3:
            base, pol = payload & 0x7FF, payload >> 11
        elif kind in (0x4, 0x5):
            size = 12 if kind == 0x4 else 8
            for bit in range(size):
                if payload >> bit & 1:
                    events.append(((loops << 24) + (high << 12) + (low or 0), base + bit, y, pol))
            base += size
        elif kind == 0xA:
            triggers.append(((loops << 24) + (high << 12) + (low or 0), (payload >> 8) & 0xF, payload & 1))
    return events, triggers


def as_tuples(events: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Events array as a list of ``(t, x, y, p)`` ints."""
    return list(zip(*(events[f].astype(int).tolist() for f in ("t", "x", "y", "p")), strict=True))
