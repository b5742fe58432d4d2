"""Shared helpers for the benchmark scripts: timing medians, machine facts, JSON results, tables."""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def median_seconds(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


_SIMD = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "amx_tile",
    "neon",
    "sve",
)


def cpu() -> dict[str, Any]:
    """The CPU model and the SIMD extensions it reports (Linux ``/proc/cpuinfo``; else the platform)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags |= set(value.split())
    except OSError:
        pass
    return {"cpu_model": model, "simd": [f for f in _SIMD if f in flags]}


def machine() -> dict[str, Any]:
    """Facts about the machine a result was measured on (CPU model and SIMD flags included)."""
    import numpy

    return {
        **cpu(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def save(name: str, rows: list[dict[str, Any]], **extra: Any) -> Path:
    """Write ``benchmarks/results/NAME.json`` and print the rows as a markdown table."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(
        json.dumps({"benchmark": name, "machine": machine(), **extra, "rows": rows}, indent=2) + "\n"
    )
    print(markdown_table(rows))
    print(f"\nwrote {path}")
    return path


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows of dicts as a markdown table (columns from the first row)."""
    if not rows:
        return ""
    cols = list(rows[0])
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)
