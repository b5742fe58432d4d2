"""``info``: describe an event file in one bounded-memory pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neurosig.io.events._dispatch import open_file

__all__ = ["info"]


def info(path: str | Path, *, strict: bool = True, sensor_size=None) -> dict[str, Any]:
    """Describe an event file by reading it once in bounded memory.

    Returns
    -------
    dict
        Plain data: ``path``, ``format``, ``bytes``, ``sensor_size`` and ``sensor_from``, ``header``
        (the header's fields), ``n_events``, ``t_first_us``/``t_last_us``, ``t_min_us``/``t_max_us``,
        ``duration_s``, ``rate_ev_per_s``, ``time_sorted``, ``polarity`` (``on``, ``off``,
        ``on_fraction``), ``triggers`` (``count``, ``per_channel``), ``skipped`` (lenient mode counts)
        and ``vendor_words`` (legitimate words without events).
    """
    path, mod, header = open_file(path, sensor_size)
    n = n_on = 0
    t_first = t_last = t_min = t_max = None
    last = None
    in_order = True
    channels: dict[int, int] = {}
    report = None
    for events, triggers, rep in mod.blocks(path, header, strict, 1 << 22):
        report = rep
        for cid, count in zip(*np.unique(triggers["id"], return_counts=True), strict=True):
            channels[int(cid)] = channels.get(int(cid), 0) + int(count)
        if not len(events):
            continue
        t = events["t"]
        in_order = in_order and bool(np.all(t[1:] >= t[:-1]) and (last is None or t[0] >= last))
        t_first = int(t[0]) if t_first is None else t_first
        t_last = last = int(t[-1])
        lo, hi = int(t.min()), int(t.max())
        t_min = lo if t_min is None else min(t_min, lo)
        t_max = hi if t_max is None else max(t_max, hi)
        n += len(events)
        n_on += int(np.count_nonzero(events["p"]))
    if report is not None:
        report.warn()
    span = (t_max - t_min) * 1e-6 if n else 0.0
    return {
        "path": str(path),
        "format": header.fmt,
        "bytes": path.stat().st_size,
        "sensor_size": list(header.sensor_size),
        "sensor_from": header.sensor_from,
        "header": dict(header.fields),
        "n_events": n,
        "t_first_us": t_first,
        "t_last_us": t_last,
        "t_min_us": t_min,
        "t_max_us": t_max,
        "duration_s": span,
        "rate_ev_per_s": n / span if span > 0 else None,
        "time_sorted": in_order,
        "polarity": {"on": n_on, "off": n - n_on, "on_fraction": n_on / n if n else None},
        "triggers": {"count": sum(channels.values()), "per_channel": channels},
        "skipped": report.skipped() if report is not None else {},
        "vendor_words": report.vendor_words if report is not None else 0,
    }
