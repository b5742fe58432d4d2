"""Event-file decoding throughput: neurosig against expelliarmus (EVT2, EVT3, DAT) and aedat (AEDAT4).

Both sides decode the same real sample from ``../shared/data/events`` in the same process, whole
file to a structured array, alternating run by run so that load on a shared machine hits both alike;
faery, whose threads stay busy for a few milliseconds after it returns, is timed last in each round and
followed by an untimed 10 ms pause.
Numba kernels are compiled (and cached) by a warm-up read before timing. Reported: median Mev/s of each
side, the ratio of the medians, the median of the per-pair ratios and the ratio of the best runs
(the least disturbed by other load), plus the peak memory of a chunked read next to a whole read.
neurosig decodes whole EVT2/EVT3 files of at least ``split_min_words`` words in two parts at once on
machines with two cores or more, while a core is idle: the JSON records how many of the timed reads
split, and for files that large times the serial decoder too (forced, in the same alternation), with
its own ratio to the anchor.

Optional anchors for EVT2 and EVT3, the Rust readers: faery (``pip install faery``), timed in the same
alternation, and evlib, which imports torchvision and so cannot share a process with the CPU torch
here: it runs in its own environment (``python3.11 -m venv /work/venvs/evlib &&
/work/venvs/evlib/bin/pip install evlib``; pass ``--evlib-python /work/venvs/evlib/bin/python`` or set
``NEUROSIG_EVLIB_PYTHON``), in a subprocess that times its own repeats right after ours; its ratio is
therefore not paired. An anchor that is missing is skipped with the reason in the JSON.

Run: ``.venv/bin/python benchmarks/bench_event_io.py [--repeats 41] [--data ../shared/data] [--quick]``.
Writes ``benchmarks/results/event_io.json`` and prints a markdown table. ``--quick`` times EVT2 and
EVT3 only, without faery, evlib and the memory peaks, 21 rounds (a few seconds), and writes
``event_io_quick.json``. ``--split-sizes`` times split against serial whole reads of the EVT2 sample
repeated 1 to 32 times end to end, written as EVT2 and as EVT3 (15 paired rounds; about a minute), to
place each layout's ``split_min_words``, and writes ``event_io_split_sizes.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table  # noqa: E402

from neurosig.io.events import _words, convert, evt2, evt3, iter_events, read_events  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "event_io.json"
QUICK_RESULTS = RESULTS.with_name("event_io_quick.json")
SPLIT_RESULTS = RESULTS.with_name("event_io_split_sizes.json")
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


def _faery(fmt: str, path: Path) -> tuple[Callable[[], np.ndarray] | None, str]:
    """faery's whole-file reader for EVT2/EVT3, or None and why not."""
    if fmt not in ("EVT2", "EVT3"):
        return None, "faery is timed on EVT2 and EVT3 only"
    try:
        import faery
    except ImportError:
        return None, "faery is not installed (pip install faery)"
    return lambda: faery.events_stream_from_file(path).to_array(), ""


#: Run by evlib's own interpreter: read ``argv[1]`` ``argv[2]`` times, print events and seconds as JSON.
_EVLIB_SCRIPT = """
import json, sys, time
import evlib
from importlib.metadata import version
path, repeats = sys.argv[1], int(sys.argv[2])
n = evlib.load_events(path).collect().height
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    evlib.load_events(path).collect()
    times.append(time.perf_counter() - t0)
print(json.dumps({"events": n, "seconds": times, "version": version("evlib")}))
"""


def _evlib(python: str | None, fmt: str, path: Path, repeats: int) -> tuple[dict | None, str]:
    """evlib's seconds per whole-file read, from its own environment, or None and why not."""
    if fmt not in ("EVT2", "EVT3"):
        return None, "evlib is timed on EVT2 and EVT3 only"
    if not python or not Path(python).is_file():
        return None, (
            "evlib imports torchvision, which does not import beside the CPU torch here; no separate "
            "environment given (--evlib-python or NEUROSIG_EVLIB_PYTHON)"
        )
    run = subprocess.run(
        [python, "-c", _EVLIB_SCRIPT, str(path), str(repeats)], capture_output=True, text=True, timeout=600
    )
    if run.returncode != 0:
        return None, f"evlib failed in {python}: {run.stderr.strip().splitlines()[-1:]}"
    return json.loads(run.stdout.strip().splitlines()[-1]), ""


#: Untimed pause after faery's read in each round: faery leaves its worker threads busy for a few
#: milliseconds after it returns, which slowed the read timed right after it 2.4x (8.8 against 3.6 ms,
#: medians of 41, load average 6). A pause after every read would be fair too, but it makes every read
#: start cold (the 2,009-event DAT clip took 5x as long).
SETTLE_S = 0.01


def _alternated(readers: list[Callable], repeats: int, last: Callable | None = None) -> list[list[float]]:
    """Run the readers in turn ``repeats`` times, rotating which goes first, then ``last`` (timed too)
    and an untimed pause; return their seconds (``last``'s at the end)."""
    times: list[list[float]] = [[] for _ in readers] + ([[]] if last else [])
    for r in range(repeats):
        for j in range(len(readers)):
            k = (j + r) % len(readers)
            t0 = time.perf_counter()
            readers[k]()
            times[k].append(time.perf_counter() - t0)
        if last is not None:
            t0 = time.perf_counter()
            last()
            times[-1].append(time.perf_counter() - t0)
            time.sleep(SETTLE_S)
    return times


def _other(name: str, n: int, ours: list[float], theirs: list[float], paired: bool) -> dict:
    """An extra anchor's throughput and its ratio to ours (medians; per pair when run in turn)."""
    row = {
        "anchor": name,
        "mev_s": n / statistics.median(theirs) / 1e6,
        "best_mev_s": n / min(theirs) / 1e6,
        "ratio_of_medians": statistics.median(theirs) / statistics.median(ours),
        "paired": paired,
    }
    if paired:
        row["median_pair_ratio"] = statistics.median(tb / ta for ta, tb in zip(ours, theirs, strict=True))
    return row


def _peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _cases(data: Path, tmp: Path, quick: bool = False) -> list[tuple[str, str, Path]]:
    """(label, format, path): the real samples, plus the EVT2 sample converted to DAT (the DAT sample
    has only 2,009 events, too few to time decoding rather than call overhead)."""
    cases = [(fmt, fmt, data / rel) for fmt, rel in FILES.items()]
    evt2 = data / FILES["EVT2"]
    if evt2.is_file() and not quick:
        convert(evt2, tmp / "evt2_sample_as.dat")
        cases.append(("DAT (EVT2 sample converted)", "DAT", tmp / "evt2_sample_as.dat"))
    return cases


_LAYOUTS = {"EVT2": evt2.LAYOUT, "EVT3": evt3.LAYOUT}


def _words_in(fmt: str, path: Path) -> int:
    module = {"EVT2": evt2, "EVT3": evt3}[fmt]
    return (path.stat().st_size - module.probe(path).data_offset) // _LAYOUTS[fmt].word_bytes


class _Splits:
    """Counts whether whole reads split (a core idle), and forces the serial decoder on request."""

    def __init__(self):
        self.real = _words._idle_core
        self.answers: list[bool] = []
        self.serial = False

    def __call__(self) -> bool:
        if self.serial:
            return False
        idle = self.real()
        self.answers.append(idle)
        return idle


def bench(data: Path, repeats: int, tmp: Path, evlib_python: str | None = None, quick: bool = False) -> dict:
    """Measure every format whose sample is present; return the JSON-ready result."""
    rows = []
    splits = _Splits()
    _words._idle_core = splits
    for label, fmt, path in _cases(data, tmp, quick):
        if quick and fmt not in ("EVT2", "EVT3"):
            continue
        if not path.is_file():
            print(f"skip {fmt}: {path} not found")
            continue
        anchor, theirs = _anchor(fmt, path)
        n = len(read_events(path))  # warm-up: compiles or loads the cached kernels
        assert len(theirs()) == n, f"{fmt}: the anchor decodes a different number of events"

        def ours(path=path):
            return read_events(path)

        def serial(path=path):
            splits.serial = True
            try:
                return read_events(path)
            finally:
                splits.serial = False

        whole = fmt in ("EVT2", "EVT3")  # (the formats whose whole reads may split)
        # the forced serial decoder is a reader of its own only where reads would split: below
        # split_min_words it is the same read, and a third reader in the rotation follows the anchor
        # twice as often as ours does (which cost it 7-15 % here)
        splittable = whole and _words_in(fmt, path) >= _LAYOUTS[fmt].split_min_words
        faery_read, faery_why = _faery(fmt, path) if not quick else (None, "")
        if faery_read:
            assert len(faery_read()) == n, f"{fmt}: faery decodes a different number of events"
        splits.answers.clear()
        a, b, *c = _alternated([ours, theirs] + ([serial] if splittable else []), repeats, faery_read)
        split_reads = sum(splits.answers)
        others, skipped = [], {}
        if splittable:
            others.append(_other("neurosig serial decoder (forced)", n, a, c.pop(0), True))
        if faery_read:
            others.append(_other("faery", n, a, c[0], True))
        elif faery_why and whole:
            skipped["faery"] = faery_why
        if whole and not quick:
            evlib, evlib_why = _evlib(evlib_python, fmt, path, repeats)
            if evlib is not None:
                assert evlib["events"] == n, f"{fmt}: evlib decodes a different number of events"
                others.append(
                    _other(f"evlib {evlib['version']} (own process)", n, a, evlib["seconds"], False)
                )
            else:
                skipped["evlib"] = evlib_why
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
                "split_reads": f"{split_reads} of {repeats}" if whole else None,
                "other_anchors": others,
                "skipped_anchors": skipped,
            }
        )
    _words._idle_core = splits.real
    evt2 = data / FILES["EVT2"]
    memory = {}
    if evt2.is_file() and not quick:
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
        "command": f"python benchmarks/bench_event_io.py --repeats {repeats}" + (" --quick" if quick else ""),
        "machine": {**machine(), "load_average_1min": os.getloadavg()[0]},
        "repeats": repeats,
        "rows": rows,
        "memory": memory,
    }


def _tiled(events: np.ndarray, copies: int) -> np.ndarray:
    """``copies`` copies of ``events`` one after the other in time, each shifted past the last."""
    span = int(events["t"][-1] - events["t"][0]) + 1
    tiled = np.concatenate([events] * copies)
    tiled["t"] += np.repeat(np.arange(copies, dtype=np.int64) * span, len(events))
    return tiled


def bench_split_sizes(data: Path, repeats: int, tmp: Path, copies=(1, 2, 4, 8, 16, 32)) -> dict:
    """Whole-file reads decoded in two parts against the serial decoder, by file size.

    The EVT2 sample's events, repeated end to end ``copies`` times, are written as EVT2 and EVT3 by
    neurosig's writers; each file is read with the split forced and with the serial decoder forced,
    in turn, ``repeats`` times (paired), then by expelliarmus for scale. The crossover gives each
    layout's ``split_min_words``.
    """
    from neurosig.io.events import write_events

    source = read_events(data / FILES["EVT2"])
    rows = []
    real = _words._split_wanted
    for fmt in ("evt2", "evt3"):
        layout = _LAYOUTS[fmt.upper()]
        for n in copies:
            path = tmp / f"{fmt}_x{n}.raw"
            write_events(path, _tiled(source.events, n), fmt, sensor_size=source.info.sensor_size)
            words = _words_in(fmt.upper(), path)

            def forced(split: bool, path=path):
                _words._split_wanted = lambda layout, n_words: split
                try:
                    return read_events(path)
                finally:
                    _words._split_wanted = real

            anchor = _anchor(fmt.upper(), path)[1]
            count = len(forced(True))
            assert len(forced(False)) == count == len(anchor())
            # split and serial alternate alone (a third reader would follow one of them more often);
            # the anchor is timed after, for scale
            split, serial = _alternated([lambda: forced(True), lambda: forced(False)], repeats)
            (theirs,) = _alternated([anchor], repeats)
            rows.append(
                {
                    "format": fmt,
                    "copies": n,
                    "words": int(words),
                    "mb": path.stat().st_size / 1e6,
                    "events": count,
                    "split_ms": 1e3 * statistics.median(split),
                    "serial_ms": 1e3 * statistics.median(serial),
                    "expelliarmus_ms": 1e3 * statistics.median(theirs),
                    "split_speedup_paired": statistics.median(
                        b / a for a, b in zip(split, serial, strict=True)
                    ),
                    "split_min_words": layout.split_min_words,
                }
            )
            path.unlink()
    return {
        "benchmark": "event_io_split_sizes",
        "command": f"python benchmarks/bench_event_io.py --split-sizes --repeats {repeats}",
        "machine": {**machine(), "load_average_1min": os.getloadavg()[0]},
        "repeats": repeats,
        "rows": rows,
    }


def split_table(result: dict) -> str:
    """The split-size result as a markdown table."""
    rows = [
        {
            "format": r["format"],
            "words": f"{r['words']:,}",
            "MB": f"{r['mb']:.1f}",
            "split ms": f"{r['split_ms']:.2f}",
            "serial ms": f"{r['serial_ms']:.2f}",
            "split speed-up (paired)": f"{r['split_speedup_paired']:.2f}x",
            "expelliarmus ms": f"{r['expelliarmus_ms']:.2f}",
            "splits from": f"{r['split_min_words']:,} words",
        }
        for r in result["rows"]
    ]
    return markdown_table(rows) + "\n" + _machine_line(result["machine"])


def _machine_line(m: dict) -> str:
    return f"\nCPU: {m['cpu_model']}, {m['cpu_count']} cores; load average {m['load_average_1min']:.2f}."


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
        for o in r["other_anchors"]:
            paired = f"{o['median_pair_ratio']:.2f}x" if o["paired"] else "(not paired)"
            lines.append(
                f"| {r['format']} | {r['events']:,} | {r['neurosig_mev_s']:.0f} | {o['anchor']} | "
                f"{o['mev_s']:.0f} | {o['ratio_of_medians']:.2f}x | {paired} | "
                f"{r['neurosig_best_mev_s'] / o['best_mev_s']:.2f}x |"
            )
    skipped = {
        f"{name} ({r['format']})": why for r in result["rows"] for name, why in r["skipped_anchors"].items()
    }
    lines += [f"\nSkipped {name}: {why}" for name, why in skipped.items()]
    lines += [
        f"\n{r['format']}: {r['split_reads']} timed reads split (a core idle)."
        for r in result["rows"]
        if r["split_reads"]
    ]
    lines.append(_machine_line(result["machine"]))
    mem = result["memory"]
    if mem:
        lines.append(
            f"\nPeak memory ({mem['file']}): whole read {mem['whole_read_peak_mib']:.1f} MiB, chunked "
            f"({mem['chunked']}) {mem['chunked_read_peak_mib']:.1f} MiB."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 41; 21 with --quick)")
    parser.add_argument("--quick", action="store_true", help="EVT2 and EVT3 only, no faery/evlib/memory")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("NEUROSIG_SHARED_DATA", ROOT.parent / "shared" / "data")),
        help="the shared sample folder (default $NEUROSIG_SHARED_DATA, else ../shared/data)",
    )
    parser.add_argument(
        "--evlib-python",
        default=os.environ.get("NEUROSIG_EVLIB_PYTHON"),
        help="the python of a separate environment with evlib installed (else evlib is skipped)",
    )
    parser.add_argument(
        "--split-sizes",
        action="store_true",
        help="time split against serial reads of the EVT2 sample tiled 1-32x, as EVT2 and EVT3 (15 rounds)",
    )
    args = parser.parse_args()
    repeats = args.repeats or (15 if args.split_sizes else 21 if args.quick else 41)
    with tempfile.TemporaryDirectory() as tmp:
        if args.split_sizes:
            result, out, text = bench_split_sizes(args.data, repeats, Path(tmp)), SPLIT_RESULTS, split_table
        else:
            result = bench(args.data, repeats, Path(tmp), args.evlib_python, args.quick)
            out, text = (QUICK_RESULTS if args.quick else RESULTS), table
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(text(result))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
