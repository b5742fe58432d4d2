"""Conversions between the suite's events dtype and other layouts (tonic, plain record arrays)."""

from __future__ import annotations

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE, EventChunk
from neurosig.core.errors import DataError

__all__ = ["TONIC_DTYPE", "as_events", "to_tonic"]

#: tonic's events layout (``tonic.io.events_struct``).
TONIC_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "?")])

_LIMITS = {"x": 1 << 16, "y": 1 << 16}


def as_events(events) -> np.ndarray:
    """Return events in :data:`~neurosig.core.chunks.EVENTS_DTYPE`.

    Parameters
    ----------
    events : ndarray, EventChunk or array-like
        A structured array with fields ``t`` (µs), ``x``, ``y``, ``p`` in any integer or bool types
        (tonic's ``x, y`` int16, ``t`` int64, ``p`` bool included), or an :class:`EventChunk`.

    Returns
    -------
    ndarray of EVENTS_DTYPE
        The input itself when it already has the suite's layout (no copy), else a converted copy.

    Raises
    ------
    DataError
        If a field is missing, non-integer, negative where it cannot be, or too large.
    """
    if isinstance(events, EventChunk):
        return events.events
    arr = np.asarray(events)
    if arr.dtype == EVENTS_DTYPE:
        return arr
    names = arr.dtype.names or ()
    missing = [f for f in ("t", "x", "y", "p") if f not in names]
    if missing:
        raise DataError(
            f"events need the fields t (µs), x, y, p; {missing} missing from dtype {arr.dtype}. "
            "Build a structured array, e.g. np.rec.fromarrays([t, x, y, p], names='t,x,y,p')."
        )
    for f in ("t", "x", "y", "p"):
        kind = arr.dtype[f].kind
        if kind not in "biu":
            raise DataError(f"events field {f!r} must be integer or bool, got {arr.dtype[f]}; round it.")
    out = np.empty(arr.shape[0] if arr.ndim else 0, EVENTS_DTYPE)
    for f, limit in _LIMITS.items():
        col = arr[f]
        if len(col) and (int(col.min()) < 0 or int(col.max()) >= limit):
            raise DataError(f"events field {f!r} must lie in [0, {limit}); got {col.min()}..{col.max()}.")
    p = arr["p"].astype(np.int64)
    if len(p) and np.any((p != 0) & (p != 1)):
        raise DataError("events field 'p' must be 0/1 (or bool); map -1/+1 polarities with (p > 0).")
    out["t"] = arr["t"]
    out["x"] = arr["x"]
    out["y"] = arr["y"]
    out["p"] = p
    return out


def to_tonic(events) -> np.ndarray:
    """Return a copy of ``events`` in tonic's layout (:data:`TONIC_DTYPE`), ready for tonic transforms.

    Raises
    ------
    DataError
        If a pixel address does not fit tonic's int16 ``x``/``y``.
    """
    ev = as_events(events)
    if len(ev) and max(int(ev["x"].max()), int(ev["y"].max())) > np.iinfo(np.int16).max:
        raise DataError("tonic stores x and y as int16; these events address pixels beyond 32767.")
    out = np.empty(len(ev), TONIC_DTYPE)
    out["x"] = ev["x"]
    out["y"] = ev["y"]
    out["t"] = ev["t"]
    out["p"] = ev["p"] != 0
    return out
