"""Event-file decoding throughput: neurosig against expelliarmus (EVT2, EVT3, DAT) and aedat (AEDAT4).

Both sides decode the same real sample from ``../shared/data/events`` in the same process, whole
file to a structured array, alternating run by run so that load on a shared machine hits both alike.
Numba kernels are compiled (and cached) by a warm-up read before timing. Reported: median Mev/s of each
side, the ratio of the medians, the median of the per-pair ratios and the ratio of the best runs
(the least disturbed by other load), plus the peak memory of a chunked read next to a whole read.

Run: ``.venv/bin/python benchmarks/bench_event_io.py [--repeats 41] [--data ../shared/data]``.
Writes ``benchmarks/results/event_io.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

from neurosig.io.events import convert, iter_events, read_events

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "event_io.json"
FILES = {
    "EVT2": "events/expelliarmus_evt2_sample.raw",
    "EVT3": "events/expelliarmus_evt3_sample.raw",
    "DAT": "events/tonic_sample_ncars.dat",
    "AEDAT4": "events/tonic_sample.aedat4",
}


def _anchor(fmt: str, path: Path) -> tuple[str, Callable[[], np.ndarray]]:
    if fmt == "AEDAT4":
        import aedat

        def read_aedat() -> np.ndarray:
            return np.concatenate([p["events"] for p in aedat.Decoder(path) if "events" in p])

        return "aedat", read_aedat
    from expelliarmus import Wizard

    wizard = Wizard(encoding=fmt)
    return "expelliarmus", lambda: wizard.read(path)


def _paired(ours: Callable, theirs: Callable, repeats: int) -> tuple[list[float], list[float]]:
    """Alternate the two readers ``repeats`` times (order flipped every run); return their seconds."""
    a, b = [], []
    for r in range(repeats):
        for fn, out in ((ours, a), (theirs, b)) if r % 2 == 0 else ((theirs, b), (ours, a)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return a, b


def _peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _cases(data: Path, tmp: Path) -> list[tuple[str, str, Path]]:
    """(label, format, path): the real samples, plus the EVT2 sample converted to DAT (the DAT sample
    has only 2,009 events, too few to time decoding rather than call overhead)."""
    cases = [(fmt, fmt, data / rel) for fmt, rel in FILES.items()]
    evt2 = data / FILES["EVT2"]
    if evt2.is_file():
        convert(evt2, tmp / "evt2_sample_as.dat")
        cases.append(("DAT (EVT2 sample converted)", "DAT", tmp / "evt2_sample_as.dat"))
    return cases


def bench(data: Path, repeats: int, tmp: Path) -> dict:
    """Measure every format whose sample is present; return the JSON-ready result."""
    rows = []
    for label, fmt, path in _cases(data, tmp):
        if not path.is_file():
            print(f"skip {fmt}: {path} not found")
            continue
        anchor, theirs = _anchor(fmt, path)
        n = len(read_events(path))  # warm-up: compiles or loads the cached kernels
        assert len(theirs()) == n, f"{fmt}: the anchor decodes a different number of events"

        def ours(path=path):
            return read_events(path)

        a, b = _paired(ours, theirs, repeats)
        ratios = [tb / ta for ta, tb in zip(a, b, strict=True)]
        rows.append(
            {
                "format": label,
                "events": n,
                "neurosig_mev_s": n / statistics.median(a) / 1e6,
                "anchor": anchor,
                "anchor_mev_s": n / statistics.median(b) / 1e6,
                "ratio_of_medians": statistics.median(b) / statistics.median(a),
                "median_pair_ratio": statistics.median(ratios),
                "neurosig_best_mev_s": n / min(a) / 1e6,
                "anchor_best_mev_s": n / min(b) / 1e6,
                "ratio_of_best": min(b) / min(a),
            }
        )
    evt2 = data / FILES["EVT2"]
    memory = {}
    if evt2.is_file():
        memory = {
            "file": FILES["EVT2"],
            "whole_read_peak_mib": _peak_mib(lambda: read_events(evt2)),
            "chunked_read_peak_mib": _peak_mib(
                lambda: sum(len(c) for c in iter_events(evt2, n_events=20_000, block_bytes=1 << 18))
            ),
            "chunked": "n_events=20000, block_bytes=262144",
        }
    return {
        "benchmark": "event_io",
        "command": f"python benchmarks/bench_event_io.py --repeats {repeats}",
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "repeats": repeats,
        "rows": rows,
        "memory": memory,
    }


def table(result: dict) -> str:
    """The result as a markdown table."""
    lines = [
        "| format | events | neurosig Mev/s | anchor | anchor Mev/s | ratio (medians) | ratio (paired) "
        "| ratio (best runs) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['format']} | {r['events']:,} | {r['neurosig_mev_s']:.0f} | {r['anchor']} | "
            f"{r['anchor_mev_s']:.0f} | {r['ratio_of_medians']:.2f}x | {r['median_pair_ratio']:.2f}x | "
            f"{r['ratio_of_best']:.2f}x |"
        )
    mem = result["memory"]
    if mem:
        lines.append(
            f"\nPeak memory ({mem['file']}): whole read {mem['whole_read_peak_mib']:.1f} MiB, chunked "
            f"({mem['chunked']}) {mem['chunked_read_peak_mib']:.1f} MiB."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=41)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = bench(args.data, args.repeats, Path(tmp))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
